//! The fast path: on an up-to-date database, `run` issues exactly one statement (the history
//! read): no lock, no DDL. Counted on the client from sqlx's own statement events on all three
//! databases, and on the server with `pg_stat_statements` on PostgreSQL.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Mutex, OnceLock};

use common::{Files, Query, TestDb};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The statements sqlx reported, while recording is on.
static STATEMENTS: Mutex<Option<Vec<String>>> = Mutex::new(None);
/// The tests of this binary share the recorder: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct StatementRecorder;

struct StatementText(String);

impl Visit for StatementText {
    /// sqlx gives the whole statement in `db.statement`, or leaves it empty when the
    /// statement is short enough to be its own `summary`.
    fn record_str(&mut self, field: &Field, value: &str) {
        let is_text = field.name() == "db.statement" || field.name() == "summary";
        if is_text && value.len() > self.0.len() {
            self.0 = value.to_owned();
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for StatementRecorder {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut text = StatementText(String::new());
        event.record(&mut text);
        if let Some(statements) = STATEMENTS.lock().unwrap().as_mut() {
            statements.push(text.0);
        }
    }
}

fn install_recorder() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(StatementRecorder),
        )
        .unwrap();
    });
}

/// The statements sqlx runs while `work` runs.
async fn record<F: std::future::Future<Output = ()>>(work: F) -> Vec<String> {
    *STATEMENTS.lock().unwrap() = Some(Vec::new());
    work.await;
    STATEMENTS.lock().unwrap().take().unwrap()
}

fn files() -> Files {
    Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INTEGER);"),
        ("V2__b.sql", "CREATE TABLE b (id INTEGER);"),
        // Not a view: the Databricks stand-in's Iceberg catalog has none.
        ("ROC__v.sql", "INSERT INTO a (id) VALUES (1);"),
    ])
}

/// `database_test!` for this binary: each test holds `ONE_AT_A_TIME` from before its database
/// is created, so that no other test's statements reach the recorder.
macro_rules! serial_database_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let _turn = super::ONE_AT_A_TIME.lock().await;
                super::$body(&crate::common::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let _turn = super::ONE_AT_A_TIME.lock().await;
                super::$body(&crate::common::postgres().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                let _turn = super::ONE_AT_A_TIME.lock().await;
                super::$body(&crate::common::mysql().await).await;
            }
            /// The same bodies with sqlx 0.8's pools.
            #[cfg(feature = "sqlx-0_8")]
            mod sqlx_0_8 {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let _turn = super::super::ONE_AT_A_TIME.lock().await;
                    super::super::$body(&crate::common::sqlx_0_8::sqlite().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let _turn = super::super::ONE_AT_A_TIME.lock().await;
                    super::super::$body(&crate::common::sqlx_0_8::postgres().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    let _turn = super::super::ONE_AT_A_TIME.lock().await;
                    super::super::$body(&crate::common::sqlx_0_8::mysql().await).await;
                }
            }
        }
    };
}

async fn up_to_date_run_is_one_statement<P: Query>(db: &TestDb<P>) {
    install_recorder();
    let migrator = files().migrator();
    // The first run does the work: several statements, including the lock and the DDL.
    let first =
        record(async { assert_eq!(migrator.run(&db.pool).await.unwrap().migrations.len(), 3) })
            .await;
    assert!(first.len() > 5, "{first:#?}");
    // The up-to-date run, on a pool of one connection that is already open (so that no
    // connection set-up statement is counted): exactly one read-only statement.
    let pool = db.pool.single_connection_pool(&db.url).await;
    assert_eq!(pool.count("SELECT 1 AS warm_up").await, 1);
    let second =
        record(async { assert!(migrator.run(&pool).await.unwrap().migrations.is_empty()) }).await;
    assert_eq!(second.len(), 1, "{second:#?}");
    assert!(second[0].trim_start().starts_with("SELECT"), "{second:#?}");
    assert!(second[0].contains("jetbase_migrations"), "{second:#?}");
    assert!(db.lock_is_free().await);
}
serial_database_test!(
    up_to_date_run_is_one_statement,
    up_to_date_run_is_one_statement
);

