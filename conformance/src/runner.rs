//! Driving the implementation under test through nono's `run` contract.
//!
//! ```text
//! IUT run [grants...] -- nono-probe OP ARGS...
//! ```
//!
//! The sandbox is applied by the IUT in its own child, never in the test process. With
//! `NONO_CONFORMANCE_EMULATE_ABI` set, the IUT is started through the ABI emulator
//! ([`crate::emulation`]); otherwise it is started directly. Either way it starts through
//! [`crate::kit::spawn`]: its own process group and a deadline.

use crate::kit::spawn::{Finished, Input, Launch};
use crate::outcome::ProbeResult;
use crate::probe::{Op, Usage};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a sandboxed command did, seen from outside.
#[derive(Debug)]
pub struct RunOutput {
    /// The IUT's exit code (128+N is how the contract reports signal N; a raw signal death
    /// of the IUT itself is reported as `-N`).
    pub code: i32,
    /// Everything the sandboxed program (and the IUT) wrote to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// The command line, for failure messages.
    pub command_line: String,
}

impl RunOutput {
    /// The probe's JSON answer, or an explanation of why there is none (the probe never
    /// ran: the IUT refused, exec failed, ...).
    pub fn probe(&self) -> Result<ProbeResult, String> {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or_else(|| format!("the probe printed no result; {self}"))?;
        serde_json::from_str(line).map_err(|e| format!("unreadable probe result {line:?}: {e}; {self}"))
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited {}; stdout: {:?}; stderr: {:?}",
            self.command_line,
            self.code,
            truncate(&self.stdout),
            truncate(&self.stderr)
        )
    }
}

fn truncate(s: &str) -> &str {
    let end = s.char_indices().nth(600).map(|(i, _)| i).unwrap_or(s.len());
    &s[..end]
}

/// A `run` invocation being assembled.
pub struct Run {
    imp: PathBuf,
    probe: PathBuf,
    flags: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
}

impl Run {
    /// A run of `imp` with no grants beyond the probe binary itself.
    pub fn new(imp: &Path, probe: &Path) -> Run {
        Run { imp: imp.into(), probe: probe.into(), flags: vec![], envs: vec![], cwd: None, stdin: None }
    }

    fn flag_path(mut self, flag: &str, path: impl AsRef<Path>) -> Run {
        self.flags.push(flag.into());
        self.flags.push(path.as_ref().as_os_str().into());
        self
    }

    /// `--allow DIR`: read and write, recursive.
    pub fn allow(self, dir: impl AsRef<Path>) -> Run {
        self.flag_path("--allow", dir)
    }
    /// `--read DIR`.
    pub fn read(self, dir: impl AsRef<Path>) -> Run {
        self.flag_path("--read", dir)
    }
    /// `--write DIR`.
    pub fn write(self, dir: impl AsRef<Path>) -> Run {
        self.flag_path("--write", dir)
    }
    /// `--allow-file FILE`.
    pub fn allow_file(self, file: impl AsRef<Path>) -> Run {
        self.flag_path("--allow-file", file)
    }
    /// `--read-file FILE`.
    pub fn read_file(self, file: impl AsRef<Path>) -> Run {
        self.flag_path("--read-file", file)
    }
    /// `--write-file FILE`.
    pub fn write_file(self, file: impl AsRef<Path>) -> Run {
        self.flag_path("--write-file", file)
    }
    /// Any other flag or flag value, verbatim.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.flags.push(arg.as_ref().into());
        self
    }
    /// Sets an environment variable for the IUT (and so, unless scrubbed, the program).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.envs.push((key.as_ref().into(), Some(value.as_ref().into())));
        self
    }
    /// Removes an environment variable.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Run {
        self.envs.push((key.as_ref().into(), None));
        self
    }
    /// Working directory of the IUT.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Run {
        self.cwd = Some(dir.as_ref().into());
        self
    }
    /// Bytes fed to the program's stdin (default: none, stdin is /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs `program args...` inside the sandbox, as given (no probe grant added).
    pub fn command<I, S>(&self, program_and_args: I) -> RunOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = crate::emulation::command(&self.imp, &self.probe);
        cmd.arg("run").args(&self.flags).arg("--");
        cmd.args(program_and_args);
        self.execute(cmd)
    }

    /// Runs the probe with one op inside the sandbox. The probe binary is granted read (and
    /// so execute) on itself only. A malformed op (from an argument list) panics with the
    /// probe's usage message, so the case fails instead of testing something else.
    pub fn probe(&self, op: impl Into<ProbeCall>) -> RunOutput {
        let op = op.into().0.unwrap_or_else(|usage| panic!("malformed probe op: {usage}"));
        let mut cmd = crate::emulation::command(&self.imp, &self.probe);
        cmd.arg("run").args(&self.flags).arg("--read-file").arg(&self.probe).arg("--");
        cmd.arg(&self.probe).args(op.argv());
        self.execute(cmd)
    }

    /// Runs the probe and returns its parsed result (an error string when it never ran, or
    /// when the op is malformed).
    pub fn op(&self, op: impl Into<ProbeCall>) -> Result<ProbeResult, String> {
        let op = op.into().0.map_err(|usage| format!("malformed probe op: {usage}"))?;
        self.probe(op).probe()
    }

    fn execute(&self, mut cmd: Command) -> RunOutput {
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        let input = match &self.stdin {
            Some(bytes) => Input::Bytes(bytes.clone()),
            None => Input::Null,
        };
        let done = Launch::new(cmd).input(input).run().unwrap_or_else(|e| panic!("{e}"));
        RunOutput::from(done)
    }
}

