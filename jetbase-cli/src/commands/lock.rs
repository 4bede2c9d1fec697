//! `jetbase lock`, `unlock` and `lock-status`.

use serde_json::json;

use super::Context;
use crate::cli::LockStatusArgs;
use crate::database::Access;
use crate::error::CliError;
use crate::output;

pub async fn lock(context: &Context) -> Result<(), CliError> {
    let migrator = context.database_only();
    let pool = context.connect(Access::Write).await?;
    let process_id = migrator.lock(&pool).await?;
    pool.close().await;
    if context.json {
        output::print_json(&json!({ "locked": true, "process_id": process_id }))?;
        return Ok(());
    }
    crate::output::outln!(
        "Locked ({process_id}). Upgrades, rollbacks and fixes wait until `jetbase unlock`."
    );
    Ok(())
}

pub async fn unlock(context: &Context) -> Result<(), CliError> {
    let migrator = context.database_only();
    let pool = context.connect(Access::ReadOnly).await?;
    let was_locked = migrator.unlock(&pool).await?;
    pool.close().await;
    if context.json {
        output::print_json(&json!({ "was_locked": was_locked }))?;
        return Ok(());
    }
    if was_locked {
        crate::output::outln!("Unlocked.");
    } else {
        crate::output::outln!("The lock was not held; nothing changed.");
    }
    Ok(())
}

/// Who holds the lock; with `--exit-code`, exit 3 when it is held.
pub async fn status(context: &Context, args: &LockStatusArgs) -> Result<(), CliError> {
    let migrator = context.database_only();
    let pool = context.connect(Access::ReadOnly).await?;
    let status = migrator.lock_status(&pool).await?;
    pool.close().await;
    if context.json {
        output::print_json(&json!({
            "locked": status.locked,
            "locked_at": status.locked_at,
            "process_id": status.process_id,
            "manual": status.manual,
        }))?;
    } else if status.locked {
        print_holder(&status);
    } else {
        crate::output::outln!("Status: UNLOCKED");
    }
    if args.exit_code && status.locked {
        return Err(CliError::lock_held());
    }
    Ok(())
}

fn print_holder(status: &jetbase::LockStatus) {
    crate::output::outln!("Status: LOCKED");
    // Both come from the lock row, which anyone who may write it controls.
    crate::output::outln!(
        "Locked At: {}",
        crate::output::printable(status.locked_at.as_deref().unwrap_or("unknown"))
    );
    let holder = crate::output::printable(status.process_id.as_deref().unwrap_or(
        "a running jetbase process (it holds the liveness lock; its lock row is not visible yet)",
    ));
    if status.manual {
        crate::output::outln!(
            "Holder: {holder} (taken by hand with `jetbase lock`; free it with `jetbase unlock`)"
        );
    } else {
        crate::output::outln!("Holder: {holder}");
    }
}
