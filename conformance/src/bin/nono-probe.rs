//! `nono-probe`: a tiny program that conformance tests run inside a sandbox.
//!
//! Usage: `nono-probe <op> [args...]`
//!
//! Each call performs exactly one operation and prints exactly one JSON line on
//! stdout:
//!
//! ```text
//! {"op":"<op>","ok":true|false,"errno":"EACCES"|null,"errno_num":13|null, ...extra}
//! ```
//!
//! Ops made of several syscalls add `"step":"<syscall>"` when they fail.
//! The exit code is 0 whenever the operation was attempted, whatever its
//! result, and 2 (with a one-line message on stderr) for usage errors.
//! A few ops (`exit`, `kill-self`, `in-child`) deliberately control the exit
//! status instead of printing. All paths are taken literally.

use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use serde_json::{json, Map, Value};

/// Result of one attempted operation.
struct Outcome {
    op: String,
    ok: bool,
    errno: Option<i32>,
    extra: Map<String, Value>,
}

impl Outcome {
    fn ok(op: &str) -> Self {
        Outcome {
            op: op.to_string(),
            ok: true,
            errno: None,
            extra: Map::new(),
        }
    }

    fn fail(op: &str, errno: i32) -> Self {
        Outcome {
            op: op.to_string(),
            ok: false,
            errno: Some(errno),
            extra: Map::new(),
        }
    }

    /// Failure at a named step of a multi-syscall op.
    fn fail_at(op: &str, step: &str, errno: i32) -> Self {
        Outcome::fail(op, errno).with("step", step)
    }

    /// Ok or errno, for single-syscall ops.
    fn from_result(op: &str, res: Result<(), i32>) -> Self {
        match res {
            Ok(()) => Outcome::ok(op),
            Err(e) => Outcome::fail(op, e),
        }
    }

    fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    fn to_json(&self) -> String {
        let mut obj = Map::new();
        obj.insert("op".into(), json!(self.op));
        obj.insert("ok".into(), json!(self.ok));
        match self.errno {
            Some(n) => {
                obj.insert("errno".into(), json!(format!("{:?}", Errno::from_raw(n))));
                obj.insert("errno_num".into(), json!(n));
            }
            None => {
                obj.insert("errno".into(), Value::Null);
                obj.insert("errno_num".into(), Value::Null);
            }
        }
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj).to_string()
    }
}

/// What the dispatcher decided.
enum Done {
    /// Print this outcome and exit 0.
    Report(Outcome),
    /// Print nothing (someone else already did, or nothing is wanted) and exit with this code.
    Exit(i32),
}

/// A usage error message (exit code 2).
type Usage = String;

/// Runs a one-path syscall (`mkdir`, `rmdir`, `unlink`, `mkfifo`, ...) and reports it.
fn path_syscall(
    op: &str,
    rest: &[String],
    call: impl FnOnce(*const libc::c_char) -> libc::c_int,
) -> Result<Done, String> {
    want(op, rest, 1, "PATH")?;
    let p = cstr(&rest[0])?;
    let res = check(call(p.as_ptr())).map(drop);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

fn main() {
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(a) => {
                eprintln!("nono-probe: argument is not valid UTF-8: {:?}", a);
                std::process::exit(2);
            }
        }
    }
    std::process::exit(execute(&args));
}

