//! Executing: a read grant includes execute; a program outside every read grant, or in a
//! directory granted write-only, does not run at all.
//!
//! The program executed is a copy of the probe placed in the fixture. When it runs it
//! creates a marker file in a writable directory, so "the program did not run" is checked
//! from outside the sandbox, not taken from an exit code.

use crate::kit::arg as s;
use crate::kit::expect::expect_ran;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::expect_class;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.fs.exec.read_grant_runs_program_ungranted_dir_does_not",
            "A program beneath a read grant runs, and the same program in an ungranted directory is denied and does not run",
            &["FS-EXEC-001", "FS-EXEC-002"],
            read_grant_runs_program_ungranted_dir_does_not,
        ),
        case(
            "linux.fs.exec.read_grant_runs_deeply_nested_program",
            "A read grant on a directory allows executing a program several levels beneath it",
            &["FS-EXEC-001"],
            read_grant_runs_deeply_nested_program,
        ),
        case(
            "linux.fs.exec.write_only_dir_program_does_not_run",
            "A program in a directory granted write-only is denied execution and does not run, while one under a read grant runs",
            &["FS-EXEC-003"],
            write_only_dir_program_does_not_run,
        ),
        case(
            "linux.fs.exec.missing_program_in_granted_dir_is_enoent",
            "Executing a missing program inside a read-granted directory fails with ENOENT, not with a denial",
            &["FS-EXEC-004"],
            missing_program_in_granted_dir_is_enoent,
        ),
        case(
            "linux.fs.exec.ungranted_program_given_to_run_does_not_run",
            "An ungranted program given directly as the program to run does not run (exit 127), while the same program under a read grant does",
            &["FS-EXEC-002", "EXIT-003"],
            ungranted_program_given_to_run_does_not_run,
        ),
    ]
}

fn read_grant_runs_program_ungranted_dir_does_not(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let granted_prog = cx.fx.copy_executable("bin/prog", &cx.probe);
    let ungranted_prog = cx.fx.copy_executable("elsewhere/prog", &cx.probe);
    let out = cx.fx.dir("out");
    let run = cx.run().read(&bin).allow(&out);

    let ok = run.op(Op::exec_probe(&granted_prog, Op::create(out.join("from-granted"))))?;
    expect_ran(&ok, "exec a program beneath a read grant")?;
    crate::ensure!(cx.fx.exists("out/from-granted"), "the granted program reported success but created nothing");

    let denied = run.op(Op::exec_probe(&ungranted_prog, Op::create(out.join("from-ungranted"))))?;
    expect_class(&denied, Class::Denied, "exec a program outside every read grant")?;
    crate::ensure!(
        !cx.fx.exists("out/from-ungranted"),
        "the ungranted program ran: it created its marker file although exec was reported {denied}"
    );
    Ok(())
}

fn read_grant_runs_deeply_nested_program(cx: &Ctx) -> CaseResult {
    let tools = cx.fx.dir("tools");
    let prog = cx.fx.copy_executable("tools/a/b/c/prog", &cx.probe);
    let out = cx.fx.dir("out");
    let run = cx.run().read(&tools).allow(&out);

    let ok = run.op(Op::exec_probe(&prog, Op::create(out.join("marker"))))?;
    expect_ran(&ok, "exec a program three levels beneath a read grant")?;
    crate::ensure!(cx.fx.exists("out/marker"), "the nested program reported success but created nothing");

    // Same run shape, nothing granted on the program's directory: the control that the
    // grant, not some default, let it run.
    let bare = cx.run().allow(&out);
    let denied = bare.op(Op::exec_probe(&prog, Op::create(out.join("marker-ungranted"))))?;
    expect_class(&denied, Class::Denied, "exec the same program without the read grant")?;
    crate::ensure!(!cx.fx.exists("out/marker-ungranted"), "the program ran without any grant on its directory");
    Ok(())
}

fn write_only_dir_program_does_not_run(cx: &Ctx) -> CaseResult {
    let wonly = cx.fx.dir("wonly");
    let prog = cx.fx.copy_executable("wonly/prog", &cx.probe);
    let bin = cx.fx.dir("bin");
    let readable_prog = cx.fx.copy_executable("bin/prog", &cx.probe);
    // The write-only directory is writable, so a program that did run could leave its
    // marker there: the control below proves it.
    let run = cx.run().write(&wonly).read(&bin);

    let ok = run.op(Op::exec_probe(&readable_prog, Op::create(wonly.join("from-readable"))))?;
    expect_ran(&ok, "exec a program beneath a read grant")?;
    crate::ensure!(cx.fx.exists("wonly/from-readable"), "the readable program reported success but created nothing");

    let denied = run.op(Op::exec_probe(&prog, Op::create(wonly.join("from-write-only"))))?;
    expect_class(&denied, Class::Denied, "exec a program in a write-only directory")?;
    crate::ensure!(
        !cx.fx.exists("wonly/from-write-only"),
        "the program in the write-only directory ran and created its marker"
    );
    Ok(())
}

fn missing_program_in_granted_dir_is_enoent(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let prog = cx.fx.copy_executable("bin/prog", &cx.probe);
    let out = cx.fx.dir("out");
    let run = cx.run().read(&bin).allow(&out);

    let missing = run.op(Op::exec_probe(bin.join("no-such-program"), Op::create(out.join("never"))))?;
    expect_class(&missing, Class::NotFound, "exec a missing program in a read-granted directory")?;
    crate::ensure!(!cx.fx.exists("out/never"), "something ran in place of a missing program");

    let ok = run.op(Op::exec_probe(&prog, Op::create(out.join("marker"))))?;
    expect_ran(&ok, "exec an existing program in the same directory")?;
    crate::ensure!(cx.fx.exists("out/marker"), "the existing program reported success but created nothing");
    Ok(())
}

fn ungranted_program_given_to_run_does_not_run(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let prog = cx.fx.copy_executable("bin/prog", &cx.probe);
    let out = cx.fx.dir("out");

    let denied = cx.run().allow(&out).command([s(&prog), "create", s(&out.join("ungranted"))]);
    crate::ensure!(denied.code == 127, "running an ungranted program must fail to execute (127); got {denied}");
    crate::ensure!(denied.probe().is_err(), "the ungranted program printed a result: it ran; {denied}");
    crate::ensure!(denied.stderr.contains(s(&prog)), "stderr must say which program could not be executed; {denied}");
    crate::ensure!(!cx.fx.exists("out/ungranted"), "the ungranted program ran and created its marker; {denied}");

    let ok = cx.run().read(&bin).allow(&out).command([s(&prog), "create", s(&out.join("granted"))]);
    let r = ok.probe()?;
    expect_class(&r, Class::Allowed, "the same program under a read grant")?;
    crate::ensure!(ok.code == 0, "the granted program's run exited {}; {ok}", ok.code);
    crate::ensure!(cx.fx.exists("out/granted"), "the granted program reported success but created nothing");
    Ok(())
}
