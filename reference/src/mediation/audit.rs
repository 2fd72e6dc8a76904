//! The audit log: one JSON line per mediated or audited command, never a secret.
//!
//! Arguments are scrubbed before they are written ([`scrub_args`]): values after
//! credential flags, `Authorization:` header values, anything that looks like a nonce, and
//! passwords in URLs become `<redacted>`. Output (`stdout`, `stderr`) is never logged.
//!
//! Lines are appended with one `write` each on a file opened with `O_APPEND` and guarded by
//! a mutex, so concurrent commands never interleave or lose lines; a line a full disk cuts
//! short is removed again, so the log only ever holds whole lines.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Flags whose next argument is a secret.
const SECRET_FLAGS: &[&str] = &["--token", "--password", "--secret", "--api-key", "--api-token", "--auth", "-p"];

/// The placeholder for removed values.
pub const REDACTED: &str = "<redacted>";

/// One audit line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The command's name.
    pub command: String,
    /// Its arguments, scrubbed, as the caller wrote them (before any nonce was resolved).
    pub args: Vec<String>,
    /// Unix seconds when the command finished.
    pub ts: u64,
    /// The exit code returned to the caller.
    pub exit_code: i32,
    /// `respond`, `capture`, `approve`, `passthrough`, `admin_passthrough`, `denied` or
    /// `unknown`; absent for commands the shim ran itself (audit only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    /// The session's ID (16 lower-case hex).
    #[serde(default)]
    pub session_id: String,
    /// The session's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// The supervisor's pid.
    #[serde(default)]
    pub nono_pid: u32,
    /// The agent's pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandboxed_pid: Option<u32>,
    /// The pid of the shim that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_pid: Option<u32>,
}

/// An append-only audit file, created owner-only.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens (creating with mode 0600) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        Ok(AuditLog { path: path.to_path_buf(), file: Mutex::new(file) })
    }

    /// Where the lines go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event as one line, in a single write.
    ///
    /// A line that cannot be written whole (a full file system writes what fits, then
    /// fails) is cut off again, so no fragment is left for the next line to glue itself to
    /// (MED-AUDIT-010). Shrinking a file needs no space.
    pub fn append(&self, event: &AuditEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).expect("an audit event always serialises");
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let whole = file.metadata()?.len();
        file.write_all(&line).inspect_err(|_| {
            let _ = file.set_len(whole);
        })
    }
}

/// Scrubs an argument list for the audit log (see the module docs).
pub fn scrub_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        out.push(scrub_one(arg));
        if SECRET_FLAGS.contains(&arg.as_str()) {
            if iter.next().is_some() {
                out.push(REDACTED.to_string());
            }
        } else if arg == "-H" {
            if let Some(header) = iter.next() {
                out.push(scrub_one(&scrub_header(header)));
            }
        }
    }
    out
}

/// `Authorization: Bearer x` becomes `Authorization: Bearer <redacted>`.
fn scrub_header(header: &str) -> String {
    let lower = header.to_ascii_lowercase();
    let Some(at) = lower.find("authorization:") else { return header.to_string() };
    let prefix_end = at + "authorization:".len();
    let (prefix, value) = header.split_at(prefix_end);
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() >= 2 {
        format!("{prefix} {} {REDACTED}", words[0])
    } else {
        format!("{prefix} {REDACTED}")
    }
}

/// Nonce-like runs (`nono_` and 40 or more hex digits) and URL passwords.
fn scrub_one(arg: &str) -> String {
    redact_url_password(&redact_nonces(arg))
}

fn redact_nonces(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(at) = rest.find("nono_") {
        let after = &rest[at + 5..];
        let digits = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if digits >= 40 {
            out.push_str(&rest[..at]);
            out.push_str(REDACTED);
            rest = &after[digits..];
        } else {
            out.push_str(&rest[..at + 5]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn redact_url_password(arg: &str) -> String {
    let Some(scheme_end) = arg.find("://") else { return arg.to_string() };
    let authority_start = scheme_end + 3;
    let authority_len = arg[authority_start..].find(['/', '?', '#']).unwrap_or(arg.len() - authority_start);
    let authority = &arg[authority_start..authority_start + authority_len];
    let Some(at) = authority.rfind('@') else { return arg.to_string() };
    let Some(colon) = authority[..at].find(':') else { return arg.to_string() };
    format!(
        "{}{}[redacted]{}",
        &arg[..authority_start],
        &authority[..colon + 1],
        &arg[authority_start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn scrub(args: &[&str]) -> Vec<String> {
        scrub_args(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[rstest]
    #[case(&["--token", "abc", "x"], &["--token", "<redacted>", "x"])]
    #[case(&["-p", "pw"], &["-p", "<redacted>"])]
    #[case(&["--token"], &["--token"])]
    #[case(&["-H", "Authorization: Bearer abc"], &["-H", "Authorization: Bearer <redacted>"])]
    #[case(&["-H", "authorization:abc"], &["-H", "authorization: <redacted>"])]
    #[case(&["-H", "Accept: json"], &["-H", "Accept: json"])]
    #[case(&["x-nono_0123456789abcdef0123456789abcdef01234567-y"], &["x-<redacted>-y"])]
    #[case(&["nono_abc"], &["nono_abc"])]
    #[case(&["https://u:pw@host/p"], &["https://u:[redacted]@host/p"])]
    #[case(&["https://host/p?a=b@c"], &["https://host/p?a=b@c"])]
    fn scrubbing(#[case] args: &[&str], #[case] expected: &[&str]) {
        assert_eq!(scrub(args), expected);
    }

    #[test]
    fn concurrent_appends_keep_every_line_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::Arc::new(AuditLog::open(&dir.path().join("audit.jsonl")).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let event = AuditEvent { command: format!("c{t}"), args: vec!["x".repeat(i)], ..Default::default() };
                        log.append(&event).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1600);
        for line in lines {
            serde_json::from_str::<AuditEvent>(line).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(log.path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
