//! Another tool's migration files, read by that tool's rules and converted to jetbase files.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

use super::Tool;
use crate::Error;

/// One migration of the other tool, ready to be written as a jetbase file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolMigration {
    /// Where it came from, relative to the tool's directory.
    pub source: String,
    /// The version as the tool writes it in its history table.
    pub tool_version: String,
    /// The version of the jetbase file.
    pub version: String,
    /// The description of the jetbase file name (`create_users`).
    pub description: String,
    pub up: String,
    pub down: Option<String>,
    pub no_transaction: bool,
    /// sqlx: the SHA-384 of the (up) file as sqlx computes it, in lower-case hex.
    pub sqlx_checksum: Option<String>,
}

impl ToolMigration {
    /// The jetbase file name.
    pub fn filename(&self) -> String {
        format!("V{}__{}.sql", self.version, self.description)
    }

    /// The jetbase file: its directives, the upgrade section and the rollback section.
    pub fn contents(&self) -> String {
        let mut text = String::new();
        if self.no_transaction {
            text.push_str("-- jetbase: no-transaction\n");
        }
        text.push_str("-- upgrade\n");
        push_section(&mut text, &self.up);
        if let Some(down) = &self.down {
            text.push_str("\n-- rollback\n");
            push_section(&mut text, down);
        }
        text
    }
}

fn push_section(text: &mut String, sql: &str) {
    text.push_str(sql);
    if !sql.ends_with('\n') {
        text.push('\n');
    }
}

pub(crate) fn refused(message: String) -> Error {
    Error::Refused {
        operation: "adopt",
        message,
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|error| refused(format!("cannot read `{}`: {error}", path.display())))
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let listing = std::fs::read_dir(dir).map_err(|error| {
        refused(format!(
            "cannot read the migrations directory `{}`: {error} (give it with --from)",
            dir.display()
        ))
    })?;
    let mut paths = Vec::new();
    for entry in listing {
        let entry =
            entry.map_err(|error| refused(format!("cannot read `{}`: {error}", dir.display())))?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The migrations in `dir`, by the tool's own rules, in version order.
pub(crate) fn read_migrations(tool: Tool, dir: &Path) -> Result<Vec<ToolMigration>, Error> {
    let mut migrations = match tool {
        Tool::Sqlx => read_sqlx(dir)?,
        Tool::Diesel => read_diesel(dir)?,
        Tool::Refinery => {
            let mut found = Vec::new();
            read_refinery(dir, dir, &mut found)?;
            found
        }
    };
    for migration in &migrations {
        check_markers(migration)?;
    }
    migrations.sort_by(|a, b| {
        let number = |m: &ToolMigration| m.tool_version.parse::<u128>().unwrap_or(u128::MAX);
        number(a)
            .cmp(&number(b))
            .then_with(|| a.source.cmp(&b.source))
    });
    Ok(migrations)
}

/// sqlx: `<VERSION>_<DESCRIPTION>.sql`, or `.up.sql` and `.down.sql`; VERSION an `i64`; a file
/// starting with `-- no-transaction` runs outside a transaction.
fn read_sqlx(dir: &Path) -> Result<Vec<ToolMigration>, Error> {
    let mut migrations: Vec<ToolMigration> = Vec::new();
    let mut downs: Vec<(String, String, String)> = Vec::new();
    for path in entries(dir)? {
        if !path.is_file() {
            continue;
        }
        let name = name_of(&path);
        let Some((version_text, rest)) = name.split_once('_') else {
            continue;
        };
        if !rest.ends_with(".sql") {
            continue;
        }
        let version: i64 = version_text.parse().map_err(|_| {
            refused(format!(
                "`{name}`: sqlx expects an integer version before the first `_`"
            ))
        })?;
        if version < 0 {
            return Err(refused(format!(
                "`{name}`: a negative version cannot be a jetbase version"
            )));
        }
        let sql = read(&path)?;
        if let Some(description) = rest.strip_suffix(".down.sql") {
            downs.push((version.to_string(), description.to_owned(), sql));
            continue;
        }
        let description = rest
            .strip_suffix(".up.sql")
            .or_else(|| rest.strip_suffix(".sql"))
            .unwrap_or(rest);
        if let Some(other) = migrations
            .iter()
            .find(|m| m.tool_version == version.to_string())
        {
            return Err(refused(format!(
                "`{name}` and `{}` have the same sqlx version {version}",
                other.source
            )));
        }
        let checksum = hex(&Sha384::digest(sql.as_bytes()));
        let no_transaction = sql.starts_with("-- no-transaction");
        let up = if no_transaction {
            sql.split_once('\n').map_or("", |(_, rest)| rest).to_owned()
        } else {
            sql
        };
        migrations.push(ToolMigration {
            source: name.clone(),
            tool_version: version.to_string(),
            version: version_text.to_owned(),
            description: description.to_owned(),
            up,
            down: None,
            no_transaction,
            sqlx_checksum: Some(checksum),
        });
    }
    for (version, description, sql) in downs {
        let Some(migration) = migrations.iter_mut().find(|m| m.tool_version == version) else {
            return Err(refused(format!(
                "`{version}_{description}.down.sql` has no `.up.sql` beside it"
            )));
        };
        migration.down = Some(sql);
    }
    Ok(migrations)
}

/// diesel: a folder `<VERSION>_<NAME>` per migration with `up.sql`, `down.sql` and maybe
/// `metadata.toml` (`run_in_transaction = false`); the version diesel records is the part
/// before the first `_`, without its `-`.
fn read_diesel(dir: &Path) -> Result<Vec<ToolMigration>, Error> {
    let mut migrations = Vec::new();
    for path in entries(dir)? {
        if !path.is_dir() {
            continue;
        }
        let name = name_of(&path);
        let (version_text, description) = name.split_once('_').unwrap_or((name.as_str(), ""));
        let version = version_text.replace('-', "");
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused(format!(
                "`{name}`: diesel's folders start with their version (`2024-01-31-120000_name`), \
                 digits and `-`"
            )));
        }
        let up_path = path.join("up.sql");
        if !up_path.is_file() {
            return Err(refused(format!("`{name}` has no up.sql")));
        }
        let down_path = path.join("down.sql");
        let down = if down_path.is_file() {
            Some(read(&down_path)?).filter(|sql| !sql.trim().is_empty())
        } else {
            None
        };
        let metadata = path.join("metadata.toml");
        let no_transaction = metadata.is_file() && !runs_in_transaction(&read(&metadata)?);
        migrations.push(ToolMigration {
            source: format!("{name}/up.sql"),
            tool_version: version.clone(),
            version,
            description: if description.is_empty() {
                "migration".to_owned()
            } else {
                description.to_owned()
            },
            up: read(&up_path)?,
            down,
            no_transaction,
            sqlx_checksum: None,
        });
    }
    Ok(migrations)
}

