//! The portable battery: data-driven cases that need no particular kernel (profile merge and
//! expansion vectors, wire formats, generated Seatbelt profiles). They run on every platform.
use nono_conformance::{harness, Platform};

fn main() {
    harness::main_for(
        harness::SuitePaths {
            reference: env!("CARGO_BIN_EXE_nono-ref-under-test"),
            probe: env!("CARGO_BIN_EXE_nono-probe"),
            target_tmpdir: env!("CARGO_TARGET_TMPDIR"),
        },
        Platform::Any,
    )
}
