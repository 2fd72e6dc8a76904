//! System reads (SPEC §20.1): what a program reads without a flag asking for it, because
//! nono's default groups grant it and programs need it to start. Each read has a denial
//! beside it under the same grants, so an implementation that grants everything fails too.

use super::fs_read::entries;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::kit::expect::expect_denied;
use crate::outcome::{Class, ProbeResult};
use crate::runner::{expect_class, Run};
use std::path::Path;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.system.etc_name_service_and_tls_readable",
            "Under --allow D alone, /etc/hosts, /etc/resolv.conf, /etc/nsswitch.conf, /etc/ld.so.cache and /etc/ssl/openssl.cnf (where present) are readable, while a file outside every grant is not",
            &["SYS-READ-001"],
            etc_name_service_and_tls_readable,
        ),
        case(
            "linux.system.proc_self_readable",
            "Under --allow D alone, the program reads its own /proc/self/status and /proc/self/maps, lists /proc/self/fd, and reads /proc/cpuinfo, meminfo, stat, loadavg and version",
            &["SYS-READ-002"],
            proc_self_readable,
        ),
        case(
            "linux.system.system_dirs_not_writable",
            "Under --allow D alone, creating a file in /etc, /usr/share or /usr/bin is denied and leaves nothing, while /dev/null takes a write, /dev/zero and /dev/urandom read, and D takes a new file",
            &["SYS-READ-004"],
            |cx: &Ctx| system_dirs_not_writable(cx, expect_denied),
        ),
    ]
}

/// A run granting only `D` (read-write): the implicit grants are all the program has.
fn run_with_d(cx: &Ctx) -> (Run, std::path::PathBuf) {
    let d = cx.fx.dir("d");
    (cx.run().allow(&d).current_dir(&d), d)
}

/// Reads `path` inside the sandbox and expects its content, as seen from outside.
fn expect_readable(run: &Run, path: &Path) -> CaseResult {
    let r = run.op(Op::read(path))?;
    expect_class(&r, Class::Allowed, &format!("read {}", path.display()))?;
    if let Ok(outside) = std::fs::read(path) {
        let bytes = r.int_field("bytes").unwrap_or(-1);
        crate::ensure!(bytes == outside.len() as i64, "read {}: {bytes} bytes, the file has {}", path.display(), outside.len());
    }
    Ok(())
}

/// The denial beside every allowed read: a file outside every grant.
fn expect_outside_denied(cx: &Ctx, run: &Run) -> CaseResult {
    let secret = cx.fx.file("outside/secret.txt", "secret");
    let r = run.op(Op::read(&secret))?;
    expect_class(&r, Class::Denied, "read a file outside every grant")?;
    crate::ensure!(r.str_field("content").is_none(), "a denied read returned content");
    Ok(())
}

fn etc_name_service_and_tls_readable(cx: &Ctx) -> CaseResult {
    let (run, _) = run_with_d(cx);
    let files = ["/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/ssl/openssl.cnf"];
    let present: Vec<&str> = files.into_iter().filter(|f| Path::new(f).is_file()).collect();
    crate::ensure!(present.contains(&"/etc/hosts"), "this host has no /etc/hosts; the case cannot check anything");
    for file in present {
        expect_readable(&run, Path::new(file))?;
    }
    expect_outside_denied(cx, &run)
}

fn proc_self_readable(cx: &Ctx) -> CaseResult {
    let (run, _) = run_with_d(cx);
    for file in ["/proc/self/status", "/proc/self/maps", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/loadavg", "/proc/version"] {
        let r = run.op(Op::read(file))?;
        expect_class(&r, Class::Allowed, &format!("read {file}"))?;
        crate::ensure!(r.int_field("bytes").unwrap_or(0) > 0, "read {file} returned nothing");
    }
    let status = run.op(Op::read("/proc/self/status"))?;
    crate::ensure!(
        status.str_field("content").is_some_and(|c| c.contains("nono-probe")),
        "/proc/self/status is not the program's own: {:?}",
        status.str_field("content").map(|c| c.lines().next())
    );
    let fds = run.op(Op::readdir("/proc/self/fd"))?;
    expect_class(&fds, Class::Allowed, "list /proc/self/fd")?;
    crate::ensure!(entries(&fds).iter().any(|e| e == "0"), "/proc/self/fd lists no fd 0: {:?}", entries(&fds));
    expect_outside_denied(cx, &run)
}

/// SYS-READ-004 with the platform's check of each denial: any denial errno on Linux,
/// Seatbelt's `EPERM` on macOS, which registers it in `macos/system.rs`.
pub(crate) fn system_dirs_not_writable(cx: &Ctx, expect_denial: fn(&ProbeResult, &str) -> CaseResult) -> CaseResult {
    let (run, d) = run_with_d(cx);
    let name = format!("nono-conformance-{}", cx.fx.root().file_name().and_then(|n| n.to_str()).unwrap_or("x"));
    for dir in ["/etc", "/usr/share", "/usr/bin"] {
        let target = Path::new(dir).join(&name);
        let r = run.op(Op::create(&target))?;
        let planted = target.symlink_metadata().is_ok();
        if planted {
            let _ = std::fs::remove_file(&target);
        }
        expect_denial(&r, &format!("create {}", target.display()))?;
        crate::ensure!(!planted, "the denied create left {}", target.display());
    }
    let null = run.op(Op::write("/dev/null", "discarded"))?;
    expect_class(&null, Class::Allowed, "write /dev/null")?;
    // Endless devices cannot be read whole: dd reads one block of each and exits 0 only
    // when it could open both ends. No `status=none`: macOS's BSD dd may not know it, and
    // the transfer summary goes to stderr, which the probe's result does not use.
    let dd = crate::case::system_program("dd").ok_or("dd is not installed in the system directories")?;
    for dev in ["/dev/zero", "/dev/urandom"] {
        let r = run.op(Op::exec(&dd, &[&format!("if={dev}"), "of=/dev/null", "bs=16", "count=1"]))?;
        expect_class(&r, Class::Allowed, &format!("start dd to read {dev}"))?;
        crate::ensure!(r.int_field("exit_code") == Some(0), "dd could not read {dev}: {r} {:?}", r.extra);
    }
    let ok = run.op(Op::create(d.join("new")))?;
    expect_class(&ok, Class::Allowed, "control: create inside D")?;
    crate::ensure!(d.join("new").exists(), "control: create reported ok but no file exists");
    Ok(())
}
