//! The session: what an active mediation block creates before the agent starts, what the
//! agent is told about it, and that it is gone afterwards (MED-SESSION-*).

use super::{s, str_of, touch, wait_for_gate, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.session.keychain_access_is_accepted",
            "A profile whose command sandbox sets keychain_access (the fork's macOS switch, removed by the seed) runs, and its command is mediated",
            &["MED-SESSION-010"],
            keychain_access_is_accepted,
        ),
        case(
            "linux.mediation.session.child_profile_keeps_the_bases_commands_and_block",
            "A profile that extends a base and adds one mediated command still mediates the base's command and hides the base's env.block name from the agent (per-field merge, seen through run)",
            &["PRF-MED-001", "PRF-MED-006"],
            child_profile_keeps_the_bases_mediation,
        )
        .in_class(crate::spec::Class::MediationSeed),
        case(
            "linux.mediation.session.every_program_on_path_gets_an_audit_shim",
            "An executable on the supervisor's PATH that is not mediated gets an audit shim (a file that is not executable gets none, and a name found twice runs the first), so the agent running it by name is audited",
            &["MED-SESSION-009", "MED-SHIM-005", "MED-AUDIT-001"],
            every_program_on_path_gets_an_audit_shim,
        ),
        case(
            "linux.mediation.session.symlink_to_a_program_gets_an_audit_shim",
            "A symlink on the supervisor's PATH to an executable gets an audit shim like the program itself, so the agent running the link by name runs the program and is audited",
            &["MED-SESSION-012", "MED-SESSION-009"],
            symlink_to_a_program_gets_an_audit_shim,
        ),
        case(
            "linux.mediation.session.sockets_reachable_with_networking_blocked",
            "With network.block in the profile the agent still connects to the request and audit sockets, and a mediated call is answered",
            &["MED-SESSION-008", "MED-SESSION-001"],
            sockets_reachable_with_networking_blocked,
        )
        // network.block needs Landlock TCP filtering (ABI 4); below it an implementation may
        // refuse to run at all (CORE-APPLY-002), so the case says nothing there.
        .requires(Requirement::LandlockAbi(4)),
        case(
            "linux.mediation.session.agent_environment_names_the_session",
            "The agent gets NONO_MEDIATION_SOCKET, a 64-hex NONO_SESSION_TOKEN, NONO_SHIM_DIR, the mediated names in NONO_MEDIATED_COMMANDS, NONO_AUDIT_SOCKET and a PATH that starts with the shim directory",
            &["MED-SESSION-002"],
            agent_environment_names_the_session,
        ),
        case(
            "linux.mediation.session.directory_is_owner_only_and_holds_the_sockets",
            "The session directory has mode 0700 and holds the shim directory and both sockets",
            &["MED-SESSION-001"],
            directory_is_owner_only,
        ),
        case(
            "linux.mediation.session.one_shim_per_mediated_command",
            "The shim directory has an executable entry per mediated command, all the same file, none of them the real binary",
            &["MED-SESSION-001"],
            one_shim_per_mediated_command,
        ),
        case(
            "linux.mediation.session.sockets_accept_the_agent",
            "From inside the sandbox the request socket accepts a stream connection and the audit socket a datagram connection",
            &["MED-SESSION-001"],
            sockets_accept_the_agent,
        ),
        case(
            "linux.mediation.session.shim_sources_name_the_real_binary",
            "NONO_SHIM_SOURCES_DIR has a file per mediated command holding the real binary's absolute path",
            &["MED-SESSION-005", "MED-SESSION-007"],
            shim_sources_name_the_real_binary,
        ),
        case(
            "linux.mediation.session.real_binary_found_on_path_at_start",
            "A command without binary_path uses the first executable regular file of its name on the supervisor's PATH as its real binary, past a non-executable file and a directory",
            &["MED-SESSION-005", "MED-SRV-011"],
            real_binary_found_on_path,
        ),
        case(
            "linux.mediation.session.inactive_mediation_creates_nothing",
            "Without a mediation block no session variable is set, PATH is unchanged and nothing is created in the state directory; an active block in the same setup does set them",
            &["MED-SESSION-003"],
            inactive_mediation_creates_nothing,
        ),
        case(
            "linux.mediation.session.empty_mediation_block_is_inactive",
            "A mediation block with no commands and no blocked names creates no session",
            &["MED-SESSION-003", "PRF-MED-006"],
            empty_mediation_block_is_inactive,
        ),
        case(
            "linux.mediation.session.env_block_alone_makes_a_session",
            "A mediation block with only env.block is active: a session exists and NONO_MEDIATED_COMMANDS is empty",
            &["MED-SESSION-001", "MED-SESSION-002", "PRF-MED-006"],
            env_block_alone_makes_a_session,
        ),
        case(
            "linux.mediation.session.directory_removed_after_normal_exit",
            "The session directory that existed while the agent ran is gone after the agent exits 0",
            &["MED-SESSION-004"],
            |cx: &Ctx| directory_removed(cx, &[], 0),
        ),
        case(
            "linux.mediation.session.directory_removed_after_failure",
            "The session directory is gone after the agent exits 3",
            &["MED-SESSION-004"],
            |cx: &Ctx| directory_removed(cx, &["exit", "3"], 3),
        ),
        case(
            "linux.mediation.session.directory_removed_after_agent_killed",
            "The session directory is gone after the agent is killed by SIGKILL (the run exits 137)",
            &["MED-SESSION-004"],
            |cx: &Ctx| directory_removed(cx, &["kill-self", "9"], 137),
        ),
        case(
            "linux.mediation.session.directory_removed_after_agent_terminated",
            "The session directory is gone after the agent is killed by SIGTERM (the run exits 143)",
            &["MED-SESSION-004"],
            |cx: &Ctx| directory_removed(cx, &["kill-self", "15"], 143),
        ),
        case(
            "linux.mediation.session.directory_of_a_killed_supervisor_removed_at_next_start",
            "A session directory left behind by a supervisor killed with SIGKILL is gone once the next session has started, while the directory of a session still running stays",
            &["MED-SESSION-011"],
            orphan_removed_at_next_start,
        ),
        case(
            "linux.mediation.session.missing_binary_path_is_refused_or_skipped",
            "A binary_path that does not exist stops the run with exit 1 naming the command, or the command is skipped with a warning and gets no shim",
            &["MED-SESSION-006"],
            missing_binary_path,
        ),
        case(
            "linux.mediation.session.command_not_on_path_is_refused_or_skipped",
            "A command without binary_path that is not on PATH stops the run with exit 1 naming it, or is skipped with a warning and gets no shim",
            &["MED-SESSION-006"],
            command_not_on_path,
        ),
    ]
}

