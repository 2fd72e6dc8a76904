//! JUnit XML for CI systems: one `<testcase>` per case, grouped by class. Expected
//! failures and skips are `<skipped>` with their reason (as nextest reports skipped tests),
//! so no CI system counts them as passes; not-claimed cases are left out.

use crate::results::{ResultsFile, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// XML text and attribute escaping, shared with the matrix page (control characters, which
/// XML 1.0 cannot carry, become visible `\x1b`-style escapes).
fn escape(s: &str) -> String {
    crate::matrix::escape::markup(s)
}

/// The JUnit document of a run.
pub fn render(results: &ResultsFile) -> String {
    let mut suites: BTreeMap<&str, Vec<&crate::results::Record>> = BTreeMap::new();
    for r in results.cases.iter().filter(|r| r.status != Status::NotClaimed) {
        suites.entry(r.class.as_str()).or_default().push(r);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"nono-conformance {}\">", escape(&results.implementation.name));
    for (class, records) in suites {
        let failures = records.iter().filter(|r| r.status.is_failure()).count();
        let skipped = records.iter().filter(|r| matches!(r.status, Status::Skipped | Status::ExpectedFail)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            escape(class),
            records.len()
        );
        for r in records {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&r.category),
                escape(&r.id),
                r.millis as f64 / 1000.0
            );
            match r.status {
                Status::Passed => out.push_str("/>\n"),
                Status::Failed | Status::UnexpectedPass => {
                    let first = r.message.lines().next().unwrap_or("");
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        escape(first),
                        escape(&r.message)
                    );
                }
                Status::ExpectedFail => {
                    let reason = r.reason.as_deref().unwrap_or("");
                    let _ = writeln!(out, ">\n      <skipped message=\"expected failure: {}\"/>\n    </testcase>", escape(reason));
                }
                Status::Skipped | Status::NotClaimed => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", escape(&r.message));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
