//! [`ScratchDatabase`]: a database created for one check and dropped after it (the rollback
//! check's `--scratch-url` on MySQL/MariaDB, where DDL cannot be rolled back).

use std::time::Duration;

use jetbase_core::Dialect;

use super::DatabaseError;
use super::any::AnyPool;
use crate::Error;

/// A database jetbase creates on a server, uses, and drops: named by a URL whose database does
/// not exist yet (`mysql://user:pass@host/jetbase_scratch`). PostgreSQL (from `template0`) and
/// MySQL/MariaDB create it on the same server; a SQLite URL names a file that must not exist, deleted after.
///
/// ```no_run
/// # async fn check(pool: jetbase::AnyPool) -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let scratch =
///     jetbase::ScratchDatabase::create("mysql://root@127.0.0.1/jetbase_scratch").await?;
/// let check = MIGRATOR.check_rollbacks(&pool).on_scratch(scratch.pool()).await;
/// scratch.drop_database().await?;
/// println!("passed: {}", check?.passed());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ScratchDatabase {
    pool: AnyPool,
    place: Place,
}

#[derive(Debug)]
enum Place {
    /// On a server: the URL to reach it without the database, and the database's name.
    Server { admin_url: String, name: String },
    /// A SQLite file.
    File(std::path::PathBuf),
}

