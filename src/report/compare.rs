//! Two runs side by side, job by job (matched by slug): what newly fails, what was fixed, what
//! still fails, what got slower, and the cells only one run has. `gridrun compare` prints it;
//! the HTML and Markdown reports mark it on the grid against `--baseline`.

use std::collections::HashMap;

use serde::Serialize;

use crate::outcome::{millis, JobRecord, JobStatus, RunReport, SCHEMA};

/// A job counts as slower when it took more than this many times as long as before…
pub const SLOWER_RATIO: f64 = 1.2;
/// …and at least this much longer, so that noise on short jobs is not news.
pub const SLOWER_MIN_MS: i64 = 1000;

/// What changed from run `a` to run `b`. Fields may be added, never renamed (it is also
/// `compare --json`).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// The earlier run.
    pub a: i64,
    /// The later run.
    pub b: i64,
    /// Passed (or reused) in `a`, failed, timed out or over memory in `b`.
    pub newly_failing: Vec<Flip>,
    /// Failed in `a`, passed in `b`.
    pub fixed: Vec<Flip>,
    /// Failed in both.
    pub still_failing: Vec<Flip>,
    /// Passed in both, and `b` took more than [`SLOWER_RATIO`] times as long as `a` and at least
    /// [`SLOWER_MIN_MS`] longer; the largest slowdown first.
    pub slower: Vec<Slower>,
    /// Cells only `a` has.
    pub only_in_a: Vec<Lone>,
    /// Cells only `b` has.
    pub only_in_b: Vec<Lone>,
    /// Coverage cells whose line coverage changed by a tenth of a per cent or more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<CoverageChange>,
}

/// A coverage cell's line coverage in each run.
#[derive(Clone, Debug, Serialize)]
pub struct CoverageChange {
    /// The cell's slug.
    pub slug: String,
    /// Line coverage in `a`, per cent.
    pub before: f64,
    /// Line coverage in `b`, per cent.
    pub after: f64,
}

/// A job whose outcome is compared: its slug and status in each run.
#[derive(Clone, Debug, Serialize)]
pub struct Flip {
    /// The cell's slug.
    pub slug: String,
    /// Its status in `a`.
    pub before: JobStatus,
    /// Its status in `b`.
    pub after: JobStatus,
    /// Why it fails in `b`, where it does.
    pub failure_kind: Option<crate::outcome::FailureKind>,
}

/// A job that got slower.
#[derive(Clone, Debug, Serialize)]
pub struct Slower {
    /// The cell's slug.
    pub slug: String,
    /// Its wall time in `a`.
    pub before_ms: i64,
    /// Its wall time in `b`.
    pub after_ms: i64,
}

/// A cell only one of the runs has.
#[derive(Clone, Debug, Serialize)]
pub struct Lone {
    /// The cell's slug.
    pub slug: String,
    /// Its status in the run that has it.
    pub status: JobStatus,
}

impl Comparison {
    /// How the job `slug` of the later run changed, for marking it on a grid.
    pub fn change_of(&self, slug: &str) -> Option<Change> {
        let has = |list: &[Flip]| list.iter().any(|f| f.slug == slug);
        if has(&self.newly_failing) {
            Some(Change::NewlyFailing)
        } else if has(&self.fixed) {
            Some(Change::Fixed)
        } else {
            None
        }
    }

    /// Whether nothing changed that the comparison reports (still failing jobs aside).
    pub fn is_unchanged(&self) -> bool {
        self.newly_failing.is_empty()
            && self.fixed.is_empty()
            && self.slower.is_empty()
            && self.only_in_a.is_empty()
            && self.only_in_b.is_empty()
    }
}

/// How a job changed against the baseline, as a grid marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It passed in the baseline and fails now.
    NewlyFailing,
    /// It failed in the baseline and passes now.
    Fixed,
}

impl Change {
    /// The word a grid adds to the job's mark.
    pub fn word(self) -> &'static str {
        match self {
            Self::NewlyFailing => "new",
            Self::Fixed => "fixed",
        }
    }
}