/// The variables every session sets (MED-SESSION-002); `NONO_SHIM_SOURCES_DIR`
/// (MED-SESSION-007) is checked with the records it names.
const SESSION_VARS: [&str; 5] = [
    "NONO_MEDIATION_SOCKET",
    "NONO_SESSION_TOKEN",
    "NONO_SHIM_DIR",
    "NONO_MEDIATED_COMMANDS",
    "NONO_AUDIT_SOCKET",
];

/// A profile mediating `gh` and `git`, both describing themselves.
fn two_commands(kit: &Kit) -> (PathBuf, PathBuf, PathBuf) {
    let gh = kit.fake("gh", &["describe"]);
    let git = kit.fake("git", &["describe"]);
    let profile = kit.mediation(json!({ "commands": [
        { "name": "gh", "binary_path": gh },
        { "name": "git", "binary_path": git },
    ]}));
    (profile, gh, git)
}

fn var<'a>(env: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    env.get(name).and_then(Value::as_str)
}

fn agent_environment_names_the_session(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _, _) = two_commands(&kit);
    let run = kit.agent(&profile).run(&[&["env"]])?;
    run.finished()?;
    let env = run.env_of(0)?;
    for name in SESSION_VARS {
        ensure!(
            env.contains_key(name),
            "{name} is not in the agent's environment: {:?}",
            env.keys().collect::<Vec<_>>()
        );
    }
    let token = var(&env, "NONO_SESSION_TOKEN").unwrap_or("");
    ensure!(
        token.len() == 64
            && token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "NONO_SESSION_TOKEN must be 64 lower-case hex digits: {token:?}"
    );
    let mut names: Vec<&str> = var(&env, "NONO_MEDIATED_COMMANDS")
        .unwrap_or("")
        .split(',')
        .collect();
    names.sort();
    ensure!(
        names == ["gh", "git"],
        "NONO_MEDIATED_COMMANDS must be the mediated names joined with ',': {:?}",
        var(&env, "NONO_MEDIATED_COMMANDS")
    );
    let shim_dir = var(&env, "NONO_SHIM_DIR").unwrap_or("");
    let path = var(&env, "PATH").unwrap_or("");
    ensure!(
        !shim_dir.is_empty() && path.split(':').next() == Some(shim_dir),
        "PATH must start with NONO_SHIM_DIR {shim_dir:?}: {path:?}"
    );
    Ok(())
}

