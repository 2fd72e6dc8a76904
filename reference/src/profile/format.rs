//! The profile document's types, as serde reads them ([`super::read`] reads a file into them).
//!
//! Every object rejects keys it does not define, including the objects inside `mediation`:
//! a misspelt `agent_alowed` silently ignored would leave a policy wider than its author
//! meant. (The kipz fork ignores unknown keys inside `mediation`; this is a deliberate
//! difference, stated in SPEC.md.)

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// A profile as written: one file, before `extends` is resolved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Accepted so that editors can validate the file; otherwise ignored.
    #[serde(rename = "$schema", default, skip_serializing)]
    pub schema: Option<String>,
    /// Parent profiles, merged left to right underneath this one. A string or a list.
    #[serde(default, deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub extends: Vec<String>,
    /// Descriptive only; never inherited.
    #[serde(default)]
    pub meta: Meta,
    /// Filesystem grants.
    #[serde(default)]
    pub filesystem: Filesystem,
    /// TCP policy.
    #[serde(default)]
    pub network: Network,
    /// Access to the working directory.
    #[serde(default)]
    pub workdir: Workdir,
    /// The environment handed to the sandboxed program.
    #[serde(default)]
    pub environment: Environment,
    /// Commands that leave the sandbox through the shim, and env names kept from the agent.
    #[serde(default)]
    pub mediation: Mediation,
}

/// `meta`: who wrote the profile and what it is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
}

/// `filesystem`: paths, with `~` and `$VARS` expanded at load time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filesystem {
    /// Directories, read and write.
    pub allow: Vec<String>,
    /// Directories (or single files), read.
    pub read: Vec<String>,
    /// Directories, write only.
    pub write: Vec<String>,
    /// Single files, read and write.
    pub allow_file: Vec<String>,
    /// Single files, read.
    pub read_file: Vec<String>,
    /// Single files, write.
    pub write_file: Vec<String>,
    /// Paths that must stay inaccessible. On Landlock a grant covering one is refused.
    pub deny: Vec<String>,
}

/// `network`: the TCP policy, and proxy-only networking.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// Refuse all TCP connects and binds except the ports below.
    pub block: bool,
    /// Ports the program may connect to.
    pub connect_port: Vec<u16>,
    /// Ports the program may listen on.
    pub listen_port: Vec<u16>,
    /// Hosts reachable through the network proxy; any entry turns proxy-only networking on
    /// (see [`crate::proxy`]). nono also spells it `proxy_allow` and `allow_proxy`.
    #[serde(alias = "proxy_allow", alias = "allow_proxy")]
    pub allow_domain: Vec<AllowDomain>,
    /// Credential routes by name, as nono defines them. The reference checks and expands
    /// them (their `tls_*` paths) but injects no credentials.
    pub custom_credentials: BTreeMap<String, CustomCredential>,
}

/// One `allow_domain` entry: a host, or a host limited to some endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a host name, or an object with `domain` and `endpoints`")]
pub enum AllowDomain {
    Host(String),
    WithEndpoints {
        domain: String,
        #[serde(default)]
        endpoints: Vec<Endpoint>,
    },
}

impl AllowDomain {
    /// The host the entry is about.
    pub fn domain(&self) -> &str {
        match self {
            AllowDomain::Host(domain) | AllowDomain::WithEndpoints { domain, .. } => domain,
        }
    }

    /// The endpoint rules (none for a plain host).
    pub fn endpoints(&self) -> &[Endpoint] {
        match self {
            AllowDomain::Host(_) => &[],
            AllowDomain::WithEndpoints { endpoints, .. } => endpoints,
        }
    }
}

/// An endpoint rule of an `allow_domain` entry (a method and a path glob).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
}

/// A `custom_credentials` entry: where requests go and how a credential is injected.
/// Fields the reference does not act on are kept as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomCredential {
    pub upstream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_auth: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_replacement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_param_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_var: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_rules: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_policy: Option<serde_json::Value>,
    /// A CA certificate file (a path: `~` and `$VARS` are expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// A client certificate file for mutual TLS (a path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_cert: Option<String>,
    /// The client certificate's key file (a path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_key: Option<String>,
}

/// `workdir`: how much of the working directory is granted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workdir {
    pub access: WorkdirAccess,
}

/// The values of `workdir.access`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkdirAccess {
    #[default]
    None,
    Read,
    Write,
    Readwrite,
}

/// `environment`: which inherited variables pass, which are removed, which are set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Environment {
    /// When present, only variables matching one of these patterns pass (`[]` passes none).
    pub allow_vars: Option<Vec<String>>,
    /// Variables matching these patterns are removed.
    pub deny_vars: Vec<String>,
    /// Variables set for the program, after filtering.
    pub set_vars: BTreeMap<String, String>,
}

