use super::*;
use crate::schema::{OnDelete, SqlType, generate};

fn users() -> Table {
    Table::new("users")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("email", SqlType::Varchar(200)))
        .column(Column::new("team_id", SqlType::BigInt).nullable(true))
        .primary_key(["id"])
        .index(["email"], true)
}

fn teams() -> Table {
    Table::new("teams")
        .column(Column::new("id", SqlType::BigInt))
        .column(Column::new("owner_id", SqlType::BigInt).nullable(true))
        .primary_key(["id"])
}

/// users -> teams and teams -> users: a cycle.
fn cyclic() -> Schema {
    Schema::new(vec![
        users().foreign_key(ForeignKey::new(["team_id"], "teams", ["id"])),
        teams().foreign_key(
            ForeignKey::new(["owner_id"], "users", ["id"]).on_delete(OnDelete::SetNull),
        ),
    ])
}

#[test]
fn postgres_creates_parents_first_and_closes_cycles_afterwards() {
    let generated = generate(&cyclic(), &Schema::default(), Dialect::Postgres).expect("valid");
    assert_eq!(
        generated.upgrade,
        [
            "CREATE TABLE \"teams\" (\n    \"id\" bigint NOT NULL,\n    \"owner_id\" bigint,\n    PRIMARY KEY (\"id\")\n)",
            "CREATE TABLE \"users\" (\n    \"id\" bigint NOT NULL,\n    \"email\" character varying(200) NOT NULL,\n    \"team_id\" bigint,\n    PRIMARY KEY (\"id\"),\n    CONSTRAINT \"fk_users_team_id\" FOREIGN KEY (\"team_id\") REFERENCES \"teams\" (\"id\")\n)",
            "CREATE UNIQUE INDEX \"uq_users_email\" ON \"users\" (\"email\")",
            "ALTER TABLE \"teams\" ADD CONSTRAINT \"fk_teams_owner_id\" FOREIGN KEY (\"owner_id\") REFERENCES \"users\" (\"id\") ON DELETE SET NULL",
        ]
    );
    assert_eq!(
        generated.rollback,
        [
            "ALTER TABLE \"teams\" DROP CONSTRAINT \"fk_teams_owner_id\"",
            "-- DATA LOSS: drops table users and its rows\nDROP TABLE \"users\"",
            "-- DATA LOSS: drops table teams and its rows\nDROP TABLE \"teams\"",
        ]
    );
}

#[test]
fn sqlite_keeps_every_key_inline() {
    let generated = generate(&cyclic(), &Schema::default(), Dialect::Sqlite).expect("valid");
    assert_eq!(generated.upgrade.len(), 3);
    assert!(
        generated.upgrade[0].contains("REFERENCES \"users\""),
        "{:?}",
        generated.upgrade
    );
    assert!(generated.upgrade[1].contains("REFERENCES \"teams\""));
    assert_eq!(generated.rollback[0], "PRAGMA defer_foreign_keys = ON");
}

#[test]
fn mysql_indexes_inline_and_drops_the_index_it_made_for_a_key() {
    let generated = generate(&cyclic(), &Schema::default(), Dialect::MySql).expect("valid");
    assert!(generated.upgrade[1].contains("UNIQUE INDEX `uq_users_email` (`email`)"));
    let mut without_key = cyclic();
    without_key.tables[1].foreign_keys.clear();
    let generated = generate(&without_key, &cyclic(), Dialect::MySql).expect("valid");
    assert_eq!(
        generated.upgrade,
        [
            "ALTER TABLE `teams` DROP FOREIGN KEY `fk_teams_owner_id`",
            "DROP INDEX `fk_teams_owner_id` ON `teams`"
        ]
    );
    assert_eq!(
        generated.rollback,
        [
            "ALTER TABLE `teams` ADD CONSTRAINT `fk_teams_owner_id` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE SET NULL"
        ]
    );
}

#[test]
fn postgres_alters_a_column_in_one_statement() {
    let before = Schema::new(vec![users()]);
    let mut after = users();
    after.columns[1] = Column::new("email", SqlType::Text)
        .nullable(true)
        .default("'none'");
    let generated = generate(&Schema::new(vec![after]), &before, Dialect::Postgres).expect("valid");
    assert_eq!(
        generated.upgrade,
        [
            "ALTER TABLE \"users\" ALTER COLUMN \"email\" TYPE text USING \"email\"::text, ALTER COLUMN \"email\" SET DEFAULT 'none', ALTER COLUMN \"email\" DROP NOT NULL"
        ]
    );
    assert_eq!(
        generated.rollback,
        [
            "-- DATA LOSS: changes users.email from text to character varying(200), which can fail or lose data\nALTER TABLE \"users\" ALTER COLUMN \"email\" DROP DEFAULT, ALTER COLUMN \"email\" TYPE character varying(200) USING \"email\"::character varying(200), ALTER COLUMN \"email\" SET NOT NULL"
        ]
    );
    let mysql = generate(&Schema::new(vec![users()]), &before, Dialect::MySql).expect("valid");
    assert!(mysql.is_empty());
}

