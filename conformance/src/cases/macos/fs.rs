//! Filesystem families on macOS: reading, writing, file grants, truncation, renames,
//! symbolic links and executing. Seatbelt matches resolved paths, so a symbolic link never
//! reaches further than its target's rules.
//!
//! FS-LINK-005 (a link outside every grant still reaches a granted target) is not checked
//! here: following a link is itself a metadata read of the link under Seatbelt, which a
//! profile grants only on the ancestors of granted paths.

use super::{entries, expect_allowed, expect_denied, expect_eperm, tree};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::{Class, ProbeResult};
use std::path::Path;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "macos.fs.read.dir_grant_covers_nested_file_not_sibling",
            "A read grant on a directory allows reading a nested file, and a file in a sibling directory stays unreadable",
            &["FS-READ-001", "FS-READ-002"],
            read_nested_not_sibling,
        ),
        case(
            "macos.fs.read.denial_is_eperm",
            "Reading a file outside every grant fails with EPERM, Seatbelt's denial errno",
            &["FS-READ-002", "SB-APPLY-001"],
            read_denial_is_eperm,
        ),
        case(
            "macos.fs.read.readdir_granted_not_sibling",
            "A read grant allows listing the directory and its subdirectories with their real entries, and listing a sibling is denied",
            &["FS-READ-003", "FS-READ-004"],
            readdir_granted_not_sibling,
        ),
        case(
            "macos.fs.read.read_grant_allows_no_modification",
            "Under a read grant, writing, appending, creating, removing and renaming are denied and change nothing",
            &["FS-READ-005"],
            read_grant_allows_no_modification,
        ),
        case(
            "macos.fs.read.file_grant_is_exact",
            "A read grant on a file allows reading it, not its sibling, and not listing its directory",
            &["FS-READ-006"],
            read_file_grant_is_exact,
        ),
        case(
            "macos.fs.read.prefix_sibling_not_covered",
            "A grant on /a/dir does not cover /a/dir-other",
            &["FS-READ-007"],
            prefix_sibling_not_covered,
        ),
        case(
            "macos.fs.write.read_write_grant_modifies_and_appends",
            "A read-write grant allows modifying and appending to an existing file",
            &["FS-WRITE-001"],
            rw_modifies_and_appends,
        ),
        case(
            "macos.fs.write.write_grant_creates_every_node_type",
            "A write grant allows creating a file, a directory, a FIFO, a Unix socket and a symbolic link",
            &["FS-WRITE-002"],
            write_grant_creates_nodes,
        ),
        case(
            "macos.fs.write.read_write_grant_removes",
            "A read-write grant allows removing a file and an empty directory",
            &["FS-WRITE-003"],
            rw_grant_removes,
        ),
        case(
            "macos.fs.write.write_only_grant_denies_reading",
            "A write-only grant denies reading a file and listing the directory, while writing works",
            &["FS-WRITE-004"],
            write_only_denies_reading,
        ),
        case(
            "macos.fs.write.create_outside_denied",
            "Outside every write grant, creating a file, a directory, a FIFO or a symbolic link is denied and leaves nothing",
            &["FS-WRITE-005"],
            create_outside_denied,
        ),
        case(
            "macos.fs.write.modify_outside_denied",
            "Outside every write grant, writing, appending, truncating, removing and renaming are denied and change nothing",
            &["FS-WRITE-006"],
            modify_outside_denied,
        ),
        case(
            "macos.fs.trunc.inside_write_grant",
            "Beneath a write grant truncate, ftruncate and open with O_TRUNC succeed",
            &["FS-TRUNC-002"],
            truncate_inside_write_grant,
        ),
        case(
            "macos.fs.file.write_file_grant_modifies",
            "A write grant on a file allows modifying it",
            &["FS-FILE-001"],
            write_file_grant_modifies,
        ),
        case(
            "macos.fs.file.file_grant_allows_nothing_beside_it",
            "A read-write file grant allows no creating, removing, renaming or reading of its siblings",
            &["FS-FILE-002"],
            file_grant_nothing_beside,
        ),
        case(
            "macos.fs.file.write_only_file_not_readable",
            "A write-only file grant allows writing the file but not reading it",
            &["FS-FILE-003"],
            write_only_file_not_readable,
        ),
        case(
            "macos.fs.exec.read_grant_runs_program",
            "A read grant on a directory allows executing a program in it",
            &["FS-EXEC-001"],
            read_grant_runs_program,
        ),
        case(
            "macos.fs.exec.ungranted_dir_program_does_not_run",
            "A program outside every read grant is denied execution (EPERM) and does not run, while the same program under a read grant runs",
            &["FS-EXEC-001", "FS-EXEC-002"],
            ungranted_dir_program_does_not_run,
        ),
        case(
            "macos.fs.exec.write_only_dir_program_does_not_run",
            "A program in a directory granted write-only is denied execution and does not run, while one under a read grant runs",
            &["FS-EXEC-003"],
            write_only_dir_program_does_not_run,
        ),
        case(
            "macos.fs.exec.missing_program_is_enoent",
            "Executing a missing program in a granted directory fails with ENOENT, not a denial",
            &["FS-EXEC-004"],
            missing_program_is_enoent,
        ),
        case(
            "macos.fs.refer.rename_within_writable_dir",
            "Renaming a file within a writable directory succeeds",
            &["FS-REFER-001"],
            rename_within_writable,
        ),
        case(
            "macos.fs.refer.move_into_read_only_denied",
            "Moving a file from a writable directory into a read-only one is denied and the file stays",
            &["FS-REFER-003"],
            move_into_read_only_denied,
        ),
        case(
            "macos.fs.refer.move_out_of_read_only_denied",
            "Moving a file from a read-only directory into a writable one is denied and the source is intact",
            &["FS-REFER-004"],
            move_out_of_read_only_denied,
        ),
        case(
            "macos.fs.link.symlink_to_outside_gives_no_access",
            "A symbolic link inside a granted directory pointing outside every grant gives no access to its target",
            &["FS-LINK-001"],
            symlink_to_outside_gives_no_access,
        ),
        case(
            "macos.fs.link.grant_on_symlink_applies_to_target",
            "A grant given through a symbolic link covers the target, by either spelling, and nothing beside it",
            &["FS-LINK-002", "SB-GEN-005"],
            grant_on_symlink_applies_to_target,
        ),
    ]
}

