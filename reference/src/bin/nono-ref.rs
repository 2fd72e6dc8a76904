//! `nono-ref`: the reference implementation's command line.
//!
//! Entered from the C runtime without std's start-up, which costs a short run more than
//! it gives (see [`nono_reference::entry`]).
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    nono_reference::entry::run(nono_reference::cli::main)
}
