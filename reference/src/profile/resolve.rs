//! Finding profiles by name or path, and resolving `extends`.
//!
//! A reference that contains `/` or ends in `.json`/`.jsonc` is a path (in `extends`,
//! relative to the file that names it). Anything else is a name: ASCII letters, digits and
//! `-`, not starting or ending with `-`, looked up among the built-in profiles first, then
//! as `NAME.json` (or `NAME.jsonc`) in the user directory `$XDG_CONFIG_HOME/nono/profiles`
//! (`~/.config/nono/profiles` when `XDG_CONFIG_HOME` is unset). Built-ins come first so that
//! a stray user file cannot silently replace a policy everyone relies on.
//!
//! Parents are resolved depth first, merged left to right, and the child is merged on top.
//! A profile already on the current chain is a cycle; a chain of more than
//! [`MAX_DEPTH`] profiles is refused. The same parent reached twice by different routes
//! (a diamond) is fine.

use super::error::{ErrorClass, ProfileError};
use super::format::Profile;
use super::read::parse;
use super::jsonc::{line_column, locate, strip_comments};
use super::merge::merge;
use std::path::{Component, Path, PathBuf};

/// The longest `extends` chain accepted, counting the profile named on the command line.
pub const MAX_DEPTH: usize = 11;

/// The built-in profiles, shipped in `profiles/` at the workspace root.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../../profiles/default.json")),
    ("no-network", include_str!("../../../profiles/no-network.json")),
    ("workdir-readwrite", include_str!("../../../profiles/workdir-readwrite.json")),
    ("rust-dev", include_str!("../../../profiles/rust-dev.json")),
    ("python-dev", include_str!("../../../profiles/python-dev.json")),
    ("node-dev", include_str!("../../../profiles/node-dev.json")),
    ("go-dev", include_str!("../../../profiles/go-dev.json")),
    ("java-dev", include_str!("../../../profiles/java-dev.json")),
    ("linux-host-compat", include_str!("../../../profiles/linux-host-compat.json")),
];

/// Where profiles are looked up.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The user profile directory, if there is one.
    pub user_dir: Option<PathBuf>,
    /// Base for relative paths named on the command line.
    pub cwd: PathBuf,
}

impl Lookup {
    /// From the process environment: `$XDG_CONFIG_HOME/nono/profiles`, else
    /// `$HOME/.config/nono/profiles`. A relative `XDG_CONFIG_HOME` is an error.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>, cwd: PathBuf) -> Result<Lookup, ProfileError> {
        let user_dir = match (env("XDG_CONFIG_HOME"), env("HOME")) {
            (Some(xdg), _) if !xdg.starts_with('/') => {
                return Err(ProfileError::new(
                    ErrorClass::Expansion,
                    "XDG_CONFIG_HOME",
                    "",
                    format!("XDG_CONFIG_HOME={xdg:?} is not an absolute path"),
                ))
            }
            (Some(xdg), _) => Some(PathBuf::from(xdg).join("nono/profiles")),
            (None, Some(home)) if home.starts_with('/') => Some(PathBuf::from(home).join(".config/nono/profiles")),
            _ => None,
        };
        Ok(Lookup { user_dir, cwd })
    }
}

/// Is `reference` usable in `extends` or `--profile`? The error says why not.
pub fn check_reference(reference: &str) -> Result<(), String> {
    if is_path(reference) {
        return Ok(());
    }
    let valid = !reference.is_empty()
        && !reference.starts_with('-')
        && !reference.ends_with('-')
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid profile name {reference:?}: use letters, digits and '-' (not at either end), or a path to a .json file"
        ))
    }
}

fn is_path(reference: &str) -> bool {
    reference.contains('/') || reference.ends_with(".json") || reference.ends_with(".jsonc")
}

/// A located profile: where it came from and its text.
struct Source {
    /// `builtin:NAME` or the canonical path: what cycle detection compares.
    identity: String,
    /// For messages and for resolving relative `extends` paths.
    file: PathBuf,
    text: String,
}

