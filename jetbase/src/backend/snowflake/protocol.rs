//! The HTTP protocol Snowflake's own connectors speak (Python, JDBC, Go): a login
//! (`POST /session/v1/login-request`) that returns a session token, queries
//! (`POST /queries/v1/query-request`) sent with it, results as JSON rows or an Arrow stream,
//! large results in chunks fetched from the URLs the response lists, long queries polled at the
//! `getResultUrl` they return, and the session deleted at the end (`POST /session?delete=true`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::arrow::{Rows, read_rows};
use super::key_pair;
use super::options::{Credentials, SnowflakeOptions};
pub(crate) use crate::backend::row_first::{Bind, QueryResult};
use crate::backend::tables::EngineSql as _;
use crate::backend::{DatabaseError, DatabaseErrorKind};

/// Snowflake's "query still running" codes: poll the result URL.
const IN_PROGRESS: [&str; 2] = ["333333", "333334"];
/// Statement type ids of DML (0x3000 to 0x3FFF): the first cell is the affected row count.
const DML_TYPES: std::ops::Range<i64> = 0x3000..0x4000;

/// An error Snowflake (or the way to it) reported.
#[derive(Debug)]
pub(crate) struct SnowflakeError {
    /// Snowflake's error code (`002003`), if it gave one.
    pub code: Option<String>,
    pub sql_state: Option<String>,
    pub message: String,
}

