//! [`LockLease`]: how long a lock lives without a session that holds it (see `lock/mod.rs`).

use std::time::Duration;

use crate::Error;

/// How the lock is kept alive on databases without session locks (Snowflake): the holder renews
/// it every `renew_every`, and a jetbase holder that has not renewed it for `expires_after` is
/// taken to be dead. The defaults are 10 and 60 seconds.
///
/// ```
/// use std::time::Duration;
/// use jetbase::LockLease;
///
/// let lease = LockLease::new(Duration::from_secs(5), Duration::from_secs(30))?;
/// assert_eq!(lease.expires_after(), Duration::from_secs(30));
/// assert!(LockLease::new(Duration::from_secs(30), Duration::from_secs(30)).is_err());
/// # Ok::<(), jetbase::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockLease {
    renew_every: Duration,
    expires_after: Duration,
}

impl Default for LockLease {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl LockLease {
    /// Renewed every 10 s, expired after 60 s.
    pub const DEFAULT: Self = Self {
        renew_every: Duration::from_secs(10),
        expires_after: Duration::from_secs(60),
    };

    /// A lease renewed every `renew_every`, expired after `expires_after` without renewal.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] unless `expires_after` is a whole number of seconds, at least
    /// one, and at least twice `renew_every` (so one late renewal does not lose the lock).
    pub fn new(renew_every: Duration, expires_after: Duration) -> Result<Self, Error> {
        let whole_seconds = expires_after.subsec_nanos() == 0 && expires_after.as_secs() >= 1;
        if renew_every.is_zero() || !whole_seconds || expires_after < renew_every * 2 {
            return Err(Error::InvalidSetting {
                setting: "lock lease".to_owned(),
                message: format!(
                    "renewed every {renew_every:?}, expired after {expires_after:?}: the expiry must be \
                     whole seconds, at least 1 s and at least twice the renewal interval"
                ),
            });
        }
        Ok(Self {
            renew_every,
            expires_after,
        })
    }

    /// How often the holder renews the lease.
    pub fn renew_every(&self) -> Duration {
        self.renew_every
    }

    /// How long without renewal until the holder counts as dead.
    pub fn expires_after(&self) -> Duration {
        self.expires_after
    }
}
