//! One battery for both platforms: the Linux cases whose semantics Seatbelt shares, run on
//! macOS as well.
//!
//! A case body drives the implementation through `run` and compares outcome classes
//! ([`crate::outcome::Class`]): `Denied` is `EACCES` or `EPERM`, so a Landlock denial and a
//! Seatbelt denial (always `EPERM`) fall in the same class and one body serves both. Each
//! Linux case of a [`SHARED`] family is registered again as `macos.<rest of its ID>`, with
//! the same title, citations and body; its Landlock ABI requirements are dropped (Seatbelt
//! enforces those rights on every macOS version), other requirements (root, the reference
//! library, the shim under test) stay.
//!
//! Every Linux family is either shared or listed in [`LINUX_ONLY`] with the reason its
//! semantics differ on macOS, and single cases of shared families can be left out in
//! [`LINUX_ONLY_CASES`], each with its reason. The unit tests below check that the lists
//! cover every family and name only cases that exist, so a family added to the Linux battery
//! has to be classified here.
//!
//! The families are taken from [`crate::cases::linux::all`] at registration: this module
//! never edits the Linux case files, and a fix there reaches both platforms.

use crate::case::{Case, Platform, Requirement};

/// Linux families (ID prefixes) whose cases run on macOS unchanged.
pub const SHARED: &[&str] = &[
    "linux.fs.read.",
    "linux.fs.write.",
    "linux.fs.file.",
    "linux.fs.trunc.",
    "linux.fs.refer.",
    "linux.fs.link.",
    "linux.fs.exec.",
    "linux.net.proxy.",
    "linux.scope.signal.own_children_allowed",
    "linux.proc.inherit.",
    "linux.env.",
    "linux.exit.",
    "linux.cli.",
    "linux.profile.",
    "linux.ipc.",
    "linux.mediation.",
    "linux.stdout.",
    "linux.workload.",
    "linux.run.",
];

/// Linux families that stay Linux-only, and why.
pub const LINUX_ONLY: &[(&str, &str)] = &[
    ("linux.canary.", "macOS has its own canary, which also requires EPERM (macos.canary.enforcement_is_real)"),
    ("linux.fs.proc.", "/proc does not exist on macOS"),
    ("linux.fs.dev.", "Landlock's ioctl right on devices (ABI 5, FS-DEV-*); Seatbelt's `file-ioctl` rules differ (core-spec SB-01 item 13)"),
    ("linux.net.tcp.", "TCP port filtering is Landlock's; Seatbelt cannot filter TCP by port and the flags are refused (SB-APPLY-007); blocking and proxy-only are macos.net"),
    (
        "linux.net.proxy.profile.",
        "their control requires a direct connect beside the proxy to fail with Landlock's EACCES; Seatbelt denies with EPERM (core-spec SB-11): the macOS twins are macos/proxy.rs",
    ),
    (
        "linux.net.proxy.mediated.",
        "requires a direct connect beside the command's proxy to fail with Landlock's EACCES; Seatbelt denies with EPERM (core-spec SB-11): the macOS twin, the same body with EPERM, is macos/proxy.rs",
    ),
    ("linux.scope.unix.", "abstract Unix sockets are Linux's; macOS has none (Landlock ABI 6 scope)"),
    ("linux.proc.nest.", "Seatbelt cannot nest: the inner run is refused (SB-NEST-001, macos.seatbelt.nested_*), so an inner sandbox never starts"),
    ("linux.proc.no_new_privs_is_set", "no_new_privs is a Linux process flag"),
    ("linux.proc.ptrace_attach_outside_denied", "Linux ptrace and Yama semantics; macOS denies attaching through its own policy, not the sandbox's"),
    ("linux.implicit.", "the implicit grants are Linux's table (SPEC §20); on macOS they are nono's system_read_macos group, checked in the generated profile (SB-GEN-021), and /tmp is spelled /private/tmp"),
    (
        "linux.system.",
        "/proc and the Linux /etc layout; macOS system reads are SB-GEN-021, and SYS-READ-004's body runs in macos/system.rs requiring Seatbelt's EPERM",
    ),
    (
        "linux.protected.",
        "on Linux a grant exposing a protected path is refused; on macOS it may instead stay denied inside the grant (PROT-MACOS-001, core-spec DENY-04): macos/protected.rs accepts both",
    ),
    ("linux.core.", "conformance-info reports the Landlock backend and ABI, and the refusal without Landlock is Linux's"),
];

