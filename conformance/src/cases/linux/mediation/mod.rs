//! Command mediation (SPEC section 17): sessions, the shim, the server and the audit log.
//!
//! Every case tells a small story with three suite-owned programs:
//!
//! * the **agent** is `nono-mediation-client`, started by `IUT run --profile P`. It runs
//!   commands through its `PATH` (so through the IUT's shims and server), reports what it
//!   sees, and can also speak the shim protocol itself to send the server hostile requests;
//! * the **real binaries** are copies of `nono-mediated` installed by [`Kit::fake`] as
//!   `bin/<name>`, each with its own script of steps (describe itself, copy stdin, print,
//!   exit with a code, touch a file...);
//! * the **profile** names them in `mediation.commands`.
//!
//! Side effects are checked from outside: files the real binaries write (`record:` lines,
//! markers), the IUT's output, and the audit log (where the implementation's manifest
//! says, `settings.audit_log`; by default the reference's layout under the case's own
//! `XDG_STATE_HOME`). Every run gets `HOME`, `XDG_CONFIG_HOME` and `XDG_STATE_HOME` inside
//! the fixture root, so sessions and logs of parallel cases never meet.
//!
//! The agent reports its steps in a file of the suite's own (`--report`, granted to the
//! agent as one file), never on the IUT's stdout, where an implementation may log.
//!
//! Approval of `admin` rules follows the kipz fork's contract: the IUT runs
//! `nono-approve COMMAND ARGS...` from `PATH`. [`Kit::approver`] installs a stub that
//! records its arguments and approves, refuses, or waits for a file.
//!
//! Families: [`session`], [`shim`] (the suite plays the server), [`server`] (the suite plays
//! the shim), [`actions`], [`matching`], [`caller`], [`passthrough`], [`sandbox`], [`cwd`],
//! [`env`], [`audit`], [`bad_input`], [`admin`], [`exit`].

pub use crate::kit::arg as s;
use crate::case::{Case, Ctx};
use crate::kit::spawn::{Input, Launch, Started};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod actions;
mod admin;
mod audit;
mod bad_input;
mod caller;
mod cwd;
mod env;
mod exit;
mod fake_server;
mod matching;
mod nonce;
mod passthrough;
mod sandbox;
mod server;
mod session;
mod shim;

/// All mediation cases.
pub fn cases() -> Vec<Case> {
    let mut out = vec![];
    for family in [
        session::cases,
        shim::cases,
        server::cases,
        actions::cases,
        matching::cases,
        caller::cases,
        passthrough::cases,
        sandbox::cases,
        cwd::cases,
        env::cases,
        audit::cases,
        bad_input::cases,
        admin::cases,
        exit::cases,
        nonce::cases,
    ] {
        out.extend(family());
    }
    out
}

/// How long one IUT run may take before the case fails (a hung server must not hang the suite).
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// The agent program (`nono-mediation-client`), next to the probe.
pub fn client(cx: &Ctx) -> PathBuf {
    cx.probe.with_file_name("nono-mediation-client")
}

/// The fake real binary (`nono-mediated`), next to the probe.
pub fn mediated(cx: &Ctx) -> PathBuf {
    cx.probe.with_file_name("nono-mediated")
}

