//! `jetbase adopt sqlx|diesel|refinery`: the library's adoption, or only the conversion when no
//! database URL is configured; what it did, as text or JSON.

use std::path::Path;

use jetbase::adopt::{Adoption, ConvertedFile, Tool};
use serde_json::json;

use super::Context;
use crate::cli::{AdoptArgs, AdoptTool};
use crate::database::Access;
use crate::error::CliError;
use crate::output::{self, Colour};
use crate::project::absolute;

pub async fn run(context: &Context, args: &AdoptArgs, cwd: &Path) -> Result<(), CliError> {
    let tool = match args.tool {
        AdoptTool::Sqlx => Tool::Sqlx,
        AdoptTool::Diesel => Tool::Diesel,
        AdoptTool::Refinery => Tool::Refinery,
    };
    let project = &context.settings.project;
    let from = match &args.from {
        Some(from) => absolute(cwd, from),
        None => project.root.join("migrations"),
    };
    let to = project.migrations_dir();
    if context.settings.database_url.is_none() {
        let converted = jetbase::adopt::convert(tool, &from, &to)?;
        return print(context, tool, cwd, &from, &to, &converted, None);
    }
    let pool = context.connect(Access::Write).await?;
    let result = context.database_only().adopt(tool, &from, &to, &pool).await;
    pool.close().await;
    let adoption = result?;
    print(
        context,
        tool,
        cwd,
        &from,
        &to,
        &adoption.converted,
        Some(&adoption),
    )
}

fn shown(cwd: &Path, path: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn print(
    context: &Context,
    tool: Tool,
    cwd: &Path,
    from: &Path,
    to: &Path,
    converted: &[ConvertedFile],
    adoption: Option<&Adoption>,
) -> Result<(), CliError> {
    let recorded: Vec<&str> = adoption
        .map(|adoption| {
            adoption
                .recorded
                .migrations
                .iter()
                .map(|entry| entry.filename.as_str())
                .collect()
        })
        .unwrap_or_default();
    let table = adoption
        .filter(|adoption| adoption.tool_table_found)
        .map(|_| tool.history_table());
    if context.json {
        output::print_json(&json!({
            "tool": tool.as_str(),
            "converted": converted.iter().map(|file| json!({
                "source": file.source,
                "filename": file.filename,
            })).collect::<Vec<_>>(),
            "recorded": recorded,
            "tool_table": table,
        }))?;
        return Ok(());
    }
    crate::output::outln!(
        "Converted {} {tool} migration{} from {} into {}:",
        converted.len(),
        if converted.len() == 1 { "" } else { "s" },
        crate::output::printable(&shown(cwd, from)),
        crate::output::printable(&shown(cwd, to))
    );
    for file in converted {
        crate::output::outln!(
            "  {} -> {}",
            crate::output::printable(&file.source.to_string()),
            crate::output::printable(&file.filename)
        );
    }
    match (adoption, table) {
        (None, _) => crate::output::outln!(
            "No database URL is configured: nothing was recorded. Run `jetbase adopt {tool}` \
             again with one to record what {} says is applied.",
            tool.history_table()
        ),
        (Some(_), None) => crate::output::outln!(
            "The database has no {} table: nothing recorded as applied; `jetbase upgrade` \
             applies them all.",
            tool.history_table()
        ),
        (Some(_), Some(table)) => {
            crate::output::outln!(
                "{}",
                context.style.paint(
                    &format!(
                        "Recorded {} migration{} as applied, as {table} lists them: {}",
                        recorded.len(),
                        if recorded.len() == 1 { "" } else { "s" },
                        if recorded.is_empty() {
                            "none".to_owned()
                        } else {
                            crate::output::printable(&recorded.join(", ")).into_owned()
                        }
                    ),
                    Colour::Green
                )
            );
            crate::output::outln!(
                "{table} is left as it was. Once nothing runs {tool}'s migrations any more, \
                 drop it: DROP TABLE {table};"
            );
        }
    }
    Ok(())
}
