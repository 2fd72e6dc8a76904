#!/usr/bin/env bash
# The Linux battery once per Landlock ABI: 0 to 6 emulated (NONO_CONFORMANCE_EMULATE_ABI,
# see conformance/src/emulation.rs), then "host", the kernel as it is (ABI 7 on a current
# kernel). Prints passed/failed/skipped per ABI, then every case whose status is not the same
# under ABI 1..host (ABI 0 skips nearly everything by design), then the failures.
#
#   scripts/abi-matrix.sh                 # the reference implementation
#   scripts/abi-matrix.sh /path/to/nono   # another implementation (NONO_IMPL)
#
# Per-case records stay in target/abi-matrix/abi-*/ (one JSON file per case), logs in
# target/abi-matrix/abi-*.log. Needs Linux with seccomp user notification (5.5+) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

impl="${1:-}"
if [[ -n "$impl" ]]; then
  [[ -x "$impl" ]] || { echo "abi-matrix: $impl is not an executable file" >&2; exit 2; }
  export NONO_IMPL="$(realpath "$impl")"
fi
out=target/abi-matrix
rm -rf "$out"
mkdir -p "$out"
unset NONO_CONFORMANCE_EMULATE_ABI

cargo nextest run -p nono-conformance --features linux-landlock --test linux --no-run --cargo-quiet

for abi in 0 1 2 3 4 5 6 host; do
  echo "abi-matrix: running the Linux battery at ABI $abi" >&2
  (
    export NONO_CONFORMANCE_RESULTS="$PWD/$out/abi-$abi"
    [[ "$abi" == host ]] || export NONO_CONFORMANCE_EMULATE_ABI="$abi"
    cargo nextest run -p nono-conformance --features linux-landlock --test linux \
      --no-fail-fast --cargo-quiet >"$out/abi-$abi.log" 2>&1 || true
  )
done

python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
abis = ["0", "1", "2", "3", "4", "5", "6", "host"]
cols = ["passed", "failed", "expected-fail", "unexpected-pass", "skipped"]
status = {}
for abi in abis:
    for f in (out / f"abi-{abi}").glob("*.json"):
        r = json.loads(f.read_text())
        status.setdefault(r["id"], {})[abi] = (r["status"], r["message"])
print(f"{'ABI':<6}" + "".join(f"{c:>17}" for c in cols))
for abi in abis:
    counts = [sum(1 for s in status.values() if s.get(abi, ("missing",))[0] == c) for c in cols]
    missing = sum(1 for s in status.values() if abi not in s)
    note = f"   ({missing} without a record: see {out}/abi-{abi}.log)" if missing else ""
    print(f"{abi:<6}" + "".join(f"{n:>17}" for n in counts) + note)
letter = {"passed": "P", "failed": "F", "expected-fail": "x", "unexpected-pass": "U", "skipped": "-"}
print("\nCases whose status depends on the ABI (P pass, F fail, x expected fail, - skipped), ABI 0..6, host:")
for case, s in sorted(status.items()):
    row = [letter.get(s.get(a, ("?",))[0], "?") for a in abis]
    if len(set(row[1:])) > 1:
        print(f"  {' '.join(row)}  {case}")
failures = [(a, c, s[a][1]) for c, s in sorted(status.items()) for a in abis if s.get(a, ("",))[0] in ("failed", "unexpected-pass")]
if failures:
    print("\nFailures:")
    for abi, case, msg in failures:
        print(f"  ABI {abi}: {case}: {msg[:300]}")
PY
