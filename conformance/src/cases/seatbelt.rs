//! Portable Seatbelt cases, black-box through the implementation's command line, on every
//! platform: generated profiles (`seatbelt.sbpl.*`, one per vector in
//! `fixtures/seatbelt/`), deny-log parsing (`seatbelt.log.*`, `fixtures/seatbelt-log/`),
//! learning and splicing (`seatbelt.learn.*`), and the names every generated profile uses
//! (`seatbelt.check.*`: the profile of each vector, run through [`crate::sbpl_check`]).
//!
//! A profile vector's expectation is a list of groups: consecutive lines whose order inside
//! a group is not checked, while the groups follow each other in order. That is exactly how
//! SPEC.md defines the profile: blocks in a fixed order, some blocks sets.

use crate::case::{case, Case, CaseResult, Ctx};
use crate::runner::RunOutput;
use crate::vectors::{self, Vector};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

/// `HOME` for profile vectors that do not set it, so the host's never leaks in.
const VECTOR_HOME: &str = "/Users/nono-vector-home";

pub fn cases() -> Vec<Case> {
    let mut out = vectors::cases("seatbelt", "seatbelt.sbpl", profile_vector);
    out.extend(vectors::cases("seatbelt-log", "seatbelt.log", log_vector));
    out.extend(learn_cases());
    out.extend(check_cases());
    out
}

/// Runs the implementation (not `run`: these commands apply no sandbox) and captures it.
pub(crate) fn invoke<I, S>(cx: &Ctx, args: I, env: &[(String, String)]) -> RunOutput
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    cx.invoke(args, env)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Profile vectors
// ---------------------------------------------------------------------------------------

/// Runs `IUT sandbox-profile --platform macos` with a vector's arguments and environment.
fn generate_for_vector(cx: &Ctx, v: &Vector) -> RunOutput {
    let mut env: BTreeMap<String, String> =
        BTreeMap::from([("HOME".to_string(), VECTOR_HOME.to_string())]);
    if let Some(vars) = v.data.get("env").and_then(Value::as_object) {
        for (k, val) in vars {
            env.insert(k.clone(), val.as_str().unwrap_or_default().to_string());
        }
    }
    generate(cx, strings(v.data.get("args")), &env.into_iter().collect::<Vec<_>>())
}

/// Runs `IUT sandbox-profile --platform macos ARGS...`.
fn generate(cx: &Ctx, args: Vec<String>, env: &[(String, String)]) -> RunOutput {
    let mut all = vec![
        "sandbox-profile".to_string(),
        "--platform".into(),
        "macos".into(),
    ];
    all.extend(args);
    invoke(cx, &all, env)
}

fn profile_vector(cx: &Ctx, v: &Vector) -> CaseResult {
    let out = generate_for_vector(cx, v);
    let expect = &v.data["expect"];
    if let Some(error) = expect.get("error") {
        crate::ensure!(
            out.code == 1,
            "expected the IUT to refuse with exit 1; {out}"
        );
        crate::ensure!(
            out.stdout.is_empty(),
            "a refused profile must print nothing on stdout; {out}"
        );
        let stderr = out.stderr.to_lowercase();
        for needle in strings(error.get("stderr_contains")) {
            crate::ensure!(
                stderr.contains(&needle.to_lowercase()),
                "stderr does not mention {needle:?}; {out}"
            );
        }
        return Ok(());
    }
    crate::ensure!(out.code == 0, "sandbox-profile failed; {out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    if let Some(profile) = expect.get("profile") {
        let blocks = file_blocks(&v.file)?;
        let groups = expand(profile, &blocks, 0)?;
        return compare_groups(&groups, &lines)
            .map_err(|why| format!("{why}\n--- profile printed ---\n{}", out.stdout));
    }
    for line in strings(expect.get("contains")) {
        crate::ensure!(
            lines.contains(&line.as_str()),
            "missing rule {line}\n--- profile printed ---\n{}",
            out.stdout
        );
    }
    for line in strings(expect.get("lacks")) {
        crate::ensure!(
            !lines.contains(&line.as_str()),
            "unexpected rule {line}\n--- profile printed ---\n{}",
            out.stdout
        );
    }
    Ok(())
}

/// The `blocks` object of a vector file.
fn file_blocks(file: &Path) -> Result<BTreeMap<String, Value>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(doc
        .get("blocks")
        .and_then(Value::as_object)
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default())
}

