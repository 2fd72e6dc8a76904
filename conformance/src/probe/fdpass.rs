//! Descriptor passing over a named Unix socket (`recv-fds-unix`, `send-fds-unix`,
//! `echo-fd-unix`), with the suite's own wire code ([`crate::kit::wire`]).

use super::*;

/// Connects a Unix stream socket to `path`; Err is a finished outcome.
pub(crate) fn unix_stream(op: &str, path: &Path) -> Result<std::os::fd::OwnedFd, Outcome> {
    let addr = UnixAddr::new(path).map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    let fd = socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None)
        .map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    // Set apart from socket() because SOCK_CLOEXEC is Linux-only; the probe is single-threaded.
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Outcome::fail_at(op, "socket", e as i32))?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).map_err(|e| Outcome::fail_at(op, "connect", e as i32))?;
    Ok(fd)
}

pub(crate) fn op_recv_fds_unix(op: &str, path: &Path, n: usize) -> Result<Done, Usage> {
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

pub(crate) fn op_send_fds_unix(op: &str, path: &Path, fds: &[libc::c_int]) -> Result<Done, Usage> {
    use std::os::fd::AsRawFd;
    let sock = match unix_stream(op, path) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    if let Err(e) = wire::send_fds(sock.as_raw_fd(), fds) {
        return Ok(Done::Report(Outcome::fail_at(op, "sendmsg", e as i32)));
    }
    // Hold everything open until the peer is done with it.
    let mut pfd = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    if unsafe { libc::poll(&mut pfd, 1, 10_000) } <= 0 {
        return Ok(Done::Report(fail_msg(op, "poll", "the peer did not hang up within 10 s")));
    }
    Ok(Done::Report(Outcome::ok(op).with("sent", fds.len())))
}

pub(crate) fn op_echo_fd_unix(op: &str, path: &Path, n: usize) -> Result<Done, Usage> {
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
    let sent = wire::send_fds(sock.as_raw_fd(), &copies);
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
