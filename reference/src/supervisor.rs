//! Running a program in the sandbox: nono's `run` process model.
//!
//! `nono-ref` stays outside the sandbox as a small supervisor. It forks; the child enforces
//! the prepared ruleset on itself and execs the program; the parent forwards termination
//! signals and reports the child's fate as its own exit code:
//!
//! | what happened                         | exit code |
//! |---------------------------------------|-----------|
//! | the program exited with N             | N         |
//! | the program was killed by signal N    | 128 + N   |
//! | the sandbox could not be applied      | 126       |
//! | the program could not be executed     | 127       |
//!
//! Errors before the fork are the caller's to report (exit 1).
//!
//! With a request policy ([`run_with_requests`]), a connected socket pair is made before
//! the fork. The child clears close-on-exec on its end only, so the program inherits it,
//! numbered in `NONO_SUPERVISOR_FD` ([`crate::ipc`]); the parent's end stays close-on-exec.
//! The parent answers capability requests on a thread until the child's end is closed
//! (the program and everything it started have exited) or the framing breaks.

use crate::error::{Error, Result};
use crate::ipc::{self, request::RequestServer};
use crate::sandbox::Prepared;
use nix::sys::signal::{self, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

/// Exit code when the sandbox cannot be applied in the child.
pub const EXIT_SANDBOX_FAILED: i32 = 126;
/// Exit code when the program cannot be executed.
pub const EXIT_EXEC_FAILED: i32 = 127;

/// What to run, and how.
pub struct Launch {
    /// Absolute or relative path of the program, already resolved against `PATH`.
    pub program: PathBuf,
    /// `argv`, including `argv[0]`.
    pub argv: Vec<OsString>,
    /// The complete environment of the program (already scrubbed).
    pub env: Vec<(OsString, OsString)>,
    /// Directory to change into before exec, if any.
    pub workdir: Option<PathBuf>,
}

/// Finds `program` the way a shell would: as given when it contains a `/`, otherwise in
/// the directories of `path_var`. The result must be an executable regular file.
pub fn resolve_program(program: &OsString, path_var: Option<&OsString>) -> Result<PathBuf> {
    let given = Path::new(program);
    if program.as_bytes().contains(&b'/') {
        return Ok(given.to_path_buf());
    }
    let dirs = path_var.cloned().unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(given))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| Error::ProgramNotFound(given.display().to_string()))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::Io {
        context: format!("{what} contains a NUL byte"),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })
}

static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(child, sig) };
    }
}

/// Forks, sandboxes the child, execs the program and waits. Returns the exit code that
/// `nono-ref` itself must exit with. Must be called while the process is single-threaded.
pub fn run(launch: Launch, sandbox: Prepared) -> Result<i32> {
    run_with_requests(launch, sandbox, None, None)
}

/// Called in the parent right after the fork, with the program's pid: the place to start
/// threads (a process must not fork while it has threads).
pub type AfterFork = Box<dyn FnOnce(u32)>;

/// [`run`], and with `requests` the program gets a supervisor socket on which `requests`
/// answers capability requests until the program's end is closed.
pub fn run_with_requests(
    mut launch: Launch,
    sandbox: Prepared,
    requests: Option<RequestServer>,
    after_fork: Option<AfterFork>,
) -> Result<i32> {
    use std::os::fd::AsRawFd;
    let channel = match requests {
        Some(supervisor) => {
            let (parent_end, child_end) = ipc::socket::pair()?;
            launch.env.retain(|(k, _)| k != ipc::SUPERVISOR_FD_ENV);
            launch.env.push((ipc::SUPERVISOR_FD_ENV.into(), child_end.as_raw_fd().to_string().into()));
            Some((supervisor, parent_end, child_end))
        }
        None => None,
    };
    // Everything the child needs is allocated before the fork.
    let program = cstring(launch.program.as_os_str().as_bytes(), "program path")?;
    let argv: Vec<CString> = launch
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes(), "an argument"))
        .collect::<Result<_>>()?;
    let envp: Vec<CString> = launch
        .env
        .iter()
        .map(|(k, v)| {
            let mut kv = k.clone().into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv, "an environment variable")
        })
        .collect::<Result<_>>()?;
    let display_name = launch.program.display().to_string();

    // SAFETY: single-threaded at this point; the child only restricts itself, changes
    // directory and execs.
    match unsafe { fork() }.map_err(|e| Error::Io { context: "fork".into(), source: e.into() })? {
        ForkResult::Child => {
            if let Some((_, _, child_end)) = &channel {
                // The one fd the program inherits on purpose.
                let keep = nix::fcntl::fcntl(child_end, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()));
                if let Err(e) = keep {
                    eprintln!("nono-ref: cannot pass the supervisor socket: {e}");
                    unsafe { libc::_exit(EXIT_SANDBOX_FAILED) };
                }
            }
            if let Err(why) = sandbox.restrict_self() {
                eprintln!("nono-ref: failed to apply sandbox: {why}");
                unsafe { libc::_exit(EXIT_SANDBOX_FAILED) };
            }
            if let Some(dir) = &launch.workdir {
                if let Err(e) = std::env::set_current_dir(dir) {
                    eprintln!("nono-ref: cannot change directory to {}: {e}", dir.display());
                    unsafe { libc::_exit(EXIT_SANDBOX_FAILED) };
                }
            }
            // The supervisor ignores SIGPIPE (see `crate::entry`); an ignored signal stays
            // ignored across exec, and the program must start with the default.
            // SAFETY: resetting a disposition to the default is async-signal-safe.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            let err = nix::unistd::execve(&program, &argv, &envp).unwrap_err();
            eprintln!("nono-ref: cannot execute {display_name}: {}", std::io::Error::from(err));
            unsafe { libc::_exit(EXIT_EXEC_FAILED) }
        }
        ForkResult::Parent { child } => {
            CHILD.store(child.as_raw(), Ordering::SeqCst);
            if let Some(after_fork) = after_fork {
                after_fork(child.as_raw() as u32);
            }
            if let Some((mut supervisor, parent_end, child_end)) = channel {
                drop(child_end);
                std::thread::spawn(move || {
                    if let Err(e) = supervisor.serve(&parent_end) {
                        eprintln!("nono-ref: supervisor: {e}; no further requests will be answered");
                    }
                });
            }
            for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGQUIT] {
                // SAFETY: the handler only calls kill(2).
                unsafe { signal::signal(sig, SigHandler::Handler(forward_signal)) }
                    .map_err(|e| Error::Io { context: "installing signal handler".into(), source: e.into() })?;
            }
            Ok(wait_for(child))
        }
    }
}

fn wait_for(child: Pid) -> i32 {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return EXIT_SANDBOX_FAILED,
        }
    }
}
