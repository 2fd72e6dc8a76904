//! Working directory (MED-SRV-013): a mediated command runs in the caller's directory,
//! whatever the path (passthrough, sandboxed passthrough, capture, approve).
//!
//! The IUT starts in `iut-cwd`; the agent moves to `work/sub` before calling, so a server
//! that used its own directory is caught.

use super::{approve, capture, s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::path::PathBuf;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.cwd.passthrough_runs_in_the_callers_directory",
            "A passthrough command runs in the agent's current directory, not the IUT's",
            &["MED-SRV-013", "MED-SHIM-006"],
            |cx: &Ctx| check(cx, Path::Passthrough),
        ),
        case(
            "linux.mediation.cwd.sandboxed_passthrough_runs_in_the_callers_directory",
            "A passthrough command with a sandbox runs in the agent's current directory",
            &["MED-SRV-013", "MED-SRV-012"],
            |cx: &Ctx| check(cx, Path::Sandboxed),
        ),
        case(
            "linux.mediation.cwd.capture_runs_in_the_callers_directory",
            "A captured command runs in the agent's current directory",
            &["MED-SRV-013", "MED-SRV-008"],
            |cx: &Ctx| check(cx, Path::Capture),
        ),
        case(
            "linux.mediation.cwd.approve_runs_in_the_callers_directory",
            "An approved command runs in the agent's current directory",
            &["MED-SRV-013", "MED-SRV-009"],
            |cx: &Ctx| check(cx, Path::Approve),
        ),
    ]
}

#[derive(Clone, Copy)]
enum Path {
    Passthrough,
    Sandboxed,
    Capture,
    Approve,
}

fn check(cx: &Ctx, path: Path) -> CaseResult {
    let kit = Kit::new(cx);
    let record = cx.fx.dir("out").join("ran.jsonl");
    let work = cx.fx.dir("work/sub");
    let iut_cwd = cx.fx.dir("iut-cwd");
    let tool = kit.fake(
        "tool",
        &[&format!("record:{}", s(&record)), "print:done\\n"],
    );
    let mut entry = json!({ "name": "tool", "binary_path": tool });
    match path {
        Path::Passthrough => {}
        Path::Sandboxed => {
            entry["sandbox"] = json!({ "fs_read": [cx.fx.path("work")], "fs_write_file": [record] })
        }
        Path::Capture => entry["intercept"] = json!([capture(&[])]),
        Path::Approve => entry["intercept"] = json!([approve(&[])]),
    }
    std::fs::write(&record, "").map_err(|e| e.to_string())?;
    let profile = kit.mediation(json!({ "commands": [entry] }));
    let run = kit
        .agent(&profile)
        .cwd(&iut_cwd)
        .flag("--read", cx.fx.path("work"))
        .run(&[&["cd", s(&work)], &["run", "tool"]])?;
    run.finished()?;
    run.expect_code(1, 0, "the command must succeed")?;
    let records = kit.records(&record);
    let seen: Vec<Option<&str>> = records
        .iter()
        .map(|r| r.get("cwd").and_then(Value::as_str))
        .collect();
    let want: PathBuf = work.canonicalize().map_err(|e| e.to_string())?;
    ensure!(
        seen == [Some(s(&want))],
        "the command must run in {}, ran in {seen:?}",
        want.display()
    );
    Ok(())
}
