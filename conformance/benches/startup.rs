//! Start-up cost of a sandboxed run, printed as medians and ratios (never asserted).
//!
//! ```text
//! cargo bench -p nono-conformance --bench startup
//! ```
//!
//! Measures `/bin/true` bare, under the reference (`nono-ref run -- /bin/true`), and under
//! upstream `nono run` when it is on PATH (or named by `NONO_UPSTREAM`). Goals (issue #2):
//! the reference adds under 1 ms to a bare exec, and starts at least 50 times faster than
//! upstream.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[runs / 2]
}

fn run_quiet(program: &Path, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("starting benchmark command");
    assert!(status.success(), "{} {args:?} failed: {status}", program.display());
}

fn upstream() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NONO_UPSTREAM") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("nono")).find(|p| p.is_file())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let reference = PathBuf::from(env!("CARGO_BIN_EXE_nono-ref-under-test"));
    let truth = Path::new("/bin/true");
    let runs = 200;

    let bare = median_of(runs, || run_quiet(truth, &[]));
    let sandboxed = median_of(runs, || run_quiet(&reference, &["run", "--", "/bin/true"]));
    println!("startup benchmark, median of {runs} runs");
    println!("  bare /bin/true                 {:8.3} ms", ms(bare));
    println!("  nono-ref run -- /bin/true      {:8.3} ms", ms(sandboxed));
    println!(
        "  reference overhead             {:8.3} ms  (goal: < 1 ms)",
        ms(sandboxed.saturating_sub(bare))
    );
    match upstream() {
        Some(nono) => {
            let upstream_runs = 30;
            let up = median_of(upstream_runs, || run_quiet(&nono, &["run", "--", "/bin/true"]));
            println!("  nono run -- /bin/true          {:8.3} ms  (median of {upstream_runs}; {})", ms(up), nono.display());
            println!(
                "  upstream / reference           {:8.1} x   (goal: >= 50 x)",
                up.as_secs_f64() / sandboxed.as_secs_f64()
            );
        }
        None => println!("  upstream nono not found (set NONO_UPSTREAM or put nono on PATH): ratio not measured"),
    }
}
