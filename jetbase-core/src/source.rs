//! Reading a migrations directory: every file checked, every problem collected.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::checksum::checksum;
use crate::dialect::Dialect;
use crate::migration::{Migration, MigrationParts};
use crate::name::{MigrationKind, NameError, is_sql_file, parse_filename};
use crate::parse::{BodyError, parse_body};
use crate::split::{SplitError, split_statements};
use crate::version::Version;

/// Directories nested deeper than this are not followed (a guard against symlink loops).
const MAX_DEPTH: usize = 32;

/// One problem with one file (or with the directory itself).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The migrations directory does not exist.
    #[error("migrations directory `{}` does not exist; create it (`jetbase init`) or name the right one", .path.display())]
    MissingDirectory {
        /// The path that was tried.
        path: PathBuf,
    },
    /// The migrations path is not a directory.
    #[error("`{}` is not a directory; name the directory that holds the migration files", .path.display())]
    NotADirectory {
        /// The path that was tried.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("`{path}`: cannot be read: {source}")]
    Io {
        /// The path, relative to the migrations directory.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link whose target is outside the migrations directory: a migration must be
    /// one of the project's files (a link to `/etc/passwd` would be read, checksummed and
    /// shown as a pending migration).
    #[error(
        "`{path}` is a link to `{}`, outside the migrations directory; copy the file in (or \
         link to one inside the directory)",
        .target.display()
    )]
    LinkOutside {
        /// The link, relative to the migrations directory.
        path: String,
        /// Where it leads.
        target: PathBuf,
    },
    /// A name that is not valid UTF-8.
    #[error(
        "`{path}`: the file name is not valid UTF-8; rename it to `V<version>__<description>.sql`"
    )]
    NameNotUtf8 {
        /// The path, relative to the migrations directory, with invalid bytes replaced.
        path: String,
    },
    /// A `.sql` file whose name is not a migration name.
    #[error("{}", with_directory(path, problem))]
    Name {
        /// The path, relative to the migrations directory.
        path: String,
        /// What is wrong with the name (its message names the file).
        problem: NameError,
    },
    /// The file's content is not UTF-8.
    #[error(
        "`{path}`: not valid UTF-8 (first invalid byte on line {line}); save the file as UTF-8"
    )]
    NotUtf8 {
        /// The path, relative to the migrations directory.
        path: String,
        /// The line holding the first invalid byte.
        line: usize,
    },
    /// The file's content holds a NUL byte. No database takes one inside SQL text: some cut the
    /// text there (the rest would be skipped silently), SQLite's statement loop never gets past
    /// it.
    #[error(
        "`{path}`: line {line} holds a NUL byte (\\0), which no database takes in SQL; remove it (the file may have been saved in another encoding, such as UTF-16)"
    )]
    NulByte {
        /// The path, relative to the migrations directory.
        path: String,
        /// The line holding the first NUL byte.
        line: usize,
    },
    /// A problem in the file's body (directives, emptiness).
    #[error("`{path}`: {problem}")]
    Body {
        /// The path, relative to the migrations directory.
        path: String,
        /// What is wrong with the body.
        problem: BodyError,
    },
    /// SQL that cannot be split under any dialect (an open quote or comment).
    #[error("`{path}`: {problem}")]
    Split {
        /// The path, relative to the migrations directory.
        path: String,
        /// The splitter's error (under PostgreSQL's rules).
        problem: SplitError,
    },
    /// Two or more files with the same version (`V20`, `V20.0` and `V020` are the same).
    #[error(
        "version {version} is used by more than one file: {}; give each file its own version",
        .paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
    )]
    DuplicateVersion {
        /// The version, in the first file's stored form.
        version: String,
        /// The files, relative to the migrations directory.
        paths: Vec<String>,
    },
    /// Two repeatable files with the same file name in different directories (the history
    /// identifies repeatables by file name).
    #[error(
        "file name `{filename}` is used more than once: {}; rename one",
        .paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
    )]
    DuplicateFilename {
        /// The shared file name.
        filename: String,
        /// The files, relative to the migrations directory.
        paths: Vec<String>,
    },
}

