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

use crate::case::{Case, CaseResult, Ctx, Family, Requirement};
use crate::outcome::{Class as Outcome, ProbeResult};
use crate::runner::expect_class;
use crate::spec::Class;
use std::process::Command;

/// `TCGETS`: read a terminal's attributes (asm-generic/ioctls.h).
const TCGETS: &str = "0x5401";
/// `RNDGETENTCNT`: the entropy count, `_IOR('R', 0x00, int)` (linux/random.h).
const RNDGETENTCNT: &str = "0x80045200";

pub fn cases() -> Vec<Case> {
    let dev = Family::new("linux.fs.dev", Class::Core).requires(Requirement::LandlockAbi(5));
    vec![dev.case(
        "ioctl_on_written_device_only",
        "Under --allow D alone, an ioctl on /dev/null (writable) reaches the driver, while one on /dev/urandom (read-only) is denied although the device stays readable and the same ioctl works outside the sandbox",
        &["FS-DEV-001"],
        ioctl_on_written_device_only,
    )]
}

fn ioctl_on_written_device_only(cx: &Ctx) -> CaseResult {
    let d = cx.fx.dir("d");
    let run = cx.run().allow(&d).current_dir(&d);

    let null = run.op(["ioctl", "/dev/null", TCGETS])?;
    crate::ensure!(
        null.errno.as_deref() == Some("ENOTTY"),
        "TCGETS on the writable /dev/null must reach the null driver and fail with ENOTTY; got {null}"
    );

    let outside = probe_unsandboxed(cx, &["ioctl", "/dev/urandom", RNDGETENTCNT])?;
    crate::ensure!(outside.ok, "control: RNDGETENTCNT on /dev/urandom outside any sandbox failed ({outside}); the case cannot judge a denial");
    let inside = run.op(["ioctl", "/dev/urandom", RNDGETENTCNT])?;
    crate::ensure!(
        inside.str_field("step") == Some("ioctl"),
        "control: the read-only /dev/urandom must still open (only the ioctl is refused); got {inside} {:?}",
        inside.extra
    );
    expect_class(&inside, Outcome::Denied, "RNDGETENTCNT on the read-only /dev/urandom")
}

/// The probe run directly by the suite, outside any sandbox.
fn probe_unsandboxed(cx: &Ctx, args: &[&str]) -> Result<ProbeResult, String> {
    let out = Command::new(&cx.probe).args(args).output().map_err(|e| format!("running the probe directly: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().ok_or("the probe run directly printed nothing")?;
    serde_json::from_str(line).map_err(|e| format!("unreadable probe result {line:?}: {e}"))
}
