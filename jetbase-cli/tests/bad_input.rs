//! The bad-input catalogue: one test per kind of mistake a user can make, each checked for a
//! clear message, the documented exit code (1: a problem found while running; 2: usage or
//! configuration), no panic, and nothing written. (The unreachable host, the wrong password and a
//! `new` description that would leave `migrations/` are in `cli.rs`.)

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use common::Query;
use support::{Project, Run};

/// A SQLite project whose database would be `jetbase/app.db`.
fn project() -> Project {
    let project = Project::empty("sqlite:///app.db");
    project.run(&["init"]).ok();
    project
}

/// The run failed with `code`, said each of `fragments` on stderr, and did not panic.
#[track_caller]
fn refused(run: Run, code: i32, fragments: &[&str]) -> Run {
    assert_eq!(run.code, code, "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    for fragment in fragments {
        assert!(
            run.stderr.contains(fragment),
            "missing {fragment:?}: {run:#?}"
        );
    }
    run
}

/// The history as Python Jetbase (or a jetbase before it kept them) leaves it: no row keeps
/// its rollback SQL.
fn forget_kept_rollbacks(project: &Project) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!(
            "sqlite://{}",
            project.root().join("jetbase/app.db").display()
        );
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        pool.exec("UPDATE jetbase_migrations SET rollback_sql = NULL")
            .await;
        pool.close().await;
    });
}

/// `files` in `migrations/` make `upgrade` fail with `fragments`, before any database exists.
#[track_caller]
fn bad_files(files: &[(&str, &[u8])], fragments: &[&str]) {
    let project = project();
    for (name, bytes) in files {
        std::fs::write(project.migrations().join(name), bytes).unwrap();
    }
    for command in ["upgrade", "status", "validate"] {
        refused(project.run(&[command]), 1, fragments);
    }
    assert!(
        !project.root().join("jetbase/app.db").exists(),
        "nothing written"
    );
}

macro_rules! bad_file {
    ($name:ident, $files:expr, $fragments:expr) => {
        #[test]
        fn $name() {
            bad_files($files, $fragments);
        }
    };
}

const OK: &[u8] = b"CREATE TABLE t (id INTEGER);\n";

bad_file!(
    name_without_a_prefix,
    &[("1__a.sql", OK)],
    &[
        "`1__a.sql` does not match a migration name",
        "V<version>__<description>.sql"
    ]
);
bad_file!(
    name_with_a_bad_version,
    &[("V1a__a.sql", OK)],
    &["`V1a__a.sql` has an invalid version `1a`"]
);
bad_file!(
    name_without_a_double_underscore,
    &[("V1_a.sql", OK)],
    &["`V1_a.sql` does not match a migration name"]
);
bad_file!(
    name_with_an_empty_description,
    &[("V1__.sql", OK)],
    &["`V1__.sql` has an empty description"]
);
bad_file!(
    unknown_directive,
    &[("V1__a.sql", b"-- jetbase: transactional\nSELECT 1;\n")],
    &[
        "V1__a.sql",
        "line 1: unknown directive `-- jetbase: transactional`"
    ]
);
bad_file!(
    directive_after_the_first_sql_line,
    &[("V1__a.sql", b"SELECT 1;\n-- jetbase: no-transaction\n")],
    &["line 2: directive `-- jetbase: no-transaction` comes after the first SQL line"]
);
bad_file!(
    directive_given_twice,
    &[(
        "V1__a.sql",
        b"-- jetbase: no-transaction\n-- jetbase: no-transaction\nSELECT 1;\n"
    )],
    &["line 2: directive `-- jetbase: no-transaction` is given twice"]
);
bad_file!(
    empty_delimiter,
    &[("V1__a.sql", b"-- jetbase: delimiter=\nSELECT 1;\n")],
    &["line 1: `delimiter=` names no delimiter"]
);
bad_file!(
    duplicate_version,
    &[("V1__a.sql", OK), ("V1.0__b.sql", OK)],
    &["V1__a.sql", "V1.0__b.sql", "version 1"]
);
bad_file!(
    not_utf8,
    &[("V1__a.sql", b"SELECT 'caf\xe9';\n")],
    &["`V1__a.sql`: not valid UTF-8 (first invalid byte on line 1)"]
);
// Each of these made SQLite's statement loop spin at full CPU while the run held the lock.
bad_file!(
    nul_byte_at_the_end,
    &[("V1__a.sql", b"SELECT 1;\x00")],
    &["`V1__a.sql`: line 1 holds a NUL byte"]
);
bad_file!(
    nul_byte_at_the_start,
    &[("V1__a.sql", b"\x00SELECT 1;")],
    &["`V1__a.sql`: line 1 holds a NUL byte"]
);
bad_file!(
    nul_byte_inside_a_statement,
    &[(
        "V1__a.sql",
        b"CREATE TABLE t (id INTEGER);\nSELECT 1\x00;\n"
    )],
    &["`V1__a.sql`: line 2 holds a NUL byte"]
);
bad_file!(
    unterminated_quote,
    &[("V1__a.sql", b"SELECT 1;\nSELECT 'abc;\n")],
    &["`V1__a.sql`: unterminated single-quoted string (') starting on line 2"]
);
bad_file!(
    unterminated_block_comment,
    &[("V1__a.sql", b"SELECT 1; /* never closed\n")],
    &["`V1__a.sql`: unterminated block comment (/*) starting on line 1"]
);
bad_file!(
    empty_file,
    &[("V1__a.sql", b"  \n")],
    &["`V1__a.sql`: the file is empty"]
);

