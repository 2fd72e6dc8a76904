//! The nonce-rewrite vectors (`fixtures/nonce/`) through real mediation, against any
//! implementation: inside one session the agent captures each secret of a vector
//! (`vault-N`, a capture rule whose real binary prints the secret), then calls `show`, a
//! passthrough whose real binary describes the argv and environment it received, with the
//! vector's input, the captured nonces written where the vector's placeholders are. What
//! `show` received must be the vector's expectation, with the real nonces and secrets.
//!
//! Vectors that cannot travel this way are left to the library cases (`broker.rewrite.*`):
//! bytes that are not UTF-8 (requests are JSON text), secrets with surrounding whitespace
//! (capture trims its output), secrets that themselves contain a nonce, and vectors with a
//! `blocked` list (the broker library's parameter: through mediation `mediation.env.block`
//! hides names from the agent only and never drops them from a request, notes AGT-4).

use super::{args_of, env_in, Kit};
use crate::case::{Case, CaseResult, Ctx};
use crate::ensure;
use crate::nonce_vectors::{Form, NonceVector, Piece, Shape, Template};
use crate::vectors::{self, Vector};
use serde_json::json;
use std::collections::BTreeMap;

pub fn cases() -> Vec<Case> {
    vectors::load("nonce")
        .into_iter()
        .filter(|v| NonceVector::from_vector(v).is_ok_and(|nv| travels(&nv)))
        .map(|vector| {
            let id = format!("linux.mediation.nonce.{}", vector.id);
            let mut spec = vector.spec.clone();
            spec.push("MED-SRV-014".into());
            Case::new(id, format!("Through mediation: {}", vector.description), spec, move |cx| through_mediation(cx, &vector))
        })
        .collect()
}

/// Can this vector be checked through a real session?
fn travels(nv: &NonceVector) -> bool {
    let blocks = matches!(&nv.input, Shape::Env { blocked, .. } if !blocked.is_empty());
    !blocks
        && nv.is_text()
        && nv.secrets.iter().all(|(_, value)| match value.render(&BTreeMap::new()) {
            Ok(bytes) => value.names().next().is_none() && bytes == bytes.trim_ascii() && std::str::from_utf8(&bytes).is_ok(),
            Err(_) => false,
        })
}

/// The client's spelling of a template: literal text, `{outK...}` for the K-th secret's
/// nonce (captured in step K), and fixed well-formed nonces for unknown placeholders.
fn client_text(template: &Template, order: &[String], unknown: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    for piece in &template.0 {
        match piece {
            Piece::Bytes(bytes) => out.push_str(std::str::from_utf8(bytes).map_err(|e| e.to_string())?),
            Piece::Nonce { name, form } => match order.iter().position(|n| n == name) {
                Some(k) => {
                    let suffix = match form {
                        Form::Whole => "",
                        Form::Hex => ":hex",
                        Form::Upper => ":upper",
                        Form::OneUpper => ":one-upper",
                        Form::Short => ":short",
                    };
                    out.push_str(&format!("{{out{}{suffix}}}", k + 1));
                }
                None => out.push_str(&form.apply(unknown.get(name).ok_or_else(|| format!("no nonce for {name}"))?)),
            },
        }
    }
    Ok(out)
}

/// A well-formed nonce that no session issued (fixed per placeholder, distinct).
fn unknown_nonce(i: usize) -> String {
    format!("nono_{:064x}", 0xdead_beef_u64.wrapping_mul(i as u64 + 7))
}

/// `{{A}}` markers for `print:`: backslashes and newlines escaped for the fake's decoder.
fn escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

fn through_mediation(cx: &Ctx, vector: &Vector) -> CaseResult {
    let nv = NonceVector::from_vector(vector)?;
    let kit = Kit::new(cx);
    let order: Vec<String> = nv.secrets.iter().map(|(name, _)| name.clone()).collect();
    let unknown: BTreeMap<String, String> = nv.unknown.iter().enumerate().map(|(i, n)| (n.clone(), unknown_nonce(i))).collect();
    let show = kit.fake("show", &["describe"]);
    let mut commands = vec![json!({ "name": "show", "binary_path": show })];
    let mut steps: Vec<Vec<String>> = vec![];
    for (k, (_, value)) in nv.secrets.iter().enumerate() {
        let secret = String::from_utf8(value.render(&BTreeMap::new())?).map_err(|e| e.to_string())?;
        let name = format!("vault-{k}");
        let fake = kit.fake(&name, &[&format!("print:{}", escaped(&secret))]);
        commands.push(json!({ "name": name, "binary_path": fake,
            "intercept": [ { "args_prefix": [], "action": { "type": "capture" } } ] }));
        steps.push(vec!["run".into(), name]);
    }
    let mut call = vec!["run".to_string()];
    match &nv.input {
        Shape::Args(args) => {
            call.push("show".into());
            for arg in args {
                call.push(client_text(arg, &order, &unknown)?);
            }
        }
        Shape::Env { vars, .. } => {
            for (name, value) in vars {
                call.push(format!("{}={}", client_text(name, &order, &unknown)?, client_text(value, &order, &unknown)?));
            }
            call.push("show".into());
        }
    }
    steps.push(call);
    let profile = kit.mediation(json!({ "commands": commands }));
    let step_refs: Vec<Vec<&str>> = steps.iter().map(|s| s.iter().map(String::as_str).collect()).collect();
    let step_slices: Vec<&[&str]> = step_refs.iter().map(Vec::as_slice).collect();
    let run = kit.agent(&profile).run(&step_slices)?;
    run.finished()?;

    let mut nonces = unknown.clone();
    for (k, name) in order.iter().enumerate() {
        let captured = run.nonce(k, &format!("capturing secret {name}"))?;
        nonces.insert(name.clone(), captured);
    }
    let described = run.described(order.len())?;
    let text = |t: &Template| -> Result<String, String> { String::from_utf8(t.render(&nonces)?).map_err(|e| e.to_string()) };
    match &nv.expected {
        Shape::Args(expected) => {
            let want: Vec<String> = expected.iter().map(text).collect::<Result<_, _>>()?;
            let got = args_of(&described);
            ensure!(got == want, "show must receive the arguments {want:?}, received {got:?}");
        }
        Shape::Env { vars, .. } => {
            let env = env_in(&described);
            let want: Vec<(String, String)> = vars.iter().map(|(n, v)| Ok((text(n)?, text(v)?))).collect::<Result<_, String>>()?;
            for (name, value) in &want {
                ensure!(
                    env.get(name).and_then(|v| v.as_str()) == Some(value.as_str()),
                    "show must receive {name}={value:?}, received {:?}",
                    env.get(name)
                );
            }
            if let Shape::Env { vars: input, .. } = &nv.input {
                for (name, _) in input {
                    let name = text(name)?;
                    if !want.iter().any(|(n, _)| *n == name) {
                        ensure!(!env.contains_key(&name), "{name} must not reach show: {:?}", env.get(&name));
                    }
                }
            }
        }
    }
    Ok(())
}
