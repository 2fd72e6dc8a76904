//! `nono-abi-emulator`: runs a program on a kernel that seems to have an older Landlock ABI.
//!
//! Usage: `nono-abi-emulator N -- PROGRAM [ARGS...]` with N from 0 to 6.
//!
//! ```text
//! emulator process (becomes PROGRAM)              answerer (double-forked, unfiltered)
//!   socketpair, fork ───────────────────────────►  sends its pid
//!   PR_SET_PTRACER(answerer) ◄──── pid ──────────
//!   seccomp filter (no_new_privs first unless
//!   CAP_SYS_ADMIN) with a
//!   user-notification listener for the three
//!   Landlock syscalls
//!   send the listener ───────── SCM_RIGHTS ─────►  answers each Landlock call of PROGRAM
//!   exec PROGRAM                                     and its descendants
//!                                                    (emulation::decide); exits when the
//!                                                    last of them is gone
//! ```
//!
//! PROGRAM keeps the emulator's pid, parent and process group, so a caller waiting for it,
//! signalling it or comparing pids sees PROGRAM itself. The answerer is not PROGRAM's child
//! (it would be a surprise child to reap) and not its ancestor; it reads ruleset attributes
//! out of the callers' memory, which needs ptrace access: PROGRAM itself names it as its
//! ptracer (Yama's `PR_SET_PTRACER`), and for PROGRAM's descendants under Yama
//! `ptrace_scope=1` the answerer needs `CAP_SYS_PTRACE` (root). A read that is refused
//! fails the Landlock call with `EPERM` and a message on stderr, never silently.
//!
//! The answerer keeps none of the caller's pipes open beyond PROGRAM's life (stderr, for
//! its diagnostics, only until PROGRAM exits), so a caller reading PROGRAM's output to the
//! end never waits for it.
//!
//! This is not a security boundary: only native-architecture syscalls are intercepted.
//! Exit status 125 means the emulator itself failed (bad usage, no seccomp), with a
//! message on stderr.

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("nono-abi-emulator: Landlock ABI emulation needs Linux (seccomp user notification)");
    std::process::exit(125);
}

#[cfg(target_os = "linux")]
mod linux {
    use nix::errno::Errno;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use nix::sys::wait::waitpid;
    use nix::unistd::{fork, ForkResult};
    use nono_conformance::emulation::{self, Answer, Call};
    use nono_conformance::kit::wire;
    use std::ffi::{CString, OsString};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::io::{Read, Write};
    use std::os::unix::ffi::OsStringExt;

    /// Exit status for the emulator's own failures.
    const EMULATOR_FAILED: i32 = 125;

    fn fail(message: impl std::fmt::Display) -> ! {
        eprintln!("nono-abi-emulator: {message}");
        std::process::exit(EMULATOR_FAILED);
    }

    pub fn main() {
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let (abi, program) = parse_args(&args).unwrap_or_else(|e| {
            fail(format!("{e}\nusage: nono-abi-emulator N -- PROGRAM [ARGS...]   (N from 0 to {})", emulation::MAX_EMULATED_ABI))
        });
        let real = real_abi();
        if real < abi {
            fail(format!("cannot emulate Landlock ABI {abi}: the kernel itself only has ABI {real}"));
        }
        let argv: Vec<CString> = program
            .iter()
            .map(|a| CString::new(a.clone().into_vec()).unwrap_or_else(|_| fail("an argument contains a NUL byte")))
            .collect();

        let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
            .unwrap_or_else(|e| fail(format!("socketpair: {e}")));
        let program_pid = std::process::id() as libc::pid_t;
        // SAFETY: single-threaded here, so the children may run ordinary code.
        match unsafe { fork() } {
            Err(e) => fail(format!("fork: {e}")),
            Ok(ForkResult::Child) => {
                drop(ours);
                // Fork again and leave, so that the answerer is nobody's surprise child.
                match unsafe { fork() } {
                    Ok(ForkResult::Child) => answer(abi, theirs, program_pid),
                    _ => unsafe { libc::_exit(0) },
                }
            }
            Ok(ForkResult::Parent { child }) => {
                drop(theirs);
                let _ = waitpid(child, None);
                become_program(ours, &argv)
            }
        }
    }

