use super::*;

fn write(root: &Path, relative: &str, content: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn scan_problems(root: &Path) -> Vec<String> {
    scan_dir(root)
        .expect_err("the directory has problems")
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn apply_order_is_version_then_ra_then_roc_recursively() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "V10__ten.sql", b"SELECT 10;");
    write(root, "b/V2__two.sql", b"SELECT 2;");
    write(root, "a/V1_1__one_one.sql", b"SELECT 11;");
    write(root, "V1__one.sql", b"SELECT 1;");
    write(root, "ROC__z_view.sql", b"SELECT 'roc';");
    write(root, "a/RA__b_always.sql", b"SELECT 'ra b';");
    write(root, "RA__a_always.sql", b"SELECT 'ra a';");
    write(root, "README.md", b"not a migration");
    write(root, ".gitkeep", b"");
    write(root, "notes/todo.txt", b"");
    let order: Vec<String> = scan_dir(root)
        .unwrap()
        .iter()
        .map(|m| m.path().to_owned())
        .collect();
    assert_eq!(
        order,
        [
            "V1__one.sql",
            "a/V1_1__one_one.sql",
            "b/V2__two.sql",
            "V10__ten.sql",
            "RA__a_always.sql",
            "a/RA__b_always.sql",
            "ROC__z_view.sql"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "V1__good.sql", b"SELECT 1;");
    write(root, "create_users.sql", b"SELECT 1;");
    write(root, "V20__twenty.sql", b"SELECT 20;");
    write(root, "sub/V20.0__twenty_again.sql", b"SELECT 20;");
    write(root, "V3__latin1.sql", b"SELECT 1;\nSELECT 'caf\xe9';\n");
    write(
        root,
        "V4__directive.sql",
        b"-- jetbase: no-transactions\nSELECT 1;",
    );
    write(root, "V5__empty.sql", b"\n\n");
    write(root, "V6__open_quote.sql", b"SELECT 1;\n\nSELECT 'open;\n");
    write(root, "V7__.sql", b"SELECT 1;");
    let problems = scan_problems(root);
    assert_eq!(problems.len(), 7, "{problems:#?}");
    let expect = [
        (
            "`V20__twenty.sql`, `sub/V20.0__twenty_again.sql`",
            "version 20 is used by more than one file",
        ),
        (
            "`V3__latin1.sql`",
            "not valid UTF-8 (first invalid byte on line 2)",
        ),
        (
            "`V4__directive.sql`",
            "line 1: unknown directive `-- jetbase: no-transactions`",
        ),
        ("`V5__empty.sql`", "the file is empty"),
        (
            "`V6__open_quote.sql`",
            "unterminated single-quoted string (') starting on line 3",
        ),
        ("`V7__.sql`", "empty description"),
        (
            "`create_users.sql`",
            "expected `V<version>__<description>.sql`",
        ),
    ];
    for (path, message) in expect {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(path) && p.contains(message)),
            "no problem with {path} and {message:?} in {problems:#?}"
        );
    }
}

#[test]
fn bad_name_and_bad_body_of_one_file_are_both_reported() {
    let problems = parse_migration("V1_bad.sql", b"-- jetbase: nope\nSELECT 1;").unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn repeatables_with_the_same_file_name_are_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/RA__refresh.sql", b"SELECT 1;");
    write(dir.path(), "b/RA__refresh.sql", b"SELECT 2;");
    let problems = scan_problems(dir.path());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("`a/RA__refresh.sql`, `b/RA__refresh.sql`"),
        "{}",
        problems[0]
    );
}

#[test]
fn missing_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let error = scan_dir(&missing).unwrap_err();
    assert!(matches!(
        error.problems[..],
        [SourceError::MissingDirectory { .. }]
    ));
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
    write(dir.path(), "file.sql", b"");
    let error = scan_dir(&dir.path().join("file.sql")).unwrap_err();
    assert!(matches!(
        error.problems[..],
        [SourceError::NotADirectory { .. }]
    ));
}

#[test]
fn mysql_backslash_escapes_are_accepted_before_the_dialect_is_known() {
    let migration =
        parse_migration("V1__mysql.sql", b"INSERT INTO t VALUES ('it\\'s');\n").unwrap();
    assert_eq!(
        migration.upgrade_statements(Dialect::MySql).unwrap().len(),
        1
    );
    assert!(migration.upgrade_statements(Dialect::Postgres).is_err());
}

