//! Test databases on MySQL/MariaDB: the template a database built once under a named lock;
//! each test's database made of the template's tables (`SHOW CREATE TABLE`, then their rows).
//! Migrations that make views, triggers or routines, which that would not carry over, are
//! applied to each test's database instead (the template then only says so).
//!
//! MySQL cannot rename a database: the template is built in another one and its tables moved
//! over; the table `jetbase_template_ready`, made last, says it is complete, and
//! `jetbase_template_replays` that its migrations are to be applied rather than copied.

use std::future::Future;

use sqlx::Connection as _;

use super::names::Names;
use super::pools::driver_error;
use super::{Place, TestDatabase};
use crate::Error;
use crate::backend::scratch_database::url_with_database;
use jetbase_core::Dialect;

/// Made last in a complete template.
const READY: &str = "jetbase_template_ready";
/// In a template whose migrations make what a copy of the tables would not carry over.
const REPLAYS: &str = "jetbase_template_replays";

/// Makes a test database on the server `server_url` reaches, building the template first with
/// `build` when it is not there yet (`build` is also how a template that cannot be copied is
/// reproduced).
pub(super) async fn create<B, F>(
    server_url: &str,
    names: &Names,
    build: B,
) -> Result<TestDatabase, Error>
where
    B: Fn(String) -> F,
    F: Future<Output = Result<(), Error>>,
{
    let admin_url = crate::url::sqlx_url(server_url).ok_or_else(|| Error::UnsupportedUrl {
        url: crate::url::mask_secrets(server_url),
    })?;
    let unsupported = || Error::UnsupportedUrl {
        url: crate::url::mask_secrets(server_url),
    };
    let mut admin = sqlx::MySqlConnection::connect(&admin_url)
        .await
        .map_err(|error| driver_error("connecting to DATABASE_URL's server", error))?;
    let made = async {
        ensure_template(&mut admin, &admin_url, names, &build).await?;
        let name = names.next_test_database();
        execute(
            &mut admin,
            &format!("CREATE DATABASE {}", quote(&name)),
            "creating the test database",
        )
        .await?;
        let copied = if has_table(&mut admin, &names.template, REPLAYS).await? {
            build(url_with_database(&admin_url, &name).ok_or_else(unsupported)?).await
        } else {
            copy_tables(&mut admin, &names.template, &name).await
        };
        if let Err(error) = copied {
            let _ = execute(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {}", quote(&name)),
                "dropping the test database",
            )
            .await;
            return Err(error);
        }
        Ok::<_, Error>(name)
    }
    .await;
    let _ = admin.close().await;
    let name = made?;
    Ok(TestDatabase {
        url: url_with_database(&admin_url, &name).ok_or_else(unsupported)?,
        name,
        place: Place::Server {
            dialect: Dialect::MySql,
            admin_url,
        },
    })
}

/// The template, built if missing, under a named lock every test process of this owner takes
/// (built under another name and its tables moved over once complete: a template that exists
/// is complete).
async fn ensure_template<B, F>(
    admin: &mut sqlx::MySqlConnection,
    admin_url: &str,
    names: &Names,
    build: &B,
) -> Result<(), Error>
where
    B: Fn(String) -> F,
    F: Future<Output = Result<(), Error>>,
{
    if has_table(admin, &names.template, READY).await? {
        return Ok(());
    }
    let lock = format!("'{}lock'", names.owner_prefix());
    let taken: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(GET_LOCK({lock}, 600) AS SIGNED)"
    )))
    .fetch_one(&mut *admin)
    .await
    .map_err(|error| driver_error("waiting for the template's lock", error))?;
    if taken != Some(1) {
        return Err(Error::Refused {
            operation: "a test database",
            message: "another test process held the template's lock for 10 minutes; is one \
                      stuck building it?"
                .to_owned(),
        });
    }
    let built = async {
        if has_table(admin, &names.template, READY).await? {
            return Ok(());
        }
        execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {}", quote(&names.building)),
            "dropping an unfinished template",
        )
        .await?;
        execute(
            admin,
            &format!("CREATE DATABASE {}", quote(&names.building)),
            "creating the template",
        )
        .await?;
        let url =
            url_with_database(admin_url, &names.building).ok_or_else(|| Error::UnsupportedUrl {
                url: crate::url::mask_secrets(admin_url),
            })?;
        if let Err(error) = build(url).await {
            let _ = execute(
                admin,
                &format!("DROP DATABASE IF EXISTS {}", quote(&names.building)),
                "dropping an unfinished template",
            )
            .await;
            return Err(error);
        }
        // MySQL cannot rename a database: its tables move, one RENAME TABLE for all, and a
        // table made last says the template is complete. (A template left half-made by a
        // build that died is made again.) Migrations that made what a copy of the tables would
        // not carry over are applied to each test's database instead.
        let copyable = copyable(admin, &names.building).await?;
        execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {}", quote(&names.template)),
            "completing the template",
        )
        .await?;
        execute(
            admin,
            &format!("CREATE DATABASE {}", quote(&names.template)),
            "completing the template",
        )
        .await?;
        let tables = if copyable {
            base_tables(admin, &names.building).await?
        } else {
            let replays = format!("{}.{}", quote(&names.template), quote(REPLAYS));
            execute(
                admin,
                &format!("CREATE TABLE {replays} (id INTEGER)"),
                "completing the template",
            )
            .await?;
            Vec::new()
        };
        if !tables.is_empty() {
            let moves: Vec<String> = tables
                .iter()
                .map(|table| {
                    format!(
                        "{}.{} TO {}.{}",
                        quote(&names.building),
                        quote(table),
                        quote(&names.template),
                        quote(table)
                    )
                })
                .collect();
            execute(
                admin,
                &format!("RENAME TABLE {}", moves.join(", ")),
                "completing the template",
            )
            .await?;
        }
        let ready = format!("{}.{}", quote(&names.template), quote(READY));
        execute(
            admin,
            &format!("CREATE TABLE {ready} (id INTEGER)"),
            "completing the template",
        )
        .await?;
        execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {}", quote(&names.building)),
            "completing the template",
        )
        .await?;
        drop_older_templates(admin, names).await;
        Ok(())
    }
    .await;
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DO RELEASE_LOCK({lock})")))
        .execute(&mut *admin)
        .await;
    built
}

