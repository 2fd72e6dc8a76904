//! Implementation manifests: what an implementation claims, how the suite drives it, and
//! where it knowingly differs from SPEC.md.
//!
//! A fork keeps its manifest in its own repository and passes it with `--manifest FILE`
//! (or `NONO_MANIFEST=FILE` under nextest). Built-in manifests for the reference, upstream
//! nono 0.81 and the kipz fork 0.42 are embedded and named `builtin:NAME` (or just `NAME`).
//!
//! ```toml
//! name = "nono 0.81"
//! claims = ["core", "profiles"]           # conformance classes (SPEC.md)
//!
//! [settings]                              # interface differences the sources allow
//! env = { NONO_LOG_FILE = "/dev/null" }   # set for every invocation of the implementation
//! audit_log = "{home}/.nono/sessions/audit.jsonl"
//!
//! [expected."linux.exit.program_not_on_path_is_127"]
//! reason = "nono reports a missing program as its own error and exits 1"
//! ```
//!
//! An expected failure that fails is reported as `expected-fail`; one that passes fails the
//! run ("unexpected pass"), so a manifest cannot go stale. A manifest that names an unknown
//! case, class or setting is an error naming it, reported before anything runs.

use crate::spec::Class;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The built-in manifests: (name, TOML text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("nono-ref", include_str!("../implementations/nono-ref.toml")),
    ("nono-0.81", include_str!("../implementations/nono-0.81.toml")),
    ("kipz-0.42", include_str!("../implementations/kipz-0.42.toml")),
];

/// The prefix a failure message is given by `bless` until a person writes the reason.
pub const PLACEHOLDER: &str = "TODO(bless):";

/// How an administrative (`admin: true`) mediation request is decided during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// The implementation runs an approver program (`nono-approve`, next to the binary or on
    /// `PATH`) with the command and its arguments; exit 0 approves (the kipz fork's contract).
    #[default]
    ApproverProgram,
}

/// Interface settings: differences in *how* the suite drives an implementation that the
/// sources allow. They never change what a case checks.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Environment set for every invocation of the implementation (e.g. to keep its own
    /// logs in a file).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Where the mediation audit log is, as a template: `{home}`, `{state_home}` (the XDG
    /// state directory) and `{session_id}` are replaced. None: the reference's layout.
    #[serde(default)]
    pub audit_log: Option<String>,
    /// The arguments that print a resolved profile as JSON, `{profile}` replaced by the
    /// profile's path. None: `profile show {profile} --json`.
    #[serde(default)]
    pub profile_show: Option<Vec<String>>,
    /// How administrative mediation requests are approved or denied.
    #[serde(default)]
    pub approval: Approval,
}

/// One expected failure.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Why the implementation differs from the spec, with the source.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    name: String,
    #[serde(default)]
    binary: Option<PathBuf>,
    #[serde(default)]
    shim: Option<PathBuf>,
    claims: Vec<String>,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    expected: BTreeMap<String, Expected>,
}

/// A parsed and validated manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Human name of the implementation.
    pub name: String,
    /// Where it came from: a file path, or `builtin:NAME`.
    pub origin: String,
    /// The implementation binary, if the manifest names one (relative to the manifest).
    pub binary: Option<PathBuf>,
    /// Its shim, likewise.
    pub shim: Option<PathBuf>,
    /// The conformance classes it claims.
    pub claims: BTreeSet<Class>,
    /// Interface settings.
    pub settings: Settings,
    /// Expected failures by case ID.
    pub expected: BTreeMap<String, Expected>,
}

impl Manifest {
    /// The manifest used when none is given: every class claimed, nothing expected to fail.
    /// A run without a manifest judges the implementation on the whole spec.
    pub fn claim_everything(origin: &str) -> Manifest {
        Manifest {
            name: String::new(),
            origin: origin.to_string(),
            binary: None,
            shim: None,
            claims: Class::ALL.into_iter().collect(),
            settings: Settings::default(),
            expected: BTreeMap::new(),
        }
    }

