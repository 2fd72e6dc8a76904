//! Symbolic links. Landlock rules follow objects, not the spelling of paths: a link inside a
//! grant does not carry the grant to its target, a grant given on a link applies to the
//! target, and a link outside the grants still reaches a granted target.

use super::fs_read::{arg, entries, node_kind, tree};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::kit::expect::expect_content;
use crate::runner::expect_class;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.fs.link.inner_symlink_to_outside_file_gives_no_read",
            "A symlink inside a granted directory pointing at an ungranted file does not allow reading it, while a symlink to a granted file does",
            &["FS-LINK-001"],
            inner_symlink_to_outside_file_gives_no_read,
        ),
        case(
            "linux.fs.link.inner_symlink_to_outside_file_gives_no_write",
            "A symlink inside a writable directory pointing at an ungranted file does not allow writing it, while a symlink to a granted file does",
            &["FS-LINK-001"],
            inner_symlink_to_outside_file_gives_no_write,
        ),
        case(
            "linux.fs.link.inner_symlink_to_outside_dir_gives_no_access",
            "A symlink inside a writable directory pointing at an ungranted directory allows neither listing it nor creating in it",
            &["FS-LINK-001"],
            inner_symlink_to_outside_dir_gives_no_access,
        ),
        case(
            "linux.fs.link.dir_grant_on_symlink_applies_to_target",
            "A directory grant given as a symlink applies to the target directory, by either spelling, and not to the link's own directory",
            &["FS-LINK-002"],
            dir_grant_on_symlink_applies_to_target,
        ),
        case(
            "linux.fs.link.file_grant_on_symlink_applies_to_target",
            "A file grant given as a symlink allows reading the target file, and nothing beside the target or the link",
            &["FS-LINK-002"],
            file_grant_on_symlink_applies_to_target,
        ),
        case(
            "linux.fs.link.created_symlink_to_outside_gives_no_write",
            "Creating a symlink to an ungranted file inside a writable directory succeeds but writing through it is denied",
            &["FS-LINK-003"],
            created_symlink_to_outside_gives_no_write,
        ),
        case(
            "linux.fs.link.created_symlink_to_outside_gives_no_read",
            "Creating a symlink to an ungranted file inside a writable directory succeeds but reading through it is denied",
            &["FS-LINK-003"],
            created_symlink_to_outside_gives_no_read,
        ),
        case(
            "linux.fs.link.broken_symlink_read_is_not_found",
            "Reading through a broken symlink inside a granted directory fails with ENOENT, not a denial, whether it points outside or inside",
            &["FS-LINK-004"],
            broken_symlink_read_is_not_found,
        ),
        case(
            "linux.fs.link.broken_symlink_create_outside_denied",
            "Creating the missing target of a broken symlink through it is denied outside the grants and works inside them",
            &["FS-LINK-004"],
            broken_symlink_create_outside_denied,
        ),
        case(
            "linux.fs.link.outer_symlink_into_granted_file_reaches_it",
            "A symlink outside every grant pointing at a granted file allows reading and writing it, while one pointing at an ungranted file does not",
            &["FS-LINK-005"],
            outer_symlink_into_granted_file_reaches_it,
        ),
        case(
            "linux.fs.link.outer_symlink_into_granted_dir_reaches_it",
            "A symlink outside every grant pointing at a granted directory allows listing it and creating in it",
            &["FS-LINK-005"],
            outer_symlink_into_granted_dir_reaches_it,
        ),
    ]
}

fn inner_symlink_to_outside_file_gives_no_read(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.file("granted/own.txt", "own");
    let secret = cx.fx.file("outside/secret.txt", "secret");
    let out_link = cx.fx.symlink("granted/to-secret", &secret);
    let in_link = cx.fx.symlink("granted/to-own", &granted.join("own.txt"));
    let run = cx.run().read(&granted);
    let r = run.op(Op::read(&out_link))?;
    expect_class(&r, Class::Denied, "read through a symlink to an ungranted file")?;
    crate::ensure!(r.str_field("content").is_none(), "a denied read returned content");
    let ok = run.op(Op::read(&in_link))?;
    expect_class(&ok, Class::Allowed, "read through a symlink to a granted file")?;
    crate::ensure!(ok.str_field("content") == Some("own"), "read returned {:?}", ok.str_field("content"));
    Ok(())
}

