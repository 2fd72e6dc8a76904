//! The profile document: its types, JSONC reading, and the checks serde cannot express.
//!
//! Every object rejects keys it does not define, including the objects inside `mediation`:
//! a misspelt `agent_alowed` silently ignored would leave a policy wider than its author
//! meant. (The kipz fork ignores unknown keys inside `mediation`; this is a deliberate
//! difference, stated in SPEC.md.)

use super::error::{ErrorClass, ProfileError};
use super::jsonc::{line_column, locate, strip_comments};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

/// Reads a profile from JSONC text. `file` is only used in errors.
pub fn parse(text: &str, file: &Path) -> Result<Profile, Vec<ProfileError>> {
    let json = strip_comments(text).map_err(|(offset, message)| {
        vec![at_offset(ProfileError::new(ErrorClass::Syntax, file, "", message), text, offset)]
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(&json);
    let parsed: Result<Profile, _> = serde_path_to_error::deserialize(&mut deserializer);
    if parsed.is_ok() {
        // Text after the profile (a second document, stray characters) is an error too.
        if let Err(trailing) = deserializer.end() {
            let (_, message) = classify(&trailing);
            let mut error = ProfileError::new(ErrorClass::Syntax, file, "", message);
            error.position = Some((trailing.line(), trailing.column()));
            return Err(vec![error]);
        }
        // serde reads structs from arrays by position; the format has no such form.
        if let Some(path) = misplaced_array(&json) {
            let mut error = ProfileError::new(ErrorClass::Type, file, path.clone(), "invalid type: a list, expected an object");
            error.position = locate(&json, &path).map(|offset| line_column(&json, offset));
            return Err(vec![error]);
        }
    }
    let profile: Profile = parsed.map_err(|err| {
        let path = clean_path(&err.path().to_string());
        let inner = err.into_inner();
        let (class, message) = classify(&inner);
        let mut error = ProfileError::new(class, file, path, message);
        if inner.line() > 0 {
            error.position = Some((inner.line(), inner.column()));
        }
        vec![error]
    })?;
    let mut errors = check(&profile, file);
    for error in &mut errors {
        error.position = locate(&json, &error.path).map(|offset| line_column(&json, offset));
    }
    if errors.is_empty() {
        Ok(profile)
    } else {
        Err(errors)
    }
}

/// The path of the first list written where the format wants an object, if any.
fn misplaced_array(json: &str) -> Option<String> {
    use serde_json::Value;
    let root: Value = serde_json::from_str(json).ok()?;
    fn is_list(v: Option<&Value>) -> bool {
        matches!(v, Some(Value::Array(_)))
    }
    if root.is_array() {
        return Some(String::new());
    }
    for key in ["meta", "filesystem", "network", "workdir", "environment", "mediation"] {
        if is_list(root.get(key)) {
            return Some(key.to_string());
        }
    }
    if is_list(root.pointer("/environment/set_vars")) {
        return Some("environment.set_vars".into());
    }
    if is_list(root.pointer("/mediation/env")) {
        return Some("mediation.env".into());
    }
    let commands = root.pointer("/mediation/commands").and_then(Value::as_array)?;
    for (c, command) in commands.iter().enumerate() {
        let at = format!("mediation.commands[{c}]");
        if command.is_array() {
            return Some(at);
        }
        for key in ["sandbox", "caller_policy"] {
            if is_list(command.get(key)) {
                return Some(format!("{at}.{key}"));
            }
        }
        if is_list(command.pointer("/sandbox/network")) {
            return Some(format!("{at}.sandbox.network"));
        }
        for (r, rule) in command.get("intercept").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if rule.is_array() {
                return Some(format!("{at}.intercept[{r}]"));
            }
            if is_list(rule.get("action")) {
                return Some(format!("{at}.intercept[{r}].action"));
            }
        }
    }
    None
}

/// serde_path_to_error writes `.` for the root and `?` for unknown segments.
fn clean_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}

fn classify(err: &serde_json::Error) -> (ErrorClass, String) {
    let text = err.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text.clone(),
    };
    let class = if err.is_syntax() || err.is_eof() {
        ErrorClass::Syntax
    } else if message.starts_with("unknown field") {
        ErrorClass::UnknownKey
    } else if message.starts_with("missing field") {
        ErrorClass::MissingKey
    } else if message.starts_with("unknown variant") {
        ErrorClass::InvalidValue
    } else {
        ErrorClass::Type
    };
    (class, message)
}

