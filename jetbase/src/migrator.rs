//! The [`Migrator`]: a set of migrations, in apply order, and what it does to a database.

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use jetbase_core::{
    AppliedMigration, Migration, NewerDatabase, Placeholders, PlanError, RunLimits, scan_dir,
};

use crate::Error;
use crate::backend::Database;
use crate::backend::private::SEAL;
use crate::backend::tables::Tables;
use crate::history::table_names::TableNames;
use crate::lock::lease::LockLease;

/// How long `upgrade`, `rollback` and fixes wait for the lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// A set of migrations in apply order: versioned by version, then runs-always (`RA__`) by path,
/// then runs-on-change (`ROC__`) by path.
///
/// Built at compile time by [`embed!`](crate::embed) or at run time by [`Migrator::from_dir`].
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: Cow<'static, [Migration]>,
    postgres_schema: Option<Cow<'static, str>>,
    table_names: TableNames,
    lock_timeout: Duration,
    lock_lease: LockLease,
    pooler: crate::Pooler,
    /// Defaults for the migrations' table-lock timeout, statement timeout and retries.
    limits: RunLimits,
    /// The values of `${name}` in the migrations' statements.
    placeholders: Placeholders,
    /// What an upgrade does about versions a newer release applied.
    newer_database: NewerDatabase,
    /// The fast path's expected history digest, computed on first use.
    expected_digest: OnceLock<Option<String>>,
}

impl Default for Migrator {
    /// A migrator without migrations: enough to read the history, the status of the lock, or
    /// to take and free the lock.
    fn default() -> Self {
        Self::from_static(&[])
    }
}

/// A `postgres_schema` PostgreSQL would keep as written, or the setting's error.
pub(crate) fn check_postgres_schema(schema: &str) -> Result<(), Error> {
    crate::backend::postgres::check_schema_name(schema).map_err(|message| Error::InvalidSetting {
        setting: "postgres_schema".to_owned(),
        message,
    })
}

impl Migrator {
    /// A migrator over migrations that `embed!()` validated and sorted at compile time.
    #[doc(hidden)]
    pub const fn from_static(migrations: &'static [Migration]) -> Self {
        Self {
            migrations: Cow::Borrowed(migrations),
            postgres_schema: None,
            table_names: TableNames::DEFAULT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_lease: LockLease::DEFAULT,
            pooler: crate::Pooler::None,
            limits: RunLimits {
                table_lock_timeout: None,
                statement_timeout: None,
                retries: None,
            },
            placeholders: Placeholders::new(),
            newer_database: NewerDatabase::Refuse,
            expected_digest: OnceLock::new(),
        }
    }

    /// Reads the migrations of `directory` at run time, exactly as `embed!()` does at compile
    /// time.
    ///
    /// ```
    /// let migrator = jetbase::Migrator::from_dir("tests/fixtures/vectors")?;
    /// static EMBEDDED: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// assert_eq!(migrator.migrations(), EMBEDDED.migrations());
    /// # Ok::<(), jetbase::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::Migrations`] listing every problem found: a missing directory, bad file
    /// names, duplicate versions, non-UTF-8 files, unknown directives, empty files, unterminated
    /// quotes or comments.
    pub fn from_dir(directory: impl AsRef<Path>) -> Result<Self, Error> {
        let migrations = scan_dir(directory.as_ref())?;
        Ok(Self {
            migrations: Cow::Owned(migrations),
            ..Self::default()
        })
    }

    /// The same configuration (schema, lock, limits) over the migrations in `directory`.
    pub(crate) fn reading(&self, directory: &Path) -> Result<Self, Error> {
        Ok(Self {
            migrations: Cow::Owned(scan_dir(directory)?),
            expected_digest: OnceLock::new(),
            ..self.clone()
        })
    }

    /// The migrations, in apply order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Keeps the history tables (and the migrations' unqualified names) in this PostgreSQL
    /// schema, created if missing. Ignored on SQLite and MySQL.
    #[must_use]
    pub fn with_postgres_schema(mut self, schema: impl Into<String>) -> Self {
        self.postgres_schema = Some(Cow::Owned(schema.into()));
        self
    }

