//! Network on macOS: blocked, open, proxy-only, refused port filters, and the Unix-socket
//! carve-out. Seatbelt treats `connect(2)` to a Unix socket as `network-outbound`, so a
//! blocked network also blocks Unix sockets unless a socket grant carves them out.
//!
//! Listeners are created by the test process, outside the sandbox; whether a connection
//! arrived is checked there too.

use super::{expect_allowed, expect_denied};
use crate::case::{case, Case, CaseResult, Ctx};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::net::UnixListener;
use std::path::Path;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "macos.net.block_net_denies_tcp_connect",
            "With --block-net a TCP connect to a listening loopback port is denied, while the port is reachable from outside",
            &["NET-TCP-001"],
            block_net_denies_connect,
        ),
        case(
            "macos.net.block_net_denies_tcp_bind",
            "With --block-net binding a TCP socket is denied, while it works without the flag",
            &["NET-TCP-002"],
            block_net_denies_bind,
        ),
        case(
            "macos.net.open_network_allows_tcp",
            "Without network flags TCP connect to and bind on loopback are allowed",
            &["NET-TCP-003"],
            open_network_allows_tcp,
        ),
        case(
            "macos.net.proxy_port_is_the_only_tcp_destination",
            "With --proxy-port P, TCP connect to localhost port P succeeds and to another listening port is denied",
            &["SB-APPLY-008", "SB-GEN-013"],
            proxy_port_only,
        ),
        case(
            "macos.net.connect_port_filter_refused",
            "--allow-connect-port is refused with exit 1 and the program does not run",
            &["SB-APPLY-007", "SB-GEN-014"],
            connect_port_refused,
        ),
        case(
            "macos.net.unix_socket_dir_carve_out_is_non_recursive",
            "With the network blocked, a socket directly inside a socket-directory grant is reachable, one deeper or under a plain filesystem grant is not",
            &["SB-APPLY-009", "SB-GEN-016", "SB-GEN-018"],
            unix_socket_dir_carve_out,
        ),
    ]
}

/// A loopback TCP listener that never blocks the test.
fn tcp_listener() -> Result<(TcpListener, u16), String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listening on loopback: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("set_nonblocking: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .port();
    Ok((listener, port))
}

/// True when a connection is waiting (the sandboxed program reached the listener).
fn tcp_connection_arrived(listener: &TcpListener) -> Result<bool, String> {
    match listener.accept() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(format!("accept: {e}")),
    }
}

fn unix_connection_arrived(listener: &UnixListener) -> Result<bool, String> {
    match listener.accept() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(format!("accept: {e}")),
    }
}

fn block_net_denies_connect(cx: &Ctx) -> CaseResult {
    let (listener, port) = tcp_listener()?;
    std::net::TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("the port is not reachable even from outside the sandbox: {e}"))?;
    crate::ensure!(
        tcp_connection_arrived(&listener)?,
        "the outside control connection did not arrive"
    );
    let r = cx
        .run()
        .arg("--block-net")
        .op(Op::connect_tcp(Ipv4Addr::LOCALHOST, port))?;
    expect_denied(&r, "TCP connect to loopback with --block-net")?;
    crate::ensure!(
        !tcp_connection_arrived(&listener)?,
        "a connection from the sandbox arrived despite --block-net"
    );
    Ok(())
}

fn block_net_denies_bind(cx: &Ctx) -> CaseResult {
    expect_allowed(
        &cx.run().op(Op::bind_tcp(Ipv4Addr::LOCALHOST, 0))?,
        "TCP bind without network flags (control)",
    )?;
    expect_denied(
        &cx.run()
            .arg("--block-net")
            .op(Op::bind_tcp(Ipv4Addr::LOCALHOST, 0))?,
        "TCP bind with --block-net",
    )
}

