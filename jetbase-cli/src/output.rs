//! Tables for people on stdout, JSON for programs, colour only where the user wants it, a
//! progress bar on a terminal's stderr.
//!
//! The libraries Rust command lines share do the work: comfy-table lays out tables (fitted to
//! the terminal's width, wide characters measured by their display width), anstream decides
//! colour the way other tools do (`NO_COLOR`, `CLICOLOR=0`, `CLICOLOR_FORCE`, a terminal, `TERM`),
//! anstyle writes it, indicatif draws the bar. Piped output has no colour, no bar and no
//! wrapping: scripts read the same lines as before.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// The first error writing to stdout (a closed pipe, a full disk): later writes are skipped,
/// and `main` decides the exit code from it once the command is done. A write never panics
/// (`println!` does), which matters most while a migration holds the lock.
static STDOUT_FAILED: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Writes `text` to stdout, remembering the first failure instead of panicking (see
/// [`outln!`]).
pub fn write_stdout(text: std::fmt::Arguments<'_>) {
    let Ok(mut failed) = STDOUT_FAILED.lock() else {
        return;
    };
    if failed.is_none()
        && let Err(error) = std::io::stdout().lock().write_fmt(text)
    {
        *failed = Some(error);
    }
}

/// Flushes stdout and takes the first error of any write to it, if one failed.
pub fn stdout_failure() -> Option<std::io::Error> {
    let mut failed = STDOUT_FAILED.lock().ok()?;
    if failed.is_none()
        && let Err(error) = std::io::stdout().lock().flush()
    {
        *failed = Some(error);
    }
    failed.take()
}

/// `println!` for the command's output: a line on stdout that never panics (see
/// [`write_stdout`]).
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// `print!` for the command's output (see [`outln!`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}
pub(crate) use out;

/// `text` safe to print on a terminal: control characters (escape sequences, a newline or
/// carriage return that would fake a line, C1 controls) and the bidirectional controls that
/// reorder what is shown (U+202E…) written as visible escapes (`\e`, `\n`, `\u{202e}`).
/// File names, lock holders and database messages are anyone's text; JSON output is escaped
/// by [`print_json`].
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\x1b' => safe.push_str("\\e"),
            c if needs_escape(c) => safe.extend(c.escape_default()),
            c => safe.push(c),
        }
    }
    Cow::Owned(safe)
}

/// [`printable`] for text of several lines (a database's message, a list of problems, SQL):
/// the line breaks and tabs kept, every other control escaped.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    let kept = |c: char| c == '\n' || c == '\t';
    if !text.chars().any(|c| !kept(c) && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if kept(c) => safe.push(c),
            c => safe.push_str(&printable(c.encode_utf8(&mut [0; 4]))),
        }
    }
    Cow::Owned(safe)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// How to write to the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours on stdout.
    pub colour: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

/// A colour for a word.
#[derive(Debug, Clone, Copy)]
pub enum Colour {
    Green,
    Yellow,
    Red,
    Dim,
}

impl Colour {
    fn ansi(self) -> anstyle::Style {
        match self {
            Self::Green => anstyle::AnsiColor::Green.on_default(),
            Self::Yellow => anstyle::AnsiColor::Yellow.on_default(),
            Self::Red => anstyle::AnsiColor::Red.on_default(),
            Self::Dim => anstyle::Style::new().dimmed(),
        }
    }
}

impl Style {
    /// Colour as anstream decides it for stdout (and never with `no_color`, the `NO_COLOR` of the
    /// command's environment); the bar when stderr is a terminal and the output is not JSON.
    pub fn detect(no_color: bool, json: bool) -> Self {
        Self {
            colour: wants_colour(&std::io::stdout(), no_color),
            progress: std::io::stderr().is_terminal() && !json,
        }
    }

    /// For the error on stderr: colour as anstream decides it for stderr, no bar.
    pub fn for_stderr(no_color: bool) -> Self {
        Self {
            colour: wants_colour(&std::io::stderr(), no_color),
            progress: false,
        }
    }

    /// `text` in `colour`, when colour is on.
    pub fn paint(self, text: &str, colour: Colour) -> String {
        if !self.colour || text.is_empty() {
            return text.to_owned();
        }
        let ansi = colour.ansi();
        format!("{ansi}{text}{ansi:#}")
    }
}

