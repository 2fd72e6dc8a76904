//! Token broker and nonce rewrite, checked directly against the reference library
//! (`nono_reference::broker`): one case per vector in `fixtures/nonce/`, plus the properties
//! no vector can express (format, randomness failing closed, session scope, no leaks in
//! debug text and errors).
//!
//! These cases pin the contract's meaning in the reference; the through-mediation cases
//! (capture a secret, pass its nonce to a second mediated command that echoes its arguments
//! and environment) render the same vectors with [`NonceVector::render`] against the IUT.

use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::ensure;
use crate::nonce_vectors::{show, NonceVector, Rendered, Shape};
use crate::vectors::{self, Vector};
use nono_reference::broker::{Broker, BrokerError, Nonce};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

pub fn cases() -> Vec<Case> {
    let mut out = vectors::cases("nonce", "broker.rewrite", rewrite_vector);
    out.extend([
        case(
            "broker.nonce.format_and_uniqueness",
            "Issued nonces are nono_ plus 64 lower-case hex digits, all distinct, with every digit value in use",
            &["TOK-FMT-001", "TOK-FMT-002"],
            format_and_uniqueness,
        ),
        case(
            "broker.nonce.failing_source_fails_closed",
            "When the random source fails, issuing fails with a randomness error and stores nothing",
            &["TOK-FMT-003"],
            failing_source_fails_closed,
        ),
        case(
            "broker.nonce.repeating_source_fails_closed",
            "When the random source repeats an issued nonce, issuing fails and the first secret stays the only one",
            &["TOK-FMT-002", "TOK-FMT-003"],
            repeating_source_fails_closed,
        ),
        case(
            "broker.session.other_session_nonce_is_unknown",
            "A nonce issued by another session is unknown here and stays literal",
            &["TOK-LIFE-001"],
            other_session_nonce_is_unknown,
        ),
        case(
            "broker.session.ended_session_resolves_nothing",
            "After the session ends its nonces stay literal in arguments and environment",
            &["TOK-LIFE-001"],
            ended_session_resolves_nothing,
        ),
        case(
            "broker.leak.debug_text_has_no_secret",
            "Debug text of a broker and of its nonces holds no secret value and no whole nonce",
            &["TOK-LEAK-001"],
            debug_text_has_no_secret,
        ),
        case(
            "broker.leak.errors_have_no_secret",
            "An issuing error names what failed and holds neither the secret nor a nonce",
            &["TOK-LEAK-001"],
            errors_have_no_secret,
        ),
    ]);
    // Until mediation offers a black-box path, these check the reference library only.
    out.into_iter().map(|c| c.requires(Requirement::ReferenceLibrary)).collect()
}

/// Renders `vector` against a fresh reference broker, rewrites its input and compares.
fn rewrite_vector(_cx: &Ctx, vector: &Vector) -> CaseResult {
    let nv = NonceVector::from_vector(vector)
        .map_err(|e| format!("{}: {}: {e}", vector.file.display(), vector.id))?;
    let mut broker = Broker::new();
    let rendered = nv.render(
        |_, value| {
            broker
                .issue(value)
                .map(|n| n.text())
                .map_err(|e| e.to_string())
        },
        || {
            Nonce::generate()
                .map(|n| n.text())
                .map_err(|e| e.to_string())
        },
    )?;
    check_rewrite(&broker, &rendered)
}

