//! Starting programs: the implementation under test, the probe, the mediation client, the
//! shim and the suite's fakes all start here.
//!
//! Every start gets two guarantees, so that no run can hang a case or outlive it:
//!
//! * **its own process group**, so that the program and everything it started can be killed
//!   together (a sandboxed grandchild that keeps a pipe open is killed with its parent);
//! * **a deadline**: past it the group is killed with SIGKILL and the caller gets an error
//!   that says so, never a hang.
//!
//! ```no_run
//! # use nono_conformance::kit::spawn::{Launch, DEFAULT_DEADLINE};
//! let done = Launch::new(std::process::Command::new("true")).run().unwrap();
//! assert_eq!(done.code, 0);
//! ```

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one start may take unless its caller says otherwise. Generous (the slowest
/// case takes about 13 s under the flake gate's load): it exists to turn a hang into a
/// failure, not to time anything (speed goals are benchmarks). It must stay below
/// nextest's `terminate-after` (3 × 20 s in `.config/nextest.toml`): nextest kills only
/// the test's process, so a hung implementation outlives a case that nextest ends, while
/// the deadline kills its whole process group.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(45);

/// What a finished program did, seen from outside.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// The exit code; a death by signal N is `-N`.
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// The program's pid (also its process group).
    pub pid: u32,
    /// The command line, for failure messages.
    pub command_line: String,
}

impl Finished {
    /// stdout as (lossy) text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// stderr as (lossy) text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl From<Finished> for Output {
    fn from(done: Finished) -> Output {
        Output { status: done.status, stdout: done.stdout, stderr: done.stderr }
    }
}

/// [`Command::output`] with the kit's guarantees (own process group, [`DEFAULT_DEADLINE`],
/// stdin from `/dev/null`): the drop-in for a one-shot start whose output is checked.
pub fn output(cmd: Command) -> Result<Output, String> {
    Launch::new(cmd).run().map(Output::from)
}

/// What the program reads on stdin.
pub enum Input {
    /// `/dev/null`.
    Null,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// A pipe the caller writes to ([`Started::stdin`]).
    Pipe,
    /// Whatever the caller hands over (a file, a socket half).
    Given(Stdio),
}

/// A program about to be started: a [`Command`] plus its stdin and deadline.
pub struct Launch {
    cmd: Command,
    input: Input,
    deadline: Duration,
    stream_stdout: bool,
}

impl Launch {
    /// `cmd` with stdin from `/dev/null` and [`DEFAULT_DEADLINE`].
    pub fn new(cmd: Command) -> Launch {
        Launch { cmd, input: Input::Null, deadline: DEFAULT_DEADLINE, stream_stdout: false }
    }
    /// Sets what the program reads on stdin.
    pub fn input(mut self, input: Input) -> Launch {
        self.input = input;
        self
    }
    /// Sets the deadline.
    pub fn deadline(mut self, deadline: Duration) -> Launch {
        self.deadline = deadline;
        self
    }

    /// Leaves stdout to the caller ([`Started::take_stdout`]) instead of capturing it: for
    /// output too large to hold, checked as it streams.
    pub fn stream_stdout(mut self) -> Launch {
        self.stream_stdout = true;
        self
    }

    /// Starts the program in its own process group with stdout and stderr captured.
    pub fn start(self) -> Result<Started, String> {
        let Launch { mut cmd, input, deadline, stream_stdout } = self;
        let command_line = format!("{cmd:?}");
        cmd.process_group(0).stdout(Stdio::piped()).stderr(Stdio::piped());
        let (stdin, bytes) = match input {
            Input::Null => (Stdio::null(), None),
            Input::Bytes(b) => (Stdio::piped(), Some(b)),
            Input::Pipe => (Stdio::piped(), None),
            Input::Given(s) => (s, None),
        };
        cmd.stdin(stdin);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {command_line}: {e}"))?;
        if let Some(bytes) = bytes {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // A writer thread: a program that never reads must not block the suite.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let stdout = reader(if stream_stdout { None } else { child.stdout.take() });
        let stderr = reader(child.stderr.take());
        Ok(Started { pid: child.id(), child: Some(child), stdout: Some(stdout), stderr: Some(stderr), command_line, started: Instant::now(), deadline })
    }

    /// Starts the program and waits for it (see [`Started::wait`]).
    pub fn run(self) -> Result<Finished, String> {
        self.start()?.wait()
    }
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = vec![];
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// A started program. Dropping it without waiting kills its process group.
pub struct Started {
    pid: u32,
    child: Option<Child>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    command_line: String,
    started: Instant,
    deadline: Duration,
}

impl Started {
    /// The program's pid, which is also its process group.
    pub fn pid(&self) -> u32 {
        self.pid
    }
    /// The command line, for messages.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }
    /// The stdin pipe of an [`Input::Pipe`] start (once).
    pub fn stdin(&mut self) -> Option<ChildStdin> {
        self.child.as_mut().and_then(|c| c.stdin.take())
    }
    /// The stdout pipe of a [`Launch::stream_stdout`] start (once).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut().and_then(|c| c.stdout.take())
    }
    /// Kills the program's whole process group now.
    pub fn kill(&self) {
        kill_group(self.pid);
    }

    /// Waits for the program to exit and its output to end, at most until the deadline;
    /// past it the group is killed and the error says so.
    pub fn wait(mut self) -> Result<Finished, String> {
        let mut child = self.child.take().expect("waited once");
        let status = match wait_until(&mut child, self.started + self.deadline) {
            Ok(status) => status,
            Err(e) => {
                kill_group(self.pid);
                let _ = child.wait();
                return Err(format!("{} {e}", self.command_line));
            }
        };
        // The pipes end when the last holder closes them; a leftover grandchild holding
        // them is killed at the deadline like a hung program.
        let left = (self.started + self.deadline).saturating_duration_since(Instant::now());
        let (out, err) = (self.stdout.take().expect("stdout reader"), self.stderr.take().expect("stderr reader"));
        let (stdout, stderr) = match join_both(out, err, left) {
            Some(out) => out,
            None => {
                kill_group(self.pid);
                return Err(format!(
                    "{} exited but something it started kept its output open past the deadline ({:?}); its group was killed",
                    self.command_line, self.deadline
                ));
            }
        };
        let command_line = std::mem::take(&mut self.command_line);
        Ok(Finished { status, code: exit_code(status), stdout, stderr, pid: self.pid, command_line })
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pid);
            let _ = child.wait();
        }
    }
}

fn join_both(
    out: JoinHandle<Vec<u8>>,
    err: JoinHandle<Vec<u8>>,
    within: Duration,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send((out.join().unwrap_or_default(), err.join().unwrap_or_default()));
    });
    rx.recv_timeout(within).ok()
}

/// The exit code of `status`; a death by signal N is `-N`.
pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| -status.signal().unwrap_or(0))
}

/// Kills process group `pgid` (a started program's pid) with SIGKILL.
pub fn kill_group(pgid: u32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Polls `child` until it exits or `deadline` passes (then `Err` saying so; the caller kills).
pub fn wait_until(child: &mut Child, deadline: Instant) -> Result<ExitStatus, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() > deadline => {
                return Err(format!(
                    "did not finish within {:?}; its process group was killed",
                    started.elapsed()
                ))
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting: {e}")),
        }
    }
}
