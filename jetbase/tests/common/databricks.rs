//! The Databricks test databases: a fresh schema per test on the Databricks stand-in the test
//! script starts (the SQL Statement Execution API of `scripts/databricks_http_front.py` over a
//! local Spark SQL engine with Iceberg tables, exported as `JETBASE_TEST_DATABRICKS_URL`), and
//! `Query` for `DatabricksPool`.

use super::{Dialect, Query, TestDb, server_url, unique_name};
use jetbase::DatabricksPool;

/// `url` with its `schema` parameter replaced by `schema` (added if missing).
pub fn with_databricks_schema(url: &str, schema: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parameters: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("schema="))
        .map(str::to_owned)
        .collect();
    parameters.push(format!("schema={schema}"));
    format!("{base}?{}", parameters.join("&"))
}

/// `url` with its warehouse replaced: the stand-in chooses test behaviours by warehouse ID
/// (`unavailable-N-…`, `ratelimited-N-…`, `pending-…`).
pub fn with_databricks_warehouse(url: &str, warehouse: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let parameters: Vec<String> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("http_path=") {
                format!("http_path=/sql/1.0/warehouses/{warehouse}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", parameters.join("&"))
}

pub async fn databricks() -> TestDb<DatabricksPool> {
    let admin_url = server_url("JETBASE_TEST_DATABRICKS_URL");
    let name = unique_name();
    let admin = DatabricksPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    admin
        .execute(&format!("CREATE SCHEMA {name}"))
        .await
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    let url = with_databricks_schema(&admin_url, &name);
    let pool = DatabricksPool::connect(&url).await.unwrap();
    TestDb {
        pool,
        dialect: Dialect::Databricks,
        url,
        sqlite_path: None,
        pooler: jetbase::Pooler::None,
        nodes: Vec::new(),
        _dir: None,
    }
}

pub fn describe(error: &jetbase::Error) -> String {
    std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string)
}

impl Query for DatabricksPool {
    async fn exec(&self, sql: &str) {
        self.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
    }
    async fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql)
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }
    async fn count(&self, sql: &str) -> i64 {
        // A SHOW command cannot be a subquery: its rows are counted here.
        if sql.trim_start().to_ascii_uppercase().starts_with("SHOW ") {
            let rows = self
                .fetch_all(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
            return i64::try_from(rows.len()).unwrap();
        }
        let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM ({sql}) counted");
        let rows = self
            .fetch_all(&count_sql)
            .await
            .unwrap_or_else(|e| panic!("{count_sql}: {}", describe(&e)));
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }
    async fn strings(&self, sql: &str) -> Vec<String> {
        self.fetch_all(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
            .into_iter()
            .map(|row| row.into_iter().next().flatten().unwrap_or_default())
            .collect()
    }
    async fn new_pool(&self, url: &str) -> Self {
        DatabricksPool::connect(url).await.unwrap()
    }
    async fn single_connection_pool(&self, url: &str) -> Self {
        DatabricksPool::connect(url).await.unwrap()
    }
}
