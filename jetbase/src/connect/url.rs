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
    let scheme = base_scheme(url)?;
    Dialect::ALL
        .into_iter()
        .find(|dialect| dialect.url_schemes().contains(&scheme.as_str()))
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

/// `url` with every secret replaced by `***`: the password (between the user's `:` and the
/// host's `@`, whatever characters it holds, `@`, `:`, `/`, `?` and `#` written unencoded
/// included) and the value of every query parameter whose name says it carries one
/// (`password=`, `sslpassword=`, `access_token=`, `private_key_file_pwd=`, `secret=`, …). The
/// rest of the URL is left exactly as written, even where it holds the same characters as a
/// secret. Where the URL is too broken to tell where the password ends, everything from the
/// user's `:` to the last `@` is masked: it fails closed.
///
/// ```
/// use jetbase::url::mask_secrets;
///
/// assert_eq!(mask_secrets("postgres://app:s3cret@db:5432/app"), "postgres://app:***@db:5432/app");
/// assert_eq!(mask_secrets("postgres://app:ab#cd/ef@db/app"), "postgres://app:***@db/app");
/// assert_eq!(
///     mask_secrets("postgres://app@db/app?sslmode=require&password=s3cret"),
///     "postgres://app@db/app?sslmode=require&password=***"
/// );
/// assert_eq!(mask_secrets("snowflake://u:p@h/db?protocol=http"), "snowflake://u:***@h/db?protocol=http");
/// assert_eq!(mask_secrets("sqlite:///app.db"), "sqlite:///app.db");
/// ```
pub fn mask_secrets(url: &str) -> String {
    let mut spans = secret_spans(url);
    spans.sort_unstable();
    let mut masked = String::with_capacity(url.len());
    let mut written = 0;
    for (start, end) in spans {
        if start < written {
            continue;
        }
        masked.push_str(&url[written..start]);
        masked.push_str("***");
        written = end;
    }
    masked.push_str(&url[written..]);
    masked
}

/// Every secret of `url` as written (percent-encoded as it may be): its password, and the
/// values of its query parameters that carry one (see [`mask_secrets`]).
///
/// ```
/// use jetbase::url::secrets;
///
/// assert_eq!(secrets("mysql://root:p@ss:w/rd@db/app"), ["p@ss:w/rd"]);
/// assert_eq!(secrets("postgres://u@h/db?password=pw&sslmode=disable"), ["pw"]);
/// assert!(secrets("sqlite:///app.db").is_empty());
/// ```
pub fn secrets(url: &str) -> Vec<&str> {
    secret_spans(url)
        .into_iter()
        .map(|(start, end)| &url[start..end])
        .collect()
}

/// Query parameter names (lower-cased) that carry a secret when they contain one of these.
const SECRET_PARAMETER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
];

/// The byte ranges of `url`'s secrets: the password, then the secret query values.
fn secret_spans(url: &str) -> Vec<(usize, usize)> {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let rest = &url[authority_start..];
    let query_start = query_start(rest);
    let mut spans = Vec::new();
    if let Some(at) = credentials_end(&rest[..query_start])
        && let Some(colon) = rest[..at].find(':')
        && colon + 1 < at
    {
        spans.push((authority_start + colon + 1, authority_start + at));
    } else if authority_start > 0 {
        // No `@`: `user:password` with the host forgotten (`postgres://app:s3cret/db`) reads
        // as a host with a port that is no number. Failing closed, that "port" is masked.
        let authority = &rest[..rest[..query_start].find('/').unwrap_or(query_start)];
        if let Some(colon) = authority.find(':')
            && !authority.contains('@')
            && !authority.starts_with('[')
            && !is_host_list(authority)
            && colon + 1 < authority.len()
        {
            spans.push((
                authority_start + colon + 1,
                authority_start + authority.len(),
            ));
        }
    } else if url.contains('=') {
        // Not a URL: a libpq connection string (`host=db user=app password=...`).
        return keyword_value_secrets(url);
    }
    // Every `name=value` after the first `?`, whether or not it starts a query as far as the
    // rest of the URL can be read (a host this function does not recognise): failing closed.
    // Parameters are separated by `&` only, as the drivers read them (`;` belongs to a value).
    if let Some(first) = rest.find('?') {
        let query_offset = authority_start + first + 1;
        let mut offset = query_offset;
        for pair in url[query_offset..].split(['&', '?']) {
            if let Some((name, value)) = pair.split_once('=')
                && !value.is_empty()
                && is_secret_name(name)
            {
                let start = offset + name.len() + 1;
                spans.push((start, start + value.len()));
            }
            offset += pair.len() + 1;
        }
    }
    // A parameter inside the password (`pw?password=x`) is the password's.
    spans.sort_unstable();
    let mut end = 0;
    spans.retain(|&(start, stop)| {
        let separate = start >= end;
        if separate {
            end = stop;
        }
        separate
    });
    spans
}

