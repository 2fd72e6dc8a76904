//! What each action does (MED-SRV-007..009): respond runs nothing, capture hands out a
//! nonce for the real output, approve answers the real output.
//!
//! The real `gh` records every run in `out/ran.jsonl` (with the stdin byte count it saw) and
//! prints a recognisable line, so the cases see from outside whether it ran and with what.
//! Nonces are checked by use: a second mediated command, `show`, describes the arguments
//! it received after the server's rewrite (TOK-REWRITE-001).

use super::{approve, approve_script, args_of, capture, capture_script, is_nonce, respond, s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.actions.respond_answers_without_running",
            "respond answers its stdout and exit code with empty stderr and runs nothing; an unmatched call of the same command does run",
            &["MED-SRV-007"],
            respond_answers_without_running,
        ),
        case(
            "linux.mediation.actions.respond_with_a_failure_code",
            "respond with exit_code 3 and empty stdout answers exactly that",
            &["MED-SRV-007"],
            respond_with_a_failure_code,
        ),
        case(
            "linux.mediation.actions.capture_answers_a_nonce_not_the_secret",
            "capture answers a nonce and a newline; the secret the real binary printed appears nowhere in the agent's output",
            &["MED-SRV-008", "TOK-FMT-001"],
            capture_answers_a_nonce,
        ),
        case(
            "linux.mediation.actions.captured_nonce_stands_for_the_trimmed_output",
            "The nonce from capture is replaced, in a later mediated command's arguments, by the real binary's stdout without surrounding whitespace",
            &["MED-SRV-008", "TOK-REWRITE-001"],
            captured_nonce_stands_for_trimmed_output,
        ),
        case(
            "linux.mediation.actions.every_capture_gets_a_new_nonce",
            "Two captures of the same secret get two different nonces, and both resolve to it",
            &["MED-SRV-008", "TOK-FMT-002"],
            every_capture_gets_a_new_nonce,
        ),
        case(
            "linux.mediation.actions.capture_reads_no_stdin",
            "A captured command gets /dev/null as stdin although the agent's stdin has data; a passthrough of the same command gets the data",
            &["MED-SRV-008", "MED-SRV-011"],
            capture_reads_no_stdin,
        ),
        case(
            "linux.mediation.actions.failed_capture_answers_the_real_output",
            "A captured command exiting 4 answers its own stdout, stderr and 4, and no nonce",
            &["MED-SRV-008"],
            failed_capture_answers_the_real_output,
        ),
        case(
            "linux.mediation.actions.capture_script_runs_sh",
            "capture with a script runs it with sh -c instead of the real binary and answers a nonce for its output",
            &["MED-SRV-008", "TOK-REWRITE-001"],
            capture_script_runs_sh,
        ),
        case(
            "linux.mediation.actions.approve_answers_the_real_output",
            "approve runs the real binary with /dev/null as stdin and answers its stdout, stderr and exit code once",
            &["MED-SRV-009"],
            approve_answers_the_real_output,
        ),
        case(
            "linux.mediation.actions.approve_script_runs_sh",
            "approve with a script runs it with sh -c and answers its stdout, stderr and exit code; the real binary does not run",
            &["MED-SRV-009"],
            approve_script_runs_sh,
        ),
    ]
}

const SECRET: &str = "s3cret-from-gh";

/// `gh` records each run and prints `SECRET` padded with whitespace; `show` (passthrough)
/// describes itself. `rules` are gh's.
fn gh_and_show(kit: &Kit, gh_steps: &[&str], rules: Value) -> (PathBuf, PathBuf) {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let record = format!("record:{}", s(&ran));
    let mut steps = vec![record.as_str()];
    steps.extend_from_slice(gh_steps);
    let gh = kit.fake("gh", &steps);
    let show = kit.fake("show", &["describe"]);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "gh", "binary_path": gh, "intercept": rules },
        { "name": "show", "binary_path": show },
    ]}));
    (profile, ran)
}

fn secret_print() -> String {
    format!("print:  {SECRET} \\n\\n")
}

fn runs(kit: &Kit, ran: &Path) -> Vec<Vec<String>> {
    kit.records(ran).iter().map(args_of).collect()
}

