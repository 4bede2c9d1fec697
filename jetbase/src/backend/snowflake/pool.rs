//! [`SnowflakePool`]: Snowflake sessions over HTTP, and the [`Database`] jetbase migrates.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jetbase_core::Dialect;

use super::options::SnowflakeOptions;
use super::protocol::{Bind, Client, QueryResult, Session};
use crate::Error;
use crate::backend::row_first::{self, Statements, Warehouse};
use crate::backend::tables::Tables;
use crate::backend::text_rows::decode_error;
use crate::backend::{
    BoxFuture, DatabaseError, DatabaseErrorKind, Job, JobFailure, Session as BackendSession,
};

/// Snowflake, for [`Migrator::run`](crate::Migrator::run) and the other calls (feature
/// `snowflake`). Holds logged-in sessions and reuses them; cheap to clone.
///
/// ```no_run
/// # async fn start() -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let pool = jetbase::SnowflakePool::connect(
///     "snowflake://deploy:secret@myorg-myaccount/ANALYTICS/PUBLIC?warehouse=MIGRATE_WH",
/// )
/// .await?;
/// MIGRATOR.run(&pool).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SnowflakePool {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    idle: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for SnowflakePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options = self.inner.client.options();
        f.debug_struct("SnowflakePool")
            .field("account", &options.account)
            .field("user", &options.user)
            .field("database", &options.database)
            .field("schema", &options.schema)
            .finish_non_exhaustive()
    }
}

