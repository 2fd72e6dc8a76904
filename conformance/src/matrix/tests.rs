//! The matrix read from the three sample results files in `tests/data/matrix/`: a
//! reference that passes everything it claims, an upstream-like nono with expected
//! failures and unclaimed classes, and a kipz-like fork that fails two classes.

use super::*;
use crate::spec::Class;
use serde_json::{json, Value};
use std::path::PathBuf;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/matrix").join(name)
}

fn samples() -> Vec<ResultsFile> {
    load(&[sample("nono-ref.json"), sample("nono-0.81.json"), sample("kipz-0.42.json")]).expect("the samples load")
}

/// A minimal valid results file, to be bent by each test.
fn minimal() -> Value {
    json!({
        "schema_version": 1,
        "suite": {"version": "0.2.0", "commit": "abc1234"},
        "implementation": {"name": "nono 0.81.0", "slug": "nono-0.81", "path": "/x/nono",
                           "manifest": "builtin:nono-0.81", "landlock_abi": 7},
        "platform": {"os": "linux", "arch": "x86_64", "kernel": "6.8.0"},
        "strict": false,
        "classes": [{"class": "core", "claimed": true, "verdict": "pass",
                     "must": {"passed": 2, "failed": 0, "expected_fail": 0, "skipped": 1},
                     "should": {"passed": 0, "failed": 0, "expected_fail": 0, "skipped": 0},
                     "may": {"passed": 0, "failed": 0, "expected_fail": 0, "skipped": 0}}],
        "statements": [{"id": "FS-READ-001", "class": "core", "level": "MUST", "text": "A read grant ...",
                        "section": "2. Reading", "passed": 2, "failed": 0, "expected_fail": 0, "skipped": 1}],
        "cases": [{"id": "linux.fs.read.a", "title": "t", "class": "core", "level": "MUST", "spec": ["FS-READ-001"],
                   "status": "passed", "message": "", "reason": null, "millis": 12}]
    })
}

/// Writes `value` as `name` in a fresh directory and loads it.
fn load_value(name: &str, value: &Value) -> Result<Vec<ResultsFile>, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    load(&[path])
}

fn load_error(name: &str, bend: impl FnOnce(&mut Value)) -> String {
    let mut value = minimal();
    bend(&mut value);
    load_value(name, &value).expect_err("the bent file must not load")
}

#[test]
fn the_samples_load_with_their_unknown_fields_ignored() {
    let files = samples();
    let slugs: Vec<&str> = files.iter().map(|f| f.implementation.slug.as_str()).collect();
    assert_eq!(slugs, ["nono-ref", "nono-0.81", "kipz-0.42"]);
    assert!(files.iter().all(|f| f.statements.len() > 100 && f.classes.len() == Class::ALL.len()));
    assert_eq!(load_value("min.json", &minimal()).unwrap()[0].statements[0].tally.skipped, 1);
}

#[test]
fn a_bad_value_is_reported_with_its_file_and_json_path() {
    let e = load_error("kipz.json", |v| v["classes"][0]["verdict"] = json!("passed"));
    assert!(e.contains("kipz.json: classes[0].verdict: unknown variant `passed`"), "{e}");
    let e = load_error("kipz.json", |v| v["cases"][0]["class"] = json!("kore"));
    assert!(e.contains("kipz.json: cases[0].class: unknown variant `kore`"), "{e}");
    let e = load_error("kipz.json", |v| v["implementation"].as_object_mut().unwrap().remove("slug").map(drop).unwrap());
    assert!(e.contains("kipz.json: implementation: missing field `slug`"), "{e}");
}

#[test]
fn an_unsupported_schema_version_is_refused() {
    let e = load_error("new.json", |v| v["schema_version"] = json!(2));
    assert!(e.contains("new.json: schema_version: 2 is not supported"), "{e}");
}

#[test]
fn a_slug_that_could_name_another_path_is_refused() {
    for slug in ["../../etc/x", "", ".hidden", "a/b", "nono 0.81"] {
        let e = load_error("x.json", |v| v["implementation"]["slug"] = json!(slug));
        assert!(e.contains("x.json: implementation.slug:") && e.contains("not a usable slug"), "{slug}: {e}");
    }
}

#[test]
fn two_files_with_one_slug_and_a_class_listed_twice_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, minimal().to_string()).unwrap();
    std::fs::write(&b, minimal().to_string()).unwrap();
    let e = load(&[&a, &b]).unwrap_err();
    assert!(e.contains("b.json: implementation.slug: \"nono-0.81\" is also the slug of") && e.contains("a.json"), "{e}");
    let e = load_error("c.json", |v| {
        let first = v["classes"][0].clone();
        v["classes"].as_array_mut().unwrap().push(first)
    });
    assert!(e.contains("c.json: classes[1].class: core is already listed at classes[0]"), "{e}");
}

#[test]
fn missing_files_and_no_files_are_errors() {
    let e = load(&["/nonexistent/results.json"]).unwrap_err();
    assert!(e.starts_with("/nonexistent/results.json: cannot read:"), "{e}");
    assert_eq!(load::<&str>(&[]).unwrap_err(), "no results files given");
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, r#"{"schema_version": 1, "suite": {"version": "0.2"#).unwrap();
    let e = load(&[&cut]).unwrap_err();
    assert!(e.ends_with("cut.json: suite.version: EOF while parsing a string at line 1 column 47"), "{e}");
}

