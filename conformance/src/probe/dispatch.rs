//! The dispatcher: one arm per operation, with its argument check. The comment above
//! each arm is the operation's contract (also in the table in [`super`]).

use super::*;

// ---------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------

pub(crate) fn run_op(args: &[String]) -> Result<Done, Usage> {
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
            let fd = match unix_socket(op) {
                Ok(fd) => fd,
                Err(o) => return Ok(Done::Report(o)),
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
