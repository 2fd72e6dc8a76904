//! The supervisor socket, black-box: the probe plays the sandboxed client against the
//! implementation's supervisor (`run --request-read DIR -- probe request-open ...`), and
//! the test process plays the unsandboxed side against a sandboxed probe where the
//! implementation has no such side (fd batches in both directions, refused peers).
//!
//! Every grant is checked against the sandbox itself: the probe's own `open(2)` of the
//! granted file is denied, so content read through the fd can only have come through the
//! supervisor. Every denial has a granted control under the same flags and, where
//! something could have changed, a check from outside.

use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use crate::outcome::{Class, ProbeResult};
use crate::runner::{expect_class, Run, RunOutput};
use nono_reference::ipc::{
    fdpass, request::RequestPolicy, request::Supervisor, socket::Listener, Error,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.ipc.request.granted_fd_reads_file_the_sandbox_denies",
            "A request under --request-read is granted and the program reads through the passed fd a file its own open() is denied",
            &["IPC-REQ-001", "IPC-FD-001"],
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
            "A frame longer than 65536 bytes makes the supervisor hang up without answering, and the program runs on to its own exit code",
            &["IPC-FRAME-002"],
            oversize_frame_ends_connection_run_continues,
        ),
        case(
            "linux.ipc.socket.env_var_names_inherited_socket_only_with_request_flag",
            "With a request flag NONO_SUPERVISOR_FD names a working socket in the program; without one the variable is absent even when the caller set it",
            &["IPC-SOCK-001"],
            env_var_names_inherited_socket_only_with_request_flag,
        ),
        case(
            "linux.ipc.socket.listener_owner_only_and_removed",
            "A listener's socket file has no group or other permission bits even under umask 0, and is removed when the listener is dropped",
            &["IPC-SOCK-002"],
            listener_owner_only_and_removed,
        )
        .requires(Requirement::ReferenceLibrary),
        case(
            "linux.ipc.fd.survives_exec",
            "A granted fd whose close-on-exec flag is cleared works in the program the receiver execs; with the flag set it is gone",
            &["IPC-FD-004"],
            fd_survives_exec,
        ),
        case(
            "linux.ipc.fd.three_fds_in_one_message_into_sandbox_in_order",
            "Three fds sent in one SCM_RIGHTS message reach a sandboxed program in order and read files its own open() is denied",
            &["IPC-FD-002"],
            three_fds_into_sandbox_in_order,
        )
        // The three fds are sent by the reference's fdpass and received by the probe: the IUT
        // only runs the probe, so this checks the reference's sender (and the kernel's
        // ordering, see docs/platform-notes.md), not another implementation.
        .requires(Requirement::ReferenceLibrary),
        case(
            "linux.ipc.fd.stdio_fds_from_sandbox_arrive_in_order",
            "A sandboxed program's stdin, stdout and stderr sent in one message arrive in order, work, and are close-on-exec",
            &["IPC-FD-002", "IPC-FD-005"],
            stdio_fds_from_sandbox_arrive_in_order,
        )
        // Received by the reference's fdpass in the test process: close-on-exec is a property
        // of that receiver, so the case says nothing about another implementation.
        .requires(Requirement::ReferenceLibrary),
        case(
            "linux.ipc.fd.wrong_count_and_truncated_control_refused_and_closed",
            "A message with fewer fds than expected, or more than the receiver has room for, is an error and every fd that arrived is closed",
            &["IPC-FD-003"],
            wrong_count_and_truncated_control_refused_and_closed,
        )
        .requires(Requirement::ReferenceLibrary),
        case(
            "linux.ipc.peer.other_uid_refused",
            "A listener refuses a peer running as another uid without answering it, and still answers a peer of its own uid",
            &["IPC-PEER-001"],
            other_uid_refused,
        )
        .requires(Requirement::ReferenceLibrary)
        .requires(Requirement::Root),
    ]
}

