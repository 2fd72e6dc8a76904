//! The suite's own wire code: length-prefixed frames and descriptor passing.
//!
//! nono's sockets (the supervisor socket, the mediation socket) carry JSON in frames of a
//! 4-byte big-endian length followed by the payload, and pass descriptors as `SCM_RIGHTS`
//! on a one-byte message. The probe, `nono-mediation-client`, the fake servers and the
//! cases all speak it through this module. It shares no code with any implementation, so
//! that the suite checks an implementation against SPEC.md, not against itself.

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes in a frame's length prefix.
pub const LEN_BYTES: usize = 4;

/// `payload` as one frame: its length as 4 big-endian bytes, then the payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut bytes = (payload.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// Writes `payload` as one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> std::io::Result<()> {
    w.write_all(&frame(payload))
}

/// Why no frame could be read.
#[derive(Debug)]
pub enum FrameError {
    /// The stream ended after `got` bytes of the prefix or payload.
    Eof { in_prefix: bool, got: usize },
    /// The prefix claims more than the caller allows.
    TooLong(usize),
    /// The read failed (a timeout is `WouldBlock`/`TimedOut`).
    Io(std::io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Eof { in_prefix: true, got } => write!(f, "the stream ended inside the length prefix ({got} bytes)"),
            FrameError::Eof { in_prefix: false, got } => write!(f, "the stream ended inside the payload ({got} bytes)"),
            FrameError::TooLong(n) => write!(f, "the frame claims {n} bytes"),
            FrameError::Io(e) => write!(f, "reading a frame: {e}"),
        }
    }
}

/// Reads one frame of at most `max` payload bytes.
pub fn read_frame(r: &mut impl Read, max: usize) -> Result<Vec<u8>, FrameError> {
    let mut prefix = [0u8; LEN_BYTES];
    let got = read_full(r, &mut prefix).map_err(FrameError::Io)?;
    if got < LEN_BYTES {
        return Err(FrameError::Eof { in_prefix: true, got });
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(FrameError::TooLong(len));
    }
    let mut payload = vec![0u8; len];
    let got = read_full(r, &mut payload).map_err(FrameError::Io)?;
    if got < len {
        return Err(FrameError::Eof { in_prefix: false, got });
    }
    Ok(payload)
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Sends one data byte (0) with `fds` as one `SCM_RIGHTS` message (none: a plain byte).
/// On Linux a closed peer is `EPIPE`, never a SIGPIPE.
pub fn send_fds(sock: RawFd, fds: &[RawFd]) -> nix::Result<()> {
    let data = [0u8];
    let iov = [IoSlice::new(&data)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    sendmsg::<()>(sock, &iov, cmsgs, send_flags(), None).map(drop)
}

#[cfg(target_os = "linux")]
fn send_flags() -> MsgFlags {
    MsgFlags::MSG_NOSIGNAL
}
#[cfg(not(target_os = "linux"))]
fn send_flags() -> MsgFlags {
    MsgFlags::empty()
}

/// What one `recvmsg` brought.
pub struct Received {
    /// Data bytes read (0 at end of stream).
    pub bytes: usize,
    /// Control messages that arrived.
    pub cmsgs: usize,
    /// Every descriptor that arrived, owned, close-on-exec where the platform does it
    /// atomically (Linux).
    pub fds: Vec<OwnedFd>,
}

/// One `recvmsg` into `data` with room for `room` descriptors; retries `EINTR`.
pub fn recv_fds(sock: RawFd, data: &mut [u8], room: usize) -> nix::Result<Received> {
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE((room * std::mem::size_of::<RawFd>()) as u32) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = [IoSliceMut::new(data)];
    loop {
        match recvmsg::<()>(sock, &mut iov, Some(&mut control), recv_flags()) {
            Ok(msg) => {
                let mut fds = vec![];
                let mut cmsgs = 0;
                for c in msg.cmsgs()? {
                    cmsgs += 1;
                    if let ControlMessageOwned::ScmRights(list) = c {
                        // SAFETY: the kernel just installed these descriptors for us.
                        fds.extend(list.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
                    }
                }
                return Ok(Received { bytes: msg.bytes, cmsgs, fds });
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(target_os = "linux")]
fn recv_flags() -> MsgFlags {
    MsgFlags::MSG_CMSG_CLOEXEC
}
#[cfg(not(target_os = "linux"))]
fn recv_flags() -> MsgFlags {
    MsgFlags::empty()
}

/// A listening Unix stream socket at `path`, non-blocking (see [`accept_within`]).
pub fn listen(path: &Path) -> Result<UnixListener, String> {
    let listener = UnixListener::bind(path).map_err(|e| format!("binding {}: {e}", path.display()))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(listener)
}

/// Accepts one connection within `timeout`; the stream is blocking.
pub fn accept_within(listener: &UnixListener, timeout: Duration) -> Result<UnixStream, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(e) => return Err(format!("no connection within {timeout:?}: {e}")),
        }
    }
}
