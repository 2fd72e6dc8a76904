//! The `nono-ref` command line. `run` follows nono's contract (core-spec §5) so that one
//! conformance suite can drive both implementations.

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::error::{Error, Result};
use crate::ipc::request::{RequestPolicy, Supervisor, TerminalPrompt};
use crate::{env, sandbox, supervisor, system};
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

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
    /// Describe this implementation and what the kernel enforces (for conformance suites).
    ConformanceInfo {
        /// Print JSON (the only format; accepted for symmetry with other commands).
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

/// The capability set the grant flags describe, system grants included.
pub fn build_capabilities(args: &GrantArgs) -> Result<CapabilitySet> {
    let mut caps = CapabilitySet::new();
    system::add_system_grants(&mut caps);
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
        let cwd = match &args.workdir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir()
                .map_err(|source| Error::Io { context: "reading the working directory".into(), source })?,
        };
        caps.add(FsCapability::directory("--allow-cwd", &cwd, AccessMode::Read, Source::User)?);
    }
    caps.network.block = args.block_net;
    caps.network.connect_ports = args.allow_connect_port.clone();
    caps.network.bind_ports = args.listen_port.clone();
    Ok(caps)
}

fn run(args: RunArgs) -> Result<i32> {
    let caps = build_capabilities(&args.grants)?;
    let requests = build_request_policy(&args.requests)?;
    if args.dry_run {
        print_dry_run(&caps, &args);
        return Ok(0);
    }
    let prepared = sandbox::prepare(&caps)?;
    let env = env::scrub(std::env::vars_os());
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    let program = supervisor::resolve_program(&args.command[0], path_var)?;
    let requests = requests.map(|policy| match TerminalPrompt::open() {
        Some(prompt) => Supervisor::new(policy).with_prompt(Box::new(prompt)),
        None => Supervisor::new(policy),
    });
    supervisor::run_with_requests(
        supervisor::Launch { program, argv: args.command.clone(), env, workdir: args.grants.workdir.clone() },
        prepared,
        requests,
    )
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
