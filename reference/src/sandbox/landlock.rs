//! Landlock backend (Linux), through the `landlock` crate.
//!
//! Rights mapping, as in nono (core-spec LL-05):
//! * Read  = ReadFile | ReadDir | Execute
//! * Write = WriteFile | Make{Char,Dir,Reg,Sock,Fifo,Block,Sym} | Remove{File,Dir} | Refer | Truncate
//! * IoctlDev only on device files (and directories under `/dev`) granted for writing.
//!
//! Filesystem rights are best effort: an older kernel that lacks `Refer` or `Truncate`
//! enforces what it can, and the result is reported. Two things are never best effort,
//! because silently dropping them would run a program with more rights than asked for:
//! Landlock itself (no Landlock → refuse), and TCP filtering (asked for but ABI < 4 → refuse).
//! Signal and abstract-socket scoping degrade silently below ABI 6, as in nono.

use super::BackendInfo;
use crate::capability::{CapabilitySet, FsCapability};
use crate::error::{Error, Result};
use landlock::{
    make_bitflags, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, LandlockStatus,
    NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr,
    RulesetStatus, Scope, ABI,
};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;

/// Rights implied by a Read grant.
fn read_rights() -> BitFlags<AccessFs> {
    make_bitflags!(AccessFs::{ReadFile | ReadDir | Execute})
}

/// Rights implied by a Write grant.
fn write_rights() -> BitFlags<AccessFs> {
    make_bitflags!(AccessFs::{
        WriteFile | MakeChar | MakeDir | MakeReg | MakeSock | MakeFifo | MakeBlock | MakeSym
        | RemoveFile | RemoveDir | Refer | Truncate
    })
}

/// Every filesystem right the reference handles (and so denies unless granted).
fn handled_rights() -> BitFlags<AccessFs> {
    read_rights() | write_rights() | AccessFs::IoctlDev
}

fn rights_for(cap: &FsCapability) -> BitFlags<AccessFs> {
    let mut rights = BitFlags::empty();
    if cap.access.reads() {
        rights |= read_rights();
    }
    if cap.access.writes() {
        rights |= write_rights();
        if is_device_or_dev_dir(cap) {
            rights |= AccessFs::IoctlDev;
        }
    }
    if cap.is_file {
        // Directory-only rights are invalid on a file rule.
        rights &= AccessFs::from_file(ABI::V5);
    }
    rights
}

/// A device, or a directory under `/dev`: the type of the object the grant kept open
/// (see [`crate::capability::Opened`]), else of what the path names now.
fn is_device_or_dev_dir(cap: &FsCapability) -> bool {
    match cap.opened.file_type().map(Ok).unwrap_or_else(|| std::fs::metadata(&cap.resolved).map(|m| m.file_type())) {
        Ok(t) if t.is_dir() => cap.resolved.starts_with("/dev"),
        Ok(t) => t.is_char_device() || t.is_block_device(),
        Err(_) => false,
    }
}

/// A ruleset built in the parent, ready to be enforced in the child.
pub struct Prepared {
    ruleset: RulesetCreated,
}

impl Prepared {
    /// Enforces the ruleset on the calling thread (and everything it later execs or forks).
    /// Also sets `no_new_privs`. Call only in the freshly forked child.
    pub fn restrict_self(self) -> std::result::Result<(), String> {
        let status = self.ruleset.restrict_self().map_err(|e| e.to_string())?;
        if status.ruleset == RulesetStatus::NotEnforced {
            return Err("Landlock ruleset was not enforced".into());
        }
        if !status.no_new_privs {
            return Err("no_new_privs could not be set".into());
        }
        Ok(())
    }
}

fn ruleset_err(e: impl std::fmt::Display) -> Error {
    Error::Ruleset(e.to_string())
}

