//! The history and lock rows on a sqlx database: reading the history and the current version,
//! the fast path's digest, creating the tables, taking and releasing the lock row, and writing a
//! migration's history row. Part of `runner.rs` (see there), compiled with it for each engine.

#[allow(clippy::wildcard_imports)]
use super::*;
// Named, not only globbed: the glob also meets the `sqlx` crate of the extern prelude.
use super::sqlx;

/// The history, a row per migration: `None` when the table does not exist. (SQLite reads it as
/// one JSON value instead, so its copy of this function is unused.)
#[allow(dead_code)]
pub(crate) async fn read_history_rows(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
    let mut rows = fetch_values(pool, &tables.read_history(true), &[])
        .await
        .map_err(database_error);
    if let Err(error) = &rows
        && error.is_missing_column()
    {
        // A table Python Jetbase created, which jetbase has not extended yet.
        rows = fetch_values(pool, &tables.read_history(false), &[])
            .await
            .map_err(database_error);
    }
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) if error.is_missing_table() => return Ok(None),
        Err(error) => return Err(error),
    };
    rows.iter()
        .map(applied_from_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map(Some)
        .map_err(database_error)
}

/// A history row in the columns of `Tables::read_history`.
pub(super) fn applied_from_row(
    row: &<Db as sqlx::Database>::Row,
) -> Result<AppliedMigration, sqlx::Error> {
    use sqlx::Row as _;
    Ok(AppliedMigration {
        order_executed: row.try_get("jb_order")?,
        version: row.try_get("version")?,
        description: row
            .try_get::<Option<String>, _>("description")?
            .unwrap_or_default(),
        filename: row.try_get("filename")?,
        migration_type: row.try_get("migration_type")?,
        applied_at: row
            .try_get::<Option<String>, _>("jb_applied_at")?
            .unwrap_or_default(),
        checksum: row.try_get("checksum")?,
        // Absent on tables Python Jetbase created, until jetbase adds them.
        success: row.try_get("success").ok().flatten(),
        execution_ms: row.try_get("execution_ms").ok().flatten(),
    })
}

/// The current version's history row (see `current::read_current`), both reads on one
/// connection: the versioned rows by the engine's `highest_version`, then the chosen row.
pub(crate) async fn read_current(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<AppliedMigration>, DatabaseError> {
    let mut connection = pool.acquire().await.map_err(database_error)?;
    current::read_current(&mut OnConnection {
        connection: &mut connection,
        tables,
    })
    .await
}

/// `current`'s two reads on one connection.
pub(super) struct OnConnection<'a> {
    connection: &'a mut Connection,
    tables: &'a Tables,
}

impl current::CurrentReads for OnConnection<'_> {
    async fn highest(&mut self, own_columns: bool) -> Result<Option<i64>, DatabaseError> {
        super::super::highest_version(self.connection, self.tables, own_columns).await
    }

    async fn row(
        &mut self,
        own_columns: bool,
        order_executed: i64,
    ) -> Result<Option<AppliedMigration>, DatabaseError> {
        // Plain text (nothing to bind: the key is an integer literal): one round trip, where a
        // prepared statement takes two.
        let sql = self.tables.read_history_row(own_columns, order_executed);
        let rows = sqlx::Executor::fetch_all(&mut *self.connection, text(&sql))
            .await
            .map_err(database_error)?;
        rows.first()
            .map(applied_from_row)
            .transpose()
            .map_err(database_error)
    }
}

/// The `order_executed` of the highest version's row, the rows streamed as they arrive (see
/// `Tables::read_versions`). (SQLite reads them as one JSON value instead, so its copy of this
/// function is unused.)
#[allow(dead_code)]
pub(crate) async fn stream_highest_version(
    connection: &mut Connection,
    tables: &Tables,
    own_columns: bool,
) -> Result<Option<i64>, DatabaseError> {
    use sqlx::Row as _;
    let sql = tables.read_versions(own_columns);
    let mut rows = sqlx::Executor::fetch(&mut *connection, text(&sql));
    let mut highest = current::HighestVersion::default();
    while let Some(row) = std::future::poll_fn(|context| rows.as_mut().poll_next(context)).await {
        let row = row.map_err(database_error)?;
        let version: Option<String> = row.try_get("version").map_err(database_error)?;
        let success = if own_columns {
            row.try_get("success").ok().flatten()
        } else {
            None
        };
        highest.offer(
            row.try_get("jb_order").map_err(database_error)?,
            version.as_deref(),
            success,
        );
    }
    Ok(highest.order_executed())
}

/// The fast path's one query, as plain text (PostgreSQL's simple query, MySQL's COM_QUERY): one
/// round trip and nothing prepared, which matters where every tenant's schema makes it a new
/// statement (`jetbase::fleet`).
pub(super) async fn history_digest(pool: &Pool, tables: &Tables) -> Result<Digest, DatabaseError> {
    use sqlx::Row as _;
    let sql = tables.history_digest();
    let row = sqlx::raw_sql(text(&sql)).fetch_one(pool).await;
    let found = row.and_then(|row| {
        Ok((
            row.try_get::<Option<String>, _>(0)?,
            row.try_get::<i64, _>(1)?,
            row.try_get::<i64, _>(2)?,
        ))
    });
    match found.map_err(database_error) {
        Ok((stored, rows, max_order)) => Ok(Digest::Found {
            stored,
            rows,
            max_order,
        }),
        Err(error) if error.is_missing_table() || error.is_missing_column() => {
            Ok(Digest::Unavailable)
        }
        Err(error) => Err(error),
    }
}

