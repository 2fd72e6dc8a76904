//! The SBPL generator: a [`CapabilitySet`] plus a few macOS-only [`SeatbeltOptions`] in, a
//! profile out, one rule per line, in the order described in the module docs of
//! [`crate::seatbelt`].
//!
//! The generator never touches the filesystem: every path it is given is already resolved
//! (a capability carries both the path as given and the resolved one). It refuses, with a
//! typed error and before emitting anything, whatever it cannot express faithfully:
//! control characters and non-UTF-8 bytes in paths, relative paths, and TCP port filters
//! (Seatbelt can filter TCP by port only for `localhost`, which is what proxy mode uses).

use crate::capability::{CapabilitySet, FsCapability};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

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

/// The inputs only Seatbelt has. The rest comes from the [`CapabilitySet`]: filesystem
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

/// Why a profile cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SbplError {
    /// A path or name holds a control character (U+0000–U+001F, U+007F–U+009F). It is
    /// refused, never stripped: a stripped path would name a different file.
    ControlCharacter {
        /// What the text is (`path`, `unix socket path`, ...).
        what: &'static str,
        /// The text, debug-escaped.
        text: String,
        /// The offending character.
        character: char,
    },
    /// A path is not valid UTF-8 and cannot be written into a profile.
    NotUtf8 {
        /// What the path is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// A path is relative; a rule can only name absolute paths.
    NotAbsolute {
        /// What the path is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// TCP connect or bind port lists were given: Seatbelt cannot filter TCP by port.
    PortFilterUnsupported {
        /// The connect ports asked for.
        connect: Vec<u16>,
        /// The bind ports asked for.
        bind: Vec<u16>,
    },
    /// A directory-scoped unix-socket grant on `/` would cover every socket.
    SocketDirIsRoot,
}

impl fmt::Display for SbplError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SbplError::ControlCharacter { what, text, character } => write!(
                f,
                "{what} {text} contains a control character (U+{:04X}); a Seatbelt profile cannot hold it, and stripping it would name another path",
                *character as u32
            ),
            SbplError::NotUtf8 { what, path } => {
                write!(f, "{what} {} is not valid UTF-8 and cannot be written into a Seatbelt profile", path.display())
            }
            SbplError::NotAbsolute { what, path } => {
                write!(f, "{what} {} is relative; Seatbelt rules name absolute paths", path.display())
            }
            SbplError::PortFilterUnsupported { connect, bind } => write!(
                f,
                "Seatbelt cannot filter TCP by port (connect ports {connect:?}, bind ports {bind:?}); use a proxy port or block the network"
            ),
            SbplError::SocketDirIsRoot => {
                write!(f, "a unix socket directory grant at the filesystem root is not permitted")
            }
        }
    }
}

impl std::error::Error for SbplError {}

/// The Mach services that broker keychain access. Looking them up is denied unless a
/// keychain database is granted explicitly (core-spec SB-07).
pub const KEYCHAIN_SERVICES: &[&str] = &[
    "com.apple.SecurityServer",
    "com.apple.securityd",
    "com.apple.security.keychaind",
    "com.apple.secd",
    "com.apple.security.agent",
];

/// Keychain database files whose explicit grant re-enables the keychain services. Those
/// under `~` are relative to `$HOME`.
pub const KEYCHAIN_DATABASES: &[&str] = &[
    "~/Library/Keychains/login.keychain-db",
    "~/Library/Keychains/metadata.keychain-db",
    "/Library/Keychains/login.keychain-db",
    "/Library/Keychains/metadata.keychain-db",
];

/// The three terminal rules every profile has, so that a program on a terminal works.
const TERMINAL_IOCTLS: &[&str] = &[
    r#"(allow file-ioctl (literal "/dev/tty"))"#,
    r#"(allow file-ioctl (regex #"^/dev/ttys[0-9]+$"))"#,
    r#"(allow file-ioctl (regex #"^/dev/pty[a-z][0-9a-f]+$"))"#,
];

