//! The shim on its own (MED-SHIM-*): the suite plays the server.
//!
//! Each case binds its own request socket (and, for audited runs, an audit datagram
//! socket) in its fixture root, points the shim's environment at them and runs the shim
//! through a symlink named like the command, outside any sandbox. The suite's server reads
//! the frame, receives the descriptors with its own `recvmsg`, uses them (reads the shim's
//! stdin through the received fd 0, writes through fds 1 and 2) and answers, or hangs up.
//!
//! The shim is `NONO_SHIM`, else the reference's `nono-shim`; see
//! [`Requirement::ShimUnderTest`] for why these cases skip for another IUT without it.

use super::fake_server::{answer, run_shim, shim_link, text, Server, TOKEN};
use super::{s, Kit};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use crate::kit::expect::expect_gave_up;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    let shim_case = |id: &str,
                     title: &'static str,
                     spec: &'static [&'static str],
                     body: fn(&Ctx) -> CaseResult| {
        case(format!("linux.mediation.shim.{id}"), title, spec, body)
            .requires(Requirement::ShimUnderTest)
    };
    vec![
        shim_case(
            "request_frame_carries_the_call",
            "The shim sends one big-endian length-prefixed JSON frame with command (argv[0]'s last component), args, the token, its whole environment, its pid and its cwd",
            &["MED-SHIM-001", "MED-SHIM-002"],
            request_frame_carries_the_call,
        ),
        shim_case(
            "stdio_travels_in_one_message_in_order",
            "After the frame the shim sends one message with one data byte and exactly its fds 0, 1 and 2, in that order",
            &["MED-SHIM-002"],
            stdio_travels_in_one_message_in_order,
        ),
        shim_case(
            "answer_is_written_and_becomes_the_exit_code",
            "The shim writes the answer's stdout to fd 1 and stderr to fd 2 and exits with its exit code",
            &["MED-SHIM-003"],
            answer_is_written_and_becomes_the_exit_code,
        ),
        shim_case(
            "exit_code_keeps_its_low_8_bits",
            "Answered exit codes 300 and -1 make the shim exit 44 and 255",
            &["MED-SHIM-003"],
            exit_code_keeps_its_low_8_bits,
        ),
        shim_case(
            "does_not_read_its_stdin",
            "A mediated shim leaves its stdin unread: every byte is still in the pipe after it exits",
            &["MED-SHIM-003"],
            does_not_read_its_stdin,
        ),
        shim_case(
            "missing_socket_variable_is_127",
            "Without NONO_MEDIATION_SOCKET the shim exits 127 naming the variable, and connects nowhere",
            &["MED-SHIM-004"],
            |cx: &Ctx| missing_variable(cx, "NONO_MEDIATION_SOCKET"),
        ),
        shim_case(
            "missing_token_variable_is_127",
            "Without NONO_SESSION_TOKEN the shim exits 127 naming the variable, and sends nothing",
            &["MED-SHIM-004"],
            |cx: &Ctx| missing_variable(cx, "NONO_SESSION_TOKEN"),
        ),
        shim_case(
            "connection_failure_is_127",
            "A socket path nobody listens on makes the shim exit 127 with a message",
            &["MED-SHIM-004"],
            connection_failure_is_127,
        ),
        shim_case(
            "hang_up_without_answer_is_127",
            "A server that closes the connection without answering makes the shim exit 127 with a message",
            &["MED-SHIM-004"],
            hang_up_without_answer_is_127,
        ),
        shim_case(
            "unset_command_list_means_mediated",
            "With NONO_MEDIATED_COMMANDS unset every name is mediated",
            &["MED-SHIM-001"],
            unset_command_list_means_mediated,
        ),
        shim_case(
            "unlisted_name_runs_the_real_binary_from_sources",
            "A name not in NONO_MEDIATED_COMMANDS runs the real binary named by its NONO_SHIM_SOURCES_DIR file with the shim's args, stdio, env and cwd, exits with its code and sends one audit datagram",
            &["MED-SHIM-007", "MED-SHIM-001", "MED-SHIM-005"],
            unlisted_name_runs_the_real_binary,
        ),
        shim_case(
            "empty_command_list_means_audited",
            "With NONO_MEDIATED_COMMANDS set but empty the shim runs the real binary itself and never connects",
            &["MED-SHIM-001", "MED-SHIM-005"],
            empty_command_list_means_audited,
        ),
        shim_case(
            "audited_falls_back_to_path_without_itself",
            "Without a sources file the audited shim finds the real binary on PATH, skipping NONO_SHIM_DIR",
            &["MED-SHIM-005"],
            audited_falls_back_to_path,
        ),
        shim_case(
            "audited_without_real_binary_is_127",
            "An audited shim whose command exists nowhere else exits 127 naming the command",
            &["MED-SHIM-005"],
            audited_without_real_binary_is_127,
        ),
    ]
}

