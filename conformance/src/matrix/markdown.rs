//! `matrix.md`: the class-by-implementation table for a README.

use super::cell::{classes_in, ClassCell};
use super::escape::markdown_cell;
use super::model::{ResultsFile, Verdict};
use crate::spec::Class;

/// One cell: `✅ 312/312`, `❌ 300/312`, `✅ 41/47 (6 expected failures)`, `⚪ untested`
/// (claimed, but nothing of it could run on that host) or `—` (not claimed).
pub fn cell(cell: &ClassCell) -> String {
    let icon = match cell.verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Untested => return "⚪ untested".to_string(),
        Verdict::NotClaimed => return "—".to_string(),
    };
    let expected = match cell.tally.expected_fail {
        0 => String::new(),
        1 => " (1 expected failure)".to_string(),
        n => format!(" ({n} expected failures)"),
    };
    format!("{icon} {}{expected}", cell.counts())
}

/// The table, with a legend under it.
pub fn table(files: &[ResultsFile]) -> String {
    let mut out = String::from("| Class |");
    for f in files {
        out.push_str(&format!(" {} |", markdown_cell(&f.implementation.name)));
    }
    out.push_str("\n|---|");
    out.push_str(&":-:|".repeat(files.len()));
    out.push('\n');
    for class in classes_in(files) {
        out.push_str(&row(files, class));
    }
    out.push_str(
        "\n✅ pass, ❌ fail, ⚪ claimed but untested on that host, — not claimed. Counts are passed/ran; skipped cases did not run and are not counted.\n",
    );
    out
}

fn row(files: &[ResultsFile], class: Class) -> String {
    let cells: Vec<String> = files.iter().map(|f| cell(&ClassCell::of(f, class))).collect();
    format!("| {} | {} |\n", class.name(), cells.join(" | "))
}
