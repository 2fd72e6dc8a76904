//! A mediation session under a closed network, on both platforms (seed commit 15).
//!
//! Seatbelt counts connecting to a Unix socket, and sending a datagram on one, as
//! `network-outbound`. A profile that blocks the network therefore also cuts the agent off
//! from its session's sockets unless the implementation carves them out: mediated commands
//! would then fail and audited shim runs would go unlogged. On Linux, Landlock does not
//! filter pathname sockets, so the same story passes there for a different reason; the case
//! is one definition registered for each platform.
//!
//! The story: under a profile with `network.block` and one mediated command, the agent
//! (1) calls the mediated `gh`, answered by a `respond` rule over the session's stream
//! socket, (2) runs an audited shim, which reports on the session's datagram socket, and
//! (3) runs the probe to connect to a TCP listener of the suite. Steps 1 and 2 must work;
//! step 3 must be denied with nothing arriving, which shows that the network really was
//! blocked in that very session.

use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::cases::linux::mediation::{respond, s, Kit};
use crate::ensure;
use crate::outcome::{Class, ProbeResult};
use crate::runner::expect_class;
use serde_json::json;
use std::net::TcpListener;

const SPEC: &[&str] = &["MED-SESSION-008"];
const TITLE: &str = "With the network blocked, a mediated command is answered and an audited shim run is logged, while the program's own TCP connect is denied";

/// The case for each platform.
pub fn cases() -> Vec<Case> {
    vec![
        case("linux.mediation.network.session_sockets_reachable_with_the_network_blocked", TITLE, SPEC, story)
            .requires(Requirement::LandlockAbi(4)),
        case("macos.mediation.network.session_sockets_reachable_with_the_network_blocked", TITLE, SPEC, story),
    ]
}

fn story(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["print:real gh\\n"]);
    let tools = cx.fx.dir("tools");
    std::fs::copy(crate::cases::linux::mediation::mediated(cx), tools.join("lister")).map_err(|e| e.to_string())?;
    std::fs::write(tools.join("lister.steps"), "print:listed\\n\nexit:4\n").map_err(|e| e.to_string())?;
    let profile = kit.profile_named(
        "blocked",
        json!({
            "network": { "block": true },
            "mediation": { "commands": [{
                "name": "gh",
                "binary_path": gh,
                "intercept": [respond(&["auth", "status"], "Logged in\n", 0)]
            }] }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listening on loopback: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port().to_string();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", s(&tools));
    let run = kit
        .agent(&profile)
        .env("PATH", &path)
        .flag("--read", &tools)
        .flag("--read-file", &cx.probe)
        .run(&[
            &["run", "gh", "auth", "status"],
            &["run-argv0", "{env:NONO_SHIM_DIR}/gh", "lister", "--all"],
            &["run", s(&cx.probe), "connect-tcp", "127.0.0.1", &port],
        ])?;
    run.finished()?;
    ensure!(
        run.out(0)? == "Logged in\n" && run.exit_code(0)? == 0,
        "the mediated gh must be answered through the session's socket: {}",
        run.op(0)?
    );
    ensure!(
        run.exit_code(1)? == 4 && run.out(1)? == "listed\n",
        "the audited shim must run lister and exit with its 4: {}",
        run.op(1)?
    );
    let lines = run.audit_for("lister");
    ensure!(lines.len() == 1, "the audited run must reach the session's audit socket (one line): {:?}", run.audit);
    let step = run.op(2)?;
    let probe: ProbeResult = serde_json::from_str(run.out(2)?.trim())
        .map_err(|e| format!("the probe printed no result ({e}): {step}"))?;
    expect_class(&probe, Class::Denied, "TCP connect from inside the same session (the network must be blocked)")?;
    ensure!(listener.accept().is_err(), "a TCP connection arrived although the profile blocks the network");
    Ok(())
}
