//! The smallest supervisor there is, for the start-up benchmark's floor: it forks, execs
//! its arguments in the child, waits, and exits with the child's exit code. No policy, no
//! sandbox, no allocation after start.
//!
//! `scripts/static.sh` links it statically, as it links `nono-ref`: what a statically
//! linked `nono-ref run` costs beyond this is the sandbox's own work. Entered from the C
//! runtime like `nono-ref` (see `nono_reference::entry`), so std's start-up is not counted
//! either.
#![no_main]

use std::ffi::{c_char, c_int};

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    if argc < 2 {
        return 2;
    }
    // SAFETY: argv holds argc pointers followed by a null one, as exec(2) requires; the
    // child only execs or exits.
    unsafe {
        match libc::fork() {
            -1 => 1,
            0 => {
                libc::execv(*argv.add(1), argv.add(1));
                libc::_exit(127)
            }
            child => {
                let mut status = 0;
                if libc::waitpid(child, &mut status, 0) != child {
                    return 1;
                }
                if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                }
            }
        }
    }
}
