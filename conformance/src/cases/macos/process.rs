//! Processes, environment and exit codes on macOS: a Seatbelt profile is inherited by
//! children, survives exec and covers every thread; the run contract is the same as on
//! Linux.

use super::{arg, expect_allowed, expect_denied};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "macos.process.children_inherit_the_sandbox",
            "A child and a grandchild of the sandboxed program are denied what the program is denied, and allowed what it is allowed",
            &["PROC-INHERIT-001"],
            children_inherit,
        ),
        case(
            "macos.process.sandbox_survives_exec",
            "After the program execs itself the restrictions still apply",
            &["PROC-INHERIT-002"],
            survives_exec,
        ),
        case(
            "macos.process.threads_are_restricted",
            "A second thread of the program is restricted like the first",
            &["PROC-INHERIT-003"],
            threads_restricted,
        ),
        case(
            "macos.env.dangerous_variables_removed",
            "Loader and interpreter start-up variables and 1Password tokens are removed before the program starts",
            &["ENV-SCRUB-001"],
            dangerous_variables_removed,
        ),
        case(
            "macos.env.other_variables_kept",
            "PATH, HOME and look-alike names reach the program unchanged",
            &["ENV-SCRUB-002"],
            other_variables_kept,
        ),
        case("macos.exit.program_code_passes_through", "The IUT exits with the program's own exit code", &["EXIT-001"], exit_code),
        case("macos.exit.signal_is_128_plus_n", "A program killed by signal N makes the IUT exit 128+N", &["EXIT-002"], exit_signal),
        case(
            "macos.exit.missing_program_is_127",
            "A program that cannot be executed makes the IUT exit 127 and say why",
            &["EXIT-003"],
            exit_missing_program,
        ),
    ]
}

/// A granted file and a file outside every grant; the run reads the granted directory.
fn layout(cx: &Ctx) -> (String, String) {
    let ok = cx.fx.file("granted/ok", "ok");
    let secret = cx.fx.file("secret/s", "secret");
    (arg(&ok).to_string(), arg(&secret).to_string())
}

fn children_inherit(cx: &Ctx) -> CaseResult {
    let (ok, secret) = layout(cx);
    let run = cx.run().read(cx.fx.path("granted"));
    expect_allowed(
        &run.op(Op::in_child(Op::read(&ok)))?,
        "child reads a granted file",
    )?;
    expect_denied(
        &run.op(Op::in_child(Op::read(&secret)))?,
        "child reads outside the grants",
    )?;
    expect_allowed(
        &run.op(Op::in_child(Op::in_child(Op::read(&ok))))?,
        "grandchild reads a granted file",
    )?;
    expect_denied(
        &run.op(Op::in_child(Op::in_child(Op::read(&secret))))?,
        "grandchild reads outside the grants",
    )
}

fn survives_exec(cx: &Ctx) -> CaseResult {
    let (ok, secret) = layout(cx);
    let run = cx.run().read(cx.fx.path("granted"));
    expect_allowed(
        &run.op(Op::after_exec(Op::read(&ok)))?,
        "read a granted file after exec",
    )?;
    expect_denied(
        &run.op(Op::after_exec(Op::read(&secret)))?,
        "read outside the grants after exec",
    )
}

fn threads_restricted(cx: &Ctx) -> CaseResult {
    let (ok, secret) = layout(cx);
    let run = cx.run().read(cx.fx.path("granted"));
    expect_allowed(
        &run.op(Op::in_thread(Op::read(&ok)))?,
        "a thread reads a granted file",
    )?;
    expect_denied(
        &run.op(Op::in_thread(Op::read(&secret)))?,
        "a thread reads outside the grants",
    )
}

fn program_env(
    cx: &Ctx,
    vars: &[(&str, &str)],
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut run = cx.run();
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let r = run.op(Op::Env)?;
    expect_allowed(&r, "read the environment")?;
    Ok(r.extra
        .get("env")
        .and_then(|e| e.as_object())
        .cloned()
        .unwrap_or_default())
}

fn dangerous_variables_removed(cx: &Ctx) -> CaseResult {
    // DYLD_INSERT_LIBRARIES would be honoured by dyld for the IUT itself; a fallback
    // library path is harmless and still a DYLD_ name.
    let dangerous = [
        ("LD_PRELOAD", "/nonexistent/nono.so"),
        ("DYLD_FALLBACK_LIBRARY_PATH", "/nonexistent/nono"),
        ("BASH_ENV", "/nonexistent/rc"),
        ("NODE_OPTIONS", "--require /nonexistent/x.js"),
        ("PYTHONPATH", "/nonexistent"),
        ("PERL5OPT", "-Mx"),
        ("OP_SESSION_team", "token"),
        ("OP_SERVICE_ACCOUNT_TOKEN", "token"),
    ];
    let mut vars = dangerous.to_vec();
    vars.push(("NONO_CONFORMANCE_KEEP", "kept"));
    let env = program_env(cx, &vars)?;
    crate::ensure!(
        env.get("NONO_CONFORMANCE_KEEP").and_then(|v| v.as_str()) == Some("kept"),
        "a harmless variable was lost (control)"
    );
    for (name, _) in dangerous {
        crate::ensure!(!env.contains_key(name), "{name} reached the program");
    }
    Ok(())
}

fn other_variables_kept(cx: &Ctx) -> CaseResult {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    let home = cx.fx.dir("home");
    let vars = [
        ("PATH", path.as_str()),
        ("HOME", arg(&home)),
        ("MY_LD_PRELOAD", "x"),
        ("XDYLD_LOOKALIKE", "y"),
    ];
    let env = program_env(cx, &vars)?;
    for (name, value) in vars {
        let got = env.get(name).and_then(|v| v.as_str());
        crate::ensure!(got == Some(value), "{name} is {got:?}, expected {value:?}");
    }
    Ok(())
}

fn exit_code(cx: &Ctx) -> CaseResult {
    for code in [0, 3, 42] {
        let out = cx.run().probe(Op::exit(code));
        crate::ensure!(out.code == code, "program exited {code}; {out}");
    }
    Ok(())
}

fn exit_signal(cx: &Ctx) -> CaseResult {
    for (sig, want) in [(9, 137), (15, 143)] {
        let out = cx.run().probe(Op::kill_self(sig));
        crate::ensure!(
            out.code == want,
            "program killed by signal {sig}: expected exit {want}; {out}"
        );
    }
    Ok(())
}

fn exit_missing_program(cx: &Ctx) -> CaseResult {
    let missing = cx.fx.path("no-such-program");
    let out = cx.run().read(cx.fx.root()).command([arg(&missing)]);
    crate::ensure!(out.code == 127, "expected exit 127; {out}");
    crate::ensure!(
        out.stderr.contains("no-such-program"),
        "stderr does not name the program; {out}"
    );
    Ok(())
}