/// A table: a header and rows, columns two spaces apart, no borders. A cell may carry a colour.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<(String, Option<Colour>)>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    /// Adds a row; each cell is made [`printable`] (a cell is anyone's text: a file name, a
    /// lock holder).
    pub fn push(&mut self, row: Vec<(String, Option<Colour>)>) {
        let row = row
            .into_iter()
            .map(|(cell, colour)| match printable(&cell) {
                Cow::Borrowed(_) => (cell, colour),
                Cow::Owned(escaped) => (escaped, colour),
            })
            .collect();
        self.rows.push(row);
    }

    /// The table's lines, each ending in a newline. On a terminal the columns are narrowed to
    /// the terminal's width (long cells wrap inside their column); piped, or on a terminal of
    /// unknown size, nothing wraps.
    pub fn render(&self, style: Style) -> String {
        match terminal_width() {
            Some(width) => self.fitted(style, width),
            None => self.padded(style),
        }
    }

    /// Laid out by comfy-table within `width` columns.
    fn fitted(&self, style: Style, width: u16) -> String {
        let mut table = comfy_table::Table::new();
        table
            .set_width(width)
            .load_style(comfy_table::presets::NOTHING)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_header(self.header.iter().copied());
        for row in &self.rows {
            table.add_row(row.iter().map(|(cell, colour)| match colour {
                Some(colour) => style.paint(cell, *colour),
                None => cell.clone(),
            }));
        }
        let last = self.header.len().saturating_sub(1);
        for (index, column) in table.column_iter_mut().enumerate() {
            column.set_padding((0, if index == last { 0 } else { 2 }));
        }
        let mut out = table.trim_fmt();
        out.push('\n');
        out
    }

    /// Each column padded to its widest cell (by display width), colour applied after the
    /// padding: the lines comfy-table gives when nothing wraps, without its per-cell layout
    /// work (a third of `status`'s time at 1,000 rows, measured: BENCHMARKS.md), for the
    /// output scripts read, 10,000 rows included.
    fn padded(&self, style: Style) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| display_width(h)).collect();
        for row in &self.rows {
            for (width, (cell, _)) in widths.iter_mut().zip(row) {
                *width = (*width).max(display_width(cell));
            }
        }
        let mut out = String::new();
        let header = self.header.iter().map(|h| (*h, None));
        push_padded_line(&mut out, header, &widths, style);
        for row in &self.rows {
            let cells = row.iter().map(|(cell, colour)| (cell.as_str(), *colour));
            push_padded_line(&mut out, cells.take(columns), &widths, style);
        }
        out
    }
}

/// Appends one line of [`Table::padded`]: each cell, then spaces up to its column's width and
/// two more (none after the last), trailing spaces trimmed.
fn push_padded_line<'a>(
    out: &mut String,
    cells: impl Iterator<Item = (&'a str, Option<Colour>)>,
    widths: &[usize],
    style: Style,
) {
    let start = out.len();
    for (index, (cell, colour)) in cells.enumerate() {
        match colour {
            Some(colour) if style.colour => out.push_str(&style.paint(cell, colour)),
            _ => out.push_str(cell),
        }
        if let Some(width) = widths.get(index).filter(|_| index + 1 < widths.len()) {
            let padding = width - display_width(cell) + 2;
            out.extend(std::iter::repeat_n(' ', padding));
        }
    }
    let kept = out[start..].trim_end().len();
    out.truncate(start + kept);
    out.push('\n');
}

/// How many columns `text` takes on a terminal: its length when it is ASCII (file names and
/// versions nearly always are: checked at memory speed), unicode-width's measure otherwise.
fn display_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        unicode_width::UnicodeWidthStr::width(text)
    }
}

/// Whether `stream` gets colour: as anstream decides it (`NO_COLOR`, `CLICOLOR`,
/// `CLICOLOR_FORCE`, a terminal, `TERM`), and never with `no_color` (the `NO_COLOR` of the
/// command's environment).
fn wants_colour(stream: &impl anstream::stream::RawStream, no_color: bool) -> bool {
    !no_color && anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// The width of the terminal stdout is, when it is one (comfy-table asks) and its size is known
/// (a pseudo-terminal whose size was never set, as `script` or a CI runner makes, reports 0).
fn terminal_width() -> Option<u16> {
    comfy_table::Table::new()
        .width()
        .filter(|&columns| columns > 0)
}

/// Writes `value` as pretty JSON on stdout (see [`TerminalSafe`]).
pub fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    use serde::Serialize as _;
    let mut stdout = std::io::stdout().lock();
    let mut serializer = serde_json::Serializer::with_formatter(&mut stdout, TerminalSafe::new());
    value.serialize(&mut serializer)?;
    writeln!(stdout)
}

