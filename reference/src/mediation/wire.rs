//! The mediation wire protocol between `nono-shim` and the server, one exchange per
//! connection:
//!
//! 1. shim → server: a frame (4-byte big-endian length, JSON [`ShimRequest`]);
//! 2. shim → server: one `SCM_RIGHTS` message with the shim's fds 0, 1 and 2;
//! 3. server → shim: a frame with the JSON [`ShimResponse`].
//!
//! Requests are at most [`MAX_REQUEST`] bytes (the agent's whole environment travels in
//! them); a longer claimed length ends the connection before anything is allocated.
//! Framing and fd passing are the supervisor IPC's ([`crate::ipc`]).
//!
//! The message types, the session variable names ([`vars`]) and the audited shim's
//! [`AuditDatagram`] live in the dependency-free `nono-shim-protocol` crate, which the shim
//! shares; they are re-exported here.

use crate::ipc::{fdpass, frame};
pub use nono_shim_protocol::{vars, AuditDatagram, ShimRequest, ShimResponse, MAX_REQUEST, MAX_RESPONSE};
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Why an exchange failed, from the shim's side.
#[derive(Debug)]
pub enum ClientError {
    Connect(std::io::Error),
    Send(crate::ipc::Error),
    SendFds(crate::ipc::Error),
    NoAnswer(crate::ipc::Error),
    BadAnswer(serde_json::Error),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "cannot connect to the mediation socket: {e}"),
            ClientError::Send(e) => write!(f, "cannot send the request: {e}"),
            ClientError::SendFds(e) => write!(f, "cannot send stdio fds: {e}"),
            ClientError::NoAnswer(e) => write!(f, "no answer from the mediation server: {e}"),
            ClientError::BadAnswer(e) => write!(f, "unreadable answer from the mediation server: {e}"),
        }
    }
}

/// The shim's side of one exchange.
pub fn exchange(socket: &Path, request: &ShimRequest, stdio: [BorrowedFd<'_>; 3]) -> Result<ShimResponse, ClientError> {
    let mut stream = UnixStream::connect(socket).map_err(ClientError::Connect)?;
    let payload = serde_json::to_vec(request).expect("a request always serialises");
    frame::write_frame_limited(&mut stream, &payload, MAX_REQUEST).map_err(ClientError::Send)?;
    fdpass::send_fds(&stream, &stdio).map_err(ClientError::SendFds)?;
    let answer = frame::read_frame_limited(&mut stream, MAX_RESPONSE).map_err(ClientError::NoAnswer)?;
    serde_json::from_slice(&answer).map_err(ClientError::BadAnswer)
}
