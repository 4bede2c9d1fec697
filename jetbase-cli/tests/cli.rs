//! The `jetbase` binary, run in temporary project directories: every command on SQLite, the
//! whole life cycle on SQLite, PostgreSQL and MariaDB, configuration, output and exit codes.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

// The database helpers of the jetbase crate's tests: a fresh database per test, and
// `database_test!`, which runs one body on SQLite, PostgreSQL and MySQL/MariaDB.
#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Query, TestDb};
use serde_json::Value;
use support::{Project, cli_url, password_of};

const CREATE_ITEMS: &str = "-- upgrade\nCREATE TABLE items (id INTEGER NOT NULL, name VARCHAR(50));\n\n-- rollback\nDROP TABLE items;\n";
const FIRST_ITEM: &str = "-- upgrade\nINSERT INTO items (id, name) VALUES (1, 'one');\n\n-- rollback\nDELETE FROM items WHERE id = 1;\n";

/// init → new → edit → upgrade → status → history → current → rollback → validate →
/// lock/unlock, on each database.
async fn the_life_cycle<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    assert!(project.root().join("jetbase/jetbase.toml").is_file());
    let created = project.run(&["new", "create items", "-v", "1"]).ok();
    assert_eq!(
        created.stdout.trim(),
        Path::new("jetbase/migrations/V1__create_items.sql")
            .display()
            .to_string()
    );
    assert_eq!(
        std::fs::read_to_string(project.migrations().join("V1__create_items.sql")).unwrap(),
        "-- upgrade\n\n-- rollback\n"
    );
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["new", "first item", "-v", "2"]).ok();
    project.write("V2__first_item.sql", FIRST_ITEM);

    let status = project.run(&["status", "--json"]).ok().json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending", "pending"]);
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "status creates nothing"
    );

    let upgrade = project.run(&["upgrade", "--json"]).ok().json();
    let applied: Vec<&str> = upgrade["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["filename"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["V1__create_items.sql", "V2__first_item.sql"]);
    assert_eq!(db.pool.count("SELECT id FROM items").await, 1);

    let status = project.run(&["status"]).ok();
    assert!(
        status.stdout.contains("2 applied, 0 pending"),
        "{}",
        status.stdout
    );
    let history = project.run(&["history", "--json"]).ok().json();
    let rows = history["migrations"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["version"], "2");
    assert_eq!(rows[1]["migration_type"], "VERSIONED");
    assert_eq!(rows[1]["checksum"].as_str().unwrap().len(), 64);
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "2"
    );

    let rollback = project.run(&["rollback", "--json"]).ok().json();
    assert_eq!(rollback["migrations"][0]["filename"], "V2__first_item.sql");
    assert_eq!(db.pool.count("SELECT id FROM items").await, 0);
    assert_eq!(db.applied_versions().await, ["1"]);
    project.run(&["validate"]).ok();

    // A lock taken by hand holds upgrades off until `unlock`.
    project.run(&["lock"]).ok();
    let status = project.run(&["lock-status", "--json"]).ok().json();
    assert_eq!(status["locked"], true);
    assert_eq!(status["manual"], true);
    let held = project.run(&["lock-status", "--exit-code"]).fails_with(3);
    assert!(
        held.stdout.contains("Status: LOCKED") && held.stderr.is_empty(),
        "{held:#?}"
    );
    let waited = project
        .run(&["upgrade", "--lock-timeout", "1"])
        .fails_with(1);
    assert!(waited.stderr.contains("jb1:manual:"), "{waited:#?}");
    assert!(waited.stderr.contains("jetbase unlock"), "{waited:#?}");
    assert_eq!(db.applied_versions().await, ["1"]);
    project.run(&["unlock"]).ok();
    assert_eq!(
        project.run(&["lock-status", "--json"]).ok().json()["locked"],
        false
    );
    project.run(&["lock-status", "--exit-code"]).ok();
    project.run(&["upgrade"]).ok();
    assert_eq!(db.applied_versions().await, ["1", "2"]);
}
database_test!(
    the_life_cycle,
    the_life_cycle,
    also_on_databricks,
    also_on_clusters
);

/// An applied file edited, another deleted: `validate` and `upgrade` exit 1, `validate --fix`
/// repairs the history, then both pass.
async fn drift_fails_validation_until_fixed<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    project.run(&["upgrade"]).ok();
    project.write(
        "V1__create_items.sql",
        &CREATE_ITEMS.replace("VARCHAR(50)", "VARCHAR(60)"),
    );
    let validate = project.run(&["validate"]).fails_with(1);
    assert!(
        validate.stdout.contains("V1__create_items.sql"),
        "{validate:#?}"
    );
    assert!(
        validate.stderr.contains("validation found 1 problem"),
        "{validate:#?}"
    );
    let json = project.run(&["validate", "--json"]).fails_with(1).json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["problems"][0]["kind"], "checksum_mismatch");
    project.write("V3__more.sql", "INSERT INTO items (id) VALUES (3);");
    project.run(&["upgrade"]).fails_with(1);
    assert_eq!(db.applied_versions().await, ["1", "2"]);

    let fixed = project.run(&["validate", "--fix", "--json"]).ok().json();
    assert_eq!(fixed["valid"], true);
    assert_eq!(
        fixed["repaired"]["checksums_updated"][0]["filename"],
        "V1__create_items.sql"
    );
    project.run(&["validate"]).ok();
    project.run(&["upgrade"]).ok();
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
}
database_test!(
    drift_fails_validation_until_fixed,
    drift_fails_validation_until_fixed
);

/// `upgrade` lints the pending migrations first: it prints what it finds and goes on, and with
/// `--lint=deny` an error stops it before anything runs.
async fn upgrade_lints_the_pending_migrations_first<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    // A migration each database's lint objects to: an error on PostgreSQL and SQLite, a
    // warning on MySQL/MariaDB.
    let (risky, rule, level) = match db.dialect {
        common::Dialect::Postgres => (
            "CREATE INDEX ix_items_name ON items (name);\n-- rollback\nDROP INDEX ix_items_name;\n",
            "require-concurrent-index-creation",
            "error",
        ),
        common::Dialect::MySql => (
            "ALTER TABLE items ADD COLUMN note VARCHAR(20);\n-- rollback\nALTER TABLE items DROP COLUMN note;\n",
            "mysql-alter-without-algorithm",
            "warning",
        ),
        common::Dialect::Sqlite => (
            "ALTER TABLE items ADD COLUMN note INTEGER NOT NULL;\n-- rollback\nALTER TABLE items DROP COLUMN note;\n",
            "sqlite-not-null-column-without-default",
            "error",
        ),
        other => panic!("no lint test for {other}"),
    };
    project.write("V2__risky.sql", risky);
    let finding = format!("V2__risky.sql:1: {level}[{rule}]");
    let denied = project.run(&["upgrade", "--lint=deny"]);
    assert!(denied.stderr.contains(&finding), "{denied:#?}");
    if level == "error" {
        assert_eq!(denied.code, 1, "{denied:#?}");
        assert!(denied.stderr.contains("--lint=deny"), "{denied:#?}");
        assert_eq!(db.applied_versions().await, ["1"], "nothing ran");
        if db.dialect == common::Dialect::Sqlite {
            // It would fail at run time anyway: the lint said so before it ran.
            return;
        }
        // By default the findings are printed and the upgrade goes on.
        let warned = project.run(&["upgrade"]).ok();
        assert!(warned.stderr.contains(&finding), "{warned:#?}");
    } else {
        assert_eq!(denied.code, 0, "warnings never block: {denied:#?}");
    }
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    // Nothing pending: nothing linted.
    let again = project.run(&["upgrade"]).ok();
    assert!(!again.stderr.contains("lint:"), "{again:#?}");
    assert!(again.stdout.contains("up to date"), "{again:#?}");
    // `jetbase lint` with a database URL: the pending migrations only, unless --all.
    let pending_only = project.run(&["--json", "lint"]).ok().json();
    assert_eq!(pending_only["findings"], serde_json::json!([]));
    let all = project.run(&["--json", "lint", "--all"]);
    assert_eq!(all.code, i32::from(level == "error"), "{all:#?}");
    let findings: Value = serde_json::from_str(&all.stdout).unwrap();
    assert!(
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["file"] == "V2__risky.sql" && finding["rule"] == rule),
        "{all:#?}"
    );
}
database_test!(
    upgrade_lints_the_pending_migrations_first,
    upgrade_lints_the_pending_migrations_first,
    not_on_warehouses = "the lint's rules are for PostgreSQL, MySQL/MariaDB and SQLite"
);

/// `upgrade` of a migration that waits for a lock another session holds: a line on stderr for
/// each retry, then success once the session lets go.
async fn upgrade_says_each_retry<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    project.write(
        "V2__add_note.sql",
        "-- jetbase: table-lock-timeout=1s\n-- jetbase: retries=5\n\
         ALTER TABLE items ADD COLUMN note VARCHAR(20);\n-- rollback\nALTER TABLE items DROP COLUMN note;\n",
    );
    // PostgreSQL, MariaDB: a transaction that read the table; SQLite: a write transaction.
    let blocker = db.pool.single_connection_pool(&db.url).await;
    let (begin, statement) = match db.dialect {
        common::Dialect::Sqlite => (
            "BEGIN IMMEDIATE",
            "INSERT INTO items (id, name) VALUES (1, 'one')",
        ),
        _ => ("BEGIN", "SELECT id FROM items"),
    };
    blocker.exec(begin).await;
    blocker.exec(statement).await;
    let upgrade = tokio::task::spawn_blocking(move || {
        let run = project.run(&["upgrade"]);
        (project, run)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    blocker.exec("COMMIT").await;
    let (_project, run) = upgrade.await.unwrap();
    assert_eq!(run.code, 0, "{run:#?}");
    if db.dialect == common::Dialect::Sqlite {
        // SQLite's writer locks the whole file: the run waits for it already while taking
        // jetbase's own lock, before the migration starts (the library's tests make a SQLite
        // migration retry).
        assert!(!run.stderr.contains("trying again"), "{run:#?}");
    } else {
        assert!(
            run.stderr.contains(
                "V2__add_note.sql: could not get a lock on `items` in time (attempt 1 of 6: "
            ),
            "{run:#?}"
        );
        assert!(run.stderr.contains("; trying again in "), "{run:#?}");
    }
    assert_eq!(db.applied_versions().await, ["1", "2"]);
}
database_test!(
    upgrade_says_each_retry,
    upgrade_says_each_retry,
    not_on_warehouses = "no table locks to wait for"
);

/// `upgrade --rehearse`: the table (with PostgreSQL's locks) or JSON, exit 1 naming the failed
/// file and line, and nothing left behind; refused where DDL cannot be undone.
async fn upgrade_rehearse_reports_and_leaves_nothing<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    project.write(
        "V2__add_note.sql",
        "ALTER TABLE items ADD COLUMN note VARCHAR(20);\n-- rollback\nALTER TABLE items DROP COLUMN note;\n",
    );
    project.write(
        "V3__broken.sql",
        "INSERT INTO items (id) VALUES (7);\nINSERT INTO no_such_table (id) VALUES (1);\n",
    );
    let failed = project
        .run(&["upgrade", "--rehearse", "--lint=off"])
        .fails_with(1);
    if db.dialect == common::Dialect::MySql {
        assert!(
            failed.stderr.contains("rehearsal refused") && failed.stderr.contains("cannot undo"),
            "{failed:#?}"
        );
    } else {
        assert!(
            failed
                .stderr
                .contains("rehearsal: `V3__broken.sql` failed at line 2"),
            "{failed:#?}"
        );
        assert!(failed.stdout.contains("V2__add_note.sql"), "{failed:#?}");
        assert!(
            failed.stdout.contains("nothing of them remains"),
            "{failed:#?}"
        );
        let rehearsed = project
            .run(&[
                "--json",
                "upgrade",
                "--rehearse",
                "--to-version",
                "2",
                "--lint=off",
            ])
            .ok()
            .json();
        let rehearsal = &rehearsed["rehearsal"];
        assert_eq!(rehearsal["succeeded"], true);
        assert_eq!(rehearsal["migrations"][0]["filename"], "V2__add_note.sql");
        let locks = &rehearsal["migrations"][0]["locks"];
        if db.dialect == common::Dialect::Postgres {
            assert_eq!(
                locks,
                &serde_json::json!([{"table": "public.items", "mode": "AccessExclusiveLock"}])
            );
        } else {
            assert_eq!(locks, &serde_json::json!([]));
        }
    }
    assert_eq!(db.applied_versions().await, ["1"]);
    assert!(db.pool.try_exec("SELECT note FROM items").await.is_err());
    project
        .run(&["upgrade", "--rehearse", "--dry-run"])
        .fails_with(2);
}
database_test!(
    upgrade_rehearse_reports_and_leaves_nothing,
    upgrade_rehearse_reports_and_leaves_nothing,
    not_on_warehouses = "refused there as on MySQL (the library's test covers it)"
);

