//! `nono-ref run`: one sandboxed run, from parsed flags to the program's exit code.
//!
//! The steps, in order (each a module of its own):
//!
//! 1. the policy: flags plus `--profile` become a capability set ([`crate::policy`]), and
//!    the Seatbelt-only flags become Seatbelt options;
//! 2. protected paths no grant may expose refuse the run ([`crate::protected`]);
//!    `--dry-run` stops here and prints the policy;
//! 3. the filtering proxy for `--allow-domain` binds its port ([`crate::proxy`]);
//! 4. `NONO_CAP_FILE` describes the sandbox to the program ([`crate::describe`]);
//! 5. with an active `mediation` block, the session directory, shims and sockets are
//!    created and granted to the agent ([`crate::mediation::session`]);
//! 6. the program's environment: scrubbed ([`crate::env`]), the profile's rules applied,
//!    session and proxy variables set;
//! 7. the sandbox is prepared in the parent, where errors are still clean
//!    ([`crate::sandbox`]);
//! 8. the supervisor forks and execs the program ([`crate::supervisor`]); once the agent
//!    is forked, the mediation server ([`crate::mediation::server`]) and the proxy start
//!    their threads, and the supervisor answers capability requests ([`crate::ipc`]);
//! 9. after the program ended: pending audit lines are written, then the session, the cap
//!    file and the proxy go.

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::ipc::request::{RequestServer, TerminalPrompt};
use crate::ipc::socket::Listener;
use crate::mediation::{self, server::Server, session::MediationSession, wire::vars};
use crate::policy::{self, Policy, Spelling, SystemGrants};
use crate::seatbelt::SeatbeltOptions;
use crate::{describe, env, profile, protected, sandbox, supervisor};
use std::cell::RefCell;
use std::ffi::OsString;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// Runs the program under the sandbox the flags describe; returns its exit code.
pub fn run(mut args: RunArgs) -> Result<i32> {
    let Policy { mut caps, profile, warnings, proxy_hosts } = policy::build(&args.grants, Spelling::Host, SystemGrants::Include)?;
    warn_all(args.silent, &warnings);
    let requests = policy::request_policy(&args.requests)?;
    // In proxy mode `--proxy-port` is the port our proxy listens on (as in nono), not the
    // port of someone else's proxy.
    let proxy_port = if proxy_hosts.is_empty() { None } else { Some(args.seatbelt.proxy_port.take().unwrap_or(0)) };
    let mut macos = policy::seatbelt_options(&args.seatbelt, &mut caps, Spelling::Host)?;
    let protected = protected::bypass(protected::for_this_process(), &args.bypass_protection, &caps)?;
    protected::check(&caps, &protected)?;
    if args.dry_run {
        if !args.silent {
            print_dry_run(&caps, &args, &proxy_hosts);
        }
        return Ok(0);
    }
    // The listener opens now, before the fork, so that its port can go into the ruleset and
    // the environment; it serves from a thread started after the fork.
    let proxy = match proxy_port {
        Some(port) => {
            let bound = crate::proxy::bind(&proxy_hosts, port).map_err(|e| Error::PolicyConflict(e.to_string()))?;
            warn_all(args.silent, &bound.warnings);
            policy::proxy_only(policy::Backend::HOST, &mut caps, &mut macos, bound.port());
            Some(bound)
        }
        None => None,
    };
    let cap_file = cap_file(&mut caps, args.silent)?;
    let supervisor_path = std::env::var_os("PATH");
    let mediation = profile.as_ref().map(|r| &r.profile.mediation).filter(|m| m.is_active());
    let session = match mediation {
        Some(mediation) => Some(start_session(mediation, supervisor_path.as_deref(), &mut caps, &mut macos, args.silent)?),
        None => None,
    };
    let mut env = agent_environment(profile.as_ref());
    // The program is found before the shims lead `PATH`: the agent itself is never a shim.
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    let program = supervisor::resolve_program(&args.command[0], path_var)?;
    if let Some(file) = &cap_file {
        env.push((describe::CAP_FILE_VAR.into(), file.path.clone().into_os_string()));
    }
    if let Some(session) = &session {
        set_vars(&mut env, session.shim_env(supervisor_path.as_deref()));
    }
    if let Some(bound) = &proxy {
        env.retain(|(k, _)| !k.to_str().is_some_and(|k| crate::proxy::ENV_NAMES.contains(&k)));
        env.extend(bound.env_vars().into_iter().map(|(k, v)| (k.into(), v.into())));
    }
    let prepared = sandbox::prepare_with(&caps, &macos)?;
    // The rules hold what they need now. The grants' kept objects close here, so that the
    // supervisor does not pin the granted directories (and their mounts) while the
    // program runs.
    drop(caps);
    let server = match (&session, mediation) {
        (Some(session), Some(mediation)) => Some(
            Server::new(session, mediation.clone(), supervisor_path.as_deref())
                .map_err(|source| Error::Io { context: "sharing the audit socket".into(), source })?,
        ),
        _ => None,
    };
    // Threads start only after the fork (a process must not fork while it has threads):
    // the mediation server, and the proxy.
    let mut after_fork: Vec<supervisor::AfterFork> = vec![];
    if let (Some(session), Some(server)) = (&session, &server) {
        after_fork.push(start_mediation_server(server.clone(), session.mediation.clone()));
    }
    // The running proxy is kept here until the program has ended, then dropped (closed).
    let running_proxy = Rc::new(RefCell::new(None));
    if let Some(bound) = proxy {
        let slot = running_proxy.clone();
        after_fork.push(Box::new(move |_| *slot.borrow_mut() = Some(bound.serve())));
    }
    let after_fork: Option<supervisor::AfterFork> =
        (!after_fork.is_empty()).then(|| Box::new(move |pid| after_fork.into_iter().for_each(|hook| hook(pid))) as supervisor::AfterFork);
    let requests = requests.map(|policy| match TerminalPrompt::open() {
        Some(prompt) => RequestServer::new(policy).with_prompt(Box::new(prompt)),
        None => RequestServer::new(policy),
    });
    let outcome = supervisor::run_with_requests(
        supervisor::Launch { program, argv: args.command.clone(), env, workdir: args.grants.workdir.clone() },
        prepared,
        requests,
        after_fork,
    );
    // Audit events the agent's shims queued before it ended are written first; then the
    // session directory goes, however the program ended.
    if let Some(server) = &server {
        server.drain_audit();
    }
    drop(session);
    drop(cap_file);
    drop(running_proxy);
    outcome
}

