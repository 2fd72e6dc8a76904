//! Network proxy mode: `--allow-domain` (and a profile's `network.allow_domain`) lets the
//! program reach the IUT's filtering proxy and nothing else.
//!
//! Everything stays on loopback. The target is a suite-owned server on 127.0.0.1 that
//! counts the connections it accepts, so "nothing was connected" is checked from outside.
//! The allowed name is `localhost`, which resolves to loopback; IP literals name what must
//! be refused. The probe's `via-proxy` op is the client: it reads the proxy from
//! `HTTPS_PROXY`, as real clients do, and reports the proxy's status code.

use super::net::{bind_op, connect_op, s, two_free_ports};
use super::mediation::Kit;
use super::profile::{with_profile, write_profile};
use crate::kit::expect::expect_bind_denied;
use crate::case::{Case, CaseResult, Ctx, Family, Requirement};
use crate::ensure;
use crate::outcome::{Class as Outcome, ProbeResult};
use crate::runner::{expect_class, Run};
use crate::spec::Class;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use crate::probe::Op;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

pub fn cases() -> Vec<Case> {
    let tcp = Requirement::LandlockAbi(4);
    let proxy = Family::new("linux.net.proxy", Class::Core).requires(tcp);
    let profile = Family::new("linux.net.proxy.profile", Class::Profiles).requires(tcp);
    let mediated = Family::new("linux.net.proxy.mediated", Class::Mediation).requires(tcp);
    // Below ABI 4 but with Landlock: without any (ABI 0) the IUT refuses every run, the
    // control included, so the case could tell nothing.
    let old_kernel = Family::new("linux.net.proxy", Class::Core)
        .requires(Requirement::LandlockAbiBelow(4))
        .requires(Requirement::LandlockAbi(1));
    vec![
        proxy.case(
            "allowed_host_is_tunnelled_direct_connect_denied",
            "With --allow-domain localhost, CONNECT localhost:PORT through HTTPS_PROXY is answered 200 and reaches the target, while a direct connect to the same port (IPv4 or IPv6) is denied with EACCES and reaches nothing",
            &["NET-PROXY-001", "NET-PROXY-003"],
            allowed_host_is_tunnelled_direct_connect_denied,
        ),
        proxy.case(
            "host_outside_the_allowlist_gets_403",
            "CONNECT to a host outside the allowlist is answered 403 and the target receives no connection, while the allowed host in the same setup is tunnelled",
            &["NET-PROXY-002"],
            host_outside_the_allowlist_gets_403,
        ),
        proxy.case(
            "names_match_without_case_and_only_as_written",
            "An allowlist entry LOCALHOST allows CONNECT localhost, and does not allow 127.0.0.1, the address it resolves to",
            &["NET-PROXY-004", "NET-PROXY-002"],
            names_match_without_case_and_only_as_written,
        ),
        proxy.case(
            "wildcard_matches_subdomains_not_the_domain",
            "*.localhost lets a.localhost past the filter (200, or 502 when the name does not resolve) but refuses localhost and evillocalhost with 403",
            &["NET-PROXY-004", "NET-PROXY-002"],
            wildcard_matches_subdomains_not_the_domain,
        ),
        proxy.case(
            "variables_point_at_the_proxy",
            "HTTP_PROXY, HTTPS_PROXY, http_proxy and https_proxy are http://nono:TOKEN@127.0.0.1:PORT, NO_PROXY and no_proxy start with localhost,127.0.0.1, NONO_PROXY_TOKEN is TOKEN, and PORT is the proxy",
            &["NET-PROXY-005"],
            variables_point_at_the_proxy,
        ),
        proxy.case(
            "listen_port_allows_only_that_bind",
            "In proxy mode --listen-port P allows bind on P and denies bind on another free port",
            &["NET-PROXY-006"],
            listen_port_allows_only_that_bind,
        ),
        proxy.case(
            "block_net_with_allow_domain_is_refused",
            "--block-net with --allow-domain exits 1 with a message and the program does not run; --allow-domain alone runs it",
            &["NET-PROXY-007"],
            block_net_with_allow_domain_is_refused,
        ),
        old_kernel.case(
            "never_open_without_kernel_tcp_filtering",
            "Below Landlock ABI 4, --allow-domain either refuses to run or still denies a direct TCP connect; it never runs with open networking",
            &["NET-PROXY-008", "CORE-APPLY-002"],
            never_open_without_kernel_tcp_filtering,
        ),
        mediated.case(
            "allowed_hosts_give_a_command_its_own_proxy",
            "A sandboxed mediated command with allowed_hosts gets HTTPS_PROXY=http://nono:TOKEN@127.0.0.1:PORT and is denied a direct connect; with block too it gets no HTTPS_PROXY",
            &["NET-PROXY-012"],
            |cx: &Ctx| allowed_hosts_give_a_command_its_own_proxy(cx, "EACCES"),
        ),
        profile.case(
            "allow_domain_turns_proxy_mode_on",
            "A profile's network.allow_domain tunnels the allowed host and denies a direct connect, as --allow-domain does",
            &["NET-PROXY-009"],
            |cx: &Ctx| profile_key_turns_proxy_mode_on(cx, &["allow_domain"]),
        ),
        profile.case(
            "legacy_spellings_of_allow_domain",
            "The legacy profile keys proxy_allow and allow_proxy turn proxy mode on like allow_domain",
            &["NET-PROXY-011"],
            |cx: &Ctx| profile_key_turns_proxy_mode_on(cx, &["proxy_allow", "allow_proxy"]),
        ),
    ]
}

