//! The system grants on macOS (SPEC §20.1): what a program may modify without a flag
//! asking for it.
//!
//! nono's `system_read_macos` group makes `/etc` (`/private/etc`), `/usr` and `/dev`
//! readable (core-spec DENY-02); none of it may be modified except the devices a program
//! writes to. The Linux case body runs here with Seatbelt's `EPERM` required for every
//! denial (core-spec SB-11), which is stricter than on Linux and says more: outside a
//! sandbox a create in these directories fails too, with `EACCES` (permissions) or
//! `EROFS` (the sealed system volume), but XNU asks the sandbox before either check
//! (`vn_authorize_create` calls `mac_vnode_check_create` before `vnode_authorize`,
//! apple/darwin-xnu `bsd/vfs/vfs_subr.c`), so only `EPERM` shows that the sandbox refused
//! the create, whoever runs the suite.

use crate::case::{case, Case, Ctx};
use crate::cases::linux::system_reads::system_dirs_not_writable;
use crate::kit::expect::expect_eperm;

pub fn cases() -> Vec<Case> {
    vec![case(
        "macos.system.system_dirs_not_writable",
        "Under --allow D alone, creating a file in /etc, /usr/share or /usr/bin is denied with Seatbelt's EPERM (which the host's own permission and read-only checks never give) and leaves nothing, while /dev/null takes a write, /dev/zero and /dev/urandom read, and D takes a new file",
        &["SYS-READ-004"],
        |cx: &Ctx| system_dirs_not_writable(cx, expect_eperm),
    )]
}
