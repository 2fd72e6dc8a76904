//! The program's stdout belongs to the program (CORE-STDOUT-001): whatever the IUT has to
//! say (warnings about skipped grants, logs, refusals) goes to stderr or a log file.
//!
//! The probe's stdout is known in advance: it prints one JSON line per operation, and a
//! successful `create` prints the same line whatever the path. So the expected bytes come
//! from running the probe directly, outside any sandbox, and every case compares the IUT's
//! stdout with them exactly, while making the IUT do something it might talk about.

use crate::case::{CaseResult, Ctx, Family};
use crate::ensure;
use crate::runner::{Run, RunOutput};
use crate::spec::Class;
use crate::Case;
use serde_json::json;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let stdout = Family::new("linux.stdout", Class::Core);
    vec![
        stdout.case(
            "plain_run_passes_the_programs_bytes_only",
            "A run without anything to warn about gives on stdout exactly the bytes the program wrote",
            &["CORE-STDOUT-001"],
            plain_run,
        ),
        stdout.case(
            "warning_run_passes_the_programs_bytes_only",
            "While the IUT warns (a missing profile path, a missing grant path, scrubbed variables), stdout holds exactly the program's bytes, or nothing when the IUT refused",
            &["CORE-STDOUT-001"],
            warning_run,
        ),
        stdout.case(
            "refused_run_writes_nothing_to_stdout",
            "An unknown flag and an invalid profile are refused with nothing on stdout",
            &["CORE-STDOUT-001"],
            refused_run,
        ),
    ]
}

/// What the probe prints for a successful `create`, run directly outside any sandbox.
fn expected_create_output(cx: &Ctx) -> Result<String, String> {
    let direct = cx.fx.dir("direct");
    let out = cx.probe_outside_output(Op::create(direct.join("file")))?;
    let text = String::from_utf8(out.stdout).map_err(|e| format!("the probe printed non-UTF-8: {e}"))?;
    ensure!(text.ends_with('\n') && text.contains("\"ok\":true"), "the probe run directly did not succeed: {text:?}");
    Ok(text)
}

/// Runs `probe create OUT/<marker>` under `run` and checks stdout: exactly the program's
/// bytes when the program ran (its marker exists), nothing at all when the IUT refused.
fn expect_only_program_bytes(cx: &Ctx, run: &Run, marker: &str, expected: &str, what: &str) -> Result<bool, String> {
    let out: RunOutput = run.probe(Op::create(cx.fx.path(marker)));
    if cx.fx.exists(marker) {
        ensure!(out.stdout == expected, "{what}: stdout must be exactly the program's {expected:?}; {out}");
        Ok(true)
    } else {
        ensure!(out.stdout.is_empty(), "{what}: the IUT refused, so nothing may be on stdout; {out}");
        Ok(false)
    }
}

fn plain_run(cx: &Ctx) -> CaseResult {
    let expected = expected_create_output(cx)?;
    let out = cx.fx.dir("out");
    let ran = expect_only_program_bytes(cx, &cx.run().allow(&out), "out/plain", &expected, "a plain run")?;
    ensure!(ran, "control: a plain run under --allow must run the program");
    Ok(())
}

fn warning_run(cx: &Ctx) -> CaseResult {
    let expected = expected_create_output(cx)?;
    let out = cx.fx.dir("out");
    let missing = cx.fx.path("missing");
    let profile = cx.fx.dir("profiles").join("p.json");
    let text = json!({ "filesystem": { "read": [missing], "allow": [out] } });
    std::fs::write(&profile, text.to_string()).map_err(|e| format!("writing {}: {e}", profile.display()))?;
    let noisy = |run: Run| run.env("HOME", cx.fx.dir("home")).env("NODE_OPTIONS", "--require=/x.js").env("LD_PRELOAD", "/x.so");
    let mut ran = 0;
    let by_profile = noisy(cx.run().arg("--profile").arg(&profile));
    ran += expect_only_program_bytes(cx, &by_profile, "out/profile", &expected, "a profile with a missing path")? as u32;
    let by_flag = noisy(cx.run().allow(&out).read(&missing));
    ran += expect_only_program_bytes(cx, &by_flag, "out/flag", &expected, "a grant flag on a missing path")? as u32;
    // A missing profile path is skipped (PRF-RUN-005), so at least that run goes on.
    ensure!(ran > 0, "neither run started the program, so nothing was checked while the IUT warned");
    Ok(())
}

fn refused_run(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    let bad = cx.run().allow(&out).arg("--no-such-flag-for-conformance");
    ensure!(!expect_only_program_bytes(cx, &bad, "out/flag", "", "an unknown flag")?, "the program ran despite an unknown flag");
    let profile = cx.fx.dir("profiles").join("bad.json");
    std::fs::write(&profile, r#"{ "filesystem": { "alow": [] } }"#).map_err(|e| format!("writing {}: {e}", profile.display()))?;
    let invalid = cx.run().allow(&out).env("HOME", cx.fx.dir("home")).arg("--profile").arg(&profile);
    ensure!(
        !expect_only_program_bytes(cx, &invalid, "out/profile", "", "an invalid profile")?,
        "the program ran under an invalid profile"
    );
    Ok(())
}
