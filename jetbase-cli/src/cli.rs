//! The command line, as clap derive structures. Nothing here decides anything: `settings`
//! resolves the configuration, `commands` call the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Database migrations in plain SQL files, compatible with Python Jetbase.
///
/// Exit codes: 0 success; 1 a migration failed, validation found a problem (or drift, or a lint
/// error), the lock stayed held, the database failed, or the output could not be written; 2 a
/// usage or configuration error, or a question off a terminal without --force; 3 `lock-status
/// --exit-code` found the lock held; 130/143 stopped by SIGINT/SIGTERM (what it made removed);
/// 141 the reader of the output closed it (`jetbase status | head -1`).
#[derive(Debug, Parser)]
#[command(name = "jetbase", version, about, long_about)]
pub struct Cli {
    /// Show the library's events on stderr (`-v`: jetbase's at DEBUG, `-vv`: every statement
    /// at TRACE), given before the command (`jetbase -v upgrade`: `new -v` is a version).
    /// `RUST_LOG` (as `jetbase=debug,sqlx=warn`) chooses targets and levels itself.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The `jetbase/` directory (default: found by walking up from the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// The database URL (default: from the environment or jetbase/jetbase.toml).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print machine-readable JSON on stdout: one document per command (status, history,
    /// current, wait, validate, upgrade, rollback, baseline, lock, unlock, lock-status, drift,
    /// schema, lint, make-migrations, check-rollback, adopt, and any command on many targets).
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the migration lock (default 60).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_timeout: Option<f64>,
    /// Seconds to wait for the database to answer when connecting (default 5).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub connect_timeout: Option<f64>,
    /// The value of `${NAME}` in the migrations (repeatable; also `[placeholders]` in
    /// jetbase.toml and JETBASE_PLACEHOLDER_<NAME>).
    #[arg(long = "placeholder", global = true, value_name = "NAME=VALUE")]
    pub placeholders: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create jetbase/migrations/ and a commented jetbase/jetbase.toml here.
    Init(InitArgs),
    /// Create a new, empty migration file.
    New(NewArgs),
    /// Write a migration that brings the database to the #[derive(Model)] structs of the code.
    MakeMigrations(MakeMigrationsArgs),
    /// Apply pending migrations.
    #[command(visible_alias = "migrate")]
    Upgrade(UpgradeArgs),
    /// Roll back applied versioned migrations (the last one by default).
    Rollback(RollbackArgs),
    /// Record every versioned migration up to VERSION as applied, without running it: for a
    /// database that already has that schema.
    Baseline(BaselineArgs),
    /// Check that each pending migration's rollback undoes it (up, down, up, comparing the
    /// schema), somewhere thrown away: exit 1 when one does not.
    CheckRollback(CheckRollbackArgs),
    /// Move a project from sqlx, diesel or refinery: convert its migration files into
    /// jetbase/migrations/ and record in jetbase's history what the tool's table says is
    /// applied. The schema and the tool's table are left as they are.
    Adopt(AdoptArgs),
    /// Show every migration: applied or pending, edited, missing or failed.
    Status(TargetArgs),
    /// Show the history table, oldest first.
    History,
    /// Show the highest applied version (its history row).
    Current,
    /// Wait until the database holds every migration (for replicas starting while a migration
    /// job runs): exit 0 when current, 1 on timeout. Takes no lock, writes nothing.
    Wait(WaitArgs),
    /// Find what would hurt a busy database in the migrations (pending ones, with a database
    /// URL), before they run: exit 1 on an error.
    Lint(LintArgs),
    /// Check that applied files are unchanged and still present; exit 1 when not.
    Validate(ValidateArgs),
    /// Check only the checksums of applied files (Python Jetbase's name).
    #[command(name = "validate-checksums")]
    ValidateChecksums(ValidateArgs),
    /// Check only that applied files still exist (Python Jetbase's name).
    #[command(name = "validate-files")]
    ValidateFiles(ValidateArgs),
    /// Same as `validate-checksums --fix` (Python Jetbase's name).
    #[command(name = "fix-checksums")]
    FixChecksums(FixArgs),
    /// Same as `validate-files --fix` (Python Jetbase's name).
    #[command(name = "fix-files")]
    FixFiles(FixArgs),
    /// Same as `validate --fix` (Python Jetbase's name).
    Fix(FixArgs),
    /// Take the migration lock by hand (a maintenance freeze) until `jetbase unlock`.
    Lock,
    /// Free the migration lock, whoever holds it.
    Unlock,
    /// Show who holds the migration lock.
    #[command(name = "lock-status")]
    LockStatus(LockStatusArgs),
    /// Compare the live schema with the one its applied migrations make (built on a scratch
    /// database): exit 1 on drift. Writes nothing to the live database.
    Drift(DriftArgs),
    /// Print the live schema: text, JSON, a Mermaid erDiagram or a Graphviz graph.
    Schema(SchemaArgs),
    /// Print the shell completion script for SHELL (`jetbase completions bash >
    /// /etc/bash_completion.d/jetbase`).
    Completions(CompletionsArgs),
    /// Print the manual page, in roff (`jetbase man > jetbase.1; man ./jetbase.1`), or a
    /// command's (`jetbase man upgrade` is `jetbase-upgrade(1)`).
    Man(ManArgs),
}