fn s(p: &Path) -> &str {
    p.to_str().expect("fixture paths are UTF-8")
}

/// `run --request-read DIR` (and the like): the supervisor grants on request only.
fn with_flag(run: Run, flag: &str, dir: &Path) -> Run {
    run.arg(flag).arg(dir)
}

fn field<'a>(r: &'a ProbeResult, key: &str) -> &'a Value {
    r.extra.get(key).unwrap_or(&Value::Null)
}

/// The request was granted and the fd arrived.
fn expect_granted(r: &ProbeResult, what: &str) -> CaseResult {
    ensure!(
        r.str_field("decision") == Some("granted") && field(r, "fd_received") == &Value::Bool(true),
        "{what}: expected a grant with an fd, got {r} {:?}",
        r.extra
    );
    Ok(())
}

/// The request was denied with a non-empty reason, and no fd arrived.
fn expect_denied(r: &ProbeResult, what: &str) -> CaseResult {
    ensure!(
        r.str_field("decision") == Some("denied"),
        "{what}: expected a denial, got {r} {:?}",
        r.extra
    );
    ensure!(
        r.str_field("reason").is_some_and(|s| !s.trim().is_empty()),
        "{what}: the denial carries no reason: {:?}",
        r.extra
    );
    ensure!(
        field(r, "fd_received") == &Value::Bool(false),
        "{what}: an fd came with the denial: {:?}",
        r.extra
    );
    Ok(())
}

fn granted_fd_reads_file_the_sandbox_denies(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let secret = cx.fx.file("req/secret.txt", "s3cret-ipc");
    let run = with_flag(cx.run(), "--request-read", &req);

    let own = run.op(["read", s(&secret)])?;
    expect_class(
        &own,
        Class::Denied,
        "the program's own open() of a file reachable only on request",
    )?;

    let got = run.op(["request-open", s(&secret), "Read", "read"])?;
    expect_granted(&got, "Read request under --request-read")?;
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
    let r = read_only.op(["request-open", s(&file), "Read", "write", "XX"])?;
    expect_granted(&r, "Read request")?;
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
    let own = read_write.op(["write", s(&file), "YY"])?;
    expect_class(
        &own,
        Class::Denied,
        "the program's own write open() under --request-allow",
    )?;
    ensure!(
        cx.fx.read("req/data.txt").as_deref() == Some("original"),
        "the program's own denied write changed the file"
    );
    let w = read_write.op(["request-open", s(&file), "ReadWrite", "write", "XX"])?;
    expect_granted(&w, "ReadWrite request under --request-allow")?;
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

    let control = run.op(["request-open", s(&inside), "Read", "read"])?;
    expect_granted(
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
        let r = run.op(["request-open", path, access, "read"])?;
        expect_denied(&r, what)?;
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

    let ok = run.op(["request-open", s(&inner), "Read", "read"])?;
    expect_granted(
        &ok,
        "control: a symlink inside the request directory pointing inside it",
    )?;
    ensure!(
        ok.str_field("content") == Some("real"),
        "the inner link read {:?}",
        ok.str_field("content")
    );

    let r = run.op(["request-open", s(&escape), "Read", "read"])?;
    expect_denied(
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

fn replayed_request_id_denied(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "f");
    let r = with_flag(cx.run(), "--request-read", &req).op(["request-replay", s(&file), "Read"])?;
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
    let r = deny_all.op(["request-open", s(&file), "Read", "read"])?;
    expect_denied(&r, "a request with --request-socket alone")?;

    let control = with_flag(cx.run(), "--request-read", &req).op([
        "request-open",
        s(&file),
        "Read",
        "read",
    ])?;
    expect_granted(&control, "control: the same request with --request-read")?;
    Ok(())
}

fn malformed_frames_skipped_next_request_answered(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "after the garbage");
    let out = with_flag(cx.run(), "--request-read", &req).probe([
        "request-after-garbage",
        s(&file),
        "Read",
    ]);
    let r = out.probe()?;
    expect_granted(&r, "the valid request after three malformed frames")?;
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

    let control = run.op(["request-open", s(&file), "Read"])?;
    expect_granted(
        &control,
        "control: a valid request in the same configuration",
    )?;

    let out = run.probe(["request-oversize"]);
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
    let e = with.op(["env"])?;
    let fd = env_of(&e).ok_or("with --request-read the program has no NONO_SUPERVISOR_FD")?;
    ensure!(
        fd.parse::<u32>().is_ok_and(|n| n > 2),
        "NONO_SUPERVISOR_FD={fd:?} is not a fresh fd number (the caller's 0 leaked?)"
    );
    let r = with.op(["request-open", s(&file), "Read"])?;
    expect_granted(&r, "a request on the inherited socket")?;

    let without = cx.run().env("NONO_SUPERVISOR_FD", "0");
    let e = without.op(["env"])?;
    ensure!(
        env_of(&e).is_none(),
        "without a request flag the program sees NONO_SUPERVISOR_FD={:?}",
        env_of(&e)
    );
    let r = without.op(["request-open", s(&file), "Read"])?;
    ensure!(
        r.str_field("step") == Some("env"),
        "without a request flag a request got past the environment: {r} {:?}",
        r.extra
    );
    Ok(())
}

/// Sets the process umask for the lifetime of the guard (each case is its own process).
struct Umask(nix::sys::stat::Mode);
impl Umask {
    fn set(bits: u32) -> Umask {
        Umask(nix::sys::stat::umask(
            nix::sys::stat::Mode::from_bits_truncate(bits as _),
        ))
    }
}
impl Drop for Umask {
    fn drop(&mut self) {
        nix::sys::stat::umask(self.0);
    }
}

fn mode_of(path: &Path) -> Result<u32, String> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::symlink_metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .permissions()
        .mode()
        & 0o777)
}

