//! Turning a resolved, expanded profile into what `run` enforces: filesystem and network
//! capabilities, and the program's environment.
//!
//! A profile path that does not exist is skipped with a warning (profiles are shared
//! between machines; `~/.pyenv` is absent on many), whereas a command-line flag naming a
//! missing path is an error. Anything else wrong with a path (a file where a directory is
//! required) is an error, and so is a `deny` entry that a grant covers: Landlock cannot
//! carve a hole out of a granted directory, so the run is refused rather than weaker.

use super::format::{Profile, WorkdirAccess};
use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Adds the profile's grants to `caps`; returns warnings for skipped paths.
pub fn add_capabilities(profile: &Profile, caps: &mut CapabilitySet, workdir: &Path) -> Result<Vec<String>> {
    let mut warnings = vec![];
    let fs = &profile.filesystem;
    let lists: [(&str, &Vec<String>, AccessMode, Kind); 6] = [
        ("allow", &fs.allow, AccessMode::ReadWrite, Kind::Directory),
        ("read", &fs.read, AccessMode::Read, Kind::Either),
        ("write", &fs.write, AccessMode::Write, Kind::Directory),
        ("allow_file", &fs.allow_file, AccessMode::ReadWrite, Kind::File),
        ("read_file", &fs.read_file, AccessMode::Read, Kind::File),
        ("write_file", &fs.write_file, AccessMode::Write, Kind::File),
    ];
    for (key, paths, access, kind) in lists {
        for (i, path) in paths.iter().enumerate() {
            let label = format!("profile filesystem.{key}[{i}]");
            let path = Path::new(path);
            let is_file = match kind {
                Kind::Directory => false,
                Kind::File => true,
                Kind::Either => path.is_file(),
            };
            let cap = if is_file {
                FsCapability::file(&label, path, access, Source::User)
            } else {
                FsCapability::directory(&label, path, access, Source::User)
            };
            match cap {
                Ok(cap) => caps.add(cap),
                Err(Error::PathNotFound { flag, path }) => {
                    warnings.push(format!("{flag} {}: path does not exist; skipped", path.display()))
                }
                Err(other) => return Err(other),
            }
        }
    }
    let workdir_access = match profile.workdir.access {
        WorkdirAccess::None => None,
        WorkdirAccess::Read => Some(AccessMode::Read),
        WorkdirAccess::Write => Some(AccessMode::Write),
        WorkdirAccess::Readwrite => Some(AccessMode::ReadWrite),
    };
    if let Some(access) = workdir_access {
        caps.add(FsCapability::directory("profile workdir.access", workdir, access, Source::User)?);
    }
    check_denies(&fs.deny, caps)?;
    caps.network.block |= profile.network.block;
    for port in &profile.network.connect_port {
        if !caps.network.connect_ports.contains(port) {
            caps.network.connect_ports.push(*port);
        }
    }
    for port in &profile.network.listen_port {
        if !caps.network.bind_ports.contains(port) {
            caps.network.bind_ports.push(*port);
        }
    }
    Ok(warnings)
}

enum Kind {
    Directory,
    File,
    Either,
}

/// A deny path inside (or equal to) any granted path is a conflict Landlock cannot enforce.
fn check_denies(denies: &[String], caps: &CapabilitySet) -> Result<()> {
    for (i, deny) in denies.iter().enumerate() {
        let deny_path = Path::new(deny);
        let resolved: PathBuf = deny_path.canonicalize().unwrap_or_else(|_| deny_path.to_path_buf());
        if let Some(grant) = caps.fs.iter().find(|c| resolved.starts_with(&c.resolved)) {
            return Err(Error::PolicyConflict(format!(
                "profile filesystem.deny[{i}] {deny} lies inside the grant {} (from {}); Landlock cannot deny part of a granted directory, so the run is refused",
                grant.resolved.display(),
                grant.original.display()
            )));
        }
    }
    Ok(())
}

/// The program's environment under the profile, applied in this order to the (already
/// scrubbed) inherited variables: names in `mediation.env.block` and matches of
/// `environment.deny_vars` are removed; when `allow_vars` is present only its matches
/// stay; then `set_vars` are set.
pub fn environment(inherited: Vec<(OsString, OsString)>, profile: &Profile) -> Vec<(OsString, OsString)> {
    let env = &profile.environment;
    let mut out: Vec<(OsString, OsString)> = inherited
        .into_iter()
        .filter(|(name, _)| {
            let Some(name) = name.to_str() else { return env.allow_vars.is_none() };
            let blocked = profile.mediation.env.block.iter().any(|b| b == name);
            let denied = env.deny_vars.iter().any(|p| matches(p, name));
            let allowed = env.allow_vars.as_ref().is_none_or(|patterns| patterns.iter().any(|p| matches(p, name)));
            !blocked && !denied && allowed
        })
        .collect();
    for (name, value) in &env.set_vars {
        out.retain(|(n, _)| n != name.as_str());
        out.push((name.into(), value.into()));
    }
    out
}

/// `*` matches everything, `PREFIX*` a prefix, anything else exactly.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::format::parse;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn environment_rules_apply_in_order() {
        let profile = parse(
            r#"{"environment": {"allow_vars": ["KEEP_*", "GH_TOKEN", "SECRET"], "deny_vars": ["SECRET"], "set_vars": {"KEEP_NEW": "v"}},
                "mediation": {"env": {"block": ["GH_TOKEN"]}}}"#,
            Path::new("p"),
        )
        .unwrap();
        let out = environment(env(&[("KEEP_A", "1"), ("GH_TOKEN", "t"), ("SECRET", "s"), ("OTHER", "o")]), &profile);
        assert_eq!(out, env(&[("KEEP_A", "1"), ("KEEP_NEW", "v")]));
    }
}
