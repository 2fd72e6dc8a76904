//! Outcome assertions: every check of what an operation or a run did, in one place.
//!
//! Each function returns `Err(message)` naming `what` was checked and what happened, so a
//! case body reads as a list of expectations joined by `?`. They compare outcome classes
//! ([`Class`]), never a bare non-zero exit.
//!
//! | function | passes when |
//! |---|---|
//! | [`expect_class`] | the probe's outcome is in the class |
//! | [`expect_allowed`] / [`expect_denied`] | Allowed / Denied (EACCES or EPERM) |
//! | [`expect_eperm`] | Denied with EPERM (scopes, Seatbelt) |
//! | [`expect_refused`] | Denied or CrossDevice (links and renames) |
//! | [`expect_not_allowed`] | anything but success (gone or denied) |
//! | [`expect_ran`] | an `exec` succeeded and the program exited 0 |
//! | [`expect_bind_denied`] | a denial at `socket` or `bind` |
//! | [`expect_connected`] / [`expect_connect_denied`] | the connect's class and the listener agree |
//! | [`expect_request_granted`] / [`expect_request_denied`] | a supervisor answer, with or without an fd |
//! | [`expect_not_executed_naming`] | exit 1 or 127 and stderr names the program |
//! | [`expect_gave_up`] | a helper program (the shim) exited 127 and said why, naming what it must |
//! | [`expect_not_run`] | the program's marker is absent and it printed nothing |
//! | [`expect_refused_run`] | exit 1 before the program ran, stderr names the grant |
//! | [`expect_content`] | a case file (read from outside the sandbox) holds exactly a text |

use crate::outcome::{Class, ProbeResult};
use crate::runner::RunOutput;
use crate::CaseResult;
use serde_json::Value;
use std::net::TcpListener;
use std::path::Path;

/// Fails unless `result` is in `class`; the message names the operation and what happened.
pub fn expect_class(result: &ProbeResult, class: Class, what: &str) -> Result<(), String> {
    if result.class() == class {
        Ok(())
    } else {
        Err(format!("{what}: expected {class:?}, got {result}"))
    }
}

/// The operation succeeded.
pub fn expect_allowed(r: &ProbeResult, what: &str) -> CaseResult {
    expect_class(r, Class::Allowed, what)
}

/// The sandbox refused the operation (EACCES or EPERM).
pub fn expect_denied(r: &ProbeResult, what: &str) -> CaseResult {
    expect_class(r, Class::Denied, what)
}

/// Denied with EPERM: Landlock scopes and Seatbelt answer EPERM, not EACCES.
pub fn expect_eperm(r: &ProbeResult, what: &str) -> CaseResult {
    expect_class(r, Class::Denied, what)?;
    crate::ensure!(r.errno.as_deref() == Some("EPERM"), "{what}: denied with {:?}, expected EPERM ({r})", r.errno);
    Ok(())
}

/// A denial or a cross-directory denial (`EXDEV`), which Landlock uses for links and
/// renames that would change a file's rights.
pub fn expect_refused(r: &ProbeResult, what: &str) -> CaseResult {
    match r.class() {
        Class::Denied | Class::CrossDevice => Ok(()),
        other => Err(format!("{what}: expected Denied or CrossDevice, got {other:?} ({r})")),
    }
}

/// Anything but success: the object is gone (ENOENT) or the operation is denied.
pub fn expect_not_allowed(r: &ProbeResult, what: &str) -> CaseResult {
    crate::ensure!(r.class() != Class::Allowed, "{what}: expected a failure, got {r}");
    Ok(())
}

/// An `exec` of a program succeeded and the program exited 0.
pub fn expect_ran(r: &ProbeResult, what: &str) -> CaseResult {
    expect_class(r, Class::Allowed, what)?;
    crate::ensure!(r.int_field("exit_code") == Some(0), "{what}: the program ran but reported {:?}", r.extra);
    Ok(())
}

/// A bind denial is a denial errno at bind(2), or at socket(2) creation: an implementation
/// may refuse TCP sockets outright under `--block-net` (nono does, with a seccomp filter),
/// which denies the bind as surely. Any other step or errno is not a denial.
pub fn expect_bind_denied(r: &ProbeResult, what: &str) -> CaseResult {
    expect_class(r, Class::Denied, what)?;
    crate::ensure!(
        matches!(r.str_field("step"), Some("bind") | Some("socket")),
        "{what}: failed at step {:?}, neither socket nor bind",
        r.str_field("step")
    );
    Ok(())
}

/// True when the (non-blocking) test listener has a connection waiting: the check from
/// outside that a connect really happened.
pub fn took_connection(l: &TcpListener) -> Result<bool, String> {
    match l.accept() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(format!("accept on the test listener: {e}")),
    }
}

