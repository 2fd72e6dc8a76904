//! The run contract: exit codes, usage errors, grants on missing paths, `--dry-run`,
//! `conformance-info`, and the refusal to run without Landlock.
//!
//! "The program did not run" is always checked by a side effect seen from outside: the probe
//! would have created a marker file in a writable grant, and a control run without the
//! offending flag shows that it does.

use crate::kit::arg as s;
use crate::kit::expect::{expect_not_executed_naming, expect_not_run};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let mut out = vec![];
    for code in [0, 1, 42, 255] {
        out.push(case(
            format!("linux.exit.program_exit_code_{code}_is_passed_through"),
            "The IUT exits with the program's own exit code",
            &["EXIT-001"],
            move |cx: &Ctx| program_exit_code_is_passed_through(cx, code),
        ));
    }
    for (name, sig) in [("sigkill", 9), ("sigterm", 15), ("sigabrt", 6)] {
        out.push(case(
            format!("linux.exit.program_killed_by_{name}_is_128_plus_n"),
            "When the program is killed by signal N the IUT exits with 128+N",
            &["EXIT-002"],
            move |cx: &Ctx| program_killed_by_signal(cx, sig),
        ));
    }
    out.extend([
        case(
            "linux.exit.missing_program_path_is_127",
            "A program path that does not exist is not run: the IUT exits 1 or 127 and names the program on stderr",
            &["EXIT-003"],
            missing_program_path_is_127,
        ),
        case(
            "linux.exit.program_not_on_path_is_127",
            "A bare program name found nowhere on PATH: the IUT exits 1 or 127 and names the program on stderr",
            &["EXIT-003"],
            program_not_on_path_is_127,
        ),
        case(
            "linux.exit.non_executable_file_is_127",
            "A readable file without execute permission given as the program does not run: the IUT exits 1 or 127 and names it on stderr",
            &["EXIT-003"],
            non_executable_file_is_127,
        ),
        case(
            "linux.exit.directory_as_program_is_127",
            "A directory given as the program: the IUT exits 1 or 127 and names it on stderr",
            &["EXIT-003"],
            directory_as_program_is_127,
        ),
    ]);
    for (slug, flag) in [("plain", false), ("with_value", true)] {
        out.push(case(
            format!("linux.cli.unknown_flag_{slug}_is_usage_error"),
            "An unknown flag is a usage error: exit 2, a message naming the flag, and the program does not run",
            &["CLI-BAD-001"],
            move |cx: &Ctx| unknown_flag_is_usage_error(cx, flag),
        ));
    }
    for (slug, flag, is_file) in [("dir", "--allow", false), ("file", "--allow-file", true)] {
        out.push(case(
            format!("linux.cli.missing_{slug}_grant_grants_nothing_and_is_named"),
            "A grant on a path that does not exist grants nothing (the path cannot be created through it) and the IUT names the path on stderr",
            &["CLI-BAD-002"],
            move |cx: &Ctx| missing_grant_grants_nothing_and_is_named(cx, flag, is_file),
        ));
    }
    for (slug, flag) in [
        ("allow", "--allow"),
        ("read", "--read"),
        ("write", "--write"),
        ("allow_file", "--allow-file"),
        ("read_file", "--read-file"),
        ("write_file", "--write-file"),
    ] {
        out.push(case(
            format!("linux.cli.missing_path_for_{slug}_is_error_exit_1"),
            "A grant on a path that does not exist is an error: exit 1, the path named on stderr, and the program does not run",
            &["CLI-BAD-003"],
            move |cx: &Ctx| missing_path_is_error_exit_1(cx, flag),
        ));
    }
    out.extend([
        case(
            "linux.cli.dry_run_exits_0_without_running",
            "--dry-run exits 0 and the program does not run, while the same flags without --dry-run run it",
            &["CLI-DRY-001"],
            dry_run_exits_0_without_running,
        ),
        case(
            "linux.cli.dry_run_ignores_program_exit_code",
            "--dry-run exits 0 even when the program would exit non-zero, because the program does not run",
            &["CLI-DRY-001"],
            dry_run_ignores_program_exit_code,
        ),
        case(
            "linux.cli.dry_run_lists_user_and_system_grants",
            "--dry-run -v output lists every granted path, including the minimal system grant on /usr",
            &["CLI-DRY-002"],
            dry_run_lists_user_and_system_grants,
        ),
    ]);
    out
}

