//! `baseline`: an existing database brought under jetbase. Every versioned migration up to and
//! including a version is recorded as applied without running it (Flyway's baseline, sqlx's
//! `migrate override skip`).

use std::time::Duration;

use jetbase_core::{AppliedMigration, Migration, MigrationKind, Version};

use crate::backend::private::SEAL;
use crate::backend::{Database, Job, JobFailure, RowWrite};
use crate::events::{self, Operation};
use crate::lock::LockGuard;
use crate::migrator::read_history;
use crate::{Error, Migrator, Report, ReportEntry};

impl Migrator {
    /// Records every versioned migration up to and including `version` as applied, without
    /// running it: history rows with the files' checksums, under the lock, in one transaction
    /// where the database has transactions (Snowflake, ClickHouse and Databricks write the rows
    /// one by one). For a database whose schema already is what those migrations make.
    ///
    /// ```no_run
    /// # async fn start(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let report = MIGRATOR.baseline(&pool, "3").await?;
    /// println!("recorded {} migrations as applied", report.migrations.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVersion`] for a `version` that is not one; [`Error::BaselineRefused`],
    /// with nothing written, when no file has that version, when one of the migrations is
    /// already recorded, or when the database already has a later version;
    /// [`Error::LockTimeout`] or [`Error::Database`].
    pub async fn baseline<D: Database>(
        &self,
        database: &D,
        version: &str,
    ) -> Result<Report, Error> {
        let version = Version::parse(version).map_err(|source| Error::InvalidVersion { source })?;
        let recording = self.record_planned(database, |local, history| {
            baseline_plan(local, history, &version)
        });
        events::in_span(Operation::Baseline, database.dialect(), recording).await
    }

    /// Records the migrations `plan` picks from the history, without running them: planned on
    /// the history as read (nothing taken if it refuses), then again under the lock, since
    /// another process may have written the history while this one waited.
    async fn record_planned<'m, D: Database>(
        &'m self,
        database: &D,
        plan: impl Fn(&'m [Migration], &[AppliedMigration]) -> Result<Vec<&'m Migration>, Error>
        + Send
        + Sync,
    ) -> Result<Report, Error> {
        let tables = self.tables(database)?;
        let history = read_history(database, &tables).await?.unwrap_or_default();
        plan(self.migrations(), &history)?;
        let lock =
            LockGuard::acquire(database, &tables, self.lock_timeout(), self.lock_lease()).await?;
        let result = async {
            let history = read_history(database, &tables).await?.unwrap_or_default();
            let planned = plan(self.migrations(), &history)?;
            events::planned(planned.len());
            record(database, &tables, &planned).await?;
            Ok(Report {
                dry_run: false,
                migrations: planned
                    .iter()
                    .map(|migration| {
                        ReportEntry::new(
                            migration,
                            crate::Direction::Upgrade,
                            Duration::ZERO,
                            0,
                            Vec::new(),
                        )
                    })
                    .collect(),
            })
        }
        .await;
        lock.finish(result).await
    }
}

impl Migrator {
    /// Records exactly the versioned migrations with these versions as applied, without running
    /// them, under the lock, in one transaction where the database has transactions: for a
    /// database another tool migrated (`jetbase adopt`), whose own history says which ran.
    ///
    /// ```no_run
    /// # async fn start(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// MIGRATOR.record_as_applied(&pool, &["1", "2"]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVersion`] for a text that is not a version; [`Error::BaselineRefused`],
    /// with nothing written, when no file has one of the versions or one is already recorded;
    /// [`Error::LockTimeout`] or [`Error::Database`].
    pub async fn record_as_applied<D: Database>(
        &self,
        database: &D,
        versions: &[&str],
    ) -> Result<Report, Error> {
        let versions = versions
            .iter()
            .map(|text| Version::parse(text).map_err(|source| Error::InvalidVersion { source }))
            .collect::<Result<Vec<_>, _>>()?;
        let recording = self.record_planned(database, |local, history| {
            selected_plan(local, history, &versions)
        });
        events::in_span(Operation::RecordAsApplied, database.dialect(), recording).await
    }
}

/// The migrations `record_as_applied` records, in apply order, or why it refuses.
fn selected_plan<'m>(
    local: &'m [Migration],
    history: &[AppliedMigration],
    versions: &[Version],
) -> Result<Vec<&'m Migration>, Error> {
    let refuse = |message: String| Err(Error::BaselineRefused { message });
    let versioned = || {
        local
            .iter()
            .filter(|migration| migration.kind() == MigrationKind::Versioned)
    };
    if let Some(missing) = versions
        .iter()
        .find(|version| !versioned().any(|migration| migration.version() == Some(*version)))
    {
        return refuse(format!("no migration file has version {missing}"));
    }
    let recorded: Vec<Version> = history
        .iter()
        .filter_map(|row| row.version.as_deref())
        .filter_map(|text| Version::parse(text).ok())
        .collect();
    let planned: Vec<&Migration> = versioned()
        .filter(|migration| migration.version().is_some_and(|v| versions.contains(v)))
        .collect();
    let already: Vec<&str> = planned
        .iter()
        .filter(|migration| migration.version().is_some_and(|v| recorded.contains(v)))
        .map(|migration| migration.filename())
        .collect();
    if !already.is_empty() {
        return refuse(format!(
            "already recorded in the history: {}; nothing was written",
            already.join(", ")
        ));
    }
    Ok(planned)
}

