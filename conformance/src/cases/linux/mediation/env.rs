//! The environment and arguments a mediated command gets (MED-SRV-014, section 16 through
//! mediation): the supervisor's environment (with `mediation.env.block` names: the block
//! hides them from the agent only, mediation notes AGT-4), the request's variables on top
//! (except `PATH`, `NONO_SANDBOX_CONTEXT` and the loader names of TOK-ENV-002), and nonces
//! rewritten to their secrets in arguments and values. Dropping the wider dangerous list
//! and request `NONO_*` names is hardening (TOK-ENV-005, MED-SRV-019).
//!
//! `show` is a passthrough command that describes the argv and environment it received;
//! `vault read` captures the secret `s3cret-42`, so the agent holds only its nonce.

use crate::spec::Class;
use super::{args_of, capture, env_in, is_nonce, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.env.request_variables_reach_the_command",
            "A variable the agent sets for its call reaches the mediated command with its value",
            &["MED-SRV-014"],
            request_variables_reach_the_command,
        ),
        case(
            "linux.mediation.env.supervisor_environment_is_inherited",
            "A variable of the supervisor that the agent never had (environment.deny_vars) reaches the mediated command",
            &["MED-SRV-014"],
            supervisor_environment_is_inherited,
        ),
        case(
            "linux.mediation.env.blocked_name_set_by_the_agent_reaches_the_command",
            "A mediation.env.block name the agent sets for its call reaches the mediated command (the block hides the supervisor's value from the agent only)",
            &["MED-SRV-014"],
            blocked_name_from_the_request,
        ),
        case(
            "linux.mediation.env.blocked_name_reaches_mediated_commands_only",
            "A mediation.env.block name in the supervisor's own environment is hidden from the agent but reaches the mediated command (the GH_TOKEN flow)",
            &["MED-SRV-014", "PRF-RUN-004"],
            blocked_name_from_the_supervisor,
        ),
        case(
            "linux.mediation.env.dangerous_names_from_the_request_dropped",
            "Dangerous names (NODE_OPTIONS, BASH_ENV, PYTHONPATH, GOFLAGS, an LD_ name) set by the agent for its call do not reach the mediated command",
            &["TOK-ENV-005", "ENV-SCRUB-001"],
            dangerous_names_from_the_request,
        ),
        case(
            "linux.mediation.env.dangerous_names_from_the_supervisor_dropped",
            "Dangerous names in the supervisor's environment do not reach the mediated command",
            &["MED-SRV-019", "ENV-SCRUB-001"],
            dangerous_names_from_the_supervisor,
        ),
        case(
            "linux.mediation.env.path_and_nono_names_from_the_request_ignored",
            "PATH and NONO_* values the agent sets for its call do not reach the mediated command",
            &["MED-SRV-019", "TOK-ENV-002"],
            path_and_nono_names_from_the_request,
        ),
        case(
            "linux.mediation.env.similar_names_are_kept",
            "Names that only resemble a dropped one (ld_preload, MY_LD_PRELOAD, LD_PRELOAD_X) reach the command, while LD_PRELOAD itself is dropped",
            &["TOK-ENV-003", "TOK-ENV-002", "MED-SRV-014"],
            similar_names_are_kept,
        ),
        case(
            "linux.mediation.env.nonce_rewritten_in_arguments",
            "A captured nonce alone, inside text and twice back to back in arguments reaches the command as the secret, other bytes kept",
            &["MED-SRV-014", "TOK-REWRITE-001", "TOK-REWRITE-002"],
            nonce_rewritten_in_arguments,
        )
        // The rewrite inside text is the seed's (TOK-6/7); the develop level replaces whole values only.
        .in_class(Class::MediationSeed),
        case(
            "linux.mediation.env.nonce_rewritten_in_values",
            "A captured nonce inside a variable's value reaches the command as the secret",
            &["MED-SRV-014", "TOK-ENV-001"],
            nonce_rewritten_in_values,
        )
        // The rewrite inside text is the seed's (TOK-6/7); the develop level replaces whole values only.
        .in_class(Class::MediationSeed),
        case(
            "linux.mediation.env.unknown_nonce_stays_literal",
            "A well-formed nonce the session never issued stays literal in arguments and values, next to an issued one that is replaced",
            &["TOK-REWRITE-003", "TOK-ENV-004"],
            unknown_nonce_stays_literal,
        ),
        case(
            "linux.mediation.env.near_nonces_stay_literal",
            "Variants of an issued nonce (NONO_ prefix, nono- and nono__ prefixes, the digits alone, a 65th hex digit) stay literal, while the nonce followed by an upper-case letter is replaced",
            &["TOK-REWRITE-004", "TOK-REWRITE-005", "MED-SRV-014"],
            near_nonces_stay_literal,
        ),
        case(
            "linux.mediation.env.blocked_name_with_a_nonce_gets_the_secret",
            "The agent setting a mediation.env.block name (GH_TOKEN) to a captured nonce gives the mediated command the secret, as another name does",
            &["MED-SRV-014"],
            blocked_name_with_a_nonce_gets_the_secret,
        ),
        case(
            "linux.mediation.env.nonce_in_a_name_is_not_rewritten",
            "A nonce used as a variable name stays the name; only values are rewritten",
            &["TOK-ENV-003"],
            nonce_in_a_name_is_not_rewritten,
        ),
        case(
            "linux.mediation.env.nonce_of_another_session_is_unknown",
            "A nonce captured in one session stays literal in the next session, where a new capture resolves",
            &["TOK-LIFE-001", "TOK-REWRITE-003"],
            nonce_of_another_session_is_unknown,
        ),
        case(
            "linux.mediation.env.nonce_rewritten_for_an_approved_command",
            "Arguments of an approve-rule command are rewritten too",
            &["MED-SRV-014", "MED-SRV-009", "TOK-REWRITE-001"],
            nonce_rewritten_for_an_approved_command,
        )
        // The rewrite inside text is the seed's (TOK-6/7); the develop level replaces whole values only.
        .in_class(Class::MediationSeed),
        case(
            "linux.mediation.env.agent_never_holds_the_secret",
            "After capture and rewrite the agent's own environment and output hold the nonce, never the secret",
            &["MED-SRV-008", "TOK-REWRITE-001"],
            agent_never_holds_the_secret,
        ),
    ]
}

