//! The reference implementation, as built alongside the suite (see Cargo.toml).
//!
//! Cargo builds a package's binaries for its own tests only, so the suite also carries the
//! reference's shim (`nono-shim-under-test`); this wrapper points the reference at it unless
//! `NONO_SHIM` already names one. Like `nono-ref`, it starts without std's start-up
//! (see [`nono_reference::entry`]), so the start-up benchmark measures what `nono-ref` costs.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    nono_reference::entry::run(under_test)
}

#[cfg_attr(test, allow(dead_code))]
fn under_test() -> i32 {
    if std::env::var_os("NONO_SHIM").is_none() {
        if let Some(shim) = std::env::current_exe().ok().map(|exe| exe.with_file_name("nono-shim-under-test")) {
            if shim.is_file() {
                std::env::set_var("NONO_SHIM", shim);
            }
        }
    }
    nono_reference::cli::main()
}
