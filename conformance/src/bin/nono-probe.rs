//! `nono-probe`: the suite's program that runs inside the sandbox and performs one
//! operation per call: `nono-probe <op> [args...]`, one JSON line on stdout.
//!
//! The protocol and the table of operations are documented in the library,
//! `nono_conformance::probe` (`conformance/src/probe/mod.rs`); the operations live there,
//! one module per family (`fs`, `net`, `process`, `supervisor`, `fdpass`).

fn main() {
    std::process::exit(nono_conformance::probe::main());
}
