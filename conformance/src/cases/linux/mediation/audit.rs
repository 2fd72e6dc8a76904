//! The audit log (MED-AUDIT-*): one whole JSON line per decided request and per audited
//! shim run, with the session's identity, and without output, secrets or nonces.
//!
//! The log is found from outside where the implementation's manifest says (see
//! [`super::audit_lines`]). Pids are checked against what the suite knows: the IUT it
//! started (`nono_pid`), the agent's own pid (`sandboxed_pid`) and the pid of the shim the
//! agent started (`command_pid`).

use super::{approve, audit_lines, capture, contains_nonce, respond, s, str_of, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::path::PathBuf;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.audit.one_line_per_request_with_the_session_fields",
            "Each decided request adds one line with command, args, ts, exit_code, session_id, session_name, nono_pid (the IUT), sandboxed_pid (the agent) and command_pid (the shim)",
            &["MED-AUDIT-001", "MED-AUDIT-005"],
            one_line_per_request,
        ),
        case(
            "linux.mediation.audit.action_type_and_exit_code_per_path",
            "action_type is respond, capture, approve, passthrough, denied or unknown according to the path, with the exit code the caller got",
            &["MED-AUDIT-001"],
            action_type_per_path,
        ),
        case(
            "linux.mediation.audit.no_output_secret_or_nonce",
            "The log holds no command output, no captured secret and no nonce, even when an argument carried the nonce",
            &["MED-AUDIT-002"],
            no_output_secret_or_nonce,
        ),
        case(
            "linux.mediation.audit.secret_flag_values_redacted",
            "Values after --token, --password, --secret, --api-key, --api-token, --auth and -p are logged as <redacted>, while the command received them",
            &["MED-AUDIT-002"],
            secret_flag_values_redacted,
        ),
        case(
            "linux.mediation.audit.authorization_header_redacted",
            "An Authorization: header value is logged as <redacted>",
            &["MED-AUDIT-002"],
            authorization_header_redacted,
        ),
        case(
            "linux.mediation.audit.url_password_and_nonce_like_text_redacted",
            "A URL's password (with or without a path) and nonce-like text in arguments are redacted in the log; a short nono_ run stays as written",
            &["MED-AUDIT-002"],
            url_password_and_nonce_like_text_redacted,
        ),
        case(
            "linux.mediation.audit.last_request_is_logged_before_the_session_ends",
            "In twelve concurrent sessions whose agent exits as soon as its only request is answered, each request still has its line",
            &["MED-AUDIT-001", "MED-AUDIT-003", "MED-AUDIT-007"],
            last_request_is_logged,
        ),
        case(
            "linux.mediation.audit.concurrent_requests_give_whole_lines",
            "20 concurrent requests with 8 KiB arguments leave exactly 20 lines for them, each one whole JSON object",
            &["MED-AUDIT-003"],
            concurrent_requests_give_whole_lines,
        ),
        case(
            "linux.mediation.audit.audited_shim_run_is_logged",
            "A shim run under a name that is not mediated runs the real binary and adds a line with its command, args, ts, exit code and the session fields (session_id, session_name, nono_pid, sandboxed_pid, command_pid)",
            &["MED-AUDIT-001", "MED-SHIM-005", "MED-AUDIT-007"],
            audited_shim_run_is_logged,
        ),
        case(
            "linux.mediation.audit.every_audited_run_of_a_long_session_is_logged",
            "Thirty audited shim runs, one after another in one session, each finish and each add their own line: the server takes the shims' events while the session runs, not only at its end",
            &["MED-AUDIT-001", "MED-SHIM-005"],
            every_audited_run_of_a_long_session_is_logged,
        ),
        case(
            "linux.mediation.audit.older_shims_datagram_gets_the_session_fields",
            "A datagram without session fields or command_pid (an older shim), claiming a forged session_id, is logged with the session's own fields and its arguments scrubbed",
            &["MED-AUDIT-006"],
            older_shims_datagram,
        ),
        case(
            "linux.mediation.audit.malformed_datagrams_and_a_dead_client_lose_no_line",
            "Datagrams that are not events, and a shim killed while its command runs, neither stop the server nor lose a line: the killed shim's command and a later request are both logged",
            &["MED-AUDIT-008"],
            malformed_datagrams_and_a_dead_client,
        ),
        case(
            "linux.mediation.audit.log_is_owner_only_and_out_of_the_agents_reach",
            "The log file is owner-only, and an agent of a later session can neither read nor write it",
            &["MED-AUDIT-004"],
            log_is_out_of_reach,
        ),
    ]
}

