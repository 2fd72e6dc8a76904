//! The supervisor socket, black-box: the probe plays the sandboxed client against the
//! implementation's supervisor (`run --request-read DIR -- probe request-open ...`). The
//! socket library alone (listener modes, peer uids, wire decoding) is checked by the
//! reference's own tests; how the kernel delivers several fds in one message is a platform
//! fact (docs/platform-notes.md), and the IUT's own receiving of such a message is checked
//! through its mediation server (`linux.ipc.blackbox.*`).
//!
//! Every grant is checked against the sandbox itself: the probe's own `open(2)` of the
//! granted file is denied, so content read through the fd can only have come through the
//! supervisor. Every denial has a granted control under the same flags and, where
//! something could have changed, a check from outside.

use crate::kit::arg as s;
use crate::kit::expect::{expect_request_denied, expect_request_granted};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use crate::outcome::{Class, ProbeResult};
use crate::runner::{expect_class, Run};
use serde_json::Value;
use crate::probe::{Op, Then};
use std::path::Path;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.ipc.request.granted_fd_reads_file_the_sandbox_denies",
            "A request under --request-read is granted and the program reads through the passed fd a file its own open() is denied",
            &["IPC-REQ-001", "IPC-FD-001", "IPC-FRAME-001", "IPC-MSG-001"],
            granted_fd_reads_file_the_sandbox_denies,
        ),
        case(
            "linux.ipc.request.read_grant_fd_cannot_write",
            "An fd granted for Read cannot write (EBADF) and the file is unchanged, while an fd granted for ReadWrite writes",
            &["IPC-FD-001"],
            read_grant_fd_cannot_write,
        ),
        case(
            "linux.ipc.request.uncovered_requests_denied_with_reason_no_fd",
            "Requests outside the request directories, for more access than granted, for relative or missing paths are denied with a reason and no fd",
            &["IPC-REQ-002"],
            uncovered_requests_denied_with_reason_no_fd,
        ),
        case(
            "linux.ipc.request.symlink_out_of_request_dir_denied",
            "A symlink inside a request directory pointing outside it is denied, while one pointing inside is granted",
            &["IPC-REQ-003"],
            symlink_out_of_request_dir_denied,
        ),
        case(
            "linux.ipc.request.fifo_in_request_dir_denied_without_blocking",
            "A request for a FIFO inside a request directory (which no writer holds open) is answered with a denial and no fd, while under the same flags a request for a regular file there is granted",
            &["IPC-REQ-007"],
            fifo_in_request_dir_denied_without_blocking,
        ),
        case(
            "linux.ipc.request.replayed_request_id_denied",
            "A request_id used a second time in a session is denied as a replay, with no fd",
            &["IPC-REQ-004"],
            replayed_request_id_denied,
        ),
        case(
            "linux.ipc.request.socket_flag_alone_denies_everything",
            "With --request-socket and no request directory (and no terminal) a request is denied with a reason; with --request-read it is granted",
            &["IPC-REQ-005", "IPC-REQ-002"],
            socket_flag_alone_denies_everything,
        ),
        case(
            "linux.ipc.request.malformed_frames_skipped_next_request_answered",
            "Frames that are not JSON, of the wrong type or with wrong fields are skipped and the next valid request is answered",
            &["IPC-FRAME-004"],
            malformed_frames_skipped_next_request_answered,
        ),
        case(
            "linux.ipc.request.oversize_frame_ends_connection_run_continues",
            "A frame longer than 65536 bytes makes the supervisor hang up without answering, and the program runs on to its own exit code; a request of exactly 65536 bytes is answered",
            &["IPC-FRAME-002", "IPC-FRAME-001"],
            oversize_frame_ends_connection_run_continues,
        ),
        case(
            "linux.ipc.socket.env_var_names_inherited_socket_only_with_request_flag",
            "With a request flag NONO_SUPERVISOR_FD names a working socket in the program; without one the variable is absent even when the caller set it",
            &["IPC-SOCK-001"],
            env_var_names_inherited_socket_only_with_request_flag,
        ),
        case(
            "linux.ipc.fd.survives_exec",
            "A granted fd whose close-on-exec flag is cleared works in the program the receiver execs; with the flag set it is gone",
            &["IPC-FD-004"],
            fd_survives_exec,
        ),
    ]
}

