//! Hostile values against the `jetbase` binary, where string literals are most fragile: on
//! PostgreSQL with `standard_conforming_strings = off` (a backslash escapes in `'…'`) and on
//! MariaDB under its default `sql_mode` (the same). Each value is one a hostile review broke
//! out of a `'…'` literal with: none of them may run SQL of its own.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{Query, TestDb};
use support::{Project, cli_url};

const CREATE_ITEMS: &str =
    "-- upgrade\nCREATE TABLE items (id INTEGER);\n\n-- rollback\nDROP TABLE items;\n";

/// A fresh PostgreSQL database where every new session reads `\` as an escape in `'…'`.
async fn postgres_with_backslash_escapes() -> TestDb<sqlx::PgPool> {
    let db = common::postgres().await;
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    db.pool
        .exec(&format!(
            "ALTER DATABASE {name} SET standard_conforming_strings = off"
        ))
        .await;
    // The setting holds for the sessions the command opens (the test would prove nothing
    // otherwise).
    let fresh = db.pool.new_pool(&db.url).await;
    assert_eq!(
        fresh.strings("SHOW standard_conforming_strings").await,
        ["off"]
    );
    fresh.close().await;
    db
}

/// How many tables named `table` the database has, in any schema.
async fn tables_named<P: Query>(db: &TestDb<P>, table: &str) -> i64 {
    let sql = match db.dialect {
        common::Dialect::Postgres => {
            format!("SELECT relname FROM pg_class WHERE relname = '{table}' AND relkind = 'r'")
        }
        _ => format!(
            "SELECT table_name FROM information_schema.tables WHERE table_name = '{table}' \
             AND table_schema = DATABASE()"
        ),
    };
    db.pool.count(&sql).await
}

#[tokio::test]
async fn schemas_like_pattern_runs_no_sql_of_its_own() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    let run = project.run(&[
        "status",
        "--schemas-like",
        "\\'; CREATE TABLE pwned(i int); --",
    ]);
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    assert_eq!(tables_named(&db, "pwned").await, 0, "{run:#?}");
    // A pattern that matches finds the schemas by name, backslash and quote included.
    db.pool
        .exec("CREATE SCHEMA \"tenant_\\'x\"; CREATE SCHEMA tenant_b")
        .await;
    let run = project
        .run(&["status", "--schemas-like", "tenant\\_\\\\'%", "--json"])
        .ok();
    let targets: Vec<String> = run.json()["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(targets, ["tenant_\\'x"], "{run:#?}");
}

#[tokio::test]
async fn postgres_schema_setting_runs_no_sql_of_its_own() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    let hostile = "\\'; CREATE TABLE pwned(i int); --";
    let env = [
        ("JETBASE_DATABASE_URL", project.url.as_str()),
        ("JETBASE_POSTGRES_SCHEMA", hostile),
    ];
    project.run_in(project.root(), &["upgrade"], &env).ok();
    project.run_in(project.root(), &["status"], &env).ok();
    assert_eq!(tables_named(&db, "pwned").await, 0);
    // Everything went into the schema of that exact name.
    let schema = db
        .pool
        .strings(
            "SELECT table_schema::text FROM information_schema.tables \
             WHERE table_name = 'items'",
        )
        .await;
    assert_eq!(schema, [hostile]);
}

/// A lock row left by a "dead holder" whose `process_id` is a payload: the take-over reads it
/// and looks for that holder's sessions, and must only ever compare it.
#[tokio::test]
async fn dead_holder_process_id_runs_no_sql_of_its_own_on_postgres() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    db.pool.exec("CREATE TABLE victim (i INT)").await;
    let holder = "jb1:\\';DROP TABLE victim;--";
    sqlx::query(
        "UPDATE jetbase_lock SET is_locked = TRUE, locked_at = CURRENT_TIMESTAMP, \
         process_id = $1 WHERE id = 1",
    )
    .bind(holder)
    .execute(&db.pool)
    .await
    .unwrap();
    project.write(
        "V2__more.sql",
        "-- upgrade\nCREATE TABLE more (id INTEGER);\n\n-- rollback\nDROP TABLE more;\n",
    );
    project.run(&["upgrade"]).ok();
    assert_eq!(tables_named(&db, "victim").await, 1, "victim was dropped");
    assert_eq!(
        tables_named(&db, "more").await,
        1,
        "the lock was taken over"
    );
}

