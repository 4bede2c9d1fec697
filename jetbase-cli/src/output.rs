//! Tables for people on stdout, JSON for programs, colour only on a terminal and never with
//! `NO_COLOR`, a progress bar on a terminal's stderr.

use std::io::{IsTerminal, Write};

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

impl Style {
    /// From the terminal and `NO_COLOR`.
    pub fn detect(no_color: bool, json: bool) -> Self {
        let stderr_terminal = std::io::stderr().is_terminal();
        Self {
            colour: !no_color && std::io::stdout().is_terminal(),
            progress: stderr_terminal && !json,
        }
    }

    /// `text` in `colour`, when colour is on.
    pub fn paint(self, text: &str, colour: Colour) -> String {
        paint(self.colour, text, colour)
    }
}

fn paint(on: bool, text: &str, colour: Colour) -> String {
    if !on {
        return text.to_owned();
    }
    let code = match colour {
        Colour::Green => "32",
        Colour::Yellow => "33",
        Colour::Red => "31",
        Colour::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A table: a header and rows, columns padded to their widest cell. A cell may carry a
/// colour, applied after padding so widths stay right.
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

    pub fn push(&mut self, row: Vec<(String, Option<Colour>)>) {
        self.rows.push(row);
    }

    pub fn render(&self, style: Style) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, (cell, _)) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let header: Vec<(String, Option<Colour>)> = self
            .header
            .iter()
            .map(|h| ((*h).to_owned(), None))
            .collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (index, (cell, colour)) in row.iter().enumerate().take(columns) {
                let padding = if index + 1 == columns {
                    0
                } else {
                    widths[index] - cell.chars().count() + 2
                };
                match colour {
                    Some(colour) => line.push_str(&style.paint(cell, *colour)),
                    None => line.push_str(cell),
                }
                line.push_str(&" ".repeat(padding));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Writes `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)
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
    let mut serializer = serde_json::Serializer::pretty(&mut stdout);
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(
        key,
        &Streamed(std::cell::RefCell::new(Some((items.into_iter(), to_json)))),
    )?;
    map.end()?;
    writeln!(stdout)?;
    stdout.flush()
}

/// One line on stderr: progress and logs never mix with the stdout a program reads.
pub fn log(message: &str) {
    eprintln!("{message}");
}

/// The progress line for `done` of `total`, `width` characters of bar.
pub fn progress_line(done: usize, total: usize, filename: &str, width: usize) -> String {
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    format!(
        "[{}{}] {done}/{total} {filename}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    )
}

/// Draws the progress bar over itself on stderr (a terminal only).
pub fn draw_progress(done: usize, total: usize, filename: &str) {
    let line = progress_line(done, total, filename, 30);
    eprint!("\r\x1b[2K{line}");
    let _ = std::io::stderr().flush();
}

/// Clears the progress bar.
pub fn clear_progress() {
    eprint!("\r\x1b[2K");
    let _ = std::io::stderr().flush();
}

/// A duration in milliseconds, for tables.
pub fn millis(duration: std::time::Duration) -> String {
    format!("{} ms", duration.as_millis())
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
            table.render(PLAIN),
            "STATE    VERSION  FILE\napplied  1        V1__a.sql\npending  10.2     V10_2__b.sql\n"
        );
        let coloured = table.render(Style {
            colour: true,
            ..PLAIN
        });
        assert!(
            coloured.contains("\x1b[32mapplied\x1b[0m  1 "),
            "{coloured:?}"
        );
    }

    #[test]
    fn progress_bar_fills_in_proportion() {
        assert_eq!(
            progress_line(0, 4, "V1__a.sql", 8),
            "[--------] 0/4 V1__a.sql"
        );
        assert_eq!(
            progress_line(2, 4, "V3__c.sql", 8),
            "[####----] 2/4 V3__c.sql"
        );
        assert_eq!(progress_line(4, 4, "", 8), "[########] 4/4 ");
    }
}
