//! ClickHouse's HTTP interface: a query in the request body, the database and the output format
//! as URL parameters, query parameters as `param_NAME`, settings as URL parameters, the user in
//! `X-ClickHouse-User` and `X-ClickHouse-Key`; results as `JSONCompact`; an error is a non-200
//! status with the server's message, its code in `X-ClickHouse-Exception-Code`.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::options::ClickHouseOptions;
use crate::backend::tables::EngineSql as _;
use crate::backend::{DatabaseError, DatabaseErrorKind};

/// Rows of text cells (`None` for NULL).
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// An error the server reported (its message starts with its code: `Code: 60. DB::Exception:
/// ...`).
#[derive(Debug)]
pub(crate) struct ClickHouseError {
    pub message: String,
}

impl fmt::Display for ClickHouseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.trim_end())
    }
}

impl std::error::Error for ClickHouseError {}

fn transport(error: reqwest::Error) -> DatabaseError {
    DatabaseError::new(DatabaseErrorKind::Connection, error)
}

/// The HTTP client and where it goes.
pub(crate) struct Client {
    http: reqwest::Client,
    options: ClickHouseOptions,
}

impl Client {
    pub(crate) fn new(
        options: ClickHouseOptions,
        timeout: Duration,
    ) -> Result<Self, DatabaseError> {
        let http = crate::backend::http::client(timeout).map_err(transport)?;
        Ok(Self { http, options })
    }

    pub(crate) fn options(&self) -> &ClickHouseOptions {
        &self.options
    }

    /// Runs one statement with its parameters (`{name:Type}` in the text) in the URL's
    /// database; the rows of its result, if it has one.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[(&str, Option<&str>)],
    ) -> Result<Rows, DatabaseError> {
        self.query_in(Some(&self.options.database), sql, params)
            .await
    }

    /// The same in `database` (`None`: the user's default database).
    pub(crate) async fn query_in(
        &self,
        database: Option<&str>,
        sql: &str,
        params: &[(&str, Option<&str>)],
    ) -> Result<Rows, DatabaseError> {
        let mut query: Vec<(String, String)> = vec![
            ("default_format".to_owned(), "JSONCompact".to_owned()),
            // 64-bit integers as JSON numbers would lose digits past 2^53: as strings.
            (
                "output_format_json_quote_64bit_integers".to_owned(),
                "1".to_owned(),
            ),
        ];
        if let Some(database) = database {
            query.push(("database".to_owned(), database.to_owned()));
        }
        for (name, value) in params {
            // A NULL parameter is `\N`, as in the TSV escaping parameters use.
            let value = value.map_or_else(|| "\\N".to_owned(), escape_parameter);
            query.push((format!("param_{name}"), value));
        }
        let mut request = self
            .http
            .post(&self.options.base_url)
            .query(&query)
            .header("X-ClickHouse-User", &self.options.user)
            .body(sql.to_owned());
        if let Some(password) = &self.options.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let message = String::from_utf8_lossy(&body).into_owned();
            let code = code.or_else(|| {
                message
                    .strip_prefix("Code: ")
                    .and_then(|rest| rest.split_once('.'))
                    .map(|(code, _)| code.to_owned())
            });
            let kind = if status.is_server_error() && code.is_none() {
                DatabaseErrorKind::Connection
            } else {
                super::ClickHouseSql.classify(code.as_deref(), &message)
            };
            return Err(DatabaseError::new(kind, ClickHouseError { message }));
        }
        read_rows(&body)
    }
}

/// A parameter value as the HTTP interface reads it: TSV-escaped (backslash, tab, newline).
fn escape_parameter(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
    out
}

/// `JSONCompact`'s `data`: arrays of strings, numbers, booleans and nulls.
fn read_rows(body: &[u8]) -> Result<Rows, DatabaseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Rows::new());
    }
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        DatabaseError::new(
            DatabaseErrorKind::Decode,
            ClickHouseError {
                message: format!("the result is not JSONCompact: {error}"),
            },
        )
    })?;
    Ok(value["data"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .map(|cell| match cell {
                                    Value::Null => None,
                                    Value::String(text) => Some(text.clone()),
                                    other => Some(other.to_string()),
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_tsv_escaped() {
        assert_eq!(escape_parameter("a\\b\tc\nd"), "a\\\\b\\tc\\nd");
        assert_eq!(escape_parameter("it's"), "it's");
    }

    #[test]
    fn json_compact_rows() {
        let body = br#"{"meta":[],"data":[["1", null, true, 2.5, "x"]],"rows":1}"#;
        assert_eq!(
            read_rows(body).unwrap(),
            vec![vec![
                Some("1".to_owned()),
                None,
                Some("true".to_owned()),
                Some("2.5".to_owned()),
                Some("x".to_owned())
            ]]
        );
        assert!(read_rows(b"").unwrap().is_empty());
        assert!(read_rows(b"not json").is_err());
    }
}
