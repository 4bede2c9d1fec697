//! jetbase against its peers on 100, 1,000 and 10,000 single-statement migrations, on SQLite and
//! PostgreSQL, in one run, contenders alternated and repeated, medians and ratios, and how each
//! grows with the number of migrations:
//!
//! - the up-to-date check (every migration applied, nothing to do): jetbase `run` vs
//!   `sqlx::migrate::Migrator::run` (same SQL) vs refinery's `run_async` (PostgreSQL);
//! - applying all 1,000 to an empty database: jetbase vs sqlx vs raw execution of the same SQL,
//!   each statement in its own transaction on one connection, with no bookkeeping (the floor).
//!
//! Needs JETBASE_TEST_POSTGRES_URL (an admin URL): `bash scripts/bench.sh` starts a server and
//! runs this with the other benchmarks. JETBASE_BENCH_SIZES (default `100,1000,10000`) narrows a
//! run.

use std::path::Path;
use std::time::{Duration, Instant};

use jetbase_tests::bench::{Growth, median, sizes};
use sqlx::{PgPool, SqlitePool};

const CHECK_ROUNDS: usize = 31;
const APPLY_ROUNDS: usize = 3;

/// Fewer rounds for the largest runs.
fn rounds(migrations: usize, rounds: usize) -> usize {
    if migrations >= 10_000 {
        rounds.div_ceil(3).max(1)
    } else {
        rounds
    }
}

fn statement(index: usize) -> String {
    format!("CREATE TABLE bench_{index} (id INTEGER PRIMARY KEY, name VARCHAR(50))")
}

/// The same SQL as jetbase files (`V<n>__...`) and as sqlx files (`<n>_....sql`).
fn write_files(jetbase: &Path, sqlx: &Path, migrations: usize) {
    for index in 1..=migrations {
        let sql = format!("{};\n", statement(index));
        std::fs::write(
            jetbase.join(format!("V{index}__create_bench_{index}.sql")),
            &sql,
        )
        .expect("write a jetbase file");
        std::fs::write(sqlx.join(format!("{index}_create_bench_{index}.sql")), &sql)
            .expect("write a sqlx file");
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Prints the medians of one comparison, each with its ratio to the first contender, and records
/// them in `growth`.
fn report(growth: &mut Growth, size: usize, title: &str, rows: &[(&str, Vec<Duration>)]) {
    growth.record(title, size, rows);
    println!("\n{title}");
    let base = median(rows[0].1.clone());
    for (name, samples) in rows {
        let time = median(samples.clone());
        println!(
            "  {name:<34} {:>10.3} ms   jetbase/{name} = {:.2}x",
            ms(time),
            base.as_secs_f64() / time.as_secs_f64()
        );
    }
}

struct Databases {
    admin: PgPool,
    admin_url: String,
    sqlite_dir: tempfile::TempDir,
    next: usize,
}

impl Databases {
    async fn postgres(&mut self) -> (PgPool, String) {
        self.next += 1;
        let name = format!("jb_bench_{}_{}", std::process::id(), self.next);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&self.admin)
            .await
            .expect("create a benchmark database");
        let slash = self.admin_url.rfind('/').expect("a database URL");
        let url = format!("{}/{name}", &self.admin_url[..slash]);
        (PgPool::connect(&url).await.expect("connect"), url)
    }

    async fn sqlite(&mut self) -> SqlitePool {
        self.next += 1;
        let path = self
            .sqlite_dir
            .path()
            .join(format!("bench_{}.db", self.next));
        SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("open a benchmark SQLite file")
    }
}

/// The floor: the same statements, each in its own transaction, no bookkeeping, on one
/// connection (as jetbase and sqlx use one connection for a run).
macro_rules! raw_apply {
    ($name:ident, $pool:ty) => {
        async fn $name(pool: &$pool, migrations: usize) {
            let mut connection = pool.acquire().await.expect("a connection");
            for index in 1..=migrations {
                let mut transaction = sqlx::Connection::begin(&mut *connection)
                    .await
                    .expect("begin");
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement(index)))
                    .execute(&mut *transaction)
                    .await
                    .expect("raw statement");
                transaction.commit().await.expect("commit");
            }
        }
    };
}
raw_apply!(raw_apply_postgres, PgPool);
raw_apply!(raw_apply_sqlite, SqlitePool);

/// SQLite's floor for jetbase, which applies a run in one transaction (a savepoint per
/// migration): the same statements in one transaction, no bookkeeping.
async fn raw_apply_sqlite_one_transaction(pool: &SqlitePool, migrations: usize) {
    let mut transaction = pool.begin().await.expect("begin");
    for index in 1..=migrations {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement(index)))
            .execute(&mut *transaction)
            .await
            .expect("raw statement");
    }
    transaction.commit().await.expect("commit");
}

async fn refinery_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("tokio-postgres connect");
    tokio::spawn(connection);
    client
}

#[tokio::main]
async fn main() {
    let Ok(admin_url) = std::env::var("JETBASE_TEST_POSTGRES_URL") else {
        eprintln!("JETBASE_TEST_POSTGRES_URL is not set: run `bash scripts/bench.sh`");
        std::process::exit(1);
    };
    let mut databases = Databases {
        admin: PgPool::connect(&admin_url)
            .await
            .expect("connect to the admin database"),
        admin_url,
        sqlite_dir: tempfile::tempdir().expect("a temporary directory"),
        next: 0,
    };
    let mut growth = Growth::default();
    for migrations in sizes("JETBASE_BENCH_SIZES", "100,1000,10000") {
        compare(&mut databases, migrations, &mut growth).await;
    }
    growth.print();
}

