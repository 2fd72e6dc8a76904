//! Protected paths (SPEC §20.2): no grant may expose nono's state roots or the credentials,
//! keyrings and shell files of its deny groups. Landlock cannot keep part of a grant
//! denied, so on Linux a grant that would expose one is refused before the program starts.
//!
//! Every case runs with a fake `HOME` inside its fixture root, holding stand-ins for
//! `~/.ssh/id_ed25519`, `~/.bashrc` and the like, so an implementation that grants `~`
//! whole exposes nothing real, and the case fails because the program ran.

use super::fs_read::{arg, tree};
use crate::kit::expect::expect_refused_run;
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::{Path, PathBuf};
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.protected.home_grant_refused_as_state_root_parent",
            "--allow ~ is refused (exit 1, 'overlaps protected nono state root', naming the grant) and the program does not run, while a grant on a project directory inside ~ runs it",
            &["PROT-STATE-001"],
            home_grant_refused,
        ),
        case(
            "linux.protected.state_root_subtree_grant_refused",
            "A grant inside ~/.nono is refused (exit 1, 'overlaps protected nono state root') and nothing is created there",
            &["PROT-STATE-001"],
            state_root_subtree_refused,
        ),
        case(
            "linux.protected.other_spellings_refused_like_the_plain_one",
            "--allow ~/project/.. and --allow through a symlink to ~ are refused like --allow ~, and --read ~/project/../.config like --read ~/.config; the program does not run, while --read ~/project/../project runs it",
            &["PROT-STATE-001", "PROT-DENY-001"],
            other_spellings_refused,
        ),
        case(
            "linux.protected.xdg_state_root_parent_refused",
            "A grant on the directory holding $XDG_STATE_HOME/nono is refused and the program does not run",
            &["PROT-STATE-001"],
            xdg_state_root_parent_refused,
        ),
        case(
            "linux.protected.parent_of_credentials_refused",
            "--read ~/.config (which holds ~/.config/gcloud and ~/.config/fish) is refused naming the grant and a protected path under it; the credential is not read",
            &["PROT-DENY-001"],
            parent_of_credentials_refused,
        ),
        case(
            "linux.protected.real_home_recognised_when_home_is_a_symlink",
            "With HOME a symbolic link to the home directory, --read on the real home's .config is refused like --read ~/.config and the credential stays unread, while --read on the real home's project runs",
            &["PROT-DENY-004", "PROT-DENY-001"],
            real_home_recognised_through_a_symlinked_home,
        ),
        case(
            "linux.protected.parent_of_shell_files_refused",
            "A grant on a directory that is HOME for the run is refused even with no state root on disk, and ~/.bashrc and ~/.ssh/id_ed25519 stay unread",
            &["PROT-DENY-001", "PROT-STATE-001"],
            parent_of_shell_files_refused,
        ),
        case(
            "linux.protected.prefix_sibling_is_not_protected",
            "A grant on ~/.sshfoo is accepted and its file readable, while ~/.ssh beside it stays unreadable and unchanged",
            &["PROT-DENY-002"],
            prefix_sibling_is_not_protected,
        ),
        case(
            "linux.protected.bypass_needs_a_covering_grant",
            "--bypass-protection ~/.docker with --read ~/.docker reads the docker config, without a covering grant it is an error naming 'no matching grant', and it does not open ~/.ssh",
            &["PROT-BYPASS-001"],
            bypass_needs_a_covering_grant,
        ),
        case(
            "linux.protected.equal_or_inside_grant_refused",
            "--read ~/.ssh and --read-file ~/.bashrc are refused (exit 1) and the program does not run, while --read on a plain directory in ~ runs it",
            &["PROT-DENY-003"],
            equal_or_inside_grant_refused,
        ),
    ]
}

/// A fake home directory in the fixture, with stand-ins for what nono protects and a
/// plain project directory.
pub(crate) struct FakeHome {
    pub(crate) home: PathBuf,
}