fn read_nested_not_sibling(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let nested = cx.fx.file("granted/a/b/nested.txt", "nested");
    let sibling = cx.fx.file("other/secret.txt", "secret");
    let run = cx.run().read(&granted);
    let r = run.op(Op::read(&nested))?;
    expect_allowed(&r, "read a nested file under the read grant")?;
    crate::ensure!(
        r.str_field("content") == Some("nested"),
        "read returned the wrong content: {r:?}"
    );
    expect_denied(
        &run.op(Op::read(&sibling))?,
        "read a file in a sibling directory",
    )
}

fn read_denial_is_eperm(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.file("granted/f", "ok");
    let secret = cx.fx.file("secret/f", "no");
    let run = cx.run().read(cx.fx.path("granted"));
    expect_allowed(&run.op(Op::read(&granted))?, "read inside the grant")?;
    expect_eperm(&run.op(Op::read(&secret))?, "read outside every grant")
}

fn readdir_granted_not_sibling(cx: &Ctx) -> CaseResult {
    cx.fx.file("granted/one", "1");
    cx.fx.file("granted/sub/two", "2");
    cx.fx.file("other/three", "3");
    let run = cx.run().read(cx.fx.path("granted"));
    let top = run.op(Op::readdir(cx.fx.path("granted")))?;
    expect_allowed(&top, "list the granted directory")?;
    crate::ensure!(
        entries(&top) == ["one", "sub"],
        "wrong entries {:?}",
        entries(&top)
    );
    let sub = run.op(Op::readdir(cx.fx.path("granted/sub")))?;
    expect_allowed(&sub, "list a subdirectory")?;
    crate::ensure!(
        entries(&sub) == ["two"],
        "wrong entries {:?}",
        entries(&sub)
    );
    expect_denied(
        &run.op(Op::readdir(cx.fx.path("other")))?,
        "list a sibling directory",
    )?;
    expect_denied(
        &run.op(Op::readdir(cx.fx.root()))?,
        "list the parent of the grant",
    )
}

