//! Tightening a permissive profile with a learned seed.
//!
//! A profile that still says `(allow default)` can be turned into a deny-default one once
//! the rules its programs need are known (from [`super::log`], hand-reviewed): every
//! `(allow default)` form becomes `(deny default)` and the seed's rules are appended after
//! everything else, where they win over earlier rules. Without a seed the profile is
//! returned unchanged, so a missing seed can never break a working profile.
//!
//! The rewrite understands SBPL's lexical structure: an `(allow default)` inside a string
//! or a comment is left alone. Both texts must be well formed (balanced parentheses,
//! closed strings and comments), and a seed may not contain `(allow default)` itself,
//! which would silently undo the tightening. Such input is refused, not repaired.

use std::fmt;

/// Why a splice was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpliceError {
    /// A string or block comment is never closed.
    Unterminated {
        /// `profile` or `seed`.
        text: &'static str,
        /// `string` or `block comment`.
        what: &'static str,
        /// 1-based line where it starts.
        line: usize,
    },
    /// Parentheses do not balance.
    Unbalanced {
        /// `profile` or `seed`.
        text: &'static str,
        /// 1-based line where the imbalance shows.
        line: usize,
    },
    /// The seed contains `(allow default)`.
    SeedAllowsDefault {
        /// 1-based line in the seed.
        line: usize,
    },
}

impl fmt::Display for SpliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpliceError::Unterminated { text, what, line } => {
                write!(f, "{text} line {line}: {what} is never closed")
            }
            SpliceError::Unbalanced { text, line } => {
                write!(f, "{text} line {line}: parentheses do not balance")
            }
            SpliceError::SeedAllowsDefault { line } => {
                write!(
                    f,
                    "seed line {line}: (allow default) would undo the deny-default profile"
                )
            }
        }
    }
}

impl std::error::Error for SpliceError {}

/// Rewrites `(allow default)` to `(deny default)` and appends `seed`; with no seed, returns
/// `profile` unchanged.
pub fn splice_deny_default(profile: &str, seed: Option<&str>) -> Result<String, SpliceError> {
    let Some(seed) = seed else {
        return Ok(profile.to_string());
    };
    let found = allow_default_forms(profile, "profile")?;
    if let Some(&(_, _, line)) = allow_default_forms(seed, "seed")?.first() {
        return Err(SpliceError::SeedAllowsDefault { line });
    }
    let mut out = String::with_capacity(profile.len() + seed.len() + 1);
    let mut copied = 0;
    for (start, end, _) in found {
        out.push_str(&profile[copied..start]);
        out.push_str("(deny default)");
        copied = end;
    }
    out.push_str(&profile[copied..]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(seed);
    Ok(out)
}

/// Byte ranges (and lines) of every `(allow default)` form outside strings and comments,
/// after checking that the text is lexically well formed.
fn allow_default_forms(
    text: &str,
    which: &'static str,
) -> Result<Vec<(usize, usize, usize)>, SpliceError> {
    let bytes = text.as_bytes();
    let mut found = vec![];
    let mut depth = 0usize;
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'#' if bytes.get(i + 1) == Some(&b'|') => {
                let start_line = line;
                i += 2;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(SpliceError::Unterminated {
                                text: which,
                                what: "block comment",
                                line: start_line,
                            })
                        }
                        Some(b'|') if bytes.get(i + 1) == Some(&b'#') => break,
                        Some(b'\n') => line += 1,
                        Some(_) => {}
                    }
                    i += 1;
                }
                i += 2;
                continue;
            }
            quote @ (b'"' | b'#') if quote == b'"' || bytes.get(i + 1) == Some(&b'"') => {
                // "..." with backslash escapes, or #"..." (a regex literal, no escapes).
                let raw = quote == b'#';
                let start_line = line;
                i += if raw { 2 } else { 1 };
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(SpliceError::Unterminated {
                                text: which,
                                what: "string",
                                line: start_line,
                            })
                        }
                        Some(b'"') => break,
                        Some(b'\\') if !raw => i += 1,
                        Some(b'\n') => line += 1,
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            b'(' => {
                if let Some(end) = allow_default_at(bytes, i) {
                    found.push((i, end, line));
                }
                depth += 1;
            }
            b')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(SpliceError::Unbalanced { text: which, line })?;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err(SpliceError::Unbalanced { text: which, line });
    }
    Ok(found)
}

/// When `(allow default)` (any whitespace between its tokens) starts at `open`, the byte
/// just after its `)`.
fn allow_default_at(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    let skip_space = |i: &mut usize| {
        while bytes.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    for (word, needs_space_after) in [(&b"allow"[..], true), (&b"default"[..], false)] {
        skip_space(&mut i);
        if !bytes[i..].starts_with(word) {
            return None;
        }
        i += word.len();
        let next = bytes.get(i).copied();
        if needs_space_after && !next.is_some_and(|b| b.is_ascii_whitespace()) {
            return None;
        }
    }
    skip_space(&mut i);
    (bytes.get(i) == Some(&b')')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_and_appends() {
        let out = splice_deny_default(
            "(version 1)\n(allow default)\n",
            Some("(allow file-read* (literal \"/x\"))\n"),
        )
        .unwrap();
        assert_eq!(
            out,
            "(version 1)\n(deny default)\n(allow file-read* (literal \"/x\"))\n"
        );
    }

    #[test]
    fn no_seed_is_a_no_op_even_for_odd_input() {
        assert_eq!(
            splice_deny_default("(allow default", None).unwrap(),
            "(allow default"
        );
    }

    #[test]
    fn strings_and_comments_are_left_alone() {
        let profile = "; (allow default)\n#| (allow default) |#\n(allow file-read* (literal \"(allow default)\"))\n( allow\n  default )\n";
        let out = splice_deny_default(profile, Some("")).unwrap();
        assert_eq!(out, "; (allow default)\n#| (allow default) |#\n(allow file-read* (literal \"(allow default)\"))\n(deny default)\n");
    }

    #[test]
    fn malformed_input_and_permissive_seeds_are_refused() {
        assert!(matches!(
            splice_deny_default("(allow default", Some("")),
            Err(SpliceError::Unbalanced { .. })
        ));
        assert!(matches!(
            splice_deny_default("(a \"b)", Some("")),
            Err(SpliceError::Unterminated { .. })
        ));
        assert!(matches!(
            splice_deny_default("(allow default)", Some("\n(allow default)")),
            Err(SpliceError::SeedAllowsDefault { line: 2 })
        ));
    }

    #[test]
    fn allow_default_with_more_tokens_is_not_rewritten() {
        let out = splice_deny_default(
            "(allow defaults)\n(allow default (with report))\n",
            Some(""),
        )
        .unwrap();
        assert_eq!(out, "(allow defaults)\n(allow default (with report))\n");
    }
}
