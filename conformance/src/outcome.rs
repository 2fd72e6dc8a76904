//! Outcome classes. Tests compare classes, never "non-zero exit": an exit 127 from a
//! missing binary is not a denial, and a denial must carry the platform's errno.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// What the probe reported for one operation.
#[derive(Clone, Debug, Deserialize)]
pub struct ProbeResult {
    /// The operation name.
    pub op: String,
    /// True when the operation succeeded.
    pub ok: bool,
    /// The errno name (`EACCES`) when it failed.
    pub errno: Option<String>,
    /// Operation-specific fields (`content`, `entries`, `value`, `exit_code`, `step`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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