/// serde_json's pretty layout, with the characters a terminal acts on that serde_json writes
/// as they are (C1 controls such as U+009B, the bidirectional overrides) escaped as `\uXXXX`:
/// JSON on a terminal is read there too. (serde_json escapes the ASCII controls itself.)
struct TerminalSafe(serde_json::ser::PrettyFormatter<'static>);

impl TerminalSafe {
    fn new() -> Self {
        Self(serde_json::ser::PrettyFormatter::new())
    }
}

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                // Every such character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// One line on stderr, never a panic: with stderr gone there is nowhere left to tell.
fn write_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints `{"<key>": [items...]}` exactly as [`print_json`] would print it, each item turned
/// into JSON as it is written: the whole document is never held (10,000 migrations' `status
/// --json`).
pub fn print_json_list<T>(
    key: &str,
    items: impl IntoIterator<Item = T>,
    to_json: impl Fn(T) -> serde_json::Value,
) -> std::io::Result<()> {
    use serde::ser::{SerializeMap as _, Serializer as _};
    /// The items, serialized one at a time as they are taken.
    struct Streamed<I, F>(std::cell::RefCell<Option<(I, F)>>);
    impl<I, T, F> serde::Serialize for Streamed<I, F>
    where
        I: Iterator<Item = T>,
        F: Fn(T) -> serde_json::Value,
    {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let Some((items, to_json)) = self.0.borrow_mut().take() else {
                return serializer.collect_seq(std::iter::empty::<serde_json::Value>());
            };
            serializer.collect_seq(items.map(to_json))
        }
    }
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut serializer = serde_json::Serializer::with_formatter(&mut stdout, TerminalSafe::new());
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(
        key,
        &Streamed(std::cell::RefCell::new(Some((items.into_iter(), to_json)))),
    )?;
    map.end()?;
    writeln!(stdout)?;
    stdout.flush()
}

/// Asks before something that cannot be undone: on a terminal (stdin and stderr), `warning`
/// and `Go on? [y/N]`, and only `y` or `yes` goes on; elsewhere (a script, CI) nothing is
/// asked and the command is refused unless the caller passes `force_flag`.
///
/// # Errors
///
/// A usage error (exit 2) naming `force_flag` when no one can be asked; a run error (exit 1)
/// when the answer is not yes. Either way nothing was changed.
pub fn confirm(warning: &str, force_flag: &str) -> Result<(), crate::error::CliError> {
    let asked = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !asked {
        return Err(crate::error::CliError::usage(format!(
            "{warning} Nothing was changed: pass {force_flag} to do it without a question."
        )));
    }
    let _ = write!(std::io::stderr().lock(), "{warning}\nGo on? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(crate::error::CliError::run(
            "not confirmed: nothing was changed",
        ))
    }
}

/// One line on stderr: progress and logs never mix with the stdout a program reads. Never
/// panics (a closed stderr during `upgrade` would otherwise unwind through the run holding the
/// lock).
pub fn log(message: &str) {
    write_stderr(message);
}

/// The progress bar on stderr: `[#####-----] 3/10 V4__users.sql`, drawn only when the style
/// says so (a terminal, no `--json`); a clone draws the same bar.
#[derive(Clone)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A bar, or nothing when `style` has no bar.
    pub fn new(style: Style) -> Self {
        let bar = style.progress.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(progress_style());
            bar
        });
        Self { bar }
    }

    /// Whether a bar is drawn (otherwise the caller logs a line per step).
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows `done` of `total`, `label` beside it.
    pub fn set(&self, done: usize, total: usize, label: &str) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(printable(label).into_owned());
        }
    }

    /// Runs `write` with the bar hidden, then draws it again: lines written meanwhile are not
    /// drawn over.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn progress_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} {wide_msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("#-")
}

/// A duration in milliseconds, for tables.
pub fn millis(duration: std::time::Duration) -> String {
    format!("{} ms", duration.as_millis())
}