/// `check-rollback`: what each rollback forgets, exit 1; on MySQL/MariaDB on a scratch database
/// created and dropped; exit 0 once the rollbacks are right. The database itself is unchanged.
async fn check_rollback_reports_what_rollbacks_forget<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write(
        "V1__create_users.sql",
        "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100));\n-- rollback\nDROP TABLE users;\n",
    );
    project.run(&["upgrade"]).ok();
    project.write(
        "V2__email_index.sql",
        "CREATE INDEX ix_users_email ON users (email);\n-- rollback\nSELECT 1;\n",
    );
    project.write("V3__create_tags.sql", "CREATE TABLE tags (id INTEGER);\n");
    let mut scratch_args: Vec<String> = Vec::new();
    if db.dialect == common::Dialect::MySql {
        let refused = project.run(&["check-rollback"]).fails_with(1);
        assert!(refused.stderr.contains("--scratch-url"), "{refused:#?}");
        let scratch = common::with_database(&db.url, &common::unique_name());
        scratch_args = vec!["--scratch-url".to_owned(), scratch];
    }
    let mut args = vec!["--json", "check-rollback"];
    args.extend(scratch_args.iter().map(String::as_str));
    let failed = project.run(&args).fails_with(1);
    let check: Value = serde_json::from_str(&failed.stdout).unwrap();
    assert_eq!(check["passed"], false);
    if db.dialect == common::Dialect::MySql {
        // Nothing undoes a failed step on a scratch database: the check ends there.
        assert!(
            failed.stderr.contains(
                "1 of 1 migration does not roll back cleanly, and 1 could not be checked"
            ),
            "{failed:#?}"
        );
        assert_eq!(
            check["not_reached"],
            serde_json::json!(["V3__create_tags.sql"])
        );
    } else {
        assert!(
            failed
                .stderr
                .contains("2 of 2 migrations do not roll back cleanly"),
            "{failed:#?}"
        );
        assert_eq!(check["migrations"][1]["has_rollback_sql"], false);
    }
    let index = &check["migrations"][0];
    assert_eq!(index["filename"], "V2__email_index.sql");
    assert_eq!(
        index["differences"],
        serde_json::json!(["index ix_users_email on users (email) remains"])
    );
    assert_eq!(index["failure"]["step"], "upgrade again");
    assert_eq!(db.applied_versions().await, ["1"]);
    assert!(db.pool.try_exec("SELECT 1 FROM tags").await.is_err());
    if let [_, scratch] = &scratch_args[..] {
        let name = scratch
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        let left = db
            .pool
            .count(&format!(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '{name}'"
            ))
            .await;
        assert_eq!(left, 0, "the scratch database {name} was dropped");
    }

    let drop_index = if db.dialect == common::Dialect::MySql {
        "DROP INDEX ix_users_email ON users"
    } else {
        "DROP INDEX ix_users_email"
    };
    project.write(
        "V2__email_index.sql",
        &format!("CREATE INDEX ix_users_email ON users (email);\n-- rollback\n{drop_index};\n"),
    );
    project.write(
        "V3__create_tags.sql",
        "CREATE TABLE tags (id INTEGER);\n-- rollback\nDROP TABLE tags;\n",
    );
    let mut args = vec!["check-rollback"];
    args.extend(scratch_args.iter().map(String::as_str));
    let passed = project.run(&args).ok();
    assert!(
        passed.stdout.contains("Every rollback restores the schema"),
        "{passed:#?}"
    );
}
database_test!(
    check_rollback_reports_what_rollbacks_forget,
    check_rollback_reports_what_rollbacks_forget,
    not_on_warehouses = "no schema introspection there (the library's test covers the refusal)"
);

/// Writes a diesel migration folder under `<root>/migrations`.
fn diesel_folder(project: &Project, folder: &str, up: &str, down: &str, metadata: Option<&str>) {
    let dir = project.root().join("migrations").join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("up.sql"), up).unwrap();
    std::fs::write(dir.join("down.sql"), down).unwrap();
    if let Some(metadata) = metadata {
        std::fs::write(dir.join("metadata.toml"), metadata).unwrap();
    }
}

/// `adopt diesel` on a database migrated by diesel's rules (each `up.sql` run, then a row in
/// `__diesel_schema_migrations` whose version is the folder's digits, as diesel writes it):
/// status shows those applied, upgrade runs only the rest, rollback runs the converted
/// `down.sql`; a row whose folder is gone is refused with nothing written.
async fn adopt_diesel_keeps_the_database_as_it_is<P: Query>(db: &TestDb<P>) {
    let project = Project::empty(&cli_url(db));
    diesel_folder(
        &project,
        "2024-01-01-000001_create_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n",
        "DROP TABLE users;\n",
        None,
    );
    diesel_folder(
        &project,
        "2024-01-02-000002_add_email",
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n",
        "ALTER TABLE users DROP COLUMN email;\n",
        None,
    );
    diesel_folder(
        &project,
        "2024-01-03-000003_create_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE posts;\n",
        Some("run_in_transaction = false\n"),
    );
    db.pool
        .exec(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        )
        .await;
    for (version, up) in [
        (
            "20240101000001",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50))",
        ),
        (
            "20240102000002",
            "ALTER TABLE users ADD COLUMN email VARCHAR(100)",
        ),
    ] {
        db.pool.exec(up).await;
        db.pool
            .exec(&format!(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')"
            ))
            .await;
    }
    // A row whose folder is gone: refused, nothing converted or recorded.
    db.pool
        .exec("INSERT INTO __diesel_schema_migrations (version) VALUES ('20231231000000')")
        .await;
    let refused = project.run(&["adopt", "diesel"]).fails_with(1);
    assert!(
        refused
            .stderr
            .contains("lists version 20231231000000 as applied, but no file has that version"),
        "{refused:#?}"
    );
    assert!(!project.root().join("jetbase").exists());
    db.pool
        .exec("DELETE FROM __diesel_schema_migrations WHERE version = '20231231000000'")
        .await;

    let adopted = project.run(&["--json", "adopt", "diesel"]).ok().json();
    assert_eq!(adopted["tool_table"], "__diesel_schema_migrations");
    assert_eq!(
        adopted["converted"][0],
        serde_json::json!({
            "source": "2024-01-01-000001_create_users/up.sql",
            "filename": "V20240101000001__create_users.sql",
        })
    );
    assert_eq!(
        adopted["recorded"],
        serde_json::json!([
            "V20240101000001__create_users.sql",
            "V20240102000002__add_email.sql"
        ])
    );
    let posts = std::fs::read_to_string(
        project
            .migrations()
            .join("V20240103000003__create_posts.sql"),
    )
    .unwrap();
    assert!(
        posts.starts_with("-- jetbase: no-transaction\n-- upgrade\n"),
        "{posts}"
    );
    assert!(
        posts.contains("\n-- rollback\nDROP TABLE posts;"),
        "{posts}"
    );

    let status = project.run(&["--json", "status"]).ok().json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "applied", "pending"]);
    project.run(&["upgrade", "--lint=off"]).ok();
    assert_eq!(
        db.applied_versions().await,
        ["20240101000001", "20240102000002", "20240103000003"]
    );
    let again = project.run(&["upgrade"]).ok();
    assert!(again.stdout.contains("up to date"), "{again:#?}");
    // The converted down.sql runs.
    project.run(&["rollback", "--count", "2"]).ok();
    assert!(db.pool.try_exec("SELECT 1 FROM posts").await.is_err());
    assert!(db.pool.try_exec("SELECT email FROM users").await.is_err());
    // diesel's table is left as it was.
    assert_eq!(
        db.pool
            .count("SELECT version FROM __diesel_schema_migrations")
            .await,
        2
    );
    // Adopting again is refused: the history is jetbase's now.
    let twice = project.run(&["adopt", "diesel"]).fails_with(1);
    assert!(twice.stderr.contains("under jetbase already"), "{twice:#?}");
}
database_test!(
    adopt_diesel_keeps_the_database_as_it_is,
    adopt_diesel_keeps_the_database_as_it_is,
    not_on_warehouses = "diesel does not migrate them"
);

fn sqlite_project() -> Project {
    Project::new("sqlite://app.db")
}

#[test]
fn baseline_records_up_to_a_version_and_refuses_the_rest() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    let missing = project.run(&["baseline", "7"]).fails_with(1);
    assert!(
        missing
            .stderr
            .contains("baseline refused: no migration file has version 7"),
        "{missing:#?}"
    );
    project.run(&["baseline", "not a version"]).fails_with(2);
    let recorded = project.run(&["--json", "baseline", "1"]).ok().json();
    assert_eq!(
        recorded["migrations"][0]["filename"],
        "V1__create_items.sql"
    );
    assert_eq!(recorded["migrations"].as_array().unwrap().len(), 1);
    let status = project.run(&["--json", "status"]).ok().json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "pending"]);
    // V1 was recorded, not run: V2's INSERT fails on the missing table, as it should here.
    let again = project.run(&["baseline", "2"]).fails_with(1);
    assert!(
        again
            .stderr
            .contains("already recorded in the history (V1__create_items.sql)"),
        "{again:#?}"
    );
    let text = Project::new("sqlite://other.db");
    text.write("V1__create_items.sql", CREATE_ITEMS);
    let out = text.run(&["baseline", "1"]).ok();
    assert!(
        out.stdout
            .contains("Recorded, without running them, 1 migration."),
        "{out:#?}"
    );
}