/// Run one op (with its args), print its JSON or usage error, and return the exit code.
fn execute(args: &[String]) -> i32 {
    let code = match run_op(args) {
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

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

fn last_errno() -> i32 {
    Errno::last_raw()
}

fn io_errno(e: &std::io::Error) -> i32 {
    match e.raw_os_error() {
        Some(n) => n,
        None if e.kind() == std::io::ErrorKind::TimedOut => libc::ETIMEDOUT,
        None => libc::EIO,
    }
}

fn cstr(s: &str) -> Result<CString, Usage> {
    CString::new(s).map_err(|_| format!("argument contains a NUL byte: {:?}", s))
}

fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, Usage> {
    s.parse::<T>()
        .map_err(|_| format!("cannot parse {} from {:?}", what, s))
}

/// Check the exact number of arguments after the op name.
fn want(op: &str, rest: &[String], n: usize, usage: &str) -> Result<(), Usage> {
    if rest.len() != n {
        Err(format!("usage: {} {}", op, usage))
    } else {
        Ok(())
    }
}

/// Map a libc return value (`-1` on failure) to `Result<_, errno>`.
fn check(ret: libc::c_int) -> Result<libc::c_int, i32> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

fn open_raw(path: &CString, flags: libc::c_int, mode: libc::c_uint) -> Result<libc::c_int, i32> {
    check(unsafe { libc::open(path.as_ptr(), flags, mode) })
}

fn close_raw(fd: libc::c_int) {
    unsafe {
        libc::close(fd);
    }
}

/// Write all of `data` to `fd`, retrying on EINTR and short writes.
fn write_all_raw(fd: libc::c_int, data: &[u8]) -> Result<(), i32> {
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        let n = unsafe { libc::write(fd, rest.as_ptr() as *const libc::c_void, rest.len()) };
        if n < 0 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        off += n as usize;
    }
    Ok(())
}

/// Open PATH with `flags`, write DATA; report step "open" or "write".
fn open_and_write(op: &str, path: &str, data: &str, flags: libc::c_int) -> Result<Done, Usage> {
    let p = cstr(path)?;
    let fd = match open_raw(&p, flags | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let res = write_all_raw(fd, data.as_bytes());
    close_raw(fd);
    Ok(Done::Report(match res {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "write", e),
    }))
}

/// Single open(2) with a mode; the fd is closed right away.
fn open_only(op: &str, path: &str, flags: libc::c_int) -> Result<Done, Usage> {
    let p = cstr(path)?;
    let res = open_raw(&p, flags | libc::O_CLOEXEC, 0o644).map(close_raw);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

/// Two-path libc call (symlink, link, rename).
fn two_paths(
    op: &str,
    a: &str,
    b: &str,
    f: unsafe extern "C" fn(*const libc::c_char, *const libc::c_char) -> libc::c_int,
) -> Result<Done, Usage> {
    let (a, b) = (cstr(a)?, cstr(b)?);
    let res = check(unsafe { f(a.as_ptr(), b.as_ptr()) }).map(drop);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

/// Wait for `pid`, retrying on EINTR; returns the raw wait status.
fn wait_raw(pid: libc::pid_t) -> Result<libc::c_int, i32> {
    let mut status: libc::c_int = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == -1 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        return Ok(status);
    }
}

#[cfg(not(target_os = "linux"))]
fn unsupported(op: &str) -> Result<Done, Usage> {
    Err(format!("{}: unsupported on this platform", op))
}

// ---------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------

fn run_op(args: &[String]) -> Result<Done, Usage> {
    let Some((op, rest)) = args.split_first() else {
        return Err("usage: nono-probe <op> [args...]".to_string());
    };
    let op = op.as_str();
    match op {
        // read PATH: open O_RDONLY|O_CLOEXEC and read everything; extra "bytes", "content".
        "read" => {
            want(op, rest, 1, "PATH")?;
            op_read(&rest[0])
        }
        // write PATH DATA: open O_WRONLY (no create, no trunc), write DATA.
        "write" => {
            want(op, rest, 2, "PATH DATA")?;
            open_and_write(op, &rest[0], &rest[1], libc::O_WRONLY)
        }
        // append PATH DATA: open O_WRONLY|O_APPEND, write DATA.
        "append" => {
            want(op, rest, 2, "PATH DATA")?;
            open_and_write(op, &rest[0], &rest[1], libc::O_WRONLY | libc::O_APPEND)
        }
        // create PATH: open O_WRONLY|O_CREAT|O_EXCL, mode 0644.
        "create" => {
            want(op, rest, 1, "PATH")?;
            open_only(op, &rest[0], libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)
        }
        // creat-trunc PATH: open O_WRONLY|O_CREAT|O_TRUNC, mode 0644.
        "creat-trunc" => {
            want(op, rest, 1, "PATH")?;
            open_only(op, &rest[0], libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)
        }
        // open-trunc PATH: open O_WRONLY|O_TRUNC (no create).
        "open-trunc" => {
            want(op, rest, 1, "PATH")?;
            open_only(op, &rest[0], libc::O_WRONLY | libc::O_TRUNC)
        }
        // truncate PATH LEN: truncate(2).
        "truncate" => {
            want(op, rest, 2, "PATH LEN")?;
            let p = cstr(&rest[0])?;
            let len: libc::off_t = parse("LEN", &rest[1])?;
            let res = check(unsafe { libc::truncate(p.as_ptr(), len) }).map(drop);
            Ok(Done::Report(Outcome::from_result(op, res)))
        }
        // ftruncate PATH LEN: open O_WRONLY, then ftruncate(2); step "open" or "ftruncate".
        "ftruncate" => {
            want(op, rest, 2, "PATH LEN")?;
            let p = cstr(&rest[0])?;
            let len: libc::off_t = parse("LEN", &rest[1])?;
            let fd = match open_raw(&p, libc::O_WRONLY | libc::O_CLOEXEC, 0) {
                Ok(fd) => fd,
                Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
            };
            let res = check(unsafe { libc::ftruncate(fd, len) });
            close_raw(fd);
            Ok(Done::Report(match res {
                Ok(_) => Outcome::ok(op),
                Err(e) => Outcome::fail_at(op, "ftruncate", e),
            }))
        }
        // mkdir PATH: mkdir(2), mode 0755.
        "mkdir" => path_syscall(op, rest, |p| unsafe { libc::mkdir(p, 0o755 as libc::mode_t) }),
        // rmdir PATH: rmdir(2).
        "rmdir" => path_syscall(op, rest, |p| unsafe { libc::rmdir(p) }),
        // unlink PATH: unlink(2).
        "unlink" => path_syscall(op, rest, |p| unsafe { libc::unlink(p) }),
        // mkfifo PATH: mkfifo(3), mode 0644.
        "mkfifo" => path_syscall(op, rest, |p| unsafe { libc::mkfifo(p, 0o644 as libc::mode_t) }),
        // mknod-char PATH: mknod(2) a character device makedev(1,3), mode 0644.
        "mknod-char" => {
            want(op, rest, 1, "PATH")?;
            let p = cstr(&rest[0])?;
            let mode = (libc::S_IFCHR | 0o644) as libc::mode_t;
            let res =
                check(unsafe { libc::mknod(p.as_ptr(), mode, libc::makedev(1, 3)) }).map(drop);
            Ok(Done::Report(Outcome::from_result(op, res)))
        }
        // mksock PATH: AF_UNIX stream socket bound at PATH (creates the socket file);
        // step "socket" or "bind".
        "mksock" => {
            want(op, rest, 1, "PATH")?;
            let addr = UnixAddr::new(rest[0].as_str()).map_err(|e| format!("bad PATH: {}", e))?;
            let fd = match socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::empty(),
                None,
            ) {
                Ok(fd) => fd,
                Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "socket", e as i32))),
            };
            Ok(Done::Report(
                match bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr) {
                    Ok(()) => Outcome::ok(op),
                    Err(e) => Outcome::fail_at(op, "bind", e as i32),
                },
            ))
        }
        // symlink TARGET LINKPATH: symlink(2).
        "symlink" => {
            want(op, rest, 2, "TARGET LINKPATH")?;
            two_paths(op, &rest[0], &rest[1], libc::symlink)
        }
        // readlink PATH: readlink(2); extra "value".
        "readlink" => {
            want(op, rest, 1, "PATH")?;
            Ok(Done::Report(match std::fs::read_link(&rest[0]) {
                Ok(v) => Outcome::ok(op).with("value", v.to_string_lossy().into_owned()),
                Err(e) => Outcome::fail(op, io_errno(&e)),
            }))
        }
        // link SRC DST: link(2).
        "link" => {
            want(op, rest, 2, "SRC DST")?;
            two_paths(op, &rest[0], &rest[1], libc::link)
        }
        // rename SRC DST: rename(2).
        "rename" => {
            want(op, rest, 2, "SRC DST")?;
            two_paths(op, &rest[0], &rest[1], libc::rename)
        }
        // rename-exchange A B: renameat2(AT_FDCWD, A, AT_FDCWD, B, RENAME_EXCHANGE). Linux only.
        "rename-exchange" => {
            want(op, rest, 2, "A B")?;
            op_rename_exchange(op, &rest[0], &rest[1])
        }
        // readdir PATH: list entries (without . and ..); extra "entries" (sorted);
        // step "opendir" or "readdir".
        "readdir" => {
            want(op, rest, 1, "PATH")?;
            op_readdir(op, &rest[0])
        }
        // stat PATH: stat(2) (follows symlinks); extra "kind": file|dir|symlink|other.
        "stat" => {
            want(op, rest, 1, "PATH")?;
            op_stat(op, &rest[0])
        }
        // ioctl PATH REQUEST: open PATH read-only, then ioctl(fd, REQUEST, buf) with a
        // zeroed 256-byte buffer (REQUEST in decimal or 0x hex); step "open" or "ioctl".
        // A driver that does not know the request answers ENOTTY: the call reached it.
        "ioctl" => {
            want(op, rest, 2, "PATH REQUEST")?;
            op_ioctl(op, &rest[0], &rest[1])
        }
        // getxattr PATH NAME: read one extended attribute (following symlinks); extra
        // "content" is its value as text.
        "getxattr" => {
            want(op, rest, 2, "PATH NAME")?;
            op_getxattr(op, &rest[0], &rest[1])
        }
        // exec PATH [ARGS...]: fork + execv(PATH, [PATH, ARGS...]) with inherited stdio;
        // extra "exit_code" or "signal" on success; step "pipe", "fork" or "exec".
        "exec" => {
            if rest.is_empty() {
                return Err(format!("usage: {} PATH [ARGS...]", op));
            }
            op_exec(op, rest)
        }
        // reopen-proc-fd PATH: open PATH O_RDONLY, then open /proc/self/fd/<n> O_RDWR;
        // step "open" or "reopen". Linux only.
        "reopen-proc-fd" => {
            want(op, rest, 1, "PATH")?;
            op_reopen_proc_fd(op, &rest[0])
        }
        // connect-tcp HOST PORT: TCP connect to an IPv4/IPv6 literal, 2 s timeout.
        "connect-tcp" => {
            want(op, rest, 2, "HOST PORT")?;
            let addr = parse_sockaddr(&rest[0], &rest[1])?;
            let res = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2));
            Ok(Done::Report(match res {
                Ok(_) => Outcome::ok(op),
                Err(e) => Outcome::fail(op, io_errno(&e)),
            }))
        }
        // bind-tcp HOST PORT: create a TCP socket and bind(2) it (no listen);
        // step "socket" or "bind".
        "bind-tcp" => {
            want(op, rest, 2, "HOST PORT")?;
            let addr = parse_sockaddr(&rest[0], &rest[1])?;
            Ok(Done::Report(match tcp_bind(addr) {
                Ok(()) => Outcome::ok(op),
                Err((step, e)) => Outcome::fail_at(op, step, e),
            }))
        }
        // connect-abstract NAME: AF_UNIX stream connect to "\0NAME"; step "socket" or
        // "connect". Linux only.
        "connect-abstract" => {
            want(op, rest, 1, "NAME")?;
            op_connect_abstract(op, &rest[0])
        }
        // connect-unix PATH: AF_UNIX stream connect to a pathname socket; step "socket"
        // or "connect".
        "connect-unix" => {
            want(op, rest, 1, "PATH")?;
            let addr = UnixAddr::new(rest[0].as_str()).map_err(|e| format!("bad PATH: {}", e))?;
            Ok(Done::Report(unix_connect(op, &addr)))
        }
        // kill PID SIG: kill(2) with a numeric signal (0 allowed).
        "kill" => {
            want(op, rest, 2, "PID SIG")?;
            let pid: libc::pid_t = parse("PID", &rest[0])?;
            let sig: libc::c_int = parse("SIG", &rest[1])?;
            let res = check(unsafe { libc::kill(pid, sig) }).map(drop);
            Ok(Done::Report(Outcome::from_result(op, res)))
        }
        // ptrace-attach PID: PTRACE_ATTACH, then waitpid and PTRACE_DETACH; step
        // "attach", "waitpid" or "detach". Linux only.
        "ptrace-attach" => {
            want(op, rest, 1, "PID")?;
            let pid: libc::pid_t = parse("PID", &rest[0])?;
            op_ptrace_attach(op, pid)
        }
        // nnp: prctl(PR_GET_NO_NEW_PRIVS); extra "value": 0|1. Linux only.
        "nnp" => {
            want(op, rest, 0, "")?;
            op_nnp(op)
        }
        // env: extra "env": {name: value} of the whole environment (lossy strings).
        "env" => {
            want(op, rest, 0, "")?;
            let mut env = Map::new();
            for (k, v) in std::env::vars_os() {
                env.insert(
                    k.to_string_lossy().into_owned(),
                    Value::String(v.to_string_lossy().into_owned()),
                );
            }
            Ok(Done::Report(
                Outcome::ok(op).with("env", Value::Object(env)),
            ))
        }
        // getcwd: getcwd(3); extra "value".
        "getcwd" => {
            want(op, rest, 0, "")?;
            Ok(Done::Report(match std::env::current_dir() {
                Ok(p) => Outcome::ok(op).with("value", p.to_string_lossy().into_owned()),
                Err(e) => Outcome::fail(op, io_errno(&e)),
            }))
        }
        // landlock-abi: kernel Landlock ABI via the landlock crate (restricts this
        // process); extra "value" (0 when Landlock is unavailable). Linux only.
        "landlock-abi" => {
            want(op, rest, 0, "")?;
            op_landlock_abi(op)
        }
        // in-child OP ARGS...: fork; the child runs OP and prints its JSON; the parent
        // exits with the child's exit code (or reports the killing signal).
        "in-child" => {
            if rest.is_empty() {
                return Err(format!("usage: {} OP [ARGS...]", op));
            }
            op_in_child(op, rest)
        }
        // after-exec OP ARGS...: re-exec this probe binary with OP ARGS; on exec failure
        // report ok=false (step "current_exe" or "execv").
        "after-exec" => {
            if rest.is_empty() {
                return Err(format!("usage: {} OP [ARGS...]", op));
            }
            op_after_exec(op, rest)
        }
        // in-thread OP ARGS...: run OP on a new thread, join it; the thread prints.
        "in-thread" => {
            if rest.is_empty() {
                return Err(format!("usage: {} OP [ARGS...]", op));
            }
            let tail = rest.to_vec();
            match std::thread::Builder::new().spawn(move || execute(&tail)) {
                Ok(handle) => Ok(Done::Exit(handle.join().unwrap_or(101))),
                Err(e) => Ok(Done::Report(Outcome::fail_at(op, "spawn", io_errno(&e)))),
            }
        }
        // exit CODE: exit immediately with CODE, printing nothing.
        "exit" => {
            want(op, rest, 1, "CODE")?;
            let code: i32 = parse("CODE", &rest[0])?;
            Ok(Done::Exit(code))
        }
        // kill-self SIG: restore the default disposition, unblock and raise SIG, printing
        // nothing. If raise fails or the process survives, a JSON line is printed.
        "kill-self" => {
            want(op, rest, 1, "SIG")?;
            let sig: libc::c_int = parse("SIG", &rest[0])?;
            op_kill_self(op, sig)
        }
        // request-open [--id ID] PATH ACCESS [THEN...]: ask the supervisor named by
        // NONO_SUPERVISOR_FD for ACCESS (Read|Write|ReadWrite) to PATH; extra "decision"
        // (granted|denied|timeout), "reason", "fd_received", "request_id". THEN uses the fd:
        // `read` (extra "content"), `write DATA`, `exec-keep PROG ARGS...` (clear
        // close-on-exec, exec PROG with every "{fd}" in ARGS replaced by the fd number; PROG
        // prints) or `exec-cloexec PROG ARGS...` (the same with close-on-exec set). ok only
        // when granted and THEN succeeded; a denial is step "decision".
        "request-open" => op_request_open(op, rest),
        // request-replay PATH ACCESS: send two requests with the same request_id; extra
        // "decisions", "reasons", "fds_received" (one entry per request).
        "request-replay" => {
            want(op, rest, 2, "PATH ACCESS")?;
            op_request_replay(op, &rest[0], &rest[1])
        }
        // request-after-garbage PATH ACCESS: send three well-framed bad messages (not JSON,
        // a Decision, an unknown access mode), then a valid request, and read the granted fd;
        // extra as request-open with THEN `read`.
        "request-after-garbage" => {
            want(op, rest, 2, "PATH ACCESS")?;
            op_request_after_garbage(op, &rest[0], &rest[1])
        }
        // request-oversize: send a length prefix of 65537 and 16 payload bytes, then wait
        // for an answer; extra "closed" (true when the supervisor hung up without answering)
        // and "answer_bytes".
        "request-oversize" => {
            want(op, rest, 0, "")?;
            op_request_oversize(op)
        }
        // read-fd N: read everything from the inherited fd N; extra "bytes", "content".
        "read-fd" => {
            want(op, rest, 1, "N")?;
            let fd: libc::c_int = parse("N", &rest[0])?;
            Ok(Done::Report(read_fd_report(op, fd)))
        }
        // recv-fds-unix SOCK N: connect to the Unix socket SOCK, receive one message with
        // room for N fds, read each fd; extra "count", "contents" (in arrival order).
        "recv-fds-unix" => {
            want(op, rest, 2, "SOCK N")?;
            let n: usize = parse("N", &rest[1])?;
            op_recv_fds_unix(op, &rest[0], n)
        }
        // send-fds-unix SOCK FD...: connect to SOCK, send the listed fds in ONE SCM_RIGHTS
        // message with one 0x00 byte, then wait until the peer hangs up (so that the
        // sender's fds stay stable while the peer inspects them).
        "send-fds-unix" => {
            if rest.len() < 2 {
                return Err(format!("usage: {} SOCK FD...", op));
            }
            let fds = rest[1..]
                .iter()
                .map(|f| parse::<libc::c_int>("FD", f))
                .collect::<Result<Vec<_>, _>>()?;
            op_send_fds_unix(op, &rest[0], &fds)
        }
        // echo-fd-unix SOCK N: connect to SOCK, receive one fd, send it back N times in ONE
        // SCM_RIGHTS message, close it, then wait until the peer hangs up.
        "echo-fd-unix" => {
            want(op, rest, 2, "SOCK N")?;
            let n: usize = parse("N", &rest[1])?;
            op_echo_fd_unix(op, &rest[0], n)
        }
        // sleep SECS: sleep (fractional seconds allowed), then report ok.
        "sleep" => {
            want(op, rest, 1, "SECS")?;
            let secs: f64 = parse("SECS", &rest[0])?;
            let d = Duration::try_from_secs_f64(secs)
                .map_err(|_| format!("invalid SECS: {:?}", rest[0]))?;
            std::thread::sleep(d);
            Ok(Done::Report(Outcome::ok(op)))
        }
        // via-proxy VAR METHOD TARGET [PAYLOAD]: one request through the HTTP proxy named
        // by the variable VAR (`http://[user:pass@]host:port`), credentials sent as Basic
        // Proxy-Authorization. METHOD CONNECT opens a tunnel to TARGET (`host:port`) and,
        // on 200, sends PAYLOAD plus a newline; any other METHOD sends TARGET (a URL) in
        // absolute form. Extra "status" (the proxy's, or the origin's for plain HTTP) and
        // "reply" (what came back after the head); step "env", "connect", "write", "read".
        "via-proxy" => {
            if rest.len() != 3 && rest.len() != 4 {
                return Err(format!("usage: {} VAR METHOD TARGET [PAYLOAD]", op));
            }
            Ok(Done::Report(op_via_proxy(op, &rest[0], &rest[1], &rest[2], rest.get(3).map_or("", |p| p.as_str()))))
        }
        _ => Err(format!("unknown op: {:?}", op)),
    }
}

