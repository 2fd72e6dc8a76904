//! Network: TCP connect and bind filtering by port (Landlock ABI 4), on IPv4 and IPv6, and
//! the refusal to run unfiltered on kernels that cannot filter.
//!
//! Listeners are created in the (unsandboxed) test process on loopback port 0. Whether a
//! sandboxed connect reached a listener is checked from outside with a non-blocking
//! `accept`: an allowed connect leaves a connection in the queue, a denied one leaves none.

pub(super) use crate::kit::arg as s;
use crate::kit::expect::{expect_bind_denied, expect_connect_denied, expect_connected, took_connection};
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::Class;
use crate::runner::{expect_class, RunOutput};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use crate::probe::Op;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

pub fn cases() -> Vec<Case> {
    let tcp = Requirement::LandlockAbi(4);
    let mut out = vec![
        case(
            "linux.net.tcp.block_net_denies_connect_port_reachable_outside",
            "With --block-net a TCP connect to a listening loopback port is denied and never reaches the listener, while the same port accepts connections from outside",
            &["NET-TCP-001"],
            block_net_denies_connect_port_reachable_outside,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.block_net_denies_bind",
            "With --block-net a TCP bind on a free loopback port is denied",
            &["NET-TCP-002"],
            block_net_denies_bind,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.no_net_flags_allow_connect",
            "Without network flags a sandboxed TCP connect to a loopback listener succeeds and reaches it",
            &["NET-TCP-003"],
            no_net_flags_allow_connect,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.no_net_flags_allow_bind",
            "Without network flags a sandboxed TCP bind on a free loopback port succeeds",
            &["NET-TCP-003"],
            no_net_flags_allow_bind,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.allow_connect_port_with_block_net_only_that_port",
            "With --block-net and --allow-connect-port P, connect to P reaches its listener and connect to another listening port is denied",
            &["NET-TCP-004", "NET-TCP-001"],
            allow_connect_port_with_block_net_only_that_port,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.allow_connect_port_alone_allows_that_port",
            "--allow-connect-port P on its own allows TCP connect to P",
            &["NET-TCP-004"],
            allow_connect_port_alone_allows_that_port,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.allow_connect_port_alone_is_an_allow_list",
            "--allow-connect-port P on its own denies TCP connect to another listening port and TCP bind on a free port, while connect to P works and the same connect and bind succeed without network flags",
            &["NET-TCP-008", "NET-TCP-004"],
            allow_connect_port_alone_is_an_allow_list,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.listen_port_with_block_net_only_that_port",
            "With --block-net and --listen-port P, bind on another free port is denied, while the same bind without network flags succeeds",
            &["NET-TCP-005", "NET-TCP-002"],
            listen_port_with_block_net_only_that_port,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.ipv6_connect_filtered_by_port",
            "On IPv6 loopback, --block-net with --allow-connect-port P allows connect to P and denies connect to another listening port",
            &["NET-TCP-006", "NET-TCP-004"],
            ipv6_connect_filtered_by_port,
        )
        .requires(tcp),
        case(
            "linux.net.tcp.ipv6_bind_filtered_by_port",
            "On IPv6 loopback, --block-net with --listen-port P denies bind on another free port, while the same bind without network flags succeeds",
            &["NET-TCP-006", "NET-TCP-005"],
            ipv6_bind_filtered_by_port,
        )
        .requires(tcp),
    ];
    // On kernels without Landlock TCP filtering, a port filter must make the IUT refuse;
    // --block-net alone may instead be enforced by other means (nono's seccomp fallback).
    out.push(
        case(
            "linux.net.tcp.block_net_without_kernel_tcp_filtering_is_never_open",
            "On a kernel below Landlock ABI 4, --block-net either makes the IUT refuse to run or still denies a TCP connect",
            &["CORE-APPLY-002"],
            block_net_without_kernel_tcp_filtering,
        )
        // ABI 1 to 3: Landlock is there but cannot filter TCP. Without Landlock at all
        // (ABI 0) the refusal is CORE-APPLY-001's, for Landlock itself, and its message
        // need not mention the network (linux.core.refuses_to_run_without_landlock checks it).
        .requires(Requirement::LandlockAbi(1))
        .requires(Requirement::LandlockAbiBelow(4)),
    );
    for (slug, flag) in [
        ("allow_connect_port", &["--allow-connect-port", "1"][..]),
        ("listen_port", &["--listen-port", "1"][..]),
    ] {
        out.push(
            case(
                format!("linux.net.tcp.refuses_{slug}_without_kernel_tcp_filtering"),
                "On a kernel below Landlock ABI 4, a TCP port filter makes the IUT refuse to run the program rather than run it unfiltered",
                &["CORE-APPLY-002"],
                move |cx: &Ctx| refuses_tcp_flag_without_kernel_support(cx, flag),
            )
            // ABI 1 to 3: without any Landlock the refusal is CORE-APPLY-001's, for another reason.
            .requires(Requirement::LandlockAbi(1))
            .requires(Requirement::LandlockAbiBelow(4)),
        );
    }
    out
}

