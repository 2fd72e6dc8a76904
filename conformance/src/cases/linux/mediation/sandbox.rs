//! Per-command sandboxes (MED-SRV-012): a passthrough of a command with `sandbox` runs
//! under that sandbox: its `fs_*` grants, its `network.block`, nothing else writable.
//!
//! The real binary attempts each operation itself and prints the outcome as a JSON line
//! (`{"step":"read","ok":false,"errno":"EACCES"}`) on the agent's stdout; the files it
//! would have changed are checked from outside. Each denial sits next to an allowed
//! operation in the same run.

use super::{s, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.sandbox.capture_and_approve_run_without_it",
            "A command with a sandbox that grants nothing reads and writes outside it when an approve or capture rule runs it, while its passthrough is denied the same read",
            &["MED-SRV-020", "MED-SRV-008", "MED-SRV-009"],
            capture_and_approve_run_without_it,
        ),
        case(
            "linux.mediation.sandbox.fs_read_grants_reading_only_there",
            "A sandboxed command reads inside its fs_read directory and is denied reading a sibling",
            &["MED-SRV-012"],
            fs_read_grants_reading_only_there,
        ),
        case(
            "linux.mediation.sandbox.fs_read_is_not_writable",
            "A sandboxed command cannot write into its fs_read directory, but can write into its fs_write directory",
            &["MED-SRV-012"],
            fs_read_is_not_writable,
        ),
        case(
            "linux.mediation.sandbox.nothing_else_is_writable",
            "A sandboxed command writes in its fs_write directory and is denied everywhere else, where the same command without a sandbox may write",
            &["MED-SRV-012"],
            nothing_else_is_writable,
        ),
        case(
            "linux.mediation.sandbox.fs_read_file_grants_one_file",
            "fs_read_file lets the command read that file and not its sibling",
            &["MED-SRV-012"],
            fs_read_file_grants_one_file,
        ),
        case(
            "linux.mediation.sandbox.fs_write_file_grants_one_file",
            "fs_write_file lets the command write that file and not its sibling",
            &["MED-SRV-012"],
            fs_write_file_grants_one_file,
        ),
        case(
            "linux.mediation.sandbox.network_block_denies_connect",
            "With network.block a sandboxed command's TCP connect is denied, while the same command with a sandbox without block connects",
            &["MED-SRV-012"],
            network_block_denies_connect,
        )
        .requires(Requirement::LandlockAbi(4)),
    ]
}

/// Runs `tool` (steps `steps`, sandbox `sandbox`) once and returns its outcome lines.
/// The outcome lines (`{"step":..,"ok":..}`) a fake printed in step `i`'s stdout.
fn outcomes(run: &AgentRun, i: usize) -> Result<Vec<Value>, String> {
    Ok(run
        .out(i)?
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("step").is_some())
        .collect())
}

fn capture_and_approve_run_without_it(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let private = cx.fx.file("private/f", "outside every grant");
    let approved_mark = cx.fx.dir("out").join("approved-wrote");
    let captured_mark = cx.fx.dir("out").join("captured-wrote");
    let tool = kit.fake("tool", &[&format!("read:{}", s(&private)), &format!("write:{}", s(&approved_mark))]);
    let keeper = kit.fake("keeper", &[&format!("write:{}", s(&captured_mark)), "print:kept-value\\n"]);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "tool", "binary_path": tool, "sandbox": {},
          "intercept": [super::approve(&["approved"])] },
        { "name": "keeper", "binary_path": keeper, "sandbox": {},
          "intercept": [super::capture(&[])] },
    ]}));
    let run = kit.agent(&profile).run(&[&["run", "tool", "plain"], &["run", "tool", "approved"], &["run", "keeper"]])?;
    run.finished()?;
    let passthrough = outcomes(&run, 0)?;
    ensure!(
        passthrough.first().is_some_and(|l| l["step"] == json!("read") && l["ok"] == json!(false)),
        "control: the sandboxed passthrough must be denied the private read: {}",
        run.op(0)?
    );
    let approved = outcomes(&run, 1)?;
    ensure!(
        approved.len() == 2 && approved.iter().all(|l| l["ok"] == json!(true)),
        "approve must run the real binary without its sandbox (read and write both succeed): {}",
        run.op(1)?
    );
    ensure!(approved_mark.exists(), "the approved run's file is not there");
    ensure!(
        super::is_nonce(run.out(2)?.trim()),
        "capture must still answer a nonce: {}",
        run.op(2)?
    );
    ensure!(
        captured_mark.exists(),
        "capture must run the real binary without its sandbox: its file is not there"
    );
    Ok(())
}

fn tool_outcomes(
    kit: &Kit,
    steps: &[&str],
    sandbox: Value,
) -> Result<(AgentRun, Vec<Value>), String> {
    let tool = kit.fake("tool", steps);
    let mut entry = json!({ "name": "tool", "binary_path": tool });
    if !sandbox.is_null() {
        entry["sandbox"] = sandbox;
    }
    let profile = kit.mediation(json!({ "commands": [entry] }));
    let run = kit.agent(&profile).run(&[&["run", "tool"]])?;
    run.finished()?;
    let lines: Vec<Value> = run
        .out(0)?
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("step").is_some())
        .collect();
    if let Some(refused) = lines.iter().find(|l| l["step"] == json!("steps")) {
        return Err(format!(
            "the sandboxed real binary could not read its own directory (steps file): {refused}"
        ));
    }
    ensure!(
        lines.len() == steps.len(),
        "the tool reported {} of {} operations: {}",
        lines.len(),
        steps.len(),
        run.op(0)?
    );
    Ok((run, lines))
}

