//! Typed errors for everything that can go wrong before the sandboxed program starts.
//!
//! Each variant names what was wrong and where (the flag, the path), because a user of a
//! security tool must be able to tell a refused policy from a broken one.

use std::fmt;
use std::path::PathBuf;

/// Errors raised while building or applying a sandbox.
#[derive(Debug)]
pub enum Error {
    /// A grant names a path that does not exist. Nothing is granted in its place.
    PathNotFound { flag: String, path: PathBuf },
    /// A directory grant (`--allow`, `--read`, `--write`) names something that is not a directory.
    ExpectedDirectory { flag: String, path: PathBuf },
    /// A file grant (`--allow-file`, ...) names a directory.
    ExpectedFile { flag: String, path: PathBuf },
    /// A path could not be resolved for a reason other than its absence.
    Canonicalize { flag: String, path: PathBuf, source: std::io::Error },
    /// The kernel has no usable Landlock: we refuse rather than run unsandboxed.
    LandlockUnavailable(String),
    /// A requested restriction needs a newer Landlock ABI than the kernel offers.
    FeatureUnsupported { feature: String, needed_abi: u8, detail: String },
    /// The Landlock ruleset could not be built.
    Ruleset(String),
    /// This platform has no sandbox backend in the reference.
    UnsupportedPlatform(&'static str),
    /// The policy asks for something the backend cannot enforce as written.
    PolicyConflict(String),
    /// A profile could not be loaded; each error names its file and JSON path.
    Profile(Vec<crate::profile::ProfileError>),
    /// The program to run could not be found on `PATH`.
    ProgramNotFound(String),
    /// A grant overlaps a protected path (see [`crate::protected`]); the message names both.
    ProtectedPath(String),
    /// Any other operating-system error, with what we were doing.
    Io { context: String, source: std::io::Error },
    /// The supervisor socket could not be set up.
    Ipc(crate::ipc::Error),
    /// A Seatbelt profile cannot express the capability set.
    SeatbeltProfile(crate::seatbelt::SbplError),
    /// This process already runs inside a Seatbelt sandbox, and Seatbelt cannot nest.
    NestedSandbox,
    /// An option only the Seatbelt backend can enforce was given to another backend.
    MacosOnly { flag: &'static str },
    /// A learned seed could not be spliced into a profile.
    Splice(crate::seatbelt::learn::SpliceError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PathNotFound { flag, path } => {
                write!(f, "{flag} {}: path does not exist", path.display())
            }
            Error::ExpectedDirectory { flag, path } => write!(
                f,
                "{flag} {}: is not a directory (use {}-file for a single file)",
                path.display(),
                file_flag_for(flag)
            ),
            Error::ExpectedFile { flag, path } => {
                write!(f, "{flag} {}: is a directory, not a file", path.display())
            }
            Error::Canonicalize { flag, path, source } => {
                write!(f, "{flag} {}: cannot resolve path: {source}", path.display())
            }
            Error::LandlockUnavailable(why) => write!(
                f,
                "Landlock is not available ({why}); refusing to run without a sandbox"
            ),
            Error::FeatureUnsupported { feature, needed_abi, detail } => write!(
                f,
                "{feature} needs Landlock ABI {needed_abi} or newer, which this kernel does not offer ({detail}); refusing to run with a weaker sandbox"
            ),
            Error::Ruleset(why) => write!(f, "cannot build the Landlock ruleset: {why}"),
            Error::UnsupportedPlatform(p) => {
                write!(f, "no sandbox backend for {p} in this build; refusing to run unsandboxed")
            }
            Error::PolicyConflict(why) => write!(f, "{why}"),
            Error::Profile(errors) => {
                let lines: Vec<String> = errors.iter().map(|e| format!("invalid profile: {e}")).collect();
                write!(f, "{}", lines.join("\n"))
            }
            Error::ProgramNotFound(p) => write!(f, "{p}: command not found"),
            Error::ProtectedPath(why) => write!(f, "{why}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Ipc(e) => write!(f, "supervisor socket: {e}"),
            Error::SeatbeltProfile(e) => write!(f, "cannot generate the Seatbelt profile: {e}"),
            Error::NestedSandbox => write!(
                f,
                "this process already runs inside a Seatbelt sandbox, and Seatbelt sandboxes cannot be nested; run nono-ref from an unsandboxed shell"
            ),
            Error::MacosOnly { flag } => write!(
                f,
                "{flag} needs the Seatbelt backend (macOS); this backend cannot enforce it, so the program does not run"
            ),
            Error::Splice(e) => write!(f, "cannot splice the seed: {e}"),
        }
    }
}

/// `--allow` suggests `--allow-file`, `--read` suggests `--read-file`, and so on.
fn file_flag_for(flag: &str) -> &str {
    match flag {
        "--read" | "-r" => "--read",
        "--write" | "-w" => "--write",
        _ => "--allow",
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Canonicalize { source, .. } | Error::Io { source, .. } => Some(source),
            Error::Ipc(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::ipc::Error> for Error {
    fn from(e: crate::ipc::Error) -> Self {
        Error::Ipc(e)
    }
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;