#[test]
fn cells_follow_the_worst_outcome_and_never_count_a_skip_as_a_pass() {
    let mut value = minimal();
    let files = load_value("a.json", &value).unwrap();
    let cell = StatementCell::of(&files[0], "FS-READ-001", Class::Core);
    assert_eq!((cell.mark, cell.label()), (Mark::Pass, "pass 2/2, 1 skipped".to_string()));

    value["statements"][0]["passed"] = json!(0);
    let files = load_value("a.json", &value).unwrap();
    let cell = StatementCell::of(&files[0], "FS-READ-001", Class::Core);
    assert_eq!((cell.mark, cell.label()), (Mark::Skipped, "skipped 1".to_string()));
    assert_eq!(StatementCell::of(&files[0], "FS-READ-999", Class::Core).label(), "no result");

    value["statements"][0]["expected_fail"] = json!(1);
    value["statements"][0]["failed"] = json!(1);
    let files = load_value("a.json", &value).unwrap();
    assert_eq!(StatementCell::of(&files[0], "FS-READ-001", Class::Core).label(), "fail 0/2, 1 skipped");

    value["classes"][0]["claimed"] = json!(false);
    value["classes"][0]["verdict"] = json!("not-claimed");
    let files = load_value("a.json", &value).unwrap();
    assert_eq!(StatementCell::of(&files[0], "FS-READ-001", Class::Core).mark, Mark::NotClaimed);
    assert_eq!(ClassCell::of(&files[0], Class::Profiles).counts(), "not claimed");
}

#[test]
fn the_page_escapes_case_messages_instead_of_running_them() {
    let page = html(&samples());
    assert!(!page.contains("<script"), "a case message became markup");
    assert!(page.contains("&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("\\x1b[31mWARN\\x1b[0m") && page.contains("raw bytes: \\x00\\x01\\x7f&lt;&gt;&amp;&#39;&quot;"));
    assert!(!page.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
}

#[test]
fn the_page_has_one_cell_per_implementation_and_statement_and_links_each_statement() {
    let files = samples();
    let page = html(&files);
    let statements = files[0].statements.len();
    assert_eq!(page.matches(" data-statement=\"").count(), files.len() * statements);
    assert_eq!(page.matches(" data-class=\"").count(), files.len() * Class::ALL.len());
    assert!(page.contains(&format!("<a href=\"{SPEC_URL}#tok-rewrite-005\">TOK-REWRITE-005</a>")));
    assert!(page.contains("expected failure: nono 0.81 has no conformance-info subcommand"));
    assert!(!page.contains("http://") && !page.contains("src="), "the page must fetch nothing");
}

#[test]
fn badges_say_implementation_class_and_counts_in_the_verdict_colour() {
    let files = samples();
    let kipz = &files[2];
    let failing = badge(kipz, Class::Mediation);
    assert!(failing.contains("<title>kipz nono 0.42.0 mediation: 75/78</title>"), "{failing}");
    assert!(failing.contains("fill=\"#e05d44\""));
    let passing = badge(&files[0], Class::Core);
    assert!(passing.contains("<title>nono-ref 0.1.0 core: 49/49</title>") && passing.contains("fill=\"#4c1\""));
    let unclaimed = badge(kipz, Class::Seatbelt);
    assert!(unclaimed.contains(": not claimed</title>") && unclaimed.contains("fill=\"#9f9f9f\""));
    let width = badge_text_width("kipz nono 0.42.0 mediation") + badge_text_width("75/78");
    assert!(failing.contains(&format!("width=\"{width}\" height=\"20\"")));
}

#[test]
fn the_markdown_table_has_a_row_per_class_and_a_column_per_implementation() {
    let table = markdown(&samples());
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "| Class | nono-ref 0.1.0 | nono 0.81.0 | kipz nono 0.42.0 |");
    assert_eq!(lines[1], "|---|:-:|:-:|:-:|");
    assert!(lines.contains(&"| core | ✅ 49/49 | ✅ 41/47 (6 expected failures) | ✅ 48/49 (1 expected failure) |"));
    assert!(lines.contains(&"| mediation | ✅ 78/78 | — | ❌ 75/78 |"));
    assert!(lines.contains(&"| seatbelt | — | — | — |"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("| ")).count(), 1 + Class::ALL.len());
}

#[test]
fn the_markdown_table_escapes_names() {
    let mut value = minimal();
    value["implementation"]["name"] = json!("evil | <b>fork</b>");
    let table = markdown(&load_value("a.json", &value).unwrap());
    assert!(table.starts_with("| Class | evil \\| \\<b\\>fork\\</b\\> |\n"), "{table}");
}

#[test]
fn the_summary_names_what_each_implementation_fails() {
    let text = summary(&samples());
    assert!(text.lines().next().unwrap().starts_with("class "));
    assert!(text.contains("kipz nono 0.42.0: fails mediation (3 failed cases), mediation-seed (1 failed case)"));
    assert!(text.contains("nono 0.81.0: passes every class it claims (core, profiles, supervisor)"));
    let mediation = text.lines().find(|l| l.starts_with("mediation ")).unwrap();
    assert!(mediation.contains("✓ 78/78") && mediation.ends_with("✗ 75/78"), "{mediation}");
}

#[test]
fn write_puts_the_page_the_table_and_every_badge_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matrix");
    let written = write(&samples(), &out).unwrap();
    assert_eq!(written.index, out.join("index.html"));
    assert!(std::fs::read_to_string(&written.markdown).unwrap().starts_with("| Class |"));
    assert_eq!(written.badges.len(), 3 * Class::ALL.len());
    assert!(out.join("badges/kipz-0.42-mediation-seed.svg").is_file());
    assert!(written.summary.contains("kipz nono 0.42.0: fails"));
}
