//! What a run enforces, from its flags and `--profile`: the one path from the command line
//! to a [`CapabilitySet`], used by `run` and by `sandbox-profile` alike.
//!
//! Grants are added in a fixed order: the system grants ([`crate::system`]), then the
//! profile's, then the flags' (flags add to a profile). A second grant on the same object
//! merges with the first ([`CapabilitySet::add`]).
//!
//! The two commands differ only in how a path is spelled, which is a [`Spelling`]:
//!
//! * `run` enforces on this host ([`Spelling::Host`]): every path is canonicalised on the
//!   live filesystem, a flag naming a missing path is an error, a profile path that is
//!   missing is skipped with a warning (profiles travel between machines), and a profile
//!   `deny` inside a grant refuses the run (Landlock cannot carve a hole in a grant).
//! * `sandbox-profile` prints the Seatbelt text a Mac would apply
//!   ([`Spelling::SeatbeltText`]): paths are spelled the way macOS resolves them (`/tmp` is
//!   `/private/tmp`; see [`crate::seatbelt::paths`]), need not exist, and are never
//!   refused, because they belong to the Mac the text is for, not to this host.
//!
//! The flags only Seatbelt enforces (socket grants, denies, `--proxy-port`) become
//! [`SeatbeltOptions`] in [`seatbelt_options`], spelled the same way. A mediated command's
//! own sandbox is built here too ([`command_sandbox`]), from the same grant steps.

use crate::capability::{AccessMode, CapabilitySet, FsCapability, Source};
use crate::cli::{GrantArgs, RequestArgs, SeatbeltArgs};
use crate::error::{Error, Result};
use crate::ipc::request::RequestPolicy;
use crate::profile::format::{AllowDomain, CommandSandbox, Profile, WorkdirAccess};
use crate::profile::{self, expand::Vars, resolve, resolve::Lookup};
use crate::seatbelt::paths::Resolution;
use crate::seatbelt::{DenyPath, NetworkMode, SeatbeltOptions, SocketMode, SocketScope, UnixSocketGrant};
use crate::system;
use std::path::{Path, PathBuf};

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

/// How the policy spells paths (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// Canonical paths on this host, for enforcing here.
    Host,
    /// Paths as macOS resolves them, for a printed Seatbelt profile (relative ones against
    /// the current directory).
    SeatbeltText(Resolution),
}

/// Whether the system grants are part of the policy (`sandbox-profile --no-system-grants`
/// prints only what the flags and the profile grant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemGrants {
    Include,
    Omit,
}

/// What a missing path means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// An error: the user named it on the command line (or it is the working directory).
    Refuse,
    /// A warning: profiles are shared between machines (`~/.pyenv` is absent on many).
    Skip,
}

/// Whether a grant names a directory (and everything beneath it) or one file.
#[derive(Clone, Copy)]
enum Kind {
    Directory,
    File,
    /// The profile's `read`: a file when the path is one on this host.
    Either,
}

/// The policy the grant flags (and `--profile`) describe.
pub fn build(args: &GrantArgs, spelling: Spelling, system_grants: SystemGrants) -> Result<Policy> {
    let mut policy = Builder::new(spelling)?;
    if system_grants == SystemGrants::Include {
        policy.system_grants();
    }
    let profile = match &args.profile {
        Some(reference) => {
            let workdir = args.workdir()?;
            let resolved = load_profile(reference, workdir.clone(), true)?;
            policy.profile_grants(&resolved.profile, &workdir)?;
            Some(resolved)
        }
        None => None,
    };
    let flags = [
        ("--allow", &args.allow, AccessMode::ReadWrite, Kind::Directory),
        ("--read", &args.read, AccessMode::Read, Kind::Directory),
        ("--write", &args.write, AccessMode::Write, Kind::Directory),
        ("--allow-file", &args.allow_file, AccessMode::ReadWrite, Kind::File),
        ("--read-file", &args.read_file, AccessMode::Read, Kind::File),
        ("--write-file", &args.write_file, AccessMode::Write, Kind::File),
    ];
    for (flag, paths, access, kind) in flags {
        for path in paths {
            policy.grant(flag, path, access, kind, Missing::Refuse)?;
        }
    }
    if args.allow_cwd {
        policy.grant("--allow-cwd", &args.workdir()?, AccessMode::Read, Kind::Directory, Missing::Refuse)?;
    }
    let Builder { mut caps, warnings, .. } = policy;
    caps.network.block |= args.block_net;
    add_ports(&mut caps.network.connect_ports, &args.allow_connect_port);
    add_ports(&mut caps.network.bind_ports, &args.listen_port);
    let profile_domains = profile.as_ref().map(|r| r.profile.network.allow_domain.as_slice()).unwrap_or(&[]);
    let proxy_hosts = proxy_hosts(profile_domains, &args.allow_domain)?;
    if !proxy_hosts.is_empty() && caps.network.block {
        return Err(Error::PolicyConflict(
            "the network is blocked (--block-net or network.block) and also allowed through the proxy (--allow-domain or network.allow_domain); choose one".into(),
        ));
    }
    Ok(Policy { caps, profile, warnings, proxy_hosts })
}

