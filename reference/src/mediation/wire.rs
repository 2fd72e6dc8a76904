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

use crate::ipc::{fdpass, frame};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Largest request frame: 1 MiB.
pub const MAX_REQUEST: usize = 1024 * 1024;

/// Largest response frame: 64 MiB (buffered output of `approve` and failed `capture`).
pub const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// What a shim asks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShimRequest {
    /// The command name (the shim's `argv[0]` file name).
    pub command: String,
    /// `argv[1..]`.
    pub args: Vec<String>,
    /// `NONO_SESSION_TOKEN`.
    pub session_token: String,
    /// The shim's whole environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The shim's pid.
    #[serde(default)]
    pub pid: u32,
    /// The shim's working directory, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// The server's answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShimResponse {
    /// Written by the shim to its fd 1.
    pub stdout: String,
    /// Written by the shim to its fd 2.
    pub stderr: String,
    /// The shim's exit code.
    pub exit_code: i32,
}

impl ShimResponse {
    /// An answer with only a message on stderr.
    pub fn error(exit_code: i32, message: impl Into<String>) -> ShimResponse {
        ShimResponse { stdout: String::new(), stderr: message.into(), exit_code }
    }
}

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
