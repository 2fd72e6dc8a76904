//! Describing a capability set to people and programs: the grant list `run --dry-run`
//! prints (each grant with its reason), its JSON form (`--dry-run --json`), and the state
//! file `NONO_CAP_FILE` names for the sandboxed program.
//!
//! The state file has the shape of nono's (`{"fs": [{"original", "resolved" (0.66) or
//! "path" (0.81), "access", "is_file"}], "net_blocked"}`, core-spec CLI-19), so tools that read nono's file inside a
//! sandbox read this one too. It lives in the temporary directory, readable and writable by
//! the user only, is granted read-only to the program, and is removed when the run ends.

use crate::capability::{CapabilitySet, FsCapability, Source};
use crate::error::{Error, Result};
use crate::system;
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The environment variable naming the state file.
pub const CAP_FILE_VAR: &str = "NONO_CAP_FILE";

/// Why a grant exists: the system table's group and reason, or the user's request.
pub fn reason(cap: &FsCapability, home: Option<&Path>) -> String {
    match cap.source {
        Source::User => "requested by a flag or the profile".into(),
        Source::System => match system::linux_row(cap, home).filter(|_| cfg!(target_os = "linux")) {
            Some(row) => format!("{}: {}", row.group, row.reason),
            None => "needed by the run itself".into(),
        },
    }
}

/// Every grant as JSON: path as given, resolved path, access, kind, source and reason.
pub fn grants_json(caps: &CapabilitySet) -> Value {
    let home = system::home();
    let grants: Vec<Value> = caps
        .fs
        .iter()
        .map(|cap| {
            json!({
                "path": cap.original,
                "resolved": cap.resolved,
                "access": cap.access.label(),
                "is_file": cap.is_file,
                "source": cap.source.label(),
                "reason": reason(cap, home.as_deref()),
            })
        })
        .collect();
    Value::Array(grants)
}

/// One line per grant for `--dry-run`: badge, resolved path, kind, source, reason.
pub fn grant_lines(caps: &CapabilitySet) -> Vec<String> {
    let home = system::home();
    caps.fs
        .iter()
        .map(|cap| {
            let badge = match (cap.access.reads(), cap.access.writes()) {
                (true, true) => " r+w ",
                (true, false) => "  r  ",
                _ => "  w  ",
            };
            let kind = if cap.is_file { "file" } else { "dir" };
            let source = cap.source.label();
            format!("{badge} {} ({kind}) [{source}] {}", cap.resolved.display(), reason(cap, home.as_deref()))
        })
        .collect()
}

/// nono's sandbox state for `caps`.
pub fn state_json(caps: &CapabilitySet) -> Value {
    serde_json::to_value(State::of(caps)).expect("the state always serialises")
}

/// The state file's shape, serialised straight from the capability set (no intermediate
/// JSON tree: the file is written on every run).
#[derive(serde::Serialize)]
struct State<'a> {
    fs: Vec<StateGrant<'a>>,
    net_blocked: bool,
}

/// One grant: `resolved` as in nono 0.66, `path` and `source` as in nono 0.81.
#[derive(serde::Serialize)]
struct StateGrant<'a> {
    original: &'a Path,
    resolved: &'a Path,
    path: &'a Path,
    access: &'static str,
    is_file: bool,
    source: &'static str,
}

impl<'a> State<'a> {
    fn of(caps: &'a CapabilitySet) -> State<'a> {
        let fs = caps
            .fs
            .iter()
            .map(|cap| StateGrant {
                original: &cap.original,
                resolved: &cap.resolved,
                path: &cap.resolved,
                access: cap.access.label(),
                is_file: cap.is_file,
                source: cap.source.label(),
            })
            .collect();
        State { fs, net_blocked: caps.network.block }
    }
}

/// The state file of one run; removed when dropped.
pub struct CapFile {
    /// Where it is.
    pub path: PathBuf,
}

impl CapFile {
    /// Writes the state of `caps` to a new file in the temporary directory (mode 0600,
    /// never an existing file).
    pub fn create(caps: &CapabilitySet) -> Result<CapFile> {
        let io = |source| Error::Io { context: "writing the sandbox state file (NONO_CAP_FILE)".into(), source };
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|e| io(std::io::Error::other(e.to_string())))?;
        let name = format!("nono-ref-caps-{}-{}.json", std::process::id(), hex(&suffix));
        // A relative TMPDIR would put the file wherever the run happens to start.
        let dir = std::env::var_os("TMPDIR").map(PathBuf::from).filter(|d| d.is_absolute());
        let path = dir.unwrap_or_else(|| PathBuf::from("/tmp")).join(name);
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io)?;
        let written = CapFile { path };
        file.write_all(&serde_json::to_vec(&State::of(caps)).expect("the state always serialises")).map_err(io)?;
        Ok(written)
    }
}

impl Drop for CapFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::AccessMode;

    #[test]
    fn state_file_has_nonos_shape_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let mut caps = CapabilitySet::new();
        caps.add(FsCapability::directory("--read", dir.path(), AccessMode::Read, Source::User).unwrap());
        caps.network.block = true;
        let file = CapFile::create(&caps).unwrap();
        let state: Value = serde_json::from_str(&std::fs::read_to_string(&file.path).unwrap()).unwrap();
        assert_eq!(state["net_blocked"], true);
        assert_eq!(state["fs"][0]["access"], "read");
        assert_eq!(state["fs"][0]["is_file"], false);
        let path = file.path.clone();
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn user_grants_and_system_rows_have_reasons() {
        let mut caps = CapabilitySet::new();
        system::add_system_grants(&mut caps);
        for grant in grants_json(&caps).as_array().unwrap() {
            assert!(!grant["reason"].as_str().unwrap().is_empty(), "{grant}");
        }
    }
}