// ---------------------------------------------------------------------------
// via-proxy: a minimal HTTP proxy client (no curl inside the sandbox)
// ---------------------------------------------------------------------------

fn op_via_proxy(op: &str, var: &str, method: &str, target: &str, payload: &str) -> Outcome {
    use std::io::Read;
    let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
        return fail_msg(op, "env", format!("{var} is not set"));
    };
    let Some((credentials, authority)) = split_proxy_url(&url) else {
        return fail_msg(op, "env", format!("{var}={url:?} is not http://[user:pass@]host:port"));
    };
    let mut stream = match std::net::TcpStream::connect(authority) {
        Ok(s) => s,
        Err(e) => return Outcome::fail_at(op, "connect", io_errno(&e)),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", host_of(target));
    if let Some(credentials) = credentials {
        request.push_str(&format!("Proxy-Authorization: Basic {}\r\n", base64_encode(credentials.as_bytes())));
    }
    request.push_str("\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Outcome::fail_at(op, "write", io_errno(&e));
    }
    // The head ends at the first blank line; whatever follows belongs to the reply.
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return fail_msg(op, "read", format!("the proxy closed before a full head: {:?}", String::from_utf8_lossy(&received))),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Outcome::fail_at(op, "read", io_errno(&e)),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let status: Option<u16> = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    let mut reply = received[head_end..].to_vec();
    if method == "CONNECT" && status == Some(200) {
        if let Err(e) = stream.write_all(format!("{payload}\n").as_bytes()) {
            return Outcome::fail_at(op, "write", io_errno(&e));
        }
    }
    // Read until the other side closes (the suite's servers close after answering).
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) => return Outcome::fail_at(op, "read", io_errno(&e)),
        }
    }
    Outcome::ok(op).with("status", status).with("head", head).with("reply", String::from_utf8_lossy(&reply).into_owned())
}

