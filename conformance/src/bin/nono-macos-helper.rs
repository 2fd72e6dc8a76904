//! `nono-macos-helper`: the operations the macOS battery needs beyond `nono-probe`.
//!
//! Usage: `nono-macos-helper <op> [args...]`. Like the probe, each operation prints one JSON
//! line `{"op":..,"ok":..,"errno":..,"errno_num":.., ...}` and exits 0; usage errors exit 2.
//! Some operations run another one after them, in the same process (`sandbox-self`,
//! `ext-consume`, `recv-fd`) or after `execv` (`exec`), so that a case can ask "does this
//! still hold after that?".
//!
//! | op | what |
//! |----|------|
//! | `sandboxed` | is this process inside a Seatbelt sandbox? `value` 0 or 1 (macOS) |
//! | `mach-lookup NAME` | `bootstrap_look_up(NAME)`; `kern_return` on failure (macOS) |
//! | `ext-issue PATH` | issue a read extension token for PATH; `value` is the token (macOS) |
//! | `sandbox-self PROFILE_FILE OP...` | apply the SBPL in PROFILE_FILE to itself, then OP (macOS) |
//! | `ext-consume TOKEN OP...` | consume a sandbox extension token, then OP (macOS) |
//! | `read PATH` | read a file; `content` |
//! | `read-fd N` | read everything from descriptor N; `content` |
//! | `recv-fd SOCKET OP...` | connect to a Unix socket, receive one descriptor (SCM_RIGHTS), keep it open across exec, then OP with `{fd}` replaced by its number |
//! | `exec PROGRAM ARGS...` | replace this process with PROGRAM (reports only on failure) |
//!
//! Applying a sandbox here is safe: the helper is always a fresh process started for one
//! case, never the test process.

use nix::errno::Errno;
use std::ffi::CString;
use std::io::Write;

/// The probe's JSON line, shared with the probe and the cases.
use nono_conformance::outcome::ProbeResult as Outcome;

/// A failure with an errno when there is one.
fn failure(op: &str, errno: Option<i32>) -> Outcome {
    Outcome::ok(op).failed_with(errno)
}

/// What to do after an operation.
enum Next {
    /// Print this outcome and exit 0.
    Report(Outcome),
    /// Run this operation next (in this process).
    Then(Vec<String>),
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut current = args;
    loop {
        match dispatch(&current) {
            Ok(Next::Report(outcome)) => {
                println!("{}", outcome.to_json());
                break;
            }
            Ok(Next::Then(rest)) => current = rest,
            Err(usage) => {
                eprintln!("nono-macos-helper: {usage}");
                std::process::exit(2);
            }
        }
    }
    let _ = std::io::stdout().flush();
}