/// The capability set of a mediated command's own sandbox (a profile's
/// `mediation.commands[].sandbox`): the system grants, its real binary and that binary's
/// directory, the shim paths (so nested mediated calls work), and the `fs_*` lists. Paths
/// that do not exist are skipped. `allowed_hosts` closes the network too: the server opens
/// the port of the command's proxy (see [`crate::proxy`]).
pub fn command_sandbox(sandbox: &CommandSandbox, real_binary: &Path, shim_paths: &[&Path]) -> Result<CapabilitySet> {
    let mut policy = Builder::new(Spelling::Host)?;
    policy.system_grants();
    if let Some(dir) = real_binary.parent() {
        policy.grant("mediated binary directory", dir, AccessMode::Read, Kind::Directory, Missing::Skip)?;
    }
    policy.grant("mediated binary", real_binary, AccessMode::Read, Kind::File, Missing::Skip)?;
    for path in shim_paths {
        policy.grant("mediation shim", path, AccessMode::Read, Kind::Either, Missing::Skip)?;
    }
    let lists = [
        ("sandbox.fs_read", &sandbox.fs_read, AccessMode::Read, Kind::Directory),
        ("sandbox.fs_read_file", &sandbox.fs_read_file, AccessMode::Read, Kind::File),
        ("sandbox.fs_write", &sandbox.fs_write, AccessMode::Write, Kind::Directory),
        ("sandbox.fs_write_file", &sandbox.fs_write_file, AccessMode::Write, Kind::File),
    ];
    for (label, paths, access, kind) in lists {
        for path in paths {
            policy.grant(label, Path::new(path), access, kind, Missing::Skip)?;
        }
    }
    let mut caps = policy.caps;
    caps.network.block = sandbox.network.block || !sandbox.network.allowed_hosts.is_empty();
    Ok(caps)
}

/// The kernel that enforces a capability set: proxy-only networking is written differently
/// for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Linux: TCP port rules in the capability set.
    Landlock,
    /// macOS: a network mode in the [`SeatbeltOptions`], since Seatbelt refuses port lists.
    Seatbelt,
}

impl Backend {
    /// The backend this build enforces with.
    pub const HOST: Backend = if cfg!(target_os = "macos") { Backend::Seatbelt } else { Backend::Landlock };
}

/// Proxy-only networking towards our proxy on `port` (core notes CAP-19, LL-15, SB-05), for
/// `run --allow-domain` and for a mediated command's `allowed_hosts` alike. On Landlock
/// every TCP connect is denied except to that port (and any `--allow-connect-port`), and
/// binds only on the listen ports. On Seatbelt TCP goes only to `localhost:port` and the
/// listen ports become the proxy mode's bind ports: a port list in the capability set
/// would make the profile generator refuse (Seatbelt cannot filter TCP by port).
pub fn proxy_only(backend: Backend, caps: &mut CapabilitySet, seatbelt: &mut SeatbeltOptions, port: u16) {
    match backend {
        Backend::Seatbelt => {
            let bind_ports = std::mem::take(&mut caps.network.bind_ports);
            seatbelt.network = NetworkMode::ProxyOnly { port, bind_ports };
        }
        Backend::Landlock => {
            caps.network.block = true;
            if !caps.network.connect_ports.contains(&port) {
                caps.network.connect_ports.push(port);
            }
        }
    }
}

/// The capability set under construction, and how it spells paths.
struct Builder {
    caps: CapabilitySet,
    warnings: Vec<String>,
    spelling: Spelling,
    /// What relative paths are relative to, for [`Spelling::SeatbeltText`] only: `run`
    /// never asks, since `getcwd` itself may be denied inside a sandbox.
    cwd: PathBuf,
}

impl Builder {
    fn new(spelling: Spelling) -> Result<Builder> {
        let cwd = match spelling {
            Spelling::Host => PathBuf::from("/"),
            Spelling::SeatbeltText(_) => current_dir()?,
        };
        Ok(Builder { caps: CapabilitySet::new(), warnings: vec![], spelling, cwd })
    }

