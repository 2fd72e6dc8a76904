//! The `nono-ref` command line. `run` follows nono's contract (core-spec §5) so that one
//! conformance suite can drive both implementations.

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::error::{Error, Result};
use crate::ipc::request::{RequestPolicy, Supervisor, TerminalPrompt};
use crate::mediation::{server::Server, session::Session};
use crate::profile::{self, apply, expand::Vars, resolve, resolve::Lookup};
use crate::seatbelt::paths::Resolution;
use crate::seatbelt::{DenyPath, NetworkMode, ProcessInfoMode, SeatbeltOptions, SocketMode, SocketScope, UnixSocketGrant};
use crate::{describe, env, protected, sandbox, supervisor, system};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variables that describe a mediation session to the agent and its shims.
const SESSION_VARS: &[&str] = &[
    "NONO_MEDIATION_SOCKET",
    "NONO_SESSION_TOKEN",
    "NONO_SHIM_DIR",
    "NONO_MEDIATED_COMMANDS",
    "NONO_AUDIT_SOCKET",
    "NONO_SHIM_SOURCES_DIR",
    "NONO_SANDBOX_CONTEXT",
];

/// Exit code for errors detected before the sandboxed program starts.
pub const EXIT_ERROR: i32 = 1;

#[derive(Parser)]
#[command(name = "nono-ref", version, about = "Reference nono-compatible capability sandbox")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
enum Command {
    /// Run a program inside the sandbox.
    Run(RunArgs),
    /// Inspect profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Describe this implementation and what the kernel enforces (for conformance suites).
    ConformanceInfo {
        /// Print JSON (the only format; accepted for symmetry with other commands).
        #[arg(long)]
        json: bool,
    },
    /// Print the sandbox profile `run` would apply on a platform, from any host.
    SandboxProfile(SandboxProfileArgs),
    /// Learn Seatbelt rules from kernel deny records, or splice learned rules into a profile.
    Learn(LearnArgs),
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Print a profile with `extends` resolved, parents merged and variables expanded.
    Show {
        /// A built-in or user profile name, or a path to a .json file.
        #[arg(value_name = "NAME|PATH")]
        profile: String,
        /// Print JSON (the only format; accepted for symmetry with nono).
        #[arg(long)]
        json: bool,
        /// Leave `~` and `$VARS` as written.
        #[arg(long)]
        raw: bool,
        /// The directory `$WORKDIR` stands for (default: the current one).
        #[arg(long, value_name = "DIR")]
        workdir: Option<PathBuf>,
    },
    /// Check a profile file (and the profiles it extends); exit 1 with every error found.
    Validate {
        /// The profile file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the verdict as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// The grant flags, shared by every command that builds a capability set.
#[derive(Args)]
pub struct GrantArgs {
    /// Grant read and write on a directory, recursively.
    #[arg(short = 'a', long = "allow", value_name = "DIR")]
    pub allow: Vec<PathBuf>,
    /// Grant read on a directory, recursively.
    #[arg(short = 'r', long = "read", value_name = "DIR")]
    pub read: Vec<PathBuf>,
    /// Grant write (no read) on a directory, recursively.
    #[arg(short = 'w', long = "write", value_name = "DIR")]
    pub write: Vec<PathBuf>,
    /// Grant read and write on one file.
    #[arg(long = "allow-file", value_name = "FILE")]
    pub allow_file: Vec<PathBuf>,
    /// Grant read on one file.
    #[arg(long = "read-file", value_name = "FILE")]
    pub read_file: Vec<PathBuf>,
    /// Grant write on one file.
    #[arg(long = "write-file", value_name = "FILE")]
    pub write_file: Vec<PathBuf>,
    /// Deny every TCP connect and bind (except ports listed below).
    #[arg(long = "block-net", alias = "net-block")]
    pub block_net: bool,
    /// Allow TCP connect to this port (turns TCP connect filtering on).
    #[arg(long = "allow-connect-port", value_name = "PORT")]
    pub allow_connect_port: Vec<u16>,
    /// Allow TCP bind on this port (turns TCP bind filtering on).
    #[arg(long = "listen-port", alias = "allow-bind", value_name = "PORT")]
    pub listen_port: Vec<u16>,
    /// Proxy-only networking: TCP only to a filtering proxy that lets through requests for
    /// this host (`*.example.com` for its subdomains; repeatable).
    #[arg(long = "allow-domain", visible_alias = "proxy-allow", alias = "allow-proxy", value_name = "HOST")]
    pub allow_domain: Vec<String>,
    /// Grant read on the working directory.
    #[arg(long = "allow-cwd")]
    pub allow_cwd: bool,
    /// Working directory of the program (default: the current one).
    #[arg(long = "workdir", value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Apply a profile (a built-in or user profile name, or a path); flags add to it.
    #[arg(short = 'p', long = "profile", value_name = "NAME|PATH")]
    pub profile: Option<String>,
}

impl GrantArgs {
    /// The working directory of the run: `--workdir`, else the current directory.
    pub fn workdir(&self) -> Result<PathBuf> {
        match &self.workdir {
            Some(dir) => Ok(dir.clone()),
            None => current_dir(),
        }
    }
}

fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|source| Error::Io { context: "reading the working directory".into(), source })
}

