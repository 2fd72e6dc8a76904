//! `nono-conformance`: run the suite against one implementation, gate a fork's CI on it, and
//! combine results.
//!
//! ```text
//! nono-conformance run --impl PATH [--manifest FILE|builtin:NAME] [--class C]... [--strict]
//!                      [--baseline BASE.json] [--out DIR] [--markdown FILE] [--verbose]
//! nono-conformance list [--class C] [--statement ID] [--platform linux|macos|any]
//! nono-conformance bless --manifest FILE --results DIR/results.json
//! nono-conformance compare BASE.json NEW.json
//! nono-conformance matrix RESULTS.json... --out DIR
//! ```
//!
//! `run` checks everything it can before the long part (the implementation answers the
//! `run` contract, the manifest names real cases and classes, the output directory is
//! writable), then runs every selected case in its own process, prints the report (verdict
//! first) and writes `results.json`, `report.md` and `junit.xml`.
//!
//! Exit status: 0 conformant; 1 conformance failures, unexpected passes or regressions;
//! 2 usage (bad arguments, bad manifest); 3 harness or setup error.

use clap::{Args, Parser, Subcommand};
use nono_conformance::compare::Comparison;
use nono_conformance::executor::{self, Options};
use nono_conformance::harness::{self, Suite};
use nono_conformance::manifest::Manifest;
use nono_conformance::report::{self, Detail};
use nono_conformance::results::{ImplementationInfo, PlatformInfo, ResultsFile, SuiteInfo};
use nono_conformance::spec::{self, Class};
use nono_conformance::{bless, cases, junit, Case};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: u8 = 2;
const SETUP: u8 = 3;

#[derive(Parser)]
#[command(name = "nono-conformance", version, about = "The conformance suite for nono-compatible sandboxes")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `run`'s options, when no subcommand is given.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite against an implementation (the default).
    Run(RunArgs),
    /// List the cases with their classes and statements.
    List(ListArgs),
    /// Update a manifest's expected failures from a run's results.
    Bless {
        /// The manifest file to update in place.
        #[arg(long)]
        manifest: PathBuf,
        /// The run's results.json.
        #[arg(long)]
        results: PathBuf,
    },
    /// Compare two runs: newly failing, newly passing, new and removed cases.
    Compare {
        /// The base run's results.json.
        base: PathBuf,
        /// The new run's results.json.
        new: PathBuf,
    },
    /// Combine several runs' results into one page, badges and a Markdown table.
    Matrix {
        /// results.json files, one per implementation.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Where to write index.html, matrix.md and badges/.
        #[arg(long, default_value = "nono-conformance-matrix")]
        out: PathBuf,
    },
    /// Internal: run one case in this process and write its record.
    #[command(name = "__case", hide = true)]
    Case {
        id: String,
        #[arg(long)]
        record: PathBuf,
    },
}

#[derive(Args, Clone, Default)]
struct Selection {
    /// Only cases of this class (repeatable).
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// Only cases citing this SPEC statement (repeatable).
    #[arg(long = "statement", value_name = "ID")]
    statements: Vec<String>,
    /// Only cases whose ID contains this text (repeatable).
    #[arg(long = "filter", value_name = "TEXT")]
    filters: Vec<String>,
    /// Only part K of N of the selected cases (`count:K/N`), for sharding across CI jobs.
    #[arg(long, value_name = "count:K/N")]
    partition: Option<String>,
}

