//! Outcome classes. Tests compare classes, never "non-zero exit": an exit 127 from a
//! missing binary is not a denial, and a denial must carry the platform's errno.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// What the probe reported for one operation: the probe's JSON line, one type for both
/// ends. The probe (and `nono-macos-helper`) build it and print [`ProbeResult::to_json`];
/// the cases parse it back ([`crate::runner::RunOutput::probe`]).
///
/// ```text
/// {"op":"read","ok":false,"errno":"EACCES","errno_num":13,"step":"open"}
/// ```
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ProbeResult {
    /// The operation name.
    pub op: String,
    /// True when the operation succeeded.
    pub ok: bool,
    /// The errno name (`EACCES`) when it failed with one.
    pub errno: Option<String>,
    /// The errno number, for errnos without a portable name.
    #[serde(default)]
    pub errno_num: Option<i32>,
    /// Operation-specific fields (`content`, `entries`, `value`, `exit_code`, `step`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Building results (the probe's side).
impl ProbeResult {
    /// `op` succeeded.
    pub fn ok(op: &str) -> ProbeResult {
        ProbeResult { op: op.to_string(), ok: true, errno: None, errno_num: None, extra: Map::new() }
    }

    /// `op` failed with `errno`.
    pub fn fail(op: &str, errno: i32) -> ProbeResult {
        ProbeResult::ok(op).failed_with(Some(errno))
    }

    /// `op` failed at a named step of a multi-syscall operation.
    pub fn fail_at(op: &str, step: &str, errno: i32) -> ProbeResult {
        ProbeResult::fail(op, errno).with("step", step)
    }

    /// Ok or errno, for single-syscall operations.
    pub fn from_result(op: &str, res: Result<(), i32>) -> ProbeResult {
        match res {
            Ok(()) => ProbeResult::ok(op),
            Err(e) => ProbeResult::fail(op, e),
        }
    }

    /// Marks the result failed, with `errno` when there is one.
    pub fn failed_with(mut self, errno: Option<i32>) -> ProbeResult {
        self.ok = false;
        self.errno = errno.map(|n| format!("{:?}", nix::errno::Errno::from_raw(n)));
        self.errno_num = errno;
        self
    }

    /// Adds an operation-specific field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ProbeResult {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The JSON line (without the newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a probe result is plain JSON")
    }
}

/// The class an outcome falls into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The operation succeeded.
    Allowed,
    /// The sandbox refused it (EACCES or EPERM: Landlock uses EACCES for files and TCP,
    /// EPERM for scopes; Seatbelt uses EPERM).
    Denied,
    /// A link or rename across directories refused with EXDEV (Landlock's refer check).
    CrossDevice,
    /// The object does not exist (ENOENT): not a denial.
    NotFound,
    /// Anything else.
    Other,
}

impl ProbeResult {
    /// The outcome class of this result.
    pub fn class(&self) -> Class {
        if self.ok {
            return Class::Allowed;
        }
        match self.errno.as_deref() {
            Some("EACCES") | Some("EPERM") => Class::Denied,
            Some("EXDEV") => Class::CrossDevice,
            Some("ENOENT") => Class::NotFound,
            _ => Class::Other,
        }
    }

    /// A string field of `extra` (e.g. `content`).
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }

    /// An integer field of `extra` (e.g. `value`, `exit_code`).
    pub fn int_field(&self, key: &str) -> Option<i64> {
        self.extra.get(key).and_then(Value::as_i64)
    }
}

impl fmt::Display for ProbeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.ok, &self.errno) {
            (true, _) => write!(f, "{}: ok", self.op),
            (false, Some(e)) => write!(f, "{}: failed with {e}", self.op),
            (false, None) => write!(f, "{}: failed ({:?})", self.op, self.extra),
        }
    }
}