/// `mediation` (the seed pull request's level L2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mediation {
    pub commands: Vec<Command>,
    pub env: MediationEnv,
}

impl Mediation {
    /// A mediation block does something iff it has commands or blocked names.
    pub fn is_active(&self) -> bool {
        !self.commands.is_empty() || !self.env.block.is_empty()
    }
}

/// `mediation.env`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediationEnv {
    /// Exact names removed from the agent's environment.
    pub block: Vec<String>,
}

/// One mediated command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// The command name: the shim's file name and the server's lookup key.
    pub name: String,
    /// Absolute path of the real binary (expanded); otherwise found on `PATH`.
    #[serde(default)]
    pub binary_path: Option<String>,
    /// Ordered rules; the first whose `args_prefix` matches wins.
    #[serde(default)]
    pub intercept: Vec<InterceptRule>,
    /// The sandbox a passthrough runs in. Absent means none; `{}` means defaults.
    #[serde(default)]
    pub sandbox: Option<CommandSandbox>,
    /// Who may call the command.
    #[serde(default)]
    pub caller_policy: CallerPolicy,
}

/// One intercept rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterceptRule {
    /// Matches when the positional arguments start with these; `[]` matches everything.
    pub args_prefix: Vec<String>,
    /// Needs a human's approval through the control socket.
    #[serde(default)]
    pub admin: bool,
    /// What happens on a match.
    pub action: Action,
}

/// An intercept action, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "RawAction")]
pub enum Action {
    /// A static answer; nothing runs.
    Respond { stdout: String, exit_code: i32 },
    /// Run the real binary (or the script) and keep its output behind a nonce.
    Capture { script: Option<String> },
    /// Run the real binary (or the script) and return its output.
    Approve { script: Option<String> },
}

/// An action as written. Reading it as a plain struct (rather than through serde's tagged
/// enums) keeps error paths exact: an unknown key is reported at `action.<key>`, a bad
/// `exit_code` at `action.exit_code`, an unknown type at `action.type`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    #[serde(rename = "type")]
    kind: ActionType,
    stdout: Option<String>,
    exit_code: Option<i32>,
    #[serde(default, deserialize_with = "present")]
    script: Option<Option<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActionType {
    Respond,
    Capture,
    Approve,
}

/// Distinguishes `"script": null` (present) from no `script` key.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(deserializer)?))
}

impl TryFrom<RawAction> for Action {
    type Error = String;

    fn try_from(raw: RawAction) -> Result<Action, String> {
        match raw.kind {
            ActionType::Respond if raw.script.is_some() => Err("unknown field `script`: a respond action runs nothing".into()),
            ActionType::Respond => Ok(Action::Respond { stdout: raw.stdout.unwrap_or_default(), exit_code: raw.exit_code.unwrap_or(0) }),
            _ if raw.stdout.is_some() => Err("unknown field `stdout`: only a respond action has it".into()),
            _ if raw.exit_code.is_some() => Err("unknown field `exit_code`: only a respond action has it".into()),
            ActionType::Capture => Ok(Action::Capture { script: raw.script.flatten() }),
            ActionType::Approve => Ok(Action::Approve { script: raw.script.flatten() }),
        }
    }
}

/// A mediated command's own sandbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandSandbox {
    pub network: CommandNetwork,
    pub fs_read: Vec<String>,
    pub fs_read_file: Vec<String>,
    pub fs_write: Vec<String>,
    pub fs_write_file: Vec<String>,
    /// Command names that may run directly inside this sandbox.
    pub allow_commands: Vec<String>,
    /// The fork's macOS keychain switch (mediation notes SBX-5): valid at level L1, removed
    /// by the seed (SCH-12), whose replacement is listing the keychain files in
    /// `fs_read_file`. Accepted so that profiles of either level load; it grants nothing.
    #[serde(skip_serializing)]
    pub keychain_access: bool,
}

/// A mediated command's network policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandNetwork {
    pub block: bool,
    pub allowed_hosts: Vec<String>,
}

/// Who may call a mediated command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallerPolicy {
    /// The agent itself may call it.
    pub agent_allowed: bool,
    /// Mediated commands that may call it: absent means any, a list means only those.
    pub allowed_parents: Option<Vec<String>>,
}

impl Default for CallerPolicy {
    fn default() -> Self {
        CallerPolicy { agent_allowed: true, allowed_parents: None }
    }
}

/// `extends`: a name, a list of names, or null.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a profile name or a list of profile names")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => vec![],
        Some(OneOrMany::One(name)) => vec![name],
        Some(OneOrMany::Many(names)) => names,
    })
}
