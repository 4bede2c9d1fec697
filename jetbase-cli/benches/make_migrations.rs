//! `jetbase make-migrations` on 200 models with 2,000 columns on PostgreSQL, whole command
//! (process start, discovery by parsing the source, connection, introspection, diff, render),
//! beside `pg_dump --schema-only` of the same database (a tool reading the same catalogs); plus
//! the library's introspection and generation alone. Contenders alternated, medians and ratios.
//!
//! Needs JETBASE_TEST_POSTGRES_URL (an admin URL) and JETBASE_BENCH_PG_DUMP (the server's
//! `pg_dump`): `bash scripts/bench.sh` starts the server and runs this with the other benchmarks.

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jetbase::schema::{Schema, generate, introspect};
use support::{median, report, required, run, run_expecting};

const FILES: usize = 20;
const MODELS_PER_FILE: usize = 10;
const ROUNDS: usize = 11;

/// Model `n`: ten columns, a unique and an index, a key to model `n - 1`, every fifth model a
/// composite index.
fn model(n: usize) -> String {
    let mut text = String::from("#[derive(Debug, jetbase::Model)]\n");
    if n.is_multiple_of(5) {
        text.push_str("#[jetbase(index(columns = \"name, count\"))]\n");
    }
    let _ = write!(
        text,
        "pub struct Table{n} {{\n    #[jetbase(primary_key)]\n    pub id: i64,\n"
    );
    if n > 0 {
        let _ = writeln!(
            text,
            "    #[jetbase(references = \"table{}.id\", on_delete = \"cascade\", index)]",
            n - 1
        );
    } else {
        text.push_str("    #[jetbase(index)]\n");
    }
    text.push_str(
        "    pub parent_id: Option<i64>,
    #[jetbase(max_length = 100, unique)]
    pub name: String,
    pub title: Option<String>,
    #[jetbase(default = \"0\")]
    pub count: i32,
    #[jetbase(default = \"true\")]
    pub active: bool,
    pub score: f64,
    pub created: chrono::NaiveDateTime,
    pub payload: Option<Vec<u8>>,
    pub note: String,
}\n\n",
    );
    text
}

fn write_project(root: &Path) {
    std::fs::create_dir_all(root.join("jetbase/migrations")).expect("create migrations/");
    std::fs::create_dir_all(root.join("src/models")).expect("create src/models/");
    for file in 0..FILES {
        let text: String = (0..MODELS_PER_FILE)
            .map(|at| model(file * MODELS_PER_FILE + at))
            .collect();
        std::fs::write(root.join(format!("src/models/models_{file:02}.rs")), text)
            .expect("write a models file");
    }
}

fn with_database(admin: &str, name: &str) -> String {
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

fn time<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let value = work();
    (started.elapsed(), value)
}

fn main() {
    let admin_url = std::env::var("JETBASE_TEST_POSTGRES_URL")
        .expect("JETBASE_TEST_POSTGRES_URL is not set: run this through `bash scripts/bench.sh`");
    let pg_dump = required("JETBASE_BENCH_PG_DUMP");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let name = format!("jb_bench_models_{}", std::process::id());
    let url = with_database(&admin_url, &name);
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect as admin");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create the database");
    });
    let root = tempfile::tempdir().expect("a temporary directory");
    write_project(root.path());
    let jetbase = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jetbase"));
        command
            .args(args)
            .current_dir(root.path())
            .env("JETBASE_DATABASE_URL", &url);
        command
    };
    let models = FILES * MODELS_PER_FILE;

    // An empty database: every table to create (exit 1: they differ).
    let mut empty = [("jetbase make-migrations --check", Vec::new())];
    for _ in 0..ROUNDS {
        empty[0].1.push(run_expecting(
            &mut jetbase(&["make-migrations", "--check"]),
            1,
        ));
    }
    report(
        &format!(
            "make-migrations, {models} models / {} columns, empty PostgreSQL database (median of {ROUNDS})",
            models * 10
        ),
        &empty,
    );

    run(&mut jetbase(&["make-migrations", "-d", "all models"]));
    run(&mut jetbase(&["upgrade"]));

    // Up to date: all 200 tables read back and compared (exit 0: no change).
    let mut up_to_date = [
        ("jetbase make-migrations --check", Vec::new()),
        ("pg_dump --schema-only", Vec::new()),
    ];
    for _ in 0..ROUNDS {
        up_to_date[0]
            .1
            .push(run(&mut jetbase(&["make-migrations", "--check"])));
        up_to_date[1].1.push(run(Command::new(&pg_dump)
            .args(["--schema-only", "--no-owner", "-d", &url])
            .stdout(Stdio::null())));
    }
    report(
        &format!("make-migrations, {models} models applied, PostgreSQL (median of {ROUNDS})"),
        &up_to_date,
    );

    // The library alone: introspection of the 200 tables, and generation against them and
    // against an empty database.
    let (introspect_times, generate_times, create_times) = runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.expect("connect");
        let mut introspect_times = Vec::new();
        let mut actual = Schema::default();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            actual = introspect(&pool).await.expect("introspect");
            introspect_times.push(started.elapsed());
        }
        assert_eq!(actual.tables.len(), models);
        let target = actual.clone();
        let mut generate_times = Vec::new();
        let mut create_times = Vec::new();
        for _ in 0..ROUNDS {
            let (took, generated) = time(|| generate(&target, &actual, jetbase::Dialect::Postgres));
            assert!(generated.expect("generate").is_empty());
            generate_times.push(took);
            let (took, generated) =
                time(|| generate(&target, &Schema::default(), jetbase::Dialect::Postgres));
            assert!(generated.expect("generate").upgrade.len() > models);
            create_times.push(took);
        }
        pool.close().await;
        (introspect_times, generate_times, create_times)
    });
    println!("\nthe library alone, {models} tables (median of {ROUNDS})");
    for (what, samples) in [
        ("introspect (3 catalog queries)", introspect_times),
        ("generate, nothing to change", generate_times),
        ("generate, all to create", create_times),
    ] {
        println!(
            "  {what:<32} {:>8.2} ms",
            median(samples).as_secs_f64() * 1000.0
        );
    }

    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect as admin");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await;
    });
}