/// The broker's rewrite of `rendered.input` equals `rendered.expected`, byte for byte.
pub fn check_rewrite(broker: &Broker, rendered: &Rendered) -> CaseResult {
    match (&rendered.input, &rendered.expected) {
        (Shape::Args(args), Shape::Args(expected)) => {
            let args: Vec<OsString> = args.iter().map(|a| OsString::from_vec(a.clone())).collect();
            let got: Vec<Vec<u8>> = broker
                .rewrite_args(&args)
                .into_iter()
                .map(OsString::into_vec)
                .collect();
            ensure!(
                &got == expected,
                "arguments: expected {:?}, got {:?}",
                expected.iter().map(|b| show(b)).collect::<Vec<_>>(),
                got.iter().map(|b| show(b)).collect::<Vec<_>>()
            );
        }
        (Shape::Env { vars, blocked }, Shape::Env { vars: expected, .. }) => {
            let os = |b: &Vec<u8>| OsString::from_vec(b.clone());
            let vars: Vec<(OsString, OsString)> =
                vars.iter().map(|(n, v)| (os(n), os(v))).collect();
            let blocked: Vec<OsString> = blocked.iter().map(os).collect();
            let got: Vec<(Vec<u8>, Vec<u8>)> = broker
                .rewrite_env(vars, &blocked)
                .into_iter()
                .map(|(n, v)| (n.into_vec(), v.into_vec()))
                .collect();
            let pairs = |list: &[(Vec<u8>, Vec<u8>)]| {
                list.iter()
                    .map(|(n, v)| format!("{}={}", show(n), show(v)))
                    .collect::<Vec<_>>()
            };
            ensure!(
                &got == expected,
                "environment: expected {:?}, got {:?}",
                pairs(expected),
                pairs(&got)
            );
        }
        _ => return Err("input and expectation have different shapes".into()),
    }
    Ok(())
}

fn format_and_uniqueness(_cx: &Ctx) -> CaseResult {
    let mut broker = Broker::new();
    let mut seen = BTreeSet::new();
    let mut digits_used = BTreeSet::new();
    for i in 0..200 {
        let text = broker
            .issue(format!("value-{i}"))
            .map_err(|e| e.to_string())?
            .text();
        ensure!(
            text.len() == 69,
            "nonce {text:?} is {} bytes, not 69",
            text.len()
        );
        let digits = text
            .strip_prefix("nono_")
            .ok_or_else(|| format!("nonce {text:?} does not start with nono_"))?;
        ensure!(
            digits
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "nonce {text:?} has a digit outside [0-9a-f]"
        );
        digits_used.extend(digits.bytes());
        ensure!(seen.insert(text.clone()), "nonce {text:?} was issued twice");
        ensure!(
            broker.resolve(text.as_bytes()) == Some(format!("value-{i}").as_bytes()),
            "nonce {text:?} does not resolve to its own secret"
        );
    }
    ensure!(
        digits_used.len() == 16,
        "only {} distinct hex digits in 200 nonces: not random",
        digits_used.len()
    );
    Ok(())
}

fn failing_source_fails_closed(_cx: &Ctx) -> CaseResult {
    let mut broker =
        Broker::with_random_source(|_| Err(std::io::Error::from_raw_os_error(libc::ENOSYS)));
    match broker.issue("hunter2") {
        Err(BrokerError::Randomness(e)) => {
            ensure!(
                e.raw_os_error() == Some(libc::ENOSYS),
                "the source's error was not passed on: {e}"
            )
        }
        Err(other) => return Err(format!("expected a randomness error, got {other}")),
        Ok(n) => return Err(format!("issued {n:?} although the random source failed")),
    }
    ensure!(
        broker.is_empty(),
        "the broker holds {} secrets after a failed issue",
        broker.len()
    );
    // Control: the same broker API with a working source issues.
    Broker::new()
        .issue("hunter2")
        .map_err(|e| format!("control: a working source failed: {e}"))?;
    Ok(())
}

fn repeating_source_fails_closed(_cx: &Ctx) -> CaseResult {
    let mut broker = Broker::with_random_source(|buf| {
        buf.fill(0x5a);
        Ok(())
    });
    let first = broker
        .issue("first")
        .map_err(|e| format!("the first issue failed: {e}"))?;
    match broker.issue("second") {
        Err(BrokerError::RepeatedNonce) => {}
        Err(other) => return Err(format!("expected a repeated-nonce error, got {other}")),
        Ok(n) => return Err(format!("issued {n:?} twice")),
    }
    ensure!(
        broker.len() == 1,
        "the broker holds {} secrets, expected 1",
        broker.len()
    );
    ensure!(
        broker.resolve(first.text().as_bytes()) == Some(&b"first"[..]),
        "the first secret was replaced"
    );
    Ok(())
}