/// A suite-owned server on 127.0.0.1: it answers one line per connection with
/// `echo:LINE`, and counts the connections it accepted.
pub(crate) struct Target {
    pub(crate) port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Target {
    pub(crate) fn start() -> Result<Target, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot listen on 127.0.0.1 in the test process (loopback is needed): {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut line).is_ok() {
                        let _ = (&stream).write_all(format!("echo:{line}").as_bytes());
                    }
                });
            }
        });
        Ok(Target { port, accepted })
    }

    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `HOST:PORT` for a CONNECT to this target under another name.
    pub(crate) fn as_host(&self, host: &str) -> String {
        format!("{host}:{}", self.port)
    }
}

/// A run in proxy mode with one allowlist entry per `hosts` item.
fn proxy_run(cx: &Ctx, hosts: &[&str]) -> Run {
    hosts.iter().fold(cx.run(), |run, host| run.arg("--allow-domain").arg(host))
}

/// Sends `CONNECT authority` through the run's `HTTPS_PROXY` with a `hello` payload.
fn connect_via_proxy(run: &Run, authority: &str) -> Result<ProbeResult, String> {
    run.op(Op::via_proxy("HTTPS_PROXY", "CONNECT", authority).with_payload("hello"))
}

fn status(r: &ProbeResult) -> Option<i64> {
    r.int_field("status")
}

/// The tunnel answered 200 and the target's echo came back through it.
fn expect_tunnelled(r: &ProbeResult, target: &Target, before: usize, what: &str) -> CaseResult {
    expect_class(r, Outcome::Allowed, what)?;
    ensure!(status(r) == Some(200), "{what}: the proxy answered {:?} ({r}; head {:?}), expected 200", status(r), r.str_field("head"));
    ensure!(r.str_field("reply") == Some("echo:hello\n"), "{what}: the tunnel did not carry the target's answer: {:?}", r.str_field("reply"));
    ensure!(target.accepted() == before + 1, "{what}: the target accepted {} connections, expected 1", target.accepted() - before);
    Ok(())
}

/// The proxy answered 403 and the target accepted nothing.
fn expect_proxy_refused(r: &ProbeResult, target: &Target, before: usize, what: &str) -> CaseResult {
    expect_class(r, Outcome::Allowed, &format!("{what} (the exchange with the proxy itself)"))?;
    ensure!(status(r) == Some(403), "{what}: the proxy answered {:?} (head {:?}), expected 403", status(r), r.str_field("head"));
    ensure!(target.accepted() == before, "{what}: refused, yet the target received a connection");
    Ok(())
}

