//! The rest of nono's run contract that programs and scripts rely on (SPEC §20.3): the
//! sandbox description `NONO_CAP_FILE`, the flags nono's own test suites pass, and the
//! built-in profiles users name.

use super::fs_read::arg;
use super::protected::with_home;
use crate::case::{case, system_program, Case, CaseResult, Ctx, Requirement};
use crate::outcome::Class;
use crate::runner::expect_class;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "linux.run.cap_file_describes_the_sandbox",
            "The program finds NONO_CAP_FILE naming a readable JSON file whose fs list holds its --allow directory as resolved; an inherited NONO_CAP_FILE is replaced",
            &["RUN-CAPFILE-001"],
            cap_file_describes_the_sandbox,
        )
        .requires(Requirement::Program("sh")),
        case(
            "linux.run.nono_flags_accepted",
            "run accepts --no-audit, -v, --silent and --allow-cwd and still enforces the grants, --silent keeps --dry-run quiet, while an unknown flag stays a usage error",
            &["RUN-FLAGS-001"],
            nono_flags_accepted,
        ),
        case(
            "linux.run.builtin_dev_profiles_grant_the_workdir",
            "The built-in profiles node-dev, python-dev, rust-dev, go-dev and java-dev let the program create a file in its working directory but not beside it, and linux-host-compat lets it read /tmp",
            &["RUN-PROFILES-001"],
            builtin_dev_profiles_grant_the_workdir,
        ),
    ]
}

fn cap_file_describes_the_sandbox(cx: &Ctx) -> CaseResult {
    let d = cx.fx.dir("d");
    let decoy = cx.fx.file("decoy.json", "{\"fs\": [], \"net_blocked\": true}");
    let sh = system_program("sh").ok_or("sh vanished")?;
    let script = "printf '%s\\n' \"$NONO_CAP_FILE\"; cat \"$NONO_CAP_FILE\"";
    let out = cx.run().allow(&d).env("NONO_CAP_FILE", &decoy).command([arg(&sh), "-c", script]);
    crate::ensure!(out.code == 0, "reading NONO_CAP_FILE inside the sandbox failed; {out}");
    let (path, json) = out.stdout.split_once('\n').ok_or_else(|| format!("no NONO_CAP_FILE in the environment; {out}"))?;
    crate::ensure!(!path.is_empty(), "NONO_CAP_FILE is unset or empty; {out}");
    crate::ensure!(path != arg(&decoy), "the caller's NONO_CAP_FILE was passed on; {out}");
    let state: serde_json::Value = serde_json::from_str(json.trim()).map_err(|e| format!("{path} is not JSON ({e}); {out}"))?;
    let fs = state["fs"].as_array().ok_or_else(|| format!("{path} has no `fs` list: {state}"))?;
    // nono 0.66 names the resolved path `resolved`, nono 0.81 `path`.
    let resolved = |c: &serde_json::Value| c["resolved"].as_str().or(c["path"].as_str()).map(str::to_string);
    let lists_d = fs.iter().any(|c| resolved(c).as_deref() == Some(arg(&d)) && c["is_file"] == false);
    crate::ensure!(lists_d, "{path} does not list the --allow directory {}: {state}", d.display());
    crate::ensure!(state["net_blocked"] == false, "{path} says the network is blocked under plain --allow: {state}");
    Ok(())
}

fn nono_flags_accepted(cx: &Ctx) -> CaseResult {
    let d = cx.fx.dir("d");
    let outside = cx.fx.dir("outside");
    let run = cx.run().current_dir(&d).arg("--no-audit").arg("-v").arg("--silent").arg("--allow-cwd").allow(&d);
    let ok = run.op(Op::create(d.join("made")))?;
    expect_class(&ok, Class::Allowed, "create in D with nono's extra flags")?;
    let denied = run.op(Op::create(outside.join("made")))?;
    expect_class(&denied, Class::Denied, "create outside D with nono's extra flags")?;
    crate::ensure!(!outside.join("made").exists(), "the denied create left a file");
    let quiet = cx.run().current_dir(&d).allow(&d).arg("--allow-cwd").arg("--silent").arg("--dry-run").command(["true"]);
    crate::ensure!(quiet.code == 0, "--silent --dry-run must exit 0; {quiet}");
    crate::ensure!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "--silent --dry-run printed something; {quiet}");
    let unknown = cx.run().allow(&d).arg("--no-such-flag-at-all").command(["true"]);
    crate::ensure!(unknown.code == 2, "control: an unknown flag must stay a usage error (exit 2); {unknown}");
    Ok(())
}

fn builtin_dev_profiles_grant_the_workdir(cx: &Ctx) -> CaseResult {
    let home = cx.fx.dir("home");
    for name in ["node-dev", "python-dev", "rust-dev", "go-dev", "java-dev"] {
        let work = cx.fx.dir(&format!("{name}/work"));
        let beside = cx.fx.dir(&format!("{name}/beside"));
        let run = with_home(cx.run(), &home)
            .current_dir(&work)
            .arg("--profile")
            .arg(name)
            .arg("--workdir")
            .arg(&work)
            // nono asks before granting a profile's working directory, unless told so.
            .arg("--allow-cwd");
        let ok = run.op(Op::create(work.join("made"))).map_err(|e| format!("--profile {name}: {e}"))?;
        expect_class(&ok, Class::Allowed, &format!("--profile {name}: create in the working directory"))?;
        let denied = run.op(Op::create(beside.join("made")))?;
        expect_class(&denied, Class::Denied, &format!("--profile {name}: create beside the working directory"))?;
        crate::ensure!(!beside.join("made").exists(), "--profile {name}: the denied create left a file");
    }
    // linux-host-compat opens what the default closes: reading the shared /tmp.
    let fresh = tempfile::Builder::new().prefix("nono-conformance-").tempdir_in("/tmp").map_err(|e| e.to_string())?;
    let note = fresh.path().join("note.txt");
    std::fs::write(&note, "shared").map_err(|e| e.to_string())?;
    let d = cx.fx.dir("compat-d");
    let plain = with_home(cx.run(), &home).allow(&d).op(Op::read(&note))?;
    expect_class(&plain, Class::Denied, "control: read a /tmp file without a profile")?;
    let compat = with_home(cx.run(), &home).arg("--profile").arg("linux-host-compat").allow(&d).op(Op::read(&note))?;
    expect_class(&compat, Class::Allowed, "--profile linux-host-compat: read a /tmp file")?;
    crate::ensure!(compat.str_field("content") == Some("shared"), "read returned {:?}", compat.str_field("content"));
    Ok(())
}
