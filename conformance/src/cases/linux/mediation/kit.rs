//! The case's toolbox: the suite's programs, fakes installed as real binaries, profiles,
//! the stub approver, and the rules a profile's `intercept` lists.

use super::agent::Agent;
use super::s;
use crate::case::{CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the suite waits for the agent to reach a gate (the agent's own `wait-file`
/// gives up after the same time).
const GATE_WAIT: Duration = Duration::from_secs(20);

/// Waits until the agent has created `path` (a gate file).
pub fn wait_for_gate(path: &Path) -> CaseResult {
    let deadline = Instant::now() + GATE_WAIT;
    while !path.exists() {
        ensure!(Instant::now() < deadline, "the agent never reached {}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Creates the empty gate file `path`, for an agent waiting on it.
pub fn touch(path: &Path) -> CaseResult {
    std::fs::write(path, "").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The agent program (`nono-mediation-client`), next to the probe.
pub fn client(cx: &Ctx) -> PathBuf {
    cx.probe.with_file_name("nono-mediation-client")
}

/// The fake real binary (`nono-mediated`), next to the probe.
pub fn mediated(cx: &Ctx) -> PathBuf {
    cx.probe.with_file_name("nono-mediated")
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

    /// A `TMPDIR` for this case's sessions alone, beside the shared one of
    /// [`session_tmpdir`], for a case whose check another case's session could disturb:
    /// every session start may remove orphans in its `TMPDIR`. Removed when dropped.
    pub fn own_session_tmpdir(&self) -> Result<tempfile::TempDir, String> {
        let parent = session_tmpdir().map(Path::to_path_buf).unwrap_or_else(|| self.cx.fx.dir("sessions"));
        tempfile::Builder::new()
            .prefix("case-")
            .tempdir_in(&parent)
            .map_err(|e| format!("cannot create a session TMPDIR in {}: {e}", parent.display()))
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