/// A dollar quote is PostgreSQL's: other dialects read `$x$` as text, so the file scans, and
/// PostgreSQL's splitter refuses it before anything runs.
#[tokio::test]
async fn unterminated_dollar_quote() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    project.write(
        "V1__f.sql",
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;\n",
    );
    refused(
        project.run(&["upgrade"]),
        1,
        &["V1__f.sql", "dollar", "line 1"],
    );
    assert!(!db.table_exists("jetbase_migrations").await || db.applied_versions().await.is_empty());
}

/// Python Jetbase applies a file whose upgrade section is empty (a `jetbase new` file never
/// filled in), and the shared checksum vectors hold one (V11): jetbase applies it too, and warns.
#[test]
fn empty_upgrade_section_is_applied_with_a_warning() {
    let project = project();
    project.write("V1__todo.sql", "-- upgrade\n\n-- rollback\n");
    project.write("V2__real.sql", "CREATE TABLE real (id INTEGER);\n");
    let run = project.run(&["upgrade"]).ok();
    assert!(
        !run.stderr.contains("V2__real.sql has no upgrade SQL"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(
            "warning: V1__todo.sql has no upgrade SQL: it is recorded as applied and ran nothing"
        ),
        "{run:#?}"
    );
}

/// Rolling back a migration without rollback SQL would leave its table, and the next upgrade
/// would fail on it: refused, naming it, before anything runs. With --force its row is removed
/// (as Python Jetbase does) with a warning that nothing of it was undone; one with rollback SQL
/// gets no such warning, nor does a dry run.
#[test]
fn rollback_without_rollback_sql_is_refused_unless_forced() {
    let project = project();
    project.write(
        "V1__undone.sql",
        "CREATE TABLE undone (id INTEGER);\n-- rollback\nDROP TABLE undone;\n",
    );
    project.write("V2__kept.sql", "CREATE TABLE kept (id INTEGER);\n");
    project.write(
        "V3__more.sql",
        "CREATE TABLE more (id INTEGER);\n-- rollback\nDROP TABLE more;\n",
    );
    project.run(&["upgrade"]).ok();
    // A preview changes nothing: it needs no --force.
    let dry = project.run(&["rollback", "--count", "2", "--dry-run"]).ok();
    assert!(!dry.stderr.contains("warning"), "{dry:#?}");
    let refused_run = refused(
        project.run(&["rollback", "--count", "2"]),
        1,
        &[
            "rollback refused: V2__kept.sql has no rollback SQL",
            "the next upgrade would fail on it",
            "nothing was run",
        ],
    );
    assert!(!refused_run.stderr.contains("V3__more"), "{refused_run:#?}");
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().unwrap().len(),
        3,
        "nothing rolled back"
    );
    let run = project.run(&["rollback", "--count", "2", "--force"]).ok();
    assert!(
        run.stderr.contains(
            "warning: V2__kept.sql has no rollback SQL: its history row is removed and nothing \
             of it was undone"
        ) && !run.stderr.contains("V3__more.sql has no"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("Rolled back 2 migrations."), "{run:#?}");
}

/// Rolling back every applied migration (`rollback -c 999` by mistake) drops everything they
/// made: off a terminal it needs --force, and without it nothing changes.
#[test]
fn rolling_back_everything_needs_force() {
    let project = project();
    for version in 1..=3 {
        project.write(
            &format!("V{version}__t{version}.sql"),
            &format!(
                "CREATE TABLE t{version} (id INTEGER);\n-- rollback\nDROP TABLE t{version};\n"
            ),
        );
    }
    project.run(&["upgrade"]).ok();
    for args in [&["rollback", "-c", "999"][..], &["rollback", "-c", "3"]] {
        refused(
            project.run(args),
            2,
            &[
                "This rolls back every applied migration (3)",
                "pass --force",
            ],
        );
    }
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().unwrap().len(),
        3,
        "nothing rolled back"
    );
    // Less than everything needs no question.
    project.run(&["rollback", "-c", "2"]).ok();
    project.run(&["upgrade"]).ok();
    let run = project.run(&["rollback", "-c", "999", "--force"]).ok();
    assert!(run.stdout.contains("Rolled back 3 migrations."), "{run:#?}");
}

