//! What the macOS battery covers, written into `docs/macos.md` and `docs/macos-cases.md`,
//! and checked by the tests below so that neither document can go stale.
//!
//! * The statement table: every statement of the classes a macOS implementation claims
//!   besides `seatbelt` (`core`, `profiles`, `supervisor`, `mediation`), with how many
//!   macOS cases cite it and how many portable cases (which run on every host, a Mac
//!   included). A statement no macOS case cites is either listed in [`NOT_ON_MACOS`] with
//!   the source that says why it does not apply, or a gap, which the test refuses.
//! * The case list: every macOS case, counted per family and listed in full. None of them
//!   has run on this project's development machines (Linux); a Mac runs them with
//!   `cargo nextest run --workspace --features macos-seatbelt`.
//!
//! Regenerate both documents with
//! `NONO_UPDATE_DOCS=1 cargo nextest run -p nono-conformance -E 'test(/macos_docs/)'`.

use crate::case::{Case, Platform};
use crate::spec::{self, Class, Level};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The classes whose statements the table lists.
pub const CLASSES: [Class; 4] = [Class::Core, Class::Profiles, Class::Supervisor, Class::Mediation];

/// Statements of [`CLASSES`] that do not apply on macOS, each with the reason and its
/// source. The test below refuses an entry that a macOS case cites after all.
pub const NOT_ON_MACOS: &[(&str, &str)] = &[
    ("CORE-APPLY-001", "about Linux kernels without Landlock (its text says so); macOS always has Seatbelt (core-spec SB-08)"),
    ("CORE-APPLY-002", "about Landlock below ABI 4; on macOS every TCP port filter is refused (core-spec SB-01 item 20, SB-APPLY-007)"),
    (
        "CORE-IMPLICIT-001",
        "its devices and `/proc/self/fd` are Linux's; on macOS the implicit grants are nono's `system_read_macos` group and four devices (core-spec DENY-02), checked in the generated profile (SB-GEN-021)",
    ),
    (
        "FS-LINK-005",
        "Seatbelt checks a symbolic link's own path while resolving it, which is why nono emits both spellings of a grant (core-spec SB-03): a link outside every grant is not traversable",
    ),
    ("FS-META-001", "a MAY about Landlock, which does not restrict `stat(2)`; Seatbelt allows metadata only on the ancestors of grants (core-spec SB-01 item 11)"),
    ("FS-PROC-001", "macOS has no `/proc`"),
    ("FS-PROC-002", "macOS has no `/proc`"),
    (
        "FS-REFER-005",
        "Seatbelt checks hard links as `file-link`, which no rule of the profile names (core-spec SB-01): every hard link is denied, so a case would have no allowed control",
    ),
    ("FS-REFER-006", "`RENAME_EXCHANGE` is a flag of Linux's `renameat2(2)`; macOS swaps with `renamex_np(2)`"),
    (
        "FS-REFER-007",
        "Seatbelt checks hard links as `file-link`, which no rule of the profile names (core-spec SB-01): every hard link is denied, so a case would have no allowed control",
    ),
    (
        "FS-REFER-008",
        "Seatbelt checks hard links as `file-link`, which no rule of the profile names (core-spec SB-01): every hard link is denied, so a case would have no allowed control",
    ),
    (
        "FS-WRITE-007",
        "creating a device node is its own Seatbelt operation, which no rule of the profile names (core-spec SB-01): it is denied everywhere, so there is no allowed control",
    ),
    ("NET-PROXY-003", "Landlock's by its text (ABI 4, `EACCES`); on macOS the proxy-only connect rule is SB-APPLY-008 (core-spec SB-05)"),
    ("NET-PROXY-006", "Seatbelt cannot restrict `bind(2)` to a port: proxy mode with a listen port allows every bind (core-spec SB-05)"),
    ("NET-PROXY-008", "about Landlock below ABI 4"),
    ("NET-TCP-004", "TCP port filters are refused on macOS: Seatbelt cannot filter TCP by port (core-spec SB-01 item 20, SB-APPLY-007)"),
    ("NET-TCP-005", "TCP port filters are refused on macOS: Seatbelt cannot filter TCP by port (core-spec SB-01 item 20, SB-APPLY-007)"),
    ("NET-TCP-008", "TCP port filters are refused on macOS: Seatbelt cannot filter TCP by port (core-spec SB-01 item 20, SB-APPLY-007)"),
    ("NET-TCP-006", "about TCP port filters, which macOS refuses (core-spec SB-01 item 20); `--block-net` on macOS is NET-TCP-001..003"),
    ("NET-TCP-007", "TCP port filters are refused on macOS: Seatbelt cannot filter TCP by port (core-spec SB-01 item 20, SB-APPLY-007)"),
    (
        "PROC-NEST-001",
        "Seatbelt cannot nest: `sandbox_init` fails inside a sandbox, so the inner run is refused (core-spec SB-08; SB-NEST-001, `macos.seatbelt.nested_*`)",
    ),
    ("PROC-NNP-001", "`no_new_privs` is a Linux process flag (`prctl(2)`)"),
    ("PROC-PTRACE-001", "Linux `ptrace` and Yama; nono's macOS child calls `ptrace(PT_DENY_ATTACH)` instead (core-spec SB-09)"),
    ("PROC-PTRACE-002", "Linux `ptrace` and Yama; nono's macOS child calls `ptrace(PT_DENY_ATTACH)` instead (core-spec SB-09)"),
    ("PROT-DENY-001", "Linux's by its text; on macOS the protected path stays denied inside the grant (PROT-MACOS-001, core-spec DENY-04)"),
    ("PROT-DENY-004", "Linux's by its text; on macOS the deny rules name each protected path in both its forms (core-spec DENY-03, DENY-04)"),
    ("PROT-STATE-001", "Linux's by its text; on macOS a deny rule keeps the state root closed inside a grant (core-spec DENY-04)"),
    ("SCOPE-SIG-001", "a Landlock ABI 6 scope by its text; Seatbelt's signal rule is `(target same-sandbox)` (core-spec SB-01 item 8)"),
    ("SCOPE-SIG-003", "a Landlock ABI 6 scope by its text; Seatbelt's signal rule is `(target same-sandbox)` (core-spec SB-01 item 8)"),
    ("SCOPE-UNIX-001", "abstract Unix sockets are Linux's; macOS has none"),
    ("SCOPE-UNIX-002", "abstract Unix sockets are Linux's; macOS has none"),
    (
        "SYS-HOME-001",
        "nono's `system_read_macos` group, which the reference follows, makes `/private` and so `/var/tmp` readable (core-spec DENY-02)",
    ),
    ("FS-DEV-001", "Landlock's ioctl right (ABI 5) by its text; Seatbelt's `file-ioctl` rules differ (core-spec SB-01 item 13: fixed terminal rules plus one per write grant)"),
    ("FS-DEV-002", "Landlock's ioctl right (ABI 5) by its text; Seatbelt's `file-ioctl` rules differ (core-spec SB-01 item 13: fixed terminal rules plus one per write grant)"),
    ("FS-DEV-003", "Landlock's ioctl right (ABI 5) and Linux's `/dev/pts` by its text"),
    ("SYS-READ-001", "Linux's by its text (`/etc` layout, `ld.so.cache`)"),
    ("SYS-READ-002", "Linux's by its text (`/proc`)"),
    ("SYS-READ-005", "Linux's by its text (nono's `user_tools` group as the Linux run lists it, core-spec PRF-11)"),
    ("SYS-TMP-001", "Linux's by its text"),
    ("SYS-TMP-002", "a MAY about nono's `system_write_linux` group: nothing to check"),
    ("PRF-RUN-006", "Linux's by its text; on macOS Seatbelt enforces a deny inside a grant (SB-APPLY-003)"),
];

