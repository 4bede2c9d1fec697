//! `--schema`, `--schemas-like`, `--database-urls-file`: `upgrade`, `rollback`, `status`,
//! `validate` and `wait` on many targets at once (`jetbase::fleet`), a line per target as each
//! finishes, a progress bar on a terminal, a summary, and exit 1 naming the targets that failed.

use std::future::Future;
use std::path::Path;

use jetbase::fleet::{DEFAULT_PARALLEL, Fleet};
use jetbase::{AnyPool, Migrator, State};
use serde_json::json;

use super::Context;
use crate::cli::{RollbackArgs, TargetArgs, UpgradeArgs, WaitArgs};
use crate::database::Access;
use crate::error::CliError;
use crate::output::{self, Colour};
use crate::project::absolute;

/// The targets the flags (else the settings) name, and the pool their schemas share.
pub struct Targets {
    fleet: Fleet,
    pool: Option<AnyPool>,
}

/// The fleet `args` (else the `schemas`, `schemas_like`, `database_urls_file` settings) ask
/// for; `None` for a command on the one configured database.
pub async fn targets(
    context: &Context,
    args: &TargetArgs,
    cwd: &Path,
    access: Access,
) -> Result<Option<Targets>, CliError> {
    let settings = &context.settings.fleet;
    let flagged = !args.schemas.is_empty()
        || args.schemas_like.is_some()
        || args.database_urls_file.is_some();
    let (schemas, like, urls_file) = if flagged {
        (
            args.schemas.clone(),
            args.schemas_like.clone(),
            args.database_urls_file
                .as_deref()
                .map(|file| absolute(cwd, file)),
        )
    } else {
        (
            settings.schemas.clone(),
            settings.schemas_like.clone(),
            settings
                .database_urls_file
                .as_deref()
                .map(|file| absolute(&context.settings.project.root, Path::new(file))),
        )
    };
    if schemas.is_empty() && like.is_none() && urls_file.is_none() {
        return Ok(None);
    }
    // A name PostgreSQL would not keep as written is refused before anything runs.
    for schema in &schemas {
        jetbase::fleet::check_schema_name(schema)?;
    }
    let parallel = args
        .parallel
        .map(usize::from)
        .or(settings.parallel)
        .unwrap_or(DEFAULT_PARALLEL);
    if let Some(file) = urls_file {
        if !schemas.is_empty() || like.is_some() {
            return Err(CliError::usage(
                "a database URLs file and schemas cannot be combined: list every database in \
                 the file, or give the schemas alone",
            ));
        }
        let text = std::fs::read_to_string(&file).map_err(|error| {
            CliError::usage(format!("cannot read `{}`: {error}", file.display()))
        })?;
        let urls: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        if urls.is_empty() {
            return Err(CliError::usage(format!(
                "`{}` lists no database URL (one per line, `#` for comments)",
                file.display()
            )));
        }
        for url in &urls {
            crate::error::hide_password_of(url);
        }
        let fleet = Fleet::urls(urls)
            .connect_timeout(context.settings.connect_timeout)
            .parallel(parallel)
            .fail_fast(args.fail_fast);
        return Ok(Some(Targets { fleet, pool: None }));
    }
    let pool = context.connect(access).await?;
    let mut all = schemas;
    if let Some(pattern) = like {
        let found = match jetbase::fleet::schemas_like(&pool, &pattern).await {
            Ok(found) => found,
            Err(error) => {
                pool.close().await;
                return Err(error.into());
            }
        };
        if found.is_empty() && all.is_empty() {
            pool.close().await;
            return Err(CliError::run(format!(
                "no schema matches `{pattern}` in this database"
            )));
        }
        for schema in found {
            if !all.contains(&schema) {
                all.push(schema);
            }
        }
    }
    let fleet = Fleet::schemas(&pool, all)
        .parallel(parallel)
        .fail_fast(args.fail_fast);
    Ok(Some(Targets {
        fleet,
        pool: Some(pool),
    }))
}

/// Python Jetbase's narrower commands run on one database only.
pub fn refuse_targets(args: &TargetArgs, command: &str) -> Result<(), CliError> {
    if args.schemas.is_empty() && args.schemas_like.is_none() && args.database_urls_file.is_none() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{command} runs on one database: use `jetbase validate` with the targets"
    )))
}

