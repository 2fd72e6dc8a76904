//! The probe's operations as one type. Cases build an [`Op`] and the runner renders it
//! with [`Op::argv`]; the probe binary turns its arguments back into an [`Op`] with
//! [`Op::parse`] and dispatches on the variant. Both ends share this file, so a case cannot
//! ask for an operation, or an argument count, that the probe does not understand.
//!
//! Each variant's doc is the operation's contract; the table in [`super`] lists them all.

use super::{Usage, OPS};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One call of the probe: the operation and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `read PATH`: open O_RDONLY|O_CLOEXEC and read everything; extra "bytes", "content".
    Read { path: PathBuf },
    /// `write PATH DATA`: open O_WRONLY (no create, no trunc), write DATA.
    Write { path: PathBuf, data: String },
    /// `append PATH DATA`: open O_WRONLY|O_APPEND, write DATA.
    Append { path: PathBuf, data: String },
    /// `create PATH`: open O_WRONLY|O_CREAT|O_EXCL, mode 0644.
    Create { path: PathBuf },
    /// `creat-trunc PATH`: open O_WRONLY|O_CREAT|O_TRUNC, mode 0644.
    CreatTrunc { path: PathBuf },
    /// `open-trunc PATH`: open O_WRONLY|O_TRUNC (no create).
    OpenTrunc { path: PathBuf },
    /// `truncate PATH LEN`: truncate(2).
    Truncate { path: PathBuf, len: i64 },
    /// `ftruncate PATH LEN`: open O_WRONLY, then ftruncate(2); step "open" or "ftruncate".
    Ftruncate { path: PathBuf, len: i64 },
    /// `mkdir PATH`: mkdir(2), mode 0755.
    Mkdir { path: PathBuf },
    /// `rmdir PATH`: rmdir(2).
    Rmdir { path: PathBuf },
    /// `unlink PATH`: unlink(2).
    Unlink { path: PathBuf },
    /// `mkfifo PATH`: mkfifo(3), mode 0644.
    Mkfifo { path: PathBuf },
    /// `mknod-char PATH`: mknod(2) a character device makedev(1,3), mode 0644.
    MknodChar { path: PathBuf },
    /// `mksock PATH`: AF_UNIX stream socket bound at PATH (creates the socket file); step
    /// "socket" or "bind".
    Mksock { path: PathBuf },
    /// `symlink TARGET LINKPATH`: symlink(2).
    Symlink { target: PathBuf, link: PathBuf },
    /// `readlink PATH`: readlink(2); extra "value".
    Readlink { path: PathBuf },
    /// `link SRC DST`: link(2).
    Link { src: PathBuf, dst: PathBuf },
    /// `rename SRC DST`: rename(2).
    Rename { src: PathBuf, dst: PathBuf },
    /// `rename-exchange A B`: renameat2(AT_FDCWD, A, AT_FDCWD, B, RENAME_EXCHANGE). Linux only.
    RenameExchange { a: PathBuf, b: PathBuf },
    /// `readdir PATH`: list entries (without . and ..); extra "entries" (sorted); step
    /// "opendir" or "readdir".
    Readdir { path: PathBuf },
    /// `stat PATH`: stat(2) (follows symlinks); extra "kind": file|dir|symlink|other.
    Stat { path: PathBuf },
    /// `getxattr PATH NAME`: read one extended attribute (following symlinks); extra
    /// "content" is its value as text.
    Getxattr { path: PathBuf, name: String },
    /// `ioctl PATH REQUEST`: open PATH read-only, then ioctl(fd, REQUEST, buf) with a zeroed
    /// 256-byte buffer (REQUEST in decimal or 0x hex); step "open" or "ioctl". A driver
    /// that does not know the request answers ENOTTY: the call reached it.
    Ioctl { path: PathBuf, request: u64 },
    /// `exec PATH [ARGS...]`: fork + execv(PATH, [PATH, ARGS...]) with inherited stdio;
    /// extra "exit_code" or "signal" on success; step "pipe", "fork" or "exec".
    Exec { path: PathBuf, args: Vec<String> },
    /// `reopen-proc-fd PATH`: open PATH O_RDONLY, then open `/proc/self/fd/<n>` O_RDWR; step
    /// "open" or "reopen". Linux only.
    ReopenProcFd { path: PathBuf },
    /// `connect-tcp HOST PORT`: TCP connect to an IPv4/IPv6 literal, 2 s timeout.
    ConnectTcp { host: IpAddr, port: u16 },
    /// `bind-tcp HOST PORT`: create a TCP socket and bind(2) it (no listen); step "socket"
    /// or "bind".
    BindTcp { host: IpAddr, port: u16 },
    /// `connect-abstract NAME`: AF_UNIX stream connect to "\0NAME"; step "socket" or
    /// "connect". Linux only.
    ConnectAbstract { name: String },
    /// `connect-unix PATH`: AF_UNIX stream connect to a pathname socket; step "socket" or
    /// "connect".
    ConnectUnix { path: PathBuf },
    /// `kill PID SIG`: kill(2) with a numeric signal (0 allowed).
    Kill { pid: i32, signal: i32 },
    /// `ptrace-attach PID`: PTRACE_ATTACH, then waitpid and PTRACE_DETACH; step "attach",
    /// "waitpid" or "detach". Linux only.
    PtraceAttach { pid: i32 },
    /// `nnp`: prctl(PR_GET_NO_NEW_PRIVS); extra "value": 0|1. Linux only.
    Nnp,
    /// `env`: extra "env": {name: value} of the whole environment (lossy strings).
    Env,
    /// `getcwd`: getcwd(3); extra "value".
    Getcwd,
    /// `landlock-abi`: kernel Landlock ABI via the landlock crate (restricts this process);
    /// extra "value" (0 when Landlock is unavailable). Linux only.
    LandlockAbi,
    /// `in-child OP ARGS...`: fork; the child runs OP and prints its JSON; the parent exits
    /// with the child's exit code (or reports the killing signal).
    InChild(Box<Op>),
    /// `after-exec OP ARGS...`: re-exec this probe binary with OP ARGS; on exec failure
    /// report ok=false (step "current_exe" or "execv").
    AfterExec(Box<Op>),
    /// `in-thread OP ARGS...`: run OP on a new thread, join it; the thread prints.
    InThread(Box<Op>),
    /// `exit CODE`: exit immediately with CODE, printing nothing.
    Exit { code: i32 },
    /// `kill-self SIG`: restore the default disposition, unblock and raise SIG, printing
    /// nothing. If raise fails or the process survives, a JSON line is printed.
    KillSelf { signal: i32 },
    /// `request-open [--id ID] PATH ACCESS [THEN...]`: ask the supervisor named by
    /// NONO_SUPERVISOR_FD for ACCESS (Read|Write|ReadWrite, sent as given) to PATH; extra
    /// "decision" (granted|denied|timeout), "reason", "fd_received", "request_id" (ID,
    /// "probe-1" when absent). ok only when granted and [`Then`] succeeded; a denial is
    /// step "decision".
    RequestOpen { id: Option<String>, path: PathBuf, access: String, then: Then },
    /// `request-replay PATH ACCESS`: send two requests with the same request_id; extra
    /// "decisions", "reasons", "fds_received" (one entry per request).
    RequestReplay { path: PathBuf, access: String },
    /// `request-after-garbage PATH ACCESS`: send three well-framed bad messages (not JSON, a
    /// Decision, an unknown access mode), then a valid request, and read the granted fd;
    /// extra as request-open with THEN `read`.
    RequestAfterGarbage { path: PathBuf, access: String },
    /// `request-at-limit PATH ACCESS`: send a valid request whose payload is exactly 65536
    /// bytes (the reason is padded); extra as request-open with THEN `nothing`, and
    /// "payload_bytes".
    RequestAtLimit { path: PathBuf, access: String },
    /// `request-oversize`: send a length prefix of 65537 and 16 payload bytes, then wait for
    /// an answer; extra "closed" (true when the supervisor hung up without answering) and
    /// "answer_bytes".
    RequestOversize,
    /// `read-fd N`: read everything from the inherited fd N; extra "bytes", "content".
    ReadFd { fd: i32 },
    /// `recv-fds-unix SOCK N`: connect to the Unix socket SOCK, receive one message with
    /// room for N fds, read each fd; extra "count", "contents" (in arrival order).
    RecvFdsUnix { sock: PathBuf, room: usize },
    /// `send-fds-unix SOCK FD...`: connect to SOCK, send the listed fds in ONE SCM_RIGHTS
    /// message with one 0x00 byte, then wait until the peer hangs up (so that the sender's
    /// fds stay stable while the peer inspects them).
    SendFdsUnix { sock: PathBuf, fds: Vec<i32> },
    /// `echo-fd-unix SOCK N`: connect to SOCK, receive one fd, send it back N times in ONE
    /// SCM_RIGHTS message, close it, then wait until the peer hangs up.
    EchoFdUnix { sock: PathBuf, copies: usize },
    /// `sleep SECS`: sleep (fractional seconds allowed), then report ok.
    Sleep { duration: Duration },
    /// `via-proxy VAR METHOD TARGET [PAYLOAD]`: one request through the HTTP proxy named by
    /// the variable VAR (`http://[user:pass@]host:port`), credentials sent as Basic
    /// Proxy-Authorization. METHOD CONNECT opens a tunnel to TARGET (`host:port`) and, on
    /// 200, sends PAYLOAD plus a newline; any other METHOD sends TARGET (a URL) in absolute
    /// form. Extra "status" (the proxy's, or the origin's for plain HTTP) and "reply"
    /// (what came back after the head); step "env", "connect", "write", "read".
    ViaProxy { var: String, method: String, target: String, payload: Option<String> },
}

