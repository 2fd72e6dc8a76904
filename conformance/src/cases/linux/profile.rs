//! Profiles in `run`: the merged profile is what the sandbox enforces.
//!
//! The profile vectors (`fixtures/profiles`) check resolution and merging through
//! `profile show`, which only implementations printing the canonical form can pass; these
//! cases judge the same rules by their effect, so they hold for every fork. Each writes its profiles into a user
//! profile directory inside its fixture root (`XDG_CONFIG_HOME`), points `HOME` into the
//! root too, and runs the probe under `--profile`. Every denial has an allow under the same
//! profile, and side effects are checked from outside.

use crate::kit::arg as s;
use crate::kit::expect::took_connection;
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.profile.grandparent_grant_is_enforced",
            "Read grants from a grandparent and a parent profile are enforced in the child's run, and nothing else is granted",
            &["PRF-RUN-001", "PRF-EXT-001"],
            grandparent_grant_is_enforced,
        ),
        case(
            "linux.profile.multiple_parents_all_contribute",
            "With extends [a, b] the grants of both parents are enforced",
            &["PRF-RUN-001", "PRF-MERGE-006"],
            multiple_parents_all_contribute,
        ),
        case(
            "linux.profile.name_found_in_user_directory",
            "A profile named (not a path) is found as NAME.json in $XDG_CONFIG_HOME/nono/profiles and enforced",
            &["PRF-LOOKUP-002", "PRF-RUN-001"],
            name_found_in_user_directory,
        ),
        case(
            "linux.profile.child_block_denies_connect",
            "A child's network.block denies TCP connects that its base alone allows",
            &["PRF-RUN-002", "PRF-MERGE-002"],
            child_block_denies_connect,
        )
        .requires(Requirement::LandlockAbi(4)),
        case(
            "linux.profile.child_cannot_unblock",
            "A child saying network.block false cannot lift its base's block",
            &["PRF-RUN-002", "PRF-MERGE-002"],
            child_cannot_unblock,
        )
        .requires(Requirement::LandlockAbi(4)),
        case(
            "linux.profile.lists_union_across_extends",
            "A child's read grant adds to its base's read and read-write grants: all are enforced, a third directory stays denied",
            &["PRF-MERGE-001", "PRF-RUN-001", "PRF-EXT-001"],
            lists_union_across_extends,
        ),
        case(
            "linux.profile.comments_are_accepted",
            "A profile with // and /* */ comments and a $schema key runs, and its grant is enforced",
            &["PRF-FORMAT-001"],
            comments_are_accepted,
        ),
        case(
            "linux.profile.workdir_inherited_when_the_child_says_none",
            "A child whose workdir.access is none keeps its base's readwrite working directory",
            &["PRF-MERGE-004", "PRF-RUN-003"],
            workdir_inherited_when_the_child_says_none,
        ),
        case(
            "linux.profile.dollar_home_is_expanded_in_grants",
            "A $HOME/ path in a profile grants the directory under HOME, and not its siblings",
            &["PRF-EXP-002", "PRF-RUN-001"],
            dollar_home_is_expanded,
        ),
        case(
            "linux.profile.workdir_readwrite_grants_the_working_directory",
            "workdir.access readwrite allows creating files in the working directory and nowhere else",
            &["PRF-RUN-003"],
            workdir_readwrite,
        ),
        case(
            "linux.profile.workdir_read_allows_no_writes",
            "workdir.access read allows reading the working directory but not creating files in it",
            &["PRF-RUN-003"],
            workdir_read,
        ),
        case(
            "linux.profile.workdir_none_grants_nothing",
            "workdir.access none leaves the working directory unreadable",
            &["PRF-RUN-003"],
            workdir_none,
        ),
        case(
            "linux.profile.environment_rules_shape_the_programs_environment",
            "deny_vars, allow_vars and set_vars decide which variables the program sees",
            &["PRF-RUN-004"],
            environment_rules,
        ),
        case(
            "linux.profile.mediation_env_block_keeps_names_from_the_program",
            "A name in mediation.env.block never reaches the program, while other variables do",
            &["PRF-RUN-009"],
            mediation_env_block,
        ),
        case(
            "linux.profile.dangerous_names_still_scrubbed",
            "allow_vars [\"*\"] does not let a dangerous variable through",
            &["PRF-RUN-004", "ENV-SCRUB-001"],
            dangerous_names_still_scrubbed,
        ),
        case(
            "linux.profile.missing_path_is_skipped",
            "A profile path that does not exist is skipped: the run goes on and the other grants work",
            &["PRF-RUN-005"],
            missing_path_skipped,
        ),
        case(
            "linux.profile.missing_path_is_skipped_with_a_warning",
            "A profile path that does not exist is named in a warning on stderr",
            &["PRF-RUN-010"],
            missing_path_named_in_a_warning,
        ),
        case(
            "linux.profile.deny_inside_a_grant_is_refused",
            "A deny path inside a granted directory makes run exit 1 without starting the program",
            &["PRF-RUN-006"],
            deny_inside_grant_refused,
        ),
        case(
            "linux.profile.flags_add_to_the_profile",
            "Grant flags given with --profile add to the profile's grants",
            &["PRF-RUN-007"],
            flags_add_to_profile,
        ),
        case(
            "linux.profile.home_is_expanded_in_grants",
            "A ~/ path in a profile grants the directory under HOME, and not its siblings",
            &["PRF-EXP-001", "PRF-RUN-001"],
            home_is_expanded,
        ),
        case(
            "linux.profile.invalid_profile_runs_nothing",
            "A profile with an unknown key makes run exit 1 and start nothing",
            &["PRF-ERR-001", "PRF-FORMAT-003"],
            invalid_profile_runs_nothing,
        ),
    ]
}