/// Capability requests: what the supervisor opens for the program on request, through the
/// socket named by `NONO_SUPERVISOR_FD` (see [`crate::ipc`]). These never widen the sandbox
/// itself. Any of them turns the socket on; requests they do not cover are denied, or asked
/// about on the terminal when one is attached.
#[derive(Args)]
pub struct RequestArgs {
    /// On request, open files beneath DIR for reading and pass the fd to the program.
    #[arg(long = "request-read", value_name = "DIR")]
    pub request_read: Vec<PathBuf>,
    /// On request, open files beneath DIR for writing (not reading) and pass the fd.
    #[arg(long = "request-write", value_name = "DIR")]
    pub request_write: Vec<PathBuf>,
    /// On request, open files beneath DIR for reading, writing or both and pass the fd.
    #[arg(long = "request-allow", value_name = "DIR")]
    pub request_allow: Vec<PathBuf>,
    /// Give the program the supervisor socket even with no --request-* directory: every
    /// request is denied (or asked about on the terminal).
    #[arg(long = "request-socket")]
    pub request_socket: bool,
}

/// The request policy the flags describe, or None when the socket is off.
pub fn build_request_policy(args: &RequestArgs) -> Result<Option<RequestPolicy>> {
    let dirs = [
        ("--request-read", &args.request_read, AccessMode::Read),
        ("--request-write", &args.request_write, AccessMode::Write),
        ("--request-allow", &args.request_allow, AccessMode::ReadWrite),
    ];
    let mut policy = RequestPolicy::deny_all();
    for (flag, paths, access) in dirs {
        for path in paths {
            policy.grants.push(FsCapability::directory(flag, path, access, Source::User)?);
        }
    }
    Ok((args.request_socket || !policy.grants.is_empty()).then_some(policy))
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    grants: GrantArgs,
    #[command(flatten)]
    requests: RequestArgs,
    #[command(flatten)]
    seatbelt: SeatbeltArgs,
    /// Print nothing but errors (`--dry-run` included).
    #[arg(short = 's', long = "silent")]
    silent: bool,
    /// Let grants reach this protected path (credentials, shell files: see SPEC §20). A
    /// grant must cover it; other protected paths stay refused.
    #[arg(long = "bypass-protection", alias = "override-deny", value_name = "PATH")]
    bypass_protection: Vec<PathBuf>,
    /// Accepted for compatibility with nono, whose runs keep a session audit trail: the
    /// reference keeps none, so there is nothing to turn off (mediation audit is unchanged).
    #[arg(long = "no-audit")]
    no_audit: bool,
    /// More output (accepted for compatibility with nono: `--dry-run` always lists every
    /// grant with its reason).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print the capability set and exit without running anything.
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// With --dry-run: print JSON on stdout.
    #[arg(long = "json", requires = "dry_run")]
    json: bool,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "PROGRAM")]
    command: Vec<OsString>,
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(args),
        Command::Profile(command) => profile_command(command),
        Command::ConformanceInfo { .. } => {
            println!("{}", conformance_info());
            Ok(0)
        }
        Command::SandboxProfile(args) => sandbox_profile(args),
        Command::Learn(args) => learn(args),
    };
    outcome.unwrap_or_else(|err| {
        eprintln!("nono-ref: {err}");
        match err {
            Error::ProgramNotFound(_) => supervisor::EXIT_EXEC_FAILED,
            _ => EXIT_ERROR,
        }
    })
}

/// The JSON answer to `conformance-info`.
pub fn conformance_info() -> String {
    let info = sandbox::detect();
    serde_json::json!({
        "implementation": "nono-ref",
        "version": env!("CARGO_PKG_VERSION"),
        "platform": std::env::consts::OS,
        "backend": info.backend,
        "landlock_abi": info.landlock_abi,
        "features": info.features,
        "contract": "nono-run",
    })
    .to_string()
}

/// What a run enforces: the capability set, and the profile it came from (if any).
pub struct Policy {
    /// System grants, then the profile's, then the flags'.
    pub caps: CapabilitySet,
    /// The resolved, expanded profile named by `--profile`.
    pub profile: Option<profile::Resolved>,
    /// Profile paths skipped because they do not exist.
    pub warnings: Vec<String>,
    /// Hosts for proxy-only networking (profile `network.allow_domain`, then
    /// `--allow-domain`); empty when the network is not in proxy mode.
    pub proxy_hosts: Vec<String>,
}

/// The capability set the grant flags (and `--profile`) describe, system grants included.
pub fn build_capabilities(args: &GrantArgs) -> Result<CapabilitySet> {
    Ok(build_policy(args)?.caps)
}