fn inspect(kit: &Kit, profile: &Path) -> Result<(AgentRun, Value), String> {
    let run = kit.agent(profile).run(&[&["inspect"], &["env"]])?;
    run.finished()?;
    let report = run.op(0)?.clone();
    Ok((run, report))
}

fn directory_is_owner_only(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _, _) = two_commands(&kit);
    let (run, report) = inspect(&kit, &profile)?;
    let env = run.env_of(1)?;
    let dir = str_of(&report, "session_dir")
        .ok_or_else(|| format!("no session directory seen: {report}"))?;
    let mode = report.get("session_dir_mode").and_then(Value::as_u64);
    ensure!(
        mode == Some(0o700),
        "the session directory {dir} must have mode 0700, has {:o}",
        mode.unwrap_or(0)
    );
    for name in [
        "NONO_MEDIATION_SOCKET",
        "NONO_AUDIT_SOCKET",
        "NONO_SHIM_DIR",
    ] {
        let p = var(&env, name).unwrap_or("");
        ensure!(
            Path::new(p).parent() == Some(Path::new(dir)),
            "{name} {p:?} is not directly in the session directory {dir}"
        );
    }
    Ok(())
}

fn one_shim_per_mediated_command(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, gh, git) = two_commands(&kit);
    let (_, report) = inspect(&kit, &profile)?;
    let shims = report
        .get("shims")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut identities = vec![];
    for name in ["gh", "git"] {
        let entry = shims
            .get(name)
            .ok_or_else(|| format!("no shim for {name}: {:?}", shims.keys().collect::<Vec<_>>()))?;
        ensure!(
            entry.get("executable") == Some(&json!(true)),
            "the shim for {name} is not an executable file: {entry}"
        );
        identities.push(entry.get("dev_ino").cloned().unwrap_or(Value::Null));
    }
    ensure!(
        identities[0] == identities[1] && !identities[0].is_null(),
        "gh and git must resolve to the same shim: {shims:?}"
    );
    for real in [&gh, &git] {
        let meta = std::fs::metadata(real).map_err(|e| e.to_string())?;
        use std::os::unix::fs::MetadataExt;
        ensure!(
            identities[0] != json!([meta.dev(), meta.ino()]),
            "a shim resolves to the real binary {} itself",
            real.display()
        );
    }
    Ok(())
}

fn sockets_accept_the_agent(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _, _) = two_commands(&kit);
    let (_, report) = inspect(&kit, &profile)?;
    let med = &report["mediation_socket"];
    let audit = &report["audit_socket"];
    ensure!(
        med["is_socket"] == json!(true) && med["stream"] == json!(true),
        "the request socket must accept a stream connection: {med}"
    );
    ensure!(
        audit["is_socket"] == json!(true) && audit["datagram"] == json!(true),
        "the audit socket must accept datagrams: {audit}"
    );
    Ok(())
}