/// The server's own count, on PostgreSQL.
#[tokio::test]
async fn postgres_server_counts_one_statement() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = common::postgres().await;
    if db
        .pool
        .try_exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .is_err()
    {
        panic!(
            "pg_stat_statements is not available: scripts/test.sh preloads it (shared_preload_libraries)"
        );
    }
    let migrator = files().migrator();
    migrator.run(&db.pool).await.unwrap();
    // One connection, so that nothing else runs on the pool between reset and count.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .unwrap();
    sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(&pool)
        .await
        .unwrap();
    assert!(migrator.run(&pool).await.unwrap().migrations.is_empty());
    let calls: Vec<(String, i64)> = sqlx::query_as(
        "SELECT query, calls FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query NOT LIKE '%pg_stat_statements%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let total: i64 = calls.iter().map(|(_, calls)| calls).sum();
    assert_eq!(total, 1, "{calls:#?}");
    assert!(calls[0].0.contains("jetbase_migrations"), "{calls:#?}");
}

/// The warehouses: the up-to-date run is one query request over the wire, counted by a proxy
/// between the pool and the server (every statement is one HTTP request: `POST
/// /queries/v1/query-request` on Snowflake, `POST /?...` on ClickHouse, `POST
/// /api/2.0/sql/statements` on Databricks).
#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
async fn up_to_date_run_is_one_request<P: Query>(db: &TestDb<P>, request_line: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let migrator = files().migrator();
    assert_eq!(migrator.run(&db.pool).await.unwrap().migrations.len(), 3);

    // A proxy that counts the query requests passing through it.
    let (credentials, rest) = db.url.split_once('@').unwrap();
    let (server, tail) = rest.split_at(rest.find(['/', '?']).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("{credentials}@{}{tail}", listener.local_addr().unwrap());
    let server = server.to_owned();
    let request_line = request_line.to_owned();
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&queries);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut upstream = tokio::net::TcpStream::connect(&server).await.unwrap();
            let counter = Arc::clone(&counter);
            let request_line = request_line.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.split();
                let (mut upstream_read, mut upstream_write) = upstream.split();
                let requests = async {
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        let read = client_read.read(&mut buffer).await.unwrap_or(0);
                        if read == 0 {
                            break;
                        }
                        let text = String::from_utf8_lossy(&buffer[..read]);
                        counter.fetch_add(
                            text.matches(request_line.as_str()).count(),
                            Ordering::SeqCst,
                        );
                        if upstream_write.write_all(&buffer[..read]).await.is_err() {
                            break;
                        }
                    }
                };
                let responses = tokio::io::copy(&mut upstream_read, &mut client_write);
                let _ = tokio::join!(requests, responses);
            });
        }
    });
    let pool = jetbase::AnyPool::connect(&proxy_url).await.unwrap();
    queries.store(0, Ordering::SeqCst);
    assert!(migrator.run(&pool).await.unwrap().migrations.is_empty());
    assert_eq!(queries.load(Ordering::SeqCst), 1, "one query request");
    assert!(db.lock_is_free().await);
}

#[cfg(feature = "snowflake")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snowflake_up_to_date_run_is_one_request() {
    let db = common::snowflake().await;
    up_to_date_run_is_one_request(&db, "POST /queries/v1/query-request").await;
}

#[cfg(feature = "clickhouse")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_up_to_date_run_is_one_request() {
    let db = common::clickhouse().await;
    up_to_date_run_is_one_request(&db, "POST /?").await;
}

#[cfg(feature = "databricks")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databricks_up_to_date_run_is_one_request() {
    let db = common::databricks().await;
    up_to_date_run_is_one_request(&db, "POST /api/2.0/sql/statements HTTP").await;
}