/// A non-blocking listener on `ip` port 0, created outside the sandbox.
fn listen(ip: IpAddr) -> Result<TcpListener, String> {
    let l = TcpListener::bind(SocketAddr::new(ip, 0)).map_err(|e| {
        format!("cannot listen on {ip} port 0 in the test process (loopback must be available for this case): {e}")
    })?;
    l.set_nonblocking(true).map_err(|e| format!("set_nonblocking on the test listener: {e}"))?;
    Ok(l)
}

fn port_of(l: &TcpListener) -> u16 {
    l.local_addr().expect("listener address").port()
}

/// A port nobody listens on right now: bound on port 0 in the test process and released.
fn free_port(ip: IpAddr) -> Result<u16, String> {
    let l = TcpListener::bind(SocketAddr::new(ip, 0))
        .map_err(|e| format!("cannot bind {ip} port 0 in the test process to pick a free port: {e}"))?;
    Ok(port_of(&l))
}

/// Two distinct free ports.
pub(super) fn two_free_ports(ip: IpAddr) -> Result<(u16, u16), String> {
    let a = TcpListener::bind(SocketAddr::new(ip, 0)).map_err(|e| format!("binding {ip} port 0: {e}"))?;
    let b = TcpListener::bind(SocketAddr::new(ip, 0)).map_err(|e| format!("binding {ip} port 0: {e}"))?;
    Ok((port_of(&a), port_of(&b)))
}

pub(super) fn connect_op(ip: IpAddr, port: u16) -> Op {
    Op::connect_tcp(ip, port)
}

pub(super) fn bind_op(ip: IpAddr, port: u16) -> Op {
    Op::bind_tcp(ip, port)
}

/// Control for runs whose network ops are all denied: the same run can still create a file
/// in its writable grant, so the sandbox is not simply refusing everything.
fn expect_file_create_allowed(cx: &Ctx, run: &crate::runner::Run, out: &Path) -> CaseResult {
    let r = run.op(Op::create(out.join("control")))?;
    expect_class(&r, Class::Allowed, "control: create a file in the writable grant of the same run")?;
    crate::ensure!(cx.fx.exists("out/control"), "control: create reported ok but no file exists");
    Ok(())
}

/// Control for runs whose network ops are all allowed: the same run is really sandboxed.
fn expect_file_create_denied(cx: &Ctx, run: &crate::runner::Run) -> CaseResult {
    let outside = cx.fx.dir("outside");
    let r = run.op(Op::create(outside.join("f")))?;
    expect_class(&r, Class::Denied, "control: create a file outside every grant in the same run")?;
    crate::ensure!(!cx.fx.exists("outside/f"), "control: a file was created outside every grant");
    Ok(())
}

