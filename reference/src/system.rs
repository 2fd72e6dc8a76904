//! The minimal system grants every sandboxed program receives.
//!
//! A dynamically linked program cannot start without its loader and libraries, and many
//! programs open `/dev/null` or `/dev/urandom` before `main`. The lists are explicit: they
//! are printed by `nono-ref run --dry-run`, they grant nothing writable but a few character
//! devices, and they have no writable `/tmp`.
//!
//! On macOS the readable directories are those of nono's `system_read_macos` group
//! (core-spec DENY-02), so that what runs under nono also starts here: shells read
//! `/private/etc` and `/private/var/select`, the time zone lives in `/private/var/db`,
//! frameworks under `/Library` and `/System`. nono's `system_write_macos` group is not
//! copied: it makes `/tmp`, `/var/folders` and `$TMPDIR` writable, and the reference keeps
//! every writable directory an explicit grant. Only the devices a terminal program writes
//! (`/dev/null`, `/dev/zero`, `/dev/tty`, and `/dev/dtracehelper`, which dyld opens) are
//! writable.
//!
//! Entries that do not exist on the host are skipped (a system grant is best effort; a user
//! grant on a missing path is an error).

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use std::path::Path;

/// Directories readable (and executable) by every sandboxed program: programs, the loader
/// and shared libraries.
pub const READ_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// Single files readable by every sandboxed program: the loader cache and name-service data
/// that libc consults at start-up, and harmless character devices.
pub const READ_FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
];

/// Single files readable and writable by every sandboxed program.
pub const READ_WRITE_FILES: &[&str] = &["/dev/null"];

/// macOS: the directories of nono's `system_read_macos` group (core-spec DENY-02):
/// programs, libraries, frameworks and the dyld cache, system configuration under
/// `/private` (spelled also through the `/etc`, `/var` and `/tmp` links), devices, and the
/// places software is installed. Missing ones (`/nix`, `/run`) are skipped.
pub const MACOS_READ_DIRS: &[&str] = &[
    "/bin", "/sbin", "/usr", "/System", "/Library", "/Applications", "/dev", "/private", "/etc", "/var", "/tmp",
    "/opt", "/Volumes", "/cores", "/run", "/nix",
];

/// macOS: single files readable by every sandboxed program (`/dev` is readable already).
pub const MACOS_READ_FILES: &[&str] = &[];

/// macOS: character devices readable and writable by every sandboxed program.
pub const MACOS_READ_WRITE_FILES: &[&str] = &["/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper"];

/// The system grants of Linux (`macos` false) or macOS: (paths, access, is_file).
pub fn groups(macos: bool) -> [(&'static [&'static str], AccessMode, bool); 3] {
    if macos {
        [
            (MACOS_READ_DIRS, AccessMode::Read, false),
            (MACOS_READ_FILES, AccessMode::Read, true),
            (MACOS_READ_WRITE_FILES, AccessMode::ReadWrite, true),
        ]
    } else {
        [
            (READ_DIRS, AccessMode::Read, false),
            (READ_FILES, AccessMode::Read, true),
            (READ_WRITE_FILES, AccessMode::ReadWrite, true),
        ]
    }
}

/// Adds the system grants that exist on this host to `set`.
pub fn add_system_grants(set: &mut CapabilitySet) {
    for (paths, access, is_file) in groups(cfg!(target_os = "macos")) {
        for path in paths.iter().map(Path::new) {
            let cap = if is_file {
                FsCapability::file("system", path, access, Source::System)
            } else {
                FsCapability::directory("system", path, access, Source::System)
            };
            // Missing or mistyped system paths are skipped: they grant nothing.
            if let Ok(cap) = cap {
                set.add(cap);
            }
        }
    }
}
