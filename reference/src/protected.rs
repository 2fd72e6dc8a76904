//! Protected paths: nono's state roots and the sensitive paths of its deny groups.
//!
//! nono keeps credentials (`~/.ssh`, `~/.aws`, package-manager tokens), shell start-up and
//! history files, keyrings and browser profiles unreadable even under a broad grant such as
//! `--allow ~` (core-spec DENY-01), and never lets a grant reach its own state roots
//! `~/.nono` and `$XDG_STATE_HOME/nono` (DENY-06).
//!
//! Landlock can only add rights, never carve a hole out of a granted directory, so on
//! Linux the only safe answer to a grant that would expose a protected path is to refuse
//! the run (nono does the same for ancestors, DENY-05 and DENY-06). The reference refuses
//! every overlap: a grant that *is* a protected path, lies *inside* one, or *contains* one.
//! (nono 0.66 lets a directory grant equal to a deny path through on Linux, core-spec D4;
//! refusing it is the safe reading.) Paths are compared component by component, so
//! `~/.sshfoo` is not `~/.ssh` (DENY-08), in both their written and their resolved form, so
//! a symlinked home or `~/.ssh` is still recognised.

use crate::capability::{CapabilitySet, FsCapability};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The deny groups that apply on every platform and on Linux (core-spec DENY-01), as
/// (group, paths relative to the home directory).
pub const HOME_DENY_GROUPS: &[(&str, &[&str])] = &[
    (
        "deny_credentials",
        &[
            ".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".gcloud", ".kube", ".docker",
            ".git-credentials", ".netrc", ".npmrc", ".vault-token", ".credentials", ".secrets", ".keys",
            ".pki", ".terraform.d", ".config/op",
        ],
    ),
    ("deny_keychains_linux", &[".password-store", ".1password", ".op", ".local/share/keyrings"]),
    (
        "deny_browser_data_linux",
        &[
            ".config/google-chrome", ".config/chromium", ".mozilla/firefox", ".config/microsoft-edge",
            ".config/BraveSoftware", ".config/vivaldi", ".config/opera",
        ],
    ),
    ("deny_shell_history", &[".bash_history", ".zsh_history", ".history", ".python_history"]),
    (
        "deny_shell_configs",
        &[
            ".zshrc", ".zprofile", ".zshenv", ".zlogin", ".zlogout", ".bashrc", ".bash_profile",
            ".bash_login", ".bash_logout", ".profile", ".config/fish", ".env", ".envrc",
        ],
    ),
];

/// What kind of protection a path has; it decides the wording of the refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// nono's own state (DENY-06).
    StateRoot,
    /// A sensitive path of a deny group (DENY-01), named by the group.
    Sensitive(&'static str),
}

/// One protected path, in the form it was written (home joined) and resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protected {
    /// `$HOME/.ssh`, as written.
    pub path: PathBuf,
    /// The same with every existing symlink resolved (the path need not exist).
    pub resolved: PathBuf,
    /// Why it is protected.
    pub kind: Kind,
}

impl Protected {
    /// True when `grant` equals this path, lies beneath it, or contains it.
    pub fn overlaps(&self, grant: &Path) -> bool {
        let grant = Normalized::new(grant);
        [&self.path, &self.resolved].iter().any(|p| Normalized::new(p).overlaps(&grant))
    }
}

/// A path rebuilt from its components, so that comparing bytes at `/` boundaries is
/// comparing components (`a//b/./c` is `a/b/c`, as for [`Path::starts_with`]). A run
/// checks dozens of grants against dozens of protected paths: byte comparisons keep that
/// to microseconds.
struct Normalized(PathBuf);

impl Normalized {
    fn new(path: &Path) -> Normalized {
        Normalized(path.components().collect())
    }

    fn bytes(&self) -> &[u8] {
        use std::os::unix::ffi::OsStrExt;
        self.0.as_os_str().as_bytes()
    }

    /// `self` is `outer` or lies beneath it.
    fn within(&self, outer: &Normalized) -> bool {
        let (inner, outer) = (self.bytes(), outer.bytes());
        inner.starts_with(outer) && (inner.len() == outer.len() || outer.ends_with(b"/") || inner[outer.len()] == b'/')
    }

