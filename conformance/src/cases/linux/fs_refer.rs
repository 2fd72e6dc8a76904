//! Rename, link and reparenting. Landlock's refer right (ABI 2) allows moving and linking
//! between directories of one grant; anything that would give a file more rights than it
//! had where it came from is refused, with `EACCES` or with `EXDEV` (which the spec counts as
//! a cross-directory denial), and must leave both sides as they were.

use super::fs_read::tree;
use crate::kit::expect::expect_refused;
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::Class;
use crate::runner::expect_class;
use std::os::unix::fs::MetadataExt;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.fs.refer.rename_within_allow_dir",
            "Renaming a file within a read-write granted directory succeeds and moves its content",
            &["FS-REFER-001"],
            |cx| rename_within_dir(cx, false),
        ),
        case(
            "linux.fs.refer.rename_within_write_dir",
            "Renaming a file within a write-only granted directory succeeds and moves its content",
            &["FS-REFER-001"],
            |cx| rename_within_dir(cx, true),
        ),
        case(
            "linux.fs.refer.rename_file_between_subdirs_of_one_grant",
            "Renaming a file between two subdirectories of one read-write grant succeeds",
            &["FS-REFER-002"],
            rename_file_between_subdirs_of_one_grant,
        )
        .requires(Requirement::LandlockAbi(2)),
        case(
            "linux.fs.refer.rename_dir_between_subdirs_of_one_grant",
            "Renaming a non-empty directory between two subdirectories of one read-write grant succeeds with its content",
            &["FS-REFER-002"],
            rename_dir_between_subdirs_of_one_grant,
        )
        .requires(Requirement::LandlockAbi(2)),
        case(
            "linux.fs.refer.link_between_subdirs_of_one_grant",
            "Hard-linking a file between two subdirectories of one read-write grant succeeds and both names share the inode",
            &["FS-REFER-002"],
            link_between_subdirs_of_one_grant,
        )
        .requires(Requirement::LandlockAbi(2)),
        case(
            "linux.fs.refer.exchange_between_subdirs_of_one_grant",
            "Exchanging two files between subdirectories of one read-write grant succeeds and swaps their contents",
            &["FS-REFER-002"],
            exchange_between_subdirs_of_one_grant,
        )
        .requires(Requirement::LandlockAbi(2)),
        case(
            "linux.fs.refer.move_out_to_read_only_dir_refused",
            "Moving a file from a writable directory into a read-only one is refused and the file stays where it was",
            &["FS-REFER-003"],
            |cx| move_out_refused(cx, true),
        ),
        case(
            "linux.fs.refer.move_out_to_ungranted_dir_refused",
            "Moving a file from a writable directory into one outside every grant is refused and the file stays where it was",
            &["FS-REFER-003"],
            |cx| move_out_refused(cx, false),
        ),
        case(
            "linux.fs.refer.link_out_to_read_only_dir_refused",
            "Hard-linking a writable file into a read-only directory is refused and creates nothing there",
            &["FS-READ-005", "FS-REFER-008"],
            link_out_to_read_only_dir_refused,
        ),
        case(
            "linux.fs.refer.move_from_read_only_into_writable_denied",
            "Moving a file from a read-only directory into a writable one is denied and the source is intact",
            &["FS-REFER-004"],
            |cx| move_in_denied(cx, true),
        ),
        case(
            "linux.fs.refer.move_from_ungranted_into_writable_denied",
            "Moving a file from outside every grant into a writable directory is denied and the source is intact",
            &["FS-REFER-004", "FS-WRITE-006"],
            |cx| move_in_denied(cx, false),
        ),
        case(
            "linux.fs.refer.hard_link_from_ungranted_into_writable_refused",
            "Hard-linking an ungranted file into a writable directory is refused, so no name inside the grant reaches its content",
            &["FS-REFER-005"],
            |cx| hard_link_in_refused(cx, false),
        ),
        case(
            "linux.fs.refer.hard_link_from_read_only_into_writable_refused",
            "Hard-linking a read-only file into a writable directory is refused, so it cannot be written through the new name",
            &["FS-REFER-007"],
            |cx| hard_link_in_refused(cx, true),
        ),
        case(
            "linux.fs.refer.exchange_between_writable_and_read_only_refused",
            "Exchanging entries between a writable and a read-only directory is refused and both entries are unchanged",
            &["FS-REFER-006"],
            |cx| exchange_refused(cx, true),
        ),
        case(
            "linux.fs.refer.exchange_between_writable_and_ungranted_refused",
            "Exchanging entries between a writable directory and one outside every grant is refused and both entries are unchanged",
            &["FS-REFER-006"],
            |cx| exchange_refused(cx, false),
        ),
    ]
}