const SECRET: &str = "s3cret-42";
/// Well-formed, but never issued by anyone.
const UNKNOWN: &str = "nono_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// `show` (describes itself), `vault` (captures `SECRET` on `read`, approve on `deploy`),
/// with `extra` merged into the mediation block.
fn profile(kit: &Kit, extra: Value) -> PathBuf {
    let show = kit.fake("show", &["describe"]);
    let vault = kit.fake("vault", &[&format!("print:{SECRET}\\n")]);
    let approved = kit.fake("approved", &["describe"]);
    let mut mediation = json!({ "commands": [
        { "name": "show", "binary_path": show },
        { "name": "vault", "binary_path": vault, "intercept": [capture(&["read"])] },
        { "name": "approved", "binary_path": approved, "intercept": [super::approve(&["deploy"])] },
    ]});
    if let (Some(m), Some(e)) = (mediation.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    kit.mediation(mediation)
}

fn shown_env(run: &AgentRun, step: usize) -> Result<Map<String, Value>, String> {
    Ok(env_in(&run.described(step)?))
}

fn value<'a>(env: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    env.get(name).and_then(Value::as_str)
}

fn request_variables_reach_the_command(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit
        .agent(&p)
        .run(&[&["run", "REPO_SETTING=from the agent", "show"]])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    ensure!(
        value(&env, "REPO_SETTING") == Some("from the agent"),
        "REPO_SETTING must reach show: {:?}",
        value(&env, "REPO_SETTING")
    );
    Ok(())
}

