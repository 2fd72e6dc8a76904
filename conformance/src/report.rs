//! The report of a run, for people: the verdict first (per claimed class, then regressions
//! against a baseline), then failures, then expected failures grouped by reason, then skips
//! grouped by reason. `--verbose` adds every statement and every case of each group.
//!
//! The same data renders as text (terminal) and as Markdown (a CI step summary, kept short).

use crate::compare::Comparison;
use crate::results::{ResultsFile, Status, Tally, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How much to say.
#[derive(Clone, Copy, Debug, Default)]
pub struct Detail {
    /// Every statement, every case of each group, full messages.
    pub verbose: bool,
}

fn tally(t: &Tally) -> String {
    format!("{}/{}/{}/{}", t.passed, t.failed, t.expected_fail, t.skipped)
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Untested => "untested",
        Verdict::NotClaimed => "not claimed",
    }
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    let end = line.char_indices().nth(240).map(|(i, _)| i).unwrap_or(line.len());
    &line[..end]
}

/// Groups the records of one status by reason (the manifest's for expected failures, the
/// message for skips), largest group first.
fn grouped(results: &ResultsFile, status: Status) -> Vec<(&str, Vec<&str>)> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in results.cases.iter().filter(|r| r.status == status) {
        let key = match (&r.reason, status) {
            (Some(reason), Status::ExpectedFail) => reason.as_str(),
            _ => r.message.as_str(),
        };
        groups.entry(key).or_default().push(&r.id);
    }
    let mut out: Vec<_> = groups.into_iter().collect();
    out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    out
}

/// The closing counts both reports end with: `N passed, N failed, …, N not claimed`.
fn totals_line(results: &ResultsFile) -> String {
    let (t, not_claimed) = results.totals();
    format!(
        "{} passed, {} failed, {} expected-fail, {} skipped, {} not claimed",
        t.passed, t.failed, t.expected_fail, t.skipped, not_claimed
    )
}

/// The one-line verdict.
pub fn verdict_line(results: &ResultsFile) -> String {
    let claimed: Vec<&str> =
        results.classes.iter().filter(|c| c.verdict == Verdict::Pass).map(|c| c.class.as_str()).collect();
    let failing: Vec<&str> =
        results.classes.iter().filter(|c| c.verdict == Verdict::Fail).map(|c| c.class.as_str()).collect();
    let unexpected = results.cases.iter().filter(|r| r.status == Status::UnexpectedPass).count();
    if claimed.is_empty() && failing.is_empty() {
        "VERDICT: nothing judged (no claimed class has a case that ran here)".into()
    } else if failing.is_empty() && unexpected == 0 {
        format!("VERDICT: CONFORMS to {}", claimed.join(", "))
    } else if failing.is_empty() {
        format!("VERDICT: STALE MANIFEST: {unexpected} expected failures now pass (remove them)")
    } else {
        format!("VERDICT: DOES NOT CONFORM to {} (conforms to: {})", failing.join(", "), claimed.join(", "))
    }
}