/// The migrations a baseline at `version` records, or why it refuses.
fn baseline_plan<'m>(
    local: &'m [Migration],
    history: &[AppliedMigration],
    version: &Version,
) -> Result<Vec<&'m Migration>, Error> {
    let refuse = |message: String| Err(Error::BaselineRefused { message });
    let versioned = || {
        local
            .iter()
            .filter(|migration| migration.kind() == MigrationKind::Versioned)
    };
    if !versioned().any(|migration| migration.version() == Some(version)) {
        return refuse(format!(
            "no migration file has version {version}: name the version of the last migration \
             the database already has"
        ));
    }
    let recorded: Vec<Version> = history
        .iter()
        .filter_map(|row| row.version.as_deref())
        .filter_map(|text| Version::parse(text).ok())
        .collect();
    if let Some(later) = recorded.iter().filter(|applied| *applied > version).max() {
        return refuse(format!(
            "the database already has version {later}, later than {version}: a baseline records \
             migrations a database has without jetbase, below everything jetbase applied"
        ));
    }
    let planned: Vec<&Migration> = versioned()
        .filter(|migration| migration.version().is_some_and(|v| v <= version))
        .collect();
    let already: Vec<&str> = planned
        .iter()
        .filter(|migration| {
            migration
                .version()
                .is_some_and(|v| recorded.iter().any(|applied| applied == v))
        })
        .map(|migration| migration.filename())
        .collect();
    if !already.is_empty() {
        return refuse(format!(
            "{} already recorded in the history ({}): nothing was written; a baseline is for \
             migrations the history does not have yet",
            if already.len() == 1 {
                "it is"
            } else {
                "they are"
            },
            already.join(", ")
        ));
    }
    Ok(planned)
}

/// Writes a history row for each migration, in one transaction where there is one.
async fn record<D: Database>(
    database: &D,
    tables: &crate::backend::tables::Tables,
    planned: &[&Migration],
) -> Result<(), Error> {
    let action = "recording the baseline";
    let mut session = database
        .backend(SEAL)
        .session()
        .await
        .map_err(Error::database(action))?;
    database
        .backend(SEAL)
        .begin_batch(&mut session)
        .await
        .map_err(Error::database(action))?;
    for migration in planned {
        let kept = crate::backend::tables::kept_rollback(database.dialect(), migration);
        let job = Job {
            statements: &[],
            row: RowWrite::Insert {
                version: migration.version().map(Version::as_str),
                description: migration.description(),
                filename: migration.filename(),
                kind: migration.kind(),
                checksum: migration.checksum(),
                rollback: kept.as_deref(),
            },
            transactional: true,
            limits: jetbase_core::RunLimits::default(),
        };
        // A failure drops the session with its transaction open: the server rolls it back.
        database
            .backend(SEAL)
            .run_job(&mut session, tables, &job)
            .await
            .map_err(|JobFailure { source, .. }| Error::Database { action, source })?;
    }
    database
        .backend(SEAL)
        .commit_run(&mut session)
        .await
        .map_err(Error::database(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(name: &str) -> Migration {
        jetbase_core::parse_migration(name, b"SELECT 1;").unwrap()
    }

    fn row(version: &str) -> AppliedMigration {
        AppliedMigration {
            order_executed: 1,
            version: Some(version.to_owned()),
            description: String::new(),
            filename: format!("V{version}__x.sql"),
            migration_type: "VERSIONED".to_owned(),
            applied_at: String::new(),
            checksum: None,
            success: None,
            execution_ms: None,
        }
    }

    fn plan(history: &[AppliedMigration], version: &str) -> Result<Vec<String>, String> {
        let local = [
            migration("V1__a.sql"),
            migration("V2__b.sql"),
            migration("V3__c.sql"),
            migration("RA__r.sql"),
        ];
        baseline_plan(&local, history, &Version::parse(version).unwrap())
            .map(|planned| planned.iter().map(|m| m.filename().to_owned()).collect())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn records_the_versioned_migrations_up_to_the_version() {
        assert_eq!(plan(&[], "2").unwrap(), ["V1__a.sql", "V2__b.sql"]);
        assert_eq!(plan(&[], "3").unwrap().len(), 3);
    }

    #[test]
    fn refuses_what_it_cannot_do_and_says_why() {
        assert!(
            plan(&[], "4")
                .unwrap_err()
                .contains("no migration file has version 4")
        );
        assert!(
            plan(&[row("3")], "2")
                .unwrap_err()
                .contains("already has version 3, later than 2")
        );
        assert!(
            plan(&[row("1")], "2")
                .unwrap_err()
                .contains("it is already recorded in the history (V1__a.sql)")
        );
    }
}
