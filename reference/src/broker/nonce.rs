//! The nonce format: `nono_` followed by exactly 64 lower-case hex digits (69 ASCII bytes),
//! spelling 32 bytes drawn from the operating system's secure random source.
//!
//! Recognising a nonce inside a longer string (`match_at`) is deliberately strict, so that
//! noisy text cannot trigger a lookup by accident and so that the edges of a match are never
//! a guess:
//!
//! * the prefix is exactly the five bytes `nono_` (not `NONO_`, not `nono-`);
//! * it is followed by a run of lower-case hex digits (`[0-9a-f]`) of exactly 64: a shorter
//!   run, any upper-case digit inside the 64, or a 65th lower-case hex digit right after
//!   them means "not a nonce" and the whole text stays literal;
//! * nothing is required of the byte before `nono_`: the prefix itself marks the start, so
//!   `X-Token:nono_…`, `key=nono_…` and two nonces written back to back all match.

use super::BrokerError;
use std::fmt;

/// The five ASCII bytes every nonce starts with.
pub const PREFIX: &[u8; 5] = b"nono_";

/// How many lower-case hex digits follow the prefix.
pub const HEX_DIGITS: usize = 64;

/// The length of a nonce's text in bytes: `nono_` plus 64 hex digits.
pub const LEN: usize = PREFIX.len() + HEX_DIGITS;

/// Random bytes behind one nonce (256 bits: guessing an issued nonce is hopeless).
const RAW_LEN: usize = HEX_DIGITS / 2;

/// Where random bytes come from. The default is the operating system's CSPRNG; tests inject
/// a failing or repeating source to check that issuing fails closed.
pub type RandomSource = fn(&mut [u8]) -> std::io::Result<()>;

/// The operating system's cryptographically secure generator (`getrandom(2)` on Linux,
/// `getentropy(3)` on macOS), through the `getrandom` crate. It blocks until the kernel's
/// pool is seeded and never substitutes a weaker source; its failure is our failure.
pub fn os_random(buf: &mut [u8]) -> std::io::Result<()> {
    getrandom::fill(buf).map_err(std::io::Error::from)
}

/// One nonce: the 32 random bytes its text spells.
///
/// `Display` writes the full text (`nono_` + 64 hex digits): that is what the agent is
/// given. `Debug` shows only the first four digits, so logs and panics that happen to print
/// a broker's state do not spread working nonces around.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce {
    raw: [u8; RAW_LEN],
}

impl Nonce {
    /// A fresh nonce from the operating system's secure random source. It is not issued:
    /// no broker knows it (the suite uses such nonces as "well-formed but unknown").
    pub fn generate() -> Result<Nonce, BrokerError> {
        Nonce::generate_from(os_random)
    }

    /// A fresh nonce from `source`. Any failure of the source is an error; there is no
    /// fallback.
    pub fn generate_from(source: RandomSource) -> Result<Nonce, BrokerError> {
        let mut raw = [0u8; RAW_LEN];
        source(&mut raw).map_err(BrokerError::Randomness)?;
        Ok(Nonce { raw })
    }

    /// The nonce whose text is exactly `text` (all 69 bytes, nothing around them), or None.
    pub fn parse(text: &[u8]) -> Option<Nonce> {
        if text.len() != LEN {
            return None;
        }
        match_at(text, 0)
    }

    /// The nonce's text: `nono_` followed by 64 lower-case hex digits.
    pub fn text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nono_")?;
        for byte in self.raw {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce(nono_{:02x}{:02x}…)", self.raw[0], self.raw[1])
    }
}

/// The value of a lower-case hex digit, or None for every other byte (upper-case included).
fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// True for the bytes that may extend a run of nonce digits.
pub(crate) fn is_lower_hex(byte: u8) -> bool {
    hex_value(byte).is_some()
}

/// The well-formed nonce whose prefix starts at `at` in `input`, or None.
///
/// Well-formed means: `nono_` at `at`, 64 lower-case hex digits after it, and the byte after
/// those (if any) is not a lower-case hex digit. A longer run is rejected rather than cut at
/// 64, because a value that ends in the middle of a hex run is not something the broker ever
/// issued, and substituting a secret on a guess is the wrong way to fail.
pub(crate) fn match_at(input: &[u8], at: usize) -> Option<Nonce> {
    let end = at.checked_add(LEN)?;
    let candidate = input.get(at..end)?;
    if &candidate[..PREFIX.len()] != PREFIX {
        return None;
    }
    if input.get(end).is_some_and(|&b| is_lower_hex(b)) {
        return None;
    }
    let digits = &candidate[PREFIX.len()..];
    let mut raw = [0u8; RAW_LEN];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        raw[i] = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
    }
    Some(Nonce { raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn text_round_trips() {
        let nonce = Nonce::generate().unwrap();
        let text = nonce.text();
        assert_eq!(text.len(), LEN);
        assert!(text.starts_with("nono_"));
        assert!(text[5..].bytes().all(is_lower_hex));
        assert_eq!(Nonce::parse(text.as_bytes()), Some(nonce));
    }

    #[test]
    fn parse_is_exact() {
        let text = format!("nono_{DIGITS}");
        assert!(Nonce::parse(text.as_bytes()).is_some());
        assert!(Nonce::parse(format!(" {text}").as_bytes()).is_none());
        assert!(Nonce::parse(format!("{text} ").as_bytes()).is_none());
        assert!(Nonce::parse(text.to_uppercase().as_bytes()).is_none());
        assert!(Nonce::parse(&text.as_bytes()[..LEN - 1]).is_none());
    }

    #[test]
    fn match_at_requires_the_run_to_end_after_64_digits() {
        let exact = format!("x nono_{DIGITS}g");
        assert!(match_at(exact.as_bytes(), 2).is_some());
        let longer = format!("nono_{DIGITS}0");
        assert!(match_at(longer.as_bytes(), 0).is_none());
        let upper_after = format!("nono_{DIGITS}A");
        assert!(match_at(upper_after.as_bytes(), 0).is_some());
        assert!(match_at(b"nono_", 0).is_none());
        assert!(match_at(b"", usize::MAX).is_none());
    }

    #[test]
    fn debug_shows_only_a_short_prefix() {
        let nonce = Nonce::generate().unwrap();
        let debug = format!("{nonce:?}");
        assert!(!debug.contains(&nonce.text()[..12]), "{debug}");
    }

    #[test]
    fn a_failing_source_fails_generation() {
        let failing: RandomSource = |_| Err(std::io::Error::other("no entropy"));
        assert!(matches!(
            Nonce::generate_from(failing),
            Err(BrokerError::Randomness(_))
        ));
    }
}
