//! Compile-time errors of `embed!()`: each mistake is a compile error naming the file, all of
//! them in one build. Fixture directories are named after the mistake (`tests/ui/fixtures/`).
//!
//! Under trybuild, `CARGO_MANIFEST_DIR` is trybuild's generated project, so the macro is pointed
//! at the fixtures with `JETBASE_MANIFEST_DIR`. Setting a variable in this process would need
//! `unsafe`, so the test runs the trybuild cases in a child process of this same test binary,
//! with the variable set there.

use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui/fixtures");

#[test]
fn embed_compile_errors() {
    let status = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            "trybuild_cases",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("JETBASE_MANIFEST_DIR", FIXTURES)
        .status()
        .expect("run the trybuild cases");
    assert!(status.success(), "the trybuild cases failed (output above)");
}

/// Run by [`embed_compile_errors`] with `JETBASE_MANIFEST_DIR` set; ignored in a direct run.
#[test]
#[ignore = "run by embed_compile_errors, in a child process with JETBASE_MANIFEST_DIR set"]
fn trybuild_cases() {
    assert_eq!(
        std::env::var("JETBASE_MANIFEST_DIR").as_deref(),
        Ok(FIXTURES),
        "run through embed_compile_errors"
    );
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/valid.rs");
    cases.compile_fail("tests/ui/bad_name.rs");
    cases.compile_fail("tests/ui/bad_limit.rs");
    cases.compile_fail("tests/ui/duplicate_version.rs");
    cases.compile_fail("tests/ui/not_utf8.rs");
    cases.compile_fail("tests/ui/nul_byte.rs");
    cases.compile_fail("tests/ui/unknown_directive.rs");
    cases.compile_fail("tests/ui/missing_directory.rs");
    cases.compile_fail("tests/ui/several_problems.rs");
    cases.pass("tests/ui/model_valid.rs");
    cases.compile_fail("tests/ui/model_mistakes.rs");
    // #[jetbase::test]: a well-formed one compiles; each misuse is an error on its part.
    cases.pass("tests/ui/test_valid.rs");
    cases.compile_fail("tests/ui/test_not_async.rs");
    cases.compile_fail("tests/ui/test_no_pool.rs");
    cases.compile_fail("tests/ui/test_two_arguments.rs");
    cases.compile_fail("tests/ui/test_not_a_pool.rs");
    cases.compile_fail("tests/ui/test_unknown_option.rs");
    cases.compile_fail("tests/ui/test_bad_version.rs");
}
