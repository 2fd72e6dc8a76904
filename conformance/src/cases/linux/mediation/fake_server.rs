//! The suite's fake mediation server for the shim cases ([`super::shim`]): a request
//! socket and an audit datagram socket in the case's root, served by the suite's own wire
//! code ([`crate::kit::wire`]), plus the helpers that start the shim under test.

use super::s;
use crate::case::Ctx;
use crate::kit::spawn::{Input, Launch};
use crate::kit::wire;
use serde_json::{json, Value};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub(super) const WAIT: Duration = Duration::from_secs(20);

/// The suite's server: a request socket and an audit socket in the fixture.
pub(super) struct Server {
    pub(super) dir: PathBuf,
    pub(super) listener: UnixListener,
    pub(super) audit: UnixDatagram,
    /// Set once the shim has exited: a server still waiting for it can stop.
    pub(super) shim_done: Arc<AtomicBool>,
}

/// What the server received on one connection.
#[derive(Debug)]
pub(super) struct Received {
    pub(super) request: Value,
    pub(super) data_bytes: usize,
    pub(super) fd_count: usize,
    pub(super) cmsg_count: usize,
}

impl Server {
    pub(super) fn start(cx: &Ctx) -> Server {
        let dir = cx.fx.dir("server");
        let listener = UnixListener::bind(dir.join("mediation.sock"))
            .expect("binding the suite's request socket");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let audit =
            UnixDatagram::bind(dir.join("audit.sock")).expect("binding the suite's audit socket");
        audit
            .set_nonblocking(true)
            .expect("non-blocking audit socket");
        Server {
            dir,
            listener,
            audit,
            shim_done: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(super) fn socket(&self) -> PathBuf {
        self.dir.join("mediation.sock")
    }

    /// The environment of a shim talking to this server.
    pub(super) fn env(&self, mediated: Option<&str>) -> Vec<(String, String)> {
        let mut env = vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("NONO_MEDIATION_SOCKET".into(), s(&self.socket()).into()),
            ("NONO_SESSION_TOKEN".into(), TOKEN.into()),
            (
                "NONO_AUDIT_SOCKET".into(),
                s(&self.dir.join("audit.sock")).into(),
            ),
        ];
        if let Some(list) = mediated {
            env.push(("NONO_MEDIATED_COMMANDS".into(), list.into()));
        }
        env
    }

    /// Serves one connection in a thread: `answer` sees the request and the received
    /// descriptors and returns the answer, or None to hang up without one.
    pub(super) fn serve_one<F>(&self, answer: F) -> std::thread::JoinHandle<Result<Received, String>>
    where
        F: FnOnce(&Value, &[OwnedFd]) -> Option<Value> + Send + 'static,
    {
        let listener = self.listener.try_clone().expect("cloning the listener");
        self.shim_done.store(false, Ordering::SeqCst);
        let shim_done = self.shim_done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + WAIT;
            let mut stream = loop {
                // Checked before accepting, so a connection made just before the shim exited is still taken.
                let gave_up = shim_done.load(Ordering::SeqCst) || Instant::now() > deadline;
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !gave_up => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(e) => return Err(format!("the shim never connected: {e}")),
                }
            };
            stream.set_nonblocking(false).map_err(|e| e.to_string())?;
            stream
                .set_read_timeout(Some(WAIT))
                .map_err(|e| e.to_string())?;
            let body = wire::read_frame(&mut stream, 1 << 20).map_err(|e| format!("reading the request: {e}"))?;
            let request: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("the request is not JSON: {e}"))?;
            let got = wire::recv_fds(stream.as_raw_fd(), &mut [0u8; 16], 8).map_err(|e| format!("recvmsg: {e}"))?;
            let (data_bytes, cmsg_count, fds) = (got.bytes, got.cmsgs, got.fds);
            let received = Received {
                request,
                data_bytes,
                fd_count: fds.len(),
                cmsg_count,
            };
            if let Some(reply) = answer(&received.request, &fds) {
                wire::write_frame(&mut stream, reply.to_string().as_bytes())
                    .map_err(|e| format!("answering: {e}"))?;
            }
            drop(fds);
            Ok(received)
        })
    }

    /// True when a connection is waiting (the shim connected although it should not have).
    pub(super) fn was_contacted(&self) -> bool {
        self.listener.accept().is_ok()
    }

    /// Audit datagrams received so far.
    pub(super) fn datagrams(&self) -> Vec<Value> {
        let mut out = vec![];
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = self.audit.recv(&mut buf) {
            out.push(
                serde_json::from_slice(&buf[..n])
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(&buf[..n]))),
            );
        }
        out
    }
}

/// `shims/<name>` → the shim under test.
pub(super) fn shim_link(cx: &Ctx, name: &str) -> Result<PathBuf, String> {
    if !cx.shim.is_file() {
        return Err(format!(
            "no shim binary at {} (build nono-shim, or set NONO_SHIM)",
            cx.shim.display()
        ));
    }
    let path = cx.fx.path(&format!("shims/{name}"));
    if !path.exists() {
        cx.fx.symlink(&format!("shims/{name}"), &cx.shim);
    }
    Ok(path)
}

/// Runs `program args` with exactly `env`, stdin from `stdin`, in `cwd`; at most [`WAIT`].
pub(super) fn run_shim(
    program: &Path,
    args: &[&str],
    env: &[(String, String)],
    stdin: Stdio,
    cwd: &Path,
) -> Result<(u32, Output), String> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd);
    let done = Launch::new(cmd)
        .input(Input::Given(stdin))
        .deadline(WAIT)
        .run()?;
    Ok((done.pid, done.into()))
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Server {
    /// Runs the shim `program args` in the session this server fakes (`mediated` as
    /// NONO_MEDIATED_COMMANDS), in the case's `work` directory, stdin from `stdin`.
    pub(super) fn run_shim(
        &self,
        cx: &Ctx,
        program: &Path,
        args: &[&str],
        mediated: Option<&str>,
        stdin: Stdio,
    ) -> Result<Output, String> {
        let (_, out) = run_shim(program, args, &self.env(mediated), stdin, &cx.fx.dir("work"))?;
        Ok(out)
    }

    /// The server's view of the connection, once the shim has exited.
    pub(super) fn received(
        &self,
        handle: std::thread::JoinHandle<Result<Received, String>>,
    ) -> Result<Received, String> {
        self.shim_done.store(true, Ordering::SeqCst);
        handle
            .join()
            .map_err(|_| "the suite's server panicked".to_string())?
    }
}

pub(super) fn answer(stdout: &str, stderr: &str, code: i64) -> Value {
    json!({ "stdout": stdout, "stderr": stderr, "exit_code": code })
}