fn supervisor_environment_is_inherited(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let show = kit.fake("show", &["describe"]);
    let p = kit.profile_named(
        "p",
        json!({
            "environment": { "deny_vars": ["SUPERVISOR_ONLY"] },
            "mediation": { "commands": [{ "name": "show", "binary_path": show }] }
        }),
    );
    let run = kit
        .agent(&p)
        .env("SUPERVISOR_ONLY", "kept by the supervisor")
        .run(&[&["env"], &["run", "show"]])?;
    run.finished()?;
    ensure!(
        !run.env_of(0)?.contains_key("SUPERVISOR_ONLY"),
        "control: deny_vars must keep SUPERVISOR_ONLY from the agent"
    );
    let env = shown_env(&run, 1)?;
    ensure!(
        value(&env, "SUPERVISOR_ONLY") == Some("kept by the supervisor"),
        "the supervisor's variable must reach show: {:?}",
        value(&env, "SUPERVISOR_ONLY")
    );
    Ok(())
}

fn blocked_name_from_the_request(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({ "env": { "block": ["GH_TOKEN"] } }));
    let run = kit.agent(&p).run(&[&[
        "run",
        "GH_TOKEN=set-by-agent",
        "GH_HOST=example.test",
        "show",
    ]])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    ensure!(
        value(&env, "GH_TOKEN") == Some("set-by-agent"),
        "GH_TOKEN set by the agent must reach show (env.block hides names from the agent only): {:?}",
        value(&env, "GH_TOKEN")
    );
    ensure!(
        value(&env, "GH_HOST") == Some("example.test"),
        "control: GH_HOST must reach show: {:?}",
        value(&env, "GH_HOST")
    );
    Ok(())
}

fn blocked_name_from_the_supervisor(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({ "env": { "block": ["GH_TOKEN"] } }));
    let run = kit
        .agent(&p)
        .env("GH_TOKEN", "supervisor-secret")
        .env("GH_HOST", "kept")
        .run(&[&["env"], &["run", "show"]])?;
    run.finished()?;
    ensure!(
        !run.env_of(0)?.contains_key("GH_TOKEN"),
        "GH_TOKEN reached the agent"
    );
    let env = shown_env(&run, 1)?;
    ensure!(
        value(&env, "GH_TOKEN") == Some("supervisor-secret"),
        "GH_TOKEN from the supervisor must reach show (the block hides it from the agent only): {:?}",
        value(&env, "GH_TOKEN")
    );
    ensure!(
        value(&env, "GH_HOST") == Some("kept"),
        "control: GH_HOST from the supervisor must reach show: {:?}",
        value(&env, "GH_HOST")
    );
    Ok(())
}

const DANGEROUS: [(&str, &str); 5] = [
    ("NODE_OPTIONS", "--require=/x.js"),
    ("BASH_ENV", "/x.sh"),
    ("PYTHONPATH", "/x"),
    ("GOFLAGS", "-toolexec=/x"),
    ("LD_CONFORMANCE_PROBE", "1"),
];

fn dangerous_names_from_the_request(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let assignments: Vec<String> = DANGEROUS.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut step = vec!["run"];
    step.extend(assignments.iter().map(String::as_str));
    step.extend(["HARMLESS_SETTING=yes", "show"]);
    let run = kit.agent(&p).run(&[&step])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    for (name, _) in DANGEROUS {
        ensure!(
            !env.contains_key(name),
            "{name} from the request reached show: {:?}",
            value(&env, name)
        );
    }
    ensure!(
        value(&env, "HARMLESS_SETTING") == Some("yes"),
        "control: HARMLESS_SETTING must reach show"
    );
    Ok(())
}

fn dangerous_names_from_the_supervisor(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let mut agent = kit.agent(&p).env("HARMLESS_SETTING", "yes");
    for (k, v) in DANGEROUS {
        agent = agent.env(k, v);
    }
    let run = agent.run(&[&["run", "show"]])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    for (name, _) in DANGEROUS {
        ensure!(
            !env.contains_key(name),
            "{name} from the supervisor reached show: {:?}",
            value(&env, name)
        );
    }
    ensure!(
        value(&env, "HARMLESS_SETTING") == Some("yes"),
        "control: HARMLESS_SETTING must reach show"
    );
    Ok(())
}