const SECRET: &str = "hunter2-captured";
const PRINTED: &str = "PRINTED-BY-THE-COMMAND";

/// `gh` with one rule per action (status: respond 3, token: capture, deploy: approve) and
/// passthrough otherwise; `locked` refuses the agent.
fn profile(kit: &Kit) -> PathBuf {
    let gh = kit.fake(
        "gh",
        &[
            &format!("print:{SECRET}\\n"),
            &format!("stderr:{PRINTED}\\n"),
            "exit:0",
        ],
    );
    let show = kit.fake(
        "show",
        &["describe", &format!("print:{PRINTED}\\n"), "exit:7"],
    );
    let locked = kit.fake("locked", &["exit:0"]);
    kit.mediation(json!({ "commands": [
        { "name": "gh", "binary_path": gh, "intercept": [
            respond(&["status"], "fine\n", 3),
            capture(&["token"]),
            approve(&["deploy"]),
        ]},
        { "name": "show", "binary_path": show },
        { "name": "locked", "binary_path": locked, "caller_policy": { "agent_allowed": false } },
    ]}))
}

fn one_line_per_request(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let run = kit.agent(&p).run(&[
        &["env"],
        &["run", "gh", "status"],
        &["run", "show", "a", "b"],
    ])?;
    run.finished()?;
    let agent_pid = run.op(0)?["pid"].as_u64();
    let lines: Vec<&Value> = run
        .audit
        .iter()
        .filter(|l| matches!(str_of(l, "command"), Some("gh" | "show")))
        .collect();
    ensure!(
        lines.len() == 2,
        "two requests must give two lines: {:?}",
        run.audit
    );
    let session_id = lines[0]["session_id"].clone();
    ensure!(
        session_id.as_str().is_some_and(|s| !s.is_empty()),
        "session_id must be a non-empty string: {}",
        lines[0]
    );
    for (line, step, command, args) in [
        (lines[0], 1, "gh", json!(["status"])),
        (lines[1], 2, "show", json!(["a", "b"])),
    ] {
        ensure!(
            line["command"] == json!(command) && line["args"] == args,
            "line for {command} {args}: {line}"
        );
        ensure!(
            line["ts"].as_u64().is_some_and(|t| t > 1_600_000_000),
            "ts must be Unix seconds: {line}"
        );
        ensure!(
            line["exit_code"].is_i64(),
            "exit_code must be a number: {line}"
        );
        ensure!(
            line["session_id"] == session_id,
            "session_id must be the same for the whole session: {line}"
        );
        session_fields(&run, line, agent_pid, run.op(step)?["pid"].as_u64())?;
    }
    Ok(())
}

/// The session fields of MED-AUDIT-001 on one line: `session_name` a non-empty string,
/// `nono_pid` the IUT's pid, `sandboxed_pid` the agent's, `command_pid` the shim's.
fn session_fields(run: &AgentRun, line: &Value, agent_pid: Option<u64>, shim_pid: Option<u64>) -> CaseResult {
    ensure!(
        line["session_id"].as_str().is_some_and(|s| !s.is_empty()),
        "session_id must be a non-empty string: {line}"
    );
    ensure!(
        line["session_name"].as_str().is_some_and(|n| !n.is_empty()),
        "session_name must be a non-empty string: {line}"
    );
    ensure!(
        line["nono_pid"].as_u64() == Some(run.iut_pid as u64),
        "nono_pid must be the IUT's pid {}: {line}",
        run.iut_pid
    );
    ensure!(
        agent_pid.is_some() && line["sandboxed_pid"].as_u64() == agent_pid,
        "sandboxed_pid must be the agent's pid {agent_pid:?}: {line}"
    );
    ensure!(
        shim_pid.is_some() && line["command_pid"].as_u64() == shim_pid,
        "command_pid must be the shim's pid {shim_pid:?}: {line}"
    );
    Ok(())
}

fn line_for<'a>(run: &'a AgentRun, command: &str, first_arg: &str) -> Result<&'a Value, String> {
    run.audit
        .iter()
        .find(|l| str_of(l, "command") == Some(command) && l["args"][0] == json!(first_arg))
        .ok_or_else(|| format!("no audit line for {command} {first_arg}: {:?}", run.audit))
}

