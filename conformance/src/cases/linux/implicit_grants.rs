//! What the IUT grants without being asked (CORE-IMPLICIT-001): its system grants may write
//! character devices and the program's own descriptors, and at most `/tmp` and `$TMPDIR`.
//! A fresh directory under `/var/tmp` or under the home directory must stay unwritable.
//!
//! `/var/tmp` is deliberately outside the fixture base: the point is a place some sandboxes
//! open by default. The case makes its own directory there and removes it afterwards.

use crate::kit::arg as s;
use crate::case::{CaseResult, Ctx, Family};
use crate::ensure;
use crate::outcome::Class as Outcome;
use crate::runner::{expect_class, Run};
use crate::spec::Class;
use crate::Case;
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    let implicit = Family::new("linux.implicit", Class::Core);
    vec![implicit.case(
        "system_grants_write_devices_but_not_var_tmp_or_home",
        "Under run --allow D, writing /dev/null works while creating a file in a fresh directory under /var/tmp or HOME is denied and leaves nothing",
        &["CORE-IMPLICIT-001"],
        system_grants_write_devices_only,
    )]
}

/// A fresh directory under `/var/tmp`, removed on drop.
struct VarTmpDir(PathBuf);

impl VarTmpDir {
    fn new() -> Result<VarTmpDir, String> {
        let dir = tempfile::Builder::new()
            .prefix("nono-conformance-implicit-")
            .tempdir_in("/var/tmp")
            .map_err(|e| format!("cannot make a directory under /var/tmp in the test process: {e}"))?;
        Ok(VarTmpDir(dir.keep()))
    }
}

impl Drop for VarTmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn expect_create_denied(run: &Run, file: &Path, what: &str) -> CaseResult {
    let r = run.op(["create", s(file)])?;
    expect_class(&r, Outcome::Denied, what)?;
    ensure!(!file.exists(), "{what}: the file exists after the denied create");
    Ok(())
}

fn system_grants_write_devices_only(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let home = cx.fx.dir("home");
    let fresh_home = cx.fx.dir("home/fresh");
    let var_tmp = VarTmpDir::new()?;
    let run = cx.run().allow(&granted).env("HOME", &home).env("TMPDIR", cx.fx.dir("tmpdir"));

    let r = run.op(["write", "/dev/null", "x"])?;
    expect_class(&r, Outcome::Allowed, "control: writing /dev/null, which every implementation grants")?;
    let r = run.op(["create", s(&granted.join("control"))])?;
    expect_class(&r, Outcome::Allowed, "control: creating a file under the --allow grant")?;

    expect_create_denied(&run, &var_tmp.0.join("new"), "create in a fresh directory under /var/tmp")?;
    expect_create_denied(&run, &fresh_home.join("new"), "create in a fresh directory under HOME")?;

    // Control: the same creates work once the directories are granted, so the denials
    // above came from the sandbox, not from the paths.
    let widened = cx.run().allow(&var_tmp.0).allow(&fresh_home).env("HOME", &home);
    for dir in [&var_tmp.0, &fresh_home] {
        let r = widened.op(["create", s(&dir.join("granted"))])?;
        expect_class(&r, Outcome::Allowed, &format!("control: create under an explicit grant of {}", dir.display()))?;
    }
    Ok(())
}
