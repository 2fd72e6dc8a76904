//! One JSON record per case, written by the test binaries when `NONO_CONFORMANCE_RESULTS`
//! names a directory (the report tool sets it) and read back by the report.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The result of one case.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Ran and held.
    Passed,
    /// Ran and did not hold.
    Failed,
    /// Ran, did not hold, and the expectation file says so (with a reason).
    ExpectedFail,
    /// Listed as an expected failure but held: the expectation file is stale.
    UnexpectedPass,
    /// Did not run; `message` says why.
    Skipped,
    /// Its class is not claimed by the implementation's manifest: never run, never counted.
    NotClaimed,
}

/// One line of the results file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// Case ID.
    pub id: String,
    /// What must hold.
    #[serde(default)]
    pub title: String,
    /// Case category.
    pub category: String,
    /// Conformance class (`core`, `mediation`, ...).
    #[serde(default)]
    pub class: String,
    /// The level the case counts at (the strongest level it cites).
    #[serde(default)]
    pub level: String,
    /// Cited statements.
    pub spec: Vec<String>,
    /// Outcome.
    pub status: Status,
    /// Failure message or skip reason.
    pub message: String,
    /// The manifest's reason, for an expected failure or an unexpected pass.
    #[serde(default)]
    pub reason: Option<String>,
    /// Wall time in milliseconds (0 for skips).
    pub millis: u64,
}

/// The directory records go to, if any.
pub fn results_dir() -> Option<PathBuf> {
    std::env::var_os("NONO_CONFORMANCE_RESULTS").map(PathBuf::from)
}

/// Writes `record` as `<dir>/<id>.json` (best effort: a report problem must not change a
/// test's verdict, so a write error is only printed).
pub fn write(dir: &Path, record: &Record) {
    let path = dir.join(format!("{}.json", record.id));
    let text = serde_json::to_string(record).expect("serialising a record");
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, text)) {
        eprintln!("warning: cannot write result {}: {e}", path.display());
    }
}

/// Reads every record in `dir`.
pub fn read_all(dir: &Path) -> Vec<Record> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "json") {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                if let Ok(record) = serde_json::from_str(&text) {
                    out.push(record);
                }
            }
        }
    }
    out.sort_by(|a: &Record, b| a.id.cmp(&b.id));
    out
}
