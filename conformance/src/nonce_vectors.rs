//! Nonce-rewrite vectors (`fixtures/nonce/*.json`, format in
//! `fixtures/schema/nonce.schema.json`) as data that any broker can be checked against.
//!
//! Nonces are random, so a vector cannot spell them. It declares secrets by placeholder name
//! and writes `{{NAME}}` wherever NAME's nonce goes; `{{unknown}}` (or `{{unknown-x}}`) is a
//! well-formed nonce nobody issued. Forms derive malformed text from a real nonce, which is
//! the only way a wrong match can show: `{{NAME:hex}}` (the 64 digits without `nono_`),
//! `{{NAME:upper}}` (digits in upper case), `{{NAME:one-upper}}` (the first letter digit in
//! upper case), `{{NAME:short}}` (`nono_` and the first 63 digits).
//!
//! [`NonceVector::render`] binds the placeholders: it asks the caller to issue each secret
//! (the reference library's [`nono_reference::broker::Broker`], or an implementation's
//! mediation capture) and to make up unknown nonces, and returns the concrete secrets,
//! input and expected output. The same vector thus drives the direct library cases in
//! `cases::broker` and, later, the through-mediation cases.

use crate::vectors::decode_hex;
use crate::vectors::Vector;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a placeholder is spelled out from its nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The nonce as issued: `nono_` + 64 lower-case hex digits.
    Whole,
    /// The 64 digits without the prefix.
    Hex,
    /// `nono_` + the digits in upper case.
    Upper,
    /// `nono_` + the digits with the first letter digit in upper case.
    OneUpper,
    /// `nono_` + the first 63 digits.
    Short,
}

impl Form {
    fn parse(name: &str) -> Option<Form> {
        Some(match name {
            "hex" => Form::Hex,
            "upper" => Form::Upper,
            "one-upper" => Form::OneUpper,
            "short" => Form::Short,
            _ => return None,
        })
    }

    /// `nonce` (a nonce's full text) spelled in this form.
    pub fn apply(self, nonce: &str) -> String {
        let digits = nonce.strip_prefix("nono_").unwrap_or(nonce);
        match self {
            Form::Whole => nonce.to_string(),
            Form::Hex => digits.to_string(),
            Form::Upper => format!("nono_{}", digits.to_ascii_uppercase()),
            Form::OneUpper => {
                let mut digits = digits.to_string();
                if let Some(i) = digits.find(|c: char| c.is_ascii_lowercase()) {
                    digits.replace_range(i..i + 1, &digits[i..i + 1].to_ascii_uppercase());
                }
                format!("nono_{digits}")
            }
            Form::Short => format!("nono_{}", &digits[..digits.len().saturating_sub(1)]),
        }
    }
}

/// One piece of a byte string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// A placeholder: the nonce bound to `name`, spelled in `form`.
    Nonce { name: String, form: Form },
}

/// A byte string with placeholders, as written in a vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(pub Vec<Piece>);

/// True for placeholder names that stand for a well-formed nonce nobody issued.
pub fn is_unknown_name(name: &str) -> bool {
    name == "unknown" || name.strip_prefix("unknown-").is_some_and(|s| !s.is_empty())
}

impl Template {
    /// Reads a byte string: a JSON string, or an array of strings and `{"hex": ".."}`.
    pub fn parse(value: &Value) -> Result<Template, String> {
        let mut pieces = vec![];
        match value {
            Value::String(s) => parse_text(s, &mut pieces)?,
            Value::Array(parts) => {
                for part in parts {
                    match part {
                        Value::String(s) => parse_text(s, &mut pieces)?,
                        Value::Object(o) => {
                            let hex = o
                                .get("hex")
                                .and_then(Value::as_str)
                                .ok_or("a piece object needs \"hex\"")?;
                            pieces.push(Piece::Bytes(decode_hex(hex)?));
                        }
                        other => {
                            return Err(format!(
                                "a byte-string piece must be a string or {{\"hex\"}}, got {other}"
                            ))
                        }
                    }
                }
            }
            other => {
                return Err(format!(
                    "a byte string must be a string or an array, got {other}"
                ))
            }
        }
        Ok(Template(pieces))
    }

