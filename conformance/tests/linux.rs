//! The Linux battery: every `linux.*` case, one nextest test each.
nono_conformance::battery_main!(nono_conformance::Platform::Linux);
