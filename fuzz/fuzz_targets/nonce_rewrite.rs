//! Fuzzes the broker's substring rewrite (SPEC.md, "Token broker and nonce rewrite").
//!
//! The input is literal bytes with escapes that splice in nonce text, since random bytes
//! almost never spell a 69-byte nonce: `FF FF` is a literal `FF`; `FF k` inserts the text
//! of nonce k (0..=3: three issued, one never issued); `FF 1k` inserts nonce k cut to 63
//! digits; `FF 2k` inserts nonce k with upper-case digits. Any other byte after `FF` is
//! literal, together with the `FF`.
//!
//! Checked on every input: no panic; the rewrite equals a plain position-by-position model
//! of the rules; an empty broker returns the input; arguments and environment values get
//! the same result, and a dangerous name is dropped; a secret shows up in the output only
//! if its nonce (or the secret itself) was in the input; UTF-8 in gives UTF-8 out.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nono_reference::broker::{Broker, Nonce};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

/// Secrets with markers that no spliced nonce can produce by accident.
const MARKED: [&str; 2] = ["\u{1}SECRET-A\u{1}", "SECRET-ü-B"];

struct Fixture {
    broker: Broker,
    empty: Broker,
    /// Nonce texts: 0 and 1 hold the marked secrets, 2 holds the text of nonce 0 (a secret
    /// that looks like a nonce, for the no-rescan rule), 3 was never issued.
    nonces: Vec<String>,
    /// (nonce text, secret) of the issued ones, for the model.
    table: Vec<(String, Vec<u8>)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut broker = Broker::new();
        let a = broker.issue(MARKED[0]).unwrap().text();
        let b = broker.issue(MARKED[1]).unwrap().text();
        let c = broker.issue(a.clone()).unwrap().text();
        let unknown = Nonce::generate().unwrap().text();
        let table = vec![
            (a.clone(), MARKED[0].as_bytes().to_vec()),
            (b.clone(), MARKED[1].as_bytes().to_vec()),
            (c.clone(), a.as_bytes().to_vec()),
        ];
        Fixture {
            broker,
            empty: Broker::new(),
            nonces: vec![a, b, c, unknown],
            table,
        }
    })
}

fn decode(data: &[u8], nonces: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] != 0xff || i + 1 == data.len() {
            out.push(data[i]);
            i += 1;
            continue;
        }
        let op = data[i + 1];
        let k = usize::from(op & 0x0f);
        match (op >> 4, nonces.get(k)) {
            _ if op == 0xff => out.push(0xff),
            (0, Some(n)) => out.extend_from_slice(n.as_bytes()),
            (1, Some(n)) => out.extend_from_slice(&n.as_bytes()[..n.len() - 1]),
            (2, Some(n)) => {
                out.extend_from_slice(format!("nono_{}", n[5..].to_ascii_uppercase()).as_bytes())
            }
            _ => out.extend_from_slice(&[0xff, op]),
        }
        i += 2;
    }
    out
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// The rules, one position at a time: at each byte, an issued nonce not followed by a
/// lower-case hex digit is replaced and skipped whole; anything else is copied.
fn model(input: &[u8], table: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![];
    let mut i = 0;
    while i < input.len() {
        let hit = table.iter().find(|(nonce, _)| {
            input[i..].starts_with(nonce.as_bytes())
                && !input.get(i + nonce.len()).is_some_and(|&b| is_lower_hex(b))
        });
        match hit {
            Some((nonce, secret)) => {
                out.extend_from_slice(secret);
                i += nonce.len();
            }
            None => {
                out.push(input[i]);
                i += 1;
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let fx = fixture();
    let input = decode(data, &fx.nonces);
    let output = fx.broker.rewrite(&input);

    assert_eq!(
        output.as_ref(),
        model(&input, &fx.table).as_slice(),
        "rewrite differs from the model"
    );
    assert_eq!(
        fx.empty.rewrite(&input).as_ref(),
        input.as_slice(),
        "an empty broker changed the input"
    );

    let arg = OsStr::from_bytes(&input);
    let args = fx.broker.rewrite_args(&[arg]);
    assert_eq!(args.len(), 1);
    assert_eq!(
        args[0].as_bytes(),
        output.as_ref(),
        "an argument was rewritten differently"
    );
    let env = fx
        .broker
        .rewrite_env([("VALUE", arg), ("LD_PRELOAD", arg)], &[] as &[OsString]);
    assert_eq!(env.len(), 1, "a dangerous name was kept");
    assert_eq!(
        env[0].1.as_bytes(),
        output.as_ref(),
        "an env value was rewritten differently"
    );

    for (k, secret) in MARKED.iter().enumerate() {
        if contains(&output, secret.as_bytes()) {
            assert!(
                contains(&input, fx.nonces[k].as_bytes()) || contains(&input, secret.as_bytes()),
                "secret {k} appeared without its nonce in the input"
            );
        }
    }
    if std::str::from_utf8(&input).is_ok() {
        assert!(
            std::str::from_utf8(&output).is_ok(),
            "UTF-8 input gave non-UTF-8 output"
        );
    }
});
