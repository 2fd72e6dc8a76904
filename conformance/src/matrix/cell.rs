//! What one cell of the matrix says: the judgement every output (page, Markdown, badges,
//! terminal summary) shares, so that they can never disagree.
//!
//! Counts read `passed/ran`, where *ran* is passed + failed + expected failures: a skipped
//! case did not run, so it is neither a pass nor a failure and is reported on its own.

use super::model::{CaseResult, CaseStatus, ResultsFile, Tally, Verdict};
use crate::spec::Class;

/// The verdict of one implementation on one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassCell {
    /// Pass, fail or not claimed (a class missing from the file is not claimed).
    pub verdict: Verdict,
    /// All levels together.
    pub tally: Tally,
}

impl ClassCell {
    /// The cell of `class` in `file`.
    pub fn of(file: &ResultsFile, class: Class) -> ClassCell {
        match file.classes.iter().find(|c| c.class == class) {
            Some(c) if c.claimed && c.verdict != Verdict::NotClaimed => ClassCell { verdict: c.verdict, tally: c.total() },
            _ => ClassCell { verdict: Verdict::NotClaimed, tally: Tally::default() },
        }
    }

    /// `312/312`, `untested` or `not claimed`.
    pub fn counts(&self) -> String {
        match self.verdict {
            Verdict::Untested => "untested".to_string(),
            Verdict::NotClaimed => "not claimed".to_string(),
            _ => format!("{}/{}", self.tally.passed, self.tally.ran()),
        }
    }

    /// The mark a class cell shares with statement cells: pass, fail, untested or not
    /// claimed.
    pub fn mark(&self) -> Mark {
        match self.verdict {
            Verdict::Pass => Mark::Pass,
            Verdict::Fail => Mark::Fail,
            Verdict::Untested => Mark::Untested,
            Verdict::NotClaimed => Mark::NotClaimed,
        }
    }

    /// The one word for the verdict.
    pub fn word(&self) -> &'static str {
        match self.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Untested => "untested",
            Verdict::NotClaimed => "not claimed",
        }
    }

    /// What else a reader should know: `2 expected failures, 4 skipped` (empty if nothing).
    pub fn notes(&self) -> String {
        if self.verdict == Verdict::NotClaimed {
            return String::new();
        }
        let mut notes = vec![];
        match self.tally.expected_fail {
            0 => {}
            1 => notes.push("1 expected failure".to_string()),
            n => notes.push(format!("{n} expected failures")),
        }
        if self.tally.skipped > 0 {
            notes.push(format!("{} skipped", self.tally.skipped));
        }
        notes.join(", ")
    }
}

/// What a statement's cell shows, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// A case citing it failed.
    Fail,
    /// A case citing it failed as the manifest expects.
    ExpectedFail,
    /// Every case citing it that ran passed.
    Pass,
    /// Its cases were all skipped.
    Skipped,
    /// The class is claimed but none of its cases could run on that host.
    Untested,
    /// The implementation does not claim the statement's class.
    NotClaimed,
    /// The results file has no outcome for it (an older suite, or no case ran).
    NoResult,
}

impl Mark {
    /// The CSS class and the word shown.
    pub fn word(self) -> &'static str {
        match self {
            Mark::Fail => "fail",
            Mark::ExpectedFail => "expected fail",
            Mark::Pass => "pass",
            Mark::Skipped => "skipped",
            Mark::Untested => "untested",
            Mark::NotClaimed => "not claimed",
            Mark::NoResult => "no result",
        }
    }

    /// A symbol that carries the meaning without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Fail => "✗",
            Mark::ExpectedFail => "!",
            Mark::Pass => "✓",
            Mark::Skipped => "○",
            Mark::Untested => "?",
            Mark::NotClaimed => "—",
            Mark::NoResult => "·",
        }
    }

    /// The CSS class of a cell with this mark.
    pub fn css(self) -> &'static str {
        match self {
            Mark::Fail => "fail",
            Mark::ExpectedFail => "xfail",
            Mark::Pass => "pass",
            Mark::Skipped => "skipped",
            Mark::Untested => "untested",
            Mark::NotClaimed => "unclaimed",
            Mark::NoResult => "none",
        }
    }
}

/// One implementation's cell for one statement.
#[derive(Clone, Debug)]
pub struct StatementCell<'a> {
    /// The judgement.
    pub mark: Mark,
    /// The statement's counts in that file (zero when absent).
    pub tally: Tally,
    /// The cases citing the statement that a reader should look at: failures, stale
    /// expectations, expected failures and skips, in file order.
    pub cases: Vec<&'a CaseResult>,
}

impl<'a> StatementCell<'a> {
    /// The cell of statement `id` (of `class`) in `file`.
    pub fn of(file: &'a ResultsFile, id: &str, class: Class) -> StatementCell<'a> {
        let cases = || file.cases.iter().filter(move |c| c.spec.iter().any(|s| s == id));
        if ClassCell::of(file, class).verdict == Verdict::NotClaimed {
            return StatementCell { mark: Mark::NotClaimed, tally: Tally::default(), cases: vec![] };
        }
        let Some(statement) = file.statements.iter().find(|s| s.id == id) else {
            return StatementCell { mark: Mark::NoResult, tally: Tally::default(), cases: vec![] };
        };
        let tally = statement.tally;
        let mark = if tally.failed > 0 {
            Mark::Fail
        } else if tally.expected_fail > 0 {
            Mark::ExpectedFail
        } else if tally.passed > 0 {
            Mark::Pass
        } else if tally.skipped > 0 {
            Mark::Skipped
        } else {
            Mark::NoResult
        };
        let notable = cases()
            .filter(|c| {
                matches!(
                    c.status,
                    CaseStatus::Failed | CaseStatus::UnexpectedPass | CaseStatus::ExpectedFail | CaseStatus::Skipped
                )
            })
            .collect();
        StatementCell { mark, tally, cases: notable }
    }

    /// The text of the cell: `pass 3/3`, `fail 1/3, 1 skipped`, `skipped 2`, `not claimed`.
    pub fn label(&self) -> String {
        let t = self.tally;
        let counts = match self.mark {
            Mark::Untested | Mark::NotClaimed | Mark::NoResult => return self.mark.word().to_string(),
            Mark::Skipped => return format!("skipped {}", t.skipped),
            _ => format!("{} {}/{}", self.mark.word(), t.passed, t.ran()),
        };
        match t.skipped {
            0 => counts,
            n => format!("{counts}, {n} skipped"),
        }
    }
}

/// Every statement of `class` that any file reports, in the order first seen (files in
/// the order given, statements in SPEC order), with the first file's text.
pub fn statements_of(files: &[ResultsFile], class: Class) -> Vec<&super::model::StatementResult> {
    let mut seen = std::collections::HashSet::new();
    files
        .iter()
        .flat_map(|f| f.statements.iter())
        .filter(|s| s.class == class && seen.insert(s.id.as_str()))
        .collect()
}

/// The classes worth a row: every class some file lists or has statements in, in the
/// order of [`Class::ALL`].
pub fn classes_in(files: &[ResultsFile]) -> Vec<Class> {
    Class::ALL
        .into_iter()
        .filter(|&class| {
            files.iter().any(|f| f.classes.iter().any(|c| c.class == class) || f.statements.iter().any(|s| s.class == class))
        })
        .collect()
}
