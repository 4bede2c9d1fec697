//! Where Databricks is: a URL as Python Jetbase users write it (SQLAlchemy's
//! `databricks-sqlalchemy` form),
//! `databricks://token:TOKEN@HOST?http_path=/sql/1.0/warehouses/ID&catalog=C&schema=S`.
//! jetbase talks to the SQL warehouse named by `http_path` over the SQL Statement Execution API.

use url::Url;

use crate::Error;

/// A parsed Databricks URL.
#[derive(Clone)]
pub(crate) struct DatabricksOptions {
    /// `https://HOST[:PORT]` (`http://` only with `protocol=http`, for local stand-ins).
    pub base_url: String,
    /// The personal access token (or OAuth token), sent as a bearer token.
    pub token: String,
    /// The SQL warehouse, from `http_path`.
    pub warehouse_id: String,
    pub catalog: Option<String>,
    pub schema: Option<String>,
}

impl std::fmt::Debug for DatabricksOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabricksOptions")
            .field("base_url", &self.base_url)
            .field("warehouse_id", &self.warehouse_id)
            .field("catalog", &self.catalog)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

fn decode(text: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
}

/// The warehouse ID of an `http_path`: `/sql/1.0/warehouses/ID` (or the older
/// `/sql/1.0/endpoints/ID`).
fn warehouse_of(http_path: &str) -> Option<&str> {
    let path = http_path.trim_end_matches('/');
    ["/sql/1.0/warehouses/", "/sql/1.0/endpoints/"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

impl DatabricksOptions {
    /// Reads a `databricks://` URL (also `databricks+connector://`). The token is the URL's
    /// password (user `token`), else `token_from_env` (`JETBASE_DATABRICKS_TOKEN`).
    pub(crate) fn parse(url: &str, token_from_env: Option<String>) -> Result<Self, Error> {
        let masked = crate::url::mask_secrets(url);
        let invalid = |message: String| Error::InvalidSetting {
            setting: format!("Databricks URL `{masked}`"),
            message,
        };
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(scheme.as_str(), "databricks" | "databricks+connector") {
            return Err(invalid(
                "expected databricks://token:TOKEN@HOST?http_path=/sql/1.0/warehouses/ID"
                    .to_owned(),
            ));
        }
        let parsed = Url::parse(url).map_err(|error| invalid(error.to_string()))?;
        let bad_encoding = |_| invalid("it is not valid percent-encoded UTF-8".to_owned());
        let mut https = true;
        let (mut http_path, mut catalog, mut schema) = (None, None, None);
        for (key, value) in parsed.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("http_path", path) => http_path = Some(path.to_owned()),
                ("catalog", name) if !name.is_empty() => catalog = Some(name.to_owned()),
                ("schema", name) if !name.is_empty() => schema = Some(name.to_owned()),
                ("protocol", "https") => {}
                ("protocol", "http") => https = false,
                (other, _) => {
                    return Err(invalid(format!(
                        "unknown parameter `{other}`: expected http_path, catalog, schema, \
                         or protocol=https|http"
                    )));
                }
            }
        }
        let http_path = http_path
            .ok_or_else(|| invalid("it has no http_path (the SQL warehouse's, `/sql/1.0/warehouses/ID`, from its Connection details)".to_owned()))?;
        let warehouse_id = warehouse_of(&http_path).ok_or_else(|| {
            invalid(format!(
                "http_path `{http_path}` names no SQL warehouse: jetbase runs statements through \
                 the SQL Statement Execution API, which needs a SQL warehouse \
                 (`/sql/1.0/warehouses/ID`), not a cluster"
            ))
        })?;
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("it names no host".to_owned()))?;
        let protocol = if https { "https" } else { "http" };
        let base_url = match parsed.port() {
            Some(port) => format!("{protocol}://{host}:{port}"),
            None => format!("{protocol}://{host}"),
        };
        let user = decode(parsed.username()).map_err(bad_encoding)?;
        let password = parsed
            .password()
            .map(decode)
            .transpose()
            .map_err(bad_encoding)?
            .filter(|password| !password.is_empty());
        if !user.is_empty() && user != "token" && password.is_some() {
            return Err(invalid(format!(
                "the user is `{user}`: Databricks URLs carry an access token as \
                 `token:TOKEN@HOST` (user and password logins are not supported)"
            )));
        }
        let token = password.or(token_from_env).ok_or_else(|| {
            invalid(
                "no access token: write it into the URL (`databricks://token:TOKEN@HOST?...`) \
                 or set JETBASE_DATABRICKS_TOKEN"
                    .to_owned(),
            )
        })?;
        if !parsed.path().trim_matches('/').is_empty() {
            return Err(invalid(
                "its path is not empty: the catalog and schema go in the query, \
                 `?http_path=...&catalog=C&schema=S`"
                    .to_owned(),
            ));
        }
        Ok(Self {
            base_url,
            token,
            warehouse_id: warehouse_id.to_owned(),
            catalog,
            schema,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "databricks://token:dapi%2Fabc@adb-123.4.azuredatabricks.net\
                       ?http_path=/sql/1.0/warehouses/a1b2c3&catalog=main&schema=app";

    #[test]
    fn url_forms() {
        let options = DatabricksOptions::parse(URL, None).unwrap();
        assert_eq!(options.base_url, "https://adb-123.4.azuredatabricks.net");
        assert_eq!(options.token, "dapi/abc");
        assert_eq!(options.warehouse_id, "a1b2c3");
        assert_eq!(options.catalog.as_deref(), Some("main"));
        assert_eq!(options.schema.as_deref(), Some("app"));
        let local = DatabricksOptions::parse(
            "databricks://token:t@127.0.0.1:8999?http_path=/sql/1.0/endpoints/w1/&protocol=http",
            None,
        )
        .unwrap();
        assert_eq!(local.base_url, "http://127.0.0.1:8999");
        assert_eq!(local.warehouse_id, "w1");
        assert_eq!((local.catalog, local.schema), (None, None));
    }

    #[test]
    fn the_token_may_come_from_the_environment() {
        let url = "databricks://h.cloud.databricks.com?http_path=/sql/1.0/warehouses/w";
        let options = DatabricksOptions::parse(url, Some("from-env".to_owned())).unwrap();
        assert_eq!(options.token, "from-env");
        let message = DatabricksOptions::parse(url, None).unwrap_err().to_string();
        assert!(message.contains("JETBASE_DATABRICKS_TOKEN"), "{message}");
    }

    #[test]
    fn bad_urls_say_what_to_write() {
        let cases = [
            ("databricks://token:secret@h", "no http_path"),
            (
                "databricks://token:secret@h?http_path=/sql/protocolv1/o/1/0123-abc",
                "not a cluster",
            ),
            (
                "databricks://token:secret@h?http_path=/sql/1.0/warehouses/w&warehouse=x",
                "unknown parameter `warehouse`",
            ),
            (
                "databricks://token:secret@h/main?http_path=/sql/1.0/warehouses/w",
                "path is not empty",
            ),
            (
                "databricks://admin:secret@h?http_path=/sql/1.0/warehouses/w",
                "token:TOKEN@HOST",
            ),
        ];
        for (url, expected) in cases {
            let message = DatabricksOptions::parse(url, None).unwrap_err().to_string();
            assert!(message.contains(expected), "{url}: {message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }
}
