//! One file per command; each calls the library and prints what it returns.

use std::collections::HashMap;
use std::path::PathBuf;

use jetbase::{AnyPool, Migrator};

use crate::cli::{Cli, Command};
use crate::database::{Access, DatabaseLocation};
use crate::error::CliError;
use crate::output::Style;
use crate::project::Project;
use crate::settings::{Settings, Sources};

mod adopt;
mod check_rollback;
mod drift;
mod fleet;
mod help;
mod init;
mod lint;
mod lock;
mod make_migrations;
mod migrate;
mod new;
mod rehearse;
mod report;
mod validate;
mod write_build;

pub use validate::Scope;

/// What every command that touches the project gets.
pub struct Context {
    pub settings: Settings,
    pub style: Style,
    pub json: bool,
}

impl Context {
    /// The migrations of the project, read now (as `Migrator::from_dir`).
    pub fn migrator(&self) -> Result<Migrator, CliError> {
        Ok(self.configure(Migrator::from_dir(self.settings.project.migrations_dir())?))
    }

    /// A migrator without migrations, for the commands that read only the database (history,
    /// current, the lock): they work even while a migration file is broken.
    pub fn database_only(&self) -> Migrator {
        self.configure(Migrator::default())
    }

    /// Reads the migrations on another thread while `database_work` runs, then returns both:
    /// the scan and the first query overlap instead of adding up.
    pub async fn migrator_beside<T>(
        &self,
        database_work: impl std::future::Future<Output = Result<T, CliError>>,
    ) -> Result<(Migrator, T), CliError> {
        let directory = self.settings.project.migrations_dir();
        let scan = std::thread::spawn(move || Migrator::from_dir(directory));
        let result = database_work.await;
        let migrator = scan
            .join()
            .map_err(|_| CliError::run("reading the migrations failed unexpectedly"))??;
        Ok((self.configure(migrator), result?))
    }

    fn configure(&self, mut migrator: Migrator) -> Migrator {
        migrator = migrator
            .with_lock_timeout(self.settings.lock_timeout)
            .with_lock_lease(self.settings.lock_lease)
            .with_pooler(self.settings.pooler);
        if let Some(schema) = &self.settings.postgres_schema {
            migrator = migrator.with_postgres_schema(schema.clone());
        }
        if self.settings.history_table.is_some() || self.settings.lock_table.is_some() {
            let (history, lock) = migrator.table_names();
            let history = self.settings.history_table.as_deref().unwrap_or(history);
            let lock = self.settings.lock_table.as_deref().unwrap_or(lock);
            let (history, lock) = (history.to_owned(), lock.to_owned());
            migrator = migrator.with_table_names(history, lock);
        }
        if let Some(policy) = self.settings.newer_database {
            migrator = migrator.on_newer_database(policy);
        }
        for (name, (value, _)) in &self.settings.placeholders {
            migrator = migrator.with_placeholder(name, value.clone());
        }
        let limits = self.settings.limits;
        if let Some(timeout) = limits.table_lock_timeout {
            migrator = migrator.with_table_lock_timeout(timeout);
        }
        if let Some(timeout) = limits.statement_timeout {
            migrator = migrator.with_statement_timeout(timeout);
        }
        if let Some(retries) = limits.retries {
            migrator = migrator.with_retries(retries);
        }
        migrator
    }

    /// Connects to the configured database. Only `Access::Write` creates a missing SQLite file.
    pub async fn connect(&self, access: Access) -> Result<AnyPool, CliError> {
        let Some((url, origin)) = &self.settings.database_url else {
            return Err(CliError::usage(
                "no database URL: set `database_url` in jetbase/jetbase.toml, or \
                 JETBASE_DATABASE_URL or DATABASE_URL in the environment or .env, or pass \
                 --database-url",
            ));
        };
        let mut target = DatabaseLocation::parse(url, &self.settings.project.jetbase_dir)
            .map_err(|error| CliError::usage(format!("{origin}: {}", error.message)))?;
        if let DatabaseLocation::Snowflake {
            private_key,
            passphrase,
            ..
        } = &mut target
        {
            private_key.clone_from(&self.settings.snowflake_private_key);
            passphrase.clone_from(&self.settings.snowflake_private_key_password);
        }
        target.connect(access, self.settings.connect_timeout).await
    }
}

/// The project's configuration, resolved for one command.
fn context(
    project: Project,
    cli: &Cli,
    environment: HashMap<String, String>,
    style: Style,
) -> Result<Context, CliError> {
    let sources = Sources::read(&project, environment)?;
    for warning in &sources.warnings {
        crate::output::log(&format!(
            "warning: {}",
            crate::output::printable_lines(&warning.to_string())
        ));
    }
    let settings = Settings::resolve(project, &cli.global, &sources)?;
    if let Some((url, _)) = &settings.database_url {
        crate::error::hide_password_of(url);
    }
    Ok(Context {
        settings,
        style,
        json: cli.global.json,
    })
}

