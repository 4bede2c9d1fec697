//! Databricks' SQL Statement Execution API 2.0: `POST /api/2.0/sql/statements` runs a statement
//! on a SQL warehouse and answers within `wait_timeout` with its state; a statement still
//! `PENDING` or `RUNNING` is polled with `GET /api/2.0/sql/statements/{id}`, and cancelled with
//! `POST …/cancel` when its caller goes away. Results come `INLINE` as `JSON_ARRAY`: every value
//! a string (or null), in chunks linked by `next_chunk_internal_link`. A failure is
//! `status.error.{error_code, message}` with `status.sql_state`. 429 and 503 answers are tried
//! again after their `Retry-After`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::options::DatabricksOptions;
use crate::backend::row_first::{Bind, QueryResult};
use crate::backend::tables::EngineSql as _;
use crate::backend::{DatabaseError, DatabaseErrorKind};

/// How long the server holds the first answer while the statement runs (the API allows 5 to 50
/// seconds); after it, the statement is polled.
const WAIT_TIMEOUT: &str = "30s";

/// [`WAIT_TIMEOUT`] as a duration: a statement's first answer comes within it.
const WAIT: Duration = Duration::from_secs(30);

/// What an answer may take beyond what the API promises (a busy server, a slow network),
/// before the request is given up: a server that accepted the connection and never answers
/// must not hang the run (and the lock) for ever.
const ANSWER_SLACK: Duration = Duration::from_secs(10);

/// How many 429/503 answers one request may get before the error is reported.
const MAX_RETRIES: u32 = 8;

/// The longest pause jetbase honours from `Retry-After`.
const LONGEST_RETRY_PAUSE: Duration = Duration::from_secs(60);

/// An error Databricks reported: an API error (`error_code`) or a statement's failure (its
/// error class in the message, its SQLSTATE).
#[derive(Debug)]
pub(crate) struct DatabricksError {
    pub error_code: Option<String>,
    pub sql_state: Option<String>,
    pub message: String,
}

impl fmt::Display for DatabricksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.trim_end())?;
        if let Some(state) = &self.sql_state
            && !self.message.contains(state.as_str())
        {
            write!(f, " (SQLSTATE {state})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DatabricksError {}

impl DatabricksError {
    fn into_database_error(self) -> DatabaseError {
        let code = self.sql_state.as_deref().or(self.error_code.as_deref());
        let kind = super::DatabricksSql.classify(code, &self.message);
        DatabaseError::new(kind, self)
    }
}

fn transport(error: reqwest::Error) -> DatabaseError {
    DatabaseError::new(DatabaseErrorKind::Connection, error)
}

fn protocol_error(message: String) -> DatabaseError {
    DatabaseError::new(
        DatabaseErrorKind::Decode,
        DatabricksError {
            error_code: None,
            sql_state: None,
            message,
        },
    )
}

/// The API's answer about a statement.
#[derive(Debug, Deserialize)]
struct StatementResponse {
    statement_id: Option<String>,
    status: Option<Status>,
    manifest: Option<Manifest>,
    result: Option<ResultData>,
}

#[derive(Debug, Deserialize)]
struct Status {
    state: String,
    error: Option<ServiceError>,
    sql_state: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ServiceError {
    error_code: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    schema: Option<ResultSchema>,
}

#[derive(Debug, Deserialize)]
struct ResultSchema {
    #[serde(default)]
    columns: Vec<Column>,
}

#[derive(Debug, Deserialize)]
struct Column {
    name: String,
}

/// A chunk of a result.
#[derive(Debug, Deserialize)]
struct ResultData {
    #[serde(default)]
    data_array: Vec<Vec<Option<String>>>,
    next_chunk_internal_link: Option<String>,
}

/// An error answer of the API itself (not of a statement).
#[derive(Debug, Deserialize)]
struct ApiError {
    error_code: Option<String>,
    message: Option<String>,
}

/// A statement the server may still be running: cancelled if its caller goes away before it
/// ends (a dropped future), so that a cancelled run leaves nothing running.
struct InFlight<'a> {
    client: &'a Client,
    statement_id: String,
    finished: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let request = self
                .client
                .request(
                    reqwest::Method::POST,
                    &format!("/api/2.0/sql/statements/{}/cancel", self.statement_id),
                )
                .timeout(self.client.answer_limit(Answer::AtOnce))
                .json(&json!({}));
            runtime.spawn(async move {
                // Best effort: the warehouse ends the statement either way.
                let _ = request.send().await;
            });
        }
    }
}

/// The HTTP client and where it goes.
pub(crate) struct Client {
    http: reqwest::Client,
    options: DatabricksOptions,
    /// The connect timeout: also how long the first request of a connection may wait for its
    /// answer.
    connect_timeout: Duration,
}