impl ScratchDatabase {
    /// Creates the database `url` names, and connects to it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] when the URL names no database, a name that is not a plain
    /// identifier (letters, digits, `_`), or a SQLite file that exists; [`Error::UnsupportedUrl`]
    /// for a warehouse; [`Error::Database`] when the server refuses (the database exists
    /// already: give a name that does not).
    pub async fn create(url: &str) -> Result<Self, Error> {
        let dialect = crate::url::dialect_of(url).ok_or_else(|| Error::UnsupportedUrl {
            url: crate::url::mask_secrets(url),
        })?;
        let invalid = |message: String| Error::InvalidSetting {
            setting: "scratch URL".to_owned(),
            message,
        };
        let place = match dialect {
            Dialect::Postgres | Dialect::MySql => {
                let (admin_url, name) = split_database(url, dialect).ok_or_else(|| {
                    invalid(format!(
                        "`{}` names no database of plain letters, digits and `_`: name the \
                         scratch database jetbase creates and drops",
                        crate::url::mask_secrets(url)
                    ))
                })?;
                // PostgreSQL copies template1, which may hold objects of its own; template0 is
                // the database as the server makes it. The name quoted: the database the URL
                // names, upper case kept (unquoted, PostgreSQL folds it, and the connection to
                // the URL's name then failed, leaving the folded one behind).
                let quoted = dialect.quote_identifier(&name);
                let create = match dialect {
                    Dialect::Postgres => format!("CREATE DATABASE {quoted} TEMPLATE template0"),
                    Dialect::MySql
                    | Dialect::Sqlite
                    | Dialect::Snowflake
                    | Dialect::ClickHouse
                    | Dialect::Databricks => format!("CREATE DATABASE {quoted}"),
                };
                on_server(
                    &admin_url,
                    dialect,
                    &create,
                    "creating the scratch database (it must not exist yet)",
                )
                .await?;
                Place::Server { admin_url, name }
            }
            Dialect::Sqlite => {
                let path = sqlite_path(url);
                if path.exists() {
                    return Err(invalid(format!(
                        "the file `{}` exists: name a file that does not, which jetbase creates \
                         and deletes",
                        path.display()
                    )));
                }
                Place::File(path)
            }
            Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
                return Err(Error::UnsupportedUrl {
                    url: crate::url::mask_secrets(url),
                });
            }
        };
        let pool = match &place {
            Place::File(path) => {
                AnyPool::connect_sqlite(
                    Some(path),
                    crate::SqliteAccess::Create,
                    Duration::from_secs(30),
                )
                .await?
            }
            Place::Server {
                admin_url, name, ..
            } => match AnyPool::connect(url).await {
                Ok(pool) => pool,
                Err(error) => {
                    // Created, and not reached: not left behind.
                    let dropped = format!("DROP DATABASE {}", dialect.quote_identifier(name));
                    let _ = on_server(
                        admin_url,
                        dialect,
                        &dropped,
                        "dropping the scratch database",
                    )
                    .await;
                    return Err(error);
                }
            },
        };
        Ok(Self { pool, place })
    }

    /// Creates the database `name` on the server `live_url` reaches (PostgreSQL or
    /// MySQL/MariaDB), with the same user, host and options, and connects to it: a scratch
    /// database beside the live one.
    ///
    /// ```no_run
    /// # async fn check() -> Result<(), jetbase::Error> {
    /// let scratch =
    ///     jetbase::ScratchDatabase::beside("postgres://app@db/app?sslmode=require", "app_check")
    ///         .await?;
    /// // … on postgres://app@db/app_check?sslmode=require
    /// scratch.drop_database().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] when `live_url` is not a URL with a server or `name` is not a
    /// plain identifier; the errors of [`ScratchDatabase::create`].
    pub async fn beside(live_url: &str, name: &str) -> Result<Self, Error> {
        let (server, _, query) = database_part(live_url).ok_or_else(|| Error::InvalidSetting {
            setting: "database URL".to_owned(),
            message: format!(
                "`{}` names no server to create a scratch database on",
                crate::url::mask_secrets(live_url)
            ),
        })?;
        Self::create(&with_database(server, name, query)).await
    }

    /// The scratch database.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes its connections and drops it (deletes the SQLite file).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the server refuses to drop it.
    pub async fn drop_database(self) -> Result<(), Error> {
        self.pool.close().await;
        match self.place {
            Place::Server { admin_url, name } => {
                let dialect = self.pool.dialect();
                let name = dialect.quote_identifier(&name);
                let plain = format!("DROP DATABASE {name}");
                // A check stopped in the middle (Ctrl-C) can leave a statement running on the
                // server for a while: PostgreSQL 13+ ends such sessions with the drop, older
                // servers refuse FORCE and get the plain drop.
                let forced = match dialect {
                    Dialect::Postgres => Some(format!("DROP DATABASE {name} WITH (FORCE)")),
                    Dialect::Sqlite
                    | Dialect::MySql
                    | Dialect::Snowflake
                    | Dialect::ClickHouse
                    | Dialect::Databricks => None,
                };
                if let Some(forced) = forced
                    && on_server(
                        &admin_url,
                        dialect,
                        &forced,
                        "dropping the scratch database",
                    )
                    .await
                    .is_ok()
                {
                    return Ok(());
                }
                on_server(&admin_url, dialect, &plain, "dropping the scratch database").await
            }
            Place::File(path) => {
                super::remove_sqlite_files(&path);
                Ok(())
            }
        }
    }
}

/// `url` cut around its database name: what comes before the `/` that starts the name, the
/// name (empty when the URL names none), and the query.
fn database_part(url: &str) -> Option<(&str, &str, Option<&str>)> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://")? + 3;
    Some(match base[authority_start..].find('/') {
        Some(at) => {
            let slash = authority_start + at;
            (&base[..slash], &base[slash + 1..], query)
        }
        None => (base, "", query),
    })
}

/// `url` with `database` as its database (its server, user and options kept).
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn url_with_database(url: &str, database: &str) -> Option<String> {
    let (server, _, query) = database_part(url)?;
    Some(with_database(server, database, query))
}