/// Whether the template is only tables (no views, triggers or routines), which
/// `copy_tables` carries over whole.
async fn copyable(admin: &mut sqlx::MySqlConnection, template: &str) -> Result<bool, Error> {
    let others: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM information_schema.views WHERE table_schema = ?) \
         + (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = ?) \
         + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = ?)",
    )
    .bind(template)
    .bind(template)
    .bind(template)
    .fetch_one(admin)
    .await
    .map_err(|error| driver_error("reading the template's objects", error))?;
    Ok(others == 0)
}

/// Recreates the template's tables in `target` and copies their rows (foreign keys checked
/// off meanwhile: the rows were consistent in the template).
async fn copy_tables(
    admin: &mut sqlx::MySqlConnection,
    template: &str,
    target: &str,
) -> Result<(), Error> {
    let tables: Vec<String> = base_tables(admin, template)
        .await?
        .into_iter()
        .filter(|table| table != READY && table != REPLAYS)
        .collect();
    execute(
        admin,
        &format!("USE {}", quote(target)),
        "copying the template",
    )
    .await?;
    execute(admin, "SET FOREIGN_KEY_CHECKS = 0", "copying the template").await?;
    let copied = async {
        for table in &tables {
            let row: (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SHOW CREATE TABLE {}.{}",
                quote(template),
                quote(table)
            )))
            .fetch_one(&mut *admin)
            .await
            .map_err(|error| driver_error("reading a template table", error))?;
            execute(admin, &row.1, "copying a template table").await?;
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                 WHERE table_schema = ? AND table_name = ? \
                 AND (generation_expression IS NULL OR generation_expression = '') \
                 ORDER BY ordinal_position",
            )
            .bind(template)
            .bind(table)
            .fetch_all(&mut *admin)
            .await
            .map_err(|error| driver_error("reading a template table", error))?;
            let columns = columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ");
            execute(
                admin,
                &format!(
                    "INSERT INTO {}.{} ({columns}) SELECT {columns} FROM {}.{}",
                    quote(target),
                    quote(table),
                    quote(template),
                    quote(table)
                ),
                "copying a template table's rows",
            )
            .await?;
        }
        Ok(())
    }
    .await;
    let _ = execute(admin, "SET FOREIGN_KEY_CHECKS = 1", "copying the template").await;
    copied
}

async fn base_tables(
    admin: &mut sqlx::MySqlConnection,
    database: &str,
) -> Result<Vec<String>, Error> {
    sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .bind(database)
    .fetch_all(admin)
    .await
    .map_err(|error| driver_error("listing a database's tables", error))
}

/// Drops the owner's templates of migrations that changed since.
async fn drop_older_templates(admin: &mut sqlx::MySqlConnection, names: &Names) {
    // A prefix compared as it is (a LIKE pattern's escapes depend on NO_BACKSLASH_ESCAPES).
    let prefix = names.owner_prefix();
    let older: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE LEFT(schema_name, CHAR_LENGTH(?)) = ? AND schema_name <> ?",
    )
    .bind(&prefix)
    .bind(&prefix)
    .bind(&names.template)
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in older {
        let _ = execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {}", quote(&name)),
            "dropping an older template",
        )
        .await;
    }
}

/// Drops a test database.
pub(super) async fn drop_database(admin_url: &str, name: &str) -> Result<(), Error> {
    let mut admin = sqlx::MySqlConnection::connect(admin_url)
        .await
        .map_err(|error| driver_error("connecting to drop the test database", error))?;
    let dropped = execute(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS {}", quote(name)),
        "dropping the test database",
    )
    .await;
    let _ = admin.close().await;
    dropped
}

/// Whether `database` has the table `table`.
async fn has_table(
    admin: &mut sqlx::MySqlConnection,
    database: &str,
    table: &str,
) -> Result<bool, Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
    )
    .bind(database)
    .bind(table)
    .fetch_one(admin)
    .await
    .map_err(|error| driver_error("looking for the template", error))?;
    Ok(found > 0)
}

/// Runs one statement of jetbase's; a user who may not create databases is told so.
async fn execute(
    admin: &mut sqlx::MySqlConnection,
    sql: &str,
    action: &'static str,
) -> Result<(), Error> {
    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(admin)
        .await
    {
        Ok(_) => Ok(()),
        // ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR.
        Err(sqlx::Error::Database(error))
            if matches!(error.code().as_deref(), Some("42000"))
                && error.message().to_ascii_lowercase().contains("denied") =>
        {
            Err(Error::Refused {
                operation: "a test database",
                message: format!(
                    "the user of DATABASE_URL may not create databases ({}): grant it CREATE \
                     and DROP on `jbt%` and `jbtest%` databases, or use a user that may",
                    error.message()
                ),
            })
        }
        Err(error) => Err(driver_error(action, error)),
    }
}

fn quote(name: &str) -> String {
    Dialect::MySql.quote_identifier(name)
}
