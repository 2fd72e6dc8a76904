//! Intercept matching (MED-SRV-006): rules in order, first match wins, `args_prefix`
//! compared with the positional arguments (those not starting with `-`), exactly.
//!
//! Each case runs `gh` twice in one session: once with the arguments under test and once
//! with control arguments that must get the other outcome, so a server that matched
//! everything, or nothing, fails. A matched call answers the rule's text; an unmatched one
//! runs the real `gh`, which prints `passthrough`.

use super::{respond, s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use serde_json::{json, Value};

/// `None` means "no rule matches: the real binary runs".
type Outcome = Option<&'static str>;

struct Scenario {
    id: &'static str,
    title: &'static str,
    rules: fn() -> Value,
    args: &'static [&'static str],
    expected: Outcome,
    control_args: &'static [&'static str],
    control_expected: Outcome,
}

fn auth_token() -> Value {
    json!([respond(&["auth", "token"], "rule: auth token\n", 0)])
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "first_matching_rule_decides",
            title: "Of two matching rules the first one decides",
            rules: || json!([respond(&["auth"], "rule: auth\n", 0), respond(&["auth", "token"], "rule: auth token\n", 0)]),
            args: &["auth", "token"],
            expected: Some("rule: auth\n"),
            control_args: &["repo"],
            control_expected: None,
        },
        Scenario {
            id: "later_rule_decides_when_earlier_ones_do_not_match",
            title: "A later rule decides when the earlier ones do not match",
            rules: || json!([respond(&["repo"], "rule: repo\n", 0), respond(&["auth"], "rule: auth\n", 0)]),
            args: &["auth", "status"],
            expected: Some("rule: auth\n"),
            control_args: &["repo", "list"],
            control_expected: Some("rule: repo\n"),
        },
        Scenario {
            id: "prefix_matches_longer_arguments",
            title: "A prefix matches when more positional arguments follow it",
            rules: auth_token,
            args: &["auth", "token", "--hostname", "example.test", "extra"],
            expected: Some("rule: auth token\n"),
            control_args: &["auth"],
            control_expected: None,
        },
        Scenario {
            id: "fewer_arguments_than_the_prefix_do_not_match",
            title: "Arguments shorter than the prefix do not match",
            rules: auth_token,
            args: &["auth"],
            expected: None,
            control_args: &["auth", "token"],
            control_expected: Some("rule: auth token\n"),
        },
        Scenario {
            id: "flags_are_not_positional",
            title: "Arguments starting with - (before and between the positional ones) are skipped",
            rules: auth_token,
            args: &["--debug", "auth", "-v", "token"],
            expected: Some("rule: auth token\n"),
            control_args: &["--debug", "auth", "-v", "status"],
            control_expected: None,
        },
        Scenario {
            id: "double_dash_is_not_positional",
            title: "`--` starts with - and is skipped like any flag",
            rules: auth_token,
            args: &["--", "auth", "token"],
            expected: Some("rule: auth token\n"),
            control_args: &["--", "auth"],
            control_expected: None,
        },
        Scenario {
            id: "flag_values_count_as_positional",
            title: "A flag's value does not start with - and so shifts the positional arguments: no match",
            rules: auth_token,
            args: &["-R", "owner/repo", "auth", "token"],
            expected: None,
            control_args: &["-R", "auth", "token"],
            control_expected: Some("rule: auth token\n"),
        },
        Scenario {
            id: "matching_is_case_sensitive",
            title: "AUTH does not match the prefix auth",
            rules: auth_token,
            args: &["AUTH", "token"],
            expected: None,
            control_args: &["auth", "token"],
            control_expected: Some("rule: auth token\n"),
        },
        Scenario {
            id: "matching_is_exact_per_argument",
            title: "authx and tokens do not match auth and token: each argument is compared whole",
            rules: auth_token,
            args: &["authx", "tokens"],
            expected: None,
            control_args: &["auth", "token", "s"],
            control_expected: Some("rule: auth token\n"),
        },
        Scenario {
            id: "empty_prefix_matches_everything",
            title: "An empty args_prefix matches any arguments, and none",
            rules: || json!([respond(&[], "rule: everything\n", 0)]),
            args: &[],
            expected: Some("rule: everything\n"),
            control_args: &["-x", "anything", "at", "all"],
            control_expected: Some("rule: everything\n"),
        },
        Scenario {
            id: "empty_prefix_after_specific_rules_is_a_fallback",
            title: "Rules before an empty prefix still decide their calls",
            rules: || json!([respond(&["auth"], "rule: auth\n", 0), respond(&[], "rule: fallback\n", 0)]),
            args: &["auth"],
            expected: Some("rule: auth\n"),
            control_args: &["repo"],
            control_expected: Some("rule: fallback\n"),
        },
        Scenario {
            id: "args_prefix_paths_are_expanded",
            title: "A ~/ entry in args_prefix is expanded to HOME, so the expanded path matches and the literal ~/ does not",
            rules: || json!([respond(&["~/repo"], "rule: home repo\n", 0)]),
            args: &["@HOME@/repo"],
            expected: Some("rule: home repo\n"),
            control_args: &["~/repo"],
            control_expected: None,
        },
    ]
}

pub fn cases() -> Vec<Case> {
    scenarios()
        .into_iter()
        .map(|sc| {
            let id = format!("linux.mediation.matching.{}", sc.id);
            let spec: &'static [&'static str] = if sc.id == "args_prefix_paths_are_expanded" {
                &["MED-SRV-006", "PRF-EXP-005"]
            } else {
                &["MED-SRV-006"]
            };
            case(id, sc.title, spec, move |cx: &Ctx| check(cx, &sc))
        })
        .collect()
}

fn check(cx: &Ctx, sc: &Scenario) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["print:passthrough\\n"]);
    let profile = kit.one_command("gh", &gh, (sc.rules)());
    let home = cx.fx.dir("home");
    let expand = |args: &[&str]| -> Vec<String> {
        args.iter().map(|a| a.replace("@HOME@", s(&home))).collect()
    };
    let (args, control) = (expand(sc.args), expand(sc.control_args));
    let mut first = vec!["run".to_string(), "gh".to_string()];
    first.extend(args.iter().cloned());
    let mut second = vec!["run".to_string(), "gh".to_string()];
    second.extend(control.iter().cloned());
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let run = kit.agent(&profile).run(&[&first, &second])?;
    run.finished()?;
    for (step, given, expected) in [(0, &args, sc.expected), (1, &control, sc.control_expected)] {
        let out = run.out(step)?;
        let want = expected.unwrap_or("passthrough\n");
        let what = if step == 0 {
            "the arguments under test"
        } else {
            "control"
        };
        ensure!(
            out == want,
            "{what}: gh {given:?} must answer {want:?}, answered {out:?} ({})",
            run.op(step)?
        );
    }
    Ok(())
}
