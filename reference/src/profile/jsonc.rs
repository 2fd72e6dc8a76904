//! JSONC, the JSON-with-comments text profiles are written in: removing comments without
//! moving anything, and finding where a value stands, so that every profile error names
//! its line and column.

/// Replaces `//` and `/* */` comments outside strings with spaces, keeping newlines so
/// that line and column numbers stay true. Errors carry the byte offset.
pub fn strip_comments(text: &str) -> Result<String, (usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            in_string = b != b'"';
            i += 1;
        } else if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let start = i;
            out.extend_from_slice(b"  ");
            i += 2;
            loop {
                match bytes.get(i) {
                    None => return Err((start, "unterminated /* comment".into())),
                    Some(b'*') if bytes.get(i + 1) == Some(&b'/') => {
                        out.extend_from_slice(b"  ");
                        i += 2;
                        break;
                    }
                    Some(b'\n') => out.push(b'\n'),
                    Some(_) => out.push(b' '),
                }
                i += 1;
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    // Only ASCII bytes were replaced, by ASCII: the text is still UTF-8.
    Ok(String::from_utf8(out).expect("comment stripping keeps UTF-8"))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The byte offset of the value at a JSON path (`a.b[2].c`) in comment-free JSON text.
pub fn locate(json: &str, path: &str) -> Option<usize> {
    let mut segments = vec![];
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some((index, after)) = rest.split_once(']') {
            segments.push(Segment::Index(index.parse().ok()?));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    let mut scanner = Scanner { bytes: json.as_bytes(), pos: 0 };
    scanner.find(&segments)
}

enum Segment {
    Key(String),
    Index(usize),
}

/// Just enough of a JSON reader to walk to a path; the text is already known to parse.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && (self.bytes[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    /// Walks to the value at `segments` and returns its offset.
    fn find(&mut self, segments: &[Segment]) -> Option<usize> {
        let start = {
            self.skip_ws();
            self.pos
        };
        let Some((first, rest)) = segments.split_first() else { return Some(start) };
        match (self.peek()?, first) {
            (b'{', Segment::Key(want)) => {
                self.pos += 1;
                loop {
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.peek()?;
                    self.pos += 1; // ':'
                    if key == *want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    if self.peek()? == b',' {
                        self.pos += 1;
                    }
                }
            }
            (b'[', Segment::Index(want)) => {
                self.pos += 1;
                for _ in 0..*want {
                    if self.peek()? == b']' {
                        return None;
                    }
                    self.skip_value()?;
                    if self.peek()? == b',' {
                        self.pos += 1;
                    }
                }
                if self.peek()? == b']' {
                    return None;
                }
                self.find(rest)
            }
            // `extends: "x"` stands for `extends: ["x"]`, so `extends[0]` is the string itself.
            (_, Segment::Index(0)) => self.find(rest),
            _ => None,
        }
    }

    /// Reads a string and returns its raw content (escapes kept as written).
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        while i < self.bytes.len() && self.bytes[i] != b'"' {
            i += if self.bytes[i] == b'\\' { 2 } else { 1 };
        }
        self.pos = i + 1;
        std::str::from_utf8(self.bytes.get(start..i)?).ok().map(str::to_string)
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                loop {
                    if self.peek()? == close {
                        self.pos += 1;
                        break;
                    }
                    if open == b'{' {
                        self.string()?;
                        self.peek()?;
                        self.pos += 1; // ':'
                    }
                    self.skip_value()?;
                    if self.peek()? == b',' {
                        self.pos += 1;
                    }
                }
            }
            _ => {
                while self.pos < self.bytes.len() && !b",}] \t\r\n".contains(&self.bytes[self.pos]) {
                    self.pos += 1;
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_spaces_and_positions_stay_true() {
        let text = "{ // note\n  \"a\": /* x */ [1, {\"b\": 2}]\n}";
        let json = strip_comments(text).unwrap();
        assert_eq!(json.len(), text.len());
        let offset = locate(&json, "a[1].b").unwrap();
        assert_eq!(&json[offset..offset + 1], "2");
        assert_eq!(line_column(&json, offset), (2, 26));
        assert!(strip_comments("/* open").is_err());
    }
}
