//! Mediation overhead, measured inside the sandbox, all in one run:
//!
//! * per-call latency of a `respond` rule and of a passthrough of `/bin/true`, against
//!   running `/bin/true` directly (goals, issue 13: respond ≤ 1.3×, passthrough ≤ 2× direct),
//!   for the shim built next to `nono-ref` and, when they have been built, the static shim of
//!   `scripts/static.sh` (or the shim `NONO_SHIM` names), and the static `nono-ref` with the
//!   static shim, as `scripts/static.sh` deploys them; beside each passthrough, its
//!   floor: a respond's round trip plus one direct run, which a server that runs the real
//!   binary itself cannot go below;
//! * streaming throughput of 1 GiB through a mediated `cat` against `/bin/cat` directly
//!   (goal: ≥ 0.95× direct);
//! * 1,000 concurrent mediated calls, then a count of the session's audit lines (goal: none
//!   lost).
//!
//! ```sh
//! cargo build --release -p nono-shim && scripts/static.sh \
//!     && cargo bench -p nono-reference --bench mediation
//! ```
//!
//! The benchmark binary runs itself inside `nono-ref run` as the agent (`--driver ...`),
//! so every figure is taken where an agent would take it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CALLS: usize = 300;
const STREAM_BYTES: u64 = 1 << 30;
const CONCURRENT: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--driver") {
        driver(&args[1..]);
        return;
    }
    let nono_ref = PathBuf::from(env!("CARGO_BIN_EXE_nono-ref"));
    let shim = nono_ref.with_file_name("nono-shim");
    if !shim.is_file() {
        eprintln!("build the shim first: cargo build --release -p nono-shim ({} is missing)", shim.display());
        std::process::exit(1);
    }
    // What is measured: which nono-ref serves, with which shim.
    let mut variants = vec![("shim", nono_ref.clone(), shim.clone())];
    if let Some(other) = std::env::var_os("NONO_SHIM").map(PathBuf::from).or_else(|| static_binary("nono-shim")).filter(|p| p.is_file()) {
        variants.push(("static shim", nono_ref.clone(), other.clone()));
        if let Some(server) = static_binary("nono-ref") {
            variants.push(("static nono-ref and shim", server, other));
        }
    }
    let me = std::env::current_exe().expect("own path");
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let profile = work.path().join("bench.json");
    std::fs::write(
        &profile,
        serde_json::json!({ "mediation": { "commands": [
            { "name": "respond-true", "binary_path": "/bin/true",
              "intercept": [ { "args_prefix": [], "action": { "type": "respond", "stdout": "", "exit_code": 0 } } ] },
            { "name": "pass-true", "binary_path": "/bin/true" },
            { "name": "pass-cat", "binary_path": "/bin/cat" }
        ] } })
        .to_string(),
    )
    .unwrap();
    let state = work.path().join("state");
    let run_with = |nono_ref: &Path, shim: &Path, driver_args: &[&str]| -> String {
        let out = Command::new(nono_ref)
            .args(["run", "--silent", "--profile"])
            .arg(&profile)
            .arg("--read-file")
            .arg(&me)
            .arg("--")
            .arg(&me)
            .arg("--driver")
            .args(driver_args)
            .env("XDG_STATE_HOME", &state)
            .env("NONO_SHIM", shim)
            .stderr(Stdio::inherit())
            .output()
            .expect("running nono-ref");
        assert!(out.status.success(), "driver {driver_args:?} failed: {:?}", out.status);
        String::from_utf8(out.stdout).unwrap()
    };
    let run = |shim: &Path, driver_args: &[&str]| run_with(&nono_ref, shim, driver_args);
    let figure = |text: String| -> f64 { text.trim().parse().unwrap_or_else(|_| panic!("driver printed {text:?}")) };

    let calls = CALLS.to_string();
    let shim = &variants[0].2;
    let direct = figure(run(shim, &["latency", "/bin/true", &calls]));
    println!("mediation, measured inside the sandbox (median of {CALLS} calls each)");
    println!("  {:<58} {direct:8.3} ms", "direct /bin/true");
    for (label, server, shim) in &variants {
        let respond = figure(run_with(server, shim, &["latency", "respond-true", &calls]));
        let passthrough = figure(run_with(server, shim, &["latency", "pass-true", &calls]));
        let (respond_row, passthrough_row) = (format!("respond ({label})"), format!("passthrough /bin/true ({label})"));
        println!("  {respond_row:<58} {respond:8.3} ms   {:.2}x direct (goal <= 1.3x)", respond / direct);
        println!("  {passthrough_row:<58} {passthrough:8.3} ms   {:.2}x direct (goal <= 2x)", passthrough / direct);
        // A passthrough is a respond's round trip plus the server's own run of the binary,
        // so this sum is what any server of this design pays at least.
        let floor = respond + direct;
        println!("  {:<58} {floor:8.3} ms   {:.2}x direct; passthrough is {:.2}x this floor", format!("  floor: respond + direct ({label})"), floor / direct, passthrough / floor);
    }
    let bytes = STREAM_BYTES.to_string();
    let cat_direct = figure(run(shim, &["stream", "/bin/cat", &bytes]));
    let cat_mediated = figure(run(shim, &["stream", "pass-cat", &bytes]));
    let lines_before = audit_lines(&state);
    let concurrent = CONCURRENT.to_string();
    let failed = figure(run(shim, &["concurrent", "respond-true", &concurrent]));
    let lines_after = audit_lines(&state);
    println!("  1 GiB through cat: direct {cat_direct:.0} MB/s, mediated {cat_mediated:.0} MB/s   {:.2}x (goal >= 0.95x)", cat_mediated / cat_direct);
    println!(
        "  {CONCURRENT} concurrent mediated calls: {} failed, {} audit lines written (goal: {CONCURRENT}, none lost)",
        failed as u64,
        lines_after - lines_before
    );
}