fn warn_all(silent: bool, warnings: &[String]) {
    if !silent {
        for warning in warnings {
            eprintln!("nono-ref: warning: {warning}");
        }
    }
}

/// Replaces or adds each variable.
fn set_vars(env: &mut Vec<(OsString, OsString)>, vars: Vec<(OsString, OsString)>) {
    for (name, value) in vars {
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
}

/// The program may read the description of its own sandbox (nono's `NONO_CAP_FILE`); a
/// file that cannot be written only costs the program that description.
fn cap_file(caps: &mut CapabilitySet, silent: bool) -> Result<Option<describe::CapFile>> {
    match describe::CapFile::create(caps) {
        Ok(file) => {
            caps.add(FsCapability::file(describe::CAP_FILE_VAR, &file.path, AccessMode::Read, Source::System)?);
            Ok(Some(file))
        }
        Err(err) => {
            warn_all(silent, &[format!("{err}; the program runs without NONO_CAP_FILE")]);
            Ok(None)
        }
    }
}

/// Creates the mediation session and grants the agent what it needs of it.
fn start_session(
    mediation: &profile::format::Mediation,
    supervisor_path: Option<&std::ffi::OsStr>,
    caps: &mut CapabilitySet,
    macos: &mut SeatbeltOptions,
    silent: bool,
) -> Result<MediationSession> {
    let session = MediationSession::create(mediation, &shim_binary()?, supervisor_path).map_err(|e| Error::PolicyConflict(e.to_string()))?;
    warn_all(silent, &session.warnings);
    for grant in session.agent_grants()? {
        caps.add(grant);
    }
    // Seatbelt counts connecting to a Unix socket as network-outbound; elsewhere the
    // option does not exist (and Landlock does not filter pathname sockets).
    if cfg!(target_os = "macos") {
        macos.unix_sockets.push(mediation::session::socket_grant(&session.dir));
    }
    Ok(session)
}

/// The agent's environment: the inherited variables scrubbed of dangerous ones, the
/// profile's environment rules applied, and no variable of an outer mediation session
/// (this session's are set later).
fn agent_environment(profile: Option<&profile::Resolved>) -> Vec<(OsString, OsString)> {
    let mut env = env::scrub(std::env::vars_os());
    if let Some(resolved) = profile {
        env = profile::apply::environment(env, &resolved.profile);
    }
    env.retain(|(k, _)| !k.to_str().is_some_and(|k| vars::ALL.contains(&k)));
    env
}

/// The hook that starts the mediation server's threads once the agent is forked.
fn start_mediation_server(server: Arc<Server>, listener: Arc<Listener>) -> supervisor::AfterFork {
    Box::new(move |agent_pid| {
        if let Err(e) = server.start(agent_pid, listener) {
            eprintln!("nono-ref: cannot start the mediation server: {e}");
        }
    })
}

/// The shim binary sessions point at: `NONO_SHIM`, else `nono-shim` next to this
/// executable, else on `PATH`.
fn shim_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("NONO_SHIM") {
        return Ok(PathBuf::from(path));
    }
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("nono-shim")));
    if let Some(beside) = beside.filter(|p| p.is_file()) {
        return Ok(beside);
    }
    mediation::session::which("nono-shim", std::env::var_os("PATH").as_deref()).ok_or_else(|| {
        Error::PolicyConflict("mediation: nono-shim was found neither next to nono-ref nor on PATH (set NONO_SHIM)".into())
    })
}

fn print_dry_run(caps: &CapabilitySet, args: &RunArgs, proxy_hosts: &[String]) {
    let info = sandbox::detect();
    if args.json {
        let doc = serde_json::json!({
            "grants": describe::grants_json(caps),
            "capabilities": caps,
            "proxy_hosts": proxy_hosts,
            "backend": info,
            "command": args.command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        });
        println!("{doc}");
        return;
    }
    eprintln!("Capabilities:");
    for line in describe::grant_lines(caps) {
        eprintln!("{line}");
    }
    let net = &caps.network;
    if proxy_hosts.is_empty() {
        eprintln!("  network: {}", if net.block { "outbound blocked" } else { "outbound allowed" });
    } else {
        eprintln!("  network: proxy-only (allowed hosts: {})", proxy_hosts.join(", "));
    }
    if !net.connect_ports.is_empty() {
        eprintln!("  tcp connect ports: {:?}", net.connect_ports);
    }
    if !net.bind_ports.is_empty() {
        eprintln!("  tcp bind ports: {:?}", net.bind_ports);
    }
    eprintln!(
        "  backend: {} (Landlock ABI {}; enforced: {})",
        info.backend,
        info.landlock_abi.unwrap_or(0),
        info.features.join(", ")
    );
    eprintln!("dry-run: sandbox would be applied with the capabilities above");
    let line: Vec<_> = args.command.iter().map(|a| a.to_string_lossy()).collect();
    eprintln!("$ {}", line.join(" "));
}