/// The same on a fleet: no one can be asked for each target, so a rollback that would empty a
/// target is refused there unless --force; the others are left alone too.
#[test]
fn rolling_back_everything_on_a_fleet_needs_force() {
    let project = project();
    for version in 1..=2 {
        project.write(
            &format!("V{version}__t{version}.sql"),
            &format!(
                "CREATE TABLE t{version} (id INTEGER);\n-- rollback\nDROP TABLE t{version};\n"
            ),
        );
    }
    let urls: Vec<String> = ["a", "b"]
        .iter()
        .map(|name| {
            format!(
                "sqlite://{}?mode=rwc",
                project.root().join(format!("{name}.db")).display()
            )
        })
        .collect();
    std::fs::write(project.root().join("urls.txt"), urls.join("\n")).unwrap();
    let fleet = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-urls-file", "urls.txt", "--json"]);
        project.run(&all)
    };
    fleet(&["upgrade"]).ok();
    let refused_run = fleet(&["rollback", "-c", "99"]);
    assert_eq!(refused_run.code, 1, "{refused_run:#?}");
    for target in refused_run.json()["targets"].as_array().unwrap() {
        assert_eq!(target["ok"], false, "{target}");
        assert!(
            target["error"].as_str().unwrap().contains("pass --force"),
            "{target}"
        );
    }
    let status = fleet(&["status"]).ok().json();
    for target in status["targets"].as_array().unwrap() {
        assert_eq!(target["applied"], 2, "nothing rolled back: {target}");
    }
    let forced = fleet(&["rollback", "-c", "99", "--force"]).ok().json();
    for target in forced["targets"].as_array().unwrap() {
        assert_eq!(target["applied"], 2, "{target}");
    }
}

/// `validate --fix` with the migrations directory moved away would forget the whole history
/// (and the next upgrade would run everything again on tables that exist): off a terminal it
/// needs --force. Forgetting some rows needs no question.
#[test]
fn fix_that_forgets_the_whole_history_needs_force() {
    let project = project();
    for version in 1..=2 {
        project.write(
            &format!("V{version}__t{version}.sql"),
            &format!("CREATE TABLE t{version} (id INTEGER);\n"),
        );
    }
    project.run(&["upgrade"]).ok();
    let moved = project.root().join("moved");
    std::fs::create_dir(&moved).unwrap();
    for version in 1..=2 {
        let name = format!("V{version}__t{version}.sql");
        std::fs::rename(project.migrations().join(&name), moved.join(&name)).unwrap();
    }
    for args in [&["validate", "--fix"][..], &["fix-files"], &["fix"]] {
        refused(
            project.run(args),
            2,
            &[
                "--fix would forget all 2 rows of the history",
                "pass --force",
            ],
        );
    }
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().unwrap().len(),
        2,
        "nothing forgotten"
    );
    std::fs::rename(
        moved.join("V1__t1.sql"),
        project.migrations().join("V1__t1.sql"),
    )
    .unwrap();
    project.run(&["validate", "--fix"]).ok();
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().unwrap().len(),
        1,
        "one row forgotten"
    );
    std::fs::remove_file(project.migrations().join("V1__t1.sql")).unwrap();
    // Python Jetbase's names take --force too.
    project.run(&["fix-files", "--force"]).ok();
    let history = project.run(&["--json", "history"]).ok().json();
    assert!(
        history["migrations"].as_array().unwrap().is_empty(),
        "{history}"
    );
}

