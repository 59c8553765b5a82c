//! Aggregates over many runs, for `gridrun stats`: runs and jobs per day, failure kinds, and per
//! cell its duration (mean and exact p90), outcomes and flakiness, each grouped by project.
//!
//! Two passes over the runs of the window (found through `runs_by_started`): runs with their
//! verdicts counted by SQLite from `jobs_by_run_status` alone, folded into days; and every verdict
//! job once, unsorted, summed per cell in Rust where each cell's durations are at hand for an
//! exact p90. Over a store of 100,000 jobs `stats` takes about 60 ms of the 0.2 s it may
//! (bench/stats.sh).
//!
//! A job counts when it came to a verdict: passed, failed, timed out or over memory. Cancelled,
//! skipped, unsupported, unavailable and reused cells did not show how the cell fares, so they
//! are left out of every figure but the number of runs.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use indexmap::IndexMap;
use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError};
use crate::outcome::JobStatus;

/// The statuses that are a verdict on a cell, as an SQL list: `('passed', 'failed', …)`.
fn verdicts() -> String {
    let words: Vec<String> = JobStatus::VERDICTS.iter().map(|s| format!("'{s}'")).collect();
    format!("({})", words.join(", "))
}

/// How many cells `slowest` holds.
const SLOWEST: usize = 10;

/// What `stats` reports for one project.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProjectStats {
    /// The project's name.
    pub project: String,
    /// Runs started in the window, whatever came of them.
    pub runs: i64,
    /// Jobs that came to a verdict.
    pub jobs: i64,
    /// Passed over all verdicts; null when there was none.
    pub success_rate: Option<f64>,
    /// One entry per UTC day that had a run, oldest first.
    pub per_day: Vec<DayStats>,
    /// Failed jobs by failure kind, the commonest first.
    pub failure_kinds: IndexMap<String, i64>,
    /// Every cell that came to a verdict, by slug.
    pub cells: Vec<CellStats>,
    /// Cells that passed only on a retry, or both passed and failed at one config hash.
    pub flaky: Vec<FlakyCell>,
    /// The slowest cells by mean duration, at most ten.
    pub slowest: Vec<CellStats>,
    /// The axis values the cells that failed in at least half their runs follow, where some do.
    pub failure_pattern: Option<String>,
    /// What ccache did for the jobs that went through it, summed; absent where none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ccache: Option<CcacheSums>,
}

/// ccache's calls over the jobs of a window that went through it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CcacheSums {
    /// Jobs whose compiles went through ccache.
    pub jobs: i64,
    /// Compiles answered from a cache.
    pub hits: u64,
    /// Compiles a cache could have answered but did not.
    pub misses: u64,
    /// Hits and misses.
    pub cacheable: u64,
    /// Hits over cacheable calls; null without any.
    pub hit_rate: Option<f64>,
}

/// One UTC day of a project.
#[derive(Clone, Debug, Serialize)]
pub struct DayStats {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// Runs started that day.
    pub runs: i64,
    /// Their jobs that came to a verdict.
    pub jobs: i64,
    /// Of those, passed.
    pub passed: i64,
    /// Of those, failed, timed out or over memory.
    pub failed: i64,
    /// Their wall time, summed, in milliseconds.
    pub job_ms: i64,
    /// Of the coverage jobs among them: lines run, and lines that could run.
    pub lines_covered: i64,
    /// See `lines_covered`.
    pub lines_total: i64,
    /// Of the jobs that went through ccache: compiles answered from a cache.
    pub ccache_hits: i64,
    /// Of those jobs: compiles a cache could have answered.
    pub ccache_cacheable: i64,
}

/// One cell (slug) of a project over the window.
#[derive(Clone, Debug, Serialize)]
pub struct CellStats {
    /// The cell's slug.
    pub slug: String,
    /// How many times it came to a verdict.
    pub runs: i64,
    /// Mean wall time of those jobs, rounded to the millisecond.
    pub mean_ms: i64,
    /// 90th percentile of that wall time, by nearest rank: the smallest duration that at least
    /// 90 % of the jobs took no longer than.
    pub p90_ms: i64,
    /// Passed.
    pub passed: i64,
    /// Failed, timed out or over memory.
    pub failed: i64,
    /// Passed only on a retry.
    pub flaky: i64,
}

/// A cell that cannot be trusted to give the same answer twice.
#[derive(Clone, Debug, Serialize)]
pub struct FlakyCell {
    /// The cell's slug.
    pub slug: String,
    /// How many of its passes needed a retry.
    pub flaky: i64,
    /// Whether it both passed and failed at one config hash: same code, same toolchain, two
    /// outcomes.
    pub unstable: bool,
}

