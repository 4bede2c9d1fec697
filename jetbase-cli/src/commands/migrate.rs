//! `jetbase upgrade` (alias `migrate`) and `jetbase rollback`: the library's builders, with a
//! progress bar on a terminal and the report on stdout.

use crate::output::plural;
use jetbase::{Progress, Report};
use serde_json::json;

use super::Context;
use crate::cli::{BaselineArgs, LintMode, RollbackArgs, UpgradeArgs};
use crate::database::Access;
use crate::error::CliError;
use crate::lint::{Level, LintSettings};
use crate::output::{self, Colour, Table};

pub async fn upgrade(context: &Context, args: &UpgradeArgs) -> Result<(), CliError> {
    let mut migrator = context.migrator()?;
    if let Some(policy) = args.on_newer_database {
        migrator = migrator.on_newer_database(policy);
    }
    let access = if args.selection.dry_run {
        Access::ReadOnly
    } else {
        Access::Write
    };
    let pool = context.connect(access).await?;
    let lint = args
        .lint
        .or(context.settings.lint)
        .unwrap_or(LintMode::Warn);
    if lint != LintMode::Off && !args.selection.dry_run {
        let pending = planned(&migrator, &pool, args, context).await;
        if let Some(pending) = pending {
            if pending.is_empty() {
                pool.close().await;
                return print_report(
                    context,
                    &migrator,
                    &Report::default(),
                    "Applied",
                    "The database is up to date.",
                );
            }
            lint_before_upgrade(context, &migrator, &pending, pool.dialect(), lint)?;
        }
    }
    if args.rehearse {
        let bar = output::Progress::new(context.style);
        // Ctrl-C deletes the copy of a SQLite database (it goes with the rehearsal).
        let rehearsal = configured_upgrade(&migrator, &pool, args, context)
            .on_progress(progress_reporter(context, &bar, "rehearse"))
            .rehearse();
        let result =
            crate::interrupt::until_interrupted(async { rehearsal.await.map_err(CliError::from) })
                .await;
        bar.finish();
        pool.close().await;
        return super::rehearse::print(context, &result?);
    }
    let bar = output::Progress::new(context.style);
    let result = configured_upgrade(&migrator, &pool, args, context)
        .dry_run(args.selection.dry_run)
        .on_progress(progress_reporter(context, &bar, "upgrade"))
        .on_retry(retry_reporter(&bar))
        .await;
    bar.finish();
    let report = result?;
    warn_empty(&report, jetbase::Direction::Upgrade);
    pool.close().await;
    print_report(
        context,
        &migrator,
        &report,
        "Applied",
        "The database is up to date.",
    )
}

/// The files an upgrade with `args` would apply, by a dry run (on an up-to-date database, the
/// one query of the fast path); `None` when the dry run fails, which the upgrade then reports
/// itself.
async fn planned(
    migrator: &jetbase::Migrator,
    pool: &jetbase::AnyPool,
    args: &UpgradeArgs,
    context: &Context,
) -> Option<Vec<String>> {
    let dry_run = configured_upgrade(migrator, pool, args, context).dry_run(true);
    let report = dry_run.await.ok()?;
    Some(
        report
            .migrations
            .into_iter()
            .map(|entry| entry.filename)
            .collect(),
    )
}

/// The upgrade `args` and the settings ask for: its selection and validation switches.
fn configured_upgrade<'a>(
    migrator: &'a jetbase::Migrator,
    pool: &'a jetbase::AnyPool,
    args: &UpgradeArgs,
    context: &Context,
) -> jetbase::Upgrade<'a, jetbase::AnyPool> {
    let settings = &context.settings;
    let mut upgrade = migrator
        .upgrade(pool)
        .skip_validation(args.skip_validation || settings.skip_validation)
        .skip_checksum_validation(
            args.skip_checksum_validation || settings.skip_checksum_validation,
        )
        .skip_file_validation(args.skip_file_validation || settings.skip_file_validation)
        .out_of_order(args.out_of_order || settings.out_of_order);
    if let Some(count) = args.selection.count {
        upgrade = upgrade.count(count);
    }
    if let Some(version) = &args.selection.to_version {
        upgrade = upgrade.to_version(version.clone());
    }
    upgrade
}