fn read_grant_allows_no_modification(cx: &Ctx) -> CaseResult {
    let dir = cx.fx.dir("ro");
    cx.fx.file("ro/f", "original");
    cx.fx.dir("ro/empty");
    let before = tree(&dir);
    let run = cx.run().read(&dir);
    let p = |rel: &str| dir.join(rel);
    expect_allowed(
        &run.op(Op::read(p("f")))?,
        "read under the read grant (control)",
    )?;
    for (what, op) in [
        ("write", Op::write(p("f"), "X")),
        ("append", Op::append(p("f"), "X")),
        ("create", Op::create(p("new"))),
        ("mkdir", Op::mkdir(p("newdir"))),
        ("unlink", Op::unlink(p("f"))),
        ("rmdir", Op::rmdir(p("empty"))),
        ("rename", Op::rename(p("f"), p("g"))),
    ] {
        expect_denied(&run.op(op)?, &format!("{what} under a read grant"))?;
    }
    crate::ensure!(
        tree(&dir) == before,
        "the read-only tree changed: {:?}",
        tree(&dir)
    );
    Ok(())
}

fn read_file_grant_is_exact(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("d/f", "mine");
    let sibling = cx.fx.file("d/g", "not mine");
    let run = cx.run().read_file(&f);
    expect_allowed(&run.op(Op::read(&f))?, "read the granted file")?;
    expect_denied(&run.op(Op::read(&sibling))?, "read its sibling")?;
    expect_denied(
        &run.op(Op::readdir(cx.fx.path("d")))?,
        "list its directory",
    )
}

fn prefix_sibling_not_covered(cx: &Ctx) -> CaseResult {
    let inside = cx.fx.file("dir/f", "in");
    let beside = cx.fx.file("dir-other/f", "beside");
    let run = cx.run().read(cx.fx.path("dir"));
    expect_allowed(&run.op(Op::read(&inside))?, "read inside /a/dir")?;
    expect_denied(&run.op(Op::read(&beside))?, "read inside /a/dir-other")
}

fn rw_modifies_and_appends(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("rw/f", "abcdef");
    let run = cx.run().allow(cx.fx.path("rw"));
    expect_allowed(
        &run.op(Op::write(&f, "XY"))?,
        "write under a read-write grant",
    )?;
    expect_allowed(
        &run.op(Op::append(&f, "++"))?,
        "append under a read-write grant",
    )?;
    let now = cx.fx.read("rw/f").unwrap_or_default();
    crate::ensure!(
        now == "XYcdef++",
        "file content is {now:?}, expected \"XYcdef++\""
    );
    Ok(())
}

fn write_grant_creates_nodes(cx: &Ctx) -> CaseResult {
    let dir = cx.fx.dir("w");
    // The socket's path must fit a socket address; say so if it does not.
    cx.fx.socket_path("w/s")?;
    let run = cx.run().write(&dir);
    let p = |rel: &str| dir.join(rel);
    for (what, op, rel, kind) in [
        (
            "create a file",
            Op::create(p("file")),
            "file",
            "file",
        ),
        ("mkdir", Op::mkdir(p("dir")), "dir", "dir"),
        ("mkfifo", Op::mkfifo(p("fifo")), "fifo", "fifo"),
        (
            "bind a Unix socket",
            Op::mksock(p("s")),
            "s",
            "socket",
        ),
        (
            "create a symbolic link",
            Op::symlink("target", p("link")),
            "link",
            "symlink",
        ),
    ] {
        expect_allowed(&run.op(op)?, &format!("{what} under a write grant"))?;
        let t = dir.join(rel).symlink_metadata().map(|m| m.file_type());
        use std::os::unix::fs::FileTypeExt;
        let actual = match t {
            Ok(t) if t.is_symlink() => "symlink",
            Ok(t) if t.is_dir() => "dir",
            Ok(t) if t.is_file() => "file",
            Ok(t) if t.is_fifo() => "fifo",
            Ok(t) if t.is_socket() => "socket",
            Ok(_) => "other",
            Err(_) => "missing",
        };
        crate::ensure!(actual == kind, "{what}: reported ok but {rel} is {actual}");
    }
    Ok(())
}

