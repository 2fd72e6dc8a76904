//! A static checker for Seatbelt profiles, portable (it needs no Mac).
//!
//! `sandbox_init(3)` refuses a whole profile when one rule names an operation or filter it
//! does not know, and the program then never starts. On a Linux CI host nothing would
//! notice a misspelt `file-wirte*` in generated text: the golden vectors compare text with
//! text. This module reads a profile the way SBPL is written (parentheses, `"strings"`,
//! `#"regex strings"`, `; line comments` and `#| block comments |#`) and checks every name
//! it uses against the names of public profiles that macOS accepts, listed with their
//! sources in `fixtures/seatbelt-names/names.json`.
//!
//! What is checked, for the subset of SBPL that sandbox generators emit:
//!
//! * the text is well formed: parentheses balance, strings and block comments are closed;
//! * every top-level form is `(version N)`, `(allow ...)`, `(deny ...)` or `(debug ...)`;
//! * a rule names at least one operation, every operation is known, and operations come
//!   before filters;
//! * every filter head (`subpath`, `remote`, `require-all`, `with`, ...) is known, filters
//!   nest, and every bare word used as a filter argument (`self`, `AF_UNIX`, `tcp`) is known.
//!
//! Scheme beyond that (`define`, `if`, `param`) is refused: a generated profile has no use
//! for it, and a checker that skipped it would pass what it cannot judge.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// The names file, embedded so that an installed runner needs no source tree.
pub const NAMES_JSON: &str = include_str!("../../fixtures/seatbelt-names/names.json");

/// Known SBPL names, each with the keys of the public files it was read from.
#[derive(Debug, Deserialize)]
pub struct KnownNames {
    /// Top-level form heads.
    pub forms: BTreeMap<String, Vec<String>>,
    /// Operation names (`file-read*`).
    pub operations: BTreeMap<String, Vec<String>>,
    /// Filter heads, combinators and modifiers (`subpath`, `require-all`, `with`).
    pub filters: BTreeMap<String, Vec<String>>,
    /// Bare words allowed as filter arguments (`self`, `AF_UNIX`).
    pub symbols: BTreeMap<String, Vec<String>>,
    /// Where the names come from: key → repository, path, commit.
    pub sources: BTreeMap<String, Source>,
}

/// One public file the names were read from.
#[derive(Debug, Deserialize)]
pub struct Source {
    /// `owner/name` on GitHub.
    pub repo: String,
    /// The file inside the repository.
    pub path: String,
    /// The commit read, when known.
    #[serde(default)]
    pub commit: Option<String>,
    /// Why the commit is missing, or what exactly was read.
    #[serde(default)]
    pub note: Option<String>,
}

impl KnownNames {
    /// The embedded list. Panics with the reason if the file is malformed, which the
    /// fixture schema test rules out.
    pub fn embedded() -> &'static KnownNames {
        static NAMES: OnceLock<KnownNames> = OnceLock::new();
        NAMES.get_or_init(|| {
            let names: KnownNames =
                serde_json::from_str(NAMES_JSON).unwrap_or_else(|e| panic!("fixtures/seatbelt-names/names.json: {e}"));
            if let Err(why) = names.citations_resolve() {
                panic!("fixtures/seatbelt-names/names.json: {why}");
            }
            names
        })
    }

    /// Every name cites at least one source, and every cited source is listed.
    pub fn citations_resolve(&self) -> Result<(), String> {
        for (kind, names) in
            [("form", &self.forms), ("operation", &self.operations), ("filter", &self.filters), ("symbol", &self.symbols)]
        {
            for (name, cited) in names {
                if cited.is_empty() {
                    return Err(format!("{kind} {name} cites no source"));
                }
                if let Some(missing) = cited.iter().find(|key| !self.sources.contains_key(*key)) {
                    return Err(format!("{kind} {name} cites unknown source {missing}"));
                }
            }
        }
        Ok(())
    }
}

/// One thing wrong with a profile, at a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A datum of SBPL text.
#[derive(Clone, Debug, PartialEq)]
enum Datum {
    List(Vec<Datum>, usize),
    Symbol(String, usize),
    /// A string, regex string or number: never a name, so never checked.
    Literal(usize),
}

impl Datum {
    fn line(&self) -> usize {
        match self {
            Datum::List(_, line) | Datum::Symbol(_, line) | Datum::Literal(line) => *line,
        }
    }
}

/// Checks `profile` against the embedded names; every problem found, in text order.
pub fn check(profile: &str) -> Result<(), Vec<Problem>> {
    check_with(profile, KnownNames::embedded())
}