/// Writes `NAME.json` into the case's user profile directory.
pub(super) fn write_profile(cx: &Ctx, name: &str, profile: Value) -> PathBuf {
    let dir = cx.fx.dir("config/nono/profiles");
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&profile).unwrap()).expect("writing a profile");
    path
}

/// A run under `--profile REF` with the case's own profile directory and home.
pub(super) fn with_profile(cx: &Ctx, reference: &str) -> Run {
    let root = cx.fx.root();
    cx.run()
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("HOME", cx.fx.dir("home"))
        .arg("--profile")
        .arg(reference)
}

fn read_allowed(run: &Run, cx: &Ctx, rel: &str, content: &str) -> CaseResult {
    let r = run.op(Op::read(cx.fx.path(rel)))?;
    expect_class(&r, Class::Allowed, &format!("read {rel}"))?;
    ensure!(r.str_field("content") == Some(content), "read {rel}: content {:?}", r.str_field("content"));
    Ok(())
}

fn read_denied(run: &Run, cx: &Ctx, rel: &str) -> CaseResult {
    let r = run.op(Op::read(cx.fx.path(rel)))?;
    expect_class(&r, Class::Denied, &format!("read {rel}"))
}

fn grandparent_grant_is_enforced(cx: &Ctx) -> CaseResult {
    cx.fx.file("gp/f", "from grandparent");
    cx.fx.file("p/f", "from parent");
    cx.fx.file("other/f", "ungranted");
    write_profile(cx, "grandparent", json!({ "filesystem": { "read": [cx.fx.path("gp")] } }));
    write_profile(cx, "parent", json!({ "extends": "grandparent", "filesystem": { "read": [cx.fx.path("p")] } }));
    let child = write_profile(cx, "child", json!({ "extends": "parent" }));
    let run = with_profile(cx, s(&child));
    read_allowed(&run, cx, "gp/f", "from grandparent")?;
    read_allowed(&run, cx, "p/f", "from parent")?;
    read_denied(&run, cx, "other/f")?;
    let w = run.op(Op::write(cx.fx.path("gp/f"), "changed"))?;
    expect_class(&w, Class::Denied, "write under the grandparent's read-only grant")?;
    ensure!(cx.fx.read("gp/f").as_deref() == Some("from grandparent"), "gp/f changed: {:?}", cx.fx.read("gp/f"));
    Ok(())
}

