//! Profile vectors (`fixtures/profiles/{merge,expand,invalid}`), checked black-box through
//! the implementation's `profile show PATH --json` and `run --profile PATH`.
//!
//! Each vector's profiles are written as `NAME.json` into a user profile directory of the
//! case's own (`XDG_CONFIG_HOME={root}/config`), where both a name lookup and nono's
//! sibling-file lookup find them; the profile named by `show` is then given by path.
//! `{{root}}` anywhere in a vector stands for the case's fixture root. Unless a vector says
//! otherwise, `HOME={root}/home`, so nothing from the real home directory leaks in.
//!
//! * `expect`: a subset of the printed JSON. Objects match when every expected key matches,
//!   lists when they have the same length and order and match item by item, `null` matches
//!   null or absent, anything else by equality.
//! * `error`: the implementation must exit 1, print no profile, name the offending file and
//!   JSON path on stderr with one of the expected words, and refuse to `run` anything.

use crate::case::{Case, CaseResult, Ctx};
use crate::ensure;
use crate::vectors::{self, Vector};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every profile vector, as cases `profile.merge.*`, `profile.expand.*`, `profile.invalid.*`.
pub fn cases() -> Vec<Case> {
    let mut out = vectors::cases("profiles/merge", "profile.merge", check_show);
    out.extend(vectors::cases("profiles/expand", "profile.expand", check_show));
    out.extend(vectors::cases("profiles/invalid", "profile.invalid", check_error));
    out.push(crate::case::case(
        "seatbelt.profile.grants_come_from_the_profile",
        "sandbox-profile --profile P emits the profile's read grant and network block, and neither without it",
        &["SB-GEN-PROFILE-001"],
        sandbox_profile_uses_the_profile,
    ));
    out.push(crate::case::case(
        "profile.validate.reports_valid_and_invalid_files",
        "profile validate exits 0 for a valid profile and 1 for an invalid one, naming the offending JSON path",
        &["PRF-VALIDATE-001"],
        validate_reports,
    ));
    out
}

fn sandbox_profile_uses_the_profile(cx: &Ctx) -> CaseResult {
    let file = cx.fx.dir("profiles").join("mac.json");
    std::fs::write(&file, r#"{ "filesystem": { "read": ["/Users/alice/src"] }, "network": { "block": true } }"#).unwrap();
    let generate = |with_profile: bool| -> Result<String, String> {
        let mut command = Command::new(&cx.imp.path);
        command.args(["sandbox-profile", "--platform", "macos", "--no-system-grants"]);
        if with_profile {
            command.arg("--profile").arg(&file);
        }
        let out = command.env("HOME", cx.fx.dir("home")).output().map_err(|e| format!("starting {}: {e}", cx.imp.path.display()))?;
        ensure!(out.status.success(), "sandbox-profile exited {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let read_rule = r#"(allow file-read* (subpath "/Users/alice/src"))"#;
    let with = generate(true)?;
    ensure!(with.lines().any(|l| l.trim() == read_rule), "no {read_rule} in:\n{with}");
    ensure!(with.lines().any(|l| l.trim() == "(deny network*)"), "no (deny network*) in:\n{with}");
    let without = generate(false)?;
    ensure!(!without.contains("/Users/alice/src"), "control: the grant appears without the profile:\n{without}");
    ensure!(!without.lines().any(|l| l.trim() == "(deny network*)"), "control: the network is blocked without the profile");
    Ok(())
}

fn validate_reports(cx: &Ctx) -> CaseResult {
    let dir = cx.fx.dir("profiles");
    let good = dir.join("good.json");
    let bad = dir.join("bad.json");
    std::fs::write(&good, r#"{ "filesystem": { "read": ["/usr/share"] }, "network": { "block": true } }"#).unwrap();
    std::fs::write(&bad, "{\n  \"network\": { \"block\": \"yes\" }\n}\n").unwrap();
    let validate = |file: &Path| {
        Command::new(&cx.imp.path)
            .args(["profile", "validate"])
            .arg(file)
            .env("HOME", cx.fx.dir("home"))
            .env("XDG_CONFIG_HOME", cx.fx.dir("config"))
            .output()
            .map_err(|e| format!("starting {}: {e}", cx.imp.path.display()))
    };
    let ok = validate(&good)?;
    ensure!(ok.status.code() == Some(0), "a valid profile must validate with exit 0: {:?} {}", ok.status.code(), String::from_utf8_lossy(&ok.stderr));
    let refused = validate(&bad)?;
    let said = format!("{}{}", String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    ensure!(refused.status.code() == Some(1), "an invalid profile must fail validation with exit 1: {:?} {said}", refused.status.code());
    ensure!(said.contains("network.block"), "the report must name network.block: {said}");
    Ok(())
}

/// A vector made concrete in one case's fixture root.
pub struct Setup {
    /// The user profile directory the vector's profiles were written to.
    pub profile_dir: PathBuf,
    /// The working directory for the implementation.
    pub workdir: PathBuf,
    /// Environment changes (`None` removes the variable).
    pub env: Vec<(String, Option<String>)>,
    /// The profile to show or run, by path.
    pub target: PathBuf,
}

/// Replaces `{{root}}` in every string of a JSON value.
pub fn substitute(value: &Value, root: &Path) -> Value {
    let root = root.to_string_lossy();
    match value {
        Value::String(s) => Value::String(s.replace("{{root}}", &root)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, Path::new(&*root))).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.replace("{{root}}", &root), substitute(v, Path::new(&*root)))).collect())
        }
        other => other.clone(),
    }
}