fn child_profile_keeps_the_bases_mediation(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let from_base = kit.fake("from-base", &["exit:9"]);
    let from_child = kit.fake("from-child", &["exit:9"]);
    let respond = |text: &str| super::respond(&["ping"], text, 0);
    // The base is found by name in the user profile directory, as nono looks bases up.
    cx.fx.file(
        "config/nono/profiles/conformance-mediation-base.json",
        &json!({ "mediation": {
            "commands": [{ "name": "from-base", "binary_path": from_base, "intercept": [respond("base answers\n")] }],
            "env": { "block": ["BASE_SECRET"] }
        }})
        .to_string(),
    );
    let child = kit.profile_named(
        "child",
        json!({ "extends": "conformance-mediation-base", "mediation": {
            "commands": [{ "name": "from-child", "binary_path": from_child, "intercept": [respond("child answers\n")] }]
        }}),
    );
    let bare_child = kit.profile_named("bare-child", json!({ "extends": "conformance-mediation-base" }));
    let steps: &[&[&str]] = &[&["env"], &["run", "from-base", "ping"]];
    let control = kit.agent(&bare_child).env("BASE_SECRET", "s3").run(steps)?;
    control.finished()?;
    ensure!(
        control.out(1)? == "base answers\n" && !control.env_of(0)?.contains_key("BASE_SECRET"),
        "control: a child without mediation must keep the base's command and block: {}",
        control
    );
    let run = kit
        .agent(&child)
        .env("BASE_SECRET", "s3")
        .run(&[&["env"], &["run", "from-base", "ping"], &["run", "from-child", "ping"]])?;
    run.finished()?;
    let env = run.env_of(0)?;
    ensure!(
        !env.contains_key("BASE_SECRET"),
        "the base's env.block must still hide BASE_SECRET from the agent: {:?}",
        env.get("BASE_SECRET")
    );
    let mediated = var(&env, "NONO_MEDIATED_COMMANDS").unwrap_or("");
    ensure!(
        mediated.split(',').any(|n| n == "from-base") && mediated.split(',').any(|n| n == "from-child"),
        "both the base's and the child's commands must be mediated: NONO_MEDIATED_COMMANDS={mediated:?}"
    );
    ensure!(
        run.out(1)? == "base answers\n" && run.out(2)? == "child answers\n",
        "the base's rule and the child's rule must both answer: {} / {}",
        run.op(1)?,
        run.op(2)?
    );
    Ok(())
}

fn keychain_access_is_accepted(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let security = kit.fake("security", &["exit:9"]);
    let profile = kit.mediation(json!({ "commands": [{
        "name": "security", "binary_path": security,
        "sandbox": { "keychain_access": true },
        "intercept": [super::respond(&["find-generic-password"], "answered\n", 0)]
    }]}));
    let run = kit.agent(&profile).run(&[&["run", "security", "find-generic-password"]])?;
    run.finished()?;
    ensure!(
        run.exit_code(0)? == 0 && run.out(0)? == "answered\n",
        "the profile with keychain_access must run and mediate security: {}",
        run.op(0)?
    );
    Ok(())
}

/// A directory `tools` for the supervisor's `PATH` holding `lister`, a test program that
/// prints "listed" and exits with 4.
fn tools_with_a_lister(cx: &Ctx) -> Result<(PathBuf, PathBuf), String> {
    let tools = cx.fx.dir("tools");
    let lister = cx.fx.copy_executable("tools/lister", &super::mediated(cx));
    std::fs::write(tools.join("lister.steps"), "print:listed\\n\nexit:4\n").map_err(|e| e.to_string())?;
    Ok((tools, lister))
}

