//! Protected paths on macOS (SPEC §20.2): the credentials, keyrings and shell files of
//! nono's deny groups stay unreadable whatever the grants, unless `--bypass-protection`
//! names them.
//!
//! Landlock cannot keep part of a grant denied, so on Linux a grant that would expose a
//! protected path is refused. Seatbelt can: nono emits, after the grants, a deny rule for
//! every sensitive path (`(deny file-read-data F)`, `(deny file-write* F)`), and a bypass
//! adds the allow rules that lift it again (core-spec DENY-04). PROT-MACOS-001 therefore
//! lets a macOS implementation either refuse a grant covering a protected path, as on
//! Linux (the reference does), or run with the path unreadable inside the grant (nono
//! does). The cases accept both, and in each branch check what the statement is about:
//!
//! * PROT-DENY-002: the match is by whole components, for the grant and for the deny rule
//!   inside a grant: `~/.config/fishing` is not `~/.config/fish`.
//! * PROT-BYPASS-001: a bypass needs a covering grant, exposes its path, and lifts only
//!   that path's protection (the deny rules of the others stay, or the run is refused).
//!
//! Every case runs with a fake `HOME` in its fixture root, as the Linux cases do, and every
//! denial must be Seatbelt's `EPERM` (core-spec SB-11).

use super::{arg, expect_allowed, expect_eperm};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::cases::linux::protected::FakeHome;
use crate::ensure;
use crate::outcome::ProbeResult;
use crate::runner::{Run, RunOutput};
use std::path::Path;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "macos.protected.prefix_sibling_is_not_protected",
            "Grants on ~/.sshfoo and ~/.awsbackup are accepted and their files readable, while ~/.ssh and ~/.aws beside them stay unreadable (EPERM); under --read ~/.config the run is refused (PROT-MACOS-001) or ~/.config/fishing is readable while ~/.config/fish is not",
            &["PROT-DENY-002"],
            prefix_sibling_is_not_protected,
        ),
        case(
            "macos.protected.bypass_needs_a_covering_grant",
            "--read ~/.docker exposes nothing without a bypass (refused or EPERM) and the docker config with --bypass-protection ~/.docker, while ~/.ssh stays EPERM; a bypass without a covering grant is an error naming 'no matching grant'; bypassing ~/.config/gcloud under --read ~/.config leaves ~/.config/fish denied (or the run refused)",
            &["PROT-BYPASS-001"],
            bypass_needs_a_covering_grant,
        ),
    ]
}

/// What a run whose grant covers a protected path did (PROT-MACOS-001): refused before
/// the program started, as on Linux, or ran it and the probe answered.
enum Covering {
    Refused,
    Ran(ProbeResult),
}

/// Classifies `out`. A refusal must be exit 1 with a message and no probe output; any
/// other failure to run (a crash, exit 126) is neither of the two permitted answers.
fn covering(out: RunOutput, what: &str) -> Result<Covering, String> {
    if let Ok(r) = out.probe() {
        return Ok(Covering::Ran(r));
    }
    ensure!(out.code == 1, "{what}: the program did not run, yet the IUT did not refuse with exit 1 (PROT-MACOS-001); {out}");
    ensure!(!out.stderr.trim().is_empty(), "{what}: refused without a message; {out}");
    ensure!(!out.stdout.contains("stand-in"), "{what}: a protected file leaked: {out}");
    Ok(Covering::Refused)
}

/// Reads `file` under `run` and expects its content.
fn expect_read(run: &Run, file: &Path, content: &str, what: &str) -> CaseResult {
    let r = run.op(["read", arg(file)])?;
    expect_allowed(&r, what)?;
    ensure!(r.str_field("content") == Some(content), "{what}: read returned {:?}, expected {content:?}", r.str_field("content"));
    Ok(())
}

/// Reads `file` under `run` and expects Seatbelt's denial, with no content.
fn expect_read_denied(run: &Run, file: &Path, what: &str) -> CaseResult {
    let r = run.op(["read", arg(file)])?;
    expect_eperm(&r, what)?;
    ensure!(r.str_field("content").is_none(), "{what}: a denied read returned content");
    Ok(())
}

/// Seen from outside the sandbox: the stand-ins are still there, unchanged, so every
/// denial above was the sandbox's and not a missing file.
fn expect_stand_ins_intact(cx: &Ctx, files: &[(&str, &str)]) -> CaseResult {
    for (rel, content) in files {
        ensure!(cx.fx.read(&format!("home/{rel}")).as_deref() == Some(*content), "~/{rel} changed or vanished");
    }
    Ok(())
}