/// True when `text` is exactly a nonce: `nono_` and 64 lower-case hex digits (TOK-FMT-001).
pub fn is_nonce(text: &str) -> bool {
    text.len() == 69
        && text.starts_with("nono_")
        && text[5..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True when `text` contains `nono_` followed by 64 lower-case hex digits anywhere.
pub fn contains_nonce(text: &str) -> bool {
    text.match_indices("nono_")
        .any(|(i, _)| text.get(i..i + 69).is_some_and(is_nonce))
}

/// A case's toolbox: fakes, profiles and agent runs, all inside its fixture root.
pub struct Kit<'a> {
    pub cx: &'a Ctx,
}

impl<'a> Kit<'a> {
    pub fn new(cx: &'a Ctx) -> Kit<'a> {
        Kit { cx }
    }

    /// Installs `bin/<name>`, a copy of `nono-mediated` that runs `steps` (one per entry).
    pub fn fake(&self, name: &str, steps: &[&str]) -> PathBuf {
        let bin = self.cx.fx.dir("bin");
        let path = bin.join(name);
        // A hard link keeps the file's own name in /proc/self/exe (the fake finds its
        // steps through it) without copying megabytes per case. Never copy over an existing
        // entry: it may be a hard link to the original.
        if !path.exists() && std::fs::hard_link(mediated(self.cx), &path).is_err() {
            self.cx
                .fx
                .copy_executable(&format!("bin/{name}"), &mediated(self.cx));
        }
        self.set_steps(&path, steps);
        path
    }

    /// Replaces the script of an installed fake.
    pub fn set_steps(&self, fake: &Path, steps: &[&str]) {
        let mut file = fake.as_os_str().to_owned();
        file.push(".steps");
        std::fs::write(file, steps.join("\n") + "\n").expect("writing a fake's steps");
    }

    /// Writes `profile` as `profiles/<name>.json` and returns its path.
    pub fn profile_named(&self, name: &str, profile: Value) -> PathBuf {
        let dir = self.cx.fx.dir("profiles");
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&profile).unwrap())
            .expect("writing a profile");
        path
    }

    /// Writes a profile whose only key is `mediation`.
    pub fn mediation(&self, mediation: Value) -> PathBuf {
        self.profile_named("mediation", json!({ "mediation": mediation }))
    }

    /// A profile with one mediated command `name` (real binary `bin`) and these rules.
    pub fn one_command(&self, name: &str, bin: &Path, intercept: Value) -> PathBuf {
        self.mediation(
            json!({ "commands": [{ "name": name, "binary_path": bin, "intercept": intercept }] }),
        )
    }

    /// The environment every IUT invocation of this case gets: the manifest's
    /// `settings.env`, then the case's own home and XDG directories.
    fn base_env(&self) -> Vec<(OsString, OsString)> {
        let fx = &self.cx.fx;
        let mut env: Vec<(OsString, OsString)> =
            self.cx.imp.settings.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
        env.extend([
            ("HOME".into(), fx.dir("home").into()),
            ("XDG_CONFIG_HOME".into(), fx.dir("config").into()),
            ("XDG_STATE_HOME".into(), fx.dir("state").into()),
        ]);
        if let Some(tmp) = session_tmpdir() {
            env.push(("TMPDIR".into(), tmp.into()));
        }
        env
    }

    /// An agent run under `profile`, reporting to a fresh file of its own.
    pub fn agent(&self, profile: &Path) -> Agent<'a> {
        let reports = self.cx.fx.dir("reports");
        let n = std::fs::read_dir(&reports).map(|d| d.count()).unwrap_or(0);
        let report = reports.join(format!("agent-{n}.jsonl"));
        std::fs::write(&report, "").expect("creating the agent's report file");
        Agent {
            cx: self.cx,
            flags: vec![
                "--profile".into(),
                profile.into(),
                "--read-file".into(),
                client(self.cx).into(),
                "--allow-file".into(),
                report.clone().into(),
            ],
            report,
            envs: self.base_env(),
            stdin: None,
            cwd: None,
        }
    }

    /// Installs `approver/nono-approve`, a stub approver that appends its arguments (one
    /// JSON array per call) to `approver/calls.jsonl`, prints `APPROVER-STDOUT` (which
    /// must never reach the program's stdout), and then behaves as `verdict` says. Returns
    /// the directory to put first on the supervisor's `PATH`.
    pub fn approver(&self, verdict: Verdict) -> PathBuf {
        let dir = self.cx.fx.dir("approver");
        let calls = dir.join("calls.jsonl");
        let decide = match &verdict {
            Verdict::Approve => "exit 0".to_string(),
            Verdict::Refuse => "exit 1".to_string(),
            Verdict::WhenFileAppears(file) => {
                format!("while [ ! -e '{}' ]; do sleep 0.02; done\nexit 0", s(file))
            }
        };
        // The suite's stand-in for a human approving through nono-approve. Arguments are
        // recorded as a JSON array (the cases use plain words, no quotes to escape).
        let script = r#"#!/bin/sh
line='['; sep=''
for a in "$@"; do line="$line$sep\"$a\""; sep=','; done
printf '%s]\n' "$line" >> 'CALLS'
echo APPROVER-STDOUT
DECIDE
"#
        .replace("CALLS", s(&calls))
        .replace("DECIDE", &decide);
        let path = dir.join("nono-approve");
        std::fs::write(&path, script).expect("writing the stub approver");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("making the stub approver executable");
        dir
    }

    /// The argument lists the stub approver was called with, in order.
    pub fn approver_calls(&self) -> Vec<Vec<String>> {
        self.records(&self.cx.fx.dir("approver").join("calls.jsonl"))
            .iter()
            .map(|call| {
                call.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    /// Lines a fake appended with `record:PATH`.
    pub fn records(&self, path: &Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.into())))
            .collect()
    }
}

