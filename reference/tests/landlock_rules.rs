//! Where the reference's Landlock rules attach, checked through its library: a grant's
//! rule is attached to the object the grant resolved to when it was made, and no longer to
//! whatever its path names when the ruleset is built: a directory put at a granted path in
//! between (the granted one renamed away) must not receive the grant. A grant that kept
//! nothing (written out by hand, or past the limit of kept descriptors) is opened by its
//! path when the ruleset is built, and enforced the same way.
//!
//! This is the reference's own property (a kept `O_PATH` descriptor, see
//! `capability::Opened`), not a statement of the spec: no command line exposes the moment
//! between resolving a grant and building the ruleset, so the suite cannot see it.
//!
//! The sandbox is applied only in forked children, which make raw system calls on memory
//! prepared before the fork.
#![cfg(target_os = "linux")]

use nono_reference::capability::Opened;
use nono_reference::{AccessMode, CapabilitySet, FsCapability, Source};
use std::ffi::CString;
use std::path::Path;

/// Forks a child that enforces `caps` and then opens each of `paths` for reading; its exit
/// code has bit `i` set when `paths[i]` was refused with `EACCES`, and is 100 or more when
/// something else went wrong (100 the sandbox, 100 + errno an open failing otherwise).
fn opens_refused(caps: &CapabilitySet, paths: &[&Path]) -> i32 {
    let prepared = nono_reference::sandbox::prepare(caps).expect("building the ruleset");
    let paths: Vec<CString> = paths.iter().map(|p| CString::new(p.to_str().unwrap()).unwrap()).collect();
    // SAFETY: the child makes system calls only, on memory prepared before the fork.
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => unsafe {
            if prepared.restrict_self().is_err() {
                libc::_exit(100);
            }
            let mut refused = 0;
            for (i, path) in paths.iter().enumerate() {
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                if fd >= 0 {
                    libc::close(fd);
                } else {
                    match *libc::__errno_location() {
                        libc::EACCES => refused |= 1 << i,
                        other => libc::_exit(100 + other.min(27)),
                    }
                }
            }
            libc::_exit(refused)
        },
        nix::unistd::ForkResult::Parent { child } => match nix::sys::wait::waitpid(child, None).unwrap() {
            nix::sys::wait::WaitStatus::Exited(_, code) => code,
            other => panic!("the sandboxed child ended with {other:?}"),
        },
    }
}

#[test]
fn a_grant_follows_the_directory_it_resolved_to_not_a_later_replacement() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let granted = root.path().join("project");
    let moved = root.path().join("project-moved");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("notes.txt"), "granted").unwrap();

    let mut caps = CapabilitySet::new();
    caps.add(FsCapability::directory("--read", &granted, AccessMode::Read, Source::User).unwrap());
    assert!(caps.fs[0].opened.fd().is_some(), "the grant kept no descriptor, so there is nothing to check");

    // Control, before any swap: the granted file opens, a file beside it does not.
    std::fs::write(root.path().join("outside.txt"), "not granted").unwrap();
    assert_eq!(opens_refused(&caps, &[&granted.join("notes.txt"), &root.path().join("outside.txt")]), 0b10);

    // The swap: the granted directory goes elsewhere, another takes its name.
    std::fs::rename(&granted, &moved).unwrap();
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("notes.txt"), "planted").unwrap();
    assert_eq!(
        opens_refused(&caps, &[&moved.join("notes.txt"), &granted.join("notes.txt")]),
        0b10,
        "the rule must stay with the directory that was granted (now {}) and not reach the one put at its path",
        moved.display()
    );
    // From outside: both files are as they were written.
    assert_eq!(std::fs::read_to_string(moved.join("notes.txt")).unwrap(), "granted");
    assert_eq!(std::fs::read_to_string(granted.join("notes.txt")).unwrap(), "planted");
}

#[test]
fn a_grant_that_kept_nothing_is_opened_by_its_path() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let granted = root.path().join("granted");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("f"), "x").unwrap();
    std::fs::write(root.path().join("outside"), "x").unwrap();
    // As a capability written out by hand, or one beyond the kept limit, has it.
    let mut caps = CapabilitySet::new();
    let resolved = granted.canonicalize().unwrap();
    caps.add(FsCapability { original: granted.clone(), resolved, access: AccessMode::Read, is_file: false, source: Source::User, opened: Opened::default() });
    assert!(caps.fs[0].opened.fd().is_none());
    assert_eq!(opens_refused(&caps, &[&granted.join("f"), &root.path().join("outside")]), 0b10);
}
