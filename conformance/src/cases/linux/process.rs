//! Processes: the sandbox follows the program into its children, grandchildren, threads and
//! `execve`; running the IUT again inside cannot widen it; `no_new_privs` is set; and the
//! program cannot ptrace-attach to anything outside.

use crate::kit::arg as s;
use super::scope::{sh_quote, Victim};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::{Class, ProbeResult};
use crate::runner::expect_class;
use std::path::{Path, PathBuf};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let inherit: [(&str, &'static str, &'static [&'static str], &'static [&'static str]); 7] = [
        (
            "child_process",
            "A forked child of the sandboxed program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-001"],
            &["in-child"],
        ),
        (
            "grandchild_process",
            "A grandchild of the sandboxed program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-001"],
            &["in-child", "in-child"],
        ),
        (
            "after_execve",
            "After execve the program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-002"],
            &["after-exec"],
        ),
        (
            "after_execve_twice",
            "After two successive execve calls the program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-002"],
            &["after-exec", "after-exec"],
        ),
        (
            "child_after_execve",
            "A child that execs a new program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-001", "PROC-INHERIT-002"],
            &["in-child", "after-exec"],
        ),
        (
            "other_thread",
            "A second thread of the sandboxed program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-003"],
            &["in-thread"],
        ),
        (
            "thread_of_child",
            "A thread of a child of the sandboxed program may create a file in the writable grant and is denied creating or writing outside it",
            &["PROC-INHERIT-001", "PROC-INHERIT-003"],
            &["in-child", "in-thread"],
        ),
    ];
    let mut out: Vec<Case> = inherit
        .into_iter()
        .map(|(slug, title, spec, prefix)| {
            case(format!("linux.proc.inherit.{slug}"), title, spec, move |cx: &Ctx| {
                allowed_and_denied_through(cx, prefix)
            })
        })
        .collect();
    out.extend([
        case(
            "linux.proc.inherit.shell_grandchild",
            "A program started by a sandboxed shell, and that program's child, stay confined to the grants",
            &["PROC-INHERIT-001"],
            shell_grandchild,
        ),
        case(
            "linux.proc.nest.inner_write_grant_cannot_widen_outer",
            "The IUT run inside its own sandbox cannot grant write on a directory the outer sandbox denies, while inner writes within the outer grant succeed",
            &["PROC-NEST-001"],
            inner_write_grant_cannot_widen_outer,
        ),
        case(
            "linux.proc.nest.inner_read_grant_cannot_widen_outer",
            "The IUT run inside its own sandbox cannot grant read on a directory the outer sandbox denies, while inner reads within the outer grant succeed",
            &["PROC-NEST-001"],
            inner_read_grant_cannot_widen_outer,
        ),
        case(
            "linux.proc.no_new_privs_is_set",
            "The sandboxed program runs with no_new_privs set, which the same program run outside does not have",
            &["PROC-NNP-001"],
            no_new_privs_is_set,
        ),
        case(
            "linux.proc.ptrace_attach_outside_denied",
            "A sandboxed process cannot ptrace-attach to a process outside its sandbox (EPERM) and the target keeps running, while it can attach to its own child",
            &["PROC-PTRACE-001", "PROC-PTRACE-002"],
            ptrace_attach_outside_denied,
        )
        .requires(Requirement::PtraceOfNonDescendants),
    ]);
    out
}

/// `op` run through the wrapper ops named in `prefix`, outermost first.
fn through(prefix: &[&str], op: Op) -> Op {
    prefix.iter().rev().fold(op, |inner, wrapper| match *wrapper {
        "in-child" => Op::in_child(inner),
        "after-exec" => Op::after_exec(inner),
        "in-thread" => Op::in_thread(inner),
        other => panic!("{other} does not wrap an op"),
    })
}

/// The result must be the inner op's own answer, not a wrapper's (fork, exec, thread) failure.
fn inner(r: ProbeResult, op: &str, via: &[&str]) -> Result<ProbeResult, String> {
    crate::ensure!(
        r.op == op,
        "expected the answer of `{op}` run through {via:?}, got the wrapper's: {r} {:?}",
        r.extra
    );
    Ok(r)
}

