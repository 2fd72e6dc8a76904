//! Network proxy mode: a filtering HTTP proxy on loopback, and the only way out.
//!
//! With `--allow-domain HOST` (or a profile's `network.allow_domain`) nono puts the program
//! in proxy-only networking (core notes CAP-19, CLI-03; seed 000, commit 15): the sandbox
//! allows TCP connect to the proxy's port and nothing else (Landlock ABI 4, LL-15; on macOS
//! `localhost:PORT`), and the proxy lets through only requests for allowed hosts
//! ([`filter`]). The program finds the proxy in the usual variables ([`ProxyHandle::env_vars`],
//! mediation notes PE-8).
//!
//! The proxy is started in two steps because `run` forks: [`bind`] opens the listener
//! (so the port is known for the ruleset and the environment) while the process is still
//! single-threaded, and [`Bound::serve`] starts the threads after the fork. Code that may
//! start threads at any time (the mediation server, for a command's `allowed_hosts`) calls
//! [`start`].
//!
//! ```no_run
//! let proxy = nono_reference::proxy::start(&["api.github.com".to_string()], 0).unwrap();
//! let env = proxy.env_vars(); // HTTPS_PROXY=http://nono:<token>@127.0.0.1:<port>, ...
//! // ... run the command with `env`, connect allowed to proxy.port only ...
//! drop(proxy); // stops accepting and closes every open connection
//! ```

pub mod filter;
mod http;
mod server;

use filter::HostFilter;
use server::Shared;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use server::MAX_CONNECTIONS;

/// Why the proxy could not be set up.
#[derive(Debug)]
pub enum ProxyError {
    /// An allowlist entry cannot be honoured as written.
    Entry(filter::EntryError),
    /// The allowlist is empty: proxy mode would refuse everything, which is `--block-net`.
    EmptyAllowlist,
    /// The listener could not be opened.
    Bind { port: u16, source: std::io::Error },
    /// No session token could be made.
    Token(String),
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Entry(e) => write!(f, "{e}"),
            ProxyError::EmptyAllowlist => f.write_str("proxy mode needs at least one allowed domain"),
            ProxyError::Bind { port, source } => write!(f, "cannot listen on 127.0.0.1:{port} for the network proxy: {source}"),
            ProxyError::Token(e) => write!(f, "cannot make a proxy token: {e}"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// A proxy whose listener is open but which serves nobody yet.
pub struct Bound {
    listener: TcpListener,
    shared: Arc<Shared>,
    port: u16,
    /// Allowlist entries whose `:port` was dropped.
    pub warnings: Vec<String>,
}

/// Opens the proxy's listener on `127.0.0.1:port` (`0`: any free port) for `allowlist`.
/// Starts no thread.
pub fn bind(allowlist: &[String], port: u16) -> Result<Bound, ProxyError> {
    let (filter, warnings) = HostFilter::new(allowlist).map_err(ProxyError::Entry)?;
    if filter.is_empty() {
        return Err(ProxyError::EmptyAllowlist);
    }
    let token = crate::mediation::session::random_hex(32).map_err(|e| ProxyError::Token(e.0))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|source| ProxyError::Bind { port, source })?;
    let port = listener.local_addr().map_err(|source| ProxyError::Bind { port, source })?.port();
    Ok(Bound { listener, shared: Arc::new(Shared::new(filter, token)), port, warnings })
}

/// [`bind`] then [`Bound::serve`]: for callers that may start threads now.
pub fn start(allowlist: &[String], port: u16) -> Result<ProxyHandle, ProxyError> {
    Ok(bind(allowlist, port)?.serve())
}

impl Bound {
    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The variables that point a program at this proxy (see [`ProxyHandle::env_vars`]).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        env_vars(self.port, &self.shared.token)
    }

    /// Starts serving on a thread. Call only where starting threads is safe (not before a
    /// `fork` that must stay single-threaded).
    pub fn serve(self) -> ProxyHandle {
        let shared = Arc::clone(&self.shared);
        let listener = self.listener;
        let _ = std::thread::Builder::new()
            .name("nono-ref-proxy-accept".into())
            .spawn(move || server::accept_loop(listener, shared));
        ProxyHandle { port: self.port, shared: self.shared }
    }
}

/// A running proxy. Dropping it stops the proxy and closes every open connection.
pub struct ProxyHandle {
    /// The port the proxy listens on (on 127.0.0.1).
    pub port: u16,
    shared: Arc<Shared>,
}

