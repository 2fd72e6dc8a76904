//! Test cases as data: an ID, a title, the SPEC.md statements it checks, where it applies,
//! what it needs, and a body.
//!
//! Cases are plain values collected by [`crate::cases::all`], so the same list drives the
//! test binaries (one nextest test per case), the report, and the check that every MUST
//! statement in SPEC.md has a test.

use crate::fixture::Fixture;
use crate::implementation::Implementation;
use crate::runner::Run;
use crate::spec::{self, Class, Level};
use std::path::PathBuf;
use std::sync::Arc;

/// A case body: `Ok(())` is a pass, `Err(message)` a failure (panics are failures too).
pub type CaseResult = Result<(), String>;

/// Where a case applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Linux with the `linux-landlock` feature.
    Linux,
    /// macOS with the `macos-seatbelt` feature.
    MacOs,
    /// Everywhere (pure data checks, the suite's own consistency).
    Any,
}

impl Platform {
    /// True when cases of this platform can run on this host (features aside).
    pub fn is_host(self) -> bool {
        match self {
            Platform::Any => true,
            Platform::Linux => cfg!(target_os = "linux"),
            Platform::MacOs => cfg!(target_os = "macos"),
        }
    }
}

/// Something a case needs from the host or the implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// The kernel's Landlock ABI is at least this.
    LandlockAbi(u32),
    /// The kernel's Landlock ABI is below this (cases about refusing on old kernels).
    LandlockAbiBelow(u32),
    /// The suite runs as root (mknod of devices, ptrace of other users' processes).
    Root,
    /// An unsandboxed process may ptrace-attach to a process that is not its descendant:
    /// Yama is absent or `ptrace_scope` is 0, or it is 1 or 2 and the suite is root
    /// (`CAP_SYS_PTRACE`). Otherwise a ptrace denial inside a sandbox proves nothing: the
    /// host would deny it without one.
    PtraceOfNonDescendants,
    /// The case checks the reference library directly (data vectors for a component that
    /// has no black-box interface yet). Against another implementation it would pass
    /// without testing it, so it is skipped there with this reason. Whether the IUT is the
    /// reference is decided from its path, never from what it says about itself.
    ReferenceLibrary,
    /// The case exercises the shim binary on its own, with the suite playing the server.
    /// The shim is `NONO_SHIM`, else the reference's `nono-shim`; without `NONO_SHIM` the
    /// case would test the reference's shim while claiming another implementation.
    ShimUnderTest,
    /// A program installed in the system directories every implementation grants
    /// (`/usr/local/bin`, `/usr/bin`, `/bin`): a workload case cannot run without it, and a
    /// copy elsewhere (`~/.nvm`, a pyenv shim) would not be reachable inside the sandbox.
    Program(&'static str),
}

/// The directories [`Requirement::Program`] looks in, in order.
pub const SYSTEM_PROGRAM_DIRS: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];

/// Where `name` is installed in [`SYSTEM_PROGRAM_DIRS`], if anywhere.
pub fn system_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    SYSTEM_PROGRAM_DIRS
        .iter()
        .map(|dir| PathBuf::from(dir).join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The names of the requirement kinds, as strict mode's allow-list spells them
/// (`NONO_CONFORMANCE_STRICT_ALLOW`, the runner's `--allow-skip`).
pub const REQUIREMENT_KINDS: &[&str] =
    &["landlock-abi", "landlock-abi-below", "root", "ptrace", "reference-library", "shim", "program"];

impl Requirement {
    /// The kind's name in [`REQUIREMENT_KINDS`]: strict mode may allow every skip of a kind
    /// that a host cannot meet (a CI runner is not root, its kernel has the ABI it has).
    pub fn kind(&self) -> &'static str {
        match self {
            Requirement::LandlockAbi(_) => "landlock-abi",
            Requirement::LandlockAbiBelow(_) => "landlock-abi-below",
            Requirement::Root => "root",
            Requirement::PtraceOfNonDescendants => "ptrace",
            Requirement::ReferenceLibrary => "reference-library",
            Requirement::ShimUnderTest => "shim",
            Requirement::Program(_) => "program",
        }
    }

    /// Why the requirement is not met here, or None when it is.
    pub fn unmet(&self, imp: &Implementation) -> Option<String> {
        match *self {
            Requirement::LandlockAbi(n) if imp.landlock_abi < n => {
                Some(format!("needs Landlock ABI {n}, kernel has {}", imp.landlock_abi))
            }
            Requirement::LandlockAbiBelow(n) if imp.landlock_abi >= n => {
                Some(format!("only meaningful on kernels below Landlock ABI {n}; this one has {}", imp.landlock_abi))
            }
            Requirement::Root if !nix::unistd::geteuid().is_root() => Some("needs root".into()),
            Requirement::PtraceOfNonDescendants => ptrace_of_non_descendants_blocked(),
            Requirement::ReferenceLibrary if !imp.is_suite_reference => Some(format!(
                "checks the reference library directly, not the implementation under test ({})",
                imp.name
            )),
            Requirement::ShimUnderTest if !imp.is_suite_reference && std::env::var_os("NONO_SHIM").is_none() => Some(format!(
                "tests the shim binary alone; set NONO_SHIM to the shim of {} (the default is the reference's)",
                imp.name
            )),
            Requirement::Program(name) if system_program(name).is_none() => {
                Some(format!("{name} is not installed in {}", SYSTEM_PROGRAM_DIRS.join(", ")))
            }
            _ => None,
        }
    }
}

