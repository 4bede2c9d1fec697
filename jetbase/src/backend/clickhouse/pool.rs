//! [`ClickHousePool`]: ClickHouse over its HTTP interface, and the [`Database`] jetbase
//! migrates.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jetbase_core::{AppliedMigration, Dialect};

use super::event;
use super::http::Client;
use super::options::ClickHouseOptions;
use super::statements::{self, Change};
use crate::Error;
use crate::backend::private::Key;
use crate::backend::race_retry::{self, TABLE_CREATION, is_query_error};
use crate::backend::tables::{OWN_COLUMNS, Tables, Value, row_values};
use crate::backend::text_rows::{
    self, applied_migration, cell, elapsed_ms, integer, no_schema_reading, text,
};
use crate::backend::{
    Backend, BoxFuture, DatabaseError, DatabaseErrorKind, Digest, Job, JobFailure, LivenessLock,
    LockRow, LockWrite, NoSessionLock, RowWrite, Session,
};

/// ClickHouse, for [`Migrator::run`](crate::Migrator::run) and the other calls (feature
/// `clickhouse`), over the HTTP interface. Cheap to clone.
///
/// ```no_run
/// # async fn start() -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let pool = jetbase::ClickHousePool::connect("clickhouse://deploy:secret@ch.internal:8123/analytics").await?;
/// MIGRATOR.run(&pool).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClickHousePool {
    client: Arc<Client>,
    /// The history table takes lightweight updates (found when the tables are prepared).
    lightweight_updates: Arc<AtomicBool>,
}

impl std::fmt::Debug for ClickHousePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHousePool")
            .field("options", self.client.options())
            .finish()
    }
}