fn rename_within_dir(cx: &Ctx, write_only: bool) -> CaseResult {
    let dir = cx.fx.dir("w");
    let from = cx.fx.file("w/f.txt", "payload");
    let to = dir.join("g.txt");
    let run = if write_only { cx.run().write(&dir) } else { cx.run().allow(&dir) };
    let r = run.op(Op::rename(&from, &to))?;
    expect_class(&r, Class::Allowed, "rename within the granted directory")?;
    crate::ensure!(!cx.fx.exists("w/f.txt"), "the old name still exists");
    crate::ensure!(cx.fx.read("w/g.txt").as_deref() == Some("payload"), "new name holds {:?}", cx.fx.read("w/g.txt"));
    Ok(())
}

fn rename_file_between_subdirs_of_one_grant(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let from = cx.fx.file("w/a/f.txt", "payload");
    let to = cx.fx.dir("w/b").join("f.txt");
    let r = cx.run().allow(&w).op(Op::rename(&from, &to))?;
    expect_class(&r, Class::Allowed, "rename from w/a to w/b")?;
    crate::ensure!(!cx.fx.exists("w/a/f.txt"), "the old name still exists");
    crate::ensure!(
        cx.fx.read("w/b/f.txt").as_deref() == Some("payload"),
        "new name holds {:?}",
        cx.fx.read("w/b/f.txt")
    );
    Ok(())
}

fn rename_dir_between_subdirs_of_one_grant(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    cx.fx.file("w/a/d/inner.txt", "payload");
    cx.fx.dir("w/b");
    let r = cx.run().allow(&w).op(Op::rename(w.join("a/d"), w.join("b/d")))?;
    expect_class(&r, Class::Allowed, "rename directory w/a/d to w/b/d")?;
    crate::ensure!(!cx.fx.exists("w/a/d"), "the old directory still exists");
    crate::ensure!(
        cx.fx.read("w/b/d/inner.txt").as_deref() == Some("payload"),
        "moved content: {:?}",
        cx.fx.read("w/b/d/inner.txt")
    );
    Ok(())
}

fn link_between_subdirs_of_one_grant(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let from = cx.fx.file("w/a/f.txt", "payload");
    let to = cx.fx.dir("w/b").join("f.txt");
    let r = cx.run().allow(&w).op(Op::link(&from, &to))?;
    expect_class(&r, Class::Allowed, "link from w/a to w/b")?;
    let (a, b) = (std::fs::metadata(&from), std::fs::metadata(&to));
    crate::ensure!(
        matches!((&a, &b), (Ok(a), Ok(b)) if a.ino() == b.ino()),
        "expected two names for one inode, got {a:?} and {b:?}"
    );
    Ok(())
}

fn exchange_between_subdirs_of_one_grant(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let x = cx.fx.file("w/a/x.txt", "first");
    let y = cx.fx.file("w/b/y.txt", "second");
    let r = cx.run().allow(&w).op(Op::rename_exchange(&x, &y))?;
    expect_class(&r, Class::Allowed, "exchange w/a/x.txt and w/b/y.txt")?;
    let (xs, ys) = (cx.fx.read("w/a/x.txt"), cx.fx.read("w/b/y.txt"));
    crate::ensure!(
        xs.as_deref() == Some("second") && ys.as_deref() == Some("first"),
        "after the exchange: x {xs:?}, y {ys:?}"
    );
    Ok(())
}

/// `w` is `--allow`ed and holds `f.txt` and `other.txt`; the destination directory is
/// `--read` (when `read_only`) or outside every grant.
fn move_out_refused(cx: &Ctx, read_only: bool) -> CaseResult {
    let w = cx.fx.dir("w");
    let f = cx.fx.file("w/f.txt", "payload");
    let other = cx.fx.file("w/other.txt", "other");
    let dest = cx.fx.dir("dest");
    let mut run = cx.run().allow(&w);
    if read_only {
        run = run.read(&dest);
    }
    let r = run.op(Op::rename(&f, dest.join("f.txt")))?;
    expect_refused(&r, "move a file out of the writable directory")?;
    crate::ensure!(
        cx.fx.read("w/f.txt").as_deref() == Some("payload"),
        "the source is now {:?}",
        cx.fx.read("w/f.txt")
    );
    crate::ensure!(tree(&dest).is_empty(), "the refused move left {:?} in the destination", tree(&dest));
    let ok = run.op(Op::rename(&other, w.join("renamed.txt")))?;
    expect_class(&ok, Class::Allowed, "rename within the writable directory")?;
    crate::ensure!(
        cx.fx.read("w/renamed.txt").as_deref() == Some("other"),
        "renamed file holds {:?}",
        cx.fx.read("w/renamed.txt")
    );
    Ok(())
}

fn link_out_to_read_only_dir_refused(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let f = cx.fx.file("w/f.txt", "payload");
    let r_dir = cx.fx.dir("r");
    let run = cx.run().allow(&w).read(&r_dir);
    let r = run.op(Op::link(&f, r_dir.join("f.txt")))?;
    expect_refused(&r, "link a writable file into the read-only directory")?;
    crate::ensure!(tree(&r_dir).is_empty(), "the refused link left {:?} in the read-only directory", tree(&r_dir));
    let ok = run.op(Op::link(&f, w.join("second-name.txt")))?;
    expect_class(&ok, Class::Allowed, "link within the writable directory")?;
    crate::ensure!(
        cx.fx.read("w/second-name.txt").as_deref() == Some("payload"),
        "second name holds {:?}",
        cx.fx.read("w/second-name.txt")
    );
    Ok(())
}

