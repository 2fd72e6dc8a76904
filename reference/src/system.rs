//! The system grants every sandboxed program receives, without a flag asking for them.
//!
//! On Linux they follow nono's default policy groups (core-spec DENY-02, the groups
//! `system_read_linux_core`, `system_write_linux`, `user_tools` and `homebrew_linux` of
//! nono's `policy.json`), so that what starts under nono starts here: dynamically linked
//! programs (loader, libraries), TLS clients (`/etc/ssl`), name lookups (`/etc/hosts`,
//! `/etc/resolv.conf`), and tools that read `/proc` (`ps`, `/proc/self/status`). Every
//! entry is one row of [`LINUX`], with the group it comes from and why a program needs it;
//! `run --dry-run` prints that table, and `--dry-run --json` gives each grant its reason.
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
//! Three deliberate choices, each written in SPEC.md §20:
//!
//! * Read access goes only where nono's groups grant it. Write access goes only to
//!   character devices (`/dev/null`, `/dev/zero`, `/dev/full`, `/dev/tty`, `/dev/pts`) and
//!   the program's own standard streams.
//! * `/tmp` and `$TMPDIR` are **not** granted, although nono's `system_write_linux` grants
//!   them write-only. A write-only grant does not let a program read back its own temporary
//!   file, so it buys little, while it would let the sandboxed program create, replace and
//!   remove entries that other processes (the reference's own mediation session among
//!   them, which lives under `$TMPDIR`) trust. Reading `/tmp` is denied by nono too.
//! * `/proc/self` is granted as `/proc`, as nono does (core-spec CAP-11): the reference
//!   resolves grants before it forks, when `/proc/self` is still the supervisor, so only
//!   the widened form reaches the program's own `/proc/PID`. Other processes' private
//!   files there (`maps`, `environ`, `mem`) stay closed: the kernel checks them as ptrace
//!   access, which Landlock denies across the sandbox boundary.
//!
//! Entries that do not exist on the host are skipped (a system grant is best effort; a
//! user grant on a missing path is an error).

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use std::path::{Path, PathBuf};

/// One system grant: a path (a leading `~/` is the home directory), what may be done
/// there, the nono group it comes from, and why programs need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemGrant {
    /// Absolute path, or `~/…` relative to the home directory.
    pub path: &'static str,
    /// Read, or ReadWrite for devices a program writes to.
    pub access: AccessMode,
    /// The nono policy group (and core-spec ID) the entry comes from.
    pub group: &'static str,
    /// Why a program needs it.
    pub reason: &'static str,
}

const fn read(path: &'static str, group: &'static str, reason: &'static str) -> SystemGrant {
    SystemGrant { path, access: AccessMode::Read, group, reason }
}

const fn read_write(path: &'static str, group: &'static str, reason: &'static str) -> SystemGrant {
    SystemGrant { path, access: AccessMode::ReadWrite, group, reason }
}

const CORE: &str = "system_read_linux_core (DENY-02)";
const CORE_AND_WRITE: &str = "system_read_linux_core + system_write_linux (DENY-02)";
const USER_TOOLS: &str = "user_tools (PRF-11)";
const BINARIES: &str = "programs and the shared libraries they load";
const TERMINFO: &str = "terminal descriptions for curses programs";

