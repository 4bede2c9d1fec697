//! Migrations at startup in a program without an async runtime (feature `blocking`).
//!
//! ```text
//! cargo run -p blocking                  # SQLite: notes.db here
//! cargo run -p blocking -- rollback      # roll the last migration back
//! ```

use std::process::ExitCode;

/// The startup example's migrations (a copy of its own, so that the example builds from its
/// package alone).
static MIGRATOR: jetbase::Migrator = jetbase::embed!();

fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://notes.db?mode=rwc".into());
    let rollback = std::env::args().nth(1).as_deref() == Some("rollback");
    match migrate(&url, rollback) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot migrate: {error}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(url: &str, rollback: bool) -> Result<(), jetbase::Error> {
    let database = jetbase::blocking::connect(url)?;
    let report = if rollback {
        // Any builder works: configure it, then block on it.
        database.block_on(MIGRATOR.rollback(database.pool()).count(1))?
    } else {
        database.run(&MIGRATOR)?
    };
    for migration in &report.migrations {
        println!(
            "{} {}",
            if rollback { "rolled back" } else { "applied" },
            migration.filename
        );
    }
    let pending = database
        .status(&MIGRATOR)?
        .iter()
        .filter(|status| status.state == jetbase::State::Pending)
        .count();
    println!("{pending} pending");
    Ok(())
}