/// Whether a parameter `name` (percent-encoded as it may be: the drivers decode it) says it
/// carries a secret.
fn is_secret_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    let name = String::from_utf8_lossy(&decoded).to_ascii_lowercase();
    SECRET_PARAMETER_WORDS
        .iter()
        .any(|word| name.contains(word))
}

/// The secret values of a libpq connection string: `keyword = value` pairs separated by
/// white space, a value possibly single-quoted (with `\'` and `\\` inside).
fn keyword_value_secrets(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let name_start = at;
        while at < bytes.len() && bytes[at] != b'=' && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let name = &text[name_start..at];
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes.get(at) != Some(&b'=') {
            // Not `keyword=`: skip the word.
            at = at.max(name_start + 1);
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value_start = at;
        if bytes.get(at) == Some(&b'\'') {
            at += 1;
            while at < bytes.len() && bytes[at] != b'\'' {
                at += if bytes[at] == b'\\' { 2 } else { 1 };
            }
            at = (at + 1).min(bytes.len());
        } else {
            while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
        }
        if at > value_start && is_secret_name(name) {
            spans.push((value_start, at.min(bytes.len())));
        }
    }
    spans
}

/// Where the query string starts in `rest` (the URL after `://`): the first `?` followed by a
/// parameter (`name=`) after a complete authority (credentials ended by `@`, or a plain
/// `host:port`, or none); a `?` in an unencoded password comes before the `@` and after a
/// `user:` that is no host. The length of `rest` when there is none.
fn query_start(rest: &str) -> usize {
    rest.match_indices('?')
        .map(|(at, _)| at)
        .find(|&at| {
            let after = &rest[at + 1..];
            let name_end = after.find('=').unwrap_or(0);
            let authority = &rest[..rest[..at].find('/').unwrap_or(at)];
            name_end > 0
                && after[..name_end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.[]".contains(&b))
                && (authority.is_empty() || authority.contains('@') || is_host_list(authority))
        })
        .unwrap_or(rest.len())
}

/// The `@` that ends the credentials in `before_query` (the URL after `://`, up to its query):
/// the last `@` followed by something shaped like a host (`name`, `name:port`, `[v6]:port`, a
/// comma-separated list of them) up to the path. With an `@` but none so followed, the last
/// `@` (failing closed: more is masked, never less).
fn credentials_end(before_query: &str) -> Option<usize> {
    let last = before_query.rfind('@')?;
    let host_like = before_query
        .rmatch_indices('@')
        .map(|(at, _)| at)
        .find(|&at| {
            let after = &before_query[at + 1..];
            let host = &after[..after.find(['/', '@']).unwrap_or(after.len())];
            is_host_list(host)
        });
    Some(host_like.unwrap_or(last))
}

/// `host[:port]`, `[v6][:port]`, or several of them separated by commas.
fn is_host_list(text: &str) -> bool {
    !text.is_empty()
        && text.split(',').all(|host| {
            let (name, port) = match host.strip_prefix('[') {
                Some(v6) => match v6.split_once(']') {
                    Some((address, port)) => (address, port),
                    None => return false,
                },
                None => match host.rsplit_once(':') {
                    Some((name, port)) => (name, port),
                    None => (host, ""),
                },
            };
            let port_ok = port.is_empty()
                || port
                    .strip_prefix(':')
                    .unwrap_or(port)
                    .bytes()
                    .all(|b| b.is_ascii_digit());
            !name.is_empty()
                && port_ok
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-~%:".contains(&b))
        })
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
            mask_secrets("mysql://root:p@ss@host/x"),
            "mysql://root:***@host/x"
        );
        assert_eq!(
            mask_secrets("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(mask_secrets("sqlite://app.db"), "sqlite://app.db");
        // The password's characters elsewhere in the URL are left alone.
        assert_eq!(
            mask_secrets("x://u:p@127.0.0.1:9/db?protocol=http&path=p"),
            "x://u:***@127.0.0.1:9/db?protocol=http&path=p"
        );
        // An `@` after the authority is not the credentials' end.
        assert_eq!(
            mask_secrets("postgres://u:pw@h/db?options=a@b"),
            "postgres://u:***@h/db?options=a@b"
        );
        assert_eq!(secrets("postgres://u:p%40w@h/db"), ["p%40w"]);
        assert!(secrets("postgres://u:@h/db").is_empty());
    }

    /// Every form of password a hostile review found printed, on every URL scheme: unencoded
    /// `#`, `?`, `/`, `@` and `:` in the password, and secrets in the query string.
    #[test]
    fn every_secret_form_is_masked_on_every_scheme() {
        let schemes = [
            "postgres",
            "postgresql+psycopg2",
            "mysql",
            "mariadb",
            "snowflake",
            "clickhouse",
            "clickhouse+https",
            "databricks",
        ];
        let passwords = [
            "SECRET",
            "ab#cdSECRET",
            "ab?cdSECRET",
            "ab/cdSECRET",
            "p@ss:w/rdSECRET",
            "SECRET#?/@:x",
            "p%40SECRET",
            "SECRET?password=x",
        ];
        let hosts = ["db", "db:5432", "[::1]:5432", "10.0.0.1"];
        for scheme in schemes {
            for password in passwords {
                for host in hosts {
                    let url = format!("{scheme}://app:{password}@{host}/name?sslmode=disable");
                    let masked = mask_secrets(&url);
                    assert_eq!(
                        masked,
                        format!("{scheme}://app:***@{host}/name?sslmode=disable"),
                        "{url}"
                    );
                    assert_eq!(secrets(&url), [password], "{url}");
                }
            }
            for parameter in [
                "password",
                "sslpassword",
                "PWD",
                "access_token",
                "token",
                "private_key_file_pwd",
                "client_secret",
                "passcode",
            ] {
                let url =
                    format!("{scheme}://app@db/name?sslmode=disable&{parameter}=SECRET;x&y=1");
                let masked = mask_secrets(&url);
                assert!(!masked.contains("SECRET"), "{url} -> {masked}");
                assert!(masked.ends_with("&y=1"), "{masked}");
                let both = format!("{scheme}://app:pw@db/name?{parameter}=SECRET");
                assert_eq!(
                    mask_secrets(&both),
                    format!("{scheme}://app:***@db/name?{parameter}=***")
                );
            }
        }
        // SQLite URLs carry no password; the path stays as written.
        assert_eq!(
            mask_secrets("sqlite:///srv/app.db?mode=rwc"),
            "sqlite:///srv/app.db?mode=rwc"
        );
        assert_eq!(mask_secrets("sqlite:app.db"), "sqlite:app.db");
        // Too broken to tell where the password ends: everything to the last `@` is masked.
        assert_eq!(
            mask_secrets("postgres://u:a@b:c@/db"),
            "postgres://u:***@/db"
        );
        // No `@` at all: a "port" that is no number is a password whose host was forgotten.
        assert_eq!(
            mask_secrets("postgres://app:s3cretXX/db"),
            "postgres://app:***/db"
        );
        assert_eq!(mask_secrets("mysql://root:s3cretXX"), "mysql://root:***");
        assert_eq!(
            mask_secrets("postgres://db:5432/app"),
            "postgres://db:5432/app"
        );
        assert_eq!(
            mask_secrets("postgres://[::1]:5432/app"),
            "postgres://[::1]:5432/app"
        );
        // A libpq connection string, with quotes and spaces around `=`.
        assert_eq!(
            mask_secrets("host=127.0.0.1 user=u password=SECRET dbname=x"),
            "host=127.0.0.1 user=u password=*** dbname=x"
        );
        assert_eq!(
            mask_secrets("host=db password='my SECRET \\' pw' dbname=x"),
            "host=db password=*** dbname=x"
        );
        assert_eq!(
            mask_secrets("host=db\tpassword = SECRET"),
            "host=db\tpassword = ***"
        );
        // `;` is part of a value (the drivers split on `&`); names may be percent-encoded; a
        // host this function cannot read still has its query's secrets masked.
        assert_eq!(
            mask_secrets("postgres://app@db/app?password=pw;TAIL&x=1"),
            "postgres://app@db/app?password=***&x=1"
        );
        assert_eq!(
            mask_secrets("postgres://app@db/app?sslmode=disable&%70assword=SECRET"),
            "postgres://app@db/app?sslmode=disable&%70assword=***"
        );
        assert_eq!(
            mask_secrets("postgres://bücher/db?password=SECRET"),
            "postgres://bücher/db?password=***"
        );
        assert_eq!(
            mask_secrets("postgres://[::1/db?password=SECRET"),
            "postgres://[::1/db?password=***"
        );
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