#[test]
fn wait_returns_when_current_and_times_out_naming_what_is_pending() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    let started = Instant::now();
    let late = project
        .run(&["wait", "--timeout", "0.5", "--interval", "0.1"])
        .fails_with(1);
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(
        late.stderr.contains("the database is not current after")
            && late
                .stderr
                .contains("1 migration pending (V1__create_items.sql)"),
        "{late:#?}"
    );
    assert!(
        !project.root().join("jetbase/app.db").exists(),
        "a wait creates nothing"
    );
    let json = project.run(&["--json", "wait", "--timeout", "0"]);
    assert_eq!(json.code, 1);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["current"], false);
    assert_eq!(json["pending"], serde_json::json!(["V1__create_items.sql"]));
    project.run(&["upgrade"]).ok();
    let current = project.run(&["--json", "wait"]).ok().json();
    assert_eq!(current["current"], true);
    assert_eq!(current["pending"], serde_json::json!([]));
    let text = project.run(&["wait", "--timeout", "1"]).ok();
    assert!(
        text.stdout.starts_with("The database is current"),
        "{text:#?}"
    );
    project.run(&["wait", "--interval", "-1"]).fails_with(2);
}

#[test]
fn every_python_alias_works_on_sqlite() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    project.run(&["migrate", "--count", "1"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "1"
    );
    project.run(&["migrate"]).ok();
    // The file of version 2 goes, version 1 is edited.
    std::fs::remove_file(project.migrations().join("V2__first_item.sql")).unwrap();
    project.write(
        "V1__create_items.sql",
        &CREATE_ITEMS.replace("items", "items "),
    );
    let checksums = project
        .run(&["validate-checksums", "--json"])
        .fails_with(1)
        .json();
    assert_eq!(checksums["problems"].as_array().unwrap().len(), 1);
    assert_eq!(checksums["problems"][0]["kind"], "checksum_mismatch");
    let files = project
        .run(&["validate-files", "--json"])
        .fails_with(1)
        .json();
    assert_eq!(files["problems"].as_array().unwrap().len(), 1);
    // The highest version's file gone: to this binary, a newer release's (the same repair).
    assert_eq!(files["problems"][0]["kind"], "newer_database");
    project.run(&["fix-checksums"]).ok();
    project.run(&["validate-checksums"]).ok();
    project.run(&["validate-files"]).fails_with(1);
    project.run(&["fix-files"]).ok();
    project.run(&["validate"]).ok();

    // `fix` does both.
    project.write(
        "V2__first_item.sql",
        &FIRST_ITEM.replace("1, 'one'", "2, 'two'"),
    );
    project.run(&["upgrade"]).ok();
    std::fs::remove_file(project.migrations().join("V2__first_item.sql")).unwrap();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["validate"]).fails_with(1);
    let fixed = project.run(&["fix"]).ok();
    assert!(
        fixed
            .stdout
            .contains("accepted the edit of V1__create_items.sql"),
        "{fixed:#?}"
    );
    assert!(
        fixed.stdout.contains("stopped tracking V2__first_item.sql"),
        "{fixed:#?}"
    );
    project.run(&["validate-checksums", "--fix"]).ok();
    project.run(&["validate-files", "--fix"]).ok();
    project.run(&["validate"]).ok();
    assert_eq!(
        project.run(&["history", "--json"]).ok().json()["migrations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn upgrade_and_rollback_options_on_sqlite() {
    let project = sqlite_project();
    for version in 1..=4 {
        let body = if version == 1 {
            CREATE_ITEMS.to_owned()
        } else {
            format!(
                "INSERT INTO items (id) VALUES ({version});\n-- rollback\nDELETE FROM items WHERE id = {version};"
            )
        };
        project.write(&format!("V{version}__step.sql"), &body);
    }
    let dry = project.run(&["upgrade", "--dry-run"]).ok();
    assert!(dry.stdout.contains("CREATE TABLE items"), "{dry:#?}");
    assert!(dry.stdout.contains("nothing was changed"), "{dry:#?}");
    assert!(
        !project.root().join("jetbase/app.db").exists(),
        "a dry run creates no database file"
    );
    let dry_json = project.run(&["upgrade", "--dry-run", "--json"]).ok().json();
    assert_eq!(dry_json["dry_run"], true);
    assert_eq!(
        dry_json["migrations"][0]["sql"][0].as_str().unwrap().trim(),
        "CREATE TABLE items (id INTEGER NOT NULL, name VARCHAR(50))"
    );
    project.run(&["upgrade", "-t", "2"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "2"
    );
    project.run(&["upgrade", "-c", "1"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "3"
    );
    project.run(&["upgrade"]).ok();
    let up_to_date = project.run(&["upgrade"]).ok();
    assert!(up_to_date.stdout.contains("up to date"), "{up_to_date:#?}");
    let dry = project.run(&["rollback", "-c", "2", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("DELETE FROM items WHERE id = 4"),
        "{dry:#?}"
    );
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "4"
    );
    project.run(&["rollback", "-t", "2"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "2"
    );
    project.run(&["rollback", "--count", "1"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "1"
    );
    // Usage errors: both options, a bad version.
    project
        .run(&["rollback", "-c", "1", "-t", "1"])
        .fails_with(2);
    project.run(&["upgrade", "-t", "one"]).fails_with(2);
    // A failing migration exits 1, naming the file and line.
    project.write(
        "V5__broken.sql",
        "INSERT INTO items (id) VALUES (5);\nINSERT INTO nowhere VALUES (1);",
    );
    let failed = project.run(&["upgrade"]).fails_with(1);
    assert!(failed.stderr.contains("V5__broken.sql"), "{failed:#?}");
    assert!(failed.stderr.contains("line 2"), "{failed:#?}");
    assert!(failed.stderr.contains("caused by:"), "{failed:#?}");
}

#[test]
fn status_shows_every_state_and_missing_rollback_sql() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__no_rollback.sql", "INSERT INTO items (id) VALUES (2);");
    project.write("V3__gone.sql", FIRST_ITEM);
    project.run(&["upgrade"]).ok();
    project.write("V1__create_items.sql", &CREATE_ITEMS.replace("50", "51"));
    std::fs::remove_file(project.migrations().join("V3__gone.sql")).unwrap();
    project.write("V4__pending.sql", "SELECT 1;");
    let json = project.run(&["status", "--json"]).ok().json();
    let by_file = |name: &str| {
        json["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["filename"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_file("V1__create_items.sql")["state"], "checksum_drift");
    assert_eq!(by_file("V2__no_rollback.sql")["state"], "applied");
    assert_eq!(by_file("V2__no_rollback.sql")["has_rollback_sql"], false);
    assert_eq!(by_file("V3__gone.sql")["state"], "missing_file");
    assert_eq!(by_file("V4__pending.sql")["state"], "pending");
    assert!(by_file("V2__no_rollback.sql")["applied_at"].is_string());
    assert!(by_file("V4__pending.sql")["applied_at"].is_null());
    let text = project.run(&["status"]).ok().stdout;
    for expected in [
        "changed",
        "missing",
        "pending",
        "no rollback SQL",
        "file edited after it was applied",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal: {text:?}"
    );
}

#[test]
fn commands_run_from_any_directory_below_the_project() {
    let project = Project::new("sqlite:///app.db");
    project.write("V1__create_items.sql", CREATE_ITEMS);
    let deep = project.root().join("src/deep");
    std::fs::create_dir_all(&deep).unwrap();
    let env = [("JETBASE_DATABASE_URL", "sqlite:///app.db")];
    project.run_in(&deep, &["upgrade"], &env).ok();
    // SQLAlchemy's `sqlite:///app.db` is relative to the jetbase/ directory, wherever we are.
    assert!(project.root().join("jetbase/app.db").is_file());
    assert!(!deep.join("app.db").exists());
    let inside = project.migrations();
    let status = project
        .run_in(&inside, &["status", "--json"], &env)
        .ok()
        .json();
    assert_eq!(status["migrations"][0]["state"], "applied");
    let outside = tempfile::tempdir().unwrap();
    let dir = project.root().join("jetbase");
    let status = project
        .run_in(
            outside.path(),
            &["--dir", dir.to_str().unwrap(), "status", "--json"],
            &env,
        )
        .ok()
        .json();
    assert_eq!(status["migrations"][0]["state"], "applied");
    let lost = project
        .run_in(outside.path(), &["status"], &env)
        .fails_with(2);
    assert!(lost.stderr.contains("jetbase init"), "{lost:#?}");
}

#[test]
fn each_configuration_source_is_read_in_order() {
    let project = Project::empty("");
    project.run_in(project.root(), &["init"], &[]).ok();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    let jetbase_dir = project.root().join("jetbase");
    let applied_in = |file: &str| jetbase_dir.join(file).is_file();
    let none: [(&str, &str); 0] = [];
    let upgrade = |env: &[(&str, &str)]| project.run_in(project.root(), &["upgrade"], env).ok();

    // No URL anywhere: a configuration error.
    let missing = project
        .run_in(project.root(), &["upgrade"], &none)
        .fails_with(2);
    assert!(missing.stderr.contains("no database URL"), "{missing:#?}");

    // env.py (Python Jetbase's), then jetbase.toml over it.
    std::fs::write(
        jetbase_dir.join("env.py"),
        "sqlalchemy_url = \"sqlite:///from_env_py.db\"\n",
    )
    .unwrap();
    upgrade(&none);
    assert!(applied_in("from_env_py.db"));
    std::fs::write(
        jetbase_dir.join("jetbase.toml"),
        "database_url = \"sqlite://from_toml.db\"\n",
    )
    .unwrap();
    upgrade(&none);
    assert!(applied_in("from_toml.db"));
    // DATABASE_URL is only a fallback: the file wins.
    upgrade(&[("DATABASE_URL", "sqlite://from_database_url.db")]);
    assert!(!applied_in("from_database_url.db"));
    // .env in the project root, over the file; the environment over .env; the flag over all.
    std::fs::write(
        project.root().join(".env"),
        "JETBASE_DATABASE_URL=sqlite://from_dotenv.db\n",
    )
    .unwrap();
    upgrade(&none);
    assert!(applied_in("from_dotenv.db"));
    upgrade(&[("JETBASE_SQLALCHEMY_URL", "sqlite+aiosqlite:///from_env.db")]);
    assert!(applied_in("from_env.db"));
    project
        .run_in(
            project.root(),
            &["--database-url", "sqlite://from_flag.db", "upgrade"],
            &[("JETBASE_DATABASE_URL", "sqlite://not_this.db")],
        )
        .ok();
    assert!(applied_in("from_flag.db") && !applied_in("not_this.db"));
    // DATABASE_URL when nothing else says.
    std::fs::remove_file(project.root().join(".env")).unwrap();
    std::fs::remove_file(jetbase_dir.join("env.py")).unwrap();
    std::fs::write(jetbase_dir.join("jetbase.toml"), "# nothing\n").unwrap();
    upgrade(&[("DATABASE_URL", "sqlite://from_database_url.db")]);
    assert!(applied_in("from_database_url.db"));

    // A typo in the file is a configuration error naming the key.
    std::fs::write(
        jetbase_dir.join("jetbase.toml"),
        "databse_url = \"sqlite://x.db\"\n",
    )
    .unwrap();
    let typo = project
        .run_in(project.root(), &["status"], &none)
        .fails_with(2);
    assert!(
        typo.stderr.contains("unknown key `databse_url`"),
        "{typo:#?}"
    );
}

#[test]
fn read_only_commands_never_create_a_sqlite_file() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    for command in [
        &["status"][..],
        &["history"],
        &["current"],
        &["validate"],
        &["lock-status"],
        &["unlock"],
        &["rollback"],
        &["upgrade", "--dry-run"],
    ] {
        project.run(command).ok();
        assert!(
            !project.root().join("jetbase/app.db").exists(),
            "{command:?} created the database"
        );
    }
    let current = project.run(&["current"]).ok();
    assert!(
        current
            .stdout
            .contains("No migrations have been applied yet"),
        "{current:#?}"
    );
}

#[test]
fn init_refuses_to_overwrite_and_offers_the_build_line_in_a_crate() {
    let project = Project::empty("");
    std::fs::write(
        project.root().join("Cargo.toml"),
        "[package]\nname = \"app\"\n",
    )
    .unwrap();
    let init = project.run_in(project.root(), &["init"], &[]).ok();
    assert!(
        init.stdout
            .contains("jetbase::build::rerun_if_migrations_change();"),
        "{init:#?}"
    );
    assert!(init.stdout.contains("jetbase::embed!()"), "{init:#?}");
    std::fs::write(project.root().join("jetbase/jetbase.toml"), "# mine\n").unwrap();
    let again = project.run_in(project.root(), &["init"], &[]).fails_with(2);
    assert!(again.stderr.contains("already exists"), "{again:#?}");
    assert_eq!(
        std::fs::read_to_string(project.root().join("jetbase/jetbase.toml")).unwrap(),
        "# mine\n"
    );
    // --database-url is written into a new configuration.
    let other = Project::empty("");
    other
        .run_in(
            other.root(),
            &["--database-url", "sqlite://app.db", "init"],
            &[],
        )
        .ok();
    let config = std::fs::read_to_string(other.root().join("jetbase/jetbase.toml")).unwrap();
    assert!(
        config.contains("\ndatabase_url = \"sqlite://app.db\"\n"),
        "{config}"
    );
    other.run_in(other.root(), &["upgrade"], &[]).ok();
    assert!(other.root().join("jetbase/app.db").is_file());
}

/// `init --write-build` in a Rust crate: jetbase copied from [dependencies] into
/// [build-dependencies] without default features (the rest of Cargo.toml kept, comments too),
/// the line in a new build.rs or at the top of an existing main; nothing twice; refused without
/// jetbase in [dependencies] or outside a crate.
#[test]
fn init_writes_the_build_line_and_dependency_in_a_crate() {
    let crate_dir = Project::empty("sqlite://app.db");
    let root = crate_dir.root();
    let manifest = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [dependencies]\n# the migrations\njetbase = { path = \"../jetbase-rs/jetbase\", features = [\"sqlite\"] }\n";
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    let written = crate_dir.run(&["init", "--write-build"]).ok();
    assert!(
        written
            .stdout
            .contains("jetbase added to [build-dependencies]")
            && written.stdout.contains("build.rs: written"),
        "{written:#?}"
    );
    let after = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(after.starts_with(manifest), "{after}");
    let parsed: toml::Table = after.parse().unwrap();
    assert_eq!(
        parsed["build-dependencies"]["jetbase"],
        toml::Value::Table(
            "path = \"../jetbase-rs/jetbase\"\ndefault-features = false"
                .parse()
                .unwrap()
        )
    );
    assert_eq!(
        std::fs::read_to_string(root.join("build.rs")).unwrap(),
        "fn main() {\n    jetbase::build::rerun_if_migrations_change();\n}\n"
    );
    assert!(root.join("jetbase/jetbase.toml").is_file());
    // Again: nothing to do, nothing changed.
    let again = crate_dir.run(&["init", "--write-build"]).ok();
    assert!(again.stdout.contains("already"), "{again:#?}");
    assert_eq!(
        std::fs::read_to_string(root.join("Cargo.toml")).unwrap(),
        after
    );

    // A build script of its own keeps what it does; the line goes first in its main.
    let other = Project::empty("sqlite://app.db");
    std::fs::write(
        other.root().join("Cargo.toml"),
        "[package]\nname = \"b\"\nversion = \"0.1.0\"\n\n[dependencies]\njetbase = \"0.1\"\n",
    )
    .unwrap();
    std::fs::write(
        other.root().join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=schema.sql\");\n}\n",
    )
    .unwrap();
    other.run(&["init", "--write-build"]).ok();
    assert_eq!(
        std::fs::read_to_string(other.root().join("build.rs")).unwrap(),
        "fn main() {\n    jetbase::build::rerun_if_migrations_change();\n    println!(\"cargo:rerun-if-changed=schema.sql\");\n}\n"
    );
    let parsed: toml::Table = std::fs::read_to_string(other.root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        parsed["build-dependencies"]["jetbase"]["version"].as_str(),
        Some("0.1")
    );

    // Without jetbase in [dependencies], or outside a crate: refused, nothing written.
    let bare = Project::empty("sqlite://app.db");
    std::fs::write(
        bare.root().join("Cargo.toml"),
        "[package]\nname = \"c\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let refused = bare.run(&["init", "--write-build"]).fails_with(2);
    assert!(
        refused.stderr.contains("no jetbase in [dependencies]"),
        "{refused:#?}"
    );
    assert!(!bare.root().join("build.rs").exists());
    let no_crate = Project::empty("sqlite://app.db");
    let refused = no_crate.run(&["init", "--write-build"]).fails_with(2);
    assert!(refused.stderr.contains("has no Cargo.toml"), "{refused:#?}");
}

#[test]
fn new_validates_the_description_and_version_and_never_overwrites() {
    let project = sqlite_project();
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(project.migrations())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    for bad in ["", "   ", "../../etc/passwd", "a/b", "a\\b"] {
        let run = project.run(&["new", bad]).fails_with(2);
        assert!(run.stderr.contains("description"), "{bad:?}: {run:#?}");
    }
    project.run(&["new", "x", "-v", "1.a"]).fails_with(2);
    assert!(listing().is_empty(), "{:?}", listing());
    project.run(&["new", "add: users?", "-v", "3_1"]).ok();
    assert_eq!(listing(), ["V3_1__add_users.sql"]);
    let twice = project.run(&["new", "again", "-v", "3.1"]).fails_with(2);
    assert!(
        twice.stderr.contains("already used by V3_1__add_users.sql"),
        "{twice:#?}"
    );
    // Several words need no quotes.
    project
        .run(&["new", "create", "users", "table", "-v", "4"])
        .ok();
    assert_eq!(
        listing(),
        ["V3_1__add_users.sql", "V4__create_users_table.sql"]
    );
    project.run(&["new", "-v", "5"]).fails_with(2);
    let stamped = project.run(&["new", "stamped"]).ok();
    let name = Path::new(stamped.stdout.trim())
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let version = name.strip_prefix('V').unwrap().split("__").next().unwrap();
    let (date, time) = version.split_once('.').unwrap();
    assert!(date.len() == 8 && time.len() == 6, "{name}");
    assert!(
        date.chars().chain(time.chars()).all(|c| c.is_ascii_digit()),
        "{name}"
    );
    assert!(name.ends_with("__stamped.sql"), "{name}");
}

#[test]
fn usage_errors_exit_2() {
    let project = sqlite_project();
    project.run(&["no-such-command"]).fails_with(2);
    project.run(&["upgrade", "--count", "x"]).fails_with(2);
    project
        .run(&["upgrade", "-c", "1", "-t", "2"])
        .fails_with(2);
    let bad_url = project
        .run_in(
            project.root(),
            &["status"],
            &[("JETBASE_DATABASE_URL", "oracle://u:hidden@h/db")],
        )
        .fails_with(2);
    assert!(bad_url.stderr.contains("u:***@h"), "{bad_url:#?}");
    assert!(!bad_url.stderr.contains("hidden"), "{bad_url:#?}");
    let help = project.run(&["--help"]).ok();
    for command in [
        "init",
        "new",
        "upgrade",
        "rollback",
        "status",
        "history",
        "current",
        "validate",
        "lock",
        "unlock",
        "lock-status",
    ] {
        assert!(help.stdout.contains(command), "{command}");
    }
}

#[test]
fn an_unreachable_server_fails_fast_without_the_password() {
    // Port 1 on loopback refuses; 192.0.2.1 (TEST-NET-1) never answers.
    for url in [
        "postgresql+psycopg2://app:Sup3r-secret@127.0.0.1:1/app",
        "mysql://app:Sup3r-secret@192.0.2.1:3306/app",
    ] {
        let project = Project::new(url);
        let started = Instant::now();
        let run = project
            .run(&["--connect-timeout", "2", "status"])
            .fails_with(1);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(run.stderr.contains("cannot connect"), "{run:#?}");
        assert!(run.stderr.contains("app:***@"), "{run:#?}");
    }
}

/// SQLAlchemy URL forms reach the servers; a password in the URL never shows.
#[tokio::test]
async fn sqlalchemy_urls_reach_postgres_and_mariadb() {
    let postgres = common::postgres().await;
    let mysql = common::mysql().await;
    for (db_url, sqlalchemy_scheme) in [
        (postgres.url.as_str(), "postgresql+psycopg2"),
        (mysql.url.as_str(), "mysql+pymysql"),
    ] {
        let url = format!("{sqlalchemy_scheme}:{}", db_url.split_once(':').unwrap().1);
        let project = Project::new(&url);
        project.write("V1__create_items.sql", CREATE_ITEMS);
        let run = project.run(&["upgrade"]).ok();
        assert!(run.stdout.contains("Applied 1 migration"), "{run:#?}");
        project.run(&["status"]).ok();
    }
    assert_eq!(postgres.applied_versions().await, ["1"]);
    assert_eq!(mysql.applied_versions().await, ["1"]);
    assert!(
        password_of(&mysql.url).is_some(),
        "the MariaDB URL carries a password to hide"
    );

    // A wrong password: the server refuses, exit 1, and neither password is printed.
    let wrong = mysql
        .url
        .replacen(password_of(&mysql.url).unwrap(), "Wr0ng-pass", 1);
    let project = Project::new(&wrong);
    let refused = project.run(&["status"]).fails_with(1);
    assert!(refused.stderr.contains("cannot connect"), "{refused:#?}");
    assert!(refused.stderr.contains("Access denied"), "{refused:#?}");
    assert!(!refused.stderr.contains(password_of(&mysql.url).unwrap()));
}

/// `postgres_schema` from the environment puts the history tables in that schema.
#[tokio::test]
async fn postgres_schema_from_the_environment() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project
        .run_in(
            project.root(),
            &["upgrade"],
            &[
                ("JETBASE_DATABASE_URL", &db.url),
                ("JETBASE_POSTGRES_SCHEMA", "cli_schema"),
            ],
        )
        .ok();
    assert_eq!(
        db.pool
            .strings("SELECT version FROM cli_schema.jetbase_migrations")
            .await,
        ["1"]
    );
    assert_eq!(
        db.pool
            .count(
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = 'cli_schema' AND table_name = 'items'"
            )
            .await,
        1
    );
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing in public"
    );
}

/// Through PgBouncer in transaction mode with `postgres_schema` (the `pooler` key in
/// jetbase.toml, the URL without the parameter): each migration's transaction sets the schema
/// for itself, so an unqualified table lands in the schema whichever server session runs it;
/// a no-transaction migration, whose statements cannot carry it, is refused before anything
/// runs; the jetbase.toml keys of the pooler and of the fleet are read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_through_pgbouncer_is_set_in_each_transaction() {
    let db = common::pgbouncer().await;
    let project = Project::new(&db.url);
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "pooler = \"transaction\"\npostgres_schema = \"pooled\"\nparallel = 2\n",
    )
    .unwrap();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    // Many small transactions, so that PgBouncer hands them to several server sessions.
    for round in 0..3 {
        project.run(&["upgrade"]).ok();
        project.run(&["rollback", "--count", "2", "--force"]).ok();
        assert!(
            db.pool
                .strings("SELECT version FROM pooled.jetbase_migrations")
                .await
                .is_empty(),
            "round {round}"
        );
    }
    project.run(&["upgrade"]).ok();
    assert_eq!(db.pool.count("SELECT id FROM pooled.items").await, 1);
    assert!(!db.table_exists("items").await, "nothing in public");
    let status = project.run(&["status"]).ok();
    assert!(
        status.stdout.contains("2 applied, 0 pending"),
        "{status:#?}"
    );

    project.write(
        "V3__index.sql",
        "-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY ix_items_name ON items (name);\n",
    );
    let refused = project.run(&["upgrade"]).fails_with(1);
    assert!(
        refused.stderr.contains("V3__index.sql")
            && refused
                .stderr
                .contains("search_path of postgres_schema \"pooled\"")
            && refused.stderr.contains("nothing was run"),
        "{refused:#?}"
    );
    assert_eq!(
        db.pool
            .strings("SELECT version FROM pooled.jetbase_migrations ORDER BY order_executed")
            .await,
        ["1", "2"]
    );
    assert!(
        db.pool
            .count("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_items_name'")
            .await
            == 0
    );
    let lock = project.run(&["lock-status", "--json"]).ok().json();
    assert_eq!(lock["locked"], false, "the lock released after the refusal");

    // Without postgres_schema (a project of its own on the same database, the pooler said by
    // the URL's parameter), the no-transaction migration runs through PgBouncer.
    let public = Project::new(&format!("{}?pooler=transaction", db.url));
    public.write("V1__create_items.sql", CREATE_ITEMS);
    public.write(
        "V2__index.sql",
        "-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY ix_public_items ON items (name);\n\n-- rollback\nDROP INDEX CONCURRENTLY ix_public_items;\n",
    );
    public.run(&["upgrade"]).ok();
    assert_eq!(
        db.pool
            .count("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_public_items'")
            .await,
        1
    );
    public.run(&["rollback"]).ok();
    assert_eq!(
        db.pool
            .count("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_public_items'")
            .await,
        0
    );

    // A pooler mode jetbase cannot work through is a usage error naming the key.
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "pooler = \"statement\"\n",
    )
    .unwrap();
    let bad = project.run(&["status"]).fails_with(2);
    assert!(
        bad.stderr.contains("pooler") && bad.stderr.contains("statement"),
        "{bad:#?}"
    );
}

/// The fleet on PostgreSQL schemas: `--schemas-like` finds them, each target is a run of its
/// own (a failure does not stop the others, `--fail-fast` does), a line or a JSON entry per
/// target, exit 1 naming the failed ones; `status`, `validate` and `wait` on targets too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_schemas_runs_each_tenant_on_its_own() {
    let db = common::postgres().await;
    for schema in ["tenant_a", "tenant_b", "tenant_c", "other"] {
        db.pool.exec(&format!("CREATE SCHEMA {schema}")).await;
    }
    let project = Project::new(&db.url);
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    let first = project
        .run(&["--json", "upgrade", "--schemas-like", "tenant_%"])
        .ok()
        .json();
    assert_eq!(
        first,
        serde_json::json!({"targets": [
            {"target": "tenant_a", "ok": true, "applied": 2, "error": null},
            {"target": "tenant_b", "ok": true, "applied": 2, "error": null},
            {"target": "tenant_c", "ok": true, "applied": 2, "error": null},
        ]})
    );
    for schema in ["tenant_a", "tenant_b", "tenant_c"] {
        assert_eq!(
            db.pool
                .strings(&format!(
                    "SELECT version FROM {schema}.jetbase_migrations ORDER BY order_executed"
                ))
                .await,
            ["1", "2"]
        );
    }
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing in public"
    );

    // tenant_b cannot take V3; with --fail-fast and one at a time, tenant_c is not started.
    project.write(
        "V3__create_extra.sql",
        "CREATE TABLE extra (id INTEGER);\n-- rollback\nDROP TABLE extra;\n",
    );
    db.pool
        .exec("CREATE TABLE tenant_b.extra (id INTEGER)")
        .await;
    let stopped = project.run(&[
        "--json",
        "upgrade",
        "--schemas-like",
        "tenant_%",
        "--parallel",
        "1",
        "--fail-fast",
    ]);
    assert_eq!(stopped.code, 1, "{stopped:#?}");
    assert!(
        stopped
            .stderr
            .contains("2 of 3 targets failed: tenant_b, tenant_c"),
        "{stopped:#?}"
    );
    let targets = stopped.json()["targets"].clone();
    assert_eq!(targets[0]["applied"], 1);
    assert!(
        targets[1]["error"].as_str().unwrap().contains("extra"),
        "{targets}"
    );
    assert!(
        targets[2]["error"]
            .as_str()
            .unwrap()
            .contains("not started"),
        "{targets}"
    );
    // Without --fail-fast the others go on.
    let text = project.run(&["upgrade", "--schema", "tenant_b", "--schema", "tenant_c"]);
    assert_eq!(text.code, 1, "{text:#?}");
    assert!(text.stdout.contains("tenant_c  ok"), "{text:#?}");
    assert!(text.stdout.contains("tenant_b  FAILED: "), "{text:#?}");
    assert!(
        text.stdout.contains("2 targets: 1 ok, 1 failed."),
        "{text:#?}"
    );
    assert!(
        text.stderr.contains("1 of 2 targets failed: tenant_b"),
        "{text:#?}"
    );

    let status = project
        .run(&["--json", "status", "--schemas-like", "tenant_%"])
        .ok()
        .json();
    let applied: Vec<i64> = status["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["applied"].as_i64().unwrap())
        .collect();
    assert_eq!(applied, [3, 2, 3]);
    project
        .run(&["validate", "--schemas-like", "tenant_%"])
        .ok();
    let waited = project.run(&["wait", "--schemas-like", "tenant_%", "--timeout", "0.3"]);
    assert_eq!(waited.code, 1, "{waited:#?}");
    assert!(
        waited.stderr.contains("1 of 3 targets failed: tenant_b"),
        "{waited:#?}"
    );
    // One --timeout for the whole fleet: one target at a time, three not current, the command
    // ends when the second is up (not after three of them).
    project.write("V4__pending.sql", "CREATE TABLE pending (id INTEGER);\n");
    let started = std::time::Instant::now();
    let all_waited = project.run(&[
        "wait",
        "--schemas-like",
        "tenant_%",
        "--parallel",
        "1",
        "--timeout",
        "2",
        "--interval",
        "0.1",
    ]);
    let took = started.elapsed();
    assert_eq!(all_waited.code, 1, "{all_waited:#?}");
    assert!(
        all_waited
            .stderr
            .contains("3 of 3 targets failed: tenant_a, tenant_b, tenant_c"),
        "{all_waited:#?}"
    );
    assert!(
        took >= std::time::Duration::from_secs(2) && took < std::time::Duration::from_secs(4),
        "took {took:?} for a timeout of 2 s over three targets"
    );
    std::fs::remove_file(project.migrations().join("V4__pending.sql")).unwrap();
    let nothing = project
        .run(&["status", "--schemas-like", "nobody_%"])
        .fails_with(1);
    assert!(nothing.stderr.contains("no schema matches"), "{nothing:#?}");
    project
        .run(&["validate-files", "--schema", "tenant_a"])
        .fails_with(2);
}