/// What `request-open` does with a granted fd.
#[derive(Clone, Debug, PartialEq)]
pub enum Then {
    /// Nothing: report the decision only.
    Nothing,
    /// `read`: read everything; extra "content".
    Read,
    /// `write DATA`: write DATA.
    Write(String),
    /// `exec-keep PROG ARGS...`: clear close-on-exec and exec PROG with every "{fd}" in its
    /// arguments replaced by the fd number; PROG prints.
    ExecKeep(Vec<String>),
    /// `exec-cloexec PROG ARGS...`: the same with close-on-exec set.
    ExecCloexec(Vec<String>),
}

/// Constructors, so that cases read `Op::read(&file)` and take paths as paths.
impl Op {
    pub fn read(path: impl AsRef<Path>) -> Op {
        Op::Read { path: path.as_ref().into() }
    }
    pub fn write(path: impl AsRef<Path>, data: impl Into<String>) -> Op {
        Op::Write { path: path.as_ref().into(), data: data.into() }
    }
    pub fn append(path: impl AsRef<Path>, data: impl Into<String>) -> Op {
        Op::Append { path: path.as_ref().into(), data: data.into() }
    }
    pub fn create(path: impl AsRef<Path>) -> Op {
        Op::Create { path: path.as_ref().into() }
    }
    pub fn creat_trunc(path: impl AsRef<Path>) -> Op {
        Op::CreatTrunc { path: path.as_ref().into() }
    }
    pub fn open_trunc(path: impl AsRef<Path>) -> Op {
        Op::OpenTrunc { path: path.as_ref().into() }
    }
    pub fn truncate(path: impl AsRef<Path>, len: i64) -> Op {
        Op::Truncate { path: path.as_ref().into(), len }
    }
    pub fn ftruncate(path: impl AsRef<Path>, len: i64) -> Op {
        Op::Ftruncate { path: path.as_ref().into(), len }
    }
    pub fn mkdir(path: impl AsRef<Path>) -> Op {
        Op::Mkdir { path: path.as_ref().into() }
    }
    pub fn rmdir(path: impl AsRef<Path>) -> Op {
        Op::Rmdir { path: path.as_ref().into() }
    }
    pub fn unlink(path: impl AsRef<Path>) -> Op {
        Op::Unlink { path: path.as_ref().into() }
    }
    pub fn mkfifo(path: impl AsRef<Path>) -> Op {
        Op::Mkfifo { path: path.as_ref().into() }
    }
    pub fn mknod_char(path: impl AsRef<Path>) -> Op {
        Op::MknodChar { path: path.as_ref().into() }
    }
    pub fn mksock(path: impl AsRef<Path>) -> Op {
        Op::Mksock { path: path.as_ref().into() }
    }
    pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) -> Op {
        Op::Symlink { target: target.as_ref().into(), link: link.as_ref().into() }
    }
    pub fn readlink(path: impl AsRef<Path>) -> Op {
        Op::Readlink { path: path.as_ref().into() }
    }
    pub fn link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> Op {
        Op::Link { src: src.as_ref().into(), dst: dst.as_ref().into() }
    }
    pub fn rename(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> Op {
        Op::Rename { src: src.as_ref().into(), dst: dst.as_ref().into() }
    }
    pub fn rename_exchange(a: impl AsRef<Path>, b: impl AsRef<Path>) -> Op {
        Op::RenameExchange { a: a.as_ref().into(), b: b.as_ref().into() }
    }
    pub fn readdir(path: impl AsRef<Path>) -> Op {
        Op::Readdir { path: path.as_ref().into() }
    }
    pub fn stat(path: impl AsRef<Path>) -> Op {
        Op::Stat { path: path.as_ref().into() }
    }
    pub fn getxattr(path: impl AsRef<Path>, name: impl Into<String>) -> Op {
        Op::Getxattr { path: path.as_ref().into(), name: name.into() }
    }
    pub fn ioctl(path: impl AsRef<Path>, request: u64) -> Op {
        Op::Ioctl { path: path.as_ref().into(), request }
    }
    /// `exec PATH ARGS...` (ARGS become argv[1..]).
    pub fn exec(path: impl AsRef<Path>, args: &[&str]) -> Op {
        Op::Exec { path: path.as_ref().into(), args: args.iter().map(|a| a.to_string()).collect() }
    }
    /// `exec COPY OP ARGS...`: exec a copy of the probe binary (at COPY) running `op`.
    pub fn exec_probe(copy: impl AsRef<Path>, op: Op) -> Op {
        Op::Exec { path: copy.as_ref().into(), args: op.argv() }
    }
    pub fn reopen_proc_fd(path: impl AsRef<Path>) -> Op {
        Op::ReopenProcFd { path: path.as_ref().into() }
    }
    pub fn connect_tcp(host: impl Into<IpAddr>, port: u16) -> Op {
        Op::ConnectTcp { host: host.into(), port }
    }
    pub fn bind_tcp(host: impl Into<IpAddr>, port: u16) -> Op {
        Op::BindTcp { host: host.into(), port }
    }
    pub fn connect_abstract(name: impl Into<String>) -> Op {
        Op::ConnectAbstract { name: name.into() }
    }
    pub fn connect_unix(path: impl AsRef<Path>) -> Op {
        Op::ConnectUnix { path: path.as_ref().into() }
    }
    pub fn kill(pid: i32, signal: i32) -> Op {
        Op::Kill { pid, signal }
    }
    pub fn ptrace_attach(pid: i32) -> Op {
        Op::PtraceAttach { pid }
    }
    pub fn in_child(op: Op) -> Op {
        Op::InChild(Box::new(op))
    }
    pub fn after_exec(op: Op) -> Op {
        Op::AfterExec(Box::new(op))
    }
    pub fn in_thread(op: Op) -> Op {
        Op::InThread(Box::new(op))
    }
    pub fn exit(code: i32) -> Op {
        Op::Exit { code }
    }
    pub fn kill_self(signal: i32) -> Op {
        Op::KillSelf { signal }
    }
    /// `request-open PATH ACCESS [THEN]` with the default request id.
    pub fn request_open(path: impl AsRef<Path>, access: impl Into<String>, then: Then) -> Op {
        Op::RequestOpen { id: None, path: path.as_ref().into(), access: access.into(), then }
    }
    pub fn request_replay(path: impl AsRef<Path>, access: impl Into<String>) -> Op {
        Op::RequestReplay { path: path.as_ref().into(), access: access.into() }
    }
    pub fn request_after_garbage(path: impl AsRef<Path>, access: impl Into<String>) -> Op {
        Op::RequestAfterGarbage { path: path.as_ref().into(), access: access.into() }
    }
    pub fn request_at_limit(path: impl AsRef<Path>, access: impl Into<String>) -> Op {
        Op::RequestAtLimit { path: path.as_ref().into(), access: access.into() }
    }
    pub fn read_fd(fd: i32) -> Op {
        Op::ReadFd { fd }
    }
    pub fn recv_fds_unix(sock: impl AsRef<Path>, room: usize) -> Op {
        Op::RecvFdsUnix { sock: sock.as_ref().into(), room }
    }
    pub fn send_fds_unix(sock: impl AsRef<Path>, fds: impl IntoIterator<Item = i32>) -> Op {
        Op::SendFdsUnix { sock: sock.as_ref().into(), fds: fds.into_iter().collect() }
    }
    pub fn echo_fd_unix(sock: impl AsRef<Path>, copies: usize) -> Op {
        Op::EchoFdUnix { sock: sock.as_ref().into(), copies }
    }
    pub fn sleep(duration: Duration) -> Op {
        Op::Sleep { duration }
    }
    /// `via-proxy VAR METHOD TARGET` (no payload).
    pub fn via_proxy(var: impl Into<String>, method: impl Into<String>, target: impl Into<String>) -> Op {
        Op::ViaProxy { var: var.into(), method: method.into(), target: target.into(), payload: None }
    }
    /// The same `request-open` with `--id ID`. Panics on any other op: only
    /// `request-open` takes an id, and a case that sets one elsewhere is wrong.
    pub fn with_id(mut self, request_id: impl Into<String>) -> Op {
        match &mut self {
            Op::RequestOpen { id, .. } => *id = Some(request_id.into()),
            other => panic!("{} takes no request id", other.name()),
        }
        self
    }
    /// The same `via-proxy` with PAYLOAD. Panics on any other op, like [`Op::with_id`].
    pub fn with_payload(mut self, data: impl Into<String>) -> Op {
        match &mut self {
            Op::ViaProxy { payload, .. } => *payload = Some(data.into()),
            other => panic!("{} takes no payload", other.name()),
        }
        self
    }
}