/// A run whose working directory is inside the fixture (so nothing, not even a core file,
/// lands elsewhere).
fn run_in_fixture(cx: &Ctx) -> Run {
    cx.run().current_dir(cx.fx.dir("cwd"))
}

/// Control: under `run` the probe creates `marker_rel`, so its absence elsewhere means
/// the program did not run.
fn expect_marker_created(cx: &Ctx, run: &Run, marker_rel: &str) -> CaseResult {
    let r = run.op(Op::create(cx.fx.path(marker_rel)))?;
    expect_class(&r, Class::Allowed, "control: the same program without the offending flag")?;
    crate::ensure!(cx.fx.exists(marker_rel), "control: create reported ok but {marker_rel} does not exist");
    Ok(())
}

fn program_exit_code_is_passed_through(cx: &Ctx, code: i32) -> CaseResult {
    let out = run_in_fixture(cx).probe(Op::exit(code));
    crate::ensure!(out.code == code, "the program exited {code}; the IUT must too; {out}");
    Ok(())
}

fn program_killed_by_signal(cx: &Ctx, sig: i32) -> CaseResult {
    let out = run_in_fixture(cx).probe(Op::kill_self(sig));
    crate::ensure!(out.probe().is_err(), "the probe survived signal {sig}; {out}");
    crate::ensure!(out.code == 128 + sig, "the program died of signal {sig}; the IUT must exit {}; {out}", 128 + sig);
    Ok(())
}

fn missing_program_path_is_127(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let missing = bin.join("no-such-program");
    let out = run_in_fixture(cx).read(&bin).command([s(&missing)]);
    expect_not_executed_naming(&out, s(&missing))
}

fn program_not_on_path_is_127(cx: &Ctx) -> CaseResult {
    let name = "nono-conformance-no-such-program";
    let out = run_in_fixture(cx).command([name]);
    expect_not_executed_naming(&out, name)
}

fn non_executable_file_is_127(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let file = cx.fx.file("bin/not-executable", "#!/bin/sh\necho ran\n");
    let out = run_in_fixture(cx).read(&bin).command([s(&file)]);
    crate::ensure!(!out.stdout.contains("ran"), "the non-executable file ran; {out}");
    expect_not_executed_naming(&out, s(&file))
}

fn directory_as_program_is_127(cx: &Ctx) -> CaseResult {
    let bin = cx.fx.dir("bin");
    let dir = cx.fx.dir("bin/a-directory");
    let out = run_in_fixture(cx).read(&bin).command([s(&dir)]);
    expect_not_executed_naming(&out, s(&dir))
}

fn unknown_flag_is_usage_error(cx: &Ctx, with_value: bool) -> CaseResult {
    let flag = "--no-such-flag-for-conformance";
    let given = if with_value { format!("{flag}=value") } else { flag.to_string() };
    let out = cx.fx.dir("out");
    let bad = cx.run().allow(&out).arg(&given).probe(Op::create(out.join("marker")));
    crate::ensure!(bad.code == 2, "an unknown flag must exit 2; {bad}");
    crate::ensure!(bad.stderr.contains(flag), "stderr must name the unknown flag {flag}; {bad}");
    expect_not_run(cx, &bad, "out/marker", "unknown flag")?;
    expect_marker_created(cx, &cx.run().allow(&out), "out/control")
}