/// `run --request-read DIR` (and the like): the supervisor grants on request only.
fn with_flag(run: Run, flag: &str, dir: &Path) -> Run {
    run.arg(flag).arg(dir)
}

fn field<'a>(r: &'a ProbeResult, key: &str) -> &'a Value {
    r.extra.get(key).unwrap_or(&Value::Null)
}

fn granted_fd_reads_file_the_sandbox_denies(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let secret = cx.fx.file("req/secret.txt", "s3cret-ipc");
    let run = with_flag(cx.run(), "--request-read", &req);

    let own = run.op(Op::read(&secret))?;
    expect_class(
        &own,
        Class::Denied,
        "the program's own open() of a file reachable only on request",
    )?;

    let got = run.op(Op::request_open(&secret, "Read", Then::Read))?;
    expect_request_granted(&got, "Read request under --request-read")?;
    expect_class(&got, Class::Allowed, "reading through the granted fd")?;
    ensure!(
        got.str_field("content") == Some("s3cret-ipc"),
        "read {:?} through the fd",
        got.str_field("content")
    );
    Ok(())
}

fn read_grant_fd_cannot_write(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/data.txt", "original");

    let read_only = with_flag(cx.run(), "--request-read", &req);
    let r = read_only.op(Op::request_open(&file, "Read", Then::Write("XX".into())))?;
    expect_request_granted(&r, "Read request")?;
    ensure!(
        r.errno.as_deref() == Some("EBADF") && r.str_field("step") == Some("write"),
        "writing through an fd granted for Read: expected EBADF at step write, got {r} {:?}",
        r.extra
    );
    ensure!(
        cx.fx.read("req/data.txt").as_deref() == Some("original"),
        "the file changed through a Read grant"
    );

    let read_write = with_flag(cx.run(), "--request-allow", &req);
    let own = read_write.op(Op::write(&file, "YY"))?;
    expect_class(
        &own,
        Class::Denied,
        "the program's own write open() under --request-allow",
    )?;
    ensure!(
        cx.fx.read("req/data.txt").as_deref() == Some("original"),
        "the program's own denied write changed the file"
    );
    let w = read_write.op(Op::request_open(&file, "ReadWrite", Then::Write("XX".into())))?;
    expect_request_granted(&w, "ReadWrite request under --request-allow")?;
    expect_class(
        &w,
        Class::Allowed,
        "writing through an fd granted for ReadWrite",
    )?;
    let now = cx.fx.read("req/data.txt");
    ensure!(
        now.as_deref() == Some("XXiginal"),
        "after writing XX through the fd the file holds {now:?}"
    );
    Ok(())
}

fn uncovered_requests_denied_with_reason_no_fd(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let inside = cx.fx.file("req/in.txt", "inside");
    let outside = cx.fx.file("other/out.txt", "outside");
    let run = with_flag(cx.run(), "--request-read", &req);

    let control = run.op(Op::request_open(&inside, "Read", Then::Read))?;
    expect_request_granted(
        &control,
        "control: Read request inside the request directory",
    )?;

    let missing = req.join("missing.txt");
    let denied: [(&str, &str, &str); 5] = [
        (
            s(&outside),
            "Read",
            "a file outside every request directory",
        ),
        (s(&inside), "Write", "Write under --request-read"),
        (s(&inside), "ReadWrite", "ReadWrite under --request-read"),
        ("req/in.txt", "Read", "a relative path"),
        (s(&missing), "Read", "a missing file"),
    ];
    for (path, access, what) in denied {
        let r = run.op(Op::request_open(path, access, Then::Read))?;
        expect_request_denied(&r, what)?;
        ensure!(
            r.str_field("content").is_none(),
            "{what}: content was read: {:?}",
            r.extra
        );
    }
    ensure!(
        !cx.fx.exists("req/missing.txt"),
        "a denied request created the missing file"
    );
    ensure!(
        cx.fx.read("req/in.txt").as_deref() == Some("inside"),
        "a denied request changed the file"
    );
    Ok(())
}