fn listener_owner_only_and_removed(cx: &Ctx) -> CaseResult {
    let dir = cx.fx.dir("sock");
    let _umask = Umask::set(0);

    let naive = dir.join("plain.sock");
    let plain = std::os::unix::net::UnixListener::bind(&naive).map_err(|e| e.to_string())?;
    let plain_mode = mode_of(&naive)?;
    ensure!(
        plain_mode & 0o077 != 0,
        "control: under umask 0 a plain bind is {plain_mode:o}; this test could not tell"
    );
    drop(plain);

    let path = dir.join("sup.sock");
    let listener = Listener::bind(&path).map_err(|e| e.to_string())?;
    let mode = mode_of(&path)?;
    ensure!(
        mode & 0o077 == 0,
        "the listener's socket file has mode {mode:o}: group or others may connect"
    );
    drop(listener);
    ensure!(
        !path.exists(),
        "the socket file is still there after the listener was dropped"
    );
    Ok(())
}

fn fd_survives_exec(cx: &Ctx) -> CaseResult {
    let req = cx.fx.dir("req");
    let file = cx.fx.file("req/f.txt", "kept across exec");
    let run = with_flag(cx.run(), "--request-read", &req);
    let probe = s(&cx.probe);

    let own = run.op(["read", s(&file)])?;
    expect_class(&own, Class::Denied, "the program's own open() of the file")?;

    let kept = run.op([
        "request-open",
        s(&file),
        "Read",
        "exec-keep",
        probe,
        "read-fd",
        "{fd}",
    ])?;
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

    let closed = run.op([
        "request-open",
        s(&file),
        "Read",
        "exec-cloexec",
        probe,
        "read-fd",
        "{fd}",
    ])?;
    ensure!(
        closed.op == "read-fd" && closed.errno.as_deref() == Some("EBADF"),
        "control: with close-on-exec set the exec'd program should find no fd, got {closed} {:?}",
        closed.extra
    );
    Ok(())
}

