//! `jetbase make-migrations`, the built binary in temporary projects: models found in the
//! source, the database read, the migration written, applied and rolled back, on SQLite,
//! PostgreSQL and MariaDB; every place models are found; mistakes in models.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::path::PathBuf;

use common::{Query, TestDb};
use support::{Project, cli_url};

const BLOG: &str = r#"
use jetbase::Model;

#[derive(Debug, Model)]
#[jetbase(table = "users")]
pub struct User {
    #[jetbase(primary_key)]
    pub id: i64,
    #[jetbase(max_length = 200, unique)]
    pub email: String,
}

#[derive(Debug, jetbase::Model)]
#[jetbase(table = "posts", index(columns = "user_id, title"))]
pub struct Post {
    #[jetbase(primary_key)]
    pub id: i64,
    #[jetbase(references = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[jetbase(max_length = 200)]
    pub title: String,
    #[jetbase(default = "0")]
    pub views: i32,
}
"#;

fn write_models(project: &Project, path: &str, text: &str) {
    let path = project.root().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The migration files, sorted.
fn migration_files(project: &Project) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(project.migrations())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Versions are timestamps to the second: two files need two seconds.
fn next_second() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

async fn models_to_database_and_back<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    write_models(&project, "src/models/blog.rs", BLOG);

    let check = project.run(&["make-migrations", "--check"]).fails_with(1);
    assert!(check.stdout.contains("+ table users"), "{check:#?}");
    assert!(
        check
            .stderr
            .contains("the models and the database differ (2 changes)"),
        "{check:#?}"
    );
    assert!(
        migration_files(&project).is_empty(),
        "--check writes nothing"
    );

    let made = project.run(&["make-migrations", "-d", "create blog"]).ok();
    let files = migration_files(&project);
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with('V') && name.ends_with("__create_blog.sql"),
        "{name}"
    );
    assert!(
        made.stdout.contains("+ table posts") && made.stdout.contains(&name),
        "{made:#?}"
    );
    let body = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        body.contains("-- upgrade\n") && body.contains("-- rollback\n"),
        "{body}"
    );

    // Not applied yet: a second run would repeat it.
    let pending = project.run(&["make-migrations"]).fails_with(1);
    assert!(pending.stderr.contains("not applied yet"), "{pending:#?}");
    assert!(pending.stderr.contains("jetbase upgrade"), "{pending:#?}");

    project.run(&["upgrade"]).ok();
    assert!(db.table_exists("posts").await);
    db.pool
        .exec("INSERT INTO users (id, email) VALUES (1, 'a@example.com')")
        .await;
    db.pool
        .exec("INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'Hello')")
        .await;
    let unchanged = project.run(&["make-migrations"]).ok();
    assert!(
        unchanged
            .stdout
            .starts_with("No changes detected (2 models in 1 file)."),
        "{unchanged:#?}"
    );
    project.run(&["make-migrations", "--check"]).ok();
    let json = project.run(&["--json", "make-migrations"]).ok().json();
    assert_eq!(
        json,
        serde_json::json!({ "file": null, "changes": [], "data_loss": [] })
    );
    assert_eq!(migration_files(&project).len(), 1);

    // A new column, and a table gone: the loss is announced and marked in the file.
    next_second();
    let evolved = BLOG.replace(
        "pub email: String,",
        "pub email: String,\n    pub bio: Option<String>,",
    );
    let without_posts = &evolved[..evolved.find("#[derive(Debug, jetbase::Model)]").unwrap()];
    write_models(&project, "src/models/blog.rs", without_posts);
    let made = project
        .run(&["--json", "make-migrations", "-d", "drop posts"])
        .ok()
        .json();
    let changes: Vec<String> = made["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change.as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(changes, ["+ column users.bio text", "- table posts"]);
    assert_eq!(
        made["data_loss"],
        serde_json::json!(["drops table posts and its rows"])
    );
    let file = made["file"].as_str().unwrap();
    let body = std::fs::read_to_string(project.root().join(file)).unwrap();
    assert!(
        body.contains("-- DATA LOSS: drops table posts and its rows\nDROP TABLE"),
        "{body}"
    );
    let text = project.run(&["make-migrations", "--check"]).fails_with(1);
    assert!(
        text.stderr.contains("1 migration is not applied yet"),
        "{text:#?}"
    );

    project.run(&["upgrade"]).ok();
    assert!(!db.table_exists("posts").await);
    project.run(&["make-migrations", "--check"]).ok();
    project.run(&["rollback"]).ok();
    assert!(db.table_exists("posts").await);
    assert_eq!(db.pool.count("SELECT id FROM users").await, 1, "rows kept");
    // Back at the first migration's schema, the models now differ by those two changes again.
    let check = project.run(&["make-migrations", "--check"]).fails_with(1);
    assert!(check.stderr.contains("not applied yet"), "{check:#?}");
}
database_test!(
    models_to_database_and_back,
    models_to_database_and_back,
    not_on_warehouses =
        "make-migrations reads the catalogs of PostgreSQL, SQLite and MySQL/MariaDB only"
);