/// The names of the shim directory the agent listed in step `step`.
fn shim_entries(run: &AgentRun, step: usize) -> Result<Vec<String>, String> {
    Ok(run.op(step)?["entries"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect())
}

/// Step `step` ran `name` by name with `args`: it printed "listed", exited with 4, and
/// left exactly one audit line for `name`.
fn ran_the_lister_audited(run: &AgentRun, step: usize, name: &str, args: Value) -> CaseResult {
    ensure!(
        run.exit_code(step)? == 4 && run.out(step)? == "listed\n",
        "{name} run by name must run tools/lister (the first lister on PATH) and exit with its 4: {}",
        run.op(step)?
    );
    let lines = run.audit_for(name);
    ensure!(
        lines.len() == 1 && lines[0]["exit_code"] == json!(4) && lines[0]["args"] == args,
        "{name} run by name must be audited once: {:?}",
        run.audit
    );
    Ok(())
}

fn every_program_on_path_gets_an_audit_shim(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let (tools, _) = tools_with_a_lister(cx)?;
    cx.fx.file("tools/plain-data", "not a program");
    // A later PATH directory with a lister of its own: the first one must stay the real one.
    let later = cx.fx.dir("later-tools");
    cx.fx.copy_executable("later-tools/lister", &super::mediated(cx));
    std::fs::write(later.join("lister.steps"), "print:the later lister\\n\nexit:5\n").map_err(|e| e.to_string())?;
    let profile = kit.one_command("gh", &gh, json!([]));
    let path = format!("{}:{}:/usr/bin:/bin", s(&tools), s(&later));
    let run = kit
        .agent(&profile)
        .env("PATH", &path)
        .flag("--read", &tools)
        .flag("--read", &later)
        .run(&[&["readdir", "{env:NONO_SHIM_DIR}"], &["run", "lister", "--all"]])?;
    run.finished()?;
    let entries = shim_entries(&run, 0)?;
    // The directory also holds a shim per program of /usr/bin and /bin: name only what is wrong.
    let missing: Vec<&str> = ["gh", "lister"].into_iter().filter(|n| !entries.iter().any(|e| e == n)).collect();
    ensure!(
        missing.is_empty(),
        "the shim directory must hold gh (mediated) and lister (audit shim); missing: {missing:?} ({} entries)",
        entries.len()
    );
    ensure!(
        !entries.iter().any(|e| e == "plain-data"),
        "a file that is not executable must get no shim, but the shim directory holds plain-data"
    );
    ran_the_lister_audited(&run, 1, "lister", json!(["--all"]))
}

fn symlink_to_a_program_gets_an_audit_shim(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:0"]);
    let (tools, lister) = tools_with_a_lister(cx)?;
    // As python3 -> python3.11: the link runs lister's steps, found through its resolved path.
    cx.fx.symlink("tools/lister-link", &lister);
    let profile = kit.one_command("gh", &gh, json!([]));
    let path = format!("{}:/usr/bin:/bin", s(&tools));
    let run = kit
        .agent(&profile)
        .env("PATH", &path)
        .flag("--read", &tools)
        .run(&[&["readdir", "{env:NONO_SHIM_DIR}"], &["run", "lister", "--all"], &["run", "lister-link", "--linked"]])?;
    run.finished()?;
    // The control: the program itself has its shim and is audited under the same grants.
    ran_the_lister_audited(&run, 1, "lister", json!(["--all"]))?;
    ensure!(
        shim_entries(&run, 0)?.iter().any(|e| e == "lister-link"),
        "lister-link, a symlink to a program on PATH, must get an audit shim like lister, which has one"
    );
    ran_the_lister_audited(&run, 2, "lister-link", json!(["--linked"]))
}

fn sockets_reachable_with_networking_blocked(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["exit:9"]);
    let profile = kit.profile_named(
        "blocked",
        json!({
            "network": { "block": true },
            "mediation": { "commands": [{ "name": "gh", "binary_path": gh,
                "intercept": [super::respond(&["status"], "answered\n", 0)] }] }
        }),
    );
    let run = kit.agent(&profile).run(&[&["inspect"], &["run", "gh", "status"]])?;
    run.finished()?;
    let report = run.op(0)?;
    ensure!(
        report["mediation_socket"]["stream"] == json!(true) && report["audit_socket"]["datagram"] == json!(true),
        "with networking blocked the agent must still reach both sockets: {report}"
    );
    ensure!(
        run.exit_code(1)? == 0 && run.out(1)? == "answered\n",
        "with networking blocked a mediated call must still be answered: {}",
        run.op(1)?
    );
    Ok(())
}

