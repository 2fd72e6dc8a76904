//! Results: one [`Record`] per case while a run works, and the versioned [`ResultsFile`]
//! (`results.json`) a run leaves behind for `compare`, `bless`, `matrix` and dashboards.
//!
//! The results file's JSON Schema is derived from these types and committed as
//! `conformance/schema/results-v1.schema.json`; a test pins it, so a change to the shape
//! is a deliberate one with a new `schema_version`.

use crate::case::Case;
use crate::manifest::Manifest;
use crate::spec::{Class, Statement};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the results file's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// The result of one case.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Ran and held.
    Passed,
    /// Ran and did not hold.
    Failed,
    /// Ran, did not hold, and the manifest says so (with a reason).
    ExpectedFail,
    /// Listed as an expected failure but held: the manifest is stale.
    UnexpectedPass,
    /// Did not run; `message` says why.
    Skipped,
    /// Its class is not claimed by the implementation's manifest: never run, never counted.
    NotClaimed,
}

impl Status {
    /// The word used in reports.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::ExpectedFail => "expected-fail",
            Status::UnexpectedPass => "unexpected-pass",
            Status::Skipped => "skipped",
            Status::NotClaimed => "not-claimed",
        }
    }

    /// True for the statuses that fail a run.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed | Status::UnexpectedPass)
    }
}

/// The outcome of one case.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Case ID.
    pub id: String,
    /// What must hold.
    #[serde(default)]
    pub title: String,
    /// Case category (the ID without its last segment).
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
    /// Wall time in milliseconds (0 for cases that did not run).
    pub millis: u64,
}

/// Counts of one group of cases.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Tally {
    /// Passed.
    pub passed: usize,
    /// Failed, unexpected passes included.
    pub failed: usize,
    /// Failed as the manifest says.
    pub expected_fail: usize,
    /// Did not run, with a reason.
    pub skipped: usize,
}

impl Tally {
    /// Counts one status; not-claimed cases count nowhere.
    pub fn add(&mut self, status: &Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed | Status::UnexpectedPass => self.failed += 1,
            Status::ExpectedFail => self.expected_fail += 1,
            Status::Skipped => self.skipped += 1,
            Status::NotClaimed => {}
        }
    }

    /// Cases counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.expected_fail + self.skipped
    }
}

/// A class's verdict.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Claimed, and every MUST case passed or failed as the manifest expects (and, in
    /// strict mode, every SHOULD case too, with no skips but those strict mode allows).
    Pass,
    /// Claimed, and something failed.
    Fail,
    /// Claimed, but no case of it ran here (e.g. `seatbelt` on Linux, or every case
    /// skipped): neither a pass nor, unless strict, a failure.
    Untested,
    /// Not claimed: never a failure, never a pass.
    NotClaimed,
}

/// One class in the results.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClassResult {
    /// Its name.
    pub class: String,
    /// Whether the manifest claims it.
    pub claimed: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Cases at MUST level.
    pub must: Tally,
    /// Cases at SHOULD level.
    pub should: Tally,
    /// Cases at MAY level.
    pub may: Tally,
    /// Cases of the class (not-claimed ones included).
    pub cases: usize,
}

/// One statement in the results.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StatementResult {
    /// `FS-READ-001`.
    pub id: String,
    /// Its class.
    pub class: String,
    /// MUST, SHOULD or MAY.
    pub level: String,
    /// The sentence.
    pub text: String,
    /// Its SPEC.md section.
    pub section: String,
    /// Its source.
    #[serde(default)]
    pub source: Option<String>,
    /// Passed cases citing it.
    pub passed: usize,
    /// Failed cases citing it.
    pub failed: usize,
    /// Expected failures citing it.
    pub expected_fail: usize,
    /// Skipped cases citing it.
    pub skipped: usize,
}

/// Which suite produced the file.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SuiteInfo {
    /// The suite's version.
    pub version: String,
    /// The git commit it was built from, when known.
    pub commit: String,
}

/// The implementation that was tested.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ImplementationInfo {
    /// Name and version, e.g. `nono 0.81.0`.
    pub name: String,
    /// Short form, e.g. `nono-0.81`.
    pub slug: String,
    /// The binary.
    pub path: String,
    /// The manifest: a file path or `builtin:NAME`.
    pub manifest: String,
    /// The kernel's Landlock ABI, measured by the suite's probe.
    pub landlock_abi: u32,
}

/// The host.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PlatformInfo {
    /// `linux`, `macos`.
    pub os: String,
    /// `x86_64`, `aarch64`.
    pub arch: String,
    /// The kernel release.
    pub kernel: String,
}

/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ResultsFile {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The suite.
    pub suite: SuiteInfo,
    /// The implementation.
    pub implementation: ImplementationInfo,
    /// The host.
    pub platform: PlatformInfo,
    /// Whether skips and SHOULD failures failed the run.
    pub strict: bool,
    /// Per class, in report order.
    pub classes: Vec<ClassResult>,
    /// Per statement, in ID order.
    pub statements: Vec<StatementResult>,
    /// Per case, in ID order.
    pub cases: Vec<Record>,
}

