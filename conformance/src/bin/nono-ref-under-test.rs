//! The reference implementation, as built alongside the suite (see Cargo.toml).
fn main() {
    std::process::exit(nono_reference::cli::main());
}
