#!/usr/bin/env bash
# Runs the suite once against the implementation under test, with the action's inputs
# turned into `nono-conformance run` flags. The runner writes results.json, report.md and
# junit.xml into OUT, and the Markdown summary into $GITHUB_STEP_SUMMARY.
#
# Inputs (environment): IMPLEMENTATION (required), SHIM, MANIFEST, BASELINE, STRICT
# (true|false), ALLOW_SKIP (requirement kinds whose skips strict mode allows, separated by
# spaces or commas), OUT (required).
# Exit status: the runner's (0 conformant, 1 conformance failures, unexpected passes or
# regressions, 2 usage, 3 harness or setup error); the same number goes to the step's
# `exit-code` output.
set -euo pipefail

fail() {
  echo "::error title=nono-conformance action::$*"
  exit 2
}

[ -n "${IMPLEMENTATION:-}" ] || fail "the 'implementation' input is empty: give the path of the nono binary to test"
[ -n "${OUT:-}" ] || fail "OUT is not set"

args=(run --impl "$IMPLEMENTATION" --out "$OUT")
[ -n "${SHIM:-}" ] && args+=(--shim "$SHIM")
[ -n "${MANIFEST:-}" ] && args+=(--manifest "$MANIFEST")
[ -n "${BASELINE:-}" ] && args+=(--baseline "$BASELINE")
case "${STRICT:-false}" in
  true) args+=(--strict) ;;
  false) ;;
  *) fail "the 'strict' input must be true or false, not '$STRICT'" ;;
esac
kinds="${ALLOW_SKIP:-}"
kinds="${kinds//,/ }"
if [ -n "${kinds// /}" ]; then
  [ "${STRICT:-false}" = true ] || fail "the 'allow-skip' input needs 'strict: true' (without strict every skip is allowed)"
  for kind in $kinds; do args+=(--allow-skip "$kind"); done
fi

echo "running: nono-conformance $(printf '%q ' "${args[@]}")"
status=0
nono-conformance "${args[@]}" || status=$?
echo "exit-code=$status" >>"${GITHUB_OUTPUT:-/dev/null}"

case $status in
  0) echo "conformant" ;;
  1) echo "::error title=nono-conformance::conformance failures, unexpected passes or regressions: see the step summary and $OUT/report.md" ;;
  2) echo "::error title=nono-conformance::the runner rejected its arguments (exit 2): check the action's inputs" ;;
  *) echo "::error title=nono-conformance::harness or setup error (exit $status): the log above says what could not be run" ;;
esac
if [ "$status" -ge 2 ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  # The runner may have stopped before writing its summary: say why the page is empty.
  echo "**nono-conformance did not complete (exit $status).** See the job log." >>"$GITHUB_STEP_SUMMARY"
fi
exit "$status"
