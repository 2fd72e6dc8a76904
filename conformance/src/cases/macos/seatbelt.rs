//! Seatbelt's own cases: the `/tmp` spelling, sensitive paths inside grants and the rename
//! and directory-swap bypasses they must resist, keychain Mach lookups, and nesting.
//!
//! Not cases, but a platform note (seed 004, SB-APPLY-010): a sandbox extension token
//! consumed before `execve(2)` does not survive it, while a descriptor received over
//! `SCM_RIGHTS` does. Two cases used to record this by running `nono-macos-helper`
//! directly (`ext-issue`, `sandbox-self`, `recv-fd-then-exec`). They never invoked the
//! implementation under test, so a change in macOS would have failed them with no IUT
//! defect (coverage review §4); the helper keeps those operations for anyone who wants to
//! re-check the platform by hand. What an implementation does with the observation is
//! SB-APPLY-010, a SHOULD; the descriptor path itself is tested through the IUT by the
//! supervisor cases (`macos.ipc.request.*`).
//!
//! Seatbelt rules name paths, not objects. A denied file whose name (or whose parent's
//! name) can be changed escapes its rule, which is why a sensitive-path rule must also
//! lock every directory above the path against renaming.
//!
//! What survives `execve(2)` (extension tokens do not, descriptors do) is platform
//! behaviour, not an implementation's; it is described in `docs/platform-notes.md`.

use super::{arg, expect_allowed, expect_denied, helper, tree};
use crate::kit::expect::expect_not_allowed;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::ProbeResult;
use crate::runner::RunOutput;
use std::path::{Path, PathBuf};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "macos.seatbelt.tmp_grant_works_by_either_spelling",
            "A grant spelled through /tmp is honoured for /tmp/... and /private/tmp/..., for reading and creating",
            &["SB-APPLY-002", "SB-GEN-010"],
            tmp_either_spelling,
        ),
        case(
            "macos.seatbelt.sensitive_path_inside_grant_stays_denied",
            "A sensitive directory inside a read-write grant stays unreadable (extended attributes included) and unwritable, its metadata visible and its siblings usable",
            &["SB-APPLY-003", "SB-GEN-019"],
            sensitive_path_inside_grant,
        ),
        case(
            "macos.seatbelt.read_bypass_by_renaming_the_denied_file",
            "Renaming a denied file to an undenied name is refused, so it cannot be read under the new name",
            &["SB-APPLY-004", "SB-GEN-019"],
            rename_denied_file,
        ),
        case(
            "macos.seatbelt.read_bypass_by_renaming_the_parent",
            "Renaming the directory holding a denied file is refused, so the file cannot be read under the new path",
            &["SB-APPLY-004", "SB-GEN-019"],
            rename_parent_of_denied_file,
        ),
        case(
            "macos.seatbelt.read_bypass_by_renaming_an_ancestor",
            "Renaming a denied directory, or a directory two levels above it, is refused",
            &["SB-APPLY-004", "SB-GEN-019"],
            rename_ancestor_of_denied_dir,
        ),
        case(
            "macos.seatbelt.write_bypass_by_swapping_a_directory",
            "Moving the directory of a write-denied file away, writing, and moving it back fails at the first step and the file is unchanged",
            &["SB-APPLY-005", "SB-GEN-019"],
            directory_swap,
        ),
        case(
            "macos.seatbelt.keychain_lookup_needs_an_explicit_database_grant",
            "com.apple.SecurityServer is unreachable without a keychain database grant or with only a directory grant, reachable with the database granted",
            &["SB-APPLY-006", "SB-GEN-015"],
            keychain_lookup,
        ),
        case(
            "macos.seatbelt.nested_run_is_refused_not_run",
            "Run inside its own sandbox, the IUT refuses with exit 1 or 126, runs nothing and creates nothing",
            &["SB-NEST-001"],
            nested_run_refused,
        ),
        case(
            "macos.seatbelt.nested_refusal_names_nesting",
            "The refusal of a nested run says on stderr that Seatbelt sandboxes cannot be nested",
            &["SB-NEST-002"],
            nested_refusal_names_nesting,
        ),
    ]
}