/// The `s` of a plural noun after `count` ("1 migration", "2 migrations").
pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style = Style {
        colour: false,
        progress: false,
    };

    #[test]
    fn tables_pad_columns_and_colour_after_padding() {
        let mut table = Table::new(vec!["STATE", "VERSION", "FILE"]);
        table.push(vec![
            ("applied".into(), Some(Colour::Green)),
            ("1".into(), None),
            ("V1__a.sql".into(), None),
        ]);
        table.push(vec![
            ("pending".into(), None),
            ("10.2".into(), None),
            ("V10_2__b.sql".into(), None),
        ]);
        assert_eq!(
            table.padded(PLAIN),
            "STATE    VERSION  FILE\napplied  1        V1__a.sql\npending  10.2     V10_2__b.sql\n"
        );
        let coloured = table.padded(Style {
            colour: true,
            ..PLAIN
        });
        assert!(
            coloured.contains("\x1b[32mapplied\x1b[0m  1 "),
            "{coloured:?}"
        );
    }

    #[test]
    fn wide_characters_are_measured_by_their_display_width() {
        let mut table = Table::new(vec!["TABLE", "COMMENT"]);
        table.push(vec![("ユーザー".into(), None), ("users".into(), None)]);
        table.push(vec![("posts".into(), None), ("投稿".into(), None)]);
        // ユーザー is four characters, eight columns wide: "posts" is padded to eight.
        let expected = "TABLE     COMMENT\nユーザー  users\nposts     投稿\n";
        assert_eq!(table.padded(PLAIN), expected);
        assert_eq!(table.fitted(PLAIN, 80), expected);
    }

    #[test]
    fn a_narrow_terminal_wraps_long_cells_inside_their_column() {
        let mut table = Table::new(vec!["STATE", "VERSION", "FILE"]);
        table.push(vec![
            ("applied".into(), None),
            ("20240101".into(), None),
            (
                "V20240101__create_the_users_table_and_its_indexes.sql".into(),
                None,
            ),
        ]);
        let wide = table.padded(PLAIN);
        assert_eq!(wide.lines().count(), 2, "piped, nothing wraps: {wide}");
        let narrow = table.fitted(PLAIN, 40);
        assert!(narrow.lines().count() > 2, "{narrow}");
        for line in narrow.lines() {
            assert!(line.chars().count() <= 40, "{line:?} in\n{narrow}");
        }
        let file: String = narrow
            .lines()
            .skip(1)
            .map(|line| line.get(19..).unwrap_or_default().trim())
            .collect();
        assert_eq!(
            file, "V20240101__create_the_users_table_and_its_indexes.sql",
            "the file name wraps inside its column:\n{narrow}"
        );
    }

    #[test]
    fn a_wide_terminal_shows_the_lines_a_pipe_gets() {
        let mut table = Table::new(vec!["STATE", "VERSION", "FILE", "NOTE"]);
        table.push(vec![
            ("applied".into(), Some(Colour::Green)),
            ("1".into(), None),
            ("V1__ユーザー.sql".into(), None),
            (String::new(), Some(Colour::Yellow)),
        ]);
        table.push(vec![
            ("pending".into(), Some(Colour::Yellow)),
            ("10.2".into(), None),
            ("V10_2__b.sql".into(), Some(Colour::Dim)),
            ("no rollback SQL".into(), Some(Colour::Yellow)),
        ]);
        let coloured = Style {
            colour: true,
            ..PLAIN
        };
        for style in [PLAIN, coloured] {
            assert_eq!(table.fitted(style, 200), table.padded(style));
        }
        assert_eq!(
            table.padded(PLAIN),
            "STATE    VERSION  FILE              NOTE\n\
             applied  1        V1__ユーザー.sql\n\
             pending  10.2     V10_2__b.sql      no rollback SQL\n"
        );
    }

    #[test]
    fn json_escapes_what_a_terminal_acts_on_and_reads_back_the_same() {
        use serde::Serialize as _;
        let value = serde_json::json!({"file": "V1__c1\u{9b}31m\u{202e}x\u{1b}.sql", "n": [1, 2]});
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, TerminalSafe::new());
        value.serialize(&mut serializer).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r"V1__c1\u009b31m\u202ex\u001b.sql"), "{text}");
        assert!(
            !text.chars().any(|c| c != '\n' && needs_escape(c)),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        // The layout is serde_json's pretty one.
        assert_eq!(
            text,
            serde_json::to_string_pretty(&value)
                .unwrap()
                .replace('\u{9b}', r"\u009b")
                .replace('\u{202e}', r"\u202e")
        );
    }

    #[test]
    fn the_progress_template_parses() {
        assert!(
            indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} {wide_msg}").is_ok()
        );
        let hidden = Progress::new(PLAIN);
        assert!(!hidden.is_drawn());
        assert_eq!(hidden.suspend(|| 7), 7);
    }
}
