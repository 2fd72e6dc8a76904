//! [`Broker`]: the session's secrets behind their nonces, and the rewrite of a mediated
//! command's arguments and environment.

use super::nonce::{self, Nonce, RandomSource};
use super::rewrite::rewrite_with;
use super::secret::Secret;
use super::BrokerError;
use crate::env;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The secrets of one session, each reachable only through the nonce it was issued under.
///
/// A broker lives exactly as long as its session: dropping it (or calling
/// [`Broker::end_session`]) overwrites every secret with zeros, after which none of its
/// nonces resolve anywhere. Nonces of another broker are unknown here.
///
/// `Debug` prints how many secrets are held and nothing else.
pub struct Broker {
    entries: HashMap<Nonce, Secret>,
    random: RandomSource,
}

impl Default for Broker {
    fn default() -> Self {
        Broker::new()
    }
}

impl Broker {
    /// An empty broker drawing nonces from the operating system's secure random source.
    pub fn new() -> Broker {
        Broker::with_random_source(nonce::os_random)
    }

    /// An empty broker drawing nonces from `random`. Tests use this to check that a failing
    /// or repeating source makes [`Broker::issue`] fail closed.
    pub fn with_random_source(random: RandomSource) -> Broker {
        Broker {
            entries: HashMap::new(),
            random,
        }
    }

    /// Stores `value` behind a fresh nonce and returns the nonce, the only thing the agent
    /// may see. The value is taken over (its buffer is wiped) and kept until the session
    /// ends.
    ///
    /// Fails, storing nothing, when the random source fails or hands out a nonce that is
    /// already issued (with 256 random bits that only happens when the source is broken).
    pub fn issue(&mut self, value: impl Into<Vec<u8>>) -> Result<Nonce, BrokerError> {
        let secret = Secret::new(value.into());
        let nonce = Nonce::generate_from(self.random)?;
        if self.entries.contains_key(&nonce) {
            return Err(BrokerError::RepeatedNonce);
        }
        self.entries.insert(nonce, secret);
        Ok(nonce)
    }

    /// The secret behind `text` when `text` is, as a whole, a nonce issued by this broker.
    /// Malformed and unknown text both give None: callers must not tell them apart to the
    /// agent.
    pub fn resolve(&self, text: &[u8]) -> Option<&[u8]> {
        Nonce::parse(text).and_then(|n| self.lookup(&n))
    }

    fn lookup(&self, nonce: &Nonce) -> Option<&[u8]> {
        self.entries.get(nonce).map(Secret::bytes)
    }

    /// How many secrets the session holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no secret has been issued (or the session has ended).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ends the session: every secret is overwritten and forgotten, and no nonce issued so
    /// far resolves any more. Dropping the broker does the same.
    pub fn end_session(&mut self) {
        self.entries.clear();
    }

    /// `input` with every nonce this broker issued replaced in place by its secret (see the
    /// [module docs](super) for the exact rules). Borrowed when nothing was replaced.
    pub fn rewrite<'i>(&self, input: &'i [u8]) -> Cow<'i, [u8]> {
        if self.entries.is_empty() {
            return Cow::Borrowed(input);
        }
        rewrite_with(input, |n| self.lookup(n))
    }

    /// [`Broker::rewrite`] for one argument or value, which need not be UTF-8.
    pub fn rewrite_os(&self, input: &OsStr) -> OsString {
        match self.rewrite(input.as_bytes()) {
            Cow::Borrowed(_) => input.to_owned(),
            Cow::Owned(bytes) => OsString::from_vec(bytes),
        }
    }

    /// A mediated command's arguments with their nonces replaced: same count, same order.
    pub fn rewrite_args<A: AsRef<OsStr>>(&self, args: &[A]) -> Vec<OsString> {
        args.iter().map(|a| self.rewrite_os(a.as_ref())).collect()
    }

    /// A mediated command's environment with its nonces replaced, in the original order.
    ///
    /// A variable whose name is in `blocked` (the profile's `mediation.env.block`, plus any
    /// names the mediation server sets itself) or is dangerous by [`env::is_dangerous_bytes`]
    /// is dropped, whatever its value: a nonce is never promoted into it. Names are compared
    /// byte for byte and are never rewritten. Every other variable is kept, with its value
    /// rewritten; an unknown nonce stays in the value literally.
    pub fn rewrite_env<I, K, V, B>(&self, vars: I, blocked: &[B]) -> Vec<(OsString, OsString)>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
        B: AsRef<OsStr>,
    {
        vars.into_iter()
            .filter(|(name, _)| {
                let name = name.as_ref();
                !env::is_dangerous_bytes(name.as_bytes())
                    && !blocked.iter().any(|b| b.as_ref() == name)
            })
            .map(|(name, value)| (name.as_ref().to_owned(), self.rewrite_os(value.as_ref())))
            .collect()
    }
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("secrets", &self.entries.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_then_resolve_exactly() {
        let mut broker = Broker::new();
        let a = broker.issue("alpha").unwrap();
        let b = broker.issue(b"beta".to_vec()).unwrap();
        assert_ne!(a, b);
        assert_eq!(broker.resolve(a.text().as_bytes()), Some(&b"alpha"[..]));
        assert_eq!(broker.resolve(b.text().as_bytes()), Some(&b"beta"[..]));
        assert_eq!(broker.resolve(format!("{a} ").as_bytes()), None);
        assert_eq!(
            broker.resolve(Nonce::generate().unwrap().text().as_bytes()),
            None
        );
        assert_eq!(broker.len(), 2);
    }

    #[test]
    fn ending_the_session_forgets_everything() {
        let mut broker = Broker::new();
        let a = broker.issue("alpha").unwrap();
        broker.end_session();
        assert!(broker.is_empty());
        assert_eq!(broker.resolve(a.text().as_bytes()), None);
        assert_eq!(broker.rewrite(a.text().as_bytes()), a.text().as_bytes());
    }

    #[test]
    fn a_repeating_source_fails_closed() {
        let mut broker = Broker::with_random_source(|buf| {
            buf.fill(7);
            Ok(())
        });
        broker.issue("first").unwrap();
        assert!(matches!(
            broker.issue("second"),
            Err(BrokerError::RepeatedNonce)
        ));
        assert_eq!(broker.len(), 1);
    }

    #[test]
    fn env_drops_blocked_and_dangerous_names_before_rewriting() {
        let mut broker = Broker::new();
        let a = broker.issue("alpha").unwrap().text();
        let vars = vec![
            ("TOKEN", a.as_str()),
            ("LD_PRELOAD", a.as_str()),
            ("SECRET_ENV", a.as_str()),
        ];
        let out = broker.rewrite_env(vars, &["SECRET_ENV"]);
        assert_eq!(
            out,
            vec![(OsString::from("TOKEN"), OsString::from("alpha"))]
        );
    }

    #[test]
    fn debug_prints_no_secret() {
        let mut broker = Broker::new();
        let nonce = broker.issue("hunter2").unwrap();
        let debug = format!("{broker:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains(&nonce.text()),
            "{debug}"
        );
    }
}
