//! The SQL-aware statement splitter.
//!
//! A small lexer that knows quotes, comments and dollar quoting, plus the `BEGIN ... END` bodies
//! of triggers and procedures, so that a `;` inside any of them does not end a statement.

use crate::dialect::{Dialect, DollarQuoting, Syntax};
use crate::lines::{LineCounter, is_python_space, lines, python_strip};

/// One statement cut from a section: an exact slice of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, from its first token to its last, without the delimiter.
    pub sql: &'a str,
    /// Byte offset of `sql` in the text that was split.
    pub offset: usize,
    /// 1-based line number of the statement's first token, counted from the `first_line` given to
    /// the splitter (so that it is the line in the migration file).
    pub line: usize,
}

/// A construct that was opened and never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unterminated {
    /// `'...`
    SingleQuote,
    /// `"...`
    DoubleQuote,
    /// `` `... ``
    Backtick,
    /// `[...` (SQLite)
    Bracket,
    /// `/* ...`
    BlockComment,
    /// `$tag$ ...` (PostgreSQL); holds nothing so the error stays `Copy`.
    DollarQuote,
}

impl Unterminated {
    fn describe(self) -> &'static str {
        match self {
            Self::SingleQuote => "single-quoted string (')",
            Self::DoubleQuote => "double-quoted identifier or string (\")",
            Self::Backtick => "backtick-quoted identifier (`)",
            Self::Bracket => "bracketed identifier ([)",
            Self::BlockComment => "block comment (/*)",
            Self::DollarQuote => "dollar-quoted string ($$ or $tag$)",
        }
    }
}

/// Why a section could not be split into statements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unterminated {} starting on line {line}{}: close it, or check the quotes before it",
    .kind.describe(),
    .tag.as_ref().map(|tag| format!(" (opened by `{tag}`)")).unwrap_or_default()
)]
pub struct SplitError {
    /// What was left open.
    pub kind: Unterminated,
    /// The line it was opened on.
    pub line: usize,
    /// The opening dollar tag, for dollar quotes.
    pub tag: Option<String>,
}

/// The words of a statement's text, split on whitespace, `--` comments left out: a rough
/// reading for the rules that match a statement's keywords (`jetbase lint`, the table a lock
/// timeout names). Quoted text is not told apart.
///
/// ```
/// let words: Vec<&str> = jetbase_core::sql_words("ALTER TABLE t -- why\n  ADD c int").collect();
/// assert_eq!(words, ["ALTER", "TABLE", "t", "ADD", "c", "int"]);
/// ```
pub fn sql_words(sql: &str) -> impl Iterator<Item = &str> {
    sql.lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .flat_map(str::split_whitespace)
}

/// Splits SQL text into statements at `;`, ignoring every `;` inside quotes, comments, dollar
/// quotes and `BEGIN ... END` bodies of `CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT`.
///
/// `first_line` is the line number of the text's first line in its file.
///
/// ```
/// use jetbase_core::{Dialect, split_statements};
///
/// let sql = "INSERT INTO t VALUES ('a;b'); -- done;\nSELECT 1";
/// let statements = split_statements(sql, 1, Dialect::Postgres)?;
/// let texts: Vec<&str> = statements.iter().map(|s| s.sql).collect();
/// assert_eq!(texts, ["INSERT INTO t VALUES ('a;b')", "SELECT 1"]);
/// assert_eq!(statements[1].line, 2);
/// # Ok::<(), jetbase_core::SplitError>(())
/// ```
///
/// # Errors
///
/// Returns [`SplitError`] naming the line where a quote, comment or dollar quote was opened and
/// never closed.
pub fn split_statements(
    text: &str,
    first_line: usize,
    dialect: Dialect,
) -> Result<Vec<Statement<'_>>, SplitError> {
    let mut lexer = Lexer::new(text, dialect, first_line);
    let mut statements = Vec::new();
    let mut current = StatementBuilder::new(dialect.syntax());
    while let Some(token) = lexer.next_token()? {
        match token.kind {
            TokenKind::Trivia => {}
            TokenKind::Semicolon if current.body_depth() == 0 => {
                current.finish(text, &mut lexer.lines, &mut statements);
            }
            kind => current.push(kind, token.start, token.end, &text[token.start..token.end]),
        }
    }
    current.finish(text, &mut lexer.lines, &mut statements);
    Ok(statements)
}

