//! Running one migration's job on a sqlx database: in its own transaction, in a savepoint of the
//! run's transaction, in batches, or without a transaction (row first). Part of `runner.rs`
//! (see there), compiled with it for each engine.

#[allow(clippy::wildcard_imports)]
use super::*;
// Named, not only globbed: the glob also meets the `sqlx` crate of the extern prelude.
use super::sqlx;

/// Runs the migration's statement number `index`; a failure names it.
pub(super) async fn execute_numbered(
    connection: &mut Connection,
    index: usize,
    sql: &str,
) -> Result<(), SqlxJobError> {
    execute_text(connection, sql)
        .await
        .map_err(|source| SqlxJobError {
            statement: Some(index),
            source,
        })
}

pub(super) async fn run_in_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), SqlxJobError> {
    if session.in_run {
        return run_in_savepoint(session, tables, job).await;
    }
    // Where the database takes it, the whole transaction travels with the migration's
    // statements: BEGIN (and the search path) with the first, the history write and COMMIT
    // with the last, so a single-statement migration is one round trip.
    if let Some(row_sql) = tables.row_write_sql(&job.row) {
        return run_batched_transaction(session, tables, job, row_sql).await;
    }
    let started = Instant::now();
    // Dirty until the commit and the timeouts' reset: a dropped transaction, or a session left
    // with a migration's timeouts, closes the connection.
    session.dirty = true;
    let limits = tables.limits_sql(&job.limits, false);
    if let Some(limits) = &limits {
        execute_text(session.connection()?, &limits.set).await?;
    }
    let mut transaction = sqlx::Connection::begin(session.connection()?).await?;
    for (index, statement) in job.statements.iter().enumerate() {
        execute_numbered(&mut transaction, index, statement.sql).await?;
    }
    write_row(
        &mut transaction,
        tables,
        &job.row,
        Some(elapsed_ms(started)),
        true,
    )
    .await?;
    transaction.commit().await?;
    if let Some(reset) = limits.and_then(|limits| limits.reset) {
        execute_text(session.connection()?, &reset).await?;
    }
    session.dirty = false;
    Ok(())
}

/// One migration inside the run's transaction (see `SqlxSession::begin_run`).
pub(super) async fn run_in_savepoint(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), SqlxJobError> {
    let started = Instant::now();
    let limits = tables.limits_sql(&job.limits, false);
    // A sandbox writes no history row: nothing of it is kept.
    let write_history = !session.sandbox;
    let connection = session.connection()?;
    let mut begin = Cow::Borrowed("SAVEPOINT jetbase_migration");
    if let Some(limits) = &limits {
        begin = Cow::Owned(format!("{};\nSAVEPOINT jetbase_migration", limits.set));
    }
    execute_text(connection, &begin).await?;
    let mut result = Ok(());
    for (index, statement) in job.statements.iter().enumerate() {
        result = execute_numbered(connection, index, statement.sql).await;
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && write_history {
        let ms = elapsed_ms(started);
        result = write_row(connection, tables, &job.row, Some(ms), true)
            .await
            .map_err(SqlxJobError::from);
    }
    let end = if result.is_ok() {
        "RELEASE jetbase_migration"
    } else {
        "ROLLBACK TO jetbase_migration; RELEASE jetbase_migration"
    };
    let end = match limits.and_then(|limits| limits.reset) {
        Some(reset) => Cow::Owned(format!("{end};\n{reset}")),
        None => Cow::Borrowed(end),
    };
    // If this fails, the database dropped the whole transaction (an I/O error, a full disk):
    // the run's earlier migrations are gone too, and the commit says so.
    let _ = execute_text(connection, &end).await;
    result
}

pub(super) async fn run_batched_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
    row_sql: String,
) -> Result<(), SqlxJobError> {
    let mut commit_reset = None;
    let mut begin = String::from("BEGIN");
    if let Some(set_path) = tables.set_local_search_path() {
        begin.push_str(";\n");
        begin.push_str(&set_path);
    }
    if let Some(mark) = &session.transaction_mark {
        begin.push_str(";\n");
        begin.push_str(mark);
    }
    // The timeouts travel with BEGIN too, and end with the transaction.
    if let Some(limits) = tables.limits_sql(&job.limits, true) {
        begin.push_str(";\n");
        begin.push_str(&limits.set);
        if let Some(reset) = limits.reset {
            commit_reset = Some(reset);
        }
    }
    let commit = format!("{row_sql};\nCOMMIT");
    session.dirty = true;
    let result = run_batched_statements(session.connection()?, job, &begin, &commit).await;
    let clean_up = match (&result, commit_reset) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(reset)) => execute_text(session.connection()?, &reset).await,
        (Err(_), None) => execute_text(session.connection()?, "ROLLBACK").await,
        (Err(_), Some(reset)) => {
            execute_text(session.connection()?, &format!("ROLLBACK;\n{reset}")).await
        }
    };
    if clean_up.is_ok() {
        session.dirty = false;
    }
    // Otherwise the session stays dirty: its connection is closed, and the server rolls back.
    result
}

