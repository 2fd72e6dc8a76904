//! Exit codes as the agent sees them through the shim: the command's own code, 1 for a
//! signal, a rule's configured code, 127 for an unknown command (MED-SRV-001, 007, 013,
//! MED-SHIM-003). Refusals (126) are checked with their causes in `caller` and `admin`.

use super::{respond, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::json;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.exit.passthrough_answers_the_commands_code",
            "Real binaries exiting 0, 1, 42 and 255 make the agent's call exit 0, 1, 42 and 255",
            &["MED-SRV-018", "MED-SRV-011", "MED-SHIM-003"],
            passthrough_answers_the_commands_code,
        ),
        case(
            "linux.mediation.exit.signalled_command_answers_1",
            "Real binaries killed by SIGKILL and SIGTERM make the agent's call exit 1 (not 128+N)",
            &["MED-SRV-018"],
            signalled_command_answers_1,
        ),
        case(
            "linux.mediation.exit.respond_code_reaches_the_agent",
            "respond exit codes 0, 3 and 255 reach the agent, and 300 arrives as its low 8 bits (44)",
            &["MED-SRV-007", "MED-SHIM-003"],
            respond_code_reaches_the_agent,
        ),
        case(
            "linux.mediation.exit.unknown_command_through_the_shim_is_127",
            "The IUT's own shim, asked by its argv[0] for a command the profile does not mediate, gets 127 naming it",
            &["MED-SRV-001", "MED-SHIM-001"],
            unknown_command_through_the_shim_is_127,
        ),
    ]
}

fn passthrough_answers_the_commands_code(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let codes = [0, 1, 42, 255];
    let mut commands = vec![];
    for code in codes {
        let name = format!("exit{code}");
        let bin = kit.fake(&name, &[&format!("exit:{code}")]);
        commands.push(json!({ "name": name, "binary_path": bin }));
    }
    let profile = kit.mediation(json!({ "commands": commands }));
    let names: Vec<String> = codes.iter().map(|c| format!("exit{c}")).collect();
    let steps: Vec<Vec<&str>> = names.iter().map(|n| vec!["run", n.as_str()]).collect();
    let steps: Vec<&[&str]> = steps.iter().map(Vec::as_slice).collect();
    let run = kit.agent(&profile).run(&steps)?;
    run.finished()?;
    for (i, code) in codes.iter().enumerate() {
        ensure!(
            run.exit_code(i)? == *code as i64,
            "a real binary exiting {code} must answer {code}: {}",
            run.op(i)?
        );
    }
    Ok(())
}

fn signalled_command_answers_1(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let killed = kit.fake("killed", &["signal:9"]);
    let terminated = kit.fake("terminated", &["signal:15"]);
    let fine = kit.fake("fine", &["exit:0"]);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "killed", "binary_path": killed },
        { "name": "terminated", "binary_path": terminated },
        { "name": "fine", "binary_path": fine },
    ]}));
    let run =
        kit.agent(&profile)
            .run(&[&["run", "killed"], &["run", "terminated"], &["run", "fine"]])?;
    run.finished()?;
    run.expect_code(0, 1, "a command killed by SIGKILL must answer 1")?;
    run.expect_code(1, 1, "a command killed by SIGTERM must answer 1")?;
    run.expect_code(2, 0, "control: a command exiting 0 answers 0")?;
    Ok(())
}

fn respond_code_reaches_the_agent(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:99"]);
    let rules = json!([
        respond(&["zero"], "", 0),
        respond(&["three"], "", 3),
        respond(&["max"], "", 255),
        respond(&["wide"], "", 300),
    ]);
    let profile = kit.one_command("gh", &gh, rules);
    let run = kit.agent(&profile).run(&[
        &["run", "gh", "zero"],
        &["run", "gh", "three"],
        &["run", "gh", "max"],
        &["run", "gh", "wide"],
    ])?;
    run.finished()?;
    for (i, want) in [0, 3, 255, 44].into_iter().enumerate() {
        ensure!(
            run.exit_code(i)? == want,
            "the agent must see exit {want}: {}",
            run.op(i)?
        );
    }
    Ok(())
}

fn unknown_command_through_the_shim_is_127(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["print:gh ran\\n"]);
    let profile = kit.one_command("gh", &gh, json!([]));
    let run = kit.agent(&profile).run(&[
        &[
            "run-argv0",
            "NONO_MEDIATED_COMMANDS=gh,ghost",
            "{env:NONO_SHIM_DIR}/gh",
            "ghost",
            "x",
        ],
        &["run-argv0", "{env:NONO_SHIM_DIR}/gh", "gh", "x"],
    ])?;
    run.finished()?;
    run.expect_code(0, 127, "the server must answer 127 for ghost")?;
    ensure!(
        run.err(0)?.contains("ghost"),
        "the message must name ghost: {}",
        run.op(0)?
    );
    run.expect_out(1, "gh ran\n", "control: the same shim as gh runs gh")?;
    Ok(())
}