/// Rolling back a migration whose file is gone and whose history row keeps no rollback SQL
/// (written by Python Jetbase, or before jetbase kept it): its rollback SQL is unknown.
#[test]
fn rollback_of_a_migration_whose_file_is_gone() {
    let project = project();
    project.write(
        "V1__a.sql",
        "CREATE TABLE a (id INTEGER);\n-- rollback\nDROP TABLE a;\n",
    );
    project.run(&["upgrade"]).ok();
    std::fs::remove_file(project.migrations().join("V1__a.sql")).unwrap();
    forget_kept_rollbacks(&project);
    refused(
        project.run(&["rollback"]),
        1,
        &[
            "V1__a.sql",
            "cannot be rolled back: its file is missing and its history row keeps no rollback SQL",
        ],
    );
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().unwrap().len(),
        1,
        "nothing removed"
    );
}

/// `jetbase/jetbase.toml` replaced by `text` makes every command a configuration error.
#[track_caller]
fn bad_configuration(text: &str, fragments: &[&str]) {
    let project = project();
    std::fs::write(project.root().join("jetbase/jetbase.toml"), text).unwrap();
    std::fs::write(project.migrations().join("V1__a.sql"), OK).unwrap();
    let run = project.run_in(project.root(), &["upgrade"], &[]);
    let run = refused(run, 2, fragments);
    assert!(!run.stderr.contains("SECRET"), "{run:#?}");
    assert!(
        !project.root().join("jetbase/app.db").exists(),
        "nothing written"
    );
}

#[test]
fn malformed_jetbase_toml() {
    bad_configuration(
        "database_url = \"sqlite:///app.db\n",
        &["jetbase.toml is not valid TOML", "line 1"],
    );
}

#[test]
fn unknown_key_in_jetbase_toml() {
    bad_configuration(
        "database_url = \"sqlite:///app.db\"\nlock_timeot = 5\n",
        &["lock_timeot"],
    );
}

#[test]
fn wrong_type_in_jetbase_toml() {
    bad_configuration(
        "database_url = \"sqlite:///app.db\"\nlock_timeout = \"soon\"\n",
        &["`lock_timeout` in jetbase.toml is \"soon\": expected a number of seconds"],
    );
}

#[test]
fn malformed_dotenv() {
    let project = project();
    std::fs::write(
        project.root().join(".env"),
        "JETBASE_DATABASE_URL='unterminated\n",
    )
    .unwrap();
    refused(
        project.run_in(project.root(), &["status"], &[]),
        2,
        &[".env is not a valid .env file"],
    );
}

/// The secret of every URL form a hostile review saw printed: unencoded `#`, `?`, `/`, `@` and
/// `:` in the password, and `?password=` (which the PostgreSQL driver uses), on every scheme,
/// through a connection that fails (nothing listens on port 1).
#[test]
fn passwords_in_odd_url_forms_are_never_printed() {
    let project = project();
    let forms = [
        "pwu:ab#cdSECRET@127.0.0.1:1/db",
        "pwu:ab?cdSECRET@127.0.0.1:1/db",
        "pwu:ab/cdSECRET@127.0.0.1:1/db",
        "pwu:p@ss:w/rdSECRET@127.0.0.1:1/db",
        "pwu@127.0.0.1:1/db?sslmode=disable&password=SECRET",
    ];
    for scheme in [
        "postgres",
        "mysql",
        "mariadb",
        "snowflake",
        "clickhouse",
        "databricks",
    ] {
        for form in forms {
            let url = format!("{scheme}://{form}");
            let run = project.run_in(
                project.root(),
                &["status", "--connect-timeout", "2"],
                &[("JETBASE_DATABASE_URL", &url)],
            );
            assert_ne!(run.code, 0, "{url}: {run:#?}");
            assert!(!run.stderr.contains("panicked"), "{url}: {run:#?}");
            assert!(
                !run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"),
                "{url}: {run:#?}"
            );
        }
    }
}

