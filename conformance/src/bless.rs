//! `bless`: write or update a manifest's expected failures from a run.
//!
//! * An entry whose case now passes is removed.
//! * A case that fails and has no entry gets one, with the first line of its failure behind
//!   [`PLACEHOLDER`] as its reason. Validation refuses that placeholder, so a person must
//!   say why the implementation differs before the manifest can be used.
//! * Everything else in the file (comments, claims, settings, order) is kept as written.
//!
//! Only cases of claimed classes that ran are considered: a skip says nothing about them.

use crate::manifest::PLACEHOLDER;
use crate::results::{ResultsFile, Status};
use toml_edit::{DocumentMut, Item, Table};

/// What `bless` changed.
#[derive(Debug, Default)]
pub struct Blessed {
    /// Entries added, with their placeholder reasons.
    pub added: Vec<String>,
    /// Entries removed because their case now passes.
    pub removed: Vec<String>,
    /// The new manifest text.
    pub text: String,
}

/// Applies `results` to the manifest `text` (from `origin`, for messages).
pub fn bless(text: &str, origin: &str, results: &ResultsFile) -> Result<Blessed, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{origin}: {e}"))?;
    if !doc.contains_key("expected") {
        let mut table = Table::new();
        table.set_implicit(true);
        doc.insert("expected", Item::Table(table));
    }
    let expected = doc["expected"]
        .as_table_mut()
        .ok_or_else(|| format!("{origin}: `expected` must be a table of [expected.\"case.id\"] entries"))?;
    let mut out = Blessed::default();
    for record in &results.cases {
        match record.status {
            Status::UnexpectedPass => {
                expected.remove(&record.id);
                out.removed.push(record.id.clone());
            }
            Status::Failed if !expected.contains_key(&record.id) => {
                let first = record.message.lines().next().unwrap_or("failed").trim();
                let mut entry = Table::new();
                entry["reason"] = toml_edit::value(format!("{PLACEHOLDER} {first}"));
                expected.insert(&record.id, Item::Table(entry));
                out.added.push(record.id.clone());
            }
            _ => {}
        }
    }
    out.text = doc.to_string();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::results::test_support::results;

    #[test]
    fn adds_failures_with_a_placeholder_removes_passes_and_keeps_comments() {
        let text = "# my fork\nname = \"f\"\nclaims = [\"core\"] # what we claim\n\n[expected.\"a.old\"]\nreason = \"known\"\n\n[expected.\"a.keep\"]\nreason = \"still\"\n";
        let r = results(&[("a.old", Status::UnexpectedPass), ("a.keep", Status::ExpectedFail), ("a.new", Status::Failed)]);
        let b = bless(text, "m.toml", &r).unwrap();
        assert_eq!(b.added, ["a.new"]);
        assert_eq!(b.removed, ["a.old"]);
        assert!(b.text.contains("# my fork") && b.text.contains("# what we claim"), "{}", b.text);
        assert!(b.text.contains("TODO(bless): it broke\""), "{}", b.text);
        assert!(!b.text.contains("a.old"));
        // The placeholder parses but is refused until a person writes the reason.
        let m = Manifest::parse(&b.text, "m.toml", None).unwrap();
        assert!(m.expected["a.new"].reason.starts_with(PLACEHOLDER));
    }

    #[test]
    fn creates_the_expected_table_when_missing() {
        let b = bless("name = \"f\"\nclaims = [\"core\"]\n", "m.toml", &results(&[("x.y", Status::Failed)])).unwrap();
        let m = Manifest::parse(&b.text, "m.toml", None).unwrap();
        assert!(m.expected.contains_key("x.y"), "{}", b.text);
    }
}