impl Store {
    /// Statistics of the runs started at or after `since` (RFC 3339, UTC, as the store writes
    /// times), of `project` only where given, one entry per project by name.
    pub fn stats(&self, since: &str, project: Option<&str>) -> Result<Vec<ProjectStats>, StoreError> {
        self.stats_inner(since, project).map_err(|e| self.err(e))
    }

    /// The projects with at least one run, by name.
    pub fn projects(&self) -> Result<Vec<String>, StoreError> {
        (|| {
            let mut stmt = self.conn.prepare("SELECT DISTINCT project FROM runs ORDER BY project")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })()
        .map_err(|e| self.err(e))
    }

    fn stats_inner(&self, since: &str, project: Option<&str>) -> rusqlite::Result<Vec<ProjectStats>> {
        let mut projects: BTreeMap<String, ProjectStats> = BTreeMap::new();

        // Per run, then folded per day: grouping by run reads only `jobs_by_run_status` (the
        // job's id is in the index), where grouping the join by day would sort every job. A LEFT
        // JOIN, so a run none of whose jobs reached a verdict still counts.
        let verdicts = verdicts();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.project, substr(r.started_at, 1, 10), COUNT(j.id), COALESCE(SUM(j.status = ?3), 0), r.id
             FROM runs r LEFT JOIN jobs j ON j.run_id = r.id AND j.status IN {verdicts}
             WHERE r.started_at >= ?1 AND (?2 IS NULL OR r.project = ?2)
             GROUP BY r.id ORDER BY r.project, r.started_at"
        ))?;
        // Each run's project and day (its index in the project's days), for the sums below.
        let mut run_days: FxHashMap<i64, (String, usize)> = FxHashMap::default();
        let mut rows = stmt.query(params![since, project, JobStatus::Passed])?;
        while let Some(r) = rows.next()? {
            let name = r.get_ref(0)?.as_str()?;
            let p = entry(&mut projects, name);
            let (day, jobs, passed): (&str, i64, i64) = (r.get_ref(1)?.as_str()?, r.get(2)?, r.get(3)?);
            let index = match p.per_day.last() {
                Some(d) if d.day == day => p.per_day.len() - 1,
                _ => p.per_day.len(),
            };
            run_days.insert(r.get(4)?, (name.to_string(), index));
            p.runs += 1;
            p.jobs += jobs;
            match p.per_day.last_mut() {
                Some(d) if d.day == day => {
                    d.runs += 1;
                    d.jobs += jobs;
                    d.passed += passed;
                    d.failed += jobs - passed;
                }
                _ => p.per_day.push(DayStats {
                    day: day.to_string(),
                    runs: 1,
                    jobs,
                    passed,
                    failed: jobs - passed,
                    job_ms: 0,
                    lines_covered: 0,
                    lines_total: 0,
                    ccache_hits: 0,
                    ccache_cacheable: 0,
                }),
            }
        }
        drop(rows);

        // Every verdict job of the window in one unsorted pass, summed per cell here: the exact
        // p90 needs each cell's durations, and sorting them per cell in Rust is cheaper than
        // SQLite sorting the whole window (window functions took 0.25 s over 100,000 jobs).
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.project, j.slug, j.config_hash, j.status = ?3, j.flaky, j.duration_ms,
                    CASE WHEN j.status = ?3 THEN NULL ELSE COALESCE(j.failure_kind, 'unknown') END,
                    j.ccache_hits, j.ccache_misses, j.ccache_cacheable, r.id,
                    json_extract(j.coverage, '$.lines_covered'), json_extract(j.coverage, '$.lines_total')
             FROM runs r JOIN jobs j ON j.run_id = r.id
             WHERE r.started_at >= ?1 AND (?2 IS NULL OR r.project = ?2) AND j.status IN {verdicts}"
        ))?;
        // Keyed by the row's own text, hashed once per job: FxHash, as nothing here is an
        // attacker's choosing and SipHash was a twentieth of the pass.
        let mut cells: BTreeMap<String, FxHashMap<String, CellSums>> = BTreeMap::new();
        let mut kinds: BTreeMap<String, FxHashMap<String, i64>> = BTreeMap::new();
        let mut ccache: BTreeMap<String, CcacheSums> = BTreeMap::new();
        // Per run, folded into its day below: job time, coverage and ccache sums (read here,
        // where every verdict job's row is read anyway; the per-run pass above reads only an
        // index).
        let mut per_run: FxHashMap<i64, [i64; 5]> = FxHashMap::default();
        let mut rows = stmt.query(params![since, project, JobStatus::Passed])?;
        while let Some(r) = rows.next()? {
            let (project, slug, hash) = (r.get_ref(0)?.as_str()?, r.get_ref(1)?.as_str()?, r.get_ref(2)?.as_str()?);
            let (passed, flaky, duration): (bool, bool, Option<i64>) = (r.get(3)?, r.get(4)?, r.get(5)?);
            let of_project = match cells.get_mut(project) {
                Some(found) => found,
                None => cells.entry(project.to_string()).or_default(),
            };
            let sums = match of_project.get_mut(slug) {
                Some(found) => found,
                None => of_project.entry(slug.to_string()).or_default(),
            };
            sums.add(hash, passed, flaky, duration);
            if let Some(kind) = r.get_ref(6)?.as_str_or_null()? {
                let of_project = match kinds.get_mut(project) {
                    Some(found) => found,
                    None => kinds.entry(project.to_string()).or_default(),
                };
                *of_project.entry(kind.to_string()).or_default() += 1;
            }
            let (covered, total): (Option<i64>, Option<i64>) = (r.get(11)?, r.get(12)?);
            let counts: [Option<i64>; 3] = [r.get(7)?, r.get(8)?, r.get(9)?];
            let sums_of_run = per_run.entry(r.get(10)?).or_default();
            for (slot, value) in sums_of_run.iter_mut().zip([duration, covered, total, counts[0], counts[2]]) {
                *slot += value.unwrap_or(0);
            }
            if let [Some(hits), Some(misses), Some(cacheable)] =
                counts.map(|c| c.map(|n| u64::try_from(n).unwrap_or(0)))
            {
                let sums = ccache.entry(project.to_string()).or_default();
                sums.jobs += 1;
                sums.hits += hits;
                sums.misses += misses;
                sums.cacheable += cacheable;
            }
        }
        drop(rows);
        for (run, [job_ms, lines_covered, lines_total, ccache_hits, ccache_cacheable]) in per_run {
            let Some((name, index)) = run_days.get(&run) else { continue };
            if let Some(d) = projects.get_mut(name).and_then(|p| p.per_day.get_mut(*index)) {
                d.job_ms += job_ms;
                d.lines_covered += lines_covered;
                d.lines_total += lines_total;
                d.ccache_hits += ccache_hits;
                d.ccache_cacheable += ccache_cacheable;
            }
        }
        for (name, mut sums) in ccache {
            #[allow(clippy::cast_precision_loss, reason = "a rate")]
            let hit_rate = (sums.cacheable > 0).then(|| sums.hits as f64 / sums.cacheable as f64);
            sums.hit_rate = hit_rate;
            entry(&mut projects, &name).ccache = Some(sums);
        }

        for (name, of_project) in cells {
            let p = entry(&mut projects, &name);
            let mut sorted: Vec<(String, CellSums)> = of_project.into_iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            for (slug, mut sums) in sorted {
                let cell = sums.finish(slug);
                if cell.flaky > 0 || sums.unstable {
                    p.flaky.push(FlakyCell { slug: cell.slug.clone(), flaky: cell.flaky, unstable: sums.unstable });
                }
                p.cells.push(cell);
            }
            p.flaky.sort_by(|a, b| b.flaky.cmp(&a.flaky).then(b.unstable.cmp(&a.unstable)).then(a.slug.cmp(&b.slug)));
            let mut slowest = p.cells.clone();
            slowest.sort_by(|a, b| b.mean_ms.cmp(&a.mean_ms).then(a.slug.cmp(&b.slug)));
            slowest.truncate(SLOWEST);
            p.slowest = slowest;
        }
        for (name, of_project) in kinds {
            let mut sorted: Vec<(String, i64)> = of_project.into_iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            entry(&mut projects, &name).failure_kinds = sorted.into_iter().collect();
        }
        for p in projects.values_mut() {
            let passed: i64 = p.per_day.iter().map(|d| d.passed).sum();
            p.success_rate = rate(passed, p.jobs);
            // Two cells that usually fail, and one that usually passes, or there is nothing to
            // tell apart (and no need to read any cell's values).
            let usually_failing = p.cells.iter().filter(|c| c.failed * 2 >= c.runs).count();
            if usually_failing >= 2 && usually_failing < p.cells.len() {
                p.failure_pattern = self.history_pattern(since, p)?;
            }
        }
        Ok(projects.into_values().collect())
    }

    /// What the project's usually failing cells (failed in at least half their runs over the
    /// window) follow, from each cell's values as last recorded.
    fn history_pattern(&self, since: &str, p: &ProjectStats) -> rusqlite::Result<Option<String>> {
        let values: HashMap<String, String> = {
            let mut stmt = self.conn.prepare(
                "SELECT slug, cell FROM jobs WHERE id IN (
                     SELECT MAX(j.id) FROM runs r JOIN jobs j ON j.run_id = r.id
                     WHERE r.project = ?1 AND r.started_at >= ?2 AND j.kind = ?3 GROUP BY j.slug)",
            )?;
            let rows = stmt
                .query_map(params![p.project, since, crate::outcome::JobKind::Cell], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<String, String>>>()?
        };
        let jobs: Vec<crate::outcome::JobRecord> = p
            .cells
            .iter()
            .filter_map(|c| {
                let cell = serde_json::from_str(values.get(&c.slug)?).ok()?;
                let status = if c.failed * 2 >= c.runs { JobStatus::Failed } else { JobStatus::Passed };
                Some(crate::outcome::JobRecord { slug: c.slug.clone(), cell, status, ..Default::default() })
            })
            .collect();
        Ok(crate::outcome::patterns::explain(&jobs).map(|e| e.to_string()))
    }
}