impl fmt::Display for SnowflakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.sql_state) {
            (Some(code), Some(state)) if !self.message.starts_with(code.as_str()) => {
                write!(f, "{code} ({state}): {}", self.message)
            }
            (Some(code), None) if !self.message.starts_with(code.as_str()) => {
                write!(f, "{code}: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SnowflakeError {}

impl SnowflakeError {
    fn into_database_error(self) -> DatabaseError {
        let kind = super::SnowflakeSql.classify(
            self.code.as_deref().or(self.sql_state.as_deref()),
            &self.message,
        );
        DatabaseError::new(kind, self)
    }
}

/// A failure on the way to Snowflake: the connection, not the query.
fn transport(error: impl std::error::Error + Send + Sync + 'static) -> DatabaseError {
    DatabaseError::new(DatabaseErrorKind::Connection, error)
}

fn protocol_error(message: String) -> DatabaseError {
    DatabaseError::new(
        DatabaseErrorKind::Decode,
        SnowflakeError {
            code: None,
            sql_state: None,
            message,
        },
    )
}

/// Snowflake's binding: its type and the value as text; NULL is bound as type `ANY`, as
/// Snowflake's connectors do.
fn bind_json(bind: Bind<'_>) -> Value {
    match bind {
        Bind::Text(None) | Bind::Integer(None) => json!({"type": "ANY", "value": null}),
        Bind::Text(Some(text)) => json!({"type": "TEXT", "value": text}),
        Bind::Integer(Some(number)) => json!({"type": "FIXED", "value": number.to_string()}),
        Bind::Boolean(flag) => json!({"type": "BOOLEAN", "value": flag.to_string()}),
    }
}

/// A logged-in session.
pub(crate) struct Session {
    token: String,
    sequence: AtomicU64,
}

/// The HTTP client and where it goes.
pub(crate) struct Client {
    http: reqwest::Client,
    options: SnowflakeOptions,
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Client {
    pub(crate) fn new(options: SnowflakeOptions, timeout: Duration) -> Result<Self, DatabaseError> {
        let http = crate::backend::http::client(timeout).map_err(transport)?;
        Ok(Self { http, options })
    }

    pub(crate) fn options(&self) -> &SnowflakeOptions {
        &self.options
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.base_url.trim_end_matches('/'))
    }

    /// Posts `body`, reads Snowflake's JSON envelope; connection errors are retried a few times
    /// (the request never reached the server).
    async fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, DatabaseError> {
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .post(self.url(path))
                .query(query)
                .header(reqwest::header::ACCEPT, "application/snowflake")
                .json(body);
            if let Some(token) = token {
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    format!("Snowflake Token=\"{token}\""),
                );
            }
            match request.send().await {
                Ok(response) => return read_envelope(response).await,
                Err(error) if error.is_connect() && attempt < 3 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(error) => return Err(transport(error)),
            }
        }
    }

    async fn get(&self, url: &str, token: &str) -> Result<Value, DatabaseError> {
        let response = self
            .http
            .get(self.url(url))
            .header(reqwest::header::ACCEPT, "application/snowflake")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Snowflake Token=\"{token}\""),
            )
            .send()
            .await
            .map_err(transport)?;
        read_envelope(response).await
    }

    /// Logs in with the password or the key pair.
    pub(crate) async fn login(&self) -> Result<Session, DatabaseError> {
        let options = &self.options;
        let mut data = json!({
            "CLIENT_APP_ID": "jetbase-rs",
            "CLIENT_APP_VERSION": env!("CARGO_PKG_VERSION"),
            "ACCOUNT_NAME": options.account,
            "LOGIN_NAME": options.user,
            "CLIENT_ENVIRONMENT": {"APPLICATION": "jetbase", "OS": std::env::consts::OS},
            "SESSION_PARAMETERS": {"CLIENT_SESSION_KEEP_ALIVE": false},
        });
        match &options.credentials {
            Some(Credentials::Password(password)) => data["PASSWORD"] = json!(password),
            Some(Credentials::KeyPair {
                private_key_pem,
                passphrase,
            }) => {
                let token = key_pair::jwt(
                    &options.account,
                    &options.user,
                    private_key_pem,
                    passphrase.as_deref(),
                )
                .map_err(|error| DatabaseError::new(DatabaseErrorKind::Connection, error))?;
                data["AUTHENTICATOR"] = json!("SNOWFLAKE_JWT");
                data["TOKEN"] = json!(token);
            }
            None => {
                return Err(protocol_error(
                    "no password and no private key to log in to Snowflake with".to_owned(),
                ));
            }
        }
        let id = request_id();
        let mut query: Vec<(&str, &str)> = vec![("requestId", &id), ("request_guid", &id)];
        for (name, value) in [
            ("databaseName", &options.database),
            ("schemaName", &options.schema),
            ("warehouse", &options.warehouse),
            ("roleName", &options.role),
        ] {
            if let Some(value) = value {
                query.push((name, value));
            }
        }
        let response = self
            .post(
                "/session/v1/login-request",
                &query,
                None,
                &json!({ "data": data }),
            )
            .await
            .map_err(|error| {
                // A refused login is a connection failure to the caller, whatever its code.
                DatabaseError::new(DatabaseErrorKind::Connection, error)
            })?;
        let token = response["token"]
            .as_str()
            .ok_or_else(|| protocol_error("the login response has no session token".to_owned()))?;
        Ok(Session {
            token: token.to_owned(),
            sequence: AtomicU64::new(0),
        })
    }

    /// Runs one statement.
    pub(crate) async fn query(
        &self,
        session: &Session,
        sql: &str,
        binds: &[Bind<'_>],
    ) -> Result<QueryResult, DatabaseError> {
        let mut body = json!({
            "sqlText": sql,
            "asyncExec": false,
            "sequenceId": session.sequence.fetch_add(1, Ordering::Relaxed) + 1,
            "querySubmissionTime": now_ms(),
        });
        if !binds.is_empty() {
            let bindings: serde_json::Map<String, Value> = binds
                .iter()
                .enumerate()
                .map(|(index, bind)| ((index + 1).to_string(), bind_json(*bind)))
                .collect();
            body["bindings"] = Value::Object(bindings);
        }
        let id = request_id();
        let mut data = self
            .post(
                "/queries/v1/query-request",
                &[("requestId", &id)],
                Some(&session.token),
                &body,
            )
            .await;
        // A long query answers "in progress" with a URL to poll for its result.
        while let Err(InProgress(url)) = in_progress(&data) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            data = self.get(&url, &session.token).await;
        }
        let data = data?;
        let mut result = QueryResult::default();
        match data["queryResultFormat"].as_str() {
            Some("arrow") => {
                let encoded = data["rowsetBase64"].as_str().unwrap_or_default();
                let stream = STANDARD.decode(encoded).map_err(|error| {
                    protocol_error(format!("the Arrow result is not base64: {error}"))
                })?;
                read_rows(&stream, &mut result.rows)
                    .map_err(|error| DatabaseError::new(DatabaseErrorKind::Decode, error))?;
            }
            _ => read_json_rows(&data["rowset"], &mut result.rows)?,
        }
        self.read_chunks(&data, &mut result.rows).await?;
        let statement_type = data["statementTypeId"].as_i64().unwrap_or(0);
        if DML_TYPES.contains(&statement_type) {
            result.affected = result
                .rows
                .first()
                .and_then(|row| row.first())
                .and_then(|cell| cell.as_deref())
                .and_then(|count| count.parse().ok());
        }
        Ok(result)
    }

    /// The rest of a large result: chunks at the URLs the response lists, with its headers.
    async fn read_chunks(&self, data: &Value, rows: &mut Rows) -> Result<(), DatabaseError> {
        let Some(chunks) = data["chunks"].as_array().filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        let arrow = data["queryResultFormat"].as_str() == Some("arrow");
        for chunk in chunks {
            let url = chunk["url"]
                .as_str()
                .ok_or_else(|| protocol_error("a result chunk has no URL".to_owned()))?;
            let mut request = self.http.get(url);
            if let Some(headers) = data["chunkHeaders"].as_object() {
                for (name, value) in headers {
                    request = request.header(name, value.as_str().unwrap_or_default());
                }
            } else if let Some(key) = data["qrmk"].as_str() {
                request = request
                    .header("x-amz-server-side-encryption-customer-algorithm", "AES256")
                    .header("x-amz-server-side-encryption-customer-key", key);
            }
            let response = request.send().await.map_err(transport)?;
            if !response.status().is_success() {
                return Err(protocol_error(format!(
                    "fetching a result chunk failed: HTTP {}",
                    response.status()
                )));
            }
            let bytes = response.bytes().await.map_err(transport)?;
            if arrow {
                read_rows(&bytes, rows)
                    .map_err(|error| DatabaseError::new(DatabaseErrorKind::Decode, error))?;
            } else {
                // A JSON chunk is the rows without the enclosing brackets.
                let mut text = Vec::with_capacity(bytes.len() + 2);
                text.push(b'[');
                text.extend_from_slice(&bytes);
                text.push(b']');
                let value: Value = serde_json::from_slice(&text).map_err(|error| {
                    protocol_error(format!("a JSON result chunk is unreadable: {error}"))
                })?;
                read_json_rows(&value, rows)?;
            }
        }
        Ok(())
    }

    /// Deletes the session (its temporary state goes with it); errors are of no use here.
    pub(crate) async fn logout(&self, session: &Session) {
        let id = request_id();
        let _ = self
            .http
            .post(self.url("/session"))
            .query(&[("delete", "true"), ("requestId", id.as_str())])
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Snowflake Token=\"{}\"", session.token),
            )
            .send()
            .await;
    }
}

