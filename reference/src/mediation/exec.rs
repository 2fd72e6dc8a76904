//! Running a mediated command's real binary for the server.
//!
//! * **Streaming** (passthrough, `allow_commands`): the shim's own stdin, stdout and stderr
//!   become the command's, so bytes flow between the agent's pipes and the command with no
//!   copy through the server and no buffering.
//! * **Buffered** (`capture`, `approve`): stdin is `/dev/null`, output is collected for the
//!   answer.
//!
//! A per-command sandbox is prepared here, in the server thread, and enforced in the child
//! between fork and exec, so a failure to build it is an error before anything runs.

use crate::sandbox;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;

/// What to run.
pub struct Plan {
    pub program: PathBuf,
    /// `argv[1..]`, nonces already rewritten.
    pub args: Vec<OsString>,
    /// The complete environment.
    pub env: Vec<(OsString, OsString)>,
    /// Where to run; None for the server's own directory.
    pub cwd: Option<PathBuf>,
    /// Enforced in the child before exec.
    pub sandbox: Option<sandbox::Prepared>,
    /// The command's own network proxy (its sandbox's `allowed_hosts`), kept running until
    /// the command has exited.
    pub proxy: Option<crate::proxy::ProxyHandle>,
}

/// Buffered output.
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// A command's exit code as the shim reports it: its own code, or 1 when a signal ended it.
pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

fn command(plan: Plan) -> Command {
    let mut command = Command::new(&plan.program);
    command.args(&plan.args).env_clear().envs(plan.env);
    if let Some(dir) = &plan.cwd {
        command.current_dir(dir);
    }
    if let Some(prepared) = plan.sandbox {
        let prepared = Mutex::new(Some(prepared));
        // SAFETY: runs in the child between fork and exec; it only takes an uncontended
        // lock of its own and makes the Landlock system calls.
        unsafe {
            command.pre_exec(move || {
                let prepared = prepared.lock().map_err(|_| std::io::Error::other("sandbox lock"))?.take();
                match prepared {
                    Some(prepared) => prepared.restrict_self().map_err(std::io::Error::other),
                    None => Err(std::io::Error::other("sandbox already used")),
                }
            });
        }
    }
    command
}

/// Runs with the caller's three fds as stdio and waits. `started` learns the pid.
pub fn streaming(mut plan: Plan, stdio: [OwnedFd; 3], started: impl FnOnce(u32)) -> std::io::Result<i32> {
    let _proxy = plan.proxy.take();
    let [stdin, stdout, stderr] = stdio;
    let mut command = command(plan);
    command.stdin(Stdio::from(stdin)).stdout(Stdio::from(stdout)).stderr(Stdio::from(stderr));
    let mut child = command.spawn()?;
    // The child holds the fds now; dropping `command` closes the server's copies, so the
    // caller sees end-of-file when the command exits.
    drop(command);
    started(child.id());
    Ok(exit_code(child.wait()?))
}

/// Runs with stdin from `/dev/null` and collects the output. `started` learns the pid.
pub fn buffered(mut plan: Plan, started: impl FnOnce(u32)) -> std::io::Result<Output> {
    let _proxy = plan.proxy.take();
    let mut command = command(plan);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn()?;
    drop(command);
    started(child.id());
    let out = child.wait_with_output()?;
    Ok(Output { stdout: out.stdout, stderr: out.stderr, exit_code: exit_code(out.status) })
}
