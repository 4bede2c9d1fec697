//! The errors of the `jetbase` crate.

use jetbase_core::ScanError;

/// What can go wrong in jetbase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The migrations directory could not be read, or some of its files are invalid.
    #[error("the migrations in `{}` cannot be used", .source.directory.display())]
    Migrations {
        /// Every problem found in the directory.
        #[source]
        source: ScanError,
    },
}

impl From<ScanError> for Error {
    fn from(source: ScanError) -> Self {
        Self::Migrations { source }
    }
}