    fn overlaps(&self, other: &Normalized) -> bool {
        self.within(other) || other.within(self)
    }
}

/// Canonicalises the longest existing prefix of `path` and re-appends the rest (nono's
/// `try_canonicalize`, core-spec CAP-05): protected paths need not exist.
pub fn resolve_existing_prefix(path: &Path) -> PathBuf {
    Prefixes::default().resolve(path)
}

/// [`resolve_existing_prefix`] for many paths that share ancestors, each ancestor looked up
/// once: the protected paths all lie in the home directory, nine of them in `~/.config`,
/// and most do not exist, so each costs one failed lookup.
#[derive(Default)]
struct Prefixes {
    /// Paths looked up so far: their resolved form, or None for one that does not exist.
    looked_up: std::collections::HashMap<PathBuf, Option<PathBuf>>,
}

impl Prefixes {
    fn resolve(&mut self, path: &Path) -> PathBuf {
        let mut missing = vec![];
        let mut prefix = path;
        loop {
            let real = match self.looked_up.get(prefix) {
                Some(known) => known.clone(),
                None => {
                    let real = crate::capability::canonicalize(prefix).ok().map(|real| real.path);
                    self.looked_up.insert(prefix.to_path_buf(), real.clone());
                    real
                }
            };
            if let Some(real) = real {
                return missing.iter().rev().fold(real, |acc: PathBuf, c| acc.join(c));
            }
            match (prefix.parent(), prefix.file_name()) {
                (Some(parent), Some(name)) => {
                    missing.push(name.to_owned());
                    prefix = parent;
                }
                _ => return path.to_path_buf(),
            }
        }
    }
}

/// The protected paths for a home directory and an `XDG_STATE_HOME` (absolute, or None
/// for the default `~/.local/state`). Without a home only nothing home-relative can be
/// protected, and then nothing is.
pub fn protected_paths(home: Option<&Path>, xdg_state_home: Option<&Path>) -> Vec<Protected> {
    let Some(home) = home else { return vec![] };
    let state = xdg_state_home.map(Path::to_path_buf).unwrap_or_else(|| home.join(".local/state"));
    let mut prefixes = Prefixes::default();
    let mut protect = |path: PathBuf, kind: Kind| Protected { resolved: prefixes.resolve(&path), path, kind };
    let mut out = vec![protect(home.join(".nono"), Kind::StateRoot), protect(state.join("nono"), Kind::StateRoot)];
    for (group, paths) in HOME_DENY_GROUPS {
        out.extend(paths.iter().map(|p| protect(home.join(p), Kind::Sensitive(group))));
    }
    out
}

/// The protected paths of this process: `HOME` (else the account's home directory) and
/// `XDG_STATE_HOME` when absolute.
pub fn for_this_process() -> Vec<Protected> {
    let absolute = |name| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let home = absolute("HOME").or_else(|| {
        nix::unistd::User::from_uid(nix::unistd::getuid()).ok().flatten().map(|u| u.dir).filter(|d| d.is_absolute())
    });
    protected_paths(home.as_deref(), absolute("XDG_STATE_HOME").as_deref())
}

/// Refuses a capability set in which some grant overlaps a protected path.
pub fn check(caps: &CapabilitySet, protected: &[Protected]) -> Result<()> {
    let forms: Vec<[Normalized; 2]> = protected.iter().map(|p| [Normalized::new(&p.path), Normalized::new(&p.resolved)]).collect();
    for cap in &caps.fs {
        let grant = Normalized::new(&cap.resolved);
        if let Some((p, _)) = protected.iter().zip(&forms).find(|(_, forms)| forms.iter().any(|f| f.overlaps(&grant))) {
            return Err(refusal(cap, p));
        }
    }
    Ok(())
}