fn respond_answers_without_running(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &["print:real gh\\n"],
        json!([respond(&["auth", "status"], "Logged in as nobody\n", 0)]),
    );
    let run = kit.agent(&profile).run(&[
        &["run", "gh", "auth", "status"],
        &["run", "gh", "repo", "list"],
    ])?;
    run.finished()?;
    run.expect_out(0, "Logged in as nobody\n", "respond must answer its stdout exactly")?;
    ensure!(
        run.err(0)?.is_empty(),
        "respond must answer an empty stderr: {}",
        run.op(0)?
    );
    run.expect_code(0, 0, "respond must answer its exit code 0")?;
    let all = runs(&kit, &ran);
    ensure!(
        all == [vec!["repo".to_string(), "list".to_string()]],
        "only the unmatched call may run gh: {all:?}"
    );
    run.expect_out(1, "real gh\n", "control: the unmatched call runs the real gh")?;
    Ok(())
}

fn respond_with_a_failure_code(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(&kit, &[], json!([respond(&["fail"], "", 3)]));
    let run = kit.agent(&profile).run(&[&["run", "gh", "fail"]])?;
    run.finished()?;
    ensure!(
        run.exit_code(0)? == 3 && run.out(0)?.is_empty(),
        "respond must answer exit 3 and no output: {}",
        run.op(0)?
    );
    ensure!(runs(&kit, &ran).is_empty(), "respond ran gh");
    Ok(())
}

fn capture_answers_a_nonce(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &[&secret_print()],
        json!([capture(&["auth", "token"])]),
    );
    let run = kit
        .agent(&profile)
        .run(&[&["run", "gh", "auth", "token"]])?;
    run.finished()?;
    let out = run.out(0)?;
    ensure!(
        out.ends_with('\n') && is_nonce(out.trim_end_matches('\n')) && out.len() == 70,
        "capture must answer a nonce and a newline: {out:?}"
    );
    run.expect_code(0, 0, "capture must answer 0")?;
    ensure!(
        runs(&kit, &ran) == [vec!["auth".to_string(), "token".to_string()]],
        "control: the real gh must have run once"
    );
    let everything = format!("{}{}", String::from_utf8_lossy(&run.stdout), run.stderr);
    ensure!(
        !everything.contains(SECRET),
        "the secret reached the agent's output: {run}"
    );
    Ok(())
}

fn captured_nonce_stands_for_trimmed_output(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _) = gh_and_show(
        &kit,
        &[&secret_print()],
        json!([capture(&["auth", "token"])]),
    );
    let run = kit
        .agent(&profile)
        .run(&[&["run", "gh", "auth", "token"], &["run", "show", "{out1}"]])?;
    run.finished()?;
    let args = args_of(&run.described(1)?);
    ensure!(
        args == [SECRET],
        "show must receive the trimmed secret {SECRET:?} for the nonce: {args:?}"
    );
    Ok(())
}

fn every_capture_gets_a_new_nonce(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _) = gh_and_show(
        &kit,
        &[&secret_print()],
        json!([capture(&["auth", "token"])]),
    );
    let run = kit.agent(&profile).run(&[
        &["run", "gh", "auth", "token"],
        &["run", "gh", "auth", "token"],
        &["run", "show", "{out1}", "{out2}"],
    ])?;
    run.finished()?;
    let (a, b) = (
        run.out(0)?.trim().to_string(),
        run.out(1)?.trim().to_string(),
    );
    ensure!(
        is_nonce(&a) && is_nonce(&b),
        "both captures must answer nonces: {a:?}, {b:?}"
    );
    ensure!(a != b, "two captures got the same nonce {a}");
    let args = args_of(&run.described(2)?);
    ensure!(
        args == [SECRET, SECRET],
        "both nonces must resolve to the secret: {args:?}"
    );
    Ok(())
}

fn stdin_bytes(record: &Value) -> Option<u64> {
    record.get("stdin_bytes").and_then(Value::as_u64)
}