/// A `TMPDIR` on tmpfs for the IUT's session directories, when the machine has one.
///
/// A session holds a shim for every program on the supervisor's `PATH` (over a thousand
/// on a typical Linux), and creating them on a loaded disk file system costs about a
/// second per session, against milliseconds on tmpfs. Only the place changes, never what a
/// case checks; sessions of parallel cases have their own per-pid names.
fn session_tmpdir() -> Option<&'static Path> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from("/dev/shm/nono-conformance-sessions");
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => Some(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Some(dir),
            Err(_) => None,
        }
    })
    .as_deref()
}

/// Where the reference keeps its audit logs, as a `settings.audit_log` template.
pub const REFERENCE_AUDIT_LOG: &str = "{state_home}/nono-ref/sessions/{session_id}/audit.jsonl";

/// The manifest's `settings.audit_log` template with the case's `{home}` and
/// `{state_home}` filled in (`{session_id}` is left for the caller).
pub fn audit_log_template(cx: &Ctx) -> String {
    let template = cx.imp.settings.audit_log.as_deref().unwrap_or(REFERENCE_AUDIT_LOG);
    let root = cx.fx.root();
    template
        .replace("{home}", s(&root.join("home")))
        .replace("{state_home}", s(&root.join("state")))
}

/// The case's audit log files, found through the manifest's template (`{home}`,
/// `{state_home}`, and `{session_id}` for any one directory level), sorted.
pub fn audit_files(cx: &Ctx) -> Vec<PathBuf> {
    let filled = audit_log_template(cx);
    let mut files: Vec<PathBuf> = match filled.split_once("{session_id}") {
        None => vec![PathBuf::from(filled)],
        Some((before, after)) => std::fs::read_dir(before)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| PathBuf::from(format!("{}{after}", s(&entry.path()))))
            .collect(),
    };
    files.retain(|f| f.is_file());
    files.sort();
    files
}

/// The lines of the case's audit logs ([`audit_files`]). Unparsable lines come back as
/// JSON strings.
pub fn audit_lines(cx: &Ctx) -> Vec<Value> {
    audit_files(cx)
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|l| serde_json::from_str(&l).unwrap_or(Value::String(l)))
        .collect()
}

/// One `IUT run --profile P -- nono-mediation-client STEPS...` being assembled.
pub struct Agent<'a> {
    cx: &'a Ctx,
    flags: Vec<OsString>,
    /// The suite's own channel for the agent's step reports.
    report: PathBuf,
    envs: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
}

