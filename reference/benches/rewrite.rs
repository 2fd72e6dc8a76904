//! Rewrite throughput on 64 MiB of text: once without any nonce, once with an issued nonce
//! every KiB. Prints MB/s (10^6 bytes of input per second, best of several runs).
//!
//! The goal figures go through `Broker::rewrite_os`, the path every argument and value
//! takes, which always returns an owned copy; the scan alone (`Broker::rewrite`, which
//! borrows when nothing changes) is printed for comparison.
//!
//! Goals (issue 6): at least 1000 MB/s without nonces and 300 MB/s dense.
//! Run with `cargo bench -p nono-reference --bench rewrite`.

use nono_reference::broker::Broker;
use std::ffi::OsStr;
use std::hint::black_box;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

const SIZE: usize = 64 << 20;
const SPACING: usize = 1024;
const RUNS: usize = 7;

/// Deterministic text that looks like arguments and headers: letters (with extra `n`, `o`
/// and `_`), digits, punctuation, and the near-miss `nono-`, so that a scanner which stops
/// at every `n` or every `_` pays for it.
fn text(len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789 _-=:/.,nnoo__ABCDEF";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state % 97 == 0 {
            out.extend_from_slice(b"nono-");
        } else {
            out.push(ALPHABET[(state >> 32) as usize % ALPHABET.len()]);
        }
    }
    out.truncate(len);
    out
}

/// Best time of `RUNS` calls of `rewrite` on `input`, printed as MB/s.
fn measure(label: &str, input: &[u8], rewrite: impl Fn(&[u8]) -> usize) -> f64 {
    let mut best = Duration::MAX;
    let mut out_len = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        out_len = black_box(rewrite(black_box(input)));
        best = best.min(start.elapsed());
    }
    let mbps = input.len() as f64 / best.as_secs_f64() / 1e6;
    println!(
        "{label:<40} {:>3} MiB in {:>7.2} ms {mbps:>7.0} MB/s (output {out_len} bytes)",
        input.len() >> 20,
        best.as_secs_f64() * 1e3
    );
    mbps
}

fn verdict(mbps: f64, goal: f64) -> &'static str {
    if mbps >= goal {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    let mut broker = Broker::new();
    let nonces: Vec<String> = (0..256)
        .map(|i| {
            broker
                .issue(format!("secret-value-{i:04}-with-some-length"))
                .expect("issuing")
                .text()
        })
        .collect();

    let plain = text(SIZE);
    let mut dense = text(SIZE);
    for (k, at) in (0..SIZE - 69).step_by(SPACING).enumerate() {
        dense[at..at + 69].copy_from_slice(nonces[k % nonces.len()].as_bytes());
    }

    let owned = |input: &[u8]| broker.rewrite_os(OsStr::from_bytes(input)).len();
    let scan_only = |input: &[u8]| broker.rewrite(input).len();

    println!(
        "nonce rewrite throughput, best of {RUNS} runs ({} secrets issued)",
        broker.len()
    );
    let plain_mbps = measure("no nonces (rewrite_os, owned copy)", &plain, owned);
    measure("no nonces (rewrite, scan only)", &plain, scan_only);
    let dense_mbps = measure("one nonce per KiB (rewrite_os)", &dense, owned);
    println!(
        "goal: >= 1000 MB/s without nonces: {}; >= 300 MB/s with a nonce per KiB: {}",
        verdict(plain_mbps, 1000.0),
        verdict(dense_mbps, 300.0)
    );
}
