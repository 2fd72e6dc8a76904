//! Embeds `fixtures/` (the language-neutral vectors) into the library, so that an installed
//! runner (`cargo install`), whose source checkout is gone, still has every vector.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push((rel.to_string_lossy().replace('\\', "/"), path.clone()));
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let fixtures = manifest_dir.join("../fixtures");
    println!("cargo:rerun-if-changed={}", fixtures.display());
    let mut files = vec![];
    collect(&fixtures, &fixtures, &mut files);
    let mut code = String::from("/// Every file under `fixtures/`: (relative path, content).\npub const FILES: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", path.canonicalize().unwrap()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("fixtures.rs");
    std::fs::write(out, code).unwrap();

    // The suite's commit, for results files: from git when building in a checkout.
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&manifest_dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=NONO_CONFORMANCE_COMMIT={commit}");
    println!("cargo:rerun-if-changed={}", manifest_dir.join("../.git/HEAD").display());
}