impl Op {
    /// The first argument, which is also the `"op"` field of the probe's answer.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Append { .. } => "append",
            Op::Create { .. } => "create",
            Op::CreatTrunc { .. } => "creat-trunc",
            Op::OpenTrunc { .. } => "open-trunc",
            Op::Truncate { .. } => "truncate",
            Op::Ftruncate { .. } => "ftruncate",
            Op::Mkdir { .. } => "mkdir",
            Op::Rmdir { .. } => "rmdir",
            Op::Unlink { .. } => "unlink",
            Op::Mkfifo { .. } => "mkfifo",
            Op::MknodChar { .. } => "mknod-char",
            Op::Mksock { .. } => "mksock",
            Op::Symlink { .. } => "symlink",
            Op::Readlink { .. } => "readlink",
            Op::Link { .. } => "link",
            Op::Rename { .. } => "rename",
            Op::RenameExchange { .. } => "rename-exchange",
            Op::Readdir { .. } => "readdir",
            Op::Stat { .. } => "stat",
            Op::Getxattr { .. } => "getxattr",
            Op::Ioctl { .. } => "ioctl",
            Op::Exec { .. } => "exec",
            Op::ReopenProcFd { .. } => "reopen-proc-fd",
            Op::ConnectTcp { .. } => "connect-tcp",
            Op::BindTcp { .. } => "bind-tcp",
            Op::ConnectAbstract { .. } => "connect-abstract",
            Op::ConnectUnix { .. } => "connect-unix",
            Op::Kill { .. } => "kill",
            Op::PtraceAttach { .. } => "ptrace-attach",
            Op::Nnp => "nnp",
            Op::Env => "env",
            Op::Getcwd => "getcwd",
            Op::LandlockAbi => "landlock-abi",
            Op::InChild(_) => "in-child",
            Op::AfterExec(_) => "after-exec",
            Op::InThread(_) => "in-thread",
            Op::Exit { .. } => "exit",
            Op::KillSelf { .. } => "kill-self",
            Op::RequestOpen { .. } => "request-open",
            Op::RequestReplay { .. } => "request-replay",
            Op::RequestAfterGarbage { .. } => "request-after-garbage",
            Op::RequestAtLimit { .. } => "request-at-limit",
            Op::RequestOversize => "request-oversize",
            Op::ReadFd { .. } => "read-fd",
            Op::RecvFdsUnix { .. } => "recv-fds-unix",
            Op::SendFdsUnix { .. } => "send-fds-unix",
            Op::EchoFdUnix { .. } => "echo-fd-unix",
            Op::Sleep { .. } => "sleep",
            Op::ViaProxy { .. } => "via-proxy",
        }
    }

    /// The probe's arguments for this op (what follows the probe binary on the command line).
    ///
    /// Panics on a path that is not UTF-8: the probe takes only UTF-8 arguments, and
    /// fixture paths are UTF-8 by construction.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = vec![self.name().to_string()];
        let mut push = |arg: String| argv.push(arg);
        match self {
            Op::Read { path }
            | Op::Create { path }
            | Op::CreatTrunc { path }
            | Op::OpenTrunc { path }
            | Op::Mkdir { path }
            | Op::Rmdir { path }
            | Op::Unlink { path }
            | Op::Mkfifo { path }
            | Op::MknodChar { path }
            | Op::Mksock { path }
            | Op::Readlink { path }
            | Op::Readdir { path }
            | Op::Stat { path }
            | Op::ReopenProcFd { path }
            | Op::ConnectUnix { path } => push(text(path)),
            Op::Write { path, data } | Op::Append { path, data } => {
                push(text(path));
                push(data.clone());
            }
            Op::Truncate { path, len } | Op::Ftruncate { path, len } => {
                push(text(path));
                push(len.to_string());
            }
            Op::Symlink { target: a, link: b }
            | Op::Link { src: a, dst: b }
            | Op::Rename { src: a, dst: b }
            | Op::RenameExchange { a, b } => {
                push(text(a));
                push(text(b));
            }
            Op::Getxattr { path, name } => {
                push(text(path));
                push(name.clone());
            }
            Op::Ioctl { path, request } => {
                push(text(path));
                push(format!("{request:#x}"));
            }
            Op::Exec { path, args } => {
                push(text(path));
                args.iter().cloned().for_each(push);
            }
            Op::ConnectTcp { host, port } | Op::BindTcp { host, port } => {
                push(host.to_string());
                push(port.to_string());
            }
            Op::ConnectAbstract { name } => push(name.clone()),
            Op::Kill { pid, signal } => {
                push(pid.to_string());
                push(signal.to_string());
            }
            Op::PtraceAttach { pid } => push(pid.to_string()),
            Op::Nnp | Op::Env | Op::Getcwd | Op::LandlockAbi | Op::RequestOversize => {}
            Op::InChild(inner) | Op::AfterExec(inner) | Op::InThread(inner) => {
                inner.argv().into_iter().for_each(push)
            }
            Op::Exit { code } => push(code.to_string()),
            Op::KillSelf { signal } => push(signal.to_string()),
            Op::RequestOpen { id, path, access, then } => {
                if let Some(id) = id {
                    push("--id".into());
                    push(id.clone());
                }
                push(text(path));
                push(access.clone());
                match then {
                    Then::Nothing => {}
                    Then::Read => push("read".into()),
                    Then::Write(data) => {
                        push("write".into());
                        push(data.clone());
                    }
                    Then::ExecKeep(command) | Then::ExecCloexec(command) => {
                        let how = if matches!(then, Then::ExecKeep(_)) { "exec-keep" } else { "exec-cloexec" };
                        push(how.into());
                        command.iter().cloned().for_each(push);
                    }
                }
            }
            Op::RequestReplay { path, access } | Op::RequestAfterGarbage { path, access } | Op::RequestAtLimit { path, access } => {
                push(text(path));
                push(access.clone());
            }
            Op::ReadFd { fd } => push(fd.to_string()),
            Op::RecvFdsUnix { sock, room: n } | Op::EchoFdUnix { sock, copies: n } => {
                push(text(sock));
                push(n.to_string());
            }
            Op::SendFdsUnix { sock, fds } => {
                push(text(sock));
                fds.iter().map(i32::to_string).for_each(push);
            }
            Op::Sleep { duration } => push(duration.as_secs_f64().to_string()),
            Op::ViaProxy { var, method, target, payload } => {
                push(var.clone());
                push(method.clone());
                push(target.clone());
                if let Some(payload) = payload {
                    push(payload.clone());
                }
            }
        }
        argv
    }

    /// Reads the probe's arguments (`OP ARGS...`) back into an op. The error is the one-line
    /// usage message the probe prints before exiting 2.
    pub fn parse(args: &[String]) -> Result<Op, Usage> {
        let Some((name, rest)) = args.split_first() else {
            return Err("usage: nono-probe <op> [args...]".to_string());
        };
        let name = name.as_str();
        let op = match name {
            "read" => {
                let [path] = exactly(name, rest, "PATH")?;
                Op::read(path)
            }
            "write" => {
                let [path, data] = exactly(name, rest, "PATH DATA")?;
                Op::write(path, data)
            }
            "append" => {
                let [path, data] = exactly(name, rest, "PATH DATA")?;
                Op::append(path, data)
            }
            "create" => Op::create(one_path(name, rest)?),
            "creat-trunc" => Op::creat_trunc(one_path(name, rest)?),
            "open-trunc" => Op::open_trunc(one_path(name, rest)?),
            "truncate" => {
                let [path, len] = exactly(name, rest, "PATH LEN")?;
                Op::truncate(path, number("LEN", len)?)
            }
            "ftruncate" => {
                let [path, len] = exactly(name, rest, "PATH LEN")?;
                Op::ftruncate(path, number("LEN", len)?)
            }
            "mkdir" => Op::mkdir(one_path(name, rest)?),
            "rmdir" => Op::rmdir(one_path(name, rest)?),
            "unlink" => Op::unlink(one_path(name, rest)?),
            "mkfifo" => Op::mkfifo(one_path(name, rest)?),
            "mknod-char" => Op::mknod_char(one_path(name, rest)?),
            "mksock" => Op::mksock(one_path(name, rest)?),
            "symlink" => {
                let [target, link] = exactly(name, rest, "TARGET LINKPATH")?;
                Op::symlink(target, link)
            }
            "readlink" => Op::readlink(one_path(name, rest)?),
            "link" => {
                let [src, dst] = exactly(name, rest, "SRC DST")?;
                Op::link(src, dst)
            }
            "rename" => {
                let [src, dst] = exactly(name, rest, "SRC DST")?;
                Op::rename(src, dst)
            }
            "rename-exchange" => {
                let [a, b] = exactly(name, rest, "A B")?;
                Op::rename_exchange(a, b)
            }
            "readdir" => Op::readdir(one_path(name, rest)?),
            "stat" => Op::stat(one_path(name, rest)?),
            "getxattr" => {
                let [path, attr] = exactly(name, rest, "PATH NAME")?;
                Op::getxattr(path, attr)
            }
            "ioctl" => {
                let [path, request] = exactly(name, rest, "PATH REQUEST")?;
                let request = match request.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16)
                        .map_err(|_| format!("cannot parse an ioctl request from {request:?}"))?,
                    None => number("an ioctl request", request)?,
                };
                Op::ioctl(path, request)
            }
            "exec" => {
                let Some((path, args)) = rest.split_first() else {
                    return Err(format!("usage: {} PATH [ARGS...]", name));
                };
                Op::Exec { path: path.into(), args: args.to_vec() }
            }
            "reopen-proc-fd" => Op::reopen_proc_fd(one_path(name, rest)?),
            "connect-tcp" => {
                let [host, port] = exactly(name, rest, "HOST PORT")?;
                Op::ConnectTcp { host: number("HOST (IPv4 or IPv6 literal)", host)?, port: number("PORT", port)? }
            }
            "bind-tcp" => {
                let [host, port] = exactly(name, rest, "HOST PORT")?;
                Op::BindTcp { host: number("HOST (IPv4 or IPv6 literal)", host)?, port: number("PORT", port)? }
            }
            "connect-abstract" => {
                let [abstract_name] = exactly(name, rest, "NAME")?;
                Op::connect_abstract(abstract_name)
            }
            "connect-unix" => Op::connect_unix(one_path(name, rest)?),
            "kill" => {
                let [pid, signal] = exactly(name, rest, "PID SIG")?;
                Op::kill(number("PID", pid)?, number("SIG", signal)?)
            }
            "ptrace-attach" => {
                let [pid] = exactly(name, rest, "PID")?;
                Op::ptrace_attach(number("PID", pid)?)
            }
            "nnp" => no_args(name, rest, Op::Nnp)?,
            "env" => no_args(name, rest, Op::Env)?,
            "getcwd" => no_args(name, rest, Op::Getcwd)?,
            "landlock-abi" => no_args(name, rest, Op::LandlockAbi)?,
            "in-child" => Op::in_child(nested(name, rest)?),
            "after-exec" => Op::after_exec(nested(name, rest)?),
            "in-thread" => Op::in_thread(nested(name, rest)?),
            "exit" => {
                let [code] = exactly(name, rest, "CODE")?;
                Op::exit(number("CODE", code)?)
            }
            "kill-self" => {
                let [signal] = exactly(name, rest, "SIG")?;
                Op::kill_self(number("SIG", signal)?)
            }
            "request-open" => parse_request_open(name, rest)?,
            "request-replay" => {
                let [path, access] = exactly(name, rest, "PATH ACCESS")?;
                Op::request_replay(path, access)
            }
            "request-after-garbage" => {
                let [path, access] = exactly(name, rest, "PATH ACCESS")?;
                Op::request_after_garbage(path, access)
            }
            "request-at-limit" => {
                let [path, access] = exactly(name, rest, "PATH ACCESS")?;
                Op::request_at_limit(path, access)
            }
            "request-oversize" => no_args(name, rest, Op::RequestOversize)?,
            "read-fd" => {
                let [fd] = exactly(name, rest, "N")?;
                Op::read_fd(number("N", fd)?)
            }
            "recv-fds-unix" => {
                let [sock, room] = exactly(name, rest, "SOCK N")?;
                Op::recv_fds_unix(sock, number("N", room)?)
            }
            "send-fds-unix" => {
                let Some((sock, fds)) = rest.split_first().filter(|(_, fds)| !fds.is_empty()) else {
                    return Err(format!("usage: {} SOCK FD...", name));
                };
                let fds = fds.iter().map(|fd| number("FD", fd)).collect::<Result<Vec<i32>, _>>()?;
                Op::send_fds_unix(sock, fds)
            }
            "echo-fd-unix" => {
                let [sock, copies] = exactly(name, rest, "SOCK N")?;
                Op::echo_fd_unix(sock, number("N", copies)?)
            }
            "sleep" => {
                let [secs] = exactly(name, rest, "SECS")?;
                let duration = Duration::try_from_secs_f64(number("SECS", secs)?)
                    .map_err(|_| format!("invalid SECS: {:?}", secs))?;
                Op::sleep(duration)
            }
            "via-proxy" => {
                let (var, method, target, payload) = match rest {
                    [var, method, target] => (var, method, target, None),
                    [var, method, target, payload] => (var, method, target, Some(payload.clone())),
                    _ => return Err(format!("usage: {} VAR METHOD TARGET [PAYLOAD]", name)),
                };
                Op::ViaProxy { var: var.clone(), method: method.clone(), target: target.clone(), payload }
            }
            _ => return Err(format!("unknown op: {:?}", name)),
        };
        debug_assert!(OPS.iter().any(|spec| spec.name == op.name()), "{} is missing from OPS", op.name());
        Ok(op)
    }
}

