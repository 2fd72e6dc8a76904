//! Escaping text for the three output languages. Case messages carry whatever a failing
//! program printed (markup, quotes, terminal escapes, NUL), so nothing from a results
//! file reaches a page unescaped.

/// Escapes `s` for HTML or SVG/XML text and attribute values (quoted with `"` or `'`).
/// Control characters, which XML forbids and HTML flags as errors, become visible
/// `\x1b`-style escapes; newlines and tabs are kept.
pub fn markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(ch),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s` for one cell of a Markdown table: every ASCII punctuation character that
/// Markdown or inline HTML could read as syntax gets a backslash, and line breaks (which
/// would end the row) become spaces.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '+' | '!' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_neutralises_tags_quotes_and_entities() {
        assert_eq!(
            markup(r#"</td><script>alert("x")</script> & 'y'"#),
            "&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn markup_makes_control_characters_visible_and_keeps_line_breaks() {
        assert_eq!(markup("a\u{0}b\u{1b}[31mc\u{7f}\u{85}\nd\te"), "a\\x00b\\x1b[31mc\\x7f\\x85\nd\te");
    }

    #[test]
    fn markup_keeps_other_text() {
        assert_eq!(markup("nono 0.81 ✓ — ünïcode"), "nono 0.81 ✓ — ünïcode");
    }

    #[test]
    fn markdown_cell_cannot_split_a_row_or_open_markup() {
        assert_eq!(markdown_cell("a|b\nc <b>*d*</b> [e](f)"), r"a\|b c \<b\>\*d\*\</b\> \[e\]\(f\)");
    }
}
