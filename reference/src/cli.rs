//! The `nono-ref` command line. `run` follows nono's contract (core-spec §5) so that one
//! conformance suite can drive both implementations.

use crate::error::{Error, Result};
use crate::policy::{self, current_dir, load_profile, Policy, Spelling, SystemGrants};
use crate::seatbelt::paths::Resolution;
use crate::seatbelt::ProcessInfoMode;
use crate::{profile, sandbox, supervisor};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

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
    /// Allow TCP connect to this port (turns TCP filtering on: connect to other ports and
    /// every bind not allowed by --listen-port are denied, as in nono).
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

/// `run`'s flags (see [`crate::run`]).
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub(crate) grants: GrantArgs,
    #[command(flatten)]
    pub(crate) requests: RequestArgs,
    #[command(flatten)]
    pub(crate) seatbelt: SeatbeltArgs,
    /// Print nothing but errors (`--dry-run` included).
    #[arg(short = 's', long = "silent")]
    pub(crate) silent: bool,
    /// Let grants reach this protected path (credentials, shell files: see SPEC §20). A
    /// grant must cover it; other protected paths stay refused.
    #[arg(long = "bypass-protection", alias = "override-deny", value_name = "PATH")]
    pub(crate) bypass_protection: Vec<PathBuf>,
    /// Accepted for compatibility with nono, whose runs keep a session audit trail: the
    /// reference keeps none, so there is nothing to turn off (mediation audit is unchanged).
    #[arg(long = "no-audit")]
    pub(crate) no_audit: bool,
    /// More output (accepted for compatibility with nono: `--dry-run` always lists every
    /// grant with its reason).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Print the capability set and exit without running anything.
    #[arg(long = "dry-run")]
    pub(crate) dry_run: bool,
    /// With --dry-run: print JSON on stdout.
    #[arg(long = "json", requires = "dry_run")]
    pub(crate) json: bool,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "PROGRAM")]
    pub(crate) command: Vec<OsString>,
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => crate::run::run(args),
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

/// `sandbox-profile --platform macos`: the profile `run` would apply on a Mac, built by
/// the same policy path as `run` with paths spelled for Seatbelt ([`Spelling::SeatbeltText`]).
/// Paths need not exist. On a Mac they are resolved on the live filesystem; elsewhere only
/// macOS's `/tmp`, `/var` and `/etc` links are applied (see [`crate::seatbelt::paths`]), so
/// the output is the same on every host for paths that exist nowhere.
fn sandbox_profile(args: SandboxProfileArgs) -> Result<i32> {
    let ProfilePlatform::Macos = args.platform;
    let spelling = Spelling::SeatbeltText(Resolution::for_this_host());
    let system_grants = if args.no_system_grants { SystemGrants::Omit } else { SystemGrants::Include };
    let Policy { mut caps, proxy_hosts, .. } = policy::build(&args.grants, spelling, system_grants)?;
    // Proxy mode's port is chosen when `run` starts the proxy; a profile printed ahead of
    // time must be told which port that will be, or it would wrongly allow everything.
    if !proxy_hosts.is_empty() && args.seatbelt.proxy_port.is_none() {
        return Err(Error::PolicyConflict(
            "allowed domains (--allow-domain or network.allow_domain) need --proxy-port P here: the profile can only name the proxy's port".into(),
        ));
    }
    caps.scope_signals = !matches!(args.signals, ScopeArg::AllowAll);
    caps.scope_abstract_unix_sockets = matches!(args.ipc, IpcArg::SharedMemoryOnly);
    let mut options = policy::seatbelt_options(&args.seatbelt, &mut caps, spelling)?;
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