/// Through `prefix` (e.g. `in-child`): create in the writable grant succeeds; create and
/// write outside every grant are denied and change nothing.
fn allowed_and_denied_through(cx: &Ctx, prefix: &[&str]) -> CaseResult {
    let out = cx.fx.dir("out");
    let keep = cx.fx.file("outside/keep.txt", "original");
    let run = cx.run().allow(&out);

    let ok = inner(run.op(through(prefix, Op::create(out.join("new"))))?, "create", prefix)?;
    expect_class(&ok, Class::Allowed, &format!("create in the writable grant via {prefix:?}"))?;
    crate::ensure!(cx.fx.exists("out/new"), "create via {prefix:?} reported ok but no file exists");

    let created = inner(run.op(through(prefix, Op::create(cx.fx.path("outside/new"))))?, "create", prefix)?;
    expect_class(&created, Class::Denied, &format!("create outside every grant via {prefix:?}"))?;
    crate::ensure!(!cx.fx.exists("outside/new"), "a file was created outside every grant via {prefix:?}");

    let written = inner(run.op(through(prefix, Op::write(&keep, "changed")))?, "write", prefix)?;
    expect_class(&written, Class::Denied, &format!("write outside every grant via {prefix:?}"))?;
    crate::ensure!(
        cx.fx.read("outside/keep.txt").as_deref() == Some("original"),
        "a file outside every grant was modified via {prefix:?}: {:?}",
        cx.fx.read("outside/keep.txt")
    );
    Ok(())
}

fn shell_grandchild(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    cx.fx.dir("outside");
    let probe = sh_quote(s(&cx.probe));
    let run = cx.run().allow(&out).read_file(&cx.probe);
    // The trailing `:` keeps the shell from exec'ing the probe in its own place, so the probe
    // is the shell's child and `in-child` runs the op in the shell's grandchild.
    let script = |target: &Path| format!("{probe} in-child create {}; :", sh_quote(s(target)));

    let ok = run.command(["/bin/sh", "-c", &script(&out.join("new"))]).probe()?;
    let ok = inner(ok, "create", &["sh", "in-child"])?;
    expect_class(&ok, Class::Allowed, "create in the writable grant from the shell's grandchild")?;
    crate::ensure!(cx.fx.exists("out/new"), "create reported ok but no file exists");

    let denied = run.command(["/bin/sh", "-c", &script(&cx.fx.path("outside/new"))]).probe()?;
    let denied = inner(denied, "create", &["sh", "in-child"])?;
    expect_class(&denied, Class::Denied, "create outside every grant from the shell's grandchild")?;
    crate::ensure!(!cx.fx.exists("outside/new"), "the shell's grandchild created a file outside every grant");
    Ok(())
}

/// The IUT binary as an absolute path (it may have been given as a bare name on PATH).
fn iut_binary(cx: &Ctx) -> Result<PathBuf, String> {
    let given = &cx.imp.path;
    let found = if given.components().count() > 1 {
        Some(given.clone())
    } else {
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(given)).find(|c| c.is_file()))
    };
    found
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| format!("cannot locate the IUT binary {} to grant it inside the sandbox", given.display()))
}

/// Runs, inside an outer sandbox with `outer_grants`, the IUT again with `inner_grants` and
/// the probe doing `op`.
///
/// An implementation may keep per-run state under its home (nono: `~/.nono`,
/// `$XDG_STATE_HOME/nono`) and refuse to grant that state to any sandbox. So the inner run
/// gets a home of its own (`inner-home`, started through `/usr/bin/env`), which the outer
/// sandbox grants: the outer implementation's own state stays protected, and the inner one
/// can write its state.
fn nested_op(
    cx: &Ctx,
    outer: crate::runner::Run,
    inner_grants: &[(&str, &Path)],
    op: Op,
) -> Result<ProbeResult, String> {
    let iut = iut_binary(cx)?;
    let inner_home = cx.fx.dir("inner-home");
    let outer = outer.allow(&inner_home);
    let mut argv: Vec<String> = vec![
        "/usr/bin/env".into(),
        format!("HOME={}", s(&inner_home)),
        format!("XDG_STATE_HOME={}", s(&inner_home.join(".local/state"))),
        format!("XDG_CONFIG_HOME={}", s(&inner_home.join(".config"))),
        s(&iut).into(),
        "run".into(),
    ];
    for (flag, path) in inner_grants {
        argv.push(flag.to_string());
        argv.push(s(path).into());
    }
    argv.extend(["--read-file".to_string(), s(&cx.probe).into(), "--".into(), s(&cx.probe).into()]);
    argv.extend(op.argv());
    let out = outer.read_file(&iut).read_file(&cx.probe).command(&argv);
    out.probe()
}

