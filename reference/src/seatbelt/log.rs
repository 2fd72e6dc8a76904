//! Learning from denials: a kernel deny record becomes the `(allow ...)` rule that would
//! have let the operation through.
//!
//! macOS logs each Seatbelt denial as a kernel message such as
//!
//! ```text
//! 2026-05-01 10:00:00.1 0x1f  Error  0x0  0  0  kernel: (Sandbox) Sandbox: cat(812) deny(1) file-read-data /Users/a/x
//! ```
//!
//! (`log show --predicate 'eventMessage CONTAINS "deny("'`). The record is the part after
//! the last `Sandbox: `: the process as `NAME(PID)`, `deny(N)` (older systems write a bare
//! `deny`), the operation, and its target (a path, a Mach service, a sysctl, an address).
//! Timestamps and other prefixes are ignored, as are lines that are not deny records
//! (`allow` reports, unrelated messages).
//!
//! The rule names the exact operation and the exact target (`literal` for paths), so a
//! learned seed grants no more than what was denied. A record that cannot be expressed
//! that narrowly is an error, never a broader rule: a remote address other than localhost
//! (Seatbelt filters remote hosts only as `localhost` or `*`), a relative path, an
//! operation with a target this parser does not know, or the nesting denial
//! `forbidden-sandbox-reinit`, which no rule can allow.

use super::literal::{check_text, quote, SbplError};
use std::fmt;

/// Why a deny record gives no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The record is cut short or garbled.
    Malformed(&'static str),
    /// The operation can never be allowed by a profile rule.
    NotAllowable {
        /// The operation.
        operation: String,
        /// Why.
        why: &'static str,
    },
    /// The operation carries a target whose filter this parser does not know.
    UnknownOperation {
        /// The operation.
        operation: String,
    },
    /// The target cannot be expressed as a filter of that operation.
    BadTarget {
        /// The operation.
        operation: String,
        /// The target as logged.
        target: String,
        /// Why.
        why: &'static str,
    },
    /// The target holds a control character.
    Text(SbplError),
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Malformed(why) => write!(f, "malformed deny record: {why}"),
            LogError::NotAllowable { operation, why } => {
                write!(f, "{operation} cannot be allowed by a rule: {why}")
            }
            LogError::UnknownOperation { operation } => {
                write!(f, "no filter is known for operation {operation} with a target; write the rule by hand")
            }
            LogError::BadTarget {
                operation,
                target,
                why,
            } => write!(f, "{operation} target {target:?}: {why}"),
            LogError::Text(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LogError {}

/// What a whole log gave: the rules (duplicates removed, first-seen order) and the
/// records that gave none, with their 1-based line numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    /// One rule per distinct denial.
    pub rules: Vec<String>,
    /// Deny records that could not be turned into a rule.
    pub errors: Vec<(usize, LogError)>,
}

/// Parses every line of a log.
pub fn parse_log(text: &str) -> Learned {
    let mut learned = Learned::default();
    for (index, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(rule)) if !learned.rules.contains(&rule) => learned.rules.push(rule),
            Ok(_) => {}
            Err(e) => learned.errors.push((index + 1, e)),
        }
    }
    learned
}

