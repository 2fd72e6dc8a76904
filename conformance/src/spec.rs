//! Reading SPEC.md: every normative statement is a list item of the form
//!
//! ```text
//! * **FS-READ-001** (MUST, core) A read grant on a directory lets the program read ... [source: core-spec.md FS-1]
//! ```
//!
//! that is: the ID in bold, the RFC 2119 level and the conformance class in parentheses, the
//! sentence, and last, in brackets, where the statement comes from: a seed file, a notes ID
//! from the reference notes, or `hardening` for a stricter choice no source requires.
//!
//! A statement may carry its link anchor right after the bold ID,
//! `* **FS-READ-001**<a id="fs-read-001"></a> (MUST, core) ...`: GitHub keeps such an
//! anchor, so `SPEC.md#fs-read-001` opens at the statement. The anchor is always the ID in
//! lower case ([`anchor`]); `scripts/spec-anchors.sh` adds the missing ones.
//!
//! Tests cite statements by ID; the suite checks that every MUST statement is tested, that
//! every cited ID exists, and that every statement has a class and a source.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// The SPEC.md text, embedded so that an installed runner needs no source tree.
pub const SPEC_MD: &str = include_str!("../../SPEC.md");

/// RFC 2119 level of a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// An absolute requirement.
    Must,
    /// Recommended; deviations need a reason.
    Should,
    /// Optional.
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

/// A conformance class: a set of statements an implementation claims as a whole (OGC API's
/// `conformsTo`). Every statement belongs to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The `run` contract: filesystem, exec, network, scopes, environment, exit codes,
    /// processes, the canary. Both platforms.
    Core,
    /// Profile format, `extends`, merge and expansion, judged by effect through `run --profile`.
    Profiles,
    /// The canonical resolved-profile JSON of `profile show --json`.
    ProfileShow,
    /// Capability requests over the supervisor socket.
    Supervisor,
    /// The kipz fork's command mediation at its develop level (notes level L1).
    Mediation,
    /// What the seed pull request adds to mediation (notes level L2).
    MediationSeed,
    /// Applying Seatbelt profiles on macOS.
    Seatbelt,
    /// The reference's own tools: the Seatbelt generator and learner.
    Tools,
    /// Stricter choices no source requires: worth having, not conformance.
    Hardening,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 9] = [
        Class::Core,
        Class::Profiles,
        Class::ProfileShow,
        Class::Supervisor,
        Class::Mediation,
        Class::MediationSeed,
        Class::Seatbelt,
        Class::Tools,
        Class::Hardening,
    ];

    /// The name used in SPEC.md, manifests and reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::Core => "core",
            Class::Profiles => "profiles",
            Class::ProfileShow => "profile-show",
            Class::Supervisor => "supervisor",
            Class::Mediation => "mediation",
            Class::MediationSeed => "mediation-seed",
            Class::Seatbelt => "seatbelt",
            Class::Tools => "tools",
            Class::Hardening => "hardening",
        }
    }

    /// The class of that name.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One statement.
#[derive(Clone, Debug)]
pub struct Statement {
    /// `FS-READ-001`.
    pub id: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// The conformance class it belongs to (None only while SPEC.md is being annotated;
    /// the suite's self-check refuses a statement without one).
    pub class: Option<Class>,
    /// Where it comes from: `seed 003 ...`, a notes ID, or `hardening`.
    pub source: Option<String>,
    /// The sentence.
    pub text: String,
    /// The section heading it stands under (`## 2. Reading`), for reports and links.
    pub section: String,
}

