//! Column types: the portable ones models use, how each database spells them, and the one
//! canonical spelling both sides of a comparison are reduced to.

use std::fmt;

use crate::Dialect;

/// A column's type.
///
/// The portable variants render per database ([`SqlType::render`]); [`SqlType::Raw`] is written
/// as given (a model's `sql_type = "..."`, or a type read from the database).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// `i8`: `smallint` / `tinyint` / `INTEGER`.
    TinyInt,
    /// `i16`.
    SmallInt,
    /// `i32`.
    Integer,
    /// `i64`.
    BigInt,
    /// `u8`, `u16`, `u32`, `u64` (the bits): MySQL's unsigned types, the next wider signed type
    /// on PostgreSQL.
    Unsigned(u8),
    /// `bool`.
    Boolean,
    /// `f32`.
    Real,
    /// `f64`.
    Double,
    /// `String` without `max_length`.
    Text,
    /// `String` with `max_length = N`.
    Varchar(u32),
    /// `Vec<u8>`.
    Bytes,
    /// A date (`chrono::NaiveDate`, `time::Date`).
    Date,
    /// A time of day (`chrono::NaiveTime`, `time::Time`).
    Time,
    /// A timestamp without time zone (`chrono::NaiveDateTime`, `time::PrimitiveDateTime`).
    Timestamp,
    /// A timestamp with time zone (`chrono::DateTime<Tz>`, `time::OffsetDateTime`).
    TimestampTz,
    /// `uuid::Uuid`.
    Uuid,
    /// `serde_json::Value`, `sqlx::types::Json<T>`.
    Json,
    /// `rust_decimal::Decimal`, `bigdecimal::BigDecimal`.
    Decimal,
    /// A type spelled out in SQL.
    Raw(String),
}

impl SqlType {
    /// One of each portable type (`Varchar` of 20, `Unsigned` of 32 bits), for tests and tools.
    pub const PORTABLE: [SqlType; 18] = [
        Self::TinyInt,
        Self::SmallInt,
        Self::Integer,
        Self::BigInt,
        Self::Unsigned(32),
        Self::Boolean,
        Self::Real,
        Self::Double,
        Self::Text,
        Self::Varchar(20),
        Self::Bytes,
        Self::Date,
        Self::Time,
        Self::Timestamp,
        Self::TimestampTz,
        Self::Uuid,
        Self::Json,
        Self::Decimal,
    ];

    /// The type for a Rust type, named by the last segment of its path (`i64`, `String`,
    /// `NaiveDateTime`, `Value` ...), and for `Vec`, `DateTime` and `Json` the first generic
    /// argument's name; `None` when there is no portable mapping.
    ///
    /// ```
    /// use jetbase_core::schema::SqlType;
    /// assert_eq!(SqlType::from_rust("i64", None, None), Some(SqlType::BigInt));
    /// assert_eq!(SqlType::from_rust("String", None, Some(80)), Some(SqlType::Varchar(80)));
    /// assert_eq!(SqlType::from_rust("Vec", Some("u8"), None), Some(SqlType::Bytes));
    /// assert_eq!(SqlType::from_rust("HashMap", None, None), None);
    /// ```
    pub fn from_rust(name: &str, argument: Option<&str>, max_length: Option<u32>) -> Option<Self> {
        Some(match (name, argument) {
            ("i8", _) => Self::TinyInt,
            ("i16", _) => Self::SmallInt,
            ("i32", _) => Self::Integer,
            ("i64", _) => Self::BigInt,
            ("u8", _) => Self::Unsigned(8),
            ("u16", _) => Self::Unsigned(16),
            ("u32", _) => Self::Unsigned(32),
            ("u64", _) => Self::Unsigned(64),
            ("bool", _) => Self::Boolean,
            ("f32", _) => Self::Real,
            ("f64", _) => Self::Double,
            ("String" | "str", _) => match max_length {
                Some(length) => Self::Varchar(length),
                None => Self::Text,
            },
            ("Vec", Some("u8")) => Self::Bytes,
            ("NaiveDate" | "Date", _) => Self::Date,
            ("NaiveTime" | "Time", _) => Self::Time,
            ("NaiveDateTime" | "PrimitiveDateTime", _) => Self::Timestamp,
            ("DateTime", _) | ("OffsetDateTime", _) => Self::TimestampTz,
            ("Uuid", _) => Self::Uuid,
            ("Value" | "JsonValue" | "Json", _) => Self::Json,
            ("Decimal" | "BigDecimal", _) => Self::Decimal,
            _ => return None,
        })
    }

