//! The results file the runner writes (`schema_version` 1), read exactly as written.
//! Unknown fields are ignored so that a newer runner's additions do not break an older
//! matrix; a missing or mistyped field is an error naming its JSON path.

use crate::spec::{Class, Level};
use serde::Deserialize;
use std::path::PathBuf;

/// The `schema_version` this reader understands.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of the suite against one implementation.
#[derive(Clone, Debug, Deserialize)]
pub struct ResultsFile {
    /// Always [`SCHEMA_VERSION`] (checked by [`super::load`]).
    pub schema_version: u32,
    /// Which suite produced it.
    pub suite: Suite,
    /// Which implementation ran.
    pub implementation: Implementation,
    /// Where it ran.
    pub platform: Platform,
    /// Whether SHOULD failures and stale expectations counted as failures.
    #[serde(default)]
    pub strict: bool,
    /// One verdict per conformance class.
    pub classes: Vec<ClassResult>,
    /// Per-statement tallies, in SPEC order.
    pub statements: Vec<StatementResult>,
    /// Every case, with its status.
    pub cases: Vec<CaseResult>,
    /// The file it was read from (set by [`super::load`]; not part of the JSON).
    #[serde(skip)]
    pub source: PathBuf,
}

/// The suite's version and commit.
#[derive(Clone, Debug, Deserialize)]
pub struct Suite {
    /// `0.2.0`.
    pub version: String,
    /// Abbreviated commit hash.
    #[serde(default)]
    pub commit: Option<String>,
}

/// The implementation under test.
#[derive(Clone, Debug, Deserialize)]
pub struct Implementation {
    /// Human name: `nono 0.81.0`.
    pub name: String,
    /// File-name-safe identifier: `nono-0.81` (checked by [`super::load`]).
    pub slug: String,
    /// Path of the binary that ran.
    #[serde(default)]
    pub path: Option<String>,
    /// The expectations manifest used (`builtin:nono-0.81` or a path).
    #[serde(default)]
    pub manifest: Option<String>,
    /// The kernel's Landlock ABI as the suite saw it (Linux only).
    #[serde(default)]
    pub landlock_abi: Option<u32>,
}

/// The host.
#[derive(Clone, Debug, Deserialize)]
pub struct Platform {
    /// `linux` or `macos`.
    pub os: String,
    /// `x86_64`, `aarch64`.
    pub arch: String,
    /// Kernel release.
    #[serde(default)]
    pub kernel: Option<String>,
}

/// A class's verdict: the runner's own type, so the two cannot disagree on its spelling.
pub use crate::results::Verdict;

/// Outcome counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Tally {
    /// Ran and held.
    pub passed: u32,
    /// Ran and did not hold.
    pub failed: u32,
    /// Did not hold, as the manifest expects.
    pub expected_fail: u32,
    /// Did not run.
    pub skipped: u32,
}

impl Tally {
    /// Cases that ran: passed, failed or failed as expected. Skips are not among them,
    /// so a skip is never counted as a pass (nor as a failure).
    pub fn ran(&self) -> u32 {
        self.passed + self.failed + self.expected_fail
    }

    /// The sum of two tallies.
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
            expected_fail: self.expected_fail + other.expected_fail,
            skipped: self.skipped + other.skipped,
        }
    }
}

/// One class's line of the results file.
#[derive(Clone, Debug, Deserialize)]
pub struct ClassResult {
    /// Which class.
    pub class: Class,
    /// Whether the implementation's manifest claims it.
    pub claimed: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Counts of MUST cases.
    pub must: Tally,
    /// Counts of SHOULD cases.
    pub should: Tally,
    /// Counts of MAY cases.
    pub may: Tally,
}

impl ClassResult {
    /// All levels together.
    pub fn total(&self) -> Tally {
        self.must.plus(self.should).plus(self.may)
    }
}

/// One statement's line of the results file.
#[derive(Clone, Debug, Deserialize)]
pub struct StatementResult {
    /// `FS-READ-001`.
    pub id: String,
    /// Its class.
    pub class: Class,
    /// Its level.
    pub level: Level,
    /// Its sentence.
    pub text: String,
    /// Its SPEC.md section heading.
    #[serde(default)]
    pub section: String,
    /// Counts of the cases citing it.
    #[serde(flatten)]
    pub tally: Tally,
}

/// A case's status: the runner's own type, as with [`Verdict`].
pub use crate::results::Status as CaseStatus;

/// One case's line of the results file.
#[derive(Clone, Debug, Deserialize)]
pub struct CaseResult {
    /// `linux.fs.read.sibling_denied`.
    pub id: String,
    /// One sentence saying what it checks.
    #[serde(default)]
    pub title: String,
    /// Its class.
    pub class: Class,
    /// Its level.
    pub level: Level,
    /// The statements it cites.
    pub spec: Vec<String>,
    /// What happened.
    pub status: CaseStatus,
    /// Failure message or skip reason (arbitrary text).
    #[serde(default)]
    pub message: String,
    /// The manifest's reason for an expected failure.
    #[serde(default)]
    pub reason: Option<String>,
    /// Wall time.
    #[serde(default)]
    pub millis: u64,
}
