//! The `jetbase` command against Python Jetbase 0.18.1 on the two warehouses, in one run,
//! contenders alternated and repeated, medians and ratios (whole commands, process start
//! included), with 100 migrations:
//!
//! - `upgrade` of all of them into a new database;
//! - `upgrade` of an up-to-date database (nothing to do);
//! - and the library's up-to-date check in-process (`Migrator::run` on an open pool), for scale.
//!
//! Snowflake is fakesnow (the protocol of Snowflake's connectors, on DuckDB), ClickHouse is the
//! engine of chdb behind the test script's HTTP front: local stand-ins, so the figures measure
//! the clients and their round trips, not a warehouse's own latency (a real one adds tens of
//! milliseconds per request, which favours the tool sending fewer).
//!
//! Needs JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES, JETBASE_TEST_SNOWFLAKE_URL and
//! JETBASE_TEST_CLICKHOUSE_URL: `bash scripts/bench.sh` provides them. JETBASE_BENCH_SIZES
//! (default `100`) changes the number of migrations, JETBASE_BENCH_WAREHOUSES (default
//! `snowflake,clickhouse`) the warehouses.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{report, required, run, sizes};

#[derive(Clone, Copy, PartialEq)]
enum Warehouse {
    Snowflake,
    ClickHouse,
}

impl Warehouse {
    fn label(self) -> &'static str {
        match self {
            Self::Snowflake => "Snowflake (fakesnow)",
            Self::ClickHouse => "ClickHouse (chdb)",
        }
    }

    /// One migration: a table and a row, and the rollback.
    fn migration(self, index: usize) -> String {
        let create = match self {
            Self::Snowflake => format!("CREATE TABLE t_{index} (id INTEGER, name VARCHAR(50));"),
            Self::ClickHouse => format!(
                "CREATE TABLE t_{index} (id Int32, name String) ENGINE = MergeTree ORDER BY id;"
            ),
        };
        format!(
            "-- upgrade\n{create}\nINSERT INTO t_{index} (id, name) VALUES ({index}, 'row {index}');\n\n\
             -- rollback\nDROP TABLE t_{index};\n"
        )
    }
}

struct Bench {
    jetbase: PathBuf,
    python: PathBuf,
    root: PathBuf,
    snowflake_url: String,
    clickhouse_url: String,
    runtime: tokio::runtime::Runtime,
    next: usize,
}

/// A new database, as jetbase and Python Jetbase spell its URL.
struct Database {
    jetbase: String,
    python: String,
}

impl Bench {
    fn write_project(&self, warehouse: Warehouse, migrations: usize) {
        let directory = self.root.join("jetbase/migrations");
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).expect("create the migrations directory");
        for index in 1..=migrations {
            std::fs::write(
                directory.join(format!("V{index}__table_{index}.sql")),
                warehouse.migration(index),
            )
            .expect("write a migration");
        }
    }

    fn database(&mut self, warehouse: Warehouse) -> Database {
        self.next += 1;
        let name = format!("JB_BENCH_{}_{}", std::process::id(), self.next);
        match warehouse {
            Warehouse::Snowflake => {
                // fakesnow creates the database at login.
                let (base, query) = self.snowflake_url.split_once('?').expect("a query part");
                let authority = base.rsplitn(3, '/').nth(2).expect("DATABASE/SCHEMA");
                let url = format!("{authority}/{name}/PUBLIC?{query}");
                Database {
                    jetbase: url.clone(),
                    python: url,
                }
            }
            Warehouse::ClickHouse => {
                let admin = self.runtime.block_on(async {
                    let admin = jetbase::ClickHousePool::connect(&self.clickhouse_url)
                        .await
                        .expect("connect to ClickHouse");
                    admin
                        .execute_outside_database(&format!("CREATE DATABASE {name}"))
                        .await
                        .expect("create a database");
                    admin
                });
                drop(admin);
                let base = self.clickhouse_url.rsplit_once('/').expect("a database").0;
                let url = format!("{base}/{name}");
                Database {
                    python: url.replacen("clickhouse://", "clickhouse+http://", 1),
                    jetbase: url,
                }
            }
        }
    }

    fn jetbase(&self, args: &[&str], database: &Database) -> Command {
        let mut command = Command::new(&self.jetbase);
        command
            .args(args)
            .current_dir(&self.root)
            .env("JETBASE_DATABASE_URL", &database.jetbase)
            .env("NO_COLOR", "1");
        command
    }

    fn python(&self, args: &[&str], database: &Database) -> Command {
        let mut command = Command::new(&self.python);
        command
            .args(args)
            .current_dir(self.root.join("jetbase"))
            .env("JETBASE_SQLALCHEMY_URL", &database.python)
            .env("SNOWFLAKE_SQLALCHEMY_LEGACY_URL_PARAMS", "true")
            .env("NO_COLOR", "1");
        command
    }
}