/// A server that accepts connections and never answers (a hung proxy, a stopped process whose
/// port is still open): every engine gives up within the timeouts asked for, for every
/// command, instead of hanging (Databricks hung 300 s and more).
#[test]
fn a_server_that_never_answers_fails_within_the_timeouts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepted connections are kept open, unanswered, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let project = project();
    std::fs::write(project.migrations().join("V1__a.sql"), OK).unwrap();
    let urls = [
        format!("postgres://u:pw@127.0.0.1:{port}/db"),
        format!("mysql://u:pw@127.0.0.1:{port}/db"),
        format!("snowflake://u:pw@127.0.0.1:{port}/DB/PUBLIC?account=a&protocol=http"),
        format!("clickhouse://u:pw@127.0.0.1:{port}/default"),
        format!(
            "databricks://token:t@127.0.0.1:{port}?http_path=/sql/1.0/warehouses/w&protocol=http"
        ),
    ];
    for url in &urls {
        for command in [
            &["status", "--connect-timeout", "2"][..],
            &["wait", "--timeout", "3", "--connect-timeout", "2"],
            &["upgrade", "--connect-timeout", "2"],
        ] {
            let started = std::time::Instant::now();
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jetbase"))
                .args(command)
                .current_dir(project.root())
                .env("JETBASE_DATABASE_URL", url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Not a timing measure: a hang is minutes; a minute is the bound of a stuck test.
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if started.elapsed() > std::time::Duration::from_secs(60) {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    break None;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            };
            let status = status.unwrap_or_else(|| panic!("{command:?} on {url} hung"));
            assert_eq!(status.code(), Some(1), "{command:?} on {url}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{command:?} on {url} took {:?}",
                started.elapsed()
            );
        }
    }
}

/// A fleet's target names (the URLs of `--database-urls-file`), in text and in JSON.
#[test]
fn passwords_in_a_urls_file_are_never_printed() {
    let project = project();
    let file = project.root().join("urls.txt");
    std::fs::write(
        &file,
        "postgres://pwu@127.0.0.1:1/db?password=SECRET1
mysql://pwu:ab#SECRET2@127.0.0.1:1/db
",
    )
    .unwrap();
    for json in [false, true] {
        let mut args = vec![
            "status",
            "--database-urls-file",
            "urls.txt",
            "--connect-timeout",
            "2",
        ];
        if json {
            args.push("--json");
        }
        let run = project.run(&args);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(run.stdout.contains("password=***"), "{run:#?}");
        assert!(
            !run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"),
            "{run:#?}"
        );
    }
}

/// A configuration file that does not parse is named with the line, never quoted: the line may
/// be the one with the password.
#[test]
fn configuration_errors_never_quote_the_line() {
    bad_configuration(
        "database_url = \"postgres://u:SECRET@db/app\nlock_timeout = 5\n",
        &["jetbase.toml is not valid TOML", "line 1, column"],
    );
    let project = project();
    std::fs::write(project.root().join("jetbase/jetbase.toml"), "").unwrap();
    for (text, position) in [
        (
            "JETBASE_LOCK_TIMEOUT=1\nJETBASE_DATABASE_URL='postgres://u:SECRET@db/app\n",
            "cannot parse the value that starts on line 2 (a quote not closed?)",
        ),
        (
            "JETBASE_LOCK_TIMEOUT=1\nJETBASE_DATABASE_URL=\"postgres://u:SECRET@db/app\" x\n",
            "cannot parse line 2, column",
        ),
    ] {
        std::fs::write(project.root().join(".env"), text).unwrap();
        let run = refused(
            project.run_in(project.root(), &["status"], &[]),
            2,
            &[".env is not a valid .env file", position],
        );
        assert!(!run.stderr.contains("SECRET"), "{run:#?}");
    }
    std::fs::remove_file(project.root().join(".env")).unwrap();
    // A value of the wrong kind is shown with its secrets masked.
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "database_url = [\"postgres://u:SECRET@db/app\"]\n",
    )
    .unwrap();
    let run = refused(
        project.run_in(project.root(), &["status"], &[]),
        2,
        &["postgres://u:***@db/app"],
    );
    assert!(!run.stderr.contains("SECRET"), "{run:#?}");
}