/// A direct TCP connect that bypasses the proxy is denied with EACCES and reaches nothing.
fn expect_direct_denied(run: &Run, ip: IpAddr, target: &Target, what: &str) -> CaseResult {
    let before = target.accepted();
    let r = run.op(connect_op(ip, target.port))?;
    expect_class(&r, Outcome::Denied, what)?;
    ensure!(r.errno.as_deref() == Some("EACCES"), "{what}: denied with {:?}, expected EACCES", r.errno);
    ensure!(target.accepted() == before, "{what}: denied, yet the target received a connection");
    Ok(())
}

fn allowed_host_is_tunnelled_direct_connect_denied(cx: &Ctx) -> CaseResult {
    let target = Target::start()?;
    let run = proxy_run(cx, &["localhost"]);
    let before = target.accepted();
    expect_tunnelled(&connect_via_proxy(&run, &target.as_host("localhost"))?, &target, before, "CONNECT localhost through the proxy")?;
    expect_direct_denied(&run, V4, &target, "a direct connect to 127.0.0.1 bypassing the proxy")?;
    // IPv6 is filtered too; nothing listens on ::1 there, so only the errno can tell.
    let r = run.op(connect_op(V6, target.port))?;
    expect_class(&r, Outcome::Denied, "a direct connect to [::1] bypassing the proxy")?;
    // From outside the sandbox the target is reachable: the denial is the sandbox's.
    std::net::TcpStream::connect((V4, target.port)).map_err(|e| format!("the target is not reachable from outside: {e}"))?;
    Ok(())
}

fn host_outside_the_allowlist_gets_403(cx: &Ctx) -> CaseResult {
    let target = Target::start()?;
    // localhost resolves to the target, so a proxy that let it through would reach it.
    let run = proxy_run(cx, &["127.0.0.1"]);
    let before = target.accepted();
    expect_proxy_refused(&connect_via_proxy(&run, &target.as_host("localhost"))?, &target, before, "CONNECT localhost (not allowed)")?;
    let before = target.accepted();
    expect_tunnelled(&connect_via_proxy(&run, &target.as_host("127.0.0.1"))?, &target, before, "control: CONNECT 127.0.0.1 (allowed)")
}

fn names_match_without_case_and_only_as_written(cx: &Ctx) -> CaseResult {
    let target = Target::start()?;
    let run = proxy_run(cx, &["LOCALHOST"]);
    let before = target.accepted();
    expect_tunnelled(&connect_via_proxy(&run, &target.as_host("localhost"))?, &target, before, "CONNECT localhost with LOCALHOST allowed")?;
    let before = target.accepted();
    expect_proxy_refused(&connect_via_proxy(&run, &target.as_host("127.0.0.1"))?, &target, before, "CONNECT 127.0.0.1 with only the name localhost allowed")
}

fn wildcard_matches_subdomains_not_the_domain(cx: &Ctx) -> CaseResult {
    let target = Target::start()?;
    let run = proxy_run(cx, &["*.localhost", "127.0.0.1"]);
    for refused in ["localhost", "evillocalhost"] {
        let before = target.accepted();
        expect_proxy_refused(&connect_via_proxy(&run, &target.as_host(refused))?, &target, before, &format!("CONNECT {refused} with *.localhost allowed"))?;
    }
    // a.localhost resolves to loopback on some systems and not at all on others: either
    // way it passed the filter, which a refusal (403) would deny.
    let sub = connect_via_proxy(&run, &target.as_host("a.localhost"))?;
    ensure!(matches!(status(&sub), Some(200) | Some(502)), "CONNECT a.localhost with *.localhost allowed: answered {:?}, expected 200 or 502 (past the filter)", status(&sub));
    let before = target.accepted();
    expect_tunnelled(&connect_via_proxy(&run, &target.as_host("127.0.0.1"))?, &target, before, "control: CONNECT 127.0.0.1 (allowed literally)")
}

