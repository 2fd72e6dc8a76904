//! The test-binary side: turns [`Case`]s into libtest-mimic trials, one nextest test each.
//!
//! For every case, in order:
//! 1. wrong platform, or its Cargo feature off → ignored, with the reason in the report;
//! 2. an unmet requirement (old kernel, not root) → ignored as a skip with its reason, or,
//!    with `NONO_CONFORMANCE_STRICT=1`, a failure;
//! 3. sandbox cases wait for the run's canary verdict;
//! 4. the body runs in this (unsandboxed) test process, which only ever spawns the
//!    implementation; the sandbox is applied in the implementation's child;
//! 5. the implementation's expectation file turns a listed failure into `expected-fail`
//!    and a listed pass into a failure.

use crate::case::{Case, Ctx, Platform};
use crate::expectations::Expectations;
use crate::fixture::{fixture_base, Fixture};
use crate::implementation::Implementation;
use crate::results::{self, Record, Status};
use libtest_mimic::{Arguments, Failed, Trial};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

/// Paths Cargo gives an integration test at compile time.
pub struct SuitePaths {
    /// `env!("CARGO_BIN_EXE_nono-ref-under-test")`: the reference, used when `NONO_IMPL` is unset.
    pub reference: &'static str,
    /// `env!("CARGO_BIN_EXE_nono-probe")`.
    pub probe: &'static str,
    /// `env!("CARGO_TARGET_TMPDIR")`.
    pub target_tmpdir: &'static str,
}

/// Which platform batteries this build enables.
pub fn enabled(platform: Platform) -> Result<(), String> {
    match platform {
        Platform::Any => Ok(()),
        Platform::Linux if !cfg!(target_os = "linux") => Err("Linux battery; this host is not Linux".into()),
        Platform::Linux if !cfg!(feature = "linux-landlock") => {
            Err("Linux battery; enable it with --features linux-landlock".into())
        }
        Platform::MacOs if !cfg!(target_os = "macos") => Err("macOS battery; this host is not macOS".into()),
        Platform::MacOs if !cfg!(feature = "macos-seatbelt") => {
            Err("macOS battery; enable it with --features macos-seatbelt".into())
        }
        _ => Ok(()),
    }
}

/// True when skips must fail (`NONO_CONFORMANCE_STRICT=1`).
pub fn strict() -> bool {
    std::env::var("NONO_CONFORMANCE_STRICT").is_ok_and(|v| v == "1")
}

/// The directory holding the expectation files.
pub fn expectations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expectations")
}

/// Why `case` will not run here, if it will not.
pub fn skip_reason(case: &Case, imp: &Implementation) -> Option<String> {
    if let Err(why) = enabled(case.platform) {
        return Some(why);
    }
    let unmet: Vec<String> = case.requires.iter().filter_map(|r| r.unmet(imp)).collect();
    (!unmet.is_empty()).then(|| unmet.join("; "))
}

/// Entry point of a suite test binary for one platform's cases (portable cases for
/// [`Platform::Any`]).
pub fn main_for(paths: SuitePaths, platform: Platform) -> ! {
    main(paths, crate::cases::all().into_iter().filter(|c| c.platform == platform).collect())
}

/// Entry point of a suite test binary: `fn main() { harness::main(paths, cases) }`.
pub fn main(paths: SuitePaths, cases: Vec<Case>) -> ! {
    let args = Arguments::from_args();
    let probe = PathBuf::from(paths.probe);
    let imp = Implementation::discover(paths.reference.as_ref(), &probe);
    let expectations = Expectations::load(&expectations_dir(), &imp.slug).unwrap_or_else(|e| {
        eprintln!("invalid expectation file: {e}");
        std::process::exit(2);
    });
    let results_dir = results::results_dir();
    let base = fixture_base(Some(paths.target_tmpdir));
    let strict = strict();
    let shim = std::env::var_os("NONO_SHIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(paths.reference).with_file_name("nono-shim-under-test"));

    let trials = cases
        .into_iter()
        .map(|case| {
            let platform_reason = enabled(case.platform).err();
            let skip = skip_reason(&case, &imp);
            let runs = platform_reason.is_none() && (skip.is_none() || strict);
            if !runs {
                if let (Some(dir), true) = (&results_dir, args.list) {
                    // Skips never reach the body, so they are recorded at listing time.
                    results::write(dir, &record(&case, Status::Skipped, skip.clone().unwrap_or_default(), 0));
                }
                return Trial::test(case.id.clone(), || Ok(())).with_ignored_flag(true);
            }
            let imp = imp.clone();
            let probe = probe.clone();
            let shim = shim.clone();
            let base = base.clone();
            let expectation = expectations.get(&case.id).cloned();
            let results_dir = results_dir.clone();
            Trial::test(case.id.clone(), move || {
                let started = Instant::now();
                let verdict = match skip {
                    Some(why) => Err(format!("strict mode: this case would be skipped: {why}")),
                    None => run_case(&case, imp, probe, &shim, &base),
                };
                let millis = started.elapsed().as_millis() as u64;
                let (status, message, outcome) = match (verdict, expectation) {
                    (Ok(()), None) => (Status::Passed, String::new(), Ok(())),
                    (Err(why), None) => (Status::Failed, why.clone(), Err(why)),
                    (Err(why), Some(e)) => (Status::ExpectedFail, format!("{} (failure: {why})", e.reason), Ok(())),
                    (Ok(()), Some(e)) => {
                        let why = format!(
                            "unexpected pass: listed as an expected failure ({}); remove it from the expectation file",
                            e.reason
                        );
                        (Status::UnexpectedPass, why.clone(), Err(why))
                    }
                };
                if let Some(dir) = &results_dir {
                    results::write(dir, &record(&case, status, message, millis));
                }
                outcome.map_err(Failed::from)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

fn record(case: &Case, status: Status, message: String, millis: u64) -> Record {
    Record {
        id: case.id.clone(),
        category: case.category().into(),
        spec: case.spec.clone(),
        status,
        message,
        millis,
    }
}

fn run_case(
    case: &Case,
    imp: Implementation,
    probe: PathBuf,
    shim: &std::path::Path,
    base: &std::path::Path,
) -> Result<(), String> {
    let new_ctx = || Ctx { imp: imp.clone(), probe: probe.clone(), fx: Fixture::new(base), shim: shim.to_path_buf() };
    let is_sandbox_case = case.platform != Platform::Any;
    if is_sandbox_case && case.id != crate::cases::canary_id(case.platform) {
        crate::canary::verdict(base, || guarded(|| crate::canary::check(&new_ctx())))?;
    }
    let ctx = new_ctx();
    guarded(|| (case.body)(&ctx))
}

/// Runs a body, turning a panic into a failure message.
fn guarded(body: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(verdict) => verdict,
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into())),
    }
}
