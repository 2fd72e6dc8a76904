//! Passthrough (MED-SRV-011, 012, 016): with no matching rule the real binary runs on the
//! caller's own descriptors, bytes unchanged both ways.
//!
//! The agent `exec`s the mediated command, so the IUT's stdin and stdout are the shim's
//! fds 0 and 1 and, through the server, the real binary's: what the suite writes into the
//! IUT comes back out of it. The real binary is `nono-mediated` in its `cat` step.

use super::{s, Kit};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::ensure;
use crate::kit::spawn::{kill_group, Input, Launch};
use serde_json::json;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.mediation.passthrough.every_byte_value_passes_both_ways",
            "Every byte value 0x00..0xFF (0xFF included) written to the caller's stdin comes back unchanged from the real binary's stdout",
            &["MED-SRV-011"],
            every_byte_value_passes_both_ways,
        ),
        case(
            "linux.mediation.passthrough.stream_of_256_mib_is_unchanged",
            "A 256 MiB stream piped through a mediated cat arrives complete and unchanged",
            &["MED-SRV-011"],
            stream_of_256_mib_is_unchanged,
        ),
        case(
            "linux.mediation.passthrough.stderr_is_the_callers",
            "The real binary's stderr is the caller's stderr, separate from its stdout",
            &["MED-SRV-011"],
            stderr_is_the_callers,
        ),
        case(
            "linux.mediation.passthrough.runs_outside_the_agents_sandbox",
            "A command without a sandbox writes where the agent itself is denied",
            &["MED-SRV-012"],
            runs_outside_the_agents_sandbox,
        ),
        case(
            "linux.mediation.passthrough.slow_command_does_not_delay_another",
            "A command waiting for a second one to act is not blocked by it: both are served at the same time",
            &["MED-SRV-016"],
            slow_command_does_not_delay_another,
        ),
    ]
}

fn cat_profile(kit: &Kit) -> std::path::PathBuf {
    let gh = kit.fake("gh", &["cat"]);
    kit.one_command("gh", &gh, json!([]))
}

fn every_byte_value_passes_both_ways(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let profile = cat_profile(&kit);
    let input: Vec<u8> = (0..16 * 256 + 7).map(|i| (i % 256) as u8).rev().collect();
    let run = kit
        .agent(&profile)
        .stdin(input.clone())
        .run(&[&["exec", "gh"]])?;
    ensure!(run.code == 0, "the run must exit 0: {run}");
    ensure!(
        run.stdout.len() == input.len(),
        "{} bytes in, {} bytes out",
        input.len(),
        run.stdout.len()
    );
    let first_difference = run.stdout.iter().zip(&input).position(|(a, b)| a != b);
    ensure!(
        first_difference.is_none(),
        "bytes changed, first at offset {first_difference:?}"
    );
    Ok(())
}

/// A reproducible byte stream: xorshift64 words, so every position has its own value and a
/// lost, repeated or reordered block is detected.
struct Pattern(u64);

impl Pattern {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    }
}

const STREAM_BYTES: usize = 256 << 20;
const CHUNK: usize = 1 << 20;