/// Loads a profile the way every command does: user directory and variables from the
/// process environment, `$WORKDIR` = `workdir`.
pub fn load_profile(reference: &str, workdir: PathBuf, expand: bool) -> Result<profile::Resolved> {
    let lookup = Lookup::from_env(&|name| std::env::var(name).ok(), current_dir()?).map_err(|e| Error::Profile(vec![e]))?;
    if !expand {
        return resolve::resolve(reference, &lookup).map_err(Error::Profile);
    }
    profile::load(reference, &lookup, &Vars::from_process(workdir)).map_err(Error::Profile)
}

/// The policy the grant flags (and `--profile`) describe.
pub fn build_policy(args: &GrantArgs) -> Result<Policy> {
    let mut caps = CapabilitySet::new();
    let mut warnings = vec![];
    let mut loaded = None;
    system::add_system_grants(&mut caps);
    if let Some(reference) = &args.profile {
        let workdir = args.workdir()?;
        let resolved = load_profile(reference, workdir.clone(), true)?;
        warnings = apply::add_capabilities(&resolved.profile, &mut caps, &workdir)?;
        loaded = Some(resolved);
    }
    let dirs = [
        ("--allow", &args.allow, AccessMode::ReadWrite),
        ("--read", &args.read, AccessMode::Read),
        ("--write", &args.write, AccessMode::Write),
    ];
    for (flag, paths, access) in dirs {
        for path in paths {
            caps.add(FsCapability::directory(flag, path, access, Source::User)?);
        }
    }
    let files = [
        ("--allow-file", &args.allow_file, AccessMode::ReadWrite),
        ("--read-file", &args.read_file, AccessMode::Read),
        ("--write-file", &args.write_file, AccessMode::Write),
    ];
    for (flag, paths, access) in files {
        for path in paths {
            caps.add(FsCapability::file(flag, path, access, Source::User)?);
        }
    }
    if args.allow_cwd {
        caps.add(FsCapability::directory("--allow-cwd", &args.workdir()?, AccessMode::Read, Source::User)?);
    }
    caps.network.block |= args.block_net;
    for port in &args.allow_connect_port {
        if !caps.network.connect_ports.contains(port) {
            caps.network.connect_ports.push(*port);
        }
    }
    for port in &args.listen_port {
        if !caps.network.bind_ports.contains(port) {
            caps.network.bind_ports.push(*port);
        }
    }
    let profile_domains = loaded.as_ref().map(|r: &profile::Resolved| r.profile.network.allow_domain.as_slice()).unwrap_or(&[]);
    let proxy_hosts = proxy_hosts(profile_domains, &args.allow_domain)?;
    if !proxy_hosts.is_empty() && caps.network.block {
        return Err(Error::PolicyConflict(
            "the network is blocked (--block-net or network.block) and also allowed through the proxy (--allow-domain or network.allow_domain); choose one".into(),
        ));
    }
    Ok(Policy { caps, profile: loaded, warnings, proxy_hosts })
}

