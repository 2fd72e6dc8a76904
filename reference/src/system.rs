//! The minimal system grants every sandboxed program receives.
//!
//! A dynamically linked program cannot start without its loader and libraries, and many
//! programs open `/dev/null` or `/dev/urandom` before `main`. This list is deliberately
//! short and explicit: it is printed by `nono-ref run --dry-run`, it grants nothing
//! writable except `/dev/null`, and it has no blanket writable `/tmp`.
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

/// macOS: programs, libraries and the dyld cache (`/usr`, `/bin`, `/sbin`, `/System`,
/// `/private/var/db/dyld`), and `/private/var/select`, where `/bin/sh` looks up which shell
/// it is.
pub const MACOS_READ_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/System", "/private/var/db/dyld", "/private/var/select"];

/// macOS: harmless character devices readable by every sandboxed program.
pub const MACOS_READ_FILES: &[&str] = &["/dev/zero", "/dev/random", "/dev/urandom"];

/// macOS: single files readable and writable by every sandboxed program.
pub const MACOS_READ_WRITE_FILES: &[&str] = &["/dev/null"];

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
