//! Reading SPEC.md: every normative statement is a list item of the form
//!
//! ```text
//! * **FS-READ-001** (MUST) A read grant on a directory lets the program read ...
//! ```
//!
//! so tests can cite statements by ID and the suite can check that every MUST statement is
//! tested and every cited ID exists.

use std::collections::BTreeMap;

/// RFC 2119 level of a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An absolute requirement.
    Must,
    /// Recommended; deviations need a reason.
    Should,
    /// Optional.
    May,
}

/// One statement.
#[derive(Clone, Debug)]
pub struct Statement {
    /// `FS-READ-001`.
    pub id: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// The sentence.
    pub text: String,
}

/// Parses the statements of a SPEC.md text, keyed by ID. Duplicate IDs are an error.
pub fn parse(markdown: &str) -> Result<BTreeMap<String, Statement>, String> {
    let mut out = BTreeMap::new();
    for (n, line) in markdown.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("* **") else { continue };
        let Some((id, rest)) = rest.split_once("**") else { continue };
        let rest = rest.trim_start();
        let (level, text) = if let Some(t) = rest.strip_prefix("(MUST)") {
            (Level::Must, t)
        } else if let Some(t) = rest.strip_prefix("(SHOULD)") {
            (Level::Should, t)
        } else if let Some(t) = rest.strip_prefix("(MAY)") {
            (Level::May, t)
        } else {
            return Err(format!("SPEC.md line {}: statement {id} has no (MUST)/(SHOULD)/(MAY) level", n + 1));
        };
        let statement = Statement { id: id.to_string(), level, text: text.trim().to_string() };
        if out.insert(id.to_string(), statement).is_some() {
            return Err(format!("SPEC.md line {}: duplicate statement ID {id}", n + 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_levels() {
        let s = parse("# x\n* **A-001** (MUST) One.\n* **A-002** (SHOULD) Two.\ntext\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s["A-001"].level, Level::Must);
        assert_eq!(s["A-002"].text, "Two.");
    }

    #[test]
    fn rejects_missing_level_and_duplicates() {
        assert!(parse("* **A-001** One.").is_err());
        assert!(parse("* **A-001** (MUST) x\n* **A-001** (MAY) y").is_err());
    }
}
