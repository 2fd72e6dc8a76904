//! File grants: `--allow-file`, `--read-file` and `--write-file` cover exactly one file and
//! nothing else in its directory; a directory flag given a file (or the reverse) is an error
//! and the program never starts.

use super::fs_read::{arg, tree};
use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::{expect_class, Run};
use std::path::Path;
use crate::probe::Op;

/// The two file grants that include writing.
#[derive(Clone, Copy)]
enum FileGrant {
    /// `--allow-file`: read and write.
    Allow,
    /// `--write-file`: write only.
    Write,
}

impl FileGrant {
    fn name(self) -> &'static str {
        match self {
            FileGrant::Allow => "allow_file",
            FileGrant::Write => "write_file",
        }
    }

    fn apply(self, run: Run, file: &Path) -> Run {
        match self {
            FileGrant::Allow => run.allow_file(file),
            FileGrant::Write => run.write_file(file),
        }
    }
}

pub fn cases() -> Vec<Case> {
    let mut out = vec![
        case(
            "linux.fs.file.allow_file_grant_modifies_and_reads_file",
            "A read-write file grant allows overwriting the file and reading the new content back",
            &["FS-FILE-001"],
            allow_file_grant_modifies_and_reads_file,
        ),
        case(
            "linux.fs.file.allow_file_grant_appends_to_file",
            "A read-write file grant allows appending to the file",
            &["FS-FILE-001"],
            allow_file_grant_appends_to_file,
        ),
        case(
            "linux.fs.file.write_file_grant_modifies_file",
            "A write-only file grant allows overwriting the file",
            &["FS-FILE-001"],
            write_file_grant_modifies_file,
        ),
        case(
            "linux.fs.file.write_file_grant_denies_reading",
            "A write-only file grant denies reading the file while writing it works",
            &["FS-FILE-003"],
            write_file_grant_denies_reading,
        ),
    ];
    for grant in [FileGrant::Allow, FileGrant::Write] {
        for attempt in NEIGHBOUR_ATTEMPTS {
            out.push(case(
                format!("linux.fs.file.{}_grant_denies_{}", grant.name(), attempt.name),
                "A file grant allows nothing else in the file's directory: this attempt is denied and changes nothing, while writing the granted file works",
                &["FS-FILE-002"],
                move |cx| file_grant_denies_neighbour(cx, grant, attempt),
            ));
        }
    }
    for mistake in FLAG_MISTAKES {
        out.push(case(
            format!("linux.fs.file.{}_is_an_error", mistake.name),
            "A directory flag given a file, or a file flag given a directory, exits 1 naming the path without running the program; the right flag runs it",
            &["FS-FILE-004"],
            move |cx| flag_mistake_is_an_error(cx, mistake),
        ));
        out.push(case(
            format!("linux.fs.file.{}_error_names_the_flag", mistake.name),
            "The error for a directory flag given a file, or a file flag given a directory, names the flag",
            &["FS-FILE-005"],
            move |cx| flag_mistake_names_the_flag(cx, mistake),
        ));
    }
    out
}

fn allow_file_grant_modifies_and_reads_file(cx: &Ctx) -> CaseResult {
    let file = cx.fx.file("dir/f.txt", "original");
    let run = cx.run().allow_file(&file);
    let r = run.op(Op::write(&file, "CHANGED!"))?;
    expect_class(&r, Class::Allowed, "overwrite the granted file")?;
    crate::ensure!(cx.fx.read("dir/f.txt").as_deref() == Some("CHANGED!"), "content: {:?}", cx.fx.read("dir/f.txt"));
    let back = run.op(Op::read(&file))?;
    expect_class(&back, Class::Allowed, "read the granted file")?;
    crate::ensure!(back.str_field("content") == Some("CHANGED!"), "read back {:?}", back.str_field("content"));
    Ok(())
}

fn allow_file_grant_appends_to_file(cx: &Ctx) -> CaseResult {
    let file = cx.fx.file("dir/f.txt", "original");
    let r = cx.run().allow_file(&file).op(Op::append(&file, "+more"))?;
    expect_class(&r, Class::Allowed, "append to the granted file")?;
    crate::ensure!(
        cx.fx.read("dir/f.txt").as_deref() == Some("original+more"),
        "content: {:?}",
        cx.fx.read("dir/f.txt")
    );
    Ok(())
}

fn write_file_grant_modifies_file(cx: &Ctx) -> CaseResult {
    let file = cx.fx.file("dir/f.txt", "original");
    let r = cx.run().write_file(&file).op(Op::write(&file, "CHANGED!"))?;
    expect_class(&r, Class::Allowed, "overwrite the write-only granted file")?;
    crate::ensure!(cx.fx.read("dir/f.txt").as_deref() == Some("CHANGED!"), "content: {:?}", cx.fx.read("dir/f.txt"));
    Ok(())
}

fn write_file_grant_denies_reading(cx: &Ctx) -> CaseResult {
    let file = cx.fx.file("dir/f.txt", "original");
    let run = cx.run().write_file(&file);
    let r = run.op(Op::read(&file))?;
    expect_class(&r, Class::Denied, "read the write-only granted file")?;
    crate::ensure!(r.str_field("content").is_none(), "a denied read returned content");
    let ok = run.op(Op::write(&file, "CHANGED!"))?;
    expect_class(&ok, Class::Allowed, "write the same file")?;
    crate::ensure!(cx.fx.read("dir/f.txt").as_deref() == Some("CHANGED!"), "content: {:?}", cx.fx.read("dir/f.txt"));
    Ok(())
}