fn measure_upgrade(bench: &mut Bench, warehouse: Warehouse) -> Vec<(&'static str, Vec<Duration>)> {
    let mut rows = [
        ("jetbase upgrade", Vec::new()),
        ("Python Jetbase upgrade", Vec::new()),
    ];
    for round in 0..3 {
        for turn in 0..2 {
            let contender = (round + turn) % 2;
            let database = bench.database(warehouse);
            let mut command = if contender == 0 {
                bench.jetbase(&["upgrade"], &database)
            } else {
                bench.python(&["upgrade"], &database)
            };
            rows[contender].1.push(run(&mut command));
        }
    }
    rows.to_vec()
}

fn measure_up_to_date(
    bench: &mut Bench,
    warehouse: Warehouse,
) -> Vec<(&'static str, Vec<Duration>)> {
    let shared = bench.database(warehouse);
    run(&mut bench.jetbase(&["upgrade"], &shared));
    let mut rows = [
        ("jetbase upgrade", Vec::new()),
        ("Python Jetbase upgrade", Vec::new()),
        ("jetbase library, in-process", Vec::new()),
    ];
    for _ in 0..11 {
        rows[0]
            .1
            .push(run(&mut bench.jetbase(&["upgrade"], &shared)));
        rows[1]
            .1
            .push(run(&mut bench.python(&["upgrade"], &shared)));
    }
    // The same history either way: Python Jetbase agrees the jetbase-applied database is valid.
    run(&mut bench.python(&["validate-checksums"], &shared));
    let migrator = jetbase::Migrator::from_dir(bench.root.join("jetbase/migrations"))
        .expect("read the migrations");
    let in_process = bench.runtime.block_on(async {
        let pool = jetbase::AnyPool::connect(&shared.jetbase)
            .await
            .expect("connect");
        let mut samples = Vec::new();
        for _ in 0..21 {
            let started = Instant::now();
            let report = migrator.run(&pool).await.expect("an up-to-date run");
            samples.push(started.elapsed());
            assert!(report.migrations.is_empty());
        }
        samples
    });
    rows[2].1 = in_process;
    rows.to_vec()
}

fn main() {
    let sizes = sizes("JETBASE_BENCH_SIZES", "100");
    let mut bench = Bench {
        jetbase: PathBuf::from(env!("CARGO_BIN_EXE_jetbase")),
        python: required("JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES"),
        root: tempfile::tempdir().expect("a temporary directory").keep(),
        snowflake_url: required("JETBASE_TEST_SNOWFLAKE_URL")
            .to_string_lossy()
            .into_owned(),
        clickhouse_url: required("JETBASE_TEST_CLICKHOUSE_URL")
            .to_string_lossy()
            .into_owned(),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        next: 0,
    };
    let chosen = std::env::var("JETBASE_BENCH_WAREHOUSES")
        .unwrap_or_else(|_| "snowflake,clickhouse".to_owned());
    let warehouses: Vec<Warehouse> = [Warehouse::Snowflake, Warehouse::ClickHouse]
        .into_iter()
        .filter(|warehouse| {
            let name = match warehouse {
                Warehouse::Snowflake => "snowflake",
                Warehouse::ClickHouse => "clickhouse",
            };
            chosen.split(',').any(|item| item.trim() == name)
        })
        .collect();
    for &migrations in &sizes {
        for &warehouse in &warehouses {
            bench.write_project(warehouse, migrations);
            let label = warehouse.label();
            let upgrade = measure_upgrade(&mut bench, warehouse);
            report(
                &format!("upgrade of {migrations} migrations into a new database, {label}"),
                &upgrade,
            );
            let up_to_date = measure_up_to_date(&mut bench, warehouse);
            report(
                &format!("upgrade of an up-to-date database, {migrations} migrations, {label}"),
                &up_to_date,
            );
        }
    }
    let _ = std::fs::remove_dir_all(&bench.root);
}
