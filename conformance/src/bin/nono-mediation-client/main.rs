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

mod commands;
mod wire_ops;

use commands::{command_for, env_report, exec, finished, inspect, parallel, run, run_argv0};
use wire_ops::{connect, wire_op};
use std::io::Write;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::process::Stdio;
use std::time::Duration;

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
