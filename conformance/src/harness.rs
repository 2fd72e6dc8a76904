//! The test-binary side: turns [`Case`]s into libtest-mimic trials, one nextest test each.
//!
//! For every case, in order:
//! 1. wrong platform, or its Cargo feature off → ignored, with the reason in the report;
//! 2. an unmet requirement (old kernel, not root) → ignored as a skip with its reason, or,
//!    with `NONO_CONFORMANCE_STRICT=1`, a failure, unless every unmet requirement is of a
//!    kind on the allow-list `NONO_CONFORMANCE_STRICT_ALLOW` (comma-separated
//!    [`REQUIREMENT_KINDS`]: what the host cannot provide);
//! 3. sandbox cases wait for the run's canary verdict;
//! 4. the body runs in this (unsandboxed) test process, which only ever spawns the
//!    implementation; the sandbox is applied in the implementation's child;
//! 5. the implementation's manifest turns a listed failure into `expected-fail` and a
//!    listed pass into a failure; a case of a class the manifest does not claim never runs
//!    and is reported as not claimed.
//!
//! A case that does not run is an *ignored* trial whose body fails if it is run anyway
//! (`--include-ignored`, `--run-ignored all`): a skip can never be reported as a pass.

use crate::case::{Case, Ctx, Platform, REQUIREMENT_KINDS};
use crate::fixture::{fixture_base, Fixture};
use crate::implementation::Implementation;
use crate::manifest::{Expected, Manifest};
use crate::results::{self, Record, Status};
use libtest_mimic::{Arguments, Failed, Trial};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// The `main` of a battery test binary (`tests/{linux,macos,portable}.rs`): the paths only
/// Cargo knows at the test's compile time, so `env!` has to expand in the test crate.
#[macro_export]
macro_rules! battery_main {
    ($platform:expr) => {
        fn main() {
            $crate::harness::main_for(
                $crate::harness::SuitePaths {
                    reference: env!("CARGO_BIN_EXE_nono-ref-under-test"),
                    probe: env!("CARGO_BIN_EXE_nono-probe"),
                    target_tmpdir: env!("CARGO_TARGET_TMPDIR"),
                },
                $platform,
            )
        }
    };
}

/// Set by the runner: the host's battery runs whatever Cargo features the runner was built
/// with (an installed runner is built without them).
static HOST_BATTERY_ALWAYS: AtomicBool = AtomicBool::new(false);

/// Makes the host's platform battery run regardless of Cargo features (the runner's mode).
pub fn enable_host_battery() {
    HOST_BATTERY_ALWAYS.store(true, Ordering::SeqCst);
}

/// Which platform batteries this build enables.
pub fn enabled(platform: Platform) -> Result<(), String> {
    let always = HOST_BATTERY_ALWAYS.load(Ordering::SeqCst);
    match platform {
        Platform::Any => Ok(()),
        Platform::Linux if !cfg!(target_os = "linux") => Err("Linux battery; this host is not Linux".into()),
        Platform::Linux if !cfg!(feature = "linux-landlock") && !always => {
            Err("Linux battery; enable it with --features linux-landlock".into())
        }
        Platform::MacOs if !cfg!(target_os = "macos") => Err("macOS battery; this host is not macOS".into()),
        Platform::MacOs if !cfg!(feature = "macos-seatbelt") && !always => {
            Err("macOS battery; enable it with --features macos-seatbelt".into())
        }
        _ => Ok(()),
    }
}

/// True when skips must fail (`NONO_CONFORMANCE_STRICT=1`).
pub fn strict() -> bool {
    std::env::var("NONO_CONFORMANCE_STRICT").is_ok_and(|v| v == "1")
}

