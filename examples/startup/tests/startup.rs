//! The example applies its migrations on the first start and nothing on the second, and its
//! schema matches its models.

use std::process::Command;

#[test]
fn migrates_on_first_start_only() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_startup"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/notes.db?mode=rwc", dir.path().display()),
            )
            .output()
            .expect("the example runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let first = run();
    assert!(first.contains("applied V1__create_notes.sql"), "{first}");
    assert!(first.contains("applied V2__first_note.sql"), "{first}");
    assert!(first.contains("schema matches the models"), "{first}");
    assert_eq!(
        run().trim(),
        "database up to date\nschema matches the models"
    );
}