/// Splits SQL text with a custom delimiter, as Python Jetbase does: a statement ends at a line
/// whose trimmed text ends with `delimiter`; blank lines and lines starting with `--` between
/// statements are skipped. A final statement without the delimiter is kept.
///
/// ```
/// let sql = "CREATE TRIGGER t AFTER UPDATE ON x\nBEGIN\n  SELECT 1;\nEND~\nSELECT 2~\n";
/// let statements = jetbase_core::split_with_delimiter(sql, 1, "~");
/// assert_eq!(statements[0].sql, "CREATE TRIGGER t AFTER UPDATE ON x\nBEGIN\n  SELECT 1;\nEND");
/// assert_eq!(statements[1].line, 5);
/// ```
pub fn split_with_delimiter<'a>(
    text: &'a str,
    first_line: usize,
    delimiter: &str,
) -> Vec<Statement<'a>> {
    let mut statements = Vec::new();
    // Byte offset and line number of the first line of the statement being collected.
    let mut open: Option<(usize, usize)> = None;
    let mut close = |from: usize, number: usize, to: usize| {
        // Python's `rstrip(delimiter)`: any trailing run of the delimiter's characters.
        let sql = text[from..to]
            .trim_end_matches(is_python_space)
            .trim_end_matches(|c| delimiter.contains(c))
            .trim_end_matches(is_python_space);
        if !sql.is_empty() {
            statements.push(Statement {
                sql,
                offset: from,
                line: number + first_line - 1,
            });
        }
    };
    for line in lines(text) {
        let trimmed = python_strip(line.text);
        if open.is_none() {
            if trimmed.is_empty() || trimmed.starts_with("--") {
                continue;
            }
            let indent = line.text.len() - line.text.trim_start_matches(is_python_space).len();
            open = Some((line.start + indent, line.number));
        }
        if trimmed.ends_with(delimiter)
            && let Some((from, number)) = open.take()
        {
            close(from, number, line.start + line.text.len());
        }
    }
    if let Some((from, number)) = open {
        close(from, number, text.len());
    }
    statements
}

/// Tracks one statement while its tokens arrive: where it starts and ends, and whether a
/// `BEGIN ... END` body is open.
#[derive(Default)]
struct StatementBuilder {
    /// Procedural bodies (`CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT ... BEGIN ... END`) exist:
    /// everywhere but ClickHouse, whose functions are lambdas.
    routines: bool,
    /// Snowflake Scripting and Databricks SQL scripting: a statement may itself be a block
    /// (`BEGIN ... END`), and `END FOR` closes a loop. Kept from one statement to the next.
    scripting: bool,
    /// Snowflake: a statement may start with a block's `DECLARE` section (`DECLARE ... BEGIN ...
    /// END`). On Databricks `DECLARE VARIABLE` is a statement of its own.
    declare_sections: bool,
    /// Snowflake: the statement started with `BEGIN`; the next token tells a block from a
    /// transaction (`BEGIN;`, `BEGIN TRANSACTION`, `BEGIN WORK`, `BEGIN NAME t`).
    pending_begin: bool,
    /// Snowflake: inside a block's `DECLARE` section, before its `BEGIN`.
    in_declare: bool,
    /// Byte range of the statement so far (first to last significant token).
    range: Option<(usize, usize)>,
    /// How many significant tokens came before; the first decides whether bodies are possible.
    tokens: usize,
    /// The statement started with CREATE.
    starts_with_create: bool,
    /// A `(` was seen; after it, TRIGGER/FUNCTION/... no longer mark a routine.
    seen_paren: bool,
    /// The statement creates a trigger, procedure, function or event, whose body may hold `;`.
    creates_routine: bool,
    /// Open `BEGIN`/`CASE` blocks inside a routine.
    depth: usize,
    /// An `END` was seen; the next word decides whether it closes a block (`END IF` does not).
    pending_end: bool,
}

