//! Who is calling (MED-SRV-004, 005, 015): the agent, or a mediated command the server
//! started, and what each may run.
//!
//! `deploy` is the protected command; its real binary records every run in
//! `out/ran.jsonl`. Parents are mediated commands whose real binaries call `deploy`
//! (through the session's shim) and print the exit code they got as
//! `{"step":"call","exit_code":N}`. Forgery is tried with the value the agent can most
//! plausibly forge: a nonce it captured itself whose secret is a parent's name.

use super::{capture, respond, s, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.caller.agent_refused_when_agent_not_allowed",
            "With agent_allowed false the agent's call is answered 126 and runs nothing, while a mediated parent's call runs",
            &["MED-SRV-004"],
            agent_refused_when_agent_not_allowed,
        ),
        case(
            "linux.mediation.caller.listed_parent_allowed",
            "A mediated parent named in allowed_parents may run the command",
            &["MED-SRV-004", "MED-SRV-005"],
            listed_parent_allowed,
        ),
        case(
            "linux.mediation.caller.unlisted_parent_refused",
            "A mediated parent not in allowed_parents is answered 126 and runs nothing, while a listed one runs",
            &["MED-SRV-004"],
            unlisted_parent_refused,
        ),
        case(
            "linux.mediation.caller.empty_allowed_parents_refuses_every_parent",
            "allowed_parents [] refuses calls from every mediated parent with 126, while the agent may still call",
            &["MED-SRV-004"],
            empty_allowed_parents_refuses_every_parent,
        ),
        case(
            "linux.mediation.caller.refused_parent_never_passes_as_the_agent",
            "Ten parents calling a command whose allowed_parents is [] at once, each as its first act, are all refused with 126 and it never runs for them, while the agent may call it",
            &["MED-SRV-004", "MED-SRV-005"],
            refused_parent_never_passes_as_the_agent,
        ),
        case(
            "linux.mediation.caller.forged_context_nonce_neither_widens_nor_reveals",
            "An agent putting a captured nonce whose secret is a parent's name in NONO_SANDBOX_CONTEXT is still the agent (126), and neither the answer nor the audit log repeats the nonce or the secret",
            &["MED-SRV-017", "MED-SRV-004", "MED-AUDIT-002"],
            forged_context_nonce,
        ),
        case(
            "linux.mediation.caller.forged_context_name_is_not_a_parent",
            "An agent putting a parent's plain name in NONO_SANDBOX_CONTEXT is still the agent (126)",
            &["MED-SRV-005", "MED-SRV-004"],
            forged_context_name,
        ),
        case(
            "linux.mediation.caller.parents_context_replayed_after_it_exits_is_refused",
            "The context a mediated parent received, replayed by the agent after the parent exited, does not make the agent a parent (126), and is not repeated in the answer or the log",
            &["MED-SRV-017", "MED-SRV-004"],
            parents_context_replayed_after_it_exits,
        ),
        case(
            "linux.mediation.caller.parents_context_replayed_while_it_runs_is_refused",
            "The context of a parent that is still running, replayed by the agent (not its descendant), is refused with 126, while the parent's own call succeeds",
            &["MED-SRV-017", "MED-SRV-004"],
            parents_context_replayed_while_it_runs,
        ),
        case(
            "linux.mediation.caller.allow_commands_runs_the_child_directly",
            "A command in its parent's sandbox.allow_commands, called from that parent, runs its real binary without its intercept rules; called by the agent the rules apply",
            &["MED-SRV-015"],
            allow_commands_runs_the_child_directly,
        ),
        case(
            "linux.mediation.caller.unlisted_child_keeps_its_rules_in_a_parent",
            "A command not in the parent's allow_commands keeps its intercept rules when that parent calls it",
            &["MED-SRV-015", "MED-SRV-006"],
            unlisted_child_keeps_its_rules,
        ),
        case(
            "linux.mediation.caller.forged_context_does_not_unlock_allow_commands",
            "A forged NONO_SANDBOX_CONTEXT naming a parent with allow_commands does not let the agent skip the child's rules",
            &["MED-SRV-005", "MED-SRV-015"],
            forged_context_does_not_unlock_allow_commands,
        ),
    ]
}

/// The parent name that is also, in the forgery cases, a secret the agent captures.
const PARENT: &str = "builder-7f3a";

struct Setup {
    profile: PathBuf,
    ran: PathBuf,
}

