//! The [`Migrator`]: a set of migrations, in apply order.

use std::borrow::Cow;
use std::path::Path;

use jetbase_core::{Migration, scan_dir};

use crate::Error;

/// A set of migrations in apply order: versioned by version, then runs-always (`RA__`) by path,
/// then runs-on-change (`ROC__`) by path.
///
/// Built at compile time by [`embed!`](crate::embed) or at run time by [`Migrator::from_dir`].
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: Cow<'static, [Migration]>,
}

impl Migrator {
    /// A migrator over migrations that `embed!()` validated and sorted at compile time.
    #[doc(hidden)]
    pub const fn from_static(migrations: &'static [Migration]) -> Self {
        Self {
            migrations: Cow::Borrowed(migrations),
        }
    }

    /// Reads the migrations of `directory` at run time, exactly as `embed!()` does at compile
    /// time.
    ///
    /// ```
    /// let migrator = jetbase::Migrator::from_dir("tests/fixtures/vectors")?;
    /// static EMBEDDED: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// assert_eq!(migrator.migrations(), EMBEDDED.migrations());
    /// # Ok::<(), jetbase::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns [`Error::Migrations`] listing every problem found: a missing directory, bad file
    /// names, duplicate versions, non-UTF-8 files, unknown directives, empty files, unterminated
    /// quotes or comments.
    pub fn from_dir(directory: impl AsRef<Path>) -> Result<Self, Error> {
        let migrations = scan_dir(directory.as_ref())?;
        Ok(Self {
            migrations: Cow::Owned(migrations),
        })
    }

    /// The migrations, in apply order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }
}