#[test]
fn byte_order_mark_is_dropped() {
    let migration = parse_migration(
        "V1__bom.sql",
        b"\xef\xbb\xbfSELECT 1;\n-- rollback\nSELECT 2;",
    )
    .unwrap();
    assert_eq!(migration.upgrade_sql(), "SELECT 1;\n");
    assert_eq!(migration.rollback_sql(), Some("SELECT 2;"));
    assert_eq!(migration.rollback_first_line(), 3);
    let statements = migration.rollback_statements(Dialect::Sqlite).unwrap();
    assert_eq!((statements[0].sql, statements[0].line), ("SELECT 2", 3));
}

#[test]
fn rollback_presence() {
    let with = parse_migration("V1__a.sql", b"SELECT 1;\n-- rollback\nSELECT 2;").unwrap();
    let empty = parse_migration("V1__a.sql", b"SELECT 1;\n-- rollback\n-- nothing\n").unwrap();
    let without = parse_migration("V1__a.sql", b"SELECT 1;\n").unwrap();
    assert!(with.has_rollback_sql());
    assert!(!empty.has_rollback_sql());
    assert_eq!(empty.rollback_sql(), Some("-- nothing\n"));
    assert!(!without.has_rollback_sql());
    assert_eq!(without.rollback_sql(), None);
}

#[test]
fn a_nul_byte_is_refused_naming_the_file_and_line() {
    // The three places a hostile review put one; each made SQLite's statement loop spin.
    for (content, line) in [
        (&b"SELECT 1;\x00"[..], 1),
        (b"\x00SELECT 1;", 1),
        (b"SELECT 1;\n-- rollback\nSELECT 1\x00;", 3),
    ] {
        let problems = parse_migration("sub/V1__nul.sql", content)
            .map(|_| ())
            .expect_err("a NUL byte is refused");
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [format!(
                "`sub/V1__nul.sql`: line {line} holds a NUL byte (\\0), which no database takes in SQL; remove it (the file may have been saved in another encoding, such as UTF-16)"
            )]
        );
    }
}

/// A link that leads out of the migrations directory (a hostile review saw `/etc/passwd` listed
/// as a pending migration) is refused, naming the link and its target; links inside are
/// followed.
#[cfg(unix)]
#[test]
fn links_out_of_the_directory_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.sql", b"SELECT 'secret';");
    write(outside.path(), "more/V3__more.sql", b"SELECT 3;");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "V1__one.sql", b"SELECT 1;");
    write(root, "shared/two.txt", b"SELECT 2;");
    std::os::unix::fs::symlink(root.join("shared/two.txt"), root.join("V2__two.sql")).unwrap();
    let migrations = scan_dir(root).unwrap();
    assert_eq!(migrations.len(), 2, "a link inside is followed");
    std::os::unix::fs::symlink(
        outside.path().join("secret.sql"),
        root.join("V9__secret.sql"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("more"), root.join("elsewhere")).unwrap();
    let mut problems = scan_problems(root);
    problems.sort();
    let refused = |link: &str, target: &str| {
        let target = std::fs::canonicalize(outside.path().join(target)).unwrap();
        format!(
            "`{link}` is a link to `{}`, outside the migrations directory; copy the file in (or \
             link to one inside the directory)",
            target.display()
        )
    };
    assert_eq!(
        problems,
        [
            refused("V9__secret.sql", "secret.sql"),
            refused("elsewhere", "more")
        ]
    );
}

/// A directory entry that cannot be read is named with the operating system's reason (it
/// said "``: cannot be read" with no reason).
#[cfg(unix)]
#[test]
fn an_unreadable_entry_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__one.sql", b"SELECT 1;");
    std::os::unix::fs::symlink(dir.path().join("loop"), dir.path().join("loop")).unwrap();
    let problems = scan_problems(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("`loop`: cannot be read: ")
            && problems[0].to_lowercase().contains("symbolic links"),
        "{problems:?}"
    );
    let missing = dir.path().join("gone");
    let error = scan_dir(&missing).unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
}
