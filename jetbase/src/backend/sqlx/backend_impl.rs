//! `Backend` for the engine's sqlx pool: each method a call into the rest of `runner.rs`. Part
//! of `runner.rs` (see there), compiled with it for each engine.

#[allow(clippy::wildcard_imports)]
use super::*;
// Named, not only globbed: the glob also meets the `sqlx` crate of the extern prelude.
use super::sqlx;
use crate::backend::private::Key;

impl crate::backend::private::Sealed for Pool {
    fn backend(&self, _key: Key) -> &dyn Backend {
        self
    }

    fn into_backend(self, _key: Key) -> std::sync::Arc<dyn Backend> {
        std::sync::Arc::new(self)
    }
}

/// The sqlx session inside a run's [`Session`].
pub(super) fn sqlx_session(session: &mut Session) -> Result<&mut SqlxSession, DatabaseError> {
    session.of::<SqlxSession>()
}

impl Backend for Pool {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>> {
        Box::pin(async move {
            let connection = self.acquire().await.map_err(database_error)?;
            Ok(Session::new(SqlxSession {
                connection: Some(connection),
                dirty: false,
                in_run: false,
                sandbox: false,
                marked: None,
                transaction_mark: None,
            }))
        })
    }

    fn read_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>> {
        Box::pin(super::super::read_history(self, tables))
    }

    fn history_digest<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>> {
        Box::pin(history_digest(self, tables))
    }

    fn read_current<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>> {
        Box::pin(read_current(self, tables))
    }

    fn store_history_digest<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            store_history_digest(self, tables, digest, process_id)
                .await
                .map_err(database_error)
        })
    }

    fn prepare<'a>(&'a self, tables: &'a Tables) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move { prepare(self, tables).await.map_err(database_error) })
    }

    fn prepare_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move { prepare_history(self, tables).await.map_err(database_error) })
    }

    fn read_lock<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>> {
        Box::pin(async move { read_lock(self, tables).await.map_err(database_error) })
    }

    fn write_lock<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(async move {
            write_lock(self, tables, write)
                .await
                .map_err(database_error)
        })
    }

    fn liveness<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Box<dyn LivenessLock>, DatabaseError>> {
        Box::pin(async move {
            let liveness = super::super::liveness(self, tables)
                .await
                .map_err(database_error)?;
            Ok(Box::new(liveness) as Box<dyn LivenessLock>)
        })
    }

    fn run_job<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(async move {
            run_job(sqlx_session(session)?, tables, job)
                .await
                .map_err(JobFailure::from)
        })
    }

    fn begin_run<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            if super::super::RUN_IN_ONE_TRANSACTION {
                let session = sqlx_session(session)?;
                session.begin_run().await.map_err(database_error)?;
            }
            Ok(())
        })
    }

    fn begin_batch<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.begin_run().await.map_err(database_error)
        })
    }

    fn commit_run<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.commit_run().await.map_err(database_error)
        })
    }

    fn mark_session<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session
                .mark(tables, process_id)
                .await
                .map_err(database_error)
        })
    }

    fn unmark_session<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.unmark().await.map_err(database_error)
        })
    }

    fn end_sessions_of<'a>(
        &'a self,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<usize, DatabaseError>> {
        Box::pin(async move {
            let sql = engine_sql(DIALECT);
            let Some(find) = sql.end_sessions_sql(process_id) else {
                return Ok(0);
            };
            let ids = fetch_values(self, &find, &[])
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|row| sqlx::Row::try_get::<Option<i64>, _>(row, 0))
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(database_error)?;
            let mut ended = 0;
            for id in ids.into_iter().flatten() {
                if let Some(kill) = sql.kill_session_sql(id) {
                    // Not allowed (another user's session): the next run waits as it would have.
                    if sqlx::raw_sql(text(&kill)).execute(self).await.is_ok() {
                        ended += 1;
                    }
                }
            }
            Ok(ended)
        })
    }

    fn is_read_only(&self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let Some(sql) = engine_sql(DIALECT).read_only_sql() else {
                return Ok(false);
            };
            let row = sqlx::raw_sql(text(sql))
                .fetch_one(self)
                .await
                .map_err(database_error)?;
            let value: Option<String> = row.try_get(0).map_err(database_error)?;
            Ok(!matches!(
                value.as_deref().map(str::to_ascii_lowercase).as_deref(),
                None | Some("false" | "f" | "0" | "off")
            ))
        })
    }

    fn lock_is_leased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(async move {
            if !DIALECT.capabilities().session_locks || tables.transaction_pooled() {
                return Ok(true);
            }
            let Some(sql) = engine_sql(DIALECT).cluster_sql() else {
                return Ok(false);
            };
            // As plain text: `SHOW` is not a statement every server prepares.
            let rows = sqlx::Executor::fetch_all(self, text(sql))
                .await
                .map_err(database_error)?;
            // (`SHOW`'s columns are text of a binary collation on some servers: read as it is.)
            Ok(rows.iter().any(|row| {
                sqlx::Row::try_get_unchecked::<String, _>(row, 1)
                    .is_ok_and(|value| value.eq_ignore_ascii_case("on"))
            }))
        })
    }

    fn sandbox_copy(&self) -> BoxFuture<'_, Result<Option<SandboxCopy>, DatabaseError>> {
        Box::pin(async move {
            super::super::sandbox_copy(self)
                .await
                .map_err(database_error)
        })
    }

    fn begin_sandbox<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.begin_sandbox(tables).await.map_err(database_error)
        })
    }

    fn discard_sandbox<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.discard_sandbox().await.map_err(database_error)
        })
    }

    fn sandbox_mark<'a>(
        &'a self,
        session: &'a mut Session,
        mark: SandboxMark,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.sandbox_mark(mark).await.map_err(database_error)
        })
    }

    fn held_locks<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<Vec<TableLock>, DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.held_locks().await.map_err(database_error)
        })
    }

    fn read_schema<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move {
            let mut connection = self.acquire().await.map_err(database_error)?;
            // One read-only transaction: behind a transaction pooler, every catalog query runs
            // on the same server session.
            let mut transaction = sqlx::Connection::begin(&mut *connection)
                .await
                .map_err(database_error)?;
            let schema = super::super::introspect::read_schema(&mut transaction, postgres_schema)
                .await
                .map_err(database_error)?;
            transaction.rollback().await.map_err(database_error)?;
            Ok(schema)
        })
    }

    fn read_schema_in<'a>(
        &'a self,
        session: &'a mut Session,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            let connection = session.connection().map_err(database_error)?;
            super::super::introspect::read_schema(connection, postgres_schema)
                .await
                .map_err(database_error)
        })
    }

    fn read_text_rows<'a>(
        &'a self,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<TextRow>>, DatabaseError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let rows = fetch_values(self, sql, &[]).await.and_then(|rows| {
                rows.iter()
                    .map(|row| -> Result<TextRow, sqlx::Error> {
                        Ok([
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        ])
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            match rows.map_err(database_error) {
                Ok(rows) => Ok(Some(rows)),
                Err(error) if error.is_missing_table() => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(Pool::close(self))
    }
}