fn block_net_denies_connect_port_reachable_outside(cx: &Ctx) -> CaseResult {
    let l = listen(V4)?;
    let port = port_of(&l);
    let out = cx.fx.dir("out");
    let run = cx.run().allow(&out).arg("--block-net");

    expect_file_create_allowed(cx, &run, &out)?;
    let r = run.op(connect_op(V4, port))?;
    expect_connect_denied(&r, &l, "sandboxed connect to a loopback listener under --block-net")?;

    TcpStream::connect((V4, port)).map_err(|e| format!("the listener is not reachable from outside: {e}"))?;
    crate::ensure!(took_connection(&l)?, "a connect from outside did not reach the listener");
    Ok(())
}

fn block_net_denies_bind(cx: &Ctx) -> CaseResult {
    let port = free_port(V4)?;
    let out = cx.fx.dir("out");
    let run = cx.run().allow(&out).arg("--block-net");

    expect_file_create_allowed(cx, &run, &out)?;
    let r = run.op(bind_op(V4, port))?;
    expect_bind_denied(&r, "sandboxed bind on a free loopback port under --block-net")
}

fn no_net_flags_allow_connect(cx: &Ctx) -> CaseResult {
    let l = listen(V4)?;
    let out = cx.fx.dir("out");
    let run = cx.run().allow(&out);

    let r = run.op(connect_op(V4, port_of(&l)))?;
    expect_connected(&r, &l, "sandboxed connect without network flags")?;
    expect_file_create_denied(cx, &run)
}

fn no_net_flags_allow_bind(cx: &Ctx) -> CaseResult {
    let port = free_port(V4)?;
    let out = cx.fx.dir("out");
    let run = cx.run().allow(&out);

    let r = run.op(bind_op(V4, port))?;
    expect_class(&r, Class::Allowed, "sandboxed bind without network flags")?;
    expect_file_create_denied(cx, &run)
}

fn allow_connect_port_with_block_net_only_that_port(cx: &Ctx) -> CaseResult {
    let allowed = listen(V4)?;
    let other = listen(V4)?;
    let run = cx.run().arg("--block-net").arg("--allow-connect-port").arg(port_of(&allowed).to_string());

    let ok = run.op(connect_op(V4, port_of(&allowed)))?;
    expect_connected(&ok, &allowed, "connect to the port given to --allow-connect-port")?;
    let denied = run.op(connect_op(V4, port_of(&other)))?;
    expect_connect_denied(&denied, &other, "connect to a port not given to --allow-connect-port")
}

fn allow_connect_port_alone_allows_that_port(cx: &Ctx) -> CaseResult {
    let l = listen(V4)?;
    let run = cx.run().arg("--allow-connect-port").arg(port_of(&l).to_string());

    let r = run.op(connect_op(V4, port_of(&l)))?;
    expect_connected(&r, &l, "connect to the port given to --allow-connect-port")?;
    expect_file_create_denied(cx, &run)
}

fn allow_connect_port_alone_is_an_allow_list(cx: &Ctx) -> CaseResult {
    let allowed = listen(V4)?;
    let other = listen(V4)?;
    let free = free_port(V4)?;
    let run = cx.run().arg("--allow-connect-port").arg(port_of(&allowed).to_string());

    let ok = run.op(connect_op(V4, port_of(&allowed)))?;
    expect_connected(&ok, &allowed, "control: connect to the port given to --allow-connect-port")?;
    let denied = run.op(connect_op(V4, port_of(&other)))?;
    expect_connect_denied(&denied, &other, "connect to a listening port not given to --allow-connect-port")?;
    let bind = run.op(bind_op(V4, free))?;
    expect_bind_denied(&bind, "bind on a free port, with only a connect port listed")?;
    // The same operations without network flags: the denials above are the sandbox's.
    let outside_connect = cx.run().op(connect_op(V4, port_of(&other)))?;
    expect_connected(&outside_connect, &other, "control: the same connect without network flags")?;
    let outside_bind = cx.run().op(bind_op(V4, free))?;
    expect_class(&outside_bind, Class::Allowed, "control: the same bind without network flags")
}