/// Builds the Landlock ruleset for `caps`. Fails when Landlock is missing, or when TCP
/// filtering is requested on a kernel older than ABI 4.
pub fn prepare(caps: &CapabilitySet) -> Result<Prepared> {
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))
        .map_err(|e| Error::LandlockUnavailable(e.to_string()))?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(handled_rights())
        .map_err(ruleset_err)?;

    if caps.network.filters_tcp() {
        // Once TCP is filtered at all, bind is filtered (core-spec LL-15): a connect
        // allow-list alone leaves no port to bind, as in nono (NET-TCP-008). Connect stays
        // open under a bind allow-list alone (`--listen-port` without `--block-net`), which
        // nono ignores outside proxy mode and the reference keeps to the binds it names.
        let mut tcp = BitFlags::from(AccessNet::BindTcp);
        if caps.network.block || !caps.network.connect_ports.is_empty() {
            tcp |= AccessNet::ConnectTcp;
        }
        ruleset = ruleset
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(tcp)
            .map_err(|e| Error::FeatureUnsupported {
                feature: "TCP filtering (--block-net, --allow-connect-port, --listen-port, --allow-domain)".into(),
                needed_abi: 4,
                detail: e.to_string(),
            })?
            .set_compatibility(CompatLevel::BestEffort);
    }

    let mut scopes = BitFlags::<Scope>::empty();
    if caps.scope_signals {
        scopes |= Scope::Signal;
    }
    if caps.scope_abstract_unix_sockets {
        scopes |= Scope::AbstractUnixSocket;
    }
    if !scopes.is_empty() {
        ruleset = ruleset.scope(scopes).map_err(ruleset_err)?;
    }

    let mut created = ruleset.create().map_err(ruleset_err)?;
    for cap in &caps.fs {
        // The object the grant resolved to, where it was kept open; else the path, now.
        let opened_now;
        let fd = match cap.opened.fd() {
            Some(fd) => fd,
            None => {
                opened_now = PathFd::new(&cap.resolved).map_err(|e| {
                    Error::Ruleset(format!("cannot open {} for a rule: {e}", cap.resolved.display()))
                })?;
                opened_now.as_fd()
            }
        };
        created = created
            .add_rule(PathBeneath::new(fd, rights_for(cap)))
            .map_err(|e| Error::Ruleset(format!("rule for {}: {e}", cap.resolved.display())))?;
    }
    for &port in &caps.network.connect_ports {
        created = created.add_rule(NetPort::new(port, AccessNet::ConnectTcp)).map_err(ruleset_err)?;
    }
    for &port in &caps.network.bind_ports {
        created = created.add_rule(NetPort::new(port, AccessNet::BindTcp)).map_err(ruleset_err)?;
    }
    Ok(Prepared { ruleset: created })
}

/// The Landlock ABI of the running kernel, learnt the only way the `landlock` crate offers:
/// by enforcing a throwaway ruleset in a short-lived child and reading its status.
fn kernel_abi() -> u32 {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    // SAFETY: the caller is single-threaded (the CLI), so the child may allocate.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let abi = Ruleset::default()
                .handle_access(AccessFs::Execute)
                .and_then(|r| r.create())
                .and_then(|r| r.restrict_self())
                .map(|status| match status.landlock {
                    LandlockStatus::Available { effective_abi, kernel_abi } => {
                        kernel_abi.unwrap_or(effective_abi as i32)
                    }
                    _ => 0,
                })
                .unwrap_or(0);
            unsafe { libc::_exit(abi.clamp(0, 255)) }
        }
        Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => code as u32,
            _ => 0,
        },
        Err(_) => 0,
    }
}

/// Reports the kernel's Landlock ABI and the features the reference enforces with it.
pub fn detect() -> BackendInfo {
    let abi = kernel_abi();
    let table: [(u32, &'static str); 8] = [
        (1, "fs"),
        (1, "no_new_privs"),
        (2, "fs.refer"),
        (3, "fs.truncate"),
        (4, "net.tcp"),
        (5, "fs.ioctl_dev"),
        (6, "scope.signal"),
        (6, "scope.abstract_unix_socket"),
    ];
    BackendInfo {
        backend: if abi > 0 { "landlock" } else { "none" },
        landlock_abi: Some(abi),
        features: table.iter().filter(|(min, _)| abi >= *min).map(|(_, f)| *f).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{AccessMode, Source};
    use std::path::PathBuf;

    fn cap(access: AccessMode, is_file: bool, path: &str) -> FsCapability {
        FsCapability {
            original: PathBuf::from(path),
            resolved: PathBuf::from(path),
            access,
            is_file,
            source: Source::User,
            opened: Default::default(),
        }
    }

    #[test]
    fn read_grant_includes_execute_but_no_write() {
        let r = rights_for(&cap(AccessMode::Read, false, "/nonexistent-dir"));
        assert!(r.contains(AccessFs::Execute | AccessFs::ReadFile | AccessFs::ReadDir));
        assert!(!r.intersects(write_rights()));
    }

    #[test]
    fn file_rules_drop_directory_only_rights() {
        let r = rights_for(&cap(AccessMode::ReadWrite, true, "/nonexistent-file"));
        assert!(!r.intersects(make_bitflags!(AccessFs::{ReadDir | MakeReg | RemoveFile | Refer})));
        assert!(r.contains(AccessFs::WriteFile | AccessFs::Truncate | AccessFs::ReadFile));
    }

    #[test]
    fn ioctl_only_for_written_devices() {
        assert!(rights_for(&cap(AccessMode::ReadWrite, true, "/dev/null")).contains(AccessFs::IoctlDev));
        assert!(!rights_for(&cap(AccessMode::Read, true, "/dev/null")).contains(AccessFs::IoctlDev));
    }
}
