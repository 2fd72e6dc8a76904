//! Device ioctls (SPEC §4, FS-DEV-001): Landlock ABI 5 handles `ioctl(2)` on character
//! and block devices as its own right, and nono grants it only with write access to the
//! device (core-spec LL-06). So a program may drive the devices it may write, such as
//! `/dev/null`, but not those it may only read, such as `/dev/urandom`.
//!
//! The request sent to `/dev/null` is `TCGETS`, which the null driver does not know: it
//! answers ENOTTY, which proves the call reached the driver. Refused by Landlock, the same
//! call fails with EACCES before any driver sees it. The request sent to `/dev/urandom` is
//! `RNDGETENTCNT`, which any user may make: run outside the sandbox it succeeds, so its
//! denial inside is the sandbox's doing.
//!
//! Write access to a directory is not write access to the devices in it: only directories
//! under `/dev` (such as `/dev/pts`) carry the ioctl right to their devices (FS-DEV-002,
//! FS-DEV-003), and a device node granted for writing by its own path does too.

use crate::case::{Case, CaseResult, Ctx, Family, Requirement};
use crate::outcome::Class as Outcome;
use crate::runner::expect_class;
use crate::spec::Class;
use crate::probe::Op;

/// `TCGETS`: read a terminal's attributes (asm-generic/ioctls.h).
const TCGETS: u64 = 0x5401;
/// `RNDGETENTCNT`: the entropy count, `_IOR('R', 0x00, int)` (linux/random.h).
const RNDGETENTCNT: u64 = 0x8004_5200;

pub fn cases() -> Vec<Case> {
    let dev = Family::new("linux.fs.dev", Class::Core).requires(Requirement::LandlockAbi(5));
    vec![dev.case(
        "ioctl_on_written_device_only",
        "Under --allow D alone, an ioctl on /dev/null (writable) reaches the driver, while one on /dev/urandom (read-only) is denied although the device stays readable and the same ioctl works outside the sandbox",
        &["FS-DEV-001"],
        ioctl_on_written_device_only,
    ),
    dev.clone().requires(Requirement::Root).case(
        "ioctl_denied_on_device_in_written_directory",
        "Under --allow D, an ioctl on a null device node made in D is denied, although D is writable, the node opens, and the same ioctl reaches the driver outside the sandbox",
        &["FS-DEV-002"],
        ioctl_denied_on_device_in_written_directory,
    ),
    dev.case(
        "ioctl_on_pseudo_terminal",
        "Under --allow D alone, a terminal ioctl on a pseudo-terminal the suite opened, under the writable /dev/pts, succeeds, while one on the read-only /dev/urandom is denied",
        &["FS-DEV-003"],
        ioctl_on_pseudo_terminal,
    )]
}

fn ioctl_on_written_device_only(cx: &Ctx) -> CaseResult {
    let d = cx.fx.dir("d");
    let run = cx.run().allow(&d).current_dir(&d);

    let null = run.op(Op::ioctl("/dev/null", TCGETS))?;
    crate::ensure!(
        null.errno.as_deref() == Some("ENOTTY"),
        "TCGETS on the writable /dev/null must reach the null driver and fail with ENOTTY; got {null}"
    );

    let outside = cx.probe_outside(Op::ioctl("/dev/urandom", RNDGETENTCNT))?;
    crate::ensure!(outside.ok, "control: RNDGETENTCNT on /dev/urandom outside any sandbox failed ({outside}); the case cannot judge a denial");
    let inside = run.op(Op::ioctl("/dev/urandom", RNDGETENTCNT))?;
    crate::ensure!(
        inside.str_field("step") == Some("ioctl"),
        "control: the read-only /dev/urandom must still open (only the ioctl is refused); got {inside} {:?}",
        inside.extra
    );
    expect_class(&inside, Outcome::Denied, "RNDGETENTCNT on the read-only /dev/urandom")
}

