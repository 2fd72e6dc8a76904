//! A mediation session: what exists while an agent runs with an active mediation block.
//!
//! ```text
//! $TMPDIR/nono-ref-session-<pid>-<id>/   0700 from creation (mkdir with the mode, no chmod window)
//!   shims/<name>          -> nono-shim      one symlink per mediated command, and an audit
//!                                           shim per other executable on the supervisor's PATH
//!   shim-sources/<name>                     absolute path of the real binary, at session start
//!   mediation.sock                          requests (stream)
//!   audit.sock                              audit events of audited shims (datagram)
//! $XDG_STATE_HOME/nono-ref/sessions/<id>/   0700; outlives the session
//!   audit.jsonl                             0600, one line per command
//! ```
//!
//! The kipz fork keeps one log for all sessions in `~/.nono/sessions/audit.jsonl`; the
//! reference keeps one per session, so a session's lines are found by its ID.
//!
//! The session directory is removed when the [`MediationSession`] is dropped; directories of
//! sessions whose supervisor died without cleaning up are removed when the next session
//! starts. The audit log stays in the state directory, which no default grant covers.

use super::audit::AuditLog;
use super::wire::vars;
use crate::capability::{AccessMode, FsCapability, Source};
use crate::seatbelt::{SocketMode, SocketScope, UnixSocketGrant};
use crate::ipc::socket::Listener;
use crate::profile::format::Mediation;
use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A mediated command whose real binary was found.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub name: String,
    pub real_path: PathBuf,
}

/// A live mediation session: its private directory, shims, sockets and audit log.
pub struct MediationSession {
    /// 16 lower-case hex characters.
    pub id: String,
    /// The private session directory.
    pub dir: PathBuf,
    pub shim_dir: PathBuf,
    pub sources_dir: PathBuf,
    /// The shim binary every shim entry points at.
    pub shim_binary: PathBuf,
    /// 64 lower-case hex characters; handed to the agent.
    pub token: String,
    pub mediation: Arc<Listener>,
    pub audit_socket: UnixDatagram,
    pub audit_socket_path: PathBuf,
    /// The session's state directory (audit log, control file).
    pub state_dir: PathBuf,
    pub audit: Arc<AuditLog>,
    /// The mediated commands that resolved, in profile order.
    pub commands: Vec<Resolved>,
    /// Warnings for commands skipped because no real binary was found.
    pub warnings: Vec<String>,
}

/// Why a session could not be set up.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mediation: {}", self.0)
    }
}

