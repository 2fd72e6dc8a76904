//! Mediation under Seatbelt with the network closed: blocked (`network.block`) or limited
//! to the IUT's proxy (`network.allow_domain`).
//!
//! The Linux mediation families run on macOS unchanged ([`super::parity`]), all with the
//! network open except `mediation.session.sockets_reachable_with_networking_blocked`. On
//! Linux a closed network changes nothing for the session, since Landlock does not filter
//! pathname Unix sockets; Seatbelt counts `connect(2)` and `sendto(2)` on them as
//! `network-outbound`, which a closed network denies, so a session works there only if
//! the IUT carves its sockets out (MED-SESSION-008, seed commit 15). Each case here runs
//! one session path under both closed modes: a mediated call answered over the stream
//! socket, an audited shim's datagram, and a passthrough's descriptors over `SCM_RIGHTS`.

use crate::case::{Case, CaseResult, Ctx, Family};
use crate::cases::linux::mediation::{respond, s, Kit};
use crate::ensure;
use crate::spec::Class;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The two closed network policies, as profile `network` blocks, with a name for case IDs.
const CLOSED: [(&str, &str); 2] = [("blocked", "network.block"), ("proxy_only", "network.allow_domain")];

fn network(mode: &str) -> Value {
    match mode {
        "blocked" => json!({ "block": true }),
        // A name that never resolves: the proxy is started and the network limited to it,
        // and nothing here ever asks it for a connection.
        _ => json!({ "allow_domain": ["nono-conformance.invalid"] }),
    }
}

/// A profile with the network closed as `mode` says and one mediated command, `gh`.
fn closed_profile(kit: &Kit, mode: &str, gh: &Path, intercept: Value) -> PathBuf {
    kit.profile_named(
        mode,
        json!({
            "network": network(mode),
            "mediation": { "commands": [{ "name": "gh", "binary_path": gh, "intercept": intercept }] }
        }),
    )
}

pub fn cases() -> Vec<Case> {
    let family = Family::new("macos.mediation.network", Class::Mediation);
    let mut out = vec![];
    for (mode, key) in CLOSED {
        out.push(family.case(
            &format!("{mode}_sockets_reachable_and_call_answered"),
            format!("With {key} the agent reaches the session's stream and datagram sockets, and a mediated call is answered"),
            &["MED-SESSION-001", "MED-SESSION-008"],
            move |cx| call_answered(cx, mode),
        ));
        out.push(family.case(
            &format!("{mode}_audited_command_runs_and_is_logged"),
            format!("With {key} an audited shim runs the real program, returns its exit code and its datagram reaches the audit log"),
            &["MED-SHIM-005", "MED-AUDIT-001", "MED-SESSION-008"],
            move |cx| audited_command_logged(cx, mode),
        ));
        out.push(family.case(
            &format!("{mode}_passthrough_streams_both_ways"),
            format!("With {key} a passthrough runs the real program on the caller's descriptors: every byte value comes back unchanged"),
            &["MED-SRV-011", "MED-SESSION-008"],
            move |cx| passthrough_streams(cx, mode),
        ));
    }
    out
}

fn call_answered(cx: &Ctx, mode: &str) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:9"]);
    let profile = closed_profile(&kit, mode, &gh, json!([respond(&["status"], "answered\n", 0)]));
    let run = kit.agent(&profile).run(&[&["inspect"], &["run", "gh", "status"]])?;
    run.finished()?;
    let report = run.op(0)?;
    ensure!(
        report["mediation_socket"]["stream"] == json!(true) && report["audit_socket"]["datagram"] == json!(true),
        "{mode}: the agent must still reach both session sockets: {report}"
    );
    ensure!(
        run.exit_code(1)? == 0 && run.out(1)? == "answered\n",
        "{mode}: a mediated call must be answered by the rule, not the real gh (exit 9): {}",
        run.op(1)?
    );
    Ok(())
}

fn audited_command_logged(cx: &Ctx, mode: &str) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let tools = cx.fx.dir("tools");
    cx.fx.copy_executable("tools/lister", &crate::cases::linux::mediation::mediated(cx));
    std::fs::write(tools.join("lister.steps"), "print:listed\\n\nexit:4\n").map_err(|e| e.to_string())?;
    let profile = closed_profile(&kit, mode, &gh, json!([]));
    let run = kit
        .agent(&profile)
        .env("PATH", format!("{}:/usr/bin:/bin", s(&tools)))
        .flag("--read", &tools)
        .run(&[&["run", "lister", "--all"]])?;
    run.finished()?;
    ensure!(
        run.exit_code(0)? == 4 && run.out(0)? == "listed\n",
        "{mode}: lister run by name must run the real lister and exit with its 4: {}",
        run.op(0)?
    );
    let lines = run.audit_for("lister");
    ensure!(
        lines.len() == 1 && lines[0]["exit_code"] == json!(4) && lines[0]["args"] == json!(["--all"]),
        "{mode}: the audited run must reach the audit log once, with its arguments and exit code: {:?}",
        run.audit
    );
    Ok(())
}

fn passthrough_streams(cx: &Ctx, mode: &str) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["cat"]);
    let profile = closed_profile(&kit, mode, &gh, json!([]));
    let input: Vec<u8> = (0..4 * 256 + 3).map(|i| (i % 256) as u8).rev().collect();
    let run = kit.agent(&profile).stdin(input.clone()).run(&[&["exec", "gh"]])?;
    ensure!(run.code == 0, "{mode}: the run must exit 0: {run}");
    ensure!(
        run.stdout == input,
        "{mode}: {} bytes in, {} bytes out, first difference at {:?}",
        input.len(),
        run.stdout.len(),
        run.stdout.iter().zip(&input).position(|(a, b)| a != b)
    );
    Ok(())
}
