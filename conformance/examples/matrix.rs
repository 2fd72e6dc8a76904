//! Builds the compatibility matrix from results files, until the runner's own
//! `nono-conformance matrix` subcommand is wired to the same library call:
//!
//! ```text
//! cargo run -p nono-conformance --example matrix -- --out target/matrix RESULTS.json...
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut inputs = vec![];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("usage: matrix --out DIR RESULTS.json...");
                return ExitCode::SUCCESS;
            }
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let Some(out) = out else {
        eprintln!("error: --out DIR is required (usage: matrix --out DIR RESULTS.json...)");
        return ExitCode::from(2);
    };
    let built = nono_conformance::matrix::load(&inputs).and_then(|r| nono_conformance::matrix::write(&r, &out));
    match built {
        Ok(written) => {
            print!("{}", written.summary);
            println!("\nwrote {} and {} badges", written.index.display(), written.badges.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
