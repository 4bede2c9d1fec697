//! `jetbase make-migrations [-d DESCRIPTION] [--check]`: the models read from the source, the
//! schema read from the database, the difference written as a migration with its rollback.

use std::path::{Path, PathBuf};

use jetbase::schema::{Generated, Schema, generate, introspect_in};
use jetbase::{MigrationStatus, State};
use serde_json::json;

use super::Context;
use super::new::{NewFile, shown, timestamp_version};
use crate::cli::MakeMigrationsArgs;
use crate::database::Access;
use crate::error::CliError;
use crate::models::{self, Found};
use crate::output;

pub async fn run(context: &Context, args: &MakeMigrationsArgs, cwd: &Path) -> Result<(), CliError> {
    let description = super::new::safe_description(&args.description)?;
    let project = &context.settings.project;
    // The source is parsed on another thread while the database is read.
    let root = project.root.clone();
    let configured = context.settings.model_paths.clone();
    let cwd_owned = cwd.to_owned();
    let discovery = std::thread::spawn(move || {
        models::discover(&root, configured.as_ref(), |path| shown(path, &cwd_owned))
    });
    let (migrator, (actual, statuses, pool)) = context
        .migrator_beside(async {
            let pool = context.connect(Access::ReadOnly).await?;
            let mut actual =
                introspect_in(&pool, context.settings.postgres_schema.as_deref()).await?;
            // The history and lock tables are jetbase's, whatever they are called.
            let own = context.database_only();
            let (history, lock) = own.table_names();
            actual
                .tables
                .retain(|table| table.name != history && table.name != lock);
            let history = context.database_only().history(&pool).await?;
            Ok((actual, history, pool))
        })
        .await?;
    pool.close().await;
    let dialect = pool.dialect();
    let rust_models = discovery
        .join()
        .map_err(|_| CliError::run("reading the models failed unexpectedly"))?;
    let configured = context.settings.model_paths.as_ref();
    // Python's models where the paths say so, or where no Rust model is found and Python's are.
    let python_files = models::python_files(&project.root, configured, |path| shown(path, cwd))?;
    let python_chosen = configured.is_some()
        || rust_models
            .as_ref()
            .is_ok_and(|rust| rust.tables.is_empty());
    let found = match python_files {
        Some((files, searched)) if python_chosen => read_python(context, files, searched, dialect)?,
        _ => rust_models?,
    };
    refuse_pending(&migrator.status_of(&statuses))?;
    if found.tables.is_empty() {
        let python = found
            .files
            .first()
            .is_some_and(|file| file.extension().is_some_and(|extension| extension == "py"));
        let (what, extension) = if python {
            ("SQLAlchemy table", "py")
        } else {
            ("#[derive(jetbase::Model)] struct", "rs")
        };
        return Err(CliError::usage(format!(
            "no {what} found in {} ({} .{extension} file{} read); set `model_paths` in \
             jetbase/jetbase.toml or JETBASE_MODELS to where the models are",
            found.searched,
            found.files.len(),
            if found.files.len() == 1 { "" } else { "s" }
        )));
    }
    let generated = generate(&Schema::new(found.tables.clone()), &actual, dialect)
        .map_err(|error| CliError::usage(error.to_string()))?;
    if generated.is_empty() {
        return no_changes(context, &found);
    }
    if args.check {
        report(context, &generated, None)?;
        return Err(CliError::run(format!(
            "the models and the database differ ({} change{}); run `jetbase make-migrations` and \
             apply the migration",
            generated.changes.len(),
            if generated.changes.len() == 1 {
                ""
            } else {
                "s"
            }
        )));
    }
    let path = write_file(&project.migrations_dir(), &description, &generated, cwd)?;
    report(context, &generated, Some(&shown(&path, cwd)))
}