impl StatementBuilder {
    fn new(syntax: Syntax) -> Self {
        Self {
            scripting: syntax.scripting_blocks,
            declare_sections: syntax.declare_sections,
            routines: syntax.routine_bodies,
            ..Self::default()
        }
    }

    fn body_depth(&mut self) -> usize {
        self.resolve_pending_end(None);
        // `BEGIN;` starts a transaction.
        self.pending_begin = false;
        self.depth + usize::from(self.in_declare)
    }

    /// Snowflake Scripting: whether the statement's first word, or the word after a first
    /// `BEGIN`, opens a block. Returns true when the word was consumed.
    fn scripting_block(&mut self, word: Option<&str>) -> bool {
        if std::mem::take(&mut self.pending_begin) {
            let is_transaction = word.is_some_and(|word| {
                ["TRANSACTION", "WORK", "NAME"]
                    .iter()
                    .any(|keyword| word.eq_ignore_ascii_case(keyword))
            });
            if !is_transaction {
                self.creates_routine = true;
                self.depth = 1;
            }
            // The word itself may open a block of its own (`BEGIN BEGIN ... END; END`).
            return false;
        }
        let Some(word) = word.filter(|_| self.tokens == 1) else {
            return false;
        };
        if word.eq_ignore_ascii_case("BEGIN") {
            self.pending_begin = true;
            return true;
        }
        if self.declare_sections && word.eq_ignore_ascii_case("DECLARE") {
            self.creates_routine = true;
            self.in_declare = true;
            return true;
        }
        false
    }

    /// Settles a pending `END` with the word that follows it; returns whether that word was
    /// consumed by the `END` (`END IF`, `END LOOP`, `END CASE`...).
    fn resolve_pending_end(&mut self, next_word: Option<&str>) -> bool {
        if !std::mem::take(&mut self.pending_end) {
            return false;
        }
        let is = |word: &str| next_word.is_some_and(|next| next.eq_ignore_ascii_case(word));
        if is("IF") || is("LOOP") || is("WHILE") || is("REPEAT") || (self.scripting && is("FOR")) {
            return true;
        }
        self.depth = self.depth.saturating_sub(1);
        is("CASE")
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize, text: &str) {
        self.range = Some(self.range.map_or((start, end), |(first, _)| (first, end)));
        self.tokens += 1;
        let word = (kind == TokenKind::Word).then_some(text);
        if self.resolve_pending_end(word) {
            return;
        }
        if self.scripting && self.scripting_block(word) {
            return;
        }
        let Some(word) = word else {
            if text == "(" {
                self.seen_paren = true;
            }
            return;
        };
        if self.tokens == 1 {
            self.starts_with_create = word.eq_ignore_ascii_case("CREATE");
            return;
        }
        if self.routines && self.starts_with_create && !self.seen_paren && !self.creates_routine {
            self.creates_routine = ["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"]
                .iter()
                .any(|keyword| word.eq_ignore_ascii_case(keyword))
                // A Snowflake task's body may be a scripting block.
                || (self.scripting && word.eq_ignore_ascii_case("TASK"));
        }
        if !self.creates_routine {
            return;
        }
        if word.eq_ignore_ascii_case("BEGIN") && self.in_declare {
            // The body of the DECLARE section's block.
            self.in_declare = false;
            self.depth += 1;
        } else if word.eq_ignore_ascii_case("BEGIN") || word.eq_ignore_ascii_case("CASE") {
            self.depth += 1;
        } else if word.eq_ignore_ascii_case("END") && self.depth > 0 {
            self.pending_end = true;
        }
    }