/// The Linux system grants, one row per path (see the module documentation).
pub const LINUX: &[SystemGrant] = &[
    read("/bin", CORE, BINARIES),
    read("/sbin", CORE, BINARIES),
    read("/usr/bin", CORE, BINARIES),
    read("/usr/sbin", CORE, BINARIES),
    read("/usr/local/bin", CORE, BINARIES),
    read("/lib", CORE, BINARIES),
    read("/lib64", CORE, BINARIES),
    read("/usr/lib", CORE, BINARIES),
    read("/usr/lib64", CORE, BINARIES),
    read("/usr/local/lib", CORE, BINARIES),
    read("/usr/local/lib64", CORE, BINARIES),
    read("/usr/share", CORE, "architecture-independent data: locales, time zones, terminfo, CA bundles"),
    read("/etc/resolv.conf", CORE, "DNS resolver configuration"),
    read("/etc/hosts", CORE, "static host names (localhost)"),
    read("/etc/nsswitch.conf", CORE, "which name services libc consults"),
    read("/etc/gai.conf", CORE, "getaddrinfo address ordering"),
    read("/etc/ssl", CORE, "TLS: CA certificates and openssl.cnf (Node, Python, curl)"),
    read("/etc/pki", CORE, "TLS: CA certificates (Fedora family)"),
    read("/etc/ca-certificates", CORE, "TLS: CA certificate configuration"),
    read("/etc/crypto-policies", CORE, "TLS: system crypto policy (Fedora family)"),
    read("/etc/ld.so.cache", CORE, "the dynamic loader's library cache"),
    read("/etc/ld.so.conf", CORE, "the dynamic loader's search path"),
    read("/etc/ld.so.conf.d", CORE, "the dynamic loader's search path"),
    read("/etc/localtime", CORE, "the local time zone"),
    read("/etc/timezone", CORE, "the local time zone name"),
    read("/etc/locale.conf", CORE, "the system locale"),
    read("/etc/locale.gen", CORE, "the generated locales"),
    read("/etc/alternatives", CORE, "Debian's alternatives links (python3, editor, ...)"),
    read("/etc/os-release", CORE, "the distribution's name and version"),
    read("/etc/services", CORE, "service names of ports"),
    read("/etc/terminfo", CORE, TERMINFO),
    read("/lib/terminfo", CORE, TERMINFO),
    read_write("/dev/null", CORE_AND_WRITE, "the null device"),
    read_write("/dev/zero", CORE_AND_WRITE, "the zero device"),
    read_write("/dev/full", CORE_AND_WRITE, "the always-full device"),
    read_write("/dev/tty", CORE_AND_WRITE, "the controlling terminal"),
    read("/dev/random", CORE, "random numbers"),
    read("/dev/urandom", CORE, "random numbers"),
    read("/dev/console", CORE, "the system console"),
    read("/dev/stdin", CORE, "the program's own standard input"),
    read_write("/dev/stdout", CORE_AND_WRITE, "the program's own standard output"),
    read_write("/dev/stderr", CORE_AND_WRITE, "the program's own standard error"),
    read_write("/dev/pts", CORE_AND_WRITE, "pseudo-terminals (interactive programs)"),
    read(
        "/proc",
        "system_read_linux_core /proc/self, widened to /proc (CAP-11)",
        "the program's own /proc/PID (status, maps, fd) and system-wide /proc files: cpuinfo, meminfo, stat, loadavg, version, filesystems (ps, top, runtimes)",
    ),
    read("~/.local/bin", USER_TOOLS, "programs installed for the user"),
    read("~/.local/share/applications", USER_TOOLS, "desktop entries"),
    read("~/.local/share/man", USER_TOOLS, "manual pages"),
    read("~/.local/share/bash-completion", USER_TOOLS, "shell completions"),
    read("~/.local/share/zsh", USER_TOOLS, "shell completions"),
    read("/home/linuxbrew/.linuxbrew", "homebrew_linux (PRF-11)", "programs installed with Homebrew on Linux"),
];

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

/// The macOS system grants: (paths, access, is_file).
pub fn groups(macos: bool) -> [(&'static [&'static str], AccessMode, bool); 3] {
    debug_assert!(macos, "the Linux system grants are the LINUX table");
    [
        (MACOS_READ_DIRS, AccessMode::Read, false),
        (MACOS_READ_FILES, AccessMode::Read, true),
        (MACOS_READ_WRITE_FILES, AccessMode::ReadWrite, true),
    ]
}

/// The home directory system grants are relative to: `HOME` when it is absolute.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_absolute())
}

impl SystemGrant {
    /// The path on this host: `~/` replaced by `home`; None when it needs a home and
    /// there is none.
    pub fn host_path(&self, home: Option<&Path>) -> Option<PathBuf> {
        match self.path.strip_prefix("~/") {
            Some(rest) => home.map(|h| h.join(rest)),
            None => Some(PathBuf::from(self.path)),
        }
    }

    /// The capability this row gives on this host, or None when its path is missing.
    pub fn capability(&self, home: Option<&Path>) -> Option<FsCapability> {
        let path = self.host_path(home)?;
        FsCapability::existing("system", &path, self.access, Source::System).ok()
    }
}

/// The row of [`LINUX`] a system capability came from (matched on the path as written).
pub fn linux_row(cap: &FsCapability, home: Option<&Path>) -> Option<&'static SystemGrant> {
    LINUX.iter().find(|row| row.host_path(home).as_deref() == Some(cap.original.as_path()))
}

/// Adds the system grants that exist on this host to `set`.
pub fn add_system_grants(set: &mut CapabilitySet) {
    if cfg!(target_os = "macos") {
        for (paths, access, is_file) in groups(true) {
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
        return;
    }
    let home = home();
    for row in LINUX {
        if let Some(cap) = row.capability(home.as_deref()) {
            set.add(cap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_names_its_group_and_reason() {
        for row in LINUX {
            assert!(row.path.starts_with('/') || row.path.starts_with("~/"), "{row:?}");
            assert!(!row.group.is_empty() && !row.reason.is_empty(), "{row:?}");
        }
    }

    #[test]
    fn write_access_only_on_devices() {
        for row in LINUX.iter().filter(|r| r.access.writes()) {
            assert!(row.path.starts_with("/dev/"), "{row:?} grants write outside /dev");
        }
    }

    #[test]
    fn no_temporary_directory_is_granted() {
        for zone in ["/tmp", "/var/tmp", "/dev/shm", "$TMPDIR"] {
            assert!(LINUX.iter().all(|r| r.path != zone), "{zone} is granted");
        }
    }

    #[test]
    fn home_rows_need_a_home() {
        let row = LINUX.iter().find(|r| r.path == "~/.local/bin").unwrap();
        assert_eq!(row.host_path(None), None);
        assert_eq!(row.host_path(Some(Path::new("/h"))), Some(PathBuf::from("/h/.local/bin")));
    }
}
