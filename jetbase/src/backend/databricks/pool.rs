//! [`DatabricksPool`]: statements on a Databricks SQL warehouse over HTTP, and the [`Database`]
//! jetbase migrates.

use std::sync::Arc;
use std::time::Duration;

use jetbase_core::Dialect;

use super::api::{Client, DatabricksError};
use super::options::DatabricksOptions;
use crate::Error;
use crate::backend::row_first::{Bind, QueryResult, Statements, Warehouse};
use crate::backend::{BoxFuture, DatabaseError};

/// Databricks, for [`Migrator::run`](crate::Migrator::run) and the other calls (feature
/// `databricks`): statements go to a SQL warehouse through the SQL Statement Execution API.
/// Cheap to clone.
///
/// ```no_run
/// # async fn start() -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let pool = jetbase::DatabricksPool::connect(
///     "databricks://token:dapi123@adb-1234.5.azuredatabricks.net\
///      ?http_path=/sql/1.0/warehouses/abc123&catalog=main&schema=app",
/// )
/// .await?;
/// MIGRATOR.run(&pool).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DatabricksPool {
    client: Arc<Client>,
}

impl std::fmt::Debug for DatabricksPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options = self.client.options();
        f.debug_struct("DatabricksPool")
            .field("host", &options.base_url)
            .field("warehouse_id", &options.warehouse_id)
            .field("catalog", &options.catalog)
            .field("schema", &options.schema)
            .finish_non_exhaustive()
    }
}

impl DatabricksPool {
    /// Connects to `url`
    /// (`databricks://token:TOKEN@HOST?http_path=/sql/1.0/warehouses/ID&catalog=C&schema=S`;
    /// `protocol=http` to talk plain HTTP to a local stand-in). Without a token in the URL, the
    /// token is `JETBASE_DATABRICKS_TOKEN`'s. Runs `SELECT 1` on the warehouse, to fail here
    /// (a wrong token, host or warehouse) rather than later; a stopped warehouse is started by
    /// it, which may take minutes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a URL that cannot be read or no token,
    /// [`Error::Database`] when the warehouse cannot be reached or refuses the token.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_timeout(url, Duration::from_secs(30)).await
    }

    /// Like [`DatabricksPool::connect`], giving up connecting after `timeout`.
    ///
    /// # Errors
    ///
    /// As for [`DatabricksPool::connect`].
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        let token = std::env::var("JETBASE_DATABRICKS_TOKEN")
            .ok()
            .filter(|token| !token.is_empty());
        let options = DatabricksOptions::parse(url, token)?;
        let client = Client::new(options, timeout).map_err(Error::database("connecting"))?;
        let pool = Self {
            client: Arc::new(client),
        };
        pool.client.probe().await.map_err(Error::database(
            "connecting to the Databricks SQL warehouse",
        ))?;
        Ok(pool)
    }

    /// Runs one statement; the rows it inserted, updated, deleted or merged (0 for others).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with Databricks' message (its error class and SQLSTATE).
    pub async fn execute(&self, sql: &str) -> Result<u64, Error> {
        let result = self
            .client
            .execute(sql, &[])
            .await
            .map_err(Error::database("running a statement"))?;
        Ok(result.affected.unwrap_or(0))
    }

    /// Runs one query; its rows, each value as Databricks renders it in `JSON_ARRAY` results
    /// (`NULL` as `None`).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with Databricks' message.
    pub async fn fetch_all(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        self.client
            .execute(sql, &[])
            .await
            .map(|result| result.rows)
            .map_err(Error::database("running a query"))
    }
}

impl Statements for DatabricksPool {
    async fn run(&self, sql: &str, binds: &[Bind<'_>]) -> Result<QueryResult, DatabaseError> {
        self.client.execute(sql, binds).await
    }
}

/// Whether a write failed because a concurrent write to the same table committed first (Delta's
/// `DELTA_CONCURRENT_*` conflicts, SQLSTATE class 2D or 40001; Iceberg's failed validation).
fn is_write_conflict(error: &DatabaseError) -> bool {
    let Some(error) = error.downcast_ref::<DatabricksError>() else {
        return false;
    };
    let state = error.sql_state.as_deref().unwrap_or_default();
    state.starts_with("2D")
        || state == "40001"
        || error.message.contains("DELTA_CONCURRENT")
        || error.message.contains("Concurrent")
        || error.message.contains("Found conflicting")
        || error.message.contains("CommitFailedException")
}

impl Warehouse for DatabricksPool {
    const DIALECT: Dialect = Dialect::Databricks;
    const NAME: &'static str = "Databricks";

    /// A compare-and-set that loses to a concurrent writer fails (the table's commit conflict),
    /// which the lock counts as a lost race; the holder's own writes are tried again.
    fn is_write_conflict(&self, error: &DatabaseError) -> bool {
        is_write_conflict(error)
    }

    /// Nothing to close: every statement is its own request.
    fn close_pool(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::DatabaseErrorKind;

    #[test]
    fn write_conflicts_are_told_apart() {
        let conflict = |sql_state: Option<&str>, message: &str| {
            DatabaseError::new(
                DatabaseErrorKind::Query,
                DatabricksError {
                    error_code: Some("BAD_REQUEST".to_owned()),
                    sql_state: sql_state.map(str::to_owned),
                    message: message.to_owned(),
                },
            )
        };
        assert!(is_write_conflict(&conflict(
            Some("2D521"),
            "[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added"
        )));
        assert!(is_write_conflict(&conflict(
            None,
            "org.apache.iceberg.exceptions.ValidationException: Found conflicting files"
        )));
        assert!(!is_write_conflict(&conflict(
            Some("42P01"),
            "[TABLE_OR_VIEW_NOT_FOUND] The table or view `jetbase_lock` cannot be found."
        )));
    }
}
