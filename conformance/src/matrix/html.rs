//! `index.html`: one self-contained page (inline CSS, no script, no fetches) that works
//! offline and straight out of a CI artifact.
//!
//! Two tables: classes by implementations (the verdicts at a glance), then every
//! statement under its class. Every cell carries its meaning three ways: a symbol, a word
//! with counts, and a colour. Cells with something to explain open (`<details>`) to list
//! the cases behind them with their messages; expected failures and skips also give
//! their reasons on hover (`title`). Cells have `data-impl` and `data-class` or
//! `data-statement` attributes, so a checker can find them in the rendered page.

use super::cell::{classes_in, statements_of, ClassCell, Mark, StatementCell};
use super::escape::markup as esc;
use super::model::{CaseResult, CaseStatus, ResultsFile, Verdict};
use super::spec_url;
use crate::spec::Class;
use std::fmt::Write;

const STYLE: &str = r#"
:root { --pass: #1b5e20; --pass-bg: #e3f4e4; --fail: #b71c1c; --fail-bg: #fde4e4; --xfail: #7a4f00; --xfail-bg: #fff3d6;
        --skip: #37474f; --skip-bg: #e8edf0; --muted: #6b6b6b; --line: #d7d7d7; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f1f1f; margin: 0; padding: 24px 32px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
p.meta { margin: 0 0 12px; color: var(--muted); }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 8px 16px; padding: 0; margin: 8px 0 0; }
ul.legend li { display: inline-flex; gap: 6px; align-items: center; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
caption { text-align: left; color: var(--muted); padding-bottom: 6px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; vertical-align: top; text-align: left; }
thead th { position: sticky; top: 0; background: #fafafa; z-index: 1; font-weight: 600; }
thead th small { display: block; font-weight: 400; color: var(--muted); }
thead th small span { white-space: nowrap; }
th.corner { width: 44%; }
table.summary th.corner { width: 25%; }
tbody th { font-weight: 400; }
tr.class-head th { background: #f1f3f6; font-weight: 600; font-size: 15px; padding: 8px; }
tr.class-head small { font-weight: 400; font-size: 13px; color: var(--muted); margin-left: 8px; }
table.summary tbody th small { display: block; font-size: 12px; color: var(--muted); }
.stmt a { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; color: #0b57d0; text-decoration: none; }
.stmt a:hover { text-decoration: underline; }
.level { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; margin-left: 4px; }
.stmt .text { color: #444; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.cell { white-space: nowrap; }
.cell .sym { display: inline-block; width: 1.1em; font-weight: 700; }
.cell small { display: block; white-space: normal; color: inherit; opacity: .85; }
.pass { background: var(--pass-bg); color: var(--pass); }
.fail { background: var(--fail-bg); color: var(--fail); font-weight: 600; }
.xfail { background: var(--xfail-bg); color: var(--xfail); }
.skipped { background: var(--skip-bg); color: var(--skip); }
.untested { background: var(--skip-bg); color: var(--muted); font-style: italic; }
.unclaimed { background: repeating-linear-gradient(135deg, #fafafa 0 6px, #f2f2f2 6px 12px); color: var(--muted); }
.none { color: var(--muted); }
.swatch { display: inline-block; min-width: 1.6em; text-align: center; border-radius: 3px; padding: 0 4px; border: 1px solid var(--line); }
details summary { cursor: pointer; }
details[open] { white-space: normal; }
ul.cases { margin: 6px 0 0; padding-left: 16px; font-weight: 400; color: #1f1f1f; }
ul.cases li { margin-bottom: 6px; }
ul.cases code { font-size: 12px; word-break: break-all; }
ul.cases pre { white-space: pre-wrap; word-break: break-word; margin: 2px 0 0; padding: 4px 6px; background: #fff; border: 1px solid var(--line); font-size: 12px; max-height: 16em; overflow: auto; }
.filter { margin: 0 0 8px; display: inline-flex; gap: 6px; align-items: center; }
body:has(#problems-only:checked) tr.settled { display: none; }
footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
"#;

/// The whole page.
pub fn page(files: &[ResultsFile]) -> String {
    let mut out = String::new();
    let classes = classes_in(files);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>nono compatibility matrix</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    out.push_str("<header>\n<h1>nono compatibility matrix</h1>\n");
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", esc(&meta_line(files)));
    out.push_str(&legend());
    out.push_str("</header>\n<main>\n");
    out.push_str(&summary_table(files, &classes));
    out.push_str(&statement_table(files, &classes));
    out.push_str("</main>\n<footer>\n<p>Built by <code>nono-conformance matrix</code> from ");
    let sources: Vec<String> = files
        .iter()
        .map(|f| {
            let name = f.source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            format!("<code>{}</code>", esc(&name))
        })
        .collect();
    out.push_str(&sources.join(", "));
    out.push_str(". Counts are passed/ran: skipped cases did not run and are counted apart, never as passes.</p>\n</footer>\n</body>\n</html>\n");
    out
}

/// `3 implementations · suite 0.2.0 (7e5c7d6)`, naming every suite version involved.
fn meta_line(files: &[ResultsFile]) -> String {
    let mut suites: Vec<String> = files
        .iter()
        .map(|f| match &f.suite.commit {
            Some(commit) => format!("{} ({commit})", f.suite.version),
            None => f.suite.version.clone(),
        })
        .collect();
    suites.dedup();
    let n = files.len();
    format!("{n} implementation{} · suite {}", if n == 1 { "" } else { "s" }, suites.join(", "))
}

fn legend() -> String {
    let mut out = String::from("<ul class=\"legend\" aria-label=\"Legend\">\n");
    let entries = [
        (Mark::Pass, "every case that ran passed"),
        (Mark::Fail, "a case failed"),
        (Mark::ExpectedFail, "failed as the implementation's manifest expects (hover for the reason)"),
        (Mark::Skipped, "did not run here (hover for why)"),
        (Mark::Untested, "the class is claimed, but none of its cases could run on that host"),
        (Mark::NotClaimed, "the class is not claimed"),
    ];
    for (mark, meaning) in entries {
        let _ = writeln!(
            out,
            "<li><span class=\"swatch {}\" aria-hidden=\"true\">{}</span> {}: {meaning}</li>",
            mark.css(),
            mark.symbol(),
            mark.word()
        );
    }
    out.push_str("</ul>\n");
    out
}

/// The implementation column headers, after a corner cell saying what the rows are.
fn header_row(files: &[ResultsFile], corner: &str) -> String {
    let mut out = format!("<thead>\n<tr><th scope=\"col\" class=\"corner\">{corner}</th>");
    for f in files {
        let i = &f.implementation;
        let p = &f.platform;
        let mut details = vec![format!("{} {}", p.os, p.arch)];
        if let Some(kernel) = &p.kernel {
            details.push(format!("kernel {kernel}"));
        }
        if let Some(abi) = i.landlock_abi {
            details.push(format!("Landlock ABI {abi}"));
        }
        if f.strict {
            details.push("strict".to_string());
        }
        // Each fact wraps as a whole, never in the middle.
        let details: Vec<String> = details.iter().map(|d| format!("<span>{}</span>", esc(d))).collect();
        let hover = format!(
            "binary: {}\nmanifest: {}",
            i.path.as_deref().unwrap_or("(not given)"),
            i.manifest.as_deref().unwrap_or("(none)")
        );
        let _ = write!(
            out,
            "<th scope=\"col\" data-impl=\"{}\" title=\"{}\">{}<small>{}</small></th>",
            esc(&i.slug),
            esc(&hover),
            esc(&i.name),
            details.join(" · ")
        );
    }
    out.push_str("</tr>\n</thead>\n");
    out
}

fn summary_table(files: &[ResultsFile], classes: &[Class]) -> String {
    let mut out = String::from(
        "<h2 id=\"by-class\">By conformance class</h2>\n<table class=\"summary\">\n\
         <caption>Each implementation's verdict on each class it claims.</caption>\n",
    );
    out.push_str(&header_row(files, "Class"));
    out.push_str("<tbody>\n");
    for &class in classes {
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><a href=\"#class-{0}\">{0}</a><small>{1}</small></th>",
            class.name(),
            esc(blurb(class))
        );
        for f in files {
            out.push_str(&class_cell(f, class));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// What a class covers, in a few words, for readers who do not know the class names.
fn blurb(class: Class) -> &'static str {
    match class {
        Class::Core => "the run contract: files, exec, network, scopes, environment, exit codes",
        Class::Profiles => "profile format, extends, merge and expansion, judged by effect",
        Class::ProfileShow => "the canonical JSON of profile show --json",
        Class::Supervisor => "capability requests over the supervisor socket",
        Class::Mediation => "command mediation through shims (kipz fork, level L1)",
        Class::MediationSeed => "what the seed pull request adds to mediation (level L2)",
        Class::Seatbelt => "applying Seatbelt profiles on macOS",
        Class::Tools => "the reference's sandbox-profile and learn tools",
        Class::Hardening => "stricter choices no source requires",
    }
}

fn class_cell(f: &ResultsFile, class: Class) -> String {
    let cell = ClassCell::of(f, class);
    let (css, symbol) = (cell.mark().css(), cell.mark().symbol());
    let label = match cell.verdict {
        Verdict::Untested | Verdict::NotClaimed => cell.word().to_string(),
        _ => format!("{} {}", cell.word(), cell.counts()),
    };
    let notes = cell.notes();
    let notes = if notes.is_empty() { String::new() } else { format!("<small>{}</small>", esc(&notes)) };
    format!(
        "<td class=\"cell {css}\" data-impl=\"{}\" data-class=\"{}\"><span class=\"sym\" aria-hidden=\"true\">{symbol}</span> <span class=\"label\">{}</span>{notes}</td>",
        esc(&f.implementation.slug),
        class.name(),
        esc(&label)
    )
}

fn statement_table(files: &[ResultsFile], classes: &[Class]) -> String {
    let mut out = String::from(
        "<h2 id=\"by-statement\">By statement</h2>\n\
         <p class=\"filter\"><input type=\"checkbox\" id=\"problems-only\"> \
         <label for=\"problems-only\">Show only statements with a failure, an expected failure or a skip</label></p>\n\
         <table class=\"matrix\">\n\
         <caption>Every statement of SPEC.md under its class; a statement links to its text, a cell with cases behind it opens to list them.</caption>\n",
    );
    out.push_str(&header_row(files, "Statement"));
    for &class in classes {
        let statements = statements_of(files, class);
        let _ = writeln!(
            out,
            "<tbody id=\"class-{0}\">\n<tr class=\"class-head\"><th scope=\"rowgroup\" colspan=\"{1}\">{0} <small>{2} · {3} statement{4}</small></th></tr>",
            class.name(),
            files.len() + 1,
            esc(blurb(class)),
            statements.len(),
            if statements.len() == 1 { "" } else { "s" }
        );
        for statement in statements {
            let cells: Vec<StatementCell> = files.iter().map(|f| StatementCell::of(f, &statement.id, class)).collect();
            let settled = cells.iter().all(|c| matches!(c.mark, Mark::Pass | Mark::NotClaimed | Mark::NoResult));
            let _ = write!(
                out,
                "<tr class=\"statement{settled}\"><th scope=\"row\" class=\"stmt\"><a href=\"{href}\">{id}</a><span class=\"level\">{level}</span><div class=\"text\" title=\"{text}\">{text}</div></th>",
                settled = if settled { " settled" } else { "" },
                href = esc(&spec_url(&statement.id)),
                id = esc(&statement.id),
                level = statement.level,
                text = esc(&statement.text),
            );
            for (f, cell) in files.iter().zip(&cells) {
                out.push_str(&statement_cell(f, &statement.id, cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    out
}

fn statement_cell(f: &ResultsFile, id: &str, cell: &StatementCell) -> String {
    let mark = cell.mark;
    let head = format!(
        "<span class=\"sym\" aria-hidden=\"true\">{}</span> <span class=\"label\">{}</span>",
        mark.symbol(),
        esc(&cell.label())
    );
    let mut hover: Vec<String> = vec![];
    for line in cell.cases.iter().filter_map(|c| hover_line(c)) {
        if !hover.contains(&line) {
            hover.push(line);
        }
    }
    let title = if hover.is_empty() { String::new() } else { format!(" title=\"{}\"", esc(&hover.join("\n"))) };
    let open = format!(
        "<td class=\"cell {}\" data-impl=\"{}\" data-statement=\"{}\"{title}>",
        mark.css(),
        esc(&f.implementation.slug),
        esc(id)
    );
    if cell.cases.is_empty() {
        return format!("{open}{head}</td>");
    }
    let mut list = String::from("<ul class=\"cases\">");
    for case in &cell.cases {
        let _ = write!(list, "<li>{} <code>{}</code>", status_word(case.status), esc(&case.id));
        if let Some(reason) = case.reason.as_deref().filter(|r| !r.is_empty()) {
            let _ = write!(list, "<br>expected because: {}", esc(reason));
        }
        if !case.message.is_empty() {
            let _ = write!(list, "<pre>{}</pre>", esc(&case.message));
        }
        list.push_str("</li>");
    }
    list.push_str("</ul>");
    format!("{open}<details><summary>{head}</summary>{list}</details></td>")
}

/// The hover text a case adds to its cell: why it was expected to fail or was skipped.
fn hover_line(case: &CaseResult) -> Option<String> {
    match case.status {
        CaseStatus::ExpectedFail => Some(format!("expected failure: {}", case.reason.as_deref().unwrap_or(&case.message))),
        CaseStatus::Skipped => Some(format!("skipped: {}", case.message)),
        CaseStatus::Failed => Some(format!("failed: {}", case.id)),
        CaseStatus::UnexpectedPass => Some(format!("passed although expected to fail: {}", case.id)),
        CaseStatus::Passed | CaseStatus::NotClaimed => None,
    }
}

fn status_word(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Passed => "passed",
        CaseStatus::Failed => "failed",
        CaseStatus::ExpectedFail => "failed as expected",
        CaseStatus::UnexpectedPass => "passed unexpectedly (stale expectation)",
        CaseStatus::Skipped => "skipped",
        CaseStatus::NotClaimed => "not claimed",
    }
}
