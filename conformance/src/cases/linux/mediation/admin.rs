//! Admin approval (MED-SRV-010): a rule with `"admin": true` acts only after the approver
//! approves. The approver is the kipz fork's: the IUT runs `nono-approve COMMAND ARGS...`
//! (next to its own binary, else on the supervisor's `PATH`) and waits for it; exit 0
//! approves, anything else refuses with 126.
//!
//! The suite plays the human with a stub approver first on the supervisor's `PATH`
//! ([`Kit::approver`]) that records how it was called. The real `gh` records every run in
//! `out/ran.jsonl`, so "ran" and "did not run" are seen from outside, and a non-admin call
//! in the same session shows that the session itself works and never asks the approver.

use super::{admin, approve, s, Kit, AgentRun, Verdict};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.admin.approved_request_runs",
            "An approver exiting 0, called with the command and its arguments, lets the admin rule's command run and answer",
            &["MED-SRV-010", "MED-SRV-009"],
            approved_request_runs,
        ),
        case(
            "linux.mediation.admin.approver_output_stays_off_the_programs_stdout",
            "What the approver prints never reaches the program's stdout (the IUT's own output stays off it)",
            &["MED-AUDIT-009"],
            approver_output_stays_off_the_programs_stdout,
        ),
        case(
            "linux.mediation.admin.refused_request_is_126_and_runs_nothing",
            "An approver exiting 1 makes the admin rule answer 126 without running the command, while a non-admin call runs without asking it; the line keeps the rule's action type",
            &["MED-SRV-010", "MED-AUDIT-001"],
            refused_request_is_126,
        ),
        case(
            "linux.mediation.admin.request_waits_for_the_approver",
            "The admin rule's command does not run while the approver is still deciding, and runs once it approves",
            &["MED-SRV-010"],
            request_waits_for_the_approver,
        ),
        case(
            "linux.mediation.admin.no_approver_is_126",
            "With no nono-approve anywhere the admin rule answers 126 and runs nothing, while a non-admin call runs",
            &["MED-SRV-010"],
            no_approver_is_126,
        ),
    ]
}

fn setup(kit: &Kit) -> (PathBuf, PathBuf) {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let gh = kit.fake("gh", &[&format!("record:{}", s(&ran)), "print:deployed\\n"]);
    let profile = kit.one_command("gh", &gh, json!([admin(approve(&["deploy"]))]));
    (profile, ran)
}

/// Runs the agent's `steps` with a stub approver deciding by `verdict` first on the
/// supervisor's `PATH`; returns the run and the file where `gh` records its runs.
fn with_approver(kit: &Kit, verdict: Verdict, steps: &[&[&str]]) -> Result<(AgentRun, PathBuf), String> {
    let (profile, ran) = setup(kit);
    let approver = kit.approver(verdict);
    let run = kit.agent(&profile).env("PATH", path_with(&approver)).run(steps)?;
    run.finished()?;
    Ok((run, ran))
}

/// `dir` first, then the suite's own `PATH`: the supervisor finds the stub approver there.
fn path_with(dir: &Path) -> OsString {
    let mut path = OsString::from(dir);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
    path
}

fn approved_request_runs(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (run, ran) = with_approver(&kit, Verdict::Approve, &[&["run", "gh", "deploy", "prod"]])?;
    ensure!(
        run.exit_code(0)? == 0 && run.out(0)? == "deployed\n",
        "the approved command must run and answer: {}",
        run.op(0)?
    );
    let calls = kit.approver_calls();
    ensure!(
        calls == [vec!["gh".to_string(), "deploy".into(), "prod".into()]],
        "the approver must be asked once, as `nono-approve gh deploy prod`: {calls:?}"
    );
    ensure!(kit.records(&ran).len() == 1, "gh must have run once: {:?}", kit.records(&ran));
    Ok(())
}

fn approver_output_stays_off_the_programs_stdout(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (run, _) = with_approver(&kit, Verdict::Approve, &[&["run", "gh", "deploy", "prod"]])?;
    ensure!(
        !kit.approver_calls().is_empty(),
        "control: the approver must have been asked: {run}"
    );
    // The agent reports on its own channel and prints nothing, so the program's stdout
    // (the IUT's) must be empty.
    let stdout = String::from_utf8_lossy(&run.stdout);
    ensure!(
        stdout.is_empty(),
        "nothing may reach the program's stdout (the approver printed APPROVER-STDOUT): {stdout:?}"
    );
    Ok(())
}

fn refused_request_is_126(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (run, ran) = with_approver(&kit, Verdict::Refuse, &[&["run", "gh", "status"], &["run", "gh", "deploy", "prod"]])?;
    run.expect_code(0, 0, "control: the non-admin call must run without approval")?;
    ensure!(
        run.exit_code(1)? == 126 && run.err(1)?.contains("not approved"),
        "a refused admin request must answer 126 saying it was not approved: {}",
        run.op(1)?
    );
    let calls = kit.approver_calls();
    ensure!(
        calls == [vec!["gh".to_string(), "deploy".into(), "prod".into()]],
        "only the admin request may ask the approver: {calls:?}"
    );
    let args: Vec<Vec<String>> = kit.records(&ran).iter().map(super::args_of).collect();
    ensure!(args == [vec!["status".to_string()]], "only the non-admin call may run gh: {args:?}");
    let refused: Vec<_> = run
        .audit_for("gh")
        .into_iter()
        .filter(|l| l["args"] == json!(["deploy", "prod"]))
        .collect();
    ensure!(
        refused.len() == 1 && refused[0]["exit_code"] == json!(126) && refused[0]["action_type"] == json!("approve"),
        "the refused request's line must carry 126 and its rule's action type (approve): {refused:?}"
    );
    Ok(())
}

fn request_waits_for_the_approver(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let decision = cx.fx.dir("out").join("decided");
    let approver = kit.approver(Verdict::WhenFileAppears(decision.clone()));
    let running = kit
        .agent(&profile)
        .env("PATH", path_with(&approver))
        .spawn(&[&["run", "gh", "deploy", "prod"]]);
    // Wait (bounded) until the approver has been asked; not a speed check.
    let asked = (0..500).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        !kit.approver_calls().is_empty()
    });
    let early = kit.records(&ran).len();
    std::fs::write(&decision, "approve").map_err(|e| e.to_string())?;
    let run = running.wait()?;
    run.finished()?;
    ensure!(asked, "the approver was never asked: {run}");
    ensure!(early == 0, "the admin rule's command ran before the approver decided");
    ensure!(
        run.exit_code(0)? == 0 && run.out(0)? == "deployed\n",
        "once approved the command must run and answer: {}",
        run.op(0)?
    );
    Ok(())
}

fn no_approver_is_126(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let run = kit
        .agent(&profile)
        .env("PATH", "/usr/bin:/bin")
        .run(&[&["run", "gh", "status"], &["run", "gh", "deploy", "prod"]])?;
    run.finished()?;
    run.expect_code(0, 0, "control: the non-admin call must run")?;
    run.expect_code(1, 126, "an admin request with no approver must answer 126")?;
    let args: Vec<Vec<String>> = kit.records(&ran).iter().map(super::args_of).collect();
    ensure!(args == [vec!["status".to_string()]], "only the non-admin call may run gh: {args:?}");
    Ok(())
}