/// Runs `run.probe(args)` on a thread while the test serves the other end.
fn in_background(run: Run, args: Vec<String>) -> std::thread::JoinHandle<RunOutput> {
    std::thread::spawn(move || run.probe(args))
}

fn accept(listener: &Listener) -> Result<std::os::unix::net::UnixStream, String> {
    listener
        .accept_timeout(Duration::from_secs(10))
        .map(|(conn, _)| conn)
        .map_err(|e| format!("the probe never connected: {e}"))
}

fn three_fds_into_sandbox_in_order(cx: &Ctx) -> CaseResult {
    let sock_dir = cx.fx.dir("sock");
    let path = sock_dir.join("s.sock");
    let listener = Listener::bind(&path).map_err(|e| e.to_string())?;
    let names = ["one", "two", "three"];
    let files: Vec<PathBuf> = names
        .iter()
        .map(|n| cx.fx.file(&format!("secret/{n}"), n))
        .collect();

    let own = cx.run().read(&sock_dir).op(["read", s(&files[0])])?;
    expect_class(
        &own,
        Class::Denied,
        "the sandboxed program's own open() of a passed file",
    )?;

    let worker = in_background(
        cx.run().read(&sock_dir),
        vec!["recv-fds-unix".into(), s(&path).into(), "3".into()],
    );
    let conn = accept(&listener)?;
    let opened: Vec<std::fs::File> = files
        .iter()
        .map(|f| std::fs::File::open(f).expect("opening a fixture"))
        .collect();
    let fds: Vec<_> = opened.iter().map(|f| f.as_fd()).collect();
    fdpass::send_fds(&conn, &fds).map_err(|e| e.to_string())?;
    drop(conn);
    let out = worker.join().map_err(|_| "the run thread panicked")?;
    let r = out.probe()?;
    expect_class(&r, Class::Allowed, "receiving three fds")?;
    ensure!(
        r.int_field("count") == Some(3),
        "{} fds arrived in the sandbox: {out}",
        field(&r, "count")
    );
    ensure!(
        field(&r, "contents") == &serde_json::json!(names),
        "contents in arrival order: {:?}",
        field(&r, "contents")
    );
    Ok(())
}

fn is_cloexec(fd: &OwnedFd) -> bool {
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_ok_and(|f| f & libc::FD_CLOEXEC != 0)
}

fn stdio_fds_from_sandbox_arrive_in_order(cx: &Ctx) -> CaseResult {
    let sock_dir = cx.fx.dir("sock");
    let path = sock_dir.join("s.sock");
    let listener = Listener::bind(&path).map_err(|e| e.to_string())?;
    let run = cx.run().read(&sock_dir).stdin("from-stdin");
    let worker = in_background(
        run,
        ["send-fds-unix", s(&path), "0", "1", "2"]
            .map(String::from)
            .to_vec(),
    );
    let conn = accept(&listener)?;
    let received =
        fdpass::recv_fds(&conn, 3).map_err(|e| format!("receiving the probe's stdio: {e}"))?;
    let cloexec: Vec<bool> = received.iter().map(is_cloexec).collect();
    let mut files: Vec<std::fs::File> = received.into_iter().map(std::fs::File::from).collect();
    let mut stdin = String::new();
    files[0]
        .read_to_string(&mut stdin)
        .map_err(|e| format!("reading the received stdin: {e}"))?;
    files[1]
        .write_all(b"via-fd1\n")
        .map_err(|e| format!("writing the received stdout: {e}"))?;
    files[2]
        .write_all(b"via-fd2\n")
        .map_err(|e| format!("writing the received stderr: {e}"))?;
    drop(files);
    drop(conn);
    let out = worker.join().map_err(|_| "the run thread panicked")?;
    expect_class(&out.probe()?, Class::Allowed, "sending stdio")?;
    ensure!(
        stdin == "from-stdin",
        "the first fd read {stdin:?}, not the program's stdin"
    );
    ensure!(
        out.stdout.contains("via-fd1"),
        "the second fd is not the program's stdout: {out}"
    );
    ensure!(
        out.stderr.contains("via-fd2"),
        "the third fd is not the program's stderr: {out}"
    );
    ensure!(
        cloexec == [true, true, true],
        "received fds close-on-exec: {cloexec:?}"
    );
    Ok(())
}

