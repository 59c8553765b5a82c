//! The Markdown report, GitHub-flavoured, for a pull request comment or `$GITHUB_STEP_SUMMARY`:
//! a title line, the counts, the grid as a table of marks (words, not colours), what changed
//! against a baseline, and the failures — jobs that failed with the same output are said once —
//! each with its first error diagnostics or the end of its log in a fenced block. Also the
//! GitHub workflow commands that put error diagnostics on a pull request's lines.

use std::collections::HashMap;

use super::compare::Change;
use super::format::{human_duration, Export, ReportError};
use super::markup::{self, cells_summary, Summary};
use crate::outcome::{millis, JobRecord, RunReport, RunStatus};

/// How many groups of failures the report shows, and how many jobs each group names.
const FAILURE_GROUPS: usize = 50;
const GROUP_JOBS: usize = 20;
/// How many diagnostics a failure's excerpt shows.
const EXCERPT_DIAGNOSTICS: usize = 5;
/// How many jobs a list (baseline changes, jobs that did not run) names.
const LIST_JOBS: usize = 50;
/// Grid cells holding more jobs than this count them by mark instead of listing each.
const MARKS_PER_CELL: usize = 4;

/// The Markdown report.
#[derive(Clone, Debug, Default)]
pub struct Markdown {
    /// The grid's row and column keys (default: compiler × cxx_standard).
    pub pivot: Option<super::grid::Pivot>,
}

impl Export for Markdown {
    fn serialize(&self, run: &RunReport, baseline: Option<&RunReport>) -> Result<Vec<u8>, ReportError> {
        let summary = Summary::new(run, baseline, self.pivot.as_ref())?;
        let mut out = String::new();
        header(&summary, &mut out);
        grid(&summary, &mut out);
        baseline_section(&summary, &mut out);
        failures(&summary, &mut out);
        not_run(&summary, &mut out);
        Ok(out.into_bytes())
    }
}

/// The report cut to at most `budget` bytes (GitHub shows no step summary over 1 MiB): whole
/// lines, an open code block closed, and a line saying it was cut.
pub fn within(markdown: &[u8], budget: usize) -> std::borrow::Cow<'_, str> {
    const CUT: &str =
        "\n\n*The report was cut here: a step summary holds at most 1 MiB. `gridrun report` writes it whole.*\n";
    let text = String::from_utf8_lossy(markdown);
    if text.len() <= budget {
        return text;
    }
    if budget < CUT.len() + "```\n".len() {
        return std::borrow::Cow::Borrowed("");
    }
    let room = budget - CUT.len() - "```\n".len();
    let mut end = 0;
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        if end + line.len() > room {
            break;
        }
        if line.starts_with("```") {
            fenced = !fenced;
        }
        end += line.len();
    }
    let mut out = text[..end].to_string();
    if fenced {
        out.push_str("```\n");
    }
    out.push_str(CUT);
    std::borrow::Cow::Owned(out)
}

/// How many coverage cells the header names.
const COVERAGE_SHOWN: usize = 20;

/// `# heimdall: run 3 failed` and a line of counts.
fn header(summary: &Summary<'_>, out: &mut String) {
    use crate::outcome::JobKind;
    let jobs = summary.run.jobs.iter().filter(|j| j.kind == JobKind::Cell).count();
    let run = &summary.run.run;
    out.push_str(&format!("# {}: run {} {}\n\n", inline(&run.project), run.id, run.status));
    let counts: Vec<String> = summary.counts.iter().map(|c| format!("{} {}", c.n, c.word)).collect();
    let mut facts = vec![format!("**{jobs} jobs**: {}", counts.join(", "))];
    for (kind, word) in [(JobKind::Setup, "setup"), (JobKind::Finally, "finally")] {
        let of_kind: Vec<String> = summary
            .run
            .jobs
            .iter()
            .filter(|j| j.kind == kind)
            .map(|j| format!("{} {}", code(&j.slug), j.status.word()))
            .collect();
        if !of_kind.is_empty() {
            facts.push(format!("{word}: {}", of_kind.join(", ")));
        }
    }
    if let Some(d) = run.duration {
        facts.push(format!("took {}", human_duration(millis(d))));
    }
    if !run.commit.is_empty() {
        let short: String = run.commit.chars().take(12).collect();
        let branch = run.branch.as_deref().map(|b| format!(" on {}", code(b))).unwrap_or_default();
        facts.push(format!("commit {}{}{branch}", code(&short), if run.dirty { " (dirty)" } else { "" }));
    }
    facts.push(format!("started {}", utc(&run.started_at)));
    if let Some(ccache) = crate::outcome::CcacheStats::sum(summary.run.jobs.iter().filter_map(|j| j.ccache.as_ref())) {
        facts.push(format!("ccache {}", ccache.describe()));
    }
    out.push_str(&facts.join(" · "));
    out.push('\n');
    let covered: Vec<String> = summary
        .run
        .jobs
        .iter()
        .filter_map(|j| {
            let line = j.coverage.as_ref()?.line_percent()?;
            Some(format!("{} {line:.1} %", code(&j.slug)))
        })
        .collect();
    if !covered.is_empty() {
        let more = covered.len().saturating_sub(COVERAGE_SHOWN);
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        out.push_str(&format!(
            "\nLine coverage: {}{tail}\n",
            covered.into_iter().take(COVERAGE_SHOWN).collect::<Vec<_>>().join(", ")
        ));
    }
    if run.status == RunStatus::Running {
        out.push_str("\n> [!NOTE]\n> This run is still running: this is a snapshot.\n");
    }
    if !summary.failure_kinds.is_empty() {
        let kinds: Vec<String> = summary.failure_kinds.iter().map(|k| format!("{} {}", inline(&k.word), k.n)).collect();
        out.push_str(&format!("\nFailure kinds: {}\n", kinds.join(", ")));
        if let Some(pattern) = &summary.failure_pattern {
            out.push_str(&format!("\n{}\n", inline(&capitalized(pattern))));
        }
    }
}

