//! The server against a hostile agent (MED-SRV-001..003): the suite plays the shim.
//!
//! The agent speaks the wire protocol itself (`nono-mediation-client`'s wire ops) and sends
//! what no correct shim sends: a wrong token, frames that are too long, cut short, not JSON
//! or not a request, descriptors that never arrive or are too few, a connection that
//! sends nothing. A correct request `gh before` comes first; then the bad request (asking
//! for `gh bad-<op>` where it carries a request at all); then, in the same agent, a correct
//! request asks for `gh good`. The real `gh` appends a line to `out/ran.jsonl` whenever it
//! runs, so "gh ran exactly as before and good" is seen from outside, and the audit log
//! must claim exactly those two runs.

use super::{respond, s, str_of, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    let mut out = vec![
        case(
            "linux.mediation.server.unknown_command_is_127_naming_it",
            "A request for a command the profile does not mediate is answered 127 with a message naming it, and runs nothing",
            &["MED-SRV-001"],
            unknown_command_is_127,
        ),
        case(
            "linux.mediation.server.wrong_token_gets_no_answer",
            "A request with a wrong session token is closed without an answer, runs nothing and leaves no audit line; the next correct request is served",
            &["MED-SRV-002"],
            wrong_token_gets_no_answer,
        ),
        case(
            "linux.mediation.server.request_of_exactly_1_mib_is_served",
            "A request frame of exactly 1 MiB is answered",
            &["MED-SRV-003"],
            |cx: &Ctx| sized_request(cx, 1 << 20, true),
        ),
        case(
            "linux.mediation.server.request_one_byte_over_1_mib_is_refused",
            "A request frame of 1 MiB + 1 byte is closed without an answer, and the next request is served",
            &["MED-SRV-003"],
            |cx: &Ctx| sized_request(cx, (1 << 20) + 1, false),
        ),
        case(
            "linux.mediation.server.idle_connection_does_not_block_others",
            "A connection held open without sending anything does not stop the server from answering another request",
            &["MED-SRV-003", "MED-SRV-016"],
            |cx: &Ctx| bad_then_good(cx, "hold", &[]),
        ),
    ];
    let bad: [(&str, &str, &[&str]); 9] = [
        (
            "oversize",
            "A frame claiming 4 GiB ends that connection only",
            &[],
        ),
        (
            "truncated-length",
            "A connection that closes inside the 4-byte length ends that connection only",
            &[],
        ),
        (
            "truncated-payload",
            "A frame cut short ends that connection only",
            &["gh", "bad-truncated-payload"],
        ),
        (
            "garbage-json",
            "A frame that is not JSON (a whole request for gh followed by garbage) ends that connection only",
            &["gh", "bad-garbage-json"],
        ),
        (
            "not-a-request",
            "A JSON frame that is not a request (gh with a string for args) ends that connection only",
            &["gh", "bad-not-a-request"],
        ),
        (
            "no-fds",
            "A request whose descriptor message carries no descriptors ends that connection only",
            &["gh", "bad-no-fds"],
        ),
        (
            "frame-only",
            "A request followed by a hang-up instead of descriptors ends that connection only",
            &["gh", "bad-frame-only"],
        ),
        (
            "two-fds",
            "A request with two descriptors instead of three ends that connection only",
            &["gh", "bad-two-fds"],
        ),
        (
            "connect-only",
            "A client that connects and closes without sending anything ends that connection only (and is not taken for the request before it)",
            &[],
        ),
    ];
    for (op, title, args) in bad {
        let args: Vec<&'static str> = args.to_vec();
        out.push(case(
            format!(
                "linux.mediation.server.{}_ends_that_connection_only",
                op.replace('-', "_")
            ),
            title,
            &["MED-SRV-003"],
            move |cx: &Ctx| bad_then_good(cx, op, &args),
        ));
    }
    out
}

/// A profile mediating `gh` (passthrough, recording every run) with one respond rule for
/// `gh limit`; returns the profile and the record file.
fn setup(kit: &Kit) -> (PathBuf, PathBuf) {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let gh = kit.fake("gh", &[&format!("record:{}", s(&ran)), "print:gh ran\\n"]);
    let profile = kit.one_command(
        "gh",
        &gh,
        json!([respond(&["limit"], "answered at the limit\n", 0)]),
    );
    (profile, ran)
}

/// The argument lists `gh` ran with, read from outside.
fn runs(kit: &Kit, ran: &Path) -> Vec<Vec<String>> {
    kit.records(ran).iter().map(super::args_of).collect()
}

/// Fails unless the audit log claims exactly the `served` requests of `gh` ran, each once:
/// no other line may say that a command ran. Whether the bad request carried a marker or
/// nothing at all, a line claiming it ran (or repeating a served one) is seen.
fn only_served_claimed(run: &AgentRun, served: &[&str]) -> CaseResult {
    let mut claimed: Vec<Value> = vec![];
    for line in &run.audit {
        let action = str_of(line, "action_type").unwrap_or("");
        if matches!(action, "passthrough" | "respond" | "capture" | "approve") {
            claimed.push(json!([line["command"], line["args"]]));
        }
    }
    let expected: Vec<Value> = served.iter().map(|a| json!(["gh", [a]])).collect();
    ensure!(
        claimed == expected,
        "the audit log must claim exactly the served requests {expected:?} ran, in order; it claims {claimed:?}: {:?}",
        run.audit
    );
    Ok(())
}

