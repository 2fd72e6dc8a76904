#!/usr/bin/env bash
# Builds `nono-ref` and `nono-shim` statically linked, for the benchmarks and for
# deployments where start-up counts: a static binary skips the dynamic loader (about half a
# millisecond for `nono-ref` on a small VM, a fifth of one for the shim, on every start).
#
# `crt-static` cannot be set for the whole workspace: proc-macro crates are dynamic
# libraries and refuse it. With an explicit `--target`, RUSTFLAGS apply to the target's
# crates only, never to build scripts and proc-macros, so only the two binaries and their
# dependencies are linked statically. Both are then copied to `target/static/`, one
# directory with a fixed name: the benchmarks look there, and the static `nono-ref` finds
# the static shim next to itself for its mediation sessions. The start-up benchmark's
# static floor, `fork_exec_wait` (a supervisor that does nothing but fork, exec and wait),
# is built the same way and copied beside them.
#
# A static glibc cannot load NSS modules of another glibc version: the one lookup that uses
# them (the account's home directory, only when `HOME` is unset or relative) then finds no
# home, and no home-relative grant or protection applies. Set `HOME` where that matters.
#
#   scripts/static.sh     prints the directory of the static binaries (target/static)
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
# A static glibc has no `dlsym`, so the `getrandom` crate would not find glibc's
# `getrandom` and would read `/dev/urandom` instead (after polling `/dev/random`): four
# system calls more on every run. The cfg names the backend outright.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
  cargo build --quiet --release -p nono-shim -p nono-reference --bin nono-ref --bin nono-shim --example fork_exec_wait --target "$host" >&2
mkdir -p target/static
cp "target/$host/release/nono-ref" "target/$host/release/nono-shim" "target/$host/release/examples/fork_exec_wait" target/static/
echo "$PWD/target/static"
