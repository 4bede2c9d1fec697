//! Database URLs in the sqlx and SQLAlchemy forms (see `jetbase::url`), with SQLAlchemy's rules
//! for SQLite paths (relative to the project), and connecting to them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jetbase::{AnyPool, Dialect, SqliteAccess};

use crate::error::CliError;

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file (`None`: in memory).
    Sqlite {
        path: Option<PathBuf>,
        read_only: bool,
    },
    /// A PostgreSQL or MySQL/MariaDB server, as a sqlx URL.
    Server { url: String },
    /// ClickHouse, over its HTTP interface.
    ClickHouse { url: String },
    /// Databricks, over its SQL Statement Execution API.
    Databricks { url: String },
    /// Snowflake, with the key pair for a URL without a password.
    Snowflake {
        url: String,
        private_key: Option<String>,
        passphrase: Option<String>,
    },
}

/// Whether a command writes: only writers create a missing SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Write,
}

impl DatabaseLocation {
    /// Reads a URL: `postgres://`, `postgresql+psycopg2://`, `mysql+pymysql://`, `sqlite://x.db`,
    /// `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite+aiosqlite:///x.db`... A
    /// relative SQLite path is relative to `jetbase_dir`.
    pub fn parse(url: &str, jetbase_dir: &Path) -> Result<Self, CliError> {
        match jetbase::url::dialect_of(url) {
            Some(Dialect::Postgres | Dialect::MySql) => Ok(Self::Server {
                url: server_url(url)?,
            }),
            Some(Dialect::Sqlite) => {
                let rest = url.split_once(':').map_or("", |(_, rest)| rest);
                sqlite_target(rest, jetbase_dir)
            }
            Some(Dialect::ClickHouse) => Ok(Self::ClickHouse {
                url: url.to_owned(),
            }),
            Some(Dialect::Databricks) => Ok(Self::Databricks {
                url: url.to_owned(),
            }),
            Some(Dialect::Snowflake) => Ok(Self::Snowflake {
                url: url.to_owned(),
                private_key: None,
                passphrase: None,
            }),
            None => Err(unsupported(url)),
        }
    }

    /// The URL for messages: the password masked, or the SQLite file.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite {
                path: Some(path), ..
            } => format!("SQLite file {}", path.display()),
            Self::Sqlite { path: None, .. } => "an in-memory SQLite database".to_owned(),
            Self::Server { url }
            | Self::Snowflake { url, .. }
            | Self::ClickHouse { url }
            | Self::Databricks { url } => jetbase::url::mask_secrets(url),
        }
    }

    /// Connects, giving up after `timeout`. A read-only command on a SQLite file that does not
    /// exist gets an empty in-memory database instead, so it creates nothing.
    pub async fn connect(&self, access: Access, timeout: Duration) -> Result<AnyPool, CliError> {
        let failed = || {
            CliError::run(format!(
                "cannot connect to {}; check the URL and that the database is running",
                self.display()
            ))
        };
        match self {
            Self::Server { url } | Self::ClickHouse { url } | Self::Databricks { url } => {
                AnyPool::connect_with_timeout(url, timeout)
                    .await
                    .map_err(|error| match error {
                        jetbase::Error::Database { source, .. } => failed().caused_by(source),
                        other => CliError::from(other),
                    })
            }
            Self::Snowflake {
                url,
                private_key,
                passphrase,
            } => AnyPool::connect_snowflake(
                url,
                private_key.as_deref(),
                passphrase.as_deref(),
                timeout,
            )
            .await
            .map_err(|error| match error {
                jetbase::Error::Database { source, .. } => failed().caused_by(source),
                other => CliError::from(other),
            }),
            Self::Sqlite { path, read_only } => {
                let sqlite_access = if *read_only {
                    SqliteAccess::ReadOnly
                } else if access == Access::Write {
                    SqliteAccess::Create
                } else {
                    SqliteAccess::ReadWrite
                };
                let path = path
                    .as_deref()
                    .filter(|path| access == Access::Write || path.exists());
                AnyPool::connect_sqlite(path, sqlite_access, timeout)
                    .await
                    .map_err(|error| match error {
                        jetbase::Error::Database { source, .. } => failed().caused_by(source),
                        other => CliError::from(other),
                    })
            }
        }
    }
}

/// A server URL as sqlx takes it (the SQLAlchemy driver part dropped, `mariadb:` spelled
/// `mysql:`).
fn server_url(url: &str) -> Result<String, CliError> {
    jetbase::url::sqlx_url(url).ok_or_else(|| unsupported(url))
}