fn tmp_either_spelling(cx: &Ctx) -> CaseResult {
    // Only allowed operations happen under /tmp; the denial control uses the fixture root.
    let tmp = tempfile::Builder::new()
        .prefix("nono-conformance-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("creating a directory under /tmp: {e}"))?;
    let spelled = tmp.path().to_path_buf();
    crate::ensure!(
        spelled.starts_with("/tmp"),
        "tempdir_in(/tmp) gave {}",
        spelled.display()
    );
    let private = Path::new("/private").join(spelled.strip_prefix("/").unwrap());
    std::fs::write(spelled.join("f"), "via-tmp").map_err(|e| e.to_string())?;
    std::fs::create_dir(spelled.join("w")).map_err(|e| e.to_string())?;
    let secret = cx.fx.file("secret/s", "no");
    let run = cx
        .run()
        .read_file(spelled.join("f"))
        .allow(spelled.join("w"));
    for path in [spelled.join("f"), private.join("f")] {
        let r = run.op(Op::read(&path))?;
        expect_allowed(&r, &format!("read {}", path.display()))?;
        crate::ensure!(
            r.str_field("content") == Some("via-tmp"),
            "wrong content: {r:?}"
        );
    }
    expect_allowed(
        &run.op(Op::create(spelled.join("w/a")))?,
        "create through the /tmp spelling",
    )?;
    expect_allowed(
        &run.op(Op::create(private.join("w/b")))?,
        "create through the /private/tmp spelling",
    )?;
    crate::ensure!(
        spelled.join("w/a").exists() && spelled.join("w/b").exists(),
        "create reported ok but nothing exists"
    );
    expect_denied(
        &run.op(Op::read(&secret))?,
        "read outside every grant in the same run (control)",
    )
}

fn sensitive_path_inside_grant(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let key = cx.fx.file("w/secret/key", "k1");
    let public = cx.fx.file("w/pub.txt", "public");
    for file in [&key, &public] {
        set_xattr(file, XATTR, "attribute-secret")?;
    }
    let before = tree(&w.join("secret"));
    let run = cx.run().allow(&w).arg("--deny").arg(w.join("secret"));
    expect_allowed(
        &run.op(Op::read(&public))?,
        "read a sibling of the sensitive directory",
    )?;
    expect_allowed(
        &run.op(Op::write(&public, "P"))?,
        "write a sibling of the sensitive directory",
    )?;
    expect_denied(
        &run.op(Op::read(&key))?,
        "read inside the sensitive directory",
    )?;
    expect_denied(
        &run.op(Op::write(&key, "X"))?,
        "write inside the sensitive directory",
    )?;
    expect_denied(
        &run.op(Op::create(w.join("secret/new")))?,
        "create inside the sensitive directory",
    )?;
    expect_denied(
        &run.op(Op::readdir(w.join("secret")))?,
        "list the sensitive directory",
    )?;
    let meta = run.op(Op::stat(&key))?;
    expect_allowed(
        &meta,
        "stat inside the sensitive directory (metadata stays visible)",
    )?;
    crate::ensure!(
        meta.str_field("kind") == Some("file"),
        "stat reported {meta:?}"
    );
    // Extended attributes are content too (file-read-xattr): denied inside, read beside.
    let beside = run.op(Op::getxattr(&public, XATTR))?;
    expect_allowed(&beside, "read an extended attribute of a sibling")?;
    crate::ensure!(beside.str_field("content") == Some("attribute-secret"), "getxattr returned {beside:?}");
    expect_denied(
        &run.op(Op::getxattr(&key, XATTR))?,
        "read an extended attribute inside the sensitive directory",
    )?;
    crate::ensure!(
        tree(&w.join("secret")) == before,
        "the sensitive directory changed: {:?}",
        tree(&w.join("secret"))
    );
    Ok(())
}

/// An extended attribute name the cases set from outside the sandbox.
const XATTR: &str = "org.nono-conformance.test";

/// Sets an extended attribute with macOS's own `xattr` tool, outside the sandbox.
fn set_xattr(file: &Path, name: &str, value: &str) -> CaseResult {
    let mut xattr = std::process::Command::new("/usr/bin/xattr");
    xattr.args(["-w", name, value]).arg(file);
    let out = crate::kit::spawn::output(xattr).map_err(|e| format!("cannot run /usr/bin/xattr: {e}"))?;
    crate::ensure!(
        out.status.success(),
        "setting {name} on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn rename_denied_file(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let secret = cx.fx.file("w/secret.txt", "s3cret");
    let plain = cx.fx.file("w/plain.txt", "plain");
    let run = cx.run().allow(&w).arg("--deny-file").arg(&secret);
    expect_allowed(
        &run.op(Op::rename(&plain, w.join("plain2.txt")))?,
        "rename an ordinary file (control)",
    )?;
    expect_denied(&run.op(Op::read(&secret))?, "read the denied file")?;
    expect_denied(
        &run.op(Op::rename(&secret, w.join("open.txt")))?,
        "rename the denied file",
    )?;
    expect_not_allowed(
        &run.op(Op::read(w.join("open.txt")))?,
        "read the denied file under a new name",
    )?;
    crate::ensure!(
        cx.fx.read("w/secret.txt").as_deref() == Some("s3cret") && !cx.fx.exists("w/open.txt"),
        "the denied file moved"
    );
    Ok(())
}

fn rename_parent_of_denied_file(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let secret = cx.fx.file("w/d/secret.txt", "s3cret");
    cx.fx.file("w/c/ordinary.txt", "x");
    let run = cx.run().allow(&w).arg("--deny-file").arg(&secret);
    expect_allowed(
        &run.op(Op::rename(w.join("c"), w.join("c2")))?,
        "rename an ordinary directory (control)",
    )?;
    expect_denied(
        &run.op(Op::rename(w.join("d"), w.join("e")))?,
        "rename the denied file's directory",
    )?;
    expect_not_allowed(
        &run.op(Op::read(w.join("e/secret.txt")))?,
        "read the denied file under the new directory name",
    )?;
    expect_denied(
        &run.op(Op::read(&secret))?,
        "read the denied file where it is",
    )?;
    crate::ensure!(
        cx.fx.read("w/d/secret.txt").as_deref() == Some("s3cret") && !cx.fx.exists("w/e"),
        "the directory moved"
    );
    Ok(())
}

fn rename_ancestor_of_denied_dir(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let vault = cx.fx.dir("w/a/b/vault");
    cx.fx.file("w/a/b/vault/key", "k");
    cx.fx.dir("w/y");
    let run = cx.run().allow(&w).arg("--deny").arg(&vault);
    expect_allowed(
        &run.op(Op::rename(w.join("y"), w.join("y2")))?,
        "rename an ordinary directory (control)",
    )?;
    expect_denied(
        &run.op(Op::rename(&vault, w.join("a/b/open")))?,
        "rename the denied directory itself",
    )?;
    expect_denied(
        &run.op(Op::rename(w.join("a"), w.join("z")))?,
        "rename a directory two levels above it",
    )?;
    expect_not_allowed(
        &run.op(Op::read(w.join("z/b/vault/key")))?,
        "read the key under the new path",
    )?;
    crate::ensure!(
        cx.fx.read("w/a/b/vault/key").as_deref() == Some("k") && !cx.fx.exists("w/z"),
        "something moved"
    );
    Ok(())
}

fn directory_swap(cx: &Ctx) -> CaseResult {
    let w = cx.fx.dir("w");
    let guarded = cx.fx.file("w/a/b", "original");
    let run = cx.run().allow(&w).arg("--deny-file").arg(&guarded);
    expect_allowed(
        &run.op(Op::create(w.join("a/other")))?,
        "create beside the guarded file (control)",
    )?;
    expect_denied(
        &run.op(Op::write(&guarded, "PWNED"))?,
        "write the guarded file directly",
    )?;
    expect_denied(
        &run.op(Op::rename(w.join("a"), w.join("c")))?,
        "move its directory away",
    )?;
    expect_not_allowed(
        &run.op(Op::write(w.join("c/b"), "PWNED"))?,
        "write it under the moved directory",
    )?;
    expect_not_allowed(
        &run.op(Op::rename(w.join("c"), w.join("a")))?,
        "move the directory back",
    )?;
    crate::ensure!(
        cx.fx.read("w/a/b").as_deref() == Some("original"),
        "the guarded file changed: {:?}",
        cx.fx.read("w/a/b")
    );
    crate::ensure!(!cx.fx.exists("w/c"), "the directory was moved");
    Ok(())
}

/// Runs the macOS helper inside the IUT's sandbox and returns its result.
fn helper_result(out: &RunOutput) -> Result<ProbeResult, String> {
    out.probe()
}

fn keychain_lookup(cx: &Ctx) -> CaseResult {
    let home = cx.fx.dir("home");
    let keychains = cx.fx.dir("home/Library/Keychains");
    let db = cx.fx.file(
        "home/Library/Keychains/login.keychain-db",
        "not a real keychain",
    );
    let helper = helper(cx);
    let lookup = |run: crate::runner::Run, service: &str| -> Result<ProbeResult, String> {
        helper_result(&run.env("HOME", &home).read_file(&helper).command([
            arg(&helper),
            "mach-lookup",
            service,
        ]))
    };
    let security = "com.apple.SecurityServer";
    let notify = "com.apple.system.notification_center";

    let control = lookup(cx.run(), notify)?;
    crate::ensure!(
        control.ok,
        "another Mach service must stay reachable (control): {control}"
    );
    let without = lookup(cx.run(), security)?;
    crate::ensure!(
        !without.ok,
        "{security} was reachable without a keychain grant: {without:?}"
    );
    let dir_only = lookup(cx.run().read(&keychains), security)?;
    crate::ensure!(
        !dir_only.ok,
        "{security} was reachable with only the Keychains directory granted: {dir_only:?}"
    );
    let with = lookup(cx.run().read_file(&db), security)?;
    crate::ensure!(
        with.ok,
        "{security} stayed unreachable with the database granted explicitly: {with:?}"
    );
    Ok(())
}

/// The outer run for nesting: the IUT, the probe and the fixture tree are readable.
fn outer(cx: &Ctx) -> crate::runner::Run {
    cx.run()
        .read_file(&cx.imp.path)
        .read_file(&cx.probe)
        .read(cx.fx.root())
}

/// Runs the IUT inside its own sandbox, after checking that it can start there at all
/// (a dry run), so that a refusal is about nesting and nothing else.
fn nested_run(cx: &Ctx) -> Result<(RunOutput, PathBuf), String> {
    let inner = cx.fx.dir("inner");
    let marker = inner.join("created");
    let imp = arg(&cx.imp.path);
    let probe = arg(&cx.probe);
    let dry = outer(cx).command([
        imp,
        "run",
        "--dry-run",
        "--allow",
        arg(&inner),
        "--",
        probe,
        "create",
        arg(&marker),
    ]);
    crate::ensure!(
        dry.code == 0,
        "the IUT cannot even start inside its own sandbox (its dry run failed), so nesting cannot be judged; {dry}"
    );
    let out = outer(cx).command([
        imp,
        "run",
        "--allow",
        arg(&inner),
        "--read-file",
        probe,
        "--",
        probe,
        "create",
        arg(&marker),
    ]);
    Ok((out, marker))
}

fn nested_run_refused(cx: &Ctx) -> CaseResult {
    let (out, marker) = nested_run(cx)?;
    crate::ensure!(
        out.code == 1 || out.code == 126,
        "a nested run must be refused with exit 1 or 126; {out}"
    );
    crate::ensure!(
        out.probe().is_err(),
        "the program ran inside a nested sandbox; {out}"
    );
    crate::ensure!(!marker.exists(), "the nested run created a file");
    Ok(())
}

fn nested_refusal_names_nesting(cx: &Ctx) -> CaseResult {
    let (out, _) = nested_run(cx)?;
    crate::ensure!(out.code != 0, "the nested run succeeded; {out}");
    crate::ensure!(
        out.stderr.to_lowercase().contains("nest"),
        "the refusal does not mention nesting; {out}"
    );
    Ok(())
}
