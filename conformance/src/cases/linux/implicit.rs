//! Implicit grants (SPEC §20.1): under `run --allow D` alone, the shared temporary
//! directories and the home directory stay closed, and `--dry-run --json` says the same.
//!
//! The fresh directories are created by the suite outside the sandbox (under `/tmp` and
//! `/var/tmp` themselves, which is the point) and removed afterwards; the home directory
//! is a fake one in the fixture root, named by `HOME` for the run.

use super::fs_read::tree;
use super::protected::with_home;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::{Path, PathBuf};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.implicit.tmp_not_readable",
            "Under --allow D alone, reading a file and listing a fresh directory under /tmp are denied and the file is unchanged, while D's file is readable",
            &["SYS-TMP-001"],
            tmp_not_readable,
        ),
        case(
            "linux.implicit.tmp_not_writable",
            "Under --allow D alone, creating a file in a fresh directory under /tmp is denied and leaves nothing, while creating one in D works",
            &["SYS-TMP-003"],
            tmp_not_writable,
        ),
        case(
            "linux.implicit.var_tmp_and_home_closed",
            "Under --allow D alone, creating and reading files in fresh directories under /var/tmp and under HOME are denied and change nothing, while D takes a file",
            &["SYS-HOME-001"],
            var_tmp_and_home_closed,
        ),
        case(
            "linux.implicit.dry_run_json_lists_grants_with_reasons",
            "--dry-run --json lists every grant with path, access and reason (for /usr/bin and /dev/null, each one's own system policy group), D as read+write, and nothing reaching /tmp, /var/tmp or HOME",
            &["SYS-DRY-001"],
            dry_run_json_lists_grants_with_reasons,
        ),
    ]
}

/// A directory the suite creates under a shared zone, removed when dropped.
pub(super) fn fresh_dir_in(zone: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("nono-conformance-")
        .tempdir_in(zone)
        .map_err(|e| format!("cannot create a fresh directory under {zone} from outside the sandbox: {e}"))
}

/// A run granting only D, with HOME pointing at a fake home in the fixture.
fn run_with_d(cx: &Ctx) -> (Run, PathBuf, PathBuf) {
    let d = cx.fx.dir("d");
    let home = cx.fx.dir("home");
    let run = with_home(cx.run(), &home).allow(&d).current_dir(&d);
    (run, d, home)
}

/// Creating `dir/new` is denied and `dir` is unchanged; reading `dir/secret.txt` is denied.
fn expect_closed(run: &Run, dir: &Path, what: &str) -> CaseResult {
    std::fs::write(dir.join("secret.txt"), "secret").map_err(|e| format!("writing the fixture in {what}: {e}"))?;
    let before = tree(dir);
    let created = run.op(Op::create(dir.join("new")))?;
    expect_class(&created, Class::Denied, &format!("create a file in a fresh directory under {what}"))?;
    let read = run.op(Op::read(dir.join("secret.txt")))?;
    expect_class(&read, Class::Denied, &format!("read a file in a fresh directory under {what}"))?;
    crate::ensure!(read.str_field("content").is_none(), "a denied read returned content");
    crate::ensure!(tree(dir) == before, "{what}: the fresh directory changed: {:?}", tree(dir));
    Ok(())
}

fn expect_d_works(run: &Run, d: &Path) -> CaseResult {
    let ok = run.op(Op::create(d.join("made-in-d")))?;
    expect_class(&ok, Class::Allowed, "control: create a file in D")?;
    crate::ensure!(d.join("made-in-d").exists(), "control: create reported ok but no file exists");
    Ok(())
}

fn tmp_not_readable(cx: &Ctx) -> CaseResult {
    let (run, d, _) = run_with_d(cx);
    let fresh = fresh_dir_in("/tmp")?;
    let secret = fresh.path().join("secret.txt");
    std::fs::write(&secret, "secret").map_err(|e| e.to_string())?;
    let read = run.op(Op::read(&secret))?;
    expect_class(&read, Class::Denied, "read a file in a fresh directory under /tmp")?;
    crate::ensure!(read.str_field("content").is_none(), "a denied read returned content");
    let list = run.op(Op::readdir(fresh.path()))?;
    expect_class(&list, Class::Denied, "list a fresh directory under /tmp")?;
    crate::ensure!(std::fs::read_to_string(&secret).ok().as_deref() == Some("secret"), "the /tmp file changed");
    std::fs::write(d.join("mine.txt"), "mine").map_err(|e| e.to_string())?;
    let ok = run.op(Op::read(d.join("mine.txt")))?;
    expect_class(&ok, Class::Allowed, "control: read a file in D")
}

