//! Profile errors: what was wrong, in which file, at which JSON path, and where possible at
//! which line and column.

use std::fmt;
use std::path::PathBuf;

/// The kind of a profile error. The suite's invalid-profile vectors name these classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The file could not be read.
    Io,
    /// Not JSON (comments aside): a syntax error.
    Syntax,
    /// A key the format does not define.
    UnknownKey,
    /// A value of the wrong JSON type, or out of range for its type (a port of 70000).
    Type,
    /// A required key is absent (a mediation command without `name`).
    MissingKey,
    /// A value of the right type that the format forbids (an env pattern with `*` inside,
    /// a command that allows itself, `PATH` in `set_vars`).
    InvalidValue,
    /// A profile name that is neither a valid name nor a path.
    InvalidName,
    /// A name that no built-in or user profile has.
    NotFound,
    /// `extends` leads back to a profile already on the chain.
    Cycle,
    /// `extends` nests deeper than the limit.
    TooDeep,
    /// Variable expansion met a relative `HOME`, `TMPDIR` or `XDG_*`, or an unset `HOME`.
    Expansion,
}

impl ErrorClass {
    /// The class as written in vectors and in `profile validate --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Io => "io",
            ErrorClass::Syntax => "syntax",
            ErrorClass::UnknownKey => "unknown-key",
            ErrorClass::Type => "type",
            ErrorClass::MissingKey => "missing-key",
            ErrorClass::InvalidValue => "invalid-value",
            ErrorClass::InvalidName => "invalid-name",
            ErrorClass::NotFound => "not-found",
            ErrorClass::Cycle => "cycle",
            ErrorClass::TooDeep => "too-deep",
            ErrorClass::Expansion => "expansion",
        }
    }
}

/// One profile error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    /// What kind of problem.
    pub class: ErrorClass,
    /// The file it is in (or the built-in profile's name, as `builtin:NAME`).
    pub file: PathBuf,
    /// The JSON path of the offending value: `filesystem.read[2]`, `mediation.commands[0].name`.
    /// Empty for the document as a whole.
    pub path: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// The explanation.
    pub message: String,
}

impl ProfileError {
    /// An error without a position yet.
    pub fn new(class: ErrorClass, file: impl Into<PathBuf>, path: impl Into<String>, message: impl Into<String>) -> Self {
        ProfileError { class, file: file.into(), path: path.into(), position: None, message: message.into() }
    }

    /// The error as JSON, for `profile validate --json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.as_str(),
            "file": self.file.display().to_string(),
            "path": self.path,
            "line": self.position.map(|p| p.0),
            "column": self.position.map(|p| p.1),
            "message": self.message,
        })
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": at {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ProfileError {}