    /// The system grants: those that exist on this host; for a Seatbelt text printed
    /// elsewhere than on a Mac, all of macOS's as written.
    fn system_grants(&mut self) {
        match self.spelling {
            Spelling::SeatbeltText(resolution) if !cfg!(target_os = "macos") => {
                for (paths, access, is_file) in system::groups(true) {
                    for path in paths.iter().map(PathBuf::from) {
                        let resolved = resolution.resolve(&path, &self.cwd);
                        self.caps.add(FsCapability { original: path, resolved, access, is_file, source: Source::System, opened: Default::default() });
                    }
                }
            }
            _ => system::add_system_grants(&mut self.caps),
        }
    }

    /// One user grant; `label` names its flag or profile entry in errors and warnings.
    fn grant(&mut self, label: &str, path: &Path, access: AccessMode, kind: Kind, missing: Missing) -> Result<()> {
        let is_file = match kind {
            Kind::Directory => false,
            Kind::File => true,
            Kind::Either => path.is_file(),
        };
        let resolution = match self.spelling {
            Spelling::SeatbeltText(resolution) => resolution,
            Spelling::Host => {
                let cap = if is_file {
                    FsCapability::file(label, path, access, Source::User)
                } else {
                    FsCapability::directory(label, path, access, Source::User)
                };
                match cap {
                    Ok(cap) => self.caps.add(cap),
                    Err(Error::PathNotFound { flag, path }) if missing == Missing::Skip => {
                        self.warnings.push(format!("{flag} {}: path does not exist; skipped", path.display()))
                    }
                    Err(other) => return Err(other),
                }
                return Ok(());
            }
        };
        let resolved = resolution.resolve(path, &self.cwd);
        self.caps.add(FsCapability { original: path.to_path_buf(), resolved, access, is_file, source: Source::User, opened: Default::default() });
        Ok(())
    }

    /// The profile's filesystem grants, its working-directory access and its ports.
    fn profile_grants(&mut self, profile: &Profile, workdir: &Path) -> Result<()> {
        let fs = &profile.filesystem;
        let lists = [
            ("allow", &fs.allow, AccessMode::ReadWrite, Kind::Directory),
            ("read", &fs.read, AccessMode::Read, Kind::Either),
            ("write", &fs.write, AccessMode::Write, Kind::Directory),
            ("allow_file", &fs.allow_file, AccessMode::ReadWrite, Kind::File),
            ("read_file", &fs.read_file, AccessMode::Read, Kind::File),
            ("write_file", &fs.write_file, AccessMode::Write, Kind::File),
        ];
        for (key, paths, access, kind) in lists {
            for (i, path) in paths.iter().enumerate() {
                self.grant(&format!("profile filesystem.{key}[{i}]"), Path::new(path), access, kind, Missing::Skip)?;
            }
        }
        let workdir_access = match profile.workdir.access {
            WorkdirAccess::None => None,
            WorkdirAccess::Read => Some(AccessMode::Read),
            WorkdirAccess::Write => Some(AccessMode::Write),
            WorkdirAccess::Readwrite => Some(AccessMode::ReadWrite),
        };
        if let Some(access) = workdir_access {
            self.grant("profile workdir.access", workdir, access, Kind::Directory, Missing::Refuse)?;
        }
        // A printed profile names paths on another machine, where this host cannot tell
        // what a deny lies inside.
        if self.spelling == Spelling::Host {
            check_denies(&fs.deny, &self.caps)?;
        }
        self.caps.network.block |= profile.network.block;
        add_ports(&mut self.caps.network.connect_ports, &profile.network.connect_port);
        add_ports(&mut self.caps.network.bind_ports, &profile.network.listen_port);
        Ok(())
    }
}

/// Appends the ports not listed yet.
fn add_ports(list: &mut Vec<u16>, ports: &[u16]) {
    for port in ports {
        if !list.contains(port) {
            list.push(*port);
        }
    }
}

/// A profile `deny` inside (or equal to) a granted path is a conflict Landlock cannot
/// enforce, so the run is refused rather than weaker.
fn check_denies(denies: &[String], caps: &CapabilitySet) -> Result<()> {
    for (i, deny) in denies.iter().enumerate() {
        let deny_path = Path::new(deny);
        let resolved: PathBuf = deny_path.canonicalize().unwrap_or_else(|_| deny_path.to_path_buf());
        if let Some(grant) = caps.fs.iter().find(|c| resolved.starts_with(&c.resolved)) {
            return Err(Error::PolicyConflict(format!(
                "profile filesystem.deny[{i}] {deny} lies inside the grant {} (from {}); Landlock cannot deny part of a granted directory, so the run is refused",
                grant.resolved.display(),
                grant.original.display()
            )));
        }
    }
    Ok(())
}

