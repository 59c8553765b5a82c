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
        // The projects in the order their rows came (by name), and each run's project and day
        // (indices into those and the project's days), for the per-job pass below.
        let mut names: Vec<String> = Vec::new();
        let mut run_days: FxHashMap<i64, (usize, usize)> = FxHashMap::default();
        let mut rows = stmt.query(params![since, project, JobStatus::Passed])?;
        while let Some(r) = rows.next()? {
            let name = r.get_ref(0)?.as_str()?;
            if names.last().is_none_or(|last| last != name) {
                names.push(name.to_string());
            }
            let p = entry(&mut projects, name);
            let (day, jobs, passed): (&str, i64, i64) = (r.get_ref(1)?.as_str()?, r.get(2)?, r.get(3)?);
            let index = match p.per_day.last() {
                Some(d) if d.day == day => p.per_day.len() - 1,
                _ => p.per_day.len(),
            };
            run_days.insert(r.get(4)?, (names.len() - 1, index));
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
        // A run's jobs come together, so its project and day are looked up once per run; the
        // ccache and coverage columns, which most jobs leave empty, are read where one says so.
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.id, j.slug, j.config_hash, j.status = ?3, j.flaky, j.duration_ms,
                    CASE WHEN j.status = ?3 THEN NULL ELSE COALESCE(j.failure_kind, 'unknown') END,
                    j.ccache_hits IS NOT NULL OR j.coverage IS NOT NULL,
                    j.ccache_hits, j.ccache_misses, j.ccache_cacheable,
                    CASE WHEN j.coverage IS NOT NULL THEN json_extract(j.coverage, '$.lines_covered') END,
                    CASE WHEN j.coverage IS NOT NULL THEN json_extract(j.coverage, '$.lines_total') END
             FROM runs r JOIN jobs j ON j.run_id = r.id
             WHERE r.started_at >= ?1 AND (?2 IS NULL OR r.project = ?2) AND j.status IN {verdicts}"
        ))?;
        let mut sums: Vec<ProjectSums> = names
            .iter()
            .map(|name| ProjectSums { days: vec![[0; 5]; projects[name].per_day.len()], ..ProjectSums::default() })
            .collect();
        let mut current: Option<(i64, usize, usize)> = None;
        let mut rows = stmt.query(params![since, project, JobStatus::Passed])?;
        while let Some(r) = rows.next()? {
            let run: i64 = r.get(0)?;
            let (of, day) = match current {
                Some((id, of, day)) if id == run => (of, day),
                _ => {
                    let Some(&(of, day)) = run_days.get(&run) else { continue };
                    current = Some((run, of, day));
                    (of, day)
                }
            };
            let of = &mut sums[of];
            let (slug, hash) = (r.get_ref(1)?.as_str()?, r.get_ref(2)?.as_str()?);
            let (passed, flaky, duration): (bool, bool, Option<i64>) = (r.get(3)?, r.get(4)?, r.get(5)?);
            let cell = match of.cells.get_mut(slug) {
                Some(found) => found,
                None => of.cells.entry(slug.to_string()).or_default(),
            };
            cell.add(hash, passed, flaky, duration);
            if let Some(kind) = r.get_ref(6)?.as_str_or_null()? {
                match of.kinds.get_mut(kind) {
                    Some(count) => *count += 1,
                    None => {
                        of.kinds.insert(kind.to_string(), 1);
                    }
                }
            }
            let day_sums = &mut of.days[day];
            day_sums[0] += duration.unwrap_or(0);
            if !r.get::<_, bool>(7)? {
                continue;
            }
            let counts: [Option<i64>; 3] = [r.get(8)?, r.get(9)?, r.get(10)?];
            let (covered, total): (Option<i64>, Option<i64>) = (r.get(11)?, r.get(12)?);
            for (slot, value) in day_sums[1..].iter_mut().zip([covered, total, counts[0], counts[2]]) {
                *slot += value.unwrap_or(0);
            }
            if let [Some(hits), Some(misses), Some(cacheable)] =
                counts.map(|c| c.map(|n| u64::try_from(n).unwrap_or(0)))
            {
                let ccache = of.ccache.get_or_insert_with(CcacheSums::default);
                ccache.jobs += 1;
                ccache.hits += hits;
                ccache.misses += misses;
                ccache.cacheable += cacheable;
            }
        }
        drop(rows);

        for (name, of) in names.iter().zip(sums) {
            let p = entry(&mut projects, name);
            for (d, [job_ms, lines_covered, lines_total, ccache_hits, ccache_cacheable]) in
                p.per_day.iter_mut().zip(of.days)
            {
                d.job_ms += job_ms;
                d.lines_covered += lines_covered;
                d.lines_total += lines_total;
                d.ccache_hits += ccache_hits;
                d.ccache_cacheable += ccache_cacheable;
            }
            p.ccache = of.ccache.map(|mut sums| {
                #[allow(clippy::cast_precision_loss, reason = "a rate")]
                let hit_rate = (sums.cacheable > 0).then(|| sums.hits as f64 / sums.cacheable as f64);
                sums.hit_rate = hit_rate;
                sums
            });
            let mut sorted: Vec<(String, CellSums)> = of.cells.into_iter().collect();
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
            let mut kinds: Vec<(String, i64)> = of.kinds.into_iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            p.failure_kinds = kinds.into_iter().collect();
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

/// One project's sums as the per-job pass goes.
#[derive(Default)]
struct ProjectSums {
    cells: FxHashMap<String, CellSums>,
    /// Failed jobs per failure kind.
    kinds: FxHashMap<String, i64>,
    ccache: Option<CcacheSums>,
    /// Per day (as in the project's `per_day`): job time, lines covered and coverable, ccache
    /// hits and cacheable calls.
    days: Vec<[i64; 5]>,
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

    #[test]
    fn coverage_and_ccache_sum_per_day_and_project_where_jobs_recorded_them() {
        // Run, slug, duration, coverage, ccache's hits, misses and cacheable calls.
        type Job<'a> = (i64, &'a str, i64, Option<&'a str>, Option<[i64; 3]>);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // Project `p`: two runs on one day, one the next; project `q`: one run, nothing extra.
        for (run, project, day) in [(1, "p", "01"), (2, "q", "01"), (3, "p", "01"), (4, "p", "02")] {
            store
                .conn
                .execute(
                    "INSERT INTO runs (id, project, matrix_path, status, started_at, pid, token)
                     VALUES (?1, ?2, 'gridrun.toml', 'passed', ?3, 1, 't')",
                    params![run, project, format!("2030-01-{day}T00:00:00.000Z")],
                )
                .unwrap();
        }
        let jobs: [Job; 6] = [
            (1, "a", 10, Some(r#"{"lines_covered": 3, "lines_total": 4}"#), Some([1, 1, 2])),
            (1, "b", 20, None, None),
            (2, "a", 40, None, None),
            (3, "a", 100, None, Some([5, 0, 5])),
            (4, "a", 1000, Some(r#"{"lines_covered": 7, "lines_total": 10}"#), None),
            (4, "b", 2000, None, None),
        ];
        for (run, slug, ms, coverage, ccache) in jobs {
            let [hits, misses, cacheable] = ccache.map_or([None; 3], |c| c.map(Some));
            store
                .conn
                .execute(
                    "INSERT INTO jobs (run_id, position, slug, cell, config_hash, status, duration_ms, coverage,
                                       ccache_hits, ccache_misses, ccache_cacheable)
                     VALUES (?1, 0, ?2, '{}', 'h', 'passed', ?3, ?4, ?5, ?6, ?7)",
                    params![run, slug, ms, coverage, hits, misses, cacheable],
                )
                .unwrap();
        }
        let stats = store.stats("2000-01-01T00:00:00.000Z", None).unwrap();
        let days = |p: &ProjectStats| -> Vec<[i64; 5]> {
            p.per_day
                .iter()
                .map(|d| [d.job_ms, d.lines_covered, d.lines_total, d.ccache_hits, d.ccache_cacheable])
                .collect()
        };
        assert_eq!(stats[0].project, "p");
        assert_eq!(days(&stats[0]), [[130, 3, 4, 6, 7], [3000, 7, 10, 0, 0]]);
        let ccache = stats[0].ccache.unwrap();
        assert_eq!((ccache.jobs, ccache.hits, ccache.misses, ccache.cacheable), (2, 6, 1, 7));
        assert_eq!(stats[1].project, "q");
        assert_eq!(days(&stats[1]), [[40, 0, 0, 0, 0]]);
        assert!(stats[1].ccache.is_none());
        assert_eq!(stats[0].cells.iter().map(|c| (c.slug.as_str(), c.runs)).collect::<Vec<_>>(), [("a", 3), ("b", 2)]);
    }
}
