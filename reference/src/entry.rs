//! The start of a short-lived binary (`nono-ref`, `nono-shim`), without std's start-up.
//!
//! A Rust `fn main` is entered through std's runtime set-up, which on Linux reads
//! `/proc/self/maps` to find the main thread's stack guard and maps an alternate signal
//! stack: a dozen system calls and about 100,000 instructions, paid by every sandboxed
//! run and by every mediated command (the shim runs once per call). The binaries declare
//! `#![no_main]` and a C `main` that calls [`run`] instead, which keeps what the rest of
//! the code relies on from that set-up:
//!
//! * `SIGPIPE` stays ignored, so writing to a closed pipe or socket is an `EPIPE` error
//!   the code handles, never a signal that kills the supervisor. Children get the default
//!   back: `std::process::Command` resets it, and so does the supervisor before its exec.
//! * Buffered standard output is flushed before the process exits.
//!
//! What is lost is only std's message for a main-thread stack overflow (the process still
//! dies of the `SIGSEGV`). `std::env::args` keeps working: glibc passes the arguments to
//! std through `.init_array`, not through `main`.

use std::io::Write;

/// Runs `main` as a binary's whole life and returns its exit code for the C `main`.
pub fn run(main: fn() -> i32) -> i32 {
    // SAFETY: setting a signal's disposition to "ignore" has no handler to be unsafe.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let code = main();
    let _ = std::io::stdout().flush();
    code
}
