//! Language-neutral test vectors from `fixtures/`, turned into cases.
//!
//! A vector file is JSON of this shape (each area adds its own fields to a vector):
//!
//! ```json
//! {
//!   "$schema": "../schema/<area>.schema.json",
//!   "description": "what the vectors in this file have in common",
//!   "vectors": [
//!     { "id": "short-kebab-id", "description": "one sentence", "spec": ["PRF-MERGE-001"], "...": "..." }
//!   ]
//! }
//! ```
//!
//! Every file names the schema it follows; `tests/fixtures.rs` validates each file against
//! it, so a malformed vector fails loudly instead of silently testing nothing. Other
//! implementations' suites can consume the same files without any of this crate.

use crate::case::{Case, CaseResult, Ctx};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One vector with the fields every area shares, plus the whole JSON object.
#[derive(Clone, Debug)]
pub struct Vector {
    /// Unique within its area.
    pub id: String,
    /// One sentence saying what must hold.
    pub description: String,
    /// SPEC.md statement IDs it checks.
    pub spec: Vec<String>,
    /// The file it came from (for messages).
    pub file: PathBuf,
    /// The vector object as written.
    pub data: Value,
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// The `fixtures/` directory: the workspace's when the suite runs from its checkout, else
/// (an installed runner) the embedded copy, written once to a cache directory named after
/// its content.
pub fn fixtures_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    if workspace.is_dir() {
        return workspace;
    }
    static EXTRACTED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXTRACTED
        .get_or_init(|| extract_embedded().unwrap_or_else(|e| panic!("cannot write the embedded fixtures: {e}")))
        .clone()
}

fn extract_embedded() -> std::io::Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    embedded::FILES.hash(&mut hasher);
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = cache.join("nono-conformance").join(format!("fixtures-{:016x}", hasher.finish()));
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    let staging = tempfile::Builder::new().prefix("fixtures-").tempdir_in(dir.parent().unwrap_or(&cache)).or_else(|_| {
        std::fs::create_dir_all(dir.parent().unwrap_or(&cache))?;
        tempfile::Builder::new().prefix("fixtures-").tempdir_in(dir.parent().unwrap_or(&cache))
    })?;
    for (rel, bytes) in embedded::FILES {
        let path = staging.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
        std::fs::write(path, bytes)?;
    }
    std::fs::write(staging.path().join(".complete"), b"")?;
    let staged = staging.keep();
    // Another runner may have won the race; either copy is complete.
    if std::fs::rename(&staged, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staged);
    }
    Ok(dir)
}

/// Every vector of an area (`fixtures/<area>/*.json`, files in name order, vectors in file
/// order). Panics with the file and reason on a malformed file: a suite that silently
/// loaded fewer vectors would pass for the wrong reason.
pub fn load(area: &str) -> Vec<Vector> {
    let dir = fixtures_dir().join(area);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("reading a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.iter().flat_map(|file| load_file(file)).collect()
}

/// The vectors of one file.
pub fn load_file(file: &Path) -> Vec<Vector> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let Some(vectors) = doc.get("vectors").and_then(Value::as_array) else {
        panic!("{}: no \"vectors\" array", file.display());
    };
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = |name: &str| {
                v.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{}: vectors[{i}] has no string \"{name}\"", file.display()))
                    .to_string()
            };
            let spec = v
                .get("spec")
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            Vector { id: field("id"), description: field("description"), spec, file: file.to_path_buf(), data: v.clone() }
        })
        .collect()
}

/// One case per vector of `area`, with IDs `<prefix>.<vector id>`. The prefix decides the
/// platform as for any case (`linux.` / `macos.` / anything else is portable).
pub fn cases(
    area: &str,
    prefix: &str,
    body: impl Fn(&Ctx, &Vector) -> CaseResult + Send + Sync + 'static,
) -> Vec<Case> {
    let body = Arc::new(body);
    load(area)
        .into_iter()
        .map(|vector| {
            let body = body.clone();
            let id = format!("{prefix}.{}", vector.id);
            Case::new(id, vector.description.clone(), vector.spec.clone(), move |cx| body(cx, &vector))
        })
        .collect()
}

/// Bytes written as hex in a vector (`"ff00"`); the error names the bad digits.
pub fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if hex.len() % 2 != 0 {
        return Err(format!("odd-length hex {hex:?}"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or(""), 16).map_err(|_| format!("bad hex {hex:?} at {i}")))
        .collect()
}