fn tmp_not_writable(cx: &Ctx) -> CaseResult {
    let (run, d, _) = run_with_d(cx);
    let fresh = fresh_dir_in("/tmp")?;
    let target = fresh.path().join("new");
    let created = run.op(Op::create(&target))?;
    expect_class(&created, Class::Denied, "create a file in a fresh directory under /tmp")?;
    crate::ensure!(tree(fresh.path()).is_empty(), "the denied create left {:?}", tree(fresh.path()));
    expect_d_works(&run, &d)
}

fn var_tmp_and_home_closed(cx: &Ctx) -> CaseResult {
    let (run, d, home) = run_with_d(cx);
    let fresh = fresh_dir_in("/var/tmp")?;
    expect_closed(&run, fresh.path(), "/var/tmp")?;
    let in_home = home.join("fresh");
    std::fs::create_dir_all(&in_home).map_err(|e| e.to_string())?;
    expect_closed(&run, &in_home, "HOME")?;
    // HOME itself: a new file at its top is denied too.
    let top = run.op(Op::create(home.join("new-at-top")))?;
    expect_class(&top, Class::Denied, "create a file directly in HOME")?;
    crate::ensure!(!home.join("new-at-top").exists(), "the denied create left a file in HOME");
    expect_d_works(&run, &d)
}

fn dry_run_json_lists_grants_with_reasons(cx: &Ctx) -> CaseResult {
    let (run, d, home) = run_with_d(cx);
    let out = run.arg("--dry-run").arg("--json").command(["true"]);
    crate::ensure!(out.code == 0, "--dry-run --json must exit 0; {out}");
    let doc: serde_json::Value =
        serde_json::from_str(out.stdout.trim()).map_err(|e| format!("stdout is not one JSON object ({e}); {out}"))?;
    let grants = doc["grants"].as_array().ok_or_else(|| format!("no `grants` list; {out}"))?;
    crate::ensure!(!grants.is_empty(), "the `grants` list is empty");
    let zones = [Path::new("/tmp"), Path::new("/var/tmp"), home.as_path()];
    let mut d_listed = false;
    for g in grants {
        let path = g["path"].as_str().ok_or_else(|| format!("a grant without `path`: {g}"))?;
        let access = g["access"].as_str().unwrap_or_default();
        crate::ensure!(["read", "write", "read+write"].contains(&access), "grant {path}: access {access:?} is not read, write or read+write");
        crate::ensure!(g["reason"].as_str().is_some_and(|r| !r.trim().is_empty()), "grant {path} gives no reason: {g}");
        let resolved = g["resolved"].as_str().unwrap_or(path);
        for p in [Path::new(path), Path::new(resolved)] {
            if let Some(zone) = zones.iter().find(|z| p.starts_with(z) || z.starts_with(p)) {
                return Err(format!("grant {path} reaches {} without a flag asking for it: {g}", zone.display()));
            }
        }
        d_listed |= Path::new(resolved) == d && access == "read+write";
    }
    crate::ensure!(d_listed, "D ({}) is not listed as read+write", d.display());
    // The reason of the grant on `resolved` (`/bin` is `/usr/bin` on a merged-/usr system,
    // so grants are matched on the resolved path).
    let reason_of = |resolved: &str| grants.iter().find(|g| g["resolved"] == resolved).and_then(|g| g["reason"].as_str());
    // A system grant names the policy group it comes from (nono's groups are `system_read_*`
    // for what every program reads), not only that it exists.
    let reason = reason_of("/usr/bin").ok_or_else(|| format!("/usr/bin, where programs live, is not listed; {out}"))?;
    crate::ensure!(reason.contains("system_read"), "the /usr/bin grant does not name its policy group (system_read_...): {reason:?}");
    // Each system grant names its own group: /dev/null is writable because of nono's
    // `system_write_linux`, which no read-only grant comes from.
    let device = reason_of("/dev/null").ok_or_else(|| format!("/dev/null, writable for every program, is not listed; {out}"))?;
    crate::ensure!(device.contains("system_write"), "the /dev/null grant does not name the group that makes it writable (system_write_...): {device:?}");
    crate::ensure!(!reason.contains("system_write"), "the read-only /usr/bin grant names a write group: {reason:?}");
    Ok(())
}
