//! How a child profile is laid over its base.
//!
//! | field | rule |
//! |---|---|
//! | lists (`filesystem.*`, ports, `deny_vars`, `mediation.env.block`) | base items in base order, then the child's new items (no duplicates) |
//! | `network.block` | either side blocks |
//! | `network.allow_domain` | by domain, base order first; endpoint rules of a shared domain unioned |
//! | `network.custom_credentials` | per name, the child wins |
//! | `meta` | the child's |
//! | `workdir.access` | the child's, unless the child says `none` (a child cannot quietly drop an inherited grant by omission) |
//! | `environment.allow_vars` | absent in the child: the base's; otherwise base then child, no duplicates |
//! | `environment.set_vars` | per key, the child wins |
//! | `mediation.commands` | by name: base commands first, then the child's new names; a shared name merges field by field ([`merge_command`]) |
//!
//! Merging is exact on the strings as written: `$HOME/x` and `/home/u/x` are different
//! items here, and `args_prefix` lists are compared before expansion.

use super::format::*;
use std::collections::HashSet;
use std::hash::Hash;

/// `base` with `child` laid over it. `extends` of the result is empty.
pub fn merge(base: Profile, child: Profile) -> Profile {
    Profile {
        schema: None,
        extends: vec![],
        meta: child.meta,
        filesystem: Filesystem {
            allow: union(base.filesystem.allow, child.filesystem.allow),
            read: union(base.filesystem.read, child.filesystem.read),
            write: union(base.filesystem.write, child.filesystem.write),
            allow_file: union(base.filesystem.allow_file, child.filesystem.allow_file),
            read_file: union(base.filesystem.read_file, child.filesystem.read_file),
            write_file: union(base.filesystem.write_file, child.filesystem.write_file),
            deny: union(base.filesystem.deny, child.filesystem.deny),
        },
        network: Network {
            block: base.network.block || child.network.block,
            connect_port: union(base.network.connect_port, child.network.connect_port),
            listen_port: union(base.network.listen_port, child.network.listen_port),
            allow_domain: merge_allow_domain(base.network.allow_domain, child.network.allow_domain),
            custom_credentials: {
                let mut credentials = base.network.custom_credentials;
                credentials.extend(child.network.custom_credentials);
                credentials
            },
        },
        workdir: match child.workdir.access {
            WorkdirAccess::None => base.workdir,
            _ => child.workdir,
        },
        environment: Environment {
            allow_vars: match (base.environment.allow_vars, child.environment.allow_vars) {
                (base, None) => base,
                (None, child) => child,
                (Some(base), Some(child)) => Some(union(base, child)),
            },
            deny_vars: union(base.environment.deny_vars, child.environment.deny_vars),
            set_vars: {
                let mut vars = base.environment.set_vars;
                vars.extend(child.environment.set_vars);
                vars
            },
        },
        mediation: merge_mediation(base.mediation, child.mediation),
    }
}

/// `allow_domain` entries by domain, base order first; a domain on both sides gets the
/// union of their endpoint rules (so a plain host that gains rules takes the object form).
pub fn merge_allow_domain(base: Vec<AllowDomain>, child: Vec<AllowDomain>) -> Vec<AllowDomain> {
    let mut out: Vec<AllowDomain> = Vec::with_capacity(base.len() + child.len());
    for entry in base.into_iter().chain(child) {
        match out.iter_mut().find(|seen| seen.domain() == entry.domain()) {
            Some(seen) if !entry.endpoints().is_empty() => {
                let endpoints = union(seen.endpoints().to_vec(), entry.endpoints().to_vec());
                *seen = AllowDomain::WithEndpoints { domain: entry.domain().to_string(), endpoints };
            }
            Some(_) => {}
            None => out.push(entry),
        }
    }
    out
}

/// Base items in order, then the child's items the result does not have yet.
pub fn union<T: Eq + Hash + Clone>(base: Vec<T>, child: Vec<T>) -> Vec<T> {
    // A set keeps this linear: profiles with thousands of paths are realistic.
    let mut seen = HashSet::with_capacity(base.len() + child.len());
    let mut out = Vec::with_capacity(base.len() + child.len());
    for item in base.into_iter().chain(child) {
        if seen.insert(item.clone()) {
            out.push(item);
        }
    }
    out
}

/// Commands keyed by name (base order, then names new in the child); `env.block` unioned.
pub fn merge_mediation(base: Mediation, child: Mediation) -> Mediation {
    let mut child_commands = child.commands;
    let mut commands = Vec::with_capacity(base.commands.len() + child_commands.len());
    for base_command in base.commands {
        match child_commands.iter().position(|c| c.name == base_command.name) {
            Some(i) => commands.push(merge_command(base_command, child_commands.remove(i))),
            None => commands.push(base_command),
        }
    }
    commands.extend(child_commands);
    Mediation { commands, env: MediationEnv { block: union(base.env.block, child.env.block) } }
}

