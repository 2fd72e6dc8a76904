//! The proxy's threads: one accept loop, one thread per client (two while tunnelling).
//!
//! Plain threads on `std::net` keep the reference small and the behaviour easy to read:
//! the traffic of one sandboxed program is a handful of connections, so an async runtime
//! would buy nothing. The bounds that matter are explicit instead: at most
//! [`MAX_CONNECTIONS`] clients at once (more get 503), a deadline for the request head and
//! for reaching the target, and every open connection shut when the proxy stops.

use super::filter::HostFilter;
use super::http::{self, Destination, Head, Status};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients served at once; a program opening more is answered 503.
pub const MAX_CONNECTIONS: usize = 256;
/// Time a client has to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to reach one address of the target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by the accept loop, the connection threads and the handle.
pub struct Shared {
    pub filter: HostFilter,
    pub token: String,
    pub stopping: AtomicBool,
    active: AtomicUsize,
    next_id: AtomicU64,
    /// Every open socket (client and target sides), so that stopping can close them.
    live: Mutex<HashMap<u64, Vec<TcpStream>>>,
}

impl Shared {
    pub fn new(filter: HostFilter, token: String) -> Shared {
        Shared {
            filter,
            token,
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Closes every open connection (their threads then end on their own).
    pub fn close_all(&self) {
        let live = std::mem::take(&mut *self.live.lock().unwrap_or_else(|e| e.into_inner()));
        for stream in live.values().flatten() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn track(&self, id: u64, stream: &TcpStream) {
        if let Ok(clone) = stream.try_clone() {
            self.live.lock().unwrap_or_else(|e| e.into_inner()).entry(id).or_default().push(clone);
        }
    }
}

/// Releases a connection's slot and forgets its sockets, however the thread ends.
struct Slot<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.shared.live.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
        self.shared.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts clients until the proxy stops.
pub fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut client) = client else { continue };
        if shared.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            let _ = Status::BUSY.send(&mut client, "too many connections");
            continue;
        }
        let for_thread = Arc::clone(&shared);
        let spawned = std::thread::Builder::new().name("nono-ref-proxy".into()).spawn(move || {
            let shared = for_thread;
            let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
            let _slot = Slot { shared: &shared, id };
            shared.track(id, &client);
            serve(client, &shared, id);
        });
        if spawned.is_err() {
            // The closure (and its slot) never ran: give the slot back.
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One client: read its request, decide, then tunnel or forward.
fn serve(mut client: TcpStream, shared: &Shared, id: u64) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let (head, early) = match http::read_head(&mut client) {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(status) => {
            let _ = status.send(&mut client, "unreadable request");
            return;
        }
    };
    match open(&head, shared) {
        Ok((mut target, destination)) => {
            shared.track(id, &target);
            // Bytes the client sent right behind its head (a pipelined TLS hello, a request
            // body) belong to the target.
            let started = match &destination {
                Destination::Tunnel { .. } => Status::ESTABLISHED.send(&mut client, ""),
                Destination::Forward { path, .. } => target.write_all(&head.for_origin(path)),
            }
            .and_then(|()| target.write_all(&early));
            if started.is_ok() {
                let _ = client.set_read_timeout(None);
                relay(client, target);
            }
        }
        Err((status, message)) => {
            let _ = status.send(&mut client, &message);
        }
    }
}

/// Checks the request and connects to its target. Nothing is connected unless every check
/// passed.
fn open(head: &Head, shared: &Shared) -> Result<(TcpStream, Destination), (Status, String)> {
    // nono accepts requests without credentials (some clients never send them); a request
    // that presents a token must present this session's.
    if let Some(value) = head.header("Proxy-Authorization") {
        if http::presented_token(value).as_deref() != Some(shared.token.as_str()) {
            return Err((Status::AUTH_REQUIRED, "wrong proxy credentials".into()));
        }
    }
    let destination = head.destination().map_err(|status| (status, "only CONNECT and http:// requests are served".into()))?;
    let (host, port) = match &destination {
        Destination::Tunnel { host, port } | Destination::Forward { host, port, .. } => (host, *port),
    };
    shared.filter.check_name(host).map_err(|refusal| (Status::FORBIDDEN, refusal.to_string()))?;
    let addresses: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(found) => found.collect(),
        Err(e) => return Err((Status::BAD_GATEWAY, format!("cannot resolve {host}: {e}"))),
    };
    let ips: Vec<IpAddr> = addresses.iter().map(|a| a.ip()).collect();
    shared.filter.check_addresses(host, &ips).map_err(|refusal| (Status::FORBIDDEN, refusal.to_string()))?;
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
    for address in &addresses {
        match TcpStream::connect_timeout(address, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok((stream, destination)),
            Err(e) => last_error = e,
        }
    }
    Err((Status::BAD_GATEWAY, format!("cannot connect to {host}:{port}: {last_error}")))
}

/// Copies both ways until both sides are done; a side's end of data is passed on as a
/// half-close, so request/response protocols finish cleanly.
fn relay(client: TcpStream, target: TcpStream) {
    let (Ok(client_read), Ok(target_write)) = (client.try_clone(), target.try_clone()) else {
        return;
    };
    let upstream = std::thread::Builder::new().name("nono-ref-proxy-up".into()).spawn(move || copy(client_read, target_write));
    copy(target, client);
    if let Ok(thread) = upstream {
        let _ = thread.join();
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) if to.write_all(&buf[..n]).is_ok() => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            _ => {
                // A broken side ends the exchange both ways.
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
