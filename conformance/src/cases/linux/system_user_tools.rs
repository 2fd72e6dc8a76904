//! Programs installed for the user (SPEC §20.1, SYS-READ-005): nono's `user_tools` group
//! makes `$HOME/.local/bin` readable, so that tools installed with `pip install --user` or
//! `pipx` start under the sandbox. The grant follows `HOME` and is read-only, and the rest
//! of the home directory stays closed.

use crate::case::{CaseResult, Ctx, Family};
use crate::outcome::Class as Outcome;
use crate::runner::expect_class;
use crate::spec::Class;
use crate::Case;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let system = Family::new("linux.system", Class::Core);
    vec![system.case(
        "user_tools_in_home_readable",
        "Under --allow D alone with HOME=H, a file in H/.local/bin is readable, while creating a file there and reading a file elsewhere in H are denied",
        &["SYS-READ-005", "SYS-HOME-001"],
        user_tools_in_home_readable,
    )]
}

fn user_tools_in_home_readable(cx: &Ctx) -> CaseResult {
    let tool = cx.fx.file("home/.local/bin/tool", "#!/bin/sh\necho tool\n");
    let private = cx.fx.file("home/private.txt", "private");
    let d = cx.fx.dir("d");
    let run = cx.run().allow(&d).current_dir(&d).env("HOME", cx.fx.path("home"));

    let read = run.op(Op::read(&tool))?;
    expect_class(&read, Outcome::Allowed, "read H/.local/bin/tool")?;
    crate::ensure!(read.str_field("content") == Some("#!/bin/sh\necho tool\n"), "read H/.local/bin/tool returned {:?}", read.str_field("content"));

    let planted = tool.with_file_name("planted");
    let create = run.op(Op::create(&planted))?;
    expect_class(&create, Outcome::Denied, "create a file in H/.local/bin (the grant is read-only)")?;
    crate::ensure!(!planted.exists(), "the denied create left {}", planted.display());

    let other = run.op(Op::read(&private))?;
    expect_class(&other, Outcome::Denied, "read H/private.txt, outside H/.local/bin")
}