    /// The placeholder names it uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Nonce { name, .. } => Some(name.as_str()),
            Piece::Bytes(_) => None,
        })
    }

    /// True when its literal pieces are valid UTF-8 (nonces are ASCII), i.e. the rendered
    /// string can travel where only text can (JSON strings in a wire protocol).
    pub fn is_text(&self) -> bool {
        self.0.iter().all(|p| match p {
            Piece::Bytes(b) => std::str::from_utf8(b).is_ok(),
            Piece::Nonce { .. } => true,
        })
    }

    /// The bytes, with each placeholder replaced by its bound nonce in its form.
    pub fn render(&self, nonces: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
        let mut out = vec![];
        for piece in &self.0 {
            match piece {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Nonce { name, form } => {
                    let nonce = nonces
                        .get(name)
                        .ok_or_else(|| format!("placeholder {{{{{name}}}}} is not bound"))?;
                    out.extend_from_slice(form.apply(nonce).as_bytes());
                }
            }
        }
        Ok(out)
    }
}

fn parse_text(text: &str, pieces: &mut Vec<Piece>) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Bytes(rest.as_bytes()[..start].to_vec()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed placeholder in {text:?}"))?;
        let inner = &after[..end];
        let (name, form) = match inner.split_once(':') {
            Some((name, form)) => (
                name,
                Form::parse(form)
                    .ok_or_else(|| format!("unknown placeholder form {form:?} in {text:?}"))?,
            ),
            None => (inner, Form::Whole),
        };
        let valid_name = is_unknown_name(name)
            || (name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
        if !valid_name {
            return Err(format!("bad placeholder name {name:?} in {text:?}"));
        }
        pieces.push(Piece::Nonce {
            name: name.to_string(),
            form,
        });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Bytes(rest.as_bytes().to_vec()));
    }
    Ok(())
}


/// What a vector rewrites.
#[derive(Clone, Debug)]
pub enum Shape<T> {
    /// A mediated command's arguments.
    Args(Vec<T>),
    /// A mediated command's environment, in order, and (input only) the block list.
    Env { vars: Vec<(T, T)>, blocked: Vec<T> },
}

/// One nonce vector, placeholders still unbound.
#[derive(Clone, Debug)]
pub struct NonceVector {
    /// Secrets in the order they must be issued (a secret whose value names another comes
    /// after it).
    pub secrets: Vec<(String, Template)>,
    /// Placeholder names of unknown nonces, in first-use order.
    pub unknown: Vec<String>,
    /// The input to rewrite.
    pub input: Shape<Template>,
    /// What the mediated command must receive (for env, `blocked` is empty).
    pub expected: Shape<Template>,
}

/// A vector with every placeholder bound: the concrete secrets, input and expectation.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Each secret's name and value, in issue order.
    pub secrets: Vec<(String, Vec<u8>)>,
    /// Every placeholder's nonce text (secrets and unknown ones).
    pub nonces: BTreeMap<String, String>,
    pub input: Shape<Vec<u8>>,
    pub expected: Shape<Vec<u8>>,
}