fn action_type_per_path(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let run = kit.agent(&p).run(&[
        &["run", "gh", "status"],
        &["run", "gh", "token"],
        &["run", "gh", "deploy"],
        &["run", "show", "pass"],
        &["run", "locked", "refused"],
        &["valid", "nono-unmediated-tool", "unknown"],
    ])?;
    run.finished()?;
    let expected = [
        ("gh", "status", "respond", 3),
        ("gh", "token", "capture", 0),
        ("gh", "deploy", "approve", 0),
        ("show", "pass", "passthrough", 7),
        ("locked", "refused", "denied", 126),
        ("nono-unmediated-tool", "unknown", "unknown", 127),
    ];
    for (i, (command, arg, action, code)) in expected.into_iter().enumerate() {
        ensure!(
            run.exit_code(i)? == code,
            "control: {command} {arg} must be answered {code}: {}",
            run.op(i)?
        );
        let line = line_for(&run, command, arg)?;
        ensure!(
            str_of(line, "action_type") == Some(action),
            "{command} {arg}: action_type must be {action}: {line}"
        );
        ensure!(
            line["exit_code"] == json!(code),
            "{command} {arg}: exit_code must be {code}: {line}"
        );
    }
    Ok(())
}

fn no_output_secret_or_nonce(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let run = kit.agent(&p).run(&[
        &["run", "gh", "token"],
        &["run", "show", "{out1}", "x{out1}y"],
        &["run", "gh", "deploy"],
    ])?;
    run.finished()?;
    run.nonce(0, "control: gh token")?;
    ensure!(
        super::args_of(&run.described(1)?) == [SECRET.to_string(), format!("x{SECRET}y")],
        "control: show must receive the secret"
    );
    ensure!(
        run.audit.len() >= 3,
        "three requests must be logged: {:?}",
        run.audit
    );
    for line in &run.audit {
        let text = line.to_string();
        ensure!(
            !text.contains(SECRET),
            "the captured secret is in the log: {text}"
        );
        ensure!(
            !text.contains(PRINTED),
            "command output is in the log: {text}"
        );
        ensure!(!contains_nonce(&text), "a nonce is in the log: {text}");
        ensure!(
            line.get("stdout").is_none() && line.get("stderr").is_none(),
            "a line records output: {text}"
        );
    }
    Ok(())
}

/// Runs `show ARGS` and returns (what show received, the text of its audit line).
fn logged(cx: &Ctx, args: &[&str]) -> Result<(Vec<String>, String), String> {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let mut step = vec!["run", "show"];
    step.extend_from_slice(args);
    let run = kit.agent(&p).run(&[&step])?;
    run.finished()?;
    let received = super::args_of(&run.described(0)?);
    let lines = run.audit_for("show");
    ensure!(
        lines.len() == 1,
        "one line for show expected: {:?}",
        run.audit
    );
    Ok((received, lines[0]["args"].to_string()))
}

fn secret_flag_values_redacted(cx: &Ctx) -> CaseResult {
    let pairs = [
        ("--token", "v-token-1"),
        ("--password", "v-password-2"),
        ("--secret", "v-secret-3"),
        ("--api-key", "v-api-key-4"),
        ("--api-token", "v-api-token-5"),
        ("--auth", "v-auth-6"),
        ("-p", "v-p-7"),
    ];
    let args: Vec<&str> = pairs
        .iter()
        .flat_map(|(f, v)| [*f, *v])
        .chain(["visible-arg"])
        .collect();
    let (received, logged) = logged(cx, &args)?;
    ensure!(
        received == args,
        "control: show must receive the arguments unchanged: {received:?}"
    );
    for (flag, value) in pairs {
        ensure!(
            !logged.contains(value),
            "the value after {flag} is in the log: {logged}"
        );
        ensure!(
            logged.contains(&format!("\"{flag}\"")),
            "the flag {flag} itself should stay: {logged}"
        );
    }
    ensure!(
        logged.matches("<redacted>").count() == pairs.len(),
        "each value must become <redacted>: {logged}"
    );
    ensure!(
        logged.contains("visible-arg"),
        "other arguments stay: {logged}"
    );
    Ok(())
}