#[derive(Args, Clone, Default)]
struct RunArgs {
    /// The implementation under test (default: the reference built with the runner).
    #[arg(long = "impl", value_name = "PATH")]
    imp: Option<PathBuf>,
    /// Its shim (default: the manifest's, else the reference's).
    #[arg(long, value_name = "PATH")]
    shim: Option<PathBuf>,
    /// Its manifest: a file, or `builtin:nono-ref|nono-0.81|kipz-0.42` (default: NONO_MANIFEST;
    /// without one every class is claimed and nothing is expected to fail).
    #[arg(long, value_name = "FILE")]
    manifest: Option<String>,
    #[command(flatten)]
    select: Selection,
    /// Skips and SHOULD failures fail the run.
    #[arg(long)]
    strict: bool,
    /// With --strict: skips for an unmet requirement of this kind stay skips (repeatable):
    /// landlock-abi, landlock-abi-below, root, ptrace, reference-library, shim, program.
    #[arg(long, value_name = "KIND", requires = "strict")]
    allow_skip: Vec<String>,
    /// Compare with an earlier run's results.json; a regression fails the run.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Output directory for results.json, report.md and junit.xml.
    #[arg(long, value_name = "DIR", default_value = "nono-conformance-out")]
    out: PathBuf,
    /// Also write the Markdown summary here (default: $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Every statement, every case of each group, full messages.
    #[arg(long, short)]
    verbose: bool,
    /// Cases at once (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Seconds one case may take.
    #[arg(long, default_value_t = 300)]
    deadline: u64,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    select: Selection,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    /// List the cases of this platform (`linux`, `macos`, `any`) instead of those that can
    /// run on this host, e.g. the macOS battery from a Linux machine.
    #[arg(long, value_name = "PLATFORM")]
    platform: Option<String>,
}

/// A failure with its exit code.
struct Stop(u8, String);

fn main() -> ExitCode {
    harness::enable_host_battery();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    let outcome = match cli.command {
        None => run(cli.run),
        Some(Command::Run(args)) => run(args),
        Some(Command::List(args)) => list(args),
        Some(Command::Bless { manifest, results }) => bless_manifest(&manifest, &results),
        Some(Command::Compare { base, new }) => compare(&base, &new),
        Some(Command::Matrix { results, out }) => matrix(&results, &out),
        Some(Command::Case { id, record }) => run_one_case(&id, &record),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(Stop(code, message)) => {
            eprintln!("nono-conformance: {message}");
            ExitCode::from(code)
        }
    }
}

/// Cases selected by the options, in ID order. Unknown classes and statements are usage errors.
fn select(sel: &Selection) -> Result<Vec<Case>, Stop> {
    select_on(sel, None)
}

/// [`select`] among the cases of `platform`, or of this host when None.
fn select_on(sel: &Selection, platform: Option<nono_conformance::Platform>) -> Result<Vec<Case>, Stop> {
    let statements = spec::statements();
    let mut classes = vec![];
    for name in &sel.classes {
        classes.push(Class::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
            Stop(USAGE, format!("--class {name}: no such class (known: {})", known.join(", ")))
        })?);
    }
    for id in &sel.statements {
        if !statements.contains_key(id) {
            return Err(Stop(USAGE, format!("--statement {id}: no such statement in SPEC.md")));
        }
    }
    let mut all: Vec<Case> =
        cases::all().into_iter().filter(|c| platform.map_or(c.platform.is_host(), |p| c.platform == p)).collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let mut chosen: Vec<Case> = all
        .into_iter()
        .filter(|c| classes.is_empty() || c.class().is_some_and(|k| classes.contains(&k)))
        .filter(|c| sel.statements.is_empty() || c.spec.iter().any(|s| sel.statements.contains(s)))
        .filter(|c| sel.filters.is_empty() || sel.filters.iter().any(|f| c.id.contains(f.as_str())))
        .collect();
    if let Some(p) = &sel.partition {
        let bad = || Stop(USAGE, format!("--partition {p}: expected count:K/N with 1 <= K <= N"));
        let (k, n) = p.strip_prefix("count:").and_then(|r| r.split_once('/')).ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if k == 0 || k > n {
            return Err(bad());
        }
        let canary = [cases::canary_id(nono_conformance::Platform::Linux), cases::canary_id(nono_conformance::Platform::MacOs)];
        chosen = chosen
            .into_iter()
            .enumerate()
            .filter(|(i, c)| i % n == k - 1 || canary.contains(&c.id.as_str()))
            .map(|(_, c)| c)
            .collect();
    }
    Ok(chosen)
}