#[test]
fn sqlite_rebuilds_what_alter_table_cannot_do() {
    let before = Schema::new(vec![users()]);
    let mut after = users();
    after.columns[1].nullable = true;
    let generated = generate(&Schema::new(vec![after]), &before, Dialect::Sqlite).expect("valid");
    assert_eq!(
        generated.upgrade,
        [
            "PRAGMA defer_foreign_keys = ON",
            "CREATE TABLE \"_jetbase_copy_users\" AS SELECT * FROM \"users\"",
            "DROP TABLE \"users\"",
            "CREATE TABLE \"users\" (\n    \"id\" INTEGER NOT NULL,\n    \"email\" VARCHAR(200),\n    \"team_id\" INTEGER,\n    PRIMARY KEY (\"id\")\n)",
            "INSERT INTO \"users\" (\"id\", \"email\", \"team_id\") SELECT \"id\", \"email\", \"team_id\" FROM \"_jetbase_copy_users\"",
            "DROP TABLE \"_jetbase_copy_users\"",
            "CREATE UNIQUE INDEX \"uq_users_email\" ON \"users\" (\"email\")",
        ]
    );
}

#[test]
fn sqlite_adds_simple_columns_without_a_rebuild() {
    let before = Schema::new(vec![users()]);
    let after = users()
        .column(Column::new("bio", SqlType::Text).nullable(true))
        .column(Column::new("score", SqlType::Integer).default("0"));
    let generated = generate(&Schema::new(vec![after]), &before, Dialect::Sqlite).expect("valid");
    assert_eq!(
        generated.upgrade,
        [
            "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT",
            "ALTER TABLE \"users\" ADD COLUMN \"score\" INTEGER NOT NULL DEFAULT 0",
        ]
    );
    assert_eq!(generated.rollback.len(), 2);
    assert!(generated.rollback[0].starts_with("-- DATA LOSS: drops column users.bio"));
}

#[test]
fn sqlite_refuses_a_rebuild_that_would_fire_on_delete() {
    let before = cyclic();
    let mut after = cyclic();
    after.tables[0].columns[1].nullable = true;
    let error = generate(&after, &before, Dialect::Sqlite).expect_err("unsafe");
    assert_eq!(
        error,
        SchemaError::UnsafeSqliteRebuild {
            table: "users".into(),
            child: "teams".into(),
            on_delete: "SET NULL"
        }
    );
    assert!(error.to_string().contains("write this migration by hand"));
}

#[test]
fn inconsistent_models_are_refused() {
    let unknown = Schema::new(vec![users().foreign_key(ForeignKey::new(
        ["team_id"],
        "teams",
        ["id"],
    ))]);
    let error = generate(&unknown, &Schema::default(), Dialect::Postgres).expect_err("unknown");
    assert!(
        error
            .to_string()
            .contains("references `teams.id`, which no model defines"),
        "{error}"
    );
    let text_key = Schema::new(vec![
        Table::new("t")
            .column(Column::new("a", SqlType::Text))
            .index(["a"], false),
    ]);
    let error = generate(&text_key, &Schema::default(), Dialect::MySql).expect_err("text key");
    assert!(error.to_string().contains("max_length"), "{error}");
    assert!(generate(&text_key, &Schema::default(), Dialect::Postgres).is_ok());
    let twice = Schema::new(vec![users(), users()]);
    assert!(matches!(
        generate(&twice, &Schema::default(), Dialect::Sqlite),
        Err(SchemaError::DuplicateTable { .. })
    ));
    let missing = Schema::new(vec![
        Table::new("t")
            .column(Column::new("a", SqlType::Text))
            .primary_key(["b"]),
    ]);
    assert!(matches!(
        generate(&missing, &Schema::default(), Dialect::Sqlite),
        Err(SchemaError::UnknownColumn { .. })
    ));
}

/// A name with a newline written into a comment must not end the comment and start SQL of its
/// own (a hostile review put `DROP TABLE victim;` first in a generated file this way).
#[test]
fn names_never_break_out_of_comments() {
    let hostile = "t\nDROP TABLE victim;\n--";
    // A model cannot carry one at all...
    let models = Schema::new(vec![
        Table::new(hostile).column(Column::new("id", SqlType::BigInt)),
    ]);
    let refused = generate(&models, &Schema::default(), Dialect::Postgres).unwrap_err();
    assert!(
        matches!(refused, SchemaError::ControlCharacterInName { ref name } if name == hostile),
        "{refused}"
    );
    // ...and a live table that has one (dropped: its name goes into two comments) stays inside
    // its comments and its quotes.
    let live = Schema::new(vec![
        Table::new(hostile).column(Column::new("id", SqlType::BigInt)),
    ]);
    for dialect in Dialect::ALL {
        let Ok(generated) = generate(&Schema::default(), &live, dialect) else {
            continue;
        };
        let body = generated.file_body();
        let migration = crate::parse_migration("V1__drop.sql", body.as_bytes()).unwrap();
        let statements = migration.upgrade_statements(dialect).unwrap();
        assert_eq!(statements.len(), 1, "{dialect}: {body}");
        // The one statement is the drop of the quoted name; the comment keeps the name escaped.
        assert!(
            statements[0].sql.contains("DROP TABLE"),
            "{dialect}: {body}"
        );
        assert!(
            body.contains("-- DATA LOSS: drops table t\\nDROP TABLE victim;\\n-- and its rows"),
            "{dialect}: {body}"
        );
    }
}
