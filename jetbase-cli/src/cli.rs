//! The command line, as clap derive structures.

/// Database migrations in plain SQL files, compatible with Python Jetbase.
#[derive(Debug, clap::Parser)]
#[command(name = "jetbase", version, about, long_about = None)]
pub struct Cli {}