fn stream_of_256_mib_is_unchanged(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let profile = cat_profile(&kit);
    let cmd = kit.agent(&profile).command(&[&["exec", "gh"]]);
    let mut child = Launch::new(cmd)
        .input(Input::Pipe)
        .stream_stdout()
        .start()?;
    let pid = child.pid();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            for _ in 0..600 {
                if done.load(Ordering::Relaxed) {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            kill_group(pid);
            true
        })
    };
    let mut stdin = child.stdin().expect("stdin pipe");
    let writer = std::thread::spawn(move || {
        let mut pattern = Pattern(0x9E37_79B9_7F4A_7C15);
        let mut buf = vec![0u8; CHUNK];
        for _ in 0..STREAM_BYTES / CHUNK {
            pattern.fill(&mut buf);
            if stdin.write_all(&buf).is_err() {
                return false;
            }
        }
        true
    });
    let mut stdout = child.take_stdout().expect("stdout pipe");
    let mut expected = Pattern(0x9E37_79B9_7F4A_7C15);
    let (mut want, mut got) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut total = 0usize;
    let mut mismatch = None;
    'outer: loop {
        let mut filled = 0;
        while filled < CHUNK {
            match stdout.read(&mut got[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if filled == 0 {
            break;
        }
        if total + filled > STREAM_BYTES {
            mismatch = Some(format!("more than {STREAM_BYTES} bytes came out"));
            break;
        }
        expected.fill(&mut want);
        if got[..filled] != want[..filled] {
            let at = got[..filled]
                .iter()
                .zip(&want[..filled])
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            mismatch = Some(format!("byte {} differs", total + at));
            break 'outer;
        }
        total += filled;
        if filled < CHUNK {
            break;
        }
    }
    drop(stdout);
    let finished = child.wait();
    done.store(true, Ordering::Relaxed);
    let killed = watchdog.join().unwrap_or(false);
    let wrote_all = writer.join().unwrap_or(false);
    ensure!(!killed, "the 256 MiB stream did not finish within 60 s");
    let finished = finished?;
    let stderr = finished.stderr_text();
    if let Some(m) = mismatch {
        return Err(format!("the stream changed: {m}; stderr {stderr:?}"));
    }
    ensure!(
        wrote_all,
        "the IUT stopped reading its stdin early; stderr {stderr:?}"
    );
    ensure!(
        total == STREAM_BYTES,
        "{STREAM_BYTES} bytes in, {total} out; stderr {stderr:?}"
    );
    ensure!(
        finished.code == 0,
        "the run must exit 0: {}; stderr {stderr:?}",
        finished.status
    );
    Ok(())
}

fn stderr_is_the_callers(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let gh = kit.fake("gh", &["print:to stdout\\n", "stderr:to stderr\\n"]);
    let profile = kit.one_command("gh", &gh, json!([]));
    let run = kit.agent(&profile).run(&[&["run", "gh"]])?;
    run.finished()?;
    run.expect_out(0, "to stdout\n", "stdout must be the real binary's stdout only")?;
    ensure!(
        run.err(0)? == "to stderr\n",
        "stderr must be the real binary's stderr only: {}",
        run.op(0)?
    );
    Ok(())
}

fn runs_outside_the_agents_sandbox(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let outside = cx.fx.dir("outside");
    let by_command = outside.join("by-command");
    let by_agent = outside.join("by-agent");
    let gh = kit.fake("gh", &[&format!("write:{}", s(&by_command))]);
    let profile = kit.one_command("gh", &gh, json!([]));
    let run = kit
        .agent(&profile)
        .run(&[&["write", s(&by_agent)], &["run", "gh"]])?;
    run.finished()?;
    let agent_write = run.op(0)?;
    ensure!(
        agent_write["errno"] == json!("EACCES"),
        "control: the agent itself must be denied writing there: {agent_write}"
    );
    ensure!(
        !by_agent.exists(),
        "control: the agent wrote outside its grants"
    );
    run.expect_out_contains(1, "\"ok\":true", "the unsandboxed command must be able to write")?;
    ensure!(
        by_command.exists(),
        "the command reported a write but {} is absent",
        by_command.display()
    );
    Ok(())
}

fn slow_command_does_not_delay_another(cx: &Ctx) -> CaseResult {
    let kit = Kit::new(cx);
    let go = cx.fx.dir("out").join("go");
    let slow = kit.fake(
        "slow",
        &[&format!("wait-file:{}", s(&go)), "print:slow done\\n"],
    );
    let fast = kit.fake(
        "fast",
        &[&format!("touch:{}", s(&go)), "print:fast done\\n"],
    );
    let profile = kit.mediation(json!({ "commands": [
        { "name": "slow", "binary_path": slow },
        { "name": "fast", "binary_path": fast },
    ]}));
    let run =
        kit.agent(&profile)
            .run(&[&["spawn", "slow"], &["run", "fast"], &["wait-spawned"]])?;
    run.finished()?;
    run.expect_out_contains(1, "fast done", "the fast command must be answered while the slow one waits")?;
    let slow_result = &run.op(2)?["results"][0];
    ensure!(
        slow_result["exit_code"] == json!(0) && slow_result["stdout"].as_str().is_some_and(|o| o.contains("slow done")),
        "the slow command must finish after the fast one acted (exit 70 means it waited in vain): {slow_result}"
    );
    Ok(())
}