/// A binary `scripts/static.sh` builds: `target/static/<name>`, if it has been built.
fn static_binary(name: &str) -> Option<PathBuf> {
    let target_dir = Path::new(env!("CARGO_BIN_EXE_nono-ref")).parent()?.parent()?;
    Some(target_dir.join("static").join(name)).filter(|p| p.is_file())
}

fn audit_lines(state: &Path) -> usize {
    let Ok(sessions) = std::fs::read_dir(state.join("nono-ref/sessions")) else { return 0 };
    sessions
        .flatten()
        .filter_map(|s| std::fs::read_to_string(s.path().join("audit.jsonl")).ok())
        .map(|text| text.lines().count())
        .sum()
}

/// Inside the sandbox: one measurement, one number on stdout.
fn driver(args: &[String]) {
    match args {
        [mode, program, n] if mode == "latency" => {
            let n: usize = n.parse().unwrap();
            let mut samples: Vec<Duration> = (0..n)
                .map(|_| {
                    let start = Instant::now();
                    let status = Command::new(program).stdin(Stdio::null()).status().expect("spawn");
                    assert!(status.success(), "{program} failed: {status:?}");
                    start.elapsed()
                })
                .collect();
            samples.sort();
            println!("{}", samples[n / 2].as_secs_f64() * 1000.0);
        }
        [mode, program, bytes] if mode == "stream" => {
            let bytes: u64 = bytes.parse().unwrap();
            let mut child = Command::new(program).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("spawn");
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let start = Instant::now();
            let writer = std::thread::spawn(move || {
                let block = vec![0xA5u8; 1 << 20];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(block.len() as u64) as usize;
                    stdin.write_all(&block[..n]).unwrap();
                    left -= n as u64;
                }
            });
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0u64;
            loop {
                let n = stdout.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            writer.join().unwrap();
            child.wait().unwrap();
            assert_eq!(total, bytes, "{program} passed {total} of {bytes} bytes");
            println!("{}", bytes as f64 / start.elapsed().as_secs_f64() / 1e6);
        }
        [mode, program, n] if mode == "concurrent" => {
            let n: usize = n.parse().unwrap();
            // Batches keep the number of live processes within the sandbox's limits.
            let mut failed = 0;
            for batch in (0..n).collect::<Vec<_>>().chunks(100) {
                let children: Vec<_> = batch.iter().map(|_| Command::new(program).stdin(Stdio::null()).spawn().expect("spawn")).collect();
                failed += children.into_iter().filter_map(|mut c| c.wait().ok()).filter(|s| !s.success()).count();
            }
            println!("{failed}");
        }
        other => panic!("unknown driver arguments {other:?}"),
    }
}