fn rw_grant_removes(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("rw/f", "x");
    let d = cx.fx.dir("rw/empty");
    let run = cx.run().allow(cx.fx.path("rw"));
    expect_allowed(
        &run.op(Op::unlink(&f))?,
        "unlink under a read-write grant",
    )?;
    expect_allowed(
        &run.op(Op::rmdir(&d))?,
        "rmdir under a read-write grant",
    )?;
    crate::ensure!(
        !cx.fx.exists("rw/f") && !cx.fx.exists("rw/empty"),
        "removal reported ok but the entries remain"
    );
    Ok(())
}

fn write_only_denies_reading(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("w/f", "hidden");
    let run = cx.run().write(cx.fx.path("w"));
    expect_allowed(
        &run.op(Op::write(&f, "H"))?,
        "write under a write-only grant (control)",
    )?;
    expect_denied(&run.op(Op::read(&f))?, "read under a write-only grant")?;
    expect_denied(
        &run.op(Op::readdir(cx.fx.path("w")))?,
        "list a write-only directory",
    )
}

fn create_outside_denied(cx: &Ctx) -> CaseResult {
    let inside = cx.fx.dir("inside");
    let outside = cx.fx.dir("outside");
    let run = cx.run().allow(&inside);
    expect_allowed(
        &run.op(Op::create(inside.join("ok")))?,
        "create inside the grant (control)",
    )?;
    let p = |rel: &str| outside.join(rel);
    for (what, op) in [
        ("create", Op::create(p("f"))),
        ("mkdir", Op::mkdir(p("d"))),
        ("mkfifo", Op::mkfifo(p("fifo"))),
        (
            "symlink",
            Op::symlink("target", p("link")),
        ),
    ] {
        expect_denied(&run.op(op)?, &format!("{what} outside every write grant"))?;
    }
    crate::ensure!(
        tree(&outside).is_empty(),
        "something was created outside: {:?}",
        tree(&outside)
    );
    Ok(())
}

fn modify_outside_denied(cx: &Ctx) -> CaseResult {
    let outside = cx.fx.dir("outside");
    cx.fx.file("outside/f", "original");
    cx.fx.dir("outside/empty");
    let before = tree(&outside);
    let run = cx.run().allow(cx.fx.dir("inside")).read(&outside);
    let p = |rel: &str| outside.join(rel);
    expect_allowed(
        &run.op(Op::read(p("f")))?,
        "read the readable file (control)",
    )?;
    for (what, op) in [
        ("write", Op::write(p("f"), "X")),
        ("append", Op::append(p("f"), "X")),
        ("truncate", Op::truncate(p("f"), 0)),
        ("open with O_TRUNC", Op::open_trunc(p("f"))),
        ("unlink", Op::unlink(p("f"))),
        ("rmdir", Op::rmdir(p("empty"))),
        ("rename", Op::rename(p("f"), p("g"))),
    ] {
        expect_denied(&run.op(op)?, &format!("{what} outside every write grant"))?;
    }
    crate::ensure!(
        tree(&outside) == before,
        "the tree outside the write grants changed: {:?}",
        tree(&outside)
    );
    Ok(())
}

fn truncate_inside_write_grant(cx: &Ctx) -> CaseResult {
    let run = cx.run().allow(cx.fx.dir("rw"));
    let truncations: [(fn(&Path) -> Op, &str, &str); 3] = [
        (|f| Op::truncate(f, 2), "rw/a", "ab"),
        (|f| Op::ftruncate(f, 2), "rw/b", "ab"),
        (|f| Op::open_trunc(f), "rw/c", ""),
    ];
    for (truncation, rel, want) in truncations {
        let f = cx.fx.file(rel, "abcdef");
        let op = truncation(&f);
        expect_allowed(&run.op(&op)?, &format!("{} under a write grant", op.name()))?;
        let op = op.name();
        let now = cx.fx.read(rel).unwrap_or_default();
        crate::ensure!(now == want, "{op}: content is {now:?}, expected {want:?}");
    }
    Ok(())
}