fn shim_sources_name_the_real_binary(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, gh, git) = two_commands(&kit);
    let (_, report) = inspect(&kit, &profile)?;
    for (name, real) in [("gh", &gh), ("git", &git)] {
        let content = report["sources"]
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim);
        ensure!(
            content == Some(s(real)),
            "the sources file for {name} must hold {}: {:?} (all: {})",
            real.display(),
            content,
            report["sources"]
        );
    }
    Ok(())
}

fn real_binary_found_on_path(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let real = kit.fake("nono-conformance-tool", &["describe"]);
    let decoy_dir = cx.fx.dir("later-on-path");
    std::fs::copy(super::mediated(cx), decoy_dir.join("nono-conformance-tool"))
        .map_err(|e| e.to_string())?;
    // Earlier on PATH, two things of the same name that are not programs: a regular file
    // without execute permission and a directory (with it). A match is an executable
    // regular file, as `which` finds it.
    let not_executable_dir = cx.fx.dir("not-executable-on-path");
    std::fs::write(not_executable_dir.join("nono-conformance-tool"), "#!/bin/sh\nexit 3\n").map_err(|e| e.to_string())?;
    let directory_dir = cx.fx.dir("directory-on-path");
    std::fs::create_dir(directory_dir.join("nono-conformance-tool")).map_err(|e| e.to_string())?;
    let profile = kit.mediation(json!({ "commands": [{ "name": "nono-conformance-tool" }] }));
    let path = format!(
        "{}:{}:{}:{}:/usr/bin:/bin",
        s(&not_executable_dir),
        s(&directory_dir),
        real.parent().map(s).unwrap_or(""),
        s(&decoy_dir)
    );
    let run = kit
        .agent(&profile)
        .env("PATH", &path)
        .run(&[&["run", "nono-conformance-tool", "hello"], &["inspect"]])?;
    run.finished()?;
    let described = run.described(0)?;
    ensure!(
        super::args_of(&described) == ["hello"],
        "the command did not run with its arguments: {described}"
    );
    let argv0 = described["argv"][0].as_str().unwrap_or("");
    ensure!(
        argv0 == s(&real),
        "the real binary must be the first match on PATH, {}; ran {argv0:?}",
        real.display()
    );
    let source = run.op(1)?["sources"]
        .get("nono-conformance-tool")
        .and_then(Value::as_str)
        .map(str::trim)
        .map(str::to_string);
    ensure!(
        source.as_deref().is_none_or(|p| p == s(&real)),
        "the sources file names {source:?}, not {}",
        real.display()
    );
    Ok(())
}

fn no_session_in(env: &serde_json::Map<String, Value>, path_given: &str) -> CaseResult {
    for name in SESSION_VARS {
        ensure!(
            !env.contains_key(name),
            "{name} is set without an active mediation block: {:?}",
            env.get(name)
        );
    }
    ensure!(
        var(env, "PATH") == Some(path_given),
        "PATH changed without mediation: {:?} (given {path_given:?})",
        var(env, "PATH")
    );
    Ok(())
}

fn state_entries(cx: &Ctx) -> Vec<String> {
    let mut found = vec![];
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            out.push(e.path().display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&e.path(), out);
            }
        }
    }
    walk(&cx.fx.path("state"), &mut found);
    found
}

fn inactive_mediation_creates_nothing(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let path = "/usr/local/bin:/usr/bin:/bin";
    let plain = kit.profile_named(
        "plain",
        json!({ "filesystem": { "read": [cx.fx.dir("data")] } }),
    );
    let run = kit.agent(&plain).env("PATH", path).run(&[&["env"]])?;
    run.finished()?;
    no_session_in(&run.env_of(0)?, path)?;
    let created = state_entries(cx);
    ensure!(
        created.is_empty(),
        "an inactive mediation block created state: {created:?}"
    );
    // Control: the same setup with one mediated command does start a session.
    let gh = kit.fake("gh", &["describe"]);
    let active = kit.one_command("gh", &gh, json!([]));
    let run = kit.agent(&active).env("PATH", path).run(&[&["env"]])?;
    run.finished()?;
    let env = run.env_of(0)?;
    ensure!(
        env.contains_key("NONO_SESSION_TOKEN"),
        "control: an active block must start a session: {:?}",
        env.keys().collect::<Vec<_>>()
    );
    Ok(())
}

