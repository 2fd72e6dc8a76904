//! Profiles: nono's JSON policy files, with inheritance and variable expansion.
//!
//! A profile is loaded in four steps, one module each:
//!
//! 1. [`read`]: the file is read as JSONC (comments allowed, [`jsonc`]) into the typed
//!    structs of [`format`](mod@format), which reject unknown keys and wrong types, then checked for
//!    what types cannot say (environment patterns, names a profile may not set, duplicate
//!    commands). Every error names the file, the JSON path and, where known, the line and
//!    column ([`error`]).
//! 2. [`resolve`]: `extends` is followed (built-ins first, then the user directory, or a
//!    path), cycles and over-deep chains are refused.
//! 3. [`merge`]: parents are merged left to right and the child on top, by per-field rules.
//! 4. [`expand`]: `~`, `$HOME`, `$WORKDIR`, `$TMPDIR`, `$XDG_*` and other `$VARS` in path
//!    fields are replaced from the environment.
//!
//! [`apply`] then applies it to the program's environment; its grants become capabilities in
//! [`crate::policy`].
//!
//! ```
//! use nono_reference::profile::{self, expand::Vars, resolve::Lookup};
//! let lookup = Lookup { user_dir: None, cwd: "/".into() };
//! let vars = Vars::new([("HOME".to_string(), "/home/u".to_string())].into(), "/work".into());
//! let resolved = profile::load("no-network", &lookup, &vars).unwrap();
//! assert!(resolved.profile.network.block);
//! ```

pub mod apply;
pub mod error;
pub mod expand;
pub mod format;
pub mod jsonc;
pub mod merge;
pub mod read;
pub mod resolve;

pub use error::{ErrorClass, ProfileError};
pub use format::Profile;
pub use resolve::Resolved;

/// Resolves, merges and expands a profile named on the command line.
pub fn load(reference: &str, lookup: &resolve::Lookup, vars: &expand::Vars) -> Result<Resolved, Vec<ProfileError>> {
    let mut resolved = resolve::resolve(reference, lookup)?;
    expand::expand_profile(&mut resolved.profile, vars).map_err(|(path, e)| {
        vec![ProfileError::new(ErrorClass::Expansion, &resolved.file, path, e.reason)]
    })?;
    // Only now is it known whether `~tools/gh` or `$DIR/gh` became an absolute path.
    for (i, command) in resolved.profile.mediation.commands.iter().enumerate() {
        if let Some(binary) = command.binary_path.as_deref().filter(|b| !b.starts_with('/')) {
            return Err(vec![ProfileError::new(
                ErrorClass::InvalidValue,
                &resolved.file,
                format!("mediation.commands[{i}].binary_path"),
                format!("binary_path {binary:?} is not an absolute path after expansion"),
            )]);
        }
    }
    Ok(resolved)
}

/// The resolved profile as JSON, every field present (defaults included), for
/// `profile show --json`.
pub fn to_json(profile: &Profile) -> serde_json::Value {
    serde_json::to_value(profile).expect("a profile always serialises")
}