fn symlink_out_of_request_dir_denied(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let real = cx.fx.file("req/real.txt", "real");
    let outside = cx.fx.file("other/out.txt", "outside");
    let escape = cx.fx.symlink("req/escape", &outside);
    let inner = cx.fx.symlink("req/inner", &real);
    let run = with_flag(cx.run(), "--request-read", &req);

    let ok = run.op(Op::request_open(&inner, "Read", Then::Read))?;
    expect_request_granted(
        &ok,
        "control: a symlink inside the request directory pointing inside it",
    )?;
    ensure!(
        ok.str_field("content") == Some("real"),
        "the inner link read {:?}",
        ok.str_field("content")
    );

    let r = run.op(Op::request_open(&escape, "Read", Then::Read))?;
    expect_request_denied(
        &r,
        "a symlink inside the request directory pointing outside it",
    )?;
    ensure!(
        r.str_field("content").is_none(),
        "the escaping link leaked {:?}",
        r.str_field("content")
    );
    Ok(())
}

fn fifo_in_request_dir_denied_without_blocking(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/data.txt", "data");
    let fifo = req.join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).map_err(|e| format!("mkfifo {}: {e}", fifo.display()))?;
    let run = with_flag(cx.run(), "--request-read", &req);

    // Opening a FIFO for reading blocks until a writer comes, and none will: a supervisor
    // that opened it like a file would never answer, and the probe would hit the deadline.
    let r = run.op(Op::request_open(&fifo, "Read", Then::Read))?;
    expect_request_denied(&r, "a FIFO inside the request directory")?;
    ensure!(r.str_field("content").is_none(), "the denied FIFO request read {:?}", r.str_field("content"));
    // From outside: the FIFO is still there, still a FIFO.
    let kind = std::fs::symlink_metadata(&fifo).map_err(|e| format!("the FIFO is gone after the denied request: {e}"))?;
    ensure!(std::os::unix::fs::FileTypeExt::is_fifo(&kind.file_type()), "{} is no longer a FIFO", fifo.display());
    let ok = run.op(Op::request_open(&file, "Read", Then::Read))?;
    expect_request_granted(&ok, "control: a regular file in the same request directory")?;
    ensure!(ok.str_field("content") == Some("data"), "the granted fd read {:?}", ok.str_field("content"));
    Ok(())
}

fn replayed_request_id_denied(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "f");
    let r = with_flag(cx.run(), "--request-read", &req).op(Op::request_replay(&file, "Read"))?;
    expect_class(&r, Class::Allowed, "sending the same request twice")?;
    ensure!(
        field(&r, "decisions") == &serde_json::json!(["granted", "denied"]),
        "decisions for the same request_id twice: {:?}",
        field(&r, "decisions")
    );
    ensure!(
        field(&r, "fds_received") == &serde_json::json!([true, false]),
        "fds: {:?}",
        field(&r, "fds_received")
    );
    let reason = field(&r, "reasons")[1].as_str().unwrap_or("");
    ensure!(
        !reason.trim().is_empty(),
        "the replay denial carries no reason"
    );
    Ok(())
}

fn socket_flag_alone_denies_everything(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "f");

    let deny_all = cx.run().arg("--request-socket");
    let r = deny_all.op(Op::request_open(&file, "Read", Then::Read))?;
    expect_request_denied(&r, "a request with --request-socket alone")?;

    let control = with_flag(cx.run(), "--request-read", &req).op(Op::request_open(&file, "Read", Then::Read))?;
    expect_request_granted(&control, "control: the same request with --request-read")?;
    Ok(())
}

