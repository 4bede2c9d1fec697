//! The example applies, then rolls back, without an async runtime of its own.

use std::process::Command;

#[test]
fn applies_then_rolls_back() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_blocking"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/notes.db?mode=rwc", dir.path().display()),
            )
            .output()
            .expect("the example runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    assert_eq!(
        run(&[]),
        "applied V1__create_notes.sql\napplied V2__first_note.sql\n0 pending\n"
    );
    assert_eq!(
        run(&["rollback"]),
        "rolled back V2__first_note.sql\n1 pending\n"
    );
}
