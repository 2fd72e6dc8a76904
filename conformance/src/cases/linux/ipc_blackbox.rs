//! Statements that the reference's library cases used to carry alone, checked through the
//! implementation's own surfaces instead: its mediation server (with the suite playing the
//! shim, so only the IUT's receiving side is judged) and everything the IUT itself prints.
//!
//! * Several fds in one `SCM_RIGHTS` message (IPC-FD-002): the suite's shim sends three
//!   files of its own in one message, in the order stdin, stdout, stderr; a passthrough
//!   copies its stdin to its stdout and writes a marker to its stderr. Where the bytes land
//!   shows, from outside, whether the server took the fds together and in order.
//! * Received fds are close-on-exec (IPC-FD-005): the same message, and the passthrough
//!   lists every descriptor it holds. The three files must be its stdin, stdout and stderr
//!   and nothing else: a server that received them without close-on-exec hands them on a
//!   second time, under their received numbers, to the program it runs.
//! * No secret or whole nonce in the IUT's own diagnostics (TOK-LEAK-001): a session that
//!   captures a secret, promotes its nonce, and provokes the errors an agent can provoke
//!   (an unmediated command, a command that fails) with the nonce in its arguments, with the
//!   usual logging switches on. Neither the IUT's stdout and stderr nor the answers' own
//!   stderr may hold the secret or a whole nonce.

use super::mediation::{capture, contains_nonce, is_nonce, s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::json;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.ipc.blackbox.three_fds_in_one_message_are_taken_in_order",
            "The mediation server takes the three fds of one SCM_RIGHTS message together and in order: a passthrough reads the first and writes its output to the second and its errors to the third",
            // Through the mediation server: the class is mediation (the first statement's).
            &["MED-SRV-011", "IPC-FD-002"],
            three_fds_in_one_message_are_taken_in_order,
        ),
        case(
            "linux.ipc.blackbox.received_fds_reach_the_command_only_as_its_stdio",
            "The three fds the mediation server receives reach the command it runs as its stdin, stdout and stderr, and under no other descriptor number",
            &["MED-SRV-011", "IPC-FD-005"],
            received_fds_reach_the_command_only_as_its_stdio,
        ),
        case(
            "linux.ipc.blackbox.diagnostics_hold_no_secret_or_nonce",
            "With logging turned up, nothing the IUT prints or answers on its own (its stdout and stderr, the stderr of refused and failed requests) holds a captured secret or a whole nonce",
            &["TOK-LEAK-001"],
            diagnostics_hold_no_secret_or_nonce,
        ),
    ]
}

fn three_fds_in_one_message_are_taken_in_order(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["cat", "stderr:written to the third fd\\n"]);
    let profile = kit.one_command("gh", &gh, json!([]));
    let input = cx.fx.file("io/in", "read from the first fd\n");
    let output = cx.fx.file("io/out", "");
    let error = cx.fx.file("io/err", "");
    let run = kit
        .agent(&profile)
        .flag("--allow", cx.fx.dir("io"))
        .run(&[&["valid-fds", s(&input), s(&output), s(&error), "gh", "order"]])?;
    run.finished()?;
    ensure!(
        run.answered(0)? && run.exit_code(0)? == 0,
        "the request must be served and exit 0: {}",
        run.op(0)?
    );
    let read = |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| e.to_string());
    let (out, err) = (read(&output)?, read(&error)?);
    ensure!(
        out == "read from the first fd\n" && err == "written to the third fd\n",
        "the command's stdin, stdout and stderr must be the message's first, second and third fd: \
         second fd got {out:?}, third fd got {err:?}"
    );
    ensure!(
        read(&input)? == "read from the first fd\n",
        "the first fd is stdin, never written to"
    );
    Ok(())
}

