//! `jetbase`: the companion command of the jetbase crate. It creates, inspects, applies and
//! rolls back migrations; every command calls the library.
//!
//! Exit codes: 0 success; 1 a migration failed, validation found a problem (or drift, or a lint
//! error), the lock stayed held, the database failed, or the output could not be written; 2 a
//! usage or configuration error, or a question off a terminal without --force; 3 `lock-status
//! --exit-code` found the lock held; 130/143 stopped by SIGINT/SIGTERM; 141 the reader of the
//! output closed it (`jetbase status | head -1`), quietly, as `ls` ends.

// Output goes through `output` (`outln!`, `output::log`): a write never panics.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod database;
mod error;
mod files;
mod interrupt;
mod lint;
mod logs;
mod models;
mod output;
mod project;
mod settings;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let environment: std::collections::HashMap<String, String> = std::env::vars().collect();
    let no_color = environment.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let result = logs::install(cli.verbose, environment.get("RUST_LOG").map(String::as_str))
        .and_then(|()| {
            std::env::current_dir()
                .map_err(|error| {
                    error::CliError::usage("cannot read the current directory").caused_by(error)
                })
                .and_then(|cwd| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|error| {
                            error::CliError::run("cannot start the runtime").caused_by(error)
                        })
                        .and_then(|runtime| runtime.block_on(commands::run(cli, cwd, environment)))
                })
        });
    // What could not be written to stdout decides the exit code when nothing else failed: a
    // closed pipe (`jetbase status | head -1`) ends the command quietly, as it ends `ls` (the
    // status a shell shows for a process ended by SIGPIPE); any other write error is one.
    let result = match (result, output::stdout_failure()) {
        (Err(error), _) => Err(error),
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(failure)) => Err(error::CliError::from(failure)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !matches!(
                error.failure,
                error::ExitReason::LockHeld | error::ExitReason::OutputClosed
            ) {
                report(&error, no_color);
            }
            error.exit_code()
        }
    }
}

/// The error on stderr: one line, then its causes; the password never appears, nor a control
/// character of the text it quotes (a file name, a database message).
fn report(error: &error::CliError, no_color: bool) {
    let label = output::Style::for_stderr(no_color).paint("error:", output::Colour::Red);
    let message = error::scrub(&error.message);
    output::log(&format!("{label} {}", output::printable_lines(&message)));
    for cause in &error.causes {
        let cause = error::scrub(cause);
        output::log(&format!("  caused by: {}", output::printable_lines(&cause)));
    }
}