/// The proxy's allowlist: profile entries then flags, each once. An entry with endpoint
/// rules is refused: those need TLS interception, which the reference does not do, and
/// allowing the whole host instead would be wider than asked.
fn proxy_hosts(profile_entries: &[AllowDomain], flags: &[String]) -> Result<Vec<String>> {
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

/// Loads a profile the way every command does: user directory and variables from the
/// process environment, `$WORKDIR` = `workdir`.
pub fn load_profile(reference: &str, workdir: PathBuf, expand: bool) -> Result<profile::Resolved> {
    let lookup = Lookup::from_env(&|name| std::env::var(name).ok(), current_dir()?).map_err(|e| Error::Profile(vec![e]))?;
    if !expand {
        return resolve::resolve(reference, &lookup).map_err(Error::Profile);
    }
    profile::load(reference, &lookup, &Vars::from_process(workdir)).map_err(Error::Profile)
}

/// The request policy the flags describe, or None when the socket is off.
pub fn request_policy(args: &RequestArgs) -> Result<Option<RequestPolicy>> {
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

/// The Seatbelt options `args` describe, spelled like the rest of the policy. Socket
/// grants add the filesystem grants they imply (as nono does), and `--proxy-port` turns the
/// listen ports into the proxy mode's bind ports. Paths need not exist: socket and deny
/// paths name what may appear later.
pub fn seatbelt_options(args: &SeatbeltArgs, caps: &mut CapabilitySet, spelling: Spelling) -> Result<SeatbeltOptions> {
    let (resolution, cwd) = match spelling {
        Spelling::Host => (Resolution::Host, cwd_if_needed(args)?),
        Spelling::SeatbeltText(resolution) => (resolution, current_dir()?),
    };
    let resolve = |p: &Path| resolution.resolve(p, &cwd);
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
            caps.add(FsCapability { original, resolved, access, is_file, source: Source::User, opened: Default::default() });
            options.unix_sockets.push(grant);
        }
    }
    for (paths, is_file) in [(&args.deny, false), (&args.deny_file, true)] {
        for path in paths {
            options.deny_paths.push(DenyPath { original: path.clone(), resolved: resolve(path), is_file });
        }
    }
    Ok(options)
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

/// The current directory, or an error saying that is what could not be read.
pub fn current_dir() -> Result<PathBuf> {
    std::env::current_dir().map_err(|source| Error::Io { context: "reading the working directory".into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::format::CommandNetwork;
    use crate::seatbelt::{generate, SbplError};

    fn command_with(network: CommandNetwork) -> CapabilitySet {
        let sandbox = CommandSandbox { network, ..Default::default() };
        let binary = std::env::current_exe().unwrap();
        command_sandbox(&sandbox, &binary, &[]).unwrap()
    }

    fn allowed_hosts(block: bool) -> CommandNetwork {
        CommandNetwork { block, allowed_hosts: vec!["localhost".into()] }
    }

    /// A mediated command with `allowed_hosts` and no `block` gets a proxy of its own
    /// (mediation notes PE-8, SBX-6). On Seatbelt that has to be the proxy network mode:
    /// the port list Landlock uses is a policy the profile generator refuses.
    #[test]
    fn seatbelt_profile_of_a_mediated_command_with_its_own_proxy() {
        let port = 40123;
        let mut caps = command_with(allowed_hosts(false));
        let mut seatbelt = SeatbeltOptions::default();
        proxy_only(Backend::Seatbelt, &mut caps, &mut seatbelt, port);
        let profile = generate(&caps, &seatbelt).expect("the command's profile");
        let lines: Vec<&str> = profile.lines().collect();
        let to_proxy = format!(r#"(allow network-outbound (remote tcp "localhost:{port}"))"#);
        assert!(lines.contains(&"(deny network*)"), "{profile}");
        assert!(lines.contains(&to_proxy.as_str()), "{profile}");
        assert!(!lines.contains(&"(allow network-outbound)") && !lines.contains(&"(allow network-bind)"), "{profile}");

        let mut landlock = command_with(allowed_hosts(false));
        proxy_only(Backend::Landlock, &mut landlock, &mut SeatbeltOptions::default(), port);
        assert!(landlock.network.block && landlock.network.connect_ports == [port]);
        assert!(matches!(generate(&landlock, &SeatbeltOptions::default()), Err(SbplError::PortFilterUnsupported { .. })));
    }

    /// With `block` as well no proxy is started: the network is closed, TCP included.
    #[test]
    fn seatbelt_profile_of_a_mediated_command_with_block_and_allowed_hosts_is_closed() {
        let profile = generate(&command_with(allowed_hosts(true)), &SeatbeltOptions::default()).expect("the command's profile");
        assert!(profile.lines().any(|l| l == "(deny network*)"), "{profile}");
        assert!(!profile.contains("remote tcp") && !profile.contains("(allow network-outbound)\n"), "{profile}");
    }
}
