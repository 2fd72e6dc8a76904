//! Supervisor socket operations (`request-*`): the sandboxed client of the capability
//! request protocol in SPEC.md ("Supervisor IPC").

use super::*;

// ---------------------------------------------------------------------------
// Supervisor socket ops: an independent client of the wire format in SPEC.md
// ("Supervisor IPC"). It shares no code with any implementation, so that the
// suite checks an implementation against the statements, not against itself.
// ---------------------------------------------------------------------------

/// The variable naming the inherited supervisor socket's fd number.
pub(crate) const SUPERVISOR_FD_ENV: &str = "NONO_SUPERVISOR_FD";

/// Largest frame payload the protocol allows.
pub(crate) const MAX_FRAME: usize = 65536;

/// A failed op with a message instead of an errno.
pub(crate) fn fail_msg(op: &str, step: &str, msg: impl Into<String>) -> Outcome {
    let mut o = Outcome::ok(op).with("step", step).with("error", msg.into());
    o.ok = false;
    o
}

/// Marks an outcome as failed with an errno at a step.
pub(crate) fn failed(o: Outcome, step: &str, errno: i32) -> Outcome {
    o.failed_with(Some(errno)).with("step", step)
}

pub(crate) fn supervisor_fd(op: &str) -> Result<libc::c_int, Outcome> {
    let v = std::env::var(SUPERVISOR_FD_ENV)
        .map_err(|_| fail_msg(op, "env", format!("{} is not set", SUPERVISOR_FD_ENV)))?;
    v.parse()
        .map_err(|_| fail_msg(op, "env", format!("{}={:?} is not a number", SUPERVISOR_FD_ENV, v)))
}

/// Writes one frame: 4-byte big-endian length, then the payload.
pub(crate) fn send_frame(fd: libc::c_int, payload: &[u8]) -> Result<(), i32> {
    write_all_raw(fd, &wire::frame(payload))
}

pub(crate) fn request_json(id: &str, path: &Path, access: &str) -> Vec<u8> {
    request_json_with_reason(id, path, access, "nono-probe")
}

/// A request whose payload is exactly [`MAX_FRAME`] bytes: the reason is padded.
fn request_json_at_limit(id: &str, path: &Path, access: &str) -> Vec<u8> {
    let unpadded = request_json_with_reason(id, path, access, "").len();
    let padded = request_json_with_reason(id, path, access, &"x".repeat(MAX_FRAME.saturating_sub(unpadded)));
    debug_assert_eq!(padded.len(), MAX_FRAME);
    padded
}

fn request_json_with_reason(id: &str, path: &Path, access: &str, reason: &str) -> Vec<u8> {
    json!({"Request": {
        "request_id": id,
        "path": path.to_string_lossy(),
        "access": access,
        "reason": reason,
        "child_pid": std::process::id(),
        "session_id": "nono-probe",
    }})
    .to_string()
    .into_bytes()
}

pub(crate) fn read_fd_report(op: &str, fd: libc::c_int) -> Outcome {
    match read_all_fd(fd) {
        Ok(data) => {
            let head = &data[..data.len().min(4096)];
            Outcome::ok(op)
                .with("bytes", data.len())
                .with("content", String::from_utf8_lossy(head).into_owned())
        }
        Err(e) => Outcome::fail_at(op, "read", e),
    }
}

/// Receives one `recvmsg` of one byte with room for `room` fds: (bytes, byte, fds).
pub(crate) fn recv_with_fds(sock: libc::c_int, room: usize) -> Result<(usize, u8, Vec<libc::c_int>), (&'static str, i32)> {
    use std::os::fd::IntoRawFd;
    let mut byte = [0u8; 1];
    let got = wire::recv_fds(sock, &mut byte, room).map_err(|e| ("recvmsg", e as i32))?;
    Ok((got.bytes, byte[0], got.fds.into_iter().map(IntoRawFd::into_raw_fd).collect()))
}

