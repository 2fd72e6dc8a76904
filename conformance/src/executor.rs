//! The runner's own executor: every case in a fresh process of the runner itself
//! (`nono-conformance __case ID --record FILE`), a few at a time, each with a deadline and
//! its own process group, so an installed runner needs neither nextest nor a source tree.
//!
//! The canary runs first, alone. While cases run, a terminal gets a progress line and
//! failures as they happen; a log that is not a terminal gets only the failures.

use crate::case::{Case, Platform};
use crate::harness::{self, Suite};
use crate::kit::spawn;
use crate::results::{Record, Status};
use std::io::{IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Cases at once.
    pub jobs: usize,
    /// How long one case may take before its process group is killed.
    pub deadline: Duration,
    /// The runner binary to start for each case.
    pub exe: PathBuf,
    /// Where each case writes its record.
    pub records_dir: PathBuf,
    /// Environment for every case process (the implementation, manifest, shim, ...).
    pub env: Vec<(String, String)>,
}

/// Live progress on stderr.
struct Progress {
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    terminal: bool,
    out: Mutex<()>,
}

impl Progress {
    fn finished(&self, record: &Record) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let failed = if record.status.is_failure() {
            self.failed.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.failed.load(Ordering::SeqCst)
        };
        let _guard = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K");
        }
        if record.status.is_failure() {
            let first = record.message.lines().next().unwrap_or("");
            let _ = writeln!(err, "FAIL {}: {}", record.id, first.chars().take(200).collect::<String>());
        }
        if self.terminal {
            let _ = write!(err, "[{done:>4}/{}] {failed} failed  {}", self.total, record.id);
            let _ = err.flush();
        }
    }

    fn close(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr(), "\r\x1b[2K[{}/{}] done", self.done.load(Ordering::SeqCst), self.total);
        }
    }
}

/// Runs `cases` (already selected) and returns one record each. Cases that cannot run
/// here are recorded without a process: other platform, unclaimed class, unmet requirement.
pub fn run(suite: &Suite, cases: Vec<Case>, opts: &Options) -> Vec<Record> {
    let mut records = vec![];
    let mut to_run = vec![];
    for case in cases {
        if let Err(why) = harness::enabled(case.platform) {
            records.push(harness::record(&case, Status::Skipped, why, None, 0));
        } else if let Some(why) = harness::not_claimed_reason(&case, &suite.manifest) {
            records.push(harness::record(&case, Status::NotClaimed, why, None, 0));
        } else if let Some(why) = harness::skip_reason(&case, &suite.imp)
            .filter(|_| harness::skip_allowed(&case, &suite.imp, suite.strict, &suite.strict_allow))
        {
            records.push(harness::record(&case, Status::Skipped, why, None, 0));
        } else {
            to_run.push(case);
        }
    }
    // The canary first and alone: every other sandbox case waits for its verdict anyway.
    let canary_first = |c: &Case| c.platform == Platform::Any || c.id != crate::cases::canary_id(c.platform);
    to_run.sort_by_key(|c| canary_first(c));
    let progress = Arc::new(Progress {
        total: to_run.len(),
        done: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        terminal: std::io::stderr().is_terminal(),
        out: Mutex::new(()),
    });
    if let Some(first) = to_run.first().filter(|c| !canary_first(c)).cloned() {
        let record = run_in_process(&first, opts);
        progress.finished(&record);
        records.push(record);
        to_run.remove(0);
    }
    let queue = Arc::new(Mutex::new(to_run.into_iter()));
    let results = Arc::new(Mutex::new(vec![]));
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1) {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            let progress = Arc::clone(&progress);
            scope.spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(case) = next else { break };
                let record = run_in_process(&case, opts);
                progress.finished(&record);
                results.lock().unwrap_or_else(|e| e.into_inner()).push(record);
            });
        }
    });
    progress.close();
    records.extend(Arc::try_unwrap(results).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default());
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

/// Runs one case in a child runner process and reads its record; a crash, a timeout or a
/// missing record is a failure that says what happened.
fn run_in_process(case: &Case, opts: &Options) -> Record {
    let record_path = opts.records_dir.join(format!("{}.json", case.id));
    let _ = std::fs::remove_file(&record_path);
    let stderr_path = opts.records_dir.join(format!("{}.stderr", case.id));
    let started = Instant::now();
    let failure = |why: String| harness::record(case, Status::Failed, why, None, started.elapsed().as_millis() as u64);
    let stderr = match std::fs::File::create(&stderr_path) {
        Ok(f) => f,
        Err(e) => return failure(format!("cannot create {}: {e}", stderr_path.display())),
    };
    let mut cmd = Command::new(&opts.exe);
    cmd.arg("__case").arg(&case.id).arg("--record").arg(&record_path);
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::from(stderr));
    cmd.process_group(0);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failure(format!("cannot start {}: {e}", opts.exe.display())),
    };
    let exit = wait_with_deadline(child, opts.deadline);
    let stderr_tail = tail(&stderr_path);
    let _ = std::fs::remove_file(&stderr_path);
    match (exit, read_record(&record_path)) {
        (Err(why), _) => failure(format!("{why}; stderr: {stderr_tail}")),
        (Ok(_), Some(record)) => record,
        (Ok(code), None) => failure(format!("the case process exited {code} without a result; stderr: {stderr_tail}")),
    }
}

fn read_record(path: &Path) -> Option<Record> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(1500);
    let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
    text[start..].trim().to_string()
}

/// Waits for `child`; past `deadline` kills its whole process group (the implementation and
/// anything the case started) and says so.
fn wait_with_deadline(mut child: Child, deadline: Duration) -> Result<String, String> {
    match spawn::wait_until(&mut child, Instant::now() + deadline) {
        Ok(status) => Ok(status.to_string()),
        Err(_) => {
            spawn::kill_group(child.id());
            let _ = child.wait();
            Err(format!("timed out after {} s; its process group was killed", deadline.as_secs()))
        }
    }
}
