//! The capability model: what a sandboxed program may touch, independent of any platform.
//!
//! A [`CapabilitySet`] is built from flags and profiles ([`crate::policy`]) and handed to a backend
//! (Landlock on Linux) which turns it into kernel rules. Everything not in the set is denied.
//!
//! Paths are resolved (every symlink followed) when a capability is created, because Landlock
//! attaches rules to inodes: granting a symlink grants its target, never the link's own
//! directory. The path as given is kept for display. On Linux the resolved object is also
//! kept open ([`Opened`]), and the Landlock rule is attached to it: to what was resolved and
//! checked, not to whatever the path names by the time the ruleset is built.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
#[cfg(target_os = "linux")]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How a path may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    /// Read files, list directories, execute programs.
    Read,
    /// Write, create, remove, rename and truncate; no reading.
    Write,
    /// Both of the above.
    ReadWrite,
}

impl AccessMode {
    /// True when this mode includes reading.
    pub fn reads(self) -> bool {
        matches!(self, AccessMode::Read | AccessMode::ReadWrite)
    }

    /// True when this mode includes writing.
    pub fn writes(self) -> bool {
        matches!(self, AccessMode::Write | AccessMode::ReadWrite)
    }

    /// The union of two modes: Read plus Write is ReadWrite.
    pub fn union(self, other: AccessMode) -> AccessMode {
        if self == other {
            self
        } else {
            AccessMode::ReadWrite
        }
    }

    /// The short label used by `--dry-run`.
    pub fn label(self) -> &'static str {
        match self {
            AccessMode::Read => "read",
            AccessMode::Write => "write",
            AccessMode::ReadWrite => "read+write",
        }
    }
}

/// Where a capability came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A command-line flag.
    User,
    /// The documented minimal system grants (see [`crate::system`]).
    System,
}

impl Source {
    /// The label used by `--dry-run` and in error messages.
    pub fn label(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::System => "system",
        }
    }
}

/// One filesystem grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FsCapability {
    /// The path as the user wrote it.
    pub original: PathBuf,
    /// The canonical path the rule is attached to.
    pub resolved: PathBuf,
    /// What may be done there.
    pub access: AccessMode,
    /// True for exactly one file; false for a directory and everything beneath it.
    pub is_file: bool,
    /// Who asked for it.
    pub source: Source,
    /// The object `resolved` named when the grant was made, still open, if it was kept.
    #[serde(skip)]
    pub opened: Opened,
}

/// The object a grant resolved to, kept open with `O_PATH` (which reads nothing) so that
/// the Landlock rule is attached to the very inode that was resolved and checked against
/// the protected paths, whatever the path names by the time the rule is added, and so that
/// the path is not walked a second time.
///
/// Empty where nothing was kept: on other platforms, for paths resolved the portable way,
/// for capabilities written out by hand, and beyond [`Opened::MAX_KEPT`] open objects,
/// so that a profile with thousands of grants cannot run out of descriptors; the backend
/// then opens the resolved path itself. Never compared or serialised, and printed only as
/// kept or not: two grants are the same grant when their paths and rights are.
#[derive(Clone, Default)]
pub struct Opened(Option<std::sync::Arc<KeptObject>>);

/// One kept object, counted while it is open.
struct KeptObject {
    fd: std::os::fd::OwnedFd,
    file_type: std::fs::FileType,
}

static KEPT_OBJECTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Opened {
    /// How many objects the process keeps open at most (the usual soft limit is 1,024
    /// descriptors).
    pub const MAX_KEPT: usize = 256;

    /// Keeps `fd` (of an object of type `file_type`) unless [`Opened::MAX_KEPT`] are
    /// already kept.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn keep(fd: std::os::fd::OwnedFd, file_type: std::fs::FileType) -> Opened {
        use std::sync::atomic::Ordering;
        if KEPT_OBJECTS.fetch_add(1, Ordering::Relaxed) >= Self::MAX_KEPT {
            KEPT_OBJECTS.fetch_sub(1, Ordering::Relaxed);
            return Opened(None);
        }
        Opened(Some(std::sync::Arc::new(KeptObject { fd, file_type })))
    }

    /// The open object, if one was kept.
    pub fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.0.as_ref().map(|kept| kept.fd.as_fd())
    }

    /// The type of the open object, if one was kept.
    pub fn file_type(&self) -> Option<std::fs::FileType> {
        self.0.as_ref().map(|kept| kept.file_type)
    }
}

