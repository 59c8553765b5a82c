//! What the markup formats (HTML and Markdown) say alike, worked out once here so they cannot
//! disagree: the grid pivoted by two keys with a mark per job, the counts, the failure kinds,
//! identical diagnostics grouped across cells, the comparison with a baseline, and the jobs
//! sorted into failing, not run and passed. Each format only writes [`Summary`] out.

use std::collections::HashMap;

use indexmap::IndexSet;
use serde::Serialize;

use super::compare::{self, Change, Comparison};
use super::format::ReportError;
use super::grid::{self, GridJob};
use crate::outcome::{Diagnostic, JobRecord, JobStatus, RunReport, Severity, Tone};

/// How many values of a varying key a cell summary names before it trails off.
const SUMMARY_VALUES: usize = 8;

/// A run made ready to write out.
pub(crate) struct Summary<'a> {
    /// The run.
    pub(crate) run: &'a RunReport,
    /// Its grid.
    pub(crate) grid: Grid,
    /// Jobs counted by status, in [`JobStatus::ALL`]'s order; flaky passes counted again as
    /// `flaky`.
    pub(crate) counts: Vec<Count>,
    /// Failing jobs counted by failure kind, the most common first.
    pub(crate) failure_kinds: Vec<Count>,
    /// What the failures follow, in one line, where something does.
    pub(crate) failure_pattern: Option<String>,
    /// Identical diagnostics grouped across jobs: errors first, then by how many jobs have them,
    /// then in order of appearance.
    pub(crate) diagnostics: Vec<DiagnosticGroup<'a>>,
    /// For each job (by index), the groups of its diagnostics.
    pub(crate) groups_of_job: Vec<Vec<usize>>,
    /// Against the baseline, where there is one.
    pub(crate) comparison: Option<Comparison>,
    /// The jobs that ran and did not pass (failed, timed out, over memory, cancelled midway).
    pub(crate) failing: Vec<usize>,
    /// The jobs that did not run, or have not finished: unsupported, unavailable, skipped…
    pub(crate) not_run: Vec<usize>,
    /// The jobs that passed (or were reused).
    pub(crate) passed: Vec<usize>,
}

/// How many jobs have some status or failure kind.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Count {
    /// The status or kind, as recorded.
    pub(crate) key: String,
    /// Its words.
    pub(crate) word: String,
    /// How many.
    pub(crate) n: usize,
    /// What colour it is shown in (see [`tone`]).
    pub(crate) tone: &'static str,
}

/// The jobs pivoted by two keys of their cells.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Grid {
    /// The key whose values are the rows.
    pub(crate) row_key: String,
    /// The key whose values are the columns; without one, a single column.
    pub(crate) col_key: Option<String>,
    /// The columns' values, in order of first appearance.
    pub(crate) cols: Vec<String>,
    /// The rows, in order of first appearance.
    pub(crate) rows: Vec<GridRow>,
}

/// One row of the grid.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct GridRow {
    /// The row key's value.
    pub(crate) label: String,
    /// Per column, the jobs there (several where keys off the grid vary).
    pub(crate) cells: Vec<Vec<Mark>>,
    /// Per column, where the cell holds more than [`HEAT_MARKS`] jobs: their outcomes counted, for
    /// a bar drawn in place of their marks (which open under it).
    pub(crate) heat: Vec<Option<Heat>>,
}

/// A grid cell holding more jobs than this shows their outcomes as a stacked bar.
pub(crate) const HEAT_MARKS: usize = 8;

/// A grid cell's outcomes, counted.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Heat {
    /// Its jobs.
    pub(crate) total: usize,
    /// Per tone (`ok`, `flaky`, `bad`, `live`, `none`), those present, in that order.
    pub(crate) parts: Vec<HeatPart>,
}

/// One tone's share of a grid cell.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct HeatPart {
    /// The tone.
    pub(crate) tone: &'static str,
    /// How many jobs.
    pub(crate) n: usize,
    /// Their share of the cell, in per cent (rounded; at least 1 where any).
    pub(crate) percent: usize,
}

