//! Where and how to log in to Snowflake: a URL as Python Jetbase users write it (SQLAlchemy's
//! `snowflake://` form), plus the key pair when the URL has no password.

use std::fmt;

use url::Url;

use crate::Error;

/// How a Snowflake session logs in.
#[derive(Clone)]
pub(crate) enum Credentials {
    Password(String),
    /// An RSA private key in PEM (PKCS#8, encrypted when a passphrase is given): a JWT signed
    /// with it, as Snowflake's key-pair authentication documents.
    KeyPair {
        private_key_pem: String,
        passphrase: Option<String>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(***)"),
            Self::KeyPair { .. } => f.write_str("KeyPair(***)"),
        }
    }
}

/// A parsed `snowflake://` URL.
#[derive(Debug, Clone)]
pub(crate) struct SnowflakeOptions {
    /// The account identifier (`myorg-myaccount`, or a locator such as `xy12345.us-east-1`).
    pub account: String,
    pub user: String,
    /// Where the connector protocol is served: `https://ACCOUNT.snowflakecomputing.com`, or the
    /// host the URL gives with `account=`.
    pub base_url: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    /// `None` until a key pair is given when the URL has no password.
    pub credentials: Option<Credentials>,
}

impl SnowflakeOptions {
    /// Reads `snowflake://USER:PASSWORD@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE`, or with
    /// an explicit endpoint `snowflake://USER:PASSWORD@HOST:PORT/DATABASE/SCHEMA?account=ACCOUNT&
    /// protocol=http|https` (then the host is talked to, not `ACCOUNT.snowflakecomputing.com`).
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let masked = crate::url::mask_secrets(url);
        let invalid = |message: String| Error::InvalidSetting {
            setting: format!("Snowflake URL `{masked}`"),
            message,
        };
        let parsed = Url::parse(url).map_err(|error| invalid(error.to_string()))?;
        let decode = |text: &str| {
            percent_decode(text)
                .map_err(|_| invalid("it is not valid percent-encoded UTF-8".into()))
        };
        let user = decode(parsed.username())?;
        if user.is_empty() {
            return Err(invalid(
                "it names no user: write snowflake://USER:PASSWORD@ACCOUNT/DATABASE/SCHEMA".into(),
            ));
        }
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("it names no account".into()))?
            .to_owned();
        let mut parts = parsed
            .path_segments()
            .map(|segments| {
                segments
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(Vec::new)
            .into_iter();
        let database = parts.next().map(|s| decode(&s)).transpose()?;
        let schema = parts.next().map(|s| decode(&s)).transpose()?;
        if parts.next().is_some() {
            return Err(invalid("its path has more than DATABASE/SCHEMA".into()));
        }
        let query = |name: &str| {
            parsed
                .query_pairs()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.into_owned())
        };
        let protocol = query("protocol").unwrap_or_else(|| "https".to_owned());
        if protocol != "https" && protocol != "http" {
            return Err(invalid(format!(
                "protocol={protocol}: expected protocol=https or protocol=http"
            )));
        }
        let (account, base_url) = match query("account") {
            Some(account) => {
                let port = parsed
                    .port()
                    .map(|port| format!(":{port}"))
                    .unwrap_or_default();
                (account, format!("{protocol}://{host}{port}"))
            }
            None => (
                host.clone(),
                format!("{protocol}://{host}.snowflakecomputing.com"),
            ),
        };
        let credentials = match parsed.password() {
            Some(password) => Some(Credentials::Password(decode(password)?)),
            None => None,
        };
        Ok(Self {
            account,
            user,
            base_url,
            database,
            schema,
            warehouse: query("warehouse"),
            role: query("role"),
            credentials,
        })
    }

    /// Uses the key pair when the URL has no password. Without either, the error names both ways
    /// to give the key.
    pub(crate) fn with_key_pair(
        mut self,
        private_key_pem: Option<String>,
        passphrase: Option<String>,
    ) -> Result<Self, Error> {
        if self.credentials.is_some() {
            return Ok(self);
        }
        let Some(private_key_pem) = private_key_pem.filter(|pem| !pem.trim().is_empty()) else {
            return Err(Error::InvalidSetting {
                setting: "Snowflake credentials".to_owned(),
                message: "the URL has no password, and no private key is set for key-pair \
                          authentication: set `snowflake_private_key` (PEM text) in jetbase.toml or \
                          the JETBASE_SNOWFLAKE_PRIVATE_KEY environment variable (and \
                          `snowflake_private_key_password` / JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD \
                          if the key is encrypted), or put the password in the URL"
                    .to_owned(),
            });
        };
        self.credentials = Some(Credentials::KeyPair {
            private_key_pem,
            passphrase: passphrase.filter(|p| !p.is_empty()),
        });
        Ok(self)
    }
}

/// `%XX` sequences decoded (`+` stays: it is no space in a URL's user part or path).
fn percent_decode(text: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_form() {
        let options = SnowflakeOptions::parse(
            "snowflake://app%40corp:p%40ss@myorg-acct/ANALYTICS/PUBLIC?warehouse=WH&role=DEPLOY",
        )
        .unwrap();
        assert_eq!(options.account, "myorg-acct");
        assert_eq!(options.user, "app@corp");
        assert_eq!(
            options.base_url,
            "https://myorg-acct.snowflakecomputing.com"
        );
        assert_eq!(options.database.as_deref(), Some("ANALYTICS"));
        assert_eq!(options.schema.as_deref(), Some("PUBLIC"));
        assert_eq!(options.warehouse.as_deref(), Some("WH"));
        assert_eq!(options.role.as_deref(), Some("DEPLOY"));
        assert!(matches!(options.credentials, Some(Credentials::Password(ref p)) if p == "p@ss"));
    }

    #[test]
    fn endpoint_form_talks_to_the_host_given() {
        let options = SnowflakeOptions::parse(
            "snowflake://u:p@127.0.0.1:8085/DB1/PUBLIC?account=acct&protocol=http&warehouse=WH",
        )
        .unwrap();
        assert_eq!(options.account, "acct");
        assert_eq!(options.base_url, "http://127.0.0.1:8085");
    }

    #[test]
    fn bad_urls_say_what_is_wrong_with_the_password_masked() {
        for (url, expected) in [
            (
                "snowflake://u:secret@acct/db/s?protocol=ftp",
                "protocol=ftp",
            ),
            ("snowflake://:secret@acct/db", "no user"),
            (
                "snowflake://u:secret@acct/db/s/extra",
                "more than DATABASE/SCHEMA",
            ),
        ] {
            let message = SnowflakeOptions::parse(url).unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn without_a_password_a_key_is_needed() {
        let options = SnowflakeOptions::parse("snowflake://u@acct/db/s").unwrap();
        assert!(options.credentials.is_none());
        let message = options
            .clone()
            .with_key_pair(None, None)
            .unwrap_err()
            .to_string();
        assert!(message.contains("snowflake_private_key"), "{message}");
        assert!(
            message.contains("JETBASE_SNOWFLAKE_PRIVATE_KEY"),
            "{message}"
        );
        let keyed = options
            .with_key_pair(Some("-----BEGIN".into()), None)
            .unwrap();
        assert!(matches!(
            keyed.credentials,
            Some(Credentials::KeyPair { .. })
        ));
    }
}