/// The text report.
pub fn render_text(results: &ResultsFile, baseline: Option<&Comparison>, detail: Detail) -> String {
    let mut out = String::new();
    let imp = &results.implementation;
    let p = &results.platform;
    let _ = writeln!(out, "nono conformance report (suite {} {})", results.suite.version, results.suite.commit);
    let _ = writeln!(out, "  implementation: {} ({})", imp.name, imp.path);
    let _ = writeln!(out, "  manifest:       {}", imp.manifest);
    let _ = writeln!(
        out,
        "  host:           {} {}, kernel {}, Landlock ABI {}; strict: {}",
        p.os, p.arch, p.kernel, imp.landlock_abi, results.strict
    );
    let _ = writeln!(out, "\n{}\n", verdict_line(results));
    let _ = writeln!(out, "  {:<15} {:<12} {:>22} {:>22}", "class", "verdict", "MUST pass/fail/xf/skip", "SHOULD pass/fail/xf/skip");
    for c in &results.classes {
        if c.claimed {
            let _ = writeln!(
                out,
                "  {:<15} {:<12} {:>22} {:>22}",
                c.class,
                verdict_word(c.verdict),
                tally(&c.must),
                tally(&c.should)
            );
        } else {
            let _ = writeln!(out, "  {:<15} {:<12} {:>22}", c.class, "not claimed", format!("({} cases)", c.cases));
        }
    }
    if let Some(cmp) = baseline {
        let _ = writeln!(out, "\n{}", cmp.render_text());
    }
    let failures: Vec<_> = results.cases.iter().filter(|r| r.status.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nFailures ({})", failures.len());
        for r in failures {
            let _ = writeln!(out, "  {} [{} {}; {}]", r.id, r.class, r.level, r.spec.join(", "));
            let message = if detail.verbose { r.message.replace('\n', "\n      ") } else { first_line(&r.message).into() };
            let _ = writeln!(out, "      {message}");
        }
    }
    for (status, title) in [(Status::ExpectedFail, "Expected failures, by reason"), (Status::Skipped, "Skipped, by reason")] {
        let groups = grouped(results, status);
        if groups.is_empty() {
            continue;
        }
        let n: usize = groups.iter().map(|g| g.1.len()).sum();
        let _ = writeln!(out, "\n{title} ({n} cases, {} reasons)", groups.len());
        for (reason, ids) in &groups {
            let _ = writeln!(out, "  {:>4} × {}", ids.len(), first_line(reason));
            if detail.verbose {
                for id in ids {
                    let _ = writeln!(out, "         {id}");
                }
            }
        }
    }
    if detail.verbose {
        let _ = writeln!(out, "\nBy statement (pass/fail/xfail/skip)");
        for s in &results.statements {
            let t = Tally { passed: s.passed, failed: s.failed, expected_fail: s.expected_fail, skipped: s.skipped };
            let state = if t.total() == 0 { "untested".to_string() } else { tally(&t) };
            let _ = writeln!(out, "  {:<20} {:<6} {:<15} {state}", s.id, s.level, s.class);
        }
    }
    let _ = writeln!(out, "\nconformance: {}", totals_line(results));
    out
}

/// The Markdown summary: short enough for a CI step summary (under 60 lines whatever the
/// run), with the details in `results.json` and the text report.
pub fn render_markdown(results: &ResultsFile, baseline: Option<&Comparison>) -> String {
    const MAX_ROWS: usize = 8;
    let mut out = String::new();
    let imp = &results.implementation;
    let _ = writeln!(out, "## nono conformance: {}\n", imp.name);
    let _ = writeln!(out, "**{}**\n", verdict_line(results));
    let _ = writeln!(
        out,
        "Suite {} ({}) · manifest `{}` · {} {} kernel {} · Landlock ABI {}{}\n",
        results.suite.version,
        results.suite.commit,
        imp.manifest,
        results.platform.os,
        results.platform.arch,
        results.platform.kernel,
        imp.landlock_abi,
        if results.strict { " · strict" } else { "" }
    );
    let _ = writeln!(out, "| class | verdict | MUST pass/fail/xfail/skip | SHOULD pass/fail/xfail/skip |");
    let _ = writeln!(out, "|---|---|---|---|");
    for c in &results.classes {
        if c.claimed {
            let mark = match c.verdict {
                Verdict::Pass => "✅ pass",
                Verdict::Fail => "❌ FAIL",
                _ => "⚪ untested here",
            };
            let _ = writeln!(out, "| {} | {mark} | {} | {} |", c.class, tally(&c.must), tally(&c.should));
        } else {
            let _ = writeln!(out, "| {} | — not claimed | {} cases | |", c.class, c.cases);
        }
    }
    if let Some(cmp) = baseline {
        let _ = writeln!(out, "\n{}", cmp.render_markdown(MAX_ROWS));
    }
    let failures: Vec<_> = results.cases.iter().filter(|r| r.status.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n### Failures ({})\n", failures.len());
        for r in failures.iter().take(MAX_ROWS) {
            let _ = writeln!(out, "- `{}`: {}", r.id, first_line(&r.message).replace('|', "\\|"));
        }
        if failures.len() > MAX_ROWS {
            let _ = writeln!(out, "- … and {} more (see results.json)", failures.len() - MAX_ROWS);
        }
    }
    let groups = grouped(results, Status::ExpectedFail);
    if !groups.is_empty() {
        let n: usize = groups.iter().map(|g| g.1.len()).sum();
        let _ = writeln!(out, "\n### Expected failures: {n} cases, {} reasons\n", groups.len());
        for (reason, ids) in groups.iter().take(MAX_ROWS) {
            let _ = writeln!(out, "- {} × {}", ids.len(), first_line(reason));
        }
        if groups.len() > MAX_ROWS {
            let _ = writeln!(out, "- … and {} more reasons", groups.len() - MAX_ROWS);
        }
    }
    let _ = writeln!(out, "\n{}", totals_line(results));
    out
}