/// Applies `--bypass-protection`: each named path (and what lies beneath it) leaves the
/// protected list, provided a user grant covers it (nono's rule, core-spec CLI-10: a bypass
/// only relaxes the protection, it never grants). A bypass no grant covers is an error.
pub fn bypass(protected: Vec<Protected>, paths: &[PathBuf], caps: &CapabilitySet) -> Result<Vec<Protected>> {
    let mut kept = protected;
    for path in paths {
        let resolved = resolve_existing_prefix(&std::path::absolute(path).unwrap_or_else(|_| path.clone()));
        let covered = caps.fs.iter().any(|cap| {
            cap.source == crate::capability::Source::User
                && if cap.is_file { cap.resolved == resolved } else { resolved.starts_with(&cap.resolved) }
        });
        if !covered {
            return Err(Error::ProtectedPath(format!(
                "--bypass-protection {}: bypass_protection '{}' has no matching grant (add --allow, --read or --write covering it)",
                path.display(),
                path.display()
            )));
        }
        kept.retain(|p| !(p.path.starts_with(path) || p.resolved.starts_with(&resolved)));
    }
    Ok(kept)
}

fn refusal(cap: &FsCapability, p: &Protected) -> Error {
    let what = match p.kind {
        Kind::StateRoot => "overlaps protected nono state root".to_string(),
        Kind::Sensitive(group) => format!("would expose the protected path (group {group})"),
    };
    Error::ProtectedPath(format!(
        "the {} grant on {} ({}) {what} {}; Landlock cannot keep part of a grant denied, so the run is refused (grant a narrower directory)",
        cap.source.label(),
        cap.original.display(),
        cap.access.label(),
        p.path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{AccessMode, Source};

    fn grant(dir: &Path) -> CapabilitySet {
        let mut caps = CapabilitySet::new();
        caps.add(FsCapability::directory("--allow", dir, AccessMode::ReadWrite, Source::User).unwrap());
        caps
    }

    #[test]
    fn byte_comparison_of_normalized_paths_is_component_comparison() {
        let within = |inner: &str, outer: &str| Normalized::new(Path::new(inner)).within(&Normalized::new(Path::new(outer)));
        for (inner, outer, want) in [
            ("/a/b", "/a", true),
            ("/a", "/a", true),
            ("/a//b/./c", "/a/b/", true),
            ("/ab", "/a", false),
            ("/a", "/a/b", false),
            ("/anything", "/", true),
        ] {
            assert_eq!(within(inner, outer), want, "{inner} within {outer}");
            assert_eq!(Path::new(inner).starts_with(outer), want, "std disagrees on {inner} within {outer}");
        }
    }

    #[test]
    fn home_grant_is_refused_naming_grant_and_path() {
        let home = tempfile::tempdir().unwrap();
        let protected = protected_paths(Some(home.path()), None);
        let err = check(&grant(home.path()), &protected).unwrap_err().to_string();
        assert!(err.contains(home.path().to_str().unwrap()), "{err}");
        assert!(err.contains("overlaps protected nono state root"), "{err}");
    }

    #[test]
    fn grants_inside_or_equal_are_refused_and_siblings_pass() {
        let home = tempfile::tempdir().unwrap();
        for dir in [".ssh", ".ssh/keys", ".nono/rollbacks", ".config/gcloud"] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        for dir in [".sshfoo", ".config/other", "project"] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        let protected = protected_paths(Some(home.path()), None);
        for refused in [".ssh", ".ssh/keys", ".nono/rollbacks", ".config"] {
            assert!(check(&grant(&home.path().join(refused)), &protected).is_err(), "{refused} accepted");
        }
        for allowed in [".sshfoo", ".config/other", "project"] {
            assert!(check(&grant(&home.path().join(allowed)), &protected).is_ok(), "{allowed} refused");
        }
    }

    #[test]
    fn a_bypass_lifts_one_path_and_needs_a_covering_grant() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker")).unwrap();
        let docker = home.path().join(".docker");
        let protected = protected_paths(Some(home.path()), None);
        let caps = grant(&docker);
        assert!(check(&caps, &protected).is_err(), "~/.docker is protected");
        let lifted = bypass(protected.clone(), std::slice::from_ref(&docker), &caps).unwrap();
        assert!(check(&caps, &lifted).is_ok());
        assert_eq!(lifted.len(), protected.len() - 1, "only ~/.docker leaves the list");
        // No grant covers ~/.ssh, so it cannot be bypassed.
        let err = bypass(protected, &[home.path().join(".ssh")], &caps).unwrap_err().to_string();
        assert!(err.contains("no matching grant"), "{err}");
    }

    #[test]
    fn a_missing_tail_keeps_its_resolved_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        assert_eq!(resolve_existing_prefix(&dir.path().join("a/b")), real.join("a/b"));
    }
}
