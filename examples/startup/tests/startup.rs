//! The example applies its migrations on the first start and nothing on the second, and its
//! schema matches its models.

#[test]
fn migrates_on_first_start_only() {
    let example = jetbase_tests::ExampleRun::new(env!("CARGO_BIN_EXE_startup"));
    let run = || example.run(&[]);
    let first = run();
    assert!(first.contains("applied V1__create_notes.sql"), "{first}");
    assert!(first.contains("applied V2__first_note.sql"), "{first}");
    assert!(first.contains("schema matches the models"), "{first}");
    assert_eq!(
        run().trim(),
        "database up to date\nschema matches the models"
    );
}
