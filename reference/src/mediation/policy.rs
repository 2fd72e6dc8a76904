//! What the mediation server does with a request: the evaluation order of the seed pull
//! request, as a pure function of the merged `mediation` block, the caller and the argv.
//!
//! 1. A command the profile does not configure is `unknown` (exit 127).
//! 2. The caller policy: the agent needs `agent_allowed`; a mediated parent needs to be in
//!    `allowed_parents` when that list is given. Refusal is `denied` (exit 126).
//! 3. A mediated parent whose sandbox lists this command in `allow_commands` runs it
//!    directly: streamed, without intercepts or a sandbox of its own.
//! 4. Intercept rules in order; the first whose `args_prefix` matches decides.
//! 5. No match: passthrough, streamed, under the command's own sandbox.
//!
//! The caller is established by the server from a context token it issued itself (see
//! [`Caller`]); nothing the agent writes into its environment can make it a parent.

use crate::profile::format::{Action, Command, CommandSandbox, Mediation};

/// Who is calling: the agent, or a mediated command the server itself started (identified
/// by a context token only the server issues, kept apart from credential nonces, so that
/// a credential nonce the agent holds can never pass for a parent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Agent,
    Parent(String),
}

/// The server's decision.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision<'a> {
    /// Not configured: exit 127.
    Unknown,
    /// Refused by the caller policy: exit 126 with this message.
    Denied(String),
    /// A parent's `allow_commands` entry: run the real binary streamed, no sandbox.
    Direct(&'a Command),
    /// An intercept rule matched.
    Intercept { command: &'a Command, action: &'a Action, admin: bool },
    /// No rule matched: run the real binary streamed under its own sandbox (if any).
    Passthrough { command: &'a Command, sandbox: Option<&'a CommandSandbox> },
}

impl Decision<'_> {
    /// The audit `action_type`.
    pub fn action_type(&self) -> &'static str {
        match self {
            Decision::Unknown => "unknown",
            Decision::Denied(_) => "denied",
            Decision::Direct(_) | Decision::Passthrough { .. } => "passthrough",
            Decision::Intercept { action, .. } => match action {
                Action::Respond { .. } => "respond",
                Action::Capture { .. } => "capture",
                Action::Approve { .. } => "approve",
            },
        }
    }
}

/// Evaluates a request.
pub fn evaluate<'a>(config: &'a Mediation, caller: &Caller, command: &str, args: &[String]) -> Decision<'a> {
    // Duplicate names are refused when the profile loads; the first entry is the one.
    let Some(entry) = config.commands.iter().find(|c| c.name == command) else {
        return Decision::Unknown;
    };
    let policy = &entry.caller_policy;
    match caller {
        Caller::Agent if !policy.agent_allowed => {
            return Decision::Denied(format!("'{command}' cannot be invoked from the agent's sandbox"));
        }
        Caller::Parent(parent) => {
            if let Some(allowed) = &policy.allowed_parents {
                if !allowed.contains(parent) {
                    return Decision::Denied(format!("'{command}' cannot be invoked from '{parent}'"));
                }
            }
            let parent_allows = config
                .commands
                .iter()
                .find(|c| c.name == *parent)
                .and_then(|p| p.sandbox.as_ref())
                .is_some_and(|s| s.allow_commands.iter().any(|c| c == command));
            if parent_allows {
                return Decision::Direct(entry);
            }
        }
        Caller::Agent => {}
    }
    for rule in &entry.intercept {
        if prefix_matches(&rule.args_prefix, args) {
            return Decision::Intercept { command: entry, action: &rule.action, admin: rule.admin };
        }
    }
    Decision::Passthrough { command: entry, sandbox: entry.sandbox.as_ref() }
}

/// The positional arguments: every argument that does not start with `-`. Flag values
/// therefore count as positionals (`-R owner/repo pr list` has positionals
/// `owner/repo pr list`), as in the seed pull request.
pub fn positional(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).filter(|a| !a.starts_with('-')).collect()
}

/// Does `prefix` match the start of the positional arguments, exactly and case-sensitively?
/// An empty prefix matches everything.
pub fn prefix_matches(prefix: &[String], args: &[String]) -> bool {
    let positional = positional(args);
    prefix.len() <= positional.len() && prefix.iter().zip(&positional).all(|(p, a)| p == a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::read::parse;
    use rstest::rstest;
    use std::path::Path;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[rstest]
    #[case(&["auth", "github", "token"], &["--debug", "auth", "github", "token"], true)]
    #[case(&["auth", "github", "token"], &["auth", "--verbose", "github", "token"], true)]
    #[case(&["auth", "github", "token"], &["auth", "github"], false)]
    #[case(&["auth", "github", "token"], &["auth", "github", "token", "extra"], true)]
    #[case(&["auth"], &["Auth"], false)]
    #[case(&[], &[], true)]
    #[case(&["find", "gh:x"], &["find", "-s", "gh:x"], true)]
    #[case(&["find", "gh:x"], &["find", "-a", "me", "-s", "gh:x"], false)]
    fn matching(#[case] prefix: &[&str], #[case] args: &[&str], #[case] expected: bool) {
        assert_eq!(prefix_matches(&strings(prefix), &strings(args)), expected);
    }

    fn config() -> Mediation {
        parse(
            r#"{"mediation": {"commands": [
                {"name": "gh", "intercept": [
                    {"args_prefix": ["auth", "token"], "action": {"type": "capture"}},
                    {"args_prefix": ["auth"], "action": {"type": "respond", "stdout": "ok"}}],
                 "sandbox": {"allow_commands": ["git"]}},
                {"name": "git", "caller_policy": {"agent_allowed": false, "allowed_parents": ["gh"]}},
                {"name": "vault", "caller_policy": {"allowed_parents": []}}]}}"#,
            Path::new("t"),
        )
        .unwrap()
        .mediation
    }

    #[test]
    fn evaluation_order() {
        let c = config();
        let agent = Caller::Agent;
        assert_eq!(evaluate(&c, &agent, "curl", &[]).action_type(), "unknown");
        assert_eq!(evaluate(&c, &agent, "gh", &strings(&["auth", "token"])).action_type(), "capture");
        assert_eq!(evaluate(&c, &agent, "gh", &strings(&["auth", "status"])).action_type(), "respond");
        assert_eq!(evaluate(&c, &agent, "gh", &strings(&["pr", "list"])).action_type(), "passthrough");
        assert_eq!(evaluate(&c, &agent, "git", &[]).action_type(), "denied");
        assert!(matches!(evaluate(&c, &Caller::Parent("gh".into()), "git", &[]), Decision::Direct(_)));
        assert_eq!(evaluate(&c, &Caller::Parent("other".into()), "git", &[]).action_type(), "denied");
        assert_eq!(evaluate(&c, &Caller::Parent("gh".into()), "vault", &[]).action_type(), "denied");
        assert_eq!(evaluate(&c, &agent, "vault", &[]).action_type(), "passthrough");
    }
}