/// The fleet on a file of database URLs: comments skipped, one unreachable database failing
/// on its own.
#[test]
fn a_fleet_of_urls_runs_each_database() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    let root = project.root().to_path_buf();
    let urls = format!(
        "# tenants\nsqlite://{0}/one.db?mode=rwc\n\n  sqlite://{0}/two.db?mode=rwc  \n\
         sqlite://{0}/missing/dir/three.db?mode=rwc\n",
        root.display()
    );
    std::fs::write(root.join("urls.txt"), urls).unwrap();
    let run = project.run(&["--json", "upgrade", "--database-urls-file", "urls.txt"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let targets = run.json()["targets"].clone();
    assert_eq!(targets.as_array().unwrap().len(), 3);
    assert_eq!(targets[0]["ok"], true);
    assert_eq!(targets[1]["applied"], 1);
    assert_eq!(targets[2]["ok"], false);
    assert!(root.join("one.db").exists() && root.join("two.db").exists());
    std::fs::write(root.join("empty.txt"), "# nothing\n").unwrap();
    project
        .run(&["upgrade", "--database-urls-file", "empty.txt"])
        .fails_with(2);
}

/// On a read-only server the commands that read work, and those that have something to write
/// fail at once, before taking anything, saying why (an upgrade with a migration pending, a
/// rollback with one applied, a lock).
fn read_only_server_refuses_writes(project: &Project, url: &str, applied: bool) {
    let on = |args: &[&str]| {
        let mut all = vec!["--database-url", url];
        all.extend_from_slice(args);
        project.run(&all)
    };
    on(&["status"]).ok();
    on(&["history"]).ok();
    on(&["validate"]).ok();
    let mut writes = vec![&["upgrade"][..], &["lock"]];
    if applied {
        writes.push(&["rollback"]);
    }
    for args in writes {
        let refused = on(args).fails_with(1);
        assert!(
            refused
                .stderr
                .contains("this server is a read-only replica"),
            "{args:?}: {refused:#?}"
        );
    }
}

/// A PostgreSQL hot standby (`pg_basebackup -R` of the test server, which the test script
/// starts): a database migrated on the primary is read on the standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_hot_standby_reads_but_never_writes() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let standby = common::with_database(
        &common::server_url("JETBASE_TEST_POSTGRES_STANDBY_URL"),
        &name,
    );
    // Replication is asynchronous: wait until the standby has the history.
    let started = Instant::now();
    loop {
        let status = project.run(&["--database-url", &standby, "--json", "status"]);
        if status.code == 0 && status.stdout.contains("\"applied\"") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{status:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    project
        .run(&["--database-url", &standby, "wait", "--timeout", "5"])
        .ok();
    project.write("V2__first_item.sql", FIRST_ITEM);
    read_only_server_refuses_writes(&project, &standby, true);
    assert_eq!(db.applied_versions().await, ["1"]);
}

/// A MariaDB server with read_only = ON (started by the test script): refused even for a user
/// with SUPER, who could write there; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_mariadb_reads_but_never_writes() {
    let admin = common::server_url("JETBASE_TEST_MYSQL_READ_ONLY_URL");
    let name = common::unique_name();
    let pool = sqlx::MySqlPool::connect(&admin).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .unwrap();
    let url = common::with_database(&admin, &name);
    let project = Project::new(&url);
    project.write("V1__create_items.sql", CREATE_ITEMS);
    read_only_server_refuses_writes(&project, &url, false);
    let tables: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = '{name}'"
    )))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.is_empty(), "{tables:?}");
    pool.close().await;
}

