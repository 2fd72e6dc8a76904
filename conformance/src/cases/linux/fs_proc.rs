//! `/proc` and file descriptors: the magic links under `/proc/self` give no way around the
//! rules. Reopening a read-only descriptor for writing, or reaching a path through
//! `/proc/self/root`, is checked against the object actually opened.

use super::fs_read::{arg, tree};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::Path;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.fs.proc.reopen_read_file_grant_for_write_denied",
            "Reopening a --read-file granted file through /proc/self/fd for writing is denied, while the same reopen of an --allow'ed file works",
            &["FS-PROC-001"],
            |cx| reopen_for_write_denied(cx, |run, _dir, file| run.read_file(file)),
        ),
        case(
            "linux.fs.proc.reopen_read_dir_file_for_write_denied",
            "Reopening a file beneath a --read grant through /proc/self/fd for writing is denied, while the same reopen of an --allow'ed file works",
            &["FS-PROC-001"],
            |cx| reopen_for_write_denied(cx, |run, dir, _file| run.read(dir)),
        ),
        case(
            "linux.fs.proc.proc_self_root_read_gives_no_more",
            "Through /proc/self/root an ungranted file stays unreadable and a granted one stays readable",
            &["FS-PROC-002"],
            proc_self_root_read_gives_no_more,
        ),
        case(
            "linux.fs.proc.proc_self_root_create_gives_no_more",
            "Through /proc/self/root creating outside the grants stays denied and creating inside a write grant works",
            &["FS-PROC-002"],
            proc_self_root_create_gives_no_more,
        ),
        case(
            "linux.fs.proc.proc_self_root_write_read_only_denied",
            "Through /proc/self/root a read-only granted file stays unwritable while still readable",
            &["FS-PROC-002"],
            proc_self_root_write_read_only_denied,
        ),
    ]
}

/// `/proc/self/root` followed by an absolute path.
fn via_root(path: &Path) -> String {
    format!("/proc/self/root{}", arg(path))
}

fn reopen_for_write_denied(cx: &Ctx, grant_read_only: fn(Run, &Path, &Path) -> Run) -> CaseResult {
    let ro_dir = cx.fx.dir("ro");
    let ro = cx.fx.file("ro/f.txt", "original");
    let rw_dir = cx.fx.dir("rw");
    let rw = cx.fx.file("rw/f.txt", "original");
    let run = grant_read_only(cx.run(), &ro_dir, &ro).allow(&rw_dir);
    let r = run.op(Op::reopen_proc_fd(&ro))?;
    expect_class(&r, Class::Denied, "reopen a read-only file for writing via /proc/self/fd")?;
    crate::ensure!(
        r.str_field("step") == Some("reopen"),
        "the denial must come at the reopen, not the first open: {r:?}"
    );
    crate::ensure!(
        cx.fx.read("ro/f.txt").as_deref() == Some("original"),
        "the file is now {:?}",
        cx.fx.read("ro/f.txt")
    );
    let ok = run.op(Op::reopen_proc_fd(&rw))?;
    expect_class(&ok, Class::Allowed, "reopen an --allow'ed file for writing via /proc/self/fd")
}

fn proc_self_root_read_gives_no_more(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let inside = cx.fx.file("granted/f.txt", "inside");
    let secret = cx.fx.file("outside/secret.txt", "secret");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::read(via_root(&inside)))?;
    expect_class(&ok, Class::Allowed, "read a granted file via /proc/self/root")?;
    crate::ensure!(ok.str_field("content") == Some("inside"), "read returned {:?}", ok.str_field("content"));
    let denied = run.op(Op::read(via_root(&secret)))?;
    expect_class(&denied, Class::Denied, "read an ungranted file via /proc/self/root")?;
    crate::ensure!(denied.str_field("content").is_none(), "a denied read returned content");
    Ok(())
}

fn proc_self_root_create_gives_no_more(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    let run = cx.run().allow(&granted);
    let denied = run.op(Op::create(via_root(&outside.join("new.txt"))))?;
    expect_class(&denied, Class::Denied, "create outside the grants via /proc/self/root")?;
    crate::ensure!(tree(&outside).is_empty(), "the denied create left {:?}", tree(&outside));
    let ok = run.op(Op::create(via_root(&granted.join("new.txt"))))?;
    expect_class(&ok, Class::Allowed, "create inside the grant via /proc/self/root")?;
    crate::ensure!(cx.fx.exists("granted/new.txt"), "create reported success but no file exists");
    Ok(())
}

fn proc_self_root_write_read_only_denied(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let file = cx.fx.file("granted/f.txt", "original");
    let run = cx.run().read(&granted);
    let denied = run.op(Op::write(via_root(&file), "CHANGED!"))?;
    expect_class(&denied, Class::Denied, "write a read-only file via /proc/self/root")?;
    crate::ensure!(
        cx.fx.read("granted/f.txt").as_deref() == Some("original"),
        "the file is now {:?}",
        cx.fx.read("granted/f.txt")
    );
    let ok = run.op(Op::read(via_root(&file)))?;
    expect_class(&ok, Class::Allowed, "read the same file via /proc/self/root")?;
    crate::ensure!(ok.str_field("content") == Some("original"), "read returned {:?}", ok.str_field("content"));
    Ok(())
}
