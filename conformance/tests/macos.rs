//! The macOS battery: every `macos.*` case, one nextest test each. On other platforms, or
//! without `--features macos-seatbelt`, each is listed as ignored with the reason.
nono_conformance::battery_main!(nono_conformance::Platform::MacOs);
