//! Reading: a read grant on a directory covers everything beneath it and nothing beside it.

use crate::case::{case, Case, CaseResult, Ctx};
use crate::outcome::Class;
use crate::runner::expect_class;

pub fn cases() -> Vec<Case> {
    vec![case(
        "linux.fs.read.dir_grant_covers_nested_file_not_sibling",
        "A read grant on a directory allows reading a nested file and denies a sibling directory's file",
        &["FS-READ-001", "FS-READ-002"],
        dir_grant_covers_nested_file_not_sibling,
    )]
}

fn dir_grant_covers_nested_file_not_sibling(cx: &Ctx) -> CaseResult {
    let granted = cx.fx.dir("granted");
    let nested = cx.fx.file("granted/a/b/nested.txt", "nested");
    let sibling = cx.fx.file("sibling/secret.txt", "secret");
    let run = cx.run().read(&granted);
    let ok = run.op(["read", nested.to_str().unwrap()])?;
    expect_class(&ok, Class::Allowed, "read nested file")?;
    crate::ensure!(ok.str_field("content") == Some("nested"), "read returned {:?}", ok.str_field("content"));
    let denied = run.op(["read", sibling.to_str().unwrap()])?;
    expect_class(&denied, Class::Denied, "read sibling file")
}