fn variables_point_at_the_proxy(cx: &Ctx) -> CaseResult {
    let run = proxy_run(cx, &["localhost"]).env("HTTPS_PROXY", "http://inherited.invalid:1").env("NO_PROXY", "inherited");
    let r = run.op(Op::Env)?;
    expect_class(&r, Outcome::Allowed, "env in proxy mode")?;
    let env = r.extra.get("env").and_then(|e| e.as_object()).ok_or("the env op printed no env")?;
    let var = |name: &str| env.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let url = var("HTTPS_PROXY").ok_or("HTTPS_PROXY is not set")?;
    for name in ["HTTP_PROXY", "http_proxy", "https_proxy"] {
        ensure!(var(name).as_deref() == Some(url.as_str()), "{name}={:?} differs from HTTPS_PROXY={url:?}", var(name));
    }
    let (token, port) = url
        .strip_prefix("http://nono:")
        .and_then(|rest| rest.split_once("@127.0.0.1:"))
        .ok_or_else(|| format!("HTTPS_PROXY={url:?} is not http://nono:TOKEN@127.0.0.1:PORT"))?;
    ensure!(!token.is_empty() && port.parse::<u16>().is_ok(), "HTTPS_PROXY={url:?}: empty token or bad port");
    ensure!(var("NONO_PROXY_TOKEN").as_deref() == Some(token), "NONO_PROXY_TOKEN={:?} is not the token of HTTPS_PROXY", var("NONO_PROXY_TOKEN"));
    for name in ["NO_PROXY", "no_proxy"] {
        ensure!(var(name).is_some_and(|v| v.starts_with("localhost,127.0.0.1")), "{name}={:?} does not start with localhost,127.0.0.1", var(name));
    }
    // The variables lead somewhere: a client following them is tunnelled.
    let target = Target::start()?;
    let before = target.accepted();
    expect_tunnelled(&connect_via_proxy(&run, &target.as_host("localhost"))?, &target, before, "CONNECT through the HTTPS_PROXY the program got")?;
    // Control: without proxy mode the IUT sets none of them (the inherited value stays).
    let plain = cx.run().env("HTTPS_PROXY", "http://inherited.invalid:1").env_remove("NONO_PROXY_TOKEN").op(Op::Env)?;
    let plain_env = plain.extra.get("env").and_then(|e| e.as_object()).ok_or("the env op printed no env")?;
    ensure!(plain_env.get("NONO_PROXY_TOKEN").is_none(), "NONO_PROXY_TOKEN is set without proxy mode");
    Ok(())
}

fn listen_port_allows_only_that_bind(cx: &Ctx) -> CaseResult {
    let (allowed, other) = two_free_ports(V4)?;
    let run = proxy_run(cx, &["localhost"]).arg("--listen-port").arg(allowed.to_string());
    let ok = run.op(bind_op(V4, allowed))?;
    expect_class(&ok, Outcome::Allowed, "bind on the --listen-port port in proxy mode")?;
    let denied = run.op(bind_op(V4, other))?;
    expect_bind_denied(&denied, "bind on another port in proxy mode")
}

fn block_net_with_allow_domain_is_refused(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    let refused = proxy_run(cx, &["localhost"]).allow(&out).arg("--block-net").probe(Op::create(out.join("ran")));
    ensure!(refused.code == 1, "--block-net with --allow-domain must exit 1; {refused}");
    ensure!(refused.probe().is_err() && !cx.fx.exists("out/ran"), "the program ran despite the contradiction; {refused}");
    ensure!(!refused.stderr.trim().is_empty(), "the IUT refused without a message; {refused}");
    let r = proxy_run(cx, &["localhost"]).allow(&out).op(Op::create(out.join("control")))?;
    expect_class(&r, Outcome::Allowed, "control: --allow-domain alone runs the program")?;
    ensure!(cx.fx.exists("out/control"), "control: create reported ok but no file exists");
    Ok(())
}

fn never_open_without_kernel_tcp_filtering(cx: &Ctx) -> CaseResult {
    let target = Target::start()?;
    let out = cx.fx.dir("out");
    let attempt = proxy_run(cx, &["localhost"]).allow(&out).probe(connect_op(V4, target.port));
    match attempt.probe() {
        // Refused: nothing ran. The same program without proxy mode runs (control).
        Err(_) => {
            // CORE-APPLY-002's refusal: exit 1 and a message naming TCP (network) filtering.
            ensure!(attempt.code == 1, "refusing for a missing kernel feature is exit 1; {attempt}");
            let message = attempt.stderr.to_lowercase();
            ensure!(
                message.contains("tcp") || message.contains("network"),
                "the refusal must name the missing feature (TCP or network filtering) on stderr; {attempt}"
            );
            let r = cx.run().allow(&out).op(Op::create(out.join("control")))?;
            expect_class(&r, Outcome::Allowed, "control: the same run without --allow-domain")
        }
        // Ran: then it must have confined TCP some other way.
        Ok(r) => {
            expect_class(&r, Outcome::Denied, "a direct connect in proxy mode on a kernel without Landlock TCP filtering")?;
            ensure!(target.accepted() == 0, "a direct connect reached the target");
            Ok(())
        }
    }
}