/// Something attempted in the directory of a granted `f.txt`, next to `sibling.txt`
/// ("sibling"). `args` gets that directory.
struct Attempt {
    name: &'static str,
    args: fn(&Path) -> Op,
}

const NEIGHBOUR_ATTEMPTS: &[Attempt] = &[
    Attempt { name: "creating_a_sibling", args: |d| Op::create(d.join("new.txt")) },
    Attempt { name: "making_a_sibling_dir", args: |d| Op::mkdir(d.join("newdir")) },
    Attempt { name: "unlinking_the_granted_file", args: |d| Op::unlink(d.join("f.txt")) },
    Attempt { name: "renaming_the_granted_file", args: |d| Op::rename(d.join("f.txt"), d.join("renamed.txt")) },
    Attempt { name: "reading_a_sibling", args: |d| Op::read(d.join("sibling.txt")) },
    Attempt { name: "writing_a_sibling", args: |d| Op::write(d.join("sibling.txt"), "CHANGED!") },
    Attempt { name: "listing_the_directory", args: |p| Op::readdir(p) },
];

fn file_grant_denies_neighbour(cx: &Ctx, grant: FileGrant, attempt: &Attempt) -> CaseResult {
    let dir = cx.fx.dir("dir");
    let file = cx.fx.file("dir/f.txt", "original");
    cx.fx.file("dir/sibling.txt", "sibling");
    let before = tree(&dir);
    let run = grant.apply(cx.run(), &file);
    let r = run.op((attempt.args)(&dir))?;
    expect_class(&r, Class::Denied, attempt.name)?;
    let after = tree(&dir);
    crate::ensure!(before == after, "denied {} changed the directory: {before:?} became {after:?}", attempt.name);
    let ok = run.op(Op::write(&file, "CHANGED!"))?;
    expect_class(&ok, Class::Allowed, "write the granted file under the same grant")?;
    crate::ensure!(cx.fx.read("dir/f.txt").as_deref() == Some("CHANGED!"), "content: {:?}", cx.fx.read("dir/f.txt"));
    Ok(())
}

/// A flag given the wrong kind of path, and the flag that fits that path.
struct FlagMistake {
    name: &'static str,
    wrong: &'static str,
    right: &'static str,
    /// True when the path given is a directory (else a regular file).
    path_is_dir: bool,
}

const FLAG_MISTAKES: &[FlagMistake] = &[
    FlagMistake { name: "allow_given_a_file", wrong: "--allow", right: "--allow-file", path_is_dir: false },
    FlagMistake { name: "read_given_a_file", wrong: "--read", right: "--read-file", path_is_dir: false },
    FlagMistake { name: "write_given_a_file", wrong: "--write", right: "--write-file", path_is_dir: false },
    FlagMistake { name: "allow_file_given_a_dir", wrong: "--allow-file", right: "--allow", path_is_dir: true },
    FlagMistake { name: "read_file_given_a_dir", wrong: "--read-file", right: "--read", path_is_dir: true },
    FlagMistake { name: "write_file_given_a_dir", wrong: "--write-file", right: "--write", path_is_dir: true },
];

fn flag_mistake_is_an_error(cx: &Ctx, mistake: &FlagMistake) -> CaseResult {
    let out = cx.fx.dir("out");
    let path = if mistake.path_is_dir { cx.fx.dir("target-dir") } else { cx.fx.file("target-file.txt", "x") };
    let marker = out.join("ran");
    // The probe proves it ran by creating a marker in a writable directory.
    let probe = |flag: &str| cx.run().allow(&out).arg(flag).arg(&path).probe(Op::create(&marker));

    let bad = probe(mistake.wrong);
    crate::ensure!(bad.code == 1, "{} on a {}: expected exit 1; {bad}", mistake.wrong, kind(mistake));
    crate::ensure!(bad.stderr.contains(arg(&path)), "the error must name the path {}; {bad}", path.display());
    crate::ensure!(!cx.fx.exists("out/ran"), "the program ran although the grant was an error; {bad}");

    let good = probe(mistake.right);
    crate::ensure!(
        good.code == 0,
        "{} on the same {}: expected the program to run; {good}",
        mistake.right,
        kind(mistake)
    );
    expect_class(&good.probe()?, Class::Allowed, "create the marker with the right flag")?;
    crate::ensure!(cx.fx.exists("out/ran"), "with the right flag the probe reported success but no marker exists");
    Ok(())
}

fn flag_mistake_names_the_flag(cx: &Ctx, mistake: &FlagMistake) -> CaseResult {
    let out = cx.fx.dir("out");
    let path = if mistake.path_is_dir { cx.fx.dir("target-dir") } else { cx.fx.file("target-file.txt", "x") };
    let bad = cx.run().allow(&out).arg(mistake.wrong).arg(&path).probe(Op::create(out.join("ran")));
    crate::ensure!(bad.code == 1, "{} on a {}: expected exit 1; {bad}", mistake.wrong, kind(mistake));
    crate::ensure!(names_flag(&bad.stderr, mistake.wrong), "the error must name the flag {}; {bad}", mistake.wrong);
    Ok(())
}

/// True when `flag` occurs in `text` as a whole flag (`--read` inside `--read-file` does not
/// count).
fn names_flag(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(i, _)| {
        let next = text[i + flag.len()..].chars().next();
        !matches!(next, Some(c) if c == '-' || c.is_alphanumeric())
    })
}

fn kind(mistake: &FlagMistake) -> &'static str {
    if mistake.path_is_dir {
        "directory"
    } else {
        "file"
    }
}