fn list(args: ListArgs) -> Result<u8, Stop> {
    let platform = match args.platform.as_deref() {
        None => None,
        Some("linux") => Some(nono_conformance::Platform::Linux),
        Some("macos") => Some(nono_conformance::Platform::MacOs),
        Some("any") => Some(nono_conformance::Platform::Any),
        Some(other) => return Err(Stop(USAGE, format!("--platform {other}: expected linux, macos or any"))),
    };
    for case in select_on(&args.select, platform)? {
        let class = case.class().map(|c| c.name()).unwrap_or("?");
        if args.json {
            let line = serde_json::json!({"id": case.id, "title": case.title, "class": class, "level": case.level().to_string(), "spec": case.spec});
            println!("{line}");
        } else {
            println!("{:<70} {:<15} {:<6} {}", case.id, class, case.level().to_string(), case.spec.join(","));
        }
    }
    Ok(0)
}

/// The runner's sibling binaries (installed together by `cargo install`, or built together
/// in a checkout).
struct Siblings {
    probe: PathBuf,
    reference: PathBuf,
}

fn siblings() -> Result<Siblings, Stop> {
    let exe = std::env::current_exe().map_err(|e| Stop(SETUP, format!("cannot find the runner's own path: {e}")))?;
    let s = Siblings { probe: exe.with_file_name("nono-probe"), reference: exe.with_file_name("nono-ref-under-test") };
    let missing: Vec<String> = ["nono-probe", "nono-ref-under-test", "nono-mediated", "nono-mediation-client", "nono-shim-under-test"]
        .iter()
        .map(|name| exe.with_file_name(name))
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Ok(s);
    }
    // In a checkout, `cargo run --bin nono-conformance` builds only the runner: build the rest.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if workspace.join("Cargo.toml").exists() && std::env::var_os("CARGO").is_some() {
        eprintln!("building the suite's helper binaries (cargo build -p nono-conformance --bins)...");
        let profile_flag = if cfg!(debug_assertions) { None } else { Some("--release") };
        let status = std::process::Command::new(std::env::var_os("CARGO").unwrap())
            .current_dir(&workspace)
            .args(["build", "-q", "-p", "nono-conformance", "--bins"])
            .args(profile_flag)
            .status()
            .map_err(|e| Stop(SETUP, format!("cargo build: {e}")))?;
        if status.success() && s.probe.exists() && s.reference.exists() {
            return Ok(s);
        }
    }
    Err(Stop(
        SETUP,
        format!(
            "missing helper binaries next to the runner: {} (install the whole package: cargo install --git ... nono-conformance, or build with cargo build -p nono-conformance --bins)",
            missing.join(", ")
        ),
    ))
}

/// Resolves a possibly relative path against the current directory.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Checks the implementation answers the `run` contract on a trivial program: the probe's
/// `exit 7` must come back as exit code 7.
fn preflight_implementation(imp: &Path, probe: &Path) -> Result<(), Stop> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(imp).map_err(|e| Stop(SETUP, format!("--impl {}: {e}", imp.display())))?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(Stop(SETUP, format!("--impl {}: not an executable file", imp.display())));
    }
    let mut contract = std::process::Command::new(imp);
    contract.arg("run").arg("--read-file").arg(probe).arg("--").arg(probe).args(["exit", "7"]);
    let out = nono_conformance::kit::spawn::output(contract)
        .map_err(|e| Stop(SETUP, format!("--impl {}: cannot start it: {e}", imp.display())))?;
    if out.status.code() != Some(7) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Stop(
            SETUP,
            format!(
                "--impl {}: does not answer the run contract: `run --read-file PROBE -- PROBE exit 7` exited {:?} (expected 7); stderr: {}",
                imp.display(),
                out.status.code(),
                stderr.lines().next().unwrap_or("")
            ),
        ));
    }
    Ok(())
}