fn multiple_parents_all_contribute(cx: &Ctx) -> CaseResult {
    cx.fx.file("a/f", "a");
    cx.fx.file("b/f", "b");
    cx.fx.file("c/f", "c");
    write_profile(cx, "pa", json!({ "filesystem": { "read": [cx.fx.path("a")] } }));
    write_profile(cx, "pb", json!({ "filesystem": { "read": [cx.fx.path("b")] } }));
    let child = write_profile(cx, "child", json!({ "extends": ["pa", "pb"] }));
    let run = with_profile(cx, s(&child));
    read_allowed(&run, cx, "a/f", "a")?;
    read_allowed(&run, cx, "b/f", "b")?;
    read_denied(&run, cx, "c/f")
}

fn name_found_in_user_directory(cx: &Ctx) -> CaseResult {
    cx.fx.file("data/f", "by name");
    cx.fx.file("other/f", "no");
    write_profile(cx, "conformance-by-name", json!({ "filesystem": { "read": [cx.fx.path("data")] } }));
    let run = with_profile(cx, "conformance-by-name");
    read_allowed(&run, cx, "data/f", "by name")?;
    read_denied(&run, cx, "other/f")
}

/// A non-blocking listener on 127.0.0.1, created outside the sandbox.
fn listener() -> Result<(TcpListener, u16), String> {
    let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(|e| format!("listening on 127.0.0.1: {e}"))?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let port = l.local_addr().map_err(|e| e.to_string())?.port();
    Ok((l, port))
}

fn connect(run: &Run, port: u16) -> Result<crate::ProbeResult, String> {
    run.op(Op::connect_tcp(Ipv4Addr::LOCALHOST, port))
}

fn expect_connect_denied(run: &Run, l: &TcpListener, port: u16, what: &str) -> CaseResult {
    crate::kit::expect::expect_connect_denied(&connect(run, port)?, l, what)
}

fn child_block_denies_connect(cx: &Ctx) -> CaseResult {
    let (l, port) = listener()?;
    let base = write_profile(cx, "base", json!({ "network": { "block": false } }));
    let child = write_profile(cx, "child", json!({ "extends": "base", "network": { "block": true } }));
    let allowed = connect(&with_profile(cx, s(&base)), port)?;
    expect_class(&allowed, Class::Allowed, "control: connect under the base profile alone")?;
    ensure!(took_connection(&l)?, "control: connect reported ok but the listener has no connection");
    expect_connect_denied(&with_profile(cx, s(&child)), &l, port, "connect under the blocking child")
}

fn child_cannot_unblock(cx: &Ctx) -> CaseResult {
    let (l, port) = listener()?;
    let out = cx.fx.dir("out");
    write_profile(cx, "base", json!({ "network": { "block": true } }));
    let child = write_profile(
        cx,
        "child",
        json!({ "extends": "base", "network": { "block": false }, "filesystem": { "allow": [out] } }),
    );
    let run = with_profile(cx, s(&child));
    expect_connect_denied(&run, &l, port, "connect under a child that says block: false")?;
    let r = run.op(Op::create(out.join("control")))?;
    expect_class(&r, Class::Allowed, "control: create in the child's own grant")?;
    ensure!(cx.fx.exists("out/control"), "control: no file was created");
    Ok(())
}

fn workdir_readwrite(cx: &Ctx) -> CaseResult {
    let work = cx.fx.dir("work");
    cx.fx.dir("outside");
    let profile = write_profile(cx, "p", json!({ "workdir": { "access": "readwrite" } }));
    let run = with_profile(cx, s(&profile)).arg("--allow-cwd").current_dir(&work);
    let r = run.op(Op::create(work.join("new")))?;
    expect_class(&r, Class::Allowed, "create in the working directory")?;
    ensure!(cx.fx.exists("work/new"), "create reported ok but work/new is absent");
    let r = run.op(Op::create(cx.fx.path("outside/new")))?;
    expect_class(&r, Class::Denied, "create outside the working directory")?;
    ensure!(!cx.fx.exists("outside/new"), "a file was created outside the working directory");
    Ok(())
}