/// One answer from the supervisor: its JSON and the fd passed before it, if any.
pub(crate) fn recv_answer(op: &str, sock: libc::c_int) -> Result<(Value, Option<libc::c_int>), Outcome> {
    let (bytes, first, fds) = recv_with_fds(sock, 1).map_err(|(step, e)| Outcome::fail_at(op, step, e))?;
    if bytes == 0 {
        return Err(fail_msg(op, "recv", "the supervisor hung up without answering"));
    }
    let mut prefix = [0u8; 4];
    let fd = fds.first().copied();
    for extra in fds.iter().skip(1) {
        close_raw(*extra);
    }
    let start = if fd.is_some() {
        0
    } else {
        prefix[0] = first;
        1
    };
    let got = read_full_raw(sock, &mut prefix[start..]).map_err(|e| Outcome::fail_at(op, "recv", e))?;
    if got < 4 - start {
        return Err(fail_msg(op, "recv", "the answer ended inside its length"));
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(fail_msg(op, "recv", format!("the answer claims {} bytes", len)));
    }
    let mut payload = vec![0u8; len];
    let got = read_full_raw(sock, &mut payload).map_err(|e| Outcome::fail_at(op, "recv", e))?;
    if got < len {
        return Err(fail_msg(op, "recv", "the answer ended inside its payload"));
    }
    let value: Value = serde_json::from_slice(&payload)
        .map_err(|e| fail_msg(op, "parse", format!("answer is not JSON: {}", e)))?;
    Ok((value, fd))
}

/// (decision, reason, answered request_id) of a `Decision` answer.
pub(crate) fn decision_of(answer: &Value) -> (String, Option<String>, Option<String>) {
    let d = &answer["Decision"];
    let id = d["request_id"].as_str().map(str::to_string);
    match &d["decision"] {
        Value::String(s) if s == "Granted" => ("granted".into(), None, id),
        Value::String(s) if s == "Timeout" => ("timeout".into(), None, id),
        v if v.get("Denied").is_some() => (
            "denied".into(),
            v["Denied"]["reason"].as_str().map(str::to_string),
            id,
        ),
        _ => (format!("unrecognised answer {}", answer), None, id),
    }
}

/// Sends one request and returns the outcome so far (decision fields) and the fd.
pub(crate) fn ask(op: &str, sock: libc::c_int, id: &str, path: &Path, access: &str) -> Result<(Outcome, Option<libc::c_int>), Outcome> {
    ask_with(op, sock, id, &request_json(id, path, access))
}

/// [`ask`] with the request's payload given (its request_id must be `id`).
fn ask_with(op: &str, sock: libc::c_int, id: &str, payload: &[u8]) -> Result<(Outcome, Option<libc::c_int>), Outcome> {
    send_frame(sock, payload).map_err(|e| Outcome::fail_at(op, "send", e))?;
    let (answer, fd) = recv_answer(op, sock)?;
    let (decision, reason, answered) = decision_of(&answer);
    let mut o = Outcome::ok(op)
        .with("request_id", id)
        .with("decision", decision.clone())
        .with("reason", reason.map(Value::String).unwrap_or(Value::Null))
        .with("fd_received", fd.is_some());
    if answered.as_deref() != Some(id) {
        o = fail_msg(op, "answer", format!("answer names request {:?}", answered));
    } else if decision != "granted" {
        o.ok = false;
        o = o.with("step", "decision");
    } else if fd.is_none() {
        o.ok = false;
        o = o.with("step", "fd");
    }
    Ok((o, fd))
}

pub(crate) fn op_request_open(op: &str, id: &str, path: &Path, access: &str, then: &Then) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let (o, fd) = match ask(op, sock, id, path, access) {
        Ok(r) => r,
        Err(o) => return Ok(Done::Report(o)),
    };
    let fd = match fd {
        Some(fd) if o.ok => fd,
        other => {
            if let Some(fd) = other {
                close_raw(fd);
            }
            return Ok(Done::Report(o));
        }
    };
    let outcome = match then {
        Then::Nothing => o,
        Then::Read => match read_all_fd(fd) {
            Ok(data) => o
                .with("bytes", data.len())
                .with("content", String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned()),
            Err(e) => failed(o, "read", e),
        },
        Then::Write(data) => match write_all_raw(fd, data.as_bytes()) {
            Ok(()) => o,
            Err(e) => failed(o, "write", e),
        },
        Then::ExecKeep(command) | Then::ExecCloexec(command) => {
            let flag = if matches!(then, Then::ExecKeep(_)) { 0 } else { libc::FD_CLOEXEC };
            if unsafe { libc::fcntl(fd, libc::F_SETFD, flag) } == -1 {
                failed(o, "fcntl", last_errno())
            } else {
                let args: Vec<String> = command.iter().map(|a| a.replace("{fd}", &fd.to_string())).collect();
                let cargs = args.iter().map(|a| cstr(a)).collect::<Result<Vec<_>, _>>()?;
                let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
                argv.push(std::ptr::null());
                let _ = std::io::stdout().flush();
                unsafe { libc::execv(argv[0], argv.as_ptr()) };
                failed(o, "exec", last_errno())
            }
        }
    };
    close_raw(fd);
    Ok(Done::Report(outcome))
}