#[tokio::test]
async fn dead_holder_process_id_runs_no_sql_of_its_own_on_mariadb() {
    let db = common::mysql().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    // Under MariaDB's default sql_mode a backslash escapes in '…': with only `'` doubled this
    // holder ended the lock name's literal and ran SLEEP (in a SELECT, all it could reach).
    let holder = "jb1:\\') AS SIGNED),SLEEP(60)#";
    sqlx::query(
        "UPDATE jetbase_lock SET is_locked = TRUE, locked_at = CURRENT_TIMESTAMP, \
         process_id = ? WHERE id = 1",
    )
    .bind(holder)
    .execute(&db.pool)
    .await
    .unwrap();
    project.write(
        "V2__more.sql",
        "-- upgrade\nCREATE TABLE more (id INTEGER);\n\n-- rollback\nDROP TABLE more;\n",
    );
    let started = Instant::now();
    project.run(&["upgrade"]).ok();
    // Not a timing measure: the injected SLEEP(60) would make the take-over take a minute.
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the holder's SLEEP ran: {:?}",
        started.elapsed()
    );
    assert_eq!(
        tables_named(&db, "more").await,
        1,
        "the lock was taken over"
    );
}

/// A SQLite project whose database is `app.db` in its directory.
fn sqlite_project() -> Project {
    let project = Project::empty("sqlite:///app.db");
    project.run(&["init"]).ok();
    project
}

/// Runs `jetbase args` in `project` with stdout and stderr as given, and waits.
fn run_with(
    project: &Project,
    args: &[&str],
    stdout: std::process::Stdio,
    stderr: std::process::Stdio,
    close_pipes: bool,
) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .args(args)
        .current_dir(project.root())
        .env("JETBASE_DATABASE_URL", &project.url)
        .env_remove("NO_COLOR")
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    if close_pipes {
        // The reader goes away before the command writes anything (`jetbase status | true`).
        drop(child.stdout.take());
        drop(child.stderr.take());
    }
    child.wait_with_output().unwrap()
}

