//! `gridrun stats [--days N] [--project P] [--json]`: how the grid has fared over the last N days,
//! per project; the store does the arithmetic (`store::stats`), this prints it.

use std::process::ExitCode;

use super::Context;
use crate::cli::StatsArgs;
use crate::config::did_you_mean;
use crate::error::{Error, Result};

pub(super) fn run(ctx: &Context, args: &StatsArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    if let Some(project) = &args.project {
        let known = recorded.store.projects()?;
        if !known.contains(project) {
            let hint = match did_you_mean(project, known.iter().map(String::as_str)) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!(" (its projects: {})", known.join(", ")),
            };
            return Err(Error::Usage(format!("the store has no runs of project `{project}`{hint}")));
        }
    }
    // A window reaching past the epoch holds every run.
    let since = chrono::Utc::now().checked_sub_signed(chrono::Duration::days(i64::from(args.days))).unwrap_or_default();
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let projects = recorded.store.stats(&since, args.project.as_deref())?;
    let text = if args.json {
        let doc = serde_json::json!({ "schema": crate::outcome::SCHEMA, "days": args.days, "projects": projects });
        let mut text = serde_json::to_string_pretty(&doc).expect("a document of strings and numbers serializes");
        text.push('\n');
        text
    } else {
        crate::report::terminal::stats(ctx.style, args.days, &projects)
    };
    super::print_out(text, "the statistics")?;
    Ok(ExitCode::SUCCESS)
}
