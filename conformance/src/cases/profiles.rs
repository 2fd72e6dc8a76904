//! Profile vectors (`fixtures/profiles/{merge,expand,invalid}`), checked black-box through
//! the implementation's `run --profile PATH` and, for the canonical resolved form, its
//! `profile show PATH --json` (or the manifest's `profile_show` arguments).
//!
//! Each vector's profiles are written as `NAME.json` into a user profile directory of the
//! case's own (`XDG_CONFIG_HOME={root}/config`), where both a name lookup and nono's
//! sibling-file lookup find them; the profile named by `show` is then given by path.
//! `{{root}}` anywhere in a vector stands for the case's fixture root. Unless a vector says
//! otherwise, `HOME={root}/home`, so nothing from the real home directory leaks in.
//!
//! * `expect`: a subset of the printed JSON (class `profile-show`). Objects match when
//!   every expected key matches, lists when they have the same length and order and match
//!   item by item, `null` matches null or absent, anything else by equality.
//! * `error`: three cases per vector. `profile.invalid.ID` (the statements' own class):
//!   `run --profile` exits 1 and starts nothing, while the same run without the profile
//!   does. `profile.invalid-show.ID` (`profile-show`): show exits 1 and prints no profile.
//!   `profile.invalid-message.ID` (`hardening`, PRF-ERR-003): the refusal names the
//!   offending file and JSON path with one of the expected words.
//!
//! A vector citing a `hardening` statement counts as `hardening` whatever else it cites: an
//! implementation that does not claim the stricter rule is not judged on it.

use crate::case::{Case, CaseResult, Ctx};
use crate::ensure;
use crate::kit::spawn;
use crate::spec::{self, Class};
use crate::vectors::{self, Vector};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::ffi::OsStr;
use std::process::{Command, Output};

/// Every profile vector, as cases `profile.merge.*`, `profile.expand.*`, `profile.invalid.*`
/// (with `profile.invalid-show.*` and `profile.invalid-message.*`).
pub fn cases() -> Vec<Case> {
    let mut out = show_cases("profiles/merge", "profile.merge");
    out.extend(show_cases("profiles/expand", "profile.expand"));
    out.extend(vectors::cases("profiles/invalid", "profile.invalid", check_refused_by_run).into_iter().map(hardening_wins));
    out.extend(
        vectors::cases("profiles/invalid", "profile.invalid-show", check_refused_by_show)
            .into_iter()
            .map(|c| hardening_wins(c.in_class(Class::ProfileShow))),
    );
    out.extend(vectors::cases("profiles/invalid", "profile.invalid-message", check_refusal_names_file_and_path).into_iter().map(
        |mut c| {
            c.spec = vec!["PRF-ERR-003".to_string()];
            c.title = format!("{} The message names the file and the JSON path.", c.title);
            c
        },
    ));
    out.push(crate::case::case(
        "seatbelt.profile.grants_come_from_the_profile",
        "sandbox-profile --profile P emits the profile's read grant and network block, and neither without it",
        &["SB-GEN-PROFILE-001"],
        sandbox_profile_uses_the_profile,
    ));
    out.push(crate::case::case(
        "profile.validate.reports_valid_and_invalid_files",
        "profile validate exits 0 for a valid profile and 1 for an invalid one",
        &["PRF-VALIDATE-001"],
        validate_reports,
    ));
    out
}

/// Show vectors: class `profile-show` (they need `show`), and each also checks the shape
/// statement PRF-SHOW-001.
fn show_cases(area: &str, prefix: &str) -> Vec<Case> {
    vectors::cases(area, prefix, check_show)
        .into_iter()
        .map(|mut c| {
            if !c.spec.iter().any(|id| id == "PRF-SHOW-001") {
                c.spec.push("PRF-SHOW-001".to_string());
            }
            hardening_wins(c.in_class(Class::ProfileShow))
        })
        .collect()
}

/// A case citing a `hardening` statement counts as `hardening`.
fn hardening_wins(case: Case) -> Case {
    let statements = spec::statements();
    let cites_hardening =
        case.spec.iter().any(|id| statements.get(id).is_some_and(|s| s.class == Some(Class::Hardening)));
    if cites_hardening {
        case.in_class(Class::Hardening)
    } else {
        case
    }
}

fn sandbox_profile_uses_the_profile(cx: &Ctx) -> CaseResult {
    let file = cx.fx.dir("profiles").join("mac.json");
    std::fs::write(&file, r#"{ "filesystem": { "read": ["/Users/alice/src"] }, "network": { "block": true } }"#).unwrap();
    let generate = |with_profile: bool| -> Result<String, String> {
        let mut args = vec!["sandbox-profile".to_string(), "--platform".into(), "macos".into(), "--no-system-grants".into()];
        if with_profile {
            args.extend(["--profile".to_string(), file.display().to_string()]);
        }
        let out = cx.invoke(args, &[("HOME".into(), cx.fx.dir("home").display().to_string())]);
        ensure!(out.code == 0, "sandbox-profile exited {}: {}", out.code, out.stderr);
        Ok(out.stdout)
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
    let env = [
        ("HOME".to_string(), cx.fx.dir("home").display().to_string()),
        ("XDG_CONFIG_HOME".to_string(), cx.fx.dir("config").display().to_string()),
    ];
    let validate = |file: &Path| cx.invoke([OsStr::new("profile"), OsStr::new("validate"), file.as_os_str()], &env);
    let ok = validate(&good);
    ensure!(ok.code == 0, "a valid profile must validate with exit 0: {} {}", ok.code, ok.stderr);
    let refused = validate(&bad);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    ensure!(refused.code == 1, "an invalid profile must fail validation with exit 1: {} {said}", refused.code);
    ensure!(!said.trim().is_empty(), "an invalid profile must be reported, not only given exit 1");
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
    let mut env = base_env(cx);
    if let Some(vars) = data.get("env").and_then(Value::as_object) {
        for (name, value) in vars {
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value.as_str().map(str::to_string)));
        }
    }
    let workdir = data.get("workdir").and_then(Value::as_str).map(PathBuf::from).unwrap_or(workdir);
    Ok((Setup { profile_dir, workdir, env, target }, data))
}

