//! The suite's own shim side of the wire protocol: a correct request (`valid`) and the
//! malformed, truncated, oversized or unauthenticated ones a hostile agent could send.

use super::commands::split_assignments;
use super::{arg, err, ANSWER_TIMEOUT};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

use nono_conformance::kit::wire;
use serde_json::{json, Value};


pub(super) fn connect() -> Result<UnixStream, Value> {
    let path = std::env::var_os("NONO_MEDIATION_SOCKET")
        .ok_or_else(|| json!("NONO_MEDIATION_SOCKET is not set"))?;
    let stream = UnixStream::connect(&path).map_err(err)?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(err)?;
    Ok(stream)
}

pub(super) fn token() -> String {
    std::env::var("NONO_SESSION_TOKEN").unwrap_or_default()
}

/// The request a correct shim would send for `rest` (`NAME=VALUE... CMD ARGS...`).
pub(super) fn request(rest: &[String], token: String) -> Result<Value, Value> {
    let (vars, words) = split_assignments(rest);
    let (command, args) = words
        .split_first()
        .ok_or_else(|| json!("no command given"))?;
    let mut env: BTreeMap<String, String> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    env.extend(vars);
    Ok(json!({
        "command": command,
        "args": args,
        "session_token": token,
        "env": env,
        "pid": std::process::id(),
        "cwd": std::env::current_dir().ok(),
    }))
}

/// One `sendmsg` with one data byte and `fds` as `SCM_RIGHTS` (none: a plain byte).
pub(super) fn send_fds(stream: &UnixStream, fds: &[RawFd]) -> Result<(), Value> {
    wire::send_fds(stream.as_raw_fd(), fds).map_err(|e| json!({"error": format!("sendmsg: {e}")}))
}

/// Reads the server's answer: a frame, or end of stream (`eof`), or nothing in time.
pub(super) fn answer(mut stream: UnixStream) -> Value {
    let mut len = [0u8; 4];
    match read_exact_or_eof(&mut stream, &mut len) {
        Read4::Eof(got) => {
            return json!({"answered": false, "eof": true, "timeout": false, "partial_bytes": got})
        }
        Read4::Timeout => return json!({"answered": false, "eof": false, "timeout": true}),
        Read4::Error(e) => {
            return json!({"answered": false, "eof": true, "timeout": false, "error": e})
        }
        Read4::Full => {}
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > 64 << 20 {
        return json!({"answered": false, "eof": false, "timeout": false, "error": format!("answer claims {len} bytes")});
    }
    let mut body = vec![0u8; len];
    match read_exact_or_eof(&mut stream, &mut body) {
        Read4::Full => {}
        _ => {
            return json!({"answered": false, "eof": true, "timeout": false, "error": "truncated answer"})
        }
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => json!({
            "answered": true,
            "eof": false,
            "timeout": false,
            "stdout": v.get("stdout"),
            "stderr": v.get("stderr"),
            "exit_code": v.get("exit_code"),
            "answer": v,
        }),
        Err(e) => {
            json!({"answered": false, "eof": false, "timeout": false, "error": format!("unreadable answer: {e}")})
        }
    }
}

pub(super) enum Read4 {
    Full,
    Eof(usize),
    Timeout,
    Error(String),
}

pub(super) fn read_exact_or_eof(stream: &mut UnixStream, buf: &mut [u8]) -> Read4 {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Read4::Eof(got),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Read4::Timeout
            }
            Err(e) if e.raw_os_error() == Some(libc::ECONNRESET) => return Read4::Eof(got),
            Err(e) => return Read4::Error(e.to_string()),
        }
    }
    Read4::Full
}

/// Sends `bytes`; a server that already closed makes this fail, which is not an error of
/// the op (the answer, or its absence, is what the case checks).
pub(super) fn send(stream: &mut UnixStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
}

