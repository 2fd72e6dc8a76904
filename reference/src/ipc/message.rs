//! The JSON messages on the supervisor socket, in nono's shapes (serde externally tagged).
//!
//! Child to supervisor ([`ToSupervisor`]):
//!
//! ```json
//! {"Request":{"request_id":"r1","path":"/abs/file","access":"Read","reason":null,"child_pid":42,"session_id":"s1"}}
//! {"OpenUrl":{"request_id":"r2","url":"https://example.org","child_pid":42,"session_id":"s1"}}
//! ```
//!
//! Supervisor to child ([`ToChild`]):
//!
//! ```json
//! {"Decision":{"request_id":"r1","decision":"Granted"}}
//! {"Decision":{"request_id":"r1","decision":{"Denied":{"reason":"..."}}}}
//! {"Decision":{"request_id":"r1","decision":"Timeout"}}
//! {"UrlOpened":{"request_id":"r2","success":false,"error":"..."}}
//! ```
//!
//! Unknown fields are ignored, as in nono. A payload is classified before it is typed, so
//! that a peer gets a precise error: not JSON at all, JSON naming a message this direction
//! does not carry, or a known message with wrong fields.

use super::error::{Error, Result};
use super::frame;
use crate::capability::AccessMode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A request for access to one path, from the sandboxed child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityRequest {
    /// Chosen by the child; unique within a session (a repeat is denied as a replay).
    pub request_id: String,
    /// The path wanted. Must be absolute: the supervisor's working directory is not the
    /// child's.
    pub path: PathBuf,
    /// `Read`, `Write` or `ReadWrite`: how the supervisor opens the file.
    pub access: AccessMode,
    /// Why, in the child's words (shown in a prompt; never trusted).
    pub reason: Option<String>,
    /// The child's own pid, as it claims (logged, never trusted).
    pub child_pid: u32,
    /// The child's session, as it claims (logged, never trusted).
    pub session_id: String,
}

/// A request to open a URL on the host (nono 0.66). The reference answers it with a
/// failure: it opens no URLs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlOpenRequest {
    /// Chosen by the child.
    pub request_id: String,
    /// The URL.
    pub url: String,
    /// The child's pid, as it claims.
    pub child_pid: u32,
    /// The child's session, as it claims.
    pub session_id: String,
}

/// A message from the child to the supervisor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToSupervisor {
    /// Access to a path.
    Request(CapabilityRequest),
    /// Open a URL on the host.
    OpenUrl(UrlOpenRequest),
}

/// The supervisor's answer to a capability request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalDecision {
    /// Granted: the fd was sent just before this message.
    Granted,
    /// Denied, with the reason. No fd was sent.
    Denied {
        /// Why, for the program and its user.
        reason: String,
    },
    /// Nobody decided in time. No fd was sent.
    Timeout,
}

impl ApprovalDecision {
    /// True only for [`ApprovalDecision::Granted`].
    pub fn is_granted(&self) -> bool {
        matches!(self, ApprovalDecision::Granted)
    }

    /// A denial with `reason`.
    pub fn denied(reason: impl Into<String>) -> Self {
        ApprovalDecision::Denied {
            reason: reason.into(),
        }
    }
}

/// A message from the supervisor to the child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToChild {
    /// The answer to a [`CapabilityRequest`].
    Decision {
        /// The request answered.
        request_id: String,
        /// What was decided.
        decision: ApprovalDecision,
    },
    /// The answer to a [`UrlOpenRequest`].
    UrlOpened {
        /// The request answered.
        request_id: String,
        /// Whether the URL was opened.
        success: bool,
        /// Why not, when it was not.
        error: Option<String>,
    },
}

impl ToSupervisor {
    /// The tag of this message (`Request`, `OpenUrl`).
    pub fn type_name(&self) -> &'static str {
        match self {
            ToSupervisor::Request(_) => "Request",
            ToSupervisor::OpenUrl(_) => "OpenUrl",
        }
    }
}

impl ToChild {
    /// The tag of this message (`Decision`, `UrlOpened`).
    pub fn type_name(&self) -> &'static str {
        match self {
            ToChild::Decision { .. } => "Decision",
            ToChild::UrlOpened { .. } => "UrlOpened",
        }
    }
}

/// A direction of the socket, with the message tags it carries.
trait Direction: DeserializeOwned {
    const TAGS: &'static [&'static str];
    const EXPECTED: &'static str;
}

impl Direction for ToSupervisor {
    const TAGS: &'static [&'static str] = &["Request", "OpenUrl"];
    const EXPECTED: &'static str = "Request or OpenUrl";
}

