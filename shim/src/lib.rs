//! `nono-shim`: the program every mediated command name in a session resolves to.
//!
//! It is invoked through a symlink named like the command (`gh` → `nono-shim`), so the
//! command name is the last component of `argv[0]`.
//!
//! * **Mediated** (the name is in `NONO_MEDIATED_COMMANDS`, or that variable is unset): it
//!   sends the request and its stdin, stdout and stderr to the server at
//!   `NONO_MEDIATION_SOCKET`, writes the answer's output, and exits with its code. It never
//!   reads its own stdin: a streamed command reads it directly.
//! * **Audited** (any other name): it runs the real binary itself, found through the
//!   session's `NONO_SHIM_SOURCES_DIR` record or else on `PATH` (never itself), and sends
//!   one audit datagram to `NONO_AUDIT_SOCKET` when it finishes.
//!
//! Whatever goes wrong, it exits 127 with a message naming what was missing; it never
//! falls back to running a mediated command unmediated.

use nono_reference::mediation::wire;
use nono_shim_protocol::{vars, AuditDatagram, ShimRequest};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Exit code for every failure of the shim itself.
pub const EXIT_SHIM_FAILED: i32 = 127;

/// Runs the shim; returns its exit code.
pub fn main() -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let name = argv
        .first()
        .map(|a| Path::new(a).file_name().unwrap_or(a.as_os_str()).to_string_lossy().into_owned())
        .unwrap_or_else(|| "unknown".into());
    let args = &argv[argv.len().min(1)..];
    let mediated = match std::env::var(vars::MEDIATED_COMMANDS) {
        Ok(list) => list.split(',').any(|n| n == name),
        Err(_) => true,
    };
    if mediated {
        mediate(&name, args)
    } else {
        audit_run(&name, args)
    }
}

fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("nono-shim: {message}");
    EXIT_SHIM_FAILED
}

fn mediate(name: &str, args: &[OsString]) -> i32 {
    let Some(socket) = std::env::var_os(vars::MEDIATION_SOCKET) else {
        return fail(format_args!("{} not set", vars::MEDIATION_SOCKET));
    };
    let Ok(token) = std::env::var(vars::SESSION_TOKEN) else {
        return fail(format_args!("{} not set", vars::SESSION_TOKEN));
    };
    let mut text_args = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        match arg.to_str() {
            Some(arg) => text_args.push(arg.to_string()),
            None => return fail(format!("{name}: argument {} is not UTF-8; mediated commands take UTF-8 arguments", i + 1)),
        }
    }
    let request = ShimRequest {
        command: name.to_string(),
        args: text_args,
        session_token: token,
        // Variables that are not UTF-8 cannot travel in JSON; they stay behind.
        env: std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect(),
        pid: std::process::id(),
        cwd: std::env::current_dir().ok().and_then(|d| d.to_str().map(str::to_string)),
    };
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    let answer = match wire::exchange(Path::new(&socket), &request, [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()]) {
        Ok(answer) => answer,
        Err(e) => return fail(format!("{name}: {e}")),
    };
    if !answer.stdout.is_empty() {
        let _ = std::io::stdout().write_all(answer.stdout.as_bytes());
        let _ = std::io::stdout().flush();
    }
    if !answer.stderr.is_empty() {
        let _ = std::io::stderr().write_all(answer.stderr.as_bytes());
    }
    answer.exit_code
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The real binary for an audited command: the session's record, else the first match on
/// `PATH` that is neither in the shim directory nor the shim itself.
pub fn real_binary(name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(vars::SHIM_SOURCES_DIR) {
        if let Ok(recorded) = std::fs::read_to_string(Path::new(&dir).join(name)) {
            let recorded = PathBuf::from(recorded.trim());
            if is_executable_file(&recorded) {
                return Some(recorded);
            }
        }
    }
    let shim_dir = std::env::var_os(vars::SHIM_DIR).map(PathBuf::from);
    let shim_dir_resolved = shim_dir.as_ref().and_then(|d| d.canonicalize().ok());
    let me = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
    std::env::split_paths(&std::env::var_os("PATH")?)
        .filter(|dir| shim_dir.as_ref() != Some(dir) && dir.canonicalize().ok() != shim_dir_resolved.clone().filter(|_| shim_dir.is_some()))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate) && candidate.canonicalize().ok() != me)
}

fn audit_run(name: &str, args: &[OsString]) -> i32 {
    let Some(real) = real_binary(name) else {
        return fail(format!("{name}: command not found"));
    };
    let status = match std::process::Command::new(&real).args(args).status() {
        Ok(status) => status,
        Err(e) => return fail(format!("exec failed for {}: {e}", real.display())),
    };
    let exit_code = status.code().unwrap_or(1);
    if let Some(socket) = std::env::var_os(vars::AUDIT_SOCKET) {
        send_audit(&socket, name, args, exit_code);
    }
    exit_code
}

/// One datagram, errors ignored: auditing never changes the command's outcome.
fn send_audit(socket: &OsStr, name: &str, args: &[OsString], exit_code: i32) {
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let event = AuditDatagram {
        command: name.to_string(),
        args: args.iter().map(|a| a.to_string_lossy().into_owned()).collect(),
        ts,
        exit_code,
        command_pid: Some(std::process::id()),
    };
    let Ok(payload) = serde_json::to_vec(&event) else { return };
    if let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() {
        let _ = sock.send_to(&payload, socket);
    }
}
