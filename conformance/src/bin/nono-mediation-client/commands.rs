//! The ordinary agent side: commands run through `PATH` the way a program in the sandbox
//! runs them, and what the session looks like from inside.

use super::{arg, err};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

pub(super) fn env_map() -> Map<String, Value> {
    std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), json!(v.to_string_lossy())))
        .collect()
}

pub(super) fn env_report() -> Value {
    json!({
        "env": env_map(),
        "pid": std::process::id(),
        "ppid": std::os::unix::process::parent_id(),
        "cwd": std::env::current_dir().ok(),
    })
}

/// What the session looks like from inside: its directory, shims, sockets and sources.
pub(super) fn inspect() -> Value {
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
pub(super) fn socket_kind(path: &Path) -> Value {
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
pub(super) fn split_assignments(rest: &[String]) -> (Vec<(String, String)>, &[String]) {
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
pub(super) fn which(name: &str) -> Option<PathBuf> {
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

pub(super) fn command_for(rest: &[String]) -> Result<Command, Value> {
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

pub(super) fn finished(pid: u32, out: std::process::Output) -> Value {
    json!({
        "pid": pid,
        "stdout": String::from_utf8_lossy(&out.stdout),
        "stderr": String::from_utf8_lossy(&out.stderr),
        "exit_code": out.status.code(),
        "signal": out.status.signal(),
    })
}

/// Runs `cmd` with its output collected, and reports how it finished.
pub(super) fn collected(cmd: &mut Command) -> Result<Value, Value> {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(err)?;
    let pid = child.id();
    child.wait_with_output().map(|out| finished(pid, out)).map_err(err)
}

pub(super) fn run(rest: &[String]) -> Result<Value, Value> {
    collected(&mut command_for(rest)?)
}

pub(super) fn exec(rest: &[String]) -> Result<Value, Value> {
    let mut cmd = command_for(rest)?;
    let _ = std::io::stdout().flush();
    Err(err(cmd.exec()))
}

pub(super) fn parallel(rest: &[String]) -> Result<Value, Value> {
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

pub(super) fn run_argv0(rest: &[String]) -> Result<Value, Value> {
    let (vars, rest) = split_assignments(rest);
    let (program, argv0) = (arg(rest, 0), arg(rest, 1));
    collected(Command::new(program).arg0(argv0).args(rest.iter().skip(2)).envs(vars))
}