fn empty_mediation_block_is_inactive(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let path = "/usr/bin:/bin";
    let profile = kit.mediation(json!({ "commands": [], "env": { "block": [] } }));
    let run = kit.agent(&profile).env("PATH", path).run(&[&["env"]])?;
    run.finished()?;
    no_session_in(&run.env_of(0)?, path)?;
    let created = state_entries(cx);
    ensure!(
        created.is_empty(),
        "an empty mediation block created state: {created:?}"
    );
    Ok(())
}

fn env_block_alone_makes_a_session(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let profile = kit.mediation(json!({ "env": { "block": ["GH_TOKEN"] } }));
    let run = kit
        .agent(&profile)
        .env("GH_TOKEN", "secret")
        .run(&[&["env"]])?;
    run.finished()?;
    let env = run.env_of(0)?;
    for name in SESSION_VARS {
        ensure!(
            env.contains_key(name),
            "{name} is missing although env.block makes the block active: {:?}",
            env.keys().collect::<Vec<_>>()
        );
    }
    ensure!(
        var(&env, "NONO_MEDIATED_COMMANDS") == Some(""),
        "no command is mediated: {:?}",
        var(&env, "NONO_MEDIATED_COMMANDS")
    );
    ensure!(!env.contains_key("GH_TOKEN"), "GH_TOKEN reached the agent");
    Ok(())
}

fn directory_removed(cx: &Ctx, last_step: &[&str], expected_code: i32) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _, _) = two_commands(&kit);
    let mut steps: Vec<&[&str]> = vec![&["inspect"]];
    if !last_step.is_empty() {
        steps.push(last_step);
    }
    let run = kit.agent(&profile).run(&steps)?;
    ensure!(
        run.code == expected_code,
        "the run must exit {expected_code}: {run}"
    );
    let dir = session_dir_of(&run)?;
    ensure!(
        run.op(0)?.get("session_dir_mode").is_some_and(|m| !m.is_null()),
        "control: the session directory {} did not exist while the agent ran",
        dir.display()
    );
    ensure!(
        !dir.exists(),
        "the session directory {} is still there after the run",
        dir.display()
    );
    Ok(())
}

/// The session directory the agent of `run` saw in its first step (`inspect`).
fn session_dir_of(run: &AgentRun) -> Result<PathBuf, String> {
    let report = run.op(0)?;
    str_of(report, "session_dir")
        .map(PathBuf::from)
        .ok_or_else(|| format!("the agent saw no session directory: {report}"))
}

/// Session K's supervisor is killed with SIGKILL while its agent waits, so K cannot clean
/// up. Then session L starts and waits, and a third session runs to its end while L still
/// runs. K's directory must be gone by then, and L's must still be there.
///
/// The three sessions get a `TMPDIR` of their own: a session of a case running beside this
/// one would otherwise remove K's directory before the control below looks at it.
fn orphan_removed_at_next_start(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let (profile, _, _) = two_commands(&kit);
    let gate = cx.fx.dir("gate");
    let [killed_ready, never, live_ready, live_release] =
        ["killed-ready", "never", "live-ready", "live-release"].map(|n| gate.join(n));
    let tmpdir = kit.own_session_tmpdir()?;
    let agent = || kit.agent(&profile).env("TMPDIR", tmpdir.path()).flag("--allow", &gate);

    let killed = agent().spawn(&[&["inspect"], &["write", s(&killed_ready)], &["wait-file", s(&never)]]);
    wait_for_gate(&killed_ready)?;
    killed.kill();
    // An agent that outlived its supervisor (another process group) stops waiting now.
    touch(&never)?;
    let killed_dir = session_dir_of(&killed.wait()?)?;
    ensure!(
        killed_dir.exists(),
        "control: the session directory {} is already gone although its supervisor was killed with SIGKILL",
        killed_dir.display()
    );
    let sessions = killed_dir.parent().ok_or("the session directory has no parent")?.to_path_buf();

    let live = agent().spawn(&[&["inspect"], &["write", s(&live_ready)], &["wait-file", s(&live_release)]]);
    let waited = wait_for_gate(&live_ready);
    let next = waited.and_then(|()| agent().run(&[&["inspect"]]));
    let present: Vec<PathBuf> = std::fs::read_dir(&sessions)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    touch(&live_release)?;
    let live_dir = session_dir_of(&live.wait()?)?;
    let next = next?;
    ensure!(next.code == 0, "control: the next session must run to its end: {next}");
    session_dir_of(&next)?;
    ensure!(
        present.contains(&live_dir),
        "the directory {} of a session still running was removed when another session started",
        live_dir.display()
    );
    ensure!(
        !present.contains(&killed_dir),
        "the directory {} left by the killed supervisor is still there after two more sessions started",
        killed_dir.display()
    );
    Ok(())
}

