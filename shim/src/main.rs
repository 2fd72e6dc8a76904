//! `nono-shim`: the program every mediated command name resolves to. See the library docs.
fn main() {
    std::process::exit(nono_shim::main());
}
