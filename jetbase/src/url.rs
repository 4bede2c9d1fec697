//! Database URLs: which database a URL names (sqlx's schemes and SQLAlchemy's dialect names,
//! as Python Jetbase users write them), the URL sqlx connects with, and the URL as it may be
//! printed (its password masked where it stands).

use jetbase_core::Dialect;

/// The scheme of `url` without a SQLAlchemy driver part, lower-cased: `postgresql+psycopg2` →
/// `postgresql`.
fn base_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let base = scheme.split('+').next().unwrap_or(scheme);
    Some(base.to_ascii_lowercase())
}

/// The database a URL names, from its scheme: `postgres`, `postgresql`, `sqlite`, `mysql`,
/// `mariadb`, `snowflake`, `clickhouse`, `databricks`, each with or without a SQLAlchemy driver (`postgresql+psycopg2://`,
/// `mysql+pymysql://`, `sqlite+aiosqlite:///`). `None` for any other scheme.
///
/// ```
/// use jetbase::{Dialect, url::dialect_of};
///
/// assert_eq!(dialect_of("postgresql+psycopg2://app@db/app"), Some(Dialect::Postgres));
/// assert_eq!(dialect_of("mariadb://root@db/app"), Some(Dialect::MySql));
/// assert_eq!(dialect_of("sqlite:///app.db"), Some(Dialect::Sqlite));
/// assert_eq!(dialect_of("snowflake://u:p@acct/db/public"), Some(Dialect::Snowflake));
/// assert_eq!(
///     dialect_of("databricks://token:t@h?http_path=/sql/1.0/warehouses/w"),
///     Some(Dialect::Databricks)
/// );
/// assert_eq!(dialect_of("oracle://scott@db/x"), None);
/// ```
pub fn dialect_of(url: &str) -> Option<Dialect> {
    match base_scheme(url)?.as_str() {
        "postgres" | "postgresql" => Some(Dialect::Postgres),
        "sqlite" => Some(Dialect::Sqlite),
        "mysql" | "mariadb" => Some(Dialect::MySql),
        "snowflake" => Some(Dialect::Snowflake),
        "clickhouse" => Some(Dialect::ClickHouse),
        "databricks" => Some(Dialect::Databricks),
        _ => None,
    }
}

/// A server URL as sqlx takes it: the SQLAlchemy driver part dropped, `mariadb:` spelled
/// `mysql:`, the rest unchanged. `None` for a URL that names no database sqlx reaches.
///
/// ```
/// use jetbase::url::sqlx_url;
///
/// assert_eq!(sqlx_url("postgresql+asyncpg://u:p@h/db").as_deref(), Some("postgresql://u:p@h/db"));
/// assert_eq!(sqlx_url("MariaDB://u@h/db").as_deref(), Some("mysql://u@h/db"));
/// ```
pub fn sqlx_url(url: &str) -> Option<String> {
    let dialect = dialect_of(url)?;
    let (_, rest) = url.split_once(':')?;
    let scheme = match dialect {
        Dialect::Postgres | Dialect::Sqlite => base_scheme(url)?,
        Dialect::MySql => "mysql".to_owned(),
        Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => return None,
    };
    Some(format!("{scheme}:{rest}"))
}

/// `url` with its password replaced by `***`, where it stands (between the user's `:` and the
/// host's `@`): the rest of the URL is left exactly as written, even where it holds the same
/// characters as the password.
///
/// ```
/// use jetbase::url::mask_password;
///
/// assert_eq!(mask_password("postgres://app:s3cret@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(mask_password("snowflake://u:p@h/db?protocol=http"), "snowflake://u:***@h/db?protocol=http");
/// assert_eq!(mask_password("sqlite:///app.db"), "sqlite:///app.db");
/// ```
pub fn mask_password(url: &str) -> String {
    match password_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_owned(),
    }
}

/// The password of `url` as written (percent-encoded as it may be), if it has one.
pub fn password(url: &str) -> Option<&str> {
    password_span(url).map(|(start, end)| &url[start..end])
}

/// The byte range of the password in `url`.
fn password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // The last `@` ends the credentials: a password may hold an `@` of its own.
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    let (start, end) = (authority_start + colon + 1, authority_start + at);
    (start < end).then_some((start, end))
}

/// `url` without its `pooler` query parameter, and that parameter's value: jetbase's own
/// (see [`Pooler`](crate::Pooler)), which the driver must not see.
///
/// ```
/// use jetbase::url::take_pooler;
///
/// assert_eq!(
///     take_pooler("postgres://app@db:6432/app?pooler=transaction&sslmode=disable"),
///     ("postgres://app@db:6432/app?sslmode=disable".to_owned(), Some("transaction".to_owned()))
/// );
/// assert_eq!(take_pooler("postgres://app@db/app"), ("postgres://app@db/app".to_owned(), None));
/// ```
pub fn take_pooler(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let (fragment_free, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let mut pooler = None;
    let kept: Vec<&str> = fragment_free
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("pooler", value)) => {
                pooler = Some(value.to_owned());
                false
            }
            _ => !pair.is_empty(),
        })
        .collect();
    let mut rebuilt = base.to_owned();
    if !kept.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        rebuilt.push('#');
        rebuilt.push_str(fragment);
    }
    (rebuilt, pooler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_where_they_stand() {
        assert_eq!(
            mask_password("mysql://root:p@ss@host/x"),
            "mysql://root:***@host/x"
        );
        assert_eq!(
            mask_password("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(mask_password("sqlite://app.db"), "sqlite://app.db");
        // The password's characters elsewhere in the URL are left alone.
        assert_eq!(
            mask_password("x://u:p@127.0.0.1:9/db?protocol=http&path=p"),
            "x://u:***@127.0.0.1:9/db?protocol=http&path=p"
        );
        // An `@` after the authority is not the credentials' end.
        assert_eq!(
            mask_password("postgres://u:pw@h/db?options=a@b"),
            "postgres://u:***@h/db?options=a@b"
        );
        assert_eq!(password("postgres://u:p%40w@h/db"), Some("p%40w"));
        assert_eq!(password("postgres://u:@h/db"), None);
    }

    #[test]
    fn sqlalchemy_names_are_understood() {
        for (url, dialect) in [
            ("postgres://h/db", Dialect::Postgres),
            ("postgresql+psycopg://h/db", Dialect::Postgres),
            ("mysql+mysqldb://h/db", Dialect::MySql),
            ("mariadb+mariadbconnector://h/db", Dialect::MySql),
            ("sqlite+pysqlite:///x.db", Dialect::Sqlite),
        ] {
            assert_eq!(dialect_of(url), Some(dialect), "{url}");
        }
        assert_eq!(dialect_of("no-scheme"), None);
        assert_eq!(
            sqlx_url("mysql+pymysql://u:p@h/db").as_deref(),
            Some("mysql://u:p@h/db")
        );
    }
}