fn ioctl_denied_on_device_in_written_directory(cx: &Ctx) -> CaseResult {
    let d = cx.fx.dir("d");
    let node = d.join("null");
    let path = std::ffi::CString::new(node.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a NUL-terminated path; the suite runs as root (the family's requirement).
    if unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } != 0 {
        return Err(format!("cannot make a null device node at {}: {}", node.display(), std::io::Error::last_os_error()));
    }
    let node = node.to_str().ok_or("the fixture path is not UTF-8")?;
    let outside = cx.probe_outside(Op::ioctl(node, TCGETS))?;
    crate::ensure!(
        outside.errno.as_deref() == Some("ENOTTY"),
        "control: outside any sandbox TCGETS on {node} must reach the null driver (ENOTTY), got {outside}; is the fixture root mounted nodev?"
    );
    let run = cx.run().allow(&d).current_dir(&d);
    let inside = run.op(Op::ioctl(node, TCGETS))?;
    crate::ensure!(
        inside.str_field("step") == Some("ioctl"),
        "control: the node in the writable D must open (only the ioctl is refused); got {inside} {:?}",
        inside.extra
    );
    expect_class(&inside, Outcome::Denied, "TCGETS on a device node in the writable D")?;
    // Same grants, a device the implementation grants for writing: the ioctl gets through.
    let null = run.op(Op::ioctl("/dev/null", TCGETS))?;
    crate::ensure!(null.errno.as_deref() == Some("ENOTTY"), "control: TCGETS on /dev/null must reach the driver; got {null}");
    // The node itself granted for writing, as a file: now it is a written device.
    let granted = cx.run().allow_file(node).allow(cx.fx.dir("e")).op(Op::ioctl(node, TCGETS))?;
    crate::ensure!(
        granted.errno.as_deref() == Some("ENOTTY"),
        "TCGETS on {node}, granted for writing with --allow-file, must reach the null driver (ENOTTY); got {granted}"
    );
    Ok(())
}

fn ioctl_on_pseudo_terminal(cx: &Ctx) -> CaseResult {
    let pty = Pty::open()?;
    let run = cx.run().allow(cx.fx.dir("d"));
    let inside = run.op(Op::ioctl(&pty.slave, TCGETS))?;
    expect_class(&inside, Outcome::Allowed, &format!("TCGETS on the pseudo-terminal {}", pty.slave))?;
    // The denial beside it, under the same grants: a device granted for reading only.
    let urandom = run.op(Op::ioctl("/dev/urandom", RNDGETENTCNT))?;
    expect_class(&urandom, Outcome::Denied, "RNDGETENTCNT on the read-only /dev/urandom")
}

/// A pseudo-terminal pair opened by the suite; the sandboxed program opens the slave by
/// its `/dev/pts/N` path while the master stays open here.
struct Pty {
    master: libc::c_int,
    slave: String,
}

impl Pty {
    fn open() -> Result<Pty, String> {
        let fail = |step: &str| format!("{step}: {} (this host has no usable pseudo-terminals)", std::io::Error::last_os_error());
        // SAFETY (the unsafe blocks below): libc calls on a descriptor this function owns;
        // ptsname_r writes at most the buffer's length and NUL-terminates it.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if master < 0 {
            return Err(fail("posix_openpt"));
        }
        // From here on, dropping `pty` closes the master.
        let mut pty = Pty { master, slave: String::new() };
        if unsafe { libc::grantpt(master) != 0 || libc::unlockpt(master) != 0 } {
            return Err(fail("grantpt/unlockpt"));
        }
        pty.slave = Self::slave_name(master).ok_or_else(|| fail("ptsname_r"))?;
        Ok(pty)
    }

    #[cfg(target_os = "linux")]
    fn slave_name(master: libc::c_int) -> Option<String> {
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: ptsname_r writes at most the buffer's length and NUL-terminates it.
        if unsafe { libc::ptsname_r(master, name.as_mut_ptr(), name.len()) } != 0 {
            return None;
        }
        Some(unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned())
    }

    /// The Linux cases compile everywhere but run only on Linux; elsewhere there is no
    /// thread-safe ptsname to call.
    #[cfg(not(target_os = "linux"))]
    fn slave_name(_master: libc::c_int) -> Option<String> {
        None
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // SAFETY: the master descriptor is owned by this value.
        unsafe { libc::close(self.master) };
    }
}

