//! Admin approval (MED-SRV-010): a rule with `"admin": true` runs only after a human
//! decides through `IUT approve` (same `XDG_STATE_HOME`); a refusal or no decision in time
//! answers 126 and runs nothing.
//!
//! The agent runs in the background; the case then plays the human with `IUT approve`.
//! The real `gh` records every run in `out/ran.jsonl`, so "ran" and "did not run" are
//! seen from outside, and a non-admin call in the same session shows that the session
//! itself works.

use super::{admin, approve, s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.admin.approved_request_runs",
            "An admin rule's command waits for `approve`, which exits 0 saying what it approved; then it runs and its output is answered",
            &["MED-SRV-010", "MED-SRV-009"],
            approved_request_runs,
        ),
        case(
            "linux.mediation.admin.denied_request_is_126_and_runs_nothing",
            "`approve --deny` makes the admin rule answer 126 without running the command, while a non-admin call runs",
            &["MED-SRV-010"],
            denied_request_is_126,
        ),
        case(
            "linux.mediation.admin.no_decision_in_time_is_126",
            "With no decision before the server's approval timeout the admin rule answers 126 and runs nothing",
            &["MED-SRV-010"],
            no_decision_in_time_is_126,
        ),
        case(
            "linux.mediation.admin.approve_with_nothing_pending_exits_1",
            "`approve --timeout 1` with no pending admin request exits 1",
            &["MED-SRV-010"],
            approve_with_nothing_pending_exits_1,
        ),
    ]
}

fn setup(kit: &Kit) -> (PathBuf, PathBuf) {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let gh = kit.fake("gh", &[&format!("record:{}", s(&ran)), "print:deployed\\n"]);
    let profile = kit.one_command("gh", &gh, json!([admin(approve(&["deploy"]))]));
    (profile, ran)
}

fn approved_request_runs(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let running = kit
        .agent(&profile)
        .spawn(&[&["run", "gh", "deploy", "prod"]]);
    // Not a speed check: whatever the timing, the command must not have run before approval.
    std::thread::sleep(Duration::from_millis(300));
    let early = kit.records(&ran).len();
    let (code, stdout, stderr) = kit.approve(&["--timeout", "20"]);
    let run = running.wait()?;
    run.finished()?;
    ensure!(
        early == 0,
        "the admin rule's command ran before anyone approved it"
    );
    ensure!(
        code == 0,
        "approve must exit 0 after approving: {code}, stdout {stdout:?}, stderr {stderr:?}"
    );
    ensure!(
        stdout.contains("gh"),
        "approve must print what it decided (naming gh): {stdout:?}"
    );
    ensure!(
        run.exit_code(0)? == 0 && run.out(0)? == "deployed\n",
        "the approved command must run and answer: {}",
        run.op(0)?
    );
    let records = kit.records(&ran);
    ensure!(records.len() == 1, "gh must have run once: {records:?}");
    Ok(())
}

fn denied_request_is_126(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let running = kit
        .agent(&profile)
        .spawn(&[&["run", "gh", "status"], &["run", "gh", "deploy", "prod"]]);
    let (code, stdout, stderr) = kit.approve(&["--deny", "--timeout", "20"]);
    let run = running.wait()?;
    run.finished()?;
    ensure!(
        code == 0,
        "approve --deny must exit 0 after deciding: {code}, stdout {stdout:?}, stderr {stderr:?}"
    );
    ensure!(
        run.exit_code(0)? == 0,
        "control: the non-admin call must run without approval: {}",
        run.op(0)?
    );
    ensure!(
        run.exit_code(1)? == 126,
        "a refused admin request must answer 126: {}",
        run.op(1)?
    );
    let args: Vec<Vec<String>> = kit.records(&ran).iter().map(super::args_of).collect();
    ensure!(
        args == [vec!["status".to_string()]],
        "only the non-admin call may run gh: {args:?}"
    );
    Ok(())
}

fn no_decision_in_time_is_126(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let run = kit
        .agent(&profile)
        .env("NONO_APPROVAL_TIMEOUT_SECS", "1")
        .run(&[&["run", "gh", "status"], &["run", "gh", "deploy", "prod"]])?;
    run.finished()?;
    ensure!(
        run.exit_code(0)? == 0,
        "control: the non-admin call must run without approval: {}",
        run.op(0)?
    );
    ensure!(
        run.exit_code(1)? == 126,
        "an admin request nobody decides must answer 126: {}",
        run.op(1)?
    );
    let args: Vec<Vec<String>> = kit.records(&ran).iter().map(super::args_of).collect();
    ensure!(
        args == [vec!["status".to_string()]],
        "only the non-admin call may run gh: {args:?}"
    );
    Ok(())
}

fn approve_with_nothing_pending_exits_1(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (code, stdout, stderr) = kit.approve(&["--timeout", "1"]);
    ensure!(
        code == 1,
        "approve with nothing pending must exit 1: {code}, stdout {stdout:?}, stderr {stderr:?}"
    );
    Ok(())
}