/// Single cases of shared families that stay Linux-only, and why.
pub const LINUX_ONLY_CASES: &[(&str, &str)] = &[
    (
        "linux.fs.file.allow_file_grant_denies_unlinking_the_granted_file",
        "Seatbelt's file-write* on a file includes file-write-unlink: a writable file grant lets the file be removed",
    ),
    (
        "linux.fs.file.write_file_grant_denies_unlinking_the_granted_file",
        "Seatbelt's file-write* on a file includes file-write-unlink: a writable file grant lets the file be removed",
    ),
    ("linux.fs.write.char_device_only_beneath_allow_grant", "mknod(2) of a device is its own Seatbelt operation, which no grant rule names"),
    ("linux.fs.write.char_device_only_beneath_write_grant", "mknod(2) of a device is its own Seatbelt operation, which no grant rule names"),
    (
        "linux.fs.refer.link_between_subdirs_of_one_grant",
        "Seatbelt checks hard links as file-link, which no grant rule names: a hard link inside a grant is denied too",
    ),
    ("linux.fs.refer.hard_link_from_read_only_into_writable_refused", "its allowed control is a hard link, which Seatbelt denies everywhere (file-link)"),
    ("linux.fs.refer.hard_link_from_ungranted_into_writable_refused", "its allowed control is a hard link, which Seatbelt denies everywhere (file-link)"),
    ("linux.fs.refer.link_out_to_read_only_dir_refused", "its allowed control is a hard link, which Seatbelt denies everywhere (file-link)"),
    ("linux.fs.refer.exchange_between_subdirs_of_one_grant", "renameat2(RENAME_EXCHANGE) is Linux's; macOS swaps with renamex_np"),
    ("linux.fs.refer.exchange_between_writable_and_read_only_refused", "renameat2(RENAME_EXCHANGE) is Linux's; macOS swaps with renamex_np"),
    ("linux.fs.refer.exchange_between_writable_and_ungranted_refused", "renameat2(RENAME_EXCHANGE) is Linux's; macOS swaps with renamex_np"),
    (
        "linux.fs.link.outer_symlink_into_granted_dir_reaches_it",
        "Seatbelt checks a symbolic link's own path while resolving it (nono grants both spellings for this reason), so a link outside every grant is not traversable",
    ),
    (
        "linux.fs.link.outer_symlink_into_granted_file_reaches_it",
        "Seatbelt checks a symbolic link's own path while resolving it (nono grants both spellings for this reason), so a link outside every grant is not traversable",
    ),
    (
        "linux.net.proxy.allowed_host_is_tunnelled_direct_connect_denied",
        "requires Landlock's EACCES for the direct connect (NET-PROXY-003 is Landlock's); its macOS twin (EPERM) is macos/proxy.rs",
    ),
    (
        "linux.net.proxy.listen_port_allows_only_that_bind",
        "Seatbelt cannot restrict bind(2) to a port: proxy mode with a listen port allows every bind (core-spec SB-05)",
    ),
    (
        "linux.scope.signal.sigterm_to_outside_process_denied",
        "Landlock ABI 6 signal scoping (SCOPE-SIG-001 says so); on macOS signals follow the profile's (target same-sandbox) rule (core-spec SB-01 item 8)",
    ),
    (
        "linux.scope.signal.sigkill_to_outside_process_denied",
        "Landlock ABI 6 signal scoping (SCOPE-SIG-001 says so); on macOS signals follow the profile's (target same-sandbox) rule (core-spec SB-01 item 8)",
    ),
    (
        "linux.scope.signal.parent_supervisor_outside_denied",
        "Landlock ABI 6 signal scoping (SCOPE-SIG-003 says so); on macOS signals follow the profile's (target same-sandbox) rule (core-spec SB-01 item 8)",
    ),
    ("linux.scope.signal.self_allowed", "it raises signal 10, which is SIGUSR1 on Linux but SIGBUS on macOS"),
    (
        "linux.env.scrub.removes_dyld_insert_libraries",
        "on macOS the variable, set for the IUT, would make dyld load it into the IUT itself before any scrubbing",
    ),
    (
        "linux.profile.deny_inside_a_grant_is_refused",
        "Landlock cannot deny inside a grant, so Linux refuses the profile; Seatbelt enforces the deny (macos.seatbelt.sensitive_path_inside_grant_stays_denied)",
    ),
];

