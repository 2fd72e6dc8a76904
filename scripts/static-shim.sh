#!/usr/bin/env bash
# Builds `nono-shim` statically linked, for the mediation benchmark and for deployments
# where every mediated call counts: a static shim skips the dynamic loader (about 200,000
# instructions, a fifth of a millisecond, on each call).
#
# `crt-static` cannot be set for the whole workspace: proc-macro crates are dynamic
# libraries and refuse it. With an explicit `--target`, RUSTFLAGS apply to the target's
# crates only, never to build scripts and proc-macros, so only the shim and its
# dependencies are linked statically.
#
#   scripts/static-shim.sh     prints the path of the static shim (set NONO_SHIM to it)
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --quiet --release -p nono-shim --target "$host" >&2
echo "$PWD/target/$host/release/nono-shim"