impl Drop for KeptObject {
    fn drop(&mut self) {
        KEPT_OBJECTS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl PartialEq for Opened {
    fn eq(&self, _: &Opened) -> bool {
        true
    }
}

impl Eq for Opened {}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Opened(kept)" } else { "Opened(none)" })
    }
}

impl FsCapability {
    /// A recursive grant on a directory. `flag` names the option for error messages.
    pub fn directory(flag: &str, path: &Path, access: AccessMode, source: Source) -> Result<Self> {
        let found = resolve(flag, path)?;
        if !found.is_dir {
            return Err(Error::ExpectedDirectory { flag: flag.into(), path: path.into() });
        }
        Ok(Self { original: path.into(), resolved: found.path, access, is_file: false, source, opened: found.opened })
    }

    /// A grant on exactly one non-directory object (regular file, device, fifo, socket).
    pub fn file(flag: &str, path: &Path, access: AccessMode, source: Source) -> Result<Self> {
        let found = resolve(flag, path)?;
        if found.is_dir {
            return Err(Error::ExpectedFile { flag: flag.into(), path: path.into() });
        }
        Ok(Self { original: path.into(), resolved: found.path, access, is_file: true, source, opened: found.opened })
    }

    /// A grant on whatever `path` is: recursive on a directory, exact on anything else.
    /// One resolution decides both, so the kind cannot change between two looks.
    pub fn existing(flag: &str, path: &Path, access: AccessMode, source: Source) -> Result<Self> {
        let found = resolve(flag, path)?;
        Ok(Self { original: path.into(), resolved: found.path, access, is_file: !found.is_dir, source, opened: found.opened })
    }
}

/// A path with every symlink followed, whether it is a directory, and the object itself
/// where it was opened to find out.
pub(crate) struct Resolved {
    pub(crate) path: PathBuf,
    pub(crate) is_dir: bool,
    pub(crate) opened: Opened,
}

/// [`canonicalize`], with errors that name the flag and the path as given.
fn resolve(flag: &str, path: &Path) -> Result<Resolved> {
    canonicalize(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => Error::PathNotFound { flag: flag.into(), path: path.into() },
        _ => Error::Canonicalize { flag: flag.into(), path: path.into(), source },
    })
}

/// Resolves `path` as `realpath(3)` does, and finds its kind, with the same object.
///
/// On Linux the path is opened once with `O_PATH` (which reads nothing and never blocks,
/// even on a fifo) and the kernel names what it opened through `/proc/self/fd`: three
/// system calls per grant instead of a `readlink` per component plus two `stat`s, which
/// matters because every run resolves some fifty system grants. Most of those paths cross
/// no symlink at all (`/usr/lib`, `/etc/hosts`); [`resolve_plain`] takes them in two calls
/// and without the `readlink`, the dearest of the three. The opened object is kept for the
/// Landlock rule ([`Opened`]). Where `/proc` cannot name the object, the portable two-step
/// way is used, and nothing is kept.
pub(crate) fn canonicalize(path: &Path) -> std::io::Result<Resolved> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Some(found) = resolve_plain(path) {
            return found;
        }
        let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(path)?;
        let file_type = opened.metadata()?.file_type();
        if let Ok(named) = std::fs::read_link(format!("/proc/self/fd/{}", opened.as_raw_fd())) {
            // An object that has no path (deleted meanwhile, or on a pseudo filesystem) is
            // named with a suffix or without a leading `/`; resolve those the slow way.
            if named.is_absolute() && !named.as_os_str().as_encoded_bytes().ends_with(b" (deleted)") {
                return Ok(Resolved { path: named, is_dir: file_type.is_dir(), opened: Opened::keep(opened.into(), file_type) });
            }
        }
    }
    let resolved = std::fs::canonicalize(path)?;
    let is_dir = resolved.is_dir();
    Ok(Resolved { path: resolved, is_dir, opened: Opened::default() })
}

