//! The suite checks itself: every MUST statement is tested, every citation exists, and every
//! expectation file is valid and names real cases.

use nono_conformance::spec::{self, Level};
use nono_conformance::manifest::{self, Manifest};
use nono_conformance::cases;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn spec_statements() -> std::collections::BTreeMap<String, spec::Statement> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../SPEC.md");
    spec::parse(&std::fs::read_to_string(&path).expect("reading SPEC.md")).expect("parsing SPEC.md")
}

/// The test binaries list their platform's cases through `for_platform`, which builds only
/// some families: it must give what filtering `all` gives, in the same order, or a case
/// would silently never run.
#[test]
fn each_platforms_cases_are_those_of_all_on_that_platform() {
    use nono_conformance::case::Platform;
    let all = cases::all();
    for platform in [Platform::Linux, Platform::MacOs, Platform::Any] {
        let expected: Vec<&str> = all.iter().filter(|c| c.platform == platform).map(|c| c.id.as_str()).collect();
        let built = cases::for_platform(platform);
        let got: Vec<&str> = built.iter().map(|c| c.id.as_str()).collect();
        assert!(!expected.is_empty(), "no {platform:?} cases at all");
        assert_eq!(got, expected, "for_platform({platform:?}) differs from all() on that platform");
        let requirements = |cases: &[&nono_conformance::case::Case]| cases.iter().map(|c| format!("{:?}", c.requires)).collect::<Vec<_>>();
        let expected_cases: Vec<_> = all.iter().filter(|c| c.platform == platform).collect();
        assert_eq!(requirements(&built.iter().collect::<Vec<_>>()), requirements(&expected_cases), "requirements differ on {platform:?}");
    }
}

#[test]
fn every_must_statement_has_a_case() {
    let all = cases::all();
    let cited: BTreeSet<&str> = all.iter().flat_map(|c| c.spec.iter().map(String::as_str)).collect();
    let untested: Vec<_> = spec_statements()
        .into_values()
        .filter(|s| s.level == Level::Must && !cited.contains(s.id.as_str()))
        .map(|s| s.id)
        .collect();
    assert!(untested.is_empty(), "MUST statements without a case: {untested:?}");
}

/// A MUST counts as tested only through a case that drives the implementation under test:
/// cases that call the reference's library directly (`Requirement::ReferenceLibrary`) skip
/// for every other implementation, so they cannot be a statement's only evidence.
#[test]
fn every_must_statement_has_a_case_that_tests_the_implementation() {
    use nono_conformance::case::Requirement;
    let all = cases::all();
    let black_box: BTreeSet<&str> = all
        .iter()
        .filter(|c| !c.requires.iter().any(|r| matches!(r, Requirement::ReferenceLibrary)))
        .flat_map(|c| c.spec.iter().map(String::as_str))
        .collect();
    let library_only: Vec<_> = spec_statements()
        .into_values()
        .filter(|s| s.level == Level::Must && !black_box.contains(s.id.as_str()))
        .map(|s| s.id)
        .collect();
    assert!(library_only.is_empty(), "MUST statements tested only against the reference's library: {library_only:?}");
}

#[test]
fn every_cited_statement_exists() {
    let statements = spec_statements();
    let unknown: Vec<String> = cases::all()
        .iter()
        .flat_map(|c| c.spec.iter().filter(|id| !statements.contains_key(id.as_str())).map(move |id| format!("{} cites {id}", c.id)))
        .collect();
    assert!(unknown.is_empty(), "unknown statement IDs: {unknown:?}");
}

#[test]
fn every_case_cites_a_statement_and_ids_are_unique() {
    let all = cases::all();
    let mut seen = BTreeSet::new();
    for case in &all {
        assert!(!case.spec.is_empty(), "{} cites no statement", case.id);
        assert!(seen.insert(case.id.clone()), "duplicate case ID {}", case.id);
    }
}

#[test]
fn builtin_manifests_name_known_cases_of_claimed_classes() {
    let all = cases::all();
    for (name, _) in manifest::BUILTIN {
        let m = Manifest::load(name).unwrap_or_else(|e| panic!("{e}"));
        let problems = m.check_against(&all);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

#[test]
fn reference_manifest_claims_everything_and_expects_no_failure() {
    let m = Manifest::load("builtin:nono-ref").unwrap();
    assert!(m.expected.is_empty(), "the reference must pass everything; found {:?}", m.expected.keys());
    for class in spec::Class::ALL {
        assert!(m.claims(class), "the reference must claim {class}");
    }
}

/// The results file's schema is published in the repository; a change to the Rust types
/// must come with a new committed schema (and, if incompatible, a new `schema_version`).
#[test]
fn results_schema_is_pinned() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/results-v1.schema.json");
    let generated = serde_json::to_string_pretty(&nono_conformance::results::json_schema()).unwrap() + "\n";
    if std::env::var_os("NONO_CONFORMANCE_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the Rust types; regenerate with NONO_CONFORMANCE_WRITE_SCHEMA=1 cargo nextest run -p nono-conformance --test suite results_schema",
        path.display()
    );
}

#[test]
fn every_statement_has_a_class_and_a_source() {
    let missing: Vec<String> = spec_statements()
        .into_values()
        .filter(|s| s.class.is_none() || s.source.as_deref().is_none_or(str::is_empty))
        .map(|s| s.id)
        .collect();
    assert!(missing.is_empty(), "statements without a class or a [source: ...]: {missing:?}");
}

#[test]
fn every_case_counts_for_a_class() {
    let classless: Vec<String> = cases::all().into_iter().filter(|c| c.class().is_none()).map(|c| c.id).collect();
    assert!(classless.is_empty(), "cases whose class cannot be derived: {classless:?}");
}

#[test]
fn the_fork_example_manifest_is_valid() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/fork-ci/nono-conformance.toml");
    let m = Manifest::load(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let problems = m.check_against(&cases::all());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