/// The link anchor of a statement in SPEC.md: its ID in lower case (`fs-read-001`).
pub fn anchor(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// Parses the statements of a SPEC.md text, keyed by ID. Duplicate IDs, a missing level
/// and an unknown class are errors naming the line.
pub fn parse(markdown: &str) -> Result<BTreeMap<String, Statement>, String> {
    let mut out = BTreeMap::new();
    let mut section = String::new();
    for (n, line) in markdown.lines().enumerate() {
        let at = || format!("SPEC.md line {}", n + 1);
        if line.starts_with('#') {
            section = line.trim_start_matches('#').trim().to_string();
            continue;
        }
        let Some(rest) = line.trim_start().strip_prefix("* **") else { continue };
        let Some((id, rest)) = rest.split_once("**") else { continue };
        let rest = match rest.strip_prefix("<a id=\"") {
            None => rest.trim_start(),
            Some(tail) => {
                let want = anchor(id);
                let Some((given, after)) = tail.split_once("\"></a>") else {
                    return Err(format!("{}: statement {id} has a malformed anchor (write <a id=\"{want}\"></a>)", at()));
                };
                if given != want {
                    return Err(format!("{}: statement {id} has the anchor {given:?}; it must be {want:?}", at()));
                }
                after.trim_start()
            }
        };
        let Some((head, text)) = rest.strip_prefix('(').and_then(|r| r.split_once(')')) else {
            return Err(format!("{}: statement {id} has no (MUST)/(SHOULD)/(MAY) level", at()));
        };
        let mut words = head.split(',').map(str::trim);
        let level = match words.next() {
            Some("MUST") => Level::Must,
            Some("SHOULD") => Level::Should,
            Some("MAY") => Level::May,
            _ => return Err(format!("{}: statement {id} has no (MUST)/(SHOULD)/(MAY) level", at())),
        };
        let class = match words.next() {
            None => None,
            Some(name) => Some(Class::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
                format!("{}: statement {id} names an unknown class {name:?} (known: {})", at(), known.join(", "))
            })?),
        };
        if let Some(extra) = words.next() {
            return Err(format!("{}: statement {id} has an extra word {extra:?} after its class", at()));
        }
        let text = text.trim();
        let (text, source) = match text.strip_suffix(']').and_then(|t| t.rsplit_once("[source:")) {
            Some((sentence, source)) => (sentence.trim(), Some(source.trim().to_string())),
            None => (text, None),
        };
        let statement = Statement {
            id: id.to_string(),
            level,
            class,
            source,
            text: text.to_string(),
            section: section.clone(),
        };
        if out.insert(id.to_string(), statement).is_some() {
            return Err(format!("{}: duplicate statement ID {id}", at()));
        }
    }
    Ok(out)
}

/// The statements of the embedded SPEC.md, parsed once.
pub fn statements() -> &'static BTreeMap<String, Statement> {
    static PARSED: OnceLock<BTreeMap<String, Statement>> = OnceLock::new();
    PARSED.get_or_init(|| parse(SPEC_MD).unwrap_or_else(|e| panic!("the embedded SPEC.md does not parse: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_levels_classes_and_sources() {
        let s = parse(
            "# x\n## 2. Reading\n* **A-001** (MUST, core) One. [source: core-spec.md FS-1]\n* **A-002** (SHOULD) Two.\ntext\n",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s["A-001"].level, Level::Must);
        assert_eq!(s["A-001"].class, Some(Class::Core));
        assert_eq!(s["A-001"].source.as_deref(), Some("core-spec.md FS-1"));
        assert_eq!(s["A-001"].text, "One.");
        assert_eq!(s["A-001"].section, "2. Reading");
        assert_eq!(s["A-002"].text, "Two.");
        assert_eq!(s["A-002"].class, None);
    }

    #[test]
    fn rejects_missing_level_unknown_class_and_duplicates() {
        assert!(parse("* **A-001** One.").is_err());
        assert!(parse("* **A-001** (MUST, kore) One.").unwrap_err().contains("unknown class \"kore\""));
        assert!(parse("* **A-001** (MUST) x\n* **A-001** (MAY) y").is_err());
    }

    #[test]
    fn a_statement_may_carry_its_lower_case_anchor_and_no_other() {
        let s = parse("* **FS-READ-001**<a id=\"fs-read-001\"></a> (MUST, core) One. [source: x]").unwrap();
        assert_eq!((s["FS-READ-001"].level, s["FS-READ-001"].text.as_str()), (Level::Must, "One."));
        let e = parse("* **FS-READ-001**<a id=\"read-1\"></a> (MUST) One.").unwrap_err();
        assert!(e.contains("line 1: statement FS-READ-001 has the anchor \"read-1\"; it must be \"fs-read-001\""), "{e}");
        assert!(parse("* **FS-READ-001**<a id=\"fs-read-001\"> (MUST) One.").unwrap_err().contains("malformed anchor"));
    }

    #[test]
    fn class_names_round_trip() {
        for class in Class::ALL {
            assert_eq!(Class::from_name(class.name()), Some(class));
        }
    }

    #[test]
    fn embedded_spec_parses() {
        assert!(!statements().is_empty());
    }
}