/// `jetbase man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (default: jetbase's own).
    pub command: Option<String>,
}

/// `jetbase drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// A database that does not exist yet, which jetbase creates, applies the migrations to,
    /// and drops (required on MySQL/MariaDB; default on PostgreSQL: a database beside the live
    /// one; on SQLite: a temporary file).
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,
}

/// `jetbase schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// What to print.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Text)]
    pub format: SchemaFormat,
}

/// `jetbase schema --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// Tables with their columns, keys and indexes.
    Text,
    /// The introspection as data.
    Json,
    /// A Mermaid `erDiagram`.
    Mermaid,
    /// A Graphviz `digraph`.
    Dot,
}

/// `jetbase completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `jetbase init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// In a Rust crate: add jetbase to [build-dependencies] (from its [dependencies] entry) and
    /// `jetbase::build::rerun_if_migrations_change();` to build.rs, instead of printing them
    /// (also in a project initialised already).
    #[arg(long)]
    pub write_build: bool,
}

/// `jetbase lock-status`.
#[derive(Debug, Args)]
pub struct LockStatusArgs {
    /// Exit 3 when the lock is held (0 when free), for scripts that do not read JSON.
    #[arg(long)]
    pub exit_code: bool,
}

/// `jetbase new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the migration does, e.g. "create users table" (spaces become `_`; several words
    /// need no quotes: `jetbase new create users table`).
    #[arg(required = true, num_args = 1..)]
    pub description: Vec<String>,
    /// The version (default: the time now, `%Y%m%d.%H%M%S`).
    #[arg(short, long)]
    pub version: Option<String>,
}

/// `jetbase make-migrations`.
#[derive(Debug, Args)]
pub struct MakeMigrationsArgs {
    /// What the migration does, part of its file name.
    #[arg(short, long, default_value = "auto_generated")]
    pub description: String,
    /// Write nothing; exit 1 when the models and the database differ (for CI).
    #[arg(long)]
    pub check: bool,
}

/// Which migrations an upgrade or a rollback takes, shared by both.
#[derive(Debug, Args)]
pub struct Selection {
    /// At most N versioned migrations (upgrade: pending ones; rollback: the last applied ones).
    #[arg(short, long, value_name = "N", conflicts_with = "to_version")]
    pub count: Option<usize>,
    /// Upgrade: pending versioned migrations up to and including VERSION. Rollback: everything
    /// applied after VERSION (VERSION stays applied).
    #[arg(short, long, value_name = "VERSION")]
    pub to_version: Option<String>,
    /// Print the SQL that would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `jetbase upgrade`.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Skip every validation.
    #[arg(long)]
    pub skip_validation: bool,
    /// Skip the check that applied files are unchanged.
    #[arg(long)]
    pub skip_checksum_validation: bool,
    /// Skip the check that applied files still exist.
    #[arg(long)]
    pub skip_file_validation: bool,
    /// Allow pending versions below the latest applied one.
    #[arg(long)]
    pub out_of_order: bool,
    /// Run the pending migrations and undo them, and report each one's time, the table locks
    /// it takes (PostgreSQL) and the first failure: PostgreSQL in one transaction rolled back,
    /// SQLite on a copy of the file. Nothing of it remains.
    #[arg(long, conflicts_with = "dry_run")]
    pub rehearse: bool,
    /// Lint the pending migrations first: `warn` prints what it finds (the default, or the
    /// `lint` setting), `deny` refuses to run when it finds an error (for CI), `off` skips it.
    #[arg(long, value_enum, value_name = "MODE")]
    pub lint: Option<LintMode>,
    /// When the database holds versions above every migration here (a newer release applied
    /// them): `refuse` (the default, or the `on_newer_database` setting), `ignore` (run beside
    /// them), `roll-back` (undo them first with the rollback SQL kept in their history rows).
    #[arg(long, value_name = "POLICY", value_parser = parse_newer_database)]
    pub on_newer_database: Option<jetbase::NewerDatabase>,
}