/// `status | true`, `rollback | head -2`, `status > /dev/full`, and a closed stderr during
/// `upgrade`: never a panic (exit 101); a closed pipe ends the command quietly with the status
/// a shell shows for `ls` ended by SIGPIPE, any other write error is exit 1; the command's work
/// is done and the lock released.
#[test]
fn closed_or_full_output_never_panics() {
    let project = sqlite_project();
    for version in 1..=40 {
        project.write(
            &format!("V{version}__t{version}.sql"),
            &format!(
                "-- upgrade\nCREATE TABLE t{version} (id INTEGER);\n\n-- rollback\nDROP TABLE t{version};\n"
            ),
        );
    }
    // Progress lines go to stderr, closed: the upgrade still applies everything.
    let upgrade = run_with(
        &project,
        &["upgrade"],
        std::process::Stdio::null(),
        std::process::Stdio::piped(),
        true,
    );
    assert_eq!(upgrade.status.code(), Some(0), "{upgrade:?}");
    let status = project.run(&["status", "--json"]).ok();
    let applied = status.json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["state"] == "applied")
        .count();
    assert_eq!(applied, 40, "{status:#?}");
    let closed = || (std::process::Stdio::piped(), std::process::Stdio::piped());
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["history"],
        &["lock-status"],
        &["schema"],
        &["rollback", "-c", "2"],
    ] {
        let (stdout, stderr) = closed();
        let output = run_with(&project, args, stdout, stderr, true);
        assert_eq!(output.status.code(), Some(141), "{args:?}: {output:?}");
    }
    // The rollback was made whole, and released the lock.
    let status = project.run(&["status", "--json"]).ok();
    let applied = status.json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["state"] == "applied")
        .count();
    assert_eq!(applied, 38);
    let lock = project.run(&["lock-status"]).ok();
    assert!(lock.stdout.contains("UNLOCKED"), "{lock:#?}");
    if std::path::Path::new("/dev/full").exists() {
        for args in [&["status"][..], &["history"], &["status", "--json"]] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let output = run_with(
                &project,
                args,
                std::process::Stdio::from(full),
                std::process::Stdio::piped(),
                false,
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains("cannot write the output"), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

/// File names, history rows and lock rows holding terminal escapes (a title change, a
/// hyperlink, a cleared screen), a right-to-left override and line breaks never reach the
/// terminal: such a file name is refused, naming it escaped; what the database holds is shown
/// escaped in text output; JSON keeps it, escaped by JSON's own rules.
#[test]
fn control_characters_never_reach_the_terminal() {
    let project = sqlite_project();
    let clean = |run: &support::Run| {
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.contains('\x1b') && !text.contains('\u{202e}') && !text.contains('\r'),
                "{run:#?}"
            );
        }
    };
    let hostile = [
        "V1__title\x1b]0;pwned\x07.sql",
        "V2__clear\x1b[2J.sql",
        "V3__right\u{202e}lqs.exe.sql",
        "V4__two\nValid: every applied migration matches its file.\n.sql",
        "V5__back\rspace.sql",
    ];
    for name in hostile {
        project.write(name, "-- upgrade\nCREATE TABLE t (id INTEGER);\n");
        for args in [
            &["upgrade"][..],
            &["status"],
            &["validate"],
            &["lint", "--all"],
        ] {
            let run = project.run(args);
            assert_ne!(run.code, 0, "{name:?} {args:?}: {run:#?}");
            assert!(!run.stderr.contains("panicked"), "{run:#?}");
            assert!(
                run.stderr
                    .contains("holds a control character or a direction override"),
                "{name:?} {args:?}: {run:#?}"
            );
            assert!(!run.stderr.contains("\nValid:"), "a faked line: {run:#?}");
            clean(&run);
        }
        std::fs::remove_file(project.migrations().join(name)).unwrap();
    }
    // What the database holds is anyone's text: a history row and the lock row.
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    let pool_url = format!(
        "sqlite://{}",
        project.root().join("jetbase/app.db").display()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&pool_url).await.unwrap();
        sqlx::query(
            "UPDATE jetbase_migrations SET applied_at = ?, checksum = ? WHERE version = '1'",
        )
        .bind("2026-01-01\x1b[2J")
        .bind("\u{202e}abc")
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "UPDATE jetbase_lock SET is_locked = 1, locked_at = ?, process_id = ? WHERE id = 1",
        )
        .bind("2026-01-01\x1b[2J")
        .bind("jb1:manual:\x1b]8;;http://evil\x07x")
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
    for args in [
        &["history"][..],
        &["status"],
        &["current"],
        &["lock-status"],
    ] {
        let run = project.run(args);
        assert!(!run.stderr.contains("panicked"), "{run:#?}");
        clean(&run);
    }
    let history = project.run(&["history"]).ok();
    assert!(history.stdout.contains("2026-01-01\\e[2J"), "{history:#?}");
    let lock = project.run(&["lock-status"]).ok();
    assert!(
        lock.stdout.contains("jb1:manual:\\e]8;;http://evil\\u{7}x"),
        "{lock:#?}"
    );
    let json = project.run(&["history", "--json"]).ok();
    assert!(json.stdout.contains("2026-01-01\\u001b[2J"), "{json:#?}");
}

