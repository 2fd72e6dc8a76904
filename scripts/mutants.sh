#!/usr/bin/env bash
# Mutation testing of one reference module against the conformance suite (docs/mutation.md).
# Not part of .ci/run: one file costs tens of minutes on two cores.
#
#   scripts/mutants.sh FILE [cargo-mutants args...]
#   scripts/mutants.sh reference/src/env.rs --shard 0/2
#
# The checkout (with its target/, so the first build is incremental) is copied to a scratch
# directory and mutated there in place: the checkout itself is never edited, and every
# mutant reuses one build directory. Each file is tested with the narrowest part of the
# suite that exercises it (FILTERS below); a narrower filter can only miss more mutants.
# Results land in target/mutants/NAME/mutants.out (caught.txt, missed.txt, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:?usage: scripts/mutants.sh FILE [cargo-mutants args...]}
shift

# The test targets (`--test`) and the nextest filter per file, and mutants left out with
# the reason in docs/mutation.md.
exclude=()
case "$file" in
  reference/src/sandbox/landlock.rs)
    tests=(linux); filter='not test(/^linux\.(mediation|env|profile)/)'; exclude=(--exclude-re 'with BitFlags::') ;;
  reference/src/env.rs)
    tests=(linux portable); filter='test(/^(linux\.(env|mediation\.env|mediation\.server|profile)|profile\.invalid)/)' ;;
  reference/src/system.rs)
    tests=(linux); filter='test(/^linux\.(system|implicit|fs\.dev|run|cli|exit|canary|core|workload)/)'; exclude=(--exclude-re 'replace groups ') ;;
  reference/src/profile/merge.rs)
    tests=(portable linux); filter='test(/^(profile\.merge|linux\.profile)/)' ;;
  reference/src/mediation/*)
    # A mediated command's own proxy is tested with the proxy cases (NET-PROXY-012).
    tests=(linux); filter='test(/^linux\.(mediation|net\.proxy\.mediated)/)' ;;
  reference/src/broker/*)
    # The nonce vectors run twice: through a live session (linux.mediation.nonce) and,
    # for the bytes a session cannot carry, against the library (broker.rewrite).
    tests=(linux portable); filter='test(/^(linux\.mediation|broker)/)' ;;
  reference/src/ipc/frame.rs)
    # `encode` and `decode` serve the library's callers and its own tests: no path through
    # an implementation's command line reaches them (docs/mutation.md).
    tests=(linux); filter='test(/^linux\.(ipc|mediation)/)'
    exclude=(--exclude-re 'replace (encode|decode|decode_limited) ->' --exclude-re 'in decode_limited$') ;;
  reference/src/ipc/*)
    tests=(linux); filter='test(/^linux\.(ipc|mediation)/)' ;;
  *)
    tests=(linux portable); filter='all()' ;;
esac

name=$(basename "$file" .rs)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nono-mutants.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -a . "$scratch/src"

test_args=()
for t in "${tests[@]}"; do test_args+=(--cargo-arg=--test "--cargo-arg=$t"); done
mkdir -p target/mutants
# --baseline=skip: cargo-mutants 27 builds the baseline with --package of the mutated
# crate, where --features=linux-landlock does not exist; check .ci/run is green instead.
nice -n 10 cargo mutants -d "$scratch/src" --in-place --file "$file" "${exclude[@]}" \
  --test-workspace=true --test-tool=nextest --features=linux-landlock "${test_args[@]}" \
  --cargo-test-arg=-E "--cargo-test-arg=$filter" \
  --baseline=skip --timeout=240 --build-timeout=400 \
  -o "target/mutants/$name" "$@"
