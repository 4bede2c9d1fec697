//! A tokio application that brings its database up to date when it starts.
//!
//! ```text
//! cargo run -p startup                                   # SQLite: notes.db here
//! DATABASE_URL=postgres://user:pw@localhost/app cargo run -p startup
//! ```

use std::process::ExitCode;

use jetbase::Model as _;

mod models;

/// `jetbase/migrations`, checked and checksummed at build time.
static MIGRATOR: jetbase::Migrator = jetbase::embed!();

#[tokio::main]
async fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://notes.db?mode=rwc".into());
    match start(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error and its causes: which file, which line, what the database said.
            eprintln!("cannot start: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn start(url: &str) -> Result<(), jetbase::Error> {
    let pool = jetbase::AnyPool::connect(url).await?;
    let report = MIGRATOR.run(&pool).await?;
    if report.migrations.is_empty() {
        println!("database up to date");
    }
    for migration in &report.migrations {
        println!("applied {} in {:?}", migration.filename, migration.duration);
    }
    // The schema the code expects: what differs is reported (a deployment could refuse to start).
    let differences = jetbase::schema::verify(&pool, &[models::Note::table()]).await?;
    if differences.is_empty() {
        println!("schema matches the models");
    }
    for change in &differences {
        println!("schema differs from the models: {change}");
    }
    // ... the application starts serving here.
    pool.close().await;
    Ok(())
}