fn dispatch(args: &[String]) -> Result<Next, String> {
    let (op, rest) = args
        .split_first()
        .ok_or("usage: nono-macos-helper <op> [args...]")?;
    let op = op.as_str();
    let need = |n: usize, usage: &str| {
        if rest.len() < n {
            Err(format!("usage: {op} {usage}"))
        } else {
            Ok(())
        }
    };
    match op {
        "sandboxed" => Ok(Next::Report(platform::sandboxed(op))),
        "mach-lookup" => {
            need(1, "NAME")?;
            Ok(Next::Report(platform::mach_lookup(op, &rest[0])?))
        }
        "ext-issue" => {
            need(1, "PATH")?;
            Ok(Next::Report(platform::ext_issue(op, &rest[0])?))
        }
        "sandbox-self" => {
            need(2, "PROFILE_FILE OP...")?;
            let profile = match std::fs::read_to_string(&rest[0]) {
                Ok(text) => text,
                Err(e) => {
                    return Ok(Next::Report(
                        failure(op, e.raw_os_error()).with("step", "read-profile"),
                    ))
                }
            };
            match platform::sandbox_self(op, &profile)? {
                None => Ok(Next::Then(rest[1..].to_vec())),
                Some(failure) => Ok(Next::Report(failure)),
            }
        }
        "ext-consume" => {
            need(2, "TOKEN OP...")?;
            match platform::ext_consume(op, &rest[0])? {
                None => Ok(Next::Then(rest[1..].to_vec())),
                Some(failure) => Ok(Next::Report(failure)),
            }
        }
        "read" => {
            need(1, "PATH")?;
            Ok(Next::Report(match std::fs::read(&rest[0]) {
                Ok(bytes) => {
                    Outcome::ok(op).with("content", String::from_utf8_lossy(&bytes).into_owned())
                }
                Err(e) => failure(op, e.raw_os_error()),
            }))
        }
        "read-fd" => {
            need(1, "N")?;
            let fd: i32 = rest[0]
                .parse()
                .map_err(|_| format!("bad descriptor {:?}", rest[0]))?;
            Ok(Next::Report(read_fd(op, fd)))
        }
        "recv-fd" => {
            need(2, "SOCKET OP...")?;
            match recv_fd(op, &rest[0]) {
                Ok(fd) => Ok(Next::Then(
                    rest[1..]
                        .iter()
                        .map(|a| a.replace("{fd}", &fd.to_string()))
                        .collect(),
                )),
                Err(failure) => Ok(Next::Report(failure)),
            }
        }
        "exec" => {
            need(1, "PROGRAM ARGS...")?;
            let argv: Vec<CString> = rest
                .iter()
                .map(|a| CString::new(a.as_str()))
                .collect::<Result<_, _>>()
                .map_err(|_| "NUL in an argument")?;
            let _ = std::io::stdout().flush();
            let err = nix::unistd::execv(&argv[0], &argv).unwrap_err();
            Ok(Next::Report(
                failure(op, Some(err as i32)).with("step", "execv"),
            ))
        }
        _ => Err(format!("unknown op {op:?}")),
    }
}

fn read_fd(op: &str, fd: i32) -> Outcome {
    let mut data = vec![];
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }, &mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return failure(op, Some(e as i32)),
        }
    }
    Outcome::ok(op).with("content", String::from_utf8_lossy(&data).into_owned())
}

/// Connects to `socket` and receives one descriptor, left open across exec.
fn recv_fd(op: &str, socket: &str) -> Result<i32, Outcome> {
    use nix::sys::socket::{
        connect, recvmsg, socket as new_socket, AddressFamily, ControlMessageOwned, MsgFlags,
        SockFlag, SockType, UnixAddr,
    };
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;
    let fail =
        |step: &str, e: Errno| failure(op, Some(e as i32)).with("step", step.to_string());
    let addr = UnixAddr::new(socket).map_err(|e| fail("address", e))?;
    let sock = new_socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .map_err(|e| fail("socket", e))?;
    connect(sock.as_raw_fd(), &addr).map_err(|e| fail("connect", e))?;
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(|e| fail("recvmsg", e))?;
    let fd = msg
        .cmsgs()
        .map_err(|e| fail("cmsgs", e))?
        .find_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .ok_or_else(|| failure(op, None).with("step", "no SCM_RIGHTS descriptor"))?;
    // Keep it across exec: that is the point of the test.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } == -1 {
        return Err(fail("fcntl", Errno::last()));
    }
    Ok(fd)
}

#[cfg(target_os = "macos")]
mod platform {
    use super::{failure, Outcome};
    use std::ffi::{c_char, c_int, CStr, CString};

    extern "C" {
        fn sandbox_init(profile: *const c_char, flags: u64, errorbuf: *mut *mut c_char) -> c_int;
        fn sandbox_free_error(errorbuf: *mut c_char);
        fn sandbox_check(
            pid: libc::pid_t,
            operation: *const c_char,
            filter_type: c_int,
            ...
        ) -> c_int;
        fn sandbox_extension_issue_file(
            class: *const c_char,
            path: *const c_char,
            flags: u32,
        ) -> *mut c_char;
        fn sandbox_extension_consume(token: *const c_char) -> i64;
        fn bootstrap_look_up(bootstrap: u32, name: *const c_char, port: *mut u32) -> c_int;
        static bootstrap_port: u32;
    }