fn inner_write_grant_cannot_widen_outer(cx: &Ctx) -> CaseResult {
    let shared = cx.fx.dir("shared");
    let denied_dir = cx.fx.dir("outer-denied");
    let inner_grants = [("--allow", denied_dir.as_path()), ("--allow", shared.as_path())];

    let ok = nested_op(cx, cx.run().allow(&shared), &inner_grants, Op::create(shared.join("inner-ok")))?;
    expect_class(&ok, Class::Allowed, "nested run: create in a directory both sandboxes grant")?;
    crate::ensure!(cx.fx.exists("shared/inner-ok"), "nested create reported ok but no file exists");

    let denied = nested_op(cx, cx.run().allow(&shared), &inner_grants, Op::create(denied_dir.join("widened")))?;
    expect_class(&denied, Class::Denied, "nested run: create in a directory only the inner sandbox grants")?;
    crate::ensure!(!cx.fx.exists("outer-denied/widened"), "the inner grant widened the outer sandbox: the file exists");
    Ok(())
}

fn inner_read_grant_cannot_widen_outer(cx: &Ctx) -> CaseResult {
    let shared = cx.fx.dir("shared");
    let visible = cx.fx.file("shared/visible.txt", "visible");
    let secret_dir = cx.fx.dir("outer-denied");
    let secret = cx.fx.file("outer-denied/secret.txt", "secret");
    let inner_grants = [("--read", secret_dir.as_path()), ("--read", shared.as_path())];

    let ok = nested_op(cx, cx.run().read(&shared), &inner_grants, Op::read(&visible))?;
    expect_class(&ok, Class::Allowed, "nested run: read in a directory both sandboxes grant")?;
    crate::ensure!(ok.str_field("content") == Some("visible"), "nested read returned {:?}", ok.str_field("content"));

    let denied = nested_op(cx, cx.run().read(&shared), &inner_grants, Op::read(&secret))?;
    expect_class(&denied, Class::Denied, "nested run: read in a directory only the inner sandbox grants")?;
    crate::ensure!(denied.str_field("content").is_none(), "the nested read leaked content: {:?}", denied.extra);
    Ok(())
}


fn no_new_privs_is_set(cx: &Ctx) -> CaseResult {
    let outside = cx.probe_outside(Op::Nnp)?;
    crate::ensure!(
        outside.int_field("value") == Some(0),
        "control: outside the sandbox no_new_privs is {:?}, not 0, so the sandbox's setting cannot be told apart (is the suite itself running with no_new_privs?)",
        outside.extra
    );

    let inside = cx.run().op(Op::Nnp)?;
    expect_class(&inside, Class::Allowed, "prctl(PR_GET_NO_NEW_PRIVS) in the sandbox")?;
    crate::ensure!(inside.int_field("value") == Some(1), "no_new_privs in the sandbox is {:?}, not 1", inside.extra);
    Ok(())
}

fn ptrace_attach_outside_denied(cx: &Ctx) -> CaseResult {
    let mut victim = Victim::spawn()?;
    // Control from outside: the same probe, unsandboxed and just as unrelated to the victim,
    // may attach to it. Without this, Yama (or anything else on the host) could be what
    // denies the attach below, and the case would pass for any IUT.
    let direct = cx.probe_outside(Op::ptrace_attach(victim.pid()))?;
    expect_class(&direct, Class::Allowed, "control: ptrace-attach to the victim from outside any sandbox")?;

    let r = cx.run().op(Op::ptrace_attach(victim.pid()))?;
    expect_class(&r, Class::Denied, "ptrace-attach to a process outside the sandbox")?;
    crate::ensure!(r.str_field("step") == Some("attach"), "denied at step {:?}, not at attach", r.str_field("step"));
    crate::ensure!(r.errno.as_deref() == Some("EPERM"), "ptrace denial must be EPERM, got {:?}", r.errno);
    crate::ensure!(victim.still_alive()?, "the victim outside the sandbox died after the attach attempt");

    // Control: attaching to its own child is allowed in the same sandbox. The shell starts a
    // child and execs the probe in its place, so the probe is that child's parent (which also
    // satisfies Yama's ptrace_scope=1). The child polls the probe's pid, handed to it before
    // the fork (its own $PPID would be 1 if the probe were already gone when it started), and
    // gives up after 10 s in any case, so nothing is left behind.
    let probe = sh_quote(s(&cx.probe));
    let child = "sh -c 'n=0; while kill -0 \"$1\" 2>/dev/null && [ $n -lt 200 ]; do n=$((n+1)); sleep 0.05; done' sh \"$$\" </dev/null >/dev/null 2>&1";
    let script = format!("{child} & exec {probe} ptrace-attach \"$!\"");
    let own = cx.run().read_file(&cx.probe).command(["/bin/sh", "-c", &script]).probe()?;
    expect_class(&own, Class::Allowed, "control: ptrace-attach to its own child inside the sandbox")
}
