//! The library's `tracing` events on stderr, for whoever asks: `-v` shows jetbase's events at
//! DEBUG, `-vv` at TRACE (each statement), and `RUST_LOG` (targets and levels, as
//! `jetbase=debug,sqlx=info`) chooses for itself. Without either the command prints only its
//! own output, which already says what the events say.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::CliError;

/// Installs the stderr writer of events when `-v` or `RUST_LOG` asks for one.
///
/// # Errors
///
/// A `RUST_LOG` that is not a list of `target=level` directives (a usage error naming it).
pub fn install(verbose: u8, rust_log: Option<&str>) -> Result<(), CliError> {
    let filter = match (rust_log.filter(|value| !value.trim().is_empty()), verbose) {
        (Some(directives), _) => directives.parse::<Targets>().map_err(|error| {
            CliError::usage(format!(
                "RUST_LOG={directives:?} is not a list of target=level directives \
                 (for example jetbase=debug,sqlx=warn)"
            ))
            .caused_by(error)
        })?,
        (None, 0) => return Ok(()),
        (None, 1) => Targets::new().with_target("jetbase", tracing::Level::DEBUG),
        (None, _) => Targets::new().with_target("jetbase", tracing::Level::TRACE),
    };
    // Plain text: the lines go to a terminal or a log file alike.
    let writer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // Another subscriber already installed (never, in this binary) keeps its place.
    let _ = tracing_subscriber::registry()
        .with(writer)
        .with(filter)
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_rust_log_is_a_usage_error_naming_it() {
        let error = install(0, Some("jetbase=loud")).unwrap_err();
        assert!(
            error.message.contains("RUST_LOG=\"jetbase=loud\""),
            "{}",
            error.message
        );
        assert!(install(0, Some("  ")).is_ok(), "empty: as if unset");
    }
}
