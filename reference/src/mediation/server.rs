//! The mediation server: threads in the supervisor that answer shims and record audit
//! events.
//!
//! One thread accepts on the mediation socket and gives each connection a thread of its
//! own, so a slow command never delays another answer. A connection that misbehaves
//! (oversized, truncated or garbage frame, wrong token, missing fds, silence) ends only
//! itself; it runs nothing and leaves no audit line. The threads live as long as the
//! supervisor process; the session directory is removed when the [`MediationSession`] drops.
//!
//! No audit line is lost at the end of a session: a mediated request's line is written
//! before its answer, and an audited shim's datagram is already queued on the audit socket
//! when the shim exits (a Unix datagram `send` returns only once the datagram sits in the
//! receiver's queue). So after the agent has exited, [`Server::drain_audit`] lets the
//! requests still being decided finish and log (a client that died while its command ran
//! still gets its line), then takes every queued datagram under the same lock the audit
//! thread receives and writes under, and the log is complete before the session directory
//! goes.

use super::audit::{scrub_args, AuditEvent, AuditLog};
use super::context::{ContextToken, Contexts};
use super::exec::{self, Plan};
use super::policy::{self, Decision};
use super::session::MediationSession;
use super::wire::{vars, AuditDatagram, ShimRequest, ShimResponse, MAX_REQUEST};
use crate::broker::Broker;
use crate::ipc::{fdpass, frame, socket::Listener};
use crate::profile::format::{Action, Command, CommandSandbox, Mediation};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Everything the server threads share.
pub struct Server {
    mediation: Mediation,
    real_paths: HashMap<String, PathBuf>,
    token: String,
    session_id: String,
    session_name: String,
    /// The supervisor's `PATH`, where the approver is looked up.
    supervisor_path: Option<OsString>,
    shim_env: Vec<(OsString, OsString)>,
    shim_paths: Vec<PathBuf>,
    /// The supervisor's environment, taken when the session started.
    base_env: Vec<(OsString, OsString)>,
    audit: Arc<AuditLog>,
    /// Where audited shims send their events; received only under `audit_turn`.
    audit_socket: std::os::unix::net::UnixDatagram,
    /// Held while datagrams are taken off the socket and written, so a drain at the end
    /// never overtakes a datagram the audit thread has taken but not yet written.
    audit_turn: Mutex<()>,
    /// Authenticated requests not yet logged, and the signal that one finished.
    in_flight: (Mutex<usize>, std::sync::Condvar),
    broker: Mutex<Broker>,
    /// Context tokens issued to the commands the server started.
    contexts: Contexts,
    /// The agent's pid, once forked.
    sandboxed_pid: AtomicU32,
    /// The server's own working directory (device, inode), which it never leaves.
    own_dir: Option<(u64, u64)>,
}

impl Server {
    /// A server for `session`, answering by `mediation` (expanded).
    pub fn new(session: &MediationSession, mediation: Mediation, supervisor_path: Option<&std::ffi::OsStr>) -> std::io::Result<Arc<Server>> {
        Ok(Arc::new(Server {
            audit_socket: session.audit_socket.try_clone()?,
            audit_turn: Mutex::new(()),
            in_flight: (Mutex::new(0), std::sync::Condvar::new()),
            real_paths: session.commands.iter().map(|c| (c.name.clone(), c.real_path.clone())).collect(),
            mediation,
            token: session.token.clone(),
            session_id: session.id.clone(),
            session_name: session.name(),
            supervisor_path: supervisor_path.map(OsString::from),
            shim_env: session.shim_env(supervisor_path),
            shim_paths: vec![session.shim_dir.clone(), session.sources_dir.clone(), session.shim_binary.clone()],
            base_env: std::env::vars_os().collect(),
            audit: session.audit.clone(),
            broker: Mutex::new(Broker::new()),
            contexts: Contexts::default(),
            sandboxed_pid: AtomicU32::new(0),
            own_dir: std::fs::metadata(".").ok().map(|m| (m.dev(), m.ino())),
        }))
    }

    /// Starts the threads on the session's sockets, serving the agent `agent_pid`. Call
    /// after the agent was forked (a process must not fork while it has threads).
    pub fn start(self: &Arc<Self>, agent_pid: u32, listener: Arc<Listener>) -> std::io::Result<()> {
        self.sandboxed_pid.store(agent_pid, Ordering::SeqCst);
        let server = self.clone();
        std::thread::Builder::new().name("nono-mediation".into()).spawn(move || server.accept_loop(listener))?;
        let server = self.clone();
        std::thread::Builder::new().name("nono-audit".into()).spawn(move || server.audit_loop())?;
        Ok(())
    }