#[test]
fn url_of_an_unknown_database() {
    let project = Project::empty("oracle://scott:tiger-secret@db.example/orcl");
    project.run(&["init"]).ok();
    let run = refused(
        project.run(&["status"]),
        2,
        &["oracle://scott:***@db.example/orcl"],
    );
    assert!(!run.stderr.contains("tiger-secret"));
}

#[test]
fn no_database_url_at_all() {
    let project = project();
    std::fs::write(project.root().join("jetbase/jetbase.toml"), "").unwrap();
    refused(
        project.run_in(project.root(), &["status"], &[]),
        2,
        &["no database URL"],
    );
}

/// A role name of this test's own (roles are server-wide; the database name is unique).
fn role_for(url: &str, what: &str) -> String {
    let database = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    format!("{what}_{database}")
}

/// A PostgreSQL error is shown as the server words it: sqlx adds " at line N", the line of the
/// server's own source file that raised it, which reads as a line of the migration.
#[tokio::test]
async fn postgres_errors_do_not_name_the_servers_source_line() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    project.write(
        "V1__a.sql",
        "-- upgrade\nCREATE TABLE a (id INTEGER);\nSELECT * FROM nope;\n",
    );
    let run = refused(
        project.run(&["upgrade"]),
        1,
        &[
            "upgrade of `V1__a.sql` failed at line 3",
            "caused by: error returned from database: relation \"nope\" does not exist\n",
        ],
    );
    assert_eq!(run.stderr.matches("at line").count(), 1, "{run:#?}");
}

/// A user whose transactions are read-only: the history tables cannot be created; nothing is.
#[tokio::test]
async fn read_only_database_user() {
    let db = common::postgres().await;
    let reader = role_for(&db.url, "reader");
    db.pool.exec(&format!("CREATE ROLE {reader} LOGIN")).await;
    db.pool
        .exec(&format!(
            "ALTER ROLE {reader} SET default_transaction_read_only = on"
        ))
        .await;
    db.pool
        .exec(&format!("GRANT CREATE ON SCHEMA public TO {reader}"))
        .await;
    let reader_url = db.url.replacen("postgres@", &format!("{reader}@"), 1);
    let project = Project::new(&reader_url);
    project.write("V1__a.sql", "CREATE TABLE a (id INTEGER);\n");
    refused(project.run(&["upgrade"]), 1, &["read-only transaction"]);
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing written"
    );
    assert!(!db.table_exists("a").await);
}

/// A user without the right to create tables (PostgreSQL 15 gives none in `public`).
#[tokio::test]
async fn no_permission_to_create_tables() {
    let db = common::postgres().await;
    let visitor = role_for(&db.url, "visitor");
    db.pool.exec(&format!("CREATE ROLE {visitor} LOGIN")).await;
    let visitor_url = db.url.replacen("postgres@", &format!("{visitor}@"), 1);
    let project = Project::new(&visitor_url);
    project.write("V1__a.sql", "CREATE TABLE a (id INTEGER);\n");
    refused(
        project.run(&["upgrade"]),
        1,
        &["permission denied for schema public"],
    );
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing written"
    );
}

