//! Robustness of a live supervisor: 10,000 random frames, each on its own connection, must
//! never crash it, never leak an fd (counted in `/proc/self/fd`, where the serving thread
//! lives too), and leave it answering a valid request afterwards.
//!
//! The frames come from a seeded xorshift generator, so a failure is reproducible; set
//! `NONO_IPC_FUZZ_SEED` to try another seed.

use nono_reference::capability::{AccessMode, FsCapability, Source};
use nono_reference::ipc::frame;
use nono_reference::ipc::client::Client;
use nono_reference::ipc::request::{RequestPolicy, RequestServer};
use nono_reference::ipc::socket::{self, Listener};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const FRAMES: usize = 10_000;

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Between 0 and `max - 1` random bytes.
    fn bytes_below(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("listing /proc/self/fd")
        .count()
}

struct Paths {
    candidates: Vec<String>,
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn request_json(rng: &mut Rng, paths: &Paths) -> Vec<u8> {
    let access = *rng.pick(&["Read", "Write", "ReadWrite", "Execute", "read", ""]);
    let reason = if rng.below(2) == 0 {
        serde_json::Value::Null
    } else {
        "r".repeat(rng.below(300)).into()
    };
    serde_json::json!({"Request": {
        "request_id": format!("id-{}", rng.below(100_000)),
        "path": rng.pick(&paths.candidates),
        "access": access,
        "reason": reason,
        "child_pid": rng.below(70_000),
        "session_id": "fuzz",
    }})
    .to_string()
    .into_bytes()
}

/// JSON-looking noise made of the tokens the parser cares about.
fn token_soup(rng: &mut Rng) -> Vec<u8> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"Request\"",
        "\"Decision\"",
        "\"OpenUrl\"",
        "\"request_id\"",
        "\"path\"",
        "\"access\"",
        "\"Read\"",
        "null",
        "true",
        "-1",
        "4294967296",
        "1e999",
        "\"\\u0000\"",
        "\"\\ud800\"",
        " ",
    ];
    (0..rng.below(60))
        .flat_map(|_| rng.pick(TOKENS).as_bytes().to_vec())
        .collect()
}

/// One connection's worth of bytes, and whether to attach fds to its first byte.
fn random_stream(rng: &mut Rng, paths: &Paths) -> (Vec<u8>, usize) {
    let one = |rng: &mut Rng| -> Vec<u8> {
        match rng.below(5) {
            0 => framed(&rng.bytes_below(2048)),
            1 => framed(&token_soup(rng)),
            2 => framed(&request_json(rng, paths)),
            3 => {
                let mut r = request_json(rng, paths);
                let i = rng.below(r.len());
                r[i] = rng.next() as u8;
                framed(&r)
            }
            _ => framed(br#"{"Decision":{"request_id":"x","decision":"Granted"}}"#),
        }
    };
    let bytes = match rng.below(8) {
        0 => rng.bytes_below(64),
        1 => {
            let len = frame::MAX_PAYLOAD as u64
                + 1
                + rng.next() % (u32::MAX as u64 - frame::MAX_PAYLOAD as u64);
            let mut b = (len as u32).to_be_bytes().to_vec();
            b.extend(rng.bytes_below(32));
            b
        }
        2 => {
            let mut b = one(rng);
            let cut = rng.below(b.len());
            b.truncate(cut);
            b
        }
        3 => (0..2 + rng.below(4)).flat_map(|_| one(rng)).collect(),
        _ => one(rng),
    };
    let fds = if rng.below(10) == 0 {
        1 + rng.below(3)
    } else {
        0
    };
    (bytes, fds)
}

/// Sends a stream (fds riding on its first byte), half-closes, and reads until the
/// supervisor hangs up, so that it has finished with the connection when this returns.
fn send_and_drain(path: &Path, bytes: &[u8], fds: usize, junk: &std::fs::File) {
    let mut conn = socket::connect(path).expect("connecting to the live supervisor");
    let mut rest = bytes;
    if fds > 0 && !bytes.is_empty() {
        let raw = vec![junk.as_raw_fd(); fds];
        let iov = [std::io::IoSlice::new(&bytes[..1])];
        let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&raw)];
        let _ = nix::sys::socket::sendmsg::<nix::sys::socket::UnixAddr>(
            conn.as_raw_fd(),
            &iov,
            &cmsg,
            nix::sys::socket::MsgFlags::empty(),
            None,
        );
        rest = &bytes[1..];
    }
    let _ = conn.write_all(rest);
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = vec![];
    let _ = conn.read_to_end(&mut sink);
}