fn kernel_release() -> String {
    nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

fn run(args: RunArgs) -> Result<u8, Stop> {
    // Everything that can be wrong is found before the long part.
    let selected = select(&args.select)?;
    if let Some(m) = &args.manifest {
        let resolved = if m.starts_with("builtin:") || Path::new(m).exists() { absolute_spec(m) } else { m.clone() };
        std::env::set_var("NONO_MANIFEST", resolved);
    }
    let siblings = siblings()?;
    if let Some(imp) = &args.imp {
        std::env::set_var("NONO_IMPL", absolute(imp));
    }
    if let Some(shim) = &args.shim {
        std::env::set_var("NONO_SHIM", absolute(shim));
    }
    if args.strict {
        std::env::set_var("NONO_CONFORMANCE_STRICT", "1");
        std::env::set_var("NONO_CONFORMANCE_STRICT_ALLOW", args.allow_skip.join(","));
    }
    let imp_path = std::env::var_os("NONO_IMPL").map(PathBuf::from).unwrap_or_else(|| siblings.reference.clone());
    preflight_implementation(&imp_path, &siblings.probe)?;
    let suite = Suite::new(&siblings.reference, &siblings.probe, None).map_err(|e| Stop(USAGE, e))?;
    let all_cases: Vec<Case> = cases::all();
    let problems = suite.manifest.check_against(&all_cases);
    if !problems.is_empty() {
        return Err(Stop(USAGE, format!("the manifest is not valid:\n  {}", problems.join("\n  "))));
    }
    let baseline = match &args.baseline {
        Some(p) => Some(ResultsFile::read(p).map_err(|e| Stop(USAGE, format!("--baseline {e}")))?),
        None => None,
    };
    let out = absolute(&args.out);
    let records_dir = out.join("records");
    let _ = std::fs::remove_dir_all(&records_dir);
    std::fs::create_dir_all(&records_dir)
        .and_then(|_| std::fs::write(out.join(".write-check"), b""))
        .map_err(|e| Stop(SETUP, format!("--out {}: not writable: {e}", out.display())))?;
    let _ = std::fs::remove_file(out.join(".write-check"));
    if selected.is_empty() {
        return Err(Stop(USAGE, "the selection matches no case".into()));
    }

    let run_id = format!("runner-{}-{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    let mut env: Vec<(String, String)> = vec![
        ("NONO_CONFORMANCE_RUN_ID".into(), run_id),
        ("NONO_CONFORMANCE_PROBE".into(), siblings.probe.display().to_string()),
        ("NONO_CONFORMANCE_REFERENCE".into(), siblings.reference.display().to_string()),
        ("NONO_CONFORMANCE_FIXTURES".into(), suite.fixture_base.display().to_string()),
        ("NONO_IMPL".into(), imp_path.display().to_string()),
        ("NONO_SHIM".into(), suite.shim.display().to_string()),
    ];
    for key in ["NONO_MANIFEST", "NONO_CONFORMANCE_STRICT"] {
        if let Ok(v) = std::env::var(key) {
            env.push((key.into(), v));
        }
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    eprintln!(
        "nono-conformance: {} cases against {} (manifest {}), {jobs} at a time",
        selected.len(),
        suite.imp.name,
        suite.manifest.origin
    );
    let opts = Options { jobs, deadline: Duration::from_secs(args.deadline), exe: std::env::current_exe().unwrap(), records_dir, env };
    let records = executor::run(&suite, selected.clone(), &opts);

    let header = (
        SuiteInfo { version: env!("CARGO_PKG_VERSION").into(), commit: env!("NONO_CONFORMANCE_COMMIT").into() },
        ImplementationInfo {
            name: suite.imp.name.clone(),
            slug: suite.imp.slug.clone(),
            path: suite.imp.path.display().to_string(),
            manifest: suite.manifest.origin.clone(),
            landlock_abi: suite.imp.landlock_abi,
        },
        PlatformInfo { os: std::env::consts::OS.into(), arch: std::env::consts::ARCH.into(), kernel: kernel_release() },
    );
    let results = ResultsFile::build(&selected, records, &suite.manifest, spec::statements(), suite.strict, header);
    let comparison = baseline.as_ref().map(|b| Comparison::between(b, &results));
    print!("{}", report::render_text(&results, comparison.as_ref(), Detail { verbose: args.verbose }));

    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| Stop(SETUP, format!("writing {}: {e}", path.display())))
    };
    write("results.json", serde_json::to_string_pretty(&results).expect("results are JSON"))?;
    let markdown = report::render_markdown(&results, comparison.as_ref());
    write("report.md", markdown.clone())?;
    write("junit.xml", junit::render(&results))?;
    let summary = args.markdown.clone().or_else(|| std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from));
    if let Some(path) = summary {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(markdown.as_bytes()))
            .map_err(|e| Stop(SETUP, format!("--markdown {}: {e}", path.display())))?;
    }
    println!("results: {}", out.join("results.json").display());
    let regression = comparison.as_ref().is_some_and(Comparison::is_regression);
    Ok(if results.conforms() && !regression { 0 } else { 1 })
}

