//! The reference's `nono-shim`, built alongside the suite (see Cargo.toml and
//! `nono-ref-under-test`). The shim takes its command name from `argv[0]`, so its own file
//! name does not matter.
fn main() {
    std::process::exit(nono_shim::main());
}
