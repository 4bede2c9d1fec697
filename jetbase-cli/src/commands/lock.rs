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
    println!("Locked ({process_id}). Upgrades, rollbacks and fixes wait until `jetbase unlock`.");
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
        println!("Unlocked.");
    } else {
        println!("The lock was not held; nothing changed.");
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
        println!("Status: UNLOCKED");
    }
    if args.exit_code && status.locked {
        return Err(CliError::lock_held());
    }
    Ok(())
}

fn print_holder(status: &jetbase::LockStatus) {
    println!("Status: LOCKED");
    println!(
        "Locked At: {}",
        status.locked_at.as_deref().unwrap_or("unknown")
    );
    let holder = status.process_id.as_deref().unwrap_or("unknown");
    if status.manual {
        println!(
            "Holder: {holder} (taken by hand with `jetbase lock`; free it with `jetbase unlock`)"
        );
    } else {
        println!("Holder: {holder}");
    }
}
