//! `nono-ref`: the reference implementation's command line.
fn main() {
    std::process::exit(nono_reference::cli::main());
}