/// Every comparison at one size, printed and recorded in `growth`.
async fn compare(databases: &mut Databases, migrations: usize, growth: &mut Growth) {
    let files = tempfile::tempdir().expect("a temporary directory");
    let (jetbase_dir, sqlx_dir) = (files.path().join("jetbase"), files.path().join("sqlx"));
    std::fs::create_dir_all(&jetbase_dir).expect("mkdir");
    std::fs::create_dir_all(&sqlx_dir).expect("mkdir");
    write_files(&jetbase_dir, &sqlx_dir, migrations);
    let jetbase = jetbase::Migrator::from_dir(&jetbase_dir).expect("jetbase migrations");
    let sqlx_migrator = sqlx::migrate::Migrator::new(sqlx_dir.as_path())
        .await
        .expect("sqlx migrations");
    let refinery_migrations: Vec<refinery::Migration> = (1..=migrations)
        .map(|index| {
            refinery::Migration::unapplied(
                &format!("V{index}__create_bench_{index}"),
                &statement(index),
            )
            .expect("a refinery migration")
        })
        .collect();
    let refinery_runner = refinery::Runner::new(&refinery_migrations);
    println!("\n==== {migrations} single-statement migrations; medians of alternated rounds");
    // ---- up-to-date check ----
    let (jetbase_pg, _) = databases.postgres().await;
    let (sqlx_pg, _) = databases.postgres().await;
    let (_, refinery_url) = databases.postgres().await;
    let mut refinery_pg = refinery_client(&refinery_url).await;
    jetbase.run(&jetbase_pg).await.expect("jetbase applies");
    sqlx_migrator.run(&sqlx_pg).await.expect("sqlx applies");
    refinery_runner
        .run_async(&mut refinery_pg)
        .await
        .expect("refinery applies");
    let (mut j, mut s, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds(migrations, CHECK_ROUNDS) {
        let started = Instant::now();
        assert!(
            jetbase
                .run(&jetbase_pg)
                .await
                .expect("jetbase check")
                .migrations
                .is_empty()
        );
        j.push(started.elapsed());
        let started = Instant::now();
        sqlx_migrator.run(&sqlx_pg).await.expect("sqlx check");
        s.push(started.elapsed());
        let started = Instant::now();
        refinery_runner
            .run_async(&mut refinery_pg)
            .await
            .expect("refinery check");
        r.push(started.elapsed());
    }
    report(
        growth,
        migrations,
        "PostgreSQL, up-to-date check",
        &[("jetbase", j), ("sqlx", s), ("refinery", r)],
    );

    let jetbase_sqlite = databases.sqlite().await;
    let sqlx_sqlite = databases.sqlite().await;
    jetbase.run(&jetbase_sqlite).await.expect("jetbase applies");
    sqlx_migrator.run(&sqlx_sqlite).await.expect("sqlx applies");
    let (mut j, mut s) = (Vec::new(), Vec::new());
    for _ in 0..rounds(migrations, CHECK_ROUNDS) {
        let started = Instant::now();
        assert!(
            jetbase
                .run(&jetbase_sqlite)
                .await
                .expect("jetbase check")
                .migrations
                .is_empty()
        );
        j.push(started.elapsed());
        let started = Instant::now();
        sqlx_migrator.run(&sqlx_sqlite).await.expect("sqlx check");
        s.push(started.elapsed());
    }
    report(
        growth,
        migrations,
        "SQLite, up-to-date check",
        &[("jetbase", j), ("sqlx", s)],
    );

    // ---- apply all to an empty database ----
    // Each round starts with a different contender, so that none always runs first or last.
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for round in 0..rounds(migrations, APPLY_ROUNDS) * 2 {
        for turn in 0..3 {
            let contender = (round + turn) % 3;
            let (pool, _) = databases.postgres().await;
            let started = Instant::now();
            match contender {
                0 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                1 => sqlx_migrator.run(&pool).await.expect("sqlx applies"),
                _ => raw_apply_postgres(&pool, migrations).await,
            }
            samples[contender].push(started.elapsed());
            pool.close().await;
        }
    }
    let [j, s, raw] = samples;
    report(
        growth,
        migrations,
        "PostgreSQL, apply all to an empty database",
        &[
            ("jetbase", j),
            ("sqlx", s),
            ("raw (one transaction each)", raw),
        ],
    );

    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in 0..rounds(migrations, APPLY_ROUNDS) * 2 {
        for turn in 0..4 {
            let contender = (round + turn) % 4;
            let pool = databases.sqlite().await;
            let started = Instant::now();
            match contender {
                0 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                1 => sqlx_migrator.run(&pool).await.expect("sqlx applies"),
                2 => raw_apply_sqlite(&pool, migrations).await,
                _ => raw_apply_sqlite_one_transaction(&pool, migrations).await,
            }
            samples[contender].push(started.elapsed());
            pool.close().await;
        }
    }
    let [j, s, raw, raw_one] = samples;
    report(
        growth,
        migrations,
        "SQLite, apply all to an empty database",
        &[
            ("jetbase", j),
            ("sqlx", s),
            ("raw (one transaction each)", raw),
            ("raw (one transaction for all)", raw_one),
        ],
    );
}
