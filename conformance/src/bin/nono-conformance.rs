//! `nono-conformance`: run the whole suite against one implementation and print a report.
//!
//! ```text
//! cargo run -p nono-conformance --bin nono-conformance -- [--impl PATH] [--strict] [--out DIR]
//! ```
//!
//! It runs `cargo nextest run` on the suite with the ci profile (JUnit in
//! `target/nextest/ci/junit.xml`), collects one record per case, and prints counts per
//! category and per SPEC statement, then the failures, expected failures and skips with their
//! messages. `results.json` in the output directory holds the same data for dashboards.
//! Exit status: 0 when nothing failed, 1 otherwise.

use nono_conformance::implementation::Implementation;
use nono_conformance::report::Report;
use nono_conformance::{cases, results, spec};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

struct Options {
    imp: Option<PathBuf>,
    strict: bool,
    out: PathBuf,
}

fn parse_args(workspace: &Path) -> Result<Options, String> {
    let mut opts = Options { imp: None, strict: false, out: workspace.join("target/conformance") };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--impl" => opts.imp = Some(PathBuf::from(args.next().ok_or("--impl needs a path")?)),
            "--strict" => opts.strict = true,
            "--out" => opts.out = PathBuf::from(args.next().ok_or("--out needs a directory")?),
            "-h" | "--help" => {
                println!("usage: nono-conformance [--impl PATH] [--strict] [--out DIR]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if let Some(imp) = &opts.imp {
        let abs = imp.canonicalize().map_err(|e| format!("--impl {}: {e}", imp.display()))?;
        opts.imp = Some(abs);
    }
    Ok(opts)
}

fn platform_feature() -> &'static str {
    if cfg!(target_os = "macos") {
        "macos-seatbelt"
    } else {
        "linux-landlock"
    }
}

fn main() -> ExitCode {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("workspace root");
    let opts = match parse_args(&workspace) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nono-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let records_dir = opts.out.join("records");
    let _ = std::fs::remove_dir_all(&records_dir);
    std::fs::create_dir_all(&records_dir).expect("creating the records directory");

    let mut nextest = Command::new("cargo");
    nextest
        .current_dir(&workspace)
        .args(["nextest", "run", "--workspace", "--features", platform_feature(), "--profile", "ci", "--no-fail-fast"])
        .env("NONO_CONFORMANCE_RESULTS", &records_dir)
        .env("NONO_CONFORMANCE_STRICT", if opts.strict { "1" } else { "0" });
    if let Some(imp) = &opts.imp {
        nextest.env("NONO_IMPL", imp);
    }
    let log_path = opts.out.join("nextest.log");
    let log = std::fs::File::create(&log_path).expect("creating the nextest log");
    eprintln!("running the suite (cargo nextest, profile ci); full output in {}", log_path.display());
    let status = nextest
        .stdout(Stdio::from(log.try_clone().expect("log handle")))
        .stderr(Stdio::from(log))
        .status()
        .expect("running cargo nextest (is cargo-nextest installed?)");

    // The test binaries are built now; describe the implementation they tested.
    let target_debug = workspace.join("target/debug");
    let reference = target_debug.join("nono-ref-under-test");
    let probe = target_debug.join("nono-probe");
    if let Some(imp) = &opts.imp {
        std::env::set_var("NONO_IMPL", imp);
    }
    let imp = Implementation::discover(&reference, &probe);

    let spec_text = std::fs::read_to_string(workspace.join("SPEC.md")).expect("reading SPEC.md");
    let statements = spec::parse(&spec_text).expect("parsing SPEC.md");
    // Cases of other platforms are not part of this host's report.
    let all_cases: Vec<_> = cases::all().into_iter().filter(|c| c.platform.is_host()).collect();
    let report = Report::build(&all_cases, results::read_all(&records_dir));
    let header = format!(
        "nono conformance report\n  implementation: {} ({})\n  platform: {} {}, Landlock ABI {}\n  strict: {}\n  junit: {}",
        imp.name,
        imp.path.display(),
        std::env::consts::OS,
        std::env::consts::ARCH,
        imp.landlock_abi,
        opts.strict,
        workspace.join("target/nextest/ci/junit.xml").display()
    );
    let text = report.render(&header, &statements);
    print!("{text}");
    let json = serde_json::json!({
        "implementation": {"name": imp.name, "slug": imp.slug, "path": imp.path, "landlock_abi": imp.landlock_abi},
        "platform": std::env::consts::OS,
        "report": report,
    });
    let json_path = opts.out.join("results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).unwrap()).expect("writing results.json");
    println!("results: {}", json_path.display());

    let failed = report.total.failed > 0 || !status.success();
    if !status.success() && report.total.failed == 0 {
        eprintln!("cargo nextest failed outside the conformance cases (a suite self-check, a unit test or the build): see {}", log_path.display());
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