impl Heat {
    fn of(marks: &[Mark]) -> Option<Self> {
        if marks.len() <= HEAT_MARKS {
            return None;
        }
        let parts = ["ok", "flaky", "bad", "live", "none"]
            .into_iter()
            .filter_map(|tone| {
                let n = marks.iter().filter(|m| m.tone == tone).count();
                (n > 0).then(|| HeatPart { tone, n, percent: (n * 100 / marks.len()).max(1) })
            })
            .collect();
        Some(Self { total: marks.len(), parts })
    }
}

/// One job on the grid.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Mark {
    /// Its index in the run's jobs.
    pub(crate) job: usize,
    /// Its slug.
    pub(crate) slug: String,
    /// Its status.
    pub(crate) status: JobStatus,
    /// The short word shown: `pass`, `FAIL`, `unsup`…
    pub(crate) label: &'static str,
    /// `ok`, `flaky`, `bad`, `live` or `none`: what colour it is shown in, beside the label.
    pub(crate) tone: &'static str,
    /// How it changed against the baseline.
    pub(crate) change: Option<Change>,
}

/// One diagnostic and every job whose logs have it.
#[derive(Clone, Debug)]
pub(crate) struct DiagnosticGroup<'a> {
    /// The first job's copy of it.
    pub(crate) diagnostic: &'a Diagnostic,
    /// The jobs (by index), in order.
    pub(crate) jobs: Vec<usize>,
    /// Those jobs' cells, said briefly: `in 6 cells: clang-19 × 11/14/17/20`.
    pub(crate) cells: String,
}

impl<'a> Summary<'a> {
    /// Works out everything the markup formats show about `run`, against `baseline` where given,
    /// with the grid pivoted by `pivot` (default: compiler × cxx_standard).
    pub(crate) fn new(
        run: &'a RunReport,
        baseline: Option<&RunReport>,
        pivot: Option<&grid::Pivot>,
    ) -> Result<Self, ReportError> {
        let comparison = baseline.map(|base| compare::compare(base, run));
        let grid = Grid::new(run, comparison.as_ref(), pivot)?;
        let (diagnostics, groups_of_job) = group_diagnostics(run);
        let mut summary = Self {
            run,
            grid,
            counts: counts(run),
            failure_kinds: failure_kinds(run),
            failure_pattern: crate::outcome::patterns::explain(&run.jobs).map(|e| e.to_string()),
            diagnostics,
            groups_of_job,
            comparison,
            failing: Vec::new(),
            not_run: Vec::new(),
            passed: Vec::new(),
        };
        for (i, job) in run.jobs.iter().enumerate() {
            match job.status {
                s if s.is_pass() => summary.passed.push(i),
                s if s.is_failure() => summary.failing.push(i),
                // Cancelled midway, it has steps and logs worth showing.
                JobStatus::Cancelled if !job.steps.is_empty() => summary.failing.push(i),
                _ => summary.not_run.push(i),
            }
        }
        Ok(summary)
    }

    /// The job with index `i`.
    pub(crate) fn job(&self, i: usize) -> &'a JobRecord {
        &self.run.jobs[i]
    }

    /// What to show for a failure, most telling first: its first error diagnostics
    /// (`file:line:col: severity: message`, up to `limit`), else the end of its log.
    pub(crate) fn excerpt(&self, i: usize, limit: usize) -> String {
        let job = self.job(i);
        let errors: Vec<&Diagnostic> = job.diagnostics.iter().filter(|d| d.severity.is_error()).collect();
        let chosen: Vec<&Diagnostic> = if errors.is_empty() { job.diagnostics.iter().collect() } else { errors };
        if !chosen.is_empty() {
            return chosen.iter().take(limit).map(|d| diagnostic_line(d)).collect::<Vec<_>>().join("\n");
        }
        super::format::plain(&job.log_tail.join("\n")).trim_end().to_string()
    }
}

/// `src/a.cpp:3:5: error: boom`, as a compiler writes it.
pub(crate) fn diagnostic_line(d: &Diagnostic) -> String {
    let place = d.place();
    let text = super::format::plain(&d.message);
    if place.is_empty() {
        format!("{}: {text}", d.severity)
    } else {
        format!("{place}: {}: {text}", d.severity)
    }
}

