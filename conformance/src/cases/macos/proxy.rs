//! The IUT's own proxy (`--allow-domain`, `network.allow_domain`) under Seatbelt.
//!
//! The Linux proxy cases that judge only the proxy run on macOS unchanged
//! ([`super::parity`]); these are the ones whose denial control differs: a direct
//! connect beside the proxy is refused by Seatbelt's `(remote tcp "localhost:PORT")` rule,
//! with `EPERM` (core-spec SB-05, SB-11), where Landlock says `EACCES`.
//!
//! The same holds for a mediated command's own proxy (NET-PROXY-012, mediation-spec PE-8,
//! SBX-6): the Linux case body runs here with `EPERM` as the direct connect's errno.

use super::{expect_allowed, expect_eperm};
use crate::case::{Case, CaseResult, Ctx, Family};
use crate::runner::Run;
use crate::spec::Class;
use crate::cases::linux::net_proxy::{allowed_hosts_give_a_command_its_own_proxy, Target};
use crate::probe::Op;
use std::net::Ipv4Addr;

pub fn cases() -> Vec<Case> {
    let core = Family::new("macos.net.proxy", Class::Core);
    let profiles = Family::new("macos.net.proxy.profile", Class::Profiles);
    let mediated = Family::new("macos.net.proxy.mediated", Class::Mediation);
    vec![
        core.case(
            "tunnel_carries_bytes_direct_connect_eperm",
            "With --allow-domain localhost, CONNECT through HTTPS_PROXY is answered 200 and carries bytes both ways, while a direct connect to the same port is denied with EPERM and reaches nothing",
            &["NET-PROXY-001", "SB-APPLY-008"],
            |cx: &Ctx| tunnel_and_direct_denied(&cx.run().arg("--allow-domain").arg("localhost"), "--allow-domain"),
        ),
        profiles.case(
            "allow_domain_turns_proxy_mode_on",
            "A profile's network.allow_domain tunnels the allowed host and denies a direct connect (EPERM), as --allow-domain does",
            &["NET-PROXY-009"],
            |cx: &Ctx| profile_key_turns_proxy_mode_on(cx, &["allow_domain"]),
        ),
        profiles.case(
            "legacy_spellings_of_allow_domain",
            "The legacy profile keys proxy_allow and allow_proxy turn proxy mode on like allow_domain",
            &["NET-PROXY-011"],
            |cx: &Ctx| profile_key_turns_proxy_mode_on(cx, &["proxy_allow", "allow_proxy"]),
        ),
        mediated.case(
            "allowed_hosts_give_a_command_its_own_proxy",
            "A sandboxed mediated command with allowed_hosts gets HTTPS_PROXY=http://nono:TOKEN@127.0.0.1:PORT and a direct connect is denied with Seatbelt's EPERM (Landlock's is EACCES, core-spec SB-11) and reaches nothing; with block too it gets no HTTPS_PROXY; without network rules the same connect reaches the server",
            &["NET-PROXY-012"],
            |cx: &Ctx| allowed_hosts_give_a_command_its_own_proxy(cx, "EPERM"),
        ),
    ]
}

/// Under `run`, a CONNECT to `localhost:PORT` through `HTTPS_PROXY` is tunnelled to the
/// echo server, and a direct connect to the same port is denied with EPERM.
fn tunnel_and_direct_denied(run: &Run, how: &str) -> CaseResult {
    // The suite's echo server on 127.0.0.1, outside every sandbox (the Linux cases' own).
    let server = Target::start()?;
    let authority = server.as_host("localhost");
    let r = run.op(Op::via_proxy("HTTPS_PROXY", "CONNECT", &authority).with_payload("hello"))?;
    expect_allowed(&r, &format!("{how}: the exchange with the proxy"))?;
    crate::ensure!(r.int_field("status") == Some(200), "{how}: CONNECT {authority} answered {r}, expected status 200");
    crate::ensure!(
        r.str_field("reply") == Some("echo:hello\n") && server.accepted() == 1,
        "{how}: the tunnel did not carry the server's answer ({r}; {} connections accepted)",
        server.accepted()
    );
    let direct = run.op(Op::connect_tcp(Ipv4Addr::LOCALHOST, server.port))?;
    expect_eperm(&direct, &format!("{how}: a direct connect beside the proxy"))?;
    crate::ensure!(server.accepted() == 1, "{how}: the direct connect was denied, yet the server received it");
    Ok(())
}

fn profile_key_turns_proxy_mode_on(cx: &Ctx, keys: &[&str]) -> CaseResult {
    for key in keys {
        let profile = cx.fx.file(&format!("profiles/{key}.json"), &format!(r#"{{ "network": {{ "{key}": ["localhost"] }} }}"#));
        tunnel_and_direct_denied(&cx.run().arg("--profile").arg(&profile), &format!("network.{key}"))?;
    }
    Ok(())
}
