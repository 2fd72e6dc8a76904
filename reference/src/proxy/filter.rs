//! Which hosts the proxy lets a program reach.
//!
//! An allowlist entry is a host name (`api.github.com`), an IP literal (`127.0.0.1`,
//! `[::1]`), or a wildcard `*.suffix` that matches any name ending in `.suffix` (one or more
//! labels deep) but never `suffix` itself. Matching ignores case. As in nono (core notes
//! CLI-24), some hosts stay refused whatever the allowlist says: the cloud metadata names
//! and any name that resolves to a link-local address (`169.254.0.0/16`, `fe80::/10`).
//!
//! Entries are checked when the allowlist is built, and anything the proxy could not
//! honour exactly is an error rather than a wider rule:
//! * a `:port` suffix is dropped with a warning (nono 0.81 filters host names only);
//! * a URL is reduced to its host, but a URL with a path (nono's endpoint rules, which need
//!   TLS interception) is refused, since allowing the whole host would be wider;
//! * `*` alone, `*` inside a name, and empty entries are refused.

use std::fmt;
use std::net::IpAddr;

/// Names refused even when allowlisted: they serve cloud credentials to whoever asks.
const ALWAYS_DENIED: &[&str] = &["169.254.169.254", "metadata.google.internal", "metadata.azure.internal"];

/// An allowlist entry the proxy cannot honour as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "allowed domain {:?}: {}", self.entry, self.reason)
    }
}

/// Why a request was refused; the text goes into the 403 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The allowlist in matching form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// Lower-case names and IP literals (without brackets) that match exactly.
    exact: Vec<String>,
    /// Lower-case suffixes with their leading dot (`.github.com` for `*.github.com`).
    suffixes: Vec<String>,
}

impl HostFilter {
    /// Builds the filter; returns it with the warnings for dropped `:port` suffixes.
    pub fn new(entries: &[String]) -> Result<(HostFilter, Vec<String>), EntryError> {
        let mut filter = HostFilter::default();
        let mut warnings = vec![];
        for entry in entries {
            let (host, warning) = normalize(entry)?;
            warnings.extend(warning);
            match host.strip_prefix('*') {
                Some(suffix) => push_new(&mut filter.suffixes, suffix.to_string()),
                None => push_new(&mut filter.exact, host),
            }
        }
        Ok((filter, warnings))
    }

    /// True when nothing is allowed (the proxy would refuse every request).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.suffixes.is_empty()
    }

    /// Checks a requested host name (brackets already removed from IPv6 literals).
    pub fn check_name(&self, host: &str) -> Result<(), Refusal> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if ALWAYS_DENIED.contains(&host.as_str()) {
            return Err(Refusal(format!("host {host} is always denied (cloud metadata)")));
        }
        let allowed = self.exact.contains(&host)
            || self.suffixes.iter().any(|suffix| host.len() > suffix.len() && host.ends_with(suffix.as_str()));
        if allowed {
            Ok(())
        } else {
            Err(Refusal(format!("host {host} is not in the allowlist")))
        }
    }

    /// Checks the addresses an allowed name resolved to.
    pub fn check_addresses(&self, host: &str, addresses: &[IpAddr]) -> Result<(), Refusal> {
        match addresses.iter().find(|ip| is_link_local(ip)) {
            Some(ip) => Err(Refusal(format!("host {host} resolves to the link-local address {ip} (cloud metadata)"))),
            None => Ok(()),
        }
    }
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_link_local(),
            None => (v6.segments()[0] & 0xffc0) == 0xfe80,
        },
    }
}

/// One entry in matching form (`*.suffix` kept with its star), and a warning if a port
/// was dropped.
fn normalize(entry: &str) -> Result<(String, Option<String>), EntryError> {
    let error = |reason: &str| EntryError { entry: entry.to_string(), reason: reason.to_string() };
    let mut host = entry.trim().to_ascii_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = host.strip_prefix(scheme) {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if !path.is_empty() && path != "/" {
                return Err(error(
                    "a URL with a path asks for endpoint filtering, which needs TLS interception; nono-ref does not implement it and will not allow the whole host instead",
                ));
            }
            host = authority.to_string();
        }
    }
    if host.contains('@') || host.contains('/') {
        return Err(error("not a host name (it contains '@' or '/')"));
    }
    let mut warning = None;
    if let Some((name, port)) = host.rsplit_once(':') {
        // `[::1]:443` and `host:443` carry a port; a bare IPv6 literal has colons but no port.
        let bracketed_or_plain = name.ends_with(']') || !name.contains(':');
        if bracketed_or_plain && port.parse::<u16>().is_ok() {
            warning = Some(format!("allowed domain {entry:?}: the port is ignored; the proxy filters host names only"));
            host = name.to_string();
        }
    }
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_string();
    if host.is_empty() {
        return Err(error("empty host name"));
    }
    if let Some(suffix) = host.strip_prefix("*.") {
        if suffix.is_empty() || suffix.contains('*') {
            return Err(error("a wildcard must be '*.' followed by a domain"));
        }
    } else if host.contains('*') {
        return Err(error("'*' is allowed only as a leading '*.' label; '*' alone would allow every host"));
    }
    Ok((host, warning))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn filter(entries: &[&str]) -> HostFilter {
        HostFilter::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap().0
    }

    #[rstest]
    #[case("api.github.com", "api.github.com", true)]
    #[case("API.GitHub.com", "api.github.com", true)]
    #[case("api.github.com", "API.GITHUB.COM.", true)]
    #[case("api.github.com", "github.com", false)]
    #[case("api.github.com", "evil-api.github.com", false)]
    #[case("*.github.com", "api.github.com", true)]
    #[case("*.github.com", "a.b.github.com", true)]
    #[case("*.github.com", "github.com", false)]
    #[case("*.github.com", "evilgithub.com", false)]
    #[case("localhost", "localhost", true)]
    #[case("localhost", "127.0.0.1", false)]
    #[case("[::1]", "::1", true)]
    #[case("https://example.com", "example.com", true)]
    #[case("https://example.com/", "example.com", true)]
    #[case("example.com:443", "example.com", true)]
    #[case("169.254.169.254", "169.254.169.254", false)]
    #[case("metadata.google.internal", "metadata.google.internal", false)]
    fn names(#[case] entry: &str, #[case] host: &str, #[case] allowed: bool) {
        assert_eq!(filter(&[entry]).check_name(host).is_ok(), allowed, "{entry} vs {host}");
    }

    #[rstest]
    #[case("*")]
    #[case("*example.com")]
    #[case("a.*.com")]
    #[case("")]
    #[case("https://github.com/org/**")]
    #[case("user@host")]
    fn refused_entries(#[case] entry: &str) {
        assert!(HostFilter::new(&[entry.to_string()]).is_err(), "{entry:?} must be refused");
    }

    #[test]
    fn a_port_is_dropped_with_a_warning() {
        let (f, warnings) = HostFilter::new(&["example.com:8443".to_string(), "[::1]:80".to_string()]).unwrap();
        assert_eq!(warnings.len(), 2);
        assert!(f.check_name("example.com").is_ok());
        assert!(f.check_name("::1").is_ok());
    }

    #[test]
    fn link_local_addresses_are_refused() {
        let f = filter(&["meta.example"]);
        assert!(f.check_addresses("meta.example", &["169.254.169.254".parse().unwrap()]).is_err());
        assert!(f.check_addresses("meta.example", &["fe80::1".parse().unwrap()]).is_err());
        assert!(f.check_addresses("meta.example", &["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]).is_ok());
    }
}
