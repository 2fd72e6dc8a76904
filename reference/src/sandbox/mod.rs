//! Platform backends. Each exposes the same three things:
//!
//! * [`prepare`]: turn a [`CapabilitySet`](crate::capability::CapabilitySet) into kernel objects in the parent, where errors
//!   can still be reported cleanly (exit 1) and nothing has been forked yet;
//! * [`Prepared::restrict_self`]: enforce them in the freshly forked child, right before exec;
//! * [`detect`]: what this kernel enforces, for `--dry-run` and `conformance-info`.
//!
//! Linux uses Landlock (`landlock.rs`), macOS Seatbelt (`seatbelt.rs`, a thin layer over
//! the platform-neutral [`crate::seatbelt`] generator); anything else refuses to run.

use serde::Serialize;

#[cfg(target_os = "linux")]
mod landlock;
#[cfg(target_os = "linux")]
pub use self::landlock::{detect, prepare, Prepared};

#[cfg(target_os = "macos")]
mod seatbelt;
#[cfg(target_os = "macos")]
pub use self::seatbelt::{detect, is_sandboxed, prepare, prepare_with, Prepared};

/// [`prepare`] with the options only Seatbelt can enforce (proxy-only networking, Unix
/// socket carve-outs, sensitive deny paths). Other backends refuse any such option rather
/// than run the program without it.
#[cfg(not(target_os = "macos"))]
pub fn prepare_with(
    caps: &crate::capability::CapabilitySet,
    options: &crate::seatbelt::SeatbeltOptions,
) -> crate::error::Result<Prepared> {
    if let Some(flag) = macos_only_option(options) {
        return Err(crate::error::Error::MacosOnly { flag });
    }
    prepare(caps)
}

/// The first option set in `options` that only Seatbelt can enforce, named by its flag.
pub fn macos_only_option(options: &crate::seatbelt::SeatbeltOptions) -> Option<&'static str> {
    use crate::seatbelt::NetworkMode;
    if options.network != NetworkMode::AllowAll {
        Some("--proxy-port")
    } else if !options.localhost_ports.is_empty() {
        Some("--open-port")
    } else if !options.unix_sockets.is_empty() {
        Some("--allow-unix-socket*")
    } else if !options.deny_paths.is_empty() {
        Some("--deny / --deny-file")
    } else {
        None
    }
}

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

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
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
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub use unsupported::{detect, prepare, Prepared};