/// `request-open [--id ID] PATH ACCESS [read | write DATA | exec-keep PROG ARGS... |
/// exec-cloexec PROG ARGS...]`.
fn parse_request_open(name: &str, rest: &[String]) -> Result<Op, Usage> {
    let usage = || format!("usage: {} [--id ID] PATH ACCESS [read | write DATA | exec-keep PROG ARGS... | exec-cloexec PROG ARGS...]", name);
    // `--id` with nothing after it is not an id: it falls through to PATH and fails there.
    let (id, rest) = match rest.first().map(String::as_str) {
        Some("--id") if rest.len() >= 2 => (Some(rest[1].clone()), &rest[2..]),
        _ => (None, rest),
    };
    let [path, access, then @ ..] = rest else {
        return Err(usage());
    };
    let then = match then {
        [] => Then::Nothing,
        [how] if how == "read" => Then::Read,
        [how, data] if how == "write" => Then::Write(data.clone()),
        [how, command @ ..] if how == "exec-keep" && !command.is_empty() => Then::ExecKeep(command.to_vec()),
        [how, command @ ..] if how == "exec-cloexec" && !command.is_empty() => Then::ExecCloexec(command.to_vec()),
        _ => return Err(usage()),
    };
    Ok(Op::RequestOpen { id, path: path.into(), access: access.clone(), then })
}