fn malformed_frames_skipped_next_request_answered(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "after the garbage");
    let out = with_flag(cx.run(), "--request-read", &req).probe(Op::request_after_garbage(&file, "Read"));
    let r = out.probe()?;
    expect_request_granted(&r, "the valid request after three malformed frames")?;
    expect_class(
        &r,
        Class::Allowed,
        "reading through the fd granted after the garbage",
    )?;
    ensure!(
        r.str_field("content") == Some("after the garbage"),
        "read {:?}",
        r.str_field("content")
    );
    ensure!(
        out.code == 0,
        "the run did not end with the program's exit code 0: {out}"
    );
    Ok(())
}

fn oversize_frame_ends_connection_run_continues(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "f");
    let run = with_flag(cx.run(), "--request-read", &req);

    // The control sits on the boundary: a request of exactly 65536 bytes is answered.
    let control = run.op(Op::request_at_limit(&file, "Read"))?;
    ensure!(
        field(&control, "payload_bytes") == &serde_json::json!(65536),
        "the probe sent {} bytes, not 65536",
        field(&control, "payload_bytes")
    );
    expect_request_granted(
        &control,
        "control: a valid request of exactly 65536 bytes in the same configuration",
    )?;

    let out = run.probe(Op::RequestOversize);
    let r = out.probe()?;
    expect_class(&r, Class::Allowed, "sending a 65537-byte length")?;
    ensure!(
        field(&r, "closed") == &Value::Bool(true),
        "the supervisor answered an oversized frame: {:?}",
        r.extra
    );
    ensure!(
        out.code == 0,
        "the run did not continue to the program's exit code 0: {out}"
    );
    Ok(())
}

fn env_var_names_inherited_socket_only_with_request_flag(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "f");
    let env_of = |r: &ProbeResult| {
        field(r, "env")
            .get("NONO_SUPERVISOR_FD")
            .and_then(Value::as_str)
            .map(str::to_string)
    };

    let with = with_flag(cx.run(), "--request-read", &req).env("NONO_SUPERVISOR_FD", "0");
    let e = with.op(Op::Env)?;
    let fd = env_of(&e).ok_or("with --request-read the program has no NONO_SUPERVISOR_FD")?;
    ensure!(
        fd.parse::<u32>().is_ok_and(|n| n > 2),
        "NONO_SUPERVISOR_FD={fd:?} is not a fresh fd number (the caller's 0 leaked?)"
    );
    let r = with.op(Op::request_open(&file, "Read", Then::Nothing))?;
    expect_request_granted(&r, "a request on the inherited socket")?;

    let without = cx.run().env("NONO_SUPERVISOR_FD", "0");
    let e = without.op(Op::Env)?;
    ensure!(
        env_of(&e).is_none(),
        "without a request flag the program sees NONO_SUPERVISOR_FD={:?}",
        env_of(&e)
    );
    let r = without.op(Op::request_open(&file, "Read", Then::Nothing))?;
    ensure!(
        r.str_field("step") == Some("env"),
        "without a request flag a request got past the environment: {r} {:?}",
        r.extra
    );
    Ok(())
}

fn fd_survives_exec(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "kept across exec");
    let run = with_flag(cx.run(), "--request-read", &req);
    let probe = s(&cx.probe);

    let own = run.op(Op::read(&file))?;
    expect_class(&own, Class::Denied, "the program's own open() of the file")?;

    let kept = run.op(Op::request_open(&file, "Read", Then::ExecKeep(vec![probe.into(), "read-fd".into(), "{fd}".into()])))?;
    ensure!(
        kept.op == "read-fd",
        "the exec'd program did not report (got {kept} {:?})",
        kept.extra
    );
    expect_class(
        &kept,
        Class::Allowed,
        "the exec'd program reading the inherited fd",
    )?;
    ensure!(
        kept.str_field("content") == Some("kept across exec"),
        "read {:?} after exec",
        kept.str_field("content")
    );

    let closed = run.op(Op::request_open(&file, "Read", Then::ExecCloexec(vec![probe.into(), "read-fd".into(), "{fd}".into()])))?;
    ensure!(
        closed.op == "read-fd" && closed.errno.as_deref() == Some("EBADF"),
        "control: with close-on-exec set the exec'd program should find no fd, got {closed} {:?}",
        closed.extra
    );
    Ok(())
}
