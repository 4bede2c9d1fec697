//! Test databases on MySQL/MariaDB: the template a database built once under a named lock;
//! each test's database made of the template's tables (`SHOW CREATE TABLE`, then their rows).
//! A template with views, triggers or routines, which that would not carry over, is not
//! copied: the migrations are applied to the test's database instead.

use std::future::Future;

use sqlx::Connection as _;

use super::names::Names;
use super::pools::driver_error;
use super::{Place, TestDatabase};
use crate::Error;
use crate::backend::scratch_database::url_with_database;
use jetbase_core::Dialect;

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
        let copied = if copyable(&mut admin, &names.template).await? {
            copy_tables(&mut admin, &names.template, &name).await
        } else {
            build(url_with_database(&admin_url, &name).ok_or_else(unsupported)?).await
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
    if exists(admin, &names.template).await? {
        return Ok(());
    }
    let lock = format!("'{}lock'", names.owner_prefix());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DO GET_LOCK({lock}, 600)")))
        .execute(&mut *admin)
        .await
        .map_err(|error| driver_error("waiting for the template's lock", error))?;
    let built = async {
        if exists(admin, &names.template).await? {
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
        // MySQL cannot rename a database: its tables move, one RENAME TABLE for all.
        execute(
            admin,
            &format!("CREATE DATABASE {}", quote(&names.template)),
            "completing the template",
        )
        .await?;
        let tables = base_tables(admin, &names.building).await?;
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
    let tables = base_tables(admin, template).await?;
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
                 WHERE table_schema = ? AND table_name = ? AND extra NOT LIKE '%GENERATED%' \
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
    let pattern = format!("{}%", names.owner_prefix().replace('_', "\\_"));
    let older: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name LIKE ? AND schema_name <> ?",
    )
    .bind(pattern)
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

async fn exists(admin: &mut sqlx::MySqlConnection, name: &str) -> Result<bool, Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind(name)
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
