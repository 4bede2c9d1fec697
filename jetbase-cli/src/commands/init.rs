//! `jetbase init`: `jetbase/migrations/` and a commented `jetbase/jetbase.toml`.

use std::path::Path;

use crate::cli::{GlobalArgs, InitArgs};
use crate::error::CliError;

/// The configuration `init` writes; `{url_line}` is the database URL line.
const CONFIG_TEMPLATE: &str = r#"# Jetbase configuration. The environment overrides every key here: JETBASE_DATABASE_URL,
# JETBASE_POSTGRES_SCHEMA, JETBASE_<KEY> for the others (also from a .env file in the project
# root); DATABASE_URL is the last fallback for the URL.

# The database: postgres://, mysql://, mariadb://, sqlite://, snowflake://, clickhouse:// or
# databricks:// (the README gives each one's form; SQLAlchemy URLs such as
# postgresql+psycopg2:// work too). A relative SQLite path is relative to this directory.
# Keep passwords out of this file: put the URL in JETBASE_DATABASE_URL instead.
{url_line}

# PostgreSQL only: keep the history tables (and unqualified names) in this schema.
# postgres_schema = "public"

# The history and lock tables' names: a migration set of its own in a database another set
# (another service, a library's migrations) also migrates. Python Jetbase's by default.
# history_table = "jetbase_migrations"
# lock_table = "jetbase_lock"

# Skip validations before an upgrade (all of them, or one kind).
# skip_validation = false
# skip_checksum_validation = false
# skip_file_validation = false

# Allow a pending version below the latest applied one.
# out_of_order = false

# Seconds to wait for the migration lock, and for the database when connecting.
# lock_timeout = 60
# connect_timeout = 5

# Every migration's limits, unless its file sets its own (`-- jetbase: table-lock-timeout=5s`):
# how long a statement may wait for a table lock and run, and how often a migration that could
# not get a lock in time is tried again.
# table_lock_timeout = "5s"
# statement_timeout = "10min"
# retries = 3

# Values for ${name} in the migrations (also --placeholder NAME=VALUE and
# JETBASE_PLACEHOLDER_<NAME>). Keep this table last: the keys after it belong to it.
# [placeholders]
# cluster = "main"
"#;

/// Creates the project in `./jetbase` (or `--dir`).
pub fn run(cwd: &Path, flags: &GlobalArgs, args: &InitArgs) -> Result<(), CliError> {
    let jetbase_dir = match &flags.dir {
        Some(dir) => crate::project::absolute(cwd, dir),
        None => cwd.join("jetbase"),
    };
    let config = jetbase_dir.join("jetbase.toml");
    let migrations = jetbase_dir.join("migrations");
    let shown = |path: &Path| path.strip_prefix(cwd).unwrap_or(path).display().to_string();
    let project_root = jetbase_dir.parent().unwrap_or(cwd).to_owned();
    if config.exists() && args.write_build {
        // Initialised already: only the build script's part.
        return write_build(&project_root);
    }
    if config.exists() {
        return Err(CliError::usage(format!(
            "{} already exists; nothing was changed (edit it, or remove it to start again)",
            shown(&config)
        )));
    }
    std::fs::create_dir_all(&migrations).map_err(|error| {
        CliError::run(format!("cannot create {}", shown(&migrations))).caused_by(error)
    })?;
    let url_line = match &flags.database_url {
        Some(url) => format!("database_url = {}", toml_string(url)),
        None => "# database_url = \"sqlite://app.db\"".to_owned(),
    };
    // A password in the file: readable by its owner only, and said so.
    let holds_password = flags
        .database_url
        .as_deref()
        .is_some_and(|url| !jetbase::url::secrets(url).is_empty());
    let access = if holds_password {
        crate::files::Access::Private
    } else {
        crate::files::Access::Shared
    };
    let text = CONFIG_TEMPLATE.replace("{url_line}", &url_line);
    crate::files::create_new(&config, text.as_bytes(), access).map_err(|error| {
        CliError::run(format!("cannot write {}", shown(&config))).caused_by(error)
    })?;
    let shown = |path: &Path| crate::output::printable(&shown(path)).into_owned();
    crate::output::outln!("Created {}/ and {}", shown(&migrations), shown(&config));
    if holds_password {
        crate::output::outln!(
            "{} holds the database password, so only you may read it (mode 0600). Keep it out \
             of version control, or move the URL to JETBASE_DATABASE_URL or a .env file.",
            shown(&config)
        );
    }
    if flags.database_url.is_none() {
        crate::output::outln!(
            "Next: set database_url in {} (or JETBASE_DATABASE_URL), then `jetbase new \"create users\"`",
            shown(&config)
        );
    }
    if args.write_build {
        return write_build(&project_root);
    }
    if project_root.join("Cargo.toml").is_file() {
        crate::output::outln!(
            "\nThis is a Rust crate. To embed the migrations, add jetbase (`cargo add jetbase \
             --features sqlite` or postgres/mysql) and:\n  static MIGRATOR: jetbase::Migrator = \
             jetbase::embed!();\nSo that adding or removing a migration rebuilds the crate, put \
             this line in build.rs's main (with `cargo add --build jetbase`):\n  \
             jetbase::build::rerun_if_migrations_change();"
        );
    }
    Ok(())
}

/// `--write-build`: the build script's line and dependency, written, in a Rust crate.
fn write_build(project_root: &Path) -> Result<(), CliError> {
    if !project_root.join("Cargo.toml").is_file() {
        return Err(CliError::usage(format!(
            "--write-build is for a Rust crate, and {} has no Cargo.toml",
            project_root.display()
        )));
    }
    let done = super::write_build::write(project_root)?;
    if done.is_empty() {
        crate::output::outln!(
            "build.rs and Cargo.toml have the jetbase build line and dependency already."
        );
    }
    for change in done {
        crate::output::outln!("{change}");
    }
    crate::output::outln!(
        "Embed the migrations with: static MIGRATOR: jetbase::Migrator = jetbase::embed!();"
    );
    Ok(())
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_valid_toml_with_only_known_keys_commented() {
        let text = CONFIG_TEMPLATE.replace(
            "{url_line}",
            &format!("database_url = {}", toml_string("sqlite://a \"b\".db")),
        );
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(table.len(), 1);
        assert_eq!(table["database_url"].as_str(), Some("sqlite://a \"b\".db"));
        let commented =
            CONFIG_TEMPLATE.replace("{url_line}", "# database_url = \"sqlite://app.db\"");
        assert!(commented.parse::<toml::Table>().unwrap().is_empty());
    }
}
