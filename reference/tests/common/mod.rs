//! What the reference's integration tests share: reading the language-neutral vectors in
//! the workspace's `fixtures/` (the same files the conformance suite reads black-box).

use serde_json::Value;
use std::path::PathBuf;

/// Every vector of every `*.json` file in `fixtures/<subdir>`, files in name order. Panics
/// (failing the test) when the folder holds none, so a moved folder cannot pass silently.
pub fn vectors(subdir: &str) -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(subdir);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = vec![];
    for file in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        out.extend(doc["vectors"].as_array().unwrap().iter().cloned());
    }
    assert!(!out.is_empty(), "no vectors found in {}", dir.display());
    out
}
