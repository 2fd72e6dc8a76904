//! Supervisor IPC: the socket between a sandboxed program and its unsandboxed supervisor.
//!
//! The socket is the trust boundary of a supervised run. Everything that crosses it from
//! the child is hostile until checked, so every piece here fails closed and never trusts a
//! size, a count or a path the peer claims.
//!
//! One module per concept:
//!
//! * [`frame`]: a message is a 4-byte big-endian length and then that many bytes of JSON,
//!   at most [`frame::MAX_PAYLOAD`] (64 KiB) in both directions. An oversized length is
//!   refused before a byte of payload is read or allocated.
//! * [`message`]: the JSON messages (nono's shapes, serde externally tagged):
//!   `{"Request":{request_id, path, access, reason, child_pid, session_id}}` from the child,
//!   `{"Decision":{request_id, decision}}` from the supervisor, and the typed parsers that
//!   tell "not JSON" from "not a message of this direction".
//! * [`socket`]: a connected pair (made before fork), and a listener bound with owner-only
//!   permissions from the moment the file exists, refusing peers of another uid, and
//!   removing its file when dropped.
//! * [`peer`]: the peer's credentials (`SO_PEERCRED` on Linux; `LOCAL_PEERPID` and
//!   `getpeereid` on macOS).
//! * [`fdpass`]: several fds in one `SCM_RIGHTS` message with one dummy data byte; the
//!   receiver checks the count and control-data truncation, closes whatever arrived when the
//!   message is wrong, and marks what it keeps close-on-exec.
//! * [`request`]: the capability-request flow. The child asks for a path; the supervisor
//!   decides (a non-interactive [`request::RequestPolicy`] from the flags, and a prompt on
//!   the terminal when one is attached) and, on a grant, opens the path itself and passes
//!   the fd *before* the `Granted` decision frame.
//! * [`client`]: the program's side of that flow: send a request, receive the decision
//!   and the fd.
//!
//! # Why fds, not tokens
//!
//! An opened fd keeps working whatever the sandbox says about the path, and it survives
//! `execve` when the program clears its close-on-exec flag. macOS Seatbelt extension
//! tokens do not survive `execve`, which nono's fork, sandbox, exec model always does;
//! fd passing works the same on both platforms.
//!
//! # The socket in a sandboxed program
//!
//! `nono-ref run` with any `--request-*` flag creates a connected pair before fork. The
//! program inherits one end (not close-on-exec, so it survives the exec into the program),
//! and its number is in the environment variable [`SUPERVISOR_FD_ENV`] (`NONO_SUPERVISOR_FD`).
//! Upstream nono names a *path* socket `NONO_SUPERVISOR_PATH` for another purpose (opening
//! URLs); it has no name for an inherited end, so the reference chose this one. A program
//! talks to it like this:
//!
//! ```text
//! child → supervisor   [len][{"Request":{"request_id":"r1","path":"/abs/file","access":"Read",
//!                                        "reason":"why","child_pid":42,"session_id":"s"}}]
//! supervisor → child   (granted only) one byte 0x00 carrying the fd in SCM_RIGHTS
//! supervisor → child   [len][{"Decision":{"request_id":"r1","decision":"Granted"}}]
//!                   or [len][{"Decision":{"request_id":"r1","decision":{"Denied":{"reason":"..."}}}}]
//! ```
//!
//! The child reads the first byte of each answer with `recvmsg` and a control buffer:
//! control data present means an fd and then a frame; absent means the byte was the first
//! byte of the frame's length. [`client::Client`] does this.

pub mod client;
pub mod error;
pub mod fdpass;
pub mod frame;
pub mod message;
pub mod peer;
pub mod request;
pub mod socket;

pub use error::{Error, Result};

/// Environment variable naming the inherited supervisor socket's fd number in a
/// sandboxed program (set by `nono-ref run` when a request policy is given).
pub const SUPERVISOR_FD_ENV: &str = "NONO_SUPERVISOR_FD";