fn request_frame_carries_the_call(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let work = cx.fx.dir("work");
    let mut env = server.env(Some("git,gh"));
    env.push(("GH_HOST".into(), "example.test".into()));
    env.push(("WITH_SPACES".into(), "a b  c".into()));
    let handle = server.serve_one(|_, _| Some(answer("", "", 0)));
    let (pid, out) = run_shim(
        &gh,
        &["api", "--paginate", "repos/x", ""],
        &env,
        Stdio::null(),
        &work,
    )?;
    let got = server.received(handle)?;
    ensure!(
        out.status.code() == Some(0),
        "the shim must exit with the answered 0: {:?}, stderr {:?}",
        out.status,
        text(&out.stderr)
    );
    let req = &got.request;
    ensure!(
        req["command"] == json!("gh"),
        "command must be argv[0]'s last component \"gh\": {}",
        req["command"]
    );
    ensure!(
        req["args"] == json!(["api", "--paginate", "repos/x", ""]),
        "args must be argv[1..] as given: {}",
        req["args"]
    );
    ensure!(
        req["session_token"] == json!(TOKEN),
        "session_token must be NONO_SESSION_TOKEN: {}",
        req["session_token"]
    );
    ensure!(
        req["pid"] == json!(pid),
        "pid must be the shim's own ({pid}): {}",
        req["pid"]
    );
    let cwd = work.canonicalize().map_err(|e| e.to_string())?;
    ensure!(
        req["cwd"] == json!(s(&cwd)),
        "cwd must be the shim's ({}): {}",
        cwd.display(),
        req["cwd"]
    );
    let expected: serde_json::Map<String, Value> =
        env.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    ensure!(
        req["env"] == Value::Object(expected.clone()),
        "env must be the shim's whole environment {expected:?}: {}",
        req["env"]
    );
    Ok(())
}