fn received_fds_reach_the_command_only_as_its_stdio(cx: &Ctx) -> CaseResult {
    use std::os::unix::fs::MetadataExt;
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["fds"]);
    let profile = kit.one_command("gh", &gh, json!([]));
    let files = [cx.fx.file("io/in", ""), cx.fx.file("io/out", ""), cx.fx.file("io/err", "")];
    let run = kit
        .agent(&profile)
        .flag("--allow", cx.fx.dir("io"))
        .run(&[&["valid-fds", s(&files[0]), s(&files[1]), s(&files[2]), "gh", "fds"]])?;
    run.finished()?;
    ensure!(
        run.answered(0)? && run.exit_code(0)? == 0,
        "the request must be served and exit 0: {}",
        run.op(0)?
    );
    let identity = |p: &std::path::Path| std::fs::metadata(p).map(|m| format!("{}:{}", m.dev(), m.ino())).map_err(|e| e.to_string());
    let passed: Vec<String> = files.iter().map(|f| identity(f)).collect::<Result<_, _>>()?;
    // The command's stdout is the second file: its `fds` line landed there.
    let listing = std::fs::read_to_string(&files[1]).map_err(|e| e.to_string())?;
    let line: serde_json::Value = serde_json::from_str(listing.trim())
        .map_err(|e| format!("the command's stdout (the second fd) holds no fds line ({e}): {listing:?}"))?;
    let fds = line["fds"].as_object().filter(|_| line["ok"] == json!(true)).ok_or_else(|| format!("the command could not list its fds: {line}"))?;
    for (n, file) in passed.iter().enumerate() {
        ensure!(
            fds.get(&n.to_string()) == Some(&json!(file)),
            "control: fd {n} of the command must be the message's fd {n}: {line}"
        );
    }
    let again: Vec<&String> = fds
        .iter()
        .filter(|(n, file)| !["0", "1", "2"].contains(&n.as_str()) && file.as_str().is_some_and(|f| passed.iter().any(|p| p == f)))
        .map(|(n, _)| n)
        .collect();
    ensure!(
        again.is_empty(),
        "received fds reached the command a second time, as fds {again:?} (not close-on-exec in the server): {line}"
    );
    Ok(())
}

const SECRET: &str = "s3cret-value-never-printed";

fn diagnostics_hold_no_secret_or_nonce(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let vault = kit.fake("vault", &[&format!("print:{SECRET}\\n")]);
    let show = kit.fake("show", &["exit:3"]);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "vault", "binary_path": vault, "intercept": [capture(&["token"])] },
        { "name": "show", "binary_path": show },
    ]}));
    // Verbosity switches that Rust programs and nono commonly read; an IUT that reads none
    // of them is judged on its default output.
    let run = kit
        .agent(&profile)
        .env("RUST_LOG", "trace")
        .env("NONO_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .run(&[
            &["run", "vault", "token"],
            &["run", "show", "--token", "{out1}", "x{out1}y"],
            &["valid", "not-mediated", "{out1}"],
            &["valid", "SOME_TOKEN=x{out1}", "show", "{out1}"],
        ])?;
    run.finished()?;
    let nonce = run.out(0)?.trim().to_string();
    ensure!(is_nonce(&nonce), "control: the capture must hand the agent a nonce: {}", run.op(0)?);
    ensure!(
        run.exit_code(1)? == 3,
        "control: show must have run (with the secret promoted) and exited 3: {}",
        run.op(1)?
    );
    ensure!(
        run.exit_code(2)? != 0,
        "control: a command the profile does not mediate must be refused: {}",
        run.op(2)?
    );
    let mut seen = vec![
        ("the IUT's stdout", String::from_utf8_lossy(&run.stdout).into_owned()),
        ("the IUT's stderr", run.stderr.clone()),
    ];
    for step in 1..4 {
        seen.push(("an answer's stderr", run.op(step)?["stderr"].as_str().unwrap_or("").to_string()));
    }
    for (place, text) in seen {
        // The first offending line is enough to say what leaked, and where.
        let leak = text.lines().find(|l| l.contains(SECRET) || contains_nonce(l));
        ensure!(leak.is_none(), "{place} holds the captured secret or a whole nonce: {leak:?}");
    }
    Ok(())
}
