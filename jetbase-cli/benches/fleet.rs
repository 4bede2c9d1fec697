//! Many tenants, one set of migrations: 500 PostgreSQL schemas × 20 migrations, from empty and
//! then up to date, in one run:
//!
//! - `jetbase upgrade --schemas-like 'tenant_%'` (one process, 4 tenants at once);
//! - a shell-style loop of `jetbase upgrade --schema X`, one process per tenant;
//! - a loop of Python Jetbase 0.18.1 with `JETBASE_POSTGRES_SCHEMA` per tenant, over the first
//!   JETBASE_BENCH_FLEET_PYTHON_TENANTS tenants (default 50), scaled to all of them (its
//!   per-process start-up dominates and is the same for every tenant);
//! - the peak memory (maximum resident set, `/usr/bin/time`) of the fleet command at 100 and at
//!   500 tenants.
//!
//! Needs JETBASE_TEST_POSTGRES_URL (an admin URL) and JETBASE_TEST_PYTHON_JETBASE:
//! `bash scripts/bench.sh` provides them. JETBASE_BENCH_FLEET_TENANTS (default 500) changes the
//! number of tenants.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{median, peak_memory_mib, required, run};

const MIGRATIONS: usize = 20;
const ROUNDS: usize = 3;

struct Bench {
    jetbase: PathBuf,
    python: PathBuf,
    root: PathBuf,
    admin_url: String,
    runtime: tokio::runtime::Runtime,
    next: usize,
}

impl Bench {
    fn write_project(&self) {
        let migrations = self.root.join("jetbase/migrations");
        std::fs::create_dir_all(&migrations).expect("create jetbase/migrations");
        for index in 1..=MIGRATIONS {
            std::fs::write(
                migrations.join(format!("V{index}__create_table_{index}.sql")),
                format!(
                    "-- upgrade\nCREATE TABLE table_{index} (id INTEGER PRIMARY KEY, \
                     name VARCHAR(50));\n\n-- rollback\nDROP TABLE table_{index};\n"
                ),
            )
            .expect("write a migration");
        }
    }

    /// A new database with `tenants` empty schemas `tenant_0000`, `tenant_0001`...: its URL.
    fn database(&mut self, tenants: usize) -> String {
        self.next += 1;
        let name = format!("jb_fleet_bench_{}_{}", std::process::id(), self.next);
        let admin = self.admin_url.clone();
        let url = format!("{}/{name}", &admin[..admin.rfind('/').expect("a URL")]);
        self.runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&admin)
                .await
                .expect("connect as admin");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create a database");
            pool.close().await;
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            let schemas: String = (0..tenants)
                .map(|tenant| format!("CREATE SCHEMA {};", schema(tenant)))
                .collect();
            sqlx::raw_sql(sqlx::AssertSqlSafe(schemas))
                .execute(&pool)
                .await
                .expect("create the schemas");
            pool.close().await;
        });
        url
    }

    fn jetbase(&self, url: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.jetbase);
        command
            .args(args)
            .current_dir(&self.root)
            .env("JETBASE_DATABASE_URL", url)
            .env("NO_COLOR", "1");
        command
    }

    /// Python Jetbase on one schema, from the `jetbase/` directory as it expects.
    fn python(&self, url: &str, schema: &str) -> Command {
        let mut command = Command::new(&self.python);
        command
            .arg("upgrade")
            .current_dir(self.root.join("jetbase"))
            .env(
                "JETBASE_SQLALCHEMY_URL",
                url.replacen("postgres://", "postgresql+psycopg2://", 1),
            )
            .env("JETBASE_POSTGRES_SCHEMA", schema)
            .env("NO_COLOR", "1");
        command
    }
}

fn schema(tenant: usize) -> String {
    format!("tenant_{tenant:04}")
}

/// One process per tenant, one after the other, as a shell loop runs them.
fn each_tenant(tenants: usize, command: impl Fn(&str) -> Command) -> Duration {
    let started = Instant::now();
    for tenant in 0..tenants {
        run(&mut command(&schema(tenant)));
    }
    started.elapsed()
}