/// How long the server may take to answer what is asked (every request has a limit).
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// A statement submitted with `wait_timeout`: answered within [`WAIT`].
    AfterWait,
    /// Answered at once: a poll, a chunk, a cancel.
    AtOnce,
    /// The first statement of a connection, submitted without waiting: answered within the
    /// connect timeout, or the server is not there.
    Connecting,
}

impl Client {
    pub(crate) fn new(
        options: DatabricksOptions,
        timeout: Duration,
    ) -> Result<Self, DatabaseError> {
        let http = crate::backend::http::client(timeout).map_err(transport)?;
        Ok(Self {
            http,
            options,
            connect_timeout: timeout,
        })
    }

    /// The limit of a request that should be answered as `answer` says.
    fn answer_limit(&self, answer: Answer) -> Duration {
        match answer {
            Answer::AfterWait => WAIT + self.connect_timeout + ANSWER_SLACK,
            Answer::AtOnce => self.connect_timeout + ANSWER_SLACK,
            Answer::Connecting => self.connect_timeout,
        }
    }

    pub(crate) fn options(&self) -> &DatabricksOptions {
        &self.options
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.options.base_url))
            .bearer_auth(&self.options.token)
    }

    /// Sends a request, again after each 429 or 503 answer (after its `Retry-After`, else a
    /// growing pause), at most [`MAX_RETRIES`] times: such an answer means the request was not
    /// taken. Any other error answer is the API's error.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        limit: Duration,
    ) -> Result<Value, DatabaseError> {
        let mut retries = 0u32;
        loop {
            let mut request = self.request(method.clone(), path).timeout(limit);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(transport)?;
            let status = response.status();
            let busy = status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::SERVICE_UNAVAILABLE;
            if busy && retries < MAX_RETRIES {
                let pause = retry_after(response.headers()).unwrap_or_else(|| backoff(retries));
                retries += 1;
                tokio::time::sleep(pause).await;
                continue;
            }
            let text = response.text().await.map_err(transport)?;
            if !status.is_success() {
                let api: Option<ApiError> = serde_json::from_str(&text).ok();
                let (error_code, message) = api
                    .map(|api| (api.error_code, api.message))
                    .unwrap_or_default();
                let message = message.unwrap_or_else(|| text.trim().to_owned());
                let retried = if retries > 0 {
                    format!(" (after {retries} tries)")
                } else {
                    String::new()
                };
                return Err(DatabricksError {
                    error_code: error_code.or_else(|| Some(status.as_u16().to_string())),
                    sql_state: None,
                    message: format!("HTTP {status}{retried}: {message}"),
                }
                .into_database_error());
            }
            return serde_json::from_str(&text).map_err(|error| {
                protocol_error(format!(
                    "the API's answer is not the JSON expected: {error}"
                ))
            });
        }
    }

    /// Runs one statement (`:p1`, `:p2`... bound to `binds`) in the URL's catalog and schema;
    /// its rows, or for DML the rows it changed (`num_affected_rows`).
    pub(crate) async fn execute(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
    ) -> Result<QueryResult, DatabaseError> {
        self.execute_answered(sql, binds, Answer::AfterWait).await
    }

    /// Whether the warehouse answers: `SELECT 1` submitted without waiting (`wait_timeout`
    /// 0), so that its answer is due within the connect timeout, then polled as usual (a
    /// stopped warehouse may take minutes to start; each poll is answered at once).
    pub(crate) async fn probe(&self) -> Result<(), DatabaseError> {
        self.execute_answered("SELECT 1", &[], Answer::Connecting)
            .await
            .map(|_| ())
    }

    async fn execute_answered(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        answer: Answer,
    ) -> Result<QueryResult, DatabaseError> {
        let parameters: Vec<Value> = binds
            .iter()
            .enumerate()
            .map(|(index, bind)| parameter(&format!("p{}", index + 1), *bind))
            .collect();
        let mut body = json!({
            "statement": sql,
            "warehouse_id": self.options.warehouse_id,
            "parameters": parameters,
            "wait_timeout": match answer {
                Answer::AfterWait => WAIT_TIMEOUT,
                Answer::AtOnce | Answer::Connecting => "0s",
            },
            "on_wait_timeout": "CONTINUE",
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
        });
        if let Some(catalog) = &self.options.catalog {
            body["catalog"] = json!(catalog);
        }
        if let Some(schema) = &self.options.schema {
            body["schema"] = json!(schema);
        }
        let answer = self
            .send(
                reqwest::Method::POST,
                "/api/2.0/sql/statements",
                Some(&body),
                self.answer_limit(answer),
            )
            .await?;
        let mut response = decode(answer)?;
        let statement_id = response
            .statement_id
            .clone()
            .ok_or_else(|| protocol_error("the answer names no statement_id".to_owned()))?;
        let mut in_flight = InFlight {
            client: self,
            statement_id,
            finished: false,
        };
        let mut pause = Duration::from_millis(50);
        loop {
            let state = response.status.as_ref().map_or("", |s| s.state.as_str());
            if !matches!(state, "PENDING" | "RUNNING") {
                in_flight.finished = true;
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
            let path = format!("/api/2.0/sql/statements/{}", in_flight.statement_id);
            let limit = self.answer_limit(Answer::AtOnce);
            response = decode(self.send(reqwest::Method::GET, &path, None, limit).await?)?;
        }
        self.finish(response).await
    }

    /// A finished statement's result: its rows (every chunk), or its error.
    async fn finish(&self, response: StatementResponse) -> Result<QueryResult, DatabaseError> {
        let status = response
            .status
            .ok_or_else(|| protocol_error("the answer has no status".to_owned()))?;
        match status.state.as_str() {
            "SUCCEEDED" => {}
            "FAILED" => {
                let error = status.error.unwrap_or(ServiceError {
                    error_code: None,
                    message: None,
                });
                return Err(DatabricksError {
                    error_code: error.error_code,
                    sql_state: status.sql_state,
                    message: error
                        .message
                        .unwrap_or_else(|| "the statement failed".to_owned()),
                }
                .into_database_error());
            }
            other => {
                return Err(DatabricksError {
                    error_code: Some(other.to_owned()),
                    sql_state: None,
                    message: format!("the statement ended {other}, without a result"),
                }
                .into_database_error());
            }
        }
        let columns: Vec<String> = response
            .manifest
            .and_then(|manifest| manifest.schema)
            .map(|schema| schema.columns.into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        let mut rows = Vec::new();
        let mut next = None;
        if let Some(result) = response.result {
            rows = result.data_array;
            next = result.next_chunk_internal_link;
        }
        let limit = self.answer_limit(Answer::AtOnce);
        while let Some(link) = next {
            let chunk: ResultData =
                serde_json::from_value(self.send(reqwest::Method::GET, &link, None, limit).await?)
                    .map_err(|error| {
                        protocol_error(format!("a result chunk is not as expected: {error}"))
                    })?;
            rows.extend(chunk.data_array);
            next = chunk.next_chunk_internal_link;
        }
        // DML answers with one row of counts.
        let affected = match columns.first().map(String::as_str) {
            Some("num_affected_rows") => rows
                .first()
                .and_then(|row| row.first())
                .and_then(|cell| cell.as_deref())
                .and_then(|count| count.parse().ok()),
            _ => None,
        };
        Ok(QueryResult { rows, affected })
    }
}

fn decode(answer: Value) -> Result<StatementResponse, DatabaseError> {
    serde_json::from_value(answer).map_err(|error| {
        protocol_error(format!("a statement's answer is not as expected: {error}"))
    })
}

/// A named parameter: its value as text and its type; NULL is a parameter without a value.
fn parameter(name: &str, bind: Bind<'_>) -> Value {
    match bind {
        Bind::Text(None) => json!({"name": name, "type": "STRING"}),
        Bind::Integer(None) => json!({"name": name, "type": "BIGINT"}),
        Bind::Text(Some(text)) => json!({"name": name, "value": text, "type": "STRING"}),
        Bind::Integer(Some(number)) => {
            json!({"name": name, "value": number.to_string(), "type": "BIGINT"})
        }
        Bind::Boolean(flag) => json!({"name": name, "value": flag.to_string(), "type": "BOOLEAN"}),
    }
}

/// `Retry-After` in seconds (the API's form), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(LONGEST_RETRY_PAUSE))
}