/// Shared cases not registered again because the macOS battery has its own case of the
/// same name (written for Seatbelt's details), and what that case adds.
pub const MACOS_TWINS: &[(&str, &str)] = &[
    ("linux.fs.read.dir_grant_covers_nested_file_not_sibling", "macos/fs.rs also requires EPERM for the sibling"),
    ("linux.fs.write.write_only_grant_denies_reading", "macos/fs.rs also requires EPERM"),
    ("linux.fs.exec.write_only_dir_program_does_not_run", "macos/fs.rs checks it with Seatbelt's EPERM"),
];

/// Why a Linux case does not run on macOS, or None when it does.
pub fn linux_only_reason(id: &str) -> Option<&'static str> {
    let family = LINUX_ONLY.iter().find(|(prefix, _)| id.starts_with(prefix)).map(|(_, why)| *why);
    family.or_else(|| LINUX_ONLY_CASES.iter().find(|(case, _)| *case == id).map(|(_, why)| *why))
}

/// The shared Linux cases, registered again for macOS.
pub fn cases() -> Vec<Case> {
    crate::cases::linux::all()
        .into_iter()
        .filter(|c| SHARED.iter().any(|prefix| c.id.starts_with(prefix)) && linux_only_reason(&c.id).is_none())
        .filter(|c| !MACOS_TWINS.iter().any(|(twin, _)| *twin == c.id))
        // A case about kernels without Landlock has no macOS meaning.
        .filter(|c| !c.requires.iter().any(|r| matches!(r, Requirement::LandlockAbiBelow(_))))
        .map(as_macos)
        .collect()
}

/// The same case under its macOS ID, without Landlock ABI requirements.
fn as_macos(case: Case) -> Case {
    let rest = case.id.strip_prefix("linux.").expect("shared families are linux.*");
    Case {
        id: format!("macos.{rest}"),
        platform: Platform::MacOs,
        requires: case.requires.into_iter().filter(|r| !matches!(r, Requirement::LandlockAbi(_))).collect(),
        ..case
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn linux_ids() -> Vec<String> {
        crate::cases::linux::all().into_iter().map(|c| c.id).collect()
    }

    #[test]
    fn every_linux_case_is_shared_or_linux_only_with_a_reason() {
        let unclassified: Vec<String> = linux_ids()
            .into_iter()
            .filter(|id| !SHARED.iter().any(|p| id.starts_with(p)) && linux_only_reason(id).is_none())
            .collect();
        assert!(unclassified.is_empty(), "classify these Linux cases in macos/parity.rs: {unclassified:?}");
    }

    #[test]
    fn every_listed_exclusion_names_existing_cases() {
        let ids = linux_ids();
        for (case, _) in LINUX_ONLY_CASES.iter().chain(MACOS_TWINS) {
            assert!(ids.iter().any(|id| id == case), "{case} is listed as Linux-only but does not exist");
        }
        for (prefix, _) in LINUX_ONLY {
            assert!(ids.iter().any(|id| id.starts_with(prefix)), "no Linux case starts with {prefix}");
        }
        for prefix in SHARED {
            assert!(ids.iter().any(|id| id.starts_with(prefix)), "no Linux case starts with {prefix}");
        }
    }

    #[test]
    fn shared_cases_become_macos_cases_without_landlock_requirements() {
        let shared = cases();
        let linux: BTreeSet<String> = linux_ids().into_iter().collect();
        for case in &shared {
            assert_eq!(case.platform, Platform::MacOs, "{}", case.id);
            let original = format!("linux.{}", case.id.strip_prefix("macos.").unwrap());
            assert!(linux.contains(&original), "{} has no Linux original", case.id);
            assert!(
                !case.requires.iter().any(|r| matches!(r, Requirement::LandlockAbi(_) | Requirement::LandlockAbiBelow(_))),
                "{} keeps a Landlock requirement",
                case.id
            );
        }
        // Truncation is enforced by Seatbelt: the ABI 3 requirement must not turn it into a skip.
        assert!(shared.iter().any(|c| c.id == "macos.fs.trunc.truncate_beneath_read_grant_denied"));
        assert!(!shared.iter().any(|c| c.id == "macos.fs.refer.link_between_subdirs_of_one_grant"));
    }
}