/// What a command did on one target.
pub struct Done {
    ok: bool,
    applied: usize,
    summary: String,
}

/// One target's line, for the JSON at the end.
struct Line {
    index: usize,
    target: String,
    ok: bool,
    applied: usize,
    error: Option<String>,
}

/// Runs `operation` on every target and reports; exit 1 when one failed.
async fn run<F, Fut>(context: &Context, targets: Targets, operation: F) -> Result<(), CliError>
where
    F: Fn(Migrator, AnyPool) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Done, jetbase::Error>> + Send + 'static,
{
    let migrator = context.migrator()?;
    let total = targets.fleet.len();
    let mut lines: Vec<Line> = Vec::with_capacity(total);
    let bar = output::Progress::new(context.style);
    targets
        .fleet
        .run(&migrator, operation, |outcome| {
            let line = match outcome.result {
                Ok(done) => Line {
                    index: outcome.index,
                    target: outcome.target,
                    ok: done.ok,
                    applied: done.applied,
                    error: (!done.ok).then_some(done.summary),
                },
                Err(error) => Line {
                    index: outcome.index,
                    target: outcome.target,
                    ok: false,
                    // What ran before finishing the run failed is applied all the same.
                    applied: match &error {
                        jetbase::Error::AfterRun { done, .. } => done.len(),
                        _ => 0,
                    },
                    error: Some(described(error)),
                },
            };
            if !context.json {
                bar.suspend(|| print_line(context, &line));
                bar.set(lines.len() + 1, total, &line.target);
            }
            lines.push(line);
        })
        .await;
    bar.finish();
    if let Some(pool) = targets.pool {
        pool.close().await;
    }
    lines.sort_by_key(|line| line.index);
    let failed: Vec<&str> = lines
        .iter()
        .filter(|line| !line.ok)
        .map(|line| line.target.as_str())
        .collect();
    if context.json {
        output::print_json(&json!({
            "targets": lines.iter().map(|line| json!({
                "target": line.target,
                "ok": line.ok,
                "applied": line.applied,
                "error": line.error,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        let summary = format!(
            "{total} target{}: {} ok, {} failed.",
            if total == 1 { "" } else { "s" },
            total - failed.len(),
            failed.len()
        );
        let colour = if failed.is_empty() {
            Colour::Green
        } else {
            Colour::Red
        };
        crate::output::outln!("{}", context.style.paint(&summary, colour));
    }
    if failed.is_empty() {
        return Ok(());
    }
    let named: Vec<&str> = failed.iter().take(10).copied().collect();
    Err(CliError::run(format!(
        "{} of {total} targets failed: {}{}",
        failed.len(),
        named.join(", "),
        if failed.len() > named.len() {
            ", ..."
        } else {
            ""
        }
    )))
}

fn print_line(context: &Context, line: &Line) {
    match &line.error {
        None => crate::output::outln!(
            "{}  {}",
            crate::output::printable(&line.target),
            context.style.paint("ok", Colour::Green)
        ),
        Some(error) => crate::output::outln!(
            "{}  {}",
            crate::output::printable(&line.target),
            context.style.paint(
                &format!("FAILED: {}", crate::output::printable(error)),
                Colour::Red
            )
        ),
    }
}

/// An error on one line: its message and its causes, every URL's secrets masked (a driver's
/// message may quote the URL it was given).
fn described(error: jetbase::Error) -> String {
    let error = CliError::from(error);
    let mut text = error.message.replace('\n', " ");
    for cause in error.causes {
        text.push_str(": ");
        text.push_str(&cause.replace('\n', " "));
    }
    crate::error::scrub(&text)
}

/// `upgrade` on each target (the lint is not run: lint the project once, `jetbase lint --all`).
pub async fn upgrade(
    context: &Context,
    targets: Targets,
    args: &UpgradeArgs,
) -> Result<(), CliError> {
    let settings = &context.settings;
    let skip_validation = args.skip_validation || settings.skip_validation;
    let skip_checksums = args.skip_checksum_validation || settings.skip_checksum_validation;
    let skip_files = args.skip_file_validation || settings.skip_file_validation;
    let out_of_order = args.out_of_order || settings.out_of_order;
    let count = args.selection.count;
    let to_version = args.selection.to_version.clone();
    let dry_run = args.selection.dry_run;
    run(context, targets, move |migrator, pool| {
        let to_version = to_version.clone();
        async move {
            let mut upgrade = migrator
                .upgrade(&pool)
                .skip_validation(skip_validation)
                .skip_checksum_validation(skip_checksums)
                .skip_file_validation(skip_files)
                .out_of_order(out_of_order)
                .dry_run(dry_run);
            if let Some(count) = count {
                upgrade = upgrade.count(count);
            }
            if let Some(version) = to_version {
                upgrade = upgrade.to_version(version);
            }
            let report = upgrade.await?;
            let applied = report.migrations.len();
            Ok(Done {
                ok: true,
                applied: if dry_run { 0 } else { applied },
                summary: match (dry_run, applied) {
                    (_, 0) => "up to date".to_owned(),
                    (true, n) => format!("{n} would run"),
                    (false, n) => format!("applied {n}"),
                },
            })
        }
    })
    .await
}

/// `rollback` on each target.
pub async fn rollback(
    context: &Context,
    targets: Targets,
    args: &RollbackArgs,
) -> Result<(), CliError> {
    let count = args.selection.count;
    let to_version = args.selection.to_version.clone();
    let dry_run = args.selection.dry_run;
    let force = args.force;
    run(context, targets, move |migrator, pool| {
        let to_version = to_version.clone();
        async move {
            let selected = || {
                let mut rollback = migrator
                    .rollback(&pool)
                    .refuse_without_rollback_sql(!force && !dry_run);
                if let Some(count) = count {
                    rollback = rollback.count(count);
                }
                if let Some(version) = to_version.clone() {
                    rollback = rollback.to_version(version);
                }
                rollback
            };
            // No one can be asked for each target: rolling back all of one needs --force.
            if !force && !dry_run {
                let planned = selected().dry_run(true).await?.migrations.len();
                let applied = migrator
                    .history(&pool)
                    .await?
                    .iter()
                    .filter(|row| row.version.is_some())
                    .count();
                if planned > 1 && planned >= applied {
                    return Err(jetbase::Error::Refused {
                        operation: "rollback",
                        message: format!(
                            "this rolls back every applied migration of the target ({planned}), \
                             dropping what they made; nothing was changed: pass --force to do it"
                        ),
                    });
                }
            }
            let report = selected().dry_run(dry_run).await?;
            Ok(Done {
                ok: true,
                applied: if dry_run { 0 } else { report.migrations.len() },
                summary: format!("rolled back {}", report.migrations.len()),
            })
        }
    })
    .await
}

/// `status` on each target: how many are applied, pending, edited, missing, failed.
pub async fn status(context: &Context, targets: Targets) -> Result<(), CliError> {
    run(context, targets, |migrator, pool| async move {
        let statuses = migrator.status(&pool).await?;
        Ok(Done {
            ok: true,
            applied: statuses
                .iter()
                .filter(|status| status.state == State::Applied)
                .count(),
            summary: super::report::status_summary(&statuses),
        })
    })
    .await
}

/// `validate` on each target: a target with a problem fails.
pub async fn validate(context: &Context, targets: Targets) -> Result<(), CliError> {
    run(context, targets, |migrator, pool| async move {
        let problems = migrator.validate(&pool).await?;
        Ok(Done {
            ok: problems.is_empty(),
            applied: 0,
            summary: match problems.first() {
                None => "valid".to_owned(),
                Some(first) => format!(
                    "{} problem{}: {first}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
            },
        })
    })
    .await
}

/// `wait` on each target, all within one `--timeout`: a target whose turn comes late
/// (`--parallel`) waits only for what is left of it, so the command ends when the timeout does.
pub async fn wait(context: &Context, targets: Targets, args: &WaitArgs) -> Result<(), CliError> {
    let seconds = crate::settings::seconds_value;
    let timeout = seconds(args.timeout, "--timeout")?;
    let interval = match args.interval {
        Some(value) => seconds(value, "--interval")?,
        None => context.settings.wait_interval,
    };
    let deadline = std::time::Instant::now() + timeout;
    run(context, targets, move |migrator, pool| async move {
        // (Past the deadline: asked once.)
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let waited = migrator
            .wait_until_current(&pool, left)
            .poll_every(interval)
            .await?;
        Ok(Done {
            ok: true,
            applied: 0,
            summary: format!("current (waited {})", output::millis(waited)),
        })
    })
    .await
}
