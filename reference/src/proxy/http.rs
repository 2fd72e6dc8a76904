//! The little HTTP/1.1 the proxy speaks: one request head from the client, a status line
//! back, and for plain HTTP the head rewritten for the origin server.
//!
//! Two request forms are served (RFC 9112 section 3.2):
//! * `CONNECT host:port HTTP/1.1` opens a tunnel (how clients reach HTTPS servers);
//! * `METHOD http://host[:port]/path HTTP/1.1` (absolute form) is forwarded to the host
//!   with the path in origin form, as nono 0.81 does.
//!
//! Anything else is a bad request.

use std::io::{self, Read, Write};

/// Largest request head accepted, as in nono (64 KiB).
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Header lines in order, names as sent.
    pub headers: Vec<(String, String)>,
}

/// Where a request wants to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A tunnel to `host:port`.
    Tunnel { host: String, port: u16 },
    /// A plain-HTTP request to `host:port`, to be sent with `path` as its target.
    Forward { host: String, port: u16, path: String },
}

/// Reads a request head: returns it with the bytes that followed it (the start of a body).
/// `Ok(None)` when the client closed before sending anything.
pub fn read_head(stream: &mut impl Read) -> Result<Option<(Head, Vec<u8>)>, Status> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).map_err(|_| Status::BAD_REQUEST)?;
        if n == 0 {
            return if buf.is_empty() { Ok(None) } else { Err(Status::BAD_REQUEST) };
        }
        // Search only where the terminator could newly appear.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = memchr::memmem::find(&buf[from..], b"\r\n\r\n").map(|i| from + i) {
            if end > MAX_HEAD {
                return Err(Status::HEAD_TOO_LARGE);
            }
            let rest = buf[end + 4..].to_vec();
            let head = parse_head(&buf[..end]).ok_or(Status::BAD_REQUEST)?;
            return Ok(Some((head, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Err(Status::HEAD_TOO_LARGE);
        }
    }
}

fn parse_head(bytes: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let headers = lines
        .map(|line| line.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect::<Option<Vec<_>>>()?;
    Some(Head { method: method.into(), target: target.into(), version: version.into(), headers })
}

impl Head {
    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Where the request goes, or why it cannot be served.
    pub fn destination(&self) -> Result<Destination, Status> {
        if self.method == "CONNECT" {
            let (host, port) = split_authority(&self.target, None).ok_or(Status::BAD_REQUEST)?;
            return Ok(Destination::Tunnel { host, port });
        }
        let rest = self.target.strip_prefix("http://").ok_or(Status::BAD_REQUEST)?;
        let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(Status::BAD_REQUEST);
        }
        let (host, port) = split_authority(authority, Some(80)).ok_or(Status::BAD_REQUEST)?;
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Ok(Destination::Forward { host, port, path })
    }

    /// The head to send to the origin server for a plain-HTTP request: origin-form target,
    /// no proxy headers, and `Connection: close` so that the connection carries this one
    /// exchange (a reused connection must not reach a second host unchecked).
    pub fn for_origin(&self, path: &str) -> Vec<u8> {
        let hop_by_hop = ["proxy-authorization", "proxy-connection", "connection", "keep-alive"];
        let mut out = format!("{} {path} {}\r\n", self.method, self.version);
        for (name, value) in &self.headers {
            if !hop_by_hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

/// `host:port`, `[v6]:port`, or (with a default port) `host` alone; brackets removed.
fn split_authority(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None => default_port?,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// The session token a `Proxy-Authorization` header carries: the password of `Basic`
/// credentials (clients send the `nono:<token>@` of the proxy URL this way) or a `Bearer`
/// token. None when the header is malformed.
pub fn presented_token(header: &str) -> Option<String> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(value.trim().to_string());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(value.trim())?).ok()?;
    decoded.split_once(':').map(|(_, password)| password.to_string())
}

/// Standard base64 (with or without padding).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        if group.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in group.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..group.len()]);
    }
    Some(out)
}

/// An answer the proxy gives itself (never a relayed one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
}