impl NonceVector {
    /// Reads the nonce-specific fields of `vector`, checking that every placeholder is a
    /// declared secret or an unknown name and that secrets refer only to secrets without
    /// placeholders of their own.
    pub fn from_vector(vector: &Vector) -> Result<NonceVector, String> {
        let d = &vector.data;
        let list = |field: &str| -> Result<Vec<Template>, String> {
            d.get(field)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("no array \"{field}\""))?
                .iter()
                .map(Template::parse)
                .collect()
        };
        let vars = |field: &str| -> Result<Vec<(Template, Template)>, String> {
            d.get(field)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("no array \"{field}\""))?
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([name, value]) => Ok((Template::parse(name)?, Template::parse(value)?)),
                    _ => Err(format!("an env entry must be [name, value], got {pair}")),
                })
                .collect()
        };
        let (input, expected) = if d.get("args").is_some() {
            (
                Shape::Args(list("args")?),
                Shape::Args(list("expect_args")?),
            )
        } else {
            let blocked = if d.get("blocked").is_some() {
                list("blocked")?
            } else {
                vec![]
            };
            (
                Shape::Env {
                    vars: vars("env")?,
                    blocked,
                },
                Shape::Env {
                    vars: vars("expect_env")?,
                    blocked: vec![],
                },
            )
        };

        let declared = d
            .get("secrets")
            .and_then(Value::as_object)
            .ok_or("no object \"secrets\"")?;
        let mut plain = vec![];
        let mut dependent = vec![];
        for (name, value) in declared {
            let value = Template::parse(value)?;
            if value.names().next().is_none() {
                plain.push((name.clone(), value));
            } else {
                dependent.push((name.clone(), value));
            }
        }
        for (name, value) in &dependent {
            for used in value.names() {
                let is_plain_secret = plain.iter().any(|(n, _)| n == used);
                if !is_plain_secret && !is_unknown_name(used) {
                    return Err(format!(
                        "secret {name} names {used}, which is not a secret without placeholders"
                    ));
                }
            }
        }
        let secrets: Vec<(String, Template)> = plain.into_iter().chain(dependent).collect();

        let mut unknown: Vec<String> = vec![];
        let mut all_templates: Vec<&Template> = secrets.iter().map(|(_, t)| t).collect();
        for shape in [&input, &expected] {
            match shape {
                Shape::Args(args) => all_templates.extend(args),
                Shape::Env { vars, blocked } => {
                    all_templates.extend(vars.iter().flat_map(|(n, v)| [n, v]));
                    all_templates.extend(blocked);
                }
            }
        }
        for name in all_templates.iter().flat_map(|t| t.names()) {
            if is_unknown_name(name) {
                if !unknown.iter().any(|u| u == name) {
                    unknown.push(name.to_string());
                }
            } else if !secrets.iter().any(|(n, _)| n == name) {
                return Err(format!("placeholder {{{{{name}}}}} names no secret"));
            }
        }
        Ok(NonceVector {
            secrets,
            unknown,
            input,
            expected,
        })
    }

    /// True when everything the vector passes is valid UTF-8 (see [`Template::is_text`]).
    pub fn is_text(&self) -> bool {
        let mut templates: Vec<&Template> = self.secrets.iter().map(|(_, t)| t).collect();
        for shape in [&self.input, &self.expected] {
            match shape {
                Shape::Args(args) => templates.extend(args),
                Shape::Env { vars, blocked } => {
                    templates.extend(vars.iter().flat_map(|(n, v)| [n, v]));
                    templates.extend(blocked);
                }
            }
        }
        templates.iter().all(|t| t.is_text())
    }

    /// Binds the placeholders. `issue(name, value)` stores one secret in the broker under
    /// test and returns its nonce's text; `unknown()` returns a well-formed nonce that the
    /// broker never issued. Secrets are issued in [`NonceVector::secrets`] order, so a value
    /// naming another secret's nonce can be rendered first.
    pub fn render(
        &self,
        mut issue: impl FnMut(&str, Vec<u8>) -> Result<String, String>,
        mut unknown: impl FnMut() -> Result<String, String>,
    ) -> Result<Rendered, String> {
        let mut nonces = BTreeMap::new();
        for name in &self.unknown {
            nonces.insert(name.clone(), unknown()?);
        }
        let mut secrets = vec![];
        for (name, template) in &self.secrets {
            let value = template.render(&nonces)?;
            let nonce = issue(name, value.clone())?;
            nonces.insert(name.clone(), nonce);
            secrets.push((name.clone(), value));
        }
        let render_shape = |shape: &Shape<Template>| -> Result<Shape<Vec<u8>>, String> {
            Ok(match shape {
                Shape::Args(args) => Shape::Args(
                    args.iter()
                        .map(|t| t.render(&nonces))
                        .collect::<Result<_, _>>()?,
                ),
                Shape::Env { vars, blocked } => Shape::Env {
                    vars: vars
                        .iter()
                        .map(|(n, v)| Ok((n.render(&nonces)?, v.render(&nonces)?)))
                        .collect::<Result<_, String>>()?,
                    blocked: blocked
                        .iter()
                        .map(|t| t.render(&nonces))
                        .collect::<Result<_, _>>()?,
                },
            })
        };
        Ok(Rendered {
            input: render_shape(&self.input)?,
            expected: render_shape(&self.expected)?,
            secrets,
            nonces,
        })
    }
}

