//! The `jetbase` command against its peers, on SQLite and PostgreSQL, with 100, 1,000 and 10,000
//! migrations, in one run, contenders alternated and repeated, medians and ratios (whole
//! commands, process start included):
//!
//! - `status` with every migration applied: `jetbase status` vs Python Jetbase 0.18.1's `jetbase
//!   status` (same database) vs `sqlx migrate info` (the same SQL as sqlx files, applied by
//!   `sqlx migrate run`);
//! - `upgrade` of all of them into a new database: `jetbase upgrade` vs Python Jetbase's vs
//!   `sqlx migrate run`;
//! - `current` with every migration applied: `jetbase current` vs Python Jetbase's `jetbase
//!   current` (same database; sqlx-cli has no such command);
//! - how each grows with the number of migrations, and the peak memory (maximum resident set, from
//!   `/usr/bin/time`) of each command at the largest size.
//!
//! With JETBASE_BENCH_BASELINE_JETBASE (the path of another `jetbase` binary, e.g. a release
//! build of an earlier commit), that build runs too, alternated with this one: a change's cost
//! measured side by side in one run.
//!
//! Needs JETBASE_TEST_PYTHON_JETBASE (Python Jetbase's `jetbase` script), JETBASE_BENCH_SQLX_CLI
//! (sqlx-cli 0.8 with SQLite and PostgreSQL) and JETBASE_TEST_POSTGRES_URL (an admin URL):
//! `bash scripts/bench.sh` provides them. JETBASE_BENCH_SIZES (default `100,1000,10000`) and
//! JETBASE_BENCH_DATABASES (default `sqlite,postgres`) narrow a run.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::{Growth, peak_memory_mib, report, required, run, sizes};

/// Where one contender's database is.
#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Sqlite,
    Postgres,
}

struct Bench {
    jetbase: PathBuf,
    /// Another build of `jetbase` measured beside this one, when given.
    baseline: Option<PathBuf>,
    python: PathBuf,
    sqlx: PathBuf,
    /// `<root>/jetbase/migrations` for jetbase and Python Jetbase, `<root>/sqlx` for sqlx.
    root: PathBuf,
    admin_url: String,
    runtime: tokio::runtime::Runtime,
    next: usize,
}

/// Who runs a command.
#[derive(Clone, Copy)]
enum Contender {
    Jetbase,
    Baseline,
    Python,
    Sqlx,
}

impl Contender {
    fn label(self, command: &str) -> &'static str {
        match (self, command) {
            (Self::Jetbase, "status") => "jetbase status",
            (Self::Jetbase, "current") => "jetbase current",
            (Self::Jetbase, _) => "jetbase upgrade",
            (Self::Baseline, "status") => "jetbase status (baseline build)",
            (Self::Baseline, "current") => "jetbase current (baseline build)",
            (Self::Baseline, _) => "jetbase upgrade (baseline build)",
            (Self::Python, "status") => "Python Jetbase status",
            (Self::Python, "current") => "Python Jetbase current",
            (Self::Python, _) => "Python Jetbase upgrade",
            (Self::Sqlx, "status" | "current") => "sqlx migrate info",
            (Self::Sqlx, _) => "sqlx migrate run",
        }
    }
}

/// A database for one contender: its URL as jetbase, Python Jetbase and sqlx-cli spell it.
struct Database {
    jetbase: String,
    python: String,
    sqlx: String,
}

impl Bench {
    fn write_project(&self, migrations: usize) {
        let jetbase = self.root.join("jetbase/migrations");
        let sqlx = self.root.join("sqlx");
        for directory in [&jetbase, &sqlx] {
            let _ = std::fs::remove_dir_all(directory);
            std::fs::create_dir_all(directory).expect("create a migrations directory");
        }
        for index in 1..=migrations {
            let create =
                format!("CREATE TABLE bench_{index} (id INTEGER PRIMARY KEY, name VARCHAR(50));");
            std::fs::write(
                jetbase.join(format!("V{index}__create_bench_{index}.sql")),
                format!("-- upgrade\n{create}\n\n-- rollback\nDROP TABLE bench_{index};\n"),
            )
            .expect("write a jetbase file");
            std::fs::write(
                sqlx.join(format!("{index}_create_bench_{index}.sql")),
                format!("{create}\n"),
            )
            .expect("write a sqlx file");
        }
    }

