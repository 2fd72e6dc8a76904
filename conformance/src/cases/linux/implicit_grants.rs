//! What the IUT grants without being asked (CORE-IMPLICIT-001): its system grants may write
//! character devices and the program's own descriptors, and at most `/tmp` and `$TMPDIR`.
//! A fresh directory under `/var/tmp`, under `/dev/shm` (a tmpfs every process may write,
//! and a favourite of programs that want shared memory) or under the home directory must
//! stay unwritable.
//!
//! `/var/tmp` and `/dev/shm` are deliberately outside the fixture base: the point is places
//! some sandboxes open by default. The case makes its own directories there and removes
//! them afterwards.

use crate::case::{CaseResult, Ctx, Family};
use crate::ensure;
use crate::outcome::Class as Outcome;
use crate::runner::{expect_class, Run};
use crate::spec::Class;
use crate::Case;
use super::implicit::fresh_dir_in;
use std::path::Path;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let implicit = Family::new("linux.implicit", Class::Core);
    vec![implicit.case(
        "system_grants_write_devices_but_not_var_tmp_or_home",
        "Under run --allow D, writing /dev/null works while creating a file in a fresh directory under /var/tmp, /dev/shm or HOME is denied and leaves nothing",
        &["CORE-IMPLICIT-001"],
        system_grants_write_devices_only,
    )]
}

fn expect_create_denied(run: &Run, file: &Path, what: &str) -> CaseResult {
    let r = run.op(Op::create(file))?;
    expect_class(&r, Outcome::Denied, what)?;
    ensure!(!file.exists(), "{what}: the file exists after the denied create");
    Ok(())
}

fn system_grants_write_devices_only(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let home = cx.fx.dir("home");
    let fresh_home = cx.fx.dir("home/fresh");
    let var_tmp = fresh_dir_in("/var/tmp")?;
    let shm = fresh_dir_in("/dev/shm")?;
    let run = cx.run().allow(&granted).env("HOME", &home).env("TMPDIR", cx.fx.dir("tmpdir"));

    let r = run.op(Op::write("/dev/null", "x"))?;
    expect_class(&r, Outcome::Allowed, "control: writing /dev/null, which every implementation grants")?;
    let r = run.op(Op::create(granted.join("control")))?;
    expect_class(&r, Outcome::Allowed, "control: creating a file under the --allow grant")?;

    expect_create_denied(&run, &var_tmp.path().join("new"), "create in a fresh directory under /var/tmp")?;
    expect_create_denied(&run, &shm.path().join("new"), "create in a fresh directory under /dev/shm")?;
    expect_create_denied(&run, &fresh_home.join("new"), "create in a fresh directory under HOME")?;

    // Control: the same creates work once the directories are granted, so the denials
    // above came from the sandbox, not from the paths.
    let widened = cx.run().allow(var_tmp.path()).allow(shm.path()).allow(&fresh_home).env("HOME", &home);
    for dir in [var_tmp.path(), shm.path(), fresh_home.as_path()] {
        let r = widened.op(Op::create(dir.join("granted")))?;
        expect_class(&r, Outcome::Allowed, &format!("control: create under an explicit grant of {}", dir.display()))?;
    }
    Ok(())
}
