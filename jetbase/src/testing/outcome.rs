//! What a test function may return: nothing, or a `Result` whose `Err` fails it.

/// A test's result (`()` or `Result<(), E>`), as [`TestDatabaseBuilder::run`] reads it.
///
/// [`TestDatabaseBuilder::run`]: super::TestDatabaseBuilder::run
///
/// ```
/// use jetbase::testing::TestOutcome;
/// assert_eq!(().failure(), None);
/// assert_eq!(Err::<(), _>("no such user").failure().as_deref(), Some("\"no such user\""));
/// ```
pub trait TestOutcome: private::Sealed {
    /// The failure's message, or `None` for a pass.
    fn failure(self) -> Option<String>;
}

impl TestOutcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: std::fmt::Debug> TestOutcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|error| format!("{error:?}"))
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<E: std::fmt::Debug> Sealed for Result<(), E> {}
}