    fn cstr(s: &str) -> Result<CString, String> {
        CString::new(s).map_err(|_| format!("NUL in {s:?}"))
    }

    pub fn sandboxed(op: &str) -> Outcome {
        // SAFETY: NULL operation with filter type 0 only asks whether the pid is sandboxed.
        let rc = unsafe { sandbox_check(libc::getpid(), std::ptr::null(), 0) };
        Outcome::ok(op).with("value", i32::from(rc > 0))
    }

    pub fn mach_lookup(op: &str, name: &str) -> Result<Outcome, String> {
        let name_c = cstr(name)?;
        let mut port = 0u32;
        // SAFETY: bootstrap_port is set up by libSystem; name is NUL-terminated.
        let kr = unsafe { bootstrap_look_up(bootstrap_port, name_c.as_ptr(), &mut port) };
        Ok(if kr == 0 {
            Outcome::ok(op)
        } else {
            failure(op, None).with("kern_return", kr)
        })
    }

    pub fn ext_issue(op: &str, path: &str) -> Result<Outcome, String> {
        let class = cstr("com.apple.app-sandbox.read")?;
        let path_c = cstr(path)?;
        // SAFETY: both arguments are NUL-terminated; the returned token is malloc'd.
        let token = unsafe { sandbox_extension_issue_file(class.as_ptr(), path_c.as_ptr(), 0) };
        if token.is_null() {
            return Ok(failure(
                op,
                Some(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)),
            ));
        }
        let text = unsafe { CStr::from_ptr(token) }
            .to_string_lossy()
            .into_owned();
        unsafe { libc::free(token.cast()) };
        Ok(Outcome::ok(op).with("value", text))
    }

    pub fn sandbox_self(op: &str, profile: &str) -> Result<Option<Outcome>, String> {
        let profile = cstr(profile)?;
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: SBPL source (flags 0); err receives a message we free.
        let rc = unsafe { sandbox_init(profile.as_ptr(), 0, &mut err) };
        if rc == 0 {
            return Ok(None);
        }
        let why = if err.is_null() {
            format!("sandbox_init returned {rc}")
        } else {
            let text = unsafe { CStr::from_ptr(err) }
                .to_string_lossy()
                .into_owned();
            unsafe { sandbox_free_error(err) };
            text
        };
        Ok(Some(
            failure(op, None)
                .with("step", "sandbox_init")
                .with("error", why),
        ))
    }

    pub fn ext_consume(op: &str, token: &str) -> Result<Option<Outcome>, String> {
        let token = cstr(token)?;
        // SAFETY: the token is NUL-terminated; the handle is not released (process-lifetime).
        let handle = unsafe { sandbox_extension_consume(token.as_ptr()) };
        Ok((handle < 0).then(|| {
            failure(op, None)
                .with("step", "consume")
                .with("handle", handle)
        }))
    }
}

#[cfg(not(target_os = "macos"))]
mod platform {
    use super::{failure, Outcome};

    fn unsupported<T>(op: &str) -> Result<T, String> {
        Err(format!("{op}: macOS only"))
    }

    pub fn sandboxed(op: &str) -> Outcome {
        failure(op, None).with("error", "macOS only")
    }

    pub fn mach_lookup(op: &str, _name: &str) -> Result<Outcome, String> {
        unsupported(op)
    }

    pub fn ext_issue(op: &str, _path: &str) -> Result<Outcome, String> {
        unsupported(op)
    }

    pub fn sandbox_self(op: &str, _profile: &str) -> Result<Option<Outcome>, String> {
        unsupported(op)
    }

    pub fn ext_consume(op: &str, _token: &str) -> Result<Option<Outcome>, String> {
        unsupported(op)
    }
}