/// The checks the types cannot express. All problems are reported, not only the first.
pub fn check(profile: &Profile, file: &Path) -> Vec<ProfileError> {
    let mut errors = vec![];
    let mut invalid = |class: ErrorClass, path: String, message: String| {
        errors.push(ProfileError::new(class, file, path, message));
    };
    for (i, name) in profile.extends.iter().enumerate() {
        if let Err(why) = super::resolve::check_reference(name) {
            invalid(ErrorClass::InvalidName, format!("extends[{i}]"), why);
        }
    }
    for (i, entry) in profile.network.allow_domain.iter().enumerate() {
        if let Err(e) = crate::proxy::filter::HostFilter::new(&[entry.domain().to_string()]) {
            invalid(ErrorClass::InvalidValue, format!("network.allow_domain[{i}]"), e.reason);
        }
    }
    let env = &profile.environment;
    for (i, pattern) in env.allow_vars.iter().flatten().enumerate() {
        if let Err(why) = check_env_pattern(pattern) {
            invalid(ErrorClass::InvalidValue, format!("environment.allow_vars[{i}]"), why);
        }
    }
    for (i, pattern) in env.deny_vars.iter().enumerate() {
        if let Err(why) = check_env_pattern(pattern) {
            invalid(ErrorClass::InvalidValue, format!("environment.deny_vars[{i}]"), why);
        }
    }
    for name in env.set_vars.keys() {
        if let Err(why) = check_settable_name(name) {
            invalid(ErrorClass::InvalidValue, format!("environment.set_vars.{name}"), why);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, command) in profile.mediation.commands.iter().enumerate() {
        let at = format!("mediation.commands[{i}]");
        if command.name.is_empty() || command.name.contains('/') || command.name.starts_with('.') {
            invalid(
                ErrorClass::InvalidValue,
                format!("{at}.name"),
                format!("invalid command name {:?}: it must be a plain file name", command.name),
            );
        } else if !seen.insert(command.name.as_str()) {
            invalid(
                ErrorClass::InvalidValue,
                format!("{at}.name"),
                format!("command '{}' is listed twice; merge the two entries", command.name),
            );
        }
        if let Some(binary) = &command.binary_path {
            if !(binary.starts_with('/') || binary.starts_with('~') || binary.starts_with('$')) {
                invalid(
                    ErrorClass::InvalidValue,
                    format!("{at}.binary_path"),
                    format!("binary_path {binary:?} must be absolute (after expansion)"),
                );
            }
        }
        if let Some(sandbox) = &command.sandbox {
            if let Some(j) = sandbox.allow_commands.iter().position(|c| *c == command.name) {
                invalid(
                    ErrorClass::InvalidValue,
                    format!("{at}.sandbox.allow_commands[{j}]"),
                    format!("command '{}' lists itself in allow_commands", command.name),
                );
            }
        }
    }
    for (i, name) in profile.mediation.env.block.iter().enumerate() {
        if !is_env_name(name) {
            invalid(
                ErrorClass::InvalidValue,
                format!("mediation.env.block[{i}]"),
                format!("{name:?} is not an environment variable name"),
            );
        }
    }
    errors
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An exact name, `PREFIX*`, or `*`.
fn check_env_pattern(pattern: &str) -> Result<(), String> {
    let stem = pattern.strip_suffix('*').unwrap_or(pattern);
    if pattern == "*" || is_env_name(stem) {
        Ok(())
    } else {
        Err(format!("invalid variable pattern {pattern:?}: use a name, NAME_PREFIX* or *; '*' is allowed only at the end"))
    }
}

/// Names a profile may set: valid, and not ones that change how programs load or where
/// the sandbox's own plumbing lives.
fn check_settable_name(name: &str) -> Result<(), String> {
    if !is_env_name(name) {
        return Err(format!("{name:?} is not an environment variable name"));
    }
    if name == "PATH" || name.starts_with("NONO_") {
        return Err(format!("{name} cannot be set by a profile"));
    }
    if crate::env::is_dangerous(name) {
        return Err(format!("{name} changes how programs load and cannot be set by a profile"));
    }
    Ok(())
}

fn at_offset(mut error: ProfileError, text: &str, offset: usize) -> ProfileError {
    error.position = Some(line_column(text, offset));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<ProfileError> {
        parse(text, Path::new("p.json")).unwrap_err()
    }

    #[test]
    fn comments_are_allowed_and_positions_survive() {
        let text = "{ // a comment\n  /* block\n */ \"network\": {\"block\": true}\n}";
        let profile = parse(text, Path::new("p.json")).unwrap();
        assert!(profile.network.block);
        let bad = "{ // a comment\n  \"network\": {\"blok\": true}\n}";
        let e = &errors(bad)[0];
        assert_eq!(e.class, ErrorClass::UnknownKey);
        assert_eq!(e.path, "network.blok");
        assert_eq!(e.position.map(|p| p.0), Some(2));
    }

    #[test]
    fn strings_containing_comment_markers_are_kept() {
        let text = r#"{"filesystem": {"read": ["/a//b", "/c/*d*/"]}}"#;
        let profile = parse(text, Path::new("p.json")).unwrap();
        assert_eq!(profile.filesystem.read, ["/a//b", "/c/*d*/"]);
    }

    #[test]
    fn type_errors_name_the_path() {
        let e = &errors(r#"{"network": {"connect_port": [80, 70000]}}"#)[0];
        assert_eq!(e.class, ErrorClass::Type);
        assert_eq!(e.path, "network.connect_port[1]");
    }

    #[test]
    fn unknown_action_type_names_the_variants() {
        let text = r#"{"mediation": {"commands": [{"name": "gh", "intercept": [{"args_prefix": [], "action": {"type": "deny"}}]}]}}"#;
        let e = &errors(text)[0];
        assert_eq!(e.class, ErrorClass::InvalidValue);
        assert!(e.message.contains("respond"), "{e}");
        assert!(e.path.starts_with("mediation.commands[0].intercept[0].action"), "{}", e.path);
    }

    #[test]
    fn semantic_errors_are_located() {
        let text = "{\n \"environment\": {\n  \"deny_vars\": [\"OK\", \"A*B\"]\n }\n}";
        let e = &errors(text)[0];
        assert_eq!(e.path, "environment.deny_vars[1]");
        assert_eq!(e.position, Some((3, 23)));
    }

    #[test]
    fn extends_takes_a_string_a_list_or_null() {
        let one = parse(r#"{"extends": "base"}"#, Path::new("p")).unwrap();
        assert_eq!(one.extends, ["base"]);
        let many = parse(r#"{"extends": ["a", "b"]}"#, Path::new("p")).unwrap();
        assert_eq!(many.extends, ["a", "b"]);
        let none = parse(r#"{"extends": null}"#, Path::new("p")).unwrap();
        assert!(none.extends.is_empty());
        let e = &errors(r#"{"extends": 3}"#)[0];
        assert_eq!((e.class, e.path.as_str()), (ErrorClass::Type, "extends"));
    }
}