impl Status {
    pub const ESTABLISHED: Status = Status { code: 200, reason: "Connection Established" };
    pub const BAD_REQUEST: Status = Status { code: 400, reason: "Bad Request" };
    pub const FORBIDDEN: Status = Status { code: 403, reason: "Forbidden" };
    pub const AUTH_REQUIRED: Status = Status { code: 407, reason: "Proxy Authentication Required" };
    pub const HEAD_TOO_LARGE: Status = Status { code: 431, reason: "Request Header Fields Too Large" };
    pub const BAD_GATEWAY: Status = Status { code: 502, reason: "Bad Gateway" };
    pub const BUSY: Status = Status { code: 503, reason: "Service Unavailable" };

    /// Writes the status; every status but 200 carries `message` as a text body and closes.
    pub fn send(self, stream: &mut impl Write, message: &str) -> io::Result<()> {
        let text = if self.code == 200 {
            format!("HTTP/1.1 200 {}\r\n\r\n", self.reason)
        } else {
            let body = format!("nono-ref proxy: {message}\n");
            format!(
                "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                self.code,
                self.reason,
                body.len()
            )
        };
        stream.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        read_head(&mut text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn connect_and_absolute_form_targets() {
        let connect = head("CONNECT api.github.com:443 HTTP/1.1\r\nHost: api.github.com:443\r\n\r\n");
        assert_eq!(connect.destination(), Ok(Destination::Tunnel { host: "api.github.com".into(), port: 443 }));
        let v6 = head("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n");
        assert_eq!(v6.destination(), Ok(Destination::Tunnel { host: "::1".into(), port: 8443 }));
        let get = head("GET http://localhost:8080/a?b HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert_eq!(get.destination(), Ok(Destination::Forward { host: "localhost".into(), port: 8080, path: "/a?b".into() }));
        let bare = head("GET http://example.com HTTP/1.1\r\n\r\n");
        assert_eq!(bare.destination(), Ok(Destination::Forward { host: "example.com".into(), port: 80, path: "/".into() }));
    }

    #[test]
    fn malformed_requests_are_bad_requests() {
        for bad in ["CONNECT host HTTP/1.1", "CONNECT host:0 HTTP/1.1", "GET /origin-form HTTP/1.1", "GET https://x/ HTTP/1.1", "GET http://u@x/ HTTP/1.1"] {
            assert_eq!(head(&format!("{bad}\r\n\r\n")).destination(), Err(Status::BAD_REQUEST), "{bad}");
        }
        assert!(read_head(&mut "GARBAGE\r\n\r\n".as_bytes()).is_err());
        assert!(read_head(&mut "GET http://x/ HTTP/1.1\r\nno-colon\r\n\r\n".as_bytes()).is_err());
    }

    #[test]
    fn the_body_start_is_kept_and_oversized_heads_refused() {
        let (_, rest) = read_head(&mut "POST http://x/ HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody".as_bytes()).unwrap().unwrap();
        assert_eq!(rest, b"body");
        let huge = format!("GET http://x/ HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(read_head(&mut huge.as_bytes()).unwrap_err(), Status::HEAD_TOO_LARGE);
    }

    #[test]
    fn origin_head_drops_proxy_headers() {
        let h = head("GET http://x:81/p HTTP/1.1\r\nHost: x:81\r\nProxy-Authorization: Basic Zm9v\r\nConnection: keep-alive\r\n\r\n");
        let text = String::from_utf8(h.for_origin("/p")).unwrap();
        assert_eq!(text, "GET /p HTTP/1.1\r\nHost: x:81\r\nConnection: close\r\n\r\n");
    }

    #[test]
    fn tokens_from_basic_and_bearer() {
        // "nono:secret" and "nono:se" (one and two padding characters).
        assert_eq!(presented_token("Basic bm9ubzpzZWNyZXQ=").as_deref(), Some("secret"));
        assert_eq!(presented_token("basic bm9ubzpzZQ==").as_deref(), Some("se"));
        assert_eq!(presented_token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(presented_token("Basic !!!"), None);
        assert_eq!(presented_token("Digest x"), None);
    }
}
