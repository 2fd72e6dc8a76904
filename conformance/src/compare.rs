//! Comparing two runs: the regression gate for a fork's pull requests.
//!
//! `compare BASE.json NEW.json` (or `run --baseline BASE.json`) lists cases that newly
//! fail, newly pass, are new, or are gone. A newly failing case is one that passed (or was
//! skipped) in the base and now fails, fails as expected, or passes unexpectedly; any of them
//! makes the comparison a regression.

use crate::results::{ResultsFile, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One case whose status changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Case ID.
    pub id: String,
    /// Status in the base run.
    pub before: Status,
    /// Status in the new run.
    pub after: Status,
}

/// The difference between two runs.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Was fine, now fails (or is newly listed as an expected failure).
    pub newly_failing: Vec<Change>,
    /// Failed, now passes.
    pub newly_passing: Vec<Change>,
    /// Other changes (e.g. a case newly skipped or no longer claimed).
    pub other: Vec<Change>,
    /// Cases only in the new run, with their status.
    pub added: Vec<(String, Status)>,
    /// Cases only in the base run.
    pub removed: Vec<String>,
}

fn failing(s: &Status) -> bool {
    matches!(s, Status::Failed | Status::UnexpectedPass | Status::ExpectedFail)
}

impl Comparison {
    /// Compares `base` with `new`, case by case.
    pub fn between(base: &ResultsFile, new: &ResultsFile) -> Comparison {
        let before: BTreeMap<&str, &Status> = base.cases.iter().map(|r| (r.id.as_str(), &r.status)).collect();
        let after: BTreeMap<&str, &Status> = new.cases.iter().map(|r| (r.id.as_str(), &r.status)).collect();
        let mut cmp = Comparison::default();
        for (id, now) in &after {
            let Some(was) = before.get(id) else {
                cmp.added.push((id.to_string(), *(*now)));
                continue;
            };
            if was == now {
                continue;
            }
            let change = Change { id: id.to_string(), before: *(*was), after: *(*now) };
            if failing(now) && !failing(was) || **now == Status::Failed && **was == Status::ExpectedFail {
                cmp.newly_failing.push(change);
            } else if **now == Status::Passed && failing(was) {
                cmp.newly_passing.push(change);
            } else {
                cmp.other.push(change);
            }
        }
        cmp.removed = before.keys().filter(|id| !after.contains_key(*id)).map(|id| id.to_string()).collect();
        cmp
    }

    /// True when something newly fails, or a new case fails.
    pub fn is_regression(&self) -> bool {
        !self.newly_failing.is_empty() || self.added.iter().any(|(_, s)| s.is_failure())
    }

    fn sections(&self) -> Vec<(&'static str, Vec<String>)> {
        let line = |c: &Change| format!("{} ({} → {})", c.id, c.before.word(), c.after.word());
        vec![
            ("Newly failing", self.newly_failing.iter().map(line).collect()),
            ("Newly passing", self.newly_passing.iter().map(line).collect()),
            ("Other changes", self.other.iter().map(line).collect()),
            ("New cases", self.added.iter().map(|(id, s)| format!("{id} ({})", s.word())).collect()),
            ("Removed cases", self.removed.clone()),
        ]
    }

    /// Text form: a summary line, then each non-empty section.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Against the baseline: {} newly failing, {} newly passing, {} other changes, {} new, {} removed{}",
            self.newly_failing.len(),
            self.newly_passing.len(),
            self.other.len(),
            self.added.len(),
            self.removed.len(),
            if self.is_regression() { " — REGRESSION" } else { "" }
        );
        for (title, rows) in self.sections() {
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {title} ({})", rows.len());
            for row in rows {
                let _ = writeln!(out, "    {row}");
            }
        }
        out
    }

    /// Markdown form, each section cut at `max_rows`.
    pub fn render_markdown(&self, max_rows: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### Against the baseline{}\n",
            if self.is_regression() { ": ❌ regression" } else { ": no regression" }
        );
        for (title, rows) in self.sections() {
            if rows.is_empty() {
                continue;
            }
            let shown: Vec<String> = rows.iter().take(max_rows).map(|r| format!("`{r}`")).collect();
            let more = if rows.len() > max_rows { format!(", … {} more", rows.len() - max_rows) } else { String::new() };
            let _ = writeln!(out, "- **{title} ({})**: {}{more}", rows.len(), shown.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::test_support::results;

    #[test]
    fn names_newly_failing_newly_passing_new_and_removed_cases() {
        let base = results(&[("a", Status::Passed), ("b", Status::Failed), ("c", Status::Passed), ("gone", Status::Passed)]);
        let new = results(&[("a", Status::Failed), ("b", Status::Passed), ("c", Status::Passed), ("fresh", Status::Failed)]);
        let cmp = Comparison::between(&base, &new);
        assert_eq!(cmp.newly_failing.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(cmp.newly_passing.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(cmp.added, [("fresh".to_string(), Status::Failed)]);
        assert_eq!(cmp.removed, ["gone"]);
        assert!(cmp.is_regression());
        assert!(cmp.render_text().contains("a (passed → failed)"));
    }

    #[test]
    fn a_pass_newly_listed_as_expected_failure_is_a_regression() {
        let cmp = Comparison::between(&results(&[("a", Status::Passed)]), &results(&[("a", Status::ExpectedFail)]));
        assert!(cmp.is_regression());
        let same = Comparison::between(&results(&[("a", Status::ExpectedFail)]), &results(&[("a", Status::ExpectedFail)]));
        assert!(!same.is_regression());
    }
}
