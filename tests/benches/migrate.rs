//! jetbase against its peers on 100, 1,000 and 10,000 single-statement migrations, on SQLite and
//! PostgreSQL, in one run, contenders alternated and repeated, medians and ratios, and how each
//! grows with the number of migrations:
//!
//! - the up-to-date check (every migration applied, nothing to do): jetbase `run` on sqlx 0.9's
//!   and on sqlx 0.8's pools vs `sqlx::migrate::Migrator::run` of sqlx 0.9 and of sqlx 0.8 (same
//!   SQL) vs refinery's `run_async` (PostgreSQL);
//! - applying all to an empty database: the same jetbase and sqlx contenders vs raw execution of
//!   the same SQL, each statement in its own transaction on one connection, with no bookkeeping
//!   (the floor).
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
    /// A new PostgreSQL database, its sqlx 0.9 pool and its URL.
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

    /// A new PostgreSQL database through sqlx 0.8.
    async fn postgres_0_8(&mut self) -> sqlx_0_8::PgPool {
        let (pool, url) = self.postgres().await;
        pool.close().await;
        sqlx_0_8::PgPool::connect(&url).await.expect("connect")
    }

    /// A new SQLite file's URL.
    fn sqlite_url(&mut self) -> String {
        self.next += 1;
        let path = self
            .sqlite_dir
            .path()
            .join(format!("bench_{}.db", self.next));
        format!("sqlite://{}?mode=rwc", path.display())
    }

    async fn sqlite(&mut self) -> SqlitePool {
        let url = self.sqlite_url();
        SqlitePool::connect(&url)
            .await
            .expect("open a benchmark SQLite file")
    }

    async fn sqlite_0_8(&mut self) -> sqlx_0_8::SqlitePool {
        let url = self.sqlite_url();
        sqlx_0_8::SqlitePool::connect(&url)
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

/// jetbase's up-to-date check: nothing to apply.
async fn up_to_date<D: jetbase::Database>(migrator: &jetbase::Migrator, pool: &D) {
    let report = migrator.run(pool).await.expect("jetbase check");
    assert!(report.migrations.is_empty());
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
    let sqlx_0_8_migrator = sqlx_0_8::migrate::Migrator::new(sqlx_dir.as_path())
        .await
        .expect("sqlx 0.8 migrations");
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
    let jetbase_pg_0_8 = databases.postgres_0_8().await;
    let (sqlx_pg, _) = databases.postgres().await;
    let sqlx_pg_0_8 = databases.postgres_0_8().await;
    let (_, refinery_url) = databases.postgres().await;
    let mut refinery_pg = refinery_client(&refinery_url).await;
    jetbase.run(&jetbase_pg).await.expect("jetbase applies");
    jetbase.run(&jetbase_pg_0_8).await.expect("jetbase applies");
    sqlx_migrator.run(&sqlx_pg).await.expect("sqlx applies");
    sqlx_0_8_migrator
        .run(&sqlx_pg_0_8)
        .await
        .expect("sqlx 0.8 applies");
    refinery_runner
        .run_async(&mut refinery_pg)
        .await
        .expect("refinery applies");
    let mut samples: [Vec<Duration>; 5] = Default::default();
    for _ in 0..rounds(migrations, CHECK_ROUNDS) {
        for (contender, times) in samples.iter_mut().enumerate() {
            let started = Instant::now();
            match contender {
                0 => up_to_date(&jetbase, &jetbase_pg).await,
                1 => up_to_date(&jetbase, &jetbase_pg_0_8).await,
                2 => sqlx_migrator.run(&sqlx_pg).await.expect("sqlx check"),
                3 => sqlx_0_8_migrator
                    .run(&sqlx_pg_0_8)
                    .await
                    .expect("sqlx 0.8 check"),
                _ => drop(
                    refinery_runner
                        .run_async(&mut refinery_pg)
                        .await
                        .expect("refinery check"),
                ),
            }
            times.push(started.elapsed());
        }
    }
    let [j, j8, s, s8, r] = samples;
    report(
        growth,
        migrations,
        "PostgreSQL, up-to-date check",
        &[
            ("jetbase", j),
            ("jetbase on sqlx 0.8", j8),
            ("sqlx 0.9", s),
            ("sqlx 0.8", s8),
            ("refinery", r),
        ],
    );

    let jetbase_sqlite = databases.sqlite().await;
    let jetbase_sqlite_0_8 = databases.sqlite_0_8().await;
    let sqlx_sqlite = databases.sqlite().await;
    let sqlx_sqlite_0_8 = databases.sqlite_0_8().await;
    jetbase.run(&jetbase_sqlite).await.expect("jetbase applies");
    jetbase
        .run(&jetbase_sqlite_0_8)
        .await
        .expect("jetbase applies");
    sqlx_migrator.run(&sqlx_sqlite).await.expect("sqlx applies");
    sqlx_0_8_migrator
        .run(&sqlx_sqlite_0_8)
        .await
        .expect("sqlx 0.8 applies");
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for _ in 0..rounds(migrations, CHECK_ROUNDS) {
        for (contender, times) in samples.iter_mut().enumerate() {
            let started = Instant::now();
            match contender {
                0 => up_to_date(&jetbase, &jetbase_sqlite).await,
                1 => up_to_date(&jetbase, &jetbase_sqlite_0_8).await,
                2 => sqlx_migrator.run(&sqlx_sqlite).await.expect("sqlx check"),
                _ => sqlx_0_8_migrator
                    .run(&sqlx_sqlite_0_8)
                    .await
                    .expect("sqlx 0.8 check"),
            }
            times.push(started.elapsed());
        }
    }
    let [j, j8, s, s8] = samples;
    report(
        growth,
        migrations,
        "SQLite, up-to-date check",
        &[
            ("jetbase", j),
            ("jetbase on sqlx 0.8", j8),
            ("sqlx 0.9", s),
            ("sqlx 0.8", s8),
        ],
    );

    // ---- apply all to an empty database ----
    // Each round starts with a different contender, so that none always runs first or last.
    let mut samples: [Vec<Duration>; 5] = Default::default();
    for round in 0..rounds(migrations, APPLY_ROUNDS) * 2 {
        for turn in 0..5 {
            let contender = (round + turn) % 5;
            let elapsed = match contender {
                0 | 2 | 4 => {
                    let (pool, _) = databases.postgres().await;
                    let started = Instant::now();
                    match contender {
                        0 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                        2 => sqlx_migrator.run(&pool).await.expect("sqlx applies"),
                        _ => raw_apply_postgres(&pool, migrations).await,
                    }
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
                _ => {
                    let pool = databases.postgres_0_8().await;
                    let started = Instant::now();
                    match contender {
                        1 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                        _ => sqlx_0_8_migrator
                            .run(&pool)
                            .await
                            .expect("sqlx 0.8 applies"),
                    }
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
            };
            samples[contender].push(elapsed);
        }
    }
    let [j, j8, s, s8, raw] = samples;
    report(
        growth,
        migrations,
        "PostgreSQL, apply all to an empty database",
        &[
            ("jetbase", j),
            ("jetbase on sqlx 0.8", j8),
            ("sqlx 0.9", s),
            ("sqlx 0.8", s8),
            ("raw (one transaction each)", raw),
        ],
    );

    let mut samples: [Vec<Duration>; 6] = Default::default();
    for round in 0..rounds(migrations, APPLY_ROUNDS) * 2 {
        for turn in 0..6 {
            let contender = (round + turn) % 6;
            let elapsed = match contender {
                1 | 3 => {
                    let pool = databases.sqlite_0_8().await;
                    let started = Instant::now();
                    match contender {
                        1 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                        _ => sqlx_0_8_migrator
                            .run(&pool)
                            .await
                            .expect("sqlx 0.8 applies"),
                    }
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
                _ => {
                    let pool = databases.sqlite().await;
                    let started = Instant::now();
                    match contender {
                        0 => drop(jetbase.run(&pool).await.expect("jetbase applies")),
                        2 => sqlx_migrator.run(&pool).await.expect("sqlx applies"),
                        4 => raw_apply_sqlite(&pool, migrations).await,
                        _ => raw_apply_sqlite_one_transaction(&pool, migrations).await,
                    }
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
            };
            samples[contender].push(elapsed);
        }
    }
    let [j, j8, s, s8, raw, raw_one] = samples;
    report(
        growth,
        migrations,
        "SQLite, apply all to an empty database",
        &[
            ("jetbase", j),
            ("jetbase on sqlx 0.8", j8),
            ("sqlx 0.9", s),
            ("sqlx 0.8", s8),
            ("raw (one transaction each)", raw),
            ("raw (one transaction for all)", raw_one),
        ],
    );
}
