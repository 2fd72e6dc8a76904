//! The supervisor's sockets.
//!
//! * [`pair`]: a connected pair, created before fork. The supervisor keeps one end, the
//!   child the other. Both ends are close-on-exec; the child clears the flag on its own end
//!   only (see [`crate::supervisor`]).
//! * [`Listener`]: a socket bound at a path, for peers that are not our children. Its file
//!   is owner-only from the moment it exists (no window in which another user could
//!   connect), peers of another uid are refused on accept, and the file is removed on drop.
//! * [`connect`]: the client side of a [`Listener`].

use super::error::{Error, Result};
use super::peer::{self, PeerCredentials};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Permission bits of a listener's socket file: owner read and write only.
pub const SOCKET_MODE: u32 = 0o600;

/// A connected pair `(supervisor end, child end)`, both close-on-exec.
pub fn pair() -> Result<(UnixStream, UnixStream)> {
    UnixStream::pair().map_err(|e| Error::io("creating the supervisor socket pair", e))
}

/// The longest Unix socket path this platform accepts, in bytes: `sun_path` less its
/// terminating NUL (103 on macOS, 107 on Linux).
pub fn max_socket_path_len() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_path.len() - 1
}

/// Refuses a socket path that does not fit `sockaddr_un`, naming it and its length.
pub fn check_path_fits(path: &Path) -> Result<()> {
    let len = path.as_os_str().len();
    let max = max_socket_path_len();
    if len > max {
        return Err(Error::SocketPathTooLong { path: path.to_path_buf(), len, max });
    }
    Ok(())
}

/// Connects to a [`Listener`] at `path`.
pub fn connect(path: &Path) -> Result<UnixStream> {
    check_path_fits(path)?;
    UnixStream::connect(path).map_err(|e| Error::io(format!("connecting to {}", path.display()), e))
}

/// A listening socket at a path, owner-only, removed on drop.
#[derive(Debug)]
pub struct Listener {
    inner: UnixListener,
    path: PathBuf,
}

impl Listener {
    /// Binds at `path`, which must not exist yet (an existing file is never replaced).
    pub fn bind(path: &Path) -> Result<Listener> {
        check_path_fits(path)?;
        let sock = bind_owner_only(path)?;
        // The file exists from here on: any failure must remove it.
        let listener = Listener {
            inner: UnixListener::from(sock),
            path: path.to_path_buf(),
        };
        let mode = std::fs::symlink_metadata(path)
            .map_err(|e| Error::io(format!("checking {}", path.display()), e))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::SocketMode {
                path: path.to_path_buf(),
                mode,
            });
        }
        nix::sys::socket::listen(
            &listener.inner,
            nix::sys::socket::Backlog::new(16).expect("valid backlog"),
        )
        .map_err(|e| Error::io(format!("listening on {}", path.display()), e))?;
        Ok(listener)
    }

    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for a connection and returns it with its peer's credentials. A peer of another
    /// uid is refused: its connection is closed unread and [`Error::PeerRefused`] returned;
    /// the listener stays usable.
    pub fn accept(&self) -> Result<(UnixStream, PeerCredentials)> {
        let (stream, _) = loop {
            match self.inner.accept() {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => {
                    break other.map_err(|e| {
                        Error::io(format!("accepting on {}", self.path.display()), e)
                    })?
                }
            }
        };
        let peer = peer::require_same_uid(&stream)?;
        Ok((stream, peer))
    }

    /// [`Listener::accept`], giving up with a `TimedOut` I/O error after `timeout`.
    pub fn accept_timeout(&self, timeout: Duration) -> Result<(UnixStream, PeerCredentials)> {
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut pfd = libc::pollfd {
            fd: self.inner.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        match ready {
            0 => Err(Error::io(
                format!("waiting for a connection on {}", self.path.display()),
                std::io::ErrorKind::TimedOut,
            )),
            n if n < 0 => Err(Error::io(
                format!("waiting for a connection on {}", self.path.display()),
                std::io::Error::last_os_error(),
            )),
            _ => self.accept(),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Only our own socket: a path replaced by something else since bind stays.
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()));
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A bound (not yet listening) stream socket whose file is owner-only from creation.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn bind_owner_only(path: &Path) -> Result<OwnedFd> {
    use nix::sys::socket::{bind, socket, AddressFamily, SockFlag, SockType, UnixAddr};
    let addr =
        UnixAddr::new(path).map_err(|e| Error::io(format!("socket path {}", path.display()), e))?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::io("creating a socket", e))?;
    // Linux creates the file with the socket inode's mode minus the umask, so narrowing
    // the inode first makes the file owner-only from its first instant, without touching
    // the process-wide umask.
    nix::sys::stat::fchmod(
        &sock,
        nix::sys::stat::Mode::from_bits_truncate(SOCKET_MODE as _),
    )
    .map_err(|e| Error::io("restricting the socket's mode before bind", e))?;
    bind(sock.as_raw_fd(), &addr)
        .map_err(|e| Error::io(format!("binding {}", path.display()), e))?;
    Ok(sock)
}