/// A manifest argument as children must see it: built-in names as they are, files absolute.
fn absolute_spec(m: &str) -> String {
    if m.starts_with("builtin:") {
        m.to_string()
    } else {
        absolute(Path::new(m)).display().to_string()
    }
}

fn run_one_case(id: &str, record_path: &Path) -> Result<u8, Stop> {
    let var = |k: &str| std::env::var_os(k).map(PathBuf::from).ok_or_else(|| Stop(SETUP, format!("__case needs {k}")));
    let suite = Suite::new(&var("NONO_CONFORMANCE_REFERENCE")?, &var("NONO_CONFORMANCE_PROBE")?, None).map_err(|e| Stop(USAGE, e))?;
    let case = cases::all().into_iter().find(|c| c.id == id).ok_or_else(|| Stop(USAGE, format!("no case {id}")))?;
    let record = suite.run_one(&case);
    let text = serde_json::to_string(&record).expect("a record is JSON");
    std::fs::write(record_path, text).map_err(|e| Stop(SETUP, format!("{}: {e}", record_path.display())))?;
    Ok(0)
}

fn bless_manifest(manifest: &Path, results_path: &Path) -> Result<u8, Stop> {
    let results = ResultsFile::read(results_path).map_err(|e| Stop(USAGE, e))?;
    let text = std::fs::read_to_string(manifest).map_err(|e| Stop(USAGE, format!("{}: {e}", manifest.display())))?;
    let origin = manifest.display().to_string();
    // The manifest must be valid before and after: bless never writes a file it cannot read.
    Manifest::parse(&text, &origin, None).map_err(|e| Stop(USAGE, e))?;
    let blessed = bless::bless(&text, &origin, &results).map_err(|e| Stop(USAGE, e))?;
    Manifest::parse(&blessed.text, &origin, None).map_err(|e| Stop(SETUP, format!("bless produced an invalid manifest: {e}")))?;
    std::fs::write(manifest, &blessed.text).map_err(|e| Stop(SETUP, format!("{}: {e}", manifest.display())))?;
    println!("{}: {} expected failures added, {} removed", manifest.display(), blessed.added.len(), blessed.removed.len());
    for id in &blessed.added {
        println!("  + {id}");
    }
    for id in &blessed.removed {
        println!("  - {id}");
    }
    if !blessed.added.is_empty() {
        println!("Each new entry's reason starts with {:?}: replace it with why the implementation differs (the suite refuses the placeholder).", nono_conformance::manifest::PLACEHOLDER);
    }
    Ok(0)
}

fn compare(base: &Path, new: &Path) -> Result<u8, Stop> {
    let base = ResultsFile::read(base).map_err(|e| Stop(USAGE, e))?;
    let new = ResultsFile::read(new).map_err(|e| Stop(USAGE, e))?;
    let cmp = Comparison::between(&base, &new);
    print!("{}", cmp.render_text());
    Ok(if cmp.is_regression() { 1 } else { 0 })
}

fn matrix(paths: &[PathBuf], out: &Path) -> Result<u8, Stop> {
    let files = nono_conformance::matrix::load(paths).map_err(|e| Stop(USAGE, e))?;
    let out = absolute(out);
    let written = nono_conformance::matrix::write(&files, &out).map_err(|e| Stop(SETUP, e))?;
    print!("{}", written.summary);
    println!("page: {}\ntable: {}\nbadges: {} in {}", written.index.display(), written.markdown.display(), written.badges.len(), out.join("badges").display());
    Ok(0)
}
