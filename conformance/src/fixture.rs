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

/// Bytes beneath a fixture root that the suite's longest Unix socket path takes:
/// `case-XXXXXX/` and a name such as `w/unix_socket` or `u/d/s`, with room to spare.
pub const SOCKET_HEADROOM: usize = 40;

/// Picks the directory under which fixture roots are created: `NONO_CONFORMANCE_FIXTURES`,
/// else Cargo's per-target temp dir, else (on macOS) `~/.nc`, else
/// `~/.cache/nono-conformance`: the first that is outside every default-writable zone and,
/// on macOS, short enough for the Unix sockets cases bind beneath it.
///
/// Why the length matters: a Unix socket path holds at most 103 bytes on macOS (107 on
/// Linux). A checkout in a deep directory makes `<checkout>/target/tmp/...` too long, and
/// every case that binds a socket would fail with a bare `EINVAL`. A short base in the
/// home directory avoids that without moving fixtures into `/tmp`, which nono grants.
pub fn fixture_base(cargo_target_tmpdir: Option<&str>) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let explicit = std::env::var_os("NONO_CONFORMANCE_FIXTURES").map(PathBuf::from);
    let short_home = home.as_ref().filter(|_| cfg!(target_os = "macos")).map(|h| h.join(".nc"));
    let candidates = explicit
        .clone()
        .into_iter()
        .chain(cargo_target_tmpdir.map(|t| PathBuf::from(t).join("nono-conformance")))
        .chain(short_home)
        .chain(home.map(|h| h.join(".cache/nono-conformance")));
    let mut usable = vec![];
    for candidate in candidates {
        if std::fs::create_dir_all(&candidate).is_ok() {
            if let Ok(real) = candidate.canonicalize() {
                if !in_default_writable_zone(&real) {
                    usable.push(real);
                }
            }
        }
    }
    // Only macOS needs the short base: Linux's 107 bytes leave room under any usual
    // checkout, and moving Linux fixtures into the home directory would put them where
    // some implementations' default profiles grant access. An explicit choice is honoured
    // even when long; sockets then report their length.
    let chosen = match explicit {
        None if cfg!(target_os = "macos") => usable.iter().find(|b| leaves_room(b)).or(usable.first()),
        _ => usable.first(),
    };
    chosen.cloned().unwrap_or_else(|| {
        panic!(
            "no fixture base outside default-writable zones ({DEFAULT_WRITABLE_ZONES:?}); \
             set NONO_CONFORMANCE_FIXTURES to a directory elsewhere"
        )
    })
}

/// True when the suite's socket paths fit beneath `base`.
fn leaves_room(base: &Path) -> bool {
    base.as_os_str().len() + SOCKET_HEADROOM <= max_socket_path_len()
}

/// The longest Unix socket path this platform accepts (103 bytes on macOS, 107 on Linux).
pub fn max_socket_path_len() -> usize {
    nono_reference::ipc::socket::max_socket_path_len()
}

/// Refuses a Unix socket path that does not fit, naming it, its length and the way out,
/// instead of letting `bind` fail with a bare `EINVAL`.
pub fn socket_path_fits(path: &Path) -> Result<(), String> {
    let len = path.as_os_str().len();
    let max = max_socket_path_len();
    if len > max {
        return Err(format!(
            "ENVIRONMENT, not a result: the Unix socket path {} is {len} bytes, but {} allows {max}; \
             set NONO_CONFORMANCE_FIXTURES to a shorter directory outside /tmp",
            path.display(),
            std::env::consts::OS
        ));
    }
    Ok(())
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

    /// `root/rel` for a Unix socket the test binds or the program connects to; its parent
    /// is created, and a path too long for a socket address is an error that says so.
    pub fn socket_path(&self, rel: &str) -> Result<PathBuf, String> {
        let p = self.path(rel);
        socket_path_fits(&p)?;
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("creating fixture parent");
        }
        Ok(p)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_path_too_long_is_an_environment_error_naming_path_and_length() {
        let base = tempfile::tempdir().unwrap();
        let fx = Fixture::new(base.path());
        let max = max_socket_path_len();
        let rel = "s".repeat(max);
        let err = fx.socket_path(&rel).unwrap_err();
        let len = fx.path(&rel).as_os_str().len();
        assert!(err.contains(&fx.path(&rel).display().to_string()) && err.contains(&format!("{len} bytes")), "{err}");
        assert!(err.contains("NONO_CONFORMANCE_FIXTURES"), "{err}");
        let short = fx.socket_path("d/s").unwrap();
        assert!(short.parent().unwrap().is_dir(), "the socket's directory is created");
    }

    #[test]
    fn the_chosen_base_leaves_room_for_sockets_and_avoids_default_writable_zones() {
        // Where Cargo's test binaries put theirs: the workspace's target/tmp.
        let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/tmp");
        let base = fixture_base(Some(target));
        assert!(!in_default_writable_zone(&base), "{}", base.display());
        if std::env::var_os("NONO_CONFORMANCE_FIXTURES").is_none() {
            if cfg!(target_os = "macos") {
                assert!(leaves_room(&base), "{}", base.display());
            } else {
                let target = Path::new(target).canonicalize().unwrap();
                // A checkout under /tmp (a default-writable zone) falls back to the home cache.
                if !in_default_writable_zone(&target) {
                    assert!(base.starts_with(&target), "{}", base.display());
                }
            }
        }
    }
}
