//! The token broker: secrets captured by mediation reach the agent only as nonces, and the
//! real value is put back only where a later mediated command needs it.
//!
//! # The contract
//!
//! **Issue.** [`Broker::issue`] stores a secret (say, the output of `gh auth token`) and
//! returns a [`Nonce`]: `nono_` followed by exactly 64 lower-case hex digits spelling 32
//! bytes from the operating system's secure random source. The agent only ever sees the
//! nonce. If the random source fails, issuing fails; nothing weaker is used in its place.
//!
//! **Rewrite.** When the agent runs another mediated command, the mediation server passes
//! its arguments through [`Broker::rewrite_args`] and its environment through
//! [`Broker::rewrite_env`] before spawning it. In each argument and each value, every
//! well-formed nonce the broker issued is replaced in place, wherever it sits:
//!
//! ```text
//! ["curl", "-H", "X-Token: nono_3f…9a", "https://example/"]
//!              becomes
//! ["curl", "-H", "X-Token: ghp_realtoken", "https://example/"]
//! ```
//!
//! In code:
//!
//! ```
//! use nono_reference::broker::Broker;
//!
//! let mut broker = Broker::new();
//! let nonce = broker.issue("ghp_realtoken")?; // the agent is shown `nonce` only
//! let args = broker.rewrite_args(&["-H".to_string(), format!("X-Token: {nonce}")]);
//! assert_eq!(args[1], "X-Token: ghp_realtoken");
//! let env = broker.rewrite_env([("GH_TOKEN", nonce.text()), ("LD_PRELOAD", nonce.text())], &["NPM_TOKEN"]);
//! assert_eq!(env.len(), 1); // LD_PRELOAD is dropped, never given the secret
//! assert_eq!(env[0].1, "ghp_realtoken");
//! # Ok::<(), nono_reference::broker::BrokerError>(())
//! ```
//!
//! The exact rules, each pinned by vectors in `fixtures/nonce/`:
//!
//! * several nonces in one string are all replaced, also when they touch (`nono_…nono_…`);
//! * a well-formed nonce the broker never issued stays literally, and nothing else about
//!   the result differs from the issued case: no error, nothing dropped. The rewrite is not
//!   an oracle for probing which nonces exist;
//! * text that is not well-formed is never touched: upper-case digits, a prefix other than
//!   `nono_`, fewer than 64 digits, and **more than 64**: a nonce must not be followed by
//!   another lower-case hex digit. The broker never issues such text, so it is not cut at 64
//!   on a guess (see [`nonce`]). Any other byte may precede or follow a nonce;
//! * substituted text is not scanned again: scanning resumes after the original 69 bytes,
//!   so a secret that happens to contain a nonce reaches the command with that nonce
//!   literal, and the output is bounded by the input plus the secrets it names;
//! * the scan works on bytes: arguments and values need not be UTF-8, every byte around a
//!   nonce is kept, and because every split point is an ASCII byte no UTF-8 character is
//!   ever cut;
//! * an empty string, or one without nonces, passes through unchanged, and the number and
//!   order of arguments and variables never change except for dropped variables below.
//!
//! **Environment.** A variable whose name is blocked (the profile's `mediation.env.block`,
//! passed in by the server) or dangerous ([`crate::env::is_dangerous_bytes`]: loader and
//! interpreter hooks such as `LD_PRELOAD`, `BASH_ENV`, `NODE_OPTIONS`) is dropped from the
//! mediated command's environment whatever its value, so a secret is never promoted into a
//! variable that could run code or that the profile forbids. Names are compared byte for
//! byte and are never rewritten.
//!
//! **Expiry.** Secrets live in memory only, for the session: dropping the [`Broker`] or
//! calling [`Broker::end_session`] overwrites each one with zeros, and its nonces stop
//! resolving. Nonces from another session are simply unknown.
//!
//! **No leaks.** Nothing the broker prints contains a secret: `Debug` of a [`Broker`] shows
//! a count, `Debug` of a [`Nonce`] its first four digits, errors say what failed and never
//! carry values. The rewritten arguments and environment hold secrets by design; they are
//! for the mediated command's `exec` only and the server drops them once it has spawned it.

pub mod nonce;
mod rewrite;
mod secret;
mod store;

pub use nonce::{Nonce, RandomSource};
pub use store::Broker;

use std::fmt;

/// Why a nonce could not be issued. No variant ever carries a secret value.
#[derive(Debug)]
pub enum BrokerError {
    /// The operating system's secure random source failed. Nothing was issued, and no
    /// weaker source was tried.
    Randomness(std::io::Error),
    /// The random source produced a nonce that is already issued: it is broken (256 random
    /// bits do not repeat), so nothing was issued.
    RepeatedNonce,
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerError::Randomness(e) => write!(
                f,
                "cannot issue a nonce: the system's secure random source failed ({e}); refusing to use a weaker one"
            ),
            BrokerError::RepeatedNonce => write!(
                f,
                "cannot issue a nonce: the random source repeated an issued nonce, so it is not trustworthy"
            ),
        }
    }
}

impl std::error::Error for BrokerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BrokerError::Randomness(e) => Some(e),
            BrokerError::RepeatedNonce => None,
        }
    }
}