fn path_and_nono_names_from_the_request(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[&[
        "run",
        "PATH=/nonexistent/forged:/usr/bin",
        "NONO_CONFORMANCE_FORGED=from-agent",
        "OTHER_SETTING=kept",
        "show",
    ]])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    let path = value(&env, "PATH").unwrap_or("");
    ensure!(
        !path.contains("/nonexistent/forged"),
        "the agent's PATH reached show: {path:?}"
    );
    ensure!(
        !env.contains_key("NONO_CONFORMANCE_FORGED"),
        "a NONO_ name from the request reached show"
    );
    ensure!(
        value(&env, "OTHER_SETTING") == Some("kept"),
        "control: OTHER_SETTING must reach show"
    );
    Ok(())
}

fn similar_names_are_kept(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[&[
        "run",
        "ld_preload=lower",
        "MY_LD_PRELOAD=mine",
        "LD_PRELOAD_X=x",
        "LD_PRELOAD=/forged.so",
        "show",
    ]])?;
    run.finished()?;
    let env = shown_env(&run, 0)?;
    for (name, want) in [("ld_preload", "lower"), ("MY_LD_PRELOAD", "mine")] {
        ensure!(
            value(&env, name) == Some(want),
            "{name} only resembles a dropped name and must reach show: {:?}",
            value(&env, name)
        );
    }
    ensure!(
        !env.contains_key("LD_PRELOAD"),
        "control: LD_PRELOAD itself is never taken from the request"
    );
    Ok(())
}

fn nonce_rewritten_in_arguments(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &[
            "run",
            "show",
            "{out1}",
            "--token=pre-{out1}-post",
            "{out1}{out1}",
            "plain",
        ],
    ])?;
    run.finished()?;
    ensure!(
        is_nonce(run.out(0)?.trim()),
        "control: vault read must capture a nonce: {}",
        run.op(0)?
    );
    let args = args_of(&run.described(1)?);
    let want = [
        SECRET.to_string(),
        format!("--token=pre-{SECRET}-post"),
        format!("{SECRET}{SECRET}"),
        "plain".into(),
    ];
    ensure!(
        args == want,
        "show must receive {want:?}, received {args:?}"
    );
    Ok(())
}

fn nonce_rewritten_in_values(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &[
            "run",
            "AUTH_HEADER=Bearer {out1}",
            "TOKEN_ONLY={out1}",
            "show",
        ],
    ])?;
    run.finished()?;
    let env = shown_env(&run, 1)?;
    let bearer = format!("Bearer {SECRET}");
    ensure!(
        value(&env, "AUTH_HEADER") == Some(bearer.as_str()),
        "AUTH_HEADER must be {bearer:?}: {:?}",
        value(&env, "AUTH_HEADER")
    );
    ensure!(
        value(&env, "TOKEN_ONLY") == Some(SECRET),
        "TOKEN_ONLY must be the secret: {:?}",
        value(&env, "TOKEN_ONLY")
    );
    Ok(())
}

fn unknown_nonce_stays_literal(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let unknown_value = format!("UNKNOWN_VALUE=x{UNKNOWN}y");
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &[
            "run",
            &unknown_value,
            "show",
            UNKNOWN,
            "{out1}",
            &format!("a{UNKNOWN}"),
        ],
    ])?;
    run.finished()?;
    let described = run.described(1)?;
    let args = args_of(&described);
    let want = [
        UNKNOWN.to_string(),
        SECRET.to_string(),
        format!("a{UNKNOWN}"),
    ];
    ensure!(
        args == want,
        "show must receive {want:?}, received {args:?}"
    );
    let env = env_in(&described);
    let literal = format!("x{UNKNOWN}y");
    ensure!(
        value(&env, "UNKNOWN_VALUE") == Some(literal.as_str()),
        "UNKNOWN_VALUE must stay literal: {:?}",
        value(&env, "UNKNOWN_VALUE")
    );
    Ok(())
}