/// What make-migrations writes passes `jetbase lint` on its database: no error. On PostgreSQL an
/// index or a foreign key added to a table that exists is marked reviewed, with the reason and
/// what to do on a large table.
async fn generated_migrations_pass_the_lint<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    write_models(&project, "src/models/blog.rs", BLOG);
    project.run(&["make-migrations", "-d", "create blog"]).ok();
    project.run(&["upgrade"]).ok();
    next_second();
    // An index and a foreign key on tables that exist.
    let evolved = BLOG
        .replace(
            "index(columns = \"user_id, title\")",
            "index(columns = \"user_id, title\"), index(columns = \"views\")",
        )
        .replace(
            "pub views: i32,",
            "pub views: i32,\n    #[jetbase(references = \"users.id\")]\n    pub editor_id: Option<i64>,",
        );
    write_models(&project, "src/models/blog.rs", &evolved);
    let made = project
        .run(&["--json", "make-migrations", "-d", "index and editor"])
        .ok()
        .json();
    let file = made["file"].as_str().unwrap();
    let body = std::fs::read_to_string(project.root().join(file)).unwrap();
    if db.dialect == common::Dialect::Postgres {
        assert!(
            body.contains("-- squawk-ignore require-concurrent-index-creation -- generated in"),
            "{body}"
        );
        assert!(
            body.contains(
                "-- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid"
            ),
            "{body}"
        );
    }
    let lint = project.run(&["--json", "lint"]).ok().json();
    let errors: Vec<&serde_json::Value> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{body}");
    project.run(&["upgrade", "--lint=deny"]).ok();
    project.run(&["make-migrations", "--check"]).ok();
}
database_test!(
    generated_migrations_pass_the_lint,
    generated_migrations_pass_the_lint,
    not_on_warehouses =
        "make-migrations reads the catalogs of PostgreSQL, SQLite and MySQL/MariaDB only"
);

/// What make-migrations writes and `upgrade` applies is the migrations' own schema: `drift` finds
/// nothing after each round (the models created, then evolved).
async fn generated_migrations_are_not_drift<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    let scratch_url =
        common::with_database(&db.url, &format!("jb_drift_models_{}", std::process::id()));
    let drift = |project: &Project| {
        let mut args = vec!["--json", "drift"];
        if db.dialect == common::Dialect::MySql {
            args.extend(["--scratch-url", scratch_url.as_str()]);
        }
        project.run(&args).ok().json()
    };
    write_models(&project, "src/models/blog.rs", BLOG);
    project.run(&["make-migrations", "-d", "blog"]).ok();
    project.run(&["upgrade"]).ok();
    assert_eq!(drift(&project), serde_json::json!({ "drift": [] }));
    next_second();
    let evolved = BLOG.replace(
        "pub email: String,",
        "pub email: String,\n    pub bio: Option<String>,",
    );
    write_models(&project, "src/models/blog.rs", &evolved);
    project.run(&["make-migrations", "-d", "bio"]).ok();
    project.run(&["upgrade"]).ok();
    assert_eq!(drift(&project), serde_json::json!({ "drift": [] }));
    assert_eq!(migration_files(&project).len(), 2);
}
database_test!(
    generated_migrations_are_not_drift,
    generated_migrations_are_not_drift,
    not_on_warehouses =
        "make-migrations reads the catalogs of PostgreSQL, SQLite and MySQL/MariaDB only"
);

