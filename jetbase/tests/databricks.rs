//! What only the Databricks client does, against the stand-in of `scripts/test.sh` (the SQL
//! Statement Execution API over Spark SQL; see `scripts/databricks_http_front.py`): answers of
//! 503 and 429 tried again after their `Retry-After`, statements answered `PENDING` and polled,
//! and a failing statement reported with its error class, SQLSTATE and line. The stand-in picks
//! these behaviours by warehouse ID.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::databricks::{databricks, describe, with_databricks_warehouse};
use common::{Files, Query, unique_name};
use jetbase::{DatabricksPool, Error};

#[tokio::test]
async fn busy_answers_are_tried_again_after_retry_after() {
    let db = databricks().await;
    for (refusal, status) in [("unavailable", "503"), ("ratelimited", "429")] {
        // The first two requests naming this warehouse are refused with `Retry-After: 1`.
        let url = with_databricks_warehouse(&db.url, &format!("{refusal}-2-{}", unique_name()));
        let started = Instant::now();
        let pool = DatabricksPool::connect(&url).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{status}: the client waited out both Retry-After answers"
        );
        Files::new(&[("V1__t.sql", "CREATE TABLE t (id INT);")])
            .migrator()
            .run(&pool)
            .await
            .unwrap();
    }
    assert!(db.table_exists("t").await);

    // A warehouse that stays unavailable: the error says so, after a bounded number of tries.
    let url = with_databricks_warehouse(&db.url, &format!("unavailable-100-{}", unique_name()));
    let error = DatabricksPool::connect(&url).await.unwrap_err();
    let message = describe(&error);
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(message.contains("after 8 tries"), "{message}");
}

#[tokio::test]
async fn pending_statements_are_polled() {
    let db = databricks().await;
    // Every statement is first answered PENDING, whatever the wait timeout.
    let url = with_databricks_warehouse(&db.url, &format!("pending-{}", unique_name()));
    let pool = DatabricksPool::connect(&url).await.unwrap();
    let files = Files::new(&[
        (
            "V1__t.sql",
            "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1), (2);",
        ),
        ("V2__u.sql", "INSERT INTO t VALUES (3);"),
    ]);
    let report = files.migrator().run(&pool).await.unwrap();
    assert_eq!(report.migrations.len(), 2);
    assert_eq!(db.pool.count("SELECT id FROM t").await, 3);
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    assert!(db.lock_is_free().await);
}

#[tokio::test]
async fn a_failing_statement_names_its_error_class_sqlstate_and_line() {
    let db = databricks().await;
    let files = Files::new(&[(
        "V1__half.sql",
        "CREATE TABLE kept (id INT);\n\nINSERT INTO missing_table VALUES (1);\n-- rollback\nDROP TABLE kept;",
    )]);
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    let Error::MigrationFailed {
        filename,
        line,
        partially_applied,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!((filename.as_str(), *line), ("V1__half.sql", 3));
    assert!(*partially_applied, "the CREATE TABLE committed by itself");
    let message = describe(&error);
    assert!(message.contains("[TABLE_OR_VIEW_NOT_FOUND]"), "{message}");
    assert!(message.contains("42P01"), "{message}");
    assert!(error.to_string().contains("PARTIALLY APPLIED"), "{error}");
    // The row stays unfinished: the next upgrade stops at it, the lock is free.
    assert!(db.table_exists("kept").await);
    assert_eq!(
        db.pool
            .count("SELECT version FROM jetbase_migrations WHERE success = FALSE")
            .await,
        1
    );
    assert!(db.lock_is_free().await);
    let again = files.migrator().run(&db.pool).await.unwrap_err();
    assert!(again.to_string().contains("V1__half.sql"), "{again}");
}
