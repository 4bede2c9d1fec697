//! `jetbase lint` on a real project's PostgreSQL history: Lemmy's 336 migrations (as published
//! in the `lemmy_db_schema` crate, diesel's `up.sql`/`down.sql` folders, converted to jetbase
//! files with their rollback section), beside the squawk command (the `squawk-cli` package of
//! the same project) on the same `up.sql` files. Whole commands, process start included;
//! contenders alternated, medians and ratios.
//!
//! Needs JETBASE_BENCH_LINT_CORPUS (the diesel migrations directory) and JETBASE_BENCH_SQUAWK
//! (the squawk command): `bash scripts/bench.sh` fetches both from crates.io and PyPI.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{report, required};

const ROUNDS: usize = 11;

/// The migration folders of `corpus`, in diesel's order (by name).
fn folders(corpus: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(corpus)
        .expect("read the corpus")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.join("up.sql").is_file())
        .collect();
    folders.sort();
    folders
}

/// Writes each folder as `V<n>__<name>.sql` (upgrade, then `-- rollback` and `down.sql`) into
/// `<project>/jetbase/migrations`.
fn write_project(project: &Path, folders: &[PathBuf]) {
    let migrations = project.join("jetbase/migrations");
    std::fs::create_dir_all(&migrations).expect("create the migrations directory");
    for (index, folder) in folders.iter().enumerate() {
        let name: String = folder
            .file_name()
            .expect("a folder name")
            .to_string_lossy()
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_')
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let up = std::fs::read_to_string(folder.join("up.sql")).expect("read up.sql");
        let down = std::fs::read_to_string(folder.join("down.sql")).unwrap_or_default();
        let body = format!("-- upgrade\n{up}\n-- rollback\n{down}");
        std::fs::write(migrations.join(format!("V{}__{name}.sql", index + 1)), body)
            .expect("write a migration");
    }
}

/// Runs a linter to completion (exit 1: it found errors, as both do here); its stdout.
fn lint(command: &mut Command) -> (Duration, String) {
    let started = Instant::now();
    let output = command
        .stderr(Stdio::null())
        .output()
        .expect("start the linter");
    let elapsed = started.elapsed();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{command:?} failed: {output:?}"
    );
    (
        elapsed,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn main() {
    let corpus = required("JETBASE_BENCH_LINT_CORPUS");
    let squawk = required("JETBASE_BENCH_SQUAWK");
    let folders = folders(&corpus);
    let project = tempfile::tempdir().expect("a temporary directory");
    write_project(project.path(), &folders);
    let up_files: Vec<PathBuf> = folders.iter().map(|f| f.join("up.sql")).collect();

    let mut jetbase = Command::new(env!("CARGO_BIN_EXE_jetbase"));
    jetbase
        .args(["lint", "--all", "--dialect", "postgres"])
        .current_dir(project.path())
        .env_remove("JETBASE_DATABASE_URL")
        .env_remove("DATABASE_URL");
    let mut squawk = Command::new(squawk);
    squawk.args(&up_files);

    let (_, summary) = lint(&mut jetbase);
    println!(
        "{} migrations; jetbase: {}",
        folders.len(),
        summary.lines().last().unwrap_or_default()
    );
    let (_, squawk_summary) = lint(&mut squawk);
    println!(
        "squawk: {}",
        squawk_summary
            .lines()
            .rev()
            .find(|line| line.starts_with("Found"))
            .unwrap_or_default()
    );
    let mut jetbase_times = Vec::new();
    let mut squawk_times = Vec::new();
    for _ in 0..ROUNDS {
        jetbase_times.push(lint(&mut jetbase).0);
        squawk_times.push(lint(&mut squawk).0);
    }
    report(
        &format!(
            "lint {} PostgreSQL migrations (whole command, {ROUNDS} rounds)",
            folders.len()
        ),
        &[
            ("jetbase lint --all", jetbase_times),
            ("squawk (CLI) on the up.sql", squawk_times),
        ],
    );
}
