//! Pretending the kernel has an older Landlock ABI, so the suite can test how an
//! implementation behaves on kernels it does not run on.
//!
//! With `NONO_CONFORMANCE_EMULATE_ABI=N` (N from 0 to 6) every start of the implementation
//! under test goes through the suite's `nono-abi-emulator` binary:
//!
//! ```text
//! nono-abi-emulator N -- IUT run ... -- nono-probe ...
//! ```
//!
//! The emulator starts the IUT under a seccomp filter that sends the three Landlock system
//! calls to it (`SECCOMP_RET_USER_NOTIF`); it answers each one the way a kernel with ABI N
//! would, and lets the real kernel handle every call an ABI-N kernel would accept. The
//! filter is inherited, so the IUT's children (where rulesets are built and enforced) see
//! the same old kernel. Which answer to give is decided here, by [`decide`], so that the
//! rules are plain data a unit test can read; the binary does only the mechanics.
//!
//! Without the variable nothing is wrapped: the default path never meets the emulator.
//!
//! One limit: a process's seccomp filters can have only one notification listener
//! between them (`seccomp(2)`, `EBUSY` for a second `SECCOMP_FILTER_FLAG_NEW_LISTENER`).
//! An implementation that installs its own listener cannot start under the emulator. nono
//! 0.81 installs one (`install_seccomp_notify`, its `SeccompPolicy` in `exec_strategy.rs`)
//! to mediate `connect`/`bind` or `AF_UNIX` sockets in proxy mode when the kernel it sees
//! lacks a Landlock feature; under emulated ABIs 1 to 6 its proxy-mode runs then fail with
//! `CLONE_FILES bootstrap: child died or timed out before DETACHED`, and pass on the host.
//! Those failures in an ABI matrix are the emulator's, not nono's behaviour on an old
//! kernel.
//!
//! What an old kernel answers (Linux `security/landlock/syscalls.c`, the `landlock(7)`
//! family of man pages, the `landlock` crate's compatibility layer):
//!
//! * ABI 0, no Landlock at all: every Landlock call fails with `ENOSYS`.
//! * `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)` returns the ABI;
//!   any other non-zero `flags` is `EINVAL` below ABI 7 (ABI 7 added
//!   `LANDLOCK_CREATE_RULESET_ERRATA`).
//! * The ruleset attribute grew with the ABI: 8 bytes (`handled_access_fs`) up to ABI 3,
//!   16 (`handled_access_net`) from ABI 4, 24 (`scoped`) from ABI 6. The kernel copies it
//!   with `copy_struct_from_user`, so a larger struct whose unknown tail is not zero is
//!   `E2BIG`, and only then are unknown access bits `EINVAL`.
//! * Filesystem access bits: 13 in ABI 1, `REFER` (bit 13) from ABI 2, `TRUNCATE` (bit 14)
//!   from ABI 3, `IOCTL_DEV` (bit 15) from ABI 5.
//! * `landlock_add_rule` with `LANDLOCK_RULE_NET_PORT` is `EINVAL` below ABI 4.
//! * `landlock_restrict_self` with non-zero flags (the ABI 7 logging flags) is `EINVAL`
//!   below ABI 7.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable that turns emulation on.
pub const EMULATE_ABI_VAR: &str = "NONO_CONFORMANCE_EMULATE_ABI";

/// The highest ABI the emulator can pretend: from 7 on the kernel's own answers are used.
pub const MAX_EMULATED_ABI: u32 = 6;

/// File name of the emulator binary, built next to the probe.
pub const EMULATOR_BIN: &str = "nono-abi-emulator";

/// `landlock_create_ruleset`, `landlock_add_rule`, `landlock_restrict_self`: the same
/// numbers on every architecture (they were added after the syscall tables were unified).
pub const SYS_CREATE_RULESET: i32 = 444;
/// See [`SYS_CREATE_RULESET`].
pub const SYS_ADD_RULE: i32 = 445;
/// See [`SYS_CREATE_RULESET`].
pub const SYS_RESTRICT_SELF: i32 = 446;

const CREATE_RULESET_VERSION: u64 = 1 << 0;
const RULE_NET_PORT: u64 = 2;
/// `sizeof(struct landlock_ruleset_attr)` of the newest layout the emulator knows.
pub const RULESET_ATTR_MAX: usize = 24;

/// How the emulator answers one intercepted system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Let the real kernel run the call (an ABI-N kernel would accept it as well).
    Continue,
    /// Return this value without running the call (the ABI version query).
    Return(i64),
    /// Fail the call with this errno.
    Fail(i32),
}

/// One intercepted call: its number and its six raw arguments.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The system call number.
    pub nr: i32,
    /// Raw argument registers.
    pub args: [u64; 6],
}

/// Size in bytes of `struct landlock_ruleset_attr` on a kernel with this ABI.
pub fn ruleset_attr_size(abi: u32) -> usize {
    match abi {
        0..=3 => 8,
        4 | 5 => 16,
        _ => 24,
    }
}

