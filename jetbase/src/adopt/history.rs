//! What the other tool's own history table says is applied.

use jetbase_core::Dialect;

use super::Tool;
use crate::Error;
use crate::backend::Database;
use crate::backend::private::SEAL;

/// One row of the other tool's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolRecord {
    /// The version as the tool writes it (sqlx's and refinery's integer, diesel's digits).
    pub version: String,
    /// sqlx's description, refinery's name.
    pub description: Option<String>,
    /// sqlx's checksum (SHA-384) in lower-case hex.
    pub checksum: Option<String>,
    /// False for a row sqlx marks failed (`success = false`: a dirty migration).
    pub success: bool,
}

/// The query of the tool's table on `dialect`, each column as text; `None` for a database
/// the tool does not migrate.
fn history_sql(tool: Tool, dialect: Dialect) -> Option<String> {
    let text_cast = crate::backend::engine_sql(dialect).text_cast();
    let text = |expression: &str| format!("CAST({expression} AS {text_cast})");
    let hex = match dialect {
        Dialect::Postgres => "encode(checksum, 'hex')",
        Dialect::Sqlite | Dialect::MySql => "LOWER(HEX(checksum))",
        Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => return None,
    };
    let none = text("NULL");
    Some(match tool {
        Tool::Sqlx => format!(
            "SELECT {}, {}, {hex}, CASE WHEN success THEN '1' ELSE '0' END \
             FROM _sqlx_migrations ORDER BY version",
            text("version"),
            text("description")
        ),
        Tool::Diesel => format!(
            "SELECT {}, {none}, {none}, '1' FROM __diesel_schema_migrations ORDER BY version",
            text("version")
        ),
        Tool::Refinery => format!(
            "SELECT {}, {}, {none}, '1' FROM refinery_schema_history ORDER BY version",
            text("version"),
            text("name")
        ),
    })
}

/// The rows of the tool's history table; `None` when the table does not exist.
pub(crate) async fn read_records<D: Database>(
    database: &D,
    tool: Tool,
) -> Result<Option<Vec<ToolRecord>>, Error> {
    let dialect = database.dialect();
    let sql = history_sql(tool, dialect).ok_or_else(|| {
        super::files::refused(format!("{tool} does not migrate {dialect} databases"))
    })?;
    let rows = database
        .backend(SEAL)
        .read_text_rows(&sql)
        .await
        .map_err(Error::database("reading the other tool's history table"))?;
    Ok(rows.map(|rows| {
        rows.into_iter()
            .map(|[version, description, checksum, success]| ToolRecord {
                version: version.unwrap_or_default(),
                description,
                checksum,
                success: success.as_deref() != Some("0"),
            })
            .collect()
    }))
}
