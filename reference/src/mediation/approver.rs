//! The approver of `admin` rules, following the kipz fork's contract (mediation notes
//! ADM-1..ADM-4): before a rule marked `"admin": true` acts, the server runs
//!
//! ```text
//! nono-approve COMMAND ARGS...
//! ```
//!
//! found as a regular file next to the running `nono-ref`, else on the supervisor's `PATH`,
//! and waits for it with no time limit (a human may take a while). Exit 0 approves. Any
//! other exit, death by a signal, a missing approver or one that cannot be started refuses:
//! approval fails closed.
//!
//! The approver keeps the supervisor's stdin and stderr (a terminal prompt can use them),
//! but its stdout goes to the supervisor's stderr: the program's stdout carries only what
//! the program and its commands write.

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The approver's file name.
pub const APPROVER: &str = "nono-approve";

/// Where the approver is: next to our own binary, else the first match on `path`.
pub fn find(path: Option<&OsStr>) -> Option<PathBuf> {
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(APPROVER)));
    match beside {
        Some(beside) if beside.is_file() => Some(beside),
        _ => super::session::which(APPROVER, path),
    }
}

/// Runs `approver` for `command args...` and says whether it approved (exit 0).
pub fn approves(approver: Option<&Path>, command: &str, args: &[String]) -> bool {
    let Some(approver) = approver else { return false };
    let Ok(stdout) = std::io::stderr().as_fd().try_clone_to_owned() else { return false };
    Command::new(approver)
        .arg(command)
        .args(args)
        .stdout(Stdio::from(stdout))
        .status()
        .is_ok_and(|status| status.success())
}
