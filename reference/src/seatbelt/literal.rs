//! SBPL literals: paths and strings made safe to write into a profile, and the error for
//! what cannot be written faithfully (control characters, non-UTF-8 bytes, relative paths,
//! TCP port filters). Shared by the generator ([`super::sbpl`]) and the deny-log parser
//! ([`super::log`]).

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Why a profile cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SbplError {
    /// A path or name holds a control character (U+0000–U+001F, U+007F–U+009F). It is
    /// refused, never stripped: a stripped path would name a different file.
    ControlCharacter {
        /// What the text is (`path`, `unix socket path`, ...).
        what: &'static str,
        /// The text, debug-escaped.
        text: String,
        /// The offending character.
        character: char,
    },
    /// A path is not valid UTF-8 and cannot be written into a profile.
    NotUtf8 {
        /// What the path is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// A path is relative; a rule can only name absolute paths.
    NotAbsolute {
        /// What the path is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// TCP connect or bind port lists were given: Seatbelt cannot filter TCP by port.
    PortFilterUnsupported {
        /// The connect ports asked for.
        connect: Vec<u16>,
        /// The bind ports asked for.
        bind: Vec<u16>,
    },
    /// A directory-scoped unix-socket grant on `/` would cover every socket.
    SocketDirIsRoot,
}

impl fmt::Display for SbplError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SbplError::ControlCharacter { what, text, character } => write!(
                f,
                "{what} {text} contains a control character (U+{:04X}); a Seatbelt profile cannot hold it, and stripping it would name another path",
                *character as u32
            ),
            SbplError::NotUtf8 { what, path } => {
                write!(f, "{what} {} is not valid UTF-8 and cannot be written into a Seatbelt profile", path.display())
            }
            SbplError::NotAbsolute { what, path } => {
                write!(f, "{what} {} is relative; Seatbelt rules name absolute paths", path.display())
            }
            SbplError::PortFilterUnsupported { connect, bind } => write!(
                f,
                "Seatbelt cannot filter TCP by port (connect ports {connect:?}, bind ports {bind:?}); use a proxy port or block the network"
            ),
            SbplError::SocketDirIsRoot => {
                write!(f, "a unix socket directory grant at the filesystem root is not permitted")
            }
        }
    }
}

impl std::error::Error for SbplError {}

/// The rendered resolved path, and the path as given when it is absolute and differs.
/// Both are checked for control characters and UTF-8; the resolved one must be absolute.
pub(super) fn forms(what: &'static str, resolved: &Path, original: &Path) -> Result<Vec<String>, SbplError> {
    let mut out = vec![render(what, resolved)?];
    if original.is_absolute() {
        let given = render(what, original)?;
        if given != out[0] {
            out.push(given);
        }
    } else {
        // Still refuse a relative path that hides a control character or bad bytes.
        render_relative(what, original)?;
    }
    Ok(out)
}

/// An absolute path as a string without `.` components or a trailing slash.
fn render(what: &'static str, path: &Path) -> Result<String, SbplError> {
    if !path.is_absolute() {
        return Err(SbplError::NotAbsolute {
            what,
            path: path.into(),
        });
    }
    let text = path.to_str().ok_or_else(|| SbplError::NotUtf8 {
        what,
        path: path.into(),
    })?;
    check_text(what, text)?;
    let mut rendered = String::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => rendered.push_str("/.."),
            Component::Normal(name) => {
                rendered.push('/');
                rendered.push_str(name.to_str().expect("checked UTF-8 above"));
            }
        }
    }
    if rendered.is_empty() {
        rendered.push('/');
    }
    Ok(rendered)
}

fn render_relative(what: &'static str, path: &Path) -> Result<(), SbplError> {
    let text = path.to_str().ok_or_else(|| SbplError::NotUtf8 {
        what,
        path: path.into(),
    })?;
    check_text(what, text)
}

/// Refuses control characters (Unicode category Cc).
pub fn check_text(what: &'static str, text: &str) -> Result<(), SbplError> {
    match text.chars().find(|c| c.is_control()) {
        Some(character) => Err(SbplError::ControlCharacter {
            what,
            text: format!("{text:?}"),
            character,
        }),
        None => Ok(()),
    }
}

/// A string literal: `\` becomes `\\` and `"` becomes `\"`. The caller has already refused
/// control characters.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path as a literal part of a POSIX regex inside an SBPL string: metacharacters become
/// one-character classes (`.` → `[.]`), brackets are escaped for the regex (`\\[` in the
/// string), a backslash becomes four (two for the string, two for the regex), and `"`
/// is escaped for the string.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '.' | '+' | '*' | '?' | '(' | ')' | '{' | '}' | '|' | '^' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '[' | ']' => {
                out.push_str(r"\\");
                out.push(c);
            }
            '\\' => out.push_str(r"\\\\"),
            '"' => out.push_str(r#"\""#),
            c => out.push(c),
        }
    }
    out
}

/// The strict ancestors of an absolute rendered path, excluding `/`.
pub(super) fn ancestors(path: &str) -> Vec<String> {
    Path::new(path)
        .ancestors()
        .skip(1)
        .filter(|a| *a != Path::new("/") && !a.as_os_str().is_empty())
        .map(|a| a.to_str().expect("rendered paths are UTF-8").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote(r#"/a"b\c"#), r#""/a\"b\\c""#);
    }

    #[test]
    fn regex_escaping_follows_sbpl_string_and_regex_rules() {
        assert_eq!(regex_escape("/a.b"), "/a[.]b");
        assert_eq!(regex_escape("/a[b]"), r"/a\\[b\\]");
        assert_eq!(regex_escape(r"/a\b"), r"/a\\\\b");
        assert_eq!(regex_escape(r#"/a"b"#), r#"/a\"b"#);
    }
}