/// What `drift` compares on a database: two tables, a default, a foreign key.
const DRIFT_V1: &str = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, status VARCHAR(20) DEFAULT 'new');\n";
const DRIFT_V2: &str = "CREATE TABLE audit (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL, note VARCHAR(50), CONSTRAINT fk_audit_user FOREIGN KEY (user_id) REFERENCES users (id));\n";

/// The SQL that changes `status`'s default by hand (SQLite rebuilds the table to do it).
fn change_default_by_hand(dialect: common::Dialect) -> &'static str {
    match dialect {
        common::Dialect::Sqlite => {
            "CREATE TABLE users_new (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, status VARCHAR(20) DEFAULT 'old');\n\
             INSERT INTO users_new SELECT * FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;"
        }
        _ => "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'old'",
    }
}

/// `jetbase drift`: a database migrated by the project's files, then changed by hand (an index
/// added, a default changed, a table dropped): exactly those three are reported, in words and
/// as JSON, and a migration applied afterwards is not drift; the scratch database is created
/// and dropped (PostgreSQL beside the live one by default, MySQL/MariaDB only with
/// `--scratch-url`). `jetbase schema` prints the live schema as text, JSON, a Mermaid
/// erDiagram (checked against Mermaid's erDiagram grammar, below) and a Graphviz graph.
async fn drift_names_what_was_changed_by_hand<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__users.sql", DRIFT_V1);
    project.write("V2__audit.sql", DRIFT_V2);
    project.run(&["upgrade"]).ok();
    // Unique on the server: the sqlx 0.9 and 0.8 variants of this body run at once.
    let scratch_name = format!("jb_drift_{}", common::unique_name());
    let scratch_url = common::with_database(&db.url, &scratch_name);
    let mut drift_args = vec!["drift"];
    if db.dialect == common::Dialect::MySql {
        let refused = project.run(&["drift"]).fails_with(2);
        assert!(refused.stderr.contains("--scratch-url"), "{refused:#?}");
        drift_args.extend(["--scratch-url", scratch_url.as_str()]);
    }
    let clean = project.run(&drift_args).ok();
    assert!(clean.stdout.contains("No drift"), "{clean:#?}");

    let schema = project.run(&["schema"]).ok().stdout;
    assert!(
        schema.contains("users\n") && schema.contains("audit\n"),
        "{schema}"
    );
    assert!(!schema.contains("jetbase_migrations"), "{schema}");
    let json = project.run(&["schema", "--format", "json"]).ok().json();
    let mut names: Vec<&str> = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|table| table["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["audit", "users"]);
    let diagram = project.run(&["schema", "--format", "mermaid"]).ok().stdout;
    check_mermaid_er_diagram(&diagram);
    // (SQLite keeps no name for a foreign key: jetbase names it.)
    assert!(diagram.contains("    users ||--o{ audit : \""), "{diagram}");
    let graph = project.run(&["schema", "--format", "dot"]).ok().stdout;
    assert!(
        graph.starts_with("digraph schema {") && graph.contains("\"audit\" -> \"users\""),
        "{graph}"
    );

    db.pool.exec("DROP TABLE audit").await;
    db.pool.exec(change_default_by_hand(db.dialect)).await;
    db.pool
        .exec("CREATE INDEX ix_hotfix ON users (email)")
        .await;
    // A migration applied since is the migrations' own, not drift.
    project.write(
        "V3__note.sql",
        "ALTER TABLE users ADD COLUMN note VARCHAR(10);\n",
    );
    project.run(&["upgrade"]).ok();

    let mut json_args = vec!["--json"];
    json_args.extend(&drift_args);
    let drifted = project.run(&json_args).fails_with(1).json();
    let mut found: Vec<(String, String)> = drifted["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["object"].as_str().unwrap().to_owned(),
                entry["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("column users.status".to_owned(), "differs".to_owned()),
            ("index ix_hotfix on users".to_owned(), "added".to_owned()),
            ("table audit".to_owned(), "missing".to_owned()),
        ],
        "{drifted:#}"
    );
    let status = drifted["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["object"] == "column users.status")
        .unwrap();
    assert!(
        status["live"].as_str().unwrap().contains("'old'")
            && status["expected"].as_str().unwrap().contains("'new'"),
        "{status:#}"
    );
    let words = project.run(&drift_args).fails_with(1);
    assert!(
        words
            .stdout
            .contains("index ix_hotfix on users (email) is live but no migration makes it")
            && words.stderr.contains("3 differences"),
        "{words:#?}"
    );
    // The scratch database is gone. On PostgreSQL its name is the CLI's own
    // (`jetbase_drift_<pid>_<time>`), and the other variant of this body may hold one of its
    // own for a moment: none may stay.
    match db.dialect {
        common::Dialect::Postgres => {
            let mut left = i64::MAX;
            for _ in 0..60 {
                left = db
                    .pool
                    .count("SELECT datname FROM pg_database WHERE datname LIKE 'jetbase\\_drift\\_%'")
                    .await;
                if left == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            assert_eq!(left, 0, "a drift scratch database stayed");
        }
        common::Dialect::MySql => assert_eq!(
            db.pool
                .count(&format!(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '{scratch_name}'"
                ))
                .await,
            0
        ),
        _ => {}
    }
}
database_test!(
    drift_names_what_was_changed_by_hand,
    drift_names_what_was_changed_by_hand,
    not_on_warehouses =
        "drift and schema read the catalogs of PostgreSQL, SQLite and MySQL/MariaDB"
);

/// `jetbase drift` rebuilds the history in the order it was applied, not in version order: `V2`
/// was applied out of order after `V3` and alters `V3`'s table, so version order could not even
/// run it; `V4`, applied after both, is one more stretch. No drift, and the rebuilt schema has
/// `V2`'s column.
async fn drift_rebuilds_the_history_in_its_order<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    project.write("V1__first.sql", "CREATE TABLE first_table (id INTEGER);\n");
    project.write("V3__third.sql", "CREATE TABLE third_table (id INTEGER);\n");
    project.run(&["upgrade"]).ok();
    project.write(
        "V2__late.sql",
        "ALTER TABLE third_table ADD COLUMN late INTEGER;\n",
    );
    project.run(&["upgrade", "--out-of-order"]).ok();
    project.write(
        "V4__fourth.sql",
        "CREATE TABLE fourth_table (id INTEGER);\n",
    );
    project.run(&["upgrade"]).ok();
    let scratch_url =
        common::with_database(&db.url, &format!("jb_drift_order_{}", std::process::id()));
    let mut drift_args = vec!["drift"];
    if db.dialect == common::Dialect::MySql {
        drift_args.extend(["--scratch-url", scratch_url.as_str()]);
    }
    let clean = project.run(&drift_args).ok();
    assert!(clean.stdout.contains("No drift"), "{clean:#?}");
    // The same history with V2's column dropped by hand: the column is missing.
    db.pool
        .exec("ALTER TABLE third_table DROP COLUMN late")
        .await;
    let mut json_args = vec!["--json"];
    json_args.extend(&drift_args);
    let drifted = project.run(&json_args).fails_with(1).json();
    let entries = drifted["drift"].as_array().unwrap();
    assert!(
        entries.len() == 1
            && entries[0]["object"] == "column third_table.late"
            && entries[0]["kind"] == "missing"
            && entries[0]["live"].is_null()
            && entries[0]["expected"].is_string(),
        "{drifted:#}"
    );
}
database_test!(
    drift_rebuilds_the_history_in_its_order,
    drift_rebuilds_the_history_in_its_order,
    not_on_warehouses =
        "drift and schema read the catalogs of PostgreSQL, SQLite and MySQL/MariaDB"
);

/// Mermaid's erDiagram grammar, for the shapes `schema --format mermaid` writes (a check of
/// jetbase's own: the mermaid CLI renders through a headless browser, too heavy for this test
/// run): the header, entity blocks of `type name [keys]` attributes, relationships with a
/// cardinality on each side and a quoted label.
fn check_mermaid_er_diagram(diagram: &str) {
    let word = |text: &str| {
        !text.is_empty()
            && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-()[]".contains(c))
    };
    let entity_word = |text: &str| word(text) && !text.contains(['(', ')', '[', ']']);
    let mut lines = diagram.lines();
    assert_eq!(lines.next(), Some("erDiagram"), "{diagram}");
    let mut in_entity = false;
    for line in lines {
        if in_entity {
            if line == "    }" {
                in_entity = false;
                continue;
            }
            let attribute = line
                .strip_prefix("        ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let mut parts = attribute.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(word(kind) && word(name), "attribute {line:?}");
            if let Some(keys) = parts.next() {
                assert!(
                    keys.split(", ")
                        .all(|key| ["PK", "FK", "UK"].contains(&key)),
                    "keys {line:?}"
                );
            }
        } else if let Some(entity) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(" {")) {
            assert!(entity_word(entity), "entity {line:?}");
            in_entity = true;
        } else {
            let relation = line
                .strip_prefix("    ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let (ends, label) = relation
                .split_once(" : ")
                .unwrap_or_else(|| panic!("{line:?}"));
            assert!(
                label.len() >= 2 && label.starts_with('"') && label.ends_with('"'),
                "label {line:?}"
            );
            let parts: Vec<&str> = ends.split(' ').collect();
            assert_eq!(parts.len(), 3, "{line:?}");
            assert!(entity_word(parts[0]) && entity_word(parts[2]), "{line:?}");
            let (left, right) = parts[1]
                .split_once("--")
                .unwrap_or_else(|| panic!("{line:?}"));
            assert!(["||", "|o", "}o", "}|"].contains(&left), "{line:?}");
            assert!(["||", "o|", "o{", "|{"].contains(&right), "{line:?}");
        }
    }
    assert!(!in_entity, "an entity block is not closed: {diagram}");
}

/// Shell completions (clap_complete) and manual pages (clap_mangen), outside any project: every
/// command is in them, the bash script is valid bash, an unknown command's page is a usage error.
#[test]
fn completions_and_manual_pages_describe_every_command() {
    let outside = Project::empty("sqlite://unused.db");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = outside.run(&["completions", shell]).ok();
        for command in [
            "upgrade",
            "lock-status",
            "make-migrations",
            "check-rollback",
        ] {
            assert!(script.stdout.contains(command), "{shell}: {command}");
        }
    }
    let bash = outside.run(&["completions", "bash"]).ok();
    let file = outside.root().join("jetbase.bash");
    std::fs::write(&file, &bash.stdout).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).status().unwrap();
    assert!(checked.success(), "bash -n rejects the completion script");
    outside.run(&["completions", "tcsh"]).fails_with(2);

    let page = outside.run(&["man"]).ok();
    assert!(page.stdout.contains(".TH jetbase 1"), "{}", page.stdout);
    assert!(
        page.stdout.contains(r"jetbase\-lock\-status(1)"),
        "the commands' pages are listed"
    );
    let upgrade = outside.run(&["man", "migrate"]).ok();
    assert!(
        upgrade.stdout.contains(".TH jetbase-upgrade 1"),
        "{}",
        upgrade.stdout
    );
    assert!(upgrade.stdout.contains(r"\-\-rehearse"));
    // A command's page has the options every command takes, and the version.
    assert!(
        upgrade.stdout.contains(r"\-\-database\-url")
            && upgrade.stdout.contains(&format!(
                "\"jetbase-upgrade {}\"",
                env!("CARGO_PKG_VERSION")
            )),
        "{}",
        upgrade.stdout
    );
    let unknown = outside.run(&["man", "nope"]).fails_with(2);
    assert!(unknown.stderr.contains("no command `nope`"), "{unknown:#?}");
}