/// Sends `signal` (`TERM`, `INT`) to the process `pid`.
fn send_signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits up to a minute for `ready`, polling; false when it never came.
fn wait_for(mut ready: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A SQLite migration that writes for a few seconds.
const SLOW_SQLITE: &str = "-- upgrade\nCREATE TABLE big (id INTEGER, pad TEXT);\n\
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) \
    INSERT INTO big SELECT x, hex(randomblob(40)) FROM c;\n-- rollback\nDROP TABLE big;\n";

/// `upgrade --rehearse` and `check-rollback` on SQLite work on a copy of the database in the
/// temporary directory: readable by its owner only (the copy holds every row), and deleted
/// when the command is stopped by SIGTERM or SIGINT, not left behind.
#[test]
fn sqlite_copies_are_private_and_removed_on_a_signal() {
    let project = sqlite_project();
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    project.write("V2__big.sql", SLOW_SQLITE);
    let temp = tempfile::tempdir().unwrap();
    for (args, signal, code) in [
        (&["upgrade", "--rehearse"][..], "TERM", 143),
        (&["check-rollback"], "INT", 130),
    ] {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_jetbase"))
            .args(args)
            .current_dir(project.root())
            .env("JETBASE_DATABASE_URL", &project.url)
            .env("TMPDIR", temp.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let copies = || -> Vec<std::path::PathBuf> {
            std::fs::read_dir(temp.path())
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.to_string_lossy().contains("jetbase-rehearsal"))
                .collect()
        };
        let copy_is_filling = || {
            copies().first().is_some_and(|dir| {
                std::fs::metadata(dir.join("copy.db")).is_ok_and(|m| m.len() > 0)
            })
        };
        assert!(wait_for(copy_is_filling), "{args:?}: no copy was made");
        {
            use std::os::unix::fs::PermissionsExt;
            let directory = &copies()[0];
            let mode = std::fs::metadata(directory).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{args:?}: {directory:?}");
            let mode = std::fs::metadata(directory.join("copy.db"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{args:?}");
        }
        send_signal(child.id(), signal);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains("interrupted by SIG"), "{stderr}");
        assert!(copies().is_empty(), "{args:?}: {:?} left behind", copies());
    }
    // Nothing of the rehearsals reached the database.
    let status = project.run(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["state"], "pending", "{status}");
}

/// `drift` builds the schema in a scratch database beside the live one: Ctrl-C in the middle
/// stops it and drops the scratch database.
#[tokio::test]
async fn drift_scratch_database_is_dropped_on_a_signal() {
    let db = common::postgres().await;
    let project = Project::new(&cli_url(&db));
    // Slow only where drift rebuilds it.
    project.write(
        "V1__slow_in_scratch.sql",
        "-- upgrade\nSELECT pg_sleep(CASE WHEN current_database() LIKE 'jetbase_drift%' THEN 60 ELSE 0 END);\n",
    );
    project.run(&["upgrade"]).ok();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .args(["drift"])
        .current_dir(project.root())
        .env("JETBASE_DATABASE_URL", &project.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let scratch = format!("jetbase_drift_{}_%", child.id());
    let sql = format!("SELECT datname::text FROM pg_database WHERE datname LIKE '{scratch}'");
    let started = Instant::now();
    while db.pool.strings(&sql).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no scratch database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Inside the slow migration.
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_signal(child.id(), "INT");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        db.pool.strings(&sql).await.is_empty(),
        "the scratch database is left: {stderr}"
    );
}

/// `init --database-url` with a password writes jetbase.toml readable by its owner only, and
/// says so; without one, as an editor would.
#[cfg(unix)]
#[test]
fn init_keeps_a_password_private() {
    use std::os::unix::fs::PermissionsExt;
    let with_password = Project::empty("sqlite:///unused.db");
    let run = with_password
        .run_in(
            with_password.root(),
            &["init", "--database-url", "postgres://app:s3cret@db/app"],
            &[],
        )
        .ok();
    let config = with_password.root().join("jetbase/jetbase.toml");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        run.stdout.contains("holds the database password"),
        "{run:#?}"
    );
    assert!(
        std::fs::read_to_string(&config).unwrap().contains("s3cret"),
        "the URL is written as given"
    );
    let without = Project::empty("sqlite:///unused.db");
    let run = without
        .run_in(
            without.root(),
            &["init", "--database-url", "sqlite:///app.db"],
            &[],
        )
        .ok();
    let mode = std::fs::metadata(without.root().join("jetbase/jetbase.toml"))
        .unwrap()
        .permissions()
        .mode();
    // As an editor makes a file under this umask (0644 under the usual 022).
    let editor = without.root().join("by_an_editor");
    std::fs::write(&editor, "").unwrap();
    let editor_mode = std::fs::metadata(&editor).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, editor_mode & 0o644);
    assert!(!run.stdout.contains("password"), "{run:#?}");
}