/// The environment every vector starts from: the case's own profile directory and home.
fn base_env(cx: &Ctx) -> Vec<(String, Option<String>)> {
    let root = cx.fx.root().to_string_lossy().into_owned();
    vec![
        ("XDG_CONFIG_HOME".to_string(), Some(format!("{root}/config"))),
        ("HOME".to_string(), Some(format!("{root}/home"))),
    ]
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

/// The arguments that print `profile` resolved as JSON: the manifest's `profile_show`
/// template with `{profile}` replaced, else `profile show PROFILE --json`.
pub fn show_args(cx: &Ctx, profile: &str) -> Vec<String> {
    match &cx.imp.settings.profile_show {
        Some(template) => template.iter().map(|arg| arg.replace("{profile}", profile)).collect(),
        None => vec!["profile".into(), "show".into(), profile.into(), "--json".into()],
    }
}

/// Runs show on the vector's target profile.
fn show(cx: &Ctx, setup: &Setup) -> Result<Output, String> {
    let target = setup.target.to_string_lossy().into_owned();
    let args = show_args(cx, &target);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // `$WORKDIR` is the current directory, which `command` sets to the vector's workdir.
    spawn::output(command(cx, setup, &args))
}

fn check_show(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, data) = set_up(cx, vector)?;
    let out = show(cx, &setup)?;
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

fn check_refused_by_run(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, _) = set_up(cx, vector)?;
    let refused = run_with_profile(cx, &setup)?;
    ensure!(
        refused.status.code() == Some(1),
        "run --profile with an invalid profile must exit 1, exited {:?}: {}",
        refused.status.code(),
        String::from_utf8_lossy(&refused.stderr)
    );
    nothing_ran(cx, &setup)
}

fn check_refused_by_show(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, _) = set_up(cx, vector)?;
    let out = show(cx, &setup)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(out.status.code() == Some(1), "profile show must exit 1, exited {:?}; stderr: {stderr}", out.status.code());
    ensure!(
        serde_json::from_slice::<Value>(&out.stdout).is_err(),
        "profile show printed a profile despite the error: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(())
}

fn check_refusal_names_file_and_path(cx: &Ctx, vector: &Vector) -> CaseResult {
    let (setup, data) = set_up(cx, vector)?;
    let error = data.get("error").ok_or("vector has no \"error\"")?;
    let refused = run_with_profile(cx, &setup)?;
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    ensure!(refused.status.code() == Some(1), "run --profile must refuse with exit 1, exited {:?}: {stderr}", refused.status.code());
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
    Ok(())
}

/// The marker a run's program would create, in a directory the run grants.
fn marker(cx: &Ctx) -> (PathBuf, PathBuf) {
    let dir = cx.fx.dir("out");
    let marker = dir.join("ran");
    (dir, marker)
}

/// `run [--profile TARGET] --allow OUT -- probe create OUT/ran` in the vector's environment.
fn run_marker(cx: &Ctx, setup: &Setup, with_profile: bool) -> Result<Output, String> {
    let (dir, marker) = marker(cx);
    let (dir, marker) = (dir.to_string_lossy().into_owned(), marker.to_string_lossy().into_owned());
    let target = setup.target.to_string_lossy().into_owned();
    let probe = cx.probe.to_string_lossy().into_owned();
    let mut args = vec!["run"];
    if with_profile {
        args.extend(["--profile", &target]);
    }
    args.extend(["--allow", &dir, "--read-file", &probe, "--", &probe, "create", &marker]);
    spawn::output(command(cx, setup, &args))
}

/// `run --profile` with the vector's profile (which should be refused).
fn run_with_profile(cx: &Ctx, setup: &Setup) -> Result<Output, String> {
    run_marker(cx, setup, true)
}

/// The refused run started nothing: its marker is absent, while the same command line
/// without the profile creates it (so the refusal is not just a broken command line). The
/// control runs in the base environment: a vector's broken variable (a relative `HOME`)
/// may make an implementation refuse every run, which is no less strict.
fn nothing_ran(cx: &Ctx, setup: &Setup) -> CaseResult {
    let (_, marker) = marker(cx);
    ensure!(!marker.exists(), "run --profile with an invalid profile started the program");
    let sane = Setup {
        profile_dir: setup.profile_dir.clone(),
        workdir: setup.workdir.clone(),
        env: base_env(cx),
        target: setup.target.clone(),
    };
    let control = run_marker(cx, &sane, false)?;
    ensure!(
        marker.exists(),
        "control: the same run without the profile did not create the marker (exit {:?}: {})",
        control.status.code(),
        String::from_utf8_lossy(&control.stderr)
    );
    Ok(())
}