fn missing_grant_grants_nothing_and_is_named(cx: &Ctx, flag: &str, is_file: bool) -> CaseResult {
    let real = cx.fx.dir("real");
    let missing = cx.fx.path("missing");
    let run = cx.run().allow(&real).arg(flag).arg(&missing);
    // Try to bring the missing path into existence through the grant that named it.
    let op = if is_file { Op::create(&missing) } else { Op::mkdir(&missing) };
    let out = run.probe(&op);
    crate::ensure!(out.stderr.contains(s(&missing)), "stderr must name the missing path {}; {out}", missing.display());
    crate::ensure!(!cx.fx.exists("missing"), "the missing path was created through its grant; {out}");
    match out.probe() {
        // The IUT refused to run (what CLI-BAD-003 recommends): nothing was granted.
        Err(_) => Ok(()),
        // The IUT ran anyway: the grant must have given nothing, and the rest of the
        // grants must still work in the same run.
        Ok(r) => {
            expect_class(&r, Class::Denied, &format!("{} on the path a missing {flag} grant named", op.name()))?;
            expect_marker_created(cx, &run, "real/control")
        }
    }
}

fn missing_path_is_error_exit_1(cx: &Ctx, flag: &str) -> CaseResult {
    let out = cx.fx.dir("out");
    let missing = cx.fx.path("no-such-path");
    let bad = cx.run().allow(&out).arg(flag).arg(&missing).probe(Op::create(out.join("marker")));
    crate::ensure!(bad.code == 1, "a grant on a missing path must exit 1; {bad}");
    crate::ensure!(bad.stderr.contains(s(&missing)), "stderr must name the missing path; {bad}");
    expect_not_run(cx, &bad, "out/marker", &format!("{flag} on a missing path"))?;
    expect_marker_created(cx, &cx.run().allow(&out), "out/control")
}

fn dry_run_exits_0_without_running(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    let dry = cx.run().allow(&out).arg("--dry-run").probe(Op::create(out.join("marker")));
    crate::ensure!(dry.code == 0, "--dry-run must exit 0; {dry}");
    expect_not_run(cx, &dry, "out/marker", "--dry-run")?;
    expect_marker_created(cx, &cx.run().allow(&out), "out/control")
}

fn dry_run_ignores_program_exit_code(cx: &Ctx) -> CaseResult {
    let dry = run_in_fixture(cx).arg("--dry-run").probe(Op::exit(42));
    crate::ensure!(dry.code == 0, "--dry-run must exit 0, not the program's code; {dry}");
    let real = run_in_fixture(cx).probe(Op::exit(42));
    crate::ensure!(real.code == 42, "control: without --dry-run the program's exit code 42 comes back; {real}");
    Ok(())
}

fn dry_run_lists_user_and_system_grants(cx: &Ctx) -> CaseResult {
    let rw = cx.fx.dir("rw-dir");
    let ro = cx.fx.dir("ro-dir");
    let wo = cx.fx.dir("wo-dir");
    let ro_file = cx.fx.file("files/ro.txt", "r");
    let rw_file = cx.fx.file("files/rw.txt", "rw");
    let wo_file = cx.fx.file("files/wo.txt", "w");
    let out = cx
        .run()
        .allow(&rw)
        .read(&ro)
        .write(&wo)
        .read_file(&ro_file)
        .allow_file(&rw_file)
        .write_file(&wo_file)
        .arg("--dry-run")
        .arg("-v")
        .probe(Op::exit(0));
    crate::ensure!(out.code == 0, "--dry-run must exit 0; {out}");
    let text = format!("{}\n{}", out.stdout, out.stderr);
    for p in [&rw, &ro, &wo, &ro_file, &rw_file, &wo_file] {
        crate::ensure!(text.contains(s(p)), "--dry-run output does not list the granted path {}; {out}", p.display());
    }
    crate::ensure!(text.contains("/usr"), "--dry-run output does not list the system grant on /usr; {out}");
    Ok(())
}