fn expect_good_served(run: &AgentRun, step: usize, kit: &Kit, ran: &Path) -> CaseResult {
    ensure!(
        run.answered(step)?,
        "the next correct request was not answered: {}",
        run.op(step)?
    );
    run.expect_code(step, 0, "the next correct request must exit 0")?;
    let all = runs(kit, ran);
    ensure!(
        all.contains(&vec!["good".to_string()]),
        "gh good did not run; runs seen: {all:?}"
    );
    ensure!(
        run.audit_for("gh")
            .iter()
            .any(|l| l["args"] == json!(["good"])),
        "the correct request left no audit line: {:?}",
        run.audit
    );
    Ok(())
}

/// A served request (`gh before`), the bad one, then a served request (`gh good`) in one
/// agent. `gh` must have run exactly twice, as `before` and `good`, and the audit log must
/// claim exactly those: a bad request that ran in any form (with its own arguments, with
/// none, or as a repeat of the request before it) is seen from outside, marker or not.
fn bad_then_good(cx: &Ctx, op: &str, args: &[&str]) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let mut bad: Vec<&str> = vec![op];
    bad.extend_from_slice(args);
    let run = kit
        .agent(&profile)
        .run(&[&["valid", "gh", "before"], &bad, &["valid", "gh", "good"]])?;
    run.finished()?;
    ensure!(
        run.answered(0)? && run.exit_code(0)? == 0,
        "control: the request before the bad one must be served: {}",
        run.op(0)?
    );
    let bad_answer = run.op(1)?;
    if run.answered(1)? {
        let code = run.exit_code(1)?;
        ensure!(
            code != 0,
            "the bad request ({op}) was answered with success: {bad_answer}"
        );
    }
    if matches!(op, "oversize" | "truncated-length" | "truncated-payload") {
        ensure!(
            !run.answered(1)?,
            "{op}: the server answered a frame it could not have read: {bad_answer}"
        );
    }
    expect_good_served(&run, 2, &kit, &ran)?;
    let all = runs(&kit, &ran);
    ensure!(
        all == [vec!["before".to_string()], vec!["good".to_string()]],
        "gh must have run exactly as `before` and `good`; the bad request ({op}) ran it: {all:?}"
    );
    only_served_claimed(&run, &["before", "good"])
}

fn unknown_command_is_127(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let run = kit.agent(&profile).run(&[
        &["valid", "nono-unmediated-tool", "bad-unknown"],
        &["valid", "gh", "good"],
    ])?;
    run.finished()?;
    ensure!(
        run.answered(0)?,
        "a request for an unknown command must be answered: {}",
        run.op(0)?
    );
    run.expect_code(0, 127, "an unknown command must be answered 127")?;
    let stderr = run.err(0)?;
    ensure!(
        stderr.contains("nono-unmediated-tool"),
        "the message must name the command: {stderr:?}"
    );
    let all = runs(&kit, &ran);
    ensure!(
        all == [vec!["good".to_string()]],
        "only gh good may run: {all:?}"
    );
    expect_good_served(&run, 1, &kit, &ran)
}

fn wrong_token_gets_no_answer(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let run = kit.agent(&profile).run(&[
        &["wrong-token", "gh", "bad-token"],
        &["valid", "gh", "good"],
    ])?;
    run.finished()?;
    let first = run.op(0)?;
    ensure!(
        !run.answered(0)?,
        "a wrong token must get no answer: {first}"
    );
    ensure!(
        first.get("eof") == Some(&json!(true)),
        "the server must close the connection (not leave it hanging): {first}"
    );
    let all = runs(&kit, &ran);
    ensure!(
        all == [vec!["good".to_string()]],
        "only gh good may run: {all:?}"
    );
    let leaked: Vec<&Value> = run
        .audit
        .iter()
        .filter(|l| l.to_string().contains("bad-token"))
        .collect();
    ensure!(
        leaked.is_empty(),
        "a wrong-token request left audit lines: {leaked:?}"
    );
    expect_good_served(&run, 1, &kit, &ran)
}

fn sized_request(cx: &Ctx, bytes: usize, served: bool) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = setup(&kit);
    let size = bytes.to_string();
    let run = kit
        .agent(&profile)
        .run(&[&["sized", &size, "gh", "limit"], &["valid", "gh", "good"]])?;
    run.finished()?;
    let first = run.op(0)?;
    if served {
        ensure!(
            run.answered(0)?,
            "a {bytes}-byte request is within the limit and must be answered: {first}"
        );
        ensure!(
            run.out(0)? == "answered at the limit\n",
            "the respond rule must answer: {first}"
        );
    } else {
        ensure!(
            !run.answered(0)?,
            "a {bytes}-byte request is over the limit and must get no answer: {first}"
        );
        let limit_lines: Vec<_> = run
            .audit_for("gh")
            .into_iter()
            .filter(|l| l["args"] == json!(["limit"]))
            .collect();
        ensure!(
            limit_lines.is_empty(),
            "the refused request left audit lines: {limit_lines:?}"
        );
    }
    expect_good_served(&run, 1, &kit, &ran)
}
