//! The implementation under test (IUT): which binary, what it is, what its kernel enforces.
//!
//! Chosen with `NONO_IMPL=/path/to/binary`. Unset, the suite uses the reference binary that
//! Cargo built alongside the tests, so `cargo nextest run` needs no manual build step.
//!
//! An implementation may answer `conformance-info --json` (the reference does); that names
//! it. One that does not (upstream nono) is identified from `--version`. Either way the
//! kernel's Landlock ABI, which decides which cases run, is measured by the suite's own
//! probe and never taken from the IUT: an IUT under-reporting its kernel would otherwise
//! skip the cases it fails. The probe is measured under the same ABI emulation as the IUT
//! runs ([`crate::emulation`]).

use crate::kit::spawn;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the suite knows about the implementation under test.
#[derive(Clone, Debug)]
pub struct Implementation {
    /// The binary.
    pub path: PathBuf,
    /// Human name with version, e.g. `nono-ref 0.1.0` or `nono 0.81.0`.
    pub name: String,
    /// File-name form used for the expectation file, e.g. `nono-ref` or `nono-0.81`.
    pub slug: String,
    /// Landlock ABI of the running kernel (as emulated, if it is), measured by the probe.
    pub landlock_abi: u32,
    /// True when the implementation answered `conformance-info`.
    pub speaks_conformance_info: bool,
    /// How to drive it, from its manifest.
    pub settings: crate::manifest::Settings,
    /// True when the binary is the reference the suite itself built (not merely something
    /// that calls itself `nono-ref`): only then do the cases that check the reference's
    /// library directly say anything about the implementation under test.
    pub is_suite_reference: bool,
}

#[derive(Deserialize)]
struct InfoJson {
    implementation: String,
    version: String,
}

impl Implementation {
    /// True for the reference built from this repository (by path, not by name).
    pub fn is_reference(&self) -> bool {
        self.is_suite_reference
    }

    /// Resolves the IUT: `NONO_IMPL` if set, else `default_binary`. `probe` measures the
    /// Landlock ABI.
    pub fn discover(default_binary: &Path, probe: &Path) -> Implementation {
        let path = std::env::var_os("NONO_IMPL")
            .map(PathBuf::from)
            .unwrap_or_else(|| default_binary.to_path_buf());
        let landlock_abi = measure_landlock_abi(probe);
        let is_suite_reference = is_built_reference(&path, default_binary);
        if let Some(info) = conformance_info(&path) {
            let slug = info.implementation.clone();
            return Implementation {
                name: format!("{} {}", info.implementation, info.version),
                slug,
                landlock_abi,
                speaks_conformance_info: true,
                settings: Default::default(),
                is_suite_reference,
                path,
            };
        }
        let mut version = Command::new(&path);
        version.arg("--version");
        let version_line = spawn::output(version)
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let (name, slug) = name_and_slug(&version_line, &path);
        Implementation {
            name,
            slug,
            landlock_abi,
            speaks_conformance_info: false,
            settings: Default::default(),
            is_suite_reference,
            path,
        }
    }
}

/// Is `path` the reference built with this suite: the suite's copy itself, or the reference
/// crate's `nono-ref` in the same build directory?
fn is_built_reference(path: &Path, built: &Path) -> bool {
    let (Ok(path), Ok(built)) = (path.canonicalize(), built.canonicalize()) else {
        return false;
    };
    path == built || (path.parent() == built.parent() && path.file_name().is_some_and(|n| n == "nono-ref"))
}

fn conformance_info(path: &Path) -> Option<InfoJson> {
    let mut info = Command::new(path);
    info.args(["conformance-info", "--json"]);
    let out = spawn::output(info).ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// `nono 0.81.0` → (`nono 0.81.0`, `nono-0.81`): expectation files are per minor version.
fn name_and_slug(version_line: &str, path: &Path) -> (String, String) {
    let mut words = version_line.split_whitespace();
    let program = words
        .next()
        .map(str::to_string)
        .unwrap_or_else(|| path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
    match words.next() {
        Some(version) => {
            let minor: Vec<&str> = version.split('.').take(2).collect();
            (format!("{program} {version}"), format!("{program}-{}", minor.join(".")))
        }
        None => (program.clone(), program),
    }
}

/// Runs `probe landlock-abi` outside any sandbox (in its own process, which restricts
/// only itself; under the ABI emulator when emulation is on) and returns the ABI it
/// reports; 0 when Landlock is unavailable.
pub fn measure_landlock_abi(probe: &Path) -> u32 {
    let mut measure = crate::emulation::command(probe, probe);
    measure.args(crate::probe::Op::LandlockAbi.argv());
    let out = spawn::output(measure);
    let value = out
        .as_ref()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v.get("value").and_then(|n| n.as_u64()));
    match (value, crate::emulation::emulated_abi()) {
        (Some(abi), _) => abi as u32,
        // An emulator that could not start must not pass for a kernel without Landlock.
        (None, Some(abi)) => panic!(
            "measuring the emulated Landlock ABI {abi} failed: {}",
            match &out {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            }
        ),
        (None, None) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_is_program_and_minor_version() {
        let (name, slug) = name_and_slug("nono 0.81.0", Path::new("/x/nono"));
        assert_eq!(name, "nono 0.81.0");
        assert_eq!(slug, "nono-0.81");
    }

    #[test]
    fn slug_falls_back_to_file_name() {
        let (_, slug) = name_and_slug("", Path::new("/x/some-sandbox"));
        assert_eq!(slug, "some-sandbox");
    }
}
