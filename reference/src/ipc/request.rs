//! The capability-request flow, supervisor side: a sandboxed program asks for a path, the
//! supervisor decides, and on a grant opens the path itself and passes the fd. The
//! program's side is [`super::client`].
//!
//! # Deciding
//!
//! [`RequestServer::decide`] checks, in order, and denies with a reason at the first failure:
//!
//! 1. the `request_id` is non-empty and new in this session (a repeat is a replay; at most
//!    [`MAX_TRACKED_IDS`] ids are tracked, after which every request is denied);
//! 2. the path is absolute (the supervisor's working directory is not the child's);
//! 3. the path resolves (symlinks followed) to an existing object;
//! 4. the [`RequestPolicy`] covers the resolved path with the access asked for, or, when a
//!    terminal is attached, the user says yes at the prompt;
//! 5. the supervisor can open it (never blocking: FIFOs are opened non-blocking), it is a
//!    regular file or (for reading) a directory, and, on Linux, the object opened is still
//!    at the resolved path, so a symlink swapped in between check and open gains nothing.
//!
//! The child's `reason`, `child_pid` and `session_id` are shown and logged, never trusted.
//!
//! # Answering
//!
//! A grant sends the fd first ([`super::fdpass`], one message) and then the `Granted`
//! decision frame; a denial sends only the frame. If passing the fd fails, the decision
//! becomes a denial saying so. A malformed frame whose framing is intact (not JSON, a
//! message of the wrong type, wrong fields) is skipped and the next one read; a frame that
//! breaks the framing (oversized or truncated) ends the connection, since nothing after it
//! can be trusted to start on a frame boundary.

use super::error::{Error, Result};
use super::fdpass;
use super::frame;
use super::message::{self, ApprovalDecision, CapabilityRequest, ToChild, ToSupervisor};
use crate::capability::{AccessMode, FsCapability};
use std::collections::HashSet;
use std::io::{BufRead, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Request ids remembered per session for replay detection (as in nono).
pub const MAX_TRACKED_IDS: usize = 4096;

/// What the supervisor grants without asking anyone: paths beneath these grants, with at
/// most their access. These grants are not part of the sandbox itself; the program reaches
/// them only through the supervisor, one request at a time.
#[derive(Clone, Debug, Default)]
pub struct RequestPolicy {
    /// Directory (recursive) and file grants, with resolved paths.
    pub grants: Vec<FsCapability>,
}

impl RequestPolicy {
    /// A policy that grants nothing by itself (requests are denied, or asked at a terminal).
    pub fn deny_all() -> Self {
        RequestPolicy::default()
    }

    /// True when the grants covering `resolved` add up to at least `access`.
    pub fn covers(&self, resolved: &Path, access: AccessMode) -> bool {
        let granted = self
            .grants
            .iter()
            .filter(|g| {
                if g.is_file {
                    resolved == g.resolved
                } else {
                    resolved.starts_with(&g.resolved)
                }
            })
            .map(|g| g.access)
            .reduce(AccessMode::union);
        granted.is_some_and(|g| g == AccessMode::ReadWrite || g == access)
    }
}

/// Asks a person about a request that the policy does not cover.
pub trait Prompt: Send {
    /// True to grant `access` to `resolved` for `request`.
    fn ask(&mut self, request: &CapabilityRequest, resolved: &Path) -> bool;
}

/// Asks on the controlling terminal (`/dev/tty`), answering `y` or `yes` to grant.
pub struct TerminalPrompt {
    tty: std::fs::File,
}

impl TerminalPrompt {
    /// A prompt, only when stdin is a terminal and `/dev/tty` can be opened.
    pub fn open() -> Option<TerminalPrompt> {
        if !nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
            return None;
        }
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        Some(TerminalPrompt { tty })
    }
}