/// A bound (not yet listening) stream socket whose file is owner-only from creation: the
/// umask is narrowed around `bind`, under a lock so that our own threads do not race it.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn bind_owner_only(path: &Path) -> Result<OwnedFd> {
    use nix::sys::socket::{bind, socket, AddressFamily, SockFlag, SockType, UnixAddr};
    use nix::sys::stat::{umask, Mode};
    static UMASK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let addr =
        UnixAddr::new(path).map_err(|e| Error::io(format!("socket path {}", path.display()), e))?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .map_err(|e| Error::io("creating a socket", e))?;
    nix::fcntl::fcntl(
        &sock,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(|e| Error::io("marking the socket close-on-exec", e))?;
    let _guard = UMASK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = bind(sock.as_raw_fd(), &addr);
    umask(old);
    bound.map_err(|e| Error::io(format!("binding {}", path.display()), e))?;
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn tmpdir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn listener_file_is_owner_only_and_removed_on_drop() {
        let dir = tmpdir();
        let path = dir.path().join("sup.sock");
        let listener = Listener::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "socket mode {mode:o}");
        drop(listener);
        assert!(!path.exists(), "socket file left behind");
    }

    #[test]
    fn a_path_too_long_for_sun_path_is_refused_by_name_and_length() {
        let dir = tmpdir();
        let max = max_socket_path_len();
        assert_eq!(max, if cfg!(target_os = "macos") { 103 } else { 107 });
        let base = dir.path().as_os_str().len() + 1;
        let fits = dir.path().join("f".repeat(max - base));
        let long = dir.path().join("l".repeat(max + 1 - base));
        assert!(Listener::bind(&fits).is_ok(), "a path of exactly {max} bytes must bind");
        let err = Listener::bind(&long).unwrap_err();
        assert_eq!(err.kind(), "socket_path_too_long");
        let text = err.to_string();
        assert!(text.contains(&long.display().to_string()) && text.contains(&format!("{} bytes", max + 1)), "{text}");
        assert!(!long.exists(), "nothing is created for a refused path");
        assert_eq!(connect(&long).unwrap_err().kind(), "socket_path_too_long");
    }

    #[test]
    fn an_existing_path_is_never_replaced() {
        let dir = tmpdir();
        let path = dir.path().join("taken");
        std::fs::write(&path, "keep").unwrap();
        let err = Listener::bind(&path).unwrap_err();
        assert!(err.to_string().contains("taken"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep");
    }

    #[test]
    fn connect_accept_and_talk() {
        let dir = tmpdir();
        let path = dir.path().join("s");
        let listener = Listener::bind(&path).unwrap();
        let mut client = connect(&path).unwrap();
        let (mut server, peer) = listener.accept_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(peer.uid, nix::unistd::geteuid().as_raw());
        client.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn accept_timeout_gives_up() {
        let dir = tmpdir();
        let listener = Listener::bind(&dir.path().join("idle")).unwrap();
        let err = listener
            .accept_timeout(Duration::from_millis(20))
            .unwrap_err();
        assert!(err.to_string().contains("waiting"), "{err}");
    }
}