fn unsupported(url: &str) -> CliError {
    CliError::usage(format!(
        "`{}` is not a database URL jetbase can use: expected postgres://, postgresql://, \
         mysql://, mariadb://, sqlite:, snowflake://, clickhouse:// or databricks:// (a `+driver` part, as in postgresql+psycopg2://, is \
         accepted and ignored)",
        jetbase::url::mask_secrets(url)
    ))
}

/// SQLAlchemy's rules: `sqlite:///x.db` is relative, `sqlite:////x.db` absolute; `sqlite://x.db`
/// and `sqlite:x.db` are relative too; `sqlite://`, `sqlite::memory:` are in memory.
fn sqlite_target(rest: &str, jetbase_dir: &Path) -> Result<DatabaseLocation, CliError> {
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut read_only = false;
    let mut in_memory = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair {
            "mode=ro" => read_only = true,
            "mode=rw" | "mode=rwc" => {}
            "mode=memory" => in_memory = true,
            other => {
                return Err(CliError::usage(format!(
                    "SQLite URL option `{other}` is not supported; use mode=ro, mode=rw, \
                     mode=rwc or mode=memory"
                )));
            }
        }
    }
    let path = if let Some(absolute) = location.strip_prefix("////") {
        format!("/{absolute}")
    } else if let Some(relative) = location.strip_prefix("///") {
        relative.to_owned()
    } else if let Some(relative) = location.strip_prefix("//") {
        relative.to_owned()
    } else {
        location.to_owned()
    };
    if in_memory || path.is_empty() || path == ":memory:" {
        return Ok(DatabaseLocation::Sqlite {
            path: None,
            read_only,
        });
    }
    Ok(DatabaseLocation::Sqlite {
        path: Some(crate::project::absolute(jetbase_dir, Path::new(&path))),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DatabaseLocation {
        DatabaseLocation::parse(url, Path::new("/project/jetbase")).unwrap()
    }

    fn file(path: &str) -> DatabaseLocation {
        DatabaseLocation::Sqlite {
            path: Some(PathBuf::from(path)),
            read_only: false,
        }
    }

    #[test]
    fn sqlite_paths_follow_sqlalchemy() {
        assert_eq!(parse("sqlite:///app.db"), file("/project/jetbase/app.db"));
        assert_eq!(parse("sqlite:////var/app.db"), file("/var/app.db"));
        assert_eq!(parse("sqlite://app.db"), file("/project/jetbase/app.db"));
        assert_eq!(parse("sqlite:app.db"), file("/project/jetbase/app.db"));
        assert_eq!(
            parse("sqlite+aiosqlite:///data/app.db"),
            file("/project/jetbase/data/app.db")
        );
        assert_eq!(
            parse("sqlite:///../app.db"),
            file("/project/jetbase/../app.db")
        );
        assert_eq!(
            parse("sqlite://app.db?mode=ro"),
            DatabaseLocation::Sqlite {
                path: Some(PathBuf::from("/project/jetbase/app.db")),
                read_only: true
            }
        );
        for memory in [
            "sqlite://",
            "sqlite::memory:",
            "sqlite:///:memory:",
            "sqlite://?mode=memory",
        ] {
            assert_eq!(
                parse(memory),
                DatabaseLocation::Sqlite {
                    path: None,
                    read_only: false
                },
                "{memory}"
            );
        }
    }

    #[test]
    fn drivers_are_dropped_from_server_urls() {
        for (url, expected) in [
            (
                "postgresql+psycopg2://u:p@h:5432/db",
                "postgresql://u:p@h:5432/db",
            ),
            ("postgresql+asyncpg://u@h/db", "postgresql://u@h/db"),
            (
                "postgres://u@h/db?sslmode=disable",
                "postgres://u@h/db?sslmode=disable",
            ),
            ("mysql+pymysql://u:p@h/db", "mysql://u:p@h/db"),
            ("mariadb+mariadbconnector://u@h/db", "mysql://u@h/db"),
            ("MySQL://u@h/db", "mysql://u@h/db"),
        ] {
            assert_eq!(
                parse(url),
                DatabaseLocation::Server {
                    url: expected.to_owned()
                }
            );
        }
    }

    #[test]
    fn unknown_schemes_and_options_are_usage_errors_without_the_password() {
        let error =
            DatabaseLocation::parse("oracle://scott:tiger@h/db", Path::new("/p")).unwrap_err();
        assert!(!error.message.contains("tiger"), "{}", error.message);
        assert!(error.message.contains("scott:***@h"), "{}", error.message);
        assert!(DatabaseLocation::parse("no-scheme", Path::new("/p")).is_err());
        let error =
            DatabaseLocation::parse("sqlite://a.db?cache=shared", Path::new("/p")).unwrap_err();
        assert!(error.message.contains("cache=shared"), "{}", error.message);
    }
}
