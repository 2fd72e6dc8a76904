//! `nono-mediation-client`: the agent that mediation cases run inside the sandbox.
//!
//! Usage: `nono-mediation-client [--report FILE] STEP [:: STEP]...`, each step
//! `OP ARGS...`. Every step reports one JSON line `{"op":...}`, except `exec`, which
//! replaces the process. With `--report` the lines are appended to FILE, one `write` each,
//! and stdout is left to the commands the agent runs: the suite never has to pick its
//! reports out of the IUT's stdout, where an implementation may log. Without it they go
//! to stdout (flushed before the next step starts).
//!
//! It has two sides:
//!
//! * **An ordinary agent**: it runs commands the way a program in the sandbox does, through
//!   its `PATH`, so the IUT's shims, server and real binaries are all exercised (`run`,
//!   `exec`, `parallel`, `run-argv0`), and it reports what it sees (`env`, `inspect`, file
//!   operations).
//! * **The suite's own shim** (an independent implementation of the wire protocol, written
//!   with `nix`/`libc` here, sharing no code with the reference): `valid` sends a correct
//!   request, and the other wire ops send the malformed, truncated, oversized or
//!   unauthenticated requests a hostile agent could send. The server's answer, or the
//!   absence of one, is reported as `{"op", "answered", "eof", "timeout", "stdout",
//!   "stderr", "exit_code"}`.
//!
//! Arguments may refer to earlier results: `{outN}` is step N's stdout (1-based) with
//! surrounding whitespace trimmed, `{outN:hex}` what follows `nono_` in it (and the
//! near-nonce forms `{outN:upper}`, `{outN:one-upper}`, `{outN:short}`), `{file:PATH}`
//! the trimmed content of a file, and `{env:NAME}` this process's variable NAME.
//! Leading `NAME=VALUE` words of `run`, `spawn`, `run-argv0`, `valid` and `parallel` set variables for that
//! request only (commands never contain `=`).
//!
//! Ops: `env`, `inspect`, `cd DIR`, `run CMD ARGS`, `exec CMD ARGS`, `parallel N CMD ARGS`,
//! `spawn CMD ARGS` (started, not awaited), `wait-spawned` and `kill-spawned`, `run-argv0 PATH ARGV0 ARGS`, `read PATH`, `write PATH`, `readdir PATH`, `wait-file PATH`, `kill-self SIG`,
//! `exit N`, `datagram JSON` (one datagram to `NONO_AUDIT_SOCKET`, as an audit shim
//! sends), and the wire ops `valid`, `valid-fds IN OUT ERR CMD ARGS`, `wrong-token`, `sized BYTES`, `oversize`,
//! `truncated-length`, `truncated-payload`, `garbage-json`, `not-a-request`, `no-fds`,
//! `frame-only`, `two-fds`, `connect-only`, `hold`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nono_conformance::kit::wire;
use serde_json::{json, Map, Value};

/// How long a wire op waits for an answer before reporting `timeout`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut report: Box<dyn Write> = Box::new(std::io::stdout());
    if args.first().map(String::as_str) == Some("--report") && args.len() >= 2 {
        let file = std::fs::OpenOptions::new().append(true).open(&args[1]).unwrap_or_else(|e| {
            eprintln!("nono-mediation-client: cannot open the report file {}: {e}", args[1]);
            std::process::exit(2);
        });
        report = Box::new(file);
        args.drain(..2);
    }
    if args.is_empty() {
        eprintln!("usage: nono-mediation-client [--report FILE] OP ARGS... [:: OP ARGS...]...");
        std::process::exit(2);
    }
    let mut client = Client {
        outputs: Vec::new(),
        held: Vec::new(),
        spawned: Vec::new(),
    };
    for step in args.split(|a| a == "::") {
        let step: Vec<String> = step.iter().map(|a| client.substitute(a)).collect();
        let Some((op, rest)) = step.split_first() else {
            continue;
        };
        let result = client.step(op, rest);
        let stdout = result
            .get("stdout")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        client.outputs.push(stdout);
        // One write per line, so a line is never split, whatever else writes nearby.
        let _ = report.write_all(format!("{result}\n").as_bytes());
        let _ = report.flush();
    }
}

