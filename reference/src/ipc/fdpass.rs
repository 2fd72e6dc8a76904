//! Passing open file descriptors with `SCM_RIGHTS`.
//!
//! One message carries one data byte (`0x00`; ancillary data cannot travel alone on a
//! stream socket) and one `SOL_SOCKET`/`SCM_RIGHTS` control message holding every fd, in
//! order. Several fds go in *one* message, never one message each: the mediation shim
//! hands over stdin, stdout and stderr together, and separate messages have failed with
//! `EMSGSIZE` on macOS when a large request was still buffered.
//!
//! The receiver trusts nothing about the control data: it allocates room for the count it
//! expects, and a message with control data cut short (`MSG_CTRUNC`), with another count,
//! or with no fds at all is an error; every fd that did arrive is closed before the error
//! is returned. Kept fds are close-on-exec (`MSG_CMSG_CLOEXEC` on Linux), so a received fd
//! leaks into a program only when the receiver clears the flag on purpose.
//!
//! ```
//! # use std::os::fd::AsFd;
//! # use nono_reference::ipc::fdpass;
//! let (a, b) = std::os::unix::net::UnixStream::pair()?;
//! let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
//! fdpass::send_fds(&a, &[stdin.as_fd(), stdout.as_fd(), stderr.as_fd()])?;
//! let received = fdpass::recv_fds(&b, 3)?; // [stdin, stdout, stderr], close-on-exec
//! assert_eq!(received.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::error::{Error, Result};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Most fds one message may carry (Linux's `SCM_MAX_FD` is 253; nothing here needs more).
pub const MAX_FDS: usize = 64;

/// The data byte that carries the control message.
pub const DUMMY_BYTE: u8 = 0;