fn expect(lines: &[Value], i: usize, allowed: bool, what: &str) -> CaseResult {
    let l = &lines[i];
    if allowed {
        ensure!(l["ok"] == json!(true), "{what} must be allowed: {l}");
    } else {
        ensure!(
            l["ok"] == json!(false) && l["errno"] == json!("EACCES"),
            "{what} must be denied with EACCES: {l}"
        );
    }
    Ok(())
}

fn fs_read_grants_reading_only_there(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let inside = cx.fx.file("readable/f", "granted content");
    let sibling = cx.fx.file("sibling/f", "private");
    let sandbox = json!({ "fs_read": [cx.fx.path("readable")] });
    let (_, lines) = tool_outcomes(
        &kit,
        &[
            &format!("read:{}", s(&inside)),
            &format!("read:{}", s(&sibling)),
        ],
        sandbox,
    )?;
    expect(&lines, 0, true, "reading inside fs_read")?;
    ensure!(
        lines[0]["content"] == json!("granted content"),
        "wrong content: {}",
        lines[0]
    );
    expect(&lines, 1, false, "reading a sibling of fs_read")
}

fn fs_read_is_not_writable(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    cx.fx.file("readable/f", "keep");
    cx.fx.dir("writable");
    let into_read = cx.fx.path("readable/new");
    let into_write = cx.fx.path("writable/new");
    let sandbox =
        json!({ "fs_read": [cx.fx.path("readable")], "fs_write": [cx.fx.path("writable")] });
    let (_, lines) = tool_outcomes(
        &kit,
        &[
            &format!("write:{}", s(&into_read)),
            &format!("write:{}", s(&into_write)),
        ],
        sandbox,
    )?;
    expect(&lines, 0, false, "writing into fs_read")?;
    ensure!(
        !into_read.exists(),
        "a file appeared in the read-only directory"
    );
    expect(&lines, 1, true, "control: writing into fs_write")?;
    ensure!(
        into_write.exists(),
        "control: the write was reported but the file is absent"
    );
    Ok(())
}

fn nothing_else_is_writable(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    cx.fx.dir("writable");
    cx.fx.dir("elsewhere");
    let granted = cx.fx.path("writable/new");
    let other = cx.fx.path("elsewhere/new");
    let steps = [
        format!("write:{}", s(&granted)),
        format!("write:{}", s(&other)),
    ];
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let (_, lines) = tool_outcomes(
        &kit,
        &steps,
        json!({ "fs_write": [cx.fx.path("writable")] }),
    )?;
    expect(&lines, 0, true, "writing into fs_write")?;
    ensure!(
        granted.exists(),
        "the write into fs_write was reported but the file is absent"
    );
    expect(&lines, 1, false, "writing outside every grant")?;
    ensure!(
        !other.exists(),
        "a file appeared outside the command's grants"
    );
    // Control: the same command without a sandbox may write there.
    let (_, lines) = tool_outcomes(&kit, &steps, Value::Null)?;
    expect(
        &lines,
        1,
        true,
        "control: the unsandboxed command writing there",
    )?;
    ensure!(
        other.exists(),
        "control: the unsandboxed write was reported but the file is absent"
    );
    Ok(())
}

fn fs_read_file_grants_one_file(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let granted = cx.fx.file("files/granted", "one file");
    let sibling = cx.fx.file("files/sibling", "not this one");
    let sandbox = json!({ "fs_read_file": [granted] });
    let (_, lines) = tool_outcomes(
        &kit,
        &[
            &format!("read:{}", s(&granted)),
            &format!("read:{}", s(&sibling)),
        ],
        sandbox,
    )?;
    expect(&lines, 0, true, "reading the fs_read_file file")?;
    expect(&lines, 1, false, "reading its sibling")
}

fn fs_write_file_grants_one_file(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let granted = cx.fx.file("files/granted", "before");
    let sibling = cx.fx.file("files/sibling", "before");
    let sandbox = json!({ "fs_write_file": [granted] });
    let (_, lines) = tool_outcomes(
        &kit,
        &[
            &format!("write:{}", s(&granted)),
            &format!("write:{}", s(&sibling)),
        ],
        sandbox,
    )?;
    expect(&lines, 0, true, "writing the fs_write_file file")?;
    ensure!(
        cx.fx.read("files/granted").as_deref() == Some("written by nono-mediated\n"),
        "the granted file was not written"
    );
    expect(&lines, 1, false, "writing its sibling")?;
    ensure!(
        cx.fx.read("files/sibling").as_deref() == Some("before"),
        "the sibling changed"
    );
    Ok(())
}

fn network_block_denies_connect(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let listener =
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let step = format!("connect:{port}");
    let (_, lines) = tool_outcomes(&kit, &[&step], json!({ "network": { "block": true } }))?;
    expect(&lines, 0, false, "a TCP connect under network.block")?;
    ensure!(
        listener.accept().is_err(),
        "the listener received a connection despite network.block"
    );
    let (_, lines) = tool_outcomes(&kit, &[&step], json!({ "network": { "block": false } }))?;
    expect(
        &lines,
        0,
        true,
        "control: a TCP connect under a sandbox without block",
    )?;
    ensure!(
        listener.accept().is_ok(),
        "control: connect reported ok but the listener has no connection"
    );
    Ok(())
}