fn workdir_read(cx: &Ctx) -> CaseResult {
    let work = cx.fx.dir("work");
    cx.fx.file("work/f", "readable");
    let profile = write_profile(cx, "p", json!({ "workdir": { "access": "read" } }));
    let run = with_profile(cx, s(&profile)).arg("--allow-cwd").current_dir(&work);
    read_allowed(&run, cx, "work/f", "readable")?;
    let r = run.op(Op::create(work.join("new")))?;
    expect_class(&r, Class::Denied, "create in a read-only working directory")?;
    ensure!(!cx.fx.exists("work/new"), "a file was created in the read-only working directory");
    Ok(())
}

fn workdir_none(cx: &Ctx) -> CaseResult {
    let work = cx.fx.dir("work");
    cx.fx.file("work/f", "private");
    cx.fx.file("granted/f", "granted");
    let profile = write_profile(
        cx,
        "p",
        json!({ "workdir": { "access": "none" }, "filesystem": { "read": [cx.fx.path("granted")] } }),
    );
    let run = with_profile(cx, s(&profile)).current_dir(&work);
    read_allowed(&run, cx, "granted/f", "granted")?;
    read_denied(&run, cx, "work/f")
}

fn program_env(run: &Run) -> Result<serde_json::Map<String, Value>, String> {
    let r = run.op(Op::Env)?;
    r.extra.get("env").and_then(Value::as_object).cloned().ok_or_else(|| format!("probe env returned no environment: {r}"))
}

fn environment_rules(cx: &Ctx) -> CaseResult {
    let profile = write_profile(
        cx,
        "p",
        json!({
            "environment": {
                "allow_vars": ["PATH", "HOME", "KEEP_*", "SECRET_DENIED"],
                "deny_vars": ["SECRET_DENIED"],
                "set_vars": { "SET_BY_PROFILE": "profile value", "KEEP_OVERRIDDEN": "from profile" }
            }
        }),
    );
    let run = with_profile(cx, s(&profile))
        .env("KEEP_ME", "kept")
        .env("KEEP_OVERRIDDEN", "from caller")
        .env("NOT_ALLOWED", "dropped")
        .env("SECRET_DENIED", "dropped");
    let env = program_env(&run)?;
    let value = |name: &str| env.get(name).and_then(Value::as_str).map(str::to_string);
    ensure!(value("KEEP_ME").as_deref() == Some("kept"), "KEEP_ME matches allow_vars KEEP_* and must pass: {:?}", value("KEEP_ME"));
    ensure!(value("SET_BY_PROFILE").as_deref() == Some("profile value"), "set_vars: {:?}", value("SET_BY_PROFILE"));
    ensure!(value("KEEP_OVERRIDDEN").as_deref() == Some("from profile"), "set_vars must win: {:?}", value("KEEP_OVERRIDDEN"));
    for dropped in ["NOT_ALLOWED", "SECRET_DENIED"] {
        ensure!(!env.contains_key(dropped), "{dropped} reached the program: {:?}", value(dropped));
    }
    Ok(())
}

fn mediation_env_block(cx: &Ctx) -> CaseResult {
    let profile = write_profile(cx, "p", json!({ "mediation": { "env": { "block": ["GH_TOKEN"] } } }));
    let env = program_env(&with_profile(cx, s(&profile)).env("GH_TOKEN", "secret").env("GH_HOST", "kept"))?;
    ensure!(!env.contains_key("GH_TOKEN"), "GH_TOKEN reached the program: {:?}", env.get("GH_TOKEN"));
    ensure!(env.get("GH_HOST").and_then(Value::as_str) == Some("kept"), "control: GH_HOST must pass: {:?}", env.get("GH_HOST"));
    Ok(())
}