/// Creating a Unix socket of any type, emitted after the carve-outs when there are any: a
/// connect grant is of no use to a client that cannot create its socket, and the audited
/// shims of a mediation session send on a datagram socket (seed commit 15: the shims reach
/// `<session_dir>/{mediation,control,audit}.sock` under a closed network). Creating a socket
/// reaches nothing by itself; `connect` and `sendto` stay under `network-outbound`.
const UNIX_SOCKETS_ANY_TYPE: &str = "(allow system-socket (socket-domain AF_UNIX))";

/// DNS goes through mDNSResponder's Unix socket, which a blocked network still allows.
const DNS_RULES: &[&str] = &[
    "(allow system-socket (socket-domain AF_UNIX) (socket-type SOCK_STREAM))",
    r#"(allow network-outbound (path "/private/var/run/mDNSResponder"))"#,
    r#"(allow network-outbound (path "/var/run/mDNSResponder"))"#,
];

const INET_SOCKETS: &[&str] = &[
    "(allow system-socket (socket-domain AF_INET) (socket-type SOCK_STREAM))",
    "(allow system-socket (socket-domain AF_INET6) (socket-type SOCK_STREAM))",
];

/// Generates the profile for `caps` and `opts`: one rule per line, newline-terminated.
pub fn generate(caps: &CapabilitySet, opts: &SeatbeltOptions) -> Result<String, SbplError> {
    let net = &caps.network;
    if !net.connect_ports.is_empty() || !net.bind_ports.is_empty() {
        return Err(SbplError::PortFilterUnsupported {
            connect: net.connect_ports.clone(),
            bind: net.bind_ports.clone(),
        });
    }
    // Every fallible conversion happens before the first line is written.
    let grants = caps
        .fs
        .iter()
        .map(Grant::new)
        .collect::<Result<Vec<_>, _>>()?;
    let denies = opts
        .deny_paths
        .iter()
        .map(Deny::new)
        .collect::<Result<Vec<_>, _>>()?;
    let sockets = socket_rules(&opts.unix_sockets)?;

    let mut out = Lines::default();
    base(&mut out, caps, opts);
    file_rules(&mut out, &grants, opts.extensions);
    deny_rules(&mut out, &denies);
    network(&mut out, caps, opts, &sockets);
    Ok(out.finish())
}

/// Output lines; `push_unique` keeps a set-valued block free of repeats.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    seen: BTreeSet<String>,
}