impl ClickHousePool {
    /// Connects to `url` (`clickhouse://USER:PASSWORD@HOST:PORT/DATABASE`, `clickhouse+http://`,
    /// `clickhouse+https://`) and checks that the server answers.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a URL that cannot be used (a `clickhouse+native://` one),
    /// [`Error::Database`] when the server cannot be reached or refuses the user.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_timeout(url, Duration::from_secs(30)).await
    }

    pub(crate) async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        let options = ClickHouseOptions::parse(url)?;
        let client = Client::new(options, timeout).map_err(Error::database("connecting"))?;
        let pool = Self {
            client: Arc::new(client),
            lightweight_updates: Arc::new(AtomicBool::new(false)),
        };
        tokio::time::timeout(timeout, pool.client.query("SELECT 1", &[]))
            .await
            .map_err(|_| {
                Error::database("connecting to ClickHouse")(DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {timeout:?}"),
                    ),
                ))
            })?
            .map_err(Error::database("connecting to ClickHouse"))?;
        Ok(pool)
    }

    /// Runs one statement.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with ClickHouse's message.
    pub async fn execute(&self, sql: &str) -> Result<(), Error> {
        self.client
            .query(sql, &[])
            .await
            .map(|_| ())
            .map_err(Error::database("running a statement"))
    }

    /// Runs one query in the URL's database (`None`: in the user's default database, to
    /// create or drop the database itself); its rows as text (`NULL` as `None`).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with ClickHouse's message.
    pub async fn fetch_all(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        self.client
            .query(sql, &[])
            .await
            .map_err(Error::database("running a query"))
    }

    /// Runs one statement in the user's default database rather than the URL's (to create or
    /// drop the URL's database).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with ClickHouse's message.
    pub async fn execute_outside_database(&self, sql: &str) -> Result<(), Error> {
        self.client
            .query_in(None, sql, &[])
            .await
            .map(|_| ())
            .map_err(Error::database("running a statement"))
    }

    async fn history(
        &self,
        tables: &Tables,
    ) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
        let mut result = self.client.query(&tables.read_history(true), &[]).await;
        if let Err(error) = &result
            && error.is_missing_column()
        {
            // A table Python Jetbase created, which jetbase has not extended yet.
            result = self.client.query(&tables.read_history(false), &[]).await;
        }
        let rows = match result {
            Ok(rows) => rows,
            Err(error) if error.is_missing_table() => return Ok(None),
            Err(error) => return Err(error),
        };
        rows.iter()
            .map(|row| applied_migration(row))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Under the lock: the history table, lightweight updates on it where the server has them,
    /// and jetbase's columns on a table Python Jetbase made.
    async fn prepare_history_table(&self, tables: &Tables) -> Result<(), DatabaseError> {
        self.client.query(&tables.create_migrations(), &[]).await?;
        let columns = self
            .client
            .query(&tables.columns(&tables.migrations_name), &[])
            .await?;
        // Older servers have no lightweight updates: their rows change by mutations.
        let lightweight = self
            .client
            .query(
                &statements::enable_lightweight_updates(&tables.migrations),
                &[],
            )
            .await
            .is_ok();
        self.lightweight_updates
            .store(lightweight, Ordering::Relaxed);
        for own in OWN_COLUMNS {
            let present = columns
                .iter()
                .any(|row| cell(row, 0).is_some_and(|c| c.eq_ignore_ascii_case(own)));
            if !present {
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {own} {}",
                    tables.migrations,
                    tables.sql().own_column_type(own)
                );
                self.client.query(&sql, &[]).await?;
            }
        }
        Ok(())
    }

    async fn lock_event(
        &self,
        tables: &Tables,
        process_id: &str,
        event: &str,
        digest: Option<&str>,
    ) -> Result<(), DatabaseError> {
        let params = [
            ("process_id", Some(process_id)),
            ("event", Some(event)),
            ("digest", digest),
        ];
        self.client
            .query(&statements::lock_event(&tables.lock), &params)
            .await?;
        Ok(())
    }

    /// The holder: `(process_id, since)`.
    async fn holder(
        &self,
        tables: &Tables,
    ) -> Result<Option<(String, Option<String>)>, DatabaseError> {
        let rows = self
            .client
            .query(&statements::holder(&tables.lock, tables.lease_seconds), &[])
            .await?;
        Ok(rows
            .first()
            .and_then(|row| text(row, 0).map(|holder| (holder, text(row, 1)))))
    }

    /// Withdraws the expired claims before the holder's (see `statements::withdraw_expired`).
    /// The claimants withdrawn are dead holders taken over: named in the logs, where someone
    /// listens (one more request, only then).
    async fn withdraw_expired(&self, holder: &str, tables: &Tables) -> Result<(), DatabaseError> {
        if crate::events::take_over_is_logged() {
            let expired = self
                .client
                .query(
                    &statements::expired(&tables.lock),
                    &[("process_id", Some(holder))],
                )
                .await?;
            for claimant in expired.iter().filter_map(|row| text(row, 0)) {
                crate::events::lock_taken_over(&claimant, true);
            }
        }
        self.client
            .query(
                &statements::withdraw_expired(&tables.lock),
                &[("process_id", Some(holder))],
            )
            .await?;
        Ok(())
    }

    async fn holds(&self, tables: &Tables, process_id: &str) -> Result<bool, DatabaseError> {
        Ok(self
            .holder(tables)
            .await?
            .is_some_and(|(holder, _)| holder == process_id))
    }

    fn change(&self) -> Change {
        if self.lightweight_updates.load(Ordering::Relaxed) {
            Change::Lightweight
        } else {
            Change::Mutation
        }
    }

    /// Writes a history row: [`row_values`] as named parameters (each named by its column)
    /// of ClickHouse's own statements.
    async fn write_row(
        &self,
        tables: &Tables,
        row: &RowWrite<'_>,
        execution_ms: Option<i64>,
        success: bool,
    ) -> Result<(), DatabaseError> {
        let table = &tables.migrations;
        let sql = match row {
            RowWrite::Insert { .. } => statements::insert_row(table),
            RowWrite::Update { .. } => statements::update_repeatable(table, self.change()),
            RowWrite::Delete { .. } => statements::delete_row(table),
            RowWrite::SetChecksum { .. } => statements::set_checksum(table),
        };
        let values: Vec<(&str, Option<Cow<'_, str>>)> = row_values(row, execution_ms, success)
            .into_iter()
            .map(|(column, value)| {
                let text = match value {
                    Value::Text(text) => text.map(Cow::Borrowed),
                    Value::Integer(number) => number.map(|n| Cow::Owned(n.to_string())),
                    Value::Boolean(flag) => {
                        Some(Cow::Borrowed(if flag { "true" } else { "false" }))
                    }
                };
                (column, text)
            })
            .collect();
        let params: Vec<(&str, Option<&str>)> = values
            .iter()
            .map(|(column, text)| (*column, text.as_deref()))
            .collect();
        self.client.query(&sql, &params).await?;
        Ok(())
    }
}

impl crate::backend::private::Sealed for ClickHousePool {
    fn backend(&self, _key: Key) -> &dyn Backend {
        self
    }

    fn into_backend(self, _key: Key) -> Arc<dyn Backend> {
        Arc::new(self)
    }
}

impl Backend for ClickHousePool {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn dialect(&self) -> Dialect {
        Dialect::ClickHouse
    }

    /// HTTP is stateless: there is no session to keep.
    fn session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>> {
        Box::pin(std::future::ready(Ok(Session::new(()))))
    }

    fn read_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>> {
        Box::pin(async move { self.history(tables).await })
    }

    fn read_current<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>> {
        Box::pin(async move {
            text_rows::read_current(
                tables,
                |sql| async move { self.client.query(&sql, &[]).await },
            )
            .await
        })
    }

