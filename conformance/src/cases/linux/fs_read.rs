//! Reading: a read grant on a directory covers everything beneath it and nothing beside it,
//! and it allows no modification at all.
//!
//! This module also holds the small helpers the other `fs_*` families share: a path as a
//! probe argument, a directory listing out of a probe result, and a snapshot of a fixture
//! tree taken from outside the sandbox to prove that a denied operation changed nothing.
//!
//! Landlock does not restrict `stat(2)`, so no case here asserts that metadata is hidden.

pub(super) use crate::kit::arg;
use crate::kit::expect::expect_refused;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::{Class, ProbeResult};
use crate::runner::expect_class;
use std::collections::BTreeMap;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use crate::probe::Op;

/// The `entries` of a `readdir` result (empty when absent).
pub(super) fn entries(r: &ProbeResult) -> Vec<String> {
    r.extra
        .get("entries")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// What kind of node `path` is, seen from outside without following a final symlink:
/// `file`, `dir`, `symlink`, `fifo`, `socket`, `char`, `block`, or None when absent.
pub(super) fn node_kind(path: &Path) -> Option<&'static str> {
    let t = path.symlink_metadata().ok()?.file_type();
    Some(if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "char"
    } else {
        "block"
    })
}

/// Every node beneath `dir` (relative path → kind, plus content for files and target for
/// symlinks), read from outside the sandbox. Two equal snapshots mean nothing changed.
pub(super) fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for entry in rd.flatten() {
            let p = entry.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let kind = node_kind(&p).unwrap_or("gone");
            let detail = match kind {
                "file" => format!("file:{}", std::fs::read_to_string(&p).unwrap_or_default()),
                "symlink" => {
                    format!("symlink->{}", std::fs::read_link(&p).map(|t| t.display().to_string()).unwrap_or_default())
                }
                other => other.to_string(),
            };
            out.insert(rel, detail);
            if kind == "dir" {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

pub fn cases() -> Vec<Case> {
    let mut out = vec![
        case(
            "linux.fs.read.dir_grant_covers_nested_file_not_sibling",
            "A read grant on a directory allows reading a nested file and denies a sibling directory's file",
            &["FS-READ-001", "FS-READ-002"],
            dir_grant_covers_nested_file_not_sibling,
        ),
        case(
            "linux.fs.read.dir_grant_covers_every_depth",
            "A read grant on a directory allows reading files directly in it and eight levels below it",
            &["FS-READ-001"],
            dir_grant_covers_every_depth,
        ),
        case(
            "linux.fs.read.parent_of_granted_dir_stays_unreadable",
            "A read grant on a directory does not extend upwards: a file in its parent directory is unreadable",
            &["FS-READ-002"],
            parent_of_granted_dir_stays_unreadable,
        ),
        case(
            "linux.fs.read.readdir_granted_dir_and_subdirs",
            "A read grant on a directory allows listing it and its nested subdirectories, with their real entries",
            &["FS-READ-003"],
            readdir_granted_dir_and_subdirs,
        ),
        case(
            "linux.fs.read.readdir_outside_grants_denied",
            "Listing a sibling directory or the parent of a read-granted directory is denied",
            &["FS-READ-004"],
            readdir_outside_grants_denied,
        ),
        case(
            "linux.fs.read.file_grant_reads_exactly_that_file",
            "A read grant on a file allows reading it, while its sibling and a file in a subdirectory beside it stay unreadable",
            &["FS-READ-006", "FS-READ-002"],
            file_grant_reads_exactly_that_file,
        ),
        case(
            "linux.fs.read.file_grant_leaves_directory_unlistable",
            "A read grant on a file does not allow listing the directory that contains it",
            &["FS-READ-006", "FS-READ-004"],
            file_grant_leaves_directory_unlistable,
        ),
        case(
            "linux.fs.read.prefix_sibling_dir_not_listable",
            "A read grant on `dir` does not allow listing `dir-other`",
            &["FS-READ-007", "FS-READ-004"],
            prefix_sibling_dir_not_listable,
        ),
    ];
    for &(suffix, what) in PREFIX_SIBLINGS {
        out.push(case(
            format!("linux.fs.read.prefix_sibling_{what}_not_readable"),
            "A read grant on a directory does not cover a file in a sibling whose name merely starts with the directory's name",
            &["FS-READ-007", "FS-READ-002"],
            move |cx| prefix_sibling_not_readable(cx, suffix),
        ));
    }
    for m in MUTATIONS {
        out.push(case(
            format!("linux.fs.read.read_grant_denies_{}", m.name),
            "Beneath a read grant a modification is denied and the granted tree is unchanged, while reading works",
            &["FS-READ-005"],
            move |cx| read_grant_denies_mutation(cx, m),
        ));
    }
    out
}

fn dir_grant_covers_nested_file_not_sibling(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let nested = cx.fx.file("granted/a/b/nested.txt", "nested");
    let sibling = cx.fx.file("sibling/secret.txt", "secret");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::read(&nested))?;
    expect_class(&ok, Class::Allowed, "read nested file")?;
    crate::ensure!(ok.str_field("content") == Some("nested"), "read returned {:?}", ok.str_field("content"));
    let denied = run.op(Op::read(&sibling))?;
    expect_class(&denied, Class::Denied, "read sibling file")
}

fn dir_grant_covers_every_depth(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let top = cx.fx.file("granted/top.txt", "top");
    let deep = cx.fx.file("granted/1/2/3/4/5/6/7/8/deep.txt", "deep");
    let run = cx.run().read(&granted);
    for (path, want) in [(&top, "top"), (&deep, "deep")] {
        let r = run.op(Op::read(path))?;
        expect_class(&r, Class::Allowed, &format!("read {}", path.display()))?;
        crate::ensure!(
            r.str_field("content") == Some(want),
            "read {} returned {:?}",
            path.display(),
            r.str_field("content")
        );
    }
    Ok(())
}

fn parent_of_granted_dir_stays_unreadable(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("parent/granted");
    let inside = cx.fx.file("parent/granted/inside.txt", "inside");
    let beside = cx.fx.file("parent/beside.txt", "beside");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::read(&inside))?;
    expect_class(&ok, Class::Allowed, "read a file in the granted directory")?;
    let denied = run.op(Op::read(&beside))?;
    expect_class(&denied, Class::Denied, "read a file in the granted directory's parent")?;
    crate::ensure!(denied.str_field("content").is_none(), "a denied read returned content");
    Ok(())
}