fn parse_newer_database(text: &str) -> Result<jetbase::NewerDatabase, String> {
    text.parse()
}

/// What `upgrade` does with the lint's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintMode {
    Off,
    Warn,
    Deny,
}

/// `jetbase lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files to lint (default: the project's; with a database URL, the pending ones).
    pub files: Vec<PathBuf>,
    /// Lint every migration of the project, applied or not.
    #[arg(long, conflicts_with = "files")]
    pub all: bool,
    /// The database the migrations are for (default: the database URL's, else postgres).
    #[arg(long, value_enum)]
    pub dialect: Option<LintDialect>,
    /// The PostgreSQL major version they run on (some of squawk's rules depend on it).
    #[arg(long, default_value_t = 15, value_name = "MAJOR")]
    pub postgres_version: u32,
    /// Make warnings errors (exit 1 on any finding).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The databases `jetbase lint` has rules for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintDialect {
    Postgres,
    Mysql,
    Sqlite,
}

/// `jetbase wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Seconds to wait at most.
    #[arg(long, default_value_t = 300.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Seconds between two checks (default: the `wait_interval` setting, else 1).
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<f64>,
}

/// The targets of a command run on many databases or schemas at once (a fleet of tenants).
#[derive(Debug, Args, Default)]
pub struct TargetArgs {
    /// Run on this PostgreSQL schema, with its own history and lock tables (repeatable; also
    /// the `schemas` setting).
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Run on every PostgreSQL schema whose name matches this LIKE pattern (`tenant_%`; also
    /// the `schemas_like` setting).
    #[arg(long, value_name = "PATTERN")]
    pub schemas_like: Option<String>,
    /// Run on every database URL in FILE, one per line, `#` for comments (any database kind;
    /// also the `database_urls_file` setting).
    #[arg(long, value_name = "FILE")]
    pub database_urls_file: Option<PathBuf>,
    /// How many targets run at once (default 4, or the `parallel` setting).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: Option<u16>,
    /// Stop starting targets after the first one fails (by default the others go on).
    #[arg(long)]
    pub fail_fast: bool,
}

/// `jetbase adopt`.
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool the project used.
    #[arg(value_enum)]
    pub tool: AdoptTool,
    /// The tool's migrations directory (default: `migrations` in the project root).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

/// The tools `jetbase adopt` moves a project from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdoptTool {
    Sqlx,
    Diesel,
    Refinery,
}

/// `jetbase check-rollback`.
#[derive(Debug, Args)]
pub struct CheckRollbackArgs {
    /// A database that does not exist yet, which jetbase creates, checks on and drops
    /// (required on MySQL/MariaDB, whose DDL cannot be rolled back; elsewhere the check runs
    /// in a transaction rolled back, or on a copy of the SQLite file).
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,
}

/// `jetbase baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The version of the last migration the database already has.
    pub version: String,
}

/// `jetbase rollback` (the last applied versioned migration by default).
#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Roll back without a question when every applied migration would be rolled back, and
    /// remove the history row of a migration without rollback SQL (leaving what it made).
    #[arg(long)]
    pub force: bool,
}

/// `fix`, `fix-files`, `fix-checksums` (Python Jetbase's names of `validate --fix`).
#[derive(Debug, Args)]
pub struct FixArgs {
    /// Forget every row of the history without a question when every file is gone.
    #[arg(long)]
    pub force: bool,
}

/// `jetbase validate` and its Python names.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Repair the history: accept edited applied files (store their new checksum) and forget
    /// rows whose file is gone. The schema is not touched.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: forget every row of the history without a question when every file is gone
    /// (the migrations directory moved, say).
    #[arg(long, requires = "fix")]
    pub force: bool,
}
