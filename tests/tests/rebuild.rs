//! Cargo rebuilds a crate that uses `embed!()` when a migration file is edited (the macro's
//! `include_bytes!`) and when one is added or removed (the `jetbase::build` helper in build.rs).

use jetbase_tests::TempCrate;

const MAIN_RS: &str = r#"
static MIGRATOR: jetbase::Migrator = jetbase::embed!();

fn main() {
    for migration in MIGRATOR.migrations() {
        println!("{} {}", migration.filename(), migration.checksum());
    }
}
"#;

const BUILD_RS: &str = "fn main() {\n    jetbase::build::rerun_if_migrations_change();\n}\n";

#[test]
fn editing_adding_and_removing_a_migration_rebuilds() {
    let krate = TempCrate::new("rebuild_probe", "e2e-crates", MAIN_RS, Some(BUILD_RS));
    krate.write(
        "jetbase/migrations/V1__first.sql",
        "CREATE TABLE a (id INT);\n",
    );
    krate.build();
    let first = krate.run();
    assert!(first.starts_with("V1__first.sql "), "{first}");
    assert_eq!(first.lines().count(), 1);

    // An edit changes the embedded checksum.
    krate.write(
        "jetbase/migrations/V1__first.sql",
        "CREATE TABLE a (id BIGINT);\n",
    );
    krate.build();
    let edited = krate.run();
    assert_eq!(edited.lines().count(), 1);
    assert_ne!(edited, first, "the edit was not picked up");

    // A new file, in a subdirectory, is embedded.
    krate.write(
        "jetbase/migrations/more/V2__second.sql",
        "CREATE TABLE b (id INT);\n",
    );
    krate.build();
    let added = krate.run();
    assert_eq!(added.lines().count(), 2, "{added}");
    assert!(
        added
            .lines()
            .nth(1)
            .is_some_and(|line| line.starts_with("V2__second.sql "))
    );

    // A removed file disappears.
    std::fs::remove_file(krate.path().join("jetbase/migrations/V1__first.sql")).unwrap();
    krate.build();
    let removed = krate.run();
    assert_eq!(removed.lines().count(), 1, "{removed}");
    assert!(removed.starts_with("V2__second.sql "));
}

#[test]
fn editing_rebuilds_even_without_a_build_script() {
    let krate = TempCrate::new("rebuild_probe_no_build_rs", "e2e-crates", MAIN_RS, None);
    krate.write(
        "jetbase/migrations/V1__first.sql",
        "CREATE TABLE a (id INT);\n",
    );
    krate.build();
    let first = krate.run();
    krate.write(
        "jetbase/migrations/V1__first.sql",
        "CREATE TABLE a (id BIGINT);\n",
    );
    krate.build();
    let edited = krate.run();
    assert_ne!(
        edited, first,
        "include_bytes! should make cargo see the edit"
    );
    assert!(edited.starts_with("V1__first.sql "), "{edited}");
}