/// The `handled_access_fs` bits a kernel with this ABI knows.
pub fn fs_access_mask(abi: u32) -> u64 {
    let bits = match abi {
        0 => 0,
        1 => 13,
        2 => 14,
        3 | 4 => 15,
        _ => 16,
    };
    (1u64 << bits) - 1
}

/// Decides the answer of a kernel with Landlock ABI `abi` (0..=6) to `call`.
///
/// `read_attr(address, length)` reads the caller's ruleset attribute; it is only called for
/// a ruleset creation, and an error (the caller's memory could not be read) is answered
/// with that errno, as the kernel would answer `EFAULT` for memory it cannot copy.
pub fn decide(abi: u32, call: Call, read_attr: impl FnOnce(u64, usize) -> Result<Vec<u8>, i32>) -> Answer {
    if abi == 0 {
        return Answer::Fail(libc::ENOSYS);
    }
    let [a0, a1, a2, ..] = call.args;
    match call.nr {
        SYS_CREATE_RULESET => {
            let (attr, size, flags) = (a0, a1 as usize, a2 as u32 as u64);
            if flags != 0 {
                return if flags == CREATE_RULESET_VERSION && attr == 0 && size == 0 {
                    Answer::Return(abi.into())
                } else {
                    Answer::Fail(libc::EINVAL)
                };
            }
            // Sizes the real kernel rejects on its own (too small, NULL, over a page) keep
            // the real kernel's answer.
            if attr == 0 || !(8..=4096).contains(&size) {
                return Answer::Continue;
            }
            let bytes = match read_attr(attr, size.min(RULESET_ATTR_MAX)) {
                Ok(bytes) => bytes,
                Err(errno) => return Answer::Fail(errno),
            };
            judge_ruleset_attr(abi, &bytes)
        }
        SYS_ADD_RULE if abi < 4 && a1 as u32 as u64 == RULE_NET_PORT => Answer::Fail(libc::EINVAL),
        // Only reached below ABI 7 (the emulator is never started for 7 and above).
        SYS_RESTRICT_SELF if a1 as u32 != 0 => Answer::Fail(libc::EINVAL),
        _ => Answer::Continue,
    }
}

/// The ruleset attribute check of an ABI-`abi` kernel, on the first (up to 24) bytes.
fn judge_ruleset_attr(abi: u32, bytes: &[u8]) -> Answer {
    let known = ruleset_attr_size(abi);
    if bytes.len() > known && bytes[known..].iter().any(|b| *b != 0) {
        // copy_struct_from_user: a non-zero tail the kernel does not know.
        return Answer::Fail(libc::E2BIG);
    }
    let fs = u64::from_ne_bytes(bytes[..8].try_into().expect("at least 8 bytes"));
    if fs & !fs_access_mask(abi) != 0 {
        return Answer::Fail(libc::EINVAL);
    }
    Answer::Continue
}

/// The ABI to emulate: None without the variable; a panic naming the variable for a value
/// that is not a number from 0 to [`MAX_EMULATED_ABI`] (a typo must not silently test the
/// real kernel instead).
pub fn emulated_abi() -> Option<u32> {
    let raw = std::env::var_os(EMULATE_ABI_VAR)?;
    match parse_abi(&raw.to_string_lossy()) {
        Ok(abi) => Some(abi),
        Err(e) => panic!("{EMULATE_ABI_VAR}={raw:?}: {e}"),
    }
}

/// Parses an ABI to emulate: a whole number from 0 to [`MAX_EMULATED_ABI`].
pub fn parse_abi(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(abi) if abi <= MAX_EMULATED_ABI => Ok(abi),
        Ok(abi) => Err(format!(
            "ABI {abi} cannot be emulated (0 to {MAX_EMULATED_ABI}; for the kernel's own ABI leave the variable unset)"
        )),
        Err(_) => Err(format!("{text:?} is not an ABI number (0 to {MAX_EMULATED_ABI})")),
    }
}

/// The emulator binary: next to the probe, where Cargo builds every binary of this crate.
pub fn emulator_path(probe: &Path) -> PathBuf {
    probe.with_file_name(EMULATOR_BIN)
}