/// One cell's verdicts as the scan goes.
#[derive(Default)]
struct CellSums {
    durations: Vec<i64>,
    passed: i64,
    failed: i64,
    flaky: i64,
    /// Per config hash: whether it passed, whether it failed.
    hashes: FxHashMap<String, (bool, bool)>,
    /// Passed and failed at one config hash.
    unstable: bool,
}

impl CellSums {
    fn add(&mut self, hash: &str, passed: bool, flaky: bool, duration: Option<i64>) {
        if passed {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        self.flaky += i64::from(flaky);
        if let Some(ms) = duration {
            self.durations.push(ms);
        }
        if !self.unstable {
            let seen = match self.hashes.get_mut(hash) {
                Some(found) => found,
                None => self.hashes.entry(hash.to_string()).or_default(),
            };
            if passed {
                seen.0 = true;
            } else {
                seen.1 = true;
            }
            self.unstable = seen.0 && seen.1;
        }
    }

    /// The cell's figures: the mean rounded half away from zero as SQLite's ROUND does, the p90
    /// by nearest rank (the ceil(0.9 n)-th shortest).
    fn finish(&mut self, slug: String) -> CellStats {
        let n = self.durations.len();
        let (mean_ms, p90_ms) = if n == 0 {
            (0, 0)
        } else {
            let sum: i64 = self.durations.iter().sum();
            let count = i64::try_from(n).unwrap_or(i64::MAX);
            let rank = (9 * n).div_ceil(10);
            let (_, p90, _) = self.durations.select_nth_unstable(rank - 1);
            ((2 * sum + count) / (2 * count), *p90)
        };
        CellStats {
            slug,
            runs: self.passed + self.failed,
            mean_ms,
            p90_ms,
            passed: self.passed,
            failed: self.failed,
            flaky: self.flaky,
        }
    }
}

/// The figures of project `name`, started where this is its first row.
fn entry<'a>(projects: &'a mut BTreeMap<String, ProjectStats>, name: &str) -> &'a mut ProjectStats {
    projects
        .entry(name.to_string())
        .or_insert_with(|| ProjectStats { project: name.to_string(), ..ProjectStats::default() })
}