fn authorization_header_redacted(cx: &Ctx) -> CaseResult {
    let args = [
        "-H",
        "Authorization: Bearer v-header-8",
        "-H",
        "Accept: text/plain",
    ];
    let (received, logged) = logged(cx, &args)?;
    ensure!(
        received == args,
        "control: show must receive the arguments unchanged: {received:?}"
    );
    ensure!(
        !logged.contains("v-header-8"),
        "the Authorization value is in the log: {logged}"
    );
    // The header keeps its name and scheme: only the credential goes (mediation notes AUD-5).
    ensure!(
        logged.contains("\"Authorization: Bearer <redacted>\""),
        "the Authorization value must become `Authorization: Bearer <redacted>`: {logged}"
    );
    ensure!(
        logged.contains("Accept: text/plain"),
        "other headers stay: {logged}"
    );
    Ok(())
}

fn url_password_and_nonce_like_text_redacted(cx: &Ctx) -> CaseResult {
    let nonce_like = format!("nono_{}", "ab".repeat(32));
    // Two URL shapes: with a path, and with a one-letter user and no path at all, so
    // that the password is found by parsing, not by where it happens to sit.
    let url = "https://someone:v-url-9@example.test/repo.git";
    let bare_url = "https://u:v-url-10@bare.example.test";
    let with_nonce = format!("key={nonce_like}");
    // `nono_` with too few hex digits is not nonce-like and stays as written, also when a
    // nonce-like run follows it in the same argument.
    let short = "ref=nono_cafe";
    let short_then_nonce = format!("nono_beef+{nonce_like}");
    let args = [url, bare_url, with_nonce.as_str(), short, short_then_nonce.as_str()];
    let (received, logged) = logged(cx, &args)?;
    ensure!(
        received == args,
        "control: show must receive the arguments unchanged: {received:?}"
    );
    for password in ["v-url-9", "v-url-10"] {
        ensure!(
            !logged.contains(password),
            "the URL password {password} is in the log: {logged}"
        );
    }
    for host in ["@example.test", "@bare.example.test"] {
        ensure!(
            logged.contains(host),
            "the rest of the URL ({host}) stays: {logged}"
        );
    }
    ensure!(
        !logged.contains(&nonce_like),
        "nonce-like text is in the log: {logged}"
    );
    ensure!(
        logged.contains("\"ref=nono_cafe\"") && logged.contains("\"nono_beef+<redacted>\""),
        "text that is not nonce-like must stay as written, beside a redacted nonce: {logged}"
    );
    Ok(())
}

fn last_request_is_logged(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let p = kit.one_command("gh", &gh, json!([]));
    // Twelve sessions at once: under load a line written only after the answer is the
    // first thing lost when the agent exits straight away.
    let markers: Vec<String> = (0..12).map(|i| format!("session-{i}")).collect();
    let running: Vec<_> = markers
        .iter()
        .map(|m| kit.agent(&p).spawn(&[&["valid", "gh", "last", m]]))
        .collect();
    for run in running {
        let run = run.wait()?;
        run.finished()?;
        ensure!(
            run.answered(0)? && run.exit_code(0)? == 0,
            "control: the request must be answered: {}",
            run.op(0)?
        );
    }
    let lines = audit_lines(cx);
    let missing: Vec<&String> = markers
        .iter()
        .filter(|m| {
            !lines
                .iter()
                .any(|l| l["command"] == json!("gh") && l["args"] == json!(["last", m]))
        })
        .collect();
    ensure!(
        missing.is_empty(),
        "requests answered just before their agent exited have no audit line: {missing:?}"
    );
    Ok(())
}

fn concurrent_requests_give_whole_lines(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let p = kit.one_command("gh", &gh, json!([respond(&["par"], "", 0)]));
    let long = "L".repeat(8192);
    let run = kit
        .agent(&p)
        .run(&[&["parallel", "20", "gh", "par", &long]])?;
    run.finished()?;
    let results = run.parallel_results(0)?;
    ensure!(
        results.len() == 20 && results.iter().all(|r| r["exit_code"] == json!(0)),
        "control: all 20 calls must succeed: {}",
        run.op(0)?
    );
    let broken: Vec<&Value> = run.audit.iter().filter(|l| !l.is_object()).collect();
    ensure!(
        broken.is_empty(),
        "{} audit lines are not whole JSON objects, e.g. {:?}",
        broken.len(),
        broken.first()
    );
    let ours: Vec<&Value> = run
        .audit_for("gh")
        .into_iter()
        .filter(|l| l["args"] == json!(["par", long]))
        .collect();
    ensure!(
        ours.len() == 20,
        "20 concurrent requests must give 20 whole lines, found {}",
        ours.len()
    );
    Ok(())
}