#[test]
fn version_names_the_package_version() {
    let project = Project::empty("");
    let run = project.run_in(project.root(), &["--version"], &[]).ok();
    assert_eq!(
        run.stdout.trim(),
        format!("jetbase {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Runs `jetbase args` under `script`, so stdout and stderr are a terminal (`columns` wide when
/// given; a size never set otherwise, as on CI), with `env` added.
fn run_on_terminal_with(
    project: &Project,
    args: &str,
    env: &[(&str, &str)],
    columns: Option<u16>,
) -> String {
    let jetbase = env!("CARGO_BIN_EXE_jetbase");
    let command_line = match columns {
        Some(columns) => format!("stty cols {columns} rows 50 && {jetbase} {args}"),
        None => format!("{jetbase} {args}"),
    };
    let mut command = Command::new("script");
    command
        .args(["-qec", &command_line, "/dev/null"])
        .current_dir(project.root())
        .env("JETBASE_DATABASE_URL", &project.url)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied());
    let output = command.output().expect("`script` (util-linux) runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `jetbase args` on a terminal, with `NO_COLOR=1` or without it.
fn run_on_terminal(project: &Project, args: &str, no_color: bool) -> String {
    let env: &[(&str, &str)] = if no_color { &[("NO_COLOR", "1")] } else { &[] };
    run_on_terminal_with(project, args, env, None)
}

#[test]
fn colour_and_a_progress_bar_only_on_a_terminal_and_never_with_no_color() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    project.write("V3__second_item.sql", "INSERT INTO items (id) VALUES (2);");
    let upgrade = run_on_terminal(&project, "upgrade", false);
    assert!(upgrade.contains("[----------"), "a bar: {upgrade:?}");
    assert!(upgrade.contains("1/3 V2__first_item.sql"), "{upgrade:?}");
    assert!(
        upgrade.contains("\x1b[32mApplied 3 migrations.\x1b[0m"),
        "{upgrade:?}"
    );
    let status = run_on_terminal(&project, "status", false);
    assert!(status.contains("\x1b[32mapplied\x1b[0m"), "{status:?}");
    assert_eq!(
        status.lines().count(),
        5,
        "a terminal of unknown size: nothing wraps: {status:?}"
    );
    // A terminal 40 columns wide: every line fits, long cells wrap inside their column.
    let narrow = run_on_terminal_with(&project, "status", &[("NO_COLOR", "1")], Some(40));
    assert!(narrow.lines().count() > 5, "{narrow}");
    let table = narrow.lines().filter(|line| !line.contains(" applied, "));
    for line in table {
        let width = line.trim_end_matches(['\r', '\n']).chars().count();
        assert!(width <= 40, "{width} columns: {line:?} in\n{narrow}");
    }
    let plain = run_on_terminal(&project, "status", true);
    assert!(plain.contains("applied"), "{plain:?}");
    assert!(!plain.contains("\x1b["), "NO_COLOR: {plain:?}");
    // Not a terminal: no bar, a line per migration on stderr, nothing but the report on stdout.
    project.run(&["rollback", "-c", "3", "--force"]).ok();
    let piped = project.run(&["upgrade"]).ok();
    assert!(
        piped.stderr.contains("upgrade 2/3: V2__first_item.sql"),
        "{piped:#?}"
    );
    assert!(
        !piped.stderr.contains('\x1b') && !piped.stdout.contains('\x1b'),
        "{piped:#?}"
    );
}

#[test]
fn clicolor_force_colours_piped_output_and_clicolor_0_turns_it_off() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    let url = project.url.clone();
    let forced = project
        .run_in(
            project.root(),
            &["status"],
            &[("JETBASE_DATABASE_URL", &url), ("CLICOLOR_FORCE", "1")],
        )
        .ok();
    assert!(
        forced.stdout.contains("\x1b[32mapplied\x1b[0m  1 "),
        "coloured, and padded after the colour: {:?}",
        forced.stdout
    );
    // The error on stderr too, decided for stderr.
    let failed = project
        .run_in(
            project.root(),
            &["rollback", "--to-version", "not-a-version"],
            &[("JETBASE_DATABASE_URL", &url), ("CLICOLOR_FORCE", "1")],
        )
        .fails_with(2);
    assert!(
        failed.stderr.starts_with("\x1b[31merror:\x1b[0m "),
        "{:?}",
        failed.stderr
    );
    // NO_COLOR wins over CLICOLOR_FORCE.
    let both = project
        .run_in(
            project.root(),
            &["status"],
            &[
                ("JETBASE_DATABASE_URL", &url),
                ("CLICOLOR_FORCE", "1"),
                ("NO_COLOR", "1"),
            ],
        )
        .ok();
    assert!(!both.stdout.contains('\x1b'), "{:?}", both.stdout);
    let status = run_on_terminal_with(&project, "status", &[("CLICOLOR", "0")], None);
    assert!(status.contains("applied"), "{status:?}");
    assert!(!status.contains("\x1b["), "CLICOLOR=0: {status:?}");
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn json_shapes_are_the_documented_ones() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    let upgrade = project.run(&["upgrade", "--json"]).ok().json();
    assert_eq!(keys(&upgrade), ["dry_run", "migrations"]);
    assert_eq!(
        keys(&upgrade["migrations"][0]),
        [
            "direction",
            "duration_ms",
            "filename",
            "kind",
            "sql",
            "version"
        ]
    );
    let status = project.run(&["status", "--json"]).ok().json();
    assert_eq!(keys(&status), ["migrations"]);
    assert_eq!(
        keys(&status["migrations"][0]),
        [
            "applied_at",
            "description",
            "filename",
            "has_rollback_sql",
            "kind",
            "state",
            "version"
        ]
    );
    let history = project.run(&["history", "--json"]).ok().json();
    assert_eq!(keys(&history), ["migrations"]);
    assert_eq!(
        keys(&history["migrations"][0]),
        [
            "applied_at",
            "checksum",
            "description",
            "execution_ms",
            "filename",
            "migration_type",
            "order_executed",
            "success",
            "version"
        ]
    );
    let current = project.run(&["current", "--json"]).ok().json();
    assert_eq!(keys(&current), ["applied_at", "filename", "version"]);
    let validate = project.run(&["validate", "--json"]).ok().json();
    assert_eq!(keys(&validate), ["problems", "repaired", "valid"]);
    assert!(validate["repaired"].is_null());
    let fixed = project.run(&["validate", "--fix", "--json"]).ok().json();
    assert_eq!(
        keys(&fixed["repaired"]),
        ["checksums_updated", "rows_removed"]
    );
    let lock = project.run(&["lock-status", "--json"]).ok().json();
    assert_eq!(keys(&lock), ["locked", "locked_at", "manual", "process_id"]);
    let taken = project.run(&["lock", "--json"]).ok().json();
    assert_eq!(keys(&taken), ["locked", "process_id"]);
    assert!(
        taken["process_id"]
            .as_str()
            .unwrap()
            .starts_with("jb1:manual:")
    );
    let freed = project.run(&["unlock", "--json"]).ok().json();
    assert_eq!(freed, serde_json::json!({ "was_locked": true }));
    let again = project.run(&["unlock", "--json"]).ok().json();
    assert_eq!(again, serde_json::json!({ "was_locked": false }));
    let rollback = project.run(&["rollback", "--json"]).ok().json();
    assert_eq!(keys(&rollback), ["dry_run", "migrations"]);
    assert_eq!(rollback["migrations"][0]["kind"], "VERSIONED");
}

#[test]
fn a_failed_no_transaction_migration_shows_in_status_until_rolled_back() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write(
        "V2__backfill.sql",
        "-- jetbase: no-transaction\nINSERT INTO items (id) VALUES (2);\nINSERT INTO nowhere VALUES (1);\n\
         -- rollback\nDELETE FROM items WHERE id = 2;",
    );
    let failed = project.run(&["upgrade"]).fails_with(1);
    assert!(failed.stderr.contains("no-transaction"), "{failed:#?}");
    let status = project.run(&["status", "--json"]).ok().json();
    assert_eq!(status["migrations"][1]["state"], "failed");
    assert!(
        project
            .run(&["status"])
            .ok()
            .stdout
            .contains("did not finish")
    );
    assert_eq!(
        project.run(&["history", "--json"]).ok().json()["migrations"][1]["success"],
        false
    );
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "1",
        "a failed row is not the current version"
    );
    let blocked = project.run(&["upgrade"]).fails_with(1);
    assert!(blocked.stderr.contains("did not finish"), "{blocked:#?}");
    project.run(&["validate"]).fails_with(1);
    project.run(&["rollback"]).ok();
    project.write(
        "V2__backfill.sql",
        "-- jetbase: no-transaction\nINSERT INTO items (id) VALUES (2);\n-- rollback\nDELETE FROM items WHERE id = 2;",
    );
    project.run(&["upgrade"]).ok();
    assert_eq!(
        project.run(&["current", "--json"]).ok().json()["version"],
        "2"
    );
}

