//! The Linux battery: every `linux.*` case, one nextest test each.
use nono_conformance::{cases, harness};

fn main() {
    let cases = cases::all().into_iter().filter(|c| c.platform == nono_conformance::Platform::Linux).collect();
    harness::main(
        harness::SuitePaths {
            reference: env!("CARGO_BIN_EXE_nono-ref-under-test"),
            probe: env!("CARGO_BIN_EXE_nono-probe"),
            target_tmpdir: env!("CARGO_TARGET_TMPDIR"),
        },
        cases,
    )
}