fn capture_reads_no_stdin(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &[&secret_print()],
        json!([capture(&["auth", "token"])]),
    );
    let input = "twenty-four bytes here\n\n";
    let run = kit
        .agent(&profile)
        .stdin(input)
        .run(&[&["run", "gh", "auth", "token"], &["run", "gh", "other"]])?;
    run.finished()?;
    let records = kit.records(&ran);
    ensure!(records.len() == 2, "gh must have run twice: {records:?}");
    ensure!(
        stdin_bytes(&records[0]) == Some(0),
        "the captured run must read nothing from stdin: {}",
        records[0]
    );
    ensure!(
        stdin_bytes(&records[1]) == Some(input.len() as u64),
        "control: the passthrough run must read the agent's {} stdin bytes: {}",
        input.len(),
        records[1]
    );
    Ok(())
}

fn failed_capture_answers_the_real_output(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _) = gh_and_show(
        &kit,
        &[
            "print:partial output\\n",
            "stderr:token expired\\n",
            "exit:4",
        ],
        json!([capture(&["auth", "token"])]),
    );
    let run = kit
        .agent(&profile)
        .run(&[&["run", "gh", "auth", "token"]])?;
    run.finished()?;
    run.expect_code(0, 4, "a failed capture must answer the command's 4")?;
    run.expect_out(0, "partial output\n", "a failed capture must answer the command's own stdout")?;
    ensure!(
        run.err(0)?.contains("token expired"),
        "a failed capture must answer the command's stderr: {}",
        run.op(0)?
    );
    ensure!(
        !super::contains_nonce(&run.out(0)?),
        "a failed capture must not issue a nonce: {}",
        run.op(0)?
    );
    Ok(())
}

fn capture_script_runs_sh(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &[],
        json!([capture_script(
            &["auth", "token"],
            "printf '  %s-%s\\n' script secret"
        )]),
    );
    let run = kit
        .agent(&profile)
        .run(&[&["run", "gh", "auth", "token"], &["run", "show", "{out1}"]])?;
    run.finished()?;
    ensure!(
        is_nonce(run.out(0)?.trim()),
        "capture with a script must answer a nonce: {}",
        run.op(0)?
    );
    let args = args_of(&run.described(1)?);
    ensure!(
        args == ["script-secret"],
        "the nonce must stand for the script's trimmed output: {args:?}"
    );
    ensure!(
        runs(&kit, &ran).is_empty(),
        "the real gh ran although the rule has a script"
    );
    Ok(())
}

fn approve_answers_the_real_output(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &["print:deployed v2\\n", "stderr:1 warning\\n", "exit:6"],
        json!([approve(&["deploy"])]),
    );
    let run = kit
        .agent(&profile)
        .stdin("agent input\n")
        .run(&[&["run", "gh", "deploy", "v2"]])?;
    run.finished()?;
    run.expect_out(0, "deployed v2\n", "approve must answer the real stdout exactly once")?;
    ensure!(
        run.err(0)? == "1 warning\n",
        "approve must answer the real stderr: {}",
        run.op(0)?
    );
    run.expect_code(0, 6, "approve must answer the real exit code 6")?;
    let records = kit.records(&ran);
    ensure!(
        records.len() == 1 && args_of(&records[0]) == ["deploy", "v2"],
        "gh must have run once as `deploy v2`: {records:?}"
    );
    ensure!(
        stdin_bytes(&records[0]) == Some(0),
        "approve must give the command /dev/null as stdin: {}",
        records[0]
    );
    Ok(())
}

fn approve_script_runs_sh(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, ran) = gh_and_show(
        &kit,
        &[],
        json!([approve_script(
            &["deploy"],
            "echo from-script; echo to-stderr >&2; exit 9"
        )]),
    );
    let run = kit.agent(&profile).run(&[&["run", "gh", "deploy"]])?;
    run.finished()?;
    run.expect_out(0, "from-script\n", "approve must answer the script's stdout")?;
    ensure!(
        run.err(0)?.contains("to-stderr"),
        "approve must answer the script's stderr: {}",
        run.op(0)?
    );
    run.expect_code(0, 9, "approve must answer the script's exit code 9")?;
    ensure!(
        runs(&kit, &ran).is_empty(),
        "the real gh ran although the rule has a script"
    );
    Ok(())
}
