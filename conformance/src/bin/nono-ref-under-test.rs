//! The reference implementation, as built alongside the suite (see Cargo.toml).
//!
//! Cargo builds a package's binaries for its own tests only, so the suite also carries the
//! reference's shim (`nono-shim-under-test`); this wrapper points the reference at it unless
//! `NONO_SHIM` already names one.
fn main() {
    if std::env::var_os("NONO_SHIM").is_none() {
        if let Some(shim) = std::env::current_exe().ok().map(|exe| exe.with_file_name("nono-shim-under-test")) {
            if shim.is_file() {
                std::env::set_var("NONO_SHIM", shim);
            }
        }
    }
    std::process::exit(nono_reference::cli::main());
}