/// Runs the command line.
pub async fn run(
    cli: Cli,
    cwd: PathBuf,
    environment: HashMap<String, String>,
) -> Result<(), CliError> {
    let no_color = environment.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let style = Style::detect(no_color, cli.global.json);
    match &cli.command {
        Command::Init(args) => return init::run(&cwd, &cli.global, args),
        // Outside any project: what the command line is, for the shell and `man`.
        Command::Completions(args) => return help::completions(args.shell),
        Command::Man(args) => return help::man(args.command.as_deref()),
        Command::New(args) => {
            let project = Project::find(cli.global.dir.as_deref(), &cwd)?;
            return new::run(&project, &cwd, args);
        }
        // Files can be linted outside a project.
        Command::Lint(args) if !args.files.is_empty() => {
            if let Ok(project) = Project::find(cli.global.dir.as_deref(), &cwd) {
                let context = context(project, &cli, environment, style)?;
                return lint::run(Some(&context), args, &cwd, style, cli.global.json).await;
            }
            return lint::run(None, args, &cwd, style, cli.global.json).await;
        }
        // A project moving to jetbase may have no jetbase/ directory yet: it is made here.
        Command::Adopt(args) => {
            let project = match Project::find(cli.global.dir.as_deref(), &cwd) {
                Ok(project) => project,
                Err(_) if cli.global.dir.is_none() => Project::at(cwd.join("jetbase")),
                Err(error) => return Err(error),
            };
            let context = context(project, &cli, environment, style)?;
            return adopt::run(&context, args, &cwd).await;
        }
        _ => {}
    }
    let project = Project::find(cli.global.dir.as_deref(), &cwd)?;
    let context = context(project, &cli, environment, style)?;
    match cli.command {
        // Handled above, before the configuration is read.
        Command::Init(_)
        | Command::New(_)
        | Command::Adopt(_)
        | Command::Completions(_)
        | Command::Man(_) => Ok(()),
        Command::MakeMigrations(args) => make_migrations::run(&context, &args, &cwd).await,
        Command::Upgrade(args) => {
            match fleet::targets(&context, &args.targets, &cwd, Access::Write).await? {
                Some(targets) => fleet::upgrade(&context, targets, &args).await,
                None => migrate::upgrade(&context, &args).await,
            }
        }
        Command::Rollback(args) => {
            match fleet::targets(&context, &args.targets, &cwd, Access::Write).await? {
                Some(targets) => fleet::rollback(&context, targets, &args).await,
                None => migrate::rollback(&context, &args).await,
            }
        }
        Command::Baseline(args) => migrate::baseline(&context, &args).await,
        Command::CheckRollback(args) => check_rollback::run(&context, &args).await,
        Command::Drift(args) => drift::run(&context, &args).await,
        Command::Schema(args) => drift::schema(&context, &args).await,
        Command::Wait(args) => {
            match fleet::targets(&context, &args.targets, &cwd, Access::ReadOnly).await? {
                Some(targets) => fleet::wait(&context, targets, &args).await,
                None => report::wait(&context, &args).await,
            }
        }
        Command::Status(args) => {
            match fleet::targets(&context, &args, &cwd, Access::ReadOnly).await? {
                Some(targets) => fleet::status(&context, targets).await,
                None => report::status(&context).await,
            }
        }
        Command::History => report::history(&context).await,
        Command::Current => report::current(&context).await,
        Command::Lint(args) => lint::run(Some(&context), &args, &cwd, style, context.json).await,
        Command::Validate(args) => {
            match fleet::targets(&context, &args.targets, &cwd, Access::ReadOnly).await? {
                Some(_) if args.fix => Err(CliError::usage(
                    "--fix repairs one database at a time: run it without the targets",
                )),
                Some(targets) => fleet::validate(&context, targets).await,
                None => validate::run(&context, Scope::All, args.fix, args.force).await,
            }
        }
        Command::ValidateChecksums(args) => {
            fleet::refuse_targets(&args.targets, "validate-checksums")?;
            validate::run(&context, Scope::Checksums, args.fix, args.force).await
        }
        Command::ValidateFiles(args) => {
            fleet::refuse_targets(&args.targets, "validate-files")?;
            validate::run(&context, Scope::Files, args.fix, args.force).await
        }
        Command::FixChecksums(args) => {
            validate::run(&context, Scope::Checksums, true, args.force).await
        }
        Command::FixFiles(args) => validate::run(&context, Scope::Files, true, args.force).await,
        Command::Fix(args) => validate::run(&context, Scope::All, true, args.force).await,
        Command::Lock => lock::lock(&context).await,
        Command::Unlock => lock::unlock(&context).await,
        Command::LockStatus(args) => lock::status(&context, &args).await,
    }
}