#[test]
fn verbose_shows_the_library_events_on_stderr() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    // Without -v the command prints only its own output.
    let quiet = project.run(&["upgrade", "--dry-run"]).ok();
    assert!(!quiet.stderr.contains(" DEBUG "), "{quiet:#?}");
    let verbose = project.run(&["-v", "upgrade"]).ok();
    let applied = verbose
        .stderr
        .lines()
        .find(|line| line.contains(" INFO ") && line.contains("applied"))
        .unwrap_or_else(|| panic!("no INFO event: {verbose:#?}"));
    assert!(
        applied.contains("upgrade{database=sqlite planned=1}"),
        "{applied}"
    );
    assert!(applied.contains("version=\"1\""), "{applied}");
    assert!(
        applied.contains("filename=\"V1__create_items.sql\""),
        "{applied}"
    );
    assert!(applied.contains("kind=\"VERSIONED\""), "{applied}");
    assert!(applied.contains("duration_ms="), "{applied}");
    assert!(
        !verbose.stderr.contains("CREATE TABLE"),
        "SQL only at TRACE: {verbose:#?}"
    );
    let up_to_date = project.run(&["-v", "upgrade"]).ok();
    assert!(
        up_to_date.stderr.contains("DEBUG")
            && up_to_date.stderr.contains("the database is up to date"),
        "{up_to_date:#?}"
    );
    // -vv: every statement, at TRACE.
    project.write("V2__first_item.sql", FIRST_ITEM);
    let traced = project.run(&["-vv", "upgrade"]).ok();
    assert!(
        traced
            .stderr
            .lines()
            .any(|line| line.contains("TRACE") && line.contains("INSERT INTO")),
        "{traced:#?}"
    );
    // RUST_LOG chooses for itself; a bad one is a usage error naming it.
    let url = project.url.clone();
    let env = |filter: &'static str| {
        [
            ("JETBASE_DATABASE_URL", url.clone()),
            ("RUST_LOG", filter.to_owned()),
        ]
    };
    let run_with = |filter: &'static str| {
        let env = env(filter);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        project.run_in(project.root(), &["upgrade"], &pairs)
    };
    let chosen = run_with("jetbase=debug").ok();
    assert!(
        chosen.stderr.contains("the database is up to date"),
        "{chosen:#?}"
    );
    let silenced = run_with("jetbase=warn").ok();
    assert!(!silenced.stderr.contains("up to date"), "{silenced:#?}");
    let bad = run_with("jetbase=loud").fails_with(2);
    assert!(bad.stderr.contains("RUST_LOG=\"jetbase=loud\""), "{bad:#?}");
}