fn write_file_grant_modifies(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("d/f", "before");
    let run = cx.run().write_file(&f);
    expect_allowed(
        &run.op(Op::write(&f, "AFTER!"))?,
        "write the granted file",
    )?;
    crate::ensure!(
        cx.fx.read("d/f").as_deref() == Some("AFTER!"),
        "the file was not modified"
    );
    Ok(())
}

fn file_grant_nothing_beside(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("d/f", "mine");
    let g = cx.fx.file("d/g", "sibling");
    let d = cx.fx.path("d");
    let before = tree(&d);
    let run = cx.run().allow_file(&f);
    expect_allowed(
        &run.op(Op::read(&f))?,
        "read the granted file (control)",
    )?;
    for (what, op) in [
        (
            "create a sibling",
            Op::create(d.join("new")),
        ),
        ("remove a sibling", Op::unlink(&g)),
        (
            "rename a sibling",
            Op::rename(&g, d.join("h")),
        ),
        (
            "rename the file to a new name",
            Op::rename(&f, d.join("h")),
        ),
        ("read a sibling", Op::read(&g)),
        ("list the directory", Op::readdir(&d)),
    ] {
        expect_denied(&run.op(op)?, &format!("{what} under a file grant"))?;
    }
    crate::ensure!(tree(&d) == before, "the directory changed: {:?}", tree(&d));
    Ok(())
}

fn write_only_file_not_readable(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("d/f", "secret");
    let run = cx.run().write_file(&f);
    expect_allowed(
        &run.op(Op::write(&f, "S"))?,
        "write the write-only file (control)",
    )?;
    expect_denied(&run.op(Op::read(&f))?, "read a write-only file")
}

fn read_grant_runs_program(cx: &Ctx) -> CaseResult {
    let prog = cx.fx.copy_executable("bin/prog", &cx.probe);
    let r = cx
        .run()
        .read(cx.fx.path("bin"))
        .op(Op::exec_probe(&prog, Op::exit(7)))?;
    expect_allowed(&r, "exec a program under a read grant")?;
    crate::ensure!(
        r.int_field("exit_code") == Some(7),
        "the program did not run as asked: {r:?}"
    );
    Ok(())
}

/// Runs `prog create MARKER` through the probe's `exec` and reports whether the marker
/// appeared: "did not run" is seen from outside, not taken from an exit code.
fn exec_leaves_marker(run: &crate::runner::Run, prog: &Path, marker: &Path) -> Result<(ProbeResult, bool), String> {
    let r = run.op(Op::exec_probe(prog, Op::create(marker)))?;
    Ok((r, marker.exists()))
}

fn ungranted_dir_program_does_not_run(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let granted = cx.fx.copy_executable("bin/prog", &cx.probe);
    let ungranted = cx.fx.copy_executable("elsewhere/prog", &cx.probe);
    let out = cx.fx.dir("out");
    let run = cx.run().read(&bin).allow(&out);

    let (ok, ran) = exec_leaves_marker(&run, &granted, &out.join("from-granted"))?;
    expect_allowed(&ok, "exec a program beneath a read grant (control)")?;
    crate::ensure!(ran, "the granted program reported success but created nothing");

    let (denied, ran) = exec_leaves_marker(&run, &ungranted, &out.join("from-ungranted"))?;
    expect_eperm(&denied, "exec a program outside every read grant")?;
    crate::ensure!(!ran, "the ungranted program ran: it created its marker although exec was reported {denied}");
    Ok(())
}