    /// A new, empty database.
    fn database(&mut self, engine: Engine) -> Database {
        self.next += 1;
        let name = format!("jb_cli_bench_{}_{}", std::process::id(), self.next);
        match engine {
            Engine::Sqlite => Database {
                // jetbase and Python Jetbase resolve `sqlite:///x` against `jetbase/`.
                jetbase: format!("sqlite:///{name}.db"),
                python: format!("sqlite:///{name}.db"),
                sqlx: format!("sqlite://{}/{name}.db?mode=rwc", self.root.display()),
            },
            Engine::Postgres => {
                let admin = self.admin_url.clone();
                self.runtime.block_on(async {
                    let pool = sqlx::PgPool::connect(&admin)
                        .await
                        .expect("connect as admin");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&pool)
                        .await
                        .expect("create a database");
                    pool.close().await;
                });
                let url = format!("{}/{name}", &admin[..admin.rfind('/').expect("a URL")]);
                Database {
                    jetbase: url.clone(),
                    python: url.replacen("postgres://", "postgresql+psycopg2://", 1),
                    sqlx: url,
                }
            }
        }
    }

    fn jetbase(&self, args: &[&str], database: &Database) -> Command {
        self.jetbase_build(&self.jetbase, args, database)
    }

    /// `jetbase args` with the binary at `binary` (this build or the baseline).
    fn jetbase_build(&self, binary: &PathBuf, args: &[&str], database: &Database) -> Command {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(&self.root)
            .env("JETBASE_DATABASE_URL", &database.jetbase)
            .env("NO_COLOR", "1");
        command
    }

    /// Python Jetbase, run from the `jetbase/` directory as it expects.
    fn python(&self, args: &[&str], database: &Database) -> Command {
        let mut command = Command::new(&self.python);
        command
            .args(args)
            .current_dir(self.root.join("jetbase"))
            .env("JETBASE_SQLALCHEMY_URL", &database.python)
            .env("NO_COLOR", "1");
        command
    }

    /// The contenders of one measurement, in order: this build, the baseline build when given,
    /// Python Jetbase, sqlx-cli.
    fn contenders(&self) -> Vec<Contender> {
        let mut contenders = vec![Contender::Jetbase];
        if self.baseline.is_some() {
            contenders.push(Contender::Baseline);
        }
        contenders.extend([Contender::Python, Contender::Sqlx]);
        contenders
    }

    /// `contender`'s command for jetbase's `command` (`status` or `upgrade`).
    fn command(&self, contender: Contender, command: &str, database: &Database) -> Command {
        match contender {
            Contender::Jetbase => self.jetbase(&[command], database),
            Contender::Baseline => {
                let baseline = self.baseline.as_ref().expect("a baseline build");
                self.jetbase_build(baseline, &[command], database)
            }
            Contender::Python => self.python(&[command], database),
            Contender::Sqlx => {
                self.sqlx(if command == "status" { "info" } else { "run" }, database)
            }
        }
    }

    fn sqlx(&self, subcommand: &str, database: &Database) -> Command {
        let mut command = Command::new(&self.sqlx);
        command
            .args(["migrate", subcommand, "--source", "sqlx", "--database-url"])
            .arg(&database.sqlx)
            .current_dir(&self.root);
        command
    }
}

fn rounds(migrations: usize, small: usize) -> usize {
    if migrations >= 10_000 {
        small.div_ceil(3).max(1)
    } else {
        small
    }
}

