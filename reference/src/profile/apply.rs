//! Applying a resolved, expanded profile to the program's environment.
//!
//! The profile's grants (filesystem, working directory, network) become capabilities in
//! [`crate::policy`], together with the flags', by one path for every command.

use super::format::Profile;
use std::ffi::OsString;

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
    use crate::profile::read::parse;
    use std::path::Path;

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