/// `jetbase drift` as a user without CREATEDB: it cannot make its scratch database beside the
/// live one, says so and what to do (CREATEDB or `--scratch-url`), and with `--scratch-url`
/// (a database another user may create) it runs.
#[tokio::test]
async fn drift_without_createdb() {
    let db = common::postgres().await;
    let owner = Project::new(&db.url);
    owner.write("V1__a.sql", "CREATE TABLE a (id INTEGER);\n");
    owner.run(&["upgrade"]).ok();
    let auditor = role_for(&db.url, "auditor");
    db.pool.exec(&format!("CREATE ROLE {auditor} LOGIN")).await;
    db.pool
        .exec(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {auditor}"
        ))
        .await;
    let auditor_url = db.url.replacen("postgres@", &format!("{auditor}@"), 1);
    let project = Project::new(&auditor_url);
    project.write("V1__a.sql", "CREATE TABLE a (id INTEGER);\n");
    refused(
        project.run(&["drift"]),
        1,
        &[
            "could not create `jetbase_drift_",
            "CREATEDB",
            "--scratch-url",
            "permission denied to create database",
        ],
    );
    let scratch_url = common::with_database(&db.url, &format!("{auditor}_scratch"));
    let clean = project
        .run(&["drift", "--scratch-url", scratch_url.as_str()])
        .ok();
    assert!(clean.stdout.contains("No drift"), "{clean:#?}");
}

/// A project with `V1__a.sql` applied, on SQLite, and its pool.
async fn applied_project() -> (Project, common::TestDb<sqlx::SqlitePool>) {
    let db = common::sqlite().await;
    let project = Project::new(&support::cli_url(&db));
    project.write(
        "V1__a.sql",
        "CREATE TABLE a (id INTEGER);\n-- rollback\nDROP TABLE a;\n",
    );
    project.run(&["upgrade"]).ok();
    (project, db)
}

/// A history row for a version no file has (edited by hand, or a file deleted).
#[tokio::test]
async fn history_names_an_unknown_version() {
    let (project, db) = applied_project().await;
    db.pool
        .exec("INSERT INTO jetbase_migrations (order_executed, version, description, filename, migration_type, checksum) VALUES (2, '7', 'ghost', 'V7__ghost.sql', 'VERSIONED', 'x')")
        .await;
    project.write("V2__b.sql", "CREATE TABLE b (id INTEGER);\n");
    refused(
        project.run(&["upgrade"]),
        1,
        &["V7__ghost.sql", "validate --fix"],
    );
    assert!(!db.table_exists("b").await, "nothing written");
}

/// A history row of a type jetbase (and Python Jetbase) does not know.
#[tokio::test]
async fn history_row_of_an_unknown_type() {
    let (project, db) = applied_project().await;
    db.pool
        .exec("UPDATE jetbase_migrations SET migration_type = 'SOMETIMES' WHERE version = '1'")
        .await;
    project.write("V2__b.sql", "CREATE TABLE b (id INTEGER);\n");
    refused(
        project.run(&["upgrade"]),
        1,
        &["unknown migration_type `SOMETIMES`", "correct or delete it"],
    );
    assert!(!db.table_exists("b").await, "nothing written");
    let validate = refused(
        project.run(&["validate"]),
        1,
        &["validation found 1 problem"],
    );
    assert!(
        validate
            .stdout
            .contains("unknown migration_type `SOMETIMES`"),
        "{validate:#?}"
    );
}

/// The lock table without its row: the next command puts it back and carries on.
#[tokio::test]
async fn lock_row_missing() {
    let (project, db) = applied_project().await;
    db.pool.exec("DELETE FROM jetbase_lock").await;
    let status = project.run(&["--json", "lock-status"]).ok().json();
    assert_eq!(status["locked"], false);
    project.write("V2__b.sql", "CREATE TABLE b (id INTEGER);\n");
    project.run(&["upgrade"]).ok();
    assert!(db.table_exists("b").await);
    assert!(db.lock_is_free().await);
    assert_eq!(
        db.pool.count("SELECT id FROM jetbase_lock").await,
        1,
        "the row is back"
    );
}

/// Schema names are quoted wherever they are built into SQL: a quote in one is harmless.
#[tokio::test]
async fn schema_name_with_quotes_and_spaces() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    project.write("V1__a.sql", "CREATE TABLE a (id INTEGER);\n");
    let env = [
        ("JETBASE_DATABASE_URL", db.url.as_str()),
        ("JETBASE_POSTGRES_SCHEMA", "we\"ird; DROP TABLE x; --"),
    ];
    project.run_in(project.root(), &["upgrade"], &env).ok();
    project.run_in(project.root(), &["status"], &env).ok();
    let tables = db
        .pool
        .strings("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'we\"ird; DROP TABLE x; --' ORDER BY 1")
        .await;
    assert_eq!(tables, ["a", "jetbase_lock", "jetbase_migrations"]);
}