impl ResultsFile {
    /// Joins the cases of a run with their records. A selected case without a record (it
    /// crashed before writing one) is a failure; classes and statements are tallied.
    pub fn build(
        cases: &[Case],
        records: Vec<Record>,
        manifest: &Manifest,
        statements: &BTreeMap<String, Statement>,
        strict: bool,
        header: (SuiteInfo, ImplementationInfo, PlatformInfo),
    ) -> ResultsFile {
        let mut by_id: BTreeMap<String, Record> = records.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut records = vec![];
        for case in cases {
            let record = by_id.remove(&case.id).unwrap_or_else(|| {
                crate::harness::record(case, Status::Failed, "no result was recorded: the case crashed or was killed".into(), None, 0)
            });
            records.push(record);
        }
        records.sort_by(|a, b| a.id.cmp(&b.id));

        let mut classes = vec![];
        for class in Class::ALL {
            let claimed = manifest.claims(class);
            let mut result = ClassResult {
                class: class.name().into(),
                claimed,
                verdict: Verdict::NotClaimed,
                must: Tally::default(),
                should: Tally::default(),
                may: Tally::default(),
                cases: 0,
            };
            for r in records.iter().filter(|r| r.class == class.name()) {
                result.cases += 1;
                match r.level.as_str() {
                    "SHOULD" => result.should.add(&r.status),
                    "MAY" => result.may.add(&r.status),
                    _ => result.must.add(&r.status),
                }
            }
            if claimed {
                let ran = |t: &Tally| t.passed + t.failed + t.expected_fail;
                // In a strict run a skip that strict mode does not allow is already a failure,
                // so the skips left are allowed ones (the host cannot run them).
                let strict_problem = strict && result.should.failed > 0;
                result.verdict = if result.must.failed > 0 || strict_problem {
                    Verdict::Fail
                } else if ran(&result.must) + ran(&result.should) + ran(&result.may) == 0 {
                    if strict { Verdict::Fail } else { Verdict::Untested }
                } else {
                    Verdict::Pass
                };
            }
            classes.push(result);
        }

        let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
        for r in &records {
            for id in &r.spec {
                tallies.entry(id.as_str()).or_default().add(&r.status);
            }
        }
        let statements = statements
            .values()
            .map(|s| {
                let t = tallies.get(s.id.as_str()).copied().unwrap_or_default();
                StatementResult {
                    id: s.id.clone(),
                    class: s.class.map(|c| c.name().to_string()).unwrap_or_default(),
                    level: s.level.to_string(),
                    text: s.text.clone(),
                    section: s.section.clone(),
                    source: s.source.clone(),
                    passed: t.passed,
                    failed: t.failed,
                    expected_fail: t.expected_fail,
                    skipped: t.skipped,
                }
            })
            .collect();
        let (suite, implementation, platform) = header;
        ResultsFile {
            schema_version: SCHEMA_VERSION,
            suite,
            implementation,
            platform,
            strict,
            classes,
            statements,
            cases: records,
        }
    }

    /// Reads a results file, naming the file and the JSON path on bad input.
    pub fn read(path: &Path) -> Result<ResultsFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let file: ResultsFile =
            serde_path_to_error::deserialize(de).map_err(|e| format!("{}: at {}: {}", path.display(), e.path(), e.inner()))?;
        if file.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "{}: schema_version {} is not supported (this suite reads {SCHEMA_VERSION})",
                path.display(),
                file.schema_version
            ));
        }
        Ok(file)
    }

    /// True when the run conforms: no claimed class failed (unexpected passes included).
    pub fn conforms(&self) -> bool {
        self.classes.iter().all(|c| c.verdict != Verdict::Fail) && !self.cases.iter().any(|r| r.status.is_failure())
    }

    /// Totals over every case.
    pub fn totals(&self) -> (Tally, usize) {
        let mut t = Tally::default();
        let mut not_claimed = 0;
        for r in &self.cases {
            if r.status == Status::NotClaimed {
                not_claimed += 1;
            }
            t.add(&r.status);
        }
        (t, not_claimed)
    }
}

/// The results file's JSON Schema.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ResultsFile)).expect("a schema is JSON")
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

/// Results files for unit tests.
#[cfg(test)]
pub mod test_support {
    use super::*;

    /// A results file holding `cases` (all `core`, MUST).
    pub fn results(cases: &[(&str, Status)]) -> ResultsFile {
        ResultsFile {
            schema_version: SCHEMA_VERSION,
            suite: SuiteInfo { version: "0".into(), commit: "x".into() },
            implementation: ImplementationInfo {
                name: "t".into(),
                slug: "t".into(),
                path: "/t".into(),
                manifest: "m".into(),
                landlock_abi: 7,
            },
            platform: PlatformInfo { os: "linux".into(), arch: "x86_64".into(), kernel: "6".into() },
            strict: false,
            classes: vec![],
            statements: vec![],
            cases: cases
                .iter()
                .map(|(id, status)| Record {
                    id: id.to_string(),
                    title: String::new(),
                    category: String::new(),
                    class: "core".into(),
                    level: "MUST".into(),
                    spec: vec![],
                    status: *status,
                    message: "it broke\nsecond line".into(),
                    reason: None,
                    millis: 0,
                })
                .collect(),
        }
    }

}