/// `passed / total`, or `None` when nothing came to a verdict.
#[allow(clippy::cast_precision_loss)] // job counts are far below 2^52
fn rate(passed: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| passed as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store where cell `a` of project `p` passed once per entry of `durations`, one run each.
    fn store_with(durations: &[i64]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (run, ms) in (1..).zip(durations) {
            store
                .conn
                .execute(
                    "INSERT INTO runs (id, project, matrix_path, status, started_at, pid, token)
                     VALUES (?1, 'p', 'gridrun.toml', 'passed', '2030-01-01T00:00:00.000Z', 1, 't')",
                    [run],
                )
                .unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO jobs (run_id, position, slug, cell, config_hash, status, duration_ms)
                     VALUES (?1, 0, 'a', '{}', 'h', 'passed', ?2)",
                    params![run, ms],
                )
                .unwrap();
        }
        (dir, store)
    }

    fn mean_and_p90(durations: &[i64]) -> (i64, i64) {
        let (_dir, store) = store_with(durations);
        let stats = store.stats("2000-01-01T00:00:00.000Z", None).unwrap();
        let cell = &stats[0].cells[0];
        assert_eq!(cell.runs, i64::try_from(durations.len()).unwrap());
        (cell.mean_ms, cell.p90_ms)
    }

    #[test]
    fn p90_is_the_nearest_rank_whatever_the_insertion_order() {
        // ceil(0.9 n): the 9th of 10, the 10th of 11, the only one of 1, the 2nd of 2.
        assert_eq!(mean_and_p90(&[70, 10, 100, 40, 20, 90, 30, 60, 50, 80]), (55, 90));
        assert_eq!(mean_and_p90(&[110, 10, 100, 40, 20, 90, 30, 60, 50, 80, 70]), (60, 100));
        assert_eq!(mean_and_p90(&[42]), (42, 42));
        assert_eq!(mean_and_p90(&[5, 2]), (4, 5));
    }
}