/// Checks `profile` against `names`.
pub fn check_with(profile: &str, names: &KnownNames) -> Result<(), Vec<Problem>> {
    let forms = read(profile).map_err(|p| vec![p])?;
    let mut problems = vec![];
    for form in &forms {
        top_level(form, names, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Every problem of a failed check, one per line, for a case's failure message.
pub fn describe(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n")
}

fn problem(problems: &mut Vec<Problem>, line: usize, message: String) {
    problems.push(Problem { line, message });
}

fn top_level(form: &Datum, names: &KnownNames, problems: &mut Vec<Problem>) {
    let Datum::List(items, line) = form else {
        return problem(problems, form.line(), "a bare word or literal outside any form".into());
    };
    let Some(Datum::Symbol(head, _)) = items.first() else {
        return problem(problems, *line, "a form must start with a name".into());
    };
    if !names.forms.contains_key(head) {
        return problem(problems, *line, format!("unknown top-level form ({head} ...)"));
    }
    let args = &items[1..];
    match head.as_str() {
        "version" => {
            if !matches!(args, [Datum::Literal(_)]) {
                problem(problems, *line, "(version N) takes exactly one number".into());
            }
        }
        "allow" | "deny" => rule(head, args, *line, names, problems),
        _ => {
            // (debug deny) and similar: bare words only, each known.
            for arg in args {
                symbol_argument(arg, names, problems);
            }
        }
    }
}

fn rule(action: &str, args: &[Datum], line: usize, names: &KnownNames, problems: &mut Vec<Problem>) {
    let operations = args.iter().take_while(|a| matches!(a, Datum::Symbol(..))).count();
    if operations == 0 {
        problem(problems, line, format!("({action} ...) names no operation"));
    }
    for arg in &args[..operations] {
        if let Datum::Symbol(op, at) = arg {
            if !names.operations.contains_key(op) {
                problem(problems, *at, format!("unknown operation {op}"));
            }
        }
    }
    for arg in &args[operations..] {
        match arg {
            Datum::List(..) => filter(arg, names, problems),
            Datum::Symbol(word, at) => problem(problems, *at, format!("operation {word} after a filter")),
            Datum::Literal(at) => problem(problems, *at, "a literal where a filter was expected".into()),
        }
    }
}

fn filter(datum: &Datum, names: &KnownNames, problems: &mut Vec<Problem>) {
    let Datum::List(items, line) = datum else {
        return;
    };
    let Some(Datum::Symbol(head, _)) = items.first() else {
        return problem(problems, *line, "a filter must start with its name".into());
    };
    if !names.filters.contains_key(head) {
        return problem(problems, *line, format!("unknown filter ({head} ...)"));
    }
    for arg in &items[1..] {
        match arg {
            Datum::List(..) => filter(arg, names, problems),
            Datum::Symbol(..) => symbol_argument(arg, names, problems),
            Datum::Literal(_) => {}
        }
    }
}

fn symbol_argument(datum: &Datum, names: &KnownNames, problems: &mut Vec<Problem>) {
    match datum {
        Datum::Symbol(word, at) if !names.symbols.contains_key(word) => {
            problem(problems, *at, format!("unknown word {word}"));
        }
        Datum::List(_, at) => problem(problems, *at, "a list where a word was expected".into()),
        _ => {}
    }
}

/// Reads the whole text into top-level data, or the first lexical problem.
fn read(text: &str) -> Result<Vec<Datum>, Problem> {
    let mut reader = Reader { bytes: text.as_bytes(), at: 0, line: 1 };
    let mut stack: Vec<(Vec<Datum>, usize)> = vec![];
    let mut top = vec![];
    while let Some(token) = reader.next_token()? {
        let datum = match token {
            Token::Open(line) => {
                stack.push((vec![], line));
                continue;
            }
            Token::Close(line) => {
                let (items, opened) = stack
                    .pop()
                    .ok_or(Problem { line, message: "a closing parenthesis without an opening one".into() })?;
                Datum::List(items, opened)
            }
            Token::Symbol(word, line) => Datum::Symbol(word, line),
            Token::Literal(line) => Datum::Literal(line),
        };
        match stack.last_mut() {
            Some((items, _)) => items.push(datum),
            None => top.push(datum),
        }
    }
    match stack.first() {
        Some((_, opened)) => Err(Problem { line: *opened, message: "a parenthesis opened here is never closed".into() }),
        None => Ok(top),
    }
}

enum Token {
    Open(usize),
    Close(usize),
    Symbol(String, usize),
    Literal(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl Reader<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek(0)?;
        self.at += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    fn next_token(&mut self) -> Result<Option<Token>, Problem> {
        loop {
            let line = self.line;
            let Some(byte) = self.peek(0) else { return Ok(None) };
            match byte {
                b if b.is_ascii_whitespace() => {
                    self.bump();
                }
                b';' => {
                    while self.peek(0).is_some_and(|b| b != b'\n') {
                        self.bump();
                    }
                }
                b'#' if self.peek(1) == Some(b'|') => {
                    self.at += 2;
                    loop {
                        match self.bump() {
                            None => return Err(Problem { line, message: "a block comment opened here is never closed".into() }),
                            Some(b'|') if self.peek(0) == Some(b'#') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                b'(' => {
                    self.bump();
                    return Ok(Some(Token::Open(line)));
                }
                b')' => {
                    self.bump();
                    return Ok(Some(Token::Close(line)));
                }
                b'"' => {
                    self.string(line, true)?;
                    return Ok(Some(Token::Literal(line)));
                }
                b'#' if self.peek(1) == Some(b'"') => {
                    // #"..." is a regex string: backslashes are the regex's, not escapes.
                    self.bump();
                    self.string(line, false)?;
                    return Ok(Some(Token::Literal(line)));
                }
                _ => {
                    let start = self.at;
                    while self.peek(0).is_some_and(|b| !b.is_ascii_whitespace() && !b"()\";".contains(&b)) {
                        self.bump();
                    }
                    let word = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
                    let is_number = word.parse::<f64>().is_ok() || word.starts_with("#o") || word.starts_with("#x");
                    return Ok(Some(if is_number { Token::Literal(line) } else { Token::Symbol(word, line) }));
                }
            }
        }
    }

    /// Consumes a string from its opening quote to its closing one.
    fn string(&mut self, line: usize, escapes: bool) -> Result<(), Problem> {
        self.bump();
        loop {
            match self.bump() {
                None => return Err(Problem { line, message: "a string opened here is never closed".into() }),
                Some(b'"') => return Ok(()),
                Some(b'\\') if escapes => {
                    self.bump();
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(profile: &str) -> Vec<String> {
        match check(profile) {
            Ok(()) => vec![],
            Err(problems) => problems.into_iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_names_file_cites_a_listed_source_for_every_name() {
        KnownNames::embedded().citations_resolve().unwrap();
    }

    #[test]
    fn a_profile_in_the_generators_shape_passes() {
        let profile = r#"(version 1)
(deny default)
(debug deny)
(allow process-exec*)
(allow process-info* (target self))
(deny mach-lookup (global-name "com.apple.securityd"))
(allow file-read* (subpath "/Users/a \"quoted\" \\ dir"))
(allow file-ioctl (regex #"^/dev/ttys[0-9]+$"))
; a comment (allow nothing
#| a block comment
   (file-wirte*) |#
(deny network*)
(allow system-socket (socket-domain AF_UNIX) (socket-type SOCK_STREAM))
(allow network-outbound (remote tcp "localhost:3128"))
(allow file-write-data (require-all (path "/dev/null") (vnode-type CHARACTER-DEVICE)))
"#;
        assert_eq!(messages(profile), Vec::<String>::new());
    }

    #[test]
    fn a_misspelt_operation_fails_naming_it_and_its_line() {
        let profile = "(version 1)\n(deny default)\n(allow file-wirte* (subpath \"/w\"))\n";
        assert_eq!(messages(profile), ["line 3: unknown operation file-wirte*"]);
    }

    #[test]
    fn unknown_filters_words_and_forms_fail() {
        assert_eq!(messages("(allow file-read* (subpaht \"/a\"))"), ["line 1: unknown filter (subpaht ...)"]);
        assert_eq!(messages("(allow signal (target selff))"), ["line 1: unknown word selff"]);
        assert_eq!(messages("(define x 1)"), ["line 1: unknown top-level form (define ...)"]);
        assert_eq!(messages("(allow (subpath \"/a\"))"), ["line 1: (allow ...) names no operation"]);
        assert_eq!(
            messages("(allow file-read* (subpath \"/a\") file-write*)"),
            ["line 1: operation file-write* after a filter"]
        );
    }

    #[test]
    fn malformed_text_fails_where_it_starts() {
        assert_eq!(messages("(version 1)\n(allow file-read*\n"), ["line 2: a parenthesis opened here is never closed"]);
        assert_eq!(messages("(version 1))"), ["line 1: a closing parenthesis without an opening one"]);
        assert_eq!(messages("(allow file-read* (literal \"/a))\n"), ["line 1: a string opened here is never closed"]);
        assert_eq!(messages("\n#| (allow default)\n"), ["line 2: a block comment opened here is never closed"]);
    }
}