fn prefix_sibling_is_not_protected(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    cx.fx.file("home/.awsbackup/credentials", "a backup, not the credentials");
    cx.fx.file("home/.config/fishing/notes", "not the fish config");
    let run = h.run(cx).read(h.join(".sshfoo")).read(h.join(".awsbackup"));
    expect_read(&run, &h.join(".sshfoo/fake"), "not a key", "read inside --read ~/.sshfoo")?;
    expect_read(&run, &h.join(".awsbackup/credentials"), "a backup, not the credentials", "read inside --read ~/.awsbackup")?;
    expect_read_denied(&run, &h.join(".ssh/id_ed25519"), "read ~/.ssh/id_ed25519 beside the ~/.sshfoo grant")?;
    expect_read_denied(&run, &h.join(".aws/credentials"), "read ~/.aws/credentials beside the ~/.awsbackup grant")?;
    // Inside one grant the deny rule of ~/.config/fish must not reach ~/.config/fishing.
    let run = h.run(cx).read(h.join(".config"));
    let fishing = h.join(".config/fishing/notes");
    match covering(run.probe(["read", arg(&fishing)]), "--read ~/.config, which holds ~/.config/fish")? {
        // Refused as on Linux: nothing ran, so there is no deny rule to judge.
        Covering::Refused => {}
        Covering::Ran(r) => {
            expect_allowed(&r, "read ~/.config/fishing/notes inside --read ~/.config")?;
            ensure!(r.str_field("content") == Some("not the fish config"), "read ~/.config/fishing/notes returned {:?}", r.str_field("content"));
            expect_read_denied(&run, &h.join(".config/fish/config.fish"), "read ~/.config/fish/config.fish inside --read ~/.config")?;
        }
    }
    expect_stand_ins_intact(
        cx,
        &[
            (".ssh/id_ed25519", "stand-in private key"),
            (".aws/credentials", "stand-in aws credentials"),
            (".config/fish/config.fish", "stand-in fish config"),
        ],
    )
}

fn bypass_needs_a_covering_grant(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let docker = h.join(".docker");
    let config = h.join(".docker/config.json");
    let bypass = |run: Run, path: &Path| run.arg("--bypass-protection").arg(path);
    // Without a bypass the grant on ~/.docker exposes nothing: this is what the bypass lifts.
    match covering(h.run(cx).read(&docker).probe(["read", arg(&config)]), "--read ~/.docker without a bypass")? {
        Covering::Refused => {}
        Covering::Ran(r) => expect_eperm(&r, "read ~/.docker/config.json under --read ~/.docker without a bypass")?,
    }
    let run = bypass(h.run(cx).read(&docker), &docker);
    expect_read(&run, &config, "stand-in docker config", "read ~/.docker/config.json with --read ~/.docker --bypass-protection ~/.docker")?;
    expect_read_denied(&run, &h.join(".ssh/id_ed25519"), "read ~/.ssh/id_ed25519 beside the bypassed ~/.docker")?;
    // A bypass relaxes a protection; it never grants.
    let out = bypass(h.run(cx).read(h.join("project")), &docker).probe(["read", arg(&config)]);
    ensure!(out.probe().is_err() && out.code == 1, "a bypass without a covering grant must be an error (exit 1); {out}");
    ensure!(out.stderr.contains("no matching grant"), "the error does not say 'no matching grant'; {out}");
    // Inside one grant, bypassing ~/.config/gcloud lifts its deny rule and no other.
    let gcloud = h.join(".config/gcloud");
    let run = bypass(h.run(cx).read(h.join(".config")), &gcloud);
    let fish = h.join(".config/fish/config.fish");
    match covering(run.probe(["read", arg(&fish)]), "--read ~/.config --bypass-protection ~/.config/gcloud")? {
        // Refused: ~/.config still covers protected paths the bypass did not name.
        Covering::Refused => {}
        Covering::Ran(r) => {
            expect_eperm(&r, "read ~/.config/fish/config.fish, which the bypass of ~/.config/gcloud does not name")?;
            expect_read(&run, &gcloud.join("credentials.db"), "stand-in gcloud credentials", "read the bypassed ~/.config/gcloud/credentials.db")?;
        }
    }
    expect_stand_ins_intact(
        cx,
        &[
            (".ssh/id_ed25519", "stand-in private key"),
            (".docker/config.json", "stand-in docker config"),
            (".config/fish/config.fish", "stand-in fish config"),
        ],
    )
}