/// Sends `fds` in one message with one dummy byte. The caller keeps its own copies.
pub fn send_fds(sock: &impl AsFd, fds: &[BorrowedFd<'_>]) -> Result<()> {
    if fds.is_empty() || fds.len() > MAX_FDS {
        return Err(Error::io(
            format!("sending {} fds (1 to {MAX_FDS} per message)", fds.len()),
            std::io::ErrorKind::InvalidInput,
        ));
    }
    let raw: Vec<RawFd> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let data = [DUMMY_BYTE];
    let iov = [IoSlice::new(&data)];
    let cmsg = [ControlMessage::ScmRights(&raw)];
    loop {
        match sendmsg::<UnixAddr>(sock.as_fd().as_raw_fd(), &iov, &cmsg, send_flags(), None) {
            Ok(1) => return Ok(()),
            Ok(n) => {
                return Err(Error::io(
                    format!("sending fds: sendmsg wrote {n} bytes instead of 1"),
                    std::io::ErrorKind::WriteZero,
                ))
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::io("sending fds with SCM_RIGHTS", e)),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_flags() -> MsgFlags {
    // A vanished peer is an error to report, not a SIGPIPE to die of.
    MsgFlags::MSG_NOSIGNAL
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_flags() -> MsgFlags {
    MsgFlags::empty()
}

/// Receives exactly `expected` fds sent in one message by [`send_fds`].
pub fn recv_fds(sock: &impl AsFd, expected: usize) -> Result<Vec<OwnedFd>> {
    let got = recv_message(sock, expected)?;
    if got.bytes == 0 {
        return Err(Error::Closed);
    }
    if got.truncated {
        return Err(Error::ControlTruncated {
            arrived: got.fds.len(),
        });
    }
    match got.fds.len() {
        0 => Err(Error::MissingFds { expected }),
        n if n != expected => Err(Error::WrongFdCount { expected, got: n }),
        _ => Ok(got.fds),
    }
}

/// What one `recvmsg` of one byte brought.
pub struct Received {
    /// Data bytes read: 0 at end of stream, else 1.
    pub bytes: usize,
    /// The byte read (meaningful when `bytes == 1`).
    pub byte: u8,
    /// Every fd that arrived, owned (closed on drop), close-on-exec.
    pub fds: Vec<OwnedFd>,
    /// True when the kernel cut the control data short (`MSG_CTRUNC`).
    pub truncated: bool,
}

/// Reads one byte with room for up to `room` fds. The building block for receivers that
/// do not know whether fds come (a client reading the answer to a request).
pub fn recv_message(sock: &impl AsFd, room: usize) -> Result<Received> {
    if room == 0 || room > MAX_FDS {
        return Err(Error::io(
            format!("receiving {room} fds (1 to {MAX_FDS} per message)"),
            std::io::ErrorKind::InvalidInput,
        ));
    }
    let fd_bytes = (room * std::mem::size_of::<RawFd>()) as u32;
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(fd_bytes) } as usize;
    // u64 elements keep the buffer aligned for cmsghdr.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: an all-zero msghdr is a valid empty header; the pointers set below point into
    // buffers that outlive the recvmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    let n = loop {
        // SAFETY: msg describes valid, writable buffers of the stated sizes.
        let n = unsafe { libc::recvmsg(sock.as_fd().as_raw_fd(), &mut msg, recv_flags()) };
        if n >= 0 {
            break n as usize;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::io("receiving fds with SCM_RIGHTS", err));
        }
    };
    // Take ownership of every fd first, so that any error below closes them all.
    // SAFETY: the kernel filled msg's control buffer; the CMSG_* walk stays inside it.
    let fds = unsafe { take_fds(&msg) };
    mark_cloexec(&fds)?;
    Ok(Received {
        bytes: n,
        byte: byte[0],
        fds,
        truncated: msg.msg_flags & libc::MSG_CTRUNC != 0,
    })
}

/// Every fd in the SCM_RIGHTS control messages of `msg`, as owned fds.
///
/// # Safety
/// `msg` must be the header of a completed `recvmsg` whose control buffer is still alive.
unsafe fn take_fds(msg: &libc::msghdr) -> Vec<OwnedFd> {
    let mut fds = vec![];
    let mut cmsg = libc::CMSG_FIRSTHDR(msg);
    while !cmsg.is_null() {
        let header = std::ptr::read_unaligned(cmsg);
        if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
            let data_len = (header.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
            for i in 0..data_len / std::mem::size_of::<RawFd>() {
                let fd = std::ptr::read_unaligned(data.add(i));
                if fd >= 0 {
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
        }
        cmsg = libc::CMSG_NXTHDR(msg, cmsg);
    }
    fds
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_flags() -> libc::c_int {
    libc::MSG_CMSG_CLOEXEC
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn recv_flags() -> libc::c_int {
    0
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn mark_cloexec(_fds: &[OwnedFd]) -> Result<()> {
    Ok(()) // MSG_CMSG_CLOEXEC did it atomically.
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn mark_cloexec(fds: &[OwnedFd]) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    for fd in fds {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
            .map_err(|e| Error::io("marking a received fd close-on-exec", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    /// A pipe whose read end tells, without blocking, whether every write end is closed.
    fn pipe() -> (OwnedFd, OwnedFd) {
        let (r, w) = nix::unistd::pipe().unwrap();
        nix::fcntl::fcntl(
            &r,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .unwrap();
        (r, w)
    }

    fn all_writers_closed(r: &OwnedFd) -> bool {
        let mut buf = [0u8; 8];
        matches!(nix::unistd::read(r, &mut buf), Ok(0))
    }

    #[test]
    fn three_fds_in_one_message_arrive_in_order_and_close_on_exec() {
        let (a, b) = UnixStream::pair().unwrap();
        let pipes: Vec<_> = (0..3).map(|_| pipe()).collect();
        let writers: Vec<BorrowedFd> = pipes.iter().map(|(_, w)| w.as_fd()).collect();
        send_fds(&a, &writers).unwrap();
        let got = recv_fds(&b, 3).unwrap();
        for (i, fd) in got.into_iter().enumerate() {
            let flags = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFD).unwrap();
            assert!(
                flags & libc::FD_CLOEXEC != 0,
                "received fd {i} is not close-on-exec"
            );
            std::fs::File::from(fd)
                .write_all(format!("pipe{i}").as_bytes())
                .unwrap();
        }
        for (i, (r, _)) in pipes.iter().enumerate() {
            let mut s = String::new();
            let mut f = std::fs::File::from(r.try_clone().unwrap());
            let _ = f.read_to_string(&mut s);
            assert_eq!(s, format!("pipe{i}"), "fd {i} arrived out of order");
        }
    }

    #[test]
    fn wrong_count_is_an_error_and_arrived_fds_are_closed() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, w) = pipe();
        send_fds(&a, &[w.as_fd(), w.as_fd()]).unwrap();
        let err = recv_fds(&b, 3).unwrap_err();
        assert!(
            matches!(
                err,
                Error::WrongFdCount {
                    expected: 3,
                    got: 2
                }
            ),
            "{err}"
        );
        drop(w);
        assert!(
            all_writers_closed(&r),
            "a received copy of the write end is still open"
        );
    }

    #[test]
    fn truncated_control_data_is_an_error_and_arrived_fds_are_closed() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, w) = pipe();
        let many: Vec<BorrowedFd> = (0..12).map(|_| w.as_fd()).collect();
        send_fds(&a, &many).unwrap();
        let err = recv_fds(&b, 1).unwrap_err();
        assert!(matches!(err, Error::ControlTruncated { .. }), "{err}");
        drop(w);
        assert!(
            all_writers_closed(&r),
            "a received copy of the write end is still open"
        );
    }

    #[test]
    fn a_byte_without_fds_is_missing_fds_and_end_of_stream_is_closed() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(&[0]).unwrap();
        assert!(matches!(
            recv_fds(&b, 1),
            Err(Error::MissingFds { expected: 1 })
        ));
        drop(a);
        assert!(matches!(recv_fds(&b, 1), Err(Error::Closed)));
    }

    #[test]
    fn counts_out_of_range_are_refused_before_any_syscall() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(send_fds(&a, &[]).is_err());
        assert!(recv_fds(&a, MAX_FDS + 1).is_err());
    }
}