/// The requirement kinds whose skips strict mode allows (`NONO_CONFORMANCE_STRICT_ALLOW`,
/// comma-separated). An unknown kind is an error: a typo must not turn a skip that should
/// fail into an allowed one, nor an allowed one into a failure nobody can explain.
pub fn strict_allow() -> Result<Vec<String>, String> {
    let list = std::env::var("NONO_CONFORMANCE_STRICT_ALLOW").unwrap_or_default();
    let kinds: Vec<String> = list.split(',').map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect();
    match kinds.iter().find(|k| !REQUIREMENT_KINDS.contains(&k.as_str())) {
        Some(bad) => Err(format!(
            "NONO_CONFORMANCE_STRICT_ALLOW: unknown requirement kind {bad:?}; the kinds are {}",
            REQUIREMENT_KINDS.join(", ")
        )),
        None => Ok(kinds),
    }
}

/// Whether a case whose requirements are unmet stays a skip: always outside strict mode; in
/// strict mode only when every unmet requirement is of an allowed kind.
pub fn skip_allowed(case: &Case, imp: &Implementation, strict: bool, allow: &[String]) -> bool {
    !strict
        || case
            .requires
            .iter()
            .filter(|r| r.unmet(imp).is_some())
            .all(|r| allow.iter().any(|k| k == r.kind()))
}