pub(super) async fn run_batched_statements(
    connection: &mut Connection,
    job: &Job<'_>,
    begin: &str,
    commit: &str,
) -> Result<(), SqlxJobError> {
    let last = job.statements.len().checked_sub(1);
    if last.is_none() {
        execute_text(connection, &format!("{begin};\n{commit}")).await?;
    }
    for (index, statement) in job.statements.iter().enumerate() {
        let prefix = (index == 0).then_some(begin);
        let suffix = (Some(index) == last).then_some(commit);
        let sql = batch(prefix, statement.sql, suffix);
        execute_numbered(connection, index, sql.as_ref()).await?;
    }
    Ok(())
}

pub(super) async fn run_without_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), SqlxJobError> {
    // Outside any transaction: what the run applied so far is committed first, and the run's
    // transaction reopened after.
    let reopen = session.in_run;
    session.commit_run().await?;
    // Dirty while the search path may be changed and statements run one by one; on success the
    // search path is reset and the connection is clean again.
    session.dirty = true;
    let limits = tables.limits_sql(&job.limits, false);
    if let Some(limits) = &limits {
        execute_text(session.connection()?, &limits.set).await?;
    }
    run_on_connection(session.connection()?, tables, job).await?;
    if let Some(reset) = limits.and_then(|limits| limits.reset) {
        execute_text(session.connection()?, &reset).await?;
    }
    if let Some((_, reset)) = tables.set_search_path() {
        execute_text(session.connection()?, reset).await?;
    }
    session.dirty = false;
    if reopen {
        session.begin_run().await?;
    }
    Ok(())
}

pub(super) async fn run_on_connection(
    connection: &mut Connection,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), SqlxJobError> {
    let started = Instant::now();
    if let Some((set_path, _)) = tables.set_search_path() {
        execute_text(connection, &set_path).await?;
    }
    // The row first, as not successful: a failure or a crash leaves it visible.
    let filename = match job.row {
        RowWrite::Insert { filename, .. } | RowWrite::Update { filename, .. } => {
            write_row(connection, tables, &job.row, None, false).await?;
            Some(filename)
        }
        RowWrite::Delete { .. } | RowWrite::SetChecksum { .. } => None,
    };
    for (index, statement) in job.statements.iter().enumerate() {
        execute_numbered(connection, index, statement.sql).await?;
    }
    let ms = elapsed_ms(started);
    match filename {
        Some(filename) => {
            let found = fetch_values(
                &mut *connection,
                &tables.find_row(),
                &[Value::Text(Some(filename))],
            )
            .await?;
            let order: Option<i64> = match found.first() {
                Some(row) => sqlx::Row::try_get(row, 0)?,
                None => None,
            };
            execute_values(
                &mut *connection,
                &tables.complete_row(),
                &[
                    Value::Integer(Some(ms)),
                    Value::Boolean(true),
                    Value::Integer(order),
                ],
            )
            .await?;
        }
        None => write_row(connection, tables, &job.row, None, true).await?,
    }
    Ok(())
}

pub(super) async fn run_job(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), SqlxJobError> {
    if job.transactional {
        run_in_transaction(session, tables, job).await
    } else {
        run_without_transaction(session, tables, job).await
    }
}
