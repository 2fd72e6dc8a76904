#!/usr/bin/env bash
# Runs upstream nono's own shell integration suites (the ten about the run contract)
# against any nono-compatible binary and prints each suite's counts in one table.
#
#   scripts/peer-suite.sh PATH_TO_NONO_CHECKOUT [IMPL]
#
# PATH_TO_NONO_CHECKOUT  a checkout of always-further/nono (its tests/integration/*.sh are
#                        run from there; nothing is copied into this repository)
# IMPL                   the binary under test (default: debug/nono-ref in this repository's
#                        target directory, $CARGO_TARGET_DIR or target/, built when missing)
#
# The suites read the user's dotfiles (~/.ssh, ~/.aws, ~/.bashrc, ...) and expect the
# sandbox to refuse them. They run here with a fake HOME holding harmless stand-ins for
# those files, so an implementation that exposes them exposes nothing real, and the
# checks that skip when a file is missing actually run. USER, which upstream's
# environment check expects to pass through, is set from the account when unset.
#
# Logs: target/peer-suite/<impl>/<suite>.log. The exit code is 0 when every suite ran
# (failed checks included: the table is the result); 2 on bad arguments.
set -euo pipefail

SUITES=(
  test_fs_access
  test_env_sanitization
  test_system_paths
  test_binary_exec
  test_edge_cases
  test_bypass_protection
  test_silent_output
  test_network
  test_sensitive_paths
  test_child_tool_boundaries
)

usage() {
  echo "usage: $0 PATH_TO_NONO_CHECKOUT [IMPL]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
checkout="$(cd "$1" 2>/dev/null && pwd)" || { echo "$0: no such directory: $1" >&2; exit 2; }
[[ -f "$checkout/tests/lib/test_helpers.sh" ]] || {
  echo "$0: $checkout is not a checkout of always-further/nono (no tests/lib/test_helpers.sh)" >&2
  exit 2
}

if [[ $# -eq 2 ]]; then
  impl="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
else
  # Where cargo puts the build: CARGO_TARGET_DIR (a relative one is taken from the repository
  # root, where the build below runs) or target/.
  target_dir="${CARGO_TARGET_DIR:-target}"
  [[ "$target_dir" = /* ]] || target_dir="$repo_root/$target_dir"
  impl="$target_dir/debug/nono-ref"
  if [[ ! -x "$impl" ]]; then
    echo "building $impl" >&2
    (cd "$repo_root" && cargo build -q -p nono-reference --bin nono-ref)
  fi
fi
[[ -x "$impl" ]] || { echo "$0: not an executable: $impl" >&2; exit 2; }

slug="$(basename "$impl")-$(printf '%s' "$impl" | cksum | cut -d' ' -f1)"
out="$repo_root/target/peer-suite/$slug"
rm -rf "$out"
mkdir -p "$out"

# A fake HOME outside /tmp (nono grants /tmp for writing, and a HOME inside it would
# change which grants apply), with stand-ins for every dotfile the suites probe.
home="$out/home"
mkdir -p "$home"/{.ssh,.aws,.kube,.docker,.azure,.gnupg,.password-store,.config/gcloud,.nono/rollbacks,.cache}
for f in .ssh/id_ed25519 .aws/credentials .kube/config .bashrc .bash_profile .profile .zshrc \
         .env .envrc .bash_history .zsh_history .netrc .npmrc; do
  echo "stand-in for ~/$f written by peer-suite.sh" >"$home/$f"
done
chmod 700 "$home/.ssh" "$home/.gnupg"
work="$out/work"
mkdir -p "$work"

user="${USER:-$(id -un)}"
printf '%-28s %5s %7s %7s %8s\n' suite run passed failed skipped
total_run=0 total_pass=0 total_fail=0 total_skip=0
for suite in "${SUITES[@]}"; do
  script="$checkout/tests/integration/$suite.sh"
  log="$out/$suite.log"
  if [[ ! -f "$script" ]]; then
    printf '%-28s %s\n' "$suite" "missing from the checkout"
    continue
  fi
  # A clean environment: only what a login shell would have, pointing at the fake HOME,
  # started in a directory of its own (the suites grant their working directory with
  # --allow-cwd, and a directory above HOME would be refused for covering ~/.ssh).
  (cd "$work" && env -i PATH="$PATH" HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
      TERM=dumb LANG=C.UTF-8 NONO_BIN="$impl" \
      bash "$script" >"$log" 2>&1 </dev/null) || true
  # print_summary's lines, without colour codes.
  counts="$(sed 's/\x1b\[[0-9;]*m//g' "$log")"
  field() { grep -E "^ *$1: " <<<"$counts" | tail -1 | awk '{print $NF}' || true; }
  run="$(field 'Tests run')" pass="$(field Passed)" fail="$(field Failed)" skip="$(field Skipped)"
  run="${run:-?}" pass="${pass:-?}" fail="${fail:-0}" skip="${skip:-0}"
  printf '%-28s %5s %7s %7s %8s\n' "$suite" "$run" "$pass" "$fail" "$skip"
  if [[ "$run" =~ ^[0-9]+$ && "$pass" =~ ^[0-9]+$ ]]; then
    total_run=$((total_run + run)) total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
  fi
done
printf '%-28s %5s %7s %7s %8s\n' TOTAL "$total_run" "$total_pass" "$total_fail" "$total_skip"
echo "implementation: $impl" >&2
echo "logs: $out (failed checks: grep -h FAIL $out/*.log)" >&2