    /// Parses TOML `text` from `origin` (for messages). Paths in it are relative to `base`.
    pub fn parse(text: &str, origin: &str, base: Option<&Path>) -> Result<Manifest, String> {
        let file: ManifestFile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        let mut claims = BTreeSet::new();
        for name in &file.claims {
            let class = Class::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
                format!("{origin}: claims: unknown class {name:?} (known: {})", known.join(", "))
            })?;
            if !claims.insert(class) {
                return Err(format!("{origin}: claims: {name:?} is listed twice"));
            }
        }
        for (id, e) in &file.expected {
            if e.reason.trim().is_empty() {
                return Err(format!("{origin}: expected.\"{id}\".reason is empty: say why the implementation differs"));
            }
        }
        let resolve = |p: PathBuf| match base {
            Some(dir) if p.is_relative() && p.components().count() > 1 => dir.join(p),
            _ => p,
        };
        Ok(Manifest {
            name: file.name,
            origin: origin.to_string(),
            binary: file.binary.map(resolve),
            shim: file.shim.map(resolve),
            claims,
            settings: file.settings,
            expected: file.expected,
        })
    }

    /// Loads `spec`: `builtin:NAME`, a built-in name, or a file path.
    pub fn load(spec: &str) -> Result<Manifest, String> {
        let builtin_name = spec.strip_prefix("builtin:").unwrap_or(spec);
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == builtin_name) {
            return Manifest::parse(text, &format!("builtin:{name}"), None);
        }
        if spec.starts_with("builtin:") {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(format!("{spec}: no such built-in manifest (built in: {})", names.join(", ")));
        }
        let path = Path::new(spec);
        let text = std::fs::read_to_string(path).map_err(|e| format!("manifest {spec}: {e}"))?;
        let base = path.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf));
        Manifest::parse(&text, spec, base.as_deref())
    }

    /// The manifest for a run: `NONO_MANIFEST` if set; the reference's built-in one when
    /// the implementation is the reference; otherwise every class, no expected failures.
    pub fn from_env(is_reference: bool) -> Result<Manifest, String> {
        match std::env::var("NONO_MANIFEST") {
            Ok(spec) if !spec.is_empty() => Manifest::load(&spec),
            _ if is_reference => Manifest::load("builtin:nono-ref"),
            _ => Ok(Manifest::claim_everything("none (every class claimed)")),
        }
    }

    /// True when the manifest claims `class`.
    pub fn claims(&self, class: Class) -> bool {
        self.claims.contains(&class)
    }

    /// Problems with the manifest against the suite's cases: unknown case IDs, expected
    /// failures of classes it does not claim, and reasons still holding `bless`'s placeholder.
    pub fn check_against(&self, cases: &[crate::Case]) -> Vec<String> {
        let by_id: BTreeMap<&str, &crate::Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
        let mut problems = vec![];
        for (id, e) in &self.expected {
            match by_id.get(id.as_str()) {
                None => problems.push(format!("{}: expected.\"{id}\" names no case of this suite", self.origin)),
                Some(case) => {
                    if let Some(class) = case.class() {
                        if !self.claims(class) {
                            problems.push(format!(
                                "{}: expected.\"{id}\" is in class {class}, which the manifest does not claim (remove the entry)",
                                self.origin
                            ));
                        }
                    }
                }
            }
            if e.reason.trim_start().starts_with(PLACEHOLDER) {
                problems.push(format!(
                    "{}: expected.\"{id}\".reason is bless's placeholder; write why the implementation differs",
                    self.origin
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_claims_settings_and_expected() {
        let m = Manifest::parse(
            "name = \"x\"\nclaims = [\"core\", \"profiles\"]\n[settings]\nenv = { A = \"1\" }\n[expected.\"a.b\"]\nreason = \"why\"\n",
            "t.toml",
            None,
        )
        .unwrap();
        assert!(m.claims(Class::Core) && m.claims(Class::Profiles) && !m.claims(Class::Mediation));
        assert_eq!(m.settings.env["A"], "1");
        assert_eq!(m.expected["a.b"].reason, "why");
    }

    #[test]
    fn names_what_is_wrong() {
        let unknown_class = Manifest::parse("name = \"x\"\nclaims = [\"kore\"]\n", "t.toml", None).unwrap_err();
        assert!(unknown_class.contains("unknown class \"kore\""), "{unknown_class}");
        let unknown_setting = Manifest::parse("name = \"x\"\nclaims = []\n[settings]\nbogus = 1\n", "t.toml", None).unwrap_err();
        assert!(unknown_setting.contains("bogus"), "{unknown_setting}");
        let empty_reason =
            Manifest::parse("name = \"x\"\nclaims = []\n[expected.\"a\"]\nreason = \" \"\n", "t.toml", None).unwrap_err();
        assert!(empty_reason.contains("expected.\"a\".reason is empty"), "{empty_reason}");
        assert!(Manifest::load("builtin:nope").unwrap_err().contains("no such built-in manifest"));
    }

    #[test]
    fn builtin_manifests_parse() {
        for (name, _) in BUILTIN {
            Manifest::load(name).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