impl FakeHome {
    pub(crate) fn new(cx: &Ctx) -> FakeHome {
        let home = cx.fx.dir("home");
        cx.fx.file("home/.ssh/id_ed25519", "stand-in private key");
        cx.fx.file("home/.bashrc", "stand-in bashrc");
        cx.fx.file("home/.aws/credentials", "stand-in aws credentials");
        cx.fx.file("home/.config/gcloud/credentials.db", "stand-in gcloud credentials");
        cx.fx.file("home/.config/fish/config.fish", "stand-in fish config");
        cx.fx.file("home/.docker/config.json", "stand-in docker config");
        cx.fx.file("home/.sshfoo/fake", "not a key");
        cx.fx.file("home/project/notes.txt", "project notes");
        cx.fx.dir("home/.nono/rollbacks");
        FakeHome { home }
    }

    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.home.join(rel)
    }

    /// A run of the IUT whose HOME is this directory, started in it.
    pub(crate) fn run(&self, cx: &Ctx) -> Run {
        with_home(cx.run(), &self.home).current_dir(&self.home)
    }
}

/// `run` with `HOME` set to `home` and no XDG base directory pointing anywhere else, so
/// every home-relative path the IUT derives (protected paths, profile expansion, user
/// configuration) lies in the fixture.
pub(crate) fn with_home(run: Run, home: &Path) -> Run {
    ["XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"]
        .into_iter()
        .fold(run.env("HOME", home), |run, var| run.env_remove(var))
}

fn home_grant_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let marker = h.join("project/created-by-program");
    let protected_before = [tree(&h.join(".ssh")), tree(&h.join(".nono"))];
    let out = h.run(cx).allow(&h.home).probe(Op::create(&marker));
    expect_refused_run(&out, &h.home, "overlaps protected nono state root", "--allow ~")?;
    // The program did not run; the IUT itself may keep state in HOME, but not the program.
    crate::ensure!(!marker.exists(), "the refused run created {}", marker.display());
    crate::ensure!([tree(&h.join(".ssh")), tree(&h.join(".nono"))] == protected_before, "the refused run changed ~/.ssh or ~/.nono");
    // Control: the same program with a grant that stays clear of protected paths runs.
    let ok = h.run(cx).allow(h.join("project")).op(Op::create(&marker))?;
    expect_class(&ok, Class::Allowed, "control: create inside --allow ~/project")?;
    crate::ensure!(marker.exists(), "control: create reported ok but the file does not exist");
    Ok(())
}

fn state_root_subtree_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let inside = h.join(".nono/rollbacks");
    let out = h.run(cx).allow(&inside).probe(Op::create(inside.join("planted")));
    expect_refused_run(&out, &inside, "overlaps protected nono state root", "--allow ~/.nono/rollbacks")?;
    crate::ensure!(tree(&inside).is_empty(), "the refused run left {:?}", tree(&inside));
    let project = h.join("project");
    let ok = h.run(cx).allow(&project).op(Op::create(project.join("planted")))?;
    expect_class(&ok, Class::Allowed, "control: create inside --allow ~/project")
}

/// Protection applies to what a grant resolves to, however it is spelled: with `..`
/// components or through a symlink.
fn other_spellings_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let marker = h.join("project/created-by-program");
    let link = cx.fx.symlink("link-to-home", &h.home);
    let spellings = [
        (h.join("project/.."), "overlaps protected nono state root", "--allow ~/project/.."),
        (link, "overlaps protected nono state root", "--allow on a symlink to ~"),
    ];
    for (spelled, needle, what) in spellings {
        let out = h.run(cx).allow(&spelled).probe(Op::create(&marker));
        // The message may name the grant as given or as resolved.
        expect_refused_run(&out, &spelled, needle, what).or_else(|_| expect_refused_run(&out, &h.home, needle, what))?;
        crate::ensure!(!marker.exists(), "{what}: the refused run created {}", marker.display());
    }
    let config = h.join("project/../.config");
    let out = h.run(cx).read(&config).probe(Op::read(h.join(".config/gcloud/credentials.db")));
    expect_refused_run(&out, &config, "", "--read ~/project/../.config")
        .or_else(|_| expect_refused_run(&out, &h.join(".config"), "", "--read ~/project/../.config"))?;
    crate::ensure!(!out.stdout.contains("stand-in"), "the credential leaked: {out}");
    // Control: a `..` spelling of a directory clear of protected paths is granted.
    let ok = h.run(cx).read(h.join("project/../project")).op(Op::read(h.join("project/notes.txt")))?;
    expect_class(&ok, Class::Allowed, "control: read inside --read ~/project/../project")
}