/// `http://[user:pass@]host:port[/]` into the credentials and `host:port`.
fn split_proxy_url(url: &str) -> Option<(Option<&str>, &str)> {
    let rest = url.strip_prefix("http://")?.trim_end_matches('/');
    Some(match rest.rsplit_once('@') {
        Some((credentials, authority)) => (Some(credentials), authority),
        None => (None, rest),
    })
}

/// The `host:port` a request target names (a CONNECT authority or an http:// URL).
fn host_of(target: &str) -> &str {
    let rest = target.strip_prefix("http://").unwrap_or(target);
    rest.split('/').next().unwrap_or(rest)
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Op implementations
// ---------------------------------------------------------------------------

fn op_read(path: &str) -> Result<Done, Usage> {
    let op = "read";
    let p = cstr(path)?;
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let report = read_fd_report(op, fd);
    close_raw(fd);
    Ok(Done::Report(report))
}

#[cfg(target_os = "linux")]
fn op_rename_exchange(op: &str, a: &str, b: &str) -> Result<Done, Usage> {
    let (a, b) = (cstr(a)?, cstr(b)?);
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    let res = if r == -1 { Err(last_errno()) } else { Ok(()) };
    Ok(Done::Report(Outcome::from_result(op, res)))
}

#[cfg(not(target_os = "linux"))]
fn op_rename_exchange(op: &str, _a: &str, _b: &str) -> Result<Done, Usage> {
    unsupported(op)
}

fn op_readdir(op: &str, path: &str) -> Result<Done, Usage> {
    let iter = match std::fs::read_dir(path) {
        Ok(it) => it,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "opendir", io_errno(&e)))),
    };
    let mut names = Vec::new();
    for entry in iter {
        match entry {
            Ok(ent) => names.push(String::from_utf8_lossy(ent.file_name().as_bytes()).into_owned()),
            Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "readdir", io_errno(&e)))),
        }
    }
    names.sort();
    Ok(Done::Report(Outcome::ok(op).with("entries", names)))
}

