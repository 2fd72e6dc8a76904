//! Process operations: exec, ptrace, no_new_privs, the Landlock ABI, in-child,
//! after-exec, kill-self.

use super::*;

pub(crate) fn op_exec(op: &str, path: &Path, args: &[String]) -> Result<Done, Usage> {
    // Everything allocated before fork.
    let mut cargs = vec![cpath(path)?];
    for arg in args {
        cargs.push(cstr(arg)?);
    }
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());

    let mut fds = [0 as libc::c_int; 2];
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
        return Ok(Done::Report(Outcome::fail_at(op, "pipe", last_errno())));
    }
    let (rd, wr) = (fds[0], fds[1]);
    for fd in [rd, wr] {
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
            let e = last_errno();
            close_raw(rd);
            close_raw(wr);
            return Ok(Done::Report(Outcome::fail_at(op, "pipe", e)));
        }
    }

    let _ = std::io::stdout().flush();
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        let e = last_errno();
        close_raw(rd);
        close_raw(wr);
        return Ok(Done::Report(Outcome::fail_at(op, "fork", e)));
    }
    if pid == 0 {
        // Child: only async-signal-safe calls from here on.
        unsafe {
            libc::close(rd);
            libc::execv(argv[0], argv.as_ptr());
            let err: i32 = *errno_location();
            let bytes = err.to_ne_bytes();
            libc::write(wr, bytes.as_ptr() as *const libc::c_void, bytes.len());
            libc::_exit(127);
        }
    }

    // Parent.
    close_raw(wr);
    let mut buf = [0u8; 4];
    let mut got = 0usize;
    while got < buf.len() {
        let n = unsafe {
            libc::read(
                rd,
                buf[got..].as_mut_ptr() as *mut libc::c_void,
                buf.len() - got,
            )
        };
        if n < 0 {
            if last_errno() == libc::EINTR {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    close_raw(rd);
    let status = wait_raw(pid);

    if got > 0 {
        let errno = if got == buf.len() {
            i32::from_ne_bytes(buf)
        } else {
            libc::EIO
        };
        return Ok(Done::Report(Outcome::fail_at(op, "exec", errno)));
    }
    Ok(Done::Report(match status {
        Err(e) => Outcome::fail_at(op, "waitpid", e),
        Ok(st) if libc::WIFEXITED(st) => Outcome::ok(op).with("exit_code", libc::WEXITSTATUS(st)),
        Ok(st) if libc::WIFSIGNALED(st) => Outcome::ok(op).with("signal", libc::WTERMSIG(st)),
        Ok(_) => Outcome::ok(op),
    }))
}

/// Pointer to the thread's errno (for the post-fork child, where nix/std helpers are avoided).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
pub(crate) unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
}


#[cfg(target_os = "linux")]
pub(crate) fn op_ptrace_attach(op: &str, pid: libc::pid_t) -> Result<Done, Usage> {
    use nix::sys::ptrace;
    use nix::sys::wait::{waitpid, WaitPidFlag};
    use nix::unistd::Pid;

    let pid = Pid::from_raw(pid);
    if let Err(e) = ptrace::attach(pid) {
        return Ok(Done::Report(Outcome::fail_at(op, "attach", e as i32)));
    }
    loop {
        match waitpid(pid, Some(WaitPidFlag::__WALL)) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                let _ = ptrace::detach(pid, None);
                return Ok(Done::Report(Outcome::fail_at(op, "waitpid", e as i32)));
            }
        }
    }
    Ok(Done::Report(match ptrace::detach(pid, None) {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "detach", e as i32),
    }))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_ptrace_attach(op: &str, _pid: libc::pid_t) -> Result<Done, Usage> {
    unsupported(op)
}

#[cfg(target_os = "linux")]
pub(crate) fn op_nnp(op: &str) -> Result<Done, Usage> {
    let r = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) };
    Ok(Done::Report(if r == -1 {
        Outcome::fail(op, last_errno())
    } else {
        Outcome::ok(op).with("value", r)
    }))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_nnp(op: &str) -> Result<Done, Usage> {
    unsupported(op)
}

#[cfg(target_os = "linux")]
pub(crate) fn op_landlock_abi(op: &str) -> Result<Done, Usage> {
    use landlock::{AccessFs, LandlockStatus, Ruleset, RulesetAttr};

    let status = Ruleset::default()
        .handle_access(AccessFs::Execute)
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self());
    Ok(Done::Report(match status {
        Ok(st) => {
            let value = match st.landlock {
                LandlockStatus::Available {
                    effective_abi,
                    kernel_abi,
                } => kernel_abi.unwrap_or(effective_abi as i32),
                _ => 0,
            };
            Outcome::ok(op).with("value", value)
        }
        Err(e) => Outcome::ok(op).failed_with(None).with("error", e.to_string()),
    }))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_landlock_abi(op: &str) -> Result<Done, Usage> {
    unsupported(op)
}

pub(crate) fn op_in_child(op: &str, inner: &Op) -> Result<Done, Usage> {
    let _ = std::io::stdout().flush();
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Ok(Done::Report(Outcome::fail_at(op, "fork", last_errno())));
    }
    if pid == 0 {
        // Child: the probe is single-threaded here, so running the dispatcher is fine.
        let code = execute_op(inner);
        unsafe { libc::_exit(code) };
    }
    match wait_raw(pid) {
        Err(e) => Ok(Done::Report(Outcome::fail_at(op, "waitpid", e))),
        Ok(st) if libc::WIFEXITED(st) => Ok(Done::Exit(libc::WEXITSTATUS(st))),
        Ok(st) if libc::WIFSIGNALED(st) => {
            let sig = libc::WTERMSIG(st);
            let mut o = Outcome::ok(op).with("error", format!("child killed by signal {}", sig));
            o.ok = false;
            Ok(Done::Report(o))
        }
        Ok(st) => {
            let mut o = Outcome::ok(op).with("error", format!("unexpected wait status {}", st));
            o.ok = false;
            Ok(Done::Report(o))
        }
    }
}

pub(crate) fn op_after_exec(op: &str, inner: &Op) -> Result<Done, Usage> {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return Ok(Done::Report(Outcome::fail_at(
                op,
                "current_exe",
                io_errno(&e),
            )))
        }
    };
    let exe = CString::new(exe.as_os_str().as_bytes())
        .map_err(|_| "current_exe contains a NUL byte".to_string())?;
    let mut cargs = vec![exe.clone()];
    for a in inner.argv() {
        cargs.push(cstr(&a)?);
    }
    let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let _ = std::io::stdout().flush();
    unsafe { libc::execv(exe.as_ptr(), argv.as_ptr()) };
    Ok(Done::Report(Outcome::fail_at(op, "execv", last_errno())))
}

pub(crate) fn op_kill_self(op: &str, sig: libc::c_int) -> Result<Done, Usage> {
    unsafe {
        // Best effort: these fail harmlessly for invalid signals (raise reports those).
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    if unsafe { libc::raise(sig) } != 0 {
        return Ok(Done::Report(Outcome::fail(op, last_errno())));
    }
    // Still alive: the signal's default action does not terminate (or SIG was 0).
    Ok(Done::Report(Outcome::ok(op).with("survived", true)))
}