fn readdir_granted_dir_and_subdirs(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.file("granted/a.txt", "a");
    cx.fx.file("granted/sub/b.txt", "b");
    cx.fx.file("granted/sub/deeper/c.txt", "c");
    let run = cx.run().read(&granted);
    for (rel, want) in [
        ("granted", vec!["a.txt", "sub"]),
        ("granted/sub", vec!["b.txt", "deeper"]),
        ("granted/sub/deeper", vec!["c.txt"]),
    ] {
        let r = run.op(Op::readdir(cx.fx.path(rel)))?;
        expect_class(&r, Class::Allowed, &format!("list {rel}"))?;
        crate::ensure!(entries(&r) == want, "listing {rel} gave {:?}, expected {want:?}", entries(&r));
    }
    Ok(())
}

fn readdir_outside_grants_denied(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.file("granted/a.txt", "a");
    let sibling = cx.fx.dir("sibling");
    cx.fx.file("sibling/hidden.txt", "hidden");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::readdir(&granted))?;
    expect_class(&ok, Class::Allowed, "list the granted directory")?;
    for dir in [&sibling, &cx.fx.root().to_path_buf()] {
        let r = run.op(Op::readdir(dir))?;
        expect_class(&r, Class::Denied, &format!("list {}", dir.display()))?;
        crate::ensure!(entries(&r).is_empty(), "a denied listing returned entries {:?}", entries(&r));
    }
    Ok(())
}

fn file_grant_reads_exactly_that_file(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.file("dir/granted.txt", "granted");
    let sibling = cx.fx.file("dir/sibling.txt", "sibling");
    let nested = cx.fx.file("dir/sub/nested.txt", "nested");
    let run = cx.run().read_file(&granted);
    let ok = run.op(Op::read(&granted))?;
    expect_class(&ok, Class::Allowed, "read the granted file")?;
    crate::ensure!(ok.str_field("content") == Some("granted"), "read returned {:?}", ok.str_field("content"));
    for other in [&sibling, &nested] {
        let r = run.op(Op::read(other))?;
        expect_class(&r, Class::Denied, &format!("read {}", other.display()))?;
    }
    Ok(())
}

