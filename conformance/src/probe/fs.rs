//! Filesystem operations: read, list, stat, xattrs, rename-exchange, `/proc` fd reopen.

use super::*;

// ---------------------------------------------------------------------------
// Op implementations
// ---------------------------------------------------------------------------

pub(crate) fn op_read(path: &Path) -> Result<Done, Usage> {
    let op = "read";
    let p = cpath(path)?;
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let report = read_fd_report(op, fd);
    close_raw(fd);
    Ok(Done::Report(report))
}

#[cfg(target_os = "linux")]
pub(crate) fn op_rename_exchange(op: &str, a: &Path, b: &Path) -> Result<Done, Usage> {
    let (a, b) = (cpath(a)?, cpath(b)?);
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    let res = if r == -1 { Err(last_errno()) } else { Ok(()) };
    Ok(Done::Report(Outcome::from_result(op, res)))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_rename_exchange(op: &str, _a: &Path, _b: &Path) -> Result<Done, Usage> {
    unsupported(op)
}

pub(crate) fn op_readdir(op: &str, path: &Path) -> Result<Done, Usage> {
    let iter = match std::fs::read_dir(path) {
        Ok(it) => it,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "opendir", io_errno(&e)))),
    };
    let mut names = Vec::new();
    for entry in iter {
        match entry {
            Ok(ent) => names.push(String::from_utf8_lossy(ent.file_name().as_bytes()).into_owned()),
            Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "readdir", io_errno(&e)))),
        }
    }
    names.sort();
    Ok(Done::Report(Outcome::ok(op).with("entries", names)))
}

pub(crate) fn op_getxattr(op: &str, path: &Path, name: &str) -> Result<Done, Usage> {
    let (p, n) = (cpath(path)?, cstr(name)?);
    let mut buf = vec![0u8; 4096];
    let (value, len) = (buf.as_mut_ptr().cast::<libc::c_void>(), buf.len());
    // SAFETY: both strings are NUL-terminated and the buffer holds `len` bytes.
    #[cfg(target_os = "macos")]
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), value, len, 0, 0) };
    #[cfg(not(target_os = "macos"))]
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), value, len) };
    Ok(Done::Report(if got < 0 {
        Outcome::fail(op, last_errno())
    } else {
        let text = String::from_utf8_lossy(&buf[..got as usize]).into_owned();
        Outcome::ok(op).with("content", text)
    }))
}

pub(crate) fn op_stat(op: &str, path: &Path) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(p.as_ptr(), &mut st) } == -1 {
        return Ok(Done::Report(Outcome::fail(op, last_errno())));
    }
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        _ => "other",
    };
    Ok(Done::Report(Outcome::ok(op).with("kind", kind)))
}


#[cfg(target_os = "linux")]
pub(crate) fn op_reopen_proc_fd(op: &str, path: &Path) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let proc_path = cstr(&format!("/proc/self/fd/{}", fd))?;
    let res = open_raw(&proc_path, libc::O_RDWR | libc::O_CLOEXEC, 0);
    close_raw(fd);
    Ok(Done::Report(match res {
        Ok(fd2) => {
            close_raw(fd2);
            Outcome::ok(op)
        }
        Err(e) => Outcome::fail_at(op, "reopen", e),
    }))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_reopen_proc_fd(op: &str, _path: &Path) -> Result<Done, Usage> {
    unsupported(op)
}

pub(crate) fn op_ioctl(op: &str, path: &Path, request: u64) -> Result<Done, Usage> {
    let p = cpath(path)?;
    let fd = match open_raw(&p, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(fd) => fd,
        Err(e) => return Ok(Done::Report(Outcome::fail_at(op, "open", e))),
    };
    let mut buf = [0u8; 256];
    // SAFETY: fd is open and the buffer is larger than any argument the requests the
    // suite sends (termios, an int) write.
    let ret = unsafe { libc::ioctl(fd, request as _, buf.as_mut_ptr()) };
    let res = check(ret).map(drop);
    close_raw(fd);
    Ok(Done::Report(match res {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "ioctl", e),
    }))
}