/// One line: `Ok(Some(rule))` for a deny record, `Ok(None)` for anything else.
pub fn parse_line(line: &str) -> Result<Option<String>, LogError> {
    let Some(at) = line.rfind("Sandbox: ") else {
        return Ok(None);
    };
    let record = line[at + "Sandbox: ".len()..].trim_end();
    let Some((after_process, marker)) = find_deny(record) else {
        return Ok(None);
    };
    let mut rest = &record[marker + " deny".len()..];
    if let Some(count) = rest.strip_prefix('(') {
        let close = count
            .find(')')
            .ok_or(LogError::Malformed("deny( is not closed"))?;
        if close == 0 || !count[..close].bytes().all(|b| b.is_ascii_digit()) {
            return Err(LogError::Malformed("deny( holds no count"));
        }
        rest = &count[close + 1..];
    }
    if !after_process {
        return Err(LogError::Malformed("no NAME(PID) before deny"));
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or(LogError::Malformed("no operation after deny"))?;
    let (operation, target) = match rest.split_once(' ') {
        Some((op, target)) => (op, Some(target.trim()).filter(|t| !t.is_empty())),
        None => (rest, None),
    };
    if operation.is_empty()
        || !operation
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*')
    {
        return Err(LogError::Malformed("the operation name is not [a-z0-9*-]+"));
    }
    rule_for(operation, target).map(Some)
}

/// Finds ` deny` followed by `(` or a space. Returns whether a `NAME(PID)` precedes it,
/// and where it starts; `None` when the record is not a denial.
fn find_deny(record: &str) -> Option<(bool, usize)> {
    let mut from = 0;
    while let Some(found) = record[from..].find(" deny") {
        let at = from + found;
        let next = record[at + " deny".len()..].chars().next();
        if matches!(next, Some('(') | Some(' ')) {
            return Some((ends_with_pid(&record[..at]), at));
        }
        from = at + 1;
    }
    None
}

/// True when `text` is `NAME(PID)` with a non-empty name and a numeric pid.
fn ends_with_pid(text: &str) -> bool {
    let Some(inner) = text.strip_suffix(')') else {
        return false;
    };
    match inner.rfind('(') {
        Some(open) => {
            open > 0
                && open + 1 < inner.len()
                && inner[open + 1..].bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn rule_for(operation: &str, target: Option<&str>) -> Result<String, LogError> {
    if operation == "forbidden-sandbox-reinit" {
        return Err(LogError::NotAllowable {
            operation: operation.into(),
            why: "the process was already sandboxed and Seatbelt sandboxes cannot be nested",
        });
    }
    if operation == "default" {
        return Err(LogError::NotAllowable {
            operation: operation.into(),
            why: "allowing default would undo the profile",
        });
    }
    let Some(target) = target else {
        return Ok(format!("(allow {operation})"));
    };
    let quoted = |what: &'static str| -> Result<String, LogError> {
        check_text(what, target).map_err(LogError::Text)?;
        Ok(quote(target))
    };
    let path = || -> Result<String, LogError> {
        if !target.starts_with('/') {
            return Err(bad(operation, target, "not an absolute path"));
        }
        quoted("path")
    };
    let filter = match operation {
        op if op.starts_with("file-") => format!("(literal {})", path()?),
        "process-exec" | "process-exec*" | "process-exec-interpreter" => {
            format!("(literal {})", path()?)
        }
        "mach-lookup" | "mach-register" => {
            format!("(global-name {})", quoted("Mach service name")?)
        }
        "sysctl-read" | "sysctl-write" => format!("(sysctl-name {})", quoted("sysctl name")?),
        "iokit-open" => format!("(iokit-user-client-class {})", quoted("IOKit class")?),
        "user-preference-read" | "user-preference-write" => {
            format!("(preference-domain {})", quoted("preference domain")?)
        }
        op if op.starts_with("ipc-posix-shm") || op.starts_with("ipc-posix-sem") => {
            format!("(ipc-posix-name {})", quoted("IPC name")?)
        }
        "network-outbound" | "network-bind" | "network-inbound" => {
            network_filter(operation, target)?
        }
        _ => {
            return Err(LogError::UnknownOperation {
                operation: operation.into(),
            })
        }
    };
    Ok(format!("(allow {operation} {filter})"))
}

fn bad(operation: &str, target: &str, why: &'static str) -> LogError {
    LogError::BadTarget {
        operation: operation.into(),
        target: target.into(),
        why,
    }
}

/// A Unix socket path, or `HOST:PORT` where the host must be localhost (or `*`).
fn network_filter(operation: &str, target: &str) -> Result<String, LogError> {
    if target.starts_with('/') {
        check_text("socket path", target).map_err(LogError::Text)?;
        return Ok(format!("(path {})", quote(target)));
    }
    let (host, port) = target
        .rsplit_once(':')
        .ok_or_else(|| bad(operation, target, "neither a path nor HOST:PORT"))?;
    if port != "*" && port.parse::<u16>().is_err() {
        return Err(bad(operation, target, "the port is neither a number nor *"));
    }
    let local = operation != "network-outbound";
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        "localhost" | "::1" => "localhost",
        h if h.starts_with("127.") && h.parse::<std::net::Ipv4Addr>().is_ok() => "localhost",
        "*" => "*",
        "0.0.0.0" | "::" if local => "*",
        _ => {
            return Err(bad(
                operation,
                target,
                "Seatbelt filters hosts only as localhost or *; allowing this host would allow every host",
            ))
        }
    };
    let side = if local { "local" } else { "remote" };
    Ok(format!(r#"({side} ip "{host}:{port}")"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_denial_with_kernel_prefix() {
        let line = "2026-05-01 10:00:00.1 0x1f Error 0x0 0 0 kernel: (Sandbox) Sandbox: cat(812) deny(1) file-read-data /Users/a/my file";
        assert_eq!(
            parse_line(line).unwrap().unwrap(),
            r#"(allow file-read-data (literal "/Users/a/my file"))"#
        );
    }

    #[test]
    fn non_records_are_ignored() {
        for line in [
            "",
            "kernel: something else",
            "Sandbox: cat(1) allow(1) file-read-data /x",
        ] {
            assert_eq!(parse_line(line).unwrap(), None, "{line:?}");
        }
    }

    #[test]
    fn nesting_denial_is_an_error() {
        let err = parse_line("Sandbox: sh(3) deny(1) forbidden-sandbox-reinit").unwrap_err();
        assert!(matches!(err, LogError::NotAllowable { .. }));
    }

    #[test]
    fn remote_hosts_are_not_widened() {
        assert!(parse_line("Sandbox: curl(9) deny(1) network-outbound 93.184.216.34:443").is_err());
        assert_eq!(
            parse_line("Sandbox: curl(9) deny(1) network-outbound 127.0.0.1:8080")
                .unwrap()
                .unwrap(),
            r#"(allow network-outbound (remote ip "localhost:8080"))"#
        );
    }

    #[test]
    fn log_dedups_and_numbers_errors() {
        let log = "Sandbox: a(1) deny(1) sysctl-read kern.x\nnoise\nSandbox: a(1) deny(1) sysctl-read kern.x\nSandbox: a(1) deny(1) bogus-op thing\n";
        let learned = parse_log(log);
        assert_eq!(
            learned.rules,
            [r#"(allow sysctl-read (sysctl-name "kern.x"))"#]
        );
        assert_eq!(learned.errors.len(), 1);
        assert_eq!(learned.errors[0].0, 4);
    }
}
