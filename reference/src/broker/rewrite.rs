//! The substring rewrite: every issued nonce inside a byte string is replaced in place by
//! its secret, in one left-to-right pass.
//!
//! The scan looks for the five bytes `nono_` with `memchr`'s SIMD substring search, so text
//! without nonces moves at memory speed, then checks each hit with [`nonce::match_at`]. A
//! hit that resolves is replaced and scanning resumes right after the original 69 bytes: the
//! substituted secret is never scanned, so a secret that itself contains a nonce passes
//! through literally and the output is at most the input plus the secrets it names. A
//! candidate that is malformed or unknown is left as it is, byte for byte.
//!
//! Every byte the scan splits at is ASCII (the `n` of the prefix, the byte after the 64th
//! digit), and no byte of a multi-byte UTF-8 sequence is ASCII, so a character is never cut:
//! valid UTF-8 in, with UTF-8 secrets, gives valid UTF-8 out.

use super::nonce::{self, Nonce, PREFIX};
use memchr::memmem::Finder;
use std::borrow::Cow;
use std::sync::OnceLock;

/// The prefix searcher, built once (it picks its SIMD strategy at construction).
fn prefix_finder() -> &'static Finder<'static> {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| Finder::new(PREFIX))
}

/// `input` with every nonce that `resolve` knows replaced by its value. Borrowed when
/// nothing was replaced (the common case costs no copy).
///
/// The output is allocated once at its final size: secrets are copied exactly once and no
/// reallocation leaves a copy of one in freed memory.
pub(crate) fn rewrite_with<'i, 's>(
    input: &'i [u8],
    resolve: impl Fn(&Nonce) -> Option<&'s [u8]>,
) -> Cow<'i, [u8]> {
    let finder = prefix_finder();
    let mut hits: Vec<(usize, &'s [u8])> = Vec::new();
    let mut pos = 0;
    while let Some(offset) = finder.find(&input[pos..]) {
        let at = pos + offset;
        match nonce::match_at(input, at).and_then(|n| resolve(&n)) {
            Some(secret) => {
                hits.push((at, secret));
                pos = at + nonce::LEN;
            }
            // A later prefix cannot begin inside this one (`nono_` has no overlap with
            // itself), nor inside a hex run; resuming after the prefix loses nothing.
            None => pos = at + PREFIX.len(),
        }
    }
    if hits.is_empty() {
        return Cow::Borrowed(input);
    }
    let size =
        input.len() - hits.len() * nonce::LEN + hits.iter().map(|(_, s)| s.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    let mut copied = 0;
    for (at, secret) in hits {
        out.extend_from_slice(&input[copied..at]);
        out.extend_from_slice(secret);
        copied = at + nonce::LEN;
    }
    out.extend_from_slice(&input[copied..]);
    debug_assert_eq!(out.len(), size);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn nonce_text(fill: u8) -> String {
        format!("nono_{}", format!("{fill:02x}").repeat(32))
    }

    fn run(input: &str, known: &[(u8, &'static str)]) -> String {
        let map: HashMap<Nonce, &'static [u8]> = known
            .iter()
            .map(|&(fill, value)| {
                (
                    Nonce::parse(nonce_text(fill).as_bytes()).unwrap(),
                    value.as_bytes(),
                )
            })
            .collect();
        String::from_utf8(rewrite_with(input.as_bytes(), |n| map.get(n).copied()).into_owned())
            .unwrap()
    }

    #[test]
    fn replaces_in_place_and_leaves_the_rest() {
        let a = nonce_text(0xaa);
        assert_eq!(
            run(&format!("X-Token: {a}!"), &[(0xaa, "s3")]),
            "X-Token: s3!"
        );
        assert_eq!(run(&format!("{a}{a}"), &[(0xaa, "s3")]), "s3s3");
        assert_eq!(run(&format!("no{a}"), &[(0xaa, "s3")]), "nos3");
    }

    #[test]
    fn unknown_and_malformed_stay_literal() {
        let b = nonce_text(0xbb);
        assert_eq!(run(&b, &[(0xaa, "s3")]), b);
        let long = format!("{}0", nonce_text(0xaa));
        assert_eq!(run(&long, &[(0xaa, "s3")]), long);
    }

    #[test]
    fn substituted_text_is_not_rescanned() {
        let a = nonce_text(0xaa);
        let b = nonce_text(0xbb);
        let value: &'static str = Box::leak(b.clone().into_boxed_str());
        assert_eq!(run(&a, &[(0xaa, value), (0xbb, "inner")]), b);
    }

    #[test]
    fn nothing_to_replace_borrows() {
        let input = b"nono_ nothing here nono_12";
        assert!(matches!(
            rewrite_with(input, |_| Some(b"x")),
            Cow::Borrowed(_)
        ));
    }
}
