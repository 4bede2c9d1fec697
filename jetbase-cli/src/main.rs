//! `jetbase`: the companion command of the jetbase crate. It creates, inspects, applies and
//! rolls back migrations; every command calls the library.
//!
//! Exit codes: 0 success; 1 a migration failed, validation found a problem (or drift, or a lint
//! error), the lock stayed held, or the database failed; 2 a usage or configuration error; 3
//! `lock-status --exit-code` found the lock held.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod database;
mod error;
mod files;
mod lint;
mod models;
mod output;
mod project;
mod settings;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let environment: std::collections::HashMap<String, String> = std::env::vars().collect();
    let no_color = environment.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let result = std::env::current_dir()
        .map_err(|error| {
            error::CliError::usage("cannot read the current directory").caused_by(error)
        })
        .and_then(|cwd| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error::CliError::run("cannot start the runtime").caused_by(error))
                .and_then(|runtime| runtime.block_on(commands::run(cli, cwd, environment)))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if error.failure != error::Failure::LockHeld {
                report(&error, no_color);
            }
            error.exit_code()
        }
    }
}

/// The error on stderr: one line, then its causes; the password never appears.
fn report(error: &error::CliError, no_color: bool) {
    let label = output::Style::for_stderr(no_color).paint("error:", output::Colour::Red);
    eprintln!("{label} {}", error::scrub(&error.message));
    for cause in &error.causes {
        eprintln!("  caused by: {}", error::scrub(cause));
    }
}