/// The allowed connect reached the listener.
pub fn expect_connected(r: &ProbeResult, l: &TcpListener, what: &str) -> CaseResult {
    expect_class(r, Class::Allowed, what)?;
    crate::ensure!(took_connection(l)?, "{what}: reported ok but the listener has no connection");
    Ok(())
}

/// The denied connect did not reach the listener.
pub fn expect_connect_denied(r: &ProbeResult, l: &TcpListener, what: &str) -> CaseResult {
    expect_class(r, Class::Denied, what)?;
    crate::ensure!(!took_connection(l)?, "{what}: reported {r} but the listener received a connection");
    Ok(())
}

fn field<'r>(r: &'r ProbeResult, key: &str) -> &'r Value {
    r.extra.get(key).unwrap_or(&Value::Null)
}

/// A supervisor request (probe `request-*` ops) was granted and the fd arrived.
pub fn expect_request_granted(r: &ProbeResult, what: &str) -> CaseResult {
    crate::ensure!(
        r.str_field("decision") == Some("granted") && field(r, "fd_received") == &Value::Bool(true),
        "{what}: expected a grant with an fd, got {r} {:?}",
        r.extra
    );
    Ok(())
}

/// A supervisor request was denied with a non-empty reason, and no fd arrived.
pub fn expect_request_denied(r: &ProbeResult, what: &str) -> CaseResult {
    crate::ensure!(r.str_field("decision") == Some("denied"), "{what}: expected a denial, got {r} {:?}", r.extra);
    crate::ensure!(
        r.str_field("reason").is_some_and(|s| !s.trim().is_empty()),
        "{what}: the denial carries no reason: {:?}",
        r.extra
    );
    crate::ensure!(field(r, "fd_received") == &Value::Bool(false), "{what}: an fd came with the denial: {:?}", r.extra);
    Ok(())
}

/// The file at `rel` in the case's tree, read from outside the sandbox, holds exactly
/// `want` (so a denied write left it alone, or an allowed one landed).
pub fn expect_content(cx: &crate::Ctx, rel: &str, want: &str, what: &str) -> CaseResult {
    let found = cx.fx.read(rel);
    crate::ensure!(found.as_deref() == Some(want), "{what}: {rel} holds {found:?}, expected {want:?}");
    Ok(())
}

/// The program did not run: its `create MARKER` (relative to the case's root) did not
/// happen, and it printed no result.
pub fn expect_not_run(cx: &crate::Ctx, out: &RunOutput, marker_rel: &str, why: &str) -> CaseResult {
    crate::ensure!(!cx.fx.exists(marker_rel), "{why}: the program ran (its marker {marker_rel} exists); {out}");
    crate::ensure!(out.probe().is_err(), "{why}: the program ran and printed a result; {out}");
    Ok(())
}

/// Exit 1 (refused before the program starts) or 127 (exec failed), and the program named
/// on stderr.
pub fn expect_not_executed_naming(out: &RunOutput, name: &str) -> CaseResult {
    crate::ensure!(
        out.code == 1 || out.code == 127,
        "a program that cannot be executed must give exit 1 (refused before starting it) or 127 (exec failed); {out}"
    );
    crate::ensure!(out.stderr.contains(name), "stderr must name the program {name:?}; {out}");
    Ok(())
}

/// The run was refused before the program started: exit 1, no probe result, and stderr
/// names the grant and contains `needle`.
pub fn expect_refused_run(out: &RunOutput, grant: &Path, needle: &str, what: &str) -> CaseResult {
    let grant_text = grant.to_string_lossy();
    crate::ensure!(out.probe().is_err(), "{what}: the program ran; {out}");
    crate::ensure!(out.code == 1, "{what}: expected exit 1 for a refused policy; {out}");
    crate::ensure!(
        out.stderr.contains(grant_text.as_ref()),
        "{what}: the message does not name the grant {}; {out}",
        grant.display()
    );
    crate::ensure!(out.stderr.contains(needle), "{what}: the message does not contain {needle:?}; {out}");
    Ok(())
}

/// A helper program that cannot do its job (the shim without its server, its variables or
/// the real binary) gives up the way a missing command does: exit 127 and a reason on
/// stderr, naming `naming` when given.
pub fn expect_gave_up(out: &std::process::Output, naming: Option<&str>, what: &str) -> CaseResult {
    let stderr = String::from_utf8_lossy(&out.stderr);
    crate::ensure!(out.status.code() == Some(127), "{what}: the program must exit 127: {:?}, stderr {stderr:?}", out.status);
    crate::ensure!(!stderr.trim().is_empty(), "{what}: the program must say why on stderr");
    if let Some(name) = naming {
        crate::ensure!(stderr.contains(name), "{what}: the message must name {name}: {stderr:?}");
    }
    Ok(())
}