/// Bytes for a failure message: text as is, other bytes as `\xNN`.
pub fn show(bytes: &[u8]) -> String {
    bytes.utf8_chunks().fold(String::new(), |mut s, chunk| {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vector(data: Value) -> Vector {
        Vector {
            id: "t".into(),
            description: "t".into(),
            spec: vec![],
            file: "t.json".into(),
            data,
        }
    }

    #[test]
    fn placeholders_and_hex_pieces_parse() {
        let t = Template::parse(&json!(["a{{A}}b{{unknown-2:short}}", {"hex": "ff00"}])).unwrap();
        assert_eq!(
            t.0,
            vec![
                Piece::Bytes(b"a".to_vec()),
                Piece::Nonce {
                    name: "A".into(),
                    form: Form::Whole
                },
                Piece::Bytes(b"b".to_vec()),
                Piece::Nonce {
                    name: "unknown-2".into(),
                    form: Form::Short
                },
                Piece::Bytes(vec![0xff, 0]),
            ]
        );
        assert!(!t.is_text());
    }

    #[test]
    fn bad_placeholders_are_errors() {
        assert!(Template::parse(&json!("{{A")).is_err());
        assert!(Template::parse(&json!("{{a}}")).is_err());
        assert!(Template::parse(&json!("{{A:lower}}")).is_err());
        let undeclared = vector(json!({"secrets": {}, "args": ["{{B}}"], "expect_args": []}));
        assert!(NonceVector::from_vector(&undeclared).is_err());
    }

    #[test]
    fn forms_derive_malformed_text() {
        let nonce = format!("nono_{}", "ab".repeat(32));
        assert_eq!(Form::Hex.apply(&nonce), "ab".repeat(32));
        assert_eq!(
            Form::Upper.apply(&nonce),
            format!("nono_{}", "AB".repeat(32))
        );
        assert_eq!(
            Form::OneUpper.apply(&nonce),
            format!("nono_A{}", &"ab".repeat(32)[1..])
        );
        assert_eq!(Form::Short.apply(&nonce).len(), 68);
    }

    #[test]
    fn render_issues_plain_secrets_first() {
        let v = vector(json!({
            "secrets": {"A": "{{B}}", "B": "inner"},
            "args": ["{{A}}", "{{unknown}}"],
            "expect_args": ["{{B}}", "{{unknown}}"]
        }));
        let nv = NonceVector::from_vector(&v).unwrap();
        let mut order = vec![];
        let r = nv
            .render(
                |name, _| {
                    order.push(name.to_string());
                    Ok(format!("nono_{}", name.repeat(64).to_lowercase()))
                },
                || Ok("nono_u".into()),
            )
            .unwrap();
        assert_eq!(order, ["B", "A"]);
        assert_eq!(
            r.secrets[1].1,
            format!("nono_{}", "b".repeat(64)).into_bytes()
        );
    }
}
