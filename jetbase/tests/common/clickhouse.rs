//! The ClickHouse test databases: a fresh database per test on the ClickHouse the test script
//! starts (the engine of chdb behind the HTTP front in `scripts/clickhouse_http_front.py`,
//! exported as `JETBASE_TEST_CLICKHOUSE_URL`), and `Query` for `ClickHousePool`.

use super::{Dialect, Query, TestDb, server_url, unique_name, with_database};
use jetbase::ClickHousePool;

pub async fn clickhouse() -> TestDb<ClickHousePool> {
    let admin_url = server_url("JETBASE_TEST_CLICKHOUSE_URL");
    let name = unique_name();
    let admin = ClickHousePool::connect(&admin_url).await.unwrap();
    admin
        .execute_outside_database(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = with_database(&admin_url, &name);
    let pool = ClickHousePool::connect(&url).await.unwrap();
    TestDb {
        pool,
        dialect: Dialect::ClickHouse,
        url,
        sqlite_path: None,
        pooler: jetbase::Pooler::None,
        nodes: Vec::new(),
        _dir: None,
    }
}

fn describe(error: &jetbase::Error) -> String {
    std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string)
}

impl Query for ClickHousePool {
    async fn exec(&self, sql: &str) {
        self.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
    }
    async fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.execute(sql).await.map_err(|e| describe(&e))
    }
    async fn count(&self, sql: &str) -> i64 {
        let count_sql = format!("SELECT CAST(COUNT(*) AS Int64) FROM ({sql}) counted");
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
        ClickHousePool::connect(url).await.unwrap()
    }
    async fn single_connection_pool(&self, url: &str) -> Self {
        ClickHousePool::connect(url).await.unwrap()
    }
}