fn op_getxattr(op: &str, path: &str, name: &str) -> Result<Done, Usage> {
    let (p, n) = (cstr(path)?, cstr(name)?);
    let mut buf = vec![0u8; 4096];
    let (value, len) = (buf.as_mut_ptr().cast::<libc::c_void>(), buf.len());
    // SAFETY: both strings are NUL-terminated and the buffer holds `len` bytes.
    #[cfg(target_os = "macos")]
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), value, len, 0, 0) };
    #[cfg(not(target_os = "macos"))]
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), value, len) };
    Ok(Done::Report(if got < 0 {
        Outcome::fail(op, last_errno())
    } else {
        let text = String::from_utf8_lossy(&buf[..got as usize]).into_owned();
        Outcome::ok(op).with("content", text)
    }))
}

fn op_ioctl(op: &str, path: &str, request: &str) -> Result<Done, Usage> {
    let p = cstr(path)?;
    let request = match request.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| format!("cannot parse an ioctl request from {request:?}"))?,
        None => parse::<u64>("an ioctl request", request)?,
    };
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let mut buf = [0u8; 256];
    // SAFETY: fd is open and the buffer is larger than any argument the requests the
    // suite sends (termios, an int) write.
    let ret = unsafe { libc::ioctl(fd, request as _, buf.as_mut_ptr()) };
    let res = check(ret).map(drop);
    unsafe { libc::close(fd) };
    Ok(Done::Report(match res {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "ioctl", e),
    }))
}

fn op_stat(op: &str, path: &str) -> Result<Done, Usage> {
    let p = cstr(path)?;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(p.as_ptr(), &mut st) } == -1 {
        return Ok(Done::Report(Outcome::fail(op, last_errno())));
    }
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        _ => "other",
    };
    Ok(Done::Report(Outcome::ok(op).with("kind", kind)))
}

fn op_exec(op: &str, rest: &[String]) -> Result<Done, Usage> {
    // Everything allocated before fork.
    let cargs = rest
        .iter()
        .map(|s| cstr(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());

    let mut fds = [0 as libc::c_int; 2];
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
        return Ok(Done::Report(Outcome::fail_at(op, "pipe", last_errno())));
    }
    let (rd, wr) = (fds[0], fds[1]);
    for fd in [rd, wr] {
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
            let e = last_errno();
            close_raw(rd);
            close_raw(wr);
            return Ok(Done::Report(Outcome::fail_at(op, "pipe", e)));
        }
    }

    let _ = std::io::stdout().flush();
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        let e = last_errno();
        close_raw(rd);
        close_raw(wr);
        return Ok(Done::Report(Outcome::fail_at(op, "fork", e)));
    }
    if pid == 0 {
        // Child: only async-signal-safe calls from here on.
        unsafe {
            libc::close(rd);
            libc::execv(argv[0], argv.as_ptr());
            let err: i32 = *errno_location();
            let bytes = err.to_ne_bytes();
            libc::write(wr, bytes.as_ptr() as *const libc::c_void, bytes.len());
            libc::_exit(127);
        }
    }

    // Parent.
    close_raw(wr);
    let mut buf = [0u8; 4];
    let mut got = 0usize;
    while got < buf.len() {
        let n = unsafe {
            libc::read(
                rd,
                buf[got..].as_mut_ptr() as *mut libc::c_void,
                buf.len() - got,
            )
        };
        if n < 0 {
            if last_errno() == libc::EINTR {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    close_raw(rd);
    let status = wait_raw(pid);

    if got > 0 {
        let errno = if got == buf.len() {
            i32::from_ne_bytes(buf)
        } else {
            libc::EIO
        };
        return Ok(Done::Report(Outcome::fail_at(op, "exec", errno)));
    }
    Ok(Done::Report(match status {
        Err(e) => Outcome::fail_at(op, "waitpid", e),
        Ok(st) if libc::WIFEXITED(st) => Outcome::ok(op).with("exit_code", libc::WEXITSTATUS(st)),
        Ok(st) if libc::WIFSIGNALED(st) => Outcome::ok(op).with("signal", libc::WTERMSIG(st)),
        Ok(_) => Outcome::ok(op),
    }))
}

/// Pointer to the thread's errno (for the post-fork child, where nix/std helpers are avoided).
#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
}

#[cfg(target_os = "linux")]
fn op_reopen_proc_fd(op: &str, path: &str) -> Result<Done, Usage> {
    let p = cstr(path)?;
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let proc_path = cstr(&format!("/proc/self/fd/{}", fd))?;
    let res = open_raw(&proc_path, libc::O_RDWR | libc::O_CLOEXEC, 0);
    close_raw(fd);
    Ok(Done::Report(match res {
        Ok(fd2) => {
            close_raw(fd2);
            Outcome::ok(op)
        }
        Err(e) => Outcome::fail_at(op, "reopen", e),
    }))
}

#[cfg(not(target_os = "linux"))]
fn op_reopen_proc_fd(op: &str, _path: &str) -> Result<Done, Usage> {
    unsupported(op)
}

fn parse_sockaddr(host: &str, port: &str) -> Result<std::net::SocketAddr, Usage> {
    let ip: std::net::IpAddr = parse("HOST (IPv4 or IPv6 literal)", host)?;
    let port: u16 = parse("PORT", port)?;
    Ok(std::net::SocketAddr::new(ip, port))
}

/// socket(2) + bind(2) (no listen) for a TCP address; Err carries (step, errno).
fn tcp_bind(addr: std::net::SocketAddr) -> Result<(), (&'static str, i32)> {
    use std::net::SocketAddr;
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let fd =
        check(unsafe { libc::socket(family, libc::SOCK_STREAM, 0) }).map_err(|e| ("socket", e))?;
    let res = match addr {
        SocketAddr::V4(a) => {
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            check(unsafe {
                libc::bind(
                    fd,
                    &sin as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            })
        }
        SocketAddr::V6(a) => {
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            check(unsafe {
                libc::bind(
                    fd,
                    &sin6 as *const libc::sockaddr_in6 as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            })
        }
    };
    close_raw(fd);
    res.map(drop).map_err(|e| ("bind", e))
}

/// AF_UNIX stream connect to `addr`; step "socket" or "connect".
fn unix_connect(op: &str, addr: &UnixAddr) -> Outcome {
    let fd = match socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::empty(),
        None,
    ) {
        Ok(fd) => fd,
        Err(e) => return Outcome::fail_at(op, "socket", e as i32),
    };
    match connect(std::os::fd::AsRawFd::as_raw_fd(&fd), addr) {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "connect", e as i32),
    }
}

#[cfg(target_os = "linux")]
fn op_connect_abstract(op: &str, name: &str) -> Result<Done, Usage> {
    let addr = UnixAddr::new_abstract(name.as_bytes()).map_err(|e| format!("bad NAME: {}", e))?;
    Ok(Done::Report(unix_connect(op, &addr)))
}

#[cfg(not(target_os = "linux"))]
fn op_connect_abstract(op: &str, _name: &str) -> Result<Done, Usage> {
    unsupported(op)
}

#[cfg(target_os = "linux")]
fn op_ptrace_attach(op: &str, pid: libc::pid_t) -> Result<Done, Usage> {
    use nix::sys::ptrace;
    use nix::sys::wait::{waitpid, WaitPidFlag};
    use nix::unistd::Pid;

    let pid = Pid::from_raw(pid);
    if let Err(e) = ptrace::attach(pid) {
        return Ok(Done::Report(Outcome::fail_at(op, "attach", e as i32)));
    }
    loop {
        match waitpid(pid, Some(WaitPidFlag::__WALL)) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                let _ = ptrace::detach(pid, None);
                return Ok(Done::Report(Outcome::fail_at(op, "waitpid", e as i32)));
            }
        }
    }
    Ok(Done::Report(match ptrace::detach(pid, None) {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "detach", e as i32),
    }))
}