impl<'a> Agent<'a> {
    /// Sets a variable in the IUT's environment (the supervisor's, and so the agent's unless scrubbed).
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Adds an IUT flag (`--allow DIR`, ...).
    pub fn flag(mut self, flag: &str, value: impl Into<OsString>) -> Self {
        self.flags.push(flag.into());
        self.flags.push(value.into());
        self
    }

    /// Bytes for the agent's stdin (default: /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The IUT's working directory.
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The IUT command for `steps` (each step one argument list), stdio not yet set.
    pub fn command(&self, steps: &[&[&str]]) -> Command {
        let mut cmd = self.cx.iut_command();
        cmd.arg("run")
            .args(&self.flags)
            .arg("--")
            .arg(client(self.cx))
            .arg("--report")
            .arg(&self.report);
        for (i, step) in steps.iter().enumerate() {
            if i > 0 {
                cmd.arg("::");
            }
            cmd.args(*step);
        }
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Starts the run in the background (own process group, [`RUN_DEADLINE`]).
    pub fn spawn(&self, steps: &[&[&str]]) -> Running<'a> {
        // A second run of the same agent reports afresh.
        std::fs::write(&self.report, "").expect("emptying the agent's report file");
        let input = match &self.stdin {
            Some(bytes) => Input::Bytes(bytes.clone()),
            None => Input::Null,
        };
        let started = Launch::new(self.command(steps))
            .input(input)
            .deadline(RUN_DEADLINE)
            .start()
            .unwrap_or_else(|e| panic!("{e}"));
        Running { started, report: self.report.clone(), cx: self.cx }
    }

    /// Runs to the end.
    pub fn run(&self, steps: &[&[&str]]) -> Result<AgentRun, String> {
        self.spawn(steps).wait()
    }
}

/// A run in progress.
pub struct Running<'a> {
    started: Started,
    report: PathBuf,
    cx: &'a Ctx,
}

impl Running<'_> {
    /// Waits (at most [`RUN_DEADLINE`]) and collects what happened.
    pub fn wait(self) -> Result<AgentRun, String> {
        let done = self.started.wait()?;
        let text = std::fs::read_to_string(&self.report).unwrap_or_default();
        let parsed: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        Ok(AgentRun {
            code: done.code,
            ops: parsed
                .iter()
                .filter(|v| v.get("op").is_some())
                .cloned()
                .collect(),
            stderr: done.stderr_text(),
            stdout: done.stdout,
            audit: audit_lines(self.cx),
            iut_pid: done.pid,
            command_line: done.command_line,
        })
    }
}

/// The former name of [`AgentRun`] ("session" is the IUT's session directory, not a run).
pub type Session = AgentRun;

/// What one run did, seen from outside.
pub struct AgentRun {
    /// The IUT's exit code (`-N` for a raw signal death of the IUT itself).
    pub code: i32,
    /// Everything on the IUT's stdout, raw (the agent's reports are not there).
    pub stdout: Vec<u8>,
    /// Everything on its stderr.
    pub stderr: String,
    /// The agent's step results, in order, from its report file.
    pub ops: Vec<Value>,
    /// The audit log after the run.
    pub audit: Vec<Value>,
    /// The IUT's pid.
    pub iut_pid: u32,
    command_line: String,
}

impl std::fmt::Display for AgentRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stdout = String::from_utf8_lossy(&self.stdout);
        let cut = |t: &str| t.chars().take(1500).collect::<String>();
        write!(
            f,
            "`{}` exited {}; stdout: {:?}; stderr: {:?}",
            self.command_line,
            self.code,
            cut(&stdout),
            cut(&self.stderr)
        )
    }
}

impl AgentRun {
    /// Step `i` (0-based) of the agent, or an error saying the agent never got there.
    pub fn op(&self, i: usize) -> Result<&Value, String> {
        self.ops
            .get(i)
            .ok_or_else(|| format!("the agent reported no step {}: {self}", i + 1))
    }