fn inner_symlink_to_outside_file_gives_no_write(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.file("granted/own.txt", "original");
    let secret = cx.fx.file("outside/secret.txt", "original");
    let out_link = cx.fx.symlink("granted/to-secret", &secret);
    let in_link = cx.fx.symlink("granted/to-own", &granted.join("own.txt"));
    let run = cx.run().allow(&granted);
    for op in [Op::write(&out_link, "CHANGED!"), Op::append(&out_link, "+more")] {
        let r = run.op(&op)?;
        expect_class(&r, Class::Denied, &format!("{} through a symlink to an ungranted file", op.name()))?;
    }
    expect_content(cx, "outside/secret.txt", "original", "the ungranted target")?;
    let ok = run.op(Op::write(&in_link, "CHANGED!"))?;
    expect_class(&ok, Class::Allowed, "write through a symlink to a granted file")?;
    expect_content(cx, "granted/own.txt", "CHANGED!", "the granted file")?;
    Ok(())
}

fn inner_symlink_to_outside_dir_gives_no_access(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    cx.fx.file("outside/hidden.txt", "hidden");
    let link = cx.fx.symlink("granted/to-outside", &outside);
    let run = cx.run().allow(&granted);
    let before = tree(&outside);
    let list = run.op(Op::readdir(&link))?;
    expect_class(&list, Class::Denied, "list an ungranted directory through a symlink")?;
    crate::ensure!(entries(&list).is_empty(), "a denied listing returned {:?}", entries(&list));
    let create = run.op(Op::create(link.join("new.txt")))?;
    expect_class(&create, Class::Denied, "create in an ungranted directory through a symlink")?;
    crate::ensure!(tree(&outside) == before, "the ungranted directory changed: {before:?} became {:?}", tree(&outside));
    let ok = run.op(Op::create(granted.join("new.txt")))?;
    expect_class(&ok, Class::Allowed, "create in the granted directory")?;
    crate::ensure!(cx.fx.exists("granted/new.txt"), "create reported success but no file exists");
    Ok(())
}

fn dir_grant_on_symlink_applies_to_target(cx: &Ctx) -> CaseResult {
    let real = cx.fx.dir("real");
    cx.fx.file("real/f.txt", "real");
    let alias = cx.fx.symlink("links/alias", &real);
    let run = cx.run().allow(&alias);
    for path in [real.join("f.txt"), alias.join("f.txt")] {
        let r = run.op(Op::read(&path))?;
        expect_class(&r, Class::Allowed, &format!("read {}", path.display()))?;
        crate::ensure!(
            r.str_field("content") == Some("real"),
            "read {} returned {:?}",
            path.display(),
            r.str_field("content")
        );
    }
    let ok = run.op(Op::create(real.join("new.txt")))?;
    expect_class(&ok, Class::Allowed, "create in the target through its real path")?;
    crate::ensure!(cx.fx.exists("real/new.txt"), "create reported success but no file exists");
    // The link's own directory is not granted.
    let beside = cx.fx.path("links/beside.txt");
    let r = run.op(Op::create(&beside))?;
    expect_class(&r, Class::Denied, "create beside the symlink that was granted")?;
    crate::ensure!(!cx.fx.exists("links/beside.txt"), "a denied create left a file beside the link");
    Ok(())
}

fn file_grant_on_symlink_applies_to_target(cx: &Ctx) -> CaseResult {
    let real = cx.fx.file("data/real.txt", "real");
    let sibling = cx.fx.file("data/sibling.txt", "sibling");
    let alias = cx.fx.symlink("links/alias.txt", &real);
    let beside = cx.fx.file("links/beside.txt", "beside");
    let run = cx.run().read_file(&alias);
    for path in [&real, &alias] {
        let r = run.op(Op::read(path))?;
        expect_class(&r, Class::Allowed, &format!("read {}", path.display()))?;
        crate::ensure!(
            r.str_field("content") == Some("real"),
            "read {} returned {:?}",
            path.display(),
            r.str_field("content")
        );
    }
    for path in [&sibling, &beside] {
        let r = run.op(Op::read(path))?;
        expect_class(&r, Class::Denied, &format!("read {}", path.display()))?;
    }
    Ok(())
}

fn created_symlink_to_outside_gives_no_write(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let secret = cx.fx.file("outside/secret.txt", "original");
    let link = granted.join("to-secret");
    let run = cx.run().allow(&granted);
    let made = run.op(Op::symlink(&secret, &link))?;
    expect_class(&made, Class::Allowed, "create a symlink to an ungranted file")?;
    crate::ensure!(node_kind(&link) == Some("symlink"), "the new link is {:?} from outside", node_kind(&link));
    let r = run.op(Op::write(&link, "CHANGED!"))?;
    expect_class(&r, Class::Denied, "write through the new symlink")?;
    expect_content(cx, "outside/secret.txt", "original", "the ungranted target")?;
    Ok(())
}