    fn accept_loop(self: Arc<Self>, listener: Arc<Listener>) {
        loop {
            // Peers of another uid are refused inside accept; the loop goes on.
            match listener.accept() {
                Ok((conn, peer)) => {
                    let server = self.clone();
                    let pid = peer.pid.map(|p| p as u32);
                    let _ = std::thread::Builder::new().name("nono-request".into()).spawn(move || server.serve(conn, pid));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// One connection, one exchange.
    fn serve(&self, mut conn: UnixStream, peer_pid: Option<u32>) {
        // Oversized, truncated or absent frames: the connection just ends.
        let Ok(payload) = frame::read_frame_limited(&mut conn, MAX_REQUEST) else { return };
        let request: ShimRequest = match serde_json::from_slice(&payload) {
            Ok(request) => request,
            Err(e) => {
                let _ = respond(&mut conn, &ShimResponse::error(127, format!("nono-mediation: invalid request: {e}\n")));
                return;
            }
        };
        if !constant_time_eq(request.session_token.as_bytes(), self.token.as_bytes()) {
            return;
        }
        // `recv_fds` refuses any other count; the array conversion checks it again, so that
        // no count can panic here.
        let received = fdpass::recv_fds(&conn, 3)
            .map_err(|e| e.to_string())
            .and_then(|fds| <[std::os::fd::OwnedFd; 3]>::try_from(fds).map_err(|fds| format!("{} fds, not 3", fds.len())));
        let stdio = match received {
            Ok(stdio) => stdio,
            Err(why) => {
                let _ = respond(&mut conn, &ShimResponse::error(127, format!("nono-mediation: failed to receive stdio fds: {why}\n")));
                return;
            }
        };
        let _logging = InFlight::enter(&self.in_flight);
        let caller = self.contexts.caller(request.env.get(vars::SANDBOX_CONTEXT).map(String::as_str), peer_pid);
        let decision = policy::evaluate(&self.mediation, &caller, &request.command, &request.args);
        let action_type = decision.action_type();
        let response = self.decide(&request, decision, stdio);
        // The line is written before the answer: once the shim has its answer the agent may
        // exit, and the supervisor with it.
        let event = AuditEvent {
            command: request.command.clone(),
            args: scrub_args(&request.args),
            ts: now(),
            exit_code: response.exit_code,
            action_type: Some(action_type.into()),
            command_pid: peer_pid.or(Some(request.pid)),
            ..self.event_base()
        };
        self.log(&event);
        let _ = respond(&mut conn, &response);
    }

    /// Writes one audit line. A line that cannot be written (a full disk) is reported on
    /// the supervisor's stderr, never the program's stdout (MED-AUDIT-009); the request is
    /// still answered, and the log keeps only whole lines (MED-AUDIT-010).
    fn log(&self, event: &AuditEvent) {
        if let Err(e) = self.audit.append(event) {
            eprintln!("nono-ref: cannot write the audit line for '{}' to {}: {e}", event.command, self.audit.path().display());
        }
    }

    fn event_base(&self) -> AuditEvent {
        let sandboxed = self.sandboxed_pid.load(Ordering::SeqCst);
        AuditEvent {
            session_id: self.session_id.clone(),
            session_name: Some(self.session_name.clone()),
            nono_pid: std::process::id(),
            sandboxed_pid: (sandboxed != 0).then_some(sandboxed),
            ..Default::default()
        }
    }

    fn decide(&self, request: &ShimRequest, decision: Decision<'_>, stdio: [std::os::fd::OwnedFd; 3]) -> ShimResponse {
        match decision {
            Decision::Unknown => {
                ShimResponse::error(127, format!("nono-mediation: command '{}' not configured\n", request.command))
            }
            Decision::Denied(why) => ShimResponse::error(126, format!("nono-mediation: {why}\n")),
            Decision::Direct(command) => self.stream(request, command, None, stdio),
            Decision::Passthrough { command, sandbox } => self.stream(request, command, sandbox, stdio),
            Decision::Intercept { command, action, admin } => {
                drop(stdio);
                let approver = || super::approver::find(self.supervisor_path.as_deref());
                if admin && !super::approver::approves(approver().as_deref(), &request.command, &request.args) {
                    return ShimResponse::error(126, format!("nono: '{}' was not approved\n", invocation(request)));
                }
                self.buffered_action(request, command, action)
            }
        }
    }

    /// Runs the real binary streamed, under `sandbox` when the decision gave one.
    fn stream(&self, request: &ShimRequest, command: &Command, sandbox: Option<&CommandSandbox>, stdio: [std::os::fd::OwnedFd; 3]) -> ShimResponse {
        let (context, plan) = match self.plan(request, command, None, sandbox) {
            Ok(plan) => plan,
            Err(message) => return ShimResponse::error(1, message),
        };
        let result = exec::streaming(plan, stdio, |pid| context.bind(pid));
        drop(context);
        match result {
            Ok(code) => ShimResponse { exit_code: code, ..Default::default() },
            Err(e) => ShimResponse::error(1, format!("nono-mediation: exec failed: {e}\n")),
        }
    }

    fn buffered_action(&self, request: &ShimRequest, command: &Command, action: &Action) -> ShimResponse {
        let (script, capture) = match action {
            Action::Respond { stdout, exit_code } => {
                return ShimResponse { stdout: stdout.clone(), stderr: String::new(), exit_code: *exit_code }
            }
            Action::Capture { script } => (script.as_deref(), true),
            Action::Approve { script } => (script.as_deref(), false),
        };
        // Intercept actions run unsandboxed, as in the seed pull request.
        let (context, plan) = match self.plan(request, command, script, None) {
            Ok(plan) => plan,
            Err(message) => return ShimResponse::error(1, message),
        };
        let result = exec::buffered(plan, |pid| context.bind(pid));
        drop(context);
        let output = match result {
            Ok(output) => output,
            Err(e) => return ShimResponse::error(1, format!("nono-mediation: exec failed: {e}\n")),
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !capture || output.exit_code != 0 {
            return ShimResponse { stdout, stderr, exit_code: output.exit_code };
        }
        let secret = stdout.trim().as_bytes().to_vec();
        let issued = self.broker.lock().unwrap_or_else(|p| p.into_inner()).issue(secret);
        match issued {
            Ok(nonce) => ShimResponse { stdout: format!("{}\n", nonce.text()), stderr: String::new(), exit_code: 0 },
            Err(e) => ShimResponse::error(1, format!("nono-mediation: cannot keep the captured value: {e}\n")),
        }
    }

    /// Program, arguments (nonces rewritten), environment, working directory and sandbox,
    /// and the context token the command's own calls will carry.
    fn plan(&self, request: &ShimRequest, command: &Command, script: Option<&str>, sandbox: Option<&CommandSandbox>) -> Result<(ContextToken<'_>, Plan), String> {
        let real = self.real_paths.get(&command.name).cloned().ok_or_else(|| {
            format!("nono-mediation: no real binary for '{}'\n", command.name)
        })?;
        // The supervisor's environment, `mediation.env.block` names included: the block
        // hides them from the agent only (a mediated `gh` keeps the supervisor's GH_TOKEN).
        // Dangerous names never pass, from either side, and `PATH` and `NONO_*` never come
        // from the request.
        let mut env: Vec<(OsString, OsString)> =
            self.base_env.iter().filter(|(k, _)| k.to_str().is_none_or(|k| !crate::env::is_dangerous(k))).cloned().collect();
        for (name, value) in &request.env {
            if crate::env::is_dangerous(name) || name == "PATH" || name.starts_with("NONO_") {
                continue;
            }
            env.retain(|(k, _)| k != name.as_str());
            env.push((name.into(), value.into()));
        }
        let broker = self.broker.lock().unwrap_or_else(|p| p.into_inner());
        let mut env = broker.rewrite_env(env, &[] as &[&str]);
        let args = broker.rewrite_args(&request.args);
        drop(broker);
        let context = self.contexts.issue(&command.name).map_err(|e| format!("nono-mediation: {e}\n"))?;
        for (name, value) in &self.shim_env {
            env.retain(|(k, _)| k != name);
            env.push((name.clone(), value.clone()));
        }
        env.push((vars::SANDBOX_CONTEXT.into(), context.value().into()));
        let cwd = command_dir(request.cwd.as_deref(), self.own_dir);
        let mut proxy = None;
        let sandbox = match sandbox {
            Some(config) => {
                let shims: Vec<&std::path::Path> = self.shim_paths.iter().map(PathBuf::as_path).collect();
                let mut caps = crate::policy::command_sandbox(config, &real, &shims).map_err(|e| format!("nono-mediation: exec failed: {e}\n"))?;
                let mut seatbelt = crate::seatbelt::SeatbeltOptions::default();
                // allowed_hosts without block: the command's own proxy (notes PE-8, SBX-6).
                if !config.network.block && !config.network.allowed_hosts.is_empty() {
                    let handle = crate::proxy::start(&config.network.allowed_hosts, 0)
                        .map_err(|e| format!("nono-mediation: failed to start network proxy: {e}\n"))?;
                    crate::policy::proxy_only(crate::policy::Backend::HOST, &mut caps, &mut seatbelt, handle.port);
                    for (name, value) in handle.env_vars() {
                        env.retain(|(k, _)| k != name.as_str());
                        env.push((name.into(), value.into()));
                    }
                    proxy = Some(handle);
                }
                Some(crate::sandbox::prepare_with(&caps, &seatbelt).map_err(|e| format!("nono-mediation: exec failed: {e}\n"))?)
            }
            None => None,
        };
        let (program, args) = match script {
            Some(script) => (PathBuf::from("/bin/sh"), vec!["-c".into(), script.into()]),
            None => (real, args),
        };
        Ok((context, Plan { program, args, env, cwd, sandbox, proxy }))
    }

    /// Events from audited shims: waits until one is queued, then takes and writes every
    /// queued one (see [`Server::take_queued_audit`]).
    fn audit_loop(self: Arc<Self>) {
        use std::os::fd::AsRawFd;
        loop {
            let mut ready = libc::pollfd { fd: self.audit_socket.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut ready, 1, -1) };
            if n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return;
            }
            self.take_queued_audit();
        }
    }

    /// Writes every audit datagram still queued. Call after the agent has exited and before
    /// the session directory is removed: every shim that finished has queued its event.
    pub fn drain_audit(&self) {
        let (count, finished) = &self.in_flight;
        let deadline = std::time::Instant::now() + IN_FLIGHT_GRACE;
        let mut count = count.lock().unwrap_or_else(|p| p.into_inner());
        while *count > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            count = finished.wait_timeout(count, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        drop(count);
        self.take_queued_audit();
    }

    /// Takes queued datagrams without blocking and writes each as a line, under
    /// `audit_turn`. A datagram that is not an event is skipped; it never stops the loop.
    fn take_queued_audit(&self) {
        let _turn = self.audit_turn.lock().unwrap_or_else(|p| p.into_inner());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match nix::sys::socket::recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.audit_socket),
                &mut buf,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return,
            };
            let Ok(sent) = serde_json::from_slice::<AuditDatagram>(&buf[..n]) else { continue };
            let event = AuditEvent {
                command: sent.command,
                args: scrub_args(&sent.args),
                ts: sent.ts,
                exit_code: sent.exit_code,
                action_type: None,
                command_pid: sent.command_pid,
                ..self.event_base()
            };
            self.log(&event);
        }
    }
}

/// How long the end of a session waits for requests still being decided: long enough for
/// a command that already finished to be logged, short enough that one the agent left
/// running does not hold the supervisor.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(2);

/// Counts a request as in flight until it is logged and answered (or its thread ends).
struct InFlight<'a>(&'a (Mutex<usize>, std::sync::Condvar));