/// A name error's message, with the directories in front when the file is not at the top.
fn with_directory(path: &str, problem: &NameError) -> String {
    match path.rsplit_once('/') {
        Some((directory, _)) => format!("in `{directory}/`: {problem}"),
        None => problem.to_string(),
    }
}

impl SourceError {
    /// The path the problem is about, relative to the migrations directory (for duplicates, the
    /// first of the files; for directory problems, the directory).
    pub fn path(&self) -> String {
        match self {
            Self::MissingDirectory { path } | Self::NotADirectory { path } => {
                path.display().to_string()
            }
            Self::Io { path, .. }
            | Self::NameNotUtf8 { path }
            | Self::LinkOutside { path, .. }
            | Self::Name { path, .. }
            | Self::NotUtf8 { path, .. }
            | Self::NulByte { path, .. }
            | Self::Body { path, .. }
            | Self::Split { path, .. } => path.clone(),
            Self::DuplicateVersion { paths, .. } | Self::DuplicateFilename { paths, .. } => {
                paths.first().cloned().unwrap_or_default()
            }
        }
    }
}

/// Every problem found in a migrations directory.
#[derive(Debug)]
pub struct ScanError {
    /// The directory that was read.
    pub directory: PathBuf,
    /// The problems, in file order.
    pub problems: Vec<SourceError>,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{count} problem{} in migrations directory `{}`:",
            if count == 1 { "" } else { "s" },
            self.directory.display()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScanError {}

/// Reads every migration in `directory` (recursively) and returns them in apply order: versioned
/// by version, then runs-always by path, then runs-on-change by path. Files not ending in `.sql`
/// are ignored.
///
/// ```no_run
/// let migrations = jetbase_core::scan_dir("jetbase/migrations".as_ref())?;
/// for migration in &migrations {
///     println!("{} {}", migration.filename(), migration.checksum());
/// }
/// # Ok::<(), jetbase_core::ScanError>(())
/// ```
///
/// # Errors
///
/// Returns a [`ScanError`] holding every problem found, not only the first: a missing directory,
/// unreadable files, bad names, non-UTF-8 content, bad directives, empty files, unterminated
/// quotes or comments, duplicate versions.
pub fn scan_dir(directory: &Path) -> Result<Vec<Migration>, ScanError> {
    let fail = |problem| ScanError {
        directory: directory.to_path_buf(),
        problems: vec![problem],
    };
    match std::fs::metadata(directory) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail(SourceError::MissingDirectory {
                path: directory.to_path_buf(),
            }));
        }
        Err(source) => {
            return Err(fail(SourceError::Io {
                path: directory.display().to_string(),
                source,
            }));
        }
        Ok(metadata) if !metadata.is_dir() => {
            return Err(fail(SourceError::NotADirectory {
                path: directory.to_path_buf(),
            }));
        }
        Ok(_) => {}
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    // Links are followed only inside the directory (as it is after resolving links itself).
    let inside = std::fs::canonicalize(directory).unwrap_or_else(|_| directory.to_path_buf());
    collect_files(directory, "", 0, &inside, &mut files, &mut problems);
    files.sort();
    let mut migrations = Vec::with_capacity(files.len());
    for result in read_and_parse_all(directory, &files) {
        match result {
            Ok(migration) => migrations.push(migration),
            Err(found) => problems.extend(found),
        }
    }
    problems.extend(find_duplicates(&migrations));
    if !problems.is_empty() {
        return Err(ScanError {
            directory: directory.to_path_buf(),
            problems,
        });
    }
    sort_in_apply_order(&mut migrations);
    Ok(migrations)
}

/// Below this many files, one thread reads them all.
const FILES_PER_THREAD: usize = 256;

