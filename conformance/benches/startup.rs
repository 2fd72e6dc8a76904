//! Start-up cost of a sandboxed run, printed as a table of medians and ratios (never
//! asserted).
//!
//! ```text
//! NONO_UPSTREAM=/path/to/nono NONO_KIPZ=/path/to/kipz/nono \
//!     cargo bench -p nono-conformance --bench startup
//! ```
//!
//! Every row runs `/bin/true`: bare; under `timeout`, the floor of any supervisor (a small
//! C program that forks, execs and waits, and nothing else); then
//! `IMPL run -s --allow-cwd -- /bin/true` for the reference (also statically linked, when
//! `scripts/static.sh` has built it), upstream nono (`NONO_UPSTREAM`, else `nono` on
//! `PATH`) and the kipz fork (`NONO_KIPZ`) when they are given. The flags are the same for all: `-s` keeps output
//! out of the measurement and `--allow-cwd` answers nono's working-directory question
//! without a terminal. Goals (issue 13): the reference adds under 1 ms to a bare exec and
//! starts at least 50 times faster than upstream.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One row of the table: what runs, and how often.
struct Row {
    label: String,
    program: PathBuf,
    args: Vec<&'static str>,
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

/// The `nono-ref` that `scripts/static.sh` builds: `target/<host triple>/release/nono-ref`.
fn static_reference() -> Option<PathBuf> {
    let target_dir = Path::new(env!("CARGO_BIN_EXE_nono-ref-under-test")).parent()?.parent()?;
    let host = Command::new("rustc").arg("-vV").output().ok()?;
    let host = String::from_utf8(host.stdout).ok()?;
    let triple = host.lines().find_map(|l| l.strip_prefix("host: "))?;
    Some(target_dir.join(triple).join("release/nono-ref"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let truth = Path::new("/bin/true");
    let sandboxed = |label: &str, program: PathBuf, runs: usize| Row {
        label: label.to_string(),
        program,
        args: vec!["run", "-s", "--allow-cwd", "--", "/bin/true"],
        runs,
    };
    let mut rows = vec![
        Row { label: "bare /bin/true".into(), program: truth.into(), args: vec![], runs: 200 },
        // The floor of any supervisor: a C program that forks, execs the command and waits
        // for it, with no policy at all. No sandbox can start faster than this on the host.
        Row {
            label: "floor: timeout 60 /bin/true (fork, exec, wait)".into(),
            program: PathBuf::from("/usr/bin/timeout"),
            args: vec!["60", "/bin/true"],
            runs: 200,
        },
        sandboxed("nono-ref (reference)", PathBuf::from(env!("CARGO_BIN_EXE_nono-ref-under-test")), 200),
    ];
    let mut missing = vec![];
    match static_reference().filter(|p| p.is_file()) {
        Some(path) => rows.push(sandboxed("nono-ref (reference, static: scripts/static.sh)", path, 200)),
        None => missing.push("nono-ref static: not measured (run scripts/static.sh first)".to_string()),
    }
    for (label, var, search_path) in [("nono (upstream)", "NONO_UPSTREAM", true), ("nono (kipz fork)", "NONO_KIPZ", false)] {
        match implementation(var, search_path).filter(|p| p.is_file()) {
            Some(path) => rows.push(sandboxed(&format!("{label} {}", path.display()), path, 30)),
            None => missing.push(format!("{label}: not measured (set {var})")),
        }
    }

    println!("start-up benchmark: `IMPL run -s --allow-cwd -- /bin/true`, medians");
    println!("{:<62} {:>6} {:>10} {:>10} {:>9}", "command", "runs", "median ms", "over bare", "x bare");
    let mut bare = None;
    let mut floor = None;
    let mut references: Vec<(String, Duration)> = vec![];
    for row in &rows {
        match median_of(row) {
            Ok(median) => {
                let base = *bare.get_or_insert(median);
                if row.label.starts_with("floor") {
                    floor = Some(median);
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
                if let Some(reference) = reference.filter(|_| !row.label.starts_with("nono-ref") && !row.args.is_empty()) {
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
    if let (Some(bare), Some(floor)) = (bare, floor) {
        println!("the floor costs {:.3} ms over bare", ms(floor.saturating_sub(bare)));
        for (label, median) in &references {
            println!("{label} costs {:.3} ms over the floor", ms(median.saturating_sub(floor)));
        }
    }
    println!("goals: the reference adds under 1 ms to bare /bin/true; upstream is at least 50 x the reference");
}
