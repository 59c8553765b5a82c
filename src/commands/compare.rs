//! `gridrun compare A B`: what newly fails, what was fixed, what still fails, what got slower, and
//! the cells only one run has — a section each with its count — or `--json`. Exit 0 whatever it
//! finds: a difference is an answer, not an error.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use super::recorded::{self, duration};
use super::Context;
use crate::cli::CompareArgs;
use crate::error::Result;
use crate::report::compare::{self, Comparison, Flip, Lone, SLOWER_MIN_MS, SLOWER_RATIO};
use crate::report::json::RunDoc;

pub(super) fn run(ctx: &Context, args: &CompareArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (a, b) = (recorded.run(&args.a)?, recorded.run(&args.b)?);
    let (a, b) = (RunDoc::load(&recorded.store, &a)?, RunDoc::load(&recorded.store, &b)?);
    let cmp = compare::compare(&a, &b);
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&cmp).expect("a comparison of strings and numbers serializes");
        text.push('\n');
        text
    } else {
        render(&a, &b, &cmp)
    };
    let mut out = std::io::stdout().lock();
    recorded::written(out.write_all(text.as_bytes()).and_then(|()| out.flush()), "the comparison")?;
    Ok(ExitCode::SUCCESS)
}

/// The comparison for people: a title line, then each section with its count and a line per job.
fn render(a: &RunDoc, b: &RunDoc, cmp: &Comparison) -> String {
    let mut text =
        format!("run {} ({}, {}) → run {} ({}, {})\n", a.run, a.project, a.status, b.run, b.project, b.status);
    section(&mut text, "newly failing", &flips(&cmp.newly_failing));
    section(&mut text, "fixed", &flips(&cmp.fixed));
    section(&mut text, "still failing", &flips(&cmp.still_failing));
    let slower: Vec<(String, String)> = cmp
        .slower
        .iter()
        .map(|s| (s.slug.clone(), format!("{} → {}", duration(s.before_ms), duration(s.after_ms))))
        .collect();
    #[allow(clippy::cast_precision_loss)] // a handful of milliseconds
    let title = format!("slower (> {SLOWER_RATIO}× and ≥ {}s)", SLOWER_MIN_MS as f64 / 1000.0);
    section(&mut text, &title, &slower);
    section(&mut text, &format!("only in run {}", a.run), &lone(&cmp.only_in_a));
    section(&mut text, &format!("only in run {}", b.run), &lone(&cmp.only_in_b));
    text
}

fn flips(list: &[Flip]) -> Vec<(String, String)> {
    list.iter()
        .map(|f| {
            let kind = f.failure_kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default();
            (f.slug.clone(), format!("{} → {}{kind}", f.before, f.after))
        })
        .collect()
}

fn lone(list: &[Lone]) -> Vec<(String, String)> {
    list.iter().map(|l| (l.slug.clone(), l.status.clone())).collect()
}

/// `\nnewly failing: 2` and the jobs, slugs aligned.
fn section(text: &mut String, title: &str, rows: &[(String, String)]) {
    let _ = writeln!(text, "\n{title}: {}", rows.len());
    let width = rows.iter().map(|(slug, _)| slug.chars().count()).max().unwrap_or(0);
    for (slug, note) in rows {
        let _ = writeln!(text, "  {slug:<width$}  {note}");
    }
}