fn xdg_state_root_parent_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    // XDG_STATE_HOME outside HOME: its parent holds no deny-group path, only nono's root.
    let state_parent = cx.fx.dir("state-parent");
    let state_home = cx.fx.dir("state-parent/state");
    cx.fx.dir("state-parent/state/nono");
    let marker = state_parent.join("marker");
    let out = h.run(cx).env("XDG_STATE_HOME", &state_home).allow(&state_parent).probe(Op::create(&marker));
    expect_refused_run(&out, &state_parent, "overlaps protected nono state root", "--allow on the parent of $XDG_STATE_HOME/nono")?;
    crate::ensure!(!marker.exists(), "the refused run created {}", marker.display());
    // Control: without XDG_STATE_HOME pointing there, the same grant is an ordinary one.
    let ok = h.run(cx).allow(&state_parent).op(Op::create(&marker))?;
    expect_class(&ok, Class::Allowed, "control: the same grant when XDG_STATE_HOME points elsewhere")
}

fn parent_of_credentials_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let config = h.join(".config");
    let secret = h.join(".config/gcloud/credentials.db");
    let out = h.run(cx).read(&config).probe(Op::read(&secret));
    expect_refused_run(&out, &config, "", "--read ~/.config")?;
    let names_protected = [".config/gcloud", ".config/fish", ".config/op"].iter().any(|p| out.stderr.contains(arg(&h.join(p))));
    crate::ensure!(names_protected, "the message names no protected path under ~/.config; {out}");
    crate::ensure!(!out.stdout.contains("stand-in"), "the credential leaked: {out}");
    // Control: a sibling directory of ~/.config holding nothing protected is granted.
    let ok = h.run(cx).read(h.join("project")).op(Op::read(h.join("project/notes.txt")))?;
    expect_class(&ok, Class::Allowed, "control: read inside --read ~/project")
}

/// The protected paths written from `HOME` all lie under the link; only their resolved
/// form lies under the directory the grant names.
fn real_home_recognised_through_a_symlinked_home(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let link = cx.fx.symlink("home-link", &h.home);
    let config = h.join(".config");
    let secret = h.join(".config/gcloud/credentials.db");
    let through_link = |run: Run| with_home(run, &link).current_dir(&h.home);
    let out = through_link(cx.run()).read(&config).probe(Op::read(&secret));
    expect_refused_run(&out, &config, "", "--read <real home>/.config with HOME a symlink to it")?;
    crate::ensure!(!out.stdout.contains("stand-in"), "the credential leaked: {out}");
    let left = std::fs::read_to_string(&secret).unwrap_or_default();
    crate::ensure!(left == "stand-in gcloud credentials", "the credential file changed: {left:?}");
    // Control: the same HOME, a grant on the real home's project, which holds nothing
    // protected.
    let ok = through_link(cx.run()).read(h.join("project")).op(Op::read(h.join("project/notes.txt")))?;
    expect_class(&ok, Class::Allowed, "control: read inside --read <real home>/project with HOME a symlink")
}