fn near_nonces_stay_literal(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let variants = [
        "NONO_{out1:hex}",
        "nono-{out1:hex}",
        "nono__{out1:hex}",
        "{out1:hex}",
        "{out1}0",
        "{out1}X",
    ];
    let mut step = vec!["run", "show"];
    step.extend(variants);
    let run = kit.agent(&p).run(&[&["run", "vault", "read"], &step])?;
    run.finished()?;
    let nonce = run.nonce(0, "control: vault read")?;
    let hex = &nonce[5..];
    let want = [
        format!("NONO_{hex}"),
        format!("nono-{hex}"),
        format!("nono__{hex}"),
        hex.to_string(),
        format!("{nonce}0"),
        format!("{SECRET}X"),
    ];
    let args = args_of(&run.described(1)?);
    ensure!(
        args == want,
        "show must receive {want:?}, received {args:?}"
    );
    Ok(())
}

fn blocked_name_with_a_nonce_gets_the_secret(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({ "env": { "block": ["GH_TOKEN"] } }));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &["run", "GH_TOKEN={out1}", "OTHER_TOKEN={out1}", "show"],
    ])?;
    run.finished()?;
    let env = shown_env(&run, 1)?;
    ensure!(
        value(&env, "GH_TOKEN") == Some(SECRET),
        "GH_TOKEN set to the nonce must give show the secret, blocked or not: {:?}",
        value(&env, "GH_TOKEN")
    );
    ensure!(
        value(&env, "OTHER_TOKEN") == Some(SECRET),
        "control: OTHER_TOKEN must get the secret: {:?}",
        value(&env, "OTHER_TOKEN")
    );
    Ok(())
}

fn nonce_in_a_name_is_not_rewritten(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &["run", "{out1}=as a name", "show"],
    ])?;
    run.finished()?;
    let nonce = run.out(0)?.trim().to_string();
    let env = shown_env(&run, 1)?;
    ensure!(
        value(&env, &nonce) == Some("as a name"),
        "the nonce-named variable must arrive under its literal name: {:?}",
        env.keys()
            .filter(|k| k.starts_with("nono_"))
            .collect::<Vec<_>>()
    );
    ensure!(
        !env.contains_key(SECRET),
        "the name was rewritten to the secret"
    );
    Ok(())
}

fn nonce_of_another_session_is_unknown(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let first = kit.agent(&p).run(&[&["run", "vault", "read"]])?;
    first.finished()?;
    let old = first.nonce(0, "control: the first session")?;
    let run = kit
        .agent(&p)
        .run(&[&["run", "vault", "read"], &["run", "show", &old, "{out1}"]])?;
    run.finished()?;
    let args = args_of(&run.described(1)?);
    ensure!(
        args == [old.clone(), SECRET.to_string()],
        "the old nonce must stay literal and the new one resolve: {args:?}"
    );
    Ok(())
}

fn nonce_rewritten_for_an_approved_command(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &["run", "approved", "deploy", "--key={out1}"],
    ])?;
    run.finished()?;
    let args = args_of(&run.described(1)?);
    let want = ["deploy".to_string(), format!("--key={SECRET}")];
    ensure!(
        args == want,
        "the approved command must receive {want:?}, received {args:?}"
    );
    Ok(())
}

fn agent_never_holds_the_secret(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let p = profile(&kit, json!({}));
    let run = kit.agent(&p).run(&[
        &["run", "vault", "read"],
        &["run", "TOKEN={out1}", "show", "{out1}"],
        &["env"],
    ])?;
    run.finished()?;
    ensure!(
        args_of(&run.described(1)?) == [SECRET],
        "control: show must receive the secret"
    );
    let agent_env = run
        .env_of(2)?
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");
    ensure!(
        !agent_env.contains(SECRET),
        "the secret is in the agent's environment"
    );
    // The only place the secret may appear in the IUT's output is show's own description.
    let output = String::from_utf8_lossy(&run.stdout);
    let outside_show = output
        .lines()
        .filter(|l| !l.contains("\"describe\"") && !l.contains("\\\"describe\\\""))
        .any(|l| l.contains(SECRET));
    ensure!(
        !outside_show,
        "the secret appeared in the agent's output outside show's description: {run}"
    );
    ensure!(
        !run.stderr.contains(SECRET),
        "the secret appeared on stderr: {:?}",
        run.stderr
    );
    Ok(())
}
