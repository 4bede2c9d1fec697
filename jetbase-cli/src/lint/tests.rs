use super::*;

fn migration(name: &str, text: &str) -> Migration {
    jetbase_core::parse_migration(name, text.as_bytes()).unwrap()
}

fn rules(dialect: Dialect, name: &str, text: &str) -> Vec<(usize, String)> {
    let target = LintSettings {
        dialect,
        postgres_major: 15,
        defaults: jetbase::RunLimits::default(),
        placeholders: &jetbase::Placeholders::new(),
    };
    lint_migration(&migration(name, text), name, target)
        .into_iter()
        .map(|finding| (finding.line, finding.rule))
        .collect()
}

#[test]
fn lines_are_the_files_not_the_statements() {
    let found = rules(
        Dialect::Postgres,
        "V1__index.sql",
        "-- upgrade\n\nCREATE TABLE t (id BIGINT);\n\n\nCREATE INDEX ix ON users (email);\n-- rollback\nDROP INDEX ix;\n",
    );
    assert!(
        found.contains(&(6, "require-concurrent-index-creation".to_owned())),
        "{found:?}"
    );
}

#[test]
fn ignore_comments_silence_squawks_rules_and_jetbases() {
    let text = "-- jetbase: table-lock-timeout=2s\n-- squawk-ignore-file missing-rollback\n\
                -- squawk-ignore require-concurrent-index-creation -- small table\n\
                CREATE INDEX ix ON users (email);\n";
    assert_eq!(rules(Dialect::Postgres, "V1__i.sql", text), []);
    let text = "-- squawk-ignore mysql-alter-without-algorithm\n-- the reason\n\
                ALTER TABLE t ADD COLUMN c INT;\nALTER TABLE t ADD COLUMN d INT;\n-- rollback\nSELECT 1;";
    assert_eq!(
        rules(Dialect::MySql, "V1__i.sql", text),
        [(4, "mysql-alter-without-algorithm".to_owned())]
    );
}

#[test]
fn concurrently_needs_no_transaction_and_is_clean_with_it() {
    let inside = "-- jetbase: table-lock-timeout=2s\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email);\n-- rollback\nDROP INDEX ix;";
    assert_eq!(
        rules(Dialect::Postgres, "V1__i.sql", inside),
        [(2, "needs-no-transaction".to_owned())]
    );
    let outside = format!("-- jetbase: no-transaction\n{inside}");
    assert_eq!(rules(Dialect::Postgres, "V1__i.sql", &outside), []);
}

#[test]
fn statements_are_linted_with_the_placeholders_put_in() {
    let text = "-- jetbase: table-lock-timeout=5s\n\
                CREATE TABLE ${schema}.items (id BIGINT PRIMARY KEY);\n\
                ALTER TABLE ${schema}.items ADD COLUMN note TEXT NOT NULL;\n\
                -- rollback\nDROP TABLE ${schema}.items;";
    let lint = |placeholders: &jetbase::Placeholders| {
        let target = LintSettings {
            dialect: Dialect::Postgres,
            postgres_major: 15,
            defaults: jetbase::RunLimits::default(),
            placeholders,
        };
        lint_migration(&migration("V1__items.sql", text), "V1__items.sql", target)
            .into_iter()
            .map(|finding| (finding.line, finding.rule, finding.level))
            .collect::<Vec<_>>()
    };
    let mut placeholders = jetbase::Placeholders::new();
    placeholders.insert("schema", "app");
    // squawk parses the statements as they run: the NOT NULL column is found on its line,
    // and nothing is a syntax error.
    let findings = lint(&placeholders);
    assert!(
        findings
            .iter()
            .any(|(line, rule, _)| *line == 3 && rule == "adding-required-field"),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|(_, rule, _)| rule != "syntax-error"),
        "{findings:?}"
    );
    // A `${name}` without a value is the error `upgrade` would stop on, at its line.
    let mut other = jetbase::Placeholders::new();
    other.insert("role", "reader");
    assert_eq!(
        lint(&other),
        [(2, "unknown-placeholder".to_owned(), Level::Error)]
    );
    // None configured: the file is linted as written (as it runs).
    assert!(
        lint(&jetbase::Placeholders::new())
            .iter()
            .any(|(_, rule, _)| rule == "syntax-error")
    );
}