fn stdio_travels_in_one_message_in_order(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let (stdin_read, stdin_write) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    let mut writer = std::fs::File::from(stdin_write);
    writer
        .write_all(b"bytes for fd 0")
        .map_err(|e| e.to_string())?;
    drop(writer);
    let (tx, rx) = mpsc::channel();
    let handle = server.serve_one(move |_, fds| {
        let mut seen = vec![];
        if fds.len() == 3 {
            let mut fd0 = std::fs::File::from(fds[0].try_clone().expect("dup fd 0"));
            let _ = fd0.read_to_end(&mut seen);
            let _ = std::fs::File::from(fds[1].try_clone().expect("dup fd 1"))
                .write_all(b"through fd 1\n");
            let _ = std::fs::File::from(fds[2].try_clone().expect("dup fd 2"))
                .write_all(b"through fd 2\n");
        }
        let _ = tx.send(seen);
        Some(answer("answer out\n", "answer err\n", 0))
    });
    let out = server.run_shim(cx, &gh, &["status"], Some("gh"), Stdio::from(stdin_read))?;
    let got = server.received(handle)?;
    let seen = rx.recv().unwrap_or_default();
    ensure!(
        got.data_bytes == 1,
        "the descriptor message must carry exactly one data byte, carried {}",
        got.data_bytes
    );
    ensure!(
        got.fd_count == 3 && got.cmsg_count == 1,
        "one SCM_RIGHTS message with exactly 3 fds expected; got {} fds in {} control messages",
        got.fd_count,
        got.cmsg_count
    );
    ensure!(
        seen == b"bytes for fd 0",
        "received fd 0 must be the shim's stdin: read {:?}",
        text(&seen)
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    ensure!(
        stdout.contains("through fd 1"),
        "received fd 1 must be the shim's stdout: {stdout:?}"
    );
    ensure!(
        stderr.contains("through fd 2"),
        "received fd 2 must be the shim's stderr: {stderr:?}"
    );
    Ok(())
}

fn answer_is_written_and_becomes_the_exit_code(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let handle =
        server.serve_one(|_, _| Some(answer("out: \u{e9}\u{2713}\n", "err: careful\n", 7)));
    let out = server.run_shim(cx, &gh, &["x"], Some("gh"), Stdio::null())?;
    server.received(handle)?;
    ensure!(
        out.status.code() == Some(7),
        "the shim must exit with the answered 7: {:?}",
        out.status
    );
    ensure!(
        text(&out.stdout) == "out: \u{e9}\u{2713}\n",
        "stdout must be the answer's, exactly: {:?}",
        text(&out.stdout)
    );
    ensure!(
        text(&out.stderr) == "err: careful\n",
        "stderr must be the answer's, exactly: {:?}",
        text(&out.stderr)
    );
    Ok(())
}

fn exit_code_keeps_its_low_8_bits(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    for (answered, expected) in [(300, 44), (-1, 255), (256, 0)] {
        let handle = server.serve_one(move |_, _| Some(answer("", "", answered)));
        let out = server.run_shim(cx, &gh, &["x"], Some("gh"), Stdio::null())?;
        server.received(handle)?;
        ensure!(
            out.status.code() == Some(expected),
            "answered {answered}: the shim must exit {expected}, exited {:?}",
            out.status
        );
    }
    Ok(())
}

fn does_not_read_its_stdin(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let (stdin_read, stdin_write) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    let keep = stdin_read.try_clone().map_err(|e| e.to_string())?;
    let mut writer = std::fs::File::from(stdin_write);
    writer
        .write_all(b"left for the real command")
        .map_err(|e| e.to_string())?;
    drop(writer);
    let handle = server.serve_one(|_, _| Some(answer("answered\n", "", 0)));
    let out = server.run_shim(cx, &gh, &["x"], Some("gh"), Stdio::from(stdin_read))?;
    server.received(handle)?;
    ensure!(
        out.status.code() == Some(0) && text(&out.stdout) == "answered\n",
        "control: the shim must answer: {out:?}"
    );
    let mut left = vec![];
    std::fs::File::from(keep)
        .read_to_end(&mut left)
        .map_err(|e| e.to_string())?;
    ensure!(
        left == b"left for the real command",
        "the shim consumed its stdin; left in the pipe: {:?}",
        text(&left)
    );
    Ok(())
}

fn missing_variable(cx: &Ctx, name: &str) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let env: Vec<_> = server
        .env(Some("gh"))
        .into_iter()
        .filter(|(k, _)| k != name)
        .collect();
    let (_, out) = run_shim(&gh, &["x"], &env, Stdio::null(), &cx.fx.dir("work"))?;
    expect_gave_up(&out, Some(name), &format!("without {name}"))?;
    if name == "NONO_SESSION_TOKEN" {
        // It may connect, but it must not send a request without a token.
        if let Ok((mut stream, _)) = server.listener.accept() {
            stream.set_nonblocking(false).ok();
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .ok();
            let mut buf = [0u8; 4];
            ensure!(
                stream.read(&mut buf).unwrap_or(0) == 0,
                "the shim sent a request without a token"
            );
        }
    } else {
        ensure!(
            !server.was_contacted(),
            "the shim connected somewhere without {name}"
        );
    }
    // Control: with every variable set, the same shim is answered.
    let handle = server.serve_one(|_, _| Some(answer("", "", 0)));
    let out = server.run_shim(cx, &gh, &["x"], Some("gh"), Stdio::null())?;
    server.received(handle)?;
    ensure!(
        out.status.code() == Some(0),
        "control: with {name} set the shim must exit 0: {:?}",
        out.status
    );
    Ok(())
}