/// `failed (compile), exit 1`, `timed out`, `unsupported: clang-14 cannot compile C++23`.
pub(crate) fn outcome(job: &JobRecord) -> String {
    use crate::outcome::FailureKind;
    let mut text = job.status.word().to_string();
    // `timed out (timeout)` would say it twice.
    let restated = |kind: FailureKind| {
        matches!(
            (job.status, kind),
            (JobStatus::TimedOut, FailureKind::Timeout)
                | (JobStatus::MemoryExceeded, FailureKind::Memory)
                | (JobStatus::Cancelled, FailureKind::Cancelled)
        )
    };
    if let Some(kind) = job.failure_kind.filter(|k| !restated(*k)) {
        text.push_str(&format!(" ({kind})"));
    }
    match (job.signal, job.exit_code) {
        _ if job.status.is_pass() => {}
        (Some(signal), _) => text.push_str(&format!(", signal {signal}")),
        (None, Some(code)) if code != 0 => text.push_str(&format!(", exit {code}")),
        _ => {}
    }
    if let Some(reason) = &job.reason {
        text.push_str(&format!(": {reason}"));
    }
    text
}

impl Grid {
    fn new(run: &RunReport, comparison: Option<&Comparison>, pivot: Option<&grid::Pivot>) -> Result<Self, ReportError> {
        // Setup and finally jobs are no cells of the grid: they are listed beside it.
        let jobs: Vec<GridJob> =
            run.jobs.iter().filter(|j| j.kind == crate::outcome::JobKind::Cell).map(GridJob::of).collect();
        let (row_key, col_key) =
            grid::pivot_keys(&jobs, pivot.map(|p| (p.row.as_str(), p.col.as_str()))).map_err(ReportError::Pivot)?;
        let value = |job: &GridJob, key: &str| {
            job.values.iter().find(|(k, _)| k == key).map_or_else(|| "-".to_string(), |(_, v)| v.clone())
        };
        let mut rows: IndexSet<String> = IndexSet::new();
        let mut cols: IndexSet<String> = IndexSet::new();
        let mut at: Vec<(usize, usize)> = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let (r, _) = rows.insert_full(value(job, &row_key));
            let (c, _) = cols.insert_full(col_key.as_deref().map_or_else(String::new, |k| value(job, k)));
            at.push((r, c));
        }
        let mut grid_rows: Vec<GridRow> = rows
            .into_iter()
            .map(|label| GridRow { label, cells: vec![Vec::new(); cols.len()], heat: Vec::new() })
            .collect();
        for (i, (job, (r, c))) in run.jobs.iter().zip(at).enumerate() {
            grid_rows[r].cells[c].push(Mark {
                job: i,
                slug: job.slug.clone(),
                status: job.status,
                label: job.mark(),
                tone: job.tone().as_str(),
                change: comparison.and_then(|cmp| cmp.change_of(&job.slug)),
            });
        }
        for row in &mut grid_rows {
            row.heat = row.cells.iter().map(|marks| Heat::of(marks)).collect();
        }
        Ok(Self { row_key, col_key, cols: cols.into_iter().collect(), rows: grid_rows })
    }
}

fn counts(run: &RunReport) -> Vec<Count> {
    // The counts are of cells; the setup and finally jobs are shown apart.
    let stats = crate::outcome::RunStats::of(
        run.jobs
            .iter()
            .filter(|j| j.kind == crate::outcome::JobKind::Cell)
            .map(|j| (j.status, j.flaky, j.allow_failure)),
    );
    let mut counts: Vec<Count> = stats
        .iter()
        .map(|(status, n)| Count {
            key: status.as_str().into(),
            word: status.word().into(),
            n: usize::try_from(n).unwrap_or(usize::MAX),
            tone: status.tone(false).as_str(),
        })
        .collect();
    if stats.allowed > 0 {
        counts.push(Count {
            key: "allowed".into(),
            word: "allowed to fail".into(),
            n: usize::try_from(stats.allowed).unwrap_or(usize::MAX),
            tone: Tone::Flaky.as_str(),
        });
    }
    if stats.flaky > 0 {
        let n = usize::try_from(stats.flaky).unwrap_or(usize::MAX);
        counts.push(Count {
            key: "flaky".into(),
            word: "flaky".into(),
            n,
            tone: JobStatus::Passed.tone(true).as_str(),
        });
    }
    counts
}