fn other_session_nonce_is_unknown(_cx: &Ctx) -> CaseResult {
    let mut ours = Broker::new();
    let mut theirs = Broker::new();
    let mine = ours.issue("ours").map_err(|e| e.to_string())?.text();
    let foreign = theirs.issue("theirs").map_err(|e| e.to_string())?.text();
    let input = format!("{mine} {foreign}");
    let got = ours.rewrite(input.as_bytes());
    ensure!(
        got.as_ref() == format!("ours {foreign}").as_bytes(),
        "got {:?}",
        show(&got)
    );
    Ok(())
}

fn ended_session_resolves_nothing(_cx: &Ctx) -> CaseResult {
    let mut broker = Broker::new();
    let nonce = broker.issue("alpha").map_err(|e| e.to_string())?.text();
    let arg = format!("X-Token: {nonce}");
    // Control: before the end it resolves.
    let before = broker.rewrite_args(&[arg.as_str()]);
    ensure!(
        before[0].as_bytes() == b"X-Token: alpha",
        "control: before the end got {:?}",
        before[0]
    );
    broker.end_session();
    let after = broker.rewrite_args(&[arg.as_str()]);
    ensure!(
        after[0].as_bytes() == arg.as_bytes(),
        "after the end got {:?}",
        after[0]
    );
    let env = broker.rewrite_env([("TOKEN", nonce.as_str())], &[] as &[&str]);
    ensure!(
        env.len() == 1 && env[0].1.as_bytes() == nonce.as_bytes(),
        "after the end the environment is {env:?}"
    );
    ensure!(
        broker.resolve(nonce.as_bytes()).is_none(),
        "the nonce still resolves after the end"
    );
    Ok(())
}

fn debug_text_has_no_secret(_cx: &Ctx) -> CaseResult {
    let mut broker = Broker::new();
    let secrets = ["hunter2-very-secret", "ghp_0123456789abcdefSECRET"];
    let nonces: Vec<Nonce> = secrets
        .iter()
        .map(|s| broker.issue(*s))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let texts = [
        format!("{broker:?}"),
        format!("{broker:#?}"),
        format!("{nonces:?}"),
    ];
    for text in &texts {
        for secret in secrets {
            ensure!(
                !text.contains(secret),
                "debug text {text:?} contains a secret"
            );
        }
        for nonce in &nonces {
            ensure!(
                !text.contains(&nonce.text()),
                "debug text {text:?} contains a whole nonce"
            );
        }
    }
    // Control: the rewrite, the one channel meant to carry secrets, does carry them.
    let first = nonces[0].text();
    let got = broker.rewrite(first.as_bytes());
    ensure!(
        got.as_ref() == secrets[0].as_bytes(),
        "control: the rewrite did not produce the secret"
    );
    Ok(())
}

fn errors_have_no_secret(_cx: &Ctx) -> CaseResult {
    let secret = "hunter2-very-secret";
    let mut failing =
        Broker::with_random_source(|_| Err(std::io::Error::other("entropy pool unavailable")));
    let err = failing
        .issue(secret)
        .err()
        .ok_or("issuing with a failing source succeeded")?;
    let mut repeating = Broker::with_random_source(|buf| {
        buf.fill(1);
        Ok(())
    });
    let nonce = repeating.issue("first").map_err(|e| e.to_string())?;
    let repeat = repeating
        .issue(secret)
        .err()
        .ok_or("issuing a repeated nonce succeeded")?;
    for e in [&err, &repeat] {
        let text = format!("{e} {e:?}");
        ensure!(!text.contains(secret), "error {text:?} contains the secret");
        ensure!(
            !text.contains(&nonce.text()),
            "error {text:?} contains a nonce"
        );
        ensure!(
            text.contains("random source"),
            "error {text:?} does not say what failed"
        );
    }
    ensure!(
        format!("{err}").contains("entropy pool unavailable"),
        "error {err} hides the source's reason"
    );
    Ok(())
}
