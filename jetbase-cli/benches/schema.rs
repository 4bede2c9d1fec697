//! `jetbase schema` on a schema of a few hundred tables (a Lemmy-sized one and more): 300
//! PostgreSQL tables, each with five columns, a primary key, an index, a unique constraint and a
//! foreign key to the table before it. Timed side by side with `pg_dump --schema-only` (what a
//! PostgreSQL user runs to see a schema), whole commands with process start, median of 5.
//!
//! Needs JETBASE_TEST_POSTGRES_URL (an admin URL): `bash scripts/bench.sh` provides it.
//! JETBASE_BENCH_SCHEMA_TABLES (default 300) changes the number of tables.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{report, run};

const ROUNDS: usize = 5;

/// `pg_dump` on PATH, else the newest of Debian's PostgreSQL binaries.
fn pg_dump() -> PathBuf {
    if Command::new("pg_dump").arg("--version").output().is_ok() {
        return PathBuf::from("pg_dump");
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's binaries in /usr/lib/postgresql")
        .flatten()
        .map(|entry| entry.path().join("bin/pg_dump"))
        .filter(|path| path.is_file())
        .collect();
    found.sort();
    found.pop().expect("a pg_dump")
}

fn main() {
    let admin_url = std::env::var("JETBASE_TEST_POSTGRES_URL")
        .expect("JETBASE_TEST_POSTGRES_URL: run this benchmark through `bash scripts/bench.sh`");
    let tables: usize = std::env::var("JETBASE_BENCH_SCHEMA_TABLES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    let jetbase = PathBuf::from(env!("CARGO_BIN_EXE_jetbase"));
    let name = format!("jb_schema_bench_{}", std::process::id());
    let url = format!(
        "{}/{name}",
        &admin_url[..admin_url.rfind('/').expect("a URL")]
    );
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create the database");
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        let mut ddl = String::new();
        for index in 0..tables {
            let parent = if index == 0 {
                String::new()
            } else {
                format!(
                    ", parent_id BIGINT REFERENCES table_{:03} (id) ON DELETE CASCADE",
                    index - 1
                )
            };
            ddl.push_str(&format!(
                "CREATE TABLE table_{index:03} (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, \
                 slug VARCHAR(100) NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL DEFAULT now(), \
                 flag BOOLEAN DEFAULT false{parent});\n\
                 CREATE INDEX ix_table_{index:03}_name ON table_{index:03} (name);\n"
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
            .execute(&pool)
            .await
            .expect("create the tables");
        pool.close().await;
        admin.close().await;
    });
    let project = tempfile::tempdir().expect("a directory");
    std::fs::create_dir_all(project.path().join("jetbase/migrations")).expect("a project");
    let jetbase_command = |format: &str| {
        let mut command = Command::new(&jetbase);
        command
            .args(["schema", "--format", format])
            .current_dir(project.path())
            .env("JETBASE_DATABASE_URL", &url);
        command
    };
    // The diagram is checked once: every table in it.
    let diagram = jetbase_command("mermaid")
        .output()
        .expect("run jetbase schema");
    let text = String::from_utf8_lossy(&diagram.stdout);
    assert_eq!(text.matches(" {\n").count(), tables, "a block per table");
    let pg_dump = pg_dump();
    let mut rows: Vec<(&str, Vec<std::time::Duration>)> = vec![
        ("jetbase schema --format mermaid", Vec::new()),
        ("jetbase schema (text)", Vec::new()),
        ("pg_dump --schema-only", Vec::new()),
    ];
    for _ in 0..ROUNDS {
        rows[0].1.push(run(&mut jetbase_command("mermaid")));
        rows[1].1.push(run(&mut jetbase_command("text")));
        rows[2].1.push(run(Command::new(&pg_dump)
            .args(["--schema-only", "--no-owner", "-d"])
            .arg(&url)));
    }
    report(
        &format!("the live schema of {tables} PostgreSQL tables, median of {ROUNDS}"),
        &rows,
    );
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await;
    });
}