/// Why Yama denies attaching to non-descendants even without a sandbox, or None.
fn ptrace_of_non_descendants_blocked() -> Option<String> {
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").ok()?;
    let root = nix::unistd::geteuid().is_root();
    match scope.trim() {
        "0" => None,
        "1" | "2" if root => None,
        other => Some(format!(
            "Yama ptrace_scope is {other}, so the host denies attaching to a non-descendant with or without a sandbox \
             (run as root, or as root set kernel.yama.ptrace_scope=0 for the run)"
        )),
    }
}

/// A case body, shareable so that parameterised cases can capture their parameter.
pub type Body = Arc<dyn Fn(&Ctx) -> CaseResult + Send + Sync>;

/// One conformance test.
#[derive(Clone)]
pub struct Case {
    /// Stable dotted ID, also the nextest test name: `linux.fs.read.sibling_denied`.
    pub id: String,
    /// One sentence saying what must hold.
    pub title: String,
    /// SPEC.md statement IDs this case checks.
    pub spec: Vec<String>,
    /// Where it applies (derived from the first segment of the ID).
    pub platform: Platform,
    /// What it needs; unmet requirements make it a skip with a reason.
    pub requires: Vec<Requirement>,
    /// The conformance class, when it differs from the class of the statements it cites
    /// (a `profile show` vector cites merge rules of class `profiles` but needs `show`).
    pub class_override: Option<Class>,
    /// The test.
    pub body: Body,
}

/// Declares a case. The platform follows from the ID's first segment (`linux.`, `macos.`).
/// `body` may be a plain function or a closure capturing a parameter.
pub fn case(
    id: impl Into<String>,
    title: &'static str,
    spec: &'static [&'static str],
    body: impl Fn(&Ctx) -> CaseResult + Send + Sync + 'static,
) -> Case {
    Case::new(id.into(), title.into(), spec.iter().map(|s| s.to_string()).collect(), body)
}

impl Case {
    /// Declares a case whose title and citations are only known at run time (a data
    /// vector read from `fixtures/`). The platform follows from the ID as in [`case`].
    pub fn new(
        id: String,
        title: String,
        spec: Vec<String>,
        body: impl Fn(&Ctx) -> CaseResult + Send + Sync + 'static,
    ) -> Case {
        let platform = match id.split('.').next() {
            Some("linux") => Platform::Linux,
            Some("macos") => Platform::MacOs,
            _ => Platform::Any,
        };
        Case { id, title, spec, platform, requires: vec![], class_override: None, body: Arc::new(body) }
    }
}

impl Case {
    /// Adds a requirement.
    pub fn requires(mut self, req: Requirement) -> Case {
        self.requires.push(req);
        self
    }

    /// Puts the case in `class` whatever the statements it cites belong to.
    pub fn in_class(mut self, class: Class) -> Case {
        self.class_override = Some(class);
        self
    }

    /// The conformance class the case counts for: its override, else the class of the
    /// first statement it cites (the suite's self-check requires one).
    pub fn class(&self) -> Option<Class> {
        self.class_override.or_else(|| {
            let statements = spec::statements();
            self.spec.iter().find_map(|id| statements.get(id).and_then(|s| s.class))
        })
    }

