//! Writing and creating: a write or read-write grant on a directory allows making every kind
//! of node beneath it, modifying and removing; outside every write grant all of that is
//! denied and leaves nothing behind. `--write` alone allows no reading or listing.

use super::fs_read::{entries, node_kind, tree};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::Path;
use crate::probe::Op;

/// The two directory grants that include writing.
#[derive(Clone, Copy)]
enum Grant {
    /// `--allow`: read and write.
    Allow,
    /// `--write`: write only.
    Write,
}

impl Grant {
    fn name(self) -> &'static str {
        match self {
            Grant::Allow => "allow",
            Grant::Write => "write",
        }
    }

    fn apply(self, run: Run, dir: &Path) -> Run {
        match self {
            Grant::Allow => run.allow(dir),
            Grant::Write => run.write(dir),
        }
    }
}

const GRANTS: [Grant; 2] = [Grant::Allow, Grant::Write];

/// A node type and the probe op that creates it at a path.
struct Node {
    name: &'static str,
    /// What [`node_kind`] reports for it from outside.
    kind: &'static str,
    op: fn(&Path) -> Op,
}

const NODES: &[Node] = &[
    Node { name: "regular_file", kind: "file", op: |p| Op::create(p) },
    Node { name: "directory", kind: "dir", op: |p| Op::mkdir(p) },
    Node { name: "fifo", kind: "fifo", op: |p| Op::mkfifo(p) },
    Node { name: "unix_socket", kind: "socket", op: |p| Op::mksock(p) },
    Node { name: "symlink", kind: "symlink", op: |p| Op::symlink("some-target", p) },
];

pub fn cases() -> Vec<Case> {
    let mut out = vec![];
    for grant in GRANTS {
        for node in NODES {
            let title = match grant {
                Grant::Allow => "A read-write grant on a directory allows creating this node type beneath it",
                Grant::Write => "A write-only grant on a directory allows creating this node type beneath it",
            };
            out.push(case(
                format!("linux.fs.write.{}_grant_creates_{}", grant.name(), node.name),
                title,
                &["FS-WRITE-002"],
                move |cx| grant_creates_node(cx, grant, node),
            ));
        }
    }
    for node in NODES {
        out.push(case(
            format!("linux.fs.write.create_{}_outside_grants_denied", node.name),
            "Creating this node type outside every write grant is denied and leaves nothing, while the same creation inside the grant works",
            &["FS-WRITE-005", "FS-WRITE-002"],
            move |cx| create_outside_denied(cx, node),
        ));
    }
    for grant in GRANTS {
        out.push(
            case(
                format!("linux.fs.write.char_device_only_beneath_{}_grant", grant.name()),
                "As root, creating a character device beneath a write grant works and outside every grant is denied and leaves nothing",
                &["FS-WRITE-007"],
                move |cx| char_device_only_beneath_grant(cx, grant),
            )
            .requires(Requirement::Root),
        );
    }
    out.extend([
        case(
            "linux.fs.write.allow_grant_modifies_nested_file",
            "A read-write grant on a directory allows overwriting a file two levels beneath it, and reading the new content back",
            &["FS-WRITE-001"],
            allow_grant_modifies_nested_file,
        ),
        case(
            "linux.fs.write.allow_grant_appends_to_nested_file",
            "A read-write grant on a directory allows appending to a file two levels beneath it",
            &["FS-WRITE-001"],
            allow_grant_appends_to_nested_file,
        ),
    ]);
    for change in CHANGES {
        out.push(case(
            format!("linux.fs.write.{}_outside_grants_denied", change.name),
            "Outside every write grant this change to an existing file is denied and the file is unchanged, while the same change inside the grant works",
            &["FS-WRITE-006", "FS-WRITE-001"],
            move |cx| change_outside_denied(cx, change),
        ));
    }
    for grant in GRANTS {
        for removal in REMOVALS {
            out.push(case(
                format!("linux.fs.write.{}_grant_allows_{}_but_not_outside", grant.name(), removal.name),
                "A write grant allows removing this kind of entry beneath it, and the same removal outside every grant is denied and leaves it in place",
                &["FS-WRITE-003", "FS-WRITE-006"],
                move |cx| removal_only_beneath_grant(cx, grant, removal),
            ));
        }
    }
    out.extend([
        case(
            "linux.fs.write.write_only_grant_denies_reading",
            "A write-only grant on a directory denies reading files beneath it while writing them works",
            &["FS-WRITE-004"],
            write_only_grant_denies_reading,
        ),
        case(
            "linux.fs.write.write_only_grant_denies_listing",
            "A write-only grant on a directory denies listing it and its subdirectories while creating in them works",
            &["FS-WRITE-004"],
            write_only_grant_denies_listing,
        ),
    ]);
    out
}

