//! make-migrations' core on SQLite, PostgreSQL and MySQL/MariaDB: a sequence of model
//! evolutions, each generated against the live schema, applied, checked for a fixpoint, rolled
//! back to the exact schema before, and applied again. Plus the startup check and the derive.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use common::{Files, Query, TestDb};
use jetbase::Model as _;
use jetbase::schema::{
    Column, ForeignKey, OnDelete, Schema, SqlType, Table, generate, introspect, verify,
};

fn users() -> Table {
    Table::new("users")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("email", SqlType::Varchar(200)))
        .column(Column::new("name", SqlType::Varchar(100)))
        .primary_key(["id"])
        .index(["email"], true)
        .index(["name"], false)
}

fn posts() -> Table {
    Table::new("posts")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("user_id", SqlType::BigInt))
        .column(Column::new("title", SqlType::Varchar(200)))
        .primary_key(["id"])
        .index(["user_id", "title"], false)
        .foreign_key(ForeignKey::new(["user_id"], "users", ["id"]).on_delete(OnDelete::Cascade))
}

fn comments() -> Table {
    Table::new("comments")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("post_id", SqlType::BigInt))
        .column(Column::new("body", SqlType::Text).nullable(true))
        .primary_key(["id"])
        .foreign_key(ForeignKey::new(["post_id"], "posts", ["id"]))
}

/// The models after each step, with the step's name.
fn evolution() -> Vec<(&'static str, Vec<Table>)> {
    let mut steps = Vec::new();
    let mut users = users();
    let mut posts = posts();
    let mut comments = comments();
    steps.push((
        "tables with a foreign key and indexes",
        vec![users.clone(), posts.clone()],
    ));
    users = users.column(Column::new("bio", SqlType::Text).nullable(true));
    steps.push(("a nullable column", vec![users.clone(), posts.clone()]));
    posts = posts.column(Column::new("views", SqlType::Integer).default("0"));
    steps.push((
        "a NOT NULL column with a default",
        vec![users.clone(), posts.clone()],
    ));
    posts = posts.index(["user_id", "title"], true);
    steps.push((
        "a composite unique index",
        vec![users.clone(), posts.clone()],
    ));
    posts.columns[3].sql_type = SqlType::Double;
    steps.push(("a type change", vec![users.clone(), posts.clone()]));
    posts.columns[2].nullable = true;
    steps.push(("a column made nullable", vec![users.clone(), posts.clone()]));
    posts.columns[2].nullable = false;
    steps.push((
        "the column made NOT NULL again",
        vec![users.clone(), posts.clone()],
    ));
    steps.push((
        REFERENCING,
        vec![users.clone(), posts.clone(), comments.clone()],
    ));
    // posts is referenced now (NO ACTION): SQLite's rebuild of it defers the check.
    posts.columns[3].default = Some("1".into());
    steps.push((
        "a default changed",
        vec![users.clone(), posts.clone(), comments.clone()],
    ));
    users.indexes.retain(|index| index.name != "ix_users_name");
    steps.push((
        "an index dropped",
        vec![users.clone(), posts.clone(), comments.clone()],
    ));
    comments.foreign_keys.clear();
    steps.push((
        "a foreign key dropped",
        vec![users.clone(), posts.clone(), comments.clone()],
    ));
    comments.columns[1].nullable = true;
    comments = comments
        .foreign_key(ForeignKey::new(["post_id"], "posts", ["id"]).on_delete(OnDelete::SetNull));
    steps.push((
        "a foreign key added to an existing table",
        vec![users.clone(), posts.clone(), comments.clone()],
    ));
    users.columns.retain(|column| column.name != "bio");
    steps.push((
        "a column dropped",
        vec![users.clone(), posts.clone(), comments],
    ));
    steps.push(("a table dropped", vec![users, posts]));
    steps
}

const REFERENCING: &str = "a table referencing an existing one";

/// For each step: generated against the live schema, applied; the database then is what the
/// models say, and a second generation finds nothing (fixpoint); the rollback restores the
/// schema before exactly (round trip); the step is applied again, and rows survive it all.
async fn evolve<P: Query>(db: &TestDb<P>, steps: Vec<(&str, Vec<Table>)>, rows: &[(&str, &str)]) {
    let files = Files::new(&[]);
    for (step, (name, models)) in steps.into_iter().enumerate() {
        let models = Schema::new(models);
        let before = introspect(&db.pool).await.unwrap();
        let generated = generate(&models, &before, db.dialect).unwrap();
        assert!(
            !generated.is_empty(),
            "step {step} ({name}) found no change"
        );
        files.write(&format!("V{}__step.sql", step + 1), &generated.file_body());
        let migrator = files.migrator();
        let report = migrator.upgrade(&db.pool).await;
        assert!(
            report.is_ok(),
            "step {step} ({name}) upgrade: {report:?}\n{}",
            generated.file_body()
        );

        let after = introspect(&db.pool).await.unwrap();
        assert_eq!(
            after.canonical(db.dialect),
            models.canonical(db.dialect),
            "step {step} ({name}): the database is not what the models say"
        );
        let again = generate(&models, &after, db.dialect).unwrap();
        assert!(
            again.is_empty(),
            "step {step} ({name}) is no fixpoint: {:?}",
            again.changes
        );

        migrator.rollback(&db.pool).count(1).await.unwrap();
        let rolled_back = introspect(&db.pool).await.unwrap();
        assert_eq!(
            rolled_back.canonical(db.dialect),
            before.canonical(db.dialect),
            "step {step} ({name}): the rollback did not restore the schema\n{}",
            generated.file_body()
        );
        migrator.upgrade(&db.pool).await.unwrap();
        assert_eq!(db.applied_versions().await.len(), step + 1);
        for (table, insert) in rows {
            let exists = models.table(table).is_some();
            if exists && db.pool.count(&format!("SELECT * FROM {table}")).await == 0 {
                db.pool.exec(insert).await;
            }
            if exists {
                assert_eq!(
                    db.pool.count(&format!("SELECT * FROM {table}")).await,
                    1,
                    "step {step} ({name}): {table} keeps its row"
                );
            }
        }
    }
}

