//! `jetbase adopt`: a project moved from sqlx, diesel or refinery in one step. Their migration
//! files are converted into jetbase files, and jetbase's history records every migration the
//! tool's own table says is applied, with the converted files' checksums. The database itself
//! is not changed, and the tool's table is left in place.

mod files;
mod history;

use std::path::{Path, PathBuf};

use crate::backend::Database;
use crate::migrator::read_history;
use crate::{Error, Migrator, Report};
use files::{ToolMigration, read_migrations, refused};
use history::{ToolRecord, read_records};

/// A migration tool whose projects jetbase adopts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tool {
    /// sqlx (`sqlx migrate`, `sqlx::migrate!`): `<VERSION>_<DESCRIPTION>.sql`, or `.up.sql`
    /// and `.down.sql`; table `_sqlx_migrations`.
    Sqlx,
    /// diesel (`diesel migration`, `diesel_migrations`): a folder per migration with `up.sql`
    /// and `down.sql`; table `__diesel_schema_migrations`.
    Diesel,
    /// refinery: `V<n>__<name>.sql`; table `refinery_schema_history`.
    Refinery,
}

impl Tool {
    /// `sqlx`, `diesel` or `refinery`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlx => "sqlx",
            Self::Diesel => "diesel",
            Self::Refinery => "refinery",
        }
    }

    /// The tool's history table.
    pub const fn history_table(self) -> &'static str {
        match self {
            Self::Sqlx => "_sqlx_migrations",
            Self::Diesel => "__diesel_schema_migrations",
            Self::Refinery => "refinery_schema_history",
        }
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A migration file of the other tool and the jetbase file it became.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConvertedFile {
    /// The tool's file, relative to its directory.
    pub source: String,
    /// The jetbase file's name.
    pub filename: String,
}

/// What [`Migrator::adopt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adoption {
    /// The tool.
    pub tool: Tool,
    /// Every file converted, in version order.
    pub converted: Vec<ConvertedFile>,
    /// The migrations recorded in jetbase's history as applied (those the tool's table lists).
    pub recorded: Report,
    /// Whether the tool's history table exists (left as it is).
    pub tool_table_found: bool,
}

/// Converts the tool's migrations in `from` into jetbase files in `to`, without a database.
///
/// # Errors
///
/// [`Error::Refused`] (nothing written) when a file cannot be read or converted (a Rust
/// refinery migration, a comment jetbase would read as its rollback marker, two files with one
/// version), or when `to` already holds other migrations; [`Error::Migrations`] when a
/// converted file is not a valid jetbase migration.
pub fn convert(tool: Tool, from: &Path, to: &Path) -> Result<Vec<ConvertedFile>, Error> {
    let migrations = read_migrations(tool, from)?;
    if migrations.is_empty() {
        return Err(nothing_in(tool, from));
    }
    validate(&migrations)?;
    check_target(&migrations, to)?;
    write(&migrations, to)?;
    Ok(converted(&migrations))
}

impl Migrator {
    /// Adopts a project of `tool`: converts its migrations in `from` into jetbase files in
    /// `to`, and records in jetbase's history, as applied, every migration the tool's table says
    /// is applied (under the lock, in one transaction). The schema is not touched; the tool's
    /// table is left in place. The migrator gives the configuration (PostgreSQL schema, lock);
    /// its own migrations are not used.
    ///
    /// ```no_run
    /// # async fn move_over(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// use std::path::Path;
    /// use jetbase::adopt::Tool;
    /// let adoption = jetbase::Migrator::default()
    ///     .adopt(Tool::Sqlx, Path::new("migrations"), Path::new("jetbase/migrations"), &pool)
    ///     .await?;
    /// println!("{} recorded as applied", adoption.recorded.migrations.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`convert`], and [`Error::Refused`] with nothing written when the tool's table lists
    /// a migration whose file is gone, one sqlx recorded as failed, or one whose sqlx checksum
    /// does not match its file (edited since), or when jetbase's history already has rows;
    /// [`Error::LockTimeout`] or [`Error::Database`].
    pub async fn adopt<D: Database>(
        &self,
        tool: Tool,
        from: &Path,
        to: &Path,
        database: &D,
    ) -> Result<Adoption, Error> {
        let migrations = read_migrations(tool, from)?;
        if migrations.is_empty() {
            return Err(nothing_in(tool, from));
        }
        let records = read_records(database, tool).await?;
        let applied = applied(tool, &migrations, records.as_deref().unwrap_or_default())?;
        validate(&migrations)?;
        check_target(&migrations, to)?;
        let tables = self.tables(database)?;
        if let Some(history) = read_history(database, &tables).await?
            && let Some(row) = history.first()
        {
            return Err(refused(format!(
                "jetbase's history already has rows ({} first): this database is under \
                 jetbase already",
                row.filename
            )));
        }
        write(&migrations, to)?;
        let versions: Vec<&str> = applied.iter().map(|m| m.version.as_str()).collect();
        let recorded = if versions.is_empty() {
            Report::default()
        } else {
            self.reading(to)?
                .record_as_applied(database, &versions)
                .await?
        };
        Ok(Adoption {
            tool,
            converted: converted(&migrations),
            recorded,
            tool_table_found: records.is_some(),
        })
    }
}