/// The Snowflake server of the test script, with its password removed from the URL.
fn snowflake_url_without_password() -> String {
    let url = common::server_url("JETBASE_TEST_SNOWFLAKE_URL");
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let user = scheme_user.rsplit_once(':').unwrap().0;
    format!("{user}@{rest}")
}

#[test]
fn snowflake_without_password_or_key() {
    let project = Project::empty(&snowflake_url_without_password());
    project.run(&["init"]).ok();
    refused(
        project.run(&["status"]),
        2,
        &[
            "no private key",
            "`snowflake_private_key` (PEM text) in jetbase.toml",
            "JETBASE_SNOWFLAKE_PRIVATE_KEY",
        ],
    );
}

/// Key-pair login: the key from jetbase.toml or the environment is read and signs the login's
/// JWT (fakesnow accepts any login: what is checked here is that the key is used, and that a
/// key that cannot be used is refused naming it; the token's form is checked in the unit tests).
#[test]
fn snowflake_key_pair_from_configuration() {
    let key = include_str!("../../jetbase/tests/fixtures/snowflake/rsa_key_encrypted.p8");
    let url = snowflake_url_without_password();
    let project = Project::empty(&url);
    project.run(&["init"]).ok();
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        format!(
            "database_url = \"{url}\"\nsnowflake_private_key = \"\"\"\n{key}\"\"\"\nsnowflake_private_key_password = \"jetbase-test\"\n"
        ),
    )
    .unwrap();
    let status = project.run_in(project.root(), &["status"], &[]);
    assert_eq!(status.code, 0, "{status:#?}");
    // The same key from the environment, with a wrong passphrase: refused, naming the key.
    let run = project.run_in(
        project.root(),
        &["status"],
        &[
            ("JETBASE_SNOWFLAKE_PRIVATE_KEY", key),
            ("JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD", "wrong"),
        ],
    );
    refused(run, 1, &["the Snowflake private key cannot be used"]);
}

#[test]
fn lock_lease_settings_are_checked() {
    let project = project();
    let run = project.run_in(
        project.root(),
        &["status"],
        &[
            ("JETBASE_DATABASE_URL", "sqlite:///app.db"),
            ("JETBASE_LOCK_LEASE", "5"),
            ("JETBASE_LOCK_RENEW", "10"),
        ],
    );
    refused(
        run,
        2,
        &[
            "JETBASE_LOCK_LEASE and JETBASE_LOCK_RENEW",
            "at least twice the renewal interval",
        ],
    );
}

#[test]
fn clickhouse_native_protocol_is_refused() {
    let project = Project::empty("clickhouse+native://app:ch-secret@127.0.0.1:9000/analytics");
    project.run(&["init"]).ok();
    let run = refused(
        project.run(&["status"]),
        2,
        &[
            "HTTP interface",
            "clickhouse+native://app:***@127.0.0.1:9000/analytics",
        ],
    );
    assert!(!run.stderr.contains("ch-secret"), "{run:#?}");
}

#[test]
fn databricks_without_a_token_or_warehouse() {
    let project =
        Project::empty("databricks://127.0.0.1:9?http_path=/sql/1.0/warehouses/w&protocol=http");
    project.run(&["init"]).ok();
    refused(
        project.run(&["status"]),
        2,
        &["no access token", "JETBASE_DATABRICKS_TOKEN"],
    );
    let cluster = Project::empty(
        "databricks://token:dbx-secret@h.cloud.databricks.com?http_path=/sql/protocolv1/o/1/0123-abc",
    );
    cluster.run(&["init"]).ok();
    let run = refused(
        cluster.run(&["status"]),
        2,
        &["names no SQL warehouse", "token:***@h.cloud.databricks.com"],
    );
    assert!(!run.stderr.contains("dbx-secret"), "{run:#?}");
}
