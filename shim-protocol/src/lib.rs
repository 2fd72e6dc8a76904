//! What `nono-shim` and the reference's mediation server agree on, in one place both use:
//!
//! * [`vars`]: the session variables the supervisor hands the agent, and through it every
//!   shim and mediated command;
//! * [`ShimRequest`] and [`ShimResponse`]: one mediated exchange over the mediation socket
//!   (framing and fd passing are in `nono_reference::mediation::wire`);
//! * [`AuditDatagram`]: what an audited shim sends to the audit socket when it finishes.
//!
//! The crate has no dependency but `serde`, so the shim stays small and quick to start.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The names of the session variables (mediation-spec, seed pull request).
pub mod vars {
    /// The mediation server's stream socket.
    pub const MEDIATION_SOCKET: &str = "NONO_MEDIATION_SOCKET";
    /// The session token every request must carry.
    pub const SESSION_TOKEN: &str = "NONO_SESSION_TOKEN";
    /// The directory of shims, first on the agent's `PATH`.
    pub const SHIM_DIR: &str = "NONO_SHIM_DIR";
    /// The mediated command names, joined with `,`; any other shim only audits.
    pub const MEDIATED_COMMANDS: &str = "NONO_MEDIATED_COMMANDS";
    /// The audit server's datagram socket.
    pub const AUDIT_SOCKET: &str = "NONO_AUDIT_SOCKET";
    /// The directory recording each audited command's real binary.
    pub const SHIM_SOURCES_DIR: &str = "NONO_SHIM_SOURCES_DIR";
    /// The context token the server gives a command it started, so that the command's own
    /// mediated calls are known to come from it.
    pub const SANDBOX_CONTEXT: &str = "NONO_SANDBOX_CONTEXT";

    /// Every session variable: none of an outer session's may leak into a new one.
    pub const ALL: &[&str] =
        &[MEDIATION_SOCKET, SESSION_TOKEN, SHIM_DIR, MEDIATED_COMMANDS, AUDIT_SOCKET, SHIM_SOURCES_DIR, SANDBOX_CONTEXT];
}

/// Largest request frame: 1 MiB (the agent's whole environment travels in it).
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

/// One audited command, as its shim reports it; the server adds the session's fields and
/// scrubs the arguments before the line is written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditDatagram {
    /// The command's name.
    pub command: String,
    /// Its arguments, as the caller wrote them.
    pub args: Vec<String>,
    /// Unix seconds when the command finished.
    pub ts: u64,
    /// The command's exit code.
    pub exit_code: i32,
    /// The shim's pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_pid: Option<u32>,
}
