//! Per-test fixture roots.
//!
//! Every test gets a fresh directory that no implementation grants by default. nono's
//! default profile makes `/tmp` writable, so a denial fixture there would pass for the wrong
//! reason: fixture roots live under Cargo's target directory instead, and the suite refuses
//! to use a base inside a default-writable zone.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// Directories that common sandboxes grant write access to by default.
const DEFAULT_WRITABLE_ZONES: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/private/tmp", "/private/var/folders"];

/// True when `path` lies inside a zone some implementation grants by default.
pub fn in_default_writable_zone(path: &Path) -> bool {
    let tmpdir = std::env::var_os("TMPDIR").map(PathBuf::from);
    DEFAULT_WRITABLE_ZONES.iter().map(PathBuf::from).chain(tmpdir).any(|zone| path.starts_with(zone))
}

/// Picks the directory under which fixture roots are created: `NONO_CONFORMANCE_FIXTURES`,
/// else Cargo's per-target temp dir, else `~/.cache/nono-conformance`; the first that is
/// outside every default-writable zone.
pub fn fixture_base(cargo_target_tmpdir: Option<&str>) -> PathBuf {
    let home_cache = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nono-conformance"));
    let candidates = std::env::var_os("NONO_CONFORMANCE_FIXTURES")
        .map(PathBuf::from)
        .into_iter()
        .chain(cargo_target_tmpdir.map(|t| PathBuf::from(t).join("nono-conformance")))
        .chain(home_cache);
    for candidate in candidates {
        if std::fs::create_dir_all(&candidate).is_ok() {
            if let Ok(real) = candidate.canonicalize() {
                if !in_default_writable_zone(&real) {
                    return real;
                }
            }
        }
    }
    panic!(
        "no fixture base outside default-writable zones ({DEFAULT_WRITABLE_ZONES:?}); \
         set NONO_CONFORMANCE_FIXTURES to a directory elsewhere"
    );
}

/// A fresh directory tree for one test, removed when dropped.
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// Creates an empty root under `base`.
    pub fn new(base: &Path) -> Fixture {
        let dir = tempfile::Builder::new().prefix("case-").tempdir_in(base).expect("creating fixture root");
        Fixture { dir }
    }

    /// The canonical root path.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `root/rel`, without creating anything.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Creates directory `rel` (and parents) and returns its path.
    pub fn dir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).expect("creating fixture dir");
        p
    }

    /// Creates file `rel` with `content` (parents too) and returns its path.
    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("creating fixture parent");
        }
        std::fs::write(&p, content).expect("writing fixture file");
        p
    }

    /// Creates symlink `rel` pointing at `target` and returns its path.
    pub fn symlink(&self, rel: &str, target: &Path) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("creating fixture parent");
        }
        symlink(target, &p).expect("creating fixture symlink");
        p
    }

    /// Copies an executable into the fixture (keeping its mode) and returns the copy's path.
    pub fn copy_executable(&self, rel: &str, from: &Path) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("creating fixture parent");
        }
        std::fs::copy(from, &p).expect("copying executable into fixture");
        p
    }

    /// Reads a fixture file from outside the sandbox (None when absent).
    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path(rel)).ok()
    }

    /// True when `rel` exists (without following a final symlink).
    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }
}