fn created_symlink_to_outside_gives_no_read(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let secret = cx.fx.file("outside/secret.txt", "secret");
    let link = granted.join("to-secret");
    let run = cx.run().allow(&granted);
    let made = run.op(Op::symlink(&secret, &link))?;
    expect_class(&made, Class::Allowed, "create a symlink to an ungranted file")?;
    let value = run.op(Op::readlink(&link))?;
    expect_class(&value, Class::Allowed, "readlink the new symlink")?;
    crate::ensure!(value.str_field("value") == Some(arg(&secret)), "the link points at {:?}", value.str_field("value"));
    let r = run.op(Op::read(&link))?;
    expect_class(&r, Class::Denied, "read through the new symlink")?;
    crate::ensure!(r.str_field("content").is_none(), "a denied read returned content");
    Ok(())
}

fn broken_symlink_read_is_not_found(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.dir("outside");
    cx.fx.file("granted/own.txt", "own");
    let out_broken = cx.fx.symlink("granted/broken-out", &cx.fx.path("outside/missing.txt"));
    let in_broken = cx.fx.symlink("granted/broken-in", &granted.join("missing.txt"));
    let run = cx.run().allow(&granted);
    for link in [&out_broken, &in_broken] {
        let r = run.op(Op::read(link))?;
        expect_class(&r, Class::NotFound, &format!("read through {}", link.display()))?;
    }
    let ok = run.op(Op::read(granted.join("own.txt")))?;
    expect_class(&ok, Class::Allowed, "read a granted file")?;
    Ok(())
}

fn broken_symlink_create_outside_denied(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let outside = cx.fx.dir("outside");
    let out_broken = cx.fx.symlink("granted/broken-out", &outside.join("missing.txt"));
    let in_broken = cx.fx.symlink("granted/broken-in", &granted.join("missing.txt"));
    let run = cx.run().allow(&granted);
    // O_CREAT without O_EXCL follows a dangling symlink and creates its target.
    let r = run.op(Op::creat_trunc(&out_broken))?;
    expect_class(&r, Class::Denied, "create the ungranted target through a broken symlink")?;
    crate::ensure!(tree(&outside).is_empty(), "the denied create left {:?} outside", tree(&outside));
    let ok = run.op(Op::creat_trunc(&in_broken))?;
    expect_class(&ok, Class::Allowed, "create the granted target through a broken symlink")?;
    crate::ensure!(node_kind(&granted.join("missing.txt")) == Some("file"), "the granted target was not created");
    Ok(())
}

fn outer_symlink_into_granted_file_reaches_it(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let target = cx.fx.file("granted/f.txt", "original");
    let secret = cx.fx.file("outside/secret.txt", "secret");
    let alias = cx.fx.symlink("links/to-granted", &target);
    let to_secret = cx.fx.symlink("links/to-secret", &secret);
    let run = cx.run().allow(&granted);
    let r = run.op(Op::read(&alias))?;
    expect_class(&r, Class::Allowed, "read a granted file through an ungranted symlink")?;
    crate::ensure!(r.str_field("content") == Some("original"), "read returned {:?}", r.str_field("content"));
    let w = run.op(Op::write(&alias, "CHANGED!"))?;
    expect_class(&w, Class::Allowed, "write a granted file through an ungranted symlink")?;
    expect_content(cx, "granted/f.txt", "CHANGED!", "the granted file")?;
    let denied = run.op(Op::read(&to_secret))?;
    expect_class(&denied, Class::Denied, "read an ungranted file through a symlink beside it")
}

fn outer_symlink_into_granted_dir_reaches_it(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.file("granted/f.txt", "original");
    let alias = cx.fx.symlink("links/to-granted", &granted);
    let run = cx.run().allow(&granted);
    let list = run.op(Op::readdir(&alias))?;
    expect_class(&list, Class::Allowed, "list a granted directory through an ungranted symlink")?;
    crate::ensure!(entries(&list) == ["f.txt"], "listing gave {:?}", entries(&list));
    let made = run.op(Op::create(alias.join("new.txt")))?;
    expect_class(&made, Class::Allowed, "create in a granted directory through an ungranted symlink")?;
    crate::ensure!(
        node_kind(&granted.join("new.txt")) == Some("file"),
        "the file was not created in the granted directory"
    );
    Ok(())
}