    /// Keeps this migrator's history in the table `history` and its lock in `lock`, instead of
    /// Python Jetbase's `jetbase_migrations` and `jetbase_lock`: so that several migration sets
    /// share one database (two services, a library crate's own migrations beside the
    /// application's), each with its own history, lock, fast path and status. Created if
    /// missing, as the default ones are.
    ///
    /// A name is lowercase ASCII letters, digits and `_` (not starting with a digit), at most
    /// 63 bytes: the same table in every database whether quoted or not. jetbase quotes it
    /// everywhere.
    ///
    /// ```
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let billing = MIGRATOR
    ///     .clone()
    ///     .with_table_names("billing_migrations", "billing_lock");
    /// assert_eq!(billing.table_names(), ("billing_migrations", "billing_lock"));
    /// ```
    ///
    /// # Errors
    ///
    /// None here: a name that is not such an identifier (or two equal names) makes every call
    /// on a database return [`Error::InvalidSetting`] naming `history_table` or `lock_table`,
    /// before any SQL is sent.
    #[must_use]
    pub fn with_table_names(mut self, history: impl Into<String>, lock: impl Into<String>) -> Self {
        self.table_names = TableNames {
            history: Cow::Owned(history.into()),
            lock: Cow::Owned(lock.into()),
        };
        self
    }

    /// The history table's name and the lock table's (by default `jetbase_migrations` and
    /// `jetbase_lock`; see [`Migrator::with_table_names`]).
    pub fn table_names(&self) -> (&str, &str) {
        (&self.table_names.history, &self.table_names.lock)
    }

    /// How long to wait for the lock (default 60 s).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How the lock is kept alive where the database has no session locks (Snowflake): renewed
    /// every 10 s, a holder dead after 60 s without renewal, by default.
    #[must_use]
    pub fn with_lock_lease(mut self, lease: LockLease) -> Self {
        self.lock_lease = lease;
        self
    }

    /// Says what stands between jetbase and the database: behind PgBouncer in transaction mode,
    /// [`Pooler::Transaction`](crate::Pooler::Transaction), and nothing is kept on a session
    /// between transactions (see [`crate::Pooler`]). An [`AnyPool`](crate::AnyPool) connected
    /// with `pooler=transaction` says it by itself.
    ///
    /// A pool of your own must then connect without `extra_float_digits`, which a stock PgBouncer
    /// refuses: `PgConnectOptions::extra_float_digits(None)`.
    ///
    /// ```
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let migrator = MIGRATOR.clone().with_pooler(jetbase::Pooler::Transaction);
    /// assert_eq!(migrator.pooler(), jetbase::Pooler::Transaction);
    /// ```
    #[must_use]
    pub fn with_pooler(mut self, pooler: crate::Pooler) -> Self {
        self.pooler = pooler;
        self
    }

    /// The pooler set with [`Migrator::with_pooler`].
    pub fn pooler(&self) -> crate::Pooler {
        self.pooler
    }

    /// How long each statement of a migration may wait for a table lock, for the migrations
    /// without their own `-- jetbase: table-lock-timeout=…` (no limit by default;
    /// `Duration::ZERO` for none). On PostgreSQL `lock_timeout`, on MySQL/MariaDB
    /// `lock_wait_timeout` and `innodb_lock_wait_timeout` (whole seconds, rounded up), on SQLite
    /// the busy timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let migrator = jetbase::Migrator::from_dir("tests/fixtures/vectors")?
    ///     .with_table_lock_timeout(Duration::from_secs(5))
    ///     .with_statement_timeout(Duration::from_secs(600))
    ///     .with_retries(3);
    /// assert_eq!(migrator.default_limits().retries, Some(3));
    /// # Ok::<(), jetbase::Error>(())
    /// ```
    #[must_use]
    pub fn with_table_lock_timeout(mut self, timeout: Duration) -> Self {
        self.limits.table_lock_timeout = Some(timeout);
        self
    }