fn listen_port_with_block_net_only_that_port(cx: &Ctx) -> CaseResult {
    let (allowed, other) = two_free_ports(V4)?;
    let run = cx.run().arg("--block-net").arg("--listen-port").arg(allowed.to_string());

    // Whether bind on the listed port itself works is left open (NET-TCP-007).
    let denied = run.op(bind_op(V4, other))?;
    expect_bind_denied(&denied, "bind on a port not given to --listen-port")?;
    let ok = cx.run().op(bind_op(V4, other))?;
    expect_class(&ok, Class::Allowed, "control: the same bind without network flags")
}

fn ipv6_connect_filtered_by_port(cx: &Ctx) -> CaseResult {
    let allowed = listen(V6)?;
    let other = listen(V6)?;
    let run = cx.run().arg("--block-net").arg("--allow-connect-port").arg(port_of(&allowed).to_string());

    let ok = run.op(connect_op(V6, port_of(&allowed)))?;
    expect_connected(&ok, &allowed, "IPv6 connect to the port given to --allow-connect-port")?;
    let denied = run.op(connect_op(V6, port_of(&other)))?;
    expect_connect_denied(&denied, &other, "IPv6 connect to a port not given to --allow-connect-port")
}

fn ipv6_bind_filtered_by_port(cx: &Ctx) -> CaseResult {
    let (allowed, other) = two_free_ports(V6)?;
    let run = cx.run().arg("--block-net").arg("--listen-port").arg(allowed.to_string());

    // Whether bind on the listed port itself works is left open (NET-TCP-007).
    let denied = run.op(bind_op(V6, other))?;
    expect_bind_denied(&denied, "IPv6 bind on a port not given to --listen-port")?;
    let ok = cx.run().op(bind_op(V6, other))?;
    expect_class(&ok, Class::Allowed, "control: the same IPv6 bind without network flags")
}

fn refuses_tcp_flag_without_kernel_support(cx: &Ctx, flag: &[&str]) -> CaseResult {
    let out = cx.fx.dir("out");
    let refused =
        flag.iter().fold(cx.run().allow(&out), |run, a| run.arg(a)).probe(Op::create(out.join("filtered")));
    crate::ensure!(
        !cx.fx.exists("out/filtered"),
        "the program ran although {flag:?} cannot be enforced on this kernel; {refused}"
    );
    crate::ensure!(refused.probe().is_err(), "the program ran although {flag:?} cannot be enforced; {refused}");
    expect_refused_for_tcp(&refused)?;

    // Control: without the network flag the same program runs and leaves its marker.
    let r = cx.run().allow(&out).op(Op::create(out.join("unfiltered")))?;
    expect_class(&r, Class::Allowed, "the same program without TCP flags")?;
    crate::ensure!(cx.fx.exists("out/unfiltered"), "control: create reported ok but no file exists");
    Ok(())
}

/// CORE-APPLY-002's refusal: exit 1, and stderr names the missing feature, TCP (network)
/// filtering; the wording is the IUT's.
fn expect_refused_for_tcp(out: &RunOutput) -> CaseResult {
    crate::ensure!(out.code == 1, "refusing for a missing kernel feature is exit 1; {out}");
    let message = out.stderr.to_lowercase();
    crate::ensure!(
        message.contains("tcp") || message.contains("network"),
        "the refusal must name the missing feature (TCP or network filtering) on stderr; {out}"
    );
    Ok(())
}

fn block_net_without_kernel_tcp_filtering(cx: &Ctx) -> CaseResult {
    let l = listen(V4)?;
    let out = cx.run().arg("--block-net").probe(connect_op(V4, port_of(&l)));
    match out.probe() {
        // Refused: nothing ran, and the refusal is CORE-APPLY-002's: exit 1 and a message
        // naming the missing feature.
        Err(_) => expect_refused_for_tcp(&out),
        // Ran: then the block must hold by other means.
        Ok(r) => expect_connect_denied(&r, &l, "connect under --block-net on a kernel without Landlock TCP filtering"),
    }
}
