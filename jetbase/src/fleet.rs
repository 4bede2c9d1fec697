//! Many targets for one set of migrations: a schema per tenant on one PostgreSQL database, or a
//! database per tenant (one URL each). [`Fleet::run`] runs one operation (an upgrade, a status,
//! a wait...) on every target, a few at a time, each an independent run with its own history and
//! lock, and hands each target's result to a callback as soon as it is known.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::backend::private::SEAL;
use crate::{AnyPool, Error, Migrator};

/// How many targets run at once by default: the CLI's pool holds 10 connections, and one run
/// holds at most two (its session and its liveness lock) besides short queries.
pub const DEFAULT_PARALLEL: usize = 4;

/// How long connecting to one target may take, by default (as [`AnyPool::connect`]).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where one target is.
#[derive(Debug, Clone)]
enum Place {
    /// A PostgreSQL schema on a shared pool (its own history and lock tables).
    Schema { pool: AnyPool, schema: String },
    /// A database of its own, connected when its turn comes and closed after.
    Url(String),
}

/// What one target's operation returned.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetOutcome<T> {
    /// The target: the schema's name, or the URL with its password masked.
    pub target: String,
    /// Its position in the fleet's list.
    pub index: usize,
    /// What the operation returned on it.
    pub result: Result<T, Error>,
}

/// Many targets for one migrator (see the module's documentation).
///
/// ```no_run
/// # async fn tenants(pool: jetbase::AnyPool) -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let schemas = jetbase::fleet::schemas_like(&pool, "tenant_%").await?;
/// let failed = jetbase::fleet::Fleet::schemas(&pool, schemas)
///     .parallel(8)
///     .run(
///         &MIGRATOR,
///         |migrator, pool| async move { migrator.run(&pool).await },
///         |outcome| match &outcome.result {
///             Ok(report) => println!("{}: {} applied", outcome.target, report.migrations.len()),
///             Err(error) => println!("{}: {error}", outcome.target),
///         },
///     )
///     .await;
/// println!("{failed} tenants failed");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Fleet {
    targets: Vec<(String, Place)>,
    parallel: usize,
    fail_fast: bool,
    connect_timeout: Duration,
}

impl Fleet {
    /// Each of `schemas` on `pool` (PostgreSQL): the migrator runs there as with
    /// [`Migrator::with_postgres_schema`].
    pub fn schemas<S: Into<String>>(pool: &AnyPool, schemas: impl IntoIterator<Item = S>) -> Self {
        let targets = schemas
            .into_iter()
            .map(|schema| {
                let schema = schema.into();
                let place = Place::Schema {
                    pool: pool.clone(),
                    schema: schema.clone(),
                };
                (schema, place)
            })
            .collect();
        Self::new(targets)
    }

