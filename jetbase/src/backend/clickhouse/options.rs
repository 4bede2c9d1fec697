//! Where ClickHouse is: a URL as Python Jetbase users write it (clickhouse-sqlalchemy's):
//! `clickhouse://USER:PASSWORD@HOST:PORT/DATABASE`, `clickhouse+http://…`, `clickhouse+https://…`.
//! jetbase speaks the HTTP interface: a `clickhouse+native://` URL is refused, saying so.

use url::Url;

use crate::Error;

/// A parsed ClickHouse URL.
#[derive(Clone)]
pub(crate) struct ClickHouseOptions {
    /// `http://HOST:PORT` or `https://HOST:PORT`.
    pub base_url: String,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
}

impl std::fmt::Debug for ClickHouseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseOptions")
            .field("base_url", &self.base_url)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

fn decode(text: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
}

impl ClickHouseOptions {
    /// Reads a `clickhouse://`, `clickhouse+http://` or `clickhouse+https://` URL. HTTP on port
    /// 8123 by default, HTTPS (`clickhouse+https://`, or `?protocol=https` / `?secure=true`) on
    /// 8443; the database is `default` when the URL names none; the user `default`.
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let masked = crate::url::mask_secrets(url);
        let invalid = |message: String| Error::InvalidSetting {
            setting: format!("ClickHouse URL `{masked}`"),
            message,
        };
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .unwrap_or_default();
        let driver = scheme.split_once('+').map(|(_, driver)| driver);
        let mut https = match driver {
            None | Some("http") => false,
            Some("https") => true,
            Some("native" | "asynch") => {
                return Err(invalid(
                    "jetbase talks to ClickHouse over its HTTP interface, not the native TCP \
                     protocol: write clickhouse:// (or clickhouse+http://, clickhouse+https://) \
                     with the HTTP port (8123, or 8443 for HTTPS)"
                        .to_owned(),
                ));
            }
            Some(other) => {
                return Err(invalid(format!(
                    "unknown driver `{other}`: write clickhouse://, clickhouse+http:// or clickhouse+https://"
                )));
            }
        };
        let parsed = Url::parse(url).map_err(|error| invalid(error.to_string()))?;
        for (key, value) in parsed.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("protocol", "https") | ("secure", "true" | "1" | "True") => https = true,
                ("protocol", "http") | ("secure", "false" | "0" | "False") => {}
                (other, _) => {
                    return Err(invalid(format!(
                        "unknown parameter `{other}`: expected protocol=http|https or secure=true|false"
                    )));
                }
            }
        }
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("it names no host".to_owned()))?;
        let port = parsed.port().unwrap_or(if https { 8443 } else { 8123 });
        let protocol = if https { "https" } else { "http" };
        let bad_encoding = |_| invalid("it is not valid percent-encoded UTF-8".to_owned());
        let user = decode(parsed.username()).map_err(bad_encoding)?;
        let password = parsed
            .password()
            .map(decode)
            .transpose()
            .map_err(bad_encoding)?;
        let database = parsed.path().trim_matches('/');
        if database.contains('/') {
            return Err(invalid("its path has more than a database name".to_owned()));
        }
        Ok(Self {
            base_url: format!("{protocol}://{host}:{port}"),
            user: if user.is_empty() {
                "default".to_owned()
            } else {
                user
            },
            password,
            database: if database.is_empty() {
                "default".to_owned()
            } else {
                decode(database).map_err(bad_encoding)?
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let plain =
            ClickHouseOptions::parse("clickhouse://app:s%40cret@ch.internal/analytics").unwrap();
        assert_eq!(plain.base_url, "http://ch.internal:8123");
        assert_eq!(
            (plain.user.as_str(), plain.password.as_deref()),
            ("app", Some("s@cret"))
        );
        assert_eq!(plain.database, "analytics");
        let https =
            ClickHouseOptions::parse("clickhouse+https://app@ch.internal/analytics").unwrap();
        assert_eq!(https.base_url, "https://ch.internal:8443");
        let explicit = ClickHouseOptions::parse("clickhouse+http://127.0.0.1:9999").unwrap();
        assert_eq!(explicit.base_url, "http://127.0.0.1:9999");
        assert_eq!(
            (explicit.user.as_str(), explicit.database.as_str()),
            ("default", "default")
        );
        let secure = ClickHouseOptions::parse("clickhouse://h/db?secure=true").unwrap();
        assert_eq!(secure.base_url, "https://h:8443");
    }

    #[test]
    fn native_urls_are_refused_saying_why() {
        let message = ClickHouseOptions::parse("clickhouse+native://app:secret@h:9000/db")
            .unwrap_err()
            .to_string();
        assert!(message.contains("HTTP interface"), "{message}");
        assert!(message.contains("app:***@h"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