/// Statements of [`CLASSES`] that apply on macOS and that only Linux cases check so far,
/// each with why the Linux case cannot simply run there. These are the open work items.
pub const MACOS_GAPS: &[(&str, &str)] = &[];

/// Where a statement stands on macOS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// macOS cases cite it.
    Checked,
    /// Only portable cases (every host) cite it.
    Portable,
    /// It does not apply on macOS, for this reason ([`NOT_ON_MACOS`]).
    NotOnMacos(&'static str),
    /// Only Linux cases check it, for this reason ([`MACOS_GAPS`]).
    Gap(&'static str),
    /// No case on any platform cites it (a SHOULD or MAY left to unit tests, or a MUST the
    /// suite's own self-check reports).
    NoCaseAnywhere,
    /// Only Linux cases check it and nothing says why: the test below refuses this.
    Unexplained,
}

/// One statement of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The statement's ID.
    pub id: String,
    /// Its class.
    pub class: Class,
    /// Its level.
    pub level: Level,
    /// macOS cases citing it.
    pub macos: usize,
    /// Portable cases (every host) citing it.
    pub portable: usize,
    /// Where it stands.
    pub standing: Standing,
}

fn listed(list: &'static [(&'static str, &'static str)], id: &str) -> Option<&'static str> {
    list.iter().find(|(listed, _)| *listed == id).map(|(_, why)| *why)
}

/// The rows, class by class in [`CLASSES`] order, IDs sorted within a class.
pub fn rows(cases: &[Case]) -> Vec<Row> {
    let citing = |id: &str, platform: Option<Platform>| {
        cases.iter().filter(|c| platform.is_none_or(|p| c.platform == p) && c.spec.iter().any(|s| s == id)).count()
    };
    let mut rows = vec![];
    for class in CLASSES {
        for statement in spec::statements().values().filter(|s| s.class == Some(class)) {
            let id = statement.id.as_str();
            let (macos, portable) = (citing(id, Some(Platform::MacOs)), citing(id, Some(Platform::Any)));
            let standing = if macos > 0 {
                Standing::Checked
            } else if portable > 0 {
                Standing::Portable
            } else if let Some(why) = listed(NOT_ON_MACOS, id) {
                Standing::NotOnMacos(why)
            } else if let Some(why) = listed(MACOS_GAPS, id) {
                Standing::Gap(why)
            } else if citing(id, None) == 0 {
                Standing::NoCaseAnywhere
            } else {
                Standing::Unexplained
            };
            rows.push(Row { id: id.to_string(), class, level: statement.level, macos, portable, standing });
        }
    }
    rows
}

/// The Markdown of the statement table: a summary per class, then one line per statement.
pub fn statement_table(cases: &[Case]) -> String {
    let rows = rows(cases);
    let mut out = String::new();
    out.push_str("| Class | Statements | Checked by macOS cases | By portable cases only | Not on macOS | Gaps (Linux cases only) | No case on any platform |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    let mut totals = [0usize; 6];
    for class in CLASSES {
        let of: Vec<&Row> = rows.iter().filter(|r| r.class == class).collect();
        let n = |f: fn(&Standing) -> bool| of.iter().filter(|r| f(&r.standing)).count();
        let counts = [
            of.len(),
            n(|s| *s == Standing::Checked),
            n(|s| *s == Standing::Portable),
            n(|s| matches!(s, Standing::NotOnMacos(_))),
            n(|s| matches!(s, Standing::Gap(_) | Standing::Unexplained)),
            n(|s| *s == Standing::NoCaseAnywhere),
        ];
        for (total, c) in totals.iter_mut().zip(counts) {
            *total += c;
        }
        let [a, b, c, d, e, f] = counts;
        let _ = writeln!(out, "| {class} | {a} | {b} | {c} | {d} | {e} | {f} |");
    }
    let [a, b, c, d, e, f] = totals;
    let _ = writeln!(out, "| **all** | **{a}** | **{b}** | **{c}** | **{d}** | **{e}** | **{f}** |");
    out.push_str("\n| Statement | Class | Level | macOS cases | Portable cases | Standing on macOS |\n");
    out.push_str("|---|---|---|---:|---:|---|\n");
    for r in &rows {
        let standing = match &r.standing {
            Standing::Checked => "checked".to_string(),
            Standing::Portable => "portable cases".to_string(),
            Standing::NotOnMacos(why) => format!("not on macOS: {why}"),
            Standing::Gap(why) => format!("**gap**: {why}"),
            Standing::NoCaseAnywhere => "no case on any platform".to_string(),
            Standing::Unexplained => "**gap, unexplained**".to_string(),
        };
        let _ = writeln!(
            out,
            "| [{id}](../SPEC.md#{anchor}) | {} | {} | {} | {} | {standing} |",
            r.class,
            r.level,
            r.macos,
            r.portable,
            id = r.id,
            anchor = spec::anchor(&r.id)
        );
    }
    out
}

/// The macOS cases, sorted by ID.
pub fn macos_cases(all: Vec<Case>) -> Vec<Case> {
    let mut cases: Vec<Case> = all.into_iter().filter(|c| c.platform == Platform::MacOs).collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

/// Cases per family (the ID without its last segment), as a Markdown table.
pub fn family_counts(cases: &[Case]) -> String {
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        *families.entry(case.category()).or_default() += 1;
    }
    let mut out = String::from("| Family | Cases |\n|---|---:|\n");
    for (family, n) in &families {
        let _ = writeln!(out, "| `{family}` | {n} |");
    }
    let _ = writeln!(out, "| **all** | **{}** |", cases.len());
    out
}

/// Every macOS case: ID, class, level, statements and title, as a Markdown table.
pub fn case_list(cases: &[Case]) -> String {
    let mut out = String::from("| Case | Class | Level | Statements | What it checks |\n|---|---|---|---|---|\n");
    for case in cases {
        let class = case.class().map(|c| c.name()).unwrap_or("?");
        let _ = writeln!(
            out,
            "| `{}` | {class} | {} | {} | {} |",
            case.id,
            case.level(),
            case.spec.join(", "),
            case.title.replace('|', "\\|")
        );
    }
    out
}

/// Replaces the text between `<!-- begin NAME -->` and `<!-- end NAME -->` in `doc`.
/// Panics, naming the marker, when it is missing.
pub fn splice(doc: &str, name: &str, body: &str) -> String {
    let (begin, end) = (format!("<!-- begin {name} -->\n"), format!("<!-- end {name} -->"));
    let start = doc.find(&begin).unwrap_or_else(|| panic!("marker {begin:?} missing")) + begin.len();
    let stop = doc[start..].find(&end).unwrap_or_else(|| panic!("marker {end:?} missing")) + start;
    format!("{}{body}{}", &doc[..start], &doc[stop..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn docs() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs")
    }

    /// Compares `path` with `want`; with `NONO_UPDATE_DOCS=1` writes `want` instead.
    fn current(path: PathBuf, want: String) {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            return;
        }
        if std::env::var_os("NONO_UPDATE_DOCS").is_some() {
            std::fs::write(&path, want).unwrap();
            return;
        }
        panic!(
            "{} is stale: regenerate it with NONO_UPDATE_DOCS=1 cargo nextest run -p nono-conformance -E 'test(/macos_docs/)'",
            path.display()
        );
    }

    #[test]
    fn macos_docs_statement_table_and_case_counts_are_current() {
        let all = crate::cases::all();
        let cases = macos_cases(all.clone());
        let path = docs().join("macos.md");
        let doc = std::fs::read_to_string(&path).expect("docs/macos.md");
        let doc = splice(&doc, "statement-table", &statement_table(&all));
        let doc = splice(&doc, "family-counts", &family_counts(&cases));
        current(path, doc);
    }

    #[test]
    fn macos_docs_case_list_is_current() {
        let cases = macos_cases(crate::cases::all());
        let mut doc = String::from(
            "# Every macOS case\n\nGenerated from the suite by `conformance/src/cases/macos/coverage.rs` (the same list as\n`nono-conformance list --platform macos`); see `docs/macos.md` for how to run them on a Mac.\nNone of them has run on the project's Linux development machines.\n\n",
        );
        doc.push_str(&case_list(&cases));
        current(docs().join("macos-cases.md"), doc);
    }

    #[test]
    fn every_statement_macos_does_not_check_says_why() {
        let unexplained: Vec<String> =
            rows(&crate::cases::all()).into_iter().filter(|r| r.standing == Standing::Unexplained).map(|r| r.id).collect();
        assert!(
            unexplained.is_empty(),
            "only Linux cases check these: add a macOS case, or list them in NOT_ON_MACOS (with the source) or MACOS_GAPS: {unexplained:?}"
        );
    }

    #[test]
    fn every_listed_statement_exists_in_a_listed_class_and_is_not_checked_on_macos() {
        let rows = rows(&crate::cases::all());
        for (id, _) in NOT_ON_MACOS.iter().chain(MACOS_GAPS) {
            let row = rows.iter().find(|r| r.id == *id).unwrap_or_else(|| panic!("{id} is not a statement of {CLASSES:?}"));
            assert!(
                row.macos == 0 && row.portable == 0,
                "{id} is listed as not checked on macOS, but {} macOS and {} portable cases cite it: remove the entry",
                row.macos,
                row.portable
            );
        }
        for (id, _) in NOT_ON_MACOS {
            assert!(listed(MACOS_GAPS, id).is_none(), "{id} is listed both as not applying and as a gap");
        }
    }
}
