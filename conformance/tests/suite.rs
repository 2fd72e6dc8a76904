//! The suite checks itself: every MUST statement is tested, every citation exists, and every
//! expectation file is valid and names real cases.

use nono_conformance::spec::{self, Level};
use nono_conformance::{cases, expectations::Expectations, harness};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn spec_statements() -> std::collections::BTreeMap<String, spec::Statement> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../SPEC.md");
    spec::parse(&std::fs::read_to_string(&path).expect("reading SPEC.md")).expect("parsing SPEC.md")
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
fn expectation_files_are_valid_and_name_known_cases() {
    let ids: BTreeSet<String> = cases::all().into_iter().map(|c| c.id).collect();
    let dir = harness::expectations_dir();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("reading expectations dir") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files += 1;
        let slug = path.file_stem().unwrap().to_string_lossy().into_owned();
        let exp = Expectations::load(&dir, &slug).unwrap_or_else(|e| panic!("{e}"));
        for id in exp.tests.keys() {
            assert!(ids.contains(id), "{}: names unknown case {id}", path.display());
        }
    }
    assert!(files > 0, "no expectation files found in {}", dir.display());
}

#[test]
fn reference_expectation_file_is_empty() {
    let exp = Expectations::load(&harness::expectations_dir(), "nono-ref").unwrap();
    assert!(exp.tests.is_empty(), "the reference must pass everything; found {:?}", exp.tests.keys());
}