fn nothing_in(tool: Tool, from: &Path) -> Error {
    refused(format!(
        "no {tool} migrations in `{}` (give the directory with --from)",
        from.display()
    ))
}

/// The migrations the tool's table lists as applied, or why the adoption is refused.
fn applied<'m>(
    tool: Tool,
    migrations: &'m [ToolMigration],
    records: &[ToolRecord],
) -> Result<Vec<&'m ToolMigration>, Error> {
    let table = tool.history_table();
    let mut applied = Vec::new();
    for record in records {
        let named = record
            .description
            .as_deref()
            .map(|description| format!(" ({description})"))
            .unwrap_or_default();
        if !record.success {
            return Err(refused(format!(
                "{table} marks version {}{named} as failed: the database may hold part of it. \
                 Repair it and delete that row (as sqlx asks), then adopt",
                record.version
            )));
        }
        let Some(migration) = migrations
            .iter()
            .find(|migration| same_version(tool, &migration.tool_version, &record.version))
        else {
            return Err(refused(format!(
                "{table} lists version {}{named} as applied, but no file has that version: \
                 restore the file, then adopt",
                record.version
            )));
        };
        if let (Some(recorded), Some(file)) = (&record.checksum, &migration.sqlx_checksum)
            && !recorded.eq_ignore_ascii_case(file)
        {
            return Err(refused(format!(
                "`{}` was changed after sqlx applied it (its checksum in {table} differs): \
                 restore the file as it was applied, then adopt",
                migration.source
            )));
        }
        applied.push(migration);
    }
    Ok(applied)
}

/// Versions as the tool compares them: integers for sqlx and refinery, text for diesel.
fn same_version(tool: Tool, file: &str, recorded: &str) -> bool {
    match tool {
        Tool::Sqlx | Tool::Refinery => match (file.parse::<i64>(), recorded.parse::<i64>()) {
            (Ok(file), Ok(recorded)) => file == recorded,
            _ => false,
        },
        Tool::Diesel => file == recorded,
    }
}

/// Every converted file is a valid jetbase migration, with a version of its own: checked in a
/// directory of its own before anything is written where the user sees it.
fn validate(migrations: &[ToolMigration]) -> Result<(), Error> {
    let scratch = std::env::temp_dir().join(format!(
        "jetbase-adopt-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let result = write(migrations, &scratch).and_then(|()| Migrator::from_dir(&scratch));
    let _ = std::fs::remove_dir_all(&scratch);
    result.map(drop)
}

/// `to` must be empty of migrations, or hold exactly these files (an adoption run again).
fn check_target(migrations: &[ToolMigration], to: &Path) -> Result<(), Error> {
    let Ok(listing) = std::fs::read_dir(to) else {
        return Ok(());
    };
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !jetbase_core::is_sql_file(&name) {
            continue;
        }
        let same = migrations.iter().any(|migration| {
            migration.filename() == name
                && std::fs::read_to_string(entry.path())
                    .is_ok_and(|text| text == migration.contents())
        });
        if !same {
            return Err(refused(format!(
                "`{}` already holds migrations ({name}): adopt converts into a directory \
                 without any",
                to.display()
            )));
        }
    }
    Ok(())
}

/// Writes every converted file into `to`, all or none: each file is written whole beside its
/// name and then linked in (never over a file), and a failure (a full disk) removes the ones
/// written before it, so that running `adopt` again finds the directory as it was.
fn write(migrations: &[ToolMigration], to: &Path) -> Result<(), Error> {
    let failed = |path: &Path, error: std::io::Error| {
        refused(format!("cannot write `{}`: {error}", path.display()))
    };
    std::fs::create_dir_all(to).map_err(|error| failed(to, error))?;
    let mut written: Vec<PathBuf> = Vec::new();
    for migration in migrations {
        let path = to.join(migration.filename());
        if let Err(error) = write_whole(&path, migration.contents().as_bytes()) {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(failed(&path, error));
        }
        written.push(path);
    }
    Ok(())
}

/// `contents` into a new file `path`, whole or not at all: written to a hidden file of this
/// process's beside it, flushed, then renamed to its name (a rename works on every file system;
/// `write` refused a directory with migrations already, and `path` is checked again just before).
fn write_whole(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.{}.jetbase-partial", std::process::id()));
    // Only a file this call created is removed on failure.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)?;
    let result = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| match path.try_exists() {
            Ok(true) => Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file of that name appeared meanwhile",
            )),
            Ok(false) => std::fs::rename(&partial, path),
            Err(error) => Err(error),
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn converted(migrations: &[ToolMigration]) -> Vec<ConvertedFile> {
    migrations
        .iter()
        .map(|migration| ConvertedFile {
            source: migration.source.clone(),
            filename: migration.filename(),
        })
        .collect()
}