fn grant_creates_node(cx: &Ctx, grant: Grant, node: &Node) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.dir("granted/sub");
    let target = cx.fx.path("granted/sub/node");
    let run = grant.apply(cx.run(), &granted);
    let r = run.op((node.op)(&target))?;
    expect_class(&r, Class::Allowed, &format!("create a {} beneath the --{} grant", node.name, grant.name()))?;
    crate::ensure!(
        node_kind(&target) == Some(node.kind),
        "after creating a {}, the path is {:?} when seen from outside",
        node.name,
        node_kind(&target)
    );
    Ok(())
}

fn create_outside_denied(cx: &Ctx, node: &Node) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    let run = cx.run().allow(&granted);
    let r = run.op((node.op)(&outside.join("node")))?;
    expect_class(&r, Class::Denied, &format!("create a {} outside every grant", node.name))?;
    let left = tree(&outside);
    crate::ensure!(left.is_empty(), "a denied creation left {left:?} behind");
    let inside = granted.join("node");
    let ok = run.op((node.op)(&inside))?;
    expect_class(&ok, Class::Allowed, &format!("create a {} inside the grant", node.name))?;
    crate::ensure!(node_kind(&inside) == Some(node.kind), "inside the grant the node is {:?}", node_kind(&inside));
    Ok(())
}

fn char_device_only_beneath_grant(cx: &Ctx, grant: Grant) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    let run = grant.apply(cx.run(), &granted);
    let inside = granted.join("null");
    let ok = run.op(Op::mknod_char(&inside))?;
    expect_class(&ok, Class::Allowed, &format!("mknod a character device beneath the --{} grant", grant.name()))?;
    crate::ensure!(node_kind(&inside) == Some("char"), "the device is {:?} from outside", node_kind(&inside));
    let r = run.op(Op::mknod_char(outside.join("null")))?;
    expect_class(&r, Class::Denied, "mknod a character device outside every grant")?;
    let left = tree(&outside);
    crate::ensure!(left.is_empty(), "a denied mknod left {left:?} behind");
    Ok(())
}

fn allow_grant_modifies_nested_file(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let file = cx.fx.file("granted/a/b/f.txt", "original");
    let run = cx.run().allow(&granted);
    let r = run.op(Op::write(&file, "CHANGED!"))?;
    expect_class(&r, Class::Allowed, "overwrite a nested file")?;
    let seen = cx.fx.read("granted/a/b/f.txt");
    crate::ensure!(seen.as_deref() == Some("CHANGED!"), "content after the write: {seen:?}");
    let back = run.op(Op::read(&file))?;
    expect_class(&back, Class::Allowed, "read the file back")?;
    crate::ensure!(back.str_field("content") == Some("CHANGED!"), "read back {:?}", back.str_field("content"));
    Ok(())
}

fn allow_grant_appends_to_nested_file(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let file = cx.fx.file("granted/a/b/f.txt", "original");
    let run = cx.run().allow(&granted);
    let r = run.op(Op::append(&file, "+more"))?;
    expect_class(&r, Class::Allowed, "append to a nested file")?;
    let seen = cx.fx.read("granted/a/b/f.txt");
    crate::ensure!(seen.as_deref() == Some("original+more"), "content after the append: {seen:?}");
    Ok(())
}

/// A change to `f.txt` ("original") in a directory, and how the directory must look after
/// the change succeeded.
struct Change {
    name: &'static str,
    args: fn(&Path) -> Op,
    done: fn(&Path) -> CaseResult,
}

fn content(dir: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(rel)).ok()
}

const CHANGES: &[Change] = &[
    Change {
        name: "write",
        args: |d| Op::write(d.join("f.txt"), "CHANGED!"),
        done: |d| {
            crate::ensure!(
                content(d, "f.txt").as_deref() == Some("CHANGED!"),
                "after the write: {:?}",
                content(d, "f.txt")
            );
            Ok(())
        },
    },
    Change {
        name: "append",
        args: |d| Op::append(d.join("f.txt"), "+more"),
        done: |d| {
            crate::ensure!(
                content(d, "f.txt").as_deref() == Some("original+more"),
                "after the append: {:?}",
                content(d, "f.txt")
            );
            Ok(())
        },
    },
    Change {
        name: "rename",
        args: |d| Op::rename(d.join("f.txt"), d.join("renamed.txt")),
        done: |d| {
            crate::ensure!(
                content(d, "f.txt").is_none() && content(d, "renamed.txt").as_deref() == Some("original"),
                "after the rename: f.txt {:?}, renamed.txt {:?}",
                content(d, "f.txt"),
                content(d, "renamed.txt")
            );
            Ok(())
        },
    },
];