#[test]
fn history_and_lock_tables_are_configured_by_name() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "history_table = \"billing_migrations\"\n",
    )
    .unwrap();
    let env = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![("JETBASE_DATABASE_URL", project.url.as_str())];
        pairs.extend_from_slice(extra);
        pairs
    };
    let applied = project
        .run_in(
            project.root(),
            &["--json", "upgrade"],
            &env(&[("JETBASE_LOCK_TABLE", "billing_lock")]),
        )
        .ok()
        .json();
    assert_eq!(applied["migrations"][0]["filename"], "V1__create_items.sql");
    let tables = sqlite_tables(&project.root().join("jetbase/app.db"));
    assert!(
        tables.contains(&"billing_migrations".to_owned()),
        "{tables:?}"
    );
    assert!(tables.contains(&"billing_lock".to_owned()), "{tables:?}");
    assert!(
        !tables.contains(&"jetbase_migrations".to_owned()),
        "{tables:?}"
    );
    // Without the lock table's setting, the history table is the file's and the lock Python
    // Jetbase's: the same history, another lock.
    let status = project.run(&["--json", "status"]).ok().json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
    // A name that is not a plain identifier: a usage error naming the setting.
    let bad = project
        .run_in(
            project.root(),
            &["status"],
            &env(&[("JETBASE_LOCK_TABLE", "billing lock")]),
        )
        .fails_with(2);
    assert!(bad.stderr.contains("invalid lock_table"), "{bad:#?}");
    assert!(bad.stderr.contains("\"billing lock\""), "{bad:#?}");
}

#[test]
fn placeholders_come_from_flags_environment_and_jetbase_toml() {
    let project = sqlite_project();
    project.write(
        "V1__create_items.sql",
        "CREATE TABLE ${prefix}_items (id INTEGER, role VARCHAR(20));\n\
         INSERT INTO ${prefix}_items (id, role) VALUES (1, '${role}');\n\
         -- rollback\nDROP TABLE ${prefix}_items;\n",
    );
    std::fs::write(
        project.root().join("jetbase/jetbase.toml"),
        "[placeholders]\nprefix = \"toml\"\nrole = \"reader\"\n",
    )
    .unwrap();
    let url = [("JETBASE_DATABASE_URL", project.url.as_str())];
    // The flag before the environment before jetbase.toml; the dry run shows the SQL that runs.
    let planned = project
        .run_in(
            project.root(),
            &[
                "--json",
                "upgrade",
                "--dry-run",
                "--placeholder",
                "PREFIX=shop",
            ],
            &[url[0], ("JETBASE_PLACEHOLDER_PREFIX", "env")],
        )
        .ok()
        .json();
    assert_eq!(
        planned["migrations"][0]["sql"][0],
        "CREATE TABLE shop_items (id INTEGER, role VARCHAR(20))"
    );
    assert_eq!(
        planned["migrations"][0]["sql"][1],
        "INSERT INTO shop_items (id, role) VALUES (1, 'reader')"
    );
    project
        .run_in(
            project.root(),
            &["upgrade"],
            &[url[0], ("JETBASE_PLACEHOLDER_PREFIX", "env")],
        )
        .ok();
    let tables = sqlite_tables(&project.root().join("jetbase/app.db"));
    assert!(tables.contains(&"env_items".to_owned()), "{tables:?}");

    // An unknown one: the file and line, and nothing runs.
    project.write(
        "V2__more_items.sql",
        "INSERT INTO ${prefix}_items (id) VALUES (2);\n\nINSERT INTO ${prefix}_items (id, role)\n  VALUES (3, '${writer}');\n",
    );
    let refused = project
        .run_in(
            project.root(),
            &["upgrade"],
            &[url[0], ("JETBASE_PLACEHOLDER_PREFIX", "env")],
        )
        .fails_with(1);
    for part in [
        "V2__more_items.sql",
        "line 4",
        "${writer}",
        "nothing was run",
    ] {
        assert!(refused.stderr.contains(part), "{refused:#?}");
    }
    let status = project
        .run_in(project.root(), &["--json", "status"], &url)
        .ok()
        .json();
    assert_eq!(status["migrations"][1]["state"], "pending", "{status}");
    // A bad flag: a usage error naming it.
    let bad = project
        .run_in(project.root(), &["status", "--placeholder", "role"], &url)
        .fails_with(2);
    assert!(
        bad.stderr
            .contains("--placeholder \"role\": expected NAME=VALUE"),
        "{bad:#?}"
    );
}

#[test]
fn an_older_release_refuses_ignores_or_rolls_back_a_newer_database() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    project.write(
        "V3__create_orders.sql",
        "CREATE TABLE orders (id INTEGER);\n-- rollback\nDROP TABLE orders;\n",
    );
    project.run(&["upgrade"]).ok();
    // The older release: V2 and V3 are not among its files.
    for name in ["V2__first_item.sql", "V3__create_orders.sql"] {
        std::fs::remove_file(project.migrations().join(name)).unwrap();
    }
    let status = project.run(&["--json", "status"]).ok().json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "newer", "newer"], "{status}");
    let text = project.run(&["status"]).ok();
    assert!(
        text.stdout.contains("applied by a newer release"),
        "{text:#?}"
    );
    assert!(text.stdout.contains("2 newer"), "{text:#?}");

    let refused = project.run(&["upgrade"]).fails_with(1);
    assert!(
        refused.stderr.contains("by a newer release"),
        "{refused:#?}"
    );
    assert!(
        refused.stderr.contains("V3__create_orders.sql"),
        "{refused:#?}"
    );
    let validate = project.run(&["--json", "validate"]).fails_with(1).json();
    assert_eq!(
        validate["problems"][0]["kind"], "newer_database",
        "{validate}"
    );

    let url = [("JETBASE_DATABASE_URL", project.url.as_str())];
    let ignored = project
        .run_in(
            project.root(),
            &["upgrade"],
            &[url[0], ("JETBASE_ON_NEWER_DATABASE", "ignore")],
        )
        .ok();
    assert!(
        ignored.stdout.contains("The database is up to date."),
        "{ignored:#?}"
    );

    let bad = project
        .run(&["upgrade", "--on-newer-database", "undo"])
        .fails_with(2);
    assert!(
        bad.stderr.contains("refuse, ignore or roll-back"),
        "{bad:#?}"
    );

    let rolled_back = project
        .run(&["upgrade", "--on-newer-database", "roll-back"])
        .ok();
    assert!(
        rolled_back
            .stdout
            .contains("V3__create_orders.sql (rolled back: a newer release applied it)"),
        "{rolled_back:#?}"
    );
    assert!(
        rolled_back
            .stdout
            .contains("Rolled back 2 migrations of a newer release, then applied 0."),
        "{rolled_back:#?}"
    );
    let tables = sqlite_tables(&project.root().join("jetbase/app.db"));
    assert!(!tables.contains(&"orders".to_owned()), "{tables:?}");
    assert!(tables.contains(&"items".to_owned()), "{tables:?}");
    let status = project.run(&["--json", "status"]).ok().json();
    assert_eq!(
        status["migrations"].as_array().unwrap().len(),
        1,
        "{status}"
    );
}

#[test]
fn rollback_of_a_deleted_file_uses_the_sql_its_row_keeps() {
    let project = sqlite_project();
    project.write("V1__create_items.sql", CREATE_ITEMS);
    project.write("V2__first_item.sql", FIRST_ITEM);
    project.run(&["upgrade"]).ok();
    std::fs::remove_file(project.migrations().join("V2__first_item.sql")).unwrap();
    let planned = project.run(&["rollback", "--dry-run"]).ok();
    assert!(
        planned.stdout.contains(
            "-- V2__first_item.sql (file gone: the rollback SQL kept in its history row)\nDELETE FROM items WHERE id = 1;"
        ),
        "{planned:#?}"
    );
    let done = project.run(&["--json", "rollback"]).ok().json();
    assert_eq!(done["migrations"][0]["filename"], "V2__first_item.sql");
    assert_eq!(done["migrations"][0]["direction"], "rollback");
    let history = project.run(&["--json", "history"]).ok().json();
    assert_eq!(
        history["migrations"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
}

/// The names of the tables of a SQLite file.
fn sqlite_tables(path: &std::path::Path) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        names
    })
}