struct Client {
    /// Each finished step's stdout, for `{outN}`.
    outputs: Vec<String>,
    /// Connections kept open on purpose (`hold`).
    held: Vec<UnixStream>,
    /// Commands started by `spawn`, collected by `wait-spawned`.
    spawned: Vec<std::process::Child>,
}

impl Client {
    fn substitute(&self, arg: &str) -> String {
        let mut out = arg.to_string();
        for (i, text) in self.outputs.iter().enumerate().rev() {
            let hex = text.split_once("nono_").map(|(_, rest)| rest).unwrap_or("");
            // Near-nonces built from a real one (the nonce-rewrite vectors' forms).
            let one_upper = match hex.find(|c: char| c.is_ascii_lowercase()) {
                Some(at) => format!("{}{}{}", &hex[..at], hex[at..at + 1].to_ascii_uppercase(), &hex[at + 1..]),
                None => hex.to_string(),
            };
            let forms = [
                ("hex", hex.to_string()),
                ("upper", format!("nono_{}", hex.to_ascii_uppercase())),
                ("one-upper", format!("nono_{one_upper}")),
                ("short", format!("nono_{}", &hex[..hex.len().saturating_sub(1)])),
            ];
            for (form, value) in forms {
                out = out.replace(&format!("{{out{}:{form}}}", i + 1), &value);
            }
            out = out.replace(&format!("{{out{}}}", i + 1), text);
        }
        while let Some(start) = out.find("{file:") {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let path = &out[start + 6..start + len];
            let value = std::fs::read_to_string(path)
                .unwrap_or_default()
                .trim()
                .to_string();
            out.replace_range(start..start + len + 1, &value);
        }
        while let Some(start) = out.find("{env:") {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let name = &out[start + 5..start + len];
            let value = std::env::var(name).unwrap_or_default();
            out.replace_range(start..start + len + 1, &value);
        }
        out
    }

    fn step(&mut self, op: &str, rest: &[String]) -> Value {
        let result = match op {
            "env" => Ok(env_report()),
            "inspect" => Ok(inspect()),
            "cd" => std::env::set_current_dir(arg(rest, 0)).map(|_| json!({})).map_err(err),
            "run" => run(rest),
            "exec" => exec(rest),
            "parallel" => parallel(rest),
            "run-argv0" => run_argv0(rest),
            "spawn" => command_for(rest).and_then(|mut cmd| {
                let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(err)?;
                let pid = child.id();
                self.spawned.push(child);
                Ok(json!({"pid": pid}))
            }),
            "wait-spawned" => {
                let results: Vec<Value> = self
                    .spawned
                    .drain(..)
                    .map(|c| {
                        let pid = c.id();
                        c.wait_with_output().map(|o| finished(pid, o)).unwrap_or_else(err)
                    })
                    .collect();
                Ok(json!({"results": results}))
            }
            "read" => std::fs::read_to_string(arg(rest, 0)).map(|c| json!({"content": c})).map_err(err),
            "write" => std::fs::write(arg(rest, 0), "written by the agent\n").map(|_| json!({})).map_err(err),
            "readdir" => std::fs::read_dir(arg(rest, 0))
                .map(|d| json!({"entries": d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect::<Vec<_>>()}))
                .map_err(err),
            "kill-spawned" => {
                // A client that dies before its answer: every spawned command, SIGKILLed.
                for child in &mut self.spawned {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let killed = self.spawned.len();
                self.spawned.clear();
                Ok(json!({"killed": killed}))
            }
            "kill-self" => {
                let sig: i32 = arg(rest, 0).parse().unwrap_or(libc::SIGKILL);
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
                Err(json!({"error": "still alive after the signal"}))
            }
            "exit" => std::process::exit(arg(rest, 0).parse().unwrap_or(2)),
            "datagram" => match std::env::var("NONO_AUDIT_SOCKET") {
                Ok(target) => UnixDatagram::unbound()
                    .and_then(|d| d.send_to(arg(rest, 0).as_bytes(), &target))
                    .map(|n| json!({"sent": n}))
                    .map_err(err),
                Err(_) => Err(json!({"error": "NONO_AUDIT_SOCKET not set"})),
            },
            "wait-file" => {
                let deadline = std::time::Instant::now() + Duration::from_secs(20);
                let path = arg(rest, 0);
                while std::fs::symlink_metadata(path).is_err() && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::fs::symlink_metadata(path).map(|_| json!({})).map_err(err)
            }
            "hold" => connect().map(|s| {
                self.held.push(s);
                json!({})
            }),
            wire => wire_op(wire, rest),
        };
        let mut obj = match result {
            Ok(Value::Object(m)) => {
                let mut m = m;
                m.entry("ok").or_insert(json!(true));
                m
            }
            Ok(other) => Map::from_iter([
                ("ok".to_string(), json!(true)),
                ("value".to_string(), other),
            ]),
            Err(Value::Object(m)) => {
                let mut m = m;
                m.insert("ok".into(), json!(false));
                m
            }
            Err(other) => Map::from_iter([
                ("ok".to_string(), json!(false)),
                ("error".to_string(), other),
            ]),
        };
        obj.insert("op".into(), json!(op));
        Value::Object(obj)
    }
}

fn arg(rest: &[String], i: usize) -> &str {
    rest.get(i).map(String::as_str).unwrap_or("")
}

fn err(e: std::io::Error) -> Value {
    let name = match e.raw_os_error() {
        Some(libc::EACCES) => "EACCES".to_string(),
        Some(libc::EPERM) => "EPERM".to_string(),
        Some(libc::ENOENT) => "ENOENT".to_string(),
        Some(libc::ECONNREFUSED) => "ECONNREFUSED".to_string(),
        Some(n) => format!("errno {n}"),
        None => e.to_string(),
    };
    json!({"errno": name, "error": e.to_string()})
}

fn env_map() -> Map<String, Value> {
    std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), json!(v.to_string_lossy())))
        .collect()
}

