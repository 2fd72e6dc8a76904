//! Reading the IUT's audit log from outside, where the implementation's manifest says it
//! is (`settings.audit_log`).

use super::s;
use crate::case::Ctx;
use serde_json::Value;
use std::path::PathBuf;

/// Where the reference keeps its audit logs, as a `settings.audit_log` template.
pub const REFERENCE_AUDIT_LOG: &str = "{state_home}/nono-ref/sessions/{session_id}/audit.jsonl";

/// The manifest's `settings.audit_log` template with the case's `{home}` and
/// `{state_home}` filled in (`{session_id}` is left for the caller).
pub fn audit_log_template(cx: &Ctx) -> String {
    let template = cx.imp.settings.audit_log.as_deref().unwrap_or(REFERENCE_AUDIT_LOG);
    let root = cx.fx.root();
    template
        .replace("{home}", s(&root.join("home")))
        .replace("{state_home}", s(&root.join("state")))
}

/// The case's audit log files, found through the manifest's template (`{home}`,
/// `{state_home}`, and `{session_id}` for any one directory level), sorted.
pub fn audit_files(cx: &Ctx) -> Vec<PathBuf> {
    let filled = audit_log_template(cx);
    let mut files: Vec<PathBuf> = match filled.split_once("{session_id}") {
        None => vec![PathBuf::from(filled)],
        Some((before, after)) => std::fs::read_dir(before)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| PathBuf::from(format!("{}{after}", s(&entry.path()))))
            .collect(),
    };
    files.retain(|f| f.is_file());
    files.sort();
    files
}

/// The lines of the case's audit logs ([`audit_files`]). Unparsable lines come back as
/// JSON strings.
pub fn audit_lines(cx: &Ctx) -> Vec<Value> {
    audit_files(cx)
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .map(|l| serde_json::from_str(&l).unwrap_or(Value::String(l)))
        .collect()
}
