//! The example applies, then rolls back, without an async runtime of its own.

#[test]
fn applies_then_rolls_back() {
    let example = jetbase_tests::ExampleRun::new(env!("CARGO_BIN_EXE_blocking"));
    let run = |args: &[&str]| example.run(args);
    assert_eq!(
        run(&[]),
        "applied V1__create_notes.sql\napplied V2__first_note.sql\n0 pending\n"
    );
    assert_eq!(
        run(&["rollback"]),
        "rolled back V2__first_note.sql\n1 pending\n"
    );
}
