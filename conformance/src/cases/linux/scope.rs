//! Scopes (Landlock ABI 6): signals and abstract Unix sockets do not cross the sandbox's
//! boundary, while a sandboxed program still signals itself and its children and reaches
//! abstract sockets created inside its own sandbox.
//!
//! Targets outside the sandbox (a `sleep` victim, an abstract listener) are created by the
//! test process. Targets inside it are created by a small shell or Perl program run in the
//! sandbox: `/bin/sh`, `sleep` and `/usr/bin/perl` live under the minimal system grants.

use crate::kit::arg as path_str;
use crate::kit::expect::expect_eperm;
use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::{Class, ProbeResult};
use crate::runner::{expect_class, RunOutput};
use std::io::ErrorKind;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    let scopes = Requirement::LandlockAbi(6);
    let mut out = vec![];
    for (name, sig) in [("sigterm", 15), ("sigkill", 9)] {
        out.push(
            case(
                format!("linux.scope.signal.{name}_to_outside_process_denied"),
                "A sandboxed process cannot signal a process outside its sandbox (EPERM) and the target keeps running, while it can signal its own child",
                &["SCOPE-SIG-001", "SCOPE-SIG-002"],
                move |cx: &Ctx| signal_to_outside_process_denied(cx, sig),
            )
            .requires(scopes),
        );
    }
    out.extend([
        case(
            "linux.scope.signal.parent_supervisor_outside_denied",
            "A sandboxed program cannot signal its parent outside the sandbox (not even the null signal's permission check passes), while it can signal itself",
            &["SCOPE-SIG-003", "SCOPE-SIG-002"],
            parent_supervisor_outside_denied,
        )
        .requires(scopes),
        case(
            "linux.scope.signal.self_allowed",
            "A sandboxed process can send a signal to itself, and a fatal one ends it",
            &["SCOPE-SIG-002"],
            signal_self_allowed,
        )
        .requires(scopes),
        case(
            "linux.scope.signal.own_children_allowed",
            "A sandboxed process can signal and kill its own child, and signal a grandchild",
            &["SCOPE-SIG-002"],
            signal_own_children_allowed,
        )
        .requires(scopes),
        case(
            "linux.scope.unix.abstract_socket_outside_denied",
            "Connecting to an abstract Unix socket created outside the sandbox is denied (EPERM) and never reaches the listener, while one created inside is reachable",
            &["SCOPE-UNIX-001", "SCOPE-UNIX-002"],
            abstract_socket_outside_denied,
        )
        .requires(scopes),
        case(
            "linux.scope.unix.abstract_socket_inside_reachable_from_grandchild",
            "An abstract Unix socket created inside the sandbox is reachable from a grandchild in the same sandbox",
            &["SCOPE-UNIX-002"],
            abstract_socket_inside_reachable_from_grandchild,
        )
        .requires(scopes),
    ]);
    out
}

/// A `sleep 30` started by the test process, outside every sandbox; killed and reaped on drop.
pub(super) struct Victim {
    child: Child,
}

impl Victim {
    pub(super) fn spawn() -> Result<Victim, String> {
        let child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start a `sleep 30` victim outside the sandbox: {e}"))?;
        Ok(Victim { child })
    }

    pub(super) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// True when the victim is still running after a short grace period (a signal that got
    /// through would have ended it by then).
    pub(super) fn still_alive(&mut self) -> Result<bool, String> {
        let deadline = Instant::now() + Duration::from_millis(100);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(false),
                Ok(None) if Instant::now() >= deadline => return Ok(true),
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("waiting on the victim: {e}")),
            }
        }
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Quotes a string for /bin/sh.
pub(super) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Inside the sandbox: start a `sleep` child, send it `sig`, and print its wait status.
fn kill_own_child(cx: &Ctx, sig: i32) -> Result<RunOutput, String> {
    let script = format!("sleep 30 </dev/null >/dev/null 2>&1 & kill -{sig} $!; wait $!; echo \"status=$?\"");
    let out = cx.run().command(["/bin/sh", "-c", &script]);
    let want = format!("status={}", 128 + sig);
    crate::ensure!(
        out.stdout.lines().any(|l| l.trim() == want),
        "control: a sandboxed shell could not kill its own child with signal {sig} (expected {want}); {out}"
    );
    Ok(out)
}

fn signal_to_outside_process_denied(cx: &Ctx, sig: i32) -> CaseResult {
    let mut victim = Victim::spawn()?;
    let r = cx.run().op(Op::kill(victim.pid(), sig))?;
    expect_eperm(&r, &format!("signal {sig} to a process outside the sandbox"))?;
    crate::ensure!(victim.still_alive()?, "the victim outside the sandbox died: signal {sig} got through");

    kill_own_child(cx, sig)?;
    Ok(())
}

fn parent_supervisor_outside_denied(cx: &Ctx) -> CaseResult {
    let probe = sh_quote(path_str(&cx.probe));
    let run = cx.run().read_file(&cx.probe);

    // `exec` keeps the shell's PID, so $$ is the probe itself and $PPID its parent, which is
    // outside the sandbox (the IUT's supervisor, or whoever started the program).
    let parent = run.command(["/bin/sh", "-c", &format!("exec {probe} kill \"$PPID\" 0")]).probe()?;
    expect_eperm(&parent, "null signal to the parent outside the sandbox")?;

    let own = run.command(["/bin/sh", "-c", &format!("exec {probe} kill \"$$\" 0")]).probe()?;
    expect_class(&own, Class::Allowed, "null signal to itself")
}