/// Reads an environment variable that may hold a key (empty counts as unset).
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl SnowflakePool {
    /// Connects to `url` (`snowflake://USER:PASSWORD@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=R`,
    /// or `snowflake://USER:PASSWORD@HOST:PORT/DATABASE/SCHEMA?account=ACCOUNT&protocol=http` to
    /// talk to that host). Without a password in the URL, logs in with the key pair in
    /// `JETBASE_SNOWFLAKE_PRIVATE_KEY` (PEM text) and `JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD`.
    /// Logs in once, to fail here rather than later.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a URL that cannot be read or no credentials,
    /// [`Error::Database`] when the login fails.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_key_pair(
            url,
            env("JETBASE_SNOWFLAKE_PRIVATE_KEY").as_deref(),
            env("JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD").as_deref(),
        )
        .await
    }

    /// Like [`SnowflakePool::connect`], with the private key (PEM text, PKCS#8, encrypted when
    /// `passphrase` is given) used when the URL has no password.
    ///
    /// # Errors
    ///
    /// As for [`SnowflakePool::connect`].
    pub async fn connect_with_key_pair(
        url: &str,
        private_key_pem: Option<&str>,
        passphrase: Option<&str>,
    ) -> Result<Self, Error> {
        Self::connect_with_timeout(url, private_key_pem, passphrase, Duration::from_secs(30)).await
    }

    pub(crate) async fn connect_with_timeout(
        url: &str,
        private_key_pem: Option<&str>,
        passphrase: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let options = SnowflakeOptions::parse(url)?.with_key_pair(
            private_key_pem.map(str::to_owned),
            passphrase.map(str::to_owned),
        )?;
        let client = Client::new(options, timeout).map_err(Error::database("connecting"))?;
        let pool = Self {
            inner: Arc::new(Inner {
                client,
                idle: Mutex::new(Vec::new()),
            }),
        };
        let login = tokio::time::timeout(timeout, pool.inner.client.login())
            .await
            .map_err(|_| {
                Error::database("logging in to Snowflake")(DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {timeout:?}"),
                    ),
                ))
            })?
            .map_err(Error::database("logging in to Snowflake"))?;
        pool.give_back(login);
        Ok(pool)
    }

    /// Runs one statement; the rows it inserted, updated, deleted or merged (0 for others).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with Snowflake's message.
    pub async fn execute(&self, sql: &str) -> Result<u64, Error> {
        let result = self
            .query(sql, &[])
            .await
            .map_err(Error::database("running a statement"))?;
        Ok(result.affected.unwrap_or(0))
    }

    /// Runs one query; its rows, each value as Snowflake prints it (`NULL` as `None`). Numbers,
    /// text and booleans are read; cast other types to `VARCHAR`.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] with Snowflake's message.
    pub async fn fetch_all(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        self.query(sql, &[])
            .await
            .map(|result| result.rows)
            .map_err(Error::database("running a query"))
    }

    /// Logs out every idle session.
    pub async fn close(&self) {
        let sessions = std::mem::take(&mut *self.lock_idle());
        for session in sessions {
            self.inner.client.logout(&session).await;
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        // A panic while the list was held leaves a list of sessions: still usable.
        self.inner
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn take_session(&self) -> Result<Session, DatabaseError> {
        let idle = self.lock_idle().pop();
        match idle {
            Some(session) => Ok(session),
            None => self.inner.client.login().await,
        }
    }

    fn give_back(&self, session: Session) {
        self.lock_idle().push(session);
    }

    /// One statement on an idle session. A session the server no longer knows (expired) is
    /// dropped and the statement sent once more on a new one: it never ran.
    async fn query(&self, sql: &str, binds: &[Bind<'_>]) -> Result<QueryResult, DatabaseError> {
        let session = self.take_session().await?;
        match self.inner.client.query(&session, sql, binds).await {
            Ok(result) => {
                self.give_back(session);
                Ok(result)
            }
            Err(error)
                if error.kind() == DatabaseErrorKind::Connection && session_expired(&error) =>
            {
                let session = self.inner.client.login().await?;
                let result = self.inner.client.query(&session, sql, binds).await;
                self.give_back(session);
                result
            }
            Err(error) => {
                self.give_back(session);
                Err(error)
            }
        }
    }
}

/// Snowflake's codes for a session or token that expired.
fn session_expired(error: &DatabaseError) -> bool {
    error
        .downcast_ref::<super::protocol::SnowflakeError>()
        .and_then(|e| e.code.as_deref())
        .is_some_and(|code| matches!(code, "390112" | "390114" | "390111"))
}

/// A session for a run: taken from the pool, given back when the run ends. If the run is
/// dropped while a statement is in flight (a cancelled future), the server may still be running
/// it on this session: the session is not reused but logged out.
pub struct RunSession {
    pool: SnowflakePool,
    session: Option<Session>,
    in_flight: bool,
}

impl Drop for RunSession {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        if !self.in_flight {
            self.pool.give_back(session);
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.pool.clone();
            runtime.spawn(async move { pool.inner.client.logout(&session).await });
        }
    }
}

impl Statements for SnowflakePool {
    async fn run(&self, sql: &str, binds: &[Bind<'_>]) -> Result<QueryResult, DatabaseError> {
        self.query(sql, binds).await
    }
}

/// A run's statements go to the run's own session.
struct OnSession<'a> {
    client: &'a Client,
    session: &'a Session,
}

impl Statements for OnSession<'_> {
    async fn run(&self, sql: &str, binds: &[Bind<'_>]) -> Result<QueryResult, DatabaseError> {
        self.client.query(self.session, sql, binds).await
    }
}

impl Warehouse for SnowflakePool {
    const DIALECT: Dialect = Dialect::Snowflake;
    const NAME: &'static str = "Snowflake";

    /// A logged-in session of the pool's, kept for the run's statements.
    fn open_session(&self) -> BoxFuture<'_, Result<BackendSession, DatabaseError>> {
        Box::pin(async move {
            Ok(BackendSession::new(RunSession {
                pool: self.clone(),
                session: Some(self.take_session().await?),
                in_flight: false,
            }))
        })
    }

    fn run_job_in<'a>(
        &'a self,
        session: &'a mut BackendSession,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(async move {
            let session = session.of::<RunSession>()?;
            if session.session.is_none() {
                session.session = Some(self.take_session().await?);
            }
            let Some(run_session) = session.session.as_ref() else {
                return Err(JobFailure::from(decode_error("no session".to_owned())));
            };
            session.in_flight = true;
            let on_session = OnSession {
                client: &self.inner.client,
                session: run_session,
            };
            let result = row_first::run_job(&on_session, tables, job).await;
            session.in_flight = false;
            result
        })
    }

    fn close_pool(&self) -> BoxFuture<'_, ()> {
        Box::pin(SnowflakePool::close(self))
    }
}