fn list(variable: &str, default: &str) -> Vec<String> {
    std::env::var(variable)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; this binary takes no options.
    let sizes = sizes("JETBASE_BENCH_SIZES", "100,1000,10000");
    let engines: Vec<Engine> = list("JETBASE_BENCH_DATABASES", "sqlite,postgres")
        .iter()
        .map(|name| match name.as_str() {
            "postgres" => Engine::Postgres,
            _ => Engine::Sqlite,
        })
        .collect();
    let mut bench = Bench {
        jetbase: PathBuf::from(env!("CARGO_BIN_EXE_jetbase")),
        baseline: std::env::var_os("JETBASE_BENCH_BASELINE_JETBASE").map(PathBuf::from),
        python: required("JETBASE_TEST_PYTHON_JETBASE"),
        sqlx: required("JETBASE_BENCH_SQLX_CLI"),
        root: tempfile::tempdir().expect("a temporary directory").keep(),
        admin_url: std::env::var("JETBASE_TEST_POSTGRES_URL").unwrap_or_default(),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        next: 0,
    };
    std::fs::create_dir_all(bench.root.join("jetbase")).expect("create jetbase/");
    let mut growth = Growth::default();
    for &migrations in &sizes {
        bench.write_project(migrations);
        for &engine in &engines {
            let label = if engine == Engine::Sqlite {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            let (status, current) = measure_status(&mut bench, engine, migrations);
            let title = format!("status, {migrations} applied migrations, {label}");
            report(&title, &status);
            growth.record(&format!("status, {label}"), migrations, &status);
            let title = format!("current, {migrations} applied migrations, {label}");
            report(&title, &current);
            growth.record(&format!("current, {label}"), migrations, &current);
            let upgrade = measure_upgrade(&mut bench, engine, migrations);
            let title = format!("upgrade of {migrations} migrations into a new database, {label}");
            report(&title, &upgrade);
            growth.record(&format!("upgrade, {label}"), migrations, &upgrade);
        }
    }
    growth.print();
    if let Some(&largest) = sizes.iter().max() {
        print_peak_memory(&mut bench, &engines, largest);
    }
    let _ = std::fs::remove_dir_all(&bench.root);
}

/// `status` (every contender) and `current` (jetbase and Python Jetbase: sqlx-cli has none) with
/// every migration applied.
fn measure_status(bench: &mut Bench, engine: Engine, migrations: usize) -> (Timings, Timings) {
    // All applied: by jetbase for jetbase and Python Jetbase, by sqlx for sqlx.
    let shared = bench.database(engine);
    let sqlx_database = bench.database(engine);
    run(&mut bench.jetbase(&["upgrade"], &shared));
    run(&mut bench.sqlx("run", &sqlx_database));
    let contenders = bench.contenders();
    let mut status: Timings = contenders
        .iter()
        .map(|contender| (contender.label("status"), Vec::new()))
        .collect();
    let current_contenders: Vec<Contender> = contenders
        .iter()
        .copied()
        .filter(|contender| !matches!(contender, Contender::Sqlx))
        .collect();
    let mut current: Timings = current_contenders
        .iter()
        .map(|contender| (contender.label("current"), Vec::new()))
        .collect();
    for _ in 0..rounds(migrations, 11) {
        for (row, &contender) in status.iter_mut().zip(&contenders) {
            let database = match contender {
                Contender::Sqlx => &sqlx_database,
                _ => &shared,
            };
            row.1
                .push(run(&mut bench.command(contender, "status", database)));
        }
        for (row, &contender) in current.iter_mut().zip(&current_contenders) {
            row.1
                .push(run(&mut bench.command(contender, "current", &shared)));
        }
    }
    // The same history either way: Python Jetbase agrees the jetbase-applied database is valid,
    // and both name the same current version.
    run(&mut bench.python(&["validate-checksums"], &shared));
    let ours = output_of(&mut bench.jetbase(&["current"], &shared));
    let theirs = output_of(&mut bench.python(&["current"], &shared));
    let version = migrations.to_string();
    assert!(
        ours.contains(&format!("Current version: {version} "))
            // Python Jetbase logs `Latest migration version: N`, plain or as a JSON line.
            && ["\n", "\""]
                .iter()
                .any(|end| theirs.contains(&format!("Latest migration version: {version}{end}"))),
        "both name version {version}: jetbase said {ours:?}, Python Jetbase {theirs:?}"
    );
    (status, current)
}

/// What a command printed, standard output then standard error (Python Jetbase logs its answer
/// there), the command having succeeded.
fn output_of(command: &mut Command) -> String {
    let output = command.output().expect("run a contender");
    assert!(output.status.success(), "{command:?} failed: {output:?}");
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    printed
}

/// Each contender's label and its measured times.
type Timings = Vec<(&'static str, Vec<Duration>)>;

fn measure_upgrade(bench: &mut Bench, engine: Engine, migrations: usize) -> Timings {
    let contenders = bench.contenders();
    let mut rows: Timings = contenders
        .iter()
        .map(|contender| (contender.label("upgrade"), Vec::new()))
        .collect();
    for round in 0..rounds(migrations, 3) {
        // Each round starts with a different contender.
        for turn in 0..contenders.len() {
            let index = (round + turn) % contenders.len();
            let database = bench.database(engine);
            let mut command = bench.command(contenders[index], "upgrade", &database);
            rows[index].1.push(run(&mut command));
        }
    }
    rows
}

fn print_peak_memory(bench: &mut Bench, engines: &[Engine], migrations: usize) {
    println!("\npeak memory (maximum resident set), {migrations} migrations");
    for &engine in engines {
        let label = if engine == Engine::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        let shared = bench.database(engine);
        let sqlx_database = bench.database(engine);
        let python_database = bench.database(engine);
        let mut rows = vec![
            (
                "jetbase upgrade",
                peak_memory_mib(&bench.jetbase(&["upgrade"], &shared)),
            ),
            (
                "jetbase status",
                peak_memory_mib(&bench.jetbase(&["status"], &shared)),
            ),
            (
                "jetbase current",
                peak_memory_mib(&bench.jetbase(&["current"], &shared)),
            ),
            (
                "jetbase lock-status",
                peak_memory_mib(&bench.jetbase(&["lock-status"], &shared)),
            ),
            (
                "Python Jetbase upgrade",
                peak_memory_mib(&bench.python(&["upgrade"], &python_database)),
            ),
            (
                "Python Jetbase status",
                peak_memory_mib(&bench.python(&["status"], &shared)),
            ),
            (
                "Python Jetbase current",
                peak_memory_mib(&bench.python(&["current"], &shared)),
            ),
            (
                "sqlx migrate run",
                peak_memory_mib(&bench.sqlx("run", &sqlx_database)),
            ),
            (
                "sqlx migrate info",
                peak_memory_mib(&bench.sqlx("info", &sqlx_database)),
            ),
        ];
        if bench.baseline.is_some() {
            let baseline_database = bench.database(engine);
            let upgrade = bench.command(Contender::Baseline, "upgrade", &baseline_database);
            let status = bench.command(Contender::Baseline, "status", &shared);
            let current = bench.command(Contender::Baseline, "current", &shared);
            rows.push((
                Contender::Baseline.label("upgrade"),
                peak_memory_mib(&upgrade),
            ));
            rows.push((
                Contender::Baseline.label("status"),
                peak_memory_mib(&status),
            ));
            rows.push((
                Contender::Baseline.label("current"),
                peak_memory_mib(&current),
            ));
        }
        println!("  {label}");
        for (name, mib) in rows {
            println!("    {name:<28} {mib:>8.1} MiB");
        }
    }
}
