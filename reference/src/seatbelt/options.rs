//! The macOS-only knobs of a Seatbelt profile, beside the platform-neutral
//! [`CapabilitySet`](crate::capability::CapabilitySet): network mode, process-info and
//! Unix-socket scopes, socket grants, deny paths.

use std::path::PathBuf;

/// Network policy as Seatbelt expresses it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// Everything allowed (the default).
    #[default]
    AllowAll,
    /// Everything denied except DNS through mDNSResponder and the listed carve-outs.
    Blocked,
    /// Like `Blocked`, plus TCP to `localhost:port` (a filtering proxy). Any `bind_ports`
    /// turn on binding and accepting, which Seatbelt cannot restrict to those ports.
    ProxyOnly {
        /// The proxy's port on localhost.
        port: u16,
        /// Ports the program wants to listen on.
        bind_ports: Vec<u16>,
    },
}

/// Which processes the sandboxed program may inspect (`process-info*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProcessInfoMode {
    /// Itself and its own sandbox (the default; Seatbelt has no narrower rule).
    #[default]
    Isolated,
    /// Same rules as `Isolated`.
    AllowSameSandbox,
    /// Every process.
    AllowAll,
}

/// Which socket paths a unix-socket grant covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketScope {
    /// Exactly one socket path.
    File,
    /// Sockets directly inside a directory, not deeper (the session directory case).
    DirChildren,
    /// Sockets anywhere beneath a directory.
    DirSubtree,
}

/// What may be done with a granted socket path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketMode {
    /// `connect(2)` (and sending).
    Connect,
    /// `connect(2)` and `bind(2)`.
    ConnectBind,
}

/// A pathname AF_UNIX socket grant. Seatbelt treats `connect(2)` to a Unix socket as
/// `network-outbound`, so these rules matter only when the network is blocked or
/// proxy-only; a plain filesystem grant never allows connecting to a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixSocketGrant {
    /// The path as given.
    pub original: PathBuf,
    /// The resolved path.
    pub resolved: PathBuf,
    /// What the path covers.
    pub scope: SocketScope,
    /// Connect only, or connect and bind.
    pub mode: SocketMode,
}

/// A sensitive path that stays denied even inside a broader grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyPath {
    /// The path as given.
    pub original: PathBuf,
    /// The resolved path.
    pub resolved: PathBuf,
    /// True for one file (`literal`), false for a directory and everything beneath it.
    pub is_file: bool,
}

/// The inputs only Seatbelt has. The rest comes from the [`CapabilitySet`](crate::capability::CapabilitySet): filesystem
/// grants, `network.block` (blocked unless a proxy mode is given here), TCP port lists
/// (refused), `scope_signals` (signals to the own sandbox only) and
/// `scope_abstract_unix_sockets` (IPC limited to POSIX shared memory; off adds semaphores).
#[derive(Clone, Debug, Default)]
pub struct SeatbeltOptions {
    /// Network mode. `AllowAll` here with `caps.network.block` set means `Blocked`.
    pub network: NetworkMode,
    /// Localhost TCP ports the program may connect to and listen on when the network is
    /// blocked or proxy-only; `0` means every localhost port.
    pub localhost_ports: Vec<u16>,
    /// Pathname Unix-socket carve-outs (blocked and proxy-only networking only).
    pub unix_sockets: Vec<UnixSocketGrant>,
    /// Sensitive paths denied even inside grants; emitted after the grants so they win.
    pub deny_paths: Vec<DenyPath>,
    /// Process inspection.
    pub process_info: ProcessInfoMode,
    /// `$HOME`, to recognise explicit grants of the user's keychain databases.
    pub home: Option<PathBuf>,
    /// Honour sandbox extension tokens (`com.apple.app-sandbox.read[-write]`).
    pub extensions: bool,
    /// Add `(debug deny)`.
    pub debug_deny: bool,
}