/// A URL from the parts [`database_part`] cut, with `database` as its database.
fn with_database(server: &str, database: &str, query: Option<&str>) -> String {
    let mut url = format!("{server}/{database}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The URL of the server without the database (PostgreSQL: its `postgres` database), and the
/// database's name, when it is a plain identifier.
fn split_database(url: &str, dialect: Dialect) -> Option<(String, String)> {
    let (server, name, query) = database_part(url)?;
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !plain {
        return None;
    }
    // The database every server has, to connect to while the scratch one is created.
    let server_database = match dialect {
        Dialect::Postgres => "postgres",
        Dialect::MySql
        | Dialect::Sqlite
        | Dialect::Snowflake
        | Dialect::ClickHouse
        | Dialect::Databricks => "",
    };
    Some((
        with_database(server, server_database, query),
        name.to_owned(),
    ))
}

/// The file a SQLite URL names (`sqlite://path`, `sqlite:path`, options dropped).
fn sqlite_path(url: &str) -> std::path::PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    std::path::PathBuf::from(path)
}

/// Runs `sql` (creating or dropping a database) on a connection of its own to the server.
async fn on_server(
    admin_url: &str,
    dialect: Dialect,
    sql: &str,
    action: &'static str,
) -> Result<(), Error> {
    let url = crate::url::sqlx_url(admin_url).ok_or_else(|| Error::UnsupportedUrl {
        url: crate::url::mask_secrets(admin_url),
    })?;
    let failed = |source: sqlx::Error| {
        let server_message = match &source {
            sqlx::Error::Database(database) => Some(database.message().to_owned()),
            _ => None,
        };
        Error::Database {
            action,
            source: DatabaseError::from_driver(
                super::DatabaseErrorKind::Query,
                source,
                server_message.as_deref(),
            ),
        }
    };
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let unsupported = || Error::UnsupportedUrl {
        url: crate::url::mask_secrets(admin_url),
    };
    match dialect {
        Dialect::Postgres => {
            #[cfg(feature = "postgres")]
            {
                use sqlx::Connection as _;
                let mut connection = sqlx::PgConnection::connect(&url).await.map_err(failed)?;
                sqlx::raw_sql(sql)
                    .execute(&mut connection)
                    .await
                    .map_err(failed)?;
                let _ = connection.close().await;
                Ok(())
            }
            #[cfg(not(feature = "postgres"))]
            Err(unsupported())
        }
        Dialect::MySql => {
            #[cfg(feature = "mysql")]
            {
                use sqlx::Connection as _;
                let mut connection = sqlx::MySqlConnection::connect(&url).await.map_err(failed)?;
                sqlx::raw_sql(sql)
                    .execute(&mut connection)
                    .await
                    .map_err(failed)?;
                let _ = connection.close().await;
                Ok(())
            }
            #[cfg(not(feature = "mysql"))]
            Err(unsupported())
        }
        // A file, or no server-side CREATE DATABASE jetbase runs.
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
            Err(unsupported())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_and_the_name_are_split() {
        assert_eq!(
            split_database(
                "mysql://root:pw@127.0.0.1:3306/scratch_1?ssl-mode=disabled",
                Dialect::MySql
            ),
            Some((
                "mysql://root:pw@127.0.0.1:3306/?ssl-mode=disabled".to_owned(),
                "scratch_1".to_owned()
            ))
        );
        assert_eq!(
            split_database("postgres://u@localhost/check", Dialect::Postgres),
            Some((
                "postgres://u@localhost/postgres".to_owned(),
                "check".to_owned()
            ))
        );
        assert_eq!(
            split_database("mysql://root@localhost", Dialect::MySql),
            None
        );
        assert_eq!(
            split_database("mysql://root@localhost/a-b", Dialect::MySql),
            None
        );
        assert_eq!(
            split_database("mysql://root@localhost/x;DROP", Dialect::MySql),
            None
        );
    }

    #[test]
    fn a_scratch_database_beside_keeps_the_server_and_options() {
        let beside = |url: &str, name: &str| {
            let (server, _, query) = database_part(url).unwrap();
            with_database(server, name, query)
        };
        assert_eq!(
            beside("postgres://u:p@h:5432/app?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(beside("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            beside("postgresql+psycopg2://u@h/app", "x"),
            "postgresql+psycopg2://u@h/x"
        );
        assert_eq!(database_part("not a url"), None);
    }

    #[test]
    fn a_sqlite_url_names_its_file() {
        assert_eq!(
            sqlite_path("sqlite://tmp/x.db?mode=rwc"),
            std::path::PathBuf::from("tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite:x.db"), std::path::PathBuf::from("x.db"));
    }
}
