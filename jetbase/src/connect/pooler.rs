//! [`Pooler`]: what stands between jetbase and a PostgreSQL server.

use std::str::FromStr;

use crate::Error;

/// A connection pooler between jetbase and the database, which changes what a session keeps.
///
/// Behind PgBouncer in `pool_mode = transaction`, each transaction may run on a different server
/// session, and nothing set on a session survives the transaction: session advisory locks,
/// `SET`, named prepared statements. With [`Pooler::Transaction`] jetbase keeps nothing on a
/// session between transactions:
///
/// - the migration lock's liveness is a lease (renewed by the holder, see
///   [`LockLease`](crate::LockLease)) instead of a session advisory lock;
/// - the run's session is not marked (`application_name`), and the `search_path` of
///   `postgres_schema` and the migration's timeouts are set inside each migration's transaction
///   (`SET LOCAL`); a `-- jetbase: no-transaction` migration that needs either is refused, since
///   its statements cannot carry them;
/// - jetbase's own statements are sent as plain text (PostgreSQL's simple query protocol, which
///   it uses everywhere), so nothing is prepared.
///
/// Session pooling (`pool_mode = session`) needs nothing: it is [`Pooler::None`].
///
/// ```
/// use jetbase::Pooler;
///
/// let pooler: Pooler = "transaction".parse()?;
/// assert_eq!(pooler, Pooler::Transaction);
/// assert_eq!("session".parse::<Pooler>()?, Pooler::None);
/// assert!("statement".parse::<Pooler>().is_err());
/// # Ok::<(), jetbase::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// A direct connection, or a pooler that keeps a server session per client session.
    #[default]
    None,
    /// A pooler handing each transaction to any server session (PgBouncer's `transaction`
    /// mode).
    Transaction,
}

impl Pooler {
    /// Whether sessions keep nothing between transactions.
    pub fn is_transaction(self) -> bool {
        self == Pooler::Transaction
    }

    /// This pooler, or `other` where this one is [`Pooler::None`].
    #[must_use]
    pub fn or(self, other: Pooler) -> Pooler {
        if self.is_transaction() { self } else { other }
    }
}

impl FromStr for Pooler {
    type Err = Error;

    /// `none` and `session` (a session per client: nothing changes), `transaction`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for any other value (PgBouncer's `statement` mode cannot run a
    /// transaction of several statements, which a migration is).
    fn from_str(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" | "session" | "" => Ok(Pooler::None),
            "transaction" => Ok(Pooler::Transaction),
            other => Err(Error::InvalidSetting {
                setting: "pooler".to_owned(),
                message: format!(
                    "{other:?} is not a pooler mode jetbase can work through: use \"transaction\" \
                     (PgBouncer's pool_mode = transaction), or \"session\"/\"none\""
                ),
            }),
        }
    }
}
