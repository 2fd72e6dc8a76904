//! The supervisor socket library, checked directly: what no command line of an
//! implementation exposes, so the conformance suite cannot check it black-box (SPEC §18:
//! IPC-FRAME-003, IPC-SOCK-002, IPC-PEER-001, IPC-FD-003).
//!
//! * Every wire vector in `fixtures/ipc/` decodes to the message type, or fails with the
//!   error kind, the vector names. Another implementation can hold its own decoder to the
//!   same file.
//! * A listener's socket file is owner-only even under umask 0, and removed on drop.
//! * A listener refuses a peer of another uid without answering it, and serves its own uid.
//!
//! (Wrong fd counts and truncated control data are pinned by the unit tests of
//! `ipc::fdpass`.)

mod common;

use nono_reference::ipc::message;
use nono_reference::ipc::request::{RequestPolicy, RequestServer};
use nono_reference::ipc::socket::Listener;
use nono_reference::ipc::Error;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// Bytes written as hex in a vector (`"ff00"`).
fn decode_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd-length hex {hex:?}");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {hex:?}"))).collect()
}

/// The byte stream a vector describes: segments `{"hex": ..}` or `{"text": ..}`, each
/// optionally repeated `"repeat"` times.
fn stream_bytes(vector: &Value) -> Vec<u8> {
    let mut out = vec![];
    for seg in vector["frame"].as_array().expect("a frame array") {
        let bytes = match (seg.get("hex").and_then(Value::as_str), seg.get("text").and_then(Value::as_str)) {
            (Some(hex), None) => decode_hex(hex),
            (None, Some(text)) => text.as_bytes().to_vec(),
            _ => panic!("segment {seg} needs exactly one of hex, text"),
        };
        let repeat = seg.get("repeat").map_or(1, |r| r.as_u64().expect("repeat is a number"));
        for _ in 0..repeat {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

#[test]
fn wire_vectors_decode_to_the_named_type_or_error() {
    let mut checked = 0;
    let mut failures = vec![];
    for vector in &common::vectors("ipc") {
        let id = vector["id"].as_str().unwrap();
        let bytes = stream_bytes(vector);
        let outcome = match vector["direction"].as_str() {
            Some("to_supervisor") => message::decode_to_supervisor(&bytes).map(|m| m.type_name()),
            Some("to_child") => message::decode_to_child(&bytes).map(|m| m.type_name()),
            other => panic!("vector {id}: unknown direction {other:?}"),
        };
        let expect = &vector["expect"];
        let matched = match (&outcome, expect["ok"].as_str(), expect["error"].as_str()) {
            (Ok(got), Some(want), None) => *got == want,
            (Err(e), None, Some(want)) => e.kind() == want,
            _ => false,
        };
        if !matched {
            failures.push(format!("{id}: {} bytes gave {outcome:?}; expected {expect}", bytes.len()));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{} of {checked} vectors failed:\n{}", failures.len(), failures.join("\n"));
}

/// Sets the process umask while alive. This test binary's tests that touch the umask run
/// in one test function, so nothing races it.
struct Umask(nix::sys::stat::Mode);

impl Umask {
    fn set(bits: u32) -> Umask {
        Umask(nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(bits as _)))
    }
}

impl Drop for Umask {
    fn drop(&mut self) {
        nix::sys::stat::umask(self.0);
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn listener_is_owner_only_under_umask_0_and_removed_on_drop() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let _umask = Umask::set(0);

    // Control: a plain bind under umask 0 is open to others, so the check below can fail.
    let naive = dir.path().join("plain.sock");
    drop(std::os::unix::net::UnixListener::bind(&naive).unwrap());
    assert!(mode_of(&naive) & 0o077 != 0, "control: under umask 0 a plain bind is {:o}", mode_of(&naive));

    let path = dir.path().join("sup.sock");
    let listener = Listener::bind(&path).unwrap();
    assert_eq!(mode_of(&path) & 0o077, 0, "the listener's socket file has mode {:o}", mode_of(&path));
    drop(listener);
    assert!(!path.exists(), "the socket file is still there after the listener was dropped");
}

/// Forks a client that (optionally as uid/gid 65534) connects to `dir/name` and sends one
/// request; its exit code says what it saw: 0 hang-up without an answer, 1 an answer,
/// 2 connect failed, 3 nothing within 5 s, 4 setup failed.
fn client_process(dir: &Path, name: &str, as_nobody: bool) -> nix::unistd::Pid {
    use std::ffi::CString;
    let dir_c = CString::new(dir.to_str().unwrap()).unwrap();
    let name_c = CString::new(name).unwrap();
    let payload = br#"{"Request":{"request_id":"peer","path":"/","access":"Read","reason":null,"child_pid":0,"session_id":"peer"}}"#;
    let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    // SAFETY: the child only makes raw syscalls on memory prepared before the fork.
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Parent { child } => child,
        nix::unistd::ForkResult::Child => unsafe {
            let dirfd = libc::open(dir_c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            if dirfd < 0 {
                libc::_exit(4);
            }
            if as_nobody && (libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
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
            if libc::connect(sock, &addr as *const libc::sockaddr_un as *const libc::sockaddr, len) != 0 {
                libc::_exit(2);
            }
            libc::write(sock, frame.as_ptr().cast(), frame.len());
            let mut pfd = libc::pollfd { fd: sock, events: libc::POLLIN, revents: 0 };
            if libc::poll(&mut pfd, 1, 5000) <= 0 {
                libc::_exit(3);
            }
            let mut byte = 0u8;
            let n = libc::read(sock, (&mut byte as *mut u8).cast(), 1);
            libc::_exit(if n > 0 { 1 } else { 0 });
        },
    }
}

fn exit_code(pid: nix::unistd::Pid) -> i32 {
    match nix::sys::wait::waitpid(pid, None).unwrap() {
        nix::sys::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("client ended with {other:?}"),
    }
}

/// Needs root (the client changes to another uid). Without it the test fails with that
/// reason rather than passing without having checked anything; CI runs as root.
#[test]
fn listener_refuses_a_peer_of_another_uid_and_serves_its_own() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: the client must change to another uid (run as root, or exclude this test with -E 'not test(other_uid)')"
    );
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = root.path().join("peer");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("s.sock");
    let listener = Listener::bind(&path).unwrap();
    // Widen the file on purpose so that the other uid gets past the file mode: what is
    // tested is the second layer, the peer check on accept.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();

    let nobody = client_process(&dir, "s.sock", true);
    let refused = listener.accept_timeout(Duration::from_secs(10));
    let code = exit_code(nobody);
    assert_ne!(code, 2, "setup: uid 65534 could not connect at all; the peer check was not reached");
    match refused {
        Err(Error::PeerRefused { uid: 65534, .. }) => {}
        Err(e) => panic!("a peer of uid 65534: expected a refusal naming its uid, got: {e}"),
        Ok((_, peer)) => panic!("a peer of uid {} was accepted", peer.uid),
    }
    assert_eq!(code, 0, "the refused peer was answered or left waiting (1 answered, 3 no hang-up)");

    let same = client_process(&dir, "s.sock", false);
    let (conn, _) = listener.accept_timeout(Duration::from_secs(10)).expect("control: a same-uid peer connects");
    let server = std::thread::spawn(move || {
        let mut served = RequestServer::new(RequestPolicy::deny_all()).quiet();
        served.serve(&conn)
    });
    assert_eq!(exit_code(same), 1, "control: a peer of our own uid was not answered");
    let _ = server.join();
}