/// Exactly N arguments after the op name, or the op's usage message.
fn exactly<'a, const N: usize>(name: &str, rest: &'a [String], usage: &str) -> Result<&'a [String; N], Usage> {
    rest.try_into().map_err(|_| format!("usage: {} {}", name, usage))
}

fn one_path<'a>(name: &str, rest: &'a [String]) -> Result<&'a String, Usage> {
    let [path] = exactly(name, rest, "PATH")?;
    Ok(path)
}

fn no_args(name: &str, rest: &[String], op: Op) -> Result<Op, Usage> {
    let [] = exactly(name, rest, "")?;
    Ok(op)
}

/// The op that `in-child`, `after-exec` and `in-thread` wrap.
fn nested(name: &str, rest: &[String]) -> Result<Op, Usage> {
    if rest.is_empty() {
        return Err(format!("usage: {} OP [ARGS...]", name));
    }
    Op::parse(rest)
}

/// A typed argument, or "cannot parse WHAT from ARG".
fn number<T: std::str::FromStr>(what: &str, arg: &str) -> Result<T, Usage> {
    arg.parse::<T>().map_err(|_| format!("cannot parse {} from {:?}", what, arg))
}

fn text(path: &Path) -> String {
    path.to_str().expect("probe arguments are UTF-8 (fixture paths are UTF-8 by construction)").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// One op of every kind, with every optional part used somewhere.
    fn one_of_each() -> Vec<Op> {
        vec![
            Op::read("/f"),
            Op::write("/f", "data with spaces"),
            Op::append("/f", ""),
            Op::create("/d/new"),
            Op::creat_trunc("/d/f"),
            Op::open_trunc("/d/f"),
            Op::truncate("/f", 0),
            Op::ftruncate("/f", 3),
            Op::mkdir("/d/sub"),
            Op::rmdir("/d/sub"),
            Op::unlink("/d/f"),
            Op::mkfifo("/d/fifo"),
            Op::mknod_char("/d/null"),
            Op::mksock("/d/sock"),
            Op::symlink("target", "/d/link"),
            Op::readlink("/d/link"),
            Op::link("/a/f", "/b/f"),
            Op::rename("/a/f", "/b/f"),
            Op::rename_exchange("/a/f", "/b/f"),
            Op::readdir("/d"),
            Op::stat("/d"),
            Op::getxattr("/f", "user.note"),
            Op::ioctl("/dev/tty", 0x5401),
            Op::exec("/bin/sh", &["-c", "exit 3"]),
            Op::reopen_proc_fd("/f"),
            Op::connect_tcp(Ipv4Addr::LOCALHOST, 8080),
            Op::bind_tcp(Ipv6Addr::LOCALHOST, 0),
            Op::connect_abstract("nono-test"),
            Op::connect_unix("/d/sock"),
            Op::kill(1234, 0),
            Op::ptrace_attach(1234),
            Op::Nnp,
            Op::Env,
            Op::Getcwd,
            Op::LandlockAbi,
            Op::in_child(Op::create("/d/x")),
            Op::after_exec(Op::in_thread(Op::write("/d/x", "y"))),
            Op::in_thread(Op::exit(3)),
            Op::exit(42),
            Op::kill_self(9),
            Op::request_open("/f", "ReadWrite", Then::ExecKeep(vec!["/bin/cat".into(), "/dev/fd/{fd}".into()])).with_id("r-7"),
            Op::request_replay("/f", "Read"),
            Op::request_after_garbage("/f", "Read"),
            Op::request_at_limit("/f", "Read"),
            Op::RequestOversize,
            Op::read_fd(3),
            Op::recv_fds_unix("/d/sock", 2),
            Op::send_fds_unix("/d/sock", [0, 1, 2]),
            Op::echo_fd_unix("/d/sock", 4),
            Op::sleep(Duration::from_millis(250)),
            Op::via_proxy("HTTPS_PROXY", "CONNECT", "127.0.0.1:9").with_payload("hello"),
        ]
    }

    #[test]
    fn every_op_survives_rendering_and_parsing() {
        let mut examples = one_of_each();
        examples.extend([
            Op::request_open("/f", "Read", Then::Nothing),
            Op::request_open("/f", "Read", Then::Read),
            Op::request_open("/f", "Write", Then::Write("XX".into())),
            Op::request_open("/f", "Read", Then::ExecCloexec(vec!["/bin/prog".into()])),
            Op::via_proxy("HTTP_PROXY", "GET", "http://127.0.0.1:9/"),
            Op::exec_probe("/d/probe-copy", Op::create("/d/marker")),
            Op::exec("/bin/true", &[]),
        ]);
        for op in examples {
            let argv = op.argv();
            assert_eq!(argv[0], op.name());
            assert_eq!(Op::parse(&argv), Ok(op.clone()), "{argv:?}");
        }
    }

    #[test]
    fn every_op_in_the_table_has_a_variant_and_back() {
        let names: Vec<&str> = one_of_each().iter().map(Op::name).collect();
        let table: Vec<&str> = OPS.iter().map(|spec| spec.name).collect();
        assert_eq!(names, table, "one example per OPS row, in the table's order");
        for spec in OPS {
            let usage_name = spec.usage.split(' ').next();
            assert_eq!(usage_name, Some(spec.name), "{}: usage starts with the name", spec.name);
        }
    }

    fn parse(args: &[&str]) -> Result<Op, Usage> {
        Op::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn argument_strings_parse_to_typed_fields() {
        assert_eq!(parse(&["ioctl", "/dev/tty", "21505"]), Ok(Op::ioctl("/dev/tty", 0x5401)));
        assert_eq!(parse(&["connect-tcp", "::1", "80"]), Ok(Op::connect_tcp(Ipv6Addr::LOCALHOST, 80)));
        assert_eq!(parse(&["sleep", "1.5"]), Ok(Op::sleep(Duration::from_millis(1500))));
        assert_eq!(
            parse(&["in-child", "after-exec", "read", "/f"]),
            Ok(Op::in_child(Op::after_exec(Op::read("/f"))))
        );
        assert_eq!(
            parse(&["request-open", "--id", "x", "/f", "Read", "write", "D"]),
            Ok(Op::request_open("/f", "Read", Then::Write("D".into())).with_id("x"))
        );
    }

    #[test]
    fn malformed_ops_give_the_probes_usage_messages() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "usage: nono-probe <op> [args...]"),
            (&["no-such-op"], "unknown op: \"no-such-op\""),
            (&["read"], "usage: read PATH"),
            (&["write", "/f"], "usage: write PATH DATA"),
            (&["nnp", "extra"], "usage: nnp "),
            (&["exec"], "usage: exec PATH [ARGS...]"),
            (&["in-child"], "usage: in-child OP [ARGS...]"),
            (&["in-thread", "read"], "usage: read PATH"),
            (&["truncate", "/f", "ten"], "cannot parse LEN from \"ten\""),
            (&["connect-tcp", "localhost", "80"], "cannot parse HOST (IPv4 or IPv6 literal) from \"localhost\""),
            (&["connect-tcp", "127.0.0.1", "70000"], "cannot parse PORT from \"70000\""),
            (&["ioctl", "/dev/tty", "0xzz"], "cannot parse an ioctl request from \"0xzz\""),
            (&["send-fds-unix", "/s"], "usage: send-fds-unix SOCK FD..."),
            (&["send-fds-unix", "/s", "x"], "cannot parse FD from \"x\""),
            (&["sleep", "-1"], "invalid SECS: \"-1\""),
            (&["via-proxy", "V", "GET"], "usage: via-proxy VAR METHOD TARGET [PAYLOAD]"),
        ];
        for (args, message) in cases {
            assert_eq!(parse(args).as_ref().err().map(String::as_str), Some(*message), "{args:?}");
        }
        let request_open_usage = "usage: request-open [--id ID] PATH ACCESS [read | write DATA | exec-keep PROG ARGS... | exec-cloexec PROG ARGS...]";
        for args in [
            &["request-open", "/f"][..],
            &["request-open", "--id", "x", "/f"],
            &["request-open", "/f", "Read", "read", "more"],
            &["request-open", "/f", "Read", "write"],
            &["request-open", "/f", "Read", "exec-keep"],
            &["request-open", "/f", "Read", "delete"],
        ] {
            assert_eq!(parse(args).as_ref().err().map(String::as_str), Some(request_open_usage), "{args:?}");
        }
    }
}
