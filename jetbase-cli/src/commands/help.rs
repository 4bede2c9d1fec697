//! `jetbase completions SHELL` and `jetbase man`: the command line described for the shell and
//! for `man`, by clap_complete and clap_mangen from the same definitions clap parses.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::error::CliError;

/// Prints the completion script for `shell` on stdout.
///
/// # Errors
///
/// A run error when stdout cannot be written.
pub fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "jetbase", &mut script);
    write_out(&script)
}

/// Prints a manual page (roff) on stdout: `jetbase(1)`, or with `command` that command's,
/// `jetbase-<command>(1)`.
///
/// # Errors
///
/// A usage error for a command that does not exist; a run error when stdout cannot be written.
pub fn man(command: Option<&str>) -> Result<(), CliError> {
    let mut jetbase = Cli::command();
    // Built, so that each command's page has the options every command takes.
    jetbase.build();
    let man = match command {
        None => clap_mangen::Man::new(jetbase),
        Some(name) => {
            let sub = jetbase
                .get_subcommands()
                .find(|sub| sub.get_name() == name || sub.get_all_aliases().any(|a| a == name))
                .ok_or_else(|| {
                    CliError::usage(format!("no command `{name}`: `jetbase --help` lists them"))
                })?;
            let name = sub.get_name().to_owned();
            clap_mangen::Man::new(
                sub.clone()
                    .version(jetbase.get_version().unwrap_or_default().to_owned())
                    .name(format!("jetbase-{name}"))
                    .bin_name(format!("jetbase {name}")),
            )
        }
    };
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|error| CliError::run("cannot write the manual page").caused_by(error))?;
    write_out(&page)
}

fn write_out(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(CliError::from)
}