fn setup(dir: &Path) -> (RequestPolicy, Paths, PathBuf) {
    let req = dir.join("req");
    std::fs::create_dir_all(req.join("sub")).unwrap();
    std::fs::write(req.join("granted.txt"), "granted content").unwrap();
    std::fs::write(dir.join("outside.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(dir.join("outside.txt"), req.join("escape")).unwrap();
    nix::unistd::mkfifo(
        &req.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let policy = RequestPolicy {
        grants: vec![FsCapability::directory(
            "--request-allow",
            &req,
            AccessMode::ReadWrite,
            Source::User,
        )
        .unwrap()],
    };
    let candidates = [
        "granted.txt",
        "sub",
        "escape",
        "fifo",
        "missing",
        "../outside.txt",
    ]
    .iter()
    .map(|n| req.join(n).display().to_string())
    .chain(
        [
            "relative.txt",
            "",
            "/",
            "/proc/self/fd/0",
            "/dev/null",
            "/etc/passwd",
        ]
        .map(String::from),
    )
    .collect();
    (policy, Paths { candidates }, req.join("granted.txt"))
}

#[test]
fn ten_thousand_random_frames_never_crash_leak_or_silence_the_supervisor() {
    let seed = std::env::var("NONO_IPC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6e6f_6e6f_6970_6321u64);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (policy, paths, granted) = setup(dir.path());
    let sock = dir.path().join("sup.sock");
    let listener = Listener::bind(&sock).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut supervisor = RequestServer::new(policy).quiet();
            let mut connections = 0usize;
            loop {
                let accepted = listener.accept();
                // The wake-up connection after `stop` is not counted.
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok((conn, _)) = accepted {
                    connections += 1;
                    let _ = supervisor.serve(&conn);
                }
            }
            connections
        })
    };
    let junk = std::fs::File::open("/dev/null").unwrap();
    let before = fd_count();

    let mut rng = Rng(seed);
    for _ in 0..FRAMES {
        let (bytes, fds) = random_stream(&mut rng, &paths);
        send_and_drain(&sock, &bytes, fds, &junk);
    }

    // Still answering: a fresh, valid request is granted and its fd reads the file.
    let conn = socket::connect(&sock).unwrap();
    let mut client = Client::new(conn.try_clone().unwrap());
    let (decision, fd) = client
        .request(&granted, AccessMode::Read, Some("after the storm"))
        .unwrap();
    assert!(
        decision.is_granted(),
        "seed {seed:#x}: the final valid request got {decision:?}"
    );
    let mut content = String::new();
    std::fs::File::from(fd.unwrap())
        .read_to_string(&mut content)
        .unwrap();
    assert_eq!(content, "granted content");
    drop(client);
    conn.shutdown(Shutdown::Write).unwrap();
    let _ = (&conn).read_to_end(&mut vec![]);
    drop(conn);

    let after = fd_count();
    assert_eq!(
        before, after,
        "seed {seed:#x}: fds in this process before {before}, after {after}"
    );

    stop.store(true, Ordering::SeqCst);
    let _ = UnixStream::connect(&sock);
    let connections = server.join().expect("the supervisor thread panicked");
    assert_eq!(
        connections,
        FRAMES + 1,
        "seed {seed:#x}: the supervisor did not see every connection"
    );
    assert!(!sock.exists(), "the socket file outlived its listener");
}