/// Writes the vector's profiles and works out the environment.
pub fn set_up(cx: &Ctx, vector: &Vector) -> Result<(Setup, Value), String> {
    let data = substitute(&vector.data, cx.fx.root());
    let profile_dir = cx.fx.dir("config/nono/profiles");
    cx.fx.dir("home");
    let workdir = cx.fx.dir("work");
    let profiles = data["profiles"].as_object().ok_or("vector has no \"profiles\" object")?;
    for (name, profile) in profiles {
        // A string is the file's exact text (comments, syntax errors); an object is JSON.
        let text = match profile {
            Value::String(text) => text.clone(),
            other => serde_json::to_string_pretty(other).unwrap(),
        };
        let file = if name.ends_with(".json") || name.ends_with(".jsonc") { name.clone() } else { format!("{name}.json") };
        std::fs::write(profile_dir.join(file), text).map_err(|e| format!("writing profile {name}: {e}"))?;
    }
    let show = data["show"].as_str().ok_or("vector has no \"show\"")?;
    let target = profile_dir.join(if show.ends_with(".json") || show.ends_with(".jsonc") { show.to_string() } else { format!("{show}.json") });
    let root = cx.fx.root().to_string_lossy().into_owned();
    let mut env = vec![
        ("XDG_CONFIG_HOME".to_string(), Some(format!("{root}/config"))),
        ("HOME".to_string(), Some(format!("{root}/home"))),
    ];
    if let Some(vars) = data.get("env").and_then(Value::as_object) {
        for (name, value) in vars {
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value.as_str().map(str::to_string)));
        }
    }
    let workdir = data.get("workdir").and_then(Value::as_str).map(PathBuf::from).unwrap_or(workdir);
    Ok((Setup { profile_dir, workdir, env, target }, data))
}

/// `IUT <args>` with the vector's environment and working directory.
pub fn command(cx: &Ctx, setup: &Setup, args: &[&str]) -> Command {
    let mut command = cx.iut_command();
    command.args(args).current_dir(&setup.workdir);
    for (name, value) in &setup.env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command
}

