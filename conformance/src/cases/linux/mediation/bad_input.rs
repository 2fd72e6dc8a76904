//! Bad input against the audit log (MED-AUDIT-008, MED-AUDIT-010): whatever a hostile
//! client sends and whatever the disk does, a line the log already holds stays whole and
//! the server keeps answering.
//!
//! * A burst of every malformed request the suite can send ([`super::server`] sends them
//!   one at a time), between two good requests: both good lines are in the log.
//! * A full disk: the case mounts a small tmpfs where the manifest's `settings.audit_log`
//!   says the log lives (so it needs root), fills it while the agent waits, lets the agent
//!   make requests whose lines cannot all fit, frees the space, and makes one more. The
//!   line written before and the line written after must both be in the log, whole. A
//!   line the full disk cut short and left behind would glue itself to the next one, and
//!   that next line would be lost.

use super::{audit_log_template, respond, s, touch, wait_for_gate, Kit, AgentRun};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.bad_input.malformed_burst_keeps_the_lines_around_it",
            "Every kind of malformed request in a row, between two good requests: the server answers the second, both good requests are logged, and every line is whole",
            &["MED-AUDIT-008", "MED-SRV-003"],
            malformed_burst,
        ),
        case(
            "linux.mediation.bad_input.full_disk_keeps_written_lines_and_the_server_answering",
            "With the audit log's file system full, requests are still answered; the line written before stays whole, and once space is back the next request's line is written whole",
            &["MED-AUDIT-010", "MED-AUDIT-008"],
            full_disk,
        )
        .requires(Requirement::Root),
    ]
}

/// Every malformed wire op of the agent (see [`super::server`]), with the arguments it
/// asks for where it sends a request at all.
const MALFORMED: &[&[&str]] = &[
    &["oversize"],
    &["truncated-length"],
    &["truncated-payload", "gh", "bad-truncated-payload"],
    &["garbage-json"],
    &["not-a-request"],
    &["no-fds", "gh", "bad-no-fds"],
    &["frame-only", "gh", "bad-frame-only"],
    &["two-fds", "gh", "bad-two-fds"],
    &["connect-only"],
    &["wrong-token", "gh", "bad-wrong-token"],
];

/// `gh` answered by a respond rule whatever its arguments.
fn answering_profile(kit: &Kit) -> PathBuf {
    let gh = kit.fake("gh", &["exit:0"]);
    kit.one_command("gh", &gh, json!([respond(&[], "fine\n", 0)]))
}

fn malformed_burst(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let profile = answering_profile(&kit);
    let mut steps: Vec<&[&str]> = vec![&["valid", "gh", "first"]];
    steps.extend_from_slice(MALFORMED);
    steps.push(&["valid", "gh", "second"]);
    let run = kit.agent(&profile).run(&steps)?;
    run.finished()?;
    let last = steps.len() - 1;
    for i in [0, last] {
        ensure!(
            run.answered(i)? && run.exit_code(i)? == 0 && run.out(i)? == "fine\n",
            "good request {} must be answered by its rule: {}",
            i + 1,
            run.op(i)?
        );
    }
    whole_lines(&run)?;
    for word in ["first", "second"] {
        logged_once(&run, word)?;
    }
    ensure!(
        !run.audit_for("gh").iter().any(|l| args_of(l).iter().any(|a| a.starts_with("bad-"))),
        "no malformed request may be logged as decided: {:?}",
        run.audit
    );
    Ok(())
}

/// Requests made while the disk is full, each with an argument long enough that their
/// lines together need pages the file system no longer has.
const WHILE_FULL: usize = 6;
const LONG_ARG_LEN: usize = 2048;


fn full_disk(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let profile = answering_profile(&kit);
    let mount = TmpfsMount::new(&audit_directory(cx))?;
    let gate = cx.fx.dir("gate");
    let [ready, full, done, freed] = ["ready", "full", "done", "freed"].map(|n| gate.join(n));
    let long = "x".repeat(LONG_ARG_LEN);
    let labels: Vec<String> = (1..=WHILE_FULL).map(|i| format!("while-full-{i}")).collect();
    let mut steps: Vec<Vec<&str>> = vec![
        vec!["run", "gh", "status", "before"],
        vec!["write", s(&ready)],
        vec!["wait-file", s(&full)],
    ];
    steps.extend(labels.iter().map(|label| vec!["run", "gh", "status", label.as_str(), long.as_str()]));
    steps.extend([
        vec!["write", s(&done)],
        vec!["wait-file", s(&freed)],
        vec!["run", "gh", "status", "after"],
    ]);
    let steps: Vec<&[&str]> = steps.iter().map(Vec::as_slice).collect();
    let running = kit.agent(&profile).flag("--allow", &gate).spawn(&steps);

    // The suite fills the disk while the agent waits at `full`, and frees it while the
    // agent waits at `freed`. A gate that never opens still lets the run be collected.
    let driven = (|| -> Result<(), String> {
        wait_for_gate(&ready)?;
        mount.fill()?;
        touch(&full)?;
        wait_for_gate(&done)?;
        mount.free()?;
        touch(&freed)
    })();
    let run = running.wait()?;
    driven.map_err(|e| format!("{e}; {run}"))?;
    run.finished()?;

    let after = steps.len() - 1;
    for i in [0, after] {
        ensure!(
            run.exit_code(i)? == 0 && run.out(i)? == "fine\n",
            "request {} must be answered by its rule: {}",
            i + 1,
            run.op(i)?
        );
    }
    for i in 3..3 + WHILE_FULL {
        ensure!(
            run.exit_code(i).is_ok(),
            "a request made while the disk was full must still be answered: {}",
            run.op(i)?
        );
    }
    whole_lines(&run)?;
    logged_once(&run, "before")?;
    logged_once(&run, "after")
}