/// A directory holding `lister`, a fake command that prints `listed` and exits 4, and the
/// PATH that finds it first.
fn lister(cx: &Ctx) -> Result<(PathBuf, String), String> {
    let tools = cx.fx.dir("tools");
    std::fs::copy(super::mediated(cx), tools.join("lister")).map_err(|e| e.to_string())?;
    std::fs::write(tools.join("lister.steps"), "print:listed\\n\nexit:4\n")
        .map_err(|e| e.to_string())?;
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", s(&tools));
    Ok((tools, path))
}

fn audited_shim_run_is_logged(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let (tools, path) = lister(cx)?;
    let p = kit.one_command("gh", &gh, json!([]));
    let run = kit
        .agent(&p)
        .env("PATH", &path)
        .flag("--read", &tools)
        .run(&[
            &["env"],
            &["run-argv0", "{env:NONO_SHIM_DIR}/gh", "lister", "--all", "x"],
        ])?;
    run.finished()?;
    run.expect_code(1, 4, "the audited shim must run lister and exit with its 4")?;
    run.expect_out(1, "listed\n", "lister's output must reach the agent")?;
    let lines = run.audit_for("lister");
    ensure!(
        lines.len() == 1,
        "one audit line for lister expected: {:?}",
        run.audit
    );
    ensure!(
        lines[0]["exit_code"] == json!(4) && lines[0]["args"] == json!(["--all", "x"]),
        "the line must carry lister's args and exit code: {}",
        lines[0]
    );
    ensure!(
        lines[0]["ts"].as_u64().is_some_and(|t| t > 1_600_000_000),
        "ts must be Unix seconds: {}",
        lines[0]
    );
    // The shim ran lister itself, so command_pid is the shim's (the process run-argv0 started).
    session_fields(&run, lines[0], run.op(0)?["pid"].as_u64(), run.op(1)?["pid"].as_u64())
}

fn log_is_out_of_reach(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let first = kit.agent(&p).run(&[&["run", "gh", "status"]])?;
    first.finished()?;
    let log = super::audit_files(cx)
        .first()
        .ok_or_else(|| format!("no audit log where the implementation's settings say, under {}", cx.fx.root().display()))?
        .clone();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&log)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode()
        & 0o777;
    ensure!(
        mode & 0o077 == 0,
        "the log {} must be owner-only, has mode {mode:o}",
        log.display()
    );
    let before = std::fs::read(&log).map_err(|e| e.to_string())?;
    let readable = cx.fx.file("data/readable", "granted");
    let run = kit.agent(&p).flag("--read", cx.fx.path("data")).run(&[
        &["read", s(&readable)],
        &["read", s(&log)],
        &["write", s(&log)],
    ])?;
    run.finished()?;
    ensure!(
        run.op(0)?["ok"] == json!(true),
        "control: the agent reads its granted file: {}",
        run.op(0)?
    );
    ensure!(
        run.op(1)?["errno"] == json!("EACCES"),
        "the agent must not read the audit log: {}",
        run.op(1)?
    );
    ensure!(
        run.op(2)?["errno"] == json!("EACCES"),
        "the agent must not write the audit log: {}",
        run.op(2)?
    );
    let after = std::fs::read(&log).map_err(|e| e.to_string())?;
    ensure!(
        after.starts_with(&before),
        "the earlier log content changed"
    );
    Ok(())
}

/// More audited runs than a datagram queue holds by default (`net.unix.max_dgram_qlen`
/// is 10): a server that reads the shims' events only when the session ends leaves the
/// eleventh shim blocked on its send, and the session never ends.
fn every_audited_run_of_a_long_session_is_logged(cx: &Ctx) -> CaseResult {
    const RUNS: usize = 30;
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let (tools, path) = lister(cx)?;
    let p = kit.one_command("gh", &gh, json!([]));
    let markers: Vec<String> = (0..RUNS).map(|i| format!("run-{i}")).collect();
    let steps: Vec<[&str; 4]> = markers
        .iter()
        .map(|m| ["run-argv0", "{env:NONO_SHIM_DIR}/gh", "lister", m.as_str()])
        .collect();
    let steps: Vec<&[&str]> = steps.iter().map(|step| &step[..]).collect();
    let run = kit.agent(&p).env("PATH", &path).flag("--read", &tools).run(&steps)?;
    run.finished()?;
    for i in 0..RUNS {
        run.expect_code(i, 4, "control: each audited shim must run lister and exit with its 4")?;
    }
    let lines = run.audit_for("lister");
    let missing: Vec<&String> = markers
        .iter()
        .filter(|m| lines.iter().filter(|l| l["args"] == json!([m])).count() != 1)
        .collect();
    ensure!(
        missing.is_empty() && lines.len() == RUNS,
        "each of {RUNS} audited runs needs exactly one line; wrong for {missing:?} ({} lines in all)",
        lines.len()
    );
    Ok(())
}

