//! A migrated database per test (feature `testing`): what [`#[jetbase::test]`](crate::test)
//! expands to, and the same for other test harnesses.
//!
//! The migrations are applied **once** per migrator, server and content, into a template
//! database; each test gets a copy of it: on PostgreSQL `CREATE DATABASE … TEMPLATE` (a file
//! copy on the server), on SQLite a copy of the template file, on MySQL/MariaDB the template's
//! tables recreated and filled. The template's name carries a digest of the migrations (each
//! file's name and checksum, `to_version`), so editing a migration builds a new one and drops
//! the old; test binaries and threads running at once build it once between them (a lock on
//! the server, a lock file for SQLite). A passing test's database is dropped; a failing test's
//! is kept, and its name printed, to be looked at.
//!
//! The server is `DATABASE_URL` (as for `#[sqlx::test]`); SQLite needs none.
//!
//! ```no_run
//! # async fn signup(pool: sqlx::SqlitePool) {}
//! static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
//!
//! // Inside any #[test] function: a fresh, migrated SQLite database for `signup`.
//! jetbase::testing::TestDatabase::builder(&MIGRATOR)
//!     .run(|pool: sqlx::SqlitePool| async move { signup(pool).await });
//! ```

#[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
mod mysql;
mod names;
mod outcome;
mod pools;
#[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
mod postgres;
#[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
mod sqlite;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use jetbase_core::Dialect;

pub use outcome::TestOutcome;
pub use pools::TestPool;

use crate::{AnyPool, Error, Migrator};
use names::Names;

/// The variable that names the server, as for `#[sqlx::test]`.
const SERVER_VARIABLE: &str = "DATABASE_URL";

/// A database made for one test: a copy of the migrated template (see the module's
/// documentation). Dropped with [`TestDatabase::remove`], or kept with
/// [`TestDatabase::keep`].
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR)
///     .server_url("postgres://postgres@localhost/postgres")
///     .create()
///     .await?;
/// let pool = sqlx::PgPool::connect(database.url()).await?;
/// // … the test …
/// pool.close().await;
/// database.remove().await?;
/// # Ok(()) }
/// ```
pub struct TestDatabase {
    url: String,
    name: String,
    place: Place,
}

impl std::fmt::Debug for TestDatabase {
    /// The URL with its secrets masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("url", &crate::url::mask_secrets(&self.url))
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Where a test database lives, to drop it.
enum Place {
    /// On a server: the URL jetbase connects to for creating and dropping databases.
    #[cfg_attr(
        not(all(feature = "sqlx-0_9", any(feature = "postgres", feature = "mysql"))),
        allow(dead_code)
    )]
    Server { dialect: Dialect, admin_url: String },
    /// A SQLite file.
    #[cfg_attr(not(all(feature = "sqlx-0_9", feature = "sqlite")), allow(dead_code))]
    File(std::path::PathBuf),
}

/// How a [`TestDatabase`] is made: by [`TestDatabase::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `create` or `run`"]
pub struct TestDatabaseBuilder<'m> {
    migrator: &'m Migrator,
    server_url: Option<String>,
    dialect: Option<Dialect>,
    migrations: bool,
    to_version: Option<String>,
    fixtures: Vec<(String, String)>,
    owner: Option<String>,
    test_name: Option<String>,
    expects_panic: bool,
}