fn find(reference: &str, relative_to: &Path, lookup: &Lookup) -> Result<Source, String> {
    if is_path(reference) {
        // `./x.json` joined to `/dir` reads better as `/dir/x.json` in messages.
        let path: PathBuf = relative_to.join(reference).components().filter(|c| *c != Component::CurDir).collect();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read profile {}: {e}", path.display()))?;
        let identity = path.canonicalize().unwrap_or_else(|_| path.clone()).to_string_lossy().into_owned();
        return Ok(Source { identity, file: path, text });
    }
    check_reference(reference)?;
    if let Some((name, text)) = BUILTIN.iter().find(|(name, _)| *name == reference) {
        let identity = format!("builtin:{name}");
        return Ok(Source { file: PathBuf::from(&identity), identity, text: text.to_string() });
    }
    let mut looked = vec!["the built-in profiles".to_string()];
    if let Some(dir) = &lookup.user_dir {
        for extension in ["json", "jsonc"] {
            let path = dir.join(format!("{reference}.{extension}"));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let identity = path.canonicalize().unwrap_or_else(|_| path.clone()).to_string_lossy().into_owned();
                    return Ok(Source { identity, file: path, text });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => looked.push(path.display().to_string()),
                Err(e) => return Err(format!("cannot read profile {}: {e}", path.display())),
            }
        }
    }
    Err(format!("profile '{reference}' not found (looked in {})", looked.join(", ")))
}

/// The result of resolving a profile: merged, `extends` consumed, nothing expanded yet.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The merged profile.
    pub profile: Profile,
    /// The file of the profile that was named (`builtin:NAME` for built-ins).
    pub file: PathBuf,
    /// Every profile that contributed, parents before children (a diamond's shared parent once).
    pub chain: Vec<PathBuf>,
}

/// Resolves the profile named on the command line.
pub fn resolve(reference: &str, lookup: &Lookup) -> Result<Resolved, Vec<ProfileError>> {
    let source = find(reference, &lookup.cwd, lookup).map_err(|message| {
        let class = if check_reference(reference).is_err() { ErrorClass::InvalidName } else { ErrorClass::NotFound };
        vec![ProfileError::new(class, reference, "", message)]
    })?;
    let file = source.file.clone();
    let mut walk = Walk { lookup, stack: vec![], contributors: vec![] };
    let profile = walk.resolve(source)?;
    Ok(Resolved { profile, file, chain: walk.contributors })
}

struct Walk<'a> {
    lookup: &'a Lookup,
    /// Identities and names on the current chain, for cycle messages.
    stack: Vec<(String, String)>,
    contributors: Vec<PathBuf>,
}

impl Walk<'_> {
    fn resolve(&mut self, source: Source) -> Result<Profile, Vec<ProfileError>> {
        let profile = parse(&source.text, &source.file)?;
        let display_name = source.file.file_stem().map_or(source.identity.clone(), |s| {
            s.to_string_lossy().trim_start_matches("builtin:").to_string()
        });
        self.stack.push((source.identity.clone(), display_name));
        let dir = source.file.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut bases: Option<Profile> = None;
        for (i, reference) in profile.extends.iter().enumerate() {
            let here = |class, message| {
                let path = format!("extends[{i}]");
                let mut error = ProfileError::new(class, &source.file, path.clone(), message);
                if let Ok(json) = strip_comments(&source.text) {
                    error.position = locate(&json, &path).map(|offset| line_column(&json, offset));
                }
                vec![error]
            };
            let parent = find(reference, &dir, self.lookup).map_err(|m| here(ErrorClass::NotFound, format!("base {m}")))?;
            if let Some(at) = self.stack.iter().position(|(identity, _)| *identity == parent.identity) {
                let mut names: Vec<&str> = self.stack[at..].iter().map(|(_, name)| name.as_str()).collect();
                names.push(&self.stack[at].1);
                return Err(here(ErrorClass::Cycle, format!("circular extends: {}", names.join(" -> "))));
            }
            if self.stack.len() >= MAX_DEPTH {
                return Err(here(
                    ErrorClass::TooDeep,
                    format!("extends chain too deep: more than {MAX_DEPTH} profiles, at '{reference}'"),
                ));
            }
            let resolved = self.resolve(parent)?;
            bases = Some(match bases {
                None => resolved,
                Some(earlier) => merge(earlier, resolved),
            });
        }
        self.stack.pop();
        if !self.contributors.contains(&source.file) {
            self.contributors.push(source.file.clone());
        }
        Ok(match bases {
            None => Profile { extends: vec![], schema: None, ..profile },
            Some(base) => merge(base, profile),
        })
    }
}