fn open_network_allows_tcp(cx: &Ctx) -> CaseResult {
    let (listener, port) = tcp_listener()?;
    expect_allowed(
        &cx.run().op(Op::connect_tcp(Ipv4Addr::LOCALHOST, port))?,
        "TCP connect to loopback",
    )?;
    crate::ensure!(
        tcp_connection_arrived(&listener)?,
        "connect reported ok but no connection arrived"
    );
    expect_allowed(
        &cx.run().op(Op::bind_tcp(Ipv4Addr::LOCALHOST, 0))?,
        "TCP bind on loopback",
    )
}

fn proxy_port_only(cx: &Ctx) -> CaseResult {
    let (proxy, proxy_port) = tcp_listener()?;
    let (other, other_port) = tcp_listener()?;
    let run = cx.run().arg("--proxy-port").arg(proxy_port.to_string());
    expect_allowed(
        &run.op(Op::connect_tcp(Ipv4Addr::LOCALHOST, proxy_port))?,
        "TCP connect to the proxy port",
    )?;
    crate::ensure!(
        tcp_connection_arrived(&proxy)?,
        "connect to the proxy reported ok but no connection arrived"
    );
    expect_denied(
        &run.op(Op::connect_tcp(Ipv4Addr::LOCALHOST, other_port))?,
        "TCP connect to another loopback port",
    )?;
    crate::ensure!(
        !tcp_connection_arrived(&other)?,
        "a connection to a non-proxy port arrived"
    );
    Ok(())
}

fn connect_port_refused(cx: &Ctx) -> CaseResult {
    let marker = cx.fx.path("ran");
    let out = cx
        .run()
        .arg("--allow-connect-port")
        .arg("443")
        .probe(Op::create(&marker));
    crate::ensure!(
        out.code == 1,
        "expected exit 1 for a port filter Seatbelt cannot enforce; {out}"
    );
    crate::ensure!(
        out.probe().is_err() && !marker.exists(),
        "the program ran although the policy was refused; {out}"
    );
    Ok(())
}

fn bind_unix(path: &Path) -> Result<UnixListener, String> {
    let listener =
        UnixListener::bind(path).map_err(|e| format!("listening on {}: {e}", path.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("set_nonblocking: {e}"))?;
    Ok(listener)
}

fn unix_socket_dir_carve_out(cx: &Ctx) -> CaseResult {
    // Short names: a Unix socket path has at most 103 bytes on macOS.
    let direct = bind_unix(&cx.fx.socket_path("u/s")?)?;
    let deep = bind_unix(&cx.fx.socket_path("u/d/s")?)?;
    let fs_only = bind_unix(&cx.fx.socket_path("o/s")?)?;
    let (carved, deeper, plain) = (cx.fx.path("u"), cx.fx.path("u/d"), cx.fx.path("o"));
    let run = cx
        .run()
        .arg("--block-net")
        .arg("--allow-unix-socket-dir")
        .arg(&carved)
        .allow(&plain);
    expect_allowed(
        &run.op(Op::connect_unix(carved.join("s")))?,
        "connect to a socket directly inside the carve-out",
    )?;
    crate::ensure!(
        unix_connection_arrived(&direct)?,
        "connect reported ok but no connection arrived"
    );
    expect_denied(
        &run.op(Op::connect_unix(deeper.join("s")))?,
        "connect to a socket one level deeper",
    )?;
    crate::ensure!(
        !unix_connection_arrived(&deep)?,
        "a connection one level deeper arrived"
    );
    expect_denied(
        &run.op(Op::connect_unix(plain.join("s")))?,
        "connect to a socket under a plain filesystem grant",
    )?;
    crate::ensure!(
        !unix_connection_arrived(&fs_only)?,
        "a connection under a plain filesystem grant arrived"
    );
    // Control: the same socket is reachable when the network is not blocked.
    expect_allowed(
        &cx.run()
            .allow(&plain)
            .op(Op::connect_unix(plain.join("s")))?,
        "connect with the network open (control)",
    )?;
    crate::ensure!(
        unix_connection_arrived(&fs_only)?,
        "the control connection did not arrive"
    );
    Ok(())
}
