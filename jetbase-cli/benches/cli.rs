//! The `jetbase` command against its peers on 1,000 migrations on SQLite, in one run, contenders
//! alternated and repeated, medians and ratios (whole commands, process start included):
//!
//! - `status` with all 1,000 applied: `jetbase status` vs Python Jetbase 0.18.1's `jetbase
//!   status` (same database) vs `sqlx migrate info` (the same SQL as sqlx files, applied by
//!   `sqlx migrate run`);
//! - `upgrade` of all 1,000 into a new database: `jetbase upgrade` vs Python Jetbase's vs
//!   `sqlx migrate run`.
//!
//! Needs JETBASE_TEST_PYTHON_JETBASE (Python Jetbase's `jetbase` script) and
//! JETBASE_BENCH_SQLX_CLI (the `sqlx` binary of sqlx-cli 0.8): `bash scripts/bench.sh` installs
//! both and runs this with the other benchmarks.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{report, required, run};

const MIGRATIONS: usize = 1_000;
const STATUS_ROUNDS: usize = 11;
const UPGRADE_ROUNDS: usize = 3;

/// `<root>/jetbase/migrations` for jetbase and Python Jetbase, `<root>/sqlx` for sqlx.
fn write_projects(root: &Path) {
    let jetbase = root.join("jetbase/migrations");
    let sqlx = root.join("sqlx");
    std::fs::create_dir_all(&jetbase).expect("create the jetbase directory");
    std::fs::create_dir_all(&sqlx).expect("create the sqlx directory");
    for index in 1..=MIGRATIONS {
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

struct Tools {
    jetbase: PathBuf,
    python: PathBuf,
    sqlx: PathBuf,
    root: PathBuf,
}

impl Tools {
    /// `jetbase args` in the project root, on `jetbase/<database>`.
    fn jetbase(&self, args: &[&str], database: &str) -> Command {
        let mut command = Command::new(&self.jetbase);
        command
            .args(args)
            .current_dir(&self.root)
            .env("JETBASE_DATABASE_URL", format!("sqlite:///{database}"))
            .env("NO_COLOR", "1");
        command
    }

    /// Python Jetbase, run from the `jetbase/` directory as it expects, on `jetbase/<database>`.
    fn python(&self, args: &[&str], database: &str) -> Command {
        let mut command = Command::new(&self.python);
        command
            .args(args)
            .current_dir(self.root.join("jetbase"))
            .env("JETBASE_SQLALCHEMY_URL", format!("sqlite:///{database}"))
            .env("NO_COLOR", "1");
        command
    }

    /// `sqlx migrate <subcommand>` on `<root>/<database>`.
    fn sqlx(&self, subcommand: &str, database: &str) -> Command {
        let mut command = Command::new(&self.sqlx);
        command
            .args(["migrate", subcommand, "--source", "sqlx", "--database-url"])
            .arg(format!(
                "sqlite://{}?mode=rwc",
                self.root.join(database).display()
            ))
            .current_dir(&self.root);
        command
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this binary takes no options.
    let tools = Tools {
        jetbase: PathBuf::from(env!("CARGO_BIN_EXE_jetbase")),
        python: required("JETBASE_TEST_PYTHON_JETBASE"),
        sqlx: required("JETBASE_BENCH_SQLX_CLI"),
        root: tempfile::tempdir().expect("a temporary directory").keep(),
    };
    write_projects(&tools.root);

    // status: 1,000 applied (by jetbase for jetbase and Python Jetbase, by sqlx for sqlx).
    run(&mut tools.jetbase(&["upgrade"], "status.db"));
    run(&mut tools.sqlx("run", "status-sqlx.db"));
    let mut status = [
        ("jetbase status", Vec::new()),
        ("Python Jetbase status", Vec::new()),
        ("sqlx migrate info", Vec::new()),
    ];
    for _ in 0..STATUS_ROUNDS {
        status[0]
            .1
            .push(run(&mut tools.jetbase(&["status"], "status.db")));
        status[1]
            .1
            .push(run(&mut tools.python(&["status"], "status.db")));
        status[2]
            .1
            .push(run(&mut tools.sqlx("info", "status-sqlx.db")));
    }
    report(
        &format!("status, {MIGRATIONS} applied migrations, SQLite (median of {STATUS_ROUNDS})"),
        &status,
    );

    let mut upgrade = [
        ("jetbase upgrade", Vec::new()),
        ("Python Jetbase upgrade", Vec::new()),
        ("sqlx migrate run", Vec::new()),
    ];
    for round in 0..UPGRADE_ROUNDS {
        upgrade[0].1.push(run(
            &mut tools.jetbase(&["upgrade"], &format!("up-jetbase-{round}.db"))
        ));
        upgrade[1].1.push(run(
            &mut tools.python(&["upgrade"], &format!("up-python-{round}.db"))
        ));
        upgrade[2]
            .1
            .push(run(&mut tools.sqlx("run", &format!("up-sqlx-{round}.db"))));
    }
    report(
        &format!(
            "upgrade of {MIGRATIONS} migrations into a new SQLite database (median of {UPGRADE_ROUNDS})"
        ),
        &upgrade,
    );
    // The same history either way: Python Jetbase agrees the jetbase-applied database is valid.
    run(&mut tools.python(&["validate-checksums"], "up-jetbase-0.db"));
    let _ = std::fs::remove_dir_all(&tools.root);
}
