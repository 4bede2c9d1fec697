//! [`AnyPool`]: one of the three pools, chosen at run time from a URL (for the CLI, the
//! `blocking` API, and applications that support several databases).

use jetbase_core::{AppliedMigration, Dialect};

use crate::Error;
use crate::driver::sql::Tables;
use crate::driver::{Database, Digest, Job, JobFailure, LivenessLock, LockRow, LockWrite};

/// A PostgreSQL, SQLite or MySQL pool, chosen from a URL's scheme. Migrates like the pool it
/// holds.
///
/// ```no_run
/// # async fn start() -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let pool = jetbase::AnyPool::connect("sqlite://app.db?mode=rwc").await?;
/// MIGRATOR.run(&pool).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyPool {
    /// `postgres://` or `postgresql://`.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// `sqlite:`.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// `mysql://` or `mariadb://`.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// Hides the password of a URL, for messages.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl AnyPool {
    /// Connects to `url`: `postgres://`, `postgresql://`, `sqlite:`, `mysql://` or
    /// `mariadb://` (each needs its feature).
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedUrl`] for another scheme or a disabled feature (the password
    /// masked), [`Error::Database`] when the connection fails.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_timeout(url, std::time::Duration::from_secs(30)).await
    }

    /// Like [`AnyPool::connect`], giving up after `timeout` when the server cannot be reached.
    ///
    /// # Errors
    ///
    /// As for [`AnyPool::connect`].
    pub async fn connect_with_timeout(
        url: &str,
        timeout: std::time::Duration,
    ) -> Result<Self, Error> {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        let connect_error = Error::database("connecting to the database");
        match scheme.as_str() {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(Self::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .map_err(connect_error)?,
            )),
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(Self::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .map_err(connect_error)?,
            )),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                Ok(Self::MySql(
                    sqlx::mysql::MySqlPoolOptions::new()
                        .acquire_timeout(timeout)
                        .connect(&url)
                        .await
                        .map_err(connect_error)?,
                ))
            }
            _ => Err(Error::UnsupportedUrl {
                url: mask_password(url),
            }),
        }
    }

    /// Closes the pool's connections.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.close().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => pool.close().await,
        }
    }
}

/// Applies `$body` to the inner pool, whichever it is.
macro_rules! each_pool {
    ($self:expr, $pool:ident => $body:expr) => {
        match $self {
            #[cfg(feature = "postgres")]
            AnyPool::Postgres($pool) => $body,
            #[cfg(feature = "sqlite")]
            AnyPool::Sqlite($pool) => $body,
            #[cfg(feature = "mysql")]
            AnyPool::MySql($pool) => $body,
        }
    };
}

/// The liveness lock of whichever pool.
pub enum AnyLiveness {
    #[cfg(feature = "postgres")]
    Postgres(<sqlx::PgPool as Database>::Liveness),
    #[cfg(feature = "sqlite")]
    Sqlite(<sqlx::SqlitePool as Database>::Liveness),
    #[cfg(feature = "mysql")]
    MySql(<sqlx::MySqlPool as Database>::Liveness),
}

impl LivenessLock for AnyLiveness {
    async fn try_lock(&mut self) -> Result<bool, sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(lock) => lock.try_lock().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(lock) => lock.try_lock().await,
            #[cfg(feature = "mysql")]
            Self::MySql(lock) => lock.try_lock().await,
        }
    }

    async fn unlock(self) {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(lock) => lock.unlock().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(lock) => lock.unlock().await,
            #[cfg(feature = "mysql")]
            Self::MySql(lock) => lock.unlock().await,
        }
    }
}

/// The session of whichever pool.
pub enum AnySession {
    #[cfg(feature = "postgres")]
    Postgres(crate::driver::Session<sqlx::Postgres>),
    #[cfg(feature = "sqlite")]
    Sqlite(crate::driver::Session<sqlx::Sqlite>),
    #[cfg(feature = "mysql")]
    MySql(crate::driver::Session<sqlx::MySql>),
}

impl crate::driver::private::Sealed for AnyPool {}

impl Database for AnyPool {
    type Liveness = AnyLiveness;
    type Session = AnySession;

    async fn session(&self) -> Result<AnySession, sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.session().await.map(AnySession::Postgres),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.session().await.map(AnySession::Sqlite),
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => pool.session().await.map(AnySession::MySql),
        }
    }

    fn dialect(&self) -> Dialect {
        each_pool!(self, pool => pool.dialect())
    }

    async fn read_history(
        &self,
        tables: &Tables,
    ) -> Result<Option<Vec<AppliedMigration>>, sqlx::Error> {
        each_pool!(self, pool => pool.read_history(tables).await)
    }

    async fn history_digest(&self, tables: &Tables) -> Result<Digest, sqlx::Error> {
        each_pool!(self, pool => pool.history_digest(tables).await)
    }

    async fn store_history_digest(
        &self,
        tables: &Tables,
        digest: Option<&str>,
        process_id: &str,
    ) -> Result<(), sqlx::Error> {
        each_pool!(self, pool => pool.store_history_digest(tables, digest, process_id).await)
    }

    async fn prepare(&self, tables: &Tables) -> Result<(), sqlx::Error> {
        each_pool!(self, pool => pool.prepare(tables).await)
    }

    async fn read_lock(&self, tables: &Tables) -> Result<Option<LockRow>, sqlx::Error> {
        each_pool!(self, pool => pool.read_lock(tables).await)
    }

    async fn write_lock(&self, tables: &Tables, write: LockWrite<'_>) -> Result<bool, sqlx::Error> {
        each_pool!(self, pool => pool.write_lock(tables, write).await)
    }

    async fn liveness(&self, tables: &Tables) -> Result<AnyLiveness, sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.liveness(tables).await.map(AnyLiveness::Postgres),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.liveness(tables).await.map(AnyLiveness::Sqlite),
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => pool.liveness(tables).await.map(AnyLiveness::MySql),
        }
    }

    async fn run_job<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> Result<(), JobFailure> {
        match (self, session) {
            #[cfg(feature = "postgres")]
            (Self::Postgres(pool), AnySession::Postgres(session)) => {
                pool.run_job(session, tables, job).await
            }
            #[cfg(feature = "sqlite")]
            (Self::Sqlite(pool), AnySession::Sqlite(session)) => {
                pool.run_job(session, tables, job).await
            }
            #[cfg(feature = "mysql")]
            (Self::MySql(pool), AnySession::MySql(session)) => {
                pool.run_job(session, tables, job).await
            }
            #[allow(unreachable_patterns)]
            _ => Err(JobFailure::from(sqlx::Error::PoolClosed)),
        }
    }

    async fn begin_run(&self, session: &mut AnySession) -> Result<(), sqlx::Error> {
        match (self, session) {
            #[cfg(feature = "sqlite")]
            (Self::Sqlite(pool), AnySession::Sqlite(session)) => pool.begin_run(session).await,
            _ => Ok(()),
        }
    }

    async fn commit_run(&self, session: &mut AnySession) -> Result<(), sqlx::Error> {
        match (self, session) {
            #[cfg(feature = "sqlite")]
            (Self::Sqlite(pool), AnySession::Sqlite(session)) => pool.commit_run(session).await,
            _ => Ok(()),
        }
    }
}

impl crate::schema::Introspect for AnyPool {
    async fn read_schema<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> Result<crate::schema::Schema, sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.read_schema(postgres_schema).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.read_schema(postgres_schema).await,
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => pool.read_schema(postgres_schema).await,
        }
    }

    fn schema_dialect(&self) -> Dialect {
        self.dialect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgres://app:s3cret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            mask_password("mysql://root:p@ss@host/x"),
            "mysql://root:***@host/x"
        );
        assert_eq!(
            mask_password("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(mask_password("sqlite://app.db"), "sqlite://app.db");
    }
}
