//! Seatbelt backend (macOS), through `sandbox_init(3)` from libsandbox (part of libSystem).
//!
//! The profile is generated in the parent by the platform-neutral
//! [`crate::seatbelt::generate`], where an inexpressible capability set is still a clean
//! error (exit 1). The child applies it to itself right before exec; Seatbelt sandboxes are
//! irreversible and inherited by every child and every exec.
//!
//! Seatbelt cannot nest: `sandbox_init` fails when the process is already sandboxed (the
//! kernel logs `forbidden-sandbox-reinit`). That is reported as
//! [`Error::NestedSandbox`] before anything is forked, never as a denial of the program.

use super::BackendInfo;
use crate::capability::CapabilitySet;
use crate::error::{Error, Result};
use crate::seatbelt::{generate, SeatbeltOptions};
use std::ffi::{c_char, c_int, CStr, CString};

extern "C" {
    fn sandbox_init(profile: *const c_char, flags: u64, errorbuf: *mut *mut c_char) -> c_int;
    fn sandbox_free_error(errorbuf: *mut c_char);
    fn sandbox_check(pid: libc::pid_t, operation: *const c_char, filter_type: c_int, ...) -> c_int;
}

/// `SANDBOX_FILTER_NONE`: with a NULL operation, `sandbox_check` only answers whether the
/// process is sandboxed at all.
const SANDBOX_FILTER_NONE: c_int = 0;

/// True when the calling process already runs inside a Seatbelt sandbox.
pub fn is_sandboxed() -> bool {
    // SAFETY: a NULL operation with SANDBOX_FILTER_NONE takes no further arguments and
    // only queries the sandbox state of `pid`.
    unsafe { sandbox_check(libc::getpid(), std::ptr::null(), SANDBOX_FILTER_NONE) > 0 }
}

/// A profile generated in the parent, ready to be applied in the child.
pub struct Prepared {
    profile: CString,
}

impl Prepared {
    /// Applies the profile to the calling process. Call only in the freshly forked child.
    pub fn restrict_self(self) -> std::result::Result<(), String> {
        let mut errorbuf: *mut c_char = std::ptr::null_mut();
        // SAFETY: the profile is a NUL-terminated SBPL string; flags 0 means "SBPL source";
        // on failure `errorbuf` receives a message that sandbox_free_error releases.
        let rc = unsafe { sandbox_init(self.profile.as_ptr(), 0, &mut errorbuf) };
        if rc == 0 {
            return Ok(());
        }
        let why = if errorbuf.is_null() {
            format!("sandbox_init returned error code {rc}")
        } else {
            // SAFETY: non-null errorbuf is a C string owned by libsandbox until freed here.
            let text = unsafe { CStr::from_ptr(errorbuf) }
                .to_string_lossy()
                .into_owned();
            unsafe { sandbox_free_error(errorbuf) };
            format!("sandbox_init: {text}")
        };
        if is_sandboxed() {
            return Err(format!(
                "{why} (already inside a Seatbelt sandbox; Seatbelt sandboxes cannot be nested)"
            ));
        }
        if why.contains("Operation not permitted") {
            // What sandbox_init reports for a caller that is sandboxed already, in case
            // sandbox_check could not tell (the outer profile may deny it).
            return Err(format!(
                "{why} (probably already inside a Seatbelt sandbox, which cannot be nested)"
            ));
        }
        Err(why)
    }
}

/// Generates the profile for `caps` with the default macOS options.
pub fn prepare(caps: &CapabilitySet) -> Result<Prepared> {
    prepare_with(caps, &SeatbeltOptions::default())
}

/// Refuses when already sandboxed, then generates the profile.
pub fn prepare_with(caps: &CapabilitySet, options: &SeatbeltOptions) -> Result<Prepared> {
    if is_sandboxed() {
        return Err(Error::NestedSandbox);
    }
    let text = generate(caps, options).map_err(Error::SeatbeltProfile)?;
    let profile = CString::new(text).map_err(|_| Error::Io {
        context: "the generated Seatbelt profile contains a NUL byte".into(),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    Ok(Prepared { profile })
}

/// What this backend enforces.
pub fn detect() -> BackendInfo {
    BackendInfo {
        backend: "seatbelt",
        landlock_abi: None,
        features: vec![
            "fs",
            "fs.deny",
            "net.block",
            "net.proxy",
            "net.unix-socket",
            "mach.keychain",
        ],
    }
}
