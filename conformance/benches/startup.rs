//! Start-up cost of a sandboxed run, printed as a table of medians and ratios (never
//! asserted).
//!
//! ```text
//! NONO_UPSTREAM=/path/to/nono NONO_KIPZ=/path/to/kipz/nono \
//!     cargo bench -p nono-conformance --bench startup
//! ```
//!
//! Every row runs `/bin/true`: bare; under two floors, supervisors that fork, exec and
//! wait and do nothing else: `timeout` (a small C program, dynamically linked) and
//! `fork_exec_wait` (statically linked by `scripts/static.sh`, as the static reference
//! is); then `IMPL run -s --allow-cwd -- /bin/true` for the reference (also statically
//! linked, when `scripts/static.sh` has built it), upstream nono (`NONO_UPSTREAM`, else
//! `nono` on `PATH`) and the kipz fork (`NONO_KIPZ`) when they are given. The flags are the
//! same for all: `-s` keeps output out of the measurement and `--allow-cwd` answers nono's
//! working-directory question without a terminal. Each reference is compared with the
//! floor linked as it is: what it costs beyond that is the sandbox's own work. The goal
//! (issue 13): the reference adds under 1 ms to a bare exec. The other implementations are
//! printed beside it, with how many times the reference's time each takes.
//!
//! A second table runs the reference and the kipz fork with a profile that mediates one
//! command, and prints what the mediation session adds to the plain run: mostly the audit
//! shim and the record of its real binary made for every program on `PATH`, and their
//! removal. The sessions live in `$TMPDIR` (else `/tmp`); on a disk filesystem that has just
//! had many files removed, creating new ones can cost far more than on `tmpfs`, so the
//! table names the directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FLOOR_DYNAMIC: &str = "floor, dynamic: timeout 60 /bin/true";
const FLOOR_STATIC: &str = "floor, static: fork_exec_wait /bin/true";
const STATIC_REFERENCE: &str = "nono-ref (reference, static: scripts/static.sh)";

/// One row of the table: what runs, and how often.
struct Row {
    label: String,
    program: PathBuf,
    args: Vec<String>,
    runs: usize,
}

/// The median of `runs` timed runs (after one untimed run that warms the page cache), or
/// why the command failed.
fn median_of(row: &Row) -> Result<Duration, String> {
    let run = || -> Result<Duration, String> {
        let started = Instant::now();
        let status = Command::new(&row.program)
            .args(&row.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot start {}: {e}", row.program.display()))?;
        let elapsed = started.elapsed();
        if !status.success() {
            return Err(format!("{} {:?} failed: {status}", row.program.display(), row.args));
        }
        Ok(elapsed)
    };
    run()?;
    let mut samples = (0..row.runs).map(|_| run()).collect::<Result<Vec<_>, _>>()?;
    samples.sort();
    Ok(samples[row.runs / 2])
}

/// An implementation named by `var`, else (for upstream) `nono` on `PATH`.
fn implementation(var: &str, search_path: bool) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        return Some(PathBuf::from(path));
    }
    if !search_path {
        return None;
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("nono")).find(|p| p.is_file())
}

