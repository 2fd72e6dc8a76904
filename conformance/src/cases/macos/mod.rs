//! The macOS battery (Seatbelt). One module per scenario family.
//!
//! The same categories as the Linux battery where they apply (reading, writing, file
//! grants, truncation, renames, symbolic links, executing, network, processes, environment,
//! exit codes), then Seatbelt's own: the `/tmp` spelling, sensitive paths inside grants and
//! the rename and directory-swap bypasses, keychain Mach lookups and nesting. `protected`
//! and `system` check nono's protected paths and system grants, where Seatbelt's deny
//! rules and `EPERM` make the Linux cases' expectations differ. (What survives
//! `execve(2)`, extension tokens versus descriptors, is platform behaviour: see
//! `docs/platform-notes.md`.)
//!
//! `mediation` runs a mediation session's three paths (a mediated call, an audited shim,
//! a passthrough) with the network blocked and limited to a proxy, which only Seatbelt
//! makes different from an open network.
//!
//! Besides these, [`parity`] runs the Linux families whose semantics Seatbelt shares
//! (reading, writing, file grants, truncation, renames, symbolic links, executing,
//! inheritance, environment, exit codes and the CLI, profiles, supervisor requests,
//! mediation, the proxy, signalling one's own children) as `macos.*` cases, with the
//! reason for every family or case it leaves out.
//!
//! These cases compile everywhere and run only on macOS with `--features macos-seatbelt`;
//! elsewhere they are listed as ignored with that reason. Denials on macOS are `EPERM`.
//!
//! Where Seatbelt differs from Landlock by design, the cases here test the macOS behaviour
//! and the module docs say so: a file grant that allows writing also allows removing that
//! file (Seatbelt's `file-write*` includes `file-write-unlink`), so file-grant cases check
//! only the file's siblings; hard links are not covered (`file-link` is never granted).

pub(crate) use crate::kit::expect::{expect_allowed, expect_denied, expect_eperm};
pub(crate) use crate::kit::arg;
use crate::case::{Case, CaseResult, Ctx};
use crate::outcome::ProbeResult;
use std::path::{Path, PathBuf};

pub mod coverage;
mod fs;
mod mediation;
mod net;
pub mod parity;
mod process;
mod protected;
mod proxy;
mod seatbelt;
mod system;

/// All macOS cases, the canary first.
pub fn all() -> Vec<Case> {
    let mut out = vec![crate::canary::macos_case()];
    for family in [
        fs::cases,
        net::cases,
        process::cases,
        seatbelt::cases,
        protected::cases,
        system::cases,
        mediation::cases,
        proxy::cases,
        parity::cases,
    ] {
        out.extend(family());
    }
    out
}

/// Seatbelt cannot nest. A suite that itself runs inside a Seatbelt sandbox (an agent's
/// shell, a sandboxed CI step) can test nothing on macOS: every case would fail as if the
/// implementation were broken. The canary calls this first, so that such a run fails
/// everywhere with this message instead, never with passes or denials.
pub fn suite_is_not_sandboxed(cx: &Ctx) -> CaseResult {
    let mut ask = std::process::Command::new(helper(cx));
    ask.arg("sandboxed");
    let out = crate::kit::spawn::output(ask).map_err(|e| format!("cannot start {}: {e}", helper(cx).display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("unreadable answer from the helper ({e}): {text:?}"))?;
    crate::ensure!(
        value.get("value").and_then(|v| v.as_i64()) == Some(0),
        "ENVIRONMENT, not a result: the suite itself runs inside a Seatbelt sandbox, and Seatbelt sandboxes \
         cannot be nested, so no macOS case can run here; run the suite from an unsandboxed shell ({text})"
    );
    Ok(())
}

/// The macOS helper binary, built next to the probe.
pub(crate) fn helper(cx: &Ctx) -> PathBuf {
    cx.probe
        .with_file_name(format!("nono-macos-helper{}", std::env::consts::EXE_SUFFIX))
}

/// The entries of a `readdir` result.
pub(crate) fn entries(r: &ProbeResult) -> Vec<String> {
    r.extra
        .get("entries")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every path beneath `dir` with its kind and (for files) content, read from outside.
pub(crate) fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = p.symlink_metadata();
            let detail = match meta {
                Ok(m) if m.file_type().is_symlink() => {
                    format!("symlink->{:?}", std::fs::read_link(&p).ok())
                }
                Ok(m) if m.is_dir() => "dir".to_string(),
                Ok(m) if m.is_file() => {
                    format!("file:{}", std::fs::read_to_string(&p).unwrap_or_default())
                }
                Ok(_) => "other".to_string(),
                Err(_) => "gone".to_string(),
            };
            let is_dir = detail == "dir";
            out.push((rel, detail));
            if is_dir {
                walk(root, &p, out);
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out
}
