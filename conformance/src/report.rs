//! The report of a run: counts per category and per statement, the failures with their
//! messages, expected failures with their reasons, skips with theirs.

use crate::case::Case;
use crate::results::{Record, Status};
use crate::spec::{Level, Statement};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Counts of one group of cases.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    /// Passed.
    pub passed: usize,
    /// Failed (including unexpected passes).
    pub failed: usize,
    /// Failed as the expectation file says.
    pub expected_fail: usize,
    /// Did not run, with a reason.
    pub skipped: usize,
    /// Listed in the registry but no result was recorded (filtered out, or crashed).
    pub not_run: usize,
    /// In a class the implementation does not claim.
    pub not_claimed: usize,
}

impl Tally {
    fn add(&mut self, status: Option<&Status>) {
        match status {
            Some(Status::Passed) => self.passed += 1,
            Some(Status::Failed) | Some(Status::UnexpectedPass) => self.failed += 1,
            Some(Status::ExpectedFail) => self.expected_fail += 1,
            Some(Status::Skipped) => self.skipped += 1,
            Some(Status::NotClaimed) => self.not_claimed += 1,
            None => self.not_run += 1,
        }
    }

    /// The verdict word for a statement or category.
    pub fn verdict(&self) -> &'static str {
        if self.failed > 0 {
            "FAIL"
        } else if self.expected_fail > 0 {
            "expected-fail"
        } else if self.passed > 0 {
            "pass"
        } else if self.skipped > 0 {
            "skipped"
        } else {
            "not run"
        }
    }
}

/// Everything the report says, also written as JSON.
#[derive(Serialize)]
pub struct Report {
    /// Per category.
    pub categories: BTreeMap<String, Tally>,
    /// Per SPEC statement.
    pub statements: BTreeMap<String, Tally>,
    /// Whole run.
    pub total: Tally,
    /// Every record, by case ID.
    pub records: Vec<Record>,
}

impl Report {
    /// Joins the registry's `cases` with the `records` a run produced.
    pub fn build(cases: &[Case], records: Vec<Record>) -> Report {
        let by_id: BTreeMap<&str, &Record> = records.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut categories: BTreeMap<String, Tally> = BTreeMap::new();
        let mut statements: BTreeMap<String, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        for case in cases {
            let status = by_id.get(case.id.as_str()).map(|r| &r.status);
            categories.entry(case.category().to_string()).or_default().add(status);
            for id in &case.spec {
                statements.entry(id.clone()).or_default().add(status);
            }
            total.add(status);
        }
        Report { categories, statements, total, records }
    }

    /// The human-readable text.
    pub fn render(&self, header: &str, spec: &BTreeMap<String, Statement>) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{header}\n");
        let _ = writeln!(out, "By category                                   pass  fail xfail  skip");
        for (name, t) in &self.categories {
            let _ = writeln!(out, "  {name:<42} {:>5} {:>5} {:>5} {:>5}", t.passed, t.failed, t.expected_fail, t.skipped);
        }
        let _ = writeln!(out, "\nBy statement");
        for (id, s) in spec {
            let level = match s.level {
                Level::Must => "MUST  ",
                Level::Should => "SHOULD",
                Level::May => "MAY   ",
            };
            match self.statements.get(id) {
                Some(t) => {
                    let _ = writeln!(
                        out,
                        "  {id:<18} {level} {:<13} ({} pass, {} fail, {} xfail, {} skip)",
                        t.verdict(),
                        t.passed,
                        t.failed,
                        t.expected_fail,
                        t.skipped
                    );
                }
                None => {
                    let _ = writeln!(out, "  {id:<18} {level} untested");
                }
            }
        }
        let sections = [
            (Status::Failed, "Failures"),
            (Status::UnexpectedPass, "Unexpected passes (stale expectation entries)"),
            (Status::ExpectedFail, "Expected failures (see the expectation file)"),
            (Status::Skipped, "Skipped"),
        ];
        for (status, title) in sections {
            let rows: Vec<&Record> = self.records.iter().filter(|r| r.status == status).collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title} ({})", rows.len());
            for r in rows {
                let _ = writeln!(out, "  {}\n      {}", r.id, r.message.replace('\n', "\n      "));
            }
        }
        let t = &self.total;
        let _ = writeln!(
            out,
            "\nconformance: {} passed, {} failed, {} expected-fail, {} skipped, {} not run",
            t.passed, t.failed, t.expected_fail, t.skipped, t.not_run
        );
        out
    }
}