/// Compares run `a` (earlier) with run `b` (later), matching jobs by slug; lists keep `b`'s job
/// order (`a`'s for cells only `a` has).
pub fn compare(a: &RunReport, b: &RunReport) -> Comparison {
    let before: HashMap<&str, &JobRecord> = a.jobs.iter().map(|j| (j.slug.as_str(), j)).collect();
    let mut cmp = Comparison {
        schema: SCHEMA,
        a: a.run.id,
        b: b.run.id,
        newly_failing: Vec::new(),
        fixed: Vec::new(),
        still_failing: Vec::new(),
        slower: Vec::new(),
        only_in_a: Vec::new(),
        only_in_b: Vec::new(),
        coverage: Vec::new(),
    };
    for new in &b.jobs {
        let Some(old) = before.get(new.slug.as_str()) else {
            cmp.only_in_b.push(Lone { slug: new.slug.clone(), status: new.status });
            continue;
        };
        let flip =
            || Flip { slug: new.slug.clone(), before: old.status, after: new.status, failure_kind: new.failure_kind };
        match (old.status.is_pass(), old.status.is_failure(), new.status.is_pass(), new.status.is_failure()) {
            (true, _, _, true) => cmp.newly_failing.push(flip()),
            (_, true, true, _) => cmp.fixed.push(flip()),
            (_, true, _, true) => cmp.still_failing.push(flip()),
            _ => {}
        }
        if let Some(slower) = slower(old, new) {
            cmp.slower.push(slower);
        }
        let line = |j: &JobRecord| j.coverage.as_ref().and_then(crate::outcome::Coverage::line_percent);
        if let (Some(before), Some(after)) = (line(old), line(new)) {
            if (after - before).abs() >= 0.1 {
                cmp.coverage.push(CoverageChange { slug: new.slug.clone(), before, after });
            }
        }
    }
    let after: std::collections::HashSet<&str> = b.jobs.iter().map(|j| j.slug.as_str()).collect();
    cmp.only_in_a = a
        .jobs
        .iter()
        .filter(|j| !after.contains(j.slug.as_str()))
        .map(|j| Lone { slug: j.slug.clone(), status: j.status })
        .collect();
    cmp.slower.sort_by_key(|s| std::cmp::Reverse(s.after_ms - s.before_ms));
    cmp
}

/// The job, if it passed both times (really ran: a reused pass took no time) and got slower by
/// [`SLOWER_RATIO`] and [`SLOWER_MIN_MS`].
fn slower(old: &JobRecord, new: &JobRecord) -> Option<Slower> {
    if old.status != JobStatus::Passed || new.status != JobStatus::Passed {
        return None;
    }
    let (before_ms, after_ms) = (millis(old.duration?), millis(new.duration?));
    #[allow(clippy::cast_precision_loss)] // durations in ms are far below 2^52
    let much = after_ms as f64 > before_ms as f64 * SLOWER_RATIO;
    (much && after_ms - before_ms >= SLOWER_MIN_MS).then(|| Slower { slug: new.slug.clone(), before_ms, after_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{job, run};

    fn timed(slug: &str, status: &str, ms: u64) -> JobRecord {
        let mut j = job(slug, &[("k", slug)], status);
        j.duration = Some(std::time::Duration::from_millis(ms));
        j
    }

    #[test]
    fn jobs_are_matched_by_slug_and_sorted_into_what_changed() {
        let a = run(
            1,
            vec![
                timed("p-f", "passed", 10),
                timed("f-p", "failed", 10),
                timed("f-f", "timed_out", 10),
                timed("r-f", "reused", 0),
                timed("p-p", "passed", 10),
                timed("c-f", "cancelled", 0),
                timed("gone", "passed", 10),
            ],
        );
        let b = run(
            2,
            vec![
                timed("new", "failed", 10),
                timed("p-f", "memory_exceeded", 10),
                timed("f-p", "passed", 10),
                timed("f-f", "failed", 10),
                timed("r-f", "failed", 10),
                timed("p-p", "passed", 10),
                timed("c-f", "failed", 10),
            ],
        );
        let cmp = compare(&a, &b);
        let slugs = |flips: &[Flip]| flips.iter().map(|f| f.slug.clone()).collect::<Vec<_>>();
        assert_eq!(slugs(&cmp.newly_failing), ["p-f", "r-f"]);
        assert_eq!(slugs(&cmp.fixed), ["f-p"]);
        assert_eq!(slugs(&cmp.still_failing), ["f-f"]);
        assert_eq!(cmp.only_in_a.iter().map(|l| l.slug.as_str()).collect::<Vec<_>>(), ["gone"]);
        assert_eq!(cmp.only_in_b.iter().map(|l| l.slug.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!(cmp.change_of("p-f"), Some(Change::NewlyFailing));
        assert_eq!(cmp.change_of("f-p"), Some(Change::Fixed));
        assert_eq!(cmp.change_of("f-f"), None);
    }

    #[test]
    fn slower_needs_both_the_ratio_and_a_second() {
        let a = run(
            1,
            vec![
                timed("ratio-only", "passed", 100),
                timed("both", "passed", 5000),
                timed("second-only", "passed", 10_000),
            ],
        );
        let b = run(
            2,
            vec![
                timed("ratio-only", "passed", 900),
                timed("both", "passed", 6001),
                timed("second-only", "passed", 11_500),
            ],
        );
        let cmp = compare(&a, &b);
        assert_eq!(cmp.slower.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(), ["both"]);
    }
}