/// Two entries for the same command:
/// * `binary_path`: the child's when it has one;
/// * `intercept`: the child's rules first, then base rules whose `args_prefix` no child rule
///   has, so that under first-match-wins a child overrides a base rule;
/// * `sandbox`: merged field by field when both have one, else whichever exists;
/// * `caller_policy`: `agent_allowed` only if both allow (a managed deny survives a permissive
///   child); `allowed_parents` the intersection when both restrict (in base order).
pub fn merge_command(base: Command, child: Command) -> Command {
    let mut intercept = child.intercept;
    let child_prefixes: Vec<Vec<String>> = intercept.iter().map(|r| r.args_prefix.clone()).collect();
    intercept.extend(base.intercept.into_iter().filter(|r| !child_prefixes.contains(&r.args_prefix)));
    Command {
        name: child.name,
        binary_path: child.binary_path.or(base.binary_path),
        intercept,
        sandbox: match (base.sandbox, child.sandbox) {
            (Some(b), Some(c)) => Some(merge_command_sandbox(b, c)),
            (b, c) => c.or(b),
        },
        caller_policy: CallerPolicy {
            agent_allowed: base.caller_policy.agent_allowed && child.caller_policy.agent_allowed,
            allowed_parents: match (base.caller_policy.allowed_parents, child.caller_policy.allowed_parents) {
                (Some(b), Some(c)) => Some(b.into_iter().filter(|p| c.contains(p)).collect()),
                (b, c) => b.or(c),
            },
        },
    }
}

fn merge_command_sandbox(base: CommandSandbox, child: CommandSandbox) -> CommandSandbox {
    CommandSandbox {
        network: CommandNetwork {
            block: base.network.block || child.network.block,
            allowed_hosts: union(base.network.allowed_hosts, child.network.allowed_hosts),
        },
        fs_read: union(base.fs_read, child.fs_read),
        fs_read_file: union(base.fs_read_file, child.fs_read_file),
        fs_write: union(base.fs_write, child.fs_write),
        fs_write_file: union(base.fs_write_file, child.fs_write_file),
        allow_commands: union(base.allow_commands, child.allow_commands),
        // OR, as the fork merged it before the seed removed the field; it grants nothing.
        keychain_access: base.keychain_access || child.keychain_access,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::read::parse;
    use std::path::Path;

    fn p(json: &str) -> Profile {
        parse(json, Path::new("t.json")).unwrap()
    }

    #[test]
    fn merging_with_an_empty_side_changes_nothing() {
        let full = p(r#"{"filesystem": {"read": ["/a"]}, "network": {"block": true},
            "mediation": {"commands": [{"name": "gh"}], "env": {"block": ["T"]}}}"#);
        assert_eq!(merge(Profile::default(), full.clone()), full);
        let mut expected = full.clone();
        expected.meta = Meta::default();
        assert_eq!(merge(full, Profile::default()), expected);
    }

    #[test]
    fn intercept_rules_child_first_then_unshadowed_base_rules() {
        let base = p(r#"{"mediation": {"commands": [{"name": "gh", "intercept": [
            {"args_prefix": ["auth"], "action": {"type": "capture"}},
            {"args_prefix": ["pr"], "action": {"type": "respond", "stdout": "base"}}]}]}}"#);
        let child = p(r#"{"mediation": {"commands": [{"name": "gh", "intercept": [
            {"args_prefix": ["pr"], "action": {"type": "respond", "stdout": "child"}}]}]}}"#);
        let merged = merge(base, child).mediation.commands.remove(0);
        let prefixes: Vec<_> = merged.intercept.iter().map(|r| r.args_prefix.join(" ")).collect();
        assert_eq!(prefixes, ["pr", "auth"]);
        assert_eq!(merged.intercept[0].action, Action::Respond { stdout: "child".into(), exit_code: 0 });
    }

    #[test]
    fn caller_policy_is_the_stricter_of_both() {
        let base = p(r#"{"mediation": {"commands": [{"name": "gh", "caller_policy": {"agent_allowed": false, "allowed_parents": ["git", "make"]}}]}}"#);
        let child = p(r#"{"mediation": {"commands": [{"name": "gh", "caller_policy": {"allowed_parents": ["make", "npm"]}}]}}"#);
        let policy = merge(base, child).mediation.commands.remove(0).caller_policy;
        assert!(!policy.agent_allowed);
        assert_eq!(policy.allowed_parents, Some(vec!["make".to_string()]));
    }
}
