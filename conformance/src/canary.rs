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
//! The verdict is computed once per run (keyed by the runner's `NONO_CONFORMANCE_RUN_ID`
//! or nextest's `NEXTEST_RUN_ID`, guarded by a file lock) and shared by the per-case
//! processes.

use crate::case::{CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::expect_class;
use nix::fcntl::{Flock, FlockArg};
use std::path::Path;

/// The canary itself. On macOS it first makes sure the suite is not itself inside a
/// Seatbelt sandbox, which cannot nest (see `cases::macos::suite_is_not_sandboxed`).
pub fn check(cx: &Ctx) -> CaseResult {
    #[cfg(target_os = "macos")]
    crate::cases::macos::suite_is_not_sandboxed(cx)?;
    let inside = cx.fx.dir("inside");
    let outside = cx.fx.dir("outside");
    let run = cx.run().allow(&inside);
    if cfg!(target_os = "linux") && cx.imp.landlock_abi == 0 {
        let refused = run.probe(["create", inside.join("canary").to_str().unwrap()]);
        crate::ensure!(
            refused.probe().is_err() && refused.code != 0 && !cx.fx.exists("inside/canary"),
            "canary: without Landlock the IUT must refuse to run the program, but it ran it unsandboxed; {refused}"
        );
        return Ok(());
    }
    let allowed = run.op(["create", inside.join("canary").to_str().unwrap()])?;
    expect_class(&allowed, Class::Allowed, "canary: create inside the grant")?;
    crate::ensure!(cx.fx.exists("inside/canary"), "canary: create inside reported ok but no file exists");
    let denied = run.op(["create", outside.join("canary").to_str().unwrap()])?;
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
