//! The `nono-ref` command line. `run` follows nono's contract (core-spec §5) so that one
//! conformance suite can drive both implementations.

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::error::{Error, Result};
use crate::ipc::request::{RequestPolicy, Supervisor, TerminalPrompt};
use crate::mediation::{server::Server, session::Session};
use crate::profile::{self, apply, expand::Vars, resolve, resolve::Lookup};
use crate::{env, sandbox, supervisor, system};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

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
    /// Approve (or deny) the first command waiting for a human in a running session.
    Approve(ApproveArgs),
    /// Describe this implementation and what the kernel enforces (for conformance suites).
    ConformanceInfo {
        /// Print JSON (the only format; accepted for symmetry with other commands).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ApproveArgs {
    /// Refuse instead of approving.
    #[arg(long)]
    deny: bool,
    /// Only this session (its ID); default: any running session.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// How long to wait for a command to need approval, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
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
    /// Print nothing but errors.
    #[arg(short = 's', long = "silent")]
    silent: bool,
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
        Command::Approve(args) => crate::mediation::approve::run(args.deny, args.session.as_deref(), args.timeout),
        Command::ConformanceInfo { .. } => {
            println!("{}", conformance_info());
            Ok(0)
        }
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
    Ok(Policy { caps, profile: loaded, warnings })
}

fn run(args: RunArgs) -> Result<i32> {
    let Policy { mut caps, profile, warnings } = build_policy(&args.grants)?;
    if !args.silent {
        for warning in &warnings {
            eprintln!("nono-ref: warning: {warning}");
        }
    }
    let requests = build_request_policy(&args.requests)?;
    if args.dry_run {
        print_dry_run(&caps, &args);
        return Ok(0);
    }
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
            // The agent runs shims: it reads them and the records of the real binaries.
            for (label, path, file) in [
                ("mediation shims", &session.shim_dir, false),
                ("mediation shim records", &session.sources_dir, false),
                ("mediation shim", &session.shim_binary, true),
            ] {
                let cap = if file {
                    FsCapability::file(label, path, AccessMode::Read, Source::System)?
                } else {
                    FsCapability::directory(label, path, AccessMode::Read, Source::System)?
                };
                caps.add(cap);
            }
            Some(session)
        }
        None => None,
    };
    let prepared = sandbox::prepare(&caps)?;
    let mut env = env::scrub(std::env::vars_os());
    if let Some(resolved) = &profile {
        env = apply::environment(env, &resolved.profile);
    }
    // Variables of an outer session never leak into this one; ours are set below.
    env.retain(|(k, _)| !k.to_str().is_some_and(|k| SESSION_VARS.contains(&k)));
    if let Some(session) = &session {
        for (name, value) in session.shim_env(supervisor_path.as_deref()) {
            env.retain(|(k, _)| *k != name);
            env.push((name, value));
        }
    }
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    let program = supervisor::resolve_program(&args.command[0], path_var)?;
    let after_fork: Option<supervisor::AfterFork> = match (&session, mediation) {
        (Some(session), Some(mediation)) => {
            let server = Server::new(session, mediation.clone(), supervisor_path.as_deref());
            let mediation_socket = session.mediation.clone();
            let control = session.control.clone();
            let audit_socket = session.audit_socket.try_clone()
                .map_err(|source| Error::Io { context: "sharing the audit socket".into(), source })?;
            Some(Box::new(move |pid| {
                server.sandboxed_pid.store(pid, std::sync::atomic::Ordering::SeqCst);
                if let Err(e) = server.start(mediation_socket, control, audit_socket) {
                    eprintln!("nono-ref: cannot start the mediation server: {e}");
                }
            }))
        }
        _ => None,
    };
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
    // The session directory goes now, however the program ended.
    drop(session);
    outcome
}

fn print_dry_run(caps: &CapabilitySet, args: &RunArgs) {
    let info = sandbox::detect();
    if args.json {
        let doc = serde_json::json!({
            "capabilities": caps,
            "backend": info,
            "command": args.command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        });
        println!("{doc}");
        return;
    }
    eprintln!("Capabilities:");
    for cap in &caps.fs {
        let badge = match cap.access {
            AccessMode::Read => "  r  ",
            AccessMode::Write => "  w  ",
            AccessMode::ReadWrite => " r+w ",
        };
        let kind = if cap.is_file { "file" } else { "dir" };
        let source = match cap.source {
            Source::User => "user",
            Source::System => "system",
        };
        eprintln!("{badge} {} ({kind}) [{source}]", cap.resolved.display());
    }
    let net = &caps.network;
    eprintln!("  network: {}", if net.block { "outbound blocked" } else { "outbound allowed" });
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