    /// How `dialect` spells this type in DDL (already canonical for comparison, see
    /// [`canonical_type`]).
    ///
    /// ```
    /// use jetbase_core::{Dialect, schema::SqlType};
    /// assert_eq!(SqlType::Varchar(20).render(Dialect::Postgres), "character varying(20)");
    /// assert_eq!(SqlType::Boolean.render(Dialect::MySql), "tinyint(1)");
    /// assert_eq!(SqlType::BigInt.render(Dialect::Sqlite), "INTEGER");
    /// ```
    pub fn render(&self, dialect: Dialect) -> String {
        match dialect {
            Dialect::Postgres => self.postgres(),
            Dialect::MySql => self.mysql(),
            Dialect::Sqlite => self.sqlite(),
            Dialect::Snowflake => self.snowflake(),
            Dialect::ClickHouse => self.clickhouse(),
            Dialect::Databricks => self.databricks(),
        }
    }

    /// ClickHouse's names (a NULL-able column is `Nullable(...)` around them).
    fn clickhouse(&self) -> String {
        match self {
            Self::TinyInt => "Int8",
            Self::SmallInt => "Int16",
            Self::Integer => "Int32",
            Self::BigInt => "Int64",
            Self::Unsigned(8) => "UInt8",
            Self::Unsigned(16) => "UInt16",
            Self::Unsigned(32) => "UInt32",
            Self::Unsigned(_) => "UInt64",
            Self::Boolean => "Bool",
            Self::Real => "Float32",
            Self::Double => "Float64",
            Self::Text | Self::Varchar(_) | Self::Json => "String",
            Self::Bytes => "String",
            Self::Date => "Date32",
            Self::Time => "Time",
            Self::Timestamp => "DateTime64(6)",
            Self::TimestampTz => "DateTime64(6,'UTC')",
            Self::Uuid => "UUID",
            Self::Decimal => "Decimal(38,10)",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }

    /// Databricks' (Spark SQL's) names: text is `STRING`, a timestamp without zone
    /// `TIMESTAMP_NTZ`, and there is no time-of-day type.
    fn databricks(&self) -> String {
        match self {
            Self::TinyInt => "TINYINT",
            Self::SmallInt | Self::Unsigned(8) => "SMALLINT",
            Self::Integer | Self::Unsigned(16) => "INT",
            Self::BigInt | Self::Unsigned(32) => "BIGINT",
            Self::Unsigned(_) => "DECIMAL(20,0)",
            Self::Boolean => "BOOLEAN",
            Self::Real => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Text | Self::Varchar(_) | Self::Uuid | Self::Json | Self::Time => "STRING",
            Self::Bytes => "BINARY",
            Self::Date => "DATE",
            Self::Timestamp => "TIMESTAMP_NTZ",
            Self::TimestampTz => "TIMESTAMP",
            Self::Decimal => "DECIMAL(38,10)",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }

    /// Snowflake's own names: every integer is `NUMBER(38,0)`, every string `VARCHAR`.
    fn snowflake(&self) -> String {
        match self {
            Self::TinyInt | Self::SmallInt | Self::Integer | Self::BigInt => "NUMBER(38,0)",
            Self::Unsigned(_) => "NUMBER(20,0)",
            Self::Boolean => "BOOLEAN",
            Self::Real | Self::Double => "FLOAT",
            Self::Text => "VARCHAR",
            Self::Varchar(length) => return format!("VARCHAR({length})"),
            Self::Bytes => "BINARY",
            Self::Date => "DATE",
            Self::Time => "TIME",
            Self::Timestamp => "TIMESTAMP_NTZ",
            Self::TimestampTz => "TIMESTAMP_TZ",
            Self::Uuid => "VARCHAR(36)",
            Self::Json => "VARIANT",
            Self::Decimal => "NUMBER(38,10)",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }

    fn postgres(&self) -> String {
        match self {
            Self::TinyInt | Self::SmallInt | Self::Unsigned(8) => "smallint",
            Self::Integer | Self::Unsigned(16) => "integer",
            Self::BigInt | Self::Unsigned(32) => "bigint",
            Self::Unsigned(_) => "numeric(20,0)",
            Self::Boolean => "boolean",
            Self::Real => "real",
            Self::Double => "double precision",
            Self::Text => "text",
            Self::Varchar(length) => return format!("character varying({length})"),
            Self::Bytes => "bytea",
            Self::Date => "date",
            Self::Time => "time without time zone",
            Self::Timestamp => "timestamp without time zone",
            Self::TimestampTz => "timestamp with time zone",
            Self::Uuid => "uuid",
            Self::Json => "jsonb",
            Self::Decimal => "numeric",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }

    fn mysql(&self) -> String {
        match self {
            Self::TinyInt => "tinyint",
            Self::SmallInt => "smallint",
            Self::Integer => "int",
            Self::BigInt => "bigint",
            Self::Unsigned(8) => "tinyint unsigned",
            Self::Unsigned(16) => "smallint unsigned",
            Self::Unsigned(32) => "int unsigned",
            Self::Unsigned(_) => "bigint unsigned",
            Self::Boolean => "tinyint(1)",
            Self::Real => "float",
            Self::Double => "double",
            Self::Text => "text",
            Self::Varchar(length) => return format!("varchar({length})"),
            Self::Bytes => "longblob",
            Self::Date => "date",
            Self::Time => "time(6)",
            // DATETIME for both: MariaDB gives a TIMESTAMP column implicit defaults and
            // ON UPDATE clauses unless explicit_defaults_for_timestamp is set.
            Self::Timestamp | Self::TimestampTz => "datetime(6)",
            Self::Uuid => "binary(16)",
            Self::Json => "json",
            Self::Decimal => "decimal(38,10)",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }

    fn sqlite(&self) -> String {
        match self {
            Self::TinyInt | Self::SmallInt | Self::Integer | Self::BigInt | Self::Unsigned(_) => {
                "INTEGER"
            }
            Self::Boolean => "BOOLEAN",
            Self::Real | Self::Double => "REAL",
            Self::Text | Self::Json => "TEXT",
            Self::Varchar(length) => return format!("VARCHAR({length})"),
            Self::Bytes | Self::Uuid => "BLOB",
            Self::Date => "DATE",
            Self::Time => "TIME",
            Self::Timestamp => "TIMESTAMP",
            Self::TimestampTz => "TIMESTAMPTZ",
            Self::Decimal => "NUMERIC",
            Self::Raw(sql) => return sql.clone(),
        }
        .to_owned()
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Raw(sql) => f.write_str(sql),
            other => write!(f, "{}", other.postgres()),
        }
    }
}

/// One spelling per type, so that a model's type and the type the database reports compare
/// equal when they are the same: lower case, single spaces, no space after commas, and each
/// database's aliases and display widths reduced (`int4` → `integer`, `varchar(9)` →
/// `character varying(9)` on PostgreSQL; `int(11)` → `int`, `boolean` → `tinyint(1)`, `json` →
/// `longtext` on MySQL, where MariaDB stores JSON as LONGTEXT). A column's own value
/// generation (`GENERATED BY DEFAULT AS IDENTITY`, `AUTO_INCREMENT`) is not part of its type.
///
/// ```
/// use jetbase_core::{Dialect, schema::canonical_type};
/// assert_eq!(canonical_type(Dialect::Postgres, "INTEGER GENERATED BY DEFAULT AS IDENTITY"), "integer");
/// assert_eq!(canonical_type(Dialect::MySql, "INTEGER AUTO_INCREMENT"), "int");
/// assert_eq!(canonical_type(Dialect::Postgres, "VARCHAR( 20 )"), "character varying(20)");
/// assert_eq!(canonical_type(Dialect::Postgres, "timestamptz"), "timestamp with time zone");
/// assert_eq!(canonical_type(Dialect::MySql, "INT(11) UNSIGNED"), "int unsigned");
/// assert_eq!(canonical_type(Dialect::Sqlite, "varchar(20)"), "varchar(20)");
/// ```
pub fn canonical_type(dialect: Dialect, sql: &str) -> String {
    let spaced = tidy(sql);
    let spaced = without_identity(&spaced);
    match dialect {
        Dialect::Postgres => postgres_alias(spaced),
        Dialect::MySql => mysql_alias(spaced),
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
            spaced.to_owned()
        }
    }
}

/// A tidied type without the clause that makes its column generate its own values
/// (PostgreSQL's `GENERATED ... AS IDENTITY`, MySQL's `AUTO_INCREMENT`): the catalogs report it
/// apart from the type, so a comparison of types leaves it out.
fn without_identity(sql: &str) -> &str {
    [
        " generated by default as identity",
        " generated always as identity",
        " auto_increment",
    ]
    .iter()
    .find_map(|clause| sql.strip_suffix(clause))
    .unwrap_or(sql)
}

/// Lower case, single spaces, no spaces inside parentheses or around commas.
fn tidy(sql: &str) -> String {
    let lowered = sql.trim().to_ascii_lowercase();
    let mut out = String::with_capacity(lowered.len());
    for word in lowered.split_whitespace() {
        if !out.is_empty()
            && !out.ends_with('(')
            && !out.ends_with(',')
            && !word.starts_with([')', ',', '('])
        {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(" (", "(").replace("( ", "(").replace(" )", ")")
}

/// Splits `name(args) rest` into the name, `(args)` and the rest.
fn split_type(sql: &str) -> (&str, &str, &str) {
    match sql.find('(') {
        Some(open) => {
            let close = sql[open..].find(')').map_or(sql.len(), |at| open + at + 1);
            (sql[..open].trim(), &sql[open..close], sql[close..].trim())
        }
        None => (sql, "", ""),
    }
}

fn join(name: &str, arguments: &str, rest: &str) -> String {
    let mut out = format!("{name}{arguments}");
    if !rest.is_empty() {
        out.push(' ');
        out.push_str(rest);
    }
    out
}

fn postgres_alias(sql: &str) -> String {
    let (name, arguments, rest) = split_type(sql);
    let name = match name {
        "int" | "int4" | "serial" | "serial4" => "integer",
        "int2" | "smallserial" | "serial2" => "smallint",
        "int8" | "bigserial" | "serial8" => "bigint",
        "bool" => "boolean",
        "float4" => "real",
        "float8" | "double" | "float" => "double precision",
        "varchar" => "character varying",
        "char" | "bpchar" => "character",
        "decimal" => "numeric",
        "timestamptz" => "timestamp with time zone",
        "timetz" => "time with time zone",
        "timestamp" | "timestamp without time zone"
            if rest.is_empty() || rest == "without time zone" =>
        {
            return join("timestamp", arguments, "without time zone");
        }
        "timestamp" if rest == "with time zone" => "timestamp with time zone",
        "time" if rest.is_empty() || rest == "without time zone" => {
            return join("time", arguments, "without time zone");
        }
        other => other,
    };
    if name == "timestamp with time zone" || name == "time with time zone" {
        let (base, zone) = name.split_at(name.find(' ').unwrap_or(name.len()));
        return format!("{base}{arguments}{zone}");
    }
    join(
        name,
        arguments,
        if rest == "with time zone" { "" } else { rest },
    )
}

fn mysql_alias(sql: &str) -> String {
    let (name, arguments, rest) = split_type(sql);
    let name = match name {
        "integer" => "int",
        "bool" | "boolean" => return "tinyint(1)".to_owned(),
        "real" | "double precision" => "double",
        "numeric" | "dec" | "fixed" => "decimal",
        "json" => "longtext",
        other => other,
    };
    let integer = matches!(
        name,
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint"
    );
    let arguments = if integer && !(name == "tinyint" && arguments == "(1)") {
        ""
    } else if name == "decimal" && arguments.is_empty() {
        "(10,0)"
    } else {
        arguments
    };
    join(name, arguments, rest)
}

/// Whether changing `from` to `to` can lose data or fail on existing rows (narrowing, or a
/// change between unrelated types). Both are canonical spellings.
pub fn is_narrowing(from: &str, to: &str) -> bool {
    let rank = |sql: &str| -> Option<u32> {
        let (name, arguments, _) = split_type(sql);
        let length = arguments
            .trim_matches(|c| c == '(' || c == ')')
            .parse::<u32>()
            .ok();
        // The same ranks on every database (the names are canonical ones).
        match name {
            "smallint" | "tinyint" => Some(1),
            "integer" | "int" | "mediumint" => Some(2),
            "bigint" => Some(3),
            "character varying" | "varchar" => Some(100 + length.unwrap_or(u32::MAX - 200)),
            "text" | "longtext" | "mediumtext" => Some(u32::MAX),
            _ => None,
        }
    };
    match (rank(from), rank(to)) {
        (Some(a), Some(b)) => {
            let numeric = |r: u32| r < 100;
            numeric(a) != numeric(b) || b < a
        }
        _ => from != to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portable_type_is_canonical_as_rendered() {
        let mut types = SqlType::PORTABLE.to_vec();
        types.extend([
            SqlType::Unsigned(8),
            SqlType::Unsigned(16),
            SqlType::Unsigned(64),
        ]);
        for dialect in Dialect::ALL {
            for sql_type in &types {
                if *sql_type == SqlType::Json && dialect == Dialect::MySql {
                    // MariaDB keeps JSON as LONGTEXT: `json` and `longtext` meet there.
                    assert_eq!(canonical_type(dialect, "json"), "longtext");
                    continue;
                }
                let rendered = sql_type.render(dialect);
                assert_eq!(
                    canonical_type(dialect, &rendered),
                    rendered.to_ascii_lowercase(),
                    "{sql_type:?} on {dialect:?}"
                );
            }
        }
    }

    #[test]
    fn postgres_aliases_meet_format_type() {
        for (alias, canonical) in [
            ("INT", "integer"),
            ("bigserial", "bigint"),
            ("varchar(255)", "character varying(255)"),
            ("timestamp", "timestamp without time zone"),
            ("TIMESTAMP(3)", "timestamp(3) without time zone"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp with time zone", "timestamp with time zone"),
            ("time", "time without time zone"),
            ("decimal(10, 2)", "numeric(10,2)"),
            ("bool", "boolean"),
            ("text[]", "text[]"),
        ] {
            assert_eq!(
                canonical_type(Dialect::Postgres, alias),
                canonical,
                "{alias}"
            );
        }
    }

    #[test]
    fn mysql_display_widths_go_except_for_booleans() {
        assert_eq!(canonical_type(Dialect::MySql, "bigint(20)"), "bigint");
        assert_eq!(canonical_type(Dialect::MySql, "tinyint(1)"), "tinyint(1)");
        assert_eq!(canonical_type(Dialect::MySql, "BOOLEAN"), "tinyint(1)");
        assert_eq!(canonical_type(Dialect::MySql, "json"), "longtext");
        assert_eq!(canonical_type(Dialect::MySql, "decimal"), "decimal(10,0)");
    }

    #[test]
    fn narrowing_is_spotted() {
        assert!(!is_narrowing("integer", "bigint"));
        assert!(is_narrowing("bigint", "integer"));
        assert!(!is_narrowing(
            "character varying(10)",
            "character varying(20)"
        ));
        assert!(is_narrowing(
            "character varying(20)",
            "character varying(10)"
        ));
        assert!(!is_narrowing("character varying(20)", "text"));
        assert!(is_narrowing("text", "integer"));
        assert!(is_narrowing("uuid", "text"));
    }
}