impl Prompt for TerminalPrompt {
    fn ask(&mut self, request: &CapabilityRequest, resolved: &Path) -> bool {
        // Everything the child wrote is shown escaped ({:?}): no terminal control sequences.
        let question = format!(
            "\nnono-ref: the sandboxed program (pid {}) asks for {} access to {:?}\n  reason: {:?}\nAllow? [y/N] ",
            request.child_pid,
            request.access.label(),
            resolved,
            request.reason.as_deref().unwrap_or("(none given)"),
        );
        if self.tty.write_all(question.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let mut reader = std::io::BufReader::new((&self.tty).take(64));
        if reader.read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }
}

/// The supervisor's side of the socket: decides requests and answers them.
pub struct RequestServer {
    policy: RequestPolicy,
    prompt: Option<Box<dyn Prompt>>,
    seen: HashSet<String>,
    quiet: bool,
}

impl RequestServer {
    /// A supervisor deciding with `policy` alone.
    pub fn new(policy: RequestPolicy) -> RequestServer {
        RequestServer {
            policy,
            prompt: None,
            seen: HashSet::new(),
            quiet: false,
        }
    }

    /// Also asks `prompt` about requests the policy does not cover.
    pub fn with_prompt(mut self, prompt: Box<dyn Prompt>) -> RequestServer {
        self.prompt = Some(prompt);
        self
    }

    /// Does not report malformed messages on stderr.
    pub fn quiet(mut self) -> RequestServer {
        self.quiet = true;
        self
    }

    /// Decides one request; on a grant, returns the opened fd.
    pub fn decide(&mut self, request: &CapabilityRequest) -> (Option<OwnedFd>, ApprovalDecision) {
        match self.try_grant(request) {
            Ok(fd) => (Some(fd), ApprovalDecision::Granted),
            Err(reason) => (None, ApprovalDecision::Denied { reason }),
        }
    }

    fn try_grant(&mut self, request: &CapabilityRequest) -> std::result::Result<OwnedFd, String> {
        if request.request_id.is_empty() {
            return Err("request_id must not be empty".into());
        }
        if self.seen.contains(&request.request_id) {
            return Err(format!(
                "duplicate request_id {:?} rejected (replay detected)",
                request.request_id
            ));
        }
        if self.seen.len() >= MAX_TRACKED_IDS {
            return Err(format!(
                "request limit reached: {MAX_TRACKED_IDS} requests in this session"
            ));
        }
        self.seen.insert(request.request_id.clone());

        let path = &request.path;
        if !path.is_absolute() {
            return Err(format!("path must be absolute: {:?}", path));
        }
        let resolved =
            std::fs::canonicalize(path).map_err(|e| format!("cannot resolve {:?}: {e}", path))?;
        let covered = self.policy.covers(&resolved, request.access);
        if !covered {
            let asked = self.prompt.as_mut().map(|p| p.ask(request, &resolved));
            match asked {
                Some(true) => {}
                Some(false) => return Err(format!("denied by the user: {:?}", resolved)),
                None => {
                    return Err(format!(
                        "not covered by the request policy: {} access to {:?}",
                        request.access.label(),
                        resolved
                    ))
                }
            }
        }
        open_checked(&resolved, request.access)
    }

    /// Answers one message: the fd to pass first (if any) and the message to send.
    pub fn answer(&mut self, msg: &ToSupervisor) -> (Option<OwnedFd>, ToChild) {
        match msg {
            ToSupervisor::Request(request) => {
                let (fd, decision) = self.decide(request);
                (
                    fd,
                    ToChild::Decision {
                        request_id: request.request_id.clone(),
                        decision,
                    },
                )
            }
            ToSupervisor::OpenUrl(open) => (
                None,
                ToChild::UrlOpened {
                    request_id: open.request_id.clone(),
                    success: false,
                    error: Some("nono-ref does not open URLs".into()),
                },
            ),
        }
    }

