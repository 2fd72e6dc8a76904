//! `nono-shim`: the program every mediated command name resolves to. See the library docs.
//!
//! It runs once per mediated call, so it is entered from the C runtime without std's
//! start-up (see [`nono_reference::entry`]).
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    nono_reference::entry::run(nono_shim::main)
}
