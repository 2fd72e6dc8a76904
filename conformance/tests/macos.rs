//! The macOS battery: every `macos.*` case, one nextest test each. On other platforms, or
//! without `--features macos-seatbelt`, each is listed as ignored with the reason.
use nono_conformance::{harness, Platform};

fn main() {
    harness::main_for(
        harness::SuitePaths {
            reference: env!("CARGO_BIN_EXE_nono-ref-under-test"),
            probe: env!("CARGO_BIN_EXE_nono-probe"),
            target_tmpdir: env!("CARGO_TARGET_TMPDIR"),
        },
        Platform::MacOs,
    )
}
