//! `jetbase lint` on a corpus of migration files, one or more per rule, per database
//! (`tests/fixtures/lint/<dialect>/`), against the findings recorded beside them
//! (`expected.json`, golden). After a deliberate change of the rules, rewrite them with
//! `JETBASE_UPDATE_GOLDEN=1 cargo test -p jetbase-cli --test lint` and review the diff.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint");

/// The corpus files of `dialect`, in version order.
fn files(dialect: &str) -> Vec<String> {
    let mut files: Vec<(u32, String)> = std::fs::read_dir(Path::new(CORPUS).join(dialect))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .map(|name| {
            let version = name[1..name.find("__").unwrap()].parse().unwrap();
            (version, name)
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, name)| name).collect()
}

/// Runs `jetbase lint` in the corpus directory of `dialect`.
fn lint(dialect: &str, args: &[&str]) -> std::process::Output {
    let dir: PathBuf = Path::new(CORPUS).join(dialect);
    Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .args(["lint", "--dialect", dialect])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("JETBASE_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn check_golden(dialect: &str) {
    let files = files(dialect);
    let mut args = vec!["--json"];
    args.extend(files.iter().map(String::as_str));
    let output = lint(dialect, &args);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let found: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let golden = Path::new(CORPUS).join(dialect).join("expected.json");
    if std::env::var_os("JETBASE_UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&found).unwrap() + "\n";
        std::fs::write(&golden, text).unwrap();
    }
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
    assert_eq!(
        found, expected,
        "the findings on tests/fixtures/lint/{dialect} changed: review, then rewrite with JETBASE_UPDATE_GOLDEN=1"
    );
    // Every file of the corpus is there for a reason: each but the clean ones has a finding,
    // and the clean ones have none.
    let findings = found["findings"].as_array().unwrap();
    for file in &files {
        let has = findings.iter().any(|f| f["file"] == file.as_str());
        let clean = file.contains("clean")
            || file.contains("without_transaction")
            || file.contains("ignored");
        assert_eq!(has, !clean, "{dialect}/{file}");
    }
    // Exit 1 exactly when an error was found.
    let errors = findings.iter().any(|f| f["level"] == "error");
    assert_eq!(output.status.code(), Some(i32::from(errors)), "{dialect}");
}

#[test]
fn postgres_corpus_matches_its_golden_findings() {
    check_golden("postgres");
}

#[test]
fn mysql_corpus_matches_its_golden_findings() {
    check_golden("mysql");
}

#[test]
fn sqlite_corpus_matches_its_golden_findings() {
    check_golden("sqlite");
}

#[test]
fn the_text_output_names_file_line_rule_and_help() {
    let output = lint(
        "postgres",
        &[
            "V2__index_without_concurrently.sql",
            "V8__no_rollback_section.sql",
        ],
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        "V2__index_without_concurrently.sql:2: error[require-concurrent-index-creation] During \
         normal index creation, table updates are blocked, but reads are still allowed.\n  help: \
         Use `concurrently` to avoid blocking writes.\n\
         V8__no_rollback_section.sql:1: warning[missing-rollback] this versioned migration has no \
         rollback section: `jetbase rollback` cannot undo it\n  help: add `-- rollback` after the \
         upgrade SQL, followed by the SQL that undoes it\n\
         lint: 1 error and 1 warning in 2 migrations\n"
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr, "error: lint found 1 error\n");
}

#[test]
fn warnings_pass_unless_denied() {
    let only_warnings = ["V8__no_rollback_section.sql"];
    assert_eq!(lint("postgres", &only_warnings).status.code(), Some(0));
    let mut denied = vec!["--deny-warnings"];
    denied.extend(only_warnings);
    let output = lint("postgres", &denied);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("lint found 1 finding"),
    );
}

#[test]
fn a_file_that_is_not_a_migration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.sql"), "SELECT 1;").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .args(["lint", "notes.sql", "missing.sql"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("notes.sql is not a migration file jetbase can read"),
        "{stderr}"
    );
}
