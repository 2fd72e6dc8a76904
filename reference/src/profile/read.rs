//! Reading a profile document: JSONC text into a [`Profile`], serde's errors classified and
//! located (file, JSON path, line and column), and the checks serde cannot express
//! (environment patterns, names a profile may not set, duplicate commands).

use super::error::{ErrorClass, ProfileError};
use super::format::Profile;
use super::jsonc::{line_column, locate, strip_comments};
use std::path::Path;

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
