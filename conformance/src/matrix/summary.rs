//! The terminal summary (after `bowtie summary`): classes down, implementations across,
//! then one line per implementation naming what it fails.

use super::cell::{classes_in, ClassCell};
use super::model::{CaseStatus, ResultsFile, Verdict};

/// The summary as printable text (no colour codes, so it reads the same in a CI log).
pub fn render(files: &[ResultsFile]) -> String {
    let mut rows: Vec<Vec<String>> = vec![];
    let mut header = vec!["class".to_string()];
    header.extend(files.iter().map(|f| f.implementation.name.clone()));
    rows.push(header);
    for class in classes_in(files) {
        let mut row = vec![class.name().to_string()];
        for f in files {
            let cell = ClassCell::of(f, class);
            row.push(match cell.verdict {
                Verdict::NotClaimed => cell.mark().symbol().to_string(),
                Verdict::Untested => format!("{} untested", cell.mark().symbol()),
                _ => format!("{} {}", cell.mark().symbol(), cell.counts()),
            });
        }
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(text, &w)| format!("{text:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push('\n');
    for f in files {
        out.push_str(&verdict_line(f));
        out.push('\n');
    }
    out
}

/// `kipz nono 0.42.0: fails mediation (1 failed case), mediation-seed (1 failed case)`,
/// or `nono-ref 0.1.0: passes every class it claims (core, profiles)`.
fn verdict_line(f: &ResultsFile) -> String {
    let name = &f.implementation.name;
    let classes = classes_in(std::slice::from_ref(f));
    let failing: Vec<String> = classes
        .iter()
        .filter(|&&c| ClassCell::of(f, c).verdict == Verdict::Fail)
        .map(|&c| {
            let n = f
                .cases
                .iter()
                .filter(|case| case.class == c && matches!(case.status, CaseStatus::Failed | CaseStatus::UnexpectedPass))
                .count();
            format!("{c} ({n} failed case{})", if n == 1 { "" } else { "s" })
        })
        .collect();
    if !failing.is_empty() {
        return format!("{name}: fails {}", failing.join(", "));
    }
    let claimed: Vec<&str> =
        classes.iter().filter(|&&c| ClassCell::of(f, c).verdict == Verdict::Pass).map(|c| c.name()).collect();
    match claimed.is_empty() {
        true => format!("{name}: claims no class"),
        false => format!("{name}: passes every class it claims ({})", claimed.join(", ")),
    }
}
