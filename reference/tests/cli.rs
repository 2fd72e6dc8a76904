//! The `nono-ref` command line, driven as a user would.

use assert_cmd::Command;
use predicates::prelude::*;

fn nono_ref() -> Command {
    Command::cargo_bin("nono-ref").unwrap()
}

#[test]
fn unknown_flag_is_a_usage_error_naming_the_flag() {
    nono_ref()
        .args(["run", "--no-such-flag", "--", "/bin/true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn run_without_a_program_is_a_usage_error() {
    nono_ref().args(["run", "--read", "/usr"]).assert().code(2);
}

#[test]
fn dry_run_json_lists_user_and_system_grants() {
    let dir = tempfile::tempdir().unwrap();
    let out = nono_ref()
        .args(["run", "--dry-run", "--json", "--read"])
        .arg(dir.path())
        .args(["--", "/bin/true"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let caps = doc["capabilities"]["fs"].as_array().unwrap();
    let sources: Vec<&str> = caps.iter().map(|c| c["source"].as_str().unwrap()).collect();
    assert!(sources.contains(&"user") && sources.contains(&"system"), "{sources:?}");
    assert_eq!(doc["command"][0], "/bin/true");
}

#[test]
fn missing_grant_path_is_an_error_naming_flag_and_path() {
    nono_ref()
        .args(["run", "--read-file", "/nonexistent/nono-ref-test", "--", "/bin/true"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--read-file").and(predicate::str::contains("/nonexistent/nono-ref-test")));
}

#[test]
fn conformance_info_is_json_with_the_contract_fields() {
    let out = nono_ref().args(["conformance-info", "--json"]).assert().success().get_output().stdout.clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for key in ["implementation", "version", "platform", "backend", "features"] {
        assert!(doc.get(key).is_some(), "missing {key} in {doc}");
    }
    assert_eq!(doc["implementation"], "nono-ref");
}

#[test]
fn missing_request_directory_is_an_error_naming_flag_and_path() {
    nono_ref()
        .args(["run", "--request-read", "/nonexistent/nono-ref-request", "--", "/bin/true"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--request-read").and(predicate::str::contains("/nonexistent/nono-ref-request")));
}

#[test]
fn supervisor_fd_is_set_only_with_a_request_flag() {
    let dir = tempfile::tempdir().unwrap();
    let env_of = |extra: &[&str]| {
        let out = nono_ref()
            .arg("run")
            .args(extra)
            .args(["--", "/usr/bin/env"])
            .env("NONO_SUPERVISOR_FD", "7")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let with: String = env_of(&["--request-read", dir.path().to_str().unwrap()]);
    let line = with.lines().find(|l| l.starts_with("NONO_SUPERVISOR_FD=")).expect("NONO_SUPERVISOR_FD missing");
    assert_ne!(line, "NONO_SUPERVISOR_FD=7", "the caller's value leaked through");
    assert!(!env_of(&[]).contains("NONO_SUPERVISOR_FD"), "set without a request flag");
}

#[test]
fn sandbox_profile_prints_a_deny_default_macos_profile_on_any_host() {
    nono_ref()
        .args(["sandbox-profile", "--platform", "macos", "--no-system-grants", "--read", "/Users/alice/nono-cli-test"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("(version 1)\n(deny default)\n")
                .and(predicate::str::contains(r#"(allow file-read* (subpath "/Users/alice/nono-cli-test"))"#)),
        );
}

#[test]
fn learn_parse_log_prints_the_rule_for_a_deny_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deny.log");
    std::fs::write(&log, "kernel: (Sandbox) Sandbox: cat(5) deny(1) file-read-data /Users/a/x\n").unwrap();
    nono_ref()
        .args(["learn", "--parse-log"])
        .arg(&log)
        .assert()
        .success()
        .stdout("(allow file-read-data (literal \"/Users/a/x\"))\n");
}

#[cfg(target_os = "linux")]
#[test]
fn run_refuses_seatbelt_only_options_on_linux() {
    let dir = tempfile::tempdir().unwrap();
    nono_ref()
        .args(["run", "--allow"])
        .arg(dir.path())
        .arg("--deny-file")
        .arg(dir.path().join("secret"))
        .args(["--", "/bin/true"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--deny"));
}

/// `nono-ref` ignores SIGPIPE itself (a dead client must not kill the supervisor), and an
/// ignored signal stays ignored across exec: the program must get the default back.
#[cfg(target_os = "linux")]
#[test]
fn the_program_starts_with_sigpipe_at_its_default() {
    let out = nono_ref().args(["run", "-s", "--", "/bin/cat", "/proc/self/status"]).assert().success().get_output().stdout.clone();
    let status = String::from_utf8(out).unwrap();
    let ignored = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).expect("no SigIgn line");
    let mask = u64::from_str_radix(ignored.trim(), 16).unwrap();
    assert_eq!(mask & (1 << (libc::SIGPIPE - 1)), 0, "SIGPIPE is ignored in the program: SigIgn {ignored}");
}

/// The supervisor keeps each grant's object open only until the ruleset is built: while
/// the program runs it pins no granted directory (nor, so, the mount it lies on).
#[cfg(target_os = "linux")]
#[test]
fn the_supervisor_holds_no_granted_directory_open_while_the_program_runs() {
    use std::io::{BufRead, Write};
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let granted = root.path().join("granted");
    std::fs::create_dir(&granted).unwrap();
    let granted = granted.canonicalize().unwrap();
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_nono-ref"))
        .args(["run", "-s", "--read"])
        .arg(&granted)
        .args(["--", "/bin/sh", "-c", "echo ready; read line"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(run.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready\n", "the program did not start");
    let open: Vec<std::path::PathBuf> = std::fs::read_dir(format!("/proc/{}/fd", run.id()))
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.unwrap().path()).ok())
        .collect();
    run.stdin.take().unwrap().write_all(b"\n").unwrap();
    assert!(run.wait().unwrap().success());
    // Control: the listing sees the supervisor's descriptors (its Landlock ruleset among them).
    assert!(open.iter().any(|target| target.to_string_lossy().contains("landlock")), "no ruleset among {open:?}");
    assert!(!open.contains(&granted), "the supervisor holds {} open while the program runs: {open:?}", granted.display());
}
