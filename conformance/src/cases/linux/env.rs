//! Environment: the variables on nono's dangerous list never reach the program; every other
//! variable does, with its value unchanged.
//!
//! Each case sets variables on the IUT's own environment and reads the program's
//! environment back with the probe's `env` op. Every scrub case also sets a harmless control
//! variable in the same run and requires it to arrive, so an IUT that clears the whole
//! environment fails.

use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::{Class, ProbeResult};
use crate::runner::expect_class;
use crate::probe::Op;

/// The exact names of ENV-SCRUB-001.
const DANGEROUS_NAMES: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "CDPATH",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "IFS",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "GEM_PATH",
    "GEM_HOME",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "DOTNET_STARTUP_HOOKS",
    "GOFLAGS",
    "OP_SERVICE_ACCOUNT_TOKEN",
    "OP_CONNECT_TOKEN",
    "OP_CONNECT_HOST",
];

/// Names covered by ENV-SCRUB-001's prefixes (`LD_`, `DYLD_`, `BASH_FUNC_`, `OP_SESSION_`).
const DANGEROUS_BY_PREFIX: &[&str] =
    &["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "BASH_FUNC_foo%%", "OP_SESSION_abc"];

/// Names that merely resemble dangerous ones and must pass (ENV-SCRUB-002).
const LOOKALIKE_NAMES: &[&str] = &[
    "MY_LD_PRELOAD",
    "LDX",
    "XLD_LIBRARY_PATH",
    "ENVIRONMENT",
    "MY_NODE_OPTIONS",
    "OP_SESSIONX",
    "BASH_FUNCX",
    "DYLDX",
];

const CONTROL_NAME: &str = "NONO_CONFORMANCE_CONTROL";

pub fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = DANGEROUS_NAMES
        .iter()
        .chain(DANGEROUS_BY_PREFIX)
        .map(|&name| {
            case(
                format!("linux.env.scrub.removes_{}", slug(name)),
                "A variable on the dangerous list is removed before the program starts, while a harmless variable set alongside arrives",
                &["ENV-SCRUB-001"],
                move |cx: &Ctx| scrubbed(cx, name),
            )
        })
        .collect();
    out.extend(LOOKALIKE_NAMES.iter().map(|&name| {
        case(
            format!("linux.env.keep.lookalike_{}", slug(name)),
            "A variable whose name only resembles a dangerous one reaches the program with its value unchanged",
            &["ENV-SCRUB-002"],
            move |cx: &Ctx| kept(cx, &[(name, "lookalike value")]),
        )
    }));
    out.extend([
        case(
            "linux.env.keep.path_unchanged",
            "PATH reaches the program with its value unchanged",
            &["ENV-SCRUB-002"],
            |cx: &Ctx| {
                let extra = cx.fx.dir("my bin");
                let path = format!("/usr/local/bin:/usr/bin:/bin:{}", extra.display());
                kept(cx, &[("PATH", path.as_str())])
            },
        ),
        case(
            "linux.env.keep.home_unchanged",
            "HOME reaches the program with its value unchanged",
            &["ENV-SCRUB-002"],
            |cx: &Ctx| {
                let home = cx.fx.dir("home");
                kept(cx, &[("HOME", home.to_str().expect("UTF-8 fixture path"))])
            },
        ),
        case(
            "linux.env.keep.value_with_spaces_equals_and_unicode_unchanged",
            "A value containing spaces, '=', quotes, shell syntax and non-ASCII characters reaches the program byte for byte",
            &["ENV-SCRUB-002"],
            |cx: &Ctx| kept(cx, &[("NONO_CONFORMANCE_ODD", "a b=c  d\t'q' \"dq\" $HOME `x` ünïcödé ✓ 日本")]),
        ),
        case(
            "linux.env.keep.empty_value_unchanged",
            "A variable set to the empty string reaches the program, still empty",
            &["ENV-SCRUB-002"],
            |cx: &Ctx| kept(cx, &[("NONO_CONFORMANCE_EMPTY", "")]),
        ),
    ]);
    out
}

/// `BASH_FUNC_foo%%` → `bash_func_foo`, `_JAVA_OPTIONS` → `underscore_java_options`.
fn slug(name: &str) -> String {
    let lead = if name.starts_with('_') { "underscore_" } else { "" };
    let body: String = name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{lead}{}", body.trim_matches('_'))
}

/// A value the program must never see; for loader variables, one that is harmless to the
/// IUT's own loader (an empty directory, or a missing object the loader skips with a warning).
fn dangerous_value(cx: &Ctx, name: &str) -> String {
    match name {
        "LD_PRELOAD" | "LD_AUDIT" => cx.fx.path("no-such-object.so").display().to_string(),
        "LD_LIBRARY_PATH" => cx.fx.dir("empty-libdir").display().to_string(),
        n if n.starts_with("BASH_FUNC_") => "() {  echo injected\n}".to_string(),
        _ => format!("injected-{name}"),
    }
}

/// The program's environment as the probe saw it.
fn program_env(r: &ProbeResult) -> Result<&serde_json::Map<String, serde_json::Value>, String> {
    expect_class(r, Class::Allowed, "probe env")?;
    r.extra
        .get("env")
        .and_then(|v| v.as_object())
        .ok_or_else(|| format!("probe env returned no environment: {:?}", r.extra))
}

fn scrubbed(cx: &Ctx, name: &str) -> CaseResult {
    let control_value = format!("kept alongside {name}");
    let run = cx.run().env(name, dangerous_value(cx, name)).env(CONTROL_NAME, &control_value);
    let r = run.op(Op::Env)?;
    let env = program_env(&r)?;
    crate::ensure!(!env.contains_key(name), "{name} reached the program: {:?}", env.get(name));
    crate::ensure!(
        env.get(CONTROL_NAME).and_then(|v| v.as_str()) == Some(control_value.as_str()),
        "control: {CONTROL_NAME} set in the same run did not arrive intact: {:?}",
        env.get(CONTROL_NAME)
    );
    Ok(())
}

fn kept(cx: &Ctx, vars: &[(&str, &str)]) -> CaseResult {
    let run = vars.iter().fold(cx.run(), |run, (k, v)| run.env(k, v));
    let r = run.op(Op::Env)?;
    let env = program_env(&r)?;
    for (k, v) in vars {
        crate::ensure!(
            env.get(*k).and_then(|x| x.as_str()) == Some(*v),
            "{k} must reach the program unchanged as {v:?}; it arrived as {:?}",
            env.get(*k)
        );
    }
    Ok(())
}