pub(crate) fn op_request_replay(op: &str, path: &Path, access: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let (mut decisions, mut reasons, mut fds_received) = (vec![], vec![], vec![]);
    for _ in 0..2 {
        let (o, fd) = match ask(op, sock, "probe-replay", path, access) {
            Ok(r) => r,
            Err(o) => return Ok(Done::Report(o)),
        };
        decisions.push(o.extra.get("decision").cloned().unwrap_or(Value::Null));
        reasons.push(o.extra.get("reason").cloned().unwrap_or(Value::Null));
        fds_received.push(fd.is_some());
        if let Some(fd) = fd {
            close_raw(fd);
        }
    }
    Ok(Done::Report(
        Outcome::ok(op)
            .with("decisions", decisions)
            .with("reasons", reasons)
            .with("fds_received", fds_received),
    ))
}

pub(crate) fn op_request_after_garbage(op: &str, path: &Path, access: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let wrong_type = json!({"Decision": {"request_id": "g1", "decision": "Granted"}}).to_string();
    let bad_access = String::from_utf8_lossy(&request_json("g2", path, "Execute")).into_owned();
    for garbage in [&b"this is not json"[..], wrong_type.as_bytes(), bad_access.as_bytes()] {
        if let Err(e) = send_frame(sock, garbage) {
            return Ok(Done::Report(Outcome::fail_at(op, "send", e)));
        }
    }
    let (o, fd) = match ask(op, sock, "after-garbage", path, access) {
        Ok(r) => r,
        Err(o) => return Ok(Done::Report(o)),
    };
    let Some(fd) = fd.filter(|_| o.ok) else {
        return Ok(Done::Report(o));
    };
    let outcome = match read_all_fd(fd) {
        Ok(data) => o.with("content", String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned()),
        Err(e) => failed(o, "read", e),
    };
    close_raw(fd);
    Ok(Done::Report(outcome))
}

pub(crate) fn op_request_at_limit(op: &str, path: &Path, access: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let payload = request_json_at_limit("probe-at-limit", path, access);
    Ok(Done::Report(match ask_with(op, sock, "probe-at-limit", &payload) {
        Ok((o, fd)) => {
            if let Some(fd) = fd {
                close_raw(fd);
            }
            o.with("payload_bytes", payload.len())
        }
        Err(o) => o.with("payload_bytes", payload.len()),
    }))
}

pub(crate) fn op_request_oversize(op: &str) -> Result<Done, Usage> {
    let sock = match supervisor_fd(op) {
        Ok(fd) => fd,
        Err(o) => return Ok(Done::Report(o)),
    };
    let mut bytes = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&[b'x'; 16]);
    if let Err(e) = write_all_raw(sock, &bytes) {
        return Ok(Done::Report(Outcome::fail_at(op, "send", e)));
    }
    let mut pfd = libc::pollfd { fd: sock, events: libc::POLLIN, revents: 0 };
    if unsafe { libc::poll(&mut pfd, 1, 5000) } <= 0 {
        return Ok(Done::Report(fail_msg(op, "poll", "no answer and no hang-up within 5 s")));
    }
    let mut buf = [0u8; 64];
    Ok(Done::Report(match read_full_raw(sock, &mut buf) {
        Ok(n) => Outcome::ok(op).with("closed", n == 0).with("answer_bytes", n),
        Err(libc::ECONNRESET) => Outcome::ok(op).with("closed", true).with("answer_bytes", 0),
        Err(e) => Outcome::fail_at(op, "recv", e),
    }))
}