    fn history_digest<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>> {
        Box::pin(async move {
            let sql = statements::history_digest(&tables.migrations, &tables.lock);
            match self.client.query(&sql, &[]).await {
                Ok(rows) => {
                    let row = rows.first().map(Vec::as_slice).unwrap_or_default();
                    Ok(Digest::Found {
                        stored: text(row, 0).filter(|digest| !digest.is_empty()),
                        rows: integer(row, 1)?.unwrap_or(0),
                        max_order: integer(row, 2)?.unwrap_or(0),
                    })
                }
                Err(error) if error.is_missing_table() || error.is_missing_column() => {
                    Ok(Digest::Unavailable)
                }
                Err(error) => Err(error),
            }
        })
    }

    fn store_history_digest<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            self.lock_event(
                tables,
                process_id,
                event::DIGEST,
                Some(digest.unwrap_or("")),
            )
            .await
        })
    }

    /// The lock's table of claims. Every statement is idempotent (`IF NOT EXISTS`); processes
    /// that start together run them at once, and one that lost a race with its twin on the
    /// catalog is retried.
    fn prepare<'a>(&'a self, tables: &'a Tables) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let create_lock = tables.create_lock();
            race_retry::retrying(TABLE_CREATION, is_query_error, || async {
                self.client.query(&create_lock, &[]).await.map(|_| ())
            })
            .await
        })
    }

    fn prepare_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            race_retry::retrying(TABLE_CREATION, is_query_error, || {
                self.prepare_history_table(tables)
            })
            .await
        })
    }

    fn read_lock<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>> {
        Box::pin(async move {
            match self.holder(tables).await {
                Ok(Some((process_id, since))) => Ok(Some(LockRow {
                    is_locked: true,
                    locked_at: since,
                    process_id: Some(process_id),
                })),
                Ok(None) => Ok(Some(LockRow {
                    is_locked: false,
                    locked_at: None,
                    process_id: None,
                })),
                Err(error) if error.is_missing_table() => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    /// The claims queue (see the module's documentation): taking is claiming and finding
    /// oneself first; a dead holder's lease expires by itself, so there is never a row to take
    /// over.
    fn write_lock<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(async move {
            match write {
                LockWrite::Take { process_id } => {
                    self.lock_event(tables, process_id, event::CLAIM, None)
                        .await?;
                    let taken = self.holds(tables, process_id).await?;
                    if taken {
                        self.withdraw_expired(process_id, tables).await?;
                    }
                    Ok(taken)
                }
                LockWrite::TakeOver { .. } | LockWrite::TakeOverExpired { .. } => Ok(false),
                LockWrite::Renew { process_id } => {
                    self.lock_event(tables, process_id, event::RENEW, None)
                        .await?;
                    self.holds(tables, process_id).await
                }
                LockWrite::Release { process_id } => {
                    // A holder that took the lock through the read after a failed take (a lost
                    // answer) has not withdrawn the expired claims before its own: it does so now,
                    // so that they do not come back for a reader with a longer lease.
                    if self.holds(tables, process_id).await? {
                        self.withdraw_expired(process_id, tables).await?;
                    }
                    self.lock_event(tables, process_id, event::RELEASE, None)
                        .await?;
                    Ok(true)
                }
                LockWrite::ForceRelease => match self.holder(tables).await? {
                    Some((holder, _)) => {
                        self.lock_event(tables, &holder, event::RELEASE, None)
                            .await?;
                        Ok(true)
                    }
                    None => Ok(false),
                },
            }
        })
    }

    fn liveness<'a>(
        &'a self,
        _tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Box<dyn LivenessLock>, DatabaseError>> {
        Box::pin(async move { Ok(Box::new(NoSessionLock) as Box<dyn LivenessLock>) })
    }

    /// Every migration runs row-first: ClickHouse has no transactions.
    fn run_job<'a>(
        &'a self,
        _session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(async move {
            let started = Instant::now();
            let filename = match job.row {
                RowWrite::Insert { filename, .. } | RowWrite::Update { filename, .. } => {
                    self.write_row(tables, &job.row, None, false).await?;
                    Some(filename)
                }
                RowWrite::Delete { .. } | RowWrite::SetChecksum { .. } => None,
            };
            for (index, statement) in job.statements.iter().enumerate() {
                self.client
                    .query(statement.sql, &[])
                    .await
                    .map_err(|source| JobFailure {
                        statement: Some(index),
                        source,
                    })?;
            }
            match filename {
                Some(filename) => {
                    let ms = elapsed_ms(started).to_string();
                    let params = [
                        ("execution_ms", Some(ms.as_str())),
                        ("filename", Some(filename)),
                    ];
                    self.client
                        .query(
                            &statements::complete_row(&tables.migrations, self.change()),
                            &params,
                        )
                        .await?;
                }
                None => self.write_row(tables, &job.row, None, true).await?,
            }
            Ok(())
        })
    }

    fn read_schema<'a>(
        &'a self,
        _postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move { Err(no_schema_reading("ClickHouse")) })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
