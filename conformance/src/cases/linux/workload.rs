//! Real workloads (SPEC SYS-WORK-001): the programs an agent actually runs start under
//! `run --allow D` alone and do a small job in D, and the same program asked to write
//! outside D is denied (its own error names `EACCES` or "Permission denied") and leaves
//! nothing. Each program is a case of its own, skipped when the host lacks it.
//!
//! The programs are taken from the system directories only (see
//! [`Requirement::Program`]): a copy under the home directory (nvm, pyenv shims) is not
//! something a sandbox grants. `HOME` is a fake, empty home in the fixture, so no user
//! configuration is read and nothing real is exposed.

use super::fs_read::arg;
use super::protected::with_home;
use crate::case::{case, system_program, Case, CaseResult, Ctx, Requirement};
use crate::runner::{Run, RunOutput};
use std::path::{Path, PathBuf};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.workload.node_writes_in_d_not_outside",
            "node -e writes a file in D; the same write outside D fails with EACCES and leaves nothing",
            &["SYS-WORK-001"],
            |cx| interpreter(cx, "node", NODE_WRITE),
        )
        .requires(Requirement::Program("node")),
        case(
            "linux.workload.python_writes_in_d_not_outside",
            "python3 -c writes a file in D; the same write outside D fails with EACCES and leaves nothing",
            &["SYS-WORK-001"],
            |cx| interpreter(cx, "python3", PYTHON_WRITE),
        )
        .requires(Requirement::Program("python3")),
        case(
            "linux.workload.bash_script_writes_in_d_not_outside",
            "bash -c runs a small script writing in D; its redirection outside D is denied and leaves nothing",
            &["SYS-WORK-001"],
            |cx| interpreter(cx, "bash", BASH_WRITE),
        )
        .requires(Requirement::Program("bash")),
        case(
            "linux.workload.git_init_in_d_not_outside",
            "git init creates a repository in D; git init outside D is denied and leaves nothing",
            &["SYS-WORK-001"],
            git_init_in_d_not_outside,
        )
        .requires(Requirement::Program("git")),
        case(
            "linux.workload.ps_lists_processes",
            "ps -e lists processes (pid 1 among them) into a file in D; the same listing redirected outside D is denied and leaves nothing",
            &["SYS-WORK-001"],
            ps_lists_processes,
        )
        .requires(Requirement::Program("ps"))
        .requires(Requirement::Program("sh")),
    ]
}

/// Writes `ok` to the path in argv[1] (exit 0), or prints the error code and exits 3.
const NODE_WRITE: &[&str] = &[
    "-e",
    "try { require('fs').writeFileSync(process.argv[1], 'ok'); } catch (e) { console.log(e.code); process.exit(3); }",
];
const PYTHON_WRITE: &[&str] = &[
    "-c",
    "import errno, sys\ntry:\n    open(sys.argv[1], 'w').write('ok')\nexcept OSError as e:\n    print(errno.errorcode[e.errno]); sys.exit(3)",
];
const BASH_WRITE: &[&str] = &[
    "-c",
    "for i in 1 2 3; do n=$((i * 2)); done; if printf ok > \"$1\"; then exit 0; else exit 3; fi",
    "bash",
];

/// The fixture for one workload: D (granted), an outside directory, and a fake HOME.
struct Workload {
    d: PathBuf,
    outside: PathBuf,
    run: Run,
}

impl Workload {
    fn new(cx: &Ctx) -> Workload {
        let d = cx.fx.dir("d");
        let outside = cx.fx.dir("outside");
        let home = cx.fx.dir("home");
        let run = with_home(cx.run(), &home).allow(&d).current_dir(&d).env("GIT_CONFIG_NOSYSTEM", "1");
        Workload { d, outside, run }
    }
}

fn program(name: &str) -> Result<PathBuf, String> {
    system_program(name).ok_or_else(|| format!("{name} vanished from the system directories"))
}

fn command(run: &Run, program: &Path, args: &[&str], extra: &Path) -> RunOutput {
    let mut argv: Vec<std::ffi::OsString> = vec![program.into()];
    argv.extend(args.iter().map(Into::into));
    argv.push(extra.into());
    run.command(argv)
}

/// The program says its write was refused with a denial: EACCES (its own error code) or
/// the C library's text for it.
fn says_denied(out: &RunOutput) -> bool {
    let text = format!("{}{}", out.stdout, out.stderr);
    text.contains("EACCES") || text.contains("Permission denied")
}

fn interpreter(cx: &Ctx, name: &str, script: &[&str]) -> CaseResult {
    let w = Workload::new(cx);
    let program = program(name)?;
    let inside = w.d.join("made-by-program");
    let ok = command(&w.run, &program, script, &inside);
    crate::ensure!(ok.code == 0, "{name} did not complete its job in D; {ok}");
    crate::ensure!(std::fs::read_to_string(&inside).ok().as_deref() == Some("ok"), "{name} reported success but {} does not hold 'ok'", inside.display());
    let outside = w.outside.join("made-by-program");
    let denied = command(&w.run, &program, script, &outside);
    crate::ensure!(denied.code == 3, "{name}'s write outside D must fail inside the program (exit 3); {denied}");
    crate::ensure!(says_denied(&denied), "{name}'s write outside D failed, but not with a denial; {denied}");
    crate::ensure!(!outside.exists(), "the denied write left {}", outside.display());
    Ok(())
}

fn git_init_in_d_not_outside(cx: &Ctx) -> CaseResult {
    let w = Workload::new(cx);
    let git = program("git")?;
    let repo = w.d.join("repo");
    let ok = command(&w.run, &git, &["init", "-q"], &repo);
    crate::ensure!(ok.code == 0, "git init in D failed; {ok}");
    crate::ensure!(repo.join(".git/HEAD").is_file(), "git init reported success but {} has no .git/HEAD; {ok}", repo.display());
    let outside = w.outside.join("repo");
    let denied = command(&w.run, &git, &["init", "-q"], &outside);
    crate::ensure!(denied.code != 0 && says_denied(&denied), "git init outside D must fail with a denial; {denied}");
    crate::ensure!(!outside.exists(), "the denied git init left {}", outside.display());
    Ok(())
}

fn ps_lists_processes(cx: &Ctx) -> CaseResult {
    let w = Workload::new(cx);
    let sh = program("sh")?;
    let ps = program("ps")?;
    let script = format!("{} -e -o pid=,comm= > \"$1\"", arg(&ps));
    let listing = w.d.join("ps.txt");
    let ok = command(&w.run, &sh, &["-c", &script, "sh"], &listing);
    crate::ensure!(ok.code == 0, "ps -e inside the sandbox failed; {ok}");
    let text = std::fs::read_to_string(&listing).unwrap_or_default();
    crate::ensure!(
        text.lines().any(|l| l.split_whitespace().next() == Some("1")),
        "ps -e listed no process 1: {text:?}"
    );
    crate::ensure!(text.lines().any(|l| l.contains("ps")), "ps -e did not list itself: {text:?}");
    let outside = w.outside.join("ps.txt");
    let denied = command(&w.run, &sh, &["-c", &script, "sh"], &outside);
    crate::ensure!(denied.code != 0 && says_denied(&denied), "the listing redirected outside D must fail with a denial; {denied}");
    crate::ensure!(!outside.exists(), "the denied redirection left {}", outside.display());
    Ok(())
}