    fn parse_args(args: &[OsString]) -> Result<(u32, &[OsString]), String> {
        let abi = args.first().ok_or("missing the ABI to emulate")?;
        let abi = emulation::parse_abi(&abi.to_string_lossy())?;
        let rest = &args[1..];
        let program = match rest.first() {
            Some(sep) if sep == "--" => &rest[1..],
            _ => rest,
        };
        if program.is_empty() {
            return Err("missing the program to run".into());
        }
        Ok((abi, program))
    }

    /// The kernel's own ABI (0 without Landlock), asked before any filter exists.
    fn real_abi() -> u32 {
        // SAFETY: the version query reads no memory (attr NULL, size 0).
        let v = unsafe { libc::syscall(libc::c_long::from(emulation::SYS_CREATE_RULESET), 0usize, 0usize, 1u32) };
        u32::try_from(v).unwrap_or(0)
    }

    /// Lets the answerer read our memory, filters, hands over the listener and execs the
    /// program. Never returns.
    fn become_program(sock: OwnedFd, argv: &[CString]) -> ! {
        let mut pid = [0u8; 4];
        if let Err(e) = (&std::fs::File::from(sock.try_clone().unwrap_or_else(|e| fail(format!("dup: {e}"))))).read_exact(&mut pid) {
            fail(format!("the answerer did not start: {e}"));
        }
        let answerer = i32::from_ne_bytes(pid);
        // Fails with EINVAL without Yama, where ordinary ptrace rules already allow it.
        unsafe { libc::prctl(libc::PR_SET_PTRACER, answerer as libc::c_ulong, 0, 0, 0) };
        // Without CAP_SYS_ADMIN a seccomp filter needs no_new_privs. Set it only then: the
        // program must be the one to set it (PROC-NNP-001), or a case could not tell.
        let listener = match install_filter() {
            Err(Errno::EACCES) => {
                if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                    fail(format!("prctl(PR_SET_NO_NEW_PRIVS): {}", Errno::last()));
                }
                install_filter()
            }
            other => other,
        }
        .unwrap_or_else(|e| fail(format!("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER): {e}")));
        if let Err(e) = wire::send_fds(sock.as_raw_fd(), &[listener.as_raw_fd()]) {
            fail(format!("handing over the listener: {e}"));
        }
        drop(listener);
        drop(sock);
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
        let errno = Errno::last();
        eprintln!("nono-abi-emulator: cannot run {:?}: {errno}", argv[0]);
        // 127/126 like a shell: the program was not found / could not be executed.
        std::process::exit(if errno == Errno::ENOENT { 127 } else { 126 })
    }

    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH_NATIVE: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH_NATIVE: u32 = 0xC000_00B7;

    /// Installs "Landlock syscalls → user notification, everything else → allow" and
    /// returns the listener.
    fn install_filter() -> Result<OwnedFd, Errno> {
        use libc::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
        let stmt = |code: u32, k: u32| libc::sock_filter { code: code as u16, jt: 0, jf: 0, k };
        let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter { code: (BPF_JMP | BPF_JEQ | BPF_K) as u16, jt, jf, k };
        // Offsets in struct seccomp_data: nr at 0, arch at 4.
        let program = [
            stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            jeq(AUDIT_ARCH_NATIVE, 0, 4), // foreign architecture → allow
            stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            jeq(emulation::SYS_CREATE_RULESET as u32, 3, 0),
            jeq(emulation::SYS_ADD_RULE as u32, 2, 0),
            jeq(emulation::SYS_RESTRICT_SELF as u32, 1, 0),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_USER_NOTIF),
        ];
        let fprog = libc::sock_fprog { len: program.len() as u16, filter: program.as_ptr() as *mut _ };
        // SAFETY: fprog points at a live program for the duration of the call.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                &fprog as *const libc::sock_fprog,
            )
        };
        if fd < 0 {
            return Err(Errno::last());
        }
        // SAFETY: the kernel just returned this new descriptor.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// The answerer: says who it is, takes the listener and serves it. Never returns.
    fn answer(abi: u32, sock: OwnedFd, program: libc::pid_t) -> ! {
        // Keep no pipe of the caller's open but stderr, and that one only while PROGRAM runs
        // (for diagnostics): a caller reading PROGRAM's output to its end must not wait for
        // us, or for a descendant PROGRAM left behind that we still serve.
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap_or_else(|e| fail(format!("/dev/null: {e}")));
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
            libc::dup2(null.as_raw_fd(), 1);
        }
        let program = pidfd(program);
        let pid = std::process::id() as i32;
        if (&std::fs::File::from(sock.try_clone().unwrap_or_else(|e| fail(format!("dup: {e}")))))
            .write_all(&pid.to_ne_bytes())
            .is_err()
        {
            std::process::exit(EMULATOR_FAILED);
        }
        // No listener: the program side failed before handing it over, and said why.
        let mut fds = match wire::recv_fds(sock.as_raw_fd(), &mut [0u8; 1], 1) {
            Ok(got) if got.fds.len() == 1 => got.fds,
            _ => std::process::exit(EMULATOR_FAILED),
        };
        drop(sock);
        serve(abi, fds.remove(0), program, &null);
        std::process::exit(0)
    }

    /// A pidfd that becomes readable when `pid` exits (None on kernels before 5.3).
    fn pidfd(pid: libc::pid_t) -> Option<OwnedFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        // SAFETY: the kernel just returned this new descriptor.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// Answers notifications until every filtered process is gone (the listener hangs up).
    /// When PROGRAM exits (`program` becomes readable), stderr is let go.
    fn serve(abi: u32, listener: OwnedFd, mut program: Option<OwnedFd>, null: &std::fs::File) {
        let fd = listener.as_raw_fd();
        loop {
            let mut pfds = [
                libc::pollfd { fd, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: program.as_ref().map_or(-1, |p| p.as_raw_fd()), events: libc::POLLIN, revents: 0 },
            ];
            if unsafe { libc::poll(pfds.as_mut_ptr(), 2, -1) } < 0 {
                if Errno::last() == Errno::EINTR {
                    continue;
                }
                fail(format!("poll on the seccomp listener: {}", Errno::last()));
            }
            if pfds[1].revents != 0 {
                unsafe { libc::dup2(null.as_raw_fd(), 2) };
                program = None;
            }
            let pfd = pfds[0];
            if pfd.revents == 0 {
                continue;
            }
            if pfd.revents & libc::POLLIN == 0 {
                return; // POLLHUP: no filtered process left.
            }
            // SAFETY: seccomp_notif is plain data; the kernel requires it zeroed.
            let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
            if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) } < 0 {
                // ENOENT: the caller died or was interrupted before we got to it.
                continue;
            }
            let call = Call { nr: notif.data.nr, args: notif.data.args };
            let pid = notif.pid as libc::pid_t;
            let answer = emulation::decide(abi, call, |addr, len| read_memory(pid, addr, len));
            // The pid may have been reused between receiving and reading: only answer a
            // notification that is still pending (then the memory read was the caller's).
            if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &notif.id) } < 0 {
                continue;
            }
            let mut resp = libc::seccomp_notif_resp { id: notif.id, val: 0, error: 0, flags: 0 };
            match answer {
                Answer::Continue => resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
                Answer::Return(v) => resp.val = v,
                Answer::Fail(errno) => resp.error = -errno,
            }
            // An error here means the caller went away meanwhile; nothing to answer then.
            let _ = unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
        }
    }

    /// Reads `len` bytes at `addr` in process `pid`; the errno when that is impossible.
    fn read_memory(pid: libc::pid_t, addr: u64, len: usize) -> Result<Vec<u8>, i32> {
        let mut buf = vec![0u8; len];
        let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: len };
        let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: len };
        // SAFETY: local points at our own buffer of len bytes; remote is only read by the
        // kernel, with the target's permissions checked.
        let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        match n {
            n if n == len as isize => Ok(buf),
            n if n >= 0 => Err(libc::EFAULT),
            _ => {
                let errno = Errno::last();
                eprintln!("nono-abi-emulator: cannot read the ruleset attribute of pid {pid}: {errno}");
                Err(if errno == Errno::EFAULT { libc::EFAULT } else { libc::EPERM })
            }
        }
    }
}