fn file_grant_leaves_directory_unlistable(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.file("dir/granted.txt", "granted");
    cx.fx.file("dir/sibling.txt", "sibling");
    let run = cx.run().read_file(&granted);
    let ok = run.op(Op::read(&granted))?;
    expect_class(&ok, Class::Allowed, "read the granted file")?;
    let r = run.op(Op::readdir(cx.fx.path("dir")))?;
    expect_class(&r, Class::Denied, "list the granted file's directory")
}

/// Siblings of `granted` whose names start with `granted`: suffix and a name for the ID.
const PREFIX_SIBLINGS: &[(&str, &str)] = &[("-other", "dash_suffix"), ("2", "digit_suffix"), (".d", "dot_suffix")];

fn prefix_sibling_not_readable(cx: &Ctx, suffix: &str) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let inside = cx.fx.file("granted/f.txt", "inside");
    let sibling = cx.fx.file(&format!("granted{suffix}/f.txt"), "sibling");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::read(&inside))?;
    expect_class(&ok, Class::Allowed, "read a file in the granted directory")?;
    let denied = run.op(Op::read(&sibling))?;
    expect_class(&denied, Class::Denied, &format!("read {}", sibling.display()))
}

fn prefix_sibling_dir_not_listable(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("dir");
    let sibling = cx.fx.dir("dir-other");
    cx.fx.file("dir/f.txt", "inside");
    cx.fx.file("dir-other/g.txt", "sibling");
    let run = cx.run().read(&granted);
    let ok = run.op(Op::readdir(&granted))?;
    expect_class(&ok, Class::Allowed, "list the granted directory")?;
    let denied = run.op(Op::readdir(&sibling))?;
    expect_class(&denied, Class::Denied, "list the prefix sibling directory")
}

/// One modification attempted beneath a read grant. `args` gets the granted directory,
/// which holds `f.txt` ("original") and an empty `empty/`.
struct Mutation {
    name: &'static str,
    args: fn(&Path) -> Op,
}

const MUTATIONS: &[Mutation] = &[
    Mutation { name: "write", args: |d| Op::write(d.join("f.txt"), "CHANGED!") },
    Mutation { name: "append", args: |d| Op::append(d.join("f.txt"), "+more") },
    Mutation { name: "create_file", args: |d| Op::create(d.join("new.txt")) },
    Mutation { name: "mkdir", args: |d| Op::mkdir(d.join("newdir")) },
    Mutation { name: "mkfifo", args: |d| Op::mkfifo(d.join("fifo")) },
    Mutation { name: "mksock", args: |d| Op::mksock(d.join("sock")) },
    Mutation { name: "symlink", args: |d| Op::symlink("f.txt", d.join("link")) },
    Mutation { name: "hard_link", args: |d| Op::link(d.join("f.txt"), d.join("hard.txt")) },
    Mutation { name: "unlink", args: |d| Op::unlink(d.join("f.txt")) },
    Mutation { name: "rmdir", args: |d| Op::rmdir(d.join("empty")) },
    Mutation { name: "rename", args: |d| Op::rename(d.join("f.txt"), d.join("renamed.txt")) },
    Mutation { name: "rename_into_subdir", args: |d| Op::rename(d.join("f.txt"), d.join("empty/f.txt")) },
];

fn read_grant_denies_mutation(cx: &Ctx, m: &Mutation) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let file = cx.fx.file("granted/f.txt", "original");
    cx.fx.dir("granted/empty");
    let before = tree(&granted);
    let run = cx.run().read(&granted);
    let r = run.op((m.args)(&granted))?;
    // Renames between directories may be refused with EXDEV; both are refusals.
    if m.name == "rename_into_subdir" {
        expect_refused(&r, m.name)?;
    } else {
        expect_class(&r, Class::Denied, m.name)?;
    }
    let after = tree(&granted);
    crate::ensure!(before == after, "{} changed the read-only tree: before {before:?}, after {after:?}", m.name);
    let ok = run.op(Op::read(&file))?;
    expect_class(&ok, Class::Allowed, "read the granted file under the same grant")?;
    crate::ensure!(ok.str_field("content") == Some("original"), "read returned {:?}", ok.str_field("content"));
    Ok(())
}