impl Lines {
    fn push(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// Starts a block in which a line appears at most once.
    fn block(&mut self) {
        self.seen.clear();
    }

    fn push_unique(&mut self, line: String) {
        if self.seen.insert(line.clone()) {
            self.lines.push(line);
        }
    }

    fn finish(self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }
}

/// Items 1–10: the fixed head and the base every program needs.
fn base(out: &mut Lines, caps: &CapabilitySet, opts: &SeatbeltOptions) {
    out.push("(version 1)");
    out.push("(deny default)");
    if opts.debug_deny {
        out.push("(debug deny)");
    }
    // Executing is allowed per read grant (item 12b below), not here: see `file_rules`.
    out.push("(allow process-fork)");
    match opts.process_info {
        ProcessInfoMode::Isolated | ProcessInfoMode::AllowSameSandbox => {
            out.push("(allow process-info* (target self))");
            out.push("(allow process-info* (target same-sandbox))");
        }
        ProcessInfoMode::AllowAll => out.push("(allow process-info*)"),
    }
    out.push("(allow sysctl-read)");
    out.push("(allow mach-lookup)");
    if !keychain_database_granted(caps, opts.home.as_deref()) {
        for service in KEYCHAIN_SERVICES {
            out.push(format!(r#"(deny mach-lookup (global-name "{service}"))"#));
        }
    }
    out.push("(allow mach-per-user-lookup)");
    out.push("(allow mach-task-name)");
    out.push("(deny mach-priv*)");
    out.push("(allow ipc-posix-shm-read-data)");
    out.push("(allow ipc-posix-shm-write-data)");
    out.push("(allow ipc-posix-shm-write-create)");
    if !caps.scope_abstract_unix_sockets {
        out.push("(allow ipc-posix-sem*)");
    }
    if caps.scope_signals {
        out.push("(allow signal (target self))");
        out.push("(allow signal (target same-sandbox))");
    } else {
        out.push("(allow signal)");
    }
    out.push("(allow system-fsctl)");
    out.push("(allow system-info)");
    out.push(r#"(allow file-read* (literal "/"))"#);
}

/// True when some grant names one of the keychain databases exactly (as given or resolved).
pub fn keychain_database_granted(caps: &CapabilitySet, home: Option<&Path>) -> bool {
    let databases: Vec<PathBuf> = KEYCHAIN_DATABASES
        .iter()
        .filter_map(|db| match db.strip_prefix("~/") {
            Some(rest) => home.map(|h| h.join(rest)),
            None => Some(PathBuf::from(db)),
        })
        .collect();
    caps.fs.iter().any(|cap| {
        databases
            .iter()
            .any(|db| *db == cap.original || *db == cap.resolved)
    })
}

/// A filesystem grant with its filters rendered.
struct Grant<'a> {
    cap: &'a FsCapability,
    /// `(literal "...")` or `(subpath "...")`: resolved first, then the path as given.
    filters: Vec<String>,
    /// The rendered resolved path and, when it differs, the path as given.
    forms: Vec<String>,
}

impl<'a> Grant<'a> {
    fn new(cap: &'a FsCapability) -> Result<Self, SbplError> {
        let forms = forms("path", &cap.resolved, &cap.original)?;
        let kind = if cap.is_file { "literal" } else { "subpath" };
        let filters = forms
            .iter()
            .map(|p| format!("({kind} {})", quote(p)))
            .collect();
        Ok(Grant {
            cap,
            filters,
            forms,
        })
    }
}

/// Items 11–17: ancestor metadata, executable mapping, executing, ioctls, reads, extensions,
/// writes.
fn file_rules(out: &mut Lines, grants: &[Grant], extensions: bool) {
    // A sorted set: the order of this block is not defined, so make it deterministic.
    let ancestors: BTreeSet<String> = grants
        .iter()
        .flat_map(|g| g.forms.iter())
        .flat_map(|p| ancestors(p))
        .collect();
    for dir in ancestors {
        out.push(format!(
            "(allow file-read-metadata (literal {}))",
            quote(&dir)
        ));
    }
    let readable = || grants.iter().filter(|g| g.cap.access.reads());
    out.block();
    for filter in readable().flat_map(|g| g.filters.iter()) {
        out.push_unique(format!("(allow file-map-executable {filter})"));
    }
    // Executing follows reading, as on Linux, where a read grant includes Landlock's
    // Execute right and nothing else does (core-spec LL-05; FS-EXEC-001..003). nono emits
    // a bare `(allow process-exec*)` (core-spec SB-01 item 2), so the exec check itself
    // never refuses a path there; the reference filters it per grant, as Chromium
    // (`(allow process-exec (path ...))`, common.sb) and nono's own tool sandbox
    // (`(allow process-exec* (literal ...))`) do. A write-only grant never makes a program
    // runnable; the system read grants keep /bin and /usr runnable, and a mediation
    // session's read grants its shims.
    out.block();
    for filter in readable().flat_map(|g| g.filters.iter()) {
        out.push_unique(format!("(allow process-exec* {filter})"));
    }
    for rule in TERMINAL_IOCTLS {
        out.push(*rule);
    }
    out.block();
    for filter in grants.iter().flat_map(|g| g.filters.iter()) {
        out.push_unique(format!("(allow file-ioctl {filter})"));
    }
    out.push("(allow pseudo-tty)");
    out.block();
    for filter in readable().flat_map(|g| g.filters.iter()) {
        out.push_unique(format!("(allow file-read* {filter})"));
    }
    if extensions {
        out.push(r#"(allow file-read* (extension "com.apple.app-sandbox.read"))"#);
        out.push(r#"(allow file-read* (extension "com.apple.app-sandbox.read-write"))"#);
        out.push(r#"(allow file-write* (extension "com.apple.app-sandbox.read-write"))"#);
    }
    out.block();
    for filter in grants
        .iter()
        .filter(|g| g.cap.access.writes())
        .flat_map(|g| g.filters.iter())
    {
        out.push_unique(format!("(allow file-write* {filter})"));
    }
}

/// A sensitive deny path with its forms rendered.
struct Deny {
    is_file: bool,
    forms: Vec<String>,
}

impl Deny {
    fn new(deny: &DenyPath) -> Result<Self, SbplError> {
        Ok(Deny {
            is_file: deny.is_file,
            forms: forms("deny path", &deny.resolved, &deny.original)?,
        })
    }
}

/// Item 18: sensitive denies, in three sets. First, per form, every read operation,
/// every write and socket connects are denied: `file-read*` rather than `file-read-data`,
/// so that extended attributes (`file-read-xattr`) and whatever else reads the object are
/// denied too. Then no ancestor directory of a denied path may be renamed or removed, so
/// that the denied object cannot be moved out from under its rule. Last, metadata is
/// allowed again per form: after the denies, so that it wins over `(deny file-read* F)`
/// (the last matching rule wins) and `stat` and `test -d` keep working.
fn deny_rules(out: &mut Lines, denies: &[Deny]) {
    let filters = |deny: &'_ Deny| {
        let kind = if deny.is_file { "literal" } else { "subpath" };
        deny.forms.iter().map(move |form| (format!("({kind} {})", quote(form)), form.clone())).collect::<Vec<_>>()
    };
    out.block();
    for (filter, form) in denies.iter().flat_map(filters) {
        out.push_unique(format!("(deny file-read* {filter})"));
        out.push_unique(format!("(deny file-write* {filter})"));
        out.push_unique(format!("(deny network-outbound (path {}))", quote(&form)));
    }
    let ancestors: BTreeSet<String> = denies
        .iter()
        .flat_map(|d| d.forms.iter())
        .flat_map(|p| ancestors(p))
        .collect();
    for dir in ancestors {
        out.push(format!(
            "(deny file-write-unlink (literal {}))",
            quote(&dir)
        ));
    }
    out.block();
    for (filter, _) in denies.iter().flat_map(filters) {
        out.push_unique(format!("(allow file-read-metadata {filter})"));
    }
}

/// The unix-socket carve-out rules (emitted only when the network is not allow-all).
fn socket_rules(grants: &[UnixSocketGrant]) -> Result<Vec<String>, SbplError> {
    let mut rules = vec![];
    for grant in grants {
        let forms = forms("unix socket path", &grant.resolved, &grant.original)?;
        if grant.scope != SocketScope::File && forms.iter().any(|p| p == "/") {
            return Err(SbplError::SocketDirIsRoot);
        }
        let ops: &[&str] = match grant.mode {
            SocketMode::Connect => &["network-outbound"],
            SocketMode::ConnectBind => &["network-outbound", "network-bind"],
        };
        for op in ops {
            for form in &forms {
                let filter = match grant.scope {
                    SocketScope::File => format!("(path {})", quote(form)),
                    SocketScope::DirChildren => {
                        format!(r#"(regex "^{}/[^/]+$")"#, regex_escape(form))
                    }
                    SocketScope::DirSubtree => format!("(subpath {})", quote(form)),
                };
                rules.push(format!("(allow {op} {filter})"));
            }
        }
    }
    Ok(rules)
}

/// Item 19: the network block.
fn network(out: &mut Lines, caps: &CapabilitySet, opts: &SeatbeltOptions, sockets: &[String]) {
    let mode = match (&opts.network, caps.network.block) {
        (NetworkMode::AllowAll, true) => NetworkMode::Blocked,
        (mode, _) => mode.clone(),
    };
    let mut ports: Vec<u16> = vec![];
    for &port in &opts.localhost_ports {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    let localhost_outbound = |out: &mut Lines| {
        for port in ports.iter().filter(|&&p| p != 0) {
            out.push(format!(
                r#"(allow network-outbound (remote tcp "localhost:{port}"))"#
            ));
        }
        if ports.contains(&0) {
            out.push(r#"(allow network-outbound (remote tcp "localhost:*"))"#);
        }
    };
    let closed_head = |out: &mut Lines| {
        out.push("(deny network*)");
        for rule in DNS_RULES {
            out.push(*rule);
        }
        out.block();
        for rule in sockets {
            out.push_unique(rule.clone());
        }
        if !sockets.is_empty() {
            out.push(UNIX_SOCKETS_ANY_TYPE);
        }
    };
    match mode {
        NetworkMode::AllowAll => {
            out.push("(allow system-socket)");
            out.push("(allow network-outbound)");
            out.push("(allow network-inbound)");
            out.push("(allow network-bind)");
        }
        NetworkMode::Blocked => {
            closed_head(out);
            if !ports.is_empty() {
                for rule in INET_SOCKETS {
                    out.push(*rule);
                }
                localhost_outbound(out);
                out.push("(allow network-bind)");
                out.push("(allow network-inbound)");
            }
        }
        NetworkMode::ProxyOnly { port, bind_ports } => {
            closed_head(out);
            out.push(format!(
                r#"(allow network-outbound (remote tcp "localhost:{port}"))"#
            ));
            localhost_outbound(out);
            for rule in INET_SOCKETS {
                out.push(*rule);
            }
            if !bind_ports.is_empty() || !ports.is_empty() {
                out.push("(allow network-bind)");
                out.push("(allow network-inbound)");
            }
        }
    }
}

/// The rendered resolved path, and the path as given when it is absolute and differs.
/// Both are checked for control characters and UTF-8; the resolved one must be absolute.
fn forms(what: &'static str, resolved: &Path, original: &Path) -> Result<Vec<String>, SbplError> {
    let mut out = vec![render(what, resolved)?];
    if original.is_absolute() {
        let given = render(what, original)?;
        if given != out[0] {
            out.push(given);
        }
    } else {
        // Still refuse a relative path that hides a control character or bad bytes.
        render_relative(what, original)?;
    }
    Ok(out)
}

/// An absolute path as a string without `.` components or a trailing slash.
fn render(what: &'static str, path: &Path) -> Result<String, SbplError> {
    if !path.is_absolute() {
        return Err(SbplError::NotAbsolute {
            what,
            path: path.into(),
        });
    }
    let text = path.to_str().ok_or_else(|| SbplError::NotUtf8 {
        what,
        path: path.into(),
    })?;
    check_text(what, text)?;
    let mut rendered = String::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => rendered.push_str("/.."),
            Component::Normal(name) => {
                rendered.push('/');
                rendered.push_str(name.to_str().expect("checked UTF-8 above"));
            }
        }
    }
    if rendered.is_empty() {
        rendered.push('/');
    }
    Ok(rendered)
}

fn render_relative(what: &'static str, path: &Path) -> Result<(), SbplError> {
    let text = path.to_str().ok_or_else(|| SbplError::NotUtf8 {
        what,
        path: path.into(),
    })?;
    check_text(what, text)
}

/// Refuses control characters (Unicode category Cc).
pub fn check_text(what: &'static str, text: &str) -> Result<(), SbplError> {
    match text.chars().find(|c| c.is_control()) {
        Some(character) => Err(SbplError::ControlCharacter {
            what,
            text: format!("{text:?}"),
            character,
        }),
        None => Ok(()),
    }
}

/// A string literal: `\` becomes `\\` and `"` becomes `\"`. The caller has already refused
/// control characters.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path as a literal part of a POSIX regex inside an SBPL string: metacharacters become
/// one-character classes (`.` → `[.]`), brackets are escaped for the regex (`\\[` in the
/// string), a backslash becomes four (two for the string, two for the regex), and `"`
/// is escaped for the string.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '.' | '+' | '*' | '?' | '(' | ')' | '{' | '}' | '|' | '^' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '[' | ']' => {
                out.push_str(r"\\");
                out.push(c);
            }
            '\\' => out.push_str(r"\\\\"),
            '"' => out.push_str(r#"\""#),
            c => out.push(c),
        }
    }
    out
}

/// The strict ancestors of an absolute rendered path, excluding `/`.
fn ancestors(path: &str) -> Vec<String> {
    Path::new(path)
        .ancestors()
        .skip(1)
        .filter(|a| *a != Path::new("/") && !a.as_os_str().is_empty())
        .map(|a| a.to_str().expect("rendered paths are UTF-8").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{AccessMode, Source};

    fn cap(path: &str, given: &str, access: AccessMode, is_file: bool) -> FsCapability {
        FsCapability {
            original: given.into(),
            resolved: path.into(),
            access,
            is_file,
            source: Source::User,
        }
    }

    fn lines(profile: &str) -> Vec<&str> {
        profile.lines().collect()
    }

    #[test]
    fn empty_set_is_the_31_line_base_with_open_network() {
        let profile = generate(&CapabilitySet::new(), &SeatbeltOptions::default()).unwrap();
        let lines = lines(&profile);
        // nono's 32 lines (core-spec SB-12) less its bare `(allow process-exec*)`.
        assert_eq!(lines.len(), 31, "{profile}");
        assert_eq!(&lines[..2], ["(version 1)", "(deny default)"]);
        assert!(lines.contains(&"(allow network-outbound)"));
        assert!(!lines.contains(&"(allow file-map-executable)"));
        assert!(!profile.contains("process-exec"), "no grant, nothing may be executed: {profile}");
        assert_eq!(lines.last(), Some(&"(allow network-bind)"));
    }

    #[test]
    fn executing_is_allowed_exactly_where_reading_is() {
        let mut caps = CapabilitySet::new();
        caps.fs.push(cap("/r", "/r", AccessMode::Read, false));
        caps.fs.push(cap("/private/tmp/rw", "/tmp/rw", AccessMode::ReadWrite, false));
        caps.fs.push(cap("/w", "/w", AccessMode::Write, false));
        caps.fs.push(cap("/bin/tool", "/bin/tool", AccessMode::Read, true));
        let profile = generate(&caps, &SeatbeltOptions::default()).unwrap();
        let exec: Vec<&str> = profile.lines().filter(|l| l.contains("process-exec")).collect();
        assert_eq!(
            exec,
            [
                r#"(allow process-exec* (subpath "/r"))"#,
                r#"(allow process-exec* (subpath "/private/tmp/rw"))"#,
                r#"(allow process-exec* (subpath "/tmp/rw"))"#,
                r#"(allow process-exec* (literal "/bin/tool"))"#,
            ],
            "{profile}"
        );
        // The block sits between executable mapping and the terminal ioctls.
        let at = |prefix: &str| profile.lines().position(|l| l.starts_with(prefix)).unwrap();
        assert!(at("(allow file-map-executable") < at("(allow process-exec*"), "{profile}");
        assert!(at("(allow process-exec*") < at(r#"(allow file-ioctl (literal "/dev/tty"))"#), "{profile}");
    }

    #[test]
    fn read_write_dir_gets_map_ioctl_read_write_in_that_order() {
        let mut caps = CapabilitySet::new();
        caps.fs
            .push(cap("/test", "/test", AccessMode::ReadWrite, false));
        let profile = generate(&caps, &SeatbeltOptions::default()).unwrap();
        let at = |rule: &str| {
            profile
                .lines()
                .position(|l| l == rule)
                .unwrap_or_else(|| panic!("{rule} missing"))
        };
        let map = at(r#"(allow file-map-executable (subpath "/test"))"#);
        let ioctl = at(r#"(allow file-ioctl (subpath "/test"))"#);
        let read = at(r#"(allow file-read* (subpath "/test"))"#);
        let write = at(r#"(allow file-write* (subpath "/test"))"#);
        assert!(map < ioctl && ioctl < read && read < write, "{profile}");
    }

    #[test]
    fn write_only_file_is_literal_and_never_executable() {
        let mut caps = CapabilitySet::new();
        caps.fs
            .push(cap("/test.txt", "/test.txt", AccessMode::Write, true));
        let profile = generate(&caps, &SeatbeltOptions::default()).unwrap();
        assert!(profile.contains(r#"(allow file-write* (literal "/test.txt"))"#));
        assert!(!profile.contains("file-map-executable (literal"));
        assert!(!profile.contains(r#"(allow file-read* (literal "/test.txt"))"#));
    }

    #[test]
    fn symlinked_path_emits_resolved_then_given() {
        let mut caps = CapabilitySet::new();
        caps.fs
            .push(cap("/private/tmp/x", "/tmp/x", AccessMode::Read, false));
        let profile = generate(&caps, &SeatbeltOptions::default()).unwrap();
        let reads: Vec<&str> = profile
            .lines()
            .filter(|l| l.starts_with("(allow file-read* (subpath"))
            .collect();
        assert_eq!(
            reads,
            [
                r#"(allow file-read* (subpath "/private/tmp/x"))"#,
                r#"(allow file-read* (subpath "/tmp/x"))"#
            ]
        );
        for dir in ["/private", "/private/tmp", "/tmp"] {
            assert!(
                profile.contains(&format!(r#"(allow file-read-metadata (literal "{dir}"))"#)),
                "{dir}"
            );
        }
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote(r#"/a"b\c"#), r#""/a\"b\\c""#);
    }

    #[test]
    fn control_characters_are_refused_not_stripped() {
        for bad in ["/a\nb", "/a\u{1}b", "/a\u{7f}b", "/a\u{85}b"] {
            let mut caps = CapabilitySet::new();
            caps.fs.push(cap(bad, bad, AccessMode::Read, false));
            let err = generate(&caps, &SeatbeltOptions::default()).unwrap_err();
            assert!(
                matches!(err, SbplError::ControlCharacter { .. }),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn regex_escaping_follows_sbpl_string_and_regex_rules() {
        assert_eq!(regex_escape("/a.b"), "/a[.]b");
        assert_eq!(regex_escape("/a[b]"), r"/a\\[b\\]");
        assert_eq!(regex_escape(r"/a\b"), r"/a\\\\b");
        assert_eq!(regex_escape(r#"/a"b"#), r#"/a\"b"#);
    }

    #[test]
    fn keychain_denies_vanish_only_for_an_exact_database_grant() {
        let opts = SeatbeltOptions {
            home: Some("/Users/a".into()),
            ..Default::default()
        };
        let mut caps = CapabilitySet::new();
        caps.fs.push(cap(
            "/Users/a/Library/Keychains",
            "/Users/a/Library/Keychains",
            AccessMode::Read,
            false,
        ));
        assert!(generate(&caps, &opts)
            .unwrap()
            .contains("com.apple.securityd"));
        caps.fs.push(cap(
            "/Users/a/Library/Keychains/login.keychain-db",
            "/Users/a/Library/Keychains/login.keychain-db",
            AccessMode::Read,
            true,
        ));
        assert!(!generate(&caps, &opts)
            .unwrap()
            .contains("(deny mach-lookup"));
    }

    #[test]
    fn port_lists_are_refused() {
        let mut caps = CapabilitySet::new();
        caps.network.connect_ports.push(443);
        let err = generate(&caps, &SeatbeltOptions::default()).unwrap_err();
        assert!(matches!(err, SbplError::PortFilterUnsupported { .. }));
    }

    #[test]
    fn session_dir_carve_out_is_non_recursive_and_only_when_closed() {
        let socket = UnixSocketGrant {
            original: "/tmp/s".into(),
            resolved: "/private/tmp/s".into(),
            scope: SocketScope::DirChildren,
            mode: SocketMode::Connect,
        };
        let proxy = SeatbeltOptions {
            network: NetworkMode::ProxyOnly {
                port: 3128,
                bind_ports: vec![],
            },
            unix_sockets: vec![socket.clone()],
            ..Default::default()
        };
        let profile = generate(&CapabilitySet::new(), &proxy).unwrap();
        assert!(
            profile.contains(r#"(allow network-outbound (regex "^/private/tmp/s/[^/]+$"))"#),
            "{profile}"
        );
        assert!(
            profile.contains(r#"(allow network-outbound (regex "^/tmp/s/[^/]+$"))"#),
            "{profile}"
        );
        assert!(profile.contains(r#"(allow network-outbound (remote tcp "localhost:3128"))"#));
        let open = SeatbeltOptions {
            unix_sockets: vec![socket],
            ..Default::default()
        };
        assert!(!generate(&CapabilitySet::new(), &open)
            .unwrap()
            .contains("regex \"^/private/tmp/s"));
    }

    #[test]
    fn deny_paths_come_after_writes_and_lock_their_ancestors() {
        let mut caps = CapabilitySet::new();
        caps.fs
            .push(cap("/Users/a", "/Users/a", AccessMode::ReadWrite, false));
        let opts = SeatbeltOptions {
            deny_paths: vec![DenyPath {
                original: "/Users/a/.ssh".into(),
                resolved: "/Users/a/.ssh".into(),
                is_file: false,
            }],
            ..Default::default()
        };
        let profile = generate(&caps, &opts).unwrap();
        let at = |rule: &str| {
            profile
                .lines()
                .position(|l| l == rule)
                .unwrap_or_else(|| panic!("{rule} missing"))
        };
        let write = at(r#"(allow file-write* (subpath "/Users/a"))"#);
        let deny = at(r#"(deny file-read* (subpath "/Users/a/.ssh"))"#);
        let unlink = at(r#"(deny file-write-unlink (literal "/Users/a"))"#);
        let metadata = at(r#"(allow file-read-metadata (subpath "/Users/a/.ssh"))"#);
        assert!(write < deny && deny < unlink && unlink < metadata, "{profile}");
        // Every read operation is denied, extended attributes included, not only data.
        assert!(!profile.contains("(deny file-read-data"), "{profile}");
    }

    #[test]
    fn socket_carve_outs_let_any_unix_socket_be_created_after_them() {
        let grant = UnixSocketGrant {
            original: "/s".into(),
            resolved: "/s".into(),
            scope: SocketScope::DirChildren,
            mode: SocketMode::Connect,
        };
        let mut caps = CapabilitySet::new();
        caps.network.block = true;
        let blocked = |unix_sockets| {
            generate(&caps, &SeatbeltOptions { unix_sockets, ..Default::default() }).unwrap()
        };
        let profile = blocked(vec![grant]);
        let lines = lines(&profile);
        let carve = lines.iter().position(|l| l.contains(r#"(regex "^/s/[^/]+$")"#)).unwrap();
        let any = lines.iter().position(|l| *l == UNIX_SOCKETS_ANY_TYPE).unwrap();
        assert!(carve < any, "{profile}");
        assert!(!blocked(vec![]).contains(UNIX_SOCKETS_ANY_TYPE), "no carve-out, no socket creation beyond DNS");
    }
}