fn fail(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> SetupError {
    move |e| SetupError(format!("{context}: {e}"))
}

/// `bytes` random bytes from the OS, as lower-case hex. Fails closed.
pub fn random_hex(bytes: usize) -> Result<String, SetupError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| SetupError(format!("no secure random source: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The directory holding session state: `$XDG_STATE_HOME/nono-ref/sessions`
/// (`~/.local/state/nono-ref/sessions` by default).
pub fn state_root() -> Result<PathBuf, SetupError> {
    let base = match (std::env::var("XDG_STATE_HOME"), std::env::var("HOME")) {
        (Ok(state), _) if state.starts_with('/') => PathBuf::from(state),
        (Ok(state), _) => return Err(SetupError(format!("XDG_STATE_HOME={state:?} is not an absolute path"))),
        (_, Ok(home)) if home.starts_with('/') => PathBuf::from(home).join(".local/state"),
        _ => return Err(SetupError("neither XDG_STATE_HOME nor HOME is an absolute path; no place for the audit log".into())),
    };
    Ok(base.join("nono-ref/sessions"))
}

/// Finds a program on a `PATH` value: the first executable regular file.
pub fn which(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path?).map(|dir| dir.join(name)).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

impl MediationSession {
    /// Sets a session up for `mediation` (which must be active). `path` is the supervisor's
    /// `PATH`, where real binaries without `binary_path` are looked up.
    pub fn create(mediation: &Mediation, shim_binary: &Path, path: Option<&std::ffi::OsStr>) -> Result<MediationSession, SetupError> {
        let mut commands = vec![];
        let mut warnings = vec![];
        for command in &mediation.commands {
            let real = match &command.binary_path {
                Some(binary) => {
                    let binary = PathBuf::from(binary);
                    if !binary.is_file() {
                        return Err(SetupError(format!(
                            "binary_path for '{}' does not exist or is not a file: {}",
                            command.name,
                            binary.display()
                        )));
                    }
                    binary
                }
                None => match which(&command.name, path) {
                    Some(found) => found,
                    None => {
                        warnings.push(format!("mediated command '{}' not found on PATH; it is not mediated", command.name));
                        continue;
                    }
                },
            };
            commands.push(Resolved { name: command.name.clone(), real_path: real });
        }

        let temp = std::env::temp_dir();
        remove_orphans(&temp);
        let id = random_hex(8)?;
        let dir = temp.join(format!("nono-ref-session-{}-{id}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(fail(format!("creating {}", dir.display())))?;
        // From here on a failure must not leave the directory behind.
        let guard = RemoveOnDrop(dir.clone());
        let shim_dir = dir.join(SHIM_DIR);
        let sources_dir = dir.join(SOURCES_DIR);
        for sub in [&shim_dir, &sources_dir] {
            std::fs::DirBuilder::new().mode(0o700).create(sub).map_err(fail(format!("creating {}", sub.display())))?;
        }
        for command in &commands {
            std::os::unix::fs::symlink(shim_binary, shim_dir.join(&command.name))
                .map_err(fail(format!("creating the shim for '{}'", command.name)))?;
            std::fs::write(sources_dir.join(&command.name), command.real_path.as_os_str().as_encoded_bytes())
                .map_err(fail(format!("recording the real binary of '{}'", command.name)))?;
        }
        install_audit_shims(&shim_dir, &sources_dir, shim_binary, &commands, path);
        // The longest socket name decides whether the directory is short enough: fail
        // with the path and its length, not with the kernel's bare EINVAL.
        crate::ipc::socket::check_path_fits(&dir.join("mediation.sock")).map_err(|e| SetupError(e.to_string()))?;
        let mediation_listener = Listener::bind(&dir.join("mediation.sock")).map_err(|e| SetupError(e.to_string()))?;
        let audit_socket_path = dir.join("audit.sock");
        // The directory is 0700, so the datagram socket is private whatever its own mode.
        let audit_socket = UnixDatagram::bind(&audit_socket_path).map_err(fail("binding the audit socket"))?;

        let state_dir = state_root()?.join(&id);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&state_dir)
            .map_err(fail(format!("creating {}", state_dir.display())))?;
        let audit = Arc::new(AuditLog::open(&state_dir.join("audit.jsonl")).map_err(fail("opening the audit log"))?);
        let token = random_hex(32)?;
        std::mem::forget(guard);
        Ok(MediationSession {
            id,
            dir,
            shim_dir,
            sources_dir,
            shim_binary: shim_binary.to_path_buf(),
            token,
            mediation: Arc::new(mediation_listener),
            audit_socket,
            audit_socket_path,
            state_dir,
            audit,
            commands,
            warnings,
        })
    }

    /// The session's name in audit lines (the fork's is `--name` or a generated
    /// `adjective-noun`; the reference has no `--name`, so it derives one from the ID).
    pub fn name(&self) -> String {
        format!("session-{}", self.id)
    }

    /// The mediated names, joined with `,`.
    pub fn mediated_names(&self) -> String {
        self.commands.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Variables that tell shims where the session is. `path` is the `PATH` to put after the
    /// shim directory.
    pub fn shim_env(&self, path: Option<&std::ffi::OsStr>) -> Vec<(OsString, OsString)> {
        let mut search = OsString::from(&self.shim_dir);
        search.push(":");
        search.push(path.unwrap_or_default());
        vec![
            ("PATH".into(), search),
            (vars::MEDIATION_SOCKET.into(), self.mediation.path().into()),
            (vars::SESSION_TOKEN.into(), self.token.clone().into()),
            (vars::SHIM_DIR.into(), self.shim_dir.clone().into()),
            (vars::MEDIATED_COMMANDS.into(), self.mediated_names().into()),
            (vars::AUDIT_SOCKET.into(), self.audit_socket_path.clone().into()),
            (vars::SHIM_SOURCES_DIR.into(), self.sources_dir.clone().into()),
        ]
    }
    /// The agent's grants on the session: it runs the shims, so it reads them and the
    /// records of the real binaries, and its shims connect to the two sockets. Landlock does
    /// not govern connecting to a named Unix socket, but the grants name the sockets for
    /// every backend (Seatbelt counts a Unix-socket connect as networking, which
    /// `network.block` denies).
    pub fn agent_grants(&self) -> crate::Result<Vec<FsCapability>> {
        let mediation_socket = self.mediation.path().to_path_buf();
        let grants = [
            ("mediation shims", &self.shim_dir, false, AccessMode::Read),
            ("mediation shim records", &self.sources_dir, false, AccessMode::Read),
            ("mediation shim", &self.shim_binary, true, AccessMode::Read),
            ("mediation socket", &mediation_socket, true, AccessMode::ReadWrite),
            ("mediation audit socket", &self.audit_socket_path, true, AccessMode::ReadWrite),
        ];
        grants
            .into_iter()
            .map(|(label, path, file, access)| {
                if file {
                    FsCapability::file(label, path, access, Source::System)
                } else {
                    FsCapability::directory(label, path, access, Source::System)
                }
            })
            .collect()
    }
}

/// The agent's Seatbelt grant on a mediation session's sockets (seed commit 15,
/// mediation-spec AGT-2): connecting to the sockets directly inside the session directory
/// (`mediation.sock`, `control.sock`, `audit.sock`), never deeper. Seatbelt counts that
/// connect as network-outbound, which a blocked or proxy-only network denies; Landlock does
/// not filter pathname sockets, so only the Seatbelt backend needs it.
pub fn socket_grant(session_dir: &Path) -> UnixSocketGrant {
    let resolved = session_dir.canonicalize().unwrap_or_else(|_| session_dir.to_path_buf());
    UnixSocketGrant { original: session_dir.to_path_buf(), resolved, scope: SocketScope::DirChildren, mode: SocketMode::Connect }
}

impl Drop for MediationSession {
    fn drop(&mut self) {
        remove_session_dir(&self.dir);
    }
}

/// A session directory's two large subdirectories: an audit or mediated shim per program,
/// and the record of each shim's real binary.
const SHIM_DIR: &str = "shims";
const SOURCES_DIR: &str = "shim-sources";

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        remove_session_dir(&self.0);
    }
}

/// Removes a session directory. Its two large subdirectories (a shim and a record per
/// program on `PATH`) are emptied side by side: each directory's entries are removed under
/// that directory's own lock, so two threads finish in about half the time of one.
fn remove_session_dir(dir: &Path) {
    std::thread::scope(|scope| {
        scope.spawn(|| std::fs::remove_dir_all(dir.join(SOURCES_DIR)));
        let _ = std::fs::remove_dir_all(dir.join(SHIM_DIR));
    });
    let _ = std::fs::remove_dir_all(dir);
}

/// Gives every executable regular file on `path` that has no shim yet an audit shim and a
/// record of its real binary (mediation notes INST-4, INST-5): the first occurrence of a
/// name on `path` wins, and mediated shims are never replaced. Failures only leave a name
/// unaudited, so they are ignored, as in the fork.
///
/// A session installs one shim and one record per executable, some three thousand files
/// on a usual desktop `PATH`, before the agent starts. So every look and every creation
/// here is relative to an open directory (one name to resolve, not a whole path); the names
/// already taken are remembered rather than looked up in the shim directory (the session
/// made that directory, private, moments ago, so nothing else adds to it); and a second
/// thread writes the records while this one makes the shims, each in its own directory.
fn install_audit_shims(shim_dir: &Path, sources_dir: &Path, shim_binary: &Path, mediated: &[Resolved], path: Option<&std::ffi::OsStr>) {
    use nix::fcntl::{AtFlags, OFlag};
    use nix::sys::stat::{fstatat, Mode, SFlag};
    use std::io::Write;
    let Some(path) = path else { return };
    let (Ok(shims), Ok(sources)) = (std::fs::File::open(shim_dir), std::fs::File::open(sources_dir)) else { return };
    let mut taken: std::collections::HashSet<OsString> = mediated.iter().map(|c| OsString::from(&c.name)).collect();
    std::thread::scope(|scope| {
        let (shimmed, to_record) = std::sync::mpsc::channel::<(OsString, PathBuf)>();
        scope.spawn(move || {
            for (name, real) in to_record {
                let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_CLOEXEC;
                if let Ok(record) = nix::fcntl::openat(&sources, name.as_os_str(), flags, Mode::from_bits_truncate(0o666)) {
                    let _ = std::fs::File::from(record).write_all(real.as_os_str().as_encoded_bytes());
                }
            }
        });
        for dir in std::env::split_paths(path).filter(|d| d.is_absolute()) {
            let (Ok(entries), Ok(dir_fd)) = (std::fs::read_dir(&dir), std::fs::File::open(&dir)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if taken.contains(&name) {
                    continue;
                }
                // Follows a symlink, as `metadata` does: a link to a program is a program.
                let executable = fstatat(&dir_fd, name.as_os_str(), AtFlags::empty()).is_ok_and(|st| {
                    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG && st.st_mode & 0o111 != 0
                });
                if !executable || nix::unistd::symlinkat(shim_binary, &shims, name.as_os_str()).is_err() {
                    continue;
                }
                let _ = shimmed.send((name.clone(), dir.join(&name)));
                taken.insert(name);
            }
        }
    });
}

/// Removes session directories whose supervisor no longer runs (it was killed before it
/// could clean up). Only our own directories are touched.
fn remove_orphans(temp: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    let uid = nix::unistd::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("nono-ref-session-")) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else { continue };
        let ours = entry.metadata().is_ok_and(|m| m.uid() == uid && m.is_dir());
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if ours && !alive {
            remove_session_dir(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::CapabilitySet;
    use crate::seatbelt::{NetworkMode, SeatbeltOptions};

    #[test]
    fn the_socket_grant_lets_the_agent_reach_the_session_sockets_under_a_closed_network() {
        let dir = tempfile::tempdir().unwrap();
        let link_parent = tempfile::tempdir().unwrap();
        let link = link_parent.path().join("session-link");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        let options = SeatbeltOptions {
            network: NetworkMode::ProxyOnly { port: 3128, bind_ports: vec![] },
            unix_sockets: vec![socket_grant(&link)],
            ..Default::default()
        };
        let profile = crate::seatbelt::generate(&CapabilitySet::new(), &options).unwrap();
        let escape = |p: &Path| crate::seatbelt::literal::regex_escape(p.to_str().unwrap());
        let real = dir.path().canonicalize().unwrap();
        for form in [real.as_path(), link.as_path()] {
            let rule = format!(r#"(allow network-outbound (regex "^{}/[^/]+$"))"#, escape(form));
            assert!(profile.lines().any(|l| l == rule), "missing {rule}\n{profile}");
        }
        assert!(profile.lines().any(|l| l == "(allow system-socket (socket-domain AF_UNIX))"), "{profile}");
        assert!(!profile.contains(&format!("(subpath \"{}\")", real.display())), "never the whole subtree\n{profile}");
    }
}
