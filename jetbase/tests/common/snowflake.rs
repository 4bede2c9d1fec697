//! The Snowflake test databases: a fresh database per test on the Snowflake protocol server the
//! test script starts (`fakesnow`, exported as `JETBASE_TEST_SNOWFLAKE_URL`), and `Query` for
//! `SnowflakePool`.

use super::{Dialect, Query, TestDb, server_url, unique_name};
use jetbase::SnowflakePool;

/// `url` with its database (the path's first part) replaced: `/DB/SCHEMA` → `/name/SCHEMA`.
pub fn with_snowflake_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority_end = base.find("://").unwrap() + 3;
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let schema = base[path_start..]
        .split('/')
        .filter(|part| !part.is_empty())
        .nth(1)
        .unwrap_or("PUBLIC");
    format!("{}/{name}/{schema}?{query}", &base[..path_start])
}

pub async fn snowflake() -> TestDb<SnowflakePool> {
    let url = with_snowflake_database(
        &server_url("JETBASE_TEST_SNOWFLAKE_URL"),
        &unique_name().to_uppercase(),
    );
    let pool = SnowflakePool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    TestDb {
        pool,
        dialect: Dialect::Snowflake,
        url,
        sqlite_path: None,
        pooler: jetbase::Pooler::None,
        nodes: Vec::new(),
        _dir: None,
    }
}

impl Query for SnowflakePool {
    async fn exec(&self, sql: &str) {
        self.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", std::error::Error::source(&e)));
    }
    async fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql).await.map(|_| ()).map_err(|e| {
            std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string)
        })
    }
    async fn count(&self, sql: &str) -> i64 {
        let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM ({sql}) counted");
        let rows = self
            .fetch_all(&count_sql)
            .await
            .unwrap_or_else(|e| panic!("{count_sql}: {e}: {:?}", std::error::Error::source(&e)));
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }
    async fn strings(&self, sql: &str) -> Vec<String> {
        self.fetch_all(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", std::error::Error::source(&e)))
            .into_iter()
            .map(|row| row.into_iter().next().flatten().unwrap_or_default())
            .collect()
    }
    async fn new_pool(&self, url: &str) -> Self {
        SnowflakePool::connect(url).await.unwrap()
    }
    async fn single_connection_pool(&self, url: &str) -> Self {
        SnowflakePool::connect(url).await.unwrap()
    }
}
