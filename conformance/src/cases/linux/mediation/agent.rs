//! One agent run: assembling `IUT run --profile P -- nono-mediation-client STEPS...`,
//! running it with a deadline, and reading what each step reported.

use super::audit_log::audit_lines;
use super::kit::client;
use crate::kit::spawn::{Input, Launch, Started};
use crate::case::Ctx;
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long one IUT run may take before the case fails (a hung server must not hang the suite).
const RUN_DEADLINE: Duration = crate::kit::spawn::DEFAULT_DEADLINE;

/// One `IUT run --profile P -- nono-mediation-client STEPS...` being assembled.
pub struct Agent<'a> {
    pub(super) cx: &'a Ctx,
    pub(super) flags: Vec<OsString>,
    /// The suite's own channel for the agent's step reports.
    pub(super) report: PathBuf,
    pub(super) envs: Vec<(OsString, OsString)>,
    pub(super) stdin: Option<Vec<u8>>,
    pub(super) cwd: Option<PathBuf>,
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
    /// Kills the IUT's whole process group now (its supervisor with SIGKILL, so it cannot
    /// clean up); [`Running::wait`] still collects what happened.
    pub fn kill(&self) {
        self.started.kill();
    }

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

    /// `Ok` when `holds`, else an error with `why` and step `i`'s report.
    fn step_holds(&self, i: usize, holds: bool, why: &str) -> Result<(), String> {
        if holds {
            Ok(())
        } else {
            Err(format!("{why}: {}", self.op(i)?))
        }
    }

    /// Fails with `why` and the step's report unless step `i` got exit code `code`.
    pub fn expect_code(&self, i: usize, code: i64, why: &str) -> Result<(), String> {
        self.step_holds(i, self.exit_code(i)? == code, why)
    }

    /// Fails with `why` and the step's report unless step `i`'s stdout is exactly `want`.
    pub fn expect_out(&self, i: usize, want: &str, why: &str) -> Result<(), String> {
        self.step_holds(i, self.out(i)? == want, why)
    }

    /// Fails with `why` and the step's report unless step `i`'s stdout contains `needle`.
    pub fn expect_out_contains(&self, i: usize, needle: &str, why: &str) -> Result<(), String> {
        self.step_holds(i, self.out(i)?.contains(needle), why)
    }

    /// Step `i`'s text field `key` (empty when absent).
    fn text_of(&self, i: usize, key: &str) -> Result<String, String> {
        Ok(self.op(i)?.get(key).and_then(Value::as_str).unwrap_or("").to_string())
    }

    /// Step `i`'s stdout as the agent saw it.
    pub fn out(&self, i: usize) -> Result<String, String> {
        self.text_of(i, "stdout")
    }

    /// Step `i`'s stderr as the agent saw it.
    pub fn err(&self, i: usize) -> Result<String, String> {
        self.text_of(i, "stderr")
    }

    /// Step `i`'s answer to a command (exit code, stdout) as the agent saw it: run or wire op.
    pub fn answered(&self, i: usize) -> Result<bool, String> {
        Ok(self
            .op(i)?
            .get("answered")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// The nonce a capturing step answered, or an error naming `what` (e.g. "control:
    /// vault read") when its stdout is not exactly one nonce.
    pub fn nonce(&self, i: usize, what: &str) -> Result<String, String> {
        let captured = self.out(i)?.trim().to_string();
        self.step_holds(i, is_nonce(&captured), &format!("{what} must capture a nonce"))?;
        Ok(captured)
    }

    /// The per-call results of a `parallel` step (empty when it reported none).
    pub fn parallel_results(&self, i: usize) -> Result<Vec<Value>, String> {
        Ok(self.op(i)?["results"].as_array().cloned().unwrap_or_default())
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
