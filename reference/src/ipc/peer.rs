//! Who is on the other end of a Unix socket.
//!
//! The kernel records the peer's credentials when the connection is made (`connect` for a
//! listener, `socketpair` for a pair), so they cannot be forged by the peer later. On a
//! pair, both ends report the process that created it; the check that matters is on a
//! listener, where anyone able to reach the path could connect.

use super::error::{Error, Result};
use std::os::fd::AsFd;

/// A peer's identity as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// The peer's pid (absent where the platform cannot tell).
    pub pid: Option<i32>,
    /// The peer's effective uid.
    pub uid: u32,
    /// The peer's effective gid.
    pub gid: u32,
}

/// The credentials of the peer of the connected socket `sock` (`SO_PEERCRED`).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn credentials(sock: &impl AsFd) -> Result<PeerCredentials> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials as SoPeerCred};
    let cred = getsockopt(sock, SoPeerCred).map_err(|e| Error::io("reading SO_PEERCRED", e))?;
    Ok(PeerCredentials {
        pid: Some(cred.pid()),
        uid: cred.uid(),
        gid: cred.gid(),
    })
}

/// The credentials of the peer of the connected socket `sock` (`getpeereid` for the ids,
/// `LOCAL_PEERPID` for the pid).
#[cfg(target_os = "macos")]
pub fn credentials(sock: &impl AsFd) -> Result<PeerCredentials> {
    use nix::sys::socket::{getsockopt, sockopt::LocalPeerPid};
    let (uid, gid) = nix::unistd::getpeereid(sock).map_err(|e| Error::io("getpeereid", e))?;
    let pid = getsockopt(sock, LocalPeerPid).ok();
    Ok(PeerCredentials {
        pid,
        uid: uid.as_raw(),
        gid: gid.as_raw(),
    })
}

/// No peer credentials on this platform: every peer is refused.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
pub fn credentials(_sock: &impl AsFd) -> Result<PeerCredentials> {
    Err(Error::io(
        "reading peer credentials",
        std::io::ErrorKind::Unsupported,
    ))
}

/// Accepts the peer only when it runs as our own effective uid.
pub fn require_same_uid(sock: &impl AsFd) -> Result<PeerCredentials> {
    let peer = credentials(sock)?;
    let ours = nix::unistd::geteuid().as_raw();
    if peer.uid != ours {
        return Err(Error::PeerRefused {
            uid: peer.uid,
            expected: ours,
            pid: peer.pid,
        });
    }
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_reports_our_own_process() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let cred = require_same_uid(&a).unwrap();
        assert_eq!(cred.uid, nix::unistd::geteuid().as_raw());
        if cfg!(target_os = "linux") {
            assert_eq!(cred.pid, Some(std::process::id() as i32));
        }
    }
}
