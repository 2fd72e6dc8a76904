//! Resolving paths the way macOS will, on any host.
//!
//! Seatbelt matches the paths the kernel resolves, so a rule for `/tmp/x` must also name
//! `/private/tmp/x`. On a Mac the live filesystem says what a path resolves to. Elsewhere
//! (printing a macOS profile on Linux, golden tests in CI) the host's filesystem says
//! nothing about a Mac, so paths are taken as written and only macOS's fixed top-level
//! symlinks are applied. Both strategies give the same answer for paths that do not exist
//! on the Mac beyond those symlinks, which is what portable test vectors use.

use std::path::{Component, Path, PathBuf};

/// The symlinks at the top of every macOS filesystem: (as written, resolved).
pub const MACOS_SYMLINKS: &[(&str, &str)] = &[
    ("/tmp", "/private/tmp"),
    ("/var", "/private/var"),
    ("/etc", "/private/etc"),
];

/// How paths are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Canonicalise on the live filesystem; a missing tail is re-appended to the deepest
    /// existing ancestor, so resolution never fails (core-spec CAP-05).
    Host,
    /// Lexical: absolute, `.` and `..` removed, then [`MACOS_SYMLINKS`] applied.
    Table,
}

impl Resolution {
    /// `Host` on macOS, `Table` everywhere else.
    pub fn for_this_host() -> Resolution {
        if cfg!(target_os = "macos") {
            Resolution::Host
        } else {
            Resolution::Table
        }
    }

    /// Resolves `path` (relative paths against `cwd`).
    pub fn resolve(self, path: &Path, cwd: &Path) -> PathBuf {
        let absolute = normalize(&cwd.join(path));
        match self {
            Resolution::Table => apply_table(&absolute),
            Resolution::Host => canonicalize_existing_prefix(&absolute),
        }
    }
}

/// Removes `.` and `..` lexically from an absolute path.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Rewrites a leading `/tmp`, `/var` or `/etc` to its `/private` target.
pub fn apply_table(path: &Path) -> PathBuf {
    for (link, target) in MACOS_SYMLINKS {
        if let Ok(rest) = path.strip_prefix(link) {
            return Path::new(target).join(rest);
        }
    }
    path.to_path_buf()
}

fn canonicalize_existing_prefix(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut missing = vec![];
    let mut current = path;
    while let Some(parent) = current.parent() {
        if let Some(name) = current.file_name() {
            missing.push(name.to_os_string());
        }
        if let Ok(real) = std::fs::canonicalize(parent) {
            return missing.iter().rev().fold(real, |acc, name| acc.join(name));
        }
        current = parent;
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_maps_the_three_top_level_links_component_wise() {
        let cwd = Path::new("/");
        let r = Resolution::Table;
        assert_eq!(
            r.resolve(Path::new("/tmp/a"), cwd),
            Path::new("/private/tmp/a")
        );
        assert_eq!(
            r.resolve(Path::new("/var/folders/x"), cwd),
            Path::new("/private/var/folders/x")
        );
        assert_eq!(r.resolve(Path::new("/etc"), cwd), Path::new("/private/etc"));
        assert_eq!(
            r.resolve(Path::new("/tmpfoo/a"), cwd),
            Path::new("/tmpfoo/a")
        );
        assert_eq!(
            r.resolve(Path::new("/Users/a/../b/./c/"), cwd),
            Path::new("/Users/b/c")
        );
        assert_eq!(
            r.resolve(Path::new("rel"), Path::new("/Users/a")),
            Path::new("/Users/a/rel")
        );
    }

    #[test]
    fn host_resolution_keeps_a_missing_tail() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(&real, real.join("link")).unwrap();
        let got = Resolution::Host.resolve(&real.join("link/missing/leaf"), Path::new("/"));
        assert_eq!(got, real.join("missing/leaf"));
    }
}