/// A write that fails half way (a full disk: here a file size limit of 0, which fails the same
/// way) leaves no empty migration and no empty jetbase.toml to break every later command.
#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_empty_file() {
    let project = sqlite_project();
    let limited = |args: &str, dir: &std::path::Path| {
        // The shell ignores SIGXFSZ for the command, which then sees the write fail (EFBIG).
        std::process::Command::new("sh")
            .args([
                "-c",
                &format!(
                    "trap '' XFSZ; ulimit -f 0; exec {} {args}",
                    env!("CARGO_BIN_EXE_jetbase")
                ),
            ])
            .current_dir(dir)
            .env_remove("JETBASE_DATABASE_URL")
            .output()
            .unwrap()
    };
    let output = limited("new create_users", project.root());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot create"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(project.migrations())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    project.run(&["status"]).ok();

    let fresh = tempfile::tempdir().unwrap();
    let output = limited("init", fresh.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        !fresh.path().join("jetbase/jetbase.toml").exists(),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(fresh.path().join("jetbase"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, ["migrations"], "no temporary file is left");
}

/// A schema name PostgreSQL would not keep as written is refused before any SQL (exit 2): one
/// over 63 bytes (the server cuts it, and could land on another tenant's schema), an empty
/// one, a system schema.
#[tokio::test]
async fn schema_names_postgres_would_not_keep_are_refused() {
    let db = common::postgres().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    let long = "t".repeat(64);
    for (schema, said) in [
        (
            long.as_str(),
            "is 64 bytes long; PostgreSQL keeps only the first 63",
        ),
        ("information_schema", "one of PostgreSQL's system schemas"),
        ("pg_catalog", "one of PostgreSQL's system schemas"),
    ] {
        let env = [
            ("JETBASE_DATABASE_URL", project.url.as_str()),
            ("JETBASE_POSTGRES_SCHEMA", schema),
        ];
        for command in ["upgrade", "status"] {
            let run = project.run_in(project.root(), &[command], &env);
            assert_eq!(run.code, 2, "{run:#?}");
            assert!(run.stderr.contains("invalid postgres_schema"), "{run:#?}");
            assert!(run.stderr.contains(said), "{run:#?}");
        }
    }
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "postgres_schema = \"\"\n",
    )
    .unwrap();
    let run = project.run(&["upgrade"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("the name is empty"), "{run:#?}");
    // The schemas of a fleet: all checked before any target runs.
    std::fs::write(project.root().join("jetbase/jetbase.toml"), "").unwrap();
    let run = project.run(&[
        "upgrade",
        "--schema",
        "tenant_ok",
        "--schema",
        "information_schema",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("system schemas"), "{run:#?}");
    assert_eq!(
        tables_named(&db, "jetbase_migrations").await,
        0,
        "nothing ran"
    );
    assert_eq!(tables_named(&db, "jetbase_migrations").await, 0);
    assert_eq!(tables_named(&db, "items").await, 0);
}

/// On a terminal (`script` gives the command one), rolling back everything asks: anything but
/// yes changes nothing, yes goes on.
#[test]
fn on_a_terminal_rolling_back_everything_asks() {
    let project = sqlite_project();
    for version in 1..=3 {
        project.write(
            &format!("V{version}__t{version}.sql"),
            &format!("-- upgrade\nCREATE TABLE t{version} (id INTEGER);\n-- rollback\nDROP TABLE t{version};\n"),
        );
    }
    project.run(&["upgrade"]).ok();
    let on_terminal = |answer: &str| {
        let mut child = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{} rollback -c 99", env!("CARGO_BIN_EXE_jetbase")),
                "/dev/null",
            ])
            .current_dir(project.root())
            .env("JETBASE_DATABASE_URL", &project.url)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("`script` (util-linux) runs");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, shown) = on_terminal("n\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("This rolls back every applied migration (3)")
            && shown.contains("Go on? [y/N]")
            && shown.contains("not confirmed: nothing was changed"),
        "{shown}"
    );
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(history["migrations"].as_array().unwrap().len(), 3);
    let (code, shown) = on_terminal("yes\n");
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("Rolled back 3 migrations."), "{shown}");
}