/// Lints the pending files and prints what it finds on stderr; with `--lint=deny`, an error
/// stops the upgrade before anything runs.
fn lint_before_upgrade(
    context: &Context,
    migrator: &jetbase::Migrator,
    pending: &[String],
    dialect: jetbase::Dialect,
    mode: LintMode,
) -> Result<(), CliError> {
    let migrations: Vec<&jetbase::Migration> = migrator
        .migrations()
        .iter()
        .filter(|migration| pending.iter().any(|name| name == migration.filename()))
        .collect();
    let target = LintSettings {
        dialect,
        postgres_major: super::lint::DEFAULT_POSTGRES_MAJOR,
        defaults: context.settings.limits,
        placeholders: migrator.placeholders(),
    };
    let findings = super::lint::lint_all(&migrations, target);
    if findings.is_empty() {
        return Ok(());
    }
    for finding in &findings {
        output::log(&super::lint::render(finding, context.style));
    }
    output::log(&super::lint::summary(&findings, migrations.len()));
    let errors = findings
        .iter()
        .filter(|finding| finding.level == Level::Error)
        .count();
    if mode == LintMode::Deny && errors > 0 {
        return Err(CliError::run(format!(
            "--lint=deny: the lint found {errors} error{} in the pending migrations; nothing was \
             run. Fix them, or silence one with `-- squawk-ignore <rule>` and the reason",
            if errors == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// A migration without SQL for the way it ran is valid (Python Jetbase runs it too), but usually
/// a slip: a file from `jetbase new` never filled in, or a rollback never written. Say so.
fn warn_empty(report: &jetbase::Report, direction: jetbase::Direction) {
    if report.dry_run {
        return;
    }
    for entry in report
        .migrations
        .iter()
        .filter(|entry| entry.statements == 0)
    {
        crate::output::log(&match direction {
            jetbase::Direction::Upgrade => format!(
                "warning: {} has no upgrade SQL: it is recorded as applied and ran nothing",
                output::printable(&entry.filename)
            ),
            jetbase::Direction::Rollback => format!(
                "warning: {} has no rollback SQL: its history row is removed and nothing of it \
                 was undone",
                output::printable(&entry.filename)
            ),
        });
    }
}

pub async fn rollback(context: &Context, args: &RollbackArgs) -> Result<(), CliError> {
    let migrator = context.migrator()?;
    // A SQLite file that does not exist has nothing to roll back: it is not created.
    let pool = context.connect(Access::ReadOnly).await?;
    let selected = || {
        let mut rollback = migrator
            .rollback(&pool)
            .refuse_without_rollback_sql(!args.force && !args.selection.dry_run);
        if let Some(count) = args.selection.count {
            rollback = rollback.count(count);
        }
        if let Some(version) = &args.selection.to_version {
            rollback = rollback.to_version(version.clone());
        }
        rollback
    };
    if !args.force && !args.selection.dry_run {
        confirm_rolling_back_everything(&migrator, &pool, selected().dry_run(true)).await?;
    }
    let bar = output::Progress::new(context.style);
    let rollback = selected()
        .dry_run(args.selection.dry_run)
        .on_progress(progress_reporter(context, &bar, "rollback"))
        .on_retry(retry_reporter(&bar));
    let result = rollback.await;
    bar.finish();
    let report = result.map_err(rollback_error)?;
    warn_empty(&report, jetbase::Direction::Rollback);
    pool.close().await;
    print_report(
        context,
        &migrator,
        &report,
        "Rolled back",
        "Nothing to roll back.",
    )
}

/// A rollback's error; a refusal of migrations without rollback SQL says what `--force` does.
fn rollback_error(error: jetbase::Error) -> CliError {
    match error {
        jetbase::Error::Refused {
            operation: "rollback",
            ..
        } => CliError::from(error)
            .caused_by("--force removes the history rows anyway, leaving what they made"),
        other => other.into(),
    }
}

/// Asks (or, off a terminal, refuses without `--force`) when `planned` would roll back every
/// applied versioned migration, more than one: each rollback section runs, and what the
/// migrations made goes, data included (`rollback -c 999` by mistake).
async fn confirm_rolling_back_everything(
    migrator: &jetbase::Migrator,
    pool: &jetbase::AnyPool,
    planned: jetbase::Rollback<'_, jetbase::AnyPool>,
) -> Result<(), CliError> {
    let planned = planned.await.map_err(rollback_error)?.migrations.len();
    let applied = migrator
        .history(pool)
        .await?
        .iter()
        .filter(|row| row.version.is_some())
        .count();
    if planned > 1 && planned >= applied {
        output::confirm(
            &format!(
                "This rolls back every applied migration ({planned}): each rollback section \
                 runs, and what they made is dropped, data included."
            ),
            "--force",
        )?;
    }
    Ok(())
}

/// `jetbase baseline VERSION`: the rows written, as `upgrade` reports what it applied.
pub async fn baseline(context: &Context, args: &BaselineArgs) -> Result<(), CliError> {
    let migrator = context.migrator()?;
    let pool = context.connect(Access::Write).await?;
    let result = migrator.baseline(&pool, &args.version).await;
    pool.close().await;
    print_report(
        context,
        &migrator,
        &result?,
        "Recorded, without running them,",
        "Nothing to record.",
    )
}

/// A bar on a terminal, a line per migration on stderr otherwise (quiet with `--json`).
fn progress_reporter(
    context: &Context,
    bar: &output::Progress,
    verb: &'static str,
) -> impl Fn(Progress<'_>) + Send + Sync + 'static {
    let bar = bar.clone();
    let quiet = context.json;
    move |progress: Progress<'_>| {
        if bar.is_drawn() {
            bar.set(progress.done, progress.total, progress.filename);
        } else if !quiet {
            output::log(&format!(
                "{verb} {}/{}: {}",
                progress.done + 1,
                progress.total,
                output::printable(progress.filename)
            ));
        }
    }
}

/// A line on stderr each time a migration is tried again after a lock wait (also with `--json`:
/// stdout stays the report), written above the bar.
fn retry_reporter(bar: &output::Progress) -> impl Fn(jetbase::Retry<'_>) + Send + Sync + 'static {
    let bar = bar.clone();
    move |retry: jetbase::Retry<'_>| {
        let on = retry
            .table
            .map_or_else(|| "a table".to_owned(), |table| format!("`{table}`"));
        let message = format!(
            "{}: could not get a lock on {} in time (attempt {} of {}: {}); trying again in {:.1}s",
            output::printable(retry.filename),
            output::printable(&on),
            retry.attempt,
            retry.attempts,
            output::printable(retry.message),
            retry.wait.as_secs_f64()
        );
        bar.suspend(|| output::log(&message));
    }
}

fn print_report(
    context: &Context,
    migrator: &jetbase::Migrator,
    report: &Report,
    verb: &str,
    nothing: &str,
) -> Result<(), CliError> {
    if context.json {
        output::print_json(&report_json(report))?;
        return Ok(());
    }
    if report.migrations.is_empty() {
        crate::output::outln!("{nothing}");
        return Ok(());
    }
    let gone = |entry: &jetbase::ReportEntry| {
        !migrator
            .migrations()
            .iter()
            .any(|migration| migration.filename() == entry.filename)
    };
    // An upgrade that first rolled back a newer release's migrations says which are which.
    let rolled_back_first = |entry: &jetbase::ReportEntry| {
        verb == "Applied" && entry.direction == jetbase::Direction::Rollback
    };
    let label = |entry: &jetbase::ReportEntry| {
        let mut label = output::printable(&entry.filename).into_owned();
        if rolled_back_first(entry) {
            label.push_str(" (rolled back: a newer release applied it)");
        }
        if entry.direction == jetbase::Direction::Rollback && gone(entry) {
            label.push_str(" (file gone: the rollback SQL kept in its history row)");
        }
        label
    };
    if report.dry_run {
        for entry in &report.migrations {
            crate::output::outln!("-- {}", label(entry));
            for statement in &entry.sql {
                crate::output::outln!("{};", output::printable_lines(statement));
            }
            crate::output::outln!();
        }
        crate::output::outln!(
            "-- dry run: {} migration{} would run; nothing was changed",
            report.migrations.len(),
            plural(report.migrations.len())
        );
        return Ok(());
    }
    let mut table = Table::new(vec!["VERSION", "FILE", "TIME"]);
    for entry in &report.migrations {
        table.push(vec![
            (
                entry.version.clone().unwrap_or_else(|| "-".to_owned()),
                None,
            ),
            (label(entry), None),
            (output::millis(entry.duration), Some(Colour::Dim)),
        ]);
    }
    crate::output::out!("{}", table.render(context.style));
    let rolled_back = report
        .migrations
        .iter()
        .filter(|entry| rolled_back_first(entry))
        .count();
    let done = report.migrations.len() - rolled_back;
    let summary = if rolled_back == 0 {
        format!("{verb} {done} migration{}.", plural(done))
    } else {
        format!(
            "Rolled back {rolled_back} migration{} of a newer release, then applied {done}.",
            plural(rolled_back)
        )
    };
    crate::output::outln!("{}", context.style.paint(&summary, Colour::Green));
    Ok(())
}

/// `{"dry_run": bool, "migrations": [{"kind", "version", "filename", "duration_ms", "sql"}]}`.
fn report_json(report: &Report) -> serde_json::Value {
    json!({
        "dry_run": report.dry_run,
        "migrations": report.migrations.iter().map(|entry| json!({
            "kind": entry.kind.as_str(),
            "version": entry.version,
            "filename": entry.filename,
            "duration_ms": u64::try_from(entry.duration.as_millis()).unwrap_or(u64::MAX),
            "sql": entry.sql,
            "direction": entry.direction.to_string(),
        })).collect::<Vec<_>>(),
    })
}