fn connection_failure_is_127(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let mut env = server.env(Some("gh"));
    for (k, v) in env.iter_mut() {
        if k == "NONO_MEDIATION_SOCKET" {
            *v = s(&cx.fx.path("server/nobody-listens.sock")).into();
        }
    }
    let (_, out) = run_shim(&gh, &["x"], &env, Stdio::null(), &cx.fx.dir("work"))?;
    expect_gave_up(&out, None, "a failed connection")?;
    Ok(())
}

fn hang_up_without_answer_is_127(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let gh = shim_link(cx, "gh")?;
    let handle = server.serve_one(|_, _| None);
    let out = server.run_shim(cx, &gh, &["x"], Some("gh"), Stdio::null())?;
    server.received(handle)?;
    expect_gave_up(&out, None, "a hang-up without an answer")?;
    Ok(())
}

fn unset_command_list_means_mediated(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let tool = shim_link(cx, "anything-at-all")?;
    let handle = server.serve_one(|_, _| Some(answer("mediated\n", "", 0)));
    let out = server.run_shim(cx, &tool, &["x"], None, Stdio::null())?;
    let got = server.received(handle)?;
    ensure!(
        got.request["command"] == json!("anything-at-all"),
        "the request must name the command: {}",
        got.request
    );
    ensure!(
        text(&out.stdout) == "mediated\n",
        "the shim must print the answer: {out:?}"
    );
    Ok(())
}

/// A real binary for audited runs: describes itself and exits 5.
fn real_binary(cx: &Ctx, name: &str) -> PathBuf {
    Kit::new(cx).fake(
        name,
        &[
            "describe",
            "print:real ran\\n",
            "stderr:real stderr\\n",
            "exit:5",
        ],
    )
}

/// The session environment of an audited shim for `name`: the fake server's variables
/// with `mediated` as NONO_MEDIATED_COMMANDS, NONO_SHIM_DIR, and a NONO_SHIM_SOURCES_DIR
/// whose file for `name` names `real`.
fn audited_env(cx: &Ctx, server: &Server, mediated: &str, name: &str, real: &Path) -> Vec<(String, String)> {
    let sources = cx.fx.dir("server/sources");
    std::fs::write(sources.join(name), format!("{}\n", real.display()))
        .expect("writing a sources file");
    let mut env = server.env(Some(mediated));
    env.push(("NONO_SHIM_SOURCES_DIR".into(), s(&sources).into()));
    env.push(("NONO_SHIM_DIR".into(), s(&cx.fx.path("shims")).into()));
    env
}