    fn finish<'a>(
        &mut self,
        text: &'a str,
        lines: &mut LineCounter<'_>,
        statements: &mut Vec<Statement<'a>>,
    ) {
        if let Some((start, end)) = self.range {
            statements.push(Statement {
                sql: &text[start..end],
                offset: start,
                line: lines.line_at(start),
            });
        }
        *self = Self::new_like(self);
    }

    /// A builder for the next statement, of the same dialect.
    fn new_like(previous: &Self) -> Self {
        Self {
            scripting: previous.scripting,
            declare_sections: previous.declare_sections,
            routines: previous.routines,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// Whitespace and comments.
    Trivia,
    /// An identifier or keyword.
    Word,
    /// A quoted string or identifier, or a dollar-quoted string.
    Quoted,
    /// `;`
    Semicolon,
    /// Any other character.
    Other,
}

struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    syntax: Syntax,
    /// Line numbers for statement starts (monotonic).
    lines: LineCounter<'a>,
    /// Line numbers for error positions (monotonic, separate from `lines`).
    error_lines: LineCounter<'a>,
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_word_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, dialect: Dialect, first_line: usize) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            position: 0,
            syntax: dialect.syntax(),
            lines: LineCounter::new(text, first_line),
            error_lines: LineCounter::new(text, first_line),
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.position + ahead).copied()
    }

    fn unterminated(
        &mut self,
        kind: Unterminated,
        start: usize,
        tag: Option<String>,
    ) -> SplitError {
        SplitError {
            kind,
            line: self.error_lines.line_at(start),
            tag,
        }
    }

    fn next_token(&mut self) -> Result<Option<Token>, SplitError> {
        let start = self.position;
        let Some(byte) = self.peek(0) else {
            return Ok(None);
        };
        let kind = match byte {
            b if b.is_ascii_whitespace() => {
                self.advance_while(|b| b.is_ascii_whitespace());
                TokenKind::Trivia
            }
            b'-' if self.peek(1) == Some(b'-') && self.starts_line_comment() => {
                self.skip_line();
                TokenKind::Trivia
            }
            b'#' if self.syntax.hash_comments => {
                self.skip_line();
                TokenKind::Trivia
            }
            b'/' if self.peek(1) == Some(b'/') && self.syntax.double_slash_comments => {
                self.skip_line();
                TokenKind::Trivia
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.skip_block_comment(start)?;
                TokenKind::Trivia
            }
            b'\'' => {
                let backslash = self.syntax.backslash_escapes_in_strings
                    && !self.is_raw_string(start)
                    || self.is_escape_string(start);
                self.skip_quoted(b'\'', backslash, Unterminated::SingleQuote, start)?;
                TokenKind::Quoted
            }
            b'"' => {
                let backslash =
                    self.syntax.backslash_escapes_in_double_quotes && !self.is_raw_string(start);
                self.skip_quoted(b'"', backslash, Unterminated::DoubleQuote, start)?;
                TokenKind::Quoted
            }
            b'`' => {
                let backslash = self.syntax.backslash_escapes_in_backticks;
                self.skip_quoted(b'`', backslash, Unterminated::Backtick, start)?;
                TokenKind::Quoted
            }
            b'[' if self.syntax.bracket_identifiers => {
                self.position += 1;
                match self.bytes[self.position..].iter().position(|&b| b == b']') {
                    Some(close) => self.position += close + 1,
                    None => return Err(self.unterminated(Unterminated::Bracket, start, None)),
                }
                TokenKind::Quoted
            }
            b'$' if self.syntax.dollar_quoting != DollarQuoting::None => {
                match self
                    .dollar_tag()
                    // Snowflake's and Databricks' dollar strings have no tag: `$name$` is not one.
                    .filter(|&len| self.syntax.dollar_quoting == DollarQuoting::Tagged || len == 2)
                {
                    Some(tag_len) => {
                        self.skip_dollar_quoted(start, tag_len)?;
                        TokenKind::Quoted
                    }
                    None => {
                        self.position += 1;
                        TokenKind::Other
                    }
                }
            }
            b';' => {
                self.position += 1;
                TokenKind::Semicolon
            }
            b if is_word_start(b) => {
                self.advance_while(is_word_continue);
                TokenKind::Word
            }
            _ => {
                self.position += 1;
                TokenKind::Other
            }
        };
        Ok(Some(Token {
            kind,
            start,
            end: self.position,
        }))
    }

    /// `--` starts a comment everywhere but MySQL, where a space or control character (or the end
    /// of the text) must follow it.
    fn starts_line_comment(&self) -> bool {
        !self.syntax.dash_comment_needs_space
            || self
                .peek(2)
                .is_none_or(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    }

    /// Moves past every byte from the current position for which `keep` holds.
    fn advance_while(&mut self, keep: impl Fn(u8) -> bool) {
        let rest = &self.bytes[self.position..];
        self.position += rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
    }

    fn skip_line(&mut self) {
        self.advance_while(|b| b != b'\n' && b != b'\r');
    }

    fn skip_block_comment(&mut self, start: usize) -> Result<(), SplitError> {
        let nests = self.syntax.nested_block_comments;
        let mut depth = 0usize;
        while let Some(byte) = self.peek(0) {
            if byte == b'/' && self.peek(1) == Some(b'*') && (depth == 0 || nests) {
                depth += 1;
                self.position += 2;
            } else if byte == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.position += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.position += 1;
            }
        }
        Err(self.unterminated(Unterminated::BlockComment, start, None))
    }

    /// A PostgreSQL `E'...'` string: the quote follows a lone `E` or `e` word.
    fn is_escape_string(&self, quote: usize) -> bool {
        self.syntax.escape_strings
            && quote >= 1
            && matches!(self.bytes[quote - 1], b'E' | b'e')
            && (quote < 2 || !is_word_continue(self.bytes[quote - 2]))
    }

    /// A Databricks raw string, `r'...'` or `r"..."`: backslashes are plain characters.
    fn is_raw_string(&self, quote: usize) -> bool {
        self.syntax.raw_strings
            && quote >= 1
            && matches!(self.bytes[quote - 1], b'R' | b'r')
            && (quote < 2 || !is_word_continue(self.bytes[quote - 2]))
    }

    fn skip_quoted(
        &mut self,
        quote: u8,
        backslash_escapes: bool,
        kind: Unterminated,
        start: usize,
    ) -> Result<(), SplitError> {
        self.position += 1;
        loop {
            self.advance_while(|b| b != quote && !(backslash_escapes && b == b'\\'));
            let Some(byte) = self.peek(0) else { break };
            if backslash_escapes && byte == b'\\' {
                self.position = (self.position + 2).min(self.bytes.len());
            } else if byte == quote {
                if self.peek(1) == Some(quote) {
                    self.position += 2;
                } else {
                    self.position += 1;
                    return Ok(());
                }
            }
        }
        self.position = self.bytes.len();
        Err(self.unterminated(kind, start, None))
    }

    /// The length of a dollar-quote tag (`$$` or `$tag$`) at the current position, if one starts
    /// here. A `$` that continues an identifier (`a$b`) was consumed with the word before.
    fn dollar_tag(&self) -> Option<usize> {
        let rest = &self.bytes[self.position + 1..];
        let tag_len = rest
            .iter()
            .position(|&b| !is_word_continue(b) || b == b'$')
            .unwrap_or(rest.len());
        let starts_well = tag_len == 0 || is_word_start(rest[0]);
        (starts_well && rest.get(tag_len) == Some(&b'$')).then_some(tag_len + 2)
    }

    fn skip_dollar_quoted(&mut self, start: usize, delimiter_len: usize) -> Result<(), SplitError> {
        let delimiter = &self.text[start..start + delimiter_len];
        self.position = start + delimiter_len;
        match self.text[self.position..].find(delimiter) {
            Some(close) => {
                self.position += close + delimiter_len;
                Ok(())
            }
            None => {
                self.position = self.bytes.len();
                Err(self.unterminated(Unterminated::DollarQuote, start, Some(delimiter.to_owned())))
            }
        }
    }
}

#[cfg(test)]
mod tests;
