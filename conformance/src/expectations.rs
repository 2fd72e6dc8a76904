//! Expected failures per implementation: `conformance/expectations/<slug>.toml`.
//!
//! ```toml
//! [tests."linux.exit.missing_program_is_127"]
//! expected = "fail"
//! reason = "nono reports a missing program as a nono error (exit 1)"
//! ```
//!
//! An expected failure that fails is reported as `expected-fail` and does not fail the run;
//! one that passes fails the run, so the file cannot go stale. The reference's file is empty.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Only `fail` is defined.
    pub expected: String,
    /// Why the implementation differs from the spec.
    pub reason: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    tests: BTreeMap<String, Expectation>,
}

/// The expectations of one implementation, keyed by case ID.
#[derive(Default, Debug)]
pub struct Expectations {
    /// Entries by case ID.
    pub tests: BTreeMap<String, Expectation>,
}

impl Expectations {
    /// Loads `dir/<slug>.toml`; a missing file means no expected failures.
    pub fn load(dir: &Path, slug: &str) -> Result<Expectations, String> {
        let path = dir.join(format!("{slug}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Expectations::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Parses and validates the TOML text.
    pub fn parse(text: &str) -> Result<Expectations, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for (id, e) in &file.tests {
            if e.expected != "fail" {
                return Err(format!("tests.\"{id}\".expected must be \"fail\", not {:?}", e.expected));
            }
            if e.reason.trim().is_empty() {
                return Err(format!("tests.\"{id}\".reason is empty: say why the implementation differs"));
            }
        }
        Ok(Expectations { tests: file.tests })
    }

    /// The entry for a case, if any.
    pub fn get(&self, id: &str) -> Option<&Expectation> {
        self.tests.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_rejects_empty_reasons() {
        let ok = Expectations::parse("[tests.\"a.b\"]\nexpected = \"fail\"\nreason = \"why\"\n").unwrap();
        assert_eq!(ok.get("a.b").unwrap().reason, "why");
        assert!(Expectations::parse("[tests.\"a.b\"]\nexpected = \"fail\"\nreason = \" \"\n").is_err());
        assert!(Expectations::parse("[tests.\"a.b\"]\nexpected = \"pass\"\nreason = \"x\"\n").is_err());
        assert!(Expectations::parse("[tests.\"a.b\"]\nexpected = \"fail\"\nreason = \"x\"\nbug = 1\n").is_err());
    }
}
