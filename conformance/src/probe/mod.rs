//! The probe: the suite's program that runs inside the sandbox and performs one operation
//! per call. The binary `nono-probe` is a thin `main` around [`main`]; the operations live
//! here, one module per family.
//!
//! # Protocol
//!
//! * **Call:** `nono-probe OP ARGS...`, every argument a literal string (paths are taken
//!   as given, never resolved). Cases build the call as an [`Op`] (`Run::op(Op::read(&path))`),
//!   which renders these arguments ([`Op::argv`]); the probe parses them back with
//!   [`Op::parse`], so both ends agree on every op's arguments by construction.
//! * **Answer:** exactly one JSON line on stdout, the [`ProbeResult`] type shared with the
//!   cases: `{"op":"read","ok":false,"errno":"EACCES","errno_num":13, ...extra}`. Ops made
//!   of several syscalls add `"step":"<syscall>"` when they fail; `extra` fields are listed
//!   per op below.
//! * **Exit code:** 0 whenever the operation was attempted, whatever its result; 2 with a
//!   one-line message on stderr for usage errors. `exit`, `kill-self` and `in-child`
//!   deliberately control the exit status instead of printing.
//!
//! # Operations
//!
//! The table below is the protocol's reference; [`OPS`] is the same table as data, and a
//! unit test keeps [`Op`] and [`OPS`] in step (one variant per row).
//!
//! | call | family | what it does |
//! |------|--------|--------------|
//! | `read PATH` | fs | open O_RDONLY\|O_CLOEXEC and read everything; extra "bytes", "content". |
//! | `write PATH DATA` | fs | open O_WRONLY (no create, no trunc), write DATA. |
//! | `append PATH DATA` | fs | open O_WRONLY\|O_APPEND, write DATA. |
//! | `create PATH` | fs | open O_WRONLY\|O_CREAT\|O_EXCL, mode 0644. |
//! | `creat-trunc PATH` | fs | open O_WRONLY\|O_CREAT\|O_TRUNC, mode 0644. |
//! | `open-trunc PATH` | fs | open O_WRONLY\|O_TRUNC (no create). |
//! | `truncate PATH LEN` | fs | truncate(2). |
//! | `ftruncate PATH LEN` | fs | open O_WRONLY, then ftruncate(2); step "open" or "ftruncate". |
//! | `mkdir PATH` | fs | mkdir(2), mode 0755. |
//! | `rmdir PATH` | fs | rmdir(2). |
//! | `unlink PATH` | fs | unlink(2). |
//! | `mkfifo PATH` | fs | mkfifo(3), mode 0644. |
//! | `mknod-char PATH` | fs | mknod(2) a character device makedev(1,3), mode 0644. |
//! | `mksock PATH` | fs | AF_UNIX stream socket bound at PATH (creates the socket file); step "socket" or "bind". |
//! | `symlink TARGET LINKPATH` | fs | symlink(2). |
//! | `readlink PATH` | fs | readlink(2); extra "value". |
//! | `link SRC DST` | fs | link(2). |
//! | `rename SRC DST` | fs | rename(2). |
//! | `rename-exchange A B` | fs | renameat2(AT_FDCWD, A, AT_FDCWD, B, RENAME_EXCHANGE). Linux only. |
//! | `readdir PATH` | fs | list entries (without . and ..); extra "entries" (sorted); step "opendir" or "readdir". |
//! | `stat PATH` | fs | stat(2) (follows symlinks); extra "kind": file\|dir\|symlink\|other. |
//! | `getxattr PATH NAME` | fs | read one extended attribute (following symlinks); extra "content" is its value as text. |
//! | `ioctl PATH REQUEST` | fs | open read-only, then `ioctl` with a zeroed 256-byte buffer (REQUEST decimal or 0x hex); step "open" or "ioctl"; ENOTTY means the call reached the driver. |
//! | `exec PATH [ARGS...]` | process | fork + execv(PATH, [PATH, ARGS...]) with inherited stdio; extra "exit_code" or "signal" on success; step "pipe", "fork" or "exec". |
//! | `reopen-proc-fd PATH` | fs | open PATH O_RDONLY, then open `/proc/self/fd/<n>` O_RDWR; step "open" or "reopen". Linux only. |
//! | `connect-tcp HOST PORT` | net | TCP connect to an IPv4/IPv6 literal, 2 s timeout. |
//! | `bind-tcp HOST PORT` | net | create a TCP socket and bind(2) it (no listen); step "socket" or "bind". |
//! | `connect-abstract NAME` | net | AF_UNIX stream connect to "\0NAME"; step "socket" or "connect". Linux only. |
//! | `connect-unix PATH` | net | AF_UNIX stream connect to a pathname socket; step "socket" or "connect". |
//! | `kill PID SIG` | process | kill(2) with a numeric signal (0 allowed). |
//! | `ptrace-attach PID` | process | PTRACE_ATTACH, then waitpid and PTRACE_DETACH; step "attach", "waitpid" or "detach". Linux only. |
//! | `nnp` | process | prctl(PR_GET_NO_NEW_PRIVS); extra "value": 0\|1. Linux only. |
//! | `env` | process | extra "env": {name: value} of the whole environment (lossy strings). |
//! | `getcwd` | process | getcwd(3); extra "value". |
//! | `landlock-abi` | process | kernel Landlock ABI via the landlock crate (restricts this process); extra "value" (0 when Landlock is unavailable). Linux only. |
//! | `in-child OP ARGS...` | process | fork; the child runs OP and prints its JSON; the parent exits with the child's exit code (or reports the killing signal). |
//! | `after-exec OP ARGS...` | process | re-exec this probe binary with OP ARGS; on exec failure report ok=false (step "current_exe" or "execv"). |
//! | `in-thread OP ARGS...` | process | run OP on a new thread, join it; the thread prints. |
//! | `exit CODE` | process | exit immediately with CODE, printing nothing. |
//! | `kill-self SIG` | process | restore the default disposition, unblock and raise SIG, printing nothing. If raise fails or the process survives, a JSON line is printed. |
//! | `request-open [--id ID] PATH ACCESS [THEN...]` | supervisor | ask the supervisor named by NONO_SUPERVISOR_FD for ACCESS (Read\|Write\|ReadWrite) to PATH; extra "decision" (granted\|denied\|timeout), "reason", "fd_received", "request_id". THEN uses the fd: `read` (extra "content"), `write DATA`, `exec-keep PROG ARGS...` (clear close-on-exec, exec PROG with every "{fd}" in ARGS replaced by the fd number; PROG prints) or `exec-cloexec PROG ARGS...` (the same with close-on-exec set). ok only when granted and THEN succeeded; a denial is step "decision". |
//! | `request-replay PATH ACCESS` | supervisor | send two requests with the same request_id; extra "decisions", "reasons", "fds_received" (one entry per request). |
//! | `request-after-garbage PATH ACCESS` | supervisor | send three well-framed bad messages (not JSON, a Decision, an unknown access mode), then a valid request, and read the granted fd; extra as request-open with THEN `read`. |
//! | `request-at-limit PATH ACCESS` | supervisor | send a valid request whose payload is exactly 65536 bytes (the reason is padded); extra as request-open with THEN `nothing`, and "payload_bytes". |
//! | `request-oversize` | supervisor | send a length prefix of 65537 and 16 payload bytes, then wait for an answer; extra "closed" (true when the supervisor hung up without answering) and "answer_bytes". |
//! | `read-fd N` | fdpass | read everything from the inherited fd N; extra "bytes", "content". |
//! | `recv-fds-unix SOCK N` | fdpass | connect to the Unix socket SOCK, receive one message with room for N fds, read each fd; extra "count", "contents" (in arrival order). |
//! | `send-fds-unix SOCK FD...` | fdpass | connect to SOCK, send the listed fds in ONE SCM_RIGHTS message with one 0x00 byte, then wait until the peer hangs up (so that the sender's fds stay stable while the peer inspects them). |
//! | `echo-fd-unix SOCK N` | fdpass | connect to SOCK, receive one fd, send it back N times in ONE SCM_RIGHTS message, close it, then wait until the peer hangs up. |
//! | `sleep SECS` | process | sleep (fractional seconds allowed), then report ok. |
//! | `via-proxy VAR METHOD TARGET [PAYLOAD]` | net | one request through the HTTP proxy named by the variable VAR (`http://[user:pass@]host:port`), credentials sent as Basic Proxy-Authorization. METHOD CONNECT opens a tunnel to TARGET (`host:port`) and, on 200, sends PAYLOAD plus a newline; any other METHOD sends TARGET (a URL) in absolute form. Extra "status" (the proxy's, or the origin's for plain HTTP) and "reply" (what came back after the head); step "env", "connect", "write", "read". |

