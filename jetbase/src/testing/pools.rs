//! The pools a test may take ([`TestPool`]), and running a fixture's SQL.

use std::future::Future;

use jetbase_core::Dialect;

use crate::{AnyPool, Error};

/// A pool `#[jetbase::test]` can give a test: sqlx 0.9's `PgPool`, `SqlitePool` and
/// `MySqlPool` (with their features; sqlx 0.8's too, with feature `sqlx-0_8`), and [`AnyPool`] (the database `DATABASE_URL` names, or
/// SQLite). Sealed: jetbase makes the database, and knows how to reach it with these.
///
/// ```
/// fn takes<P: jetbase::testing::TestPool>() {}
/// takes::<jetbase::AnyPool>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a pool #[jetbase::test] can give a test",
    label = "not a pool jetbase makes a test database for",
    note = "take sqlx::PgPool, sqlx::SqlitePool, sqlx::MySqlPool (with jetbase's feature of that database; sqlx 0.8's with feature sqlx-0_8) or jetbase::AnyPool"
)]
pub trait TestPool: private::Connect {}

impl<P: private::Connect> TestPool for P {}

pub(crate) mod private {
    use super::{Dialect, Error, Future};

    /// How a pool reaches a test database (sealed: only jetbase implements it).
    pub trait Connect: Sized {
        /// The database the pool is for; `None`: any.
        const DIALECT: Option<Dialect>;

        /// Connects to the test database at `url`.
        fn connect_test(url: &str) -> impl Future<Output = Result<Self, Error>>;
    }
}

impl private::Connect for AnyPool {
    const DIALECT: Option<Dialect> = None;

    async fn connect_test(url: &str) -> Result<Self, Error> {
        AnyPool::connect(url).await
    }
}

#[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
impl private::Connect for sqlx::PgPool {
    const DIALECT: Option<Dialect> = Some(Dialect::Postgres);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx::PgPool::connect(url)
            .await
            .map_err(|error| driver_error("connecting to the test database", error))
    }
}

#[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
impl private::Connect for sqlx::SqlitePool {
    const DIALECT: Option<Dialect> = Some(Dialect::Sqlite);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx::SqlitePool::connect(url)
            .await
            .map_err(|error| driver_error("connecting to the test database", error))
    }
}

#[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
impl private::Connect for sqlx::MySqlPool {
    const DIALECT: Option<Dialect> = Some(Dialect::MySql);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx::MySqlPool::connect(url)
            .await
            .map_err(|error| driver_error("connecting to the test database", error))
    }
}

// sqlx 0.8's pools, for applications still on it (feature `sqlx-0_8`).
#[cfg(all(feature = "sqlx-0_8", feature = "postgres"))]
impl private::Connect for sqlx_0_8::PgPool {
    const DIALECT: Option<Dialect> = Some(Dialect::Postgres);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx_0_8::PgPool::connect(url)
            .await
            .map_err(|error| driver_error_0_8("connecting to the test database", error))
    }
}

#[cfg(all(feature = "sqlx-0_8", feature = "sqlite"))]
impl private::Connect for sqlx_0_8::SqlitePool {
    const DIALECT: Option<Dialect> = Some(Dialect::Sqlite);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx_0_8::SqlitePool::connect(url)
            .await
            .map_err(|error| driver_error_0_8("connecting to the test database", error))
    }
}

#[cfg(all(feature = "sqlx-0_8", feature = "mysql"))]
impl private::Connect for sqlx_0_8::MySqlPool {
    const DIALECT: Option<Dialect> = Some(Dialect::MySql);

    async fn connect_test(url: &str) -> Result<Self, Error> {
        sqlx_0_8::MySqlPool::connect(url)
            .await
            .map_err(|error| driver_error_0_8("connecting to the test database", error))
    }
}

/// [`driver_error`] for sqlx 0.8's errors.
#[cfg(feature = "sqlx-0_8")]
fn driver_error_0_8(action: &'static str, error: sqlx_0_8::Error) -> Error {
    use crate::DatabaseErrorKind;
    let kind = match &error {
        sqlx_0_8::Error::Io(_) | sqlx_0_8::Error::Tls(_) | sqlx_0_8::Error::PoolTimedOut => {
            DatabaseErrorKind::Connection
        }
        _ => DatabaseErrorKind::Query,
    };
    let server_message = match &error {
        sqlx_0_8::Error::Database(database) => Some(database.message().to_owned()),
        _ => None,
    };
    Error::Database {
        action,
        source: crate::DatabaseError::from_driver(kind, error, server_message.as_deref()),
    }
}

/// jetbase's error for a sqlx error met while making or reaching a test database.
#[cfg(feature = "sqlx-0_9")]
pub(super) fn driver_error(action: &'static str, error: sqlx::Error) -> Error {
    use crate::DatabaseErrorKind;
    let kind = match &error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            DatabaseErrorKind::Connection
        }
        _ => DatabaseErrorKind::Query,
    };
    let server_message = match &error {
        sqlx::Error::Database(database) => Some(database.message().to_owned()),
        _ => None,
    };
    Error::Database {
        action,
        source: crate::DatabaseError::from_driver(kind, error, server_message.as_deref()),
    }
}

/// Runs `sql` (any number of statements, as the database's own client would) in the database
/// at `url`.
pub(super) async fn execute_script(url: &str, sql: &str) -> Result<(), Error> {
    let dialect = crate::url::dialect_of(url).ok_or_else(|| Error::UnsupportedUrl {
        url: crate::url::mask_secrets(url),
    })?;
    #[cfg(feature = "sqlx-0_9")]
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    #[cfg(feature = "sqlx-0_9")]
    let failed = |error| driver_error("running a fixture", error);
    match dialect {
        #[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
        Dialect::Postgres => {
            use sqlx::Connection as _;
            let mut connection = sqlx::PgConnection::connect(url).await.map_err(failed)?;
            let result = sqlx::raw_sql(sql).execute(&mut connection).await;
            let _ = connection.close().await;
            result.map(|_| ()).map_err(failed)
        }
        #[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
        Dialect::Sqlite => {
            use sqlx::Connection as _;
            let mut connection = sqlx::SqliteConnection::connect(url).await.map_err(failed)?;
            let result = sqlx::raw_sql(sql).execute(&mut connection).await;
            let _ = connection.close().await;
            result.map(|_| ()).map_err(failed)
        }
        #[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
        Dialect::MySql => {
            use sqlx::Connection as _;
            let mut connection = sqlx::MySqlConnection::connect(url).await.map_err(failed)?;
            let result = sqlx::raw_sql(sql).execute(&mut connection).await;
            let _ = connection.close().await;
            result.map(|_| ()).map_err(failed)
        }
        _ => Err(Error::UnsupportedUrl {
            url: crate::url::mask_secrets(url),
        }),
    }
}