/// A response that says the query still runs, and where to ask again.
struct InProgress(String);

fn in_progress(data: &Result<Value, DatabaseError>) -> Result<(), InProgress> {
    if let Err(error) = data
        && let Some(snowflake) = error.downcast_ref::<PendingResult>()
    {
        return Err(InProgress(snowflake.0.clone()));
    }
    Ok(())
}

/// Carried as an error from `read_envelope` when the query still runs.
#[derive(Debug)]
struct PendingResult(String);

impl fmt::Display for PendingResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the query is still running (result at {})", self.0)
    }
}

impl std::error::Error for PendingResult {}

/// Snowflake's envelope: `{"success": bool, "code", "message", "data"}`; the `data` of a
/// success.
async fn read_envelope(response: reqwest::Response) -> Result<Value, DatabaseError> {
    let status = response.status();
    let body = response.bytes().await.map_err(transport)?;
    let envelope: Value = match serde_json::from_slice(&body) {
        Ok(envelope) => envelope,
        Err(_) => {
            let text = String::from_utf8_lossy(&body);
            let kind = if status.is_server_error() || status.as_u16() == 429 {
                DatabaseErrorKind::Connection
            } else {
                DatabaseErrorKind::Query
            };
            return Err(DatabaseError::new(
                kind,
                SnowflakeError {
                    code: None,
                    sql_state: None,
                    message: format!(
                        "HTTP {status}: {}",
                        text.chars().take(500).collect::<String>()
                    ),
                },
            ));
        }
    };
    let mut data = envelope.get("data").cloned().unwrap_or(Value::Null);
    if envelope["success"].as_bool() == Some(true) {
        return Ok(data);
    }
    let code = envelope["code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| data["errorCode"].as_str().map(str::to_owned));
    if code
        .as_deref()
        .is_some_and(|code| IN_PROGRESS.contains(&code))
        && let Some(url) = data["getResultUrl"].as_str()
    {
        return Err(DatabaseError::new(
            DatabaseErrorKind::Query,
            PendingResult(url.to_owned()),
        ));
    }
    let message = envelope["message"]
        .as_str()
        .map_or_else(|| format!("HTTP {status}: {envelope}"), str::to_owned);
    Err(SnowflakeError {
        code,
        sql_state: data
            .get_mut("sqlState")
            .and_then(|state| state.as_str().map(str::to_owned)),
        message,
    }
    .into_database_error())
}

/// JSON rows: arrays of strings and nulls.
fn read_json_rows(rowset: &Value, rows: &mut Rows) -> Result<(), DatabaseError> {
    let Some(list) = rowset.as_array() else {
        return Ok(());
    };
    for row in list {
        let cells = row
            .as_array()
            .ok_or_else(|| protocol_error(format!("a JSON result row is not a list: {row}")))?;
        rows.push(
            cells
                .iter()
                .map(|cell| match cell {
                    Value::Null => None,
                    Value::String(text) => Some(text.clone()),
                    other => Some(other.to_string()),
                })
                .collect(),
        );
    }
    Ok(())
}
