//! `nono-ref approve`: the non-interactive client of a session's control socket.
//!
//! Sessions announce themselves in `$XDG_STATE_HOME/nono-ref/sessions/<id>/control.json`
//! (owner-only; it holds the control token, which the agent never sees). The client waits
//! until a command of a live session needs approval, then approves or denies the first one.

use crate::error::{Error, Result};
use crate::ipc::frame;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Decides the first pending request; returns the exit code (0 decided, 1 nothing pending).
pub fn run(deny: bool, session: Option<&str>, timeout_secs: u64) -> Result<i32> {
    let root = super::session::state_root().map_err(|e| Error::PolicyConflict(e.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    loop {
        for control in live_sessions(&root, session) {
            let Some(pending) = ask(&control, json!({ "action": "list" })) else { continue };
            let Some(first) = pending["pending"].as_array().and_then(|items| items.first()).cloned() else { continue };
            let action = if deny { "deny" } else { "approve" };
            let answer = ask(&control, json!({ "action": action, "id": first["id"] }));
            if answer.is_some_and(|a| a["ok"] == json!(true)) {
                let args: Vec<&str> = first["args"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                let verb = if deny { "denied" } else { "approved" };
                println!("{verb}: {} {}", first["command"].as_str().unwrap_or("?"), args.join(" "));
                return Ok(0);
            }
        }
        if Instant::now() >= deadline {
            eprintln!("nono-ref: no command waiting for approval within {timeout_secs} s");
            return Ok(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The control files of sessions whose supervisor still runs.
fn live_sessions(root: &std::path::Path, only: Option<&str>) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(root) else { return vec![] };
    entries
        .flatten()
        .filter(|e| only.is_none_or(|id| e.file_name() == id))
        .filter_map(|e| std::fs::read_to_string(e.path().join("control.json")).ok())
        .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(|control| {
            let pid = control["pid"].as_i64().unwrap_or(0) as i32;
            pid > 0 && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        })
        .collect()
}

/// One request on the control socket, with the session's token.
fn ask(control: &Value, mut request: Value) -> Option<Value> {
    request["token"] = control["control_token"].clone();
    let mut stream = std::os::unix::net::UnixStream::connect(control["control_socket"].as_str()?).ok()?;
    frame::write_frame(&mut stream, request.to_string().as_bytes()).ok()?;
    serde_json::from_slice(&frame::read_frame(&mut stream).ok()?).ok()
}