impl ProxyHandle {
    /// The session token clients present (`Proxy-Authorization`).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The variables that point a program at the proxy, as nono sets them:
    /// `HTTP_PROXY`, `HTTPS_PROXY`, `http_proxy`, `https_proxy` =
    /// `http://nono:<token>@127.0.0.1:<port>`, `NO_PROXY` and `no_proxy` =
    /// `localhost,127.0.0.1`, and `NONO_PROXY_TOKEN` = the token.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        env_vars(self.port, &self.shared.token)
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The accept loop blocks in accept(2): one connection wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)), std::time::Duration::from_secs(1));
        self.shared.close_all();
    }
}

/// The names `env_vars` sets; an inherited value of any of them is replaced.
pub const ENV_NAMES: &[&str] = &["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "NONO_PROXY_TOKEN"];

fn env_vars(port: u16, token: &str) -> Vec<(String, String)> {
    let url = format!("http://nono:{token}@127.0.0.1:{port}");
    let no_proxy = "localhost,127.0.0.1".to_string();
    let mut vars: Vec<(String, String)> = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]
        .iter()
        .map(|name| (name.to_string(), url.clone()))
        .collect();
    vars.push(("NO_PROXY".into(), no_proxy.clone()));
    vars.push(("no_proxy".into(), no_proxy));
    vars.push(("NONO_PROXY_TOKEN".into(), token.to_string()));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A loopback server that answers one line per connection with `echo:<line>`.
    fn echo_server() -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 1024];
                    let n = stream.read(&mut buf).unwrap_or(0);
                    let _ = stream.write_all(&[b"echo:", &buf[..n]].concat());
                });
            }
        });
        port
    }

    fn ask(proxy: u16, request: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy)).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap();
        let mut text = String::from_utf8_lossy(&answer[..n]).into_owned();
        if text.starts_with("HTTP/1.1 200") {
            stream.write_all(b"ping").unwrap();
            let n = stream.read(&mut answer).unwrap();
            text.push_str(&String::from_utf8_lossy(&answer[..n]));
        }
        text
    }

    #[test]
    fn allowed_hosts_are_tunnelled_others_refused() {
        let target = echo_server();
        let proxy = start(&["localhost".to_string()], 0).unwrap();
        let allowed = ask(proxy.port, &format!("CONNECT localhost:{target} HTTP/1.1\r\n\r\n"));
        assert_eq!(allowed, "HTTP/1.1 200 Connection Established\r\n\r\necho:ping");
        let refused = ask(proxy.port, &format!("CONNECT 127.0.0.1:{target} HTTP/1.1\r\n\r\n"));
        assert!(refused.starts_with("HTTP/1.1 403 "), "{refused}");
        let plain = ask(proxy.port, &format!("GET http://localhost:{target}/x HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        assert_eq!(plain, format!("echo:GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    }

    #[test]
    fn bytes_pipelined_behind_connect_reach_the_target() {
        let target = echo_server();
        let proxy = start(&["localhost".to_string()], 0).unwrap();
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port)).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        stream.write_all(format!("CONNECT localhost:{target} HTTP/1.1\r\n\r\nearly").as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "HTTP/1.1 200 Connection Established\r\n\r\necho:early");
    }

    #[test]
    fn credentials_if_presented_must_be_this_sessions() {
        let target = echo_server();
        let proxy = start(&["localhost".to_string()], 0).unwrap();
        let wrong = ask(proxy.port, &format!("CONNECT localhost:{target} HTTP/1.1\r\nProxy-Authorization: Bearer nope\r\n\r\n"));
        assert!(wrong.starts_with("HTTP/1.1 407 "), "{wrong}");
        let right = format!("CONNECT localhost:{target} HTTP/1.1\r\nProxy-Authorization: Bearer {}\r\n\r\n", proxy.token());
        assert!(ask(proxy.port, &right).starts_with("HTTP/1.1 200 "));
    }

    #[test]
    fn env_points_at_the_proxy() {
        let bound = bind(&["example.com".to_string()], 0).unwrap();
        let env = bound.env_vars();
        let url = format!("http://nono:{}@127.0.0.1:{}", bound.shared.token, bound.port());
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
            assert!(env.contains(&(name.to_string(), url.clone())), "{name}");
        }
        assert!(env.contains(&("NO_PROXY".into(), "localhost,127.0.0.1".into())));
        assert_eq!(env.len(), ENV_NAMES.len());
    }

    #[test]
    fn an_empty_allowlist_is_refused() {
        assert!(matches!(bind(&[], 0), Err(ProxyError::EmptyAllowlist)));
    }
}