    /// The level the case counts at: the strongest level among the statements it cites.
    /// A case citing one MUST statement is a MUST case.
    pub fn level(&self) -> Level {
        let statements = spec::statements();
        self.spec.iter().filter_map(|id| statements.get(id).map(|s| s.level)).min().unwrap_or(Level::Must)
    }

    /// The category: the ID without its last segment (`linux.fs.read`).
    pub fn category(&self) -> &str {
        self.id.rsplit_once('.').map(|(c, _)| c).unwrap_or(&self.id)
    }
}

/// A family of cases: the ID prefix, and so the platform, and the conformance class are
/// fixed once, so a case file reads as a list of stories.
///
/// ```ignore
/// let read = Family::new("linux.fs.read", Class::Core);
/// vec![read.case("sibling_denied", "A sibling of a granted directory stays unreadable", &["FS-READ-002"], sibling_denied)]
/// ```
#[derive(Clone, Debug)]
pub struct Family {
    prefix: String,
    class: Class,
    requires: Vec<Requirement>,
}

impl Family {
    /// A family whose case IDs start with `prefix.` and count for `class`.
    pub fn new(prefix: impl Into<String>, class: Class) -> Family {
        Family { prefix: prefix.into(), class, requires: vec![] }
    }

    /// Every case of the family needs `req`.
    pub fn requires(mut self, req: Requirement) -> Family {
        self.requires.push(req);
        self
    }

    /// A case named `prefix.name`.
    pub fn case(
        &self,
        name: &str,
        title: impl Into<String>,
        spec: &[&str],
        body: impl Fn(&Ctx) -> CaseResult + Send + Sync + 'static,
    ) -> Case {
        let mut case = Case::new(
            format!("{}.{name}", self.prefix),
            title.into(),
            spec.iter().map(|s| s.to_string()).collect(),
            body,
        )
        .in_class(self.class);
        case.requires.extend(self.requires.iter().copied());
        case
    }
}

/// What a case body gets: the implementation, the probe, and a fresh fixture root.
pub struct Ctx {
    /// The implementation under test.
    pub imp: Implementation,
    /// The suite's probe binary.
    pub probe: PathBuf,
    /// This case's private directory tree.
    pub fx: Fixture,
    /// The shim binary of the implementation under test: `NONO_SHIM`, else `nono-shim`
    /// next to the reference binary.
    pub shim: PathBuf,
}

impl Ctx {
    /// Starts a `run` invocation of the implementation under test.
    pub fn run(&self) -> Run {
        let run = Run::new(&self.imp.path, &self.probe);
        self.imp.settings.env.iter().fold(run, |run, (k, v)| run.env(k, v))
    }

    /// Runs the probe directly, outside any sandbox and without the IUT (with the kit's
    /// deadline and process group): the control that shows what the host itself does.
    pub fn probe_outside_output(&self, op: crate::probe::Op) -> Result<std::process::Output, String> {
        let mut probe = std::process::Command::new(&self.probe);
        probe.args(op.argv());
        crate::kit::spawn::output(probe).map_err(|e| format!("running the probe outside any sandbox: {e}"))
    }

    /// [`Ctx::probe_outside_output`], read as the probe's result line.
    pub fn probe_outside(&self, op: crate::probe::Op) -> Result<crate::outcome::ProbeResult, String> {
        let out = self.probe_outside_output(op)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().ok_or("the probe run outside any sandbox printed nothing")?;
        serde_json::from_str(line).map_err(|e| format!("unreadable probe result outside any sandbox {line:?}: {e}"))
    }

    /// A bare command starting the implementation under test (for subcommands other than
    /// `run`), through the ABI emulator when `NONO_CONFORMANCE_EMULATE_ABI` is set, so that
    /// every start of the IUT sees the same kernel.
    pub fn iut_command(&self) -> std::process::Command {
        crate::emulation::command(&self.imp.path, &self.probe)
    }

    /// Runs the implementation under test with `args` (a subcommand other than `run`:
    /// `sandbox-profile`, `profile validate`, `learn`, ...) in the case's root, with `env`
    /// added, and captures it (process group and deadline: [`crate::kit::spawn`]).
    pub fn invoke<I, S>(&self, args: I, env: &[(String, String)]) -> crate::runner::RunOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.iut_command();
        cmd.args(args).current_dir(self.fx.root());
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        let done = crate::kit::spawn::Launch::new(cmd).run().unwrap_or_else(|e| panic!("{e}"));
        done.into()
    }
}

/// Returns `Err(message)` from the enclosing case body unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