fn env_report() -> Value {
    json!({
        "env": env_map(),
        "pid": std::process::id(),
        "ppid": std::os::unix::process::parent_id(),
        "cwd": std::env::current_dir().ok(),
    })
}

/// What the session looks like from inside: its directory, shims, sockets and sources.
fn inspect() -> Value {
    let var = |n: &str| std::env::var_os(n).map(PathBuf::from);
    let shim_dir = var("NONO_SHIM_DIR");
    let session_dir = shim_dir
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    };
    let mut shims = Map::new();
    if let Some(dir) = &shim_dir {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let meta = std::fs::metadata(&path).ok();
            shims.insert(
                entry.file_name().to_string_lossy().into_owned(),
                json!({
                    "is_symlink": entry.file_type().map(|t| t.is_symlink()).unwrap_or(false),
                    "executable": meta.as_ref().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0),
                    "target": std::fs::canonicalize(&path).ok(),
                    "dev_ino": meta.map(|m| vec![m.dev(), m.ino()]),
                }),
            );
        }
    }
    let mut sources = Map::new();
    if let Some(dir) = var("NONO_SHIM_SOURCES_DIR") {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let content = std::fs::read_to_string(entry.path()).ok();
            sources.insert(
                entry.file_name().to_string_lossy().into_owned(),
                json!(content),
            );
        }
    }
    json!({
        "session_dir": session_dir,
        "session_dir_mode": session_dir.as_deref().and_then(mode),
        "shims": shims,
        "sources": sources,
        "mediation_socket": var("NONO_MEDIATION_SOCKET").map(|p| socket_kind(&p)),
        "audit_socket": var("NONO_AUDIT_SOCKET").map(|p| socket_kind(&p)),
    })
}

/// Whether `path` is a socket, and which kinds of connection it accepts.
fn socket_kind(path: &Path) -> Value {
    let is_socket = std::fs::metadata(path)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false);
    let stream = UnixStream::connect(path).is_ok();
    let datagram = UnixDatagram::unbound()
        .and_then(|d| d.connect(path))
        .is_ok();
    json!({"is_socket": is_socket, "stream": stream, "datagram": datagram})
}

/// Splits leading `NAME=VALUE` words from a command line.
fn split_assignments(rest: &[String]) -> (Vec<(String, String)>, &[String]) {
    let n = rest.iter().take_while(|a| a.contains('=')).count();
    let vars = rest[..n]
        .iter()
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (vars, &rest[n..])
}

