//! # The compatibility matrix
//!
//! Which implementation conforms to what, at a glance, from the results files the runner
//! writes (one per implementation, see [`ResultsFile`]). After Bowtie's report for JSON
//! Schema implementations and wpt.fyi's results across browsers:
//!
//! * `index.html`: one static page, classes and their statements down, implementations
//!   across; failing cells open to show the failing cases and their messages.
//! * `badges/<slug>-<class>.svg`: one shields.io-style badge per implementation and class.
//! * `matrix.md`: the class table for a README.
//! * a terminal summary ([`summary`]), returned for printing.
//!
//! ```no_run
//! let results = nono_conformance::matrix::load(&["nono.json", "kipz.json"])?;
//! let written = nono_conformance::matrix::write(&results, std::path::Path::new("matrix"))?;
//! print!("{}", written.summary);
//! # Ok::<(), String>(())
//! ```
//!
//! ## Statement links
//!
//! A statement links to its text at [`SPEC_URL`]`#<anchor>`, where the anchor is the
//! statement ID in lower case (`FS-READ-001` → `#fs-read-001`; see [`crate::spec::anchor`]),
//! which SPEC.md carries after each bold ID (`scripts/spec-anchors.sh` adds missing ones).

mod badge;
mod cell;
pub(crate) mod escape;
mod html;
mod markdown;
mod model;
mod summary;

pub use badge::text_width as badge_text_width;
pub use cell::{ClassCell, Mark, StatementCell};
pub use model::*;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where statements link to.
pub const SPEC_URL: &str = "https://github.com/nono-conformance/nono-conformance/blob/main/SPEC.md";

/// The link to a statement's text.
pub fn spec_url(id: &str) -> String {
    format!("{SPEC_URL}#{}", crate::spec::anchor(id))
}

/// Reads results files. An error names the file and, for bad content, the JSON path of
/// the offending value (`kipz.json: classes[2].verdict: unknown variant ...`).
pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<ResultsFile>, String> {
    if paths.is_empty() {
        return Err("no results files given".to_string());
    }
    let mut out: Vec<ResultsFile> = vec![];
    let mut slugs: HashMap<String, PathBuf> = HashMap::new();
    for path in paths {
        let path = path.as_ref();
        let file = load_one(path)?;
        if let Some(first) = slugs.insert(file.implementation.slug.clone(), path.to_path_buf()) {
            return Err(format!(
                "{}: implementation.slug: {:?} is also the slug of {}; each implementation needs its own",
                path.display(),
                file.implementation.slug,
                first.display()
            ));
        }
        out.push(file);
    }
    Ok(out)
}

fn load_one(path: &Path) -> Result<ResultsFile, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: cannot read: {e}"))?;
    let mut json = serde_json::Deserializer::from_str(&text);
    let mut file: ResultsFile = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let field = e.path().to_string();
        match field.as_str() {
            "." => format!("{at}: {}", e.inner()),
            _ => format!("{at}: {field}: {}", e.inner()),
        }
    })?;
    if file.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "{at}: schema_version: {} is not supported; this matrix reads version {SCHEMA_VERSION}",
            file.schema_version
        ));
    }
    check_slug(&file.implementation.slug).map_err(|why| format!("{at}: implementation.slug: {why}"))?;
    let mut seen = HashMap::new();
    for (n, c) in file.classes.iter().enumerate() {
        if let Some(first) = seen.insert(c.class, n) {
            return Err(format!("{at}: classes[{n}].class: {} is already listed at classes[{first}]", c.class));
        }
    }
    file.source = path.to_path_buf();
    Ok(file)
}

/// A slug names files (`badges/<slug>-core.svg`), so it must not be able to name a path
/// elsewhere: ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit.
fn check_slug(slug: &str) -> Result<(), String> {
    let starts_well = slug.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let all_safe = slug.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if starts_well && all_safe && slug.len() <= 64 {
        return Ok(());
    }
    Err(format!(
        "{slug:?} is not a usable slug (1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit)"
    ))
}

/// What [`write()`] produced.
#[derive(Clone, Debug)]
pub struct Written {
    /// The page.
    pub index: PathBuf,
    /// The README table.
    pub markdown: PathBuf,
    /// Every badge, implementation by implementation, classes in report order.
    pub badges: Vec<PathBuf>,
    /// The terminal summary (also available alone from [`summary`]).
    pub summary: String,
}

/// Writes `index.html`, `matrix.md` and `badges/` into `out_dir` (created if missing;
/// files of the same names are replaced) and returns the terminal summary with the paths.
pub fn write(results: &[ResultsFile], out_dir: &Path) -> Result<Written, String> {
    let badge_dir = out_dir.join("badges");
    std::fs::create_dir_all(&badge_dir).map_err(|e| format!("{}: cannot create: {e}", badge_dir.display()))?;
    let put = |path: PathBuf, text: String| -> Result<PathBuf, String> {
        std::fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        Ok(path)
    };
    let index = put(out_dir.join("index.html"), html::page(results))?;
    let markdown = put(out_dir.join("matrix.md"), markdown::table(results))?;
    let mut badges = vec![];
    for file in results {
        for class in crate::spec::Class::ALL {
            let name = format!("{}-{}.svg", file.implementation.slug, class.name());
            badges.push(put(badge_dir.join(name), badge::for_class(file, class))?);
        }
    }
    Ok(Written { index, markdown, badges, summary: summary(results) })
}

/// The terminal summary: classes by implementations, then what each implementation fails.
pub fn summary(results: &[ResultsFile]) -> String {
    summary::render(results)
}

/// The page alone, for callers that serve or embed it.
pub fn html(results: &[ResultsFile]) -> String {
    html::page(results)
}

/// The Markdown table alone.
pub fn markdown(results: &[ResultsFile]) -> String {
    markdown::table(results)
}

/// The badge of one implementation and class alone.
pub fn badge(file: &ResultsFile, class: crate::spec::Class) -> String {
    badge::for_class(file, class)
}

#[cfg(test)]
mod tests;