pub(super) async fn store_history_digest(
    pool: &Pool,
    tables: &Tables,
    digest: Option<&str>,
    process_id: &str,
) -> Result<(), sqlx::Error> {
    execute_values(
        pool,
        &tables.store_history_digest(),
        &[Value::Text(digest), Value::Text(Some(process_id))],
    )
    .await?;
    Ok(())
}

/// Creates the tables (and the schema) if missing, adds jetbase's own columns to tables Python
/// Jetbase created, and the lock row.
pub(super) async fn prepare(pool: &Pool, tables: &Tables) -> Result<(), sqlx::Error> {
    // DDL only for what is missing: on a Galera cluster every DDL statement, even one that
    // changes nothing, runs on all nodes in total order and aborts the transactions there that
    // use its table (the holder's lock row write is then a lost race, tried again).
    let lock_columns = column_names(pool, tables, &tables.lock_name).await?;
    let mut ddl: Vec<String> = Vec::new();
    if lock_columns.is_empty() {
        ddl.extend(tables.create_schema());
        ddl.push(tables.create_lock());
    } else {
        // A lock table Python Jetbase created gets jetbase's column.
        ddl.extend(missing_own_columns(
            tables,
            &lock_columns,
            &[OWN_LOCK_COLUMN],
        ));
    }
    execute_all(pool, &ddl).await?;
    execute_values(pool, &tables.init_lock_row(), &[]).await?;
    Ok(())
}

/// Under the lock: the history table, or jetbase's columns on one Python Jetbase created. Never
/// before: on a Galera cluster, a waiter's DDL on it would abort the holder's history writes.
pub(super) async fn prepare_history(pool: &Pool, tables: &Tables) -> Result<(), sqlx::Error> {
    let history_columns = column_names(pool, tables, &tables.migrations_name).await?;
    let ddl = if history_columns.is_empty() {
        vec![tables.create_migrations()]
    } else {
        let mut own = OWN_COLUMNS.to_vec();
        if tables.dialect().capabilities().stored_rollbacks {
            own.push(ROLLBACK_COLUMN);
        }
        missing_own_columns(tables, &history_columns, &own)
    };
    execute_all(pool, &ddl).await
}

/// The `ALTER TABLE`s adding those of `own_columns` a table of `columns` lacks.
pub(super) fn missing_own_columns(
    tables: &Tables,
    columns: &[String],
    own_columns: &[&str],
) -> Vec<String> {
    own_columns
        .iter()
        .filter(|own| !columns.iter().any(|c| c.eq_ignore_ascii_case(own)))
        .map(|own| tables.add_column(own))
        .collect()
}

/// The columns of one of jetbase's tables; empty when it does not exist.
pub(super) async fn column_names(
    pool: &Pool,
    tables: &Tables,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    fetch_values(pool, &tables.columns(table), &[])
        .await?
        .iter()
        .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
        .collect()
}

pub(super) async fn read_lock(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<LockRow>, sqlx::Error> {
    use sqlx::Row as _;
    let rows = fetch_values(pool, &tables.read_lock(), &[]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(LockRow {
        is_locked: row.try_get(0)?,
        locked_at: row.try_get(1)?,
        process_id: row.try_get(2)?,
    }))
}

/// Changes the lock row by compare-and-set: true when this write changed it.
pub(super) async fn write_lock(
    pool: &Pool,
    tables: &Tables,
    write: LockWrite<'_>,
) -> Result<bool, sqlx::Error> {
    let (sql, values) = match write {
        LockWrite::Take { process_id } => (tables.take_lock(), vec![Value::Text(Some(process_id))]),
        LockWrite::TakeOver { process_id, from } => (
            tables.take_over_lock(),
            vec![Value::Text(Some(process_id)), Value::Text(Some(from))],
        ),
        LockWrite::TakeOverExpired {
            process_id,
            from,
            lease_seconds,
        } => (
            tables.take_over_expired_lock(lease_seconds),
            vec![Value::Text(Some(process_id)), Value::Text(Some(from))],
        ),
        LockWrite::Renew { process_id } => {
            (tables.renew_lock(), vec![Value::Text(Some(process_id))])
        }
        LockWrite::Release { process_id } => {
            (tables.release_lock(), vec![Value::Text(Some(process_id))])
        }
        LockWrite::ForceRelease => (tables.force_release_lock(), Vec::new()),
    };
    Ok(execute_values(pool, &sql, &values).await? == 1)
}

pub(super) async fn write_row(
    connection: &mut Connection,
    tables: &Tables,
    row: &RowWrite<'_>,
    execution_ms: Option<i64>,
    success: bool,
) -> Result<(), sqlx::Error> {
    let (sql, values) = tables.row_write(row, execution_ms, success);
    execute_values(&mut *connection, &sql, &values).await?;
    Ok(())
}