impl<'a> InFlight<'a> {
    fn enter(state: &'a (Mutex<usize>, std::sync::Condvar)) -> InFlight<'a> {
        *state.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        self.0 .1.notify_all();
    }
}

fn respond(conn: &mut UnixStream, response: &ShimResponse) -> crate::ipc::Result<()> {
    let payload = serde_json::to_vec(response).expect("a response always serialises");
    frame::write_frame_limited(conn, &payload, super::wire::MAX_RESPONSE)
}

fn now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn invocation(request: &ShimRequest) -> String {
    std::iter::once(request.command.as_str()).chain(request.args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
}

/// Where a command runs: the caller's directory; else ours, as the fork does for older
/// shims; `/` when ours is gone. None means the server's own directory, which needs no
/// change: a child that changes directory cannot be started with posix_spawn by a
/// statically linked server (std finds no `posix_spawn_file_actions_addchdir_np` there and
/// forks the whole server instead, about half a millisecond per call), and most calls come
/// from the directory the server runs in. Same directory means same object (`own`, the
/// server's device and inode), not same name.
fn command_dir(requested: Option<&str>, own: Option<(u64, u64)>) -> Option<PathBuf> {
    if let Some(dir) = requested {
        if let Some(found) = std::fs::metadata(dir).ok().filter(|m| m.is_dir()) {
            let same = own == Some((found.dev(), found.ino()));
            return (!same).then(|| PathBuf::from(dir));
        }
    }
    match std::env::current_dir() {
        Ok(_) => None,
        Err(_) => Some(PathBuf::from("/")),
    }
}

/// Compares without an early exit, so timing does not tell how much of a token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