fn change_outside_denied(cx: &Ctx, change: &Change) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    cx.fx.file("granted/f.txt", "original");
    cx.fx.file("outside/f.txt", "original");
    let before = tree(&outside);
    let run = cx.run().allow(&granted);
    let r = run.op((change.args)(&outside))?;
    expect_class(&r, Class::Denied, &format!("{} a file outside every grant", change.name))?;
    let after = tree(&outside);
    crate::ensure!(
        before == after,
        "the denied {} changed the outside directory: {before:?} became {after:?}",
        change.name
    );
    let ok = run.op((change.args)(&granted))?;
    expect_class(&ok, Class::Allowed, &format!("{} a file inside the grant", change.name))?;
    (change.done)(&granted)
}

/// A removal: what to set up (relative to a directory), the op, and the removed entry.
struct Removal {
    name: &'static str,
    entry: &'static str,
    op: fn(&Path) -> Op,
    is_dir: bool,
}

const REMOVALS: &[Removal] = &[
    Removal { name: "unlink_file", entry: "f.txt", op: |p| Op::unlink(p), is_dir: false },
    Removal { name: "rmdir_empty_dir", entry: "empty", op: |p| Op::rmdir(p), is_dir: true },
];

fn removal_only_beneath_grant(cx: &Ctx, grant: Grant, removal: &Removal) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    for dir in ["granted/sub", "outside"] {
        let rel = format!("{dir}/{}", removal.entry);
        if removal.is_dir {
            cx.fx.dir(&rel);
        } else {
            cx.fx.file(&rel, "original");
        }
    }
    let run = grant.apply(cx.run(), &granted);
    let inside = granted.join("sub").join(removal.entry);
    let verb = (removal.op)(&inside).name();
    let ok = run.op((removal.op)(&inside))?;
    expect_class(&ok, Class::Allowed, &format!("{} beneath the --{} grant", verb, grant.name()))?;
    crate::ensure!(
        node_kind(&inside).is_none(),
        "{} reported success but {} still exists",
        verb,
        inside.display()
    );
    let target = outside.join(removal.entry);
    let before = tree(&outside);
    let r = run.op((removal.op)(&target))?;
    expect_class(&r, Class::Denied, &format!("{} outside every grant", verb))?;
    let after = tree(&outside);
    crate::ensure!(
        before == after,
        "the denied {} changed the outside directory: {before:?} became {after:?}",
        verb
    );
    Ok(())
}

fn write_only_grant_denies_reading(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let top = cx.fx.file("granted/f.txt", "original");
    let nested = cx.fx.file("granted/sub/g.txt", "nested");
    let run = cx.run().write(&granted);
    for file in [&top, &nested] {
        let r = run.op(Op::read(file))?;
        expect_class(&r, Class::Denied, &format!("read {} under a write-only grant", file.display()))?;
        crate::ensure!(r.str_field("content").is_none(), "a denied read returned content");
    }
    let ok = run.op(Op::write(&top, "CHANGED!"))?;
    expect_class(&ok, Class::Allowed, "write the same file under the write-only grant")?;
    let seen = cx.fx.read("granted/f.txt");
    crate::ensure!(seen.as_deref() == Some("CHANGED!"), "content after the write: {seen:?}");
    Ok(())
}

fn write_only_grant_denies_listing(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let sub = cx.fx.dir("granted/sub");
    cx.fx.file("granted/sub/g.txt", "nested");
    let run = cx.run().write(&granted);
    for dir in [&granted, &sub] {
        let r = run.op(Op::readdir(dir))?;
        expect_class(&r, Class::Denied, &format!("list {} under a write-only grant", dir.display()))?;
        crate::ensure!(entries(&r).is_empty(), "a denied listing returned {:?}", entries(&r));
    }
    let created = sub.join("new.txt");
    let ok = run.op(Op::create(&created))?;
    expect_class(&ok, Class::Allowed, "create a file in the unlistable subdirectory")?;
    crate::ensure!(cx.fx.exists("granted/sub/new.txt"), "create reported success but no file exists");
    Ok(())
}
