//! Typed errors of the supervisor socket.
//!
//! Each malformed input has its own variant and a stable [`Error::kind`] name, because the
//! conformance vectors (`fixtures/ipc/`) compare outcome classes, and because a supervisor
//! must tell a peer that hung up from one that lied about a length.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong on the supervisor socket.
#[derive(Debug)]
pub enum Error {
    /// The stream ended cleanly at a frame boundary (the peer hung up).
    Closed,
    /// The stream ended inside the 4-byte length prefix.
    TruncatedLength {
        /// Bytes of the prefix that arrived (1 to 3).
        got: usize,
    },
    /// The length prefix claims more than the limit; nothing of the payload was read.
    TooLarge {
        /// The claimed payload length.
        len: u64,
        /// The limit in force.
        max: usize,
    },
    /// The stream ended inside the payload.
    TruncatedPayload {
        /// The claimed payload length.
        len: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// The payload is not JSON (syntax error, invalid UTF-8, empty, trailing bytes).
    NotJson(String),
    /// The payload is JSON naming a message that this direction does not carry (a
    /// `Decision` sent to the supervisor, an unknown tag).
    WrongMessageType {
        /// The tag found.
        found: String,
        /// The tags this direction accepts.
        expected: &'static str,
    },
    /// The payload names a known message but its fields are wrong (missing, mistyped,
    /// duplicated, an unknown access mode), or it is JSON of the wrong shape altogether.
    InvalidMessage(String),
    /// The control data was cut short (`MSG_CTRUNC`): more fds were sent than the receiver
    /// had room for. Every fd that did arrive was closed.
    ControlTruncated {
        /// How many fds arrived (and were closed).
        arrived: usize,
    },
    /// A message carried fds, but not as many as expected. Every one was closed.
    WrongFdCount {
        /// What the receiver expected.
        expected: usize,
        /// What arrived (and was closed).
        got: usize,
    },
    /// A message that should carry fds carried none.
    MissingFds {
        /// What the receiver expected.
        expected: usize,
    },
    /// A peer connected with another uid than ours and was refused.
    PeerRefused {
        /// The peer's uid.
        uid: u32,
        /// Ours.
        expected: u32,
        /// The peer's pid, when the platform reports it.
        pid: Option<i32>,
    },
    /// A listener's socket file ended up with permissions wider than owner-only.
    SocketMode {
        /// The socket file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A socket path is too long for `sockaddr_un` (`sun_path` holds 104 bytes on macOS,
    /// 108 on Linux, the terminating NUL included). Reported before any system call, since
    /// the kernel's answer (`EINVAL`, or a silently truncated name) names neither.
    SocketPathTooLong {
        /// The socket path.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
        /// The most this platform allows (without the NUL).
        max: usize,
    },
    /// An operating-system error, with what we were doing.
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl Error {
    /// A stable short name for the error's class (used by the conformance vectors).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Closed => "closed",
            Error::TruncatedLength { .. } => "truncated_length",
            Error::TooLarge { .. } => "too_large",
            Error::TruncatedPayload { .. } => "truncated_payload",
            Error::NotJson(_) => "not_json",
            Error::WrongMessageType { .. } => "wrong_message_type",
            Error::InvalidMessage(_) => "invalid_message",
            Error::ControlTruncated { .. } => "control_truncated",
            Error::WrongFdCount { .. } => "wrong_fd_count",
            Error::MissingFds { .. } => "missing_fds",
            Error::PeerRefused { .. } => "peer_refused",
            Error::SocketMode { .. } => "socket_mode",
            Error::SocketPathTooLong { .. } => "socket_path_too_long",
            Error::Io { .. } => "io",
        }
    }

    /// True when the byte stream is still in step after this error, so the next frame can
    /// be read: the frame itself was complete, only its content was wrong.
    pub fn keeps_framing(&self) -> bool {
        matches!(
            self,
            Error::NotJson(_) | Error::WrongMessageType { .. } | Error::InvalidMessage(_)
        )
    }

    pub(crate) fn io(context: impl Into<String>, source: impl Into<std::io::Error>) -> Error {
        Error::Io {
            context: context.into(),
            source: source.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => write!(f, "supervisor socket closed by the peer"),
            Error::TruncatedLength { got } => {
                write!(f, "frame truncated in its length prefix ({got} of 4 bytes)")
            }
            Error::TooLarge { len, max } => {
                write!(f, "frame length {len} exceeds the limit of {max} bytes; refused unread")
            }
            Error::TruncatedPayload { len, got } => {
                write!(f, "frame truncated in its payload ({got} of {len} bytes)")
            }
            Error::NotJson(why) => write!(f, "frame payload is not JSON: {why}"),
            Error::WrongMessageType { found, expected } => {
                write!(f, "unexpected message type {found:?} (expected {expected})")
            }
            Error::InvalidMessage(why) => write!(f, "invalid message: {why}"),
            Error::ControlTruncated { arrived } => write!(
                f,
                "SCM_RIGHTS control data truncated (MSG_CTRUNC); closed the {arrived} fd(s) that arrived"
            ),
            Error::WrongFdCount { expected, got } => write!(
                f,
                "expected {expected} fd(s) in one SCM_RIGHTS message, got {got}; closed them"
            ),
            Error::MissingFds { expected } => {
                write!(f, "expected {expected} fd(s) in an SCM_RIGHTS message, got none")
            }
            Error::PeerRefused { uid, expected, pid } => {
                write!(f, "refused a peer with uid {uid} (ours is {expected})")?;
                match pid {
                    Some(pid) => write!(f, ", pid {pid}"),
                    None => Ok(()),
                }
            }
            Error::SocketMode { path, mode } => write!(
                f,
                "socket {} has mode {mode:o}, wider than owner-only; removed it",
                path.display()
            ),
            Error::SocketPathTooLong { path, len, max } => write!(
                f,
                "socket path {} is {len} bytes, longer than the {max} bytes a Unix socket address holds on {}; use a shorter directory",
                path.display(),
                std::env::consts::OS
            ),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Shorthand for this module.
pub type Result<T> = std::result::Result<T, Error>;
