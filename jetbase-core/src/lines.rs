//! Line handling shared by the body parser and the checksum, matching how Python reads a file in
//! text mode: `\n`, `\r\n` and `\r` all end a line, and `str.strip()` trims Unicode whitespace.

/// One line of a text, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// The line's text, without the line ending.
    pub text: &'a str,
    /// Byte offset of the line's first character in the whole text.
    pub start: usize,
    /// Byte offset just past the line ending (the next line's start).
    pub next: usize,
    /// 1-based line number.
    pub number: usize,
}

/// Iterates over the lines of `text`; line endings are `\n`, `\r\n` and `\r`.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'\n' && bytes[end] != b'\r' {
            end += 1;
        }
        let next = match bytes.get(end) {
            Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        number += 1;
        let line = Line {
            text: &text[start..end],
            start,
            next,
            number,
        };
        start = next;
        Some(line)
    })
}

/// Whether Python's `str.isspace()` holds for `c`: Rust's whitespace plus the four ASCII
/// separators U+001C..U+001F.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub(crate) fn python_strip(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_ascii_python_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ascii_python_space(b))
        .map_or(start, |last| last + 1);
    let trimmed = &text[start..end.max(start)];
    // Non-ASCII whitespace (U+00A0, U+3000...) starts with a byte of 0x80 or more.
    match (trimmed.as_bytes().first(), trimmed.as_bytes().last()) {
        (Some(&first), Some(&last)) if first >= 0x80 || last >= 0x80 => {
            trimmed.trim_matches(is_python_space)
        }
        _ => trimmed,
    }
}

/// The ASCII characters for which Python's `str.isspace()` holds.
fn is_ascii_python_space(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | 0x1c..=0x1f | b' ')
}

/// Whether a trimmed line is a comment line (starts with `--`).
pub(crate) fn comment_line(trimmed: &str) -> bool {
    trimmed.as_bytes().starts_with(b"--")
}

/// Whether a line is Python Jetbase's rollback marker: after trimming it starts with `--` and the
/// rest, trimmed and lower-cased, is `rollback` (`--rollback`, `-- ROLLBACK`, `--   Rollback`).
pub(crate) fn is_rollback_marker(line: &str) -> bool {
    python_strip(line)
        .strip_prefix("--")
        .is_some_and(|rest| python_strip(rest).to_lowercase() == "rollback")
}

/// Counts line numbers at increasing byte offsets of one text, in one pass overall.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    position: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    /// Starts at offset 0, which is on line `first_line`.
    pub(crate) fn new(text: &'a str, first_line: usize) -> Self {
        Self {
            bytes: text.as_bytes(),
            position: 0,
            line: first_line,
        }
    }

    /// The line number of byte `offset`; offsets must not decrease between calls.
    pub(crate) fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.bytes.len()).max(self.position);
        let chunk = &self.bytes[self.position..offset];
        if chunk.contains(&b'\r') {
            for (index, &byte) in chunk.iter().enumerate() {
                let lone_cr =
                    byte == b'\r' && self.bytes.get(self.position + index + 1) != Some(&b'\n');
                if byte == b'\n' || lone_cr {
                    self.line += 1;
                }
            }
        } else {
            self.line += chunk.iter().filter(|&&byte| byte == b'\n').count();
        }
        self.position = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ending_counts() {
        let found: Vec<(&str, usize)> = lines("a\nb\r\nc\rd").map(|l| (l.text, l.number)).collect();
        assert_eq!(found, [("a", 1), ("b", 2), ("c", 3), ("d", 4)]);
        let found: Vec<&str> = lines("a\n\n").map(|l| l.text).collect();
        assert_eq!(found, ["a", ""]);
        assert_eq!(lines("").count(), 0);
    }

    #[test]
    fn line_counter_agrees_with_lines() {
        let text = "a\nb\r\nc\rd\n\ne";
        let mut counter = LineCounter::new(text, 1);
        for line in lines(text) {
            assert_eq!(counter.line_at(line.start), line.number, "{line:?}");
        }
    }

    #[test]
    fn python_whitespace() {
        assert_eq!(python_strip("\u{1f} \t x \u{a0}\u{3000}"), "x");
        assert_eq!(
            python_strip("\u{feff}x"),
            "\u{feff}x",
            "a BOM is not whitespace"
        );
    }

    #[test]
    fn rollback_marker_spellings() {
        for line in [
            "-- rollback",
            "--rollback",
            "-- ROLLBACK",
            "  --   Rollback  ",
            "--\tROLLback",
        ] {
            assert!(is_rollback_marker(line), "{line:?}");
        }
        for line in [
            "- rollback",
            "-- rollback now",
            "--- rollback",
            "rollback",
            "/* rollback */",
            "-- roll back",
        ] {
            assert!(!is_rollback_marker(line), "{line:?}");
        }
    }
}
