//! The HTTP client of the databases reached over HTTP (Snowflake, ClickHouse, Databricks).

use std::time::Duration;

/// A client that gives up connecting after `connect_timeout` and drops idle connections well
/// before servers close them (uvicorn after 5 s, load balancers after a minute): a request sent
/// on a connection the server is closing fails without an answer, and a statement cannot safely
/// be sent twice.
///
/// # Errors
///
/// When the TLS backend cannot be set up.
pub(crate) fn client(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
}
