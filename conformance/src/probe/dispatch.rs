//! The dispatcher: the arguments are parsed once into an [`Op`] (which checks their number
//! and types), then each variant runs. The contract of each operation is documented on
//! its variant in [`super::op`] and in the table in [`super`].

use super::*;

/// Parses the arguments and runs the op they name.
pub(crate) fn run_op(args: &[String]) -> Result<Done, Usage> {
    run(&Op::parse(args)?)
}

/// Runs one parsed op. The errors left here are about values no syscall can take (a NUL
/// byte, a socket path that is too long) and ops this platform lacks.
pub(crate) fn run(op: &Op) -> Result<Done, Usage> {
    let name = op.name();
    match op {
        Op::Read { path } => op_read(path),
        Op::Write { path, data } => open_and_write(name, path, data, libc::O_WRONLY),
        Op::Append { path, data } => open_and_write(name, path, data, libc::O_WRONLY | libc::O_APPEND),
        Op::Create { path } => open_only(name, path, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL),
        Op::CreatTrunc { path } => open_only(name, path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC),
        Op::OpenTrunc { path } => open_only(name, path, libc::O_WRONLY | libc::O_TRUNC),
        Op::Truncate { path, len } => {
            let p = cpath(path)?;
            let res = check(unsafe { libc::truncate(p.as_ptr(), *len as libc::off_t) }).map(drop);
            Ok(Done::Report(Outcome::from_result(name, res)))
        }
        Op::Ftruncate { path, len } => {
            let p = cpath(path)?;
            let fd = match open_raw(&p, libc::O_WRONLY | libc::O_CLOEXEC, 0) {
                Ok(fd) => fd,
                Err(e) => return Ok(Done::Report(Outcome::fail_at(name, "open", e))),
            };
            let res = check(unsafe { libc::ftruncate(fd, *len as libc::off_t) });
            close_raw(fd);
            Ok(Done::Report(match res {
                Ok(_) => Outcome::ok(name),
                Err(e) => Outcome::fail_at(name, "ftruncate", e),
            }))
        }
        Op::Mkdir { path } => path_syscall(name, path, |p| unsafe { libc::mkdir(p, 0o755 as libc::mode_t) }),
        Op::Rmdir { path } => path_syscall(name, path, |p| unsafe { libc::rmdir(p) }),
        Op::Unlink { path } => path_syscall(name, path, |p| unsafe { libc::unlink(p) }),
        Op::Mkfifo { path } => path_syscall(name, path, |p| unsafe { libc::mkfifo(p, 0o644 as libc::mode_t) }),
        Op::MknodChar { path } => {
            let mode = (libc::S_IFCHR | 0o644) as libc::mode_t;
            path_syscall(name, path, |p| unsafe { libc::mknod(p, mode, libc::makedev(1, 3)) })
        }
        Op::Mksock { path } => {
            let addr = UnixAddr::new(path.as_path()).map_err(|e| format!("bad PATH: {}", e))?;
            let fd = match unix_socket(name) {
                Ok(fd) => fd,
                Err(o) => return Ok(Done::Report(o)),
            };
            Ok(Done::Report(match bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr) {
                Ok(()) => Outcome::ok(name),
                Err(e) => Outcome::fail_at(name, "bind", e as i32),
            }))
        }
        Op::Symlink { target, link } => two_paths(name, target, link, libc::symlink),
        Op::Readlink { path } => Ok(Done::Report(match std::fs::read_link(path) {
            Ok(v) => Outcome::ok(name).with("value", v.to_string_lossy().into_owned()),
            Err(e) => Outcome::fail(name, io_errno(&e)),
        })),
        Op::Link { src, dst } => two_paths(name, src, dst, libc::link),
        Op::Rename { src, dst } => two_paths(name, src, dst, libc::rename),
        Op::RenameExchange { a, b } => op_rename_exchange(name, a, b),
        Op::Readdir { path } => op_readdir(name, path),
        Op::Stat { path } => op_stat(name, path),
        Op::Getxattr { path, name: attr } => op_getxattr(name, path, attr),
        Op::Ioctl { path, request } => op_ioctl(name, path, *request),
        Op::Exec { path, args } => op_exec(name, path, args),
        Op::ReopenProcFd { path } => op_reopen_proc_fd(name, path),
        Op::ConnectTcp { host, port } => {
            let addr = std::net::SocketAddr::new(*host, *port);
            let res = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2));
            Ok(Done::Report(match res {
                Ok(_) => Outcome::ok(name),
                Err(e) => Outcome::fail(name, io_errno(&e)),
            }))
        }
        Op::BindTcp { host, port } => Ok(Done::Report(match tcp_bind(std::net::SocketAddr::new(*host, *port)) {
            Ok(()) => Outcome::ok(name),
            Err((step, e)) => Outcome::fail_at(name, step, e),
        })),
        Op::ConnectAbstract { name: abstract_name } => op_connect_abstract(name, abstract_name),
        Op::ConnectUnix { path } => {
            let addr = UnixAddr::new(path.as_path()).map_err(|e| format!("bad PATH: {}", e))?;
            Ok(Done::Report(unix_connect(name, &addr)))
        }
        Op::Kill { pid, signal } => {
            let res = check(unsafe { libc::kill(*pid, *signal) }).map(drop);
            Ok(Done::Report(Outcome::from_result(name, res)))
        }
        Op::PtraceAttach { pid } => op_ptrace_attach(name, *pid),
        Op::Nnp => op_nnp(name),
        Op::Env => {
            let mut env = Map::new();
            for (k, v) in std::env::vars_os() {
                env.insert(k.to_string_lossy().into_owned(), Value::String(v.to_string_lossy().into_owned()));
            }
            Ok(Done::Report(Outcome::ok(name).with("env", Value::Object(env))))
        }
        Op::Getcwd => Ok(Done::Report(match std::env::current_dir() {
            Ok(p) => Outcome::ok(name).with("value", p.to_string_lossy().into_owned()),
            Err(e) => Outcome::fail(name, io_errno(&e)),
        })),
        Op::LandlockAbi => op_landlock_abi(name),
        Op::InChild(inner) => op_in_child(name, inner),
        Op::AfterExec(inner) => op_after_exec(name, inner),
        Op::InThread(inner) => {
            let inner = (**inner).clone();
            match std::thread::Builder::new().spawn(move || execute_op(&inner)) {
                Ok(handle) => Ok(Done::Exit(handle.join().unwrap_or(101))),
                Err(e) => Ok(Done::Report(Outcome::fail_at(name, "spawn", io_errno(&e)))),
            }
        }
        Op::Exit { code } => Ok(Done::Exit(*code)),
        Op::KillSelf { signal } => op_kill_self(name, *signal),
        Op::RequestOpen { id, path, access, then } => {
            op_request_open(name, id.as_deref().unwrap_or("probe-1"), path, access, then)
        }
        Op::RequestReplay { path, access } => op_request_replay(name, path, access),
        Op::RequestAfterGarbage { path, access } => op_request_after_garbage(name, path, access),
        Op::RequestAtLimit { path, access } => op_request_at_limit(name, path, access),
        Op::RequestOversize => op_request_oversize(name),
        Op::ReadFd { fd } => Ok(Done::Report(read_fd_report(name, *fd))),
        Op::RecvFdsUnix { sock, room } => op_recv_fds_unix(name, sock, *room),
        Op::SendFdsUnix { sock, fds } => op_send_fds_unix(name, sock, fds),
        Op::EchoFdUnix { sock, copies } => op_echo_fd_unix(name, sock, *copies),
        Op::Sleep { duration } => {
            std::thread::sleep(*duration);
            Ok(Done::Report(Outcome::ok(name)))
        }
        Op::ViaProxy { var, method, target, payload } => {
            Ok(Done::Report(op_via_proxy(name, var, method, target, payload.as_deref().unwrap_or(""))))
        }
    }
}
