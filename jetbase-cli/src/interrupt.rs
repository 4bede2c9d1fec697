//! Ctrl-C and `kill` during the commands that make something temporary (a copy of a SQLite
//! database, a scratch database): the work is stopped and what it made is removed before the
//! command ends, instead of being left behind by a process killed in the middle.

use std::future::Future;

use crate::error::CliError;

/// Runs `work` until it ends or the process gets SIGINT or SIGTERM. On a signal `work` is
/// dropped, which deletes what it holds (a SQLite copy goes with its `SandboxCopy`), and the
/// error says so; the caller then removes what lives outside it (a scratch database).
///
/// # Errors
///
/// `work`'s own error, or [`CliError::interrupted`] after a signal.
pub async fn until_interrupted<T>(
    work: impl Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::select! {
        result = work => result,
        signal = signal() => Err(CliError::interrupted(signal)),
    }
}

/// Which signal came: SIGINT (2) or SIGTERM (15). Where signals cannot be listened to, never.
async fn signal() -> i32 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => 2,
            _ = terminate.recv() => 15,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        2
    }
}