fn older_shims_datagram(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit);
    let old = json!({ "command": "oldtool", "args": ["x", "--token", "s3cret"], "ts": 1_700_000_000u64,
                      "exit_code": 3, "session_id": "forged-session", "nono_pid": 1 });
    let run = kit
        .agent(&p)
        .run(&[&["datagram", &old.to_string()], &["run", "gh", "status"]])?;
    run.finished()?;
    ensure!(run.op(0)?["ok"] != json!(false), "the agent could not send its datagram: {}", run.op(0)?);
    let status = line_for(&run, "gh", "status")?;
    let lines = run.audit_for("oldtool");
    ensure!(lines.len() == 1, "the older shim's datagram must give one line: {:?}", run.audit);
    let line = lines[0];
    ensure!(
        line["exit_code"] == json!(3) && line["ts"] == json!(1_700_000_000u64),
        "the sender's exit_code and ts are kept: {line}"
    );
    ensure!(
        line["args"] == json!(["x", "--token", "<redacted>"]),
        "the sender's args are scrubbed again: {line}"
    );
    ensure!(
        line["session_id"] == status["session_id"] && line["session_id"] != json!("forged-session"),
        "the session_id is the session's own, not the datagram's: {line} (session line {status})"
    );
    ensure!(
        line["nono_pid"].as_u64() == Some(run.iut_pid as u64),
        "nono_pid is the IUT's {}: {line}",
        run.iut_pid
    );
    ensure!(
        line.get("session_name").is_some_and(|n| *n == status["session_name"]),
        "session_name is the session's own: {line}"
    );
    Ok(())
}

fn malformed_datagrams_and_a_dead_client(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let started = cx.fx.dir("gate").join("started");
    let release = cx.fx.dir("gate").join("release");
    let slow = kit.fake(
        "slow",
        &[&format!("touch:{}", s(&started)), &format!("wait-file:{}", s(&release)), "sleep:0.3", "exit:5"],
    );
    let gh = kit.fake("gh", &["exit:0"]);
    let p = kit.mediation(json!({ "commands": [
        { "name": "slow", "binary_path": slow },
        { "name": "gh", "binary_path": gh, "intercept": [respond(&["status"], "fine\n", 0)] },
    ]}));
    let run = kit.agent(&p).flag("--allow", cx.fx.path("gate")).run(&[
        &["datagram", "not an event"],
        &["datagram", r#"{"command": 7}"#],
        &["spawn", "slow", "waiting"],
        &["wait-file", s(&started)],
        &["kill-spawned"],
        &["run", "gh", "status"],
        // Released last: the command finishes 0.3 s after the agent exits, so its line is
        // written while the session ends. An implementation that ends the session without
        // waiting for the request in flight loses it (the reference waits up to 2 s).
        &["write", s(&release)],
    ])?;
    run.finished()?;
    ensure!(
        run.op(4)?["killed"] == json!(1),
        "the agent must have killed its waiting shim: {}",
        run.op(4)?
    );
    ensure!(
        run.exit_code(5)? == 0 && run.out(5)? == "fine\n",
        "the server must still answer after malformed datagrams and a dead client: {}",
        run.op(5)?
    );
    ensure!(
        run.audit.iter().all(|l| l.is_object()),
        "every log line must be a JSON object: {:?}",
        run.audit
    );
    let slow_lines = run.audit_for("slow");
    ensure!(
        slow_lines.len() == 1 && slow_lines[0]["exit_code"] == json!(5),
        "the command of the killed shim must be logged once with its exit code 5: {:?}",
        run.audit
    );
    ensure!(
        run.audit_for("gh").len() == 1,
        "the later request must be logged: {:?}",
        run.audit
    );
    Ok(())
}