fn check_audited_run(
    out: &Output,
    work: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> CaseResult {
    ensure!(
        out.status.code() == Some(5),
        "the audited shim must exit with the real binary's 5: {:?}, stderr {:?}",
        out.status,
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    ensure!(
        stdout.contains("real ran"),
        "the real binary's stdout must reach the shim's: {stdout:?}"
    );
    ensure!(
        text(&out.stderr).contains("real stderr"),
        "the real binary's stderr must reach the shim's: {:?}",
        text(&out.stderr)
    );
    let described: Value = stdout
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("the real binary did not describe itself: {stdout:?}"))?;
    ensure!(
        super::args_of(&described) == args,
        "args must pass unchanged: {}",
        described["argv"]
    );
    let cwd = work.canonicalize().map_err(|e| e.to_string())?;
    ensure!(
        described["cwd"] == json!(s(&cwd)),
        "cwd must be the shim's: {}",
        described["cwd"]
    );
    let seen = super::env_in(&described);
    for (k, v) in env {
        ensure!(
            seen.get(k) == Some(&json!(v)),
            "the real binary must get the shim's {k}={v:?}: {:?}",
            seen.get(k)
        );
    }
    Ok(())
}

fn unlisted_name_runs_the_real_binary(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let real = real_binary(cx, "jq");
    let jq = shim_link(cx, "jq")?;
    let mut env = audited_env(cx, &server, "gh,git", "jq", &real);
    env.push(("JQ_COLORS".into(), "1;30".into()));
    let work = cx.fx.dir("work");
    let (_, out) = run_shim(&jq, &["-r", ".a b", ""], &env, Stdio::null(), &work)?;
    check_audited_run(&out, &work, &env, &["-r", ".a b", ""])?;
    ensure!(
        !server.was_contacted(),
        "an audited shim must not send a mediation request"
    );
    let datagrams = server.datagrams();
    ensure!(
        datagrams.len() == 1,
        "exactly one audit datagram expected, got {datagrams:?}"
    );
    let d = &datagrams[0];
    ensure!(
        d["command"] == json!("jq") && d["exit_code"] == json!(5),
        "the audit datagram must name jq and its exit code 5: {d}"
    );
    Ok(())
}

fn empty_command_list_means_audited(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let real = real_binary(cx, "gh");
    let gh = shim_link(cx, "gh")?;
    let env = audited_env(cx, &server, "", "gh", &real);
    let work = cx.fx.dir("work");
    let (_, out) = run_shim(&gh, &["status"], &env, Stdio::null(), &work)?;
    check_audited_run(&out, &work, &env, &["status"])?;
    ensure!(
        !server.was_contacted(),
        "with an empty NONO_MEDIATED_COMMANDS the shim must not send a request"
    );
    Ok(())
}

fn audited_falls_back_to_path(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let real = real_binary(cx, "jq");
    let jq = shim_link(cx, "jq")?;
    let shims = cx.fx.path("shims");
    let empty_sources = cx.fx.dir("server/empty-sources");
    let mut env: Vec<_> = server
        .env(Some("gh"))
        .into_iter()
        .filter(|(k, _)| k != "PATH")
        .collect();
    env.push((
        "PATH".into(),
        format!(
            "{}:{}:/usr/bin:/bin",
            s(&shims),
            real.parent().map(s).unwrap_or("")
        ),
    ));
    env.push(("NONO_SHIM_DIR".into(), s(&shims).into()));
    env.push(("NONO_SHIM_SOURCES_DIR".into(), s(&empty_sources).into()));
    let work = cx.fx.dir("work");
    let (_, out) = run_shim(&jq, &["."], &env, Stdio::null(), &work)?;
    check_audited_run(&out, &work, &env, &["."])
}

fn audited_without_real_binary_is_127(cx: &Ctx) -> CaseResult {
    let server = Server::start(cx);
    let name = "nono-conformance-nowhere";
    let tool = shim_link(cx, name)?;
    let shims = cx.fx.path("shims");
    let mut env: Vec<_> = server
        .env(Some("gh"))
        .into_iter()
        .filter(|(k, _)| k != "PATH")
        .collect();
    env.push(("PATH".into(), format!("{}:/usr/bin:/bin", s(&shims))));
    env.push(("NONO_SHIM_DIR".into(), s(&shims).into()));
    let (_, out) = run_shim(&tool, &["x"], &env, Stdio::null(), &cx.fx.dir("work"))?;
    expect_gave_up(&out, Some(name), "no real binary")?;
    ensure!(
        !server.was_contacted(),
        "the audited shim must not send a request"
    );
    Ok(())
}