fn parent_of_shell_files_refused(cx: &Ctx) -> CaseResult {
    // A home with credentials and shell files but no nono state on disk: the state root
    // need not exist to be protected, and the shell files are refused in any case.
    let home = cx.fx.dir("bare-home");
    cx.fx.file("bare-home/.bashrc", "stand-in bashrc");
    cx.fx.file("bare-home/.ssh/id_ed25519", "stand-in private key");
    let h = FakeHome { home: home.clone() };
    for target in [".bashrc", ".ssh/id_ed25519"] {
        let out = h.run(cx).allow(&home).probe(Op::read(home.join(target)));
        expect_refused_run(&out, &home, "", "--allow on HOME")?;
        crate::ensure!(!out.stdout.contains("stand-in"), "{target} leaked: {out}");
    }
    crate::ensure!(cx.fx.read("bare-home/.bashrc").as_deref() == Some("stand-in bashrc"), "~/.bashrc changed");
    let project = cx.fx.dir("bare-home/project");
    let ok = h.run(cx).allow(&project).op(Op::create(project.join("ok")))?;
    expect_class(&ok, Class::Allowed, "control: create inside --allow ~/project")
}

fn prefix_sibling_is_not_protected(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let run = h.run(cx).read(h.join(".sshfoo"));
    let ok = run.op(Op::read(h.join(".sshfoo/fake")))?;
    expect_class(&ok, Class::Allowed, "read inside --read ~/.sshfoo")?;
    crate::ensure!(ok.str_field("content") == Some("not a key"), "read returned {:?}", ok.str_field("content"));
    let key = h.join(".ssh/id_ed25519");
    let denied = run.op(Op::read(&key))?;
    expect_class(&denied, Class::Denied, "read ~/.ssh/id_ed25519 beside the ~/.sshfoo grant")?;
    crate::ensure!(denied.str_field("content").is_none(), "a denied read returned content");
    crate::ensure!(cx.fx.read("home/.ssh/id_ed25519").as_deref() == Some("stand-in private key"), "the key changed");
    Ok(())
}

fn bypass_needs_a_covering_grant(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let docker = h.join(".docker");
    let config = h.join(".docker/config.json");
    let bypass = |run: Run| run.arg("--bypass-protection").arg(&docker);
    let ok = bypass(h.run(cx).read(&docker)).op(Op::read(&config))?;
    expect_class(&ok, Class::Allowed, "read ~/.docker/config.json with --read ~/.docker --bypass-protection ~/.docker")?;
    crate::ensure!(ok.str_field("content") == Some("stand-in docker config"), "read returned {:?}", ok.str_field("content"));
    let project = h.join("project");
    let out = bypass(h.run(cx).read(&project)).probe(Op::read(&config));
    crate::ensure!(out.probe().is_err() && out.code == 1, "a bypass without a covering grant must be an error; {out}");
    crate::ensure!(out.stderr.contains("no matching grant"), "the error does not say 'no matching grant'; {out}");
    // The bypass of ~/.docker does not lift the protection of ~/.config/gcloud beside it.
    let config = h.join(".config");
    let out = bypass(h.run(cx).read(&docker).read(&config)).probe(Op::read(h.join(".config/gcloud/credentials.db")));
    expect_refused_run(&out, &config, "", "--read ~/.config next to a bypass of ~/.docker")?;
    crate::ensure!(!out.stdout.contains("stand-in"), "the credential leaked: {out}");
    Ok(())
}

fn equal_or_inside_grant_refused(cx: &Ctx) -> CaseResult {
    let h = FakeHome::new(cx);
    let ssh = h.join(".ssh");
    let out = h.run(cx).read(&ssh).probe(Op::read(ssh.join("id_ed25519")));
    expect_refused_run(&out, &ssh, "", "--read ~/.ssh")?;
    let bashrc = h.join(".bashrc");
    let out = h.run(cx).read_file(&bashrc).probe(Op::read(&bashrc));
    expect_refused_run(&out, &bashrc, "", "--read-file ~/.bashrc")?;
    crate::ensure!(!out.stdout.contains("stand-in"), "~/.bashrc leaked: {out}");
    let ok = h.run(cx).read(h.join("project")).op(Op::read(h.join("project/notes.txt")))?;
    expect_class(&ok, Class::Allowed, "control: read inside --read ~/project")
}