/// What [`Run::op`] and [`Run::probe`] accept: a typed [`Op`], or the probe's arguments as
/// strings (`["read", path]`), which are parsed with [`Op::parse`] so that a malformed list
/// fails the case with the probe's usage message rather than reaching the sandbox.
pub struct ProbeCall(Result<Op, Usage>);

impl From<Op> for ProbeCall {
    fn from(op: Op) -> ProbeCall {
        ProbeCall(Ok(op))
    }
}

impl From<&Op> for ProbeCall {
    fn from(op: &Op) -> ProbeCall {
        ProbeCall(Ok(op.clone()))
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for ProbeCall {
    fn from(args: [S; N]) -> ProbeCall {
        ProbeCall::parse(&args)
    }
}

impl<S: AsRef<str>> From<Vec<S>> for ProbeCall {
    fn from(args: Vec<S>) -> ProbeCall {
        ProbeCall::parse(&args)
    }
}

impl<S: AsRef<str>> From<&Vec<S>> for ProbeCall {
    fn from(args: &Vec<S>) -> ProbeCall {
        ProbeCall::parse(args)
    }
}

impl<S: AsRef<str>> From<&[S]> for ProbeCall {
    fn from(args: &[S]) -> ProbeCall {
        ProbeCall::parse(args)
    }
}

impl ProbeCall {
    fn parse<S: AsRef<str>>(args: &[S]) -> ProbeCall {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        ProbeCall(Op::parse(&args))
    }
}

impl From<Finished> for RunOutput {
    fn from(done: Finished) -> RunOutput {
        RunOutput {
            code: done.code,
            stdout: done.stdout_text(),
            stderr: done.stderr_text(),
            command_line: done.command_line,
        }
    }
}

/// Kept here for callers written before the kit; the assertion lives in [`crate::kit::expect`].
pub use crate::kit::expect::expect_class;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argument_list_becomes_the_same_typed_op() {
        assert_eq!(ProbeCall::from(["read", "/f"]).0, Ok(Op::read("/f")));
        assert_eq!(ProbeCall::from(vec!["in-child".to_string(), "exit".into(), "3".into()]).0, Ok(Op::in_child(Op::exit(3))));
    }

    #[test]
    fn a_malformed_argument_list_fails_before_anything_runs() {
        // Neither path exists: the error can only come from parsing, not from a run.
        let run = Run::new(Path::new("/nonexistent/iut"), Path::new("/nonexistent/probe"));
        assert_eq!(run.op(["read"]).err().as_deref(), Some("malformed probe op: usage: read PATH"));
        assert_eq!(run.op(["no-such-op", "x"]).err().as_deref(), Some("malformed probe op: unknown op: \"no-such-op\""));
    }
}