/// The run either refuses (exit 1, stderr naming the command, agent never ran) or skips the
/// command (a warning naming it, no shim, not in NONO_MEDIATED_COMMANDS).
fn refused_or_skipped(kit: &Kit, profile: &Path, name: &str, path_env: Option<&str>) -> CaseResult {
    let marker = kit.cx.fx.dir("out").join("agent-ran");
    let mut agent = kit.agent(profile).flag("--allow", kit.cx.fx.path("out"));
    if let Some(p) = path_env {
        agent = agent.env("PATH", p);
    }
    let run = agent.run(&[&["write", s(&marker)], &["env"], &["inspect"]])?;
    ensure!(
        run.stderr.contains(name),
        "the refusal or warning must name {name}: {run}"
    );
    if run.code == 1 {
        ensure!(
            !marker.exists(),
            "the run was refused (exit 1) but the agent ran"
        );
        return Ok(());
    }
    run.finished()?;
    let env = run.env_of(1)?;
    let listed = var(&env, "NONO_MEDIATED_COMMANDS")
        .unwrap_or("")
        .split(',')
        .any(|n| n == name);
    ensure!(
        !listed,
        "{name} was skipped but is still listed in NONO_MEDIATED_COMMANDS"
    );
    let shims = &run.op(2)?["shims"];
    ensure!(
        shims.get(name).is_none(),
        "{name} was skipped but has a shim: {shims}"
    );
    Ok(())
}

fn missing_binary_path(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let good = kit.fake("git", &["describe"]);
    let missing = cx.fx.path("bin/not-installed");
    let profile = kit.mediation(json!({ "commands": [
        { "name": "gh", "binary_path": missing },
        { "name": "git", "binary_path": good },
    ]}));
    refused_or_skipped(&kit, &profile, "gh", None)?;
    // Control: with the binary installed the command is mediated.
    let gh = kit.fake("gh", &["describe"]);
    let fixed = kit.profile_named(
        "fixed",
        json!({ "mediation": { "commands": [
            { "name": "gh", "binary_path": gh },
            { "name": "git", "binary_path": good },
        ]}}),
    );
    let run = kit.agent(&fixed).run(&[&["run", "gh", "x"]])?;
    run.finished()?;
    run.expect_code(0, 0, "control: gh with its binary installed must run")?;
    Ok(())
}

fn command_not_on_path(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let good = kit.fake("git", &["describe"]);
    let name = "nono-conformance-absent-tool";
    let profile = kit.mediation(json!({ "commands": [
        { "name": name },
        { "name": "git", "binary_path": good },
    ]}));
    refused_or_skipped(&kit, &profile, name, Some("/usr/bin:/bin"))?;
    // Control: once the tool is on PATH it is mediated.
    let tool = kit.fake(name, &["describe"]);
    let path = format!("{}:/usr/bin:/bin", tool.parent().map(s).unwrap_or(""));
    let run = kit
        .agent(&profile)
        .env("PATH", &path)
        .run(&[&["run", name, "x"]])?;
    run.finished()?;
    run.expect_code(0, 0, "control: the tool on PATH must run")?;
    Ok(())
}
