//! `jetbase new DESCRIPTION [-v VERSION]`: an empty migration file, never overwriting one.

use std::path::{Path, PathBuf};

use jetbase_core::{MAX_FILENAME_CHARS, Version};

use crate::cli::NewArgs;
use crate::error::CliError;
use crate::project::Project;

/// What a new file holds, as Python Jetbase writes it.
const NEW_FILE: &str = "-- upgrade\n\n-- rollback\n";

pub fn run(project: &Project, cwd: &Path, args: &NewArgs) -> Result<(), CliError> {
    let description = safe_description(&args.description.join(" "))?;
    // The version as typed (`3_1` stays `3_1`, as Python Jetbase writes it), or the time now.
    let version_text = match &args.version {
        Some(version) => version.trim().to_owned(),
        None => timestamp_version(),
    };
    let version = Version::parse(&version_text).map_err(|error| {
        CliError::usage(format!(
            "-v {version_text:?} is not a version: use numbers separated by `.` or `_`, such as \
             1, 1.5 or 2_1"
        ))
        .caused_by(error)
    })?;
    let file = NewFile {
        version_text: &version_text,
        version: &version,
        description: &description,
        body: NEW_FILE,
    };
    let path = file.create(&project.migrations_dir(), cwd, |existing| {
        CliError::usage(format!(
            "version {} is already used by {existing}; choose another with -v",
            version.as_str()
        ))
    })?;
    crate::output::outln!("{}", shown(&path, cwd));
    Ok(())
}

/// The version `new` and `make-migrations` give a file by default: the local time,
/// `%Y%m%d.%H%M%S`.
pub(super) fn timestamp_version() -> String {
    chrono::Local::now().format("%Y%m%d.%H%M%S").to_string()
}

/// `path` as the user should see it: relative to the current directory when it is below it.
pub(super) fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

/// A migration file to create: `V<version_text>__<description>.sql` holding `body`.
pub(super) struct NewFile<'a> {
    pub version_text: &'a str,
    pub version: &'a Version,
    /// Already made file-name safe ([`safe_description`]).
    pub description: &'a str,
    pub body: &'a str,
}

impl NewFile<'_> {
    /// Creates the file in `migrations`, never over another: a name above the length limit and a
    /// version another file has (`taken`, given that file's name) are errors.
    pub(super) fn create(
        &self,
        migrations: &Path,
        cwd: &Path,
        taken: impl FnOnce(&str) -> CliError,
    ) -> Result<PathBuf, CliError> {
        let filename = format!("V{}__{}.sql", self.version_text, self.description);
        if filename.chars().count() > MAX_FILENAME_CHARS {
            return Err(CliError::usage(format!(
                "the file name would be {} characters, above the limit of {MAX_FILENAME_CHARS}; \
                 shorten the description",
                filename.chars().count()
            )));
        }
        if let Some(existing) = file_with_version(migrations, self.version)? {
            return Err(taken(&existing));
        }
        let path = migrations.join(&filename);
        crate::files::create_new(&path, self.body.as_bytes(), crate::files::Access::Shared)
            .map_err(|error| {
                CliError::run(format!("cannot create {}", shown(&path, cwd))).caused_by(error)
            })?;
        Ok(path)
    }
}

/// The description as a file name part: spaces become `_`, characters a file name should not
/// hold become `_`; path separators and an empty result are errors.
pub(super) fn safe_description(description: &str) -> Result<String, CliError> {
    if description.contains(['/', '\\']) {
        return Err(CliError::usage(format!(
            "the description {description:?} holds a path separator; describe the change in \
             words, such as \"create users table\" (the file always goes in migrations/)"
        )));
    }
    let mut safe = String::new();
    for c in description.trim().chars() {
        let keep = c.is_alphanumeric() || c == '-' || c == '.';
        let next = if keep { c } else { '_' };
        if next == '_' && safe.ends_with('_') {
            continue;
        }
        safe.push(next);
    }
    let safe = safe.trim_matches(|c| c == '_' || c == '.').to_owned();
    if safe.is_empty() {
        return Err(CliError::usage(
            "the description is empty; say what the migration does, such as \"create users table\"",
        ));
    }
    Ok(safe)
}

/// A migration file (scanned recursively) whose version equals `version`.
fn file_with_version(directory: &Path, version: &Version) -> Result<Option<String>, CliError> {
    let entries = std::fs::read_dir(directory).map_err(|error| {
        CliError::usage(format!("cannot read {}", directory.display())).caused_by(error)
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = file_with_version(&path, version)? {
                return Ok(Some(found));
            }
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(parsed) = jetbase_core::parse_filename(&name)
            && parsed.version.as_ref() == Some(version)
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_become_safe_file_name_parts() {
        assert_eq!(
            safe_description("create users table").unwrap(),
            "create_users_table"
        );
        assert_eq!(safe_description("  add   index  ").unwrap(), "add_index");
        assert_eq!(safe_description("fix: \"x\" <y>?").unwrap(), "fix_x_y");
        assert_eq!(safe_description("ajouter café").unwrap(), "ajouter_café");
        assert_eq!(safe_description("v1.2-hotfix").unwrap(), "v1.2-hotfix");
        for bad in ["", "   ", "???", "../etc/passwd", "a/b", "a\\b", ".."] {
            assert!(safe_description(bad).is_err(), "{bad:?}");
        }
    }
}