/// The source directory is `--read` (when `read_only`) or outside every grant; `w` is
/// `--allow`ed.
fn move_in_denied(cx: &Ctx, read_only: bool) -> CaseResult {
    let w = cx.fx.dir("w");
    let src = cx.fx.dir("src");
    let f = cx.fx.file("src/f.txt", "payload");
    let mut run = cx.run().allow(&w);
    if read_only {
        run = run.read(&src);
    }
    let r = run.op(Op::rename(&f, w.join("f.txt")))?;
    expect_class(&r, Class::Denied, "move a file into the writable directory")?;
    crate::ensure!(
        cx.fx.read("src/f.txt").as_deref() == Some("payload"),
        "the source is now {:?}",
        cx.fx.read("src/f.txt")
    );
    crate::ensure!(tree(&w).is_empty(), "the denied move left {:?} in the writable directory", tree(&w));
    let ok = run.op(Op::create(w.join("own.txt")))?;
    expect_class(&ok, Class::Allowed, "create in the writable directory")?;
    crate::ensure!(cx.fx.exists("w/own.txt"), "create reported success but no file exists");
    Ok(())
}

/// The source file lives in a directory that is `--read` (when `read_only`) or outside
/// every grant; `w` is `--allow`ed and holds `own.txt`.
fn hard_link_in_refused(cx: &Ctx, read_only: bool) -> CaseResult {
    let w = cx.fx.dir("w");
    let own = cx.fx.file("w/own.txt", "own");
    let src = cx.fx.dir("src");
    let secret = cx.fx.file("src/secret.txt", "secret");
    let mut run = cx.run().allow(&w);
    if read_only {
        run = run.read(&src);
    }
    let link = w.join("link.txt");
    let r = run.op(Op::link(&secret, &link))?;
    expect_refused(&r, "hard-link the file into the writable directory")?;
    crate::ensure!(!cx.fx.exists("w/link.txt"), "the refused link exists");
    crate::ensure!(
        cx.fx.read("src/secret.txt").as_deref() == Some("secret"),
        "the source is now {:?}",
        cx.fx.read("src/secret.txt")
    );
    // The name that was refused cannot be used to reach the content...
    let via = run.op(Op::read(&link))?;
    expect_class(&via, Class::NotFound, "read through the refused link name")?;
    // ...nor to change it.
    let write = run.op(Op::write(&link, "CHANGED!"))?;
    expect_class(&write, Class::NotFound, "write through the refused link name")?;
    crate::ensure!(
        cx.fx.read("src/secret.txt").as_deref() == Some("secret"),
        "the source is now {:?}",
        cx.fx.read("src/secret.txt")
    );
    // Links within the grant work, and the content behind them is reachable.
    let second = w.join("own-link.txt");
    let ok = run.op(Op::link(&own, &second))?;
    expect_class(&ok, Class::Allowed, "link within the writable directory")?;
    let back = run.op(Op::read(&second))?;
    expect_class(&back, Class::Allowed, "read through the link made inside the grant")?;
    crate::ensure!(back.str_field("content") == Some("own"), "read returned {:?}", back.str_field("content"));
    Ok(())
}

/// `w` is `--allow`ed and holds `a.txt`, `x.txt`, `y.txt`; `other` is `--read` (when
/// `read_only`) or outside every grant and holds `b.txt`.
fn exchange_refused(cx: &Ctx, read_only: bool) -> CaseResult {
    let w = cx.fx.dir("w");
    let other = cx.fx.dir("other");
    let a = cx.fx.file("w/a.txt", "writable");
    let b = cx.fx.file("other/b.txt", "protected");
    let x = cx.fx.file("w/x.txt", "first");
    let y = cx.fx.file("w/y.txt", "second");
    let mut run = cx.run().allow(&w);
    if read_only {
        run = run.read(&other);
    }
    let (w_before, other_before) = (tree(&w), tree(&other));
    let r = run.op(Op::rename_exchange(&a, &b))?;
    expect_refused(&r, "exchange entries across the writable boundary")?;
    crate::ensure!(tree(&w) == w_before, "the writable directory changed: {w_before:?} became {:?}", tree(&w));
    crate::ensure!(
        tree(&other) == other_before,
        "the other directory changed: {other_before:?} became {:?}",
        tree(&other)
    );
    let ok = run.op(Op::rename_exchange(&x, &y))?;
    expect_class(&ok, Class::Allowed, "exchange within the writable directory")?;
    let (xs, ys) = (cx.fx.read("w/x.txt"), cx.fx.read("w/y.txt"));
    crate::ensure!(
        xs.as_deref() == Some("second") && ys.as_deref() == Some("first"),
        "after the exchange: x {xs:?}, y {ys:?}"
    );
    Ok(())
}