/// `deploy` with `policy` and `deploy_rules`; parents `builder-7f3a` and `npm` calling
/// `deploy release`; `vault` capturing the text `builder-7f3a`. `builder_sandbox` is the
/// parent's sandbox (`null` for none).
fn setup(kit: &Kit, policy: Value, deploy_rules: Value, builder_sandbox: Value) -> Setup {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let deploy = kit.fake(
        "deploy",
        &[&format!("record:{}", s(&ran)), "print:deploy ran\\n"],
    );
    let builder = kit.fake(PARENT, &["call:deploy release"]);
    let npm = kit.fake("npm", &["call:deploy release"]);
    let vault = kit.fake("vault", &[&format!("print:{PARENT}\\n")]);
    let mut builder_entry = json!({ "name": PARENT, "binary_path": builder });
    if !builder_sandbox.is_null() {
        builder_entry["sandbox"] = builder_sandbox;
    }
    let profile = kit.mediation(json!({ "commands": [
        { "name": "deploy", "binary_path": deploy, "intercept": deploy_rules, "caller_policy": policy },
        builder_entry,
        { "name": "npm", "binary_path": npm },
        { "name": "vault", "binary_path": vault, "intercept": [capture(&["read"])] },
    ]}));
    Setup { profile, ran }
}

fn deploy_runs(kit: &Kit, ran: &Path) -> usize {
    kit.records(ran).len()
}

/// Fails with `why` unless deploy's real binary ran exactly `times` times.
fn expect_deploy_runs(kit: &Kit, ran: &Path, times: usize, why: &str) -> CaseResult {
    let seen = deploy_runs(kit, ran);
    ensure!(seen == times, "{why} (it ran {seen} times, expected {times})");
    Ok(())
}

/// Fails with `why` and the step's report unless the parent at step `i` got `code` for
/// its call of deploy.
fn expect_parent_got(run: &AgentRun, i: usize, code: i64, why: &str) -> CaseResult {
    ensure!(parent_call_code(run, i)? == code, "{why}: {}", run.op(i)?);
    Ok(())
}

/// The exit code the parent at step `i` got for its call of `deploy`.
fn parent_call_code(run: &AgentRun, i: usize) -> Result<i64, String> {
    let out = run.out(i)?;
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("step").and_then(Value::as_str) == Some("call"))
        .and_then(|v| v.get("exit_code").and_then(Value::as_i64))
        .ok_or_else(|| {
            format!(
                "the parent at step {} reported no call of deploy: {}",
                i + 1,
                run.op(i).unwrap()
            )
        })
}

fn agent_refused_when_agent_not_allowed(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "agent_allowed": false }),
        json!([]),
        Value::Null,
    );
    let run = kit
        .agent(&setup.profile)
        .run(&[&["run", "deploy", "release"]])?;
    run.finished()?;
    run.expect_code(0, 126, "the agent's call must be answered 126")?;
    expect_deploy_runs(&kit, &setup.ran, 0, "deploy ran for the agent")?;
    // Control: a mediated parent may call it (allowed_parents absent means any parent).
    let run = kit.agent(&setup.profile).run(&[&["run", PARENT]])?;
    run.finished()?;
    expect_parent_got(&run, 0, 0, "control: the parent's call of deploy must succeed")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "control: deploy did not run for the parent")?;
    Ok(())
}

fn listed_parent_allowed(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "agent_allowed": false, "allowed_parents": [PARENT] }),
        json!([]),
        Value::Null,
    );
    let run = kit.agent(&setup.profile).run(&[&["run", PARENT]])?;
    run.finished()?;
    expect_parent_got(&run, 0, 0, "a listed parent's call must succeed")?;
    run.expect_out_contains(0, "deploy ran", "deploy's output must reach the parent's stdout")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy did not run for the listed parent")?;
    Ok(())
}

fn unlisted_parent_refused(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "allowed_parents": [PARENT] }),
        json!([]),
        Value::Null,
    );
    let run = kit
        .agent(&setup.profile)
        .run(&[&["run", "npm"], &["run", PARENT]])?;
    run.finished()?;
    expect_parent_got(&run, 0, 126, "npm is not a listed parent; its call must be answered 126")?;
    expect_parent_got(&run, 1, 0, "control: the listed parent's call must succeed")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy must run once (for the listed parent only)")?;
    Ok(())
}

fn empty_allowed_parents_refuses_every_parent(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "allowed_parents": [] }),
        json!([]),
        Value::Null,
    );
    let run = kit.agent(&setup.profile).run(&[
        &["run", PARENT],
        &["run", "npm"],
        &["run", "deploy", "release"],
    ])?;
    run.finished()?;
    ensure!(
        parent_call_code(&run, 0)? == 126,
        "{PARENT}'s call must be answered 126: {}",
        run.op(0)?
    );
    expect_parent_got(&run, 1, 126, "npm's call must be answered 126")?;
    run.expect_code(2, 0, "control: the agent may still call deploy")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy must run once (for the agent only)")?;
    Ok(())
}