    /// Serves one connection until the peer hangs up (`Ok`) or the framing breaks (`Err`).
    pub fn serve(&mut self, conn: &UnixStream) -> Result<()> {
        loop {
            let payload = match frame::read_frame(&mut &*conn) {
                Ok(payload) => payload,
                Err(Error::Closed) => return Ok(()),
                Err(e) => return Err(e),
            };
            let msg = match message::parse_to_supervisor(&payload) {
                Ok(msg) => msg,
                Err(e) => {
                    if !self.quiet {
                        eprintln!("nono-ref: supervisor: ignored a malformed message: {e}");
                    }
                    continue;
                }
            };
            let (fd, answer) = self.answer(&msg);
            send_answer(conn, fd, answer)?;
        }
    }
}

/// Sends the fd (if any) and then the answer. If the fd cannot be sent, the answer becomes
/// a denial saying so.
fn send_answer(conn: &UnixStream, fd: Option<OwnedFd>, mut answer: ToChild) -> Result<()> {
    if let Some(fd) = fd {
        if let Err(e) = fdpass::send_fds(conn, &[fd.as_fd()]) {
            if let ToChild::Decision { decision, .. } = &mut answer {
                *decision =
                    ApprovalDecision::denied(format!("Failed to send file descriptor: {e}"));
            }
        }
        // Our copy closes here; the child's copy is its own.
    }
    frame::write_frame(&mut &*conn, &message::to_payload(&answer))
}

/// Opens `resolved` with `access`, refusing anything but a regular file or a directory to
/// read, and (on Linux) anything that is no longer at `resolved`.
fn open_checked(resolved: &Path, access: AccessMode) -> std::result::Result<OwnedFd, String> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::{fstat, Mode, SFlag};
    let mode = match access {
        AccessMode::Read => OFlag::O_RDONLY,
        AccessMode::Write => OFlag::O_WRONLY,
        AccessMode::ReadWrite => OFlag::O_RDWR,
    };
    let flags = mode | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK;
    let fd = open(resolved, flags, Mode::empty()).map_err(|e| {
        format!(
            "Supervisor failed to open path: {:?}: {}",
            resolved,
            std::io::Error::from(e)
        )
    })?;
    let st = fstat(&fd).map_err(|e| format!("Supervisor failed to inspect {:?}: {e}", resolved))?;
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    let allowed = kind == SFlag::S_IFREG || (kind == SFlag::S_IFDIR && access == AccessMode::Read);
    if !allowed {
        return Err(format!(
            "not a regular file (or a directory to read): {:?}",
            resolved
        ));
    }
    still_at(&fd, resolved)?;
    // The status flags are shared with the child: give it an ordinary blocking fd.
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()))
        .map_err(|e| format!("Supervisor failed to prepare {:?}: {e}", resolved))?;
    Ok(fd)
}

