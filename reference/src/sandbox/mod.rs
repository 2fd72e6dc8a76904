//! Platform backends. Each exposes the same three things:
//!
//! * [`prepare`]: turn a [`CapabilitySet`] into kernel objects in the parent, where errors
//!   can still be reported cleanly (exit 1) and nothing has been forked yet;
//! * [`Prepared::restrict_self`]: enforce them in the freshly forked child, right before exec;
//! * [`detect`]: what this kernel enforces, for `--dry-run` and `conformance-info`.

use serde::Serialize;

#[cfg(target_os = "linux")]
mod landlock;
#[cfg(target_os = "linux")]
pub use self::landlock::{detect, prepare, Prepared};

/// What the running kernel can enforce.
#[derive(Clone, Debug, Serialize)]
pub struct BackendInfo {
    /// `landlock`, `seatbelt` or `none`.
    pub backend: &'static str,
    /// The Landlock ABI the kernel reports (0 when unavailable). Absent off Linux.
    pub landlock_abi: Option<u32>,
    /// Names of the enforced features, e.g. `fs.refer`, `net.tcp`, `scope.signal`.
    pub features: Vec<&'static str>,
}

#[cfg(not(target_os = "linux"))]
mod unsupported {
    use super::*;
    use crate::capability::CapabilitySet;
    use crate::error::{Error, Result};

    /// Placeholder: this build has no backend for the platform, so nothing can be prepared.
    pub struct Prepared;

    /// Refuses: the reference never runs a program unsandboxed.
    pub fn prepare(_caps: &CapabilitySet) -> Result<Prepared> {
        Err(Error::UnsupportedPlatform(std::env::consts::OS))
    }

    impl Prepared {
        /// Unreachable: [`prepare`] never returns a value on this platform.
        pub fn restrict_self(self) -> std::result::Result<(), String> {
            Err("no sandbox backend".into())
        }
    }

    /// Reports that no backend is available.
    pub fn detect() -> BackendInfo {
        BackendInfo { backend: "none", landlock_abi: None, features: vec![] }
    }
}
#[cfg(not(target_os = "linux"))]
pub use unsupported::{detect, prepare, Prepared};