fn refused_parent_never_passes_as_the_agent(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "allowed_parents": [] }),
        json!([]),
        Value::Null,
    );
    let run = kit
        .agent(&setup.profile)
        .run(&[&["parallel", "10", "npm"], &["run", "deploy", "release"]])?;
    run.finished()?;
    let results = run.parallel_results(0)?;
    ensure!(
        results.len() == 10,
        "ten parents must have run: {}",
        run.op(0)?
    );
    for result in &results {
        let out = result["stdout"].as_str().unwrap_or("");
        ensure!(
            out.contains("\"exit_code\":126"),
            "a parent's call must be refused with 126, even right after it started: {result}"
        );
    }
    run.expect_code(1, 0, "control: the agent may call deploy")?;
    ensure!(
        deploy_runs(&kit, &setup.ran) == 1,
        "deploy ran {} times; only the agent's call may run it",
        deploy_runs(&kit, &setup.ran)
    );
    Ok(())
}

fn forged_context_nonce(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "agent_allowed": false }),
        json!([]),
        Value::Null,
    );
    let run = kit.agent(&setup.profile).run(&[
        &["run", "vault", "read"],
        &["run", "NONO_SANDBOX_CONTEXT={out1}", "deploy", "release"],
        &["valid", "NONO_SANDBOX_CONTEXT={out1}", "deploy", "release"],
    ])?;
    run.finished()?;
    let nonce = run.nonce(0, "control: vault read")?;
    for step in [1, 2] {
        run.expect_code(step, 126, "a forged context must not make the agent a parent (126 expected)")?;
        let answer = format!("{}{}", run.out(step)?, run.err(step)?);
        ensure!(
            !answer.contains(&nonce),
            "the answer repeats the forged nonce: {answer:?}"
        );
        ensure!(
            !answer.contains(PARENT),
            "the answer reveals the secret behind the forged nonce: {answer:?}"
        );
    }
    expect_deploy_runs(&kit, &setup.ran, 0, "deploy ran for a forged context")?;
    for line in &run.audit {
        let text = line.to_string();
        ensure!(
            !text.contains(&nonce),
            "an audit line repeats the forged nonce: {text}"
        );
        ensure!(
            !text.contains(PARENT),
            "an audit line reveals the secret behind the forged nonce: {text}"
        );
    }
    Ok(())
}

fn forged_context_name(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = setup(
        &kit,
        json!({ "agent_allowed": false }),
        json!([]),
        Value::Null,
    );
    let forged = format!("NONO_SANDBOX_CONTEXT={PARENT}");
    let run = kit
        .agent(&setup.profile)
        .run(&[&["run", &forged, "deploy", "release"], &["run", PARENT]])?;
    run.finished()?;
    run.expect_code(0, 126, "a parent's name in NONO_SANDBOX_CONTEXT must not make the agent a parent")?;
    expect_parent_got(&run, 1, 0, "control: the real parent's call must succeed")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy must run once (for the real parent only)")?;
    Ok(())
}

fn allow_commands_runs_the_child_directly(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let rules = json!([respond(&["release"], "deploy: answered by its rule\n", 0)]);
    let setup = setup(
        &kit,
        json!({}),
        rules,
        json!({ "allow_commands": ["deploy"] }),
    );
    let run = kit
        .agent(&setup.profile)
        .run(&[&["run", "deploy", "release"], &["run", PARENT]])?;
    run.finished()?;
    run.expect_out(0, "deploy: answered by its rule\n", "control: the agent's call must get deploy's rule")?;
    expect_parent_got(&run, 1, 0, "the parent's call must succeed")?;
    run.expect_out_contains(1, "deploy ran", "from the parent listing it in allow_commands, deploy must run its real binary")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy's real binary must run once (for the parent)")?;
    Ok(())
}

fn unlisted_child_keeps_its_rules(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let rules = json!([respond(&["release"], "deploy: answered by its rule\n", 0)]);
    let setup = setup(&kit, json!({}), rules, json!({ "allow_commands": ["npm"] }));
    let run = kit.agent(&setup.profile).run(&[&["run", PARENT]])?;
    run.finished()?;
    expect_parent_got(&run, 0, 0, "the parent's call must be answered")?;
    run.expect_out_contains(0, "deploy: answered by its rule", "deploy is not in the parent's allow_commands; its rule must answer")?;
    expect_deploy_runs(&kit, &setup.ran, 0, "deploy's real binary ran despite its rule")?;
    Ok(())
}