/// The directory the audit log lives in (for a per-session log, the one holding the
/// session directories), from the manifest's `settings.audit_log`.
fn audit_directory(cx: &Ctx) -> PathBuf {
    let filled = audit_log_template(cx);
    match filled.split_once("{session_id}") {
        Some((before, _)) => PathBuf::from(before),
        None => Path::new(&filled).parent().map(Path::to_path_buf).unwrap_or_default(),
    }
}

fn whole_lines(run: &AgentRun) -> CaseResult {
    ensure!(
        run.audit.iter().all(Value::is_object),
        "every audit line must be one whole JSON object: {:?}",
        run.audit
    );
    Ok(())
}

fn args_of(line: &Value) -> Vec<&str> {
    line["args"].as_array().into_iter().flatten().filter_map(Value::as_str).collect()
}

/// Exactly one `gh` line has `word` among its arguments.
fn logged_once(run: &AgentRun, word: &str) -> CaseResult {
    let lines = run.audit_for("gh").into_iter().filter(|l| args_of(l).contains(&word)).count();
    ensure!(lines == 1, "the request '{word}' must have exactly one line, found {lines}: {:?}", run.audit);
    Ok(())
}

/// A small tmpfs mounted over a directory for the length of a case, unmounted (lazily, so
/// a process still inside cannot keep it) when dropped.
struct TmpfsMount {
    dir: PathBuf,
}

impl TmpfsMount {
    /// 256 KiB: room for a session's log, little enough to fill in a moment.
    const OPTIONS: &'static str = "size=256k,mode=0700";

    fn new(dir: &Path) -> Result<TmpfsMount, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let c = |text: &str| std::ffi::CString::new(text).expect("no NUL in mount arguments");
        let (source, target, kind, options) = (c("tmpfs"), c(s(dir)), c("tmpfs"), c(Self::OPTIONS));
        // SAFETY: valid NUL-terminated strings for the duration of the call.
        #[cfg(target_os = "linux")]
        let rc = unsafe {
            libc::mount(source.as_ptr(), target.as_ptr(), kind.as_ptr(), libc::MS_NOSUID | libc::MS_NODEV, options.as_ptr().cast())
        };
        // The Linux cases compile everywhere but run only on Linux.
        #[cfg(not(target_os = "linux"))]
        let rc = { let _ = (&source, &target, &kind, &options); -1 };
        ensure!(rc == 0, "cannot mount a tmpfs on {}: {}", dir.display(), std::io::Error::last_os_error());
        Ok(TmpfsMount { dir: dir.to_path_buf() })
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("nono-conformance-filler")
    }

    /// Writes a file until the file system refuses more, then proves from outside that
    /// no new page can be had: a case that did not fill the disk would prove nothing.
    fn fill(&self) -> CaseResult {
        let mut filler = std::fs::File::create(self.filler()).map_err(|e| format!("cannot create the filler: {e}"))?;
        for block in [64 * 1024, 4096] {
            let bytes = vec![0u8; block];
            while filler.write_all(&bytes).is_ok() {}
        }
        let probe = self.dir.join("nono-conformance-probe");
        let refused = std::fs::write(&probe, vec![0u8; 4096]).is_err();
        let _ = std::fs::remove_file(&probe);
        ensure!(refused, "{} still takes new pages after filling: the case cannot test a full disk", self.dir.display());
        Ok(())
    }

    fn free(&self) -> CaseResult {
        std::fs::remove_file(self.filler()).map_err(|e| format!("cannot remove the filler: {e}"))
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        if let Ok(target) = std::ffi::CString::new(s(&self.dir)) {
            // SAFETY: a valid NUL-terminated path.
            #[cfg(target_os = "linux")]
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
            #[cfg(not(target_os = "linux"))]
            let _ = target;
        }
    }
}