/// The SQLAlchemy models of `files`, read by the project's Python for `dialect`.
fn read_python(
    context: &Context,
    files: Vec<PathBuf>,
    searched: String,
    dialect: jetbase::Dialect,
) -> Result<Found, CliError> {
    let root = &context.settings.project.root;
    let configured = context.settings.python.as_ref();
    let python = python_interpreter(configured.map(|(python, _)| python.as_str()), root);
    // The configuration may come from a `pyproject.toml` above the project (as Python
    // Jetbase reads it): say which file chose the program that runs.
    let chosen_by = configured.map_or_else(String::new, |(_, origin)| format!(" (from {origin})"));
    if configured.is_some() {
        output::log(&format!(
            "reading the models with {}{}",
            output::printable(&python),
            output::printable(&chosen_by)
        ));
    }
    let (tables, version) = models::sqlalchemy::read(&python, root, &files, dialect)?;
    Ok(Found {
        tables,
        files,
        searched: format!("{searched}, read by {python}{chosen_by} with SQLAlchemy {version}"),
    })
}

/// The Python that reads the models: the configured one, else the active virtualenv's, else
/// the project's `.venv` or `venv`, else `python3` on PATH.
fn python_interpreter(configured: Option<&str>, root: &Path) -> String {
    if let Some(python) = configured {
        return python.to_owned();
    }
    let candidates = std::env::var_os("VIRTUAL_ENV")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join(".venv"), root.join("venv")]);
    for environment in candidates {
        let python = environment.join("bin").join("python");
        if python.is_file() {
            return python.display().to_string();
        }
    }
    "python3".to_owned()
}

/// Pending migrations would be generated again: the database must be up to date first.
fn refuse_pending(statuses: &[MigrationStatus]) -> Result<(), CliError> {
    let pending: Vec<&str> = statuses
        .iter()
        .filter(|status| status.state == State::Pending && status.version.is_some())
        .map(|status| status.filename.as_str())
        .collect();
    match pending.first() {
        None => Ok(()),
        Some(first) => Err(CliError::run(format!(
            "{} migration{} not applied yet (first: {first}); run `jetbase upgrade` first, so \
             that the new migration does not repeat {}",
            pending.len(),
            if pending.len() == 1 { " is" } else { "s are" },
            if pending.len() == 1 { "it" } else { "them" }
        ))),
    }
}

fn no_changes(context: &Context, found: &Found) -> Result<(), CliError> {
    if context.json {
        output::print_json(&json!({ "file": null, "changes": [], "data_loss": [] }))?;
    } else {
        crate::output::outln!(
            "No changes detected ({} model{} in {} file{}).",
            found.tables.len(),
            if found.tables.len() == 1 { "" } else { "s" },
            found.files.len(),
            if found.files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// The changes (stdout), the data-loss warnings (stderr), and the file written, if any.
fn report(context: &Context, generated: &Generated, file: Option<&str>) -> Result<(), CliError> {
    if context.json {
        let changes: Vec<String> = generated.changes.iter().map(ToString::to_string).collect();
        return Ok(output::print_json(&json!({
            "file": file,
            "changes": changes,
            "data_loss": generated.data_loss,
        }))?);
    }
    for loss in &generated.data_loss {
        let loss = output::printable(loss);
        output::log(&format!("warning: this migration can lose data: it {loss}"));
    }
    for change in &generated.changes {
        output::outln!("  {}", output::printable(&change.to_string()));
    }
    if let Some(file) = file {
        output::outln!("{}", output::printable(file));
    }
    Ok(())
}

/// Writes `V<timestamp>__<description>.sql`, never over another file or version.
fn write_file(
    migrations: &Path,
    description: &str,
    generated: &Generated,
    cwd: &Path,
) -> Result<PathBuf, CliError> {
    let version_text = timestamp_version();
    let version = jetbase::Version::parse(&version_text)
        .map_err(|error| CliError::run("the timestamp is not a version").caused_by(error))?;
    let body = generated.file_body();
    let file = NewFile {
        version_text: &version_text,
        version: &version,
        description,
        body: &body,
    };
    file.create(migrations, cwd, |existing| {
        CliError::run(format!(
            "version {version_text} is already used by {existing}; run make-migrations again in \
             a second"
        ))
    })
}
