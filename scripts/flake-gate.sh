#!/usr/bin/env bash
# Flake gate: the Linux battery N times in a row under CPU load, then each failing case's
# failure rate. A case that fails in some runs and passes in others is a bug (in the case or
# in the implementation), whatever its rate. Not part of .ci/run: it takes N full runs.
#
#   scripts/flake-gate.sh 5                     # 5 runs of the Linux battery, reference IUT
#   NONO_IMPL=/path/to/nono scripts/flake-gate.sh 5
#   scripts/flake-gate.sh 3 --workspace          # extra arguments go to cargo nextest run
#
# Load: `stress-ng --cpu H` (Debian: apt-get install stress-ng) for the whole gate, with H
# = FLAKE_GATE_HOGS (default: the number of cores), so that with nextest's own one case per
# core the machine runs about twice as many busy threads as it has cores. FLAKE_GATE_LOAD=0
# runs without it. Each run's line gives the 1-minute load average at its end, so the
# printed figures say what load the gate really saw. JUnit reports stay in
# target/flake-gate/run-*.xml.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:?usage: scripts/flake-gate.sh N [cargo nextest run arguments...]}"
shift
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "flake-gate: N must be a positive number, not '$runs'" >&2; exit 2; }
scope=("$@")
[[ ${#scope[@]} -gt 0 ]] || scope=(-p nono-conformance --test linux)

out=target/flake-gate
rm -rf "$out"
mkdir -p "$out"
cargo nextest run "${scope[@]}" --features linux-landlock --no-run --cargo-quiet

stress_pid=
stop_load() { [[ -n "$stress_pid" ]] && kill "$stress_pid" 2>/dev/null && wait "$stress_pid" 2>/dev/null; stress_pid=; }
trap stop_load EXIT
if [[ "${FLAKE_GATE_LOAD:-1}" != 0 ]]; then
  command -v stress-ng >/dev/null || { echo "flake-gate: stress-ng is not installed (apt-get install stress-ng), or set FLAKE_GATE_LOAD=0" >&2; exit 2; }
  # The timeout is a backstop: the trap stops it when the gate ends.
  hogs=${FLAKE_GATE_HOGS:-$(nproc)}
  echo "flake-gate: load: stress-ng --cpu $hogs on $(nproc) cores" >&2
  stress-ng --cpu "$hogs" --timeout 6h --quiet &
  stress_pid=$!
fi

for i in $(seq 1 "$runs"); do
  started=$(date +%s)
  NEXTEST_PROFILE=ci cargo nextest run "${scope[@]}" --features linux-landlock --no-fail-fast --cargo-quiet \
    >"$out/run-$i.log" 2>&1 || true
  cp target/nextest/ci/junit.xml "$out/run-$i.xml"
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "flake-gate: run $i/$runs took $(( $(date +%s) - started )) s, load average $load: $(grep -E '^ +Summary' "$out/run-$i.log" | tail -1 | sed 's/^ *//')" >&2
done
stop_load

python3 - "$out" "$runs" <<'PY'
import pathlib, sys, xml.etree.ElementTree as ET
out, runs = pathlib.Path(sys.argv[1]), int(sys.argv[2])
failures, ran = {}, {}
for i in range(1, runs + 1):
    for case in ET.parse(out / f"run-{i}.xml").iter("testcase"):
        name = case.get("name")
        ran[name] = ran.get(name, 0) + 1
        if case.find("failure") is not None or case.find("error") is not None:
            failures[name] = failures.get(name, 0) + 1
print(f"{len(ran)} cases ran in {runs} runs; {len(failures)} failed at least once")
if failures:
    print(f"{'failures':>9} {'runs':>5} {'rate':>6}  case")
    for name, n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{n:>9} {ran[name]:>5} {n / ran[name]:>6.0%}  {name}")
sys.exit(1 if failures else 0)
PY