/// A non-blocking pipe: the read end reports end-of-file only once every copy of the write
/// end, anywhere, is closed.
fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    // pipe() then flags, rather than Linux's pipe2, so the battery compiles everywhere.
    let (r, w) = nix::unistd::pipe().map_err(|e| e.to_string())?;
    for end in [&r, &w] {
        nix::fcntl::fcntl(end, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC)).map_err(|e| e.to_string())?;
    }
    nix::fcntl::fcntl(
        &r,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .map_err(|e| e.to_string())?;
    Ok((r, w))
}

fn writers_all_closed(r: &OwnedFd) -> bool {
    matches!(nix::unistd::read(r, &mut [0u8; 8]), Ok(0))
}

/// The probe echoes our pipe's write end `copies` times in one message; we receive with
/// room for 3. Returns what the receiver said and whether the pipe then shows every write
/// end closed (the probe has exited, our own copy is dropped, `keep` is dropped last).
fn echo_round(cx: &Ctx, copies: usize) -> Result<(Result<usize, Error>, bool, bool), String> {
    let sock_dir = cx.fx.dir("sock");
    let path = sock_dir.join(format!("echo-{copies}.sock"));
    let listener = Listener::bind(&path).map_err(|e| e.to_string())?;
    let (r, w) = pipe()?;
    let worker = in_background(
        cx.run().read(&sock_dir),
        vec!["echo-fd-unix".into(), s(&path).into(), copies.to_string()],
    );
    let conn = accept(&listener)?;
    fdpass::send_fds(&conn, &[w.as_fd()]).map_err(|e| e.to_string())?;
    drop(w);
    let got = fdpass::recv_fds(&conn, 3);
    drop(conn);
    let out = worker.join().map_err(|_| "the run thread panicked")?;
    expect_class(&out.probe()?, Class::Allowed, "the probe echoing the fd")?;
    let (count, kept) = match got {
        Ok(fds) => (Ok(fds.len()), Some(fds)),
        Err(e) => (Err(e), None),
    };
    let closed_while_kept = writers_all_closed(&r);
    drop(kept);
    Ok((count, closed_while_kept, writers_all_closed(&r)))
}

fn wrong_count_and_truncated_control_refused_and_closed(cx: &Ctx) -> CaseResult {
    let (control, closed_while_kept, closed_after) = echo_round(cx, 3)?;
    ensure!(
        matches!(control, Ok(3)),
        "control: three fds for room for three: {control:?}"
    );
    ensure!(!closed_while_kept && closed_after, "control: the pipe check cannot see held fds (held: {closed_while_kept}, after: {closed_after})");

    let (fewer, closed, _) = echo_round(cx, 2)?;
    ensure!(
        matches!(
            fewer,
            Err(Error::WrongFdCount {
                expected: 3,
                got: 2
            })
        ),
        "two fds where three were expected: {fewer:?}"
    );
    ensure!(
        closed,
        "after refusing two fds the receiver still holds one of them"
    );

    let (many, closed, _) = echo_round(cx, 12)?;
    ensure!(
        matches!(many, Err(Error::ControlTruncated { .. })),
        "twelve fds with room for three: {many:?}"
    );
    ensure!(
        closed,
        "after the truncated message the receiver still holds an fd that arrived"
    );
    Ok(())
}