fn failure_kinds(run: &RunReport) -> Vec<Count> {
    let mut kinds: Vec<Count> = Vec::new();
    for job in run.jobs.iter().filter(|j| j.status.is_failure()) {
        let kind = job.failure_kind.map_or(job.status.as_str(), |k| k.as_str());
        match kinds.iter_mut().find(|c| c.key == kind) {
            Some(count) => count.n += 1,
            None => kinds.push(Count { key: kind.into(), word: kind.into(), n: 1, tone: "bad" }),
        }
    }
    // Stable: kinds as common as each other keep the order they first failed in.
    kinds.sort_by_key(|c| std::cmp::Reverse(c.n));
    kinds
}

/// Groups identical diagnostics (severity, file, line, message) across jobs.
fn group_diagnostics(run: &RunReport) -> (Vec<DiagnosticGroup<'_>>, Vec<Vec<usize>>) {
    type Key<'k> = (Severity, Option<&'k str>, Option<u32>, &'k str);
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    let mut groups: Vec<DiagnosticGroup<'_>> = Vec::new();
    for (i, job) in run.jobs.iter().enumerate() {
        for d in &job.diagnostics {
            let key = (d.severity, d.file.as_deref(), d.line, d.message.as_str());
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(DiagnosticGroup { diagnostic: d, jobs: Vec::new(), cells: String::new() });
                groups.len() - 1
            });
            // A header included twice repeats its diagnostics within one job.
            if groups[g].jobs.last() != Some(&i) {
                groups[g].jobs.push(i);
            }
        }
    }
    // The most severe first, and among those the most widespread: a broken header before a typo.
    groups.sort_by_key(|g| (g.diagnostic.severity, std::cmp::Reverse(g.jobs.len())));
    let mut groups_of_job = vec![Vec::new(); run.jobs.len()];
    for (g, group) in groups.iter_mut().enumerate() {
        group.cells = cells_summary(&group.jobs.iter().map(|&i| &run.jobs[i]).collect::<Vec<_>>());
        for &i in &group.jobs {
            groups_of_job[i].push(g);
        }
    }
    (groups, groups_of_job)
}

/// Says briefly which cells `jobs` are: `in 1 cell: gcc-12-17`, or `in 6 cells: clang-19 ×
/// 11/14/17/20…` — a key with one value among them says it once, a key whose value varies lists
/// its values joined by `/`.
pub(crate) fn cells_summary(jobs: &[&JobRecord]) -> String {
    match jobs {
        [] => String::new(),
        [one] => format!("in 1 cell: {}", one.slug),
        many => {
            let cells: Vec<GridJob> = many.iter().map(|j| GridJob::of(j)).collect();
            let mut keys: IndexSet<&str> = IndexSet::new();
            for cell in &cells {
                keys.extend(cell.values.iter().map(|(k, _)| k.as_str()));
            }
            let parts: Vec<String> = keys.iter().map(|key| key_values(&cells, key)).collect();
            format!("in {} cells: {}", many.len(), parts.join(" × "))
        }
    }
}

