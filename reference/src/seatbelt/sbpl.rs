//! The SBPL generator: a [`CapabilitySet`] plus a few macOS-only [`SeatbeltOptions`] in, a
//! profile out, one rule per line, in the order described in the module docs of
//! [`crate::seatbelt`].
//!
//! The generator never touches the filesystem: every path it is given is already resolved
//! (a capability carries both the path as given and the resolved one). It refuses, with a
//! typed error and before emitting anything, whatever it cannot express faithfully:
//! control characters and non-UTF-8 bytes in paths, relative paths, and TCP port filters
//! (Seatbelt can filter TCP by port only for `localhost`, which is what proxy mode uses).

use super::literal::{ancestors, forms, quote, regex_escape, SbplError};
use super::options::{DenyPath, NetworkMode, ProcessInfoMode, SeatbeltOptions, SocketMode, SocketScope, UnixSocketGrant};
use crate::capability::{CapabilitySet, FsCapability};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
            opened: Default::default(),
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
