//! The canary: before any sandbox case is believed, prove that enforcement is real.
//!
//! Under `run --allow inside/`, creating `inside/canary` must succeed and creating
//! `outside/canary` must be denied with the platform's errno and leave no file behind. An
//! implementation that "supports" everything but enforces nothing fails here, loudly, and
//! every sandbox case of the run fails with it.
//!
//! On Linux without Landlock (a real old kernel, or `NONO_CONFORMANCE_EMULATE_ABI=0`) no
//! enforcement can be real; the canary then proves the IUT does not pretend: it refuses
//! to run the program, which creates nothing. Sandbox cases are skipped there (see
//! [`crate::cases::all`]), but the ones written for old kernels run on this verdict.
//!
//! Everything about the canary lives here: its IDs, its two cases (Linux and macOS, which
//! also requires Seatbelt's EPERM), and the gate every sandbox case passes through first
//! ([`verdict`], called by the harness with [`check_for`]).
//!
//! The verdict is computed once per run (keyed by the runner's `NONO_CONFORMANCE_RUN_ID`
//! or nextest's `NEXTEST_RUN_ID`, guarded by a file lock) and shared by the per-case
//! processes.

use crate::case::{case, Case, CaseResult, Ctx, Platform};
use crate::kit::expect::{expect_class, expect_eperm};
use crate::outcome::Class;
use nix::fcntl::{Flock, FlockArg};
use std::path::Path;
use crate::probe::Op;

/// The Linux canary's ID: it runs without waiting for its own verdict.
pub const CANARY_ID: &str = "linux.canary.enforcement_is_real";

/// The macOS canary's ID.
pub const MACOS_CANARY_ID: &str = "macos.canary.enforcement_is_real";

/// The canary that `platform`'s sandbox cases wait for.
pub fn canary_id(platform: Platform) -> &'static str {
    match platform {
        Platform::MacOs => MACOS_CANARY_ID,
        _ => CANARY_ID,
    }
}

/// The Linux canary case (first of the Linux battery).
pub fn linux_case() -> Case {
    case(
        CANARY_ID,
        "Enforcement is real: a write outside the grants is denied, one inside allowed",
        &["CORE-CANARY-001"],
        check,
    )
}

/// The macOS canary case (first of the macOS battery).
pub fn macos_case() -> Case {
    case(
        MACOS_CANARY_ID,
        "Enforcement is real on macOS: a create outside the grants fails with EPERM and leaves nothing, one inside succeeds",
        &["CORE-CANARY-001", "SB-APPLY-001"],
        check_macos,
    )
}

/// The check the gate runs for `platform`'s sandbox cases: the same body as that
/// platform's canary case.
pub fn check_for(platform: Platform) -> fn(&Ctx) -> CaseResult {
    match platform {
        Platform::MacOs => check_macos,
        _ => check,
    }
}

/// [`check`], and on macOS the denial must carry Seatbelt's EPERM.
pub fn check_macos(cx: &Ctx) -> CaseResult {
    check(cx)?;
    let outside = cx.fx.dir("outside-eperm");
    let r = cx.run().allow(cx.fx.dir("inside-eperm")).op(Op::create(outside.join("f")))?;
    expect_eperm(&r, "create outside every grant")?;
    crate::ensure!(!cx.fx.exists("outside-eperm/f"), "a file was created outside every grant");
    Ok(())
}

/// The canary itself. On macOS it first makes sure the suite is not itself inside a
/// Seatbelt sandbox, which cannot nest (see `cases::macos::suite_is_not_sandboxed`).
pub fn check(cx: &Ctx) -> CaseResult {
    #[cfg(target_os = "macos")]
    crate::cases::macos::suite_is_not_sandboxed(cx)?;
    let inside = cx.fx.dir("inside");
    let outside = cx.fx.dir("outside");
    let run = cx.run().allow(&inside);
    if cfg!(target_os = "linux") && cx.imp.landlock_abi == 0 {
        let refused = run.probe(Op::create(inside.join("canary")));
        crate::ensure!(
            refused.probe().is_err() && refused.code != 0 && !cx.fx.exists("inside/canary"),
            "canary: without Landlock the IUT must refuse to run the program, but it ran it unsandboxed; {refused}"
        );
        return Ok(());
    }
    let allowed = run.op(Op::create(inside.join("canary")))?;
    expect_class(&allowed, Class::Allowed, "canary: create inside the grant")?;
    crate::ensure!(cx.fx.exists("inside/canary"), "canary: create inside reported ok but no file exists");
    let denied = run.op(Op::create(outside.join("canary")))?;
    expect_class(&denied, Class::Denied, "canary: create outside every grant")?;
    crate::ensure!(
        !cx.fx.exists("outside/canary"),
        "canary: ENFORCEMENT IS NOT REAL: a file was created outside every grant"
    );
    Ok(())
}

/// Runs the canary once per nextest run and returns its verdict to every caller.
pub fn verdict(cache_dir: &Path, run_canary: impl FnOnce() -> CaseResult) -> CaseResult {
    let Some(run_id) = std::env::var_os("NONO_CONFORMANCE_RUN_ID").or_else(|| std::env::var_os("NEXTEST_RUN_ID")) else {
        // Not under a runner: no run to share a verdict with, so check now.
        return run_canary();
    };
    let path = cache_dir.join(format!("canary-{}.txt", run_id.to_string_lossy()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("canary cache {}: {e}", path.display()))?;
    let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| format!("canary lock: {e}"))?;
    let cached = std::fs::read_to_string(&path).unwrap_or_default();
    let verdict = if cached == "ok" {
        Ok(())
    } else if let Some(why) = cached.strip_prefix("fail:") {
        Err(why.to_string())
    } else {
        let v = run_canary();
        let text = match &v {
            Ok(()) => "ok".to_string(),
            Err(why) => format!("fail:{why}"),
        };
        std::fs::write(&path, text).map_err(|e| format!("canary cache {}: {e}", path.display()))?;
        v
    };
    drop(lock);
    verdict.map_err(|why| format!("the canary failed, so no sandbox result of this run can be trusted: {why}"))
}