    /// How long each statement of a migration may run, for the migrations without their own
    /// `-- jetbase: statement-timeout=…` (no limit by default). On PostgreSQL
    /// `statement_timeout`, on MariaDB `max_statement_time`; MySQL has no timeout for DDL.
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.limits.statement_timeout = Some(timeout);
        self
    }

    /// How many times a migration that could not get a lock in time is tried again, for the
    /// migrations without their own `-- jetbase: retries=…` (0 by default).
    #[must_use]
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.limits.retries = Some(retries);
        self
    }

    /// The defaults set by the `with_*` methods above.
    pub fn default_limits(&self) -> RunLimits {
        self.limits
    }

    /// Puts `value` wherever a migration's statement says `${name}` (the name compared without
    /// case): a ClickHouse cluster's name, a role per environment, a schema. Set once per name
    /// (a later value replaces an earlier one).
    ///
    /// Nothing is replaced while no placeholder is set: files run as written, as Python Jetbase
    /// runs them. Once one is set:
    /// - every `${name}` of the statements that run must have a value: one without is
    ///   [`Error::Placeholder`], naming the file and line, before anything runs;
    /// - `$${name}` is the text `${name}` itself (and `$$${name}`, a dollar quote right
    ///   before a placeholder, is `$$` and the value);
    /// - the text is replaced wherever it appears in a statement, string literals and
    ///   dollar-quoted bodies included; comments between statements are not sent, and not read;
    /// - the value goes in as written (it is SQL: quote it in the file where it is a string);
    /// - checksums stay the files' as written, so a new value never makes an applied file
    ///   "edited";
    /// - a dry run's SQL ([`ReportEntry::sql`](crate::ReportEntry::sql)) is the SQL that would run, values
    ///   in. Log events name the values at DEBUG only, masking those whose name contains
    ///   `password`, `secret` or `token`.
    ///
    /// ```
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let migrator = MIGRATOR
    ///     .clone()
    ///     .with_placeholder("cluster", "main")
    ///     .with_placeholder("app_role", "shop_rw");
    /// assert_eq!(migrator.placeholders().get("CLUSTER"), Some("main"));
    /// ```
    ///
    /// # Errors
    ///
    /// None here: a name that is not ASCII letters, digits and `_` (not starting with a digit)
    /// makes every call on a database return [`Error::InvalidSetting`] naming `placeholders`,
    /// before any SQL is sent.
    #[must_use]
    pub fn with_placeholder(mut self, name: &str, value: impl Into<String>) -> Self {
        self.placeholders.insert(name, value);
        self
    }

    /// The placeholders set with [`Migrator::with_placeholder`].
    ///
    /// ```
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// assert!(MIGRATOR.placeholders().is_empty());
    /// let migrator = MIGRATOR.clone().with_placeholder("schema", "app");
    /// assert_eq!(migrator.placeholders().names().collect::<Vec<_>>(), ["schema"]);
    /// ```
    pub fn placeholders(&self) -> &Placeholders {
        &self.placeholders
    }

    /// What an upgrade does when the database holds versions above every migration here:
    /// release 12 applied V40 and V41, release 12 was bad, and release 11 is deployed again.
    ///
    /// - [`NewerDatabase::Refuse`] (the default): [`Error::Validation`] with a
    ///   [`PlanError::NewerDatabase`] naming each such version and when it was applied, before
    ///   anything runs;
    /// - [`NewerDatabase::Ignore`]: start; what this binary has must still validate (an edited
    ///   or deleted file of its own is still refused), and a WARN event names the unknown
    ///   versions;
    /// - [`NewerDatabase::RollBack`]: roll the unknown versions back, newest first, with the
    ///   rollback SQL their history rows keep (written as each was applied, on PostgreSQL,
    ///   MySQL/MariaDB and SQLite), under the lock and each in its transaction where the
    ///   database has them; then upgrade as usual. Refused, before anything runs, when a row
    ///   keeps none (applied by Python Jetbase or an older jetbase, or on a database where
    ///   jetbase keeps none).
    ///
    /// ```
    /// use jetbase::NewerDatabase;
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let migrator = MIGRATOR.clone().on_newer_database(NewerDatabase::RollBack);
    /// assert_eq!(migrator.newer_database(), NewerDatabase::RollBack);
    /// ```
    #[must_use]
    pub fn on_newer_database(mut self, policy: NewerDatabase) -> Self {
        self.newer_database = policy;
        self
    }

    /// The policy set with [`Migrator::on_newer_database`].
    pub fn newer_database(&self) -> NewerDatabase {
        self.newer_database
    }

    /// The history rows, oldest first. Creates and changes nothing; an empty list when the
    /// database has no jetbase tables.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub async fn history<D: Database>(&self, database: &D) -> Result<Vec<AppliedMigration>, Error> {
        let tables = self.tables(database)?;
        Ok(read_history(database, &tables).await?.unwrap_or_default())
    }

    /// The history row of the database's current version: the highest version applied and not
    /// marked failed (`1.10` is above `1.9`; a version applied out of order after a higher one is
    /// not current). `None` when no versioned migration is applied. Reads the versioned rows'
    /// version columns one at a time and then that one row, never the whole history. Creates and
    /// changes nothing.
    ///
    /// ```no_run
    /// # async fn example(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// let migrator = jetbase::Migrator::from_dir("migrations")?;
    /// match migrator.current(&pool).await? {
    ///     Some(row) => println!("at {} ({})", row.version.unwrap_or_default(), row.filename),
    ///     None => println!("nothing applied"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub async fn current<D: Database>(
        &self,
        database: &D,
    ) -> Result<Option<AppliedMigration>, Error> {
        let tables = self.tables(database)?;
        database
            .backend(SEAL)
            .read_current(&tables)
            .await
            .map_err(Error::database("reading the current version"))
    }

    /// Where each migration stands: local files in apply order, then history rows whose file
    /// is gone. Creates and changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub async fn status<D: Database>(
        &self,
        database: &D,
    ) -> Result<Vec<crate::MigrationStatus>, Error> {
        let history = self.history(database).await?;
        Ok(self.status_of(&history))
    }

    /// Where each migration stands against a history read before (by [`Migrator::history`],
    /// perhaps of a migrator without migrations, while this one was read from disk): the same
    /// as [`Migrator::status`], without the query.
    ///
    /// ```
    /// let migrator = jetbase::Migrator::from_dir("tests/fixtures/vectors")?;
    /// let nothing_applied = migrator.status_of(&[]);
    /// assert!(nothing_applied.iter().all(|s| s.state == jetbase::State::Pending));
    /// # Ok::<(), jetbase::Error>(())
    /// ```
    pub fn status_of(&self, history: &[AppliedMigration]) -> Vec<crate::MigrationStatus> {
        crate::run::report::status(&self.migrations, history)
    }

    /// Every validation problem an upgrade would stop on (edited or missing applied files,
    /// failed rows, out-of-order versions, unreadable rows); empty when all is well. Creates and
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub async fn validate<D: Database>(&self, database: &D) -> Result<Vec<PlanError>, Error> {
        let history = self.history(database).await?;
        let options = jetbase_core::UpgradeOptions {
            newer_database: self.newer_database,
            ..jetbase_core::UpgradeOptions::default()
        };
        Ok(
            jetbase_core::plan_upgrade(&self.migrations, &history, &options)
                .err()
                .unwrap_or_default(),
        )
    }

    /// The history tables of `database`, in the `postgres_schema` where the database has
    /// schemas, reached through the pooler this migrator or the pool knows of.
    /// The `postgres_schema`, if set.
    pub(crate) fn postgres_schema(&self) -> Option<&str> {
        self.postgres_schema.as_deref()
    }

    /// The same migrator (schema, lock, limits) over `migrations`, in the order given.
    pub(crate) fn over(&self, migrations: Vec<Migration>) -> Self {
        Self {
            migrations: Cow::Owned(migrations),
            expected_digest: OnceLock::new(),
            ..self.clone()
        }
    }

    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a `postgres_schema` PostgreSQL would not keep as written
    /// (checked here, before any SQL, by every operation).
    pub(crate) fn tables<D: Database>(&self, database: &D) -> Result<Tables, Error> {
        let dialect = database.dialect();
        if let Some(schema) = self.postgres_schema.as_deref()
            && dialect.capabilities().named_schemas
        {
            check_postgres_schema(schema)?;
        }
        self.table_names.check()?;
        self.placeholders
            .check_names()
            .map_err(|invalid| Error::InvalidSetting {
                setting: "placeholders".to_owned(),
                message: invalid.to_string(),
            })?;
        Ok(Tables::named(
            dialect,
            self.postgres_schema.as_deref(),
            &self.table_names.history,
            &self.table_names.lock,
        )
        .with_lease(self.lock_lease)
        .with_pooler(self.pooler.or(database.pooler(SEAL))))
    }

    pub(crate) fn expected_digest(&self) -> Option<&str> {
        self.expected_digest
            .get_or_init(|| crate::history::fast_path::expected_digest(&self.migrations))
            .as_deref()
    }

    pub(crate) fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    pub(crate) fn lock_lease(&self) -> LockLease {
        self.lock_lease
    }
}

/// Reads the history: `None` when the table does not exist.
pub(crate) async fn read_history<D: Database>(
    database: &D,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, Error> {
    database
        .backend(SEAL)
        .read_history(tables)
        .await
        .map_err(Error::database("reading the migration history"))
}