impl std::fmt::Debug for TestDatabaseBuilder<'_> {
    /// The server URL with its secrets masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabaseBuilder")
            .field(
                "server_url",
                &self.server_url.as_deref().map(crate::url::mask_secrets),
            )
            .field("dialect", &self.dialect)
            .field("migrations", &self.migrations)
            .field("to_version", &self.to_version)
            .field("fixtures", &self.fixtures.len())
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A test database with `migrator`'s migrations applied (all of them, by default).
    ///
    /// ```
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let builder = jetbase::testing::TestDatabase::builder(&MIGRATOR).to_version("2");
    /// # drop(builder);
    /// ```
    pub fn builder(migrator: &Migrator) -> TestDatabaseBuilder<'_> {
        TestDatabaseBuilder {
            migrator,
            server_url: None,
            dialect: None,
            migrations: true,
            to_version: None,
            fixtures: Vec::new(),
            owner: None,
            test_name: None,
            expects_panic: false,
        }
    }

    /// The database's URL, for a pool of your own (`sqlite://…` for SQLite).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR).create().await?;
    /// let pool = sqlx::SqlitePool::connect(database.url()).await?;
    /// pool.close().await;
    /// database.remove().await?;
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (the file's path for SQLite).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), jetbase::Error> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR).create().await?;
    /// println!("{} at {}", database.name(), database.url());
    /// database.remove().await?;
    /// # Ok(()) }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database (deletes the file).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR).create().await?;
    /// database.remove().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the server refuses to drop it.
    pub async fn remove(self) -> Result<(), Error> {
        match self.place {
            #[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
            Place::Server {
                dialect: Dialect::Postgres,
                admin_url,
            } => postgres::drop_database(&admin_url, &self.name).await,
            #[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
            Place::Server {
                dialect: Dialect::MySql,
                admin_url,
            } => mysql::drop_database(&admin_url, &self.name).await,
            Place::Server { .. } => Ok(()),
            Place::File(path) => {
                crate::backend::remove_sqlite_files(&path);
                Ok(())
            }
        }
    }

    /// Leaves the database in place (to be looked at), and returns its name.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), jetbase::Error> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR).create().await?;
    /// let name = database.keep();
    /// eprintln!("the test's database {name} is kept");
    /// # Ok(()) }
    /// ```
    pub fn keep(self) -> String {
        self.name
    }
}

impl<'m> TestDatabaseBuilder<'m> {
    /// The server to make the database on (default: `DATABASE_URL`; without it, or for a
    /// SQLite pool, a file in the system's temporary directory). Any database of the server the user may connect to: jetbase connects there to
    /// create and drop the others.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let builder = jetbase::testing::TestDatabase::builder(&MIGRATOR)
    ///     .server_url("postgres://postgres@localhost/postgres")
    ///     .dialect(jetbase::Dialect::Postgres);
    /// ```
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// The database the test expects (what its pool type says): an error, rather than a
    /// surprise, when the server URL names another.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let builder = jetbase::testing::TestDatabase::builder(&MIGRATOR).dialect(jetbase::Dialect::Sqlite);
    /// ```
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// `false`: an empty database, no migration applied.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let empty = jetbase::testing::TestDatabase::builder(&MIGRATOR).migrations(false);
    /// ```
    pub fn migrations(mut self, apply: bool) -> Self {
        self.migrations = apply;
        self
    }

