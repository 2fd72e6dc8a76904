//! Every JSON file in `fixtures/` and `profiles/` that names a schema (`"$schema"`, a path
//! relative to the file) is valid against it, and every file in `fixtures/` names one.
//! A vector that does not match its schema would otherwise test nothing, silently.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("reading a directory entry").path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn is_schema(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".schema.json"))
}

fn validate(file: &Path, schema_ref: &str, doc: &Value) -> Result<(), String> {
    let schema = file.parent().unwrap().join(schema_ref);
    let schema = schema.canonicalize().map_err(|e| format!("schema {}: {e}", schema.display()))?;
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let index = compiler
        .compile(&schema.to_string_lossy(), &mut schemas)
        .map_err(|e| format!("compiling {}: {e}", schema.display()))?;
    schemas.validate(doc, index).map_err(|e| format!("{e:#}"))
}

#[test]
fn every_fixture_and_profile_matches_its_schema() {
    let mut files = vec![];
    json_files(&workspace().join("fixtures"), &mut files);
    let fixture_count = files.len();
    json_files(&workspace().join("profiles"), &mut files);
    let mut failures = vec![];
    for (i, file) in files.iter().enumerate() {
        if is_schema(file) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let doc: Value = match serde_json::from_str(&text) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{}: not JSON: {e}", file.display()));
                continue;
            }
        };
        match doc.get("$schema").and_then(Value::as_str) {
            Some(schema_ref) if !schema_ref.contains("://") => {
                if let Err(e) = validate(file, schema_ref, &doc) {
                    failures.push(format!("{}: {e}", file.display()));
                }
            }
            _ if i < fixture_count => failures.push(format!("{}: names no schema (\"$schema\")", file.display())),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every line a Seatbelt vector expects (its blocks, its profile groups, its `contains` and
/// `lacks` lines) is a rule with known SBPL names: a golden with a misspelt operation would
/// otherwise pin the generator to a profile `sandbox_init` refuses.
#[test]
fn every_seatbelt_golden_uses_known_names() {
    fn lines(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) if !s.starts_with('@') => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| lines(v, out)),
            Value::Object(fields) => fields.values().for_each(|v| lines(v, out)),
            _ => {}
        }
    }
    let mut files = vec![];
    json_files(&workspace().join("fixtures/seatbelt"), &mut files);
    assert!(!files.is_empty(), "no Seatbelt vectors found");
    let mut failures = vec![];
    let mut checked = 0;
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut golden = vec![];
        if let Some(blocks) = doc.get("blocks") {
            lines(blocks, &mut golden);
        }
        for vector in doc["vectors"].as_array().expect("a vectors array") {
            for key in ["profile", "contains", "lacks"] {
                if let Some(expected) = vector["expect"].get(key) {
                    lines(expected, &mut golden);
                }
            }
        }
        for line in golden {
            checked += 1;
            if let Err(problems) = nono_conformance::sbpl_check::check(&line) {
                failures.push(format!("{}: {line}: {}", file.display(), nono_conformance::sbpl_check::describe(&problems)));
            }
        }
    }
    assert!(checked > 100, "only {checked} golden lines found: the vector layout changed?");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