fn write_only_dir_program_does_not_run(cx: &Ctx) -> CaseResult {
    let wonly = cx.fx.dir("wonly");
    let prog = cx.fx.copy_executable("wonly/prog", &cx.probe);
    let bin = cx.fx.dir("bin");
    let readable = cx.fx.copy_executable("bin/prog", &cx.probe);
    // The write-only directory is writable, so a program that did run could leave its
    // marker there: the control proves it.
    let run = cx.run().write(&wonly).read(&bin);

    let (ok, ran) = exec_leaves_marker(&run, &readable, &wonly.join("from-readable"))?;
    expect_allowed(&ok, "exec a program beneath a read grant (control)")?;
    crate::ensure!(ran, "the readable program reported success but created nothing");

    let (denied, ran) = exec_leaves_marker(&run, &prog, &wonly.join("from-write-only"))?;
    expect_denied(&denied, "exec a program in a write-only directory")?;
    crate::ensure!(!ran, "the program in the write-only directory ran and created its marker");
    Ok(())
}

fn missing_program_is_enoent(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let r = cx
        .run()
        .read(&bin)
        .op(Op::exec(bin.join("missing"), &[]))?;
    crate::ensure!(
        r.class() == Class::NotFound,
        "exec of a missing program: expected ENOENT, got {r}"
    );
    Ok(())
}

fn rename_within_writable(cx: &Ctx) -> CaseResult {
    let a = cx.fx.file("rw/a", "content");
    let b = cx.fx.path("rw/b");
    expect_allowed(
        &cx.run()
            .allow(cx.fx.path("rw"))
            .op(Op::rename(&a, &b))?,
        "rename within a writable directory",
    )?;
    crate::ensure!(
        !cx.fx.exists("rw/a") && cx.fx.read("rw/b").as_deref() == Some("content"),
        "rename reported ok but nothing moved"
    );
    Ok(())
}

fn move_into_read_only_denied(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("rw/f", "stay");
    let ro = cx.fx.dir("ro");
    let r =
        cx.run()
            .allow(cx.fx.path("rw"))
            .read(&ro)
            .op(Op::rename(&f, ro.join("f")))?;
    expect_denied(&r, "move a file into a read-only directory")?;
    crate::ensure!(
        cx.fx.read("rw/f").as_deref() == Some("stay") && !cx.fx.exists("ro/f"),
        "the file moved"
    );
    Ok(())
}

fn move_out_of_read_only_denied(cx: &Ctx) -> CaseResult {
    let f = cx.fx.file("ro/f", "stay");
    let rw = cx.fx.dir("rw");
    let r =
        cx.run()
            .allow(&rw)
            .read(cx.fx.path("ro"))
            .op(Op::rename(&f, rw.join("f")))?;
    expect_denied(&r, "move a file out of a read-only directory")?;
    crate::ensure!(
        cx.fx.read("ro/f").as_deref() == Some("stay") && !cx.fx.exists("rw/f"),
        "the file moved"
    );
    Ok(())
}

fn symlink_to_outside_gives_no_access(cx: &Ctx) -> CaseResult {
    let secret = cx.fx.file("secret/s.txt", "secret");
    let ok = cx.fx.file("granted/ok.txt", "ok");
    let link = cx.fx.symlink("granted/link", &secret);
    let run = cx.run().allow(cx.fx.path("granted"));
    expect_allowed(
        &run.op(Op::read(&ok))?,
        "read a plain file in the grant (control)",
    )?;
    expect_denied(
        &run.op(Op::read(&link))?,
        "read through a link pointing outside",
    )?;
    expect_denied(
        &run.op(Op::write(&link, "X"))?,
        "write through a link pointing outside",
    )?;
    crate::ensure!(
        cx.fx.read("secret/s.txt").as_deref() == Some("secret"),
        "the target changed"
    );
    Ok(())
}

fn grant_on_symlink_applies_to_target(cx: &Ctx) -> CaseResult {
    let real = cx.fx.dir("real");
    cx.fx.file("real/f", "target");
    let link = cx.fx.symlink("link", &real);
    let beside = cx.fx.file("other/f", "beside");
    let run = cx.run().read(&link);
    for path in [real.join("f"), link.join("f")] {
        let r = run.op(Op::read(&path))?;
        expect_allowed(
            &r,
            &format!("read {} under a grant given through a link", path.display()),
        )?;
        crate::ensure!(
            r.str_field("content") == Some("target"),
            "wrong content through {}: {r:?}",
            path.display()
        );
    }
    expect_denied(
        &run.op(Op::read(&beside))?,
        "read beside the link's target",
    )
}