fn signal_self_allowed(cx: &Ctx) -> CaseResult {
    let run = cx.run();
    // SIGUSR1's default action ends the process: the run reports 128 + 10.
    let out = run.probe(Op::kill_self(10));
    crate::ensure!(out.code == 138, "a sandboxed process raising SIGUSR1 on itself must die of it (138); {out}");

    let probe = sh_quote(path_str(&cx.probe));
    let own = run.read_file(&cx.probe).command(["/bin/sh", "-c", &format!("exec {probe} kill \"$$\" 0")]).probe()?;
    expect_class(&own, Class::Allowed, "kill(own pid, 0)")
}

fn signal_own_children_allowed(cx: &Ctx) -> CaseResult {
    kill_own_child(cx, 15)?;
    // A grandchild: a subshell starts `sleep` and prints its PID; the outer shell signals it.
    let script = "pid=$( (sleep 30 </dev/null >/dev/null 2>&1 & echo $!) ); kill -15 \"$pid\"; echo \"kill=$?\"";
    let out = cx.run().command(["/bin/sh", "-c", script]);
    crate::ensure!(
        out.stdout.lines().any(|l| l.trim() == "kill=0"),
        "a sandboxed shell could not signal its grandchild (expected kill=0); {out}"
    );
    Ok(())
}

/// A unique abstract socket name for this case.
fn abstract_name(cx: &Ctx, tag: &str) -> String {
    let root = cx.fx.root().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!("nono-conformance-{}-{root}-{tag}", std::process::id())
}

const PERL: &str = "/usr/bin/perl";

/// Perl: listen on the abstract socket NAME, run PROBE ARGS... (which connects to it), then
/// report whether a connection is waiting.
const PERL_LISTEN_AND_RUN: &str = r#"
use Socket;
my ($name, @cmd) = @ARGV;
socket(my $l, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
bind($l, pack_sockaddr_un("\0$name")) or die "bind: $!\n";
listen($l, 5) or die "listen: $!\n";
$| = 1;
system(@cmd);
my $rin = '';
vec($rin, fileno($l), 1) = 1;
my $n = select(my $rout = $rin, undef, undef, 0);
print "pending=", ($n > 0 ? 1 : 0), "\n";
"#;

/// Inside the sandbox: a Perl listener on an abstract socket, connected to by the probe run
/// with `prefix` (e.g. `in-child`) in the same sandbox. Returns the probe's result.
fn connect_inside(cx: &Ctx, tag: &str, prefix: &[&str]) -> Result<ProbeResult, String> {
    crate::ensure!(
        Path::new(PERL).exists(),
        "this case needs {PERL} (readable under the system grants) to create an abstract socket inside the sandbox; it is missing"
    );
    let name = abstract_name(cx, tag);
    let mut argv: Vec<String> = vec![PERL.into(), "-e".into(), PERL_LISTEN_AND_RUN.into(), "--".into(), name.clone()];
    argv.push(path_str(&cx.probe).into());
    argv.extend(prefix.iter().map(|s| s.to_string()));
    argv.extend(["connect-abstract".to_string(), name]);
    let out = cx.run().read_file(&cx.probe).command(&argv);
    let r = out.probe()?;
    expect_class(&r, Class::Allowed, "connect to an abstract socket created inside the same sandbox")?;
    crate::ensure!(
        out.stdout.lines().any(|l| l.trim() == "pending=1"),
        "the in-sandbox listener did not receive the connection; {out}"
    );
    Ok(r)
}

fn abstract_socket_outside_denied(cx: &Ctx) -> CaseResult {
    let name = abstract_name(cx, "outside");
    let listener = listen_abstract(&name)?;
    listener.set_nonblocking(true).map_err(|e| format!("set_nonblocking: {e}"))?;

    let r = cx.run().op(Op::connect_abstract(&name))?;
    expect_eperm(&r, "connect to an abstract socket created outside the sandbox")?;
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok(_) => return Err("the outside listener received a connection from the sandbox".into()),
        Err(e) => return Err(format!("accept on the outside listener: {e}")),
    }

    connect_inside(cx, "inside", &[])?;
    Ok(())
}

fn abstract_socket_inside_reachable_from_grandchild(cx: &Ctx) -> CaseResult {
    connect_inside(cx, "grandchild", &["in-child"])?;
    Ok(())
}

/// A listener on the abstract Unix socket `name` (Linux only; the case never runs elsewhere,
/// but the suite compiles on every platform).
#[cfg(target_os = "linux")]
fn listen_abstract(name: &str) -> Result<UnixListener, String> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr;
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).map_err(|e| format!("abstract address: {e}"))?;
    UnixListener::bind_addr(&addr).map_err(|e| format!("listening on abstract socket {name:?}: {e}"))
}

#[cfg(not(target_os = "linux"))]
fn listen_abstract(_name: &str) -> Result<UnixListener, String> {
    Err("abstract Unix sockets exist only on Linux".into())
}