fn forged_context_does_not_unlock_allow_commands(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let rules = json!([respond(&["release"], "deploy: answered by its rule\n", 0)]);
    let setup = setup(
        &kit,
        json!({}),
        rules,
        json!({ "allow_commands": ["deploy"] }),
    );
    let forged_name = format!("NONO_SANDBOX_CONTEXT={PARENT}");
    let run = kit.agent(&setup.profile).run(&[
        &["run", "vault", "read"],
        &["run", "NONO_SANDBOX_CONTEXT={out1}", "deploy", "release"],
        &["run", &forged_name, "deploy", "release"],
        &["run", PARENT],
    ])?;
    run.finished()?;
    for step in [1, 2] {
        run.expect_out(step, "deploy: answered by its rule\n", "a forged context must not skip deploy's rule")?;
    }
    run.expect_out_contains(3, "deploy ran", "control: the real parent's call runs deploy directly")?;
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy's real binary must run once (for the real parent only)")?;
    Ok(())
}

/// `deploy` refusing the agent, and a parent `leaker` running `leaker_steps`.
fn leak_setup(kit: &Kit, leaker_steps: &[&str]) -> Setup {
    let ran = kit.cx.fx.dir("out").join("ran.jsonl");
    let deploy = kit.fake(
        "deploy",
        &[&format!("record:{}", s(&ran)), "print:deploy ran\\n"],
    );
    let leaker = kit.fake("leaker", leaker_steps);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "deploy", "binary_path": deploy, "caller_policy": { "agent_allowed": false } },
        { "name": "leaker", "binary_path": leaker },
    ]}));
    Setup { profile, ran }
}

fn no_trace_of(run: &AgentRun, steps: &[usize], context: &str) -> CaseResult {
    for &step in steps {
        let answer = format!("{}{}", run.out(step)?, run.err(step)?);
        ensure!(
            !answer.contains(context),
            "the answer repeats the replayed context: {answer:?}"
        );
    }
    for line in &run.audit {
        ensure!(
            !line.to_string().contains(context),
            "an audit line repeats the replayed context: {line}"
        );
    }
    Ok(())
}

fn parents_context_replayed_after_it_exits(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let setup = leak_setup(&kit, &["print-env:NONO_SANDBOX_CONTEXT"]);
    let run = kit.agent(&setup.profile).run(&[
        &["run", "leaker"],
        &["run", "NONO_SANDBOX_CONTEXT={out1}", "deploy", "release"],
        &["valid", "NONO_SANDBOX_CONTEXT={out1}", "deploy", "release"],
    ])?;
    run.finished()?;
    let context = run.out(0)?.trim().to_string();
    ensure!(
        !context.is_empty(),
        "the mediated parent got no NONO_SANDBOX_CONTEXT, so there is nothing to replay: {}",
        run.op(0)?
    );
    for step in [1, 2] {
        run.expect_code(step, 126, "a replayed parent context must not make the agent a parent (126 expected)")?;
    }
    expect_deploy_runs(&kit, &setup.ran, 0, "deploy ran for a replayed context")?;
    no_trace_of(&run, &[1, 2], &context)
}

fn parents_context_replayed_while_it_runs(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let out = kit.cx.fx.dir("out");
    let (ctx_file, go) = (out.join("context"), out.join("go"));
    let steps = [
        format!("env-to-file:NONO_SANDBOX_CONTEXT {}", s(&ctx_file)),
        format!("wait-file:{}", s(&go)),
        "call:deploy release".to_string(),
    ];
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let setup = leak_setup(&kit, &steps);
    let replay = format!("NONO_SANDBOX_CONTEXT={{file:{}}}", s(&ctx_file));
    let run = kit.agent(&setup.profile).flag("--allow", &out).run(&[
        &["spawn", "leaker"],
        &["wait-file", s(&ctx_file)],
        &["run", &replay, "deploy", "release"],
        &["write", s(&go)],
        &["wait-spawned"],
    ])?;
    run.finished()?;
    let context = std::fs::read_to_string(&ctx_file).unwrap_or_default();
    ensure!(
        !context.trim().is_empty(),
        "the running parent got no NONO_SANDBOX_CONTEXT, so there is nothing to replay"
    );
    run.expect_code(2, 126, "the agent replaying a live parent's context must be refused with 126")?;
    let parent = &run.op(4)?["results"][0];
    let parent_out = parent["stdout"].as_str().unwrap_or("");
    ensure!(
        parent_out.contains("deploy ran") && parent_out.contains("\"exit_code\":0"),
        "control: the parent's own call of deploy must succeed: {parent}"
    );
    expect_deploy_runs(&kit, &setup.ran, 1, "deploy must run once (for the parent only)")?;
    no_trace_of(&run, &[2], context.trim())
}