/// 0.5 s, 1 s, 2 s... up to 16 s.
fn backoff(retries: u32) -> Duration {
    Duration::from_millis(500u64 << retries.min(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_carry_types_and_nulls() {
        assert_eq!(
            parameter("p1", Bind::Text(Some("V1"))),
            json!({"name": "p1", "value": "V1", "type": "STRING"})
        );
        assert_eq!(
            parameter("p2", Bind::Integer(None)),
            json!({"name": "p2", "type": "BIGINT"})
        );
        assert_eq!(
            parameter("p3", Bind::Boolean(true)),
            json!({"name": "p3", "value": "true", "type": "BOOLEAN"})
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(reqwest::header::RETRY_AFTER, "86400".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(LONGEST_RETRY_PAUSE));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(9), Duration::from_secs(16));
    }

    #[test]
    fn errors_name_their_class_and_sqlstate() {
        let error = DatabricksError {
            error_code: Some("BAD_REQUEST".to_owned()),
            sql_state: Some("42P01".to_owned()),
            message: "[TABLE_OR_VIEW_NOT_FOUND] The table or view `t` cannot be found.".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "[TABLE_OR_VIEW_NOT_FOUND] The table or view `t` cannot be found. (SQLSTATE 42P01)"
        );
        assert_eq!(
            error.into_database_error().kind(),
            DatabaseErrorKind::MissingTable
        );
    }
}