/// A binary that `scripts/static.sh` builds: `target/static/NAME`, if it has been built.
fn static_binary(name: &str) -> Option<PathBuf> {
    let target_dir = Path::new(env!("CARGO_BIN_EXE_nono-ref-under-test")).parent()?.parent()?;
    Some(target_dir.join("static").join(name)).filter(|p| p.is_file())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let truth = Path::new("/bin/true");
    let words = |text: &str| text.split(' ').map(String::from).collect::<Vec<_>>();
    let sandboxed = |label: &str, program: PathBuf, runs: usize| Row {
        label: label.to_string(),
        program,
        args: words("run -s --allow-cwd -- /bin/true"),
        runs,
    };
    // One mediated command is enough: the session's cost is the audit shim and record it
    // makes for every program on PATH (mediation notes INST-4, INST-5), before the agent
    // starts, and their removal after.
    let work = tempfile::tempdir().expect("a temporary directory");
    let profile = work.path().join("mediated.json");
    std::fs::write(
        &profile,
        r#"{ "mediation": { "commands": [ { "name": "nono-bench-true", "binary_path": "/bin/true" } ] } }"#,
    )
    .expect("writing the mediation profile");
    let mediated = |label: &str, program: PathBuf, runs: usize| Row {
        label: format!("{label}, mediation session"),
        program,
        args: [words("run -s --allow-cwd --profile"), vec![profile.display().to_string()], words("-- /bin/true")].concat(),
        runs,
    };
    let mut rows = vec![
        Row { label: "bare /bin/true".into(), program: truth.into(), args: vec![], runs: 200 },
        // The floor of any dynamically linked supervisor: a C program that forks, execs the
        // command and waits for it, with no policy at all.
        Row {
            label: FLOOR_DYNAMIC.into(),
            program: PathBuf::from("/usr/bin/timeout"),
            args: words("60 /bin/true"),
            runs: 200,
        },
        sandboxed("nono-ref (reference)", PathBuf::from(env!("CARGO_BIN_EXE_nono-ref-under-test")), 200),
    ];
    let mut sessions = vec![mediated("nono-ref (reference)", PathBuf::from(env!("CARGO_BIN_EXE_nono-ref-under-test")), 20)];
    let mut missing = vec![];
    // The same floor statically linked, which skips the loader as the static reference does.
    match (static_binary("fork_exec_wait"), static_binary("nono-ref")) {
        (Some(floor), Some(reference)) => {
            rows.push(Row { label: FLOOR_STATIC.into(), program: floor, args: words("/bin/true"), runs: 200 });
            rows.push(sandboxed(STATIC_REFERENCE, reference, 200));
        }
        _ => missing.push("static floor and nono-ref static: not measured (run scripts/static.sh first)".to_string()),
    }
    for (label, var, search_path) in [("nono (upstream)", "NONO_UPSTREAM", true), ("nono (kipz fork)", "NONO_KIPZ", false)] {
        match implementation(var, search_path).filter(|p| p.is_file()) {
            Some(path) => {
                // Upstream has no mediation; the fork's is what the reference follows.
                if var == "NONO_KIPZ" {
                    sessions.push(mediated(&format!("{label} {}", path.display()), path.clone(), 10));
                }
                rows.push(sandboxed(&format!("{label} {}", path.display()), path, 30));
            }
            None => missing.push(format!("{label}: not measured (set {var})")),
        }
    }

    println!("start-up benchmark: `IMPL run -s --allow-cwd -- /bin/true`, medians");
    println!("{:<62} {:>6} {:>10} {:>10} {:>9}", "command", "runs", "median ms", "over bare", "x bare");
    let mut bare = None;
    let mut floors: Vec<(&str, Duration)> = vec![];
    let mut references: Vec<(String, Duration)> = vec![];
    let mut plain: Vec<(String, Duration)> = vec![];
    for row in &rows {
        match median_of(row) {
            Ok(median) => {
                plain.push((row.label.clone(), median));
                let base = *bare.get_or_insert(median);
                if let Some(floor) = [FLOOR_DYNAMIC, FLOOR_STATIC].into_iter().find(|f| row.label == *f) {
                    floors.push((floor, median));
                }
                if row.label.starts_with("nono-ref") {
                    references.push((row.label.clone(), median));
                }
                println!(
                    "{:<62} {:>6} {:>10.3} {:>10.3} {:>9.1}",
                    row.label,
                    row.runs,
                    ms(median),
                    ms(median.saturating_sub(base)),
                    median.as_secs_f64() / base.as_secs_f64()
                );
                // Other implementations are also compared with the first (dynamic) reference.
                let reference = references.first().map(|(_, median)| *median);
                let other_implementation = !row.label.starts_with("nono-ref") && row.args.first().is_some_and(|a| a == "run");
                if let Some(reference) = reference.filter(|_| other_implementation) {
                    let ratio = median.as_secs_f64() / reference.as_secs_f64();
                    println!("{:<62} {:>6} {:>10} {:>10} {:>9.1}  x the reference", "", "", "", "", ratio);
                }
            }
            Err(why) => println!("{:<62} failed: {why}", row.label),
        }
    }
    for line in missing {
        println!("{line}");
    }
    if let Some(bare) = bare {
        for (floor, median) in &floors {
            println!("{floor} costs {:.3} ms over bare", ms(median.saturating_sub(bare)));
        }
        for (label, median) in &references {
            let floor = if label == STATIC_REFERENCE { FLOOR_STATIC } else { FLOOR_DYNAMIC };
            if let Some((_, floor_median)) = floors.iter().find(|(f, _)| *f == floor) {
                println!(
                    "{label} costs {:.3} ms over bare, {:.3} ms over its floor ({floor})",
                    ms(median.saturating_sub(bare)),
                    ms(median.saturating_sub(*floor_median))
                );
            }
        }
    }
    println!("goal (issue 13): the reference adds under 1 ms to bare /bin/true");
    println!("(a supervisor forks, execs and waits: no supervisor comes in under its floor)");

    println!();
    println!(
        "mediation session: one mediated command; {} programs on PATH get an audit shim and a record each; sessions in {}",
        programs_on_path(),
        std::env::temp_dir().display()
    );
    println!("{:<62} {:>6} {:>10} {:>14}", "command", "runs", "median ms", "over plain run");
    for row in &sessions {
        let without = plain.iter().find(|(label, _)| row.label.strip_suffix(", mediation session") == Some(label.as_str()));
        match (median_of(row), without) {
            (Ok(median), Some((_, without))) => {
                println!("{:<62} {:>6} {:>10.3} {:>14.3}", row.label, row.runs, ms(median), ms(median.saturating_sub(*without)))
            }
            (Ok(median), None) => println!("{:<62} {:>6} {:>10.3}", row.label, row.runs, ms(median)),
            (Err(why), _) => println!("{:<62} failed: {why}", row.label),
        }
    }
}

/// Distinct names of executable regular files (or links to them) in the absolute
/// directories on `PATH`: the audit shims a session makes.
fn programs_on_path() -> usize {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut names = std::collections::HashSet::new();
    for dir in std::env::split_paths(&path).filter(|d| d.is_absolute()) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let executable = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if executable {
                names.insert(entry.file_name());
            }
        }
    }
    names.len()
}