pub(super) fn half_close(stream: &UnixStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

pub(super) const STDIO: [RawFd; 3] = [0, 1, 2];

pub(super) fn wire_op(op: &str, rest: &[String]) -> Result<Value, Value> {
    let mut stream = connect()?;
    match op {
        "valid" => {
            send(
                &mut stream,
                &wire::frame(request(rest, token())?.to_string().as_bytes()),
            );
            send_fds(&stream, &STDIO)?;
        }
        "valid-fds" => {
            // A correct request whose three fds are files of the suite's choosing (IN read,
            // OUT and ERR appended to), in one message in that order: where the command's
            // output lands shows the order in which the server took them.
            let [input, output, error] = [0, 1, 2].map(|i| arg(rest, i));
            let open = |path: &str, write: bool| {
                std::fs::OpenOptions::new()
                    .read(!write)
                    .append(write)
                    .open(path)
                    .map_err(|e| json!(format!("open {path}: {e}")))
            };
            let files = [open(input, false)?, open(output, true)?, open(error, true)?];
            send(&mut stream, &wire::frame(request(rest.get(3..).unwrap_or(&[]), token())?.to_string().as_bytes()));
            send_fds(&stream, &files.each_ref().map(|f| f.as_raw_fd()))?;
        }
        "wrong-token" => {
            // Same length and alphabet as the real token, two bytes different in the same
            // bit: a comparison that accumulates differences with `^` instead of `|` lets
            // the two cancel out and takes this token for the real one.
            let mut wrong: Vec<u8> = token().into_bytes();
            let flippable = |b: u8| b.is_ascii_alphanumeric() && (b ^ 1).is_ascii_alphanumeric();
            let flipped = wrong.iter_mut().filter(|b| flippable(**b)).take(2).map(|b| *b ^= 1).count();
            if flipped == 0 {
                if let Some(first) = wrong.first_mut() {
                    *first = if *first == b'0' { b'1' } else { b'0' };
                }
            }
            let wrong = String::from_utf8(wrong).unwrap_or_default();
            send(
                &mut stream,
                &wire::frame(request(rest, wrong)?.to_string().as_bytes()),
            );
            let _ = send_fds(&stream, &STDIO);
        }
        "sized" => {
            // A valid request padded (in an extra argument-free field of `env`) to exactly BYTES.
            let target: usize = arg(rest, 0)
                .parse()
                .map_err(|_| json!("sized needs a byte count"))?;
            let mut req = request(&rest[1..], token())?;
            req["env"]["NONO_CONFORMANCE_PADDING"] = json!("");
            let base = req.to_string().len();
            let pad = target
                .checked_sub(base)
                .ok_or_else(|| json!(format!("request is already {base} bytes")))?;
            req["env"]["NONO_CONFORMANCE_PADDING"] = json!("x".repeat(pad));
            let body = req.to_string();
            assert_eq!(body.len(), target);
            send(&mut stream, &wire::frame(body.as_bytes()));
            send_fds(&stream, &STDIO)?;
        }
        "oversize" => {
            // Claims 4 GiB and sends a little of it: the server must close without reading
            // (or allocating) the rest.
            send(&mut stream, &u32::MAX.to_be_bytes());
            send(&mut stream, &[b'{'; 4096]);
        }
        "truncated-length" => {
            send(&mut stream, &[0, 0]);
            half_close(&stream);
        }
        "truncated-payload" => {
            let body = request(rest, token())?.to_string();
            let mut bytes = wire::frame(body.as_bytes());
            bytes.truncate(4 + body.len() / 2);
            send(&mut stream, &bytes);
            half_close(&stream);
        }
        "garbage-json" => {
            // A whole, correct request followed by bytes that make the frame not JSON: a
            // server that parses only a prefix of its frame would run the request.
            let mut body = request(rest, token())?.to_string().into_bytes();
            body.extend_from_slice(b" }not json");
            send(&mut stream, &wire::frame(&body));
            let _ = send_fds(&stream, &STDIO);
        }
        "not-a-request" => {
            // JSON with the right token and a command, whose `args` is a string, not a list
            // of strings: a server that coerces or defaults it would run the command.
            let (command, args) = rest.split_first().ok_or_else(|| json!("not-a-request needs a command"))?;
            let body = json!({"command": command, "args": args.join(" "), "session_token": token()});
            send(&mut stream, &wire::frame(body.to_string().as_bytes()));
            let _ = send_fds(&stream, &STDIO);
        }
        "no-fds" => {
            send(
                &mut stream,
                &wire::frame(request(rest, token())?.to_string().as_bytes()),
            );
            send_fds(&stream, &[])?;
            half_close(&stream);
        }
        "frame-only" => {
            send(
                &mut stream,
                &wire::frame(request(rest, token())?.to_string().as_bytes()),
            );
            half_close(&stream);
        }
        "two-fds" => {
            send(
                &mut stream,
                &wire::frame(request(rest, token())?.to_string().as_bytes()),
            );
            send_fds(&stream, &STDIO[..2])?;
            half_close(&stream);
        }
        "connect-only" => {
            drop(stream);
            return Ok(json!({"answered": false, "closed_by_client": true}));
        }
        other => return Err(json!(format!("unknown op {other:?}"))),
    }
    Ok(answer(stream))
}