/// The seed README's SQLAlchemy models (Python Jetbase's own example).
const SQLALCHEMY_BLOG: &str = r#"from sqlalchemy import Column, Integer, String, ForeignKey
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String(255), nullable=False, unique=True)
    name = Column(String(100), nullable=True)


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    title = Column(String(255), nullable=False)
    content = Column(String(2000), nullable=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
"#;

/// The same models, evolved: a column added, a type widened, an index; and (`COMMENTS`, in a
/// module of its own, SQLAlchemy 2's typed style on the same base) a table whose foreign key
/// cascades.
const SQLALCHEMY_EVOLVED: &str = r#"from sqlalchemy import Column, Integer, String, ForeignKey, Text, text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String(255), nullable=False, unique=True)
    name = Column(String(200), nullable=True)
    bio = Column(Text, nullable=True)


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    title = Column(String(255), nullable=False, index=True)
    content = Column(String(2000), nullable=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    views = Column(Integer, nullable=False, server_default=text("0"))
"#;

const SQLALCHEMY_COMMENTS: &str = r#"from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.blog import Base


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(500))
"#;

/// `jetbase make-migrations` in a Python Jetbase project: SQLAlchemy models in `models/`, read by
/// the Python of `JETBASE_PYTHON` (the test script's virtualenv, SQLAlchemy 2.x), the same diff
/// and round trip as Rust models; the mistakes a Python project makes, each a clear error.
async fn sqlalchemy_models_to_database_and_back<P: Query>(db: &TestDb<P>) {
    let python = common::server_url("JETBASE_TEST_SQLALCHEMY_PYTHON");
    let project = Project::new(&cli_url(db));
    let url = cli_url(db);
    let run = |args: &[&str], python: &str| {
        project.run_in(
            project.root(),
            args,
            &[("JETBASE_DATABASE_URL", &url), ("JETBASE_PYTHON", python)],
        )
    };
    write_models(&project, "models/__init__.py", "");
    write_models(&project, "models/blog.py", SQLALCHEMY_BLOG);

    let made = run(&["--json", "make-migrations", "-d", "blog"], &python)
        .ok()
        .json();
    assert_eq!(
        made["changes"],
        serde_json::json!(["+ table users", "+ table posts"])
    );
    run(&["upgrade"], &python).ok();
    let again = run(&["make-migrations"], &python).ok();
    assert!(
        again
            .stdout
            .contains("No changes detected (2 models in 2 files)"),
        "{again:#?}"
    );
    // The primary keys generate their values, as SQLAlchemy's would.
    db.pool
        .exec("INSERT INTO users (email, name) VALUES ('a@example.com', 'A')")
        .await;
    db.pool
        .exec("INSERT INTO posts (title, user_id) SELECT 'first', id FROM users")
        .await;
    assert_eq!(db.pool.count("SELECT id FROM posts").await, 1);

    next_second();
    write_models(&project, "models/blog.py", SQLALCHEMY_EVOLVED);
    write_models(&project, "models/comments.py", SQLALCHEMY_COMMENTS);
    let made = run(&["--json", "make-migrations", "-d", "evolve"], &python)
        .ok()
        .json();
    let mut changes: Vec<String> = made["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change.as_str().unwrap().to_lowercase())
        .collect();
    changes.sort();
    assert_eq!(changes.len(), 5, "{changes:#?}");
    for expected in [
        "+ column users.bio",
        "+ column posts.views",
        "users.name",
        "+ index ix_posts_title",
        "+ table comments",
    ] {
        assert!(
            changes.iter().any(|change| change.contains(expected)),
            "{expected} in {changes:#?}"
        );
    }
    run(&["upgrade"], &python).ok();
    run(&["make-migrations", "--check"], &python).ok();
    db.pool
        .exec("INSERT INTO comments (post_id, body) SELECT id, 'nice' FROM posts")
        .await;
    db.pool.exec("DELETE FROM posts").await;
    assert_eq!(
        db.pool.count("SELECT id FROM comments").await,
        0,
        "ondelete=CASCADE"
    );
    assert_eq!(db.pool.count("SELECT views FROM posts").await, 0);

    // A module that fails to import: its traceback's end, nothing written.
    let files_before = migration_files(&project);
    write_models(
        &project,
        "models/broken.py",
        "import nothing_of_that_name\n",
    );
    let broken = run(&["make-migrations"], &python).fails_with(1);
    assert!(
        broken.stderr.contains("models/broken.py")
            && broken
                .stderr
                .contains("No module named 'nothing_of_that_name'"),
        "{broken:#?}"
    );
    std::fs::remove_file(project.root().join("models/broken.py")).unwrap();
    // No Python, or no SQLAlchemy for it.
    let missing = run(&["make-migrations"], "/nonexistent/python3").fails_with(2);
    assert!(
        missing.stderr.contains("/nonexistent/python3")
            && missing.stderr.contains("JETBASE_PYTHON"),
        "{missing:#?}"
    );
    let bare = project.root().join("bare-python");
    std::fs::write(&bare, format!("#!/bin/sh\nexec {python} -S -I \"$@\"\n")).unwrap();
    std::process::Command::new("chmod")
        .arg("755")
        .arg(&bare)
        .status()
        .unwrap();
    let without = run(&["make-migrations"], bare.to_str().unwrap()).fails_with(2);
    assert!(
        without.stderr.contains("SQLAlchemy is not installed"),
        "{without:#?}"
    );
    // Modules without a table never mean "drop every table".
    for name in ["blog", "comments", "__init__"] {
        std::fs::remove_file(project.root().join(format!("models/{name}.py"))).unwrap();
    }
    write_models(&project, "models/empty.py", "VALUE = 1\n");
    let none = run(&["make-migrations"], &python).fails_with(2);
    assert!(
        none.stderr
            .contains("no SQLAlchemy table found in models/, model/ and models.py"),
        "{none:#?}"
    );
    assert_eq!(migration_files(&project), files_before, "nothing written");
}
database_test!(
    sqlalchemy_models_to_database_and_back,
    sqlalchemy_models_to_database_and_back,
    not_on_warehouses =
        "make-migrations reads the catalogs of PostgreSQL, SQLite and MySQL/MariaDB only"
);

/// `python` may be configured by a `pyproject.toml` in or above the project root, as Python
/// Jetbase reads it: make-migrations says which program it runs and which file chose it (the
/// whole path of a file above the project).
#[test]
fn the_python_that_runs_is_named_with_the_file_that_chose_it() {
    let python = common::server_url("JETBASE_TEST_SQLALCHEMY_PYTHON");
    let above = tempfile::tempdir().unwrap();
    let project = Project {
        root: tempfile::tempdir_in(above.path()).unwrap(),
        url: "sqlite:///app.db".to_owned(),
    };
    project.run(&["init"]).ok();
    write_models(&project, "models/__init__.py", "");
    write_models(&project, "models/blog.py", SQLALCHEMY_BLOG);
    let pyproject = above.path().join("pyproject.toml");
    std::fs::write(
        &pyproject,
        format!("[tool.jetbase]\npython = {python:?}\nmodel_paths = [\"models\"]\n"),
    )
    .unwrap();
    let run = project
        .run_in(
            project.root(),
            &["make-migrations", "-d", "blog"],
            &[("JETBASE_DATABASE_URL", "sqlite:///app.db")],
        )
        .ok();
    assert!(
        run.stderr.contains(&format!(
            "reading the models with {python} (from `python` in {} [tool.jetbase]",
            pyproject.display()
        )),
        "{run:#?}"
    );
}

fn sqlite_project() -> Project {
    let project = Project::empty("sqlite:///app.db");
    project.run(&["init"]).ok();
    project
}

const ONE_MODEL: &str =
    "#[derive(jetbase::Model)]\nstruct Thing { #[jetbase(primary_key)] id: i64 }\n";

#[test]
fn models_are_found_in_each_place() {
    // The default places.
    for path in [
        "models/thing.rs",
        "model/thing.rs",
        "src/models/thing.rs",
        "src/model/thing.rs",
        "src/models.rs",
        "crates/app/src/models.rs",
    ] {
        let project = sqlite_project();
        write_models(&project, path, ONE_MODEL);
        let check = project.run(&["make-migrations", "--check"]).fails_with(1);
        assert!(check.stdout.contains("+ table thing"), "{path}: {check:#?}");
    }
    // Elsewhere, nothing is found by default...
    let project = sqlite_project();
    write_models(&project, "schema/tables.rs", ONE_MODEL);
    write_models(
        &project,
        "other/more.rs",
        &ONE_MODEL.replace("Thing", "More"),
    );
    write_models(
        &project,
        "target/models/built.rs",
        &ONE_MODEL.replace("Thing", "Built"),
    );
    let none = project.run(&["make-migrations"]).fails_with(2);
    assert!(
        none.stderr
            .contains("no #[derive(jetbase::Model)] struct found in models/, model/ and models.rs"),
        "{none:#?}"
    );
    // ...but model_paths in jetbase.toml...
    let toml = project.root().join("jetbase/jetbase.toml");
    let original = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{original}\nmodel_paths = [\"schema\"]\n")).unwrap();
    let check = project.run(&["make-migrations", "--check"]).fails_with(1);
    assert_eq!(check.stdout.trim(), "+ table thing", "{check:#?}");
    // ...and JETBASE_MODELS, a comma-separated list of files and directories, over the file.
    let env = [
        ("JETBASE_DATABASE_URL", "sqlite:///app.db"),
        ("JETBASE_MODELS", "schema/tables.rs, other"),
    ];
    let check = project
        .run_in(project.root(), &["make-migrations", "--check"], &env)
        .fails_with(1);
    assert_eq!(
        check.stdout.trim(),
        "+ table more\n  + table thing",
        "{check:#?}"
    );
    let env = [
        ("JETBASE_DATABASE_URL", "sqlite:///app.db"),
        ("JETBASE_MODELS", "nowhere"),
    ];
    let missing = project
        .run_in(project.root(), &["make-migrations"], &env)
        .fails_with(2);
    assert!(
        missing
            .stderr
            .contains("JETBASE_MODELS names nowhere, which does not exist"),
        "{missing:#?}"
    );
    assert!(
        !project.root().join("jetbase/app.db").exists(),
        "a failed run creates no database"
    );
    assert!(migration_files(&project).is_empty());
}

#[test]
fn mistakes_in_models_name_file_and_line_and_write_nothing() {
    let project = sqlite_project();
    write_models(
        &project,
        "src/models/broken.rs",
        "#[derive(jetbase::Model)]\nstruct Broken {\n    id: i64,\n    tags: std::collections::HashSet<String>,\n    #[jetbase(max_lenght = 3)]\n    name: String,\n}\n",
    );
    let broken = project.run(&["make-migrations"]).fails_with(2);
    assert!(
        broken.stderr.contains("2 problems in the models"),
        "{broken:#?}"
    );
    assert!(
        broken.stderr.contains("src/models/broken.rs:4:11: no SQL type for the type of field `tags`; name one with #[jetbase(sql_type = \"...\")]"),
        "{broken:#?}"
    );
    assert!(
        broken
            .stderr
            .contains("src/models/broken.rs:5:15: unknown jetbase attribute on a field"),
        "{broken:#?}"
    );
    assert!(migration_files(&project).is_empty());

    // A reference to a table no model defines.
    write_models(
        &project,
        "src/models/broken.rs",
        "#[derive(jetbase::Model)]\nstruct Post { #[jetbase(references = \"users.id\")] user_id: i64 }\n",
    );
    let unknown = project.run(&["make-migrations"]).fails_with(2);
    assert!(
        unknown
            .stderr
            .contains("`post`.`user_id` references `users.id`, which no model defines"),
        "{unknown:#?}"
    );

    // An empty models directory: nothing to compare, nothing written (never "drop every table").
    std::fs::remove_file(project.root().join("src/models/broken.rs")).unwrap();
    let empty = project.run(&["make-migrations"]).fails_with(2);
    assert!(
        empty
            .stderr
            .contains("no #[derive(jetbase::Model)] struct found"),
        "{empty:#?}"
    );
    assert!(empty.stderr.contains("(0 .rs files read)"), "{empty:#?}");
    assert!(migration_files(&project).is_empty());
}

/// With `postgres_schema`, the models are compared with that schema and created in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_holds_the_models() {
    let db = common::postgres().await;
    let project = Project::new(&db.url);
    write_models(&project, "src/models/blog.rs", BLOG);
    // A table of the same name in public is not the schema's.
    db.pool.exec("CREATE TABLE users (other INTEGER)").await;
    let env = [
        ("JETBASE_DATABASE_URL", db.url.as_str()),
        ("JETBASE_POSTGRES_SCHEMA", "app"),
    ];
    let made = project
        .run_in(project.root(), &["make-migrations"], &env)
        .ok();
    assert!(made.stdout.contains("+ table users"), "{made:#?}");
    project.run_in(project.root(), &["upgrade"], &env).ok();
    let in_app = db
        .pool
        .strings(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'app' ORDER BY table_name",
        )
        .await;
    assert_eq!(
        in_app,
        ["jetbase_lock", "jetbase_migrations", "posts", "users"]
    );
    let again = project
        .run_in(project.root(), &["make-migrations"], &env)
        .ok();
    assert!(
        again.stdout.starts_with("No changes detected"),
        "{again:#?}"
    );
    // public's own users table was neither read nor touched.
    assert_eq!(
        db.pool
            .strings(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = 'users'"
            )
            .await,
        ["other"]
    );
}