fn dangerous_names_still_scrubbed(cx: &Ctx) -> CaseResult {
    let profile = write_profile(cx, "p", json!({ "environment": { "allow_vars": ["*"] } }));
    let env = program_env(&with_profile(cx, s(&profile)).env("NODE_OPTIONS", "--require=x").env("HARMLESS", "yes"))?;
    ensure!(!env.contains_key("NODE_OPTIONS"), "NODE_OPTIONS reached the program under allow_vars [\"*\"]");
    ensure!(env.get("HARMLESS").and_then(Value::as_str) == Some("yes"), "control: HARMLESS must pass: {:?}", env.get("HARMLESS"));
    Ok(())
}

fn missing_path_skipped(cx: &Ctx) -> CaseResult {
    cx.fx.file("present/f", "here");
    cx.fx.file("other/f", "not granted");
    let missing = cx.fx.path("missing-dir");
    let profile = write_profile(cx, "p", json!({ "filesystem": { "read": [missing, cx.fx.path("present")] } }));
    let out = with_profile(cx, s(&profile)).probe(Op::read(cx.fx.path("present/f")));
    let r = out.probe()?;
    expect_class(&r, Class::Allowed, "read the present path")?;
    ensure!(!cx.fx.exists("missing-dir"), "the missing path was created: {out}");
    read_denied(&with_profile(cx, s(&profile)), cx, "other/f")
}

fn missing_path_named_in_a_warning(cx: &Ctx) -> CaseResult {
    cx.fx.file("present/f", "here");
    let missing = cx.fx.path("missing-dir");
    let profile = write_profile(cx, "p", json!({ "filesystem": { "read": [missing, cx.fx.path("present")] } }));
    let out = with_profile(cx, s(&profile)).probe(Op::read(cx.fx.path("present/f")));
    ensure!(out.stderr.contains(s(&missing)), "no warning naming {}: stderr {:?}", missing.display(), out.stderr);
    Ok(())
}

fn deny_inside_grant_refused(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    cx.fx.dir("granted/secret");
    cx.fx.dir("elsewhere");
    let marker = granted.join("ran");
    let conflicting = write_profile(
        cx,
        "conflict",
        json!({ "filesystem": { "allow": [granted], "deny": [cx.fx.path("granted/secret")] } }),
    );
    let fine = write_profile(cx, "fine", json!({ "filesystem": { "allow": [granted], "deny": [cx.fx.path("elsewhere")] } }));
    let refused = with_profile(cx, s(&conflicting)).probe(Op::create(&marker));
    ensure!(refused.code == 1, "a deny inside a grant must make run exit 1: {refused}");
    ensure!(!marker.exists(), "the program ran despite the conflicting deny");
    let control = with_profile(cx, s(&fine)).op(Op::create(&marker))?;
    expect_class(&control, Class::Allowed, "control: a deny outside every grant does not stop the run")?;
    ensure!(marker.exists(), "control: the marker was not created");
    Ok(())
}

fn flags_add_to_profile(cx: &Ctx) -> CaseResult {
    cx.fx.file("by-profile/f", "p");
    cx.fx.file("by-flag/f", "f");
    cx.fx.file("neither/f", "n");
    let profile = write_profile(cx, "p", json!({ "filesystem": { "read": [cx.fx.path("by-profile")] } }));
    let run = with_profile(cx, s(&profile)).read(cx.fx.path("by-flag"));
    read_allowed(&run, cx, "by-profile/f", "p")?;
    read_allowed(&run, cx, "by-flag/f", "f")?;
    read_denied(&run, cx, "neither/f")
}

fn home_is_expanded(cx: &Ctx) -> CaseResult {
    cx.fx.file("home/data/f", "in home");
    cx.fx.file("home/other/f", "sibling");
    let profile = write_profile(cx, "p", json!({ "filesystem": { "read": ["~/data"] } }));
    let run = with_profile(cx, s(&profile));
    read_allowed(&run, cx, "home/data/f", "in home")?;
    read_denied(&run, cx, "home/other/f")
}