/// Whether a diesel `metadata.toml` leaves the migration in a transaction: only
/// `run_in_transaction = false` takes it out.
fn runs_in_transaction(metadata: &str) -> bool {
    !metadata.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("");
        line.split_once('=').is_some_and(|(key, value)| {
            key.trim() == "run_in_transaction" && value.trim() == "false"
        })
    })
}

/// refinery: `V<n>__<name>.sql` (and `U<n>__`, unversioned), anywhere below the directory.
fn read_refinery(root: &Path, dir: &Path, found: &mut Vec<ToolMigration>) -> Result<(), Error> {
    for path in entries(dir)? {
        if path.is_dir() {
            read_refinery(root, &path, found)?;
            continue;
        }
        let name = name_of(&path);
        let Some(stem) = name
            .strip_suffix(".sql")
            .or_else(|| name.strip_suffix(".rs"))
        else {
            continue;
        };
        let Some(rest) = stem.strip_prefix('V').or_else(|| stem.strip_prefix('U')) else {
            continue;
        };
        let Some((number, description)) = rest.split_once("__") else {
            continue;
        };
        let Ok(version) = number.parse::<i64>() else {
            continue;
        };
        let source = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if name.ends_with(".rs") {
            return Err(refused(format!(
                "`{source}` is a Rust migration: jetbase migrations are SQL; write it as \
                 `V{version}__{description}.sql` first"
            )));
        }
        if let Some(other) = found.iter().find(|m| m.tool_version == version.to_string()) {
            return Err(refused(format!(
                "`{source}` and `{}` have the same refinery version {version}",
                other.source
            )));
        }
        found.push(ToolMigration {
            source,
            tool_version: version.to_string(),
            version: number.to_owned(),
            description: description.to_owned(),
            up: read(&path)?,
            down: None,
            no_transaction: false,
            sqlx_checksum: None,
        });
    }
    Ok(())
}

/// A line of the upgrade SQL that jetbase would read as its rollback marker.
fn check_markers(migration: &ToolMigration) -> Result<(), Error> {
    let marker = |line: &str| {
        line.trim()
            .strip_prefix("--")
            .is_some_and(|rest| rest.trim().eq_ignore_ascii_case("rollback"))
    };
    let sections = [Some(&migration.up), migration.down.as_ref()];
    for sql in sections.into_iter().flatten() {
        if let Some(number) = sql.lines().position(marker) {
            return Err(refused(format!(
                "`{}` line {}: jetbase reads `{}` as the line between upgrade and rollback; \
                 change that comment first",
                migration.source,
                number + 1,
                sql.lines().nth(number).unwrap_or_default().trim()
            )));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diesel_metadata_file_takes_it_out_of_a_transaction() {
        assert!(runs_in_transaction(""));
        assert!(runs_in_transaction("run_in_transaction = true\n"));
        assert!(!runs_in_transaction(
            "run_in_transaction = false # for CONCURRENTLY\n"
        ));
        assert!(runs_in_transaction("# run_in_transaction = false\n"));
    }

    #[test]
    fn the_converted_file_has_the_directive_and_both_sections() {
        let migration = ToolMigration {
            source: "1_init.up.sql".to_owned(),
            tool_version: "1".to_owned(),
            version: "1".to_owned(),
            description: "init".to_owned(),
            up: "CREATE TABLE t (id INT);".to_owned(),
            down: Some("DROP TABLE t;\n".to_owned()),
            no_transaction: true,
            sqlx_checksum: None,
        };
        assert_eq!(migration.filename(), "V1__init.sql");
        assert_eq!(
            migration.contents(),
            "-- jetbase: no-transaction\n-- upgrade\nCREATE TABLE t (id INT);\n\n-- rollback\nDROP TABLE t;\n"
        );
        let mut marked = migration;
        marked.up = "SELECT 1;\n  -- ROLLBACK\n".to_owned();
        let error = check_markers(&marked).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }
}