    /// Applies the migrations up to and including `version` only.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let at_v2 = jetbase::testing::TestDatabase::builder(&MIGRATOR).to_version("2");
    /// ```
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.to_version = Some(version.into());
        self
    }

    /// SQL run in the test's database after the migrations (test data), in the order given;
    /// `name` says which one failed.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let with_data = jetbase::testing::TestDatabase::builder(&MIGRATOR)
    ///     .fixture("users.sql", "INSERT INTO users (id, name) VALUES (1, 'ada');");
    /// ```
    pub fn fixture(mut self, name: impl Into<String>, sql: impl Into<String>) -> Self {
        self.fixtures.push((name.into(), sql.into()));
        self
    }

    /// Who the template belongs to (default: the crate under test and the first migration's
    /// file name): when its migrations change, that owner's older templates are dropped.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let builder = jetbase::testing::TestDatabase::builder(&MIGRATOR).owner("my-crate/db::MIGRATOR");
    /// ```
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The test's name, said with a kept database.
    ///
    /// ```
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let builder = jetbase::testing::TestDatabase::builder(&MIGRATOR).test_name("tests::signup");
    /// ```
    pub fn test_name(mut self, name: impl Into<String>) -> Self {
        self.test_name = Some(name.into());
        self
    }

    /// The test is expected to panic (`#[should_panic]`, which `#[jetbase::test]` reads): its
    /// panic is its success, so [`TestDatabaseBuilder::run`] drops the database then, and
    /// keeps it when the test returns instead (the test harness then reports the failure).
    ///
    /// ```no_run
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// jetbase::testing::TestDatabase::builder(&MIGRATOR)
    ///     .expects_panic(true)
    ///     .run(|pool: sqlx::SqlitePool| async move {
    ///         assert!(pool.is_closed(), "a negative test: this fails, and passes");
    ///     });
    /// ```
    pub fn expects_panic(mut self, expects: bool) -> Self {
        self.expects_panic = expects;
        self
    }

    /// Makes the database: the template first, if this migrator's is not on the server yet.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let database = jetbase::testing::TestDatabase::builder(&MIGRATOR)
    ///     .to_version("2")
    ///     .create()
    ///     .await?;
    /// database.remove().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming `DATABASE_URL` when a server database is expected and
    /// the variable is unset, or names another database; [`Error::Refused`] when the user may
    /// not create databases (PostgreSQL: `CREATEDB`) or for a warehouse;
    /// [`Error::MigrationFailed`] and the other errors of an upgrade, from the template;
    /// [`Error::Database`].
    pub async fn create(self) -> Result<TestDatabase, Error> {
        let server_url = match (self.server_url.clone(), self.dialect) {
            (Some(url), _) => Some(url),
            // A SQLite test's database is a file of its own, whatever DATABASE_URL says.
            (None, Some(Dialect::Sqlite)) => None,
            (None, _) => std::env::var(SERVER_VARIABLE)
                .ok()
                .filter(|url| !url.is_empty()),
        };
        let dialect = match (&server_url, self.dialect) {
            (Some(url), expected) => {
                let found = crate::url::dialect_of(url).ok_or_else(|| Error::UnsupportedUrl {
                    url: crate::url::mask_secrets(url),
                })?;
                if let Some(expected) = expected
                    && expected != found
                {
                    return Err(self.misnamed(url, expected, found));
                }
                found
            }
            (None, None | Some(Dialect::Sqlite)) => Dialect::Sqlite,
            (None, Some(expected)) => {
                return Err(Error::InvalidSetting {
                    setting: SERVER_VARIABLE.to_owned(),
                    message: format!(
                        "is not set: a {expected} test database is made on the server it names \
                         (as `{}` for a local server); set it, or run the test with a SQLite pool",
                        example_url(expected)
                    ),
                });
            }
        };
        let names = Names::new(self.migrator, &self);
        let database = match dialect {
            #[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
            Dialect::Postgres => {
                let url = server_url.as_deref().unwrap_or_default();
                postgres::create(url, &names, |url| self.build_template(url)).await?
            }
            #[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
            Dialect::MySql => {
                let url = server_url.as_deref().unwrap_or_default();
                mysql::create(url, &names, |url| self.build_template(url)).await?
            }
            #[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
            Dialect::Sqlite => sqlite::create(&names, |url| self.build_template(url)).await?,
            other => {
                return Err(Error::Refused {
                    operation: "a test database",
                    message: format!(
                        "test databases are made on PostgreSQL, MySQL/MariaDB and SQLite, with \
                         their features (and `sqlx-0_9`) on; not on {other}"
                    ),
                });
            }
        };
        if let Err(error) = self.load_fixtures(&database).await {
            let _ = database.remove().await;
            return Err(error);
        }
        Ok(database)
    }

    /// Runs `test` with a pool on a fresh database, in a runtime of its own: drops the
    /// database when the test passes, keeps it (and prints its name) when it fails, and then
    /// fails as the test did. What `#[jetbase::test]` expands to.
    ///
    /// ```no_run
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// #[test]
    /// fn signup() {
    ///     jetbase::testing::TestDatabase::builder(&MIGRATOR).run(|pool: sqlx::SqlitePool| async move {
    ///         let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await.unwrap();
    ///         assert_eq!(one, 1);
    ///     });
    /// }
    /// ```
    ///
    /// # Panics
    ///
    /// When the test fails (its panic goes on, or its `Err` becomes one), and when the
    /// database cannot be made or reached (the message names what to fix: `DATABASE_URL`, a
    /// missing `CREATEDB`, a failing migration…).
    pub fn run<P, T, F, R>(self, test: T)
    where
        P: TestPool,
        T: FnOnce(P) -> F,
        F: Future<Output = R>,
        R: TestOutcome,
    {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => panic!("jetbase::test: cannot start a tokio runtime: {error}"),
        };
        let test_name = self.test_name.clone();
        let expects_panic = self.expects_panic;
        let builder = self.dialect(P::DIALECT.unwrap_or(Dialect::Sqlite));
        let builder = match P::DIALECT {
            Some(_) => builder,
            // An AnyPool takes whatever DATABASE_URL names.
            None => TestDatabaseBuilder {
                dialect: None,
                ..builder
            },
        };
        let database = match runtime.block_on(builder.create()) {
            Ok(database) => database,
            Err(error) => panic!("jetbase::test: no test database: {}", error_chain(&error)),
        };
        let pool = match runtime.block_on(P::connect_test(database.url())) {
            Ok(pool) => pool,
            Err(error) => {
                let name = database.keep();
                panic!(
                    "jetbase::test: cannot connect to the test database {name}: {}",
                    error_chain(&error)
                )
            }
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(test(pool))));
        let failure = match outcome {
            Ok(result) => result.failure().map(Failure::Returned),
            Err(panic) => Some(Failure::Panicked(panic)),
        };
        if expects_panic {
            // The test's panic (or its `Err`, which becomes one) is its success: the database
            // goes; a test that returned has failed, and its database is kept.
            let test = test_name.as_deref().unwrap_or("the test");
            let Some(failure) = failure else {
                let name = database.keep();
                eprintln!("jetbase::test: {test} did not panic; its database {name} is kept");
                return;
            };
            if let Err(error) = runtime.block_on(database.remove()) {
                eprintln!(
                    "jetbase::test: {test} panicked as expected; its database could not be \
                     dropped: {}",
                    error_chain(&error)
                );
            }
            match failure {
                Failure::Panicked(panic) => std::panic::resume_unwind(panic),
                Failure::Returned(message) => panic!("{test} returned an error: {message}"),
            }
        }
        match failure {
            None => {
                if let Err(error) = runtime.block_on(database.remove()) {
                    eprintln!(
                        "jetbase::test: the test passed; its database could not be dropped: {}",
                        error_chain(&error)
                    );
                }
            }
            Some(failure) => {
                let test = test_name.as_deref().unwrap_or("the test");
                let url = crate::url::mask_secrets(database.url());
                let name = database.keep();
                eprintln!("jetbase::test: {test} failed; its database {name} is kept ({url})");
                match failure {
                    Failure::Panicked(panic) => std::panic::resume_unwind(panic),
                    Failure::Returned(message) => panic!("{test} returned an error: {message}"),
                }
            }
        }
    }

    /// Creates the template's content on the empty database `url`: the migrations.
    async fn build_template(&self, url: String) -> Result<(), Error> {
        if !self.migrations {
            return Ok(());
        }
        let pool = AnyPool::connect(&url).await?;
        let mut upgrade = self.migrator.upgrade(&pool);
        if let Some(version) = &self.to_version {
            upgrade = upgrade.to_version(version.clone());
        }
        let applied = upgrade.await;
        pool.close().await;
        applied.map(|_| ())
    }

    /// Runs the fixtures in the test's database, in order.
    async fn load_fixtures(&self, database: &TestDatabase) -> Result<(), Error> {
        for (name, sql) in &self.fixtures {
            pools::execute_script(database.url(), sql)
                .await
                .map_err(|source| Error::InvalidSetting {
                    setting: format!("fixture {name}"),
                    message: format!("failed: {}", error_chain(&source)),
                })?;
        }
        Ok(())
    }

    fn misnamed(&self, url: &str, expected: Dialect, found: Dialect) -> Error {
        Error::InvalidSetting {
            setting: SERVER_VARIABLE.to_owned(),
            message: format!(
                "names a {found} server (`{}`), and the test's pool is {expected}'s: point it at \
                 a {expected} server, or change the pool's type",
                crate::url::mask_secrets(url)
            ),
        }
    }
}

/// How a test failed.
enum Failure {
    Panicked(Box<dyn std::any::Any + Send>),
    Returned(String),
}

/// An error and its sources, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A URL of `dialect`'s local server, for messages.
fn example_url(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "DATABASE_URL=postgres://postgres@localhost/postgres",
        Dialect::MySql => "DATABASE_URL=mysql://root@localhost/mysql",
        Dialect::Sqlite => "DATABASE_URL=sqlite://test.db",
        Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => "a server URL",
    }
}