/// Forks a client that (optionally as uid/gid 65534) connects to `dir/name` and sends one
/// request; its exit code says what it saw: 0 hang-up without an answer, 1 an answer,
/// 2 connect failed, 3 nothing within 5 s, 4 setup failed.
fn client_process(dir: &Path, name: &str, as_nobody: bool) -> Result<nix::unistd::Pid, String> {
    use std::ffi::CString;
    let dir_c = CString::new(s(dir)).map_err(|e| e.to_string())?;
    let name_c = CString::new(name).map_err(|e| e.to_string())?;
    let payload = br#"{"Request":{"request_id":"peer","path":"/","access":"Read","reason":null,"child_pid":0,"session_id":"peer"}}"#;
    let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    // SAFETY: the child only makes raw syscalls on memory prepared before the fork.
    match unsafe { nix::unistd::fork() }.map_err(|e| e.to_string())? {
        nix::unistd::ForkResult::Parent { child } => Ok(child),
        nix::unistd::ForkResult::Child => unsafe {
            let dirfd = libc::open(dir_c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            if dirfd < 0 {
                libc::_exit(4);
            }
            if as_nobody
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0)
            {
                libc::_exit(4);
            }
            // fchdir needs search permission on this directory only, not on its ancestors.
            if libc::fchdir(dirfd) != 0 {
                libc::_exit(4);
            }
            let sock = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            let mut addr: libc::sockaddr_un = std::mem::zeroed();
            addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (i, b) in name_c.as_bytes().iter().enumerate() {
                addr.sun_path[i] = *b as libc::c_char;
            }
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            if libc::connect(
                sock,
                &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                len,
            ) != 0
            {
                libc::_exit(2);
            }
            libc::write(sock, frame.as_ptr().cast(), frame.len());
            let mut pfd = libc::pollfd {
                fd: sock,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut pfd, 1, 5000) <= 0 {
                libc::_exit(3);
            }
            let mut byte = 0u8;
            let n = libc::read(sock, (&mut byte as *mut u8).cast(), 1);
            libc::_exit(if n > 0 { 1 } else { 0 });
        },
    }
}

fn exit_code(pid: nix::unistd::Pid) -> Result<i32, String> {
    match nix::sys::wait::waitpid(pid, None).map_err(|e| e.to_string())? {
        nix::sys::wait::WaitStatus::Exited(_, code) => Ok(code),
        other => Err(format!("client ended with {other:?}")),
    }
}

fn other_uid_refused(cx: &Ctx) -> CaseResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = cx.fx.dir("peer");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    let path = dir.join("s.sock");
    let listener = Listener::bind(&path).map_err(|e| e.to_string())?;
    // Widen the file on purpose so that the other uid gets past the file mode: what is
    // tested is the second layer, the peer check on accept.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| e.to_string())?;

    let nobody = client_process(&dir, "s.sock", true)?;
    let refused = listener.accept_timeout(Duration::from_secs(10));
    let code = exit_code(nobody)?;
    ensure!(
        code != 2,
        "setup: uid 65534 could not connect at all (exit {code}); the peer check was not reached"
    );
    match refused {
        Err(Error::PeerRefused { uid: 65534, .. }) => {}
        Err(e) => {
            return Err(format!(
                "a peer of uid 65534: expected a refusal naming its uid, got: {e}"
            ))
        }
        Ok((_, peer)) => return Err(format!("a peer of uid {} was accepted", peer.uid)),
    }
    ensure!(code == 0, "the refused peer was answered or left waiting (client exit {code}: 1 answered, 3 no hang-up)");

    let same = client_process(&dir, "s.sock", false)?;
    let (conn, _) = listener
        .accept_timeout(Duration::from_secs(10))
        .map_err(|e| format!("control: same-uid peer: {e}"))?;
    let served = Supervisor::new(RequestPolicy::deny_all()).quiet();
    let server = std::thread::spawn(move || {
        let mut served = served;
        served.serve(&conn)
    });
    let code = exit_code(same)?;
    ensure!(
        code == 1,
        "control: a peer of our own uid was not answered (client exit {code})"
    );
    let _ = server.join();
    Ok(())
}