/// An absolute path without `..` that crosses no symlink is its own canonical form, once
/// written without repeated or trailing `/` and `.` components. `openat2` with
/// `RESOLVE_NO_SYMLINKS` proves the "no symlink" part while it opens the object. None when
/// the path is not of that shape, meets a symlink (ELOOP), or the kernel has no `openat2`
/// (before 5.6): the caller then resolves it the general way. A missing component is
/// final, since the walk met no symlink before it.
#[cfg(target_os = "linux")]
fn resolve_plain(path: &Path) -> Option<std::io::Result<Resolved>> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
    use std::path::Component;
    let plain = path.is_absolute() && path.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !plain {
        return None;
    }
    let how = OpenHow::new().flags(OFlag::O_PATH | OFlag::O_CLOEXEC).resolve(ResolveFlag::RESOLVE_NO_SYMLINKS);
    match nix::fcntl::openat2(nix::fcntl::AT_FDCWD, path, how) {
        Ok(opened) => {
            let opened = std::fs::File::from(opened);
            Some(opened.metadata().map(|m| Resolved {
                path: path.components().collect(),
                is_dir: m.is_dir(),
                opened: Opened::keep(opened.into(), m.file_type()),
            }))
        }
        Err(nix::errno::Errno::ENOENT) => Some(Err(std::io::ErrorKind::NotFound.into())),
        Err(_) => None,
    }
}

/// Network policy. Landlock filters TCP by port only, never by address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkPolicy {
    /// Deny every TCP connect and bind except the listed ports.
    pub block: bool,
    /// TCP ports that `connect(2)` may reach even when blocked.
    pub connect_ports: Vec<u16>,
    /// TCP ports that `bind(2)` may use even when blocked.
    pub bind_ports: Vec<u16>,
}

impl NetworkPolicy {
    /// True when TCP must be filtered at all: blocked, or an allow-list of ports was given
    /// (a port list turns filtering on, as in nono: listing a port means "only these").
    pub fn filters_tcp(&self) -> bool {
        self.block || !self.connect_ports.is_empty() || !self.bind_ports.is_empty()
    }
}

/// Everything a sandboxed program is allowed to do.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CapabilitySet {
    /// Filesystem grants, in the order they were added (deduplicated).
    pub fs: Vec<FsCapability>,
    /// TCP policy.
    pub network: NetworkPolicy,
    /// Forbid connecting to abstract Unix sockets created outside the sandbox (Landlock ABI 6).
    pub scope_abstract_unix_sockets: bool,
    /// Forbid signals to processes outside the sandbox (Landlock ABI 6).
    pub scope_signals: bool,
}

impl CapabilitySet {
    /// An empty set with nono's default isolation: signals and abstract sockets scoped.
    pub fn new() -> Self {
        Self { scope_abstract_unix_sockets: true, scope_signals: true, ..Default::default() }
    }