/// Why `case` is not judged for this implementation: its class is not claimed.
pub fn not_claimed_reason(case: &Case, manifest: &Manifest) -> Option<String> {
    match case.class() {
        Some(class) if !manifest.claims(class) => {
            Some(format!("class {class} is not claimed by the manifest ({})", manifest.origin))
        }
        _ => None,
    }
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
///
/// No silent green: on a host of `platform` whose battery is not enabled (the Cargo feature
/// is off), the binary has one failing test that names the feature to use.
pub fn main_for(paths: SuitePaths, platform: Platform) -> ! {
    let cases: Vec<Case> = crate::cases::for_platform(platform);
    if platform != Platform::Any && platform.is_host() {
        if let Err(why) = enabled(platform) {
            let args = Arguments::from_args();
            let id = format!("{}.battery_is_enabled_on_this_host", crate::cases::canary_id(platform).split('.').next().unwrap_or("host"));
            let trial = Trial::test(id, move || {
                Err(Failed::from(format!("this host's sandbox battery did not run: {why}; a run that tests no sandbox case is not a pass")))
            });
            libtest_mimic::run(&args, vec![trial]).exit()
        }
    }
    main(paths, cases)
}

/// Entry point of a suite test binary: `fn main() { harness::main(paths, cases) }`.
pub fn main(paths: SuitePaths, cases: Vec<Case>) -> ! {
    let args = Arguments::from_args();
    let suite = Suite::discover(&paths).unwrap_or_else(|e| {
        eprintln!("nono-conformance: {e}");
        std::process::exit(2);
    });
    let results_dir = results::results_dir();
    let trials = cases
        .into_iter()
        .map(|case| {
            let not_run = enabled(case.platform)
                .err()
                .map(|why| (Status::Skipped, why))
                .or_else(|| not_claimed_reason(&case, &suite.manifest).map(|why| (Status::NotClaimed, why)))
                .or_else(|| {
                    let why = skip_reason(&case, &suite.imp)?;
                    skip_allowed(&case, &suite.imp, suite.strict, &suite.strict_allow).then_some((Status::Skipped, why))
                });
            if let Some((status, why)) = not_run {
                if let (Some(dir), true) = (&results_dir, args.list) {
                    // Cases that do not run never reach a body, so they are recorded at listing time.
                    results::write(dir, &record(&case, status, why.clone(), None, 0));
                }
                let word = if status == Status::NotClaimed { "not claimed" } else { "skipped" };
                return Trial::test(case.id.clone(), move || {
                    Err(Failed::from(format!("{word}, so it must not be run or counted: {why}")))
                })
                .with_ignored_flag(true);
            }
            let suite = suite.clone();
            let results_dir = results_dir.clone();
            Trial::test(case.id.clone(), move || {
                let record = suite.run_one(&case);
                if let Some(dir) = &results_dir {
                    results::write(dir, &record);
                }
                match record.status {
                    Status::Failed | Status::UnexpectedPass => Err(Failed::from(record.message)),
                    _ => Ok(()),
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// Everything a case needs that is the same for the whole run.
#[derive(Clone)]
pub struct Suite {
    /// The implementation under test, with its manifest's settings.
    pub imp: Implementation,
    /// Its manifest.
    pub manifest: Manifest,
    /// The probe binary.
    pub probe: PathBuf,
    /// The shim of the implementation under test.
    pub shim: PathBuf,
    /// Where fixture roots go.
    pub fixture_base: PathBuf,
    /// Skips fail.
    pub strict: bool,
    /// In strict mode, the requirement kinds whose skips stay skips.
    pub strict_allow: Vec<String>,
}

impl Suite {
    /// Resolves the implementation (`NONO_IMPL`), its manifest (`NONO_MANIFEST`) and shim
    /// (`NONO_SHIM`, else the manifest's, else the reference's).
    pub fn discover(paths: &SuitePaths) -> Result<Suite, String> {
        Suite::new(Path::new(paths.reference), Path::new(paths.probe), Some(paths.target_tmpdir))
    }

    /// As [`Suite::discover`], from the reference and probe binaries' paths and an optional
    /// Cargo target tmp dir for fixtures.
    pub fn new(reference: &Path, probe: &Path, target_tmpdir: Option<&str>) -> Result<Suite, String> {
        let probe = probe.to_path_buf();
        let mut imp = Implementation::discover(reference, &probe);
        let manifest = Manifest::from_env(imp.is_reference())?;
        imp.settings = manifest.settings.clone();
        let shim = std::env::var_os("NONO_SHIM")
            .map(PathBuf::from)
            .or_else(|| manifest.shim.clone())
            .unwrap_or_else(|| reference.with_file_name("nono-shim-under-test"));
        Ok(Suite { imp, manifest, probe, shim, fixture_base: fixture_base(target_tmpdir), strict: strict(), strict_allow: strict_allow()? })
    }

    /// Runs one case that is meant to run (claimed, on this platform) and returns its record:
    /// a skip (or, in strict mode, a failure) for an unmet requirement, else the verdict
    /// joined with the manifest's expectation.
    pub fn run_one(&self, case: &Case) -> Record {
        let started = Instant::now();
        let verdict = match skip_reason(case, &self.imp) {
            Some(why) if skip_allowed(case, &self.imp, self.strict, &self.strict_allow) => {
                return record(case, Status::Skipped, why, None, 0)
            }
            Some(why) => Err(format!("strict mode: this case would be skipped: {why}")),
            None => run_case(case, self.imp.clone(), self.probe.clone(), &self.shim, &self.fixture_base),
        };
        let millis = started.elapsed().as_millis() as u64;
        let expected: Option<&Expected> = self.manifest.expected.get(&case.id);
        let reason = expected.map(|e| e.reason.clone());
        match (verdict, expected) {
            (Ok(()), None) => record(case, Status::Passed, String::new(), None, millis),
            (Err(why), None) => record(case, Status::Failed, why, None, millis),
            (Err(why), Some(_)) => record(case, Status::ExpectedFail, why, reason, millis),
            (Ok(()), Some(e)) => {
                let why = format!(
                    "unexpected pass: listed as an expected failure ({}); remove it from the manifest ({})",
                    e.reason, self.manifest.origin
                );
                record(case, Status::UnexpectedPass, why, reason, millis)
            }
        }
    }
}

/// The record of `case` with this outcome.
pub fn record(case: &Case, status: Status, message: String, reason: Option<String>, millis: u64) -> Record {
    Record {
        id: case.id.clone(),
        title: case.title.clone(),
        category: case.category().into(),
        class: case.class().map(|c| c.name().to_string()).unwrap_or_default(),
        level: case.level().to_string(),
        spec: case.spec.clone(),
        status,
        message,
        reason,
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
        let check = crate::canary::check_for(case.platform);
        crate::canary::verdict(base, || guarded(|| check(&new_ctx())))?;
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