#[cfg(not(target_os = "linux"))]
fn op_ptrace_attach(op: &str, _pid: libc::pid_t) -> Result<Done, Usage> {
    unsupported(op)
}

#[cfg(target_os = "linux")]
fn op_nnp(op: &str) -> Result<Done, Usage> {
    let r = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) };
    Ok(Done::Report(if r == -1 {
        Outcome::fail(op, last_errno())
    } else {
        Outcome::ok(op).with("value", r)
    }))
}

#[cfg(not(target_os = "linux"))]
fn op_nnp(op: &str) -> Result<Done, Usage> {
    unsupported(op)
}

#[cfg(target_os = "linux")]
fn op_landlock_abi(op: &str) -> Result<Done, Usage> {
    use landlock::{AccessFs, LandlockStatus, Ruleset, RulesetAttr};

    let status = Ruleset::default()
        .handle_access(AccessFs::Execute)
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self());
    Ok(Done::Report(match status {
        Ok(st) => {
            let value = match st.landlock {
                LandlockStatus::Available {
                    effective_abi,
                    kernel_abi,
                } => kernel_abi.unwrap_or(effective_abi as i32),
                _ => 0,
            };
            Outcome::ok(op).with("value", value)
        }
        Err(e) => Outcome {
            op: op.to_string(),
            ok: false,
            errno: None,
            extra: Map::new(),
        }
        .with("error", e.to_string()),
    }))
}

#[cfg(not(target_os = "linux"))]
fn op_landlock_abi(op: &str) -> Result<Done, Usage> {
    unsupported(op)
}

fn op_in_child(op: &str, rest: &[String]) -> Result<Done, Usage> {
    let _ = std::io::stdout().flush();
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Ok(Done::Report(Outcome::fail_at(op, "fork", last_errno())));
    }
    if pid == 0 {
        // Child: the probe is single-threaded here, so running the dispatcher is fine.
        let code = execute(rest);
        unsafe { libc::_exit(code) };
    }
    match wait_raw(pid) {
        Err(e) => Ok(Done::Report(Outcome::fail_at(op, "waitpid", e))),
        Ok(st) if libc::WIFEXITED(st) => Ok(Done::Exit(libc::WEXITSTATUS(st))),
        Ok(st) if libc::WIFSIGNALED(st) => {
            let sig = libc::WTERMSIG(st);
            let mut o = Outcome::ok(op).with("error", format!("child killed by signal {}", sig));
            o.ok = false;
            Ok(Done::Report(o))
        }
        Ok(st) => {
            let mut o = Outcome::ok(op).with("error", format!("unexpected wait status {}", st));
            o.ok = false;
            Ok(Done::Report(o))
        }
    }
}

fn op_after_exec(op: &str, rest: &[String]) -> Result<Done, Usage> {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return Ok(Done::Report(Outcome::fail_at(
                op,
                "current_exe",
                io_errno(&e),
            )))
        }
    };
    let exe = CString::new(exe.as_os_str().as_bytes())
        .map_err(|_| "current_exe contains a NUL byte".to_string())?;
    let mut cargs = vec![exe.clone()];
    for a in rest {
        cargs.push(cstr(a)?);
    }
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let _ = std::io::stdout().flush();
    unsafe { libc::execv(exe.as_ptr(), argv.as_ptr()) };
    Ok(Done::Report(Outcome::fail_at(op, "execv", last_errno())))
}

fn op_kill_self(op: &str, sig: libc::c_int) -> Result<Done, Usage> {
    unsafe {
        // Best effort: these fail harmlessly for invalid signals (raise reports those).
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    if unsafe { libc::raise(sig) } != 0 {
        return Ok(Done::Report(Outcome::fail(op, last_errno())));
    }
    // Still alive: the signal's default action does not terminate (or SIG was 0).
    Ok(Done::Report(Outcome::ok(op).with("survived", true)))
}

// ---------------------------------------------------------------------------
// Supervisor socket ops: an independent client of the wire format in SPEC.md
// ("Supervisor IPC"). It shares no code with any implementation, so that the
// suite checks an implementation against the statements, not against itself.
// ---------------------------------------------------------------------------

/// The variable naming the inherited supervisor socket's fd number.
const SUPERVISOR_FD_ENV: &str = "NONO_SUPERVISOR_FD";

/// Largest frame payload the protocol allows.
const MAX_FRAME: usize = 65536;

/// A failed op with a message instead of an errno.
fn fail_msg(op: &str, step: &str, msg: impl Into<String>) -> Outcome {
    let mut o = Outcome::ok(op).with("step", step).with("error", msg.into());
    o.ok = false;
    o
}

/// Marks an outcome as failed with an errno at a step.
fn failed(mut o: Outcome, step: &str, errno: i32) -> Outcome {
    o.ok = false;
    o.errno = Some(errno);
    o.with("step", step)
}

fn supervisor_fd(op: &str) -> Result<libc::c_int, Outcome> {
    let v = std::env::var(SUPERVISOR_FD_ENV)
        .map_err(|_| fail_msg(op, "env", format!("{} is not set", SUPERVISOR_FD_ENV)))?;
    v.parse()
        .map_err(|_| fail_msg(op, "env", format!("{}={:?} is not a number", SUPERVISOR_FD_ENV, v)))
}

/// Writes one frame: 4-byte big-endian length, then the payload.
fn send_frame(fd: libc::c_int, payload: &[u8]) -> Result<(), i32> {
    let mut bytes = (payload.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(payload);
    write_all_raw(fd, &bytes)
}

fn request_json(id: &str, path: &str, access: &str) -> Vec<u8> {
    json!({"Request": {
        "request_id": id,
        "path": path,
        "access": access,
        "reason": "nono-probe",
        "child_pid": std::process::id(),
        "session_id": "nono-probe",
    }})
    .to_string()
    .into_bytes()
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full_raw(fd: libc::c_int, buf: &mut [u8]) -> Result<usize, i32> {
    let mut got = 0;
    while got < buf.len() {
        let rest = &mut buf[got..];
        let n = unsafe { libc::read(fd, rest.as_mut_ptr() as *mut libc::c_void, rest.len()) };
        if n < 0 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    Ok(got)
}

/// Reads everything from `fd` (up to 4096 bytes are reported as "content").
fn read_all_fd(fd: libc::c_int) -> Result<Vec<u8>, i32> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n < 0 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(data);
        }
        data.extend_from_slice(&buf[..n as usize]);
    }
}

fn read_fd_report(op: &str, fd: libc::c_int) -> Outcome {
    match read_all_fd(fd) {
        Ok(data) => {
            let head = &data[..data.len().min(4096)];
            Outcome::ok(op)
                .with("bytes", data.len())
                .with("content", String::from_utf8_lossy(head).into_owned())
        }
        Err(e) => Outcome::fail_at(op, "read", e),
    }
}

/// Receives one `recvmsg` of one byte with room for `room` fds: (bytes, byte, fds).
fn recv_with_fds(sock: libc::c_int, room: usize) -> Result<(usize, u8, Vec<libc::c_int>), (&'static str, i32)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned};
    let mut byte = [0u8; 1];
    let space = unsafe { libc::CMSG_SPACE((room * std::mem::size_of::<libc::c_int>()) as u32) };
    let mut cmsg = vec![0u8; space as usize];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let (bytes, fds) = loop {
        match recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), cloexec_recv_flag()) {
            Ok(msg) => {
                let mut fds = vec![];
                let cmsgs = msg.cmsgs().map_err(|e| ("cmsgs", e as i32))?;
                for c in cmsgs {
                    if let ControlMessageOwned::ScmRights(got) = c {
                        fds.extend(got);
                    }
                }
                break (msg.bytes, fds);
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(("recvmsg", e as i32)),
        }
    };
    Ok((bytes, byte[0], fds))
}