    /// Adds a grant. A second grant on the same resolved object merges access (Read plus Write
    /// becomes ReadWrite) and a user grant takes precedence over a system one for display.
    pub fn add(&mut self, mut cap: FsCapability) {
        // Resolved paths are kept in normal form (no `.`, no doubled or trailing `/`), so
        // that two are the same path exactly when their bytes are: comparing `Path`s walks
        // their components, and every run adds some fifty grants.
        cap.resolved = cap.resolved.components().collect();
        let same = |c: &&mut FsCapability| c.is_file == cap.is_file && c.resolved.as_os_str() == cap.resolved.as_os_str();
        match self.fs.iter_mut().find(same) {
            Some(existing) => {
                existing.access = existing.access.union(cap.access);
                if cap.source == Source::User {
                    existing.source = Source::User;
                    existing.original = cap.original;
                }
            }
            None => self.fs.push(cap),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(AccessMode::Read, AccessMode::Read, AccessMode::Read)]
    #[case(AccessMode::Read, AccessMode::Write, AccessMode::ReadWrite)]
    #[case(AccessMode::Write, AccessMode::ReadWrite, AccessMode::ReadWrite)]
    #[case(AccessMode::Write, AccessMode::Write, AccessMode::Write)]
    fn union_of_modes(#[case] a: AccessMode, #[case] b: AccessMode, #[case] want: AccessMode) {
        assert_eq!(a.union(b), want);
        assert_eq!(b.union(a), want);
    }

    #[test]
    fn grants_beyond_the_kept_limit_keep_no_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let count = Opened::MAX_KEPT + 20;
        let caps: Vec<FsCapability> = (0..count)
            .map(|i| {
                let path = dir.path().join(format!("d{i}"));
                std::fs::create_dir(&path).unwrap();
                FsCapability::directory("--read", &path, AccessMode::Read, Source::User).unwrap()
            })
            .collect();
        let kept = caps.iter().filter(|c| c.opened.fd().is_some()).count();
        assert!(kept <= Opened::MAX_KEPT, "{kept} descriptors kept, more than the limit of {}", Opened::MAX_KEPT);
        assert!(caps.last().unwrap().opened.fd().is_none(), "the grant past the limit kept its descriptor");
        drop(caps);
        let again = FsCapability::directory("--read", dir.path(), AccessMode::Read, Source::User).unwrap();
        assert!(again.opened.fd().is_some(), "descriptors dropped are not given back to the limit");
    }

    #[test]
    fn same_inode_grants_merge_and_user_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = CapabilitySet::new();
        set.add(FsCapability::directory("--read", dir.path(), AccessMode::Read, Source::System).unwrap());
        set.add(FsCapability::directory("--write", dir.path(), AccessMode::Write, Source::User).unwrap());
        assert_eq!(set.fs.len(), 1);
        assert_eq!(set.fs[0].access, AccessMode::ReadWrite);
        assert_eq!(set.fs[0].source, Source::User);
    }

    #[test]
    fn directory_grant_rejects_a_file_and_names_flag_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = FsCapability::directory("--allow", &file, AccessMode::ReadWrite, Source::User).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--allow") && text.contains(file.to_str().unwrap()), "{text}");
        assert!(text.contains("--allow-file"), "{text}");
    }

    #[test]
    fn missing_path_is_an_error_not_a_grant() {
        let err = FsCapability::file("--read-file", Path::new("/nonexistent/x"), AccessMode::Read, Source::User)
            .unwrap_err();
        assert!(matches!(err, Error::PathNotFound { .. }));
    }

    #[test]
    fn resolution_follows_every_symlink_and_reports_the_target_kind() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("d")).unwrap();
        std::fs::write(real.join("d/f"), b"x").unwrap();
        std::os::unix::fs::symlink(real.join("d"), real.join("to-d")).unwrap();
        std::os::unix::fs::symlink("to-d/f", real.join("to-f")).unwrap();
        nix::unistd::mkfifo(&real.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let through_links = FsCapability::existing("--read", &dir.path().join("to-f"), AccessMode::Read, Source::User).unwrap();
        assert_eq!((through_links.resolved, through_links.is_file), (real.join("d/f"), true));
        let directory = FsCapability::existing("--read", &real.join("to-d"), AccessMode::Read, Source::User).unwrap();
        assert_eq!((directory.resolved, directory.is_file), (real.join("d"), false));
        // Resolving a fifo must not open it for reading (that would block until a writer came).
        let fifo = FsCapability::file("--read-file", &real.join("fifo"), AccessMode::Read, Source::User).unwrap();
        assert_eq!(fifo.resolved, real.join("fifo"));
        let err = FsCapability::existing("--read", &real.join("missing"), AccessMode::Read, Source::User).unwrap_err();
        assert!(matches!(err, Error::PathNotFound { .. }), "{err}");
    }
}