#[cfg(target_os = "linux")]
fn still_at(fd: &OwnedFd, resolved: &Path) -> std::result::Result<(), String> {
    let actual = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd)))
        .map_err(|e| format!("cannot verify what was opened for {:?}: {e}", resolved))?;
    if actual != resolved {
        return Err(format!(
            "{:?} changed while it was being opened (now {:?})",
            resolved, actual
        ));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn still_at(_fd: &OwnedFd, _resolved: &Path) -> std::result::Result<(), String> {
    Ok(()) // O_NOFOLLOW on the resolved path is the guard here.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Source;
    use std::io::Seek;
    use std::path::PathBuf;

    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }
        fn file(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.path(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        }
        fn policy(&self, dir: &str, access: AccessMode) -> RequestPolicy {
            let d = self.path(dir);
            std::fs::create_dir_all(&d).unwrap();
            RequestPolicy {
                grants: vec![
                    FsCapability::directory("--request", &d, access, Source::User).unwrap(),
                ],
            }
        }
    }

    fn req(id: &str, path: &Path, access: AccessMode) -> CapabilityRequest {
        CapabilityRequest {
            request_id: id.into(),
            path: path.into(),
            access,
            reason: Some("test".into()),
            child_pid: 1,
            session_id: "s".into(),
        }
    }

    fn reason(d: &ApprovalDecision) -> &str {
        match d {
            ApprovalDecision::Denied { reason } => reason,
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn grant_opens_with_the_requested_mode_and_nothing_more() {
        let fx = Fixture::new();
        let file = fx.file("req/a.txt", "alpha");
        let mut sup = RequestServer::new(fx.policy("req", AccessMode::Read));
        let (fd, decision) = sup.decide(&req("1", &file, AccessMode::Read));
        assert!(decision.is_granted(), "{decision:?}");
        let mut f = std::fs::File::from(fd.unwrap());
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "alpha");
        assert!(
            f.write_all(b"x").is_err(),
            "a read grant's fd must not write"
        );

        let (fd, decision) = sup.decide(&req("2", &file, AccessMode::Write));
        assert!(fd.is_none());
        assert!(reason(&decision).contains("not covered"), "{decision:?}");
    }

    #[test]
    fn denials_carry_reasons() {
        let fx = Fixture::new();
        let inside = fx.file("req/in", "x");
        let outside = fx.file("other/out", "x");
        std::os::unix::fs::symlink(&outside, fx.path("req/link")).unwrap();
        let mut sup = RequestServer::new(fx.policy("req", AccessMode::ReadWrite));
        let cases: [(&str, PathBuf, &str); 5] = [
            ("a", outside.clone(), "not covered"),
            ("b", PathBuf::from("relative/in"), "absolute"),
            ("c", fx.path("req/missing"), "cannot resolve"),
            ("d", fx.path("req/link"), "not covered"),
            ("", inside.clone(), "request_id"),
        ];
        for (id, path, want) in cases {
            let (fd, decision) = sup.decide(&req(id, &path, AccessMode::Read));
            assert!(fd.is_none(), "{path:?} got an fd");
            assert!(reason(&decision).contains(want), "{path:?}: {decision:?}");
        }
        let (_, ok) = sup.decide(&req("e", &inside, AccessMode::ReadWrite));
        assert!(ok.is_granted(), "control: {ok:?}");
        let (_, replay) = sup.decide(&req("e", &inside, AccessMode::Read));
        assert!(reason(&replay).contains("replay"), "{replay:?}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_the_supervisor() {
        let fx = Fixture::new();
        let fifo = fx.path("req/fifo");
        std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let mut sup = RequestServer::new(fx.policy("req", AccessMode::Read));
        let (fd, decision) = sup.decide(&req("1", &fifo, AccessMode::Read));
        assert!(fd.is_none());
        assert!(reason(&decision).contains("regular file"), "{decision:?}");
    }

    struct Answer(bool, usize);
    impl Prompt for Answer {
        fn ask(&mut self, _: &CapabilityRequest, _: &Path) -> bool {
            self.1 += 1;
            self.0
        }
    }

    #[test]
    fn prompt_decides_only_what_the_policy_does_not_cover() {
        let fx = Fixture::new();
        let outside = fx.file("other/out", "o");
        let mut yes =
            RequestServer::new(RequestPolicy::deny_all()).with_prompt(Box::new(Answer(true, 0)));
        assert!(yes
            .decide(&req("1", &outside, AccessMode::Read))
            .1
            .is_granted());
        let mut no =
            RequestServer::new(RequestPolicy::deny_all()).with_prompt(Box::new(Answer(false, 0)));
        assert!(reason(&no.decide(&req("1", &outside, AccessMode::Read)).1).contains("user"));
    }

    #[test]
    fn client_and_supervisor_over_a_pair_fd_before_decision() {
        let fx = Fixture::new();
        let file = fx.file("req/f", "payload");
        let policy = fx.policy("req", AccessMode::ReadWrite);
        let (sup_end, child_end) = super::super::socket::pair().unwrap();
        let server = std::thread::spawn(move || RequestServer::new(policy).quiet().serve(&sup_end));
        let mut client = super::super::client::Client::new(child_end);

        let (decision, fd) = client
            .request(&file, AccessMode::ReadWrite, Some("test"))
            .unwrap();
        assert!(decision.is_granted());
        let mut f = std::fs::File::from(fd.unwrap());
        f.write_all(b"PAY").unwrap();
        f.rewind().unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "PAYload");

        // Garbage that keeps the framing is skipped; the next request is answered.
        client
            .stream
            .write_all(&frame::encode(b"not json").unwrap())
            .unwrap();
        let (denied, fd) = client
            .request(&fx.path("nope"), AccessMode::Read, None)
            .unwrap();
        assert!(!denied.is_granted() && fd.is_none());

        // An oversized length ends the connection.
        client.stream.write_all(&[0, 1, 0, 1]).unwrap();
        drop(client);
        let err = server.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), "too_large");
    }

}