mod dispatch;
mod fdpass;
mod fs;
mod net;
mod op;
mod process;
mod supervisor;
mod sys;

pub use op::{Op, Then};

pub use crate::outcome::ProbeResult;

use self::{dispatch::*, fdpass::*, fs::*, net::*, process::*, supervisor::*, sys::*};
use ProbeResult as Outcome;
#[allow(unused_imports)]
use nix::errno::Errno;
#[allow(unused_imports)]
use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
#[allow(unused_imports)]
use serde_json::{json, Map, Value};
use std::ffi::CString;
#[allow(unused_imports)]
use std::path::Path;
use std::io::Write;
#[allow(unused_imports)]
use std::os::unix::ffi::OsStrExt;
#[allow(unused_imports)]
use std::time::Duration;
#[allow(unused_imports)]
use crate::kit::wire;

/// One row of the operation table: the op's name, its call and its family (module).
#[derive(Clone, Copy, Debug)]
pub struct OpSpec {
    /// The first argument.
    pub name: &'static str,
    /// The whole call, with placeholders (`read PATH`).
    pub usage: &'static str,
    /// The module that implements it (`fs`, `net`, `process`, `supervisor`, `fdpass`).
    pub family: &'static str,
}

/// Every operation the probe knows, in the order of the table above.
pub const OPS: &[OpSpec] = &[
    OpSpec { name: "read", usage: "read PATH", family: "fs" },
    OpSpec { name: "write", usage: "write PATH DATA", family: "fs" },
    OpSpec { name: "append", usage: "append PATH DATA", family: "fs" },
    OpSpec { name: "create", usage: "create PATH", family: "fs" },
    OpSpec { name: "creat-trunc", usage: "creat-trunc PATH", family: "fs" },
    OpSpec { name: "open-trunc", usage: "open-trunc PATH", family: "fs" },
    OpSpec { name: "truncate", usage: "truncate PATH LEN", family: "fs" },
    OpSpec { name: "ftruncate", usage: "ftruncate PATH LEN", family: "fs" },
    OpSpec { name: "mkdir", usage: "mkdir PATH", family: "fs" },
    OpSpec { name: "rmdir", usage: "rmdir PATH", family: "fs" },
    OpSpec { name: "unlink", usage: "unlink PATH", family: "fs" },
    OpSpec { name: "mkfifo", usage: "mkfifo PATH", family: "fs" },
    OpSpec { name: "mknod-char", usage: "mknod-char PATH", family: "fs" },
    OpSpec { name: "mksock", usage: "mksock PATH", family: "fs" },
    OpSpec { name: "symlink", usage: "symlink TARGET LINKPATH", family: "fs" },
    OpSpec { name: "readlink", usage: "readlink PATH", family: "fs" },
    OpSpec { name: "link", usage: "link SRC DST", family: "fs" },
    OpSpec { name: "rename", usage: "rename SRC DST", family: "fs" },
    OpSpec { name: "rename-exchange", usage: "rename-exchange A B", family: "fs" },
    OpSpec { name: "readdir", usage: "readdir PATH", family: "fs" },
    OpSpec { name: "stat", usage: "stat PATH", family: "fs" },
    OpSpec { name: "getxattr", usage: "getxattr PATH NAME", family: "fs" },
    OpSpec { name: "ioctl", usage: "ioctl PATH REQUEST", family: "fs" },
    OpSpec { name: "exec", usage: "exec PATH [ARGS...]", family: "process" },
    OpSpec { name: "reopen-proc-fd", usage: "reopen-proc-fd PATH", family: "fs" },
    OpSpec { name: "connect-tcp", usage: "connect-tcp HOST PORT", family: "net" },
    OpSpec { name: "bind-tcp", usage: "bind-tcp HOST PORT", family: "net" },
    OpSpec { name: "connect-abstract", usage: "connect-abstract NAME", family: "net" },
    OpSpec { name: "connect-unix", usage: "connect-unix PATH", family: "net" },
    OpSpec { name: "kill", usage: "kill PID SIG", family: "process" },
    OpSpec { name: "ptrace-attach", usage: "ptrace-attach PID", family: "process" },
    OpSpec { name: "nnp", usage: "nnp", family: "process" },
    OpSpec { name: "env", usage: "env", family: "process" },
    OpSpec { name: "getcwd", usage: "getcwd", family: "process" },
    OpSpec { name: "landlock-abi", usage: "landlock-abi", family: "process" },
    OpSpec { name: "in-child", usage: "in-child OP ARGS...", family: "process" },
    OpSpec { name: "after-exec", usage: "after-exec OP ARGS...", family: "process" },
    OpSpec { name: "in-thread", usage: "in-thread OP ARGS...", family: "process" },
    OpSpec { name: "exit", usage: "exit CODE", family: "process" },
    OpSpec { name: "kill-self", usage: "kill-self SIG", family: "process" },
    OpSpec { name: "request-open", usage: "request-open [--id ID] PATH ACCESS [THEN...]", family: "supervisor" },
    OpSpec { name: "request-replay", usage: "request-replay PATH ACCESS", family: "supervisor" },
    OpSpec { name: "request-after-garbage", usage: "request-after-garbage PATH ACCESS", family: "supervisor" },
    OpSpec { name: "request-at-limit", usage: "request-at-limit PATH ACCESS", family: "supervisor" },
    OpSpec { name: "request-oversize", usage: "request-oversize", family: "supervisor" },
    OpSpec { name: "read-fd", usage: "read-fd N", family: "fdpass" },
    OpSpec { name: "recv-fds-unix", usage: "recv-fds-unix SOCK N", family: "fdpass" },
    OpSpec { name: "send-fds-unix", usage: "send-fds-unix SOCK FD...", family: "fdpass" },
    OpSpec { name: "echo-fd-unix", usage: "echo-fd-unix SOCK N", family: "fdpass" },
    OpSpec { name: "sleep", usage: "sleep SECS", family: "process" },
    OpSpec { name: "via-proxy", usage: "via-proxy VAR METHOD TARGET [PAYLOAD]", family: "net" },
];

/// What the dispatcher decided.
pub(crate) enum Done {
    /// Print this outcome and exit 0.
    Report(Outcome),
    /// Print nothing (someone else already did, or nothing is wanted) and exit with this code.
    Exit(i32),
}

/// A usage error message (the probe prints it and exits 2).
pub type Usage = String;

/// The probe's `main`: runs the operation named by the arguments and returns the exit code.
pub fn main() -> i32 {
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(a) => {
                eprintln!("nono-probe: argument is not valid UTF-8: {:?}", a);
                return 2;
            }
        }
    }
    execute(&args)
}

/// Parse and run one op (with its args), print its JSON or usage error, and return the
/// exit code.
pub(crate) fn execute(args: &[String]) -> i32 {
    finish(run_op(args))
}

/// Run one parsed op, print its JSON or usage error, and return the exit code.
pub(crate) fn execute_op(op: &Op) -> i32 {
    finish(run(op))
}

fn finish(done: Result<Done, Usage>) -> i32 {
    let code = match done {
        Ok(Done::Report(outcome)) => {
            println!("{}", outcome.to_json());
            0
        }
        Ok(Done::Exit(code)) => code,
        Err(msg) => {
            eprintln!("nono-probe: {}", msg);
            2
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    code
}
