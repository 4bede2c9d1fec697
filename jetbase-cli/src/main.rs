//! `jetbase`: the companion command of the jetbase crate.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    use clap::Parser;
    // Parsing handles `--help` and `--version`; commands come with the migrator.
    let _cli = cli::Cli::parse();
    ExitCode::SUCCESS
}