fn invalid_profile_runs_nothing(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    let marker = out.join("ran");
    let bad = write_profile(cx, "bad", json!({ "filesystem": { "allow": [out], "alow": [] } }));
    let good = write_profile(cx, "good", json!({ "filesystem": { "allow": [out] } }));
    let refused = with_profile(cx, s(&bad)).probe(Op::create(&marker));
    ensure!(refused.code == 1, "an invalid profile must make run exit 1: {refused}");
    ensure!(!marker.exists(), "the program ran under an invalid profile");
    let control = with_profile(cx, s(&good)).op(Op::create(&marker))?;
    expect_class(&control, Class::Allowed, "control: the corrected profile runs the program")?;
    ensure!(marker.exists(), "control: the marker was not created");
    Ok(())
}

fn lists_union_across_extends(cx: &Ctx) -> CaseResult {
    cx.fx.file("base-read/f", "base");
    cx.fx.file("child-read/f", "child");
    let base_rw = cx.fx.dir("base-rw");
    cx.fx.file("third/f", "neither");
    write_profile(cx, "base", json!({ "filesystem": { "read": [cx.fx.path("base-read")], "allow": [base_rw] } }));
    let child = write_profile(cx, "child", json!({ "extends": "base", "filesystem": { "read": [cx.fx.path("child-read")] } }));
    let run = with_profile(cx, s(&child));
    read_allowed(&run, cx, "base-read/f", "base")?;
    read_allowed(&run, cx, "child-read/f", "child")?;
    let r = run.op(Op::create(base_rw.join("new")))?;
    expect_class(&r, Class::Allowed, "create under the base's read-write grant")?;
    ensure!(cx.fx.exists("base-rw/new"), "create reported ok but base-rw/new is absent");
    read_denied(&run, cx, "third/f")
}

fn comments_are_accepted(cx: &Ctx) -> CaseResult {
    cx.fx.file("granted/f", "commented");
    cx.fx.file("other/f", "not granted");
    let path = cx.fx.dir("config/nono/profiles").join("commented.json");
    let text = format!(
        "// a line comment before everything\n{{\n  \"$schema\": \"https://example.invalid/nono-profile.schema.json\",\n  /* a block\n     comment */\n  \"filesystem\": {{ \"read\": [\"{}\"] }} // trailing\n}}\n",
        cx.fx.path("granted").display()
    );
    std::fs::write(&path, text).expect("writing a profile");
    let run = with_profile(cx, s(&path));
    read_allowed(&run, cx, "granted/f", "commented")?;
    read_denied(&run, cx, "other/f")
}

fn workdir_inherited_when_the_child_says_none(cx: &Ctx) -> CaseResult {
    let work = cx.fx.dir("work");
    cx.fx.dir("outside");
    write_profile(cx, "base", json!({ "workdir": { "access": "readwrite" } }));
    let child = write_profile(cx, "child", json!({ "extends": "base", "workdir": { "access": "none" } }));
    let run = with_profile(cx, s(&child)).arg("--allow-cwd").current_dir(&work);
    let r = run.op(Op::create(work.join("new")))?;
    expect_class(&r, Class::Allowed, "create in the working directory the base grants readwrite")?;
    ensure!(cx.fx.exists("work/new"), "create reported ok but work/new is absent");
    let r = run.op(Op::create(cx.fx.path("outside/new")))?;
    expect_class(&r, Class::Denied, "create outside the working directory")?;
    ensure!(!cx.fx.exists("outside/new"), "a file was created outside the working directory");
    Ok(())
}

fn dollar_home_is_expanded(cx: &Ctx) -> CaseResult {
    cx.fx.file("home/data/f", "in home");
    cx.fx.file("home/other/f", "sibling");
    let profile = write_profile(cx, "p", json!({ "filesystem": { "read": ["$HOME/data"] } }));
    let run = with_profile(cx, s(&profile));
    read_allowed(&run, cx, "home/data/f", "in home")?;
    read_denied(&run, cx, "home/other/f")
}
