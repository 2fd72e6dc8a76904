//! The capability-request flow, the sandboxed program's side: it sends requests on the
//! socket inherited from the supervisor ([`super::request`] answers them) and receives
//! decisions and fds.

use super::error::{Error, Result};
use super::fdpass;
use super::frame;
use super::message::{self, ApprovalDecision, CapabilityRequest, ToChild, ToSupervisor};
use super::SUPERVISOR_FD_ENV;
use crate::capability::AccessMode;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The child's side: sends requests, receives decisions and fds.
pub struct Client {
    pub(super) stream: UnixStream,
    session_id: String,
    next_id: u64,
}

impl Client {
    /// A client on a connected stream.
    pub fn new(stream: UnixStream) -> Client {
        Client {
            stream,
            session_id: format!("pid-{}", std::process::id()),
            next_id: 0,
        }
    }

    /// The client on the socket inherited from `nono-ref run` ([`SUPERVISOR_FD_ENV`]).
    pub fn from_env() -> Result<Client> {
        let value = std::env::var(SUPERVISOR_FD_ENV).map_err(|_| {
            Error::io(
                format!("{SUPERVISOR_FD_ENV} is not set"),
                std::io::ErrorKind::NotFound,
            )
        })?;
        Client::from_fd_number(&value)
    }

    /// The client on the fd numbered `value` (the text of [`SUPERVISOR_FD_ENV`]). Checks that
    /// the fd is an open socket before taking ownership of it.
    pub fn from_fd_number(value: &str) -> Result<Client> {
        let bad = |why: String| {
            Error::io(
                format!("{SUPERVISOR_FD_ENV}: {why}"),
                std::io::ErrorKind::InvalidInput,
            )
        };
        let fd: i32 = value
            .parse()
            .map_err(|_| bad(format!("not an fd number: {value:?}")))?;
        // SAFETY: fstat only reads the fd table; an invalid number is an error, not UB.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if fd < 0
            || unsafe { libc::fstat(fd, &mut st) } != 0
            || st.st_mode & libc::S_IFMT != libc::S_IFSOCK
        {
            return Err(bad(format!("fd {fd} is not an open socket")));
        }
        // SAFETY: the caller hands this process the fd; it is open and a socket.
        Ok(Client::new(UnixStream::from(unsafe {
            OwnedFd::from_raw_fd(fd)
        })))
    }

    /// Asks for `access` to `path`; returns the decision and, when granted, the fd.
    pub fn request(
        &mut self,
        path: &Path,
        access: AccessMode,
        reason: Option<&str>,
    ) -> Result<(ApprovalDecision, Option<OwnedFd>)> {
        self.next_id += 1;
        let request = CapabilityRequest {
            request_id: format!("{}-{}", self.session_id, self.next_id),
            path: PathBuf::from(path),
            access,
            reason: reason.map(str::to_string),
            child_pid: std::process::id(),
            session_id: self.session_id.clone(),
        };
        self.send(&ToSupervisor::Request(request.clone()))?;
        let (answer, fd) = self.receive()?;
        match answer {
            ToChild::Decision {
                request_id,
                decision,
            } if request_id == request.request_id => {
                // A fd with anything but a grant is dropped (closed) here.
                let fd = if decision.is_granted() { fd } else { None };
                if decision.is_granted() && fd.is_none() {
                    return Err(Error::MissingFds { expected: 1 });
                }
                Ok((decision, fd))
            }
            other => Err(Error::InvalidMessage(format!(
                "answer to request {:?} was {:?}",
                request.request_id, other
            ))),
        }
    }

    /// Sends one message.
    pub fn send(&mut self, msg: &ToSupervisor) -> Result<()> {
        frame::write_frame(&mut self.stream, &message::to_payload(msg))
    }

    /// Receives one answer and the fd passed before it, if any.
    pub fn receive(&mut self) -> Result<(ToChild, Option<OwnedFd>)> {
        let first = fdpass::recv_message(&self.stream, 1)?;
        if first.bytes == 0 {
            return Err(Error::Closed);
        }
        if first.truncated || first.fds.len() > 1 {
            return Err(Error::ControlTruncated {
                arrived: first.fds.len(),
            });
        }
        let mut fds = first.fds;
        let payload = if let Some(fd) = fds.pop() {
            (frame::read_frame(&mut self.stream)?, Some(fd))
        } else {
            // No control data: the byte was the first byte of the frame's length.
            let first_byte = [first.byte];
            let mut stream = (&first_byte[..]).chain(&mut self.stream);
            (frame::read_frame(&mut stream)?, None)
        };
        Ok((message::parse_to_child(&payload.0)?, payload.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_takes_only_an_open_socket() {
        use std::os::fd::{AsRawFd, IntoRawFd};
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let file = std::fs::File::open(dir.path().join("f")).unwrap();
        for bad in ["", "abc", "-1", "99999", &file.as_raw_fd().to_string()] {
            assert!(Client::from_fd_number(bad).is_err(), "{bad:?} was accepted");
        }
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(Client::from_fd_number(&a.into_raw_fd().to_string()).is_ok());
    }
}