/// A command that starts `program`, through the emulator when emulation is on.
///
/// Every start of the implementation under test goes through here, so that all of them
/// see the same kernel. Panics when emulation is asked for but the emulator is missing:
/// running unemulated would report the real kernel's results under the emulated label.
pub fn command(program: &Path, probe: &Path) -> Command {
    match emulated_abi() {
        None => Command::new(program),
        Some(abi) => {
            let emulator = emulator_path(probe);
            assert!(
                emulator.is_file(),
                "{EMULATE_ABI_VAR} is set but the emulator {} does not exist (build the nono-conformance binaries)",
                emulator.display()
            );
            let mut cmd = Command::new(emulator);
            cmd.arg(abi.to_string()).arg("--").arg(program);
            cmd
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(attr: u64, size: u64, flags: u64) -> Call {
        Call { nr: SYS_CREATE_RULESET, args: [attr, size, flags, 0, 0, 0] }
    }

    fn attr(fs: u64, net: u64, scoped: u64) -> Vec<u8> {
        [fs, net, scoped].iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    fn create_with(abi: u32, bytes: Vec<u8>) -> Answer {
        let size = bytes.len() as u64;
        decide(abi, create(0x1000, size, 0), move |_, len| Ok(bytes[..len].to_vec()))
    }

    fn no_memory(_: u64, _: usize) -> Result<Vec<u8>, i32> {
        panic!("this call must be decided without reading the caller's memory")
    }

    #[test]
    fn the_version_query_answers_the_emulated_abi() {
        for abi in 1..=MAX_EMULATED_ABI {
            assert_eq!(decide(abi, create(0, 0, 1), no_memory), Answer::Return(abi.into()));
        }
    }

    #[test]
    fn abi_zero_has_no_landlock_at_all() {
        for nr in [SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF] {
            let call = Call { nr, args: [0, 0, 1, 0, 0, 0] };
            assert_eq!(decide(0, call, no_memory), Answer::Fail(libc::ENOSYS));
        }
    }

    #[test]
    fn the_errata_query_is_unknown_below_abi_7() {
        assert_eq!(decide(6, create(0, 0, 2), no_memory), Answer::Fail(libc::EINVAL));
        assert_eq!(decide(6, create(0x1000, 8, 1), no_memory), Answer::Fail(libc::EINVAL));
    }

    #[test]
    fn filesystem_rights_newer_than_the_abi_are_invalid() {
        let refer = 1 << 13;
        let truncate = 1 << 14;
        let ioctl_dev = 1 << 15;
        assert_eq!(create_with(1, attr(refer, 0, 0)), Answer::Fail(libc::EINVAL));
        assert_eq!(create_with(2, attr(refer, 0, 0)), Answer::Continue);
        assert_eq!(create_with(2, attr(truncate, 0, 0)), Answer::Fail(libc::EINVAL));
        assert_eq!(create_with(3, attr(truncate, 0, 0)), Answer::Continue);
        assert_eq!(create_with(4, attr(ioctl_dev, 0, 0)), Answer::Fail(libc::EINVAL));
        assert_eq!(create_with(5, attr(ioctl_dev, 0, 0)), Answer::Continue);
        assert_eq!(create_with(1, attr((1 << 13) - 1, 0, 0)), Answer::Continue);
    }

    #[test]
    fn a_non_zero_unknown_tail_is_too_big_like_copy_struct_from_user() {
        assert_eq!(create_with(3, attr(1, 3, 0)), Answer::Fail(libc::E2BIG));
        assert_eq!(create_with(4, attr(1, 3, 0)), Answer::Continue);
        assert_eq!(create_with(5, attr(1, 0, 1)), Answer::Fail(libc::E2BIG));
        assert_eq!(create_with(6, attr(1, 0, 3)), Answer::Continue);
        // A zero tail is accepted: the crate always passes the newest struct size.
        assert_eq!(create_with(1, attr(1, 0, 0)), Answer::Continue);
    }

    #[test]
    fn the_old_small_struct_is_read_as_it_is() {
        assert_eq!(create_with(1, 1u64.to_ne_bytes().to_vec()), Answer::Continue);
        assert_eq!(create_with(1, (1u64 << 14).to_ne_bytes().to_vec()), Answer::Fail(libc::EINVAL));
    }

    #[test]
    fn unreadable_memory_is_answered_with_the_read_errno() {
        let answer = decide(3, create(0x1000, 24, 0), |_, _| Err(libc::EFAULT));
        assert_eq!(answer, Answer::Fail(libc::EFAULT));
    }

    #[test]
    fn tcp_port_rules_need_abi_4() {
        let net_rule = Call { nr: SYS_ADD_RULE, args: [3, RULE_NET_PORT, 0x1000, 0, 0, 0] };
        let path_rule = Call { nr: SYS_ADD_RULE, args: [3, 1, 0x1000, 0, 0, 0] };
        assert_eq!(decide(3, net_rule, no_memory), Answer::Fail(libc::EINVAL));
        assert_eq!(decide(4, net_rule, no_memory), Answer::Continue);
        assert_eq!(decide(1, path_rule, no_memory), Answer::Continue);
    }

    #[test]
    fn restrict_self_flags_need_abi_7() {
        let logged = Call { nr: SYS_RESTRICT_SELF, args: [3, 2, 0, 0, 0, 0] };
        let plain = Call { nr: SYS_RESTRICT_SELF, args: [3, 0, 0, 0, 0, 0] };
        assert_eq!(decide(6, logged, no_memory), Answer::Fail(libc::EINVAL));
        assert_eq!(decide(6, plain, no_memory), Answer::Continue);
    }

    #[test]
    fn abi_values_outside_the_range_are_refused_with_the_reason() {
        assert_eq!(parse_abi(" 3 "), Ok(3));
        assert!(parse_abi("7").unwrap_err().contains("cannot be emulated"));
        assert!(parse_abi("three").unwrap_err().contains("not an ABI number"));
    }
}
