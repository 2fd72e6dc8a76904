//! Truncation: `truncate(2)`, `ftruncate(2)`, `open(O_TRUNC)` and `creat`-style
//! `open(O_CREAT|O_TRUNC)` of an existing file need a write grant (Landlock ABI 3 adds the
//! truncate right; before it, `truncate(2)` on a read-only file is not enforceable).
//!
//! `ftruncate` needs a descriptor open for writing, so without a write grant it fails at
//! the open step already: the case asserts the class and the unchanged content.

use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::Path;
use crate::probe::Op;

/// One way of truncating an existing file holding "original", and its content afterwards.
struct Trunc {
    name: &'static str,
    args: fn(&Path) -> Op,
    after: &'static str,
}

const TRUNCS: &[Trunc] = &[
    Trunc { name: "truncate", args: |f| Op::truncate(f, 3), after: "ori" },
    Trunc { name: "ftruncate", args: |f| Op::ftruncate(f, 3), after: "ori" },
    Trunc { name: "open_trunc", args: |p| Op::open_trunc(p), after: "" },
    Trunc { name: "creat_trunc", args: |p| Op::creat_trunc(p), after: "" },
];

/// Grants that include writing `dir/f.txt`.
#[derive(Clone, Copy)]
enum WriteGrant {
    AllowDir,
    WriteDir,
    WriteFile,
}

impl WriteGrant {
    fn name(self) -> &'static str {
        match self {
            WriteGrant::AllowDir => "allow",
            WriteGrant::WriteDir => "write",
            WriteGrant::WriteFile => "write_file",
        }
    }

    fn apply(self, run: Run, dir: &Path, file: &Path) -> Run {
        match self {
            WriteGrant::AllowDir => run.allow(dir),
            WriteGrant::WriteDir => run.write(dir),
            WriteGrant::WriteFile => run.write_file(file),
        }
    }
}

/// Situations in which a file has no write grant.
#[derive(Clone, Copy)]
enum NoWrite {
    /// Beneath `--read DIR`.
    ReadDir,
    /// Granted `--read-file`.
    ReadFile,
    /// Outside every grant (while another directory is `--allow`ed).
    Outside,
}

impl NoWrite {
    fn name(self) -> &'static str {
        match self {
            NoWrite::ReadDir => "beneath_read_grant",
            NoWrite::ReadFile => "of_read_file_grant",
            NoWrite::Outside => "outside_grants",
        }
    }
}

pub fn cases() -> Vec<Case> {
    let mut out = vec![];
    for grant in [WriteGrant::AllowDir, WriteGrant::WriteDir, WriteGrant::WriteFile] {
        for t in TRUNCS {
            out.push(case(
                format!("linux.fs.trunc.{}_beneath_{}_grant_allowed", t.name, grant.name()),
                "Beneath a write grant this truncation succeeds and the file is cut as asked",
                &["FS-TRUNC-002"],
                move |cx| truncation_allowed(cx, grant, t),
            ));
        }
    }
    for situation in [NoWrite::ReadDir, NoWrite::ReadFile, NoWrite::Outside] {
        for t in TRUNCS {
            out.push(
                case(
                    format!("linux.fs.trunc.{}_{}_denied", t.name, situation.name()),
                    "Without a write grant this truncation is denied and the file keeps its content, while the grants given still work",
                    &["FS-TRUNC-001"],
                    move |cx| truncation_denied(cx, situation, t),
                )
                .requires(Requirement::LandlockAbi(3)),
            );
        }
    }
    out
}

fn truncation_allowed(cx: &Ctx, grant: WriteGrant, t: &Trunc) -> CaseResult {
    let dir = cx.fx.dir("dir");
    let file = cx.fx.file("dir/f.txt", "original");
    let r = grant.apply(cx.run(), &dir, &file).op((t.args)(&file))?;
    expect_class(&r, Class::Allowed, t.name)?;
    let seen = cx.fx.read("dir/f.txt");
    crate::ensure!(seen.as_deref() == Some(t.after), "after {}: content {seen:?}, expected {:?}", t.name, t.after);
    Ok(())
}

fn truncation_denied(cx: &Ctx, situation: NoWrite, t: &Trunc) -> CaseResult {
    let dir = cx.fx.dir("dir");
    let file = cx.fx.file("dir/f.txt", "original");
    let granted = cx.fx.dir("granted");
    let writable = cx.fx.file("granted/w.txt", "original");
    let run = match situation {
        NoWrite::ReadDir => cx.run().read(&dir),
        NoWrite::ReadFile => cx.run().read_file(&file),
        NoWrite::Outside => cx.run().allow(&granted),
    };
    let r = run.op((t.args)(&file))?;
    expect_class(&r, Class::Denied, &format!("{} without a write grant", t.name))?;
    let seen = cx.fx.read("dir/f.txt");
    crate::ensure!(seen.as_deref() == Some("original"), "a denied {} changed the file to {seen:?}", t.name);
    match situation {
        NoWrite::ReadDir | NoWrite::ReadFile => {
            let ok = run.op(Op::read(&file))?;
            expect_class(&ok, Class::Allowed, "read the file under the same read grant")?;
            crate::ensure!(ok.str_field("content") == Some("original"), "read returned {:?}", ok.str_field("content"));
        }
        NoWrite::Outside => {
            let ok = run.op((t.args)(&writable))?;
            expect_class(&ok, Class::Allowed, &format!("{} inside the --allow grant", t.name))?;
            let seen = cx.fx.read("granted/w.txt");
            crate::ensure!(seen.as_deref() == Some(t.after), "after {} inside the grant: {seen:?}", t.name);
        }
    }
    Ok(())
}