/// Reads and parses `files` (relative to `directory`), on several threads for large directories;
/// the results keep the order of `files`.
fn read_and_parse_all(
    directory: &Path,
    files: &[String],
) -> Vec<Result<Migration, Vec<SourceError>>> {
    let read_and_parse = |relative: &String| match std::fs::read(directory.join(relative)) {
        Ok(bytes) => parse_migration(relative, &bytes),
        Err(source) => Err(vec![SourceError::Io {
            path: relative.clone(),
            source,
        }]),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len() / FILES_PER_THREAD)
        .max(1);
    if threads == 1 {
        return files.iter().map(read_and_parse).collect();
    }
    let chunk_size = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk_size)
            .map(|chunk| scope.spawn(move || chunk.iter().map(read_and_parse).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .zip(files.chunks(chunk_size))
            .flat_map(|(worker, chunk)| {
                // A worker only panics if parsing panicked; parse that chunk again here so the
                // panic surfaces on the caller's thread with its message.
                worker
                    .join()
                    .unwrap_or_else(|_| chunk.iter().map(read_and_parse).collect())
            })
            .collect()
    })
}

/// Collects the relative paths (with `/`) of the `.sql` files below `directory`; a link that
/// leads outside `inside` is a problem, not followed.
fn collect_files(
    directory: &Path,
    prefix: &str,
    depth: usize,
    inside: &Path,
    files: &mut Vec<String>,
    problems: &mut Vec<SourceError>,
) {
    // A problem with the directory itself names it: relative below the top, whole at the top.
    let shown = match prefix.trim_end_matches('/') {
        "" => directory.display().to_string(),
        below => below.to_owned(),
    };
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(source) => {
            problems.push(SourceError::Io {
                path: shown,
                source,
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => {
                problems.push(SourceError::Io {
                    path: shown.clone(),
                    source,
                });
                continue;
            }
        };
        let path = entry.path();
        let raw_name = entry.file_name();
        let Some(name) = raw_name.to_str() else {
            let lossy = format!("{prefix}{}", raw_name.to_string_lossy());
            if lossy.ends_with(".sql") {
                problems.push(SourceError::NameNotUtf8 { path: lossy });
            }
            continue;
        };
        let relative = format!("{prefix}{name}");
        // The entry's own type needs no system call; only links are followed with `metadata`.
        let file_type = match entry.file_type() {
            Ok(file_type) if file_type.is_symlink() => {
                match std::fs::canonicalize(&path) {
                    Ok(target) if !target.starts_with(inside) => {
                        // A link out of the directory is reported where it would have counted:
                        // a `.sql` name, or a directory.
                        if is_sql_file(name) || target.is_dir() {
                            problems.push(SourceError::LinkOutside {
                                path: relative,
                                target,
                            });
                        }
                        continue;
                    }
                    _ => std::fs::metadata(&path).map(|m| m.file_type()),
                }
            }
            other => other,
        };
        match file_type {
            Ok(file_type) if file_type.is_dir() => {
                if depth < MAX_DEPTH {
                    let prefix = format!("{relative}/");
                    collect_files(&path, &prefix, depth + 1, inside, files, problems);
                }
            }
            Ok(_) if is_sql_file(name) => files.push(relative),
            Ok(_) => {}
            Err(source) => problems.push(SourceError::Io {
                path: relative,
                source,
            }),
        }
    }
}

/// Parses one migration file from its path (relative to the migrations directory, `/`
/// separators) and content. Every problem of the file is returned together.
///
/// ```
/// let migration = jetbase_core::parse_migration("sub/V2__add_index.sql", b"CREATE INDEX i ON t (a);")?;
/// assert_eq!(migration.filename(), "V2__add_index.sql");
/// assert_eq!(migration.version().unwrap().as_str(), "2");
/// # Ok::<(), Vec<jetbase_core::SourceError>>(())
/// ```
///
/// # Errors
///
/// Returns every [`SourceError`] of the file: bad name, non-UTF-8 content, a NUL byte, bad directives, an
/// empty file, SQL that no dialect can split.
pub fn parse_migration(path: &str, bytes: &[u8]) -> Result<Migration, Vec<SourceError>> {
    let filename = path.rsplit('/').next().unwrap_or(path);
    let mut problems = Vec::new();
    let name = parse_filename(filename)
        .map_err(|problem| {
            problems.push(SourceError::Name {
                path: path.to_owned(),
                problem,
            })
        })
        .ok();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(error) => {
            let valid = &bytes[..error.valid_up_to()];
            problems.push(SourceError::NotUtf8 {
                path: path.to_owned(),
                line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
            });
            return Err(problems);
        }
    };
    if let Some(at) = text.find('\0') {
        problems.push(SourceError::NulByte {
            path: path.to_owned(),
            line: text[..at].matches('\n').count() + 1,
        });
        return Err(problems);
    }
    let body = match parse_body(text) {
        Ok(body) => Some(body),
        Err(errors) => {
            problems.extend(errors.into_iter().map(|problem| SourceError::Body {
                path: path.to_owned(),
                problem,
            }));
            None
        }
    };
    let (Some(name), Some(body)) = (name, body) else {
        return Err(problems);
    };
    if body.directives.delimiter.is_none() {
        for section in std::iter::once(body.upgrade).chain(body.rollback) {
            if let Err(problem) = check_splittable(section.text, section.first_line) {
                problems.push(SourceError::Split {
                    path: path.to_owned(),
                    problem,
                });
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Migration::new(MigrationParts {
        kind: name.kind,
        version: name.version,
        description: name.description,
        filename: filename.to_owned(),
        path: path.to_owned(),
        checksum: checksum(text, body.directives.delimiter()),
        upgrade_sql: body.upgrade.text.to_owned(),
        rollback_sql: body.rollback.map(|section| section.text.to_owned()),
        rollback_first_line: body.rollback.map_or(0, |section| section.first_line),
        no_transaction: body.directives.no_transaction,
        delimiter: body.directives.delimiter,
        limits: body.directives.limits,
    }))
}

/// SQL is rejected before it reaches a database only when no dialect can split it: a MySQL file
/// may use backslash escapes that PostgreSQL's rules read differently, and the database is not
/// known until run time.
fn check_splittable(text: &str, first_line: usize) -> Result<(), SplitError> {
    let mut first_error = None;
    for dialect in Dialect::ALL {
        match split_statements(text, first_line, dialect) {
            Ok(_) => return Ok(()),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn find_duplicates(migrations: &[Migration]) -> Vec<SourceError> {
    let mut by_version: HashMap<&Version, Vec<&Migration>> = HashMap::new();
    let mut by_filename: HashMap<&str, Vec<&Migration>> = HashMap::new();
    for migration in migrations {
        match migration.version() {
            Some(version) => by_version.entry(version).or_default().push(migration),
            None => by_filename
                .entry(migration.filename())
                .or_default()
                .push(migration),
        }
    }
    let paths = |group: &[&Migration]| group.iter().map(|m| m.path().to_owned()).collect();
    let mut problems: Vec<SourceError> = by_version
        .into_iter()
        .filter(|(_, group)| group.len() > 1)
        .map(|(version, group)| SourceError::DuplicateVersion {
            version: version.to_string(),
            paths: paths(&group),
        })
        .chain(
            by_filename
                .into_iter()
                .filter(|(_, group)| group.len() > 1)
                .map(|(filename, group)| SourceError::DuplicateFilename {
                    filename: filename.to_owned(),
                    paths: paths(&group),
                }),
        )
        .collect();
    problems.sort_by_key(SourceError::path);
    problems
}

/// Versioned by version, then runs-always by path, then runs-on-change by path.
pub fn sort_in_apply_order(migrations: &mut [Migration]) {
    migrations.sort_by(|a, b| {
        let rank = |m: &Migration| match m.kind() {
            MigrationKind::Versioned => 0,
            MigrationKind::RunsAlways => 1,
            MigrationKind::RunsOnChange => 2,
        };
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.version().cmp(&b.version()))
            .then_with(|| a.path().cmp(b.path()))
    });
}

#[cfg(test)]
mod tests;