impl Direction for ToChild {
    const TAGS: &'static [&'static str] = &["Decision", "UrlOpened"];
    const EXPECTED: &'static str = "Decision or UrlOpened";
}

fn parse<T: Direction>(payload: &[u8]) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| Error::NotJson(e.to_string()))?;
    let tag = match value.as_object() {
        Some(obj) if obj.len() == 1 => obj.keys().next().cloned().unwrap_or_default(),
        Some(obj) => {
            return Err(Error::InvalidMessage(format!(
                "a message is an object with exactly one key (its type), this one has {}",
                obj.len()
            )))
        }
        None => {
            return Err(Error::InvalidMessage(format!(
                "a message is an object with one key (its type), not {}",
                json_kind(&value)
            )))
        }
    };
    if !T::TAGS.contains(&tag.as_str()) {
        return Err(Error::WrongMessageType {
            found: tag,
            expected: T::EXPECTED,
        });
    }
    // Typed from the original bytes, not from `value`, so that duplicate fields are caught.
    serde_json::from_slice(payload).map_err(|e| Error::InvalidMessage(format!("{tag}: {e}")))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Parses a payload sent to the supervisor.
pub fn parse_to_supervisor(payload: &[u8]) -> Result<ToSupervisor> {
    parse(payload)
}

/// Parses a payload sent to the child.
pub fn parse_to_child(payload: &[u8]) -> Result<ToChild> {
    parse(payload)
}

/// Decodes the first frame of `bytes` and parses it as a message to the supervisor.
pub fn decode_to_supervisor(bytes: &[u8]) -> Result<ToSupervisor> {
    parse(frame::decode(bytes)?.0)
}

/// Decodes the first frame of `bytes` and parses it as a message to the child.
pub fn decode_to_child(bytes: &[u8]) -> Result<ToChild> {
    parse(frame::decode(bytes)?.0)
}

/// The JSON payload of a message (never fails for these types).
pub fn to_payload<T: Serialize>(msg: &T) -> Vec<u8> {
    serde_json::to_vec(msg).expect("IPC messages always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CapabilityRequest {
        CapabilityRequest {
            request_id: "r1".into(),
            path: "/etc/hostname".into(),
            access: AccessMode::Read,
            reason: None,
            child_pid: 42,
            session_id: "s1".into(),
        }
    }

    #[test]
    fn shapes_are_nonos() {
        let json = String::from_utf8(to_payload(&ToSupervisor::Request(request()))).unwrap();
        assert_eq!(
            json,
            r#"{"Request":{"request_id":"r1","path":"/etc/hostname","access":"Read","reason":null,"child_pid":42,"session_id":"s1"}}"#
        );
        let granted = ToChild::Decision {
            request_id: "r1".into(),
            decision: ApprovalDecision::Granted,
        };
        assert_eq!(
            to_payload(&granted),
            br#"{"Decision":{"request_id":"r1","decision":"Granted"}}"#
        );
        let denied = ToChild::Decision {
            request_id: "r1".into(),
            decision: ApprovalDecision::denied("no"),
        };
        assert_eq!(
            to_payload(&denied),
            br#"{"Decision":{"request_id":"r1","decision":{"Denied":{"reason":"no"}}}}"#
        );
    }

    #[test]
    fn round_trip_both_directions() {
        let msg = ToSupervisor::Request(request());
        assert_eq!(parse_to_supervisor(&to_payload(&msg)).unwrap(), msg);
        let answer = ToChild::Decision {
            request_id: "r1".into(),
            decision: ApprovalDecision::Timeout,
        };
        assert_eq!(parse_to_child(&to_payload(&answer)).unwrap(), answer);
    }

    #[test]
    fn payload_classes_are_distinct() {
        let kind = |p: &[u8]| parse_to_supervisor(p).unwrap_err().kind();
        assert_eq!(kind(b"{\"Request\":"), "not_json");
        assert_eq!(kind(b""), "not_json");
        assert_eq!(kind(b"\xff\xfe"), "not_json");
        assert_eq!(
            kind(br#"{"Decision":{"request_id":"r","decision":"Granted"}}"#),
            "wrong_message_type"
        );
        assert_eq!(
            kind(br#"{"Request":{"request_id":"r"}}"#),
            "invalid_message"
        );
        assert_eq!(kind(b"[1,2]"), "invalid_message");
        let dup = br#"{"Request":{"request_id":"a","request_id":"b","path":"/x","access":"Read","reason":null,"child_pid":1,"session_id":"s"}}"#;
        assert_eq!(kind(dup), "invalid_message");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            parse_to_supervisor(deep.as_bytes()).unwrap_err().kind(),
            "not_json"
        );
    }
}