/// The proxy's allowlist: profile entries then flags, each once. An entry with endpoint
/// rules is refused: those need TLS interception, which the reference does not do, and
/// allowing the whole host instead would be wider than asked.
fn proxy_hosts(profile_entries: &[profile::format::AllowDomain], flags: &[String]) -> Result<Vec<String>> {
    let mut hosts: Vec<String> = vec![];
    for (i, entry) in profile_entries.iter().enumerate() {
        if !entry.endpoints().is_empty() {
            return Err(Error::PolicyConflict(format!(
                "profile network.allow_domain[{i}] ({}) has endpoint rules; they need TLS interception, which nono-ref does not implement, and it will not allow the whole host instead",
                entry.domain()
            )));
        }
        hosts.push(entry.domain().to_string());
    }
    hosts.extend(flags.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    Ok(hosts)
}

fn run(mut args: RunArgs) -> Result<i32> {
    let Policy { mut caps, profile, warnings, proxy_hosts } = build_policy(&args.grants)?;
    if !args.silent {
        for warning in &warnings {
            eprintln!("nono-ref: warning: {warning}");
        }
    }
    let requests = build_request_policy(&args.requests)?;
    // In proxy mode `--proxy-port` is the port our proxy listens on (as in nono), not the
    // port of someone else's proxy.
    let proxy_port = if proxy_hosts.is_empty() { None } else { Some(args.seatbelt.proxy_port.take().unwrap_or(0)) };
    let mut macos = seatbelt_options(&args.seatbelt, &mut caps, Resolution::Host, &cwd_if_needed(&args.seatbelt)?);
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
            if !args.silent {
                for warning in &bound.warnings {
                    eprintln!("nono-ref: warning: {warning}");
                }
            }
            proxy_only(&mut caps, &mut macos, bound.port());
            Some(bound)
        }
        None => None,
    };
    // The program may read the description of its own sandbox (nono's NONO_CAP_FILE).
    let cap_file = match describe::CapFile::create(&caps) {
        Ok(file) => {
            caps.add(FsCapability::file("NONO_CAP_FILE", &file.path, AccessMode::Read, Source::System)?);
            Some(file)
        }
        Err(err) => {
            if !args.silent {
                eprintln!("nono-ref: warning: {err}; the program runs without NONO_CAP_FILE");
            }
            None
        }
    };
    let supervisor_path = std::env::var_os("PATH");
    let mediation = profile.as_ref().map(|r| &r.profile.mediation).filter(|m| m.is_active());
    let session = match mediation {
        Some(mediation) => {
            let session = Session::create(mediation, &shim_binary()?, supervisor_path.as_deref())
                .map_err(|e| Error::PolicyConflict(e.to_string()))?;
            if !args.silent {
                for warning in &session.warnings {
                    eprintln!("nono-ref: warning: {warning}");
                }
            }
            // The agent runs shims: it reads them and the records of the real binaries, and
            // its shims connect to the two sockets. Landlock does not govern connecting to a
            // named Unix socket, but the grants name the sockets for every backend (Seatbelt
            // counts a Unix-socket connect as networking, which `network.block` denies).
            let mediation_socket = session.mediation.path().to_path_buf();
            for (label, path, file, access) in [
                ("mediation shims", &session.shim_dir, false, AccessMode::Read),
                ("mediation shim records", &session.sources_dir, false, AccessMode::Read),
                ("mediation shim", &session.shim_binary, true, AccessMode::Read),
                ("mediation socket", &mediation_socket, true, AccessMode::ReadWrite),
                ("mediation audit socket", &session.audit_socket_path, true, AccessMode::ReadWrite),
            ] {
                let cap = if file {
                    FsCapability::file(label, path, access, Source::System)?
                } else {
                    FsCapability::directory(label, path, access, Source::System)?
                };
                caps.add(cap);
            }
            // Seatbelt counts connecting to (and sending on) a Unix socket as
            // network-outbound: under a blocked or proxy-only network the agent and its shims
            // need the session's sockets carved out. Elsewhere the option does not exist
            // (and Landlock does not filter pathname sockets).
            if cfg!(target_os = "macos") {
                macos.unix_sockets.push(session_socket_grant(&session.dir));
            }
            Some(session)
        }
        None => None,
    };
    let mut env = env::scrub(std::env::vars_os());
    if let Some(resolved) = &profile {
        env = apply::environment(env, &resolved.profile);
    }
    // Variables of an outer session never leak into this one; ours are set below.
    env.retain(|(k, _)| !k.to_str().is_some_and(|k| SESSION_VARS.contains(&k)));
    // The program is found before the shims lead `PATH`: the agent itself is never a shim.
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    let program = supervisor::resolve_program(&args.command[0], path_var)?;
    if let Some(file) = &cap_file {
        env.push((describe::CAP_FILE_VAR.into(), file.path.clone().into_os_string()));
    }
    if let Some(session) = &session {
        for (name, value) in session.shim_env(supervisor_path.as_deref()) {
            env.retain(|(k, _)| *k != name);
            env.push((name, value));
        }
        // Seed 000 (commit 15): with the network closed, Seatbelt also refuses AF_UNIX
        // connect unless allowed, so the agent gets the session's sockets (direct children
        // of its directory, nothing deeper). Landlock does not filter that connect.
        if cfg!(target_os = "macos") && (caps.network.block || macos.network != NetworkMode::AllowAll) {
            let resolved = Resolution::Host.resolve(&session.dir, Path::new("/"));
            macos.unix_sockets.push(UnixSocketGrant {
                original: session.dir.clone(),
                resolved,
                scope: SocketScope::DirChildren,
                mode: SocketMode::Connect,
            });
        }
    }
    if let Some(bound) = &proxy {
        env.retain(|(k, _)| !k.to_str().is_some_and(|k| crate::proxy::ENV_NAMES.contains(&k)));
        env.extend(bound.env_vars().into_iter().map(|(k, v)| (k.into(), v.into())));
    }
    let prepared = sandbox::prepare_with(&caps, &macos)?;
    let server = match (&session, mediation) {
        (Some(session), Some(mediation)) => Some(
            Server::new(session, mediation.clone(), supervisor_path.as_deref())
                .map_err(|source| Error::Io { context: "sharing the audit socket".into(), source })?,
        ),
        _ => None,
    };
    // Threads start only after the fork: the mediation server, and the proxy.
    let mut after_fork: Vec<supervisor::AfterFork> = vec![];
    if let (Some(session), Some(server)) = (&session, &server) {
        let server = server.clone();
        let mediation_socket = session.mediation.clone();
        after_fork.push(Box::new(move |pid| {
            server.sandboxed_pid.store(pid, std::sync::atomic::Ordering::SeqCst);
            if let Err(e) = server.start(mediation_socket) {
                eprintln!("nono-ref: cannot start the mediation server: {e}");
            }
        }));
    }
    // The running proxy is kept here until the program has ended, then dropped (closed).
    let running_proxy = std::rc::Rc::new(std::cell::RefCell::new(None));
    if let Some(bound) = proxy {
        let slot = running_proxy.clone();
        after_fork.push(Box::new(move |_| *slot.borrow_mut() = Some(bound.serve())));
    }
    let after_fork: Option<supervisor::AfterFork> =
        (!after_fork.is_empty()).then(|| Box::new(move |pid| after_fork.into_iter().for_each(|hook| hook(pid))) as supervisor::AfterFork);
    let requests = requests.map(|policy| match TerminalPrompt::open() {
        Some(prompt) => Supervisor::new(policy).with_prompt(Box::new(prompt)),
        None => Supervisor::new(policy),
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

/// The agent's grant on a mediation session's sockets (seed commit 15, mediation-spec
/// AGT-2): connecting to the sockets directly inside the session directory
/// (`mediation.sock`, `control.sock`, `audit.sock`), never deeper.
pub fn session_socket_grant(session_dir: &Path) -> UnixSocketGrant {
    let resolved = session_dir.canonicalize().unwrap_or_else(|_| session_dir.to_path_buf());
    UnixSocketGrant { original: session_dir.to_path_buf(), resolved, scope: SocketScope::DirChildren, mode: SocketMode::Connect }
}

/// Proxy-only networking towards our proxy on `port` (core notes CAP-19, LL-15): on
/// Landlock every TCP connect is denied except to that port (and any
/// `--allow-connect-port`), and binds only on the listen ports; on Seatbelt TCP goes only
/// to `localhost:port` and the listen ports become the proxy mode's bind ports.
fn proxy_only(caps: &mut CapabilitySet, macos: &mut SeatbeltOptions, port: u16) {
    if cfg!(target_os = "macos") {
        let bind_ports = std::mem::take(&mut caps.network.bind_ports);
        macos.network = NetworkMode::ProxyOnly { port, bind_ports };
    } else {
        caps.network.block = true;
        if !caps.network.connect_ports.contains(&port) {
            caps.network.connect_ports.push(port);
        }
    }
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

fn profile_command(command: ProfileCommand) -> Result<i32> {
    match command {
        ProfileCommand::Show { profile: reference, raw, workdir, .. } => {
            let workdir = match workdir {
                Some(dir) => dir,
                None => current_dir()?,
            };
            let resolved = load_profile(&reference, workdir, !raw)?;
            let text = serde_json::to_string_pretty(&profile::to_json(&resolved.profile)).expect("JSON always prints");
            println!("{text}");
            Ok(0)
        }
        ProfileCommand::Validate { file, json } => {
            // A bare file name is still a file here, never a profile name.
            let reference = if file.components().count() == 1 { PathBuf::from(".").join(&file) } else { file.clone() };
            let verdict = load_profile(&reference.to_string_lossy(), current_dir()?, false);
            let errors = match verdict {
                Ok(_) => vec![],
                Err(Error::Profile(errors)) => errors,
                Err(other) => return Err(other),
            };
            if json {
                let errors: Vec<_> = errors.iter().map(|e| e.to_json()).collect();
                println!("{}", serde_json::json!({ "file": file.display().to_string(), "valid": errors.is_empty(), "errors": errors }));
            } else if errors.is_empty() {
                println!("{}: valid", file.display());
            }
            if errors.is_empty() {
                return Ok(0);
            }
            if !json {
                for error in &errors {
                    eprintln!("nono-ref: invalid profile: {error}");
                }
            }
            Ok(EXIT_ERROR)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Seatbelt: options only Seatbelt enforces, `sandbox-profile` and `learn`.
// ---------------------------------------------------------------------------------------

/// Options only the Seatbelt backend (macOS) can enforce. Elsewhere `run` refuses them.
#[derive(Args, Default)]
pub struct SeatbeltArgs {
    /// Proxy-only networking: TCP only to localhost:PORT, plus DNS; `--listen-port` then
    /// allows listening (macOS).
    #[arg(long = "proxy-port", value_name = "PORT", conflicts_with = "block_net")]
    pub proxy_port: Option<u16>,
    /// With blocked or proxy-only networking, allow TCP to and listening on this localhost
    /// port; 0 means every localhost port (macOS).
    #[arg(long = "open-port", value_name = "PORT")]
    pub open_port: Vec<u16>,
    /// Allow connecting to this Unix socket when the network is blocked (implies --read-file).
    #[arg(long = "allow-unix-socket", value_name = "SOCKET")]
    pub allow_unix_socket: Vec<PathBuf>,
    /// Allow connecting to and binding this Unix socket path (implies --allow on its directory).
    #[arg(long = "allow-unix-socket-bind", value_name = "SOCKET")]
    pub allow_unix_socket_bind: Vec<PathBuf>,
    /// Allow connecting to sockets directly inside DIR, not deeper (implies --read DIR).
    #[arg(long = "allow-unix-socket-dir", value_name = "DIR")]
    pub allow_unix_socket_dir: Vec<PathBuf>,
    /// Allow connecting to and binding sockets directly inside DIR (implies --allow DIR).
    #[arg(long = "allow-unix-socket-dir-bind", value_name = "DIR")]
    pub allow_unix_socket_dir_bind: Vec<PathBuf>,
    /// Allow connecting to sockets anywhere beneath DIR (implies --read DIR).
    #[arg(long = "allow-unix-socket-subtree", value_name = "DIR")]
    pub allow_unix_socket_subtree: Vec<PathBuf>,
    /// Allow connecting to and binding sockets anywhere beneath DIR (implies --allow DIR).
    #[arg(long = "allow-unix-socket-subtree-bind", value_name = "DIR")]
    pub allow_unix_socket_subtree_bind: Vec<PathBuf>,
    /// Keep a directory and everything beneath it unreadable and unwritable, even inside a
    /// grant; its metadata stays visible (macOS).
    #[arg(long = "deny", value_name = "DIR")]
    pub deny: Vec<PathBuf>,
    /// Keep one file unreadable and unwritable, even inside a grant (macOS).
    #[arg(long = "deny-file", value_name = "FILE")]
    pub deny_file: Vec<PathBuf>,
}

/// The working directory when some Seatbelt path is relative, else `/` (unused). Asking
/// only when needed matters inside a sandbox, where `getcwd` itself may be denied.
fn cwd_if_needed(args: &SeatbeltArgs) -> Result<PathBuf> {
    let lists = [
        &args.allow_unix_socket,
        &args.allow_unix_socket_bind,
        &args.allow_unix_socket_dir,
        &args.allow_unix_socket_dir_bind,
        &args.allow_unix_socket_subtree,
        &args.allow_unix_socket_subtree_bind,
        &args.deny,
        &args.deny_file,
    ];
    if lists.iter().any(|paths| paths.iter().any(|p| p.is_relative())) {
        current_dir()
    } else {
        Ok(PathBuf::from("/"))
    }
}

/// The Seatbelt options `args` describe. Socket grants add the filesystem grants they
/// imply (as nono does), and `--proxy-port` turns `--listen-port` into the proxy's listen
/// ports. Paths need not exist: socket and deny paths name what may appear later.
pub fn seatbelt_options(args: &SeatbeltArgs, caps: &mut CapabilitySet, resolution: Resolution, cwd: &Path) -> SeatbeltOptions {
    let resolve = |p: &Path| resolution.resolve(p, cwd);
    let mut options = SeatbeltOptions {
        localhost_ports: args.open_port.clone(),
        home: std::env::var_os("HOME").map(PathBuf::from),
        ..Default::default()
    };
    if let Some(port) = args.proxy_port {
        let bind_ports = std::mem::take(&mut caps.network.bind_ports);
        options.network = NetworkMode::ProxyOnly { port, bind_ports };
    }
    let sockets = [
        (&args.allow_unix_socket, SocketScope::File, SocketMode::Connect),
        (&args.allow_unix_socket_bind, SocketScope::File, SocketMode::ConnectBind),
        (&args.allow_unix_socket_dir, SocketScope::DirChildren, SocketMode::Connect),
        (&args.allow_unix_socket_dir_bind, SocketScope::DirChildren, SocketMode::ConnectBind),
        (&args.allow_unix_socket_subtree, SocketScope::DirSubtree, SocketMode::Connect),
        (&args.allow_unix_socket_subtree_bind, SocketScope::DirSubtree, SocketMode::ConnectBind),
    ];
    for (paths, scope, mode) in sockets {
        for path in paths {
            let grant = UnixSocketGrant { original: path.clone(), resolved: resolve(path), scope, mode };
            let (original, resolved, is_file, access) = match (scope, mode) {
                (SocketScope::File, SocketMode::Connect) => (path.clone(), grant.resolved.clone(), true, AccessMode::Read),
                (SocketScope::File, SocketMode::ConnectBind) => {
                    let parent = path.parent().unwrap_or(Path::new("/")).to_path_buf();
                    let resolved = grant.resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
                    (parent, resolved, false, AccessMode::ReadWrite)
                }
                (_, SocketMode::Connect) => (path.clone(), grant.resolved.clone(), false, AccessMode::Read),
                (_, SocketMode::ConnectBind) => (path.clone(), grant.resolved.clone(), false, AccessMode::ReadWrite),
            };
            caps.add(FsCapability { original, resolved, access, is_file, source: Source::User });
            options.unix_sockets.push(grant);
        }
    }
    for (paths, is_file) in [(&args.deny, false), (&args.deny_file, true)] {
        for path in paths {
            options.deny_paths.push(DenyPath { original: path.clone(), resolved: resolve(path), is_file });
        }
    }
    options
}

/// Platforms `sandbox-profile` can print a profile for.
#[derive(Clone, Copy, ValueEnum)]
enum ProfilePlatform {
    /// A Seatbelt (SBPL) profile.
    Macos,
}

/// Who a sandboxed program may signal or inspect.
#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Isolated,
    AllowSameSandbox,
    AllowAll,
}

/// What IPC is allowed.
#[derive(Clone, Copy, ValueEnum)]
enum IpcArg {
    SharedMemoryOnly,
    Full,
}

#[derive(Args)]
struct SandboxProfileArgs {
    /// The platform whose profile to print.
    #[arg(long, value_enum)]
    platform: ProfilePlatform,
    #[command(flatten)]
    grants: GrantArgs,
    #[command(flatten)]
    seatbelt: SeatbeltArgs,
    /// Leave out the minimal system grants: print only what the flags grant.
    #[arg(long = "no-system-grants")]
    no_system_grants: bool,
    /// Which processes the program may signal.
    #[arg(long, value_enum, default_value = "isolated")]
    signals: ScopeArg,
    /// Which processes the program may inspect.
    #[arg(long = "process-info", value_enum, default_value = "isolated")]
    process_info: ScopeArg,
    /// IPC beyond POSIX shared memory: `full` adds POSIX semaphores.
    #[arg(long, value_enum, default_value = "shared-memory-only")]
    ipc: IpcArg,
    /// Honour sandbox extension tokens.
    #[arg(long)]
    extensions: bool,
    /// Add `(debug deny)`.
    #[arg(long = "debug-deny")]
    debug_deny: bool,
}

/// `sandbox-profile --platform macos`: the profile `run` would apply on a Mac. Paths need
/// not exist. On a Mac they are resolved on the live filesystem; elsewhere only macOS's
/// `/tmp`, `/var` and `/etc` links are applied (see [`crate::seatbelt::paths`]), so the
/// output is the same on every host for paths that exist nowhere.
fn sandbox_profile(args: SandboxProfileArgs) -> Result<i32> {
    let ProfilePlatform::Macos = args.platform;
    let resolution = Resolution::for_this_host();
    let cwd = current_dir()?;
    let mut caps = CapabilitySet::new();
    if !args.no_system_grants {
        add_macos_system_grants(&mut caps, resolution, &cwd);
    }
    let g = &args.grants;
    let lists = [
        (&g.allow, AccessMode::ReadWrite, false),
        (&g.read, AccessMode::Read, false),
        (&g.write, AccessMode::Write, false),
        (&g.allow_file, AccessMode::ReadWrite, true),
        (&g.read_file, AccessMode::Read, true),
        (&g.write_file, AccessMode::Write, true),
    ];
    for (paths, access, is_file) in lists {
        for path in paths {
            let resolved = resolution.resolve(path, &cwd);
            caps.add(FsCapability { original: path.clone(), resolved, access, is_file, source: Source::User });
        }
    }
    if g.allow_cwd {
        let dir = g.workdir.clone().unwrap_or_else(|| cwd.clone());
        let resolved = resolution.resolve(&dir, &cwd);
        caps.add(FsCapability { original: dir, resolved, access: AccessMode::Read, is_file: false, source: Source::User });
    }
    caps.network.block = g.block_net;
    caps.network.connect_ports = g.allow_connect_port.clone();
    caps.network.bind_ports = g.listen_port.clone();
    if let Some(reference) = &g.profile {
        // The profile's grants as written (expanded), resolved the macOS way: the paths
        // belong to the Mac the profile is for, not to this host.
        let workdir = g.workdir.clone().unwrap_or_else(|| cwd.clone());
        let resolved = load_profile(reference, workdir.clone(), true)?.profile;
        let fs = &resolved.filesystem;
        let lists = [
            (&fs.allow, AccessMode::ReadWrite, Some(false)),
            (&fs.read, AccessMode::Read, None),
            (&fs.write, AccessMode::Write, Some(false)),
            (&fs.allow_file, AccessMode::ReadWrite, Some(true)),
            (&fs.read_file, AccessMode::Read, Some(true)),
            (&fs.write_file, AccessMode::Write, Some(true)),
        ];
        for (paths, access, is_file) in lists {
            for path in paths.iter().map(PathBuf::from) {
                let is_file = is_file.unwrap_or_else(|| path.is_file());
                let resolved = resolution.resolve(&path, &cwd);
                caps.add(FsCapability { original: path, resolved, access, is_file, source: Source::User });
            }
        }
        let workdir_access = match resolved.workdir.access {
            profile::format::WorkdirAccess::None => None,
            profile::format::WorkdirAccess::Read => Some(AccessMode::Read),
            profile::format::WorkdirAccess::Write => Some(AccessMode::Write),
            profile::format::WorkdirAccess::Readwrite => Some(AccessMode::ReadWrite),
        };
        if let Some(access) = workdir_access {
            let resolved_dir = resolution.resolve(&workdir, &cwd);
            caps.add(FsCapability { original: workdir, resolved: resolved_dir, access, is_file: false, source: Source::User });
        }
        caps.network.block |= resolved.network.block;
        caps.network.connect_ports.extend(resolved.network.connect_port.iter().filter(|p| !g.allow_connect_port.contains(p)));
        caps.network.bind_ports.extend(resolved.network.listen_port.iter().filter(|p| !g.listen_port.contains(p)));
    }
    // Proxy mode's port is chosen when `run` starts the proxy; a profile printed ahead of
    // time must be told which port that will be, or it would wrongly allow everything.
    let profile_domains = match &g.profile {
        Some(reference) => !load_profile(reference, g.workdir.clone().unwrap_or_else(|| cwd.clone()), false)?.profile.network.allow_domain.is_empty(),
        None => false,
    };
    if (profile_domains || !g.allow_domain.is_empty()) && args.seatbelt.proxy_port.is_none() {
        return Err(Error::PolicyConflict(
            "allowed domains (--allow-domain or network.allow_domain) need --proxy-port P here: the profile can only name the proxy's port".into(),
        ));
    }
    caps.scope_signals = !matches!(args.signals, ScopeArg::AllowAll);
    caps.scope_abstract_unix_sockets = matches!(args.ipc, IpcArg::SharedMemoryOnly);
    let mut options = seatbelt_options(&args.seatbelt, &mut caps, resolution, &cwd);
    options.process_info = match args.process_info {
        ScopeArg::Isolated => ProcessInfoMode::Isolated,
        ScopeArg::AllowSameSandbox => ProcessInfoMode::AllowSameSandbox,
        ScopeArg::AllowAll => ProcessInfoMode::AllowAll,
    };
    options.extensions = args.extensions;
    options.debug_deny = args.debug_deny;
    let profile = crate::seatbelt::generate(&caps, &options).map_err(Error::SeatbeltProfile)?;
    print!("{profile}");
    Ok(0)
}

/// The macOS system grants: on a Mac those that exist, elsewhere all of them as written.
fn add_macos_system_grants(caps: &mut CapabilitySet, resolution: Resolution, cwd: &Path) {
    if cfg!(target_os = "macos") {
        system::add_system_grants(caps);
        return;
    }
    for (paths, access, is_file) in system::groups(true) {
        for path in paths.iter().map(PathBuf::from) {
            let resolved = resolution.resolve(&path, cwd);
            caps.add(FsCapability { original: path, resolved, access, is_file, source: Source::System });
        }
    }
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
    crate::mediation::session::which("nono-shim", std::env::var_os("PATH").as_deref()).ok_or_else(|| {
        Error::PolicyConflict("mediation: nono-shim was found neither next to nono-ref nor on PATH (set NONO_SHIM)".into())
    })
}

#[derive(Args)]
struct LearnArgs {
    /// Print the allow rule for every kernel deny record in FILE (duplicates once, in
    /// first-seen order); records that give no rule are reported as FILE:LINE on stderr.
    #[arg(long = "parse-log", value_name = "FILE", conflicts_with = "splice", required_unless_present = "splice")]
    parse_log: Option<PathBuf>,
    /// Print PROFILE with `(allow default)` turned into `(deny default)` and the seed appended.
    #[arg(long, value_name = "PROFILE")]
    splice: Option<PathBuf>,
    /// The seed of allow rules for --splice. Absent or missing: PROFILE is printed unchanged.
    #[arg(long, value_name = "SEED", requires = "splice")]
    seed: Option<PathBuf>,
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|source| Error::Io { context: format!("reading {what} {}", path.display()), source })
}

fn learn(args: LearnArgs) -> Result<i32> {
    if let Some(log) = &args.parse_log {
        let learned = crate::seatbelt::log::parse_log(&read_text(log, "the log")?);
        for rule in &learned.rules {
            println!("{rule}");
        }
        for (line, err) in &learned.errors {
            eprintln!("nono-ref: {}:{line}: {err}", log.display());
        }
        return Ok(if learned.errors.is_empty() { 0 } else { EXIT_ERROR });
    }
    let profile_path = args.splice.as_deref().expect("clap requires --parse-log or --splice");
    let profile = read_text(profile_path, "the profile")?;
    let seed = match &args.seed {
        Some(path) if path.exists() => Some(read_text(path, "the seed")?),
        _ => None,
    };
    let spliced = crate::seatbelt::learn::splice_deny_default(&profile, seed.as_deref()).map_err(Error::Splice)?;
    print!("{spliced}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_grant_lets_the_agent_reach_the_session_sockets_under_a_closed_network() {
        let dir = tempfile::tempdir().unwrap();
        let link_parent = tempfile::tempdir().unwrap();
        let link = link_parent.path().join("session-link");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        let options = SeatbeltOptions {
            network: NetworkMode::ProxyOnly { port: 3128, bind_ports: vec![] },
            unix_sockets: vec![session_socket_grant(&link)],
            ..Default::default()
        };
        let profile = crate::seatbelt::generate(&CapabilitySet::new(), &options).unwrap();
        let escape = |p: &Path| crate::seatbelt::sbpl::regex_escape(p.to_str().unwrap());
        let real = dir.path().canonicalize().unwrap();
        for form in [real.as_path(), link.as_path()] {
            let rule = format!(r#"(allow network-outbound (regex "^{}/[^/]+$"))"#, escape(form));
            assert!(profile.lines().any(|l| l == rule), "missing {rule}\n{profile}");
        }
        assert!(profile.lines().any(|l| l == "(allow system-socket (socket-domain AF_UNIX))"), "{profile}");
        assert!(!profile.contains(&format!("(subpath \"{}\")", real.display())), "never the whole subtree\n{profile}");
    }
}
