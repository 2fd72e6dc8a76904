//! Network operations: TCP connect and bind, Unix and abstract sockets, and `via-proxy`
//! (a minimal HTTP proxy client, so no curl is needed inside the sandbox).

use super::*;

// ---------------------------------------------------------------------------
// via-proxy: a minimal HTTP proxy client (no curl inside the sandbox)
// ---------------------------------------------------------------------------

pub(crate) fn op_via_proxy(op: &str, var: &str, method: &str, target: &str, payload: &str) -> Outcome {
    use std::io::Read;
    let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
        return fail_msg(op, "env", format!("{var} is not set"));
    };
    let Some((credentials, authority)) = split_proxy_url(&url) else {
        return fail_msg(op, "env", format!("{var}={url:?} is not http://[user:pass@]host:port"));
    };
    let mut stream = match std::net::TcpStream::connect(authority) {
        Ok(s) => s,
        Err(e) => return Outcome::fail_at(op, "connect", io_errno(&e)),
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", host_of(target));
    if let Some(credentials) = credentials {
        request.push_str(&format!("Proxy-Authorization: Basic {}\r\n", base64_encode(credentials.as_bytes())));
    }
    request.push_str("\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Outcome::fail_at(op, "write", io_errno(&e));
    }
    // The head ends at the first blank line; whatever follows belongs to the reply.
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return fail_msg(op, "read", format!("the proxy closed before a full head: {:?}", String::from_utf8_lossy(&received))),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Outcome::fail_at(op, "read", io_errno(&e)),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let status: Option<u16> = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    let mut reply = received[head_end..].to_vec();
    if method == "CONNECT" && status == Some(200) {
        if let Err(e) = stream.write_all(format!("{payload}\n").as_bytes()) {
            return Outcome::fail_at(op, "write", io_errno(&e));
        }
    }
    // Read until the other side closes (the suite's servers close after answering).
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) => return Outcome::fail_at(op, "read", io_errno(&e)),
        }
    }
    Outcome::ok(op).with("status", status).with("head", head).with("reply", String::from_utf8_lossy(&reply).into_owned())
}

/// `http://[user:pass@]host:port[/]` into the credentials and `host:port`.
pub(crate) fn split_proxy_url(url: &str) -> Option<(Option<&str>, &str)> {
    let rest = url.strip_prefix("http://")?.trim_end_matches('/');
    Some(match rest.rsplit_once('@') {
        Some((credentials, authority)) => (Some(credentials), authority),
        None => (None, rest),
    })
}

/// The `host:port` a request target names (a CONNECT authority or an http:// URL).
pub(crate) fn host_of(target: &str) -> &str {
    let rest = target.strip_prefix("http://").unwrap_or(target);
    rest.split('/').next().unwrap_or(rest)
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}


/// socket(2) + bind(2) (no listen) for a TCP address; Err carries (step, errno).
pub(crate) fn tcp_bind(addr: std::net::SocketAddr) -> Result<(), (&'static str, i32)> {
    use std::net::SocketAddr;
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let fd =
        check(unsafe { libc::socket(family, libc::SOCK_STREAM, 0) }).map_err(|e| ("socket", e))?;
    let res = match addr {
        SocketAddr::V4(a) => {
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            check(unsafe {
                libc::bind(
                    fd,
                    &sin as *const libc::sockaddr_in as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            })
        }
        SocketAddr::V6(a) => {
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            check(unsafe {
                libc::bind(
                    fd,
                    &sin6 as *const libc::sockaddr_in6 as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            })
        }
    };
    close_raw(fd);
    res.map(drop).map_err(|e| ("bind", e))
}

/// AF_UNIX stream connect to `addr`; step "socket" or "connect".
pub(crate) fn unix_connect(op: &str, addr: &UnixAddr) -> Outcome {
    let fd = match unix_socket(op) {
        Ok(fd) => fd,
        Err(o) => return o,
    };
    match connect(std::os::fd::AsRawFd::as_raw_fd(&fd), addr) {
        Ok(()) => Outcome::ok(op),
        Err(e) => Outcome::fail_at(op, "connect", e as i32),
    }
}

#[cfg(target_os = "linux")]
pub(crate) fn op_connect_abstract(op: &str, name: &str) -> Result<Done, Usage> {
    let addr = UnixAddr::new_abstract(name.as_bytes()).map_err(|e| format!("bad NAME: {}", e))?;
    Ok(Done::Report(unix_connect(op, &addr)))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn op_connect_abstract(op: &str, _name: &str) -> Result<Done, Usage> {
    unsupported(op)
}