fn print_row(name: &str, time: Duration, base: Duration) {
    println!(
        "  {name:<44} {:>10.1} ms   / jetbase fleet = {:.2}x",
        time.as_secs_f64() * 1000.0,
        time.as_secs_f64() / base.as_secs_f64()
    );
}

fn count(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let tenants = count("JETBASE_BENCH_FLEET_TENANTS", 500);
    let python_tenants = count("JETBASE_BENCH_FLEET_PYTHON_TENANTS", 50).min(tenants);
    let mut bench = Bench {
        jetbase: PathBuf::from(env!("CARGO_BIN_EXE_jetbase")),
        python: required("JETBASE_TEST_PYTHON_JETBASE"),
        root: tempfile::tempdir().expect("a temporary directory").keep(),
        admin_url: std::env::var("JETBASE_TEST_POSTGRES_URL")
            .expect("JETBASE_TEST_POSTGRES_URL is not set: run `bash scripts/bench.sh`"),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        next: 0,
    };
    bench.write_project();
    let fleet = ["upgrade", "--schemas-like", "tenant_%"];
    println!("\n==== {tenants} PostgreSQL schemas x {MIGRATIONS} migrations");

    // From empty: each contender on a database of its own.
    let fleet_url = bench.database(tenants);
    let fleet_apply = run(&mut bench.jetbase(&fleet_url, &fleet));
    let loop_url = bench.database(tenants);
    let loop_apply = each_tenant(tenants, |schema| {
        bench.jetbase(&loop_url, &["upgrade", "--schema", schema, "--lint", "off"])
    });
    let python_url = bench.database(python_tenants);
    let python_apply = each_tenant(python_tenants, |schema| bench.python(&python_url, schema))
        .mul_f64(tenants as f64 / python_tenants as f64);
    println!("\nupgrade from empty (every tenant gets {MIGRATIONS} migrations)");
    print_row(
        "jetbase upgrade --schemas-like (1 process)",
        fleet_apply,
        fleet_apply,
    );
    print_row(
        "loop of jetbase upgrade --schema X",
        loop_apply,
        fleet_apply,
    );
    print_row(
        &format!(
            "loop of Python Jetbase (x{} of {python_tenants})",
            tenants / python_tenants.max(1)
        ),
        python_apply,
        fleet_apply,
    );

    // Up to date: the same databases again, medians of a few rounds.
    let fleet_check = median(
        (0..ROUNDS)
            .map(|_| run(&mut bench.jetbase(&fleet_url, &fleet)))
            .collect(),
    );
    let loop_check = median(
        (0..ROUNDS)
            .map(|_| {
                each_tenant(tenants, |schema| {
                    bench.jetbase(&loop_url, &["upgrade", "--schema", schema])
                })
            })
            .collect(),
    );
    let python_check = each_tenant(python_tenants, |schema| bench.python(&python_url, schema))
        .mul_f64(tenants as f64 / python_tenants as f64);
    println!("\nupgrade when every tenant is up to date");
    print_row(
        "jetbase upgrade --schemas-like (1 process)",
        fleet_check,
        fleet_check,
    );
    print_row(
        "loop of jetbase upgrade --schema X",
        loop_check,
        fleet_check,
    );
    print_row(
        &format!(
            "loop of Python Jetbase (x{} of {python_tenants})",
            tenants / python_tenants.max(1)
        ),
        python_check,
        fleet_check,
    );

    // Memory: flat in the number of tenants.
    let small = 100.min(tenants);
    let small_url = bench.database(small);
    let small_apply = peak_memory_mib(&bench.jetbase(&small_url, &fleet));
    let small_check = peak_memory_mib(&bench.jetbase(&small_url, &fleet));
    let large_apply_url = bench.database(tenants);
    let large_apply = peak_memory_mib(&bench.jetbase(&large_apply_url, &fleet));
    let large_check = peak_memory_mib(&bench.jetbase(&fleet_url, &fleet));
    println!("\npeak memory of jetbase upgrade --schemas-like (maximum resident set)");
    println!("  {small} tenants: {small_apply:.1} MiB from empty, {small_check:.1} MiB up to date");
    println!(
        "  {tenants} tenants: {large_apply:.1} MiB from empty, {large_check:.1} MiB up to date"
    );
    let _ = std::fs::remove_dir_all(Path::new(&bench.root));
}