fn profile_key_turns_proxy_mode_on(cx: &Ctx, keys: &[&str]) -> CaseResult {
    let target = Target::start()?;
    for key in keys {
        let profile = write_profile(cx, key, json!({ "network": { *key: ["localhost"] } }));
        let run = with_profile(cx, s(&profile));
        let before = target.accepted();
        expect_tunnelled(&connect_via_proxy(&run, &target.as_host("localhost"))?, &target, before, &format!("CONNECT localhost under network.{key}"))?;
        expect_direct_denied(&run, V4, &target, &format!("a direct connect under network.{key}"))?;
    }
    Ok(())
}

/// NET-PROXY-012 with the platform's denial errno for the direct connect: Landlock's
/// `EACCES`, Seatbelt's `EPERM` (core-spec SB-11); macOS registers it in `macos/proxy.rs`.
pub(crate) fn allowed_hosts_give_a_command_its_own_proxy(cx: &Ctx, denial_errno: &str) -> CaseResult {
    let kit = Kit::new(cx);
    let target = Target::start()?;
    let connect = format!("connect:{}", target.port);
    // The tool prints HTTPS_PROXY and a variable the agent set for its call (each empty when
    // unset), then reports a direct connect. The proxy's variables are added to the
    // command's environment; they must not replace it (MED-SRV-014).
    const MARKER: (&str, &str) = ("CONFORMANCE_MARKER", "kept-beside-the-proxy");
    let run_tool = |network: serde_json::Value| -> Result<(String, serde_json::Value), String> {
        let tool = kit.fake("tool", &["print-env:HTTPS_PROXY", &format!("print-env:{}", MARKER.0), &connect]);
        let profile = kit.mediation(json!({ "commands": [{ "name": "tool", "binary_path": tool, "sandbox": { "network": network } }] }));
        let run = kit.agent(&profile).env(MARKER.0, MARKER.1).run(&[&["run", "tool"]])?;
        run.finished()?;
        let out = run.out(0)?;
        let mut lines = out.lines();
        let proxy = lines.next().unwrap_or_default().to_string();
        let marker = lines.next().unwrap_or_default();
        ensure!(marker == MARKER.1, "{}={marker:?} in the command's environment, not {:?}: {out:?}", MARKER.0, MARKER.1);
        let report = lines
            .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok().filter(|v| v["step"] == json!("connect")))
            .ok_or_else(|| format!("the tool reported no connect step: {out:?}"))?;
        Ok((proxy, report))
    };
    let (proxy, direct) = run_tool(json!({ "allowed_hosts": ["localhost"] }))?;
    let address = proxy.strip_prefix("http://nono:").and_then(|rest| rest.split_once("@127.0.0.1:"));
    ensure!(address.is_some_and(|(token, port)| !token.is_empty() && port.parse::<u16>().is_ok()), "HTTPS_PROXY={proxy:?} is not http://nono:TOKEN@127.0.0.1:PORT");
    ensure!(
        direct["ok"] == json!(false) && direct["errno"] == json!(denial_errno),
        "a direct connect beside the proxy must be denied with {denial_errno}: {direct}"
    );
    ensure!(target.accepted() == 0, "a direct connect reached the target");
    let (proxy, _) = run_tool(json!({ "allowed_hosts": ["localhost"], "block": true }))?;
    ensure!(proxy.is_empty(), "with block, no proxy: yet HTTPS_PROXY={proxy:?}");
    // Control: the tool's own sandbox without network rules lets the same connect through.
    let (_, open) = run_tool(json!({}))?;
    ensure!(open["ok"] == json!(true) && target.accepted() == 1, "control: a connect without network rules must reach the target: {open}");
    Ok(())
}
