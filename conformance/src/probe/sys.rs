//! Small helpers shared by the operations: raw syscalls, errno, argument parsing.

use super::*;

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

pub(crate) fn last_errno() -> i32 {
    Errno::last_raw()
}

pub(crate) fn io_errno(e: &std::io::Error) -> i32 {
    match e.raw_os_error() {
        Some(n) => n,
        None if e.kind() == std::io::ErrorKind::TimedOut => libc::ETIMEDOUT,
        None => libc::EIO,
    }
}

pub(crate) fn cstr(s: &str) -> Result<CString, Usage> {
    CString::new(s).map_err(|_| format!("argument contains a NUL byte: {:?}", s))
}

/// A path as a C string (paths reach the probe as UTF-8 arguments, but need not be).
pub(crate) fn cpath(path: &Path) -> Result<CString, Usage> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| format!("argument contains a NUL byte: {:?}", path))
}

/// Map a libc return value (`-1` on failure) to `Result<_, errno>`.
pub(crate) fn check(ret: libc::c_int) -> Result<libc::c_int, i32> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

pub(crate) fn open_raw(path: &CString, flags: libc::c_int, mode: libc::c_uint) -> Result<libc::c_int, i32> {
    check(unsafe { libc::open(path.as_ptr(), flags, mode) })
}

pub(crate) fn close_raw(fd: libc::c_int) {
    unsafe {
        libc::close(fd);
    }
}

/// Write all of `data` to `fd`, retrying on EINTR and short writes.
pub(crate) fn write_all_raw(fd: libc::c_int, data: &[u8]) -> Result<(), i32> {
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        let n = unsafe { libc::write(fd, rest.as_ptr() as *const libc::c_void, rest.len()) };
        if n < 0 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        off += n as usize;
    }
    Ok(())
}

/// Open PATH with `flags`, write DATA; report step "open" or "write".
pub(crate) fn open_and_write(op: &str, path: &Path, data: &str, flags: libc::c_int) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let fd = match open_raw(&p, flags | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let res = write_all_raw(fd, data.as_bytes());
    close_raw(fd);
    Ok(Done::Report(match res {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "write", e),
    }))
}

/// Single open(2) with a mode; the fd is closed right away.
pub(crate) fn open_only(op: &str, path: &Path, flags: libc::c_int) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let res = open_raw(&p, flags | libc::O_CLOEXEC, 0o644).map(close_raw);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

/// Two-path libc call (symlink, link, rename).
pub(crate) fn two_paths(
    op: &str,
    a: &Path,
    b: &Path,
    f: unsafe extern "C" fn(*const libc::c_char, *const libc::c_char) -> libc::c_int,
) -> Result<Done, Usage> {
    let (a, b) = (cpath(a)?, cpath(b)?);
    let res = check(unsafe { f(a.as_ptr(), b.as_ptr()) }).map(drop);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

/// Wait for `pid`, retrying on EINTR; returns the raw wait status.
pub(crate) fn wait_raw(pid: libc::pid_t) -> Result<libc::c_int, i32> {
    let mut status: libc::c_int = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == -1 {
            let e = last_errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        return Ok(status);
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn unsupported(op: &str) -> Result<Done, Usage> {
    Err(format!("{}: unsupported on this platform", op))
}


/// Runs a one-path syscall (`mkdir`, `rmdir`, `unlink`, `mkfifo`, ...) and reports it.
pub(crate) fn path_syscall(
    op: &str,
    path: &Path,
    call: impl FnOnce(*const libc::c_char) -> libc::c_int,
) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let res = check(call(p.as_ptr())).map(drop);
    Ok(Done::Report(Outcome::from_result(op, res)))
}

/// One `read(2)` from a raw fd, retrying `EINTR`; 0 is the end of the stream.
pub(crate) fn read_raw(fd: libc::c_int, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = last_errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn read_full_raw(fd: libc::c_int, buf: &mut [u8]) -> Result<usize, i32> {
    let mut got = 0;
    while got < buf.len() {
        match read_raw(fd, &mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Reads everything from `fd` until the end of the stream.
pub(crate) fn read_all_fd(fd: libc::c_int) -> Result<Vec<u8>, i32> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match read_raw(fd, &mut buf)? {
            0 => return Ok(data),
            n => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// A new AF_UNIX stream socket; Err is a finished outcome at step "socket".
pub(crate) fn unix_socket(op: &str) -> Result<std::os::fd::OwnedFd, Outcome> {
    socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None)
        .map_err(|e| Outcome::fail_at(op, "socket", e as i32))
}
