//! The reference's `nono-shim`, built alongside the suite (see Cargo.toml and
//! `nono-ref-under-test`). The shim takes its command name from `argv[0]`, so its own file
//! name does not matter. Like `nono-shim`, it starts without std's start-up (see
//! [`nono_reference::entry`]).
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    nono_reference::entry::run(nono_shim::main)
}