/// A stored time as `2024-05-01 10:00:00 UTC`.
fn utc(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map_or_else(|_| stored.to_string(), |t| t.to_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// The grid as a table: a mark per job, in bold where it failed, `(new)` or `(fixed)` against
/// the baseline; a crowded cell counts its marks.
fn grid(summary: &Summary<'_>, out: &mut String) {
    let grid = &summary.grid;
    if grid.rows.is_empty() {
        return;
    }
    let corner = match &grid.col_key {
        Some(col) => format!("{} \\\\ {}", inline(&grid.row_key), inline(col)),
        None => inline(&grid.row_key),
    };
    let cols: Vec<String> = match grid.col_key {
        Some(_) => grid.cols.iter().map(|c| inline(c)).collect(),
        None => vec!["jobs".into()],
    };
    out.push_str(&format!("\n| {corner} | {} |\n", cols.join(" | ")));
    out.push_str(&format!("| --- |{}\n", " --- |".repeat(cols.len())));
    for row in &grid.rows {
        let cells: Vec<String> = row.cells.iter().map(|marks| grid_cell(marks)).collect();
        out.push_str(&format!("| {} | {} |\n", inline(&row.label), cells.join(" | ")));
    }
}

fn grid_cell(marks: &[markup::Mark]) -> String {
    if marks.len() > MARKS_PER_CELL {
        let mut counts: Vec<(&markup::Mark, usize)> = Vec::new();
        for m in marks {
            match counts.iter_mut().find(|(first, _)| first.label == m.label) {
                Some(entry) => entry.1 += 1,
                None => counts.push((m, 1)),
            }
        }
        let changed = marks.iter().filter(|m| m.change == Some(Change::NewlyFailing)).count();
        let mut text: Vec<String> = counts.iter().map(|(m, n)| format!("{}×{n}", mark_text(m.label, m.tone))).collect();
        if changed > 0 {
            text.push(format!("({changed} new)"));
        }
        return text.join(" ");
    }
    marks
        .iter()
        .map(|m| match m.change {
            Some(change) => format!("{} ({})", mark_text(m.label, m.tone), change.word()),
            None => mark_text(m.label, m.tone),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A mark, in bold where the job failed.
fn mark_text(label: &str, tone: &str) -> String {
    if tone == "bad" {
        format!("**{label}**")
    } else {
        label.to_string()
    }
}

fn baseline_section(summary: &Summary<'_>, out: &mut String) {
    let Some(cmp) = &summary.comparison else { return };
    out.push_str(&format!("\n## Against run {}\n\n", cmp.a));
    let flips = |list: &[super::compare::Flip]| -> Vec<String> {
        list.iter().map(|f| format!("{} ({} → {})", code(&f.slug), f.before, f.after)).collect()
    };
    let slower: Vec<String> = cmp
        .slower
        .iter()
        .map(|s| format!("{} ({} → {})", code(&s.slug), human_duration(s.before_ms), human_duration(s.after_ms)))
        .collect();
    let lone = |list: &[super::compare::Lone]| -> Vec<String> {
        list.iter().map(|l| format!("{} ({})", code(&l.slug), l.status)).collect()
    };
    let only_in_a = format!("Only in run {}", cmp.a);
    let sections = [
        ("Newly failing", flips(&cmp.newly_failing)),
        ("Fixed", flips(&cmp.fixed)),
        ("Still failing", flips(&cmp.still_failing)),
        ("Slower", slower),
        ("Only in this run", lone(&cmp.only_in_b)),
        (only_in_a.as_str(), lone(&cmp.only_in_a)),
    ];
    for (title, items) in sections {
        out.push_str(&format!("- **{title} ({})**", items.len()));
        if !items.is_empty() {
            out.push_str(": ");
            out.push_str(&items.iter().take(LIST_JOBS).cloned().collect::<Vec<_>>().join(", "));
            if items.len() > LIST_JOBS {
                out.push_str(&format!(" and {} more", items.len() - LIST_JOBS));
            }
        }
        out.push('\n');
    }
}

/// The failures, grouped by identical excerpt so that the same error in many cells is said once.
fn failures(summary: &Summary<'_>, out: &mut String) {
    if summary.failing.is_empty() {
        return;
    }
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for &i in &summary.failing {
        let excerpt = summary.excerpt(i, EXCERPT_DIAGNOSTICS);
        let g = *index.entry(excerpt.clone()).or_insert_with(|| {
            groups.push((excerpt, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    out.push_str(&format!("\n## Failures ({})\n", summary.failing.len()));
    for (excerpt, jobs) in groups.iter().take(FAILURE_GROUPS) {
        let docs: Vec<&JobRecord> = jobs.iter().map(|&i| summary.job(i)).collect();
        if let [job] = docs.as_slice() {
            out.push_str(&format!("\n### {}: {}\n", code(&job.slug), inline(&markup::outcome(job))));
        } else {
            out.push_str(&format!("\n### {}, the same way\n\n", inline(&cells_summary(&docs))));
            for job in docs.iter().take(GROUP_JOBS) {
                out.push_str(&format!("- {}: {}\n", code(&job.slug), inline(&markup::outcome(job))));
            }
            if docs.len() > GROUP_JOBS {
                out.push_str(&format!("- and {} more\n", docs.len() - GROUP_JOBS));
            }
        }
        out.push('\n');
        out.push_str(&fenced(if excerpt.is_empty() { "(no output recorded)" } else { excerpt }));
    }
    if groups.len() > FAILURE_GROUPS {
        let rest: usize = groups[FAILURE_GROUPS..].iter().map(|(_, jobs)| jobs.len()).sum();
        out.push_str(&format!("\nand {rest} more failing jobs: `gridrun show {}` lists them.\n", summary.run.run.id));
    }
}

fn not_run(summary: &Summary<'_>, out: &mut String) {
    if summary.not_run.is_empty() {
        return;
    }
    out.push_str(&format!("\n## Did not run ({})\n\n", summary.not_run.len()));
    for &i in summary.not_run.iter().take(LIST_JOBS) {
        let job = summary.job(i);
        out.push_str(&format!("- {}: {}\n", code(&job.slug), inline(&markup::outcome(job))));
    }
    if summary.not_run.len() > LIST_JOBS {
        out.push_str(&format!("- and {} more\n", summary.not_run.len() - LIST_JOBS));
    }
}

/// Text shown as itself in running Markdown (and in a table cell): its punctuation that could
/// start markup is backslash-escaped, line breaks become spaces.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in super::format::plain(text).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a code span: fenced by one backtick more than it holds in a row, padded where it
/// starts or ends with one. (Not for table cells: a pipe would end the cell.)
fn code(text: &str) -> String {
    let text = super::format::plain(text).replace('\n', " ");
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// `text` as a fenced code block, its fence longer than any run of backticks inside.
fn fenced(text: &str) -> String {
    let text = super::format::plain(text);
    let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// `failures follow …` as a sentence: `Failures follow …`.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_cuts_at_a_line_and_closes_a_code_block() {
        let text = format!("# t\n\n```text\n{}```\n", "x\n".repeat(1000));
        assert_eq!(within(text.as_bytes(), 1 << 20), text);
        let cut = within(text.as_bytes(), 500);
        assert!(cut.len() <= 500, "{}", cut.len());
        assert!(cut.contains("x\n```\n\n\n*The report was cut here"), "{cut}");
        assert_eq!(cut.matches("```").count() % 2, 0);
        assert_eq!(within(text.as_bytes(), 10), "", "no room, not even for the note");
    }
    use crate::report::testdata::{error, job, run};

    #[test]
    fn code_and_fences_outlast_the_backticks_inside() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(fenced("x\n```\ny"), "````text\nx\n```\ny\n````\n");
        assert_eq!(fenced("plain\n"), "```text\nplain\n```\n");
    }

    #[test]
    fn table_text_cannot_break_the_table() {
        assert_eq!(inline("a|b*c*\nd"), "a\\|b\\*c\\* d");
    }

    #[test]
    fn the_same_failure_in_many_cells_is_said_once() {
        let jobs: Vec<JobRecord> = ["17", "20", "23"]
            .iter()
            .map(|s| {
                let mut j = job(&format!("gcc-12-{s}"), &[("compiler", "gcc-12"), ("cxx_standard", s)], "failed");
                j.diagnostics.push(error("a.cpp", 3, "boom"));
                j
            })
            .collect();
        let md = String::from_utf8(Markdown::default().serialize(&run(1, jobs), None).unwrap()).unwrap();
        assert_eq!(md.matches("a.cpp:3:1: error: boom").count(), 1, "{md}");
        assert!(md.contains("### in 3 cells: gcc-12 × 17/20/23, the same way"), "{md}");
    }
}