    /// Step `i`'s exit code as the agent saw it.
    pub fn exit_code(&self, i: usize) -> Result<i64, String> {
        let op = self.op(i)?;
        op.get("exit_code")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("step {} has no exit code: {op}", i + 1))
    }

    /// Step `i`'s stdout as the agent saw it.
    pub fn out(&self, i: usize) -> Result<String, String> {
        let op = self.op(i)?;
        Ok(op
            .get("stdout")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }

    /// Step `i`'s stderr as the agent saw it.
    pub fn err(&self, i: usize) -> Result<String, String> {
        let op = self.op(i)?;
        Ok(op
            .get("stderr")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }

    /// Step `i`'s answer to a command (exit code, stdout) as the agent saw it: run or wire op.
    pub fn answered(&self, i: usize) -> Result<bool, String> {
        Ok(self
            .op(i)?
            .get("answered")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// The agent's environment from an `env` step.
    pub fn env_of(&self, i: usize) -> Result<serde_json::Map<String, Value>, String> {
        let op = self.op(i)?;
        op.get("env")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| format!("step {} reported no env: {op}", i + 1))
    }

    /// Fails unless the run ended with the agent's own exit 0.
    pub fn finished(&self) -> Result<(), String> {
        if self.code == 0 {
            Ok(())
        } else {
            Err(format!("the run failed: {self}"))
        }
    }

    /// Audit lines for `command`.
    pub fn audit_for(&self, command: &str) -> Vec<&Value> {
        self.audit
            .iter()
            .filter(|l| l.get("command").and_then(Value::as_str) == Some(command))
            .collect()
    }

    /// The one `describe` line a fake printed to the stream, parsed from a step's stdout.
    pub fn described(&self, i: usize) -> Result<Value, String> {
        let out = self.out(i)?;
        out.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v.get("step").and_then(Value::as_str) == Some("describe"))
            .ok_or_else(|| {
                format!(
                    "step {} printed no description of the real binary: {}",
                    i + 1,
                    self.op(i).unwrap()
                )
            })
    }
}

/// What the stub approver of [`Kit::approver`] does after recording its call.
pub enum Verdict {
    /// Exit 0.
    Approve,
    /// Exit 1.
    Refuse,
    /// Wait until the file exists, then exit 0.
    WhenFileAppears(PathBuf),
}

/// `{"args_prefix": prefix, "action": {"type": "respond", "stdout": stdout, "exit_code": code}}`.
pub fn respond(prefix: &[&str], stdout: &str, code: i32) -> Value {
    json!({ "args_prefix": prefix, "action": { "type": "respond", "stdout": stdout, "exit_code": code } })
}

/// A capture rule running the real binary.
pub fn capture(prefix: &[&str]) -> Value {
    json!({ "args_prefix": prefix, "action": { "type": "capture" } })
}

/// A capture rule running `sh -c script`.
pub fn capture_script(prefix: &[&str], script: &str) -> Value {
    json!({ "args_prefix": prefix, "action": { "type": "capture", "script": script } })
}

/// An approve rule running the real binary.
pub fn approve(prefix: &[&str]) -> Value {
    json!({ "args_prefix": prefix, "action": { "type": "approve" } })
}

/// An approve rule running `sh -c script`.
pub fn approve_script(prefix: &[&str], script: &str) -> Value {
    json!({ "args_prefix": prefix, "action": { "type": "approve", "script": script } })
}

/// The same rule with `"admin": true`.
pub fn admin(mut rule: Value) -> Value {
    rule["admin"] = json!(true);
    rule
}

/// A string field of a JSON value.
pub fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// The `argv[1..]` a fake's description reports.
pub fn args_of(description: &Value) -> Vec<String> {
    description
        .get("argv")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .skip(1)
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The environment a fake's description reports.
pub fn env_in(description: &Value) -> serde_json::Map<String, Value> {
    description
        .get("env")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
