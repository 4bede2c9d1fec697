//! Test databases on PostgreSQL: the template built once under an advisory lock, each test's
//! database a `CREATE DATABASE … TEMPLATE` of it (a copy of its files on the server).

use std::future::Future;

use sqlx::Connection as _;

use super::names::Names;
use super::pools::driver_error;
use super::{Place, TestDatabase};
use crate::Error;
use crate::backend::scratch_database::url_with_database;
use jetbase_core::Dialect;

/// Makes a test database on the server `server_url` reaches, building the template first with
/// `build` (given the URL of an empty database) when it is not there yet.
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
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .map_err(|error| driver_error("connecting to DATABASE_URL's server", error))?;
    let name = names.next_test_database();
    let mut made = Ok(());
    // A template dropped between the look and the copy (a build for edited migrations, in
    // another test process) is built again, once.
    for attempt in 0..2 {
        made = match ensure_template(&mut admin, &admin_url, names, &build).await {
            Ok(()) => copy(&mut admin, names, &name).await,
            Err(error) => Err(error),
        };
        let vanished = matches!(&made, Err(Error::Database { source, .. })
            if source.to_string().contains("does not exist"));
        if attempt == 1 || !vanished {
            break;
        }
    }
    let _ = admin.close().await;
    made?;
    Ok(TestDatabase {
        url: url_with_database(&admin_url, &name).ok_or_else(|| Error::UnsupportedUrl {
            url: crate::url::mask_secrets(server_url),
        })?,
        name,
        place: Place::Server {
            dialect: Dialect::Postgres,
            admin_url,
        },
    })
}

/// Copies the template into the new database `name`. The server's default strategy (WAL_LOG
/// from PostgreSQL 15): FILE_COPY measured no faster on a quiet server (1.26 s against 1.28 s
/// for a template of 300 tables), and it checkpoints before copying, so that on a server other
/// tests keep busy each copy also writes out their dirty pages (BENCHMARKS.md).
async fn copy(admin: &mut sqlx::PgConnection, names: &Names, name: &str) -> Result<(), Error> {
    execute(
        admin,
        &format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote(name),
            quote(&names.template)
        ),
        "copying the template",
    )
    .await
}

/// The template, built if missing, under a lock every test process of this owner takes: a
/// template that exists is complete (it is built under another name and renamed). The owner's
/// older templates are dropped with the build.
async fn ensure_template<B, F>(
    admin: &mut sqlx::PgConnection,
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
    let key =
        crate::backend::postgres::advisory_key(Some("jetbase test templates"), Some(&names.owner));
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut *admin)
        .await
        .map_err(|error| driver_error("waiting for the template's lock", error))?;
    let built = async {
        if exists(admin, &names.template).await? {
            return Ok(());
        }
        // A build that died half-way left this behind.
        execute(
            admin,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote(&names.building)
            ),
            "dropping an unfinished template",
        )
        .await?;
        execute(
            admin,
            &format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote(&names.building)
            ),
            "creating the template",
        )
        .await?;
        let building_url =
            url_with_database(admin_url, &names.building).ok_or_else(|| Error::UnsupportedUrl {
                url: crate::url::mask_secrets(admin_url),
            })?;
        if let Err(error) = build(building_url).await {
            let _ = execute(
                admin,
                &format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote(&names.building)
                ),
                "dropping an unfinished template",
            )
            .await;
            return Err(error);
        }
        execute(
            admin,
            &format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote(&names.building),
                quote(&names.template)
            ),
            "completing the template",
        )
        .await?;
        // Copied by any role that may create databases, not only the one that built it (a
        // developer's and the CI's user on one server).
        let _ = execute(
            admin,
            &format!("ALTER DATABASE {} IS_TEMPLATE true", quote(&names.template)),
            "marking the template",
        )
        .await;
        drop_older_templates(admin, names).await;
        Ok(())
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *admin)
        .await;
    built
}

/// Drops the owner's templates of migrations that changed since (one another process is
/// copying right now stays: the next build drops it).
async fn drop_older_templates(admin: &mut sqlx::PgConnection, names: &Names) {
    let pattern = format!("{}%", names.owner_prefix().replace('_', "\\_"));
    let older: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE $1 AND datname <> $2",
    )
    .bind(pattern)
    .bind(&names.template)
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in older {
        // A template cannot be dropped: it is made an ordinary database first.
        let _ = execute(
            admin,
            &format!("ALTER DATABASE {} IS_TEMPLATE false", quote(&name)),
            "dropping an older template",
        )
        .await;
        let _ = execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {}", quote(&name)),
            "dropping an older template",
        )
        .await;
    }
}

/// Drops a test database (ending the sessions a test left open).
pub(super) async fn drop_database(admin_url: &str, name: &str) -> Result<(), Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|error| driver_error("connecting to drop the test database", error))?;
    let dropped = execute(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(name)),
        "dropping the test database",
    )
    .await;
    let _ = admin.close().await;
    dropped
}

async fn exists(admin: &mut sqlx::PgConnection, name: &str) -> Result<bool, Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
        .map_err(|error| driver_error("looking for the template", error))
}

/// Runs one statement of jetbase's; a user who may not create databases is told what to
/// grant.
async fn execute(
    admin: &mut sqlx::PgConnection,
    sql: &str,
    action: &'static str,
) -> Result<(), Error> {
    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(admin)
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => {
            Err(Error::Refused {
                operation: "a test database",
                message: format!(
                    "{action}: the server says \"{}\": the user of DATABASE_URL needs CREATEDB \
                     (`ALTER ROLE <user> CREATEDB`) and, for a template another user built, to \
                     own it or be a superuser",
                    error.message()
                ),
            })
        }
        Err(error) => Err(driver_error(action, error)),
    }
}

fn quote(name: &str) -> String {
    Dialect::Postgres.quote_identifier(name)
}