/// One answer from the supervisor: its JSON and the fd passed before it, if any.
fn recv_answer(op: &str, sock: libc::c_int) -> Result<(Value, Option<libc::c_int>), Outcome> {
    let (bytes, first, fds) = recv_with_fds(sock, 1).map_err(|(step, e)| Outcome::fail_at(op, step, e))?;
    if bytes == 0 {
        return Err(fail_msg(op, "recv", "the supervisor hung up without answering"));
    }
    let mut prefix = [0u8; 4];
    let fd = fds.first().copied();
    for extra in fds.iter().skip(1) {
        close_raw(*extra);
    }
    let start = if fd.is_some() {
        0
    } else {
        prefix[0] = first;
        1
    };
    let got = read_full_raw(sock, &mut prefix[start..]).map_err(|e| Outcome::fail_at(op, "recv", e))?;
    if got < 4 - start {
        return Err(fail_msg(op, "recv", "the answer ended inside its length"));
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(fail_msg(op, "recv", format!("the answer claims {} bytes", len)));
    }
    let mut payload = vec![0u8; len];
    let got = read_full_raw(sock, &mut payload).map_err(|e| Outcome::fail_at(op, "recv", e))?;
    if got < len {
        return Err(fail_msg(op, "recv", "the answer ended inside its payload"));
    }
    let value: Value = serde_json::from_slice(&payload)
        .map_err(|e| fail_msg(op, "parse", format!("answer is not JSON: {}", e)))?;
    Ok((value, fd))
}

/// (decision, reason, answered request_id) of a `Decision` answer.
fn decision_of(answer: &Value) -> (String, Option<String>, Option<String>) {
    let d = &answer["Decision"];
    let id = d["request_id"].as_str().map(str::to_string);
    match &d["decision"] {
        Value::String(s) if s == "Granted" => ("granted".into(), None, id),
        Value::String(s) if s == "Timeout" => ("timeout".into(), None, id),
        v if v.get("Denied").is_some() => (
            "denied".into(),
            v["Denied"]["reason"].as_str().map(str::to_string),
            id,
        ),
        _ => (format!("unrecognised answer {}", answer), None, id),
    }
}

/// Sends one request and returns the outcome so far (decision fields) and the fd.
fn ask(op: &str, sock: libc::c_int, id: &str, path: &str, access: &str) -> Result<(Outcome, Option<libc::c_int>), Outcome> {
    send_frame(sock, &request_json(id, path, access)).map_err(|e| Outcome::fail_at(op, "send", e))?;
    let (answer, fd) = recv_answer(op, sock)?;
    let (decision, reason, answered) = decision_of(&answer);
    let mut o = Outcome::ok(op)
        .with("request_id", id)
        .with("decision", decision.clone())
        .with("reason", reason.map(Value::String).unwrap_or(Value::Null))
        .with("fd_received", fd.is_some());
    if answered.as_deref() != Some(id) {
        o = fail_msg(op, "answer", format!("answer names request {:?}", answered));
    } else if decision != "granted" {
        o.ok = false;
        o = o.with("step", "decision");
    } else if fd.is_none() {
        o.ok = false;
        o = o.with("step", "fd");
    }
    Ok((o, fd))
}

fn op_request_open(op: &str, rest: &[String]) -> Result<Done, Usage> {
    let usage = || format!("usage: {} [--id ID] PATH ACCESS [read | write DATA | exec-keep PROG ARGS... | exec-cloexec PROG ARGS...]", op);
    let (id, rest) = match rest.first().map(String::as_str) {
        Some("--id") if rest.len() >= 2 => (rest[1].as_str(), &rest[2..]),
        _ => ("probe-1", rest),
    };
    if rest.len() < 2 {
        return Err(usage());
    }
    let (path, access, then) = (&rest[0], &rest[1], &rest[2..]);
    let then_ok = match then.first().map(String::as_str) {
        None => true,
        Some("read") => then.len() == 1,
        Some("write") => then.len() == 2,
        Some("exec-keep") | Some("exec-cloexec") => then.len() >= 2,
        _ => false,
    };
    if !then_ok {
        return Err(usage());
    }
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let (o, fd) = match ask(op, sock, id, path, access) {
        Ok(r) => r,
        Err(o) => return Ok(Done::Report(o)),
    };
    let fd = match fd {
        Some(fd) if o.ok => fd,
        other => {
            if let Some(fd) = other {
                close_raw(fd);
            }
            return Ok(Done::Report(o));
        }
    };
    let outcome = match then.first().map(String::as_str) {
        None => o,
        Some("read") => match read_all_fd(fd) {
            Ok(data) => o
                .with("bytes", data.len())
                .with("content", String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned()),
            Err(e) => failed(o, "read", e),
        },
        Some("write") => match write_all_raw(fd, then[1].as_bytes()) {
            Ok(()) => o,
            Err(e) => failed(o, "write", e),
        },
        Some(how) => {
            let flag = if how == "exec-keep" { 0 } else { libc::FD_CLOEXEC };
            if unsafe { libc::fcntl(fd, libc::F_SETFD, flag) } == -1 {
                failed(o, "fcntl", last_errno())
            } else {
                let args: Vec<String> = then[1..].iter().map(|a| a.replace("{fd}", &fd.to_string())).collect();
                let cargs = args.iter().map(|a| cstr(a)).collect::<Result<Vec<_>, _>>()?;
                let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
                argv.push(std::ptr::null());
                let _ = std::io::stdout().flush();
                unsafe { libc::execv(argv[0], argv.as_ptr()) };
                failed(o, "exec", last_errno())
            }
        }
    };
    close_raw(fd);
    Ok(Done::Report(outcome))
}