/// The first executable `name` on this process's `PATH`, the way a shell finds a command.
fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

fn command_for(rest: &[String]) -> Result<Command, Value> {
    let (vars, words) = split_assignments(rest);
    let (name, args) = words
        .split_first()
        .ok_or_else(|| json!("no command given"))?;
    let program = which(name)
        .ok_or_else(|| json!({"error": format!("{name}: not found on PATH"), "errno": "ENOENT"}))?;
    let mut cmd = Command::new(program);
    cmd.arg0(name).args(args).envs(vars);
    Ok(cmd)
}

fn finished(pid: u32, out: std::process::Output) -> Value {
    json!({
        "pid": pid,
        "stdout": String::from_utf8_lossy(&out.stdout),
        "stderr": String::from_utf8_lossy(&out.stderr),
        "exit_code": out.status.code(),
        "signal": out.status.signal(),
    })
}

/// Runs `cmd` with its output collected, and reports how it finished.
fn collected(cmd: &mut Command) -> Result<Value, Value> {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(err)?;
    let pid = child.id();
    child.wait_with_output().map(|out| finished(pid, out)).map_err(err)
}

fn run(rest: &[String]) -> Result<Value, Value> {
    collected(&mut command_for(rest)?)
}

fn exec(rest: &[String]) -> Result<Value, Value> {
    let mut cmd = command_for(rest)?;
    let _ = std::io::stdout().flush();
    Err(err(cmd.exec()))
}

fn parallel(rest: &[String]) -> Result<Value, Value> {
    let n: usize = arg(rest, 0)
        .parse()
        .map_err(|_| json!("parallel needs a count"))?;
    let mut children = Vec::new();
    for _ in 0..n {
        let mut cmd = command_for(&rest[1..])?;
        children.push(
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(err)?,
        );
    }
    let results: Vec<Value> = children
        .into_iter()
        .map(|c| {
            let pid = c.id();
            c.wait_with_output()
                .map(|o| finished(pid, o))
                .unwrap_or_else(err)
        })
        .collect();
    Ok(json!({"results": results}))
}

fn run_argv0(rest: &[String]) -> Result<Value, Value> {
    let (vars, rest) = split_assignments(rest);
    let (program, argv0) = (arg(rest, 0), arg(rest, 1));
    collected(Command::new(program).arg0(argv0).args(rest.iter().skip(2)).envs(vars))
}

// ---- The suite's own shim side of the wire protocol ----

fn connect() -> Result<UnixStream, Value> {
    let path = std::env::var_os("NONO_MEDIATION_SOCKET")
        .ok_or_else(|| json!("NONO_MEDIATION_SOCKET is not set"))?;
    let stream = UnixStream::connect(&path).map_err(err)?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(err)?;
    Ok(stream)
}

fn token() -> String {
    std::env::var("NONO_SESSION_TOKEN").unwrap_or_default()
}

/// The request a correct shim would send for `rest` (`NAME=VALUE... CMD ARGS...`).
fn request(rest: &[String], token: String) -> Result<Value, Value> {
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
fn send_fds(stream: &UnixStream, fds: &[RawFd]) -> Result<(), Value> {
    wire::send_fds(stream.as_raw_fd(), fds).map_err(|e| json!({"error": format!("sendmsg: {e}")}))
}

/// Reads the server's answer: a frame, or end of stream (`eof`), or nothing in time.
fn answer(mut stream: UnixStream) -> Value {
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

enum Read4 {
    Full,
    Eof(usize),
    Timeout,
    Error(String),
}

fn read_exact_or_eof(stream: &mut UnixStream, buf: &mut [u8]) -> Read4 {
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
fn send(stream: &mut UnixStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
}

fn half_close(stream: &UnixStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

const STDIO: [RawFd; 3] = [0, 1, 2];

fn wire_op(op: &str, rest: &[String]) -> Result<Value, Value> {
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
            // Same length and alphabet as the real token, one digit different.
            let mut wrong: Vec<u8> = token().into_bytes();
            if let Some(first) = wrong.first_mut() {
                *first = if *first == b'0' { b'1' } else { b'0' };
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