/// Expands items into groups: a line is a group of one, an array a group, `@name` the
/// groups of that block (blocks may use blocks, a few levels deep).
fn expand(
    items: &Value,
    blocks: &BTreeMap<String, Value>,
    depth: usize,
) -> Result<Vec<Vec<String>>, String> {
    if depth > 8 {
        return Err("blocks nest too deeply (a cycle?)".into());
    }
    let mut groups = vec![];
    for item in items.as_array().ok_or("profile items must be an array")? {
        match item {
            Value::String(s) => match s.strip_prefix('@') {
                Some(name) => {
                    let block = blocks
                        .get(name)
                        .ok_or_else(|| format!("unknown block @{name}"))?;
                    groups.extend(expand(block, blocks, depth + 1)?);
                }
                None => groups.push(vec![s.clone()]),
            },
            Value::Array(_) => groups.push(strings(Some(item))),
            other => return Err(format!("bad profile item {other}")),
        }
    }
    Ok(groups)
}

/// Walks the printed lines group by group; each group must match the next lines as a
/// multiset, and nothing may be left over.
fn compare_groups(groups: &[Vec<String>], lines: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for (index, group) in groups.iter().enumerate() {
        let end = at + group.len();
        let Some(actual) = lines.get(at..end) else {
            return Err(format!(
                "the profile ends before group {index} ({group:?}); it has {} lines",
                lines.len()
            ));
        };
        let mut want: Vec<&str> = group.iter().map(String::as_str).collect();
        let mut got: Vec<&str> = actual.to_vec();
        want.sort_unstable();
        got.sort_unstable();
        if want != got {
            let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
            let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
            return Err(format!(
                "group {index} (lines {}..{}) differs: missing {missing:?}, unexpected {extra:?}",
                at + 1,
                end
            ));
        }
        at = end;
    }
    if at != lines.len() {
        return Err(format!(
            "unexpected rules after the last group: {:?}",
            &lines[at..]
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Deny-log vectors
// ---------------------------------------------------------------------------------------

fn parse_log(cx: &Ctx, log: &str) -> (RunOutput, String) {
    let file = cx.fx.file("deny.log", log);
    let name = file.to_str().expect("fixture paths are UTF-8").to_string();
    (invoke(cx, ["learn", "--parse-log", &name], &[]), name)
}

fn log_vector(cx: &Ctx, v: &Vector) -> CaseResult {
    let line = v.data["line"].as_str().ok_or("vector has no line")?;
    let (out, file) = parse_log(cx, &format!("{line}\n"));
    let expect = &v.data["expect"];
    if let Some(rule) = expect.get("rule").and_then(Value::as_str) {
        crate::ensure!(out.code == 0, "expected success; {out}");
        crate::ensure!(
            out.stdout == format!("{rule}\n"),
            "expected exactly {rule:?}; {out}"
        );
    } else if expect.get("ignored").is_some() {
        // Alone: no rule, no complaint naming the line, exit 0 (an ignored line is not a
        // record, SB-LOG-001, so SB-LOG-007 has nothing to report).
        crate::ensure!(out.code == 0 && out.stdout.is_empty(), "an ignored line alone gives no rule and exit 0; {out}");
        crate::ensure!(!out.stderr.contains(&format!("{file}:1:")), "an ignored line is not a failed record; {out}");
        // "Prints nothing" also holds for an IUT that parses nothing at all, so the line must
        // sit beside a record that gives a rule, on either side: it adds nothing to that
        // rule and does not stop the parse before it.
        let (known_line, known_rule) = rule_giving_record()?;
        for log in [format!("{known_line}\n{line}\n"), format!("{line}\n{known_line}\n")] {
            let (out, _) = parse_log(cx, &log);
            crate::ensure!(out.code == 0, "expected success; {out}");
            crate::ensure!(
                out.stdout == format!("{known_rule}\n"),
                "an ignored line must give no rule and hide none: beside a record giving {known_rule:?}, expected exactly that rule; {out}"
            );
        }
    } else {
        crate::ensure!(
            out.code == 1,
            "expected exit 1 for a record that gives no rule; {out}"
        );
        crate::ensure!(
            out.stdout.is_empty(),
            "a refused record must give no rule; {out}"
        );
        crate::ensure!(
            out.stderr.contains(&format!("{file}:1:")),
            "stderr must name {file}:1; {out}"
        );
    }
    Ok(())
}

/// The first deny-log vector that gives a rule: (its line, its rule).
fn rule_giving_record() -> Result<(String, String), String> {
    vectors::load("seatbelt-log")
        .iter()
        .find_map(|v| Some((v.data["line"].as_str()?.to_string(), v.data["expect"].get("rule")?.as_str()?.to_string())))
        .ok_or_else(|| "fixtures/seatbelt-log has no vector that gives a rule".to_string())
}

// ---------------------------------------------------------------------------------------
// Learning and splicing
// ---------------------------------------------------------------------------------------

fn learn_cases() -> Vec<Case> {
    vec![
        case(
            "seatbelt.learn.parse_log_prints_each_rule_once_in_first_seen_order",
            "learn --parse-log prints one rule per distinct denial, in first-seen order, skipping other lines",
            &["SB-LOG-007", "SB-LOG-001"],
            parse_log_dedups,
        ),
        case(
            "seatbelt.learn.parse_log_reports_bad_records_and_keeps_the_rest",
            "A record that gives no rule is reported as FILE:LINE with exit 1, and the other rules are still printed",
            &["SB-LOG-007", "SB-LOG-006"],
            parse_log_reports_bad_records,
        ),
        case(
            "seatbelt.learn.splice_rewrites_allow_default_and_appends_the_seed",
            "Splicing turns (allow default) into (deny default) and appends the seed verbatim on a new line",
            &["SB-LOG-008"],
            splice_rewrites_and_appends,
        ),
        case(
            "seatbelt.learn.splice_skips_strings_and_comments",
            "Splicing rewrites (allow default) written across lines but not inside strings or comments",
            &["SB-LOG-008"],
            splice_skips_strings_and_comments,
        ),
        case(
            "seatbelt.learn.splice_without_seed_is_a_no_op",
            "Without --seed, or with a seed file that does not exist, the profile is printed unchanged",
            &["SB-LOG-009"],
            splice_without_seed_is_a_no_op,
        ),
        case(
            "seatbelt.learn.splice_refuses_a_seed_that_allows_default",
            "A seed holding (allow default) is refused and nothing is printed",
            &["SB-LOG-010"],
            splice_refuses_permissive_seed,
        ),
        case(
            "seatbelt.learn.splice_refuses_malformed_text",
            "Unbalanced parentheses, an unclosed string or an unclosed block comment are refused",
            &["SB-LOG-010"],
            splice_refuses_malformed_text,
        ),
        case(
            "seatbelt.learn.learned_rules_splice_into_a_profile",
            "The rules learned from a log, used as a seed, tighten an allow-default profile",
            &["SB-LOG-007", "SB-LOG-008"],
            learned_rules_splice,
        ),
    ]
}

fn parse_log_dedups(cx: &Ctx) -> CaseResult {
    let log = "\
kernel: (Sandbox) Sandbox: cat(5) deny(1) file-read-data /Users/alice/b
some unrelated line
Sandbox: cat(5) deny(1) sysctl-read kern.osversion
Sandbox: cat(6) deny(1) file-read-data /Users/alice/b
Sandbox: cat(6) allow(1) file-read-data /Users/alice/c
Sandbox: cat(7) deny(1) file-read-data /Users/alice/a
";
    let (out, _) = parse_log(cx, log);
    crate::ensure!(out.code == 0, "expected success; {out}");
    let want = "(allow file-read-data (literal \"/Users/alice/b\"))\n\
(allow sysctl-read (sysctl-name \"kern.osversion\"))\n\
(allow file-read-data (literal \"/Users/alice/a\"))\n";
    crate::ensure!(out.stdout == want, "expected {want:?}; {out}");
    Ok(())
}

fn parse_log_reports_bad_records(cx: &Ctx) -> CaseResult {
    let log = "\
Sandbox: cat(5) deny(1) file-read-data /Users/alice/a
Sandbox: curl(6) deny(1) network-outbound 203.0.113.9:443
Sandbox: cat(5) deny(1) mach-lookup com.apple.x
Sandbox: sh(7) deny(1) forbidden-sandbox-reinit
";
    let (out, file) = parse_log(cx, log);
    crate::ensure!(out.code == 1, "expected exit 1; {out}");
    let want = "(allow file-read-data (literal \"/Users/alice/a\"))\n(allow mach-lookup (global-name \"com.apple.x\"))\n";
    crate::ensure!(
        out.stdout == want,
        "the good records' rules must still be printed: {want:?}; {out}"
    );
    for line in [2, 4] {
        crate::ensure!(
            out.stderr.contains(&format!("{file}:{line}:")),
            "stderr must name {file}:{line}; {out}"
        );
    }
    crate::ensure!(
        !out.stderr.contains(&format!("{file}:1:")),
        "line 1 is fine and must not be reported; {out}"
    );
    Ok(())
}

/// Runs `learn --splice` on a profile text and an optional seed text.
fn splice(cx: &Ctx, profile: &str, seed: Option<&str>) -> RunOutput {
    let profile_path = cx.fx.file("profile.sb", profile);
    let mut args = vec![
        "learn".to_string(),
        "--splice".into(),
        profile_path.to_str().unwrap().into(),
    ];
    if let Some(seed) = seed {
        let seed_path = cx.fx.file("seed.allow", seed);
        args.extend(["--seed".to_string(), seed_path.to_str().unwrap().into()]);
    }
    invoke(cx, &args, &[])
}

fn splice_rewrites_and_appends(cx: &Ctx) -> CaseResult {
    let out = splice(
        cx,
        "(version 1)\n(allow default)\n(deny file-write* (subpath \"/x\"))",
        Some("(allow file-read* (literal \"/y\"))\n"),
    );
    let want = "(version 1)\n(deny default)\n(deny file-write* (subpath \"/x\"))\n(allow file-read* (literal \"/y\"))\n";
    crate::ensure!(
        out.code == 0 && out.stdout == want,
        "expected {want:?}; {out}"
    );
    Ok(())
}

fn splice_skips_strings_and_comments(cx: &Ctx) -> CaseResult {
    let profile = "(version 1)\n; (allow default) in a comment\n#| (allow default)\n |#\n(allow file-read* (literal \"/a (allow default)\"))\n(allow\n   default)\n";
    let out = splice(cx, profile, Some(""));
    let want = "(version 1)\n; (allow default) in a comment\n#| (allow default)\n |#\n(allow file-read* (literal \"/a (allow default)\"))\n(deny default)\n";
    crate::ensure!(
        out.code == 0 && out.stdout == want,
        "expected {want:?}; {out}"
    );
    Ok(())
}

fn splice_without_seed_is_a_no_op(cx: &Ctx) -> CaseResult {
    // Not even newline-terminated, and still permissive: returned byte for byte.
    let profile = "(version 1)\n(allow default)\n(deny file-read* (subpath \"/secret\"))";
    let out = splice(cx, profile, None);
    crate::ensure!(
        out.code == 0 && out.stdout == profile,
        "without --seed the profile must be unchanged; {out}"
    );
    let profile_path = cx.fx.path("profile.sb");
    let missing = cx.fx.path("no-such-seed.allow");
    let out = invoke(
        cx,
        [
            OsStr::new("learn"),
            OsStr::new("--splice"),
            profile_path.as_os_str(),
            OsStr::new("--seed"),
            missing.as_os_str(),
        ],
        &[],
    );
    crate::ensure!(
        out.code == 0 && out.stdout == profile,
        "with a missing seed the profile must be unchanged; {out}"
    );
    Ok(())
}

fn splice_refuses_permissive_seed(cx: &Ctx) -> CaseResult {
    let out = splice(
        cx,
        "(version 1)\n(allow default)\n",
        Some("(allow file-read* (literal \"/y\"))\n( allow default )\n"),
    );
    crate::ensure!(
        out.code == 1 && out.stdout.is_empty(),
        "a seed with (allow default) must be refused; {out}"
    );
    Ok(())
}

fn splice_refuses_malformed_text(cx: &Ctx) -> CaseResult {
    let seed = Some("(allow file-read* (literal \"/y\"))\n");
    for (what, profile) in [
        ("an unbalanced profile", "(version 1)\n(allow default\n"),
        (
            "a profile with an extra closing parenthesis",
            "(version 1))\n(allow default)\n",
        ),
        (
            "a profile with an unclosed string",
            "(version 1)\n(allow file-read* (literal \"/a))\n(allow default)\n",
        ),
        (
            "a profile with an unclosed block comment",
            "(version 1)\n#| (allow default)\n",
        ),
    ] {
        let out = splice(cx, profile, seed);
        crate::ensure!(
            out.code == 1 && out.stdout.is_empty(),
            "{what} must be refused; {out}"
        );
    }
    let out = splice(
        cx,
        "(version 1)\n(allow default)\n",
        Some("(allow file-read* (literal \"/y\")\n"),
    );
    crate::ensure!(
        out.code == 1 && out.stdout.is_empty(),
        "an unbalanced seed must be refused; {out}"
    );
    Ok(())
}

fn learned_rules_splice(cx: &Ctx) -> CaseResult {
    let (learned, _) = parse_log(cx, "Sandbox: python3(9) deny(1) file-read-data /Users/alice/lib.py\nSandbox: python3(9) deny(1) sysctl-read hw.ncpu\n");
    crate::ensure!(learned.code == 0, "parse-log failed; {learned}");
    let out = splice(cx, "(version 1)\n(allow default)\n", Some(&learned.stdout));
    let want = format!("(version 1)\n(deny default)\n{}", learned.stdout);
    crate::ensure!(
        out.code == 0 && out.stdout == want,
        "expected {want:?}; {out}"
    );
    crate::ensure!(
        want.contains("(allow file-read-data (literal \"/Users/alice/lib.py\"))")
            && want.contains("(allow sysctl-read (sysctl-name \"hw.ncpu\"))"),
        "the learned seed lacks the expected rules: {want:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Names: every generated profile uses only names Seatbelt knows
// ---------------------------------------------------------------------------------------

/// The statement the name checks test.
const NAMES_SPEC: &[&str] = &["SB-GEN-022"];

/// One case per profile vector that expects a profile (refusals print none), plus one for
/// a profile that turns every option on, system grants included.
fn check_cases() -> Vec<Case> {
    let mut out: Vec<Case> = vectors::load("seatbelt")
        .into_iter()
        .filter(|v| v.data["expect"].get("error").is_none())
        .map(|v| {
            Case::new(
                format!("seatbelt.check.{}", v.id),
                format!("The profile of vector {} uses only known SBPL names and is well formed", v.id),
                NAMES_SPEC.iter().map(|s| s.to_string()).collect(),
                move |cx| names_are_known(&generate_for_vector(cx, &v)),
            )
        })
        .collect();
    out.push(case(
        "seatbelt.check.every_option_with_system_grants",
        "A profile with the system grants and every generator option turned on uses only known SBPL names",
        NAMES_SPEC,
        every_option_names_are_known,
    ));
    out
}

/// The printed profile passes [`crate::sbpl_check`].
fn names_are_known(out: &RunOutput) -> CaseResult {
    crate::ensure!(out.code == 0, "sandbox-profile failed; {out}");
    crate::ensure!(!out.stdout.trim().is_empty(), "sandbox-profile printed no profile; {out}");
    crate::sbpl_check::check(&out.stdout).map_err(|problems| {
        format!(
            "the generated profile uses names or syntax Seatbelt may refuse:\n{}\n--- profile printed ---\n{}",
            crate::sbpl_check::describe(&problems),
            out.stdout
        )
    })
}

fn every_option_names_are_known(cx: &Ctx) -> CaseResult {
    let args = [
        "--allow", "/Users/nono-vector-home/work",
        "--read", "/tmp/r",
        "--write-file", "/var/w.log",
        "--read-file", "/Users/nono-vector-home/Library/Keychains/login.keychain-db",
        "--proxy-port", "3128",
        "--open-port", "0",
        "--listen-port", "8080",
        "--allow-unix-socket", "/tmp/s.sock",
        "--allow-unix-socket-dir-bind", "/tmp/d",
        "--allow-unix-socket-subtree", "/tmp/t",
        "--deny", "/Users/nono-vector-home/work/.ssh",
        "--deny-file", "/Users/nono-vector-home/work/.env",
        "--signals", "allow-all",
        "--process-info", "allow-all",
        "--ipc", "full",
        "--extensions",
        "--debug-deny",
    ];
    let out = generate(cx, args.iter().map(|a| a.to_string()).collect(), &[("HOME".into(), VECTOR_HOME.into())]);
    names_are_known(&out)
}