fn op_request_replay(op: &str, path: &str, access: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let (mut decisions, mut reasons, mut fds_received) = (vec![], vec![], vec![]);
    for _ in 0..2 {
        let (o, fd) = match ask(op, sock, "probe-replay", path, access) {
            Ok(r) => r,
            Err(o) => return Ok(Done::Report(o)),
        };
        decisions.push(o.extra.get("decision").cloned().unwrap_or(Value::Null));
        reasons.push(o.extra.get("reason").cloned().unwrap_or(Value::Null));
        fds_received.push(fd.is_some());
        if let Some(fd) = fd {
            close_raw(fd);
        }
    }
    Ok(Done::Report(
        Outcome::ok(op)
            .with("decisions", decisions)
            .with("reasons", reasons)
            .with("fds_received", fds_received),
    ))
}

fn op_request_after_garbage(op: &str, path: &str, access: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let wrong_type = json!({"Decision": {"request_id": "g1", "decision": "Granted"}}).to_string();
    let bad_access = String::from_utf8_lossy(&request_json("g2", path, "Execute")).into_owned();
    for garbage in [&b"this is not json"[..], wrong_type.as_bytes(), bad_access.as_bytes()] {
        if let Err(e) = send_frame(sock, garbage) {
            return Ok(Done::Report(Outcome::fail_at(op, "send", e)));
        }
    }
    let (o, fd) = match ask(op, sock, "after-garbage", path, access) {
        Ok(r) => r,
        Err(o) => return Ok(Done::Report(o)),
    };
    let Some(fd) = fd.filter(|_| o.ok) else {
        return Ok(Done::Report(o));
    };
    let outcome = match read_all_fd(fd) {
        Ok(data) => o.with("content", String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned()),
        Err(e) => failed(o, "read", e),
    };
    close_raw(fd);
    Ok(Done::Report(outcome))
}

fn op_request_oversize(op: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let mut bytes = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&[b'x'; 16]);
    if let Err(e) = write_all_raw(sock, &bytes) {
        return Ok(Done::Report(Outcome::fail_at(op, "send", e)));
    }
    let mut pfd = libc::pollfd { fd: sock, events: libc::POLLIN, revents: 0 };
    if unsafe { libc::poll(&mut pfd, 1, 5000) } <= 0 {
        return Ok(Done::Report(fail_msg(op, "poll", "no answer and no hang-up within 5 s")));
    }
    let mut buf = [0u8; 64];
    Ok(Done::Report(match read_full_raw(sock, &mut buf) {
        Ok(n) => Outcome::ok(op).with("closed", n == 0).with("answer_bytes", n),
        Err(libc::ECONNRESET) => Outcome::ok(op).with("closed", true).with("answer_bytes", 0),
        Err(e) => Outcome::fail_at(op, "recv", e),
    }))
}

/// Received fds close-on-exec, atomically where the platform can (Linux).
#[cfg(target_os = "linux")]
fn cloexec_recv_flag() -> nix::sys::socket::MsgFlags {
    nix::sys::socket::MsgFlags::MSG_CMSG_CLOEXEC
}

#[cfg(not(target_os = "linux"))]
fn cloexec_recv_flag() -> nix::sys::socket::MsgFlags {
    nix::sys::socket::MsgFlags::empty()
}

/// Connects a Unix stream socket to `path`; Err is a finished outcome.
fn unix_stream(op: &str, path: &str) -> Result<std::os::fd::OwnedFd, Outcome> {
    let addr = UnixAddr::new(path).map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    let fd = socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None)
        .map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    // Set apart from socket() because SOCK_CLOEXEC is Linux-only; the probe is single-threaded.
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).map_err(|e| Outcome::fail_at(op, "connect", e as i32))?;
    Ok(fd)
}

fn op_recv_fds_unix(op: &str, path: &str, n: usize) -> Result<Done, Usage> {
    use std::os::fd::AsRawFd;
    let sock = match unix_stream(op, path) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let (bytes, _, fds) = match recv_with_fds(sock.as_raw_fd(), n.max(1)) {
        Ok(r) => r,
        Err((step, e)) => return Ok(Done::Report(Outcome::fail_at(op, step, e))),
    };
    let mut contents = vec![];
    for fd in &fds {
        let data = read_all_fd(*fd).unwrap_or_default();
        contents.push(String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned());
        close_raw(*fd);
    }
    Ok(Done::Report(
        Outcome::ok(op)
            .with("bytes", bytes)
            .with("count", fds.len())
            .with("contents", contents),
    ))
}

fn op_send_fds_unix(op: &str, path: &str, fds: &[libc::c_int]) -> Result<Done, Usage> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    let sock = match unix_stream(op, path) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let byte = [0u8];
    let iov = [std::io::IoSlice::new(&byte)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    if let Err(e) = sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None) {
        return Ok(Done::Report(Outcome::fail_at(op, "sendmsg", e as i32)));
    }
    // Hold everything open until the peer is done with it.
    let mut pfd = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    if unsafe { libc::poll(&mut pfd, 1, 10_000) } <= 0 {
        return Ok(Done::Report(fail_msg(op, "poll", "the peer did not hang up within 10 s")));
    }
    Ok(Done::Report(Outcome::ok(op).with("sent", fds.len())))
}

fn op_echo_fd_unix(op: &str, path: &str, n: usize) -> Result<Done, Usage> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    let sock = match unix_stream(op, path) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let fd = match recv_with_fds(sock.as_raw_fd(), 1) {
        Ok((_, _, fds)) if fds.len() == 1 => fds[0],
        Ok((_, _, fds)) => {
            fds.into_iter().for_each(close_raw);
            return Ok(Done::Report(fail_msg(op, "recvmsg", "expected exactly one fd")));
        }
        Err((step, e)) => return Ok(Done::Report(Outcome::fail_at(op, step, e))),
    };
    let copies = vec![fd; n];
    let byte = [0u8];
    let iov = [std::io::IoSlice::new(&byte)];
    let cmsg = [ControlMessage::ScmRights(&copies)];
    let sent = sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None);
    close_raw(fd);
    if let Err(e) = sent {
        return Ok(Done::Report(Outcome::fail_at(op, "sendmsg", e as i32)));
    }
    let mut pfd = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    if unsafe { libc::poll(&mut pfd, 1, 10_000) } <= 0 {
        return Ok(Done::Report(fail_msg(op, "poll", "the peer did not hang up within 10 s")));
    }
    Ok(Done::Report(Outcome::ok(op).with("sent", n)))
}