async fn models_evolve_and_roll_back<P: Query>(db: &TestDb<P>) {
    let rows = [
        (
            "users",
            "INSERT INTO users (id, email, name) VALUES (1, 'a@example.com', 'A')",
        ),
        (
            "posts",
            "INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'First')",
        ),
        (
            "comments",
            "INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'Nice')",
        ),
    ];
    evolve(db, evolution(), &rows).await;
    assert_eq!(db.pool.strings("SELECT title FROM posts").await, ["First"]);
}
database_test!(
    models_evolve_and_roll_back,
    models_evolve_and_roll_back,
    not_on_warehouses = "schema introspection covers PostgreSQL, SQLite and MySQL/MariaDB only"
);

/// Two tables that reference each other: created (the cycle closed by a key added afterwards),
/// then dropped together; and a primary key that changes.
async fn cycles_and_primary_keys<P: Query>(db: &TestDb<P>) {
    let teams = Table::new("teams")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("lead_id", SqlType::BigInt).nullable(true))
        .primary_key(["id"])
        .foreign_key(ForeignKey::new(["lead_id"], "members", ["id"]).on_delete(OnDelete::SetNull));
    let members = Table::new("members")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("team_id", SqlType::BigInt))
        .column(Column::new("code", SqlType::Varchar(20)))
        .primary_key(["id"])
        .foreign_key(ForeignKey::new(["team_id"], "teams", ["id"]));
    let tags = Table::new("tags")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("name", SqlType::Varchar(50)))
        .primary_key(["id"]);
    let wider_key = tags.clone().primary_key(["id", "name"]);
    let steps = vec![
        ("a cycle", vec![teams, members, tags]),
        ("a primary key changed", vec![wider_key.clone()]),
    ];
    evolve(
        db,
        steps,
        &[("tags", "INSERT INTO tags (id, name) VALUES (1, 'a')")],
    )
    .await;
}
database_test!(
    cycles_and_primary_keys,
    cycles_and_primary_keys,
    not_on_warehouses = "schema introspection covers PostgreSQL, SQLite and MySQL/MariaDB only"
);

async fn verify_reports_what_differs<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[]);
    let models = Schema::new(vec![users(), posts()]);
    let generated = generate(&models, &Schema::default(), db.dialect).unwrap();
    files.write("V1__models.sql", &generated.file_body());
    files.migrator().upgrade(&db.pool).await.unwrap();
    assert_eq!(verify(&db.pool, &models.tables).await.unwrap(), []);

    let newer = users().column(Column::new("bio", SqlType::Text).nullable(true));
    let differences = verify(&db.pool, &[newer, posts()]).await.unwrap();
    let described: Vec<String> = differences.iter().map(ToString::to_string).collect();
    let text = SqlType::Text.render(db.dialect);
    assert_eq!(described, [format!("+ column users.bio {text}")]);
    // jetbase's own tables are never part of the schema.
    let schema = introspect(&db.pool).await.unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["posts", "users"]);
}
database_test!(
    verify_reports_what_differs,
    verify_reports_what_differs,
    not_on_warehouses = "schema introspection covers PostgreSQL, SQLite and MySQL/MariaDB only"
);

async fn types_and_defaults_round_trip<P: Query>(db: &TestDb<P>) {
    let mut table = Table::new("everything").column(Column::new("id", SqlType::Integer));
    for (at, sql_type) in SqlType::PORTABLE.into_iter().enumerate() {
        table = table.column(Column::new(format!("c{at}"), sql_type).nullable(at % 2 == 0));
    }
    let table = table
        .column(Column::new("status", SqlType::Varchar(20)).default("'draft'"))
        .column(Column::new("quote", SqlType::Varchar(20)).default("'it''s'"))
        .column(Column::new("score", SqlType::Integer).default("-1"))
        .column(Column::new("ratio", SqlType::Double).default("1.5"))
        .column(Column::new("flag", SqlType::Boolean).default("false"))
        .column(Column::new("at", SqlType::Timestamp).default("CURRENT_TIMESTAMP"))
        .primary_key(["id"]);
    let models = Schema::new(vec![table]);
    let generated = generate(&models, &Schema::default(), db.dialect).unwrap();
    let files = Files::new(&[("V1__everything.sql", &generated.file_body())]);
    files.migrator().upgrade(&db.pool).await.unwrap();
    let actual = introspect(&db.pool).await.unwrap();
    let again = generate(&models, &actual, db.dialect).unwrap();
    assert!(again.is_empty(), "{:?}\n{actual:#?}", again.changes);
}
database_test!(
    types_and_defaults_round_trip,
    types_and_defaults_round_trip,
    not_on_warehouses = "schema introspection covers PostgreSQL, SQLite and MySQL/MariaDB only"
);

#[derive(jetbase::Model)]
#[jetbase(table = "posts", index(columns = "user_id, title"))]
#[allow(dead_code)]
struct Post {
    #[jetbase(primary_key)]
    id: i64,
    #[jetbase(references = "users.id", on_delete = "cascade")]
    user_id: i64,
    #[jetbase(max_length = 200)]
    title: String,
    #[jetbase(skip)]
    rendered: Option<std::rc::Rc<str>>,
}

#[test]
fn the_derive_builds_the_table_the_builder_does() {
    assert_eq!(Post::table(), posts());
}