fn check_show(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, data) = set_up(cx, vector)?;
    let target = setup.target.to_string_lossy().into_owned();
    // `$WORKDIR` is the current directory, which `command` sets to the vector's workdir.
    let out = command(cx, &setup, &["profile", "show", &target, "--json"])
        .output()
        .map_err(|e| format!("starting {}: {e}", cx.imp.path.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.code() == Some(0), "profile show exited {:?}: {stderr}", out.status.code());
    let shown: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("profile show --json printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))?;
    let expected = data.get("expect").ok_or("vector has no \"expect\"")?;
    subset("", expected, &shown)
}

/// Does `actual` contain `expected` (see the module docs)? The error names the first
/// difference by JSON path.
pub fn subset(at: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                match have.get(key) {
                    Some(got) => subset(&path, value, got)?,
                    None if value.is_null() => {}
                    None => return Err(format!("{path}: missing; expected {value}")),
                }
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(have)) => {
            ensure!(want.len() == have.len(), "{at}: expected {expected}, got {actual}");
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                subset(&format!("{at}[{i}]"), w, h).map_err(|e| format!("{e} (in {at}: expected {expected}, got {actual})"))?;
            }
            Ok(())
        }
        _ => {
            ensure!(expected == actual, "{at}: expected {expected}, got {actual}");
            Ok(())
        }
    }
}

fn check_error(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, data) = set_up(cx, vector)?;
    let error = data.get("error").ok_or("vector has no \"error\"")?;
    let target = setup.target.to_string_lossy().into_owned();
    let out = command(cx, &setup, &["profile", "show", &target, "--json"])
        .output()
        .map_err(|e| format!("starting {}: {e}", cx.imp.path.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ensure!(out.status.code() == Some(1), "profile show must exit 1, exited {:?}; stderr: {stderr}", out.status.code());
    ensure!(
        serde_json::from_slice::<Value>(&out.stdout).is_err(),
        "profile show printed a profile despite the error: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lower = stderr.to_lowercase();
    // Where a chain gets too deep depends on the implementation's limit, so any file may
    // be the one named.
    let too_deep = error.get("class").and_then(Value::as_str) == Some("too-deep");
    if let Some(file) = error.get("file").and_then(Value::as_str).filter(|_| !too_deep) {
        let file_name = if file.ends_with(".json") || file.ends_with(".jsonc") { file.to_string() } else { format!("{file}.json") };
        ensure!(stderr.contains(&file_name), "the error must name the file {file_name}: {stderr}");
    }
    if let Some(path) = error.get("path").and_then(Value::as_str).filter(|p| !p.is_empty()) {
        ensure!(stderr.contains(path), "the error must name the JSON path {path}: {stderr}");
    }
    if let Some(words) = error.get("message_any").and_then(Value::as_array) {
        let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
        ensure!(
            words.iter().any(|w| lower.contains(&w.to_lowercase())),
            "the error must say one of {words:?}: {stderr}"
        );
    }
    nothing_runs(cx, &setup, &target)
}

/// `run --profile` with the broken profile must refuse before starting the program: the
/// marker file the program would create stays absent. (Control: the same command line
/// without the profile creates it, so a refusal is not just a broken command line.)
fn nothing_runs(cx: &Ctx, setup: &Setup, target: &str) -> CaseResult {
    let marker_dir = cx.fx.dir("out");
    let marker = marker_dir.join("ran");
    let marker_arg = marker.to_string_lossy().into_owned();
    let probe = cx.probe.to_string_lossy().into_owned();
    let dir_arg = marker_dir.to_string_lossy().into_owned();
    let run = |with_profile: bool| {
        let mut args = vec!["run"];
        if with_profile {
            args.extend(["--profile", target]);
        }
        args.extend(["--allow", &dir_arg, "--read-file", &probe, "--", &probe, "create", &marker_arg]);
        command(cx, setup, &args).output().map_err(|e| format!("starting {}: {e}", cx.imp.path.display()))
    };
    let refused = run(true)?;
    ensure!(
        refused.status.code() == Some(1),
        "run --profile with an invalid profile must exit 1, exited {:?}: {}",
        refused.status.code(),
        String::from_utf8_lossy(&refused.stderr)
    );
    ensure!(!marker.exists(), "run --profile with an invalid profile started the program");
    let control = run(false)?;
    ensure!(
        marker.exists(),
        "control: the same run without the profile did not create the marker (exit {:?}: {})",
        control.status.code(),
        String::from_utf8_lossy(&control.stderr)
    );
    Ok(())
}