/// The values `key` takes among `cells`, in order: `clang-19`, or `11/14/17/20`, or the first
/// [`SUMMARY_VALUES`] of many and `…`.
fn key_values(cells: &[GridJob], key: &str) -> String {
    let mut values: IndexSet<&str> = IndexSet::new();
    for cell in cells {
        if let Some((_, v)) = cell.values.iter().find(|(k, _)| k == key) {
            values.insert(v);
        }
    }
    let shown: Vec<&str> = values.iter().take(SUMMARY_VALUES).copied().collect();
    let more = if values.len() > SUMMARY_VALUES { "/…" } else { "" };
    format!("{}{more}", shown.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::{Export, Json};
    use crate::report::html::Html;
    use crate::report::junit::Junit;
    use crate::report::markdown::Markdown;
    use crate::report::testdata::{error, job, run};

    fn cell(compiler: &str, std: &str, status: &str) -> JobRecord {
        job(&format!("{compiler}-{std}"), &[("compiler", compiler), ("cxx_standard", std)], status)
    }

    #[test]
    fn a_diagnostic_in_many_cells_is_one_group_that_summarises_them() {
        let mut jobs: Vec<JobRecord> = ["11", "14", "17", "20"].iter().map(|s| cell("clang-19", s, "failed")).collect();
        jobs.push(cell("gcc-12", "17", "failed"));
        for j in &mut jobs[..4] {
            j.diagnostics.push(error("a.cpp", 3, "boom"));
            // Said twice in one job (a header included twice): still one job.
            j.diagnostics.push(error("a.cpp", 3, "boom"));
        }
        jobs[4].diagnostics.push(error("b.cpp", 1, "other"));
        let doc = run(1, jobs);
        let summary = Summary::new(&doc, None, None).unwrap();
        assert_eq!(summary.diagnostics.len(), 2);
        assert_eq!(summary.diagnostics[0].jobs, [0, 1, 2, 3]);
        assert_eq!(summary.diagnostics[0].cells, "in 4 cells: clang-19 × 11/14/17/20");
        assert_eq!(summary.diagnostics[1].cells, "in 1 cell: gcc-12-17");
        assert_eq!(summary.groups_of_job[4], [1]);
    }

    #[test]
    fn errors_group_before_warnings() {
        let mut a = cell("gcc-12", "17", "failed");
        a.diagnostics.push(Diagnostic { severity: Severity::Warning, ..error("a.cpp", 1, "w") });
        a.diagnostics.push(error("a.cpp", 2, "e"));
        let doc = run(1, vec![a]);
        let summary = Summary::new(&doc, None, None).unwrap();
        assert_eq!(summary.diagnostics[0].diagnostic.message, "e");
    }

    #[test]
    fn many_values_trail_off() {
        let jobs: Vec<JobRecord> = (0..10).map(|i| cell("gcc-12", &i.to_string(), "failed")).collect();
        let refs: Vec<&JobRecord> = jobs.iter().collect();
        assert_eq!(cells_summary(&refs), "in 10 cells: gcc-12 × 0/1/2/3/4/5/6/7/…");
    }

    #[test]
    fn the_grid_pivots_by_compiler_and_standard_and_keeps_every_job() {
        let mut jobs =
            vec![cell("gcc-12", "17", "passed"), cell("gcc-12", "20", "failed"), cell("clang-14", "17", "unsupported")];
        jobs.push(job(
            "gcc-12-17-2",
            &[("compiler", "gcc-12"), ("cxx_standard", "17"), ("build_type", "Debug")],
            "passed",
        ));
        let doc = run(1, jobs);
        let summary = Summary::new(&doc, None, None).unwrap();
        let grid = &summary.grid;
        assert_eq!((grid.row_key.as_str(), grid.col_key.as_deref()), ("compiler", Some("cxx_standard")));
        assert_eq!(grid.cols, ["17", "20"]);
        assert_eq!(grid.rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(), ["gcc-12", "clang-14"]);
        assert_eq!(grid.rows[0].cells[0].iter().map(|m| m.job).collect::<Vec<_>>(), [0, 3]);
        assert!(grid.rows[1].cells[1].is_empty());
        assert_eq!((summary.passed.len(), summary.failing.len(), summary.not_run.len()), (2, 1, 1));
    }

    #[test]
    fn a_pivot_key_the_matrix_lacks_is_an_error() {
        let doc = run(1, vec![cell("gcc-12", "17", "passed")]);
        let pivot = grid::Pivot { row: "os".into(), col: "compiler".into() };
        let err = Summary::new(&doc, None, Some(&pivot)).err().unwrap();
        assert!(err.to_string().contains("`os` is not a key"), "{err}");
    }

    #[test]
    fn every_format_reports_an_empty_run_and_a_cell_missing_a_key() {
        let empty = run(1, Vec::new());
        let ragged =
            run(2, vec![job("a", &[("compiler", "gcc-12")], "passed"), job("b", &[("os", "linux")], "failed")]);
        let formats: [&dyn Export; 4] = [&Html::default(), &Markdown::default(), &Junit, &Json];
        for doc in [&empty, &ragged] {
            for format in formats {
                let bytes = format.serialize(doc, Some(doc)).unwrap();
                assert!(std::str::from_utf8(&bytes).is_ok());
            }
        }
    }
}