    /// Each of `urls`, any database kind: connected when its turn comes, closed after.
    pub fn urls<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        let targets = urls
            .into_iter()
            .map(|url| {
                let url = url.into();
                (crate::url::mask_secrets(&url), Place::Url(url))
            })
            .collect();
        Self::new(targets)
    }

    fn new(targets: Vec<(String, Place)>) -> Self {
        Self {
            targets,
            parallel: DEFAULT_PARALLEL,
            fail_fast: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// How long connecting to one target of [`Fleet::urls`] may take before that target fails
    /// (default 30 s, as [`AnyPool::connect`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let fleet = jetbase::fleet::Fleet::urls(["sqlite:///a.db"])
    ///     .connect_timeout(Duration::from_secs(5));
    /// assert_eq!(fleet.len(), 1);
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many targets run at once (at least 1; default [`DEFAULT_PARALLEL`]).
    #[must_use]
    pub fn parallel(mut self, parallel: usize) -> Self {
        self.parallel = parallel.max(1);
        self
    }

    /// Stops starting targets after the first failure (those running finish). By default a
    /// failure on one target does not stop the others.
    #[must_use]
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// How many targets it has.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when it has none.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Runs `operation` on every target, at most `parallel` at once, and calls `on_result`
    /// with each target's outcome as it finishes (in finishing order). Returns how many
    /// targets failed; with `fail_fast`, the targets not started count as failed and are
    /// reported with an error saying so.
    ///
    /// `operation` gets the migrator configured for the target (its schema) and the target's
    /// pool.
    pub async fn run<T, F, Fut>(
        self,
        migrator: &Migrator,
        operation: F,
        mut on_result: impl FnMut(TargetOutcome<T>),
    ) -> usize
    where
        T: Send + 'static,
        F: Fn(Migrator, AnyPool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let workers = self.parallel.min(self.targets.len());
        let queue: Arc<Mutex<VecDeque<(usize, String, Place)>>> = Arc::new(Mutex::new(
            self.targets
                .into_iter()
                .enumerate()
                .map(|(index, (label, place))| (index, label, place))
                .collect(),
        ));
        let stopped = Arc::new(AtomicBool::new(false));
        let operation = Arc::new(operation);
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let stopped = Arc::clone(&stopped);
            let operation = Arc::clone(&operation);
            let sender = sender.clone();
            let migrator = migrator.clone();
            let fail_fast = self.fail_fast;
            let connect_timeout = self.connect_timeout;
            tasks.spawn(async move {
                loop {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    let next = match queue.lock() {
                        Ok(mut queue) => queue.pop_front(),
                        Err(_) => None,
                    };
                    let Some((index, target, place)) = next else {
                        break;
                    };
                    let result =
                        run_one(&migrator, place, connect_timeout, operation.as_ref()).await;
                    if fail_fast && result.is_err() {
                        stopped.store(true, Ordering::Relaxed);
                    }
                    let outcome = TargetOutcome {
                        target,
                        index,
                        result,
                    };
                    if sender.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut failed = 0;
        while let Some(outcome) = receiver.recv().await {
            failed += usize::from(outcome.result.is_err());
            on_result(outcome);
        }
        while tasks.join_next().await.is_some() {}
        let left: Vec<(usize, String, Place)> = queue
            .lock()
            .map(|mut queue| queue.drain(..).collect())
            .unwrap_or_default();
        for (index, target, _) in left {
            failed += 1;
            on_result(TargetOutcome {
                target,
                index,
                result: Err(Error::Refused {
                    operation: "fleet run",
                    message: "not started: an earlier target failed and --fail-fast stops the \
                              rest"
                        .to_owned(),
                }),
            });
        }
        failed
    }
}

/// The operation on one target.
async fn run_one<T, F, Fut>(
    migrator: &Migrator,
    place: Place,
    connect_timeout: Duration,
    operation: &F,
) -> Result<T, Error>
where
    F: Fn(Migrator, AnyPool) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    match place {
        Place::Schema { pool, schema } => {
            operation(migrator.clone().with_postgres_schema(schema), pool).await
        }
        Place::Url(url) => {
            let pool = AnyPool::connect_with_timeout(&url, connect_timeout).await?;
            let result = operation(migrator.clone(), pool.clone()).await;
            pool.close().await;
            result
        }
    }
}

/// Checks that `schema` is a name PostgreSQL keeps as written, before anything runs on it: not
/// empty, at most 63 bytes (the server cuts a longer one without a word, and could land on
/// another tenant's schema), not a system schema (`information_schema`, `pg_*`). Every run on a
/// schema checks it; this lets a caller refuse a list of tenants before starting any.
///
/// ```
/// use jetbase::fleet::check_schema_name;
/// assert!(check_schema_name("tenant_42").is_ok());
/// assert!(check_schema_name(&"t".repeat(64)).is_err());
/// assert!(check_schema_name("pg_catalog").is_err());
/// ```
///
/// # Errors
///
/// [`Error::InvalidSetting`] saying what is wrong with the name.
pub fn check_schema_name(schema: &str) -> Result<(), Error> {
    crate::migrator::check_postgres_schema(schema)
}

/// The schemas of a PostgreSQL database whose names match a `LIKE` pattern (`tenant_%`), in
/// name order; the system schemas never.
///
/// # Errors
///
/// [`Error::Refused`] on another database; [`Error::Database`] when the catalog query fails.
pub async fn schemas_like(pool: &AnyPool, pattern: &str) -> Result<Vec<String>, Error> {
    use crate::backend::private::Sealed as _;
    // PostgreSQL's catalog, below: its own arm, so that another database with schemas is a
    // decision to make here, not PostgreSQL's SQL sent to it.
    let postgres = match pool.dialect() {
        jetbase_core::Dialect::Postgres => true,
        jetbase_core::Dialect::Sqlite
        | jetbase_core::Dialect::MySql
        | jetbase_core::Dialect::Snowflake
        | jetbase_core::Dialect::ClickHouse
        | jetbase_core::Dialect::Databricks => false,
    };
    if !postgres {
        return Err(Error::Refused {
            operation: "schemas-like",
            message: format!(
                "schemas are PostgreSQL's; this is {}: list the databases in a URLs file instead",
                pool.dialect()
            ),
        });
    }
    let sql = format!(
        "SELECT nspname::text, NULL::text, NULL::text, NULL::text FROM pg_namespace \
         WHERE nspname LIKE {} AND nspname NOT LIKE 'pg!_%' ESCAPE '!' \
         AND nspname <> 'information_schema' ORDER BY nspname",
        jetbase_core::Dialect::Postgres.string_literal(pattern)
    );
    let rows = pool
        .backend(SEAL)
        .read_text_rows(&sql)
        .await
        .map_err(Error::database("listing the schemas"))?
        .unwrap_or_default();
    Ok(rows.into_iter().filter_map(|[name, ..]| name).collect())
}
