//! The HTML report: one self-contained page (inline CSS, JS and SVG; nothing fetched, and a
//! Content-Security-Policy that allows nothing else) rendered from `templates/report.html` with
//! minijinja, HTML autoescape on, so every recorded text — logs, diagnostics, test messages,
//! slugs — reaches the page escaped.
//!
//! The grid comes first; then what changed against a baseline, failure kinds, durations,
//! diagnostics (each said once, with the cells it appears in), and the jobs. A run of 10,000
//! jobs must stay usable, so only jobs that did not pass get a detail block (collapsed, and
//! compact), and passed jobs get one line each in a collapsed list.

use std::collections::HashMap;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::compare::{Change, Comparison};
use super::format::{self, human_duration, mib, plain, Export, ReportError};
use super::markup::{self, Count, Grid, Summary};
use crate::outcome::{millis, JobRecord, RunReport, RunStatus, StepRecord, StepStatus, TestCounts, TestStatus};

/// The page's template.
const TEMPLATE: &str = include_str!("templates/report.html");
/// The page's script: gridrun's own constant, the only script the page's policy lets run.
const SCRIPT: &str = include_str!("templates/report.js");

/// A grid cell with more jobs than this draws its marks smaller.
const DENSE_MARKS: usize = 12;
/// How many jobs the duration chart shows, longest first.
const CHART_BARS: usize = 50;
/// How many failing jobs get a full detail block; the rest get a line each.
const DETAILED_FAILURES: usize = 1000;
/// How many diagnostic groups the page lists.
const DIAGNOSTIC_GROUPS: usize = 300;
/// Per job: how many diagnostics, failed tests and artifacts its detail lists.
const PER_JOB_ITEMS: usize = 20;
/// Per job: how much of the log's end its detail shows.
const TAIL_LINES: usize = 30;
const TAIL_BYTES: usize = 4096;
/// Per test: how much of a failure message the page shows.
const MESSAGE_BYTES: usize = 2048;
/// A diagnostic group links to this many of its cells.
const GROUP_LINKS: usize = 24;

/// The HTML report.
#[derive(Clone, Debug, Default)]
pub struct Html {
    /// The report is being rewritten as the run goes: while the run is `running`, the page
    /// reloads itself every 2 s. A finished run's page never does.
    pub live: bool,
    /// The grid's row and column keys (default: compiler × cxx_standard).
    pub pivot: Option<super::grid::Pivot>,
}

impl Export for Html {
    fn serialize(&self, run: &RunReport, baseline: Option<&RunReport>) -> Result<Vec<u8>, ReportError> {
        let summary = Summary::new(run, baseline, self.pivot.as_ref())?;
        let page = Page::new(&summary, self.live);
        let mut env = Environment::new();
        // A misspelt field in the template is an error in the tests, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Named .html: minijinja turns HTML autoescape on for it.
        env.add_template("report.html", TEMPLATE)?;
        Ok(env
            .get_template("report.html")?
            .render(minijinja::Value::from(minijinja::value::Serde(&page)))?
            .into_bytes())
    }
}

/// Everything the template shows.
#[derive(Serialize)]
struct Page<'a> {
    /// The run over time: each job a bar in the slot it ran in.
    timeline: Option<Timeline>,
    /// The cells' values and marks as JSON for the page's script to pivot the grid by other keys
    /// (`<`, `>` and `&` written as `\u003c`… so the text cannot end its `<script>` element).
    grid_data: String,
    project: &'a str,
    run: i64,
    status: RunStatus,
    status_tone: &'static str,
    commit: String,
    started: String,
    duration: String,
    /// ccache's hits over the run's jobs, where they went through it.
    ccache: Option<String>,
    jobs: usize,
    counts: &'a [Count],
    running: bool,
    refresh: bool,
    grid: &'a Grid,
    /// Some grid cell holds many jobs: their marks are drawn smaller.
    dense: bool,
    corner: String,
    failure_kinds: &'a [Count],
    failure_pattern: Option<&'a str>,
    chart: Chart,
    baseline: Option<Baseline<'a>>,
    diagnostics: Vec<DiagnosticView<'a>>,
    diagnostics_hidden: usize,
    failing: Vec<FailingJob<'a>>,
    failing_brief: Vec<JobLine<'a>>,
    /// Jobs that passed only on a retry: in detail, with the attempt that failed.
    flaky: Vec<FailingJob<'a>>,
    not_run: Vec<JobLine<'a>>,
    passed: Vec<JobLine<'a>>,
    csp: &'static str,
    script: &'static str,
    version: &'static str,
}

impl<'a> Page<'a> {
    fn new(summary: &'a Summary<'a>, live: bool) -> Self {
        let report = summary.run;
        let run = &report.run;
        let running = run.status == RunStatus::Running;
        let (detailed, brief) = summary.failing.split_at(summary.failing.len().min(DETAILED_FAILURES));
        Self {
            grid_data: grid_data(report),
            project: &run.project,
            run: run.id,
            status: run.status,
            status_tone: match run.status {
                RunStatus::Passed => "ok",
                RunStatus::Running => "live",
                RunStatus::Failed => "bad",
                RunStatus::Interrupted | RunStatus::Abandoned => "none",
            },
            commit: commit(run),
            started: utc(&run.started_at),
            duration: run.duration.map_or_else(|| "-".into(), |d| human_duration(millis(d))),
            ccache: crate::outcome::CcacheStats::sum(report.jobs.iter().filter_map(|j| j.ccache.as_ref()))
                .map(|c| c.describe()),
            jobs: report.jobs.len(),
            counts: &summary.counts,
            running,
            refresh: live && running,
            grid: &summary.grid,
            dense: summary.grid.rows.iter().flat_map(|r| &r.cells).any(|marks| marks.len() > DENSE_MARKS),
            corner: match &summary.grid.col_key {
                Some(col) => format!("{} \\ {col}", summary.grid.row_key),
                None => summary.grid.row_key.clone(),
            },
            failure_kinds: &summary.failure_kinds,
            failure_pattern: summary.failure_pattern.as_deref(),
            chart: Chart::new(report),
            timeline: Timeline::new(report),
            baseline: summary.comparison.as_ref().map(|cmp| Baseline::new(report, cmp)),
            diagnostics: summary
                .diagnostics
                .iter()
                .take(DIAGNOSTIC_GROUPS)
                .enumerate()
                .map(|(id, g)| DiagnosticView::new(summary, id, g))
                .collect(),
            diagnostics_hidden: summary.diagnostics.len().saturating_sub(DIAGNOSTIC_GROUPS),
            failing: detailed.iter().map(|&i| FailingJob::new(summary, i)).collect(),
            failing_brief: brief.iter().map(|&i| JobLine::new(summary, i, markup::outcome(summary.job(i)))).collect(),
            not_run: summary
                .not_run
                .iter()
                .map(|&i| JobLine::new(summary, i, markup::outcome(summary.job(i))))
                .collect(),
            flaky: summary
                .passed
                .iter()
                .filter(|&&i| summary.job(i).flaky)
                .map(|&i| FailingJob::new(summary, i))
                .collect(),
            passed: summary
                .passed
                .iter()
                .filter(|&&i| !summary.job(i).flaky)
                .map(|&i| JobLine::new(summary, i, passed_line(summary.job(i))))
                .collect(),
            csp: csp(),
            script: SCRIPT,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// `1a2b3c4d5e6f` (`dirty` with local changes), or nothing outside a repository.
fn commit(run: &crate::outcome::RunRecord) -> String {
    let short: String = run.commit.chars().take(12).collect();
    let short = if run.dirty && !short.is_empty() { format!("{short} (dirty)") } else { short };
    match &run.branch {
        Some(branch) if !short.is_empty() => format!("{branch} {short}"),
        _ => short,
    }
}

/// A stored time as `2024-05-01 10:00:00 UTC`: a report file travels, so it names its zone.
fn utc(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map_or_else(|_| stored.to_string(), |t| t.to_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// The run over time: a lane per job that ran at once (each job in the first lane free when it
/// started), so idle slots and the longest cells show.
#[derive(Serialize)]
struct Timeline {
    width: u32,
    height: u32,
    lanes: usize,
    span: String,
    bars: Vec<TimelineBar>,
    /// Bars too thin to see, left out of a large run.
    hidden: usize,
}

#[derive(Serialize)]
struct TimelineBar {
    job: usize,
    x: f64,
    y: f64,
    w: f64,
    tone: &'static str,
    label: String,
}

/// Jobs past this many leave out bars narrower than a unit.
const TIMELINE_ALL: usize = 3000;

impl Timeline {
    #[allow(clippy::cast_precision_loss, reason = "milliseconds to chart units")]
    fn new(run: &RunReport) -> Option<Self> {
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| t.timestamp_millis());
        let mut spans: Vec<(usize, i64, i64)> = run
            .jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| {
                let start = parse(j.started_at.as_deref()?)?;
                Some((i, start, start + millis(j.duration?)))
            })
            .collect();
        if spans.len() < 2 {
            return None;
        }
        spans.sort_by_key(|&(i, start, _)| (start, i));
        let origin = spans[0].1;
        let end = spans.iter().map(|s| s.2).max().unwrap_or(origin);
        let total = (end - origin).max(1) as f64;
        let mut lane_ends: Vec<i64> = Vec::new();
        let mut placed: Vec<(usize, usize, i64, i64)> = Vec::with_capacity(spans.len());
        for (i, start, stop) in spans {
            let lane = lane_ends.iter().position(|&e| e <= start).unwrap_or(lane_ends.len());
            if lane == lane_ends.len() {
                lane_ends.push(stop);
            } else {
                lane_ends[lane] = stop;
            }
            placed.push((i, lane, start, stop));
        }
        let lanes = lane_ends.len();
        let lane_h = if lanes > 40 { 4.0 } else { 12.0 };
        let (left, width) = (4.0, 1000.0);
        let many = placed.len() > TIMELINE_ALL;
        let mut hidden = 0;
        let bars = placed
            .into_iter()
            .filter_map(|(i, lane, start, stop)| {
                let w = ((stop - start) as f64 / total * (width - left)).max(0.5);
                if many && w < 1.0 {
                    hidden += 1;
                    return None;
                }
                let job = &run.jobs[i];
                Some(TimelineBar {
                    job: i,
                    x: ((left + (start - origin) as f64 / total * (width - left)) * 10.0).round() / 10.0,
                    y: lane as f64 * lane_h,
                    w: (w * 10.0).round() / 10.0,
                    tone: job.tone().as_str(),
                    label: format!("{}: {}", job.slug, human_duration(millis(job.duration.unwrap_or_default()))),
                })
            })
            .collect();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a few hundred units")]
        let height = (lanes as f64 * lane_h).ceil() as u32;
        Some(Self { width: 1000, height, lanes, span: human_duration(end - origin), bars, hidden })
    }
}

/// The cells for the page's script: `{"keys": [...], "jobs": [[index, slug, tone, label,
/// [value per key]], ...], "heat": N}` — every key any cell has, in order of first appearance.
fn grid_data(run: &RunReport) -> String {
    let cells: Vec<(usize, &JobRecord)> =
        run.jobs.iter().enumerate().filter(|(_, j)| j.kind == crate::outcome::JobKind::Cell).collect();
    let mut keys: Vec<&str> = Vec::new();
    for (_, job) in &cells {
        for key in job.cell.as_object().into_iter().flat_map(|m| m.keys()) {
            if !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
    }
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "-".into(),
    };
    let jobs: Vec<serde_json::Value> = cells
        .iter()
        .map(|(i, job)| {
            let values: Vec<String> = keys.iter().map(|k| text(job.cell.get(*k))).collect();
            serde_json::json!([i, job.slug, job.tone().as_str(), job.mark(), values])
        })
        .collect();
    let doc = serde_json::json!({ "keys": keys, "jobs": jobs, "heat": markup::HEAT_MARKS });
    doc.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The page's policy: no network, no plugins, styles inline, and only gridrun's own script,
/// by its hash — so even text that escaped escaping could not run.
fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'; \
             base-uri 'none'; form-action 'none'"
        )
    })
}

/// Standard base64 with padding (for the script's hash).
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The duration chart: a horizontal bar per job, longest first.
#[derive(Serialize)]
struct Chart {
    width: u32,
    height: u32,
    label_x: u32,
    bar_x: u32,
    bars: Vec<Bar>,
    shown: usize,
    timed: usize,
}

/// One bar of the chart.
#[derive(Serialize)]
struct Bar {
    job: usize,
    y: u32,
    width: u32,
    label: String,
    duration: String,
    tone: &'static str,
}

impl Chart {
    const WIDTH: u32 = 960;
    const LABEL: u32 = 300;
    const ROW: u32 = 18;
    const BAR_MAX: u32 = 560;

    fn new(run: &RunReport) -> Self {
        let mut timed: Vec<(usize, i64)> = run
            .jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.duration.filter(|_| !j.steps.is_empty()).map(|d| (i, millis(d))))
            .collect();
        // Stable: equally long jobs keep plan order.
        timed.sort_by_key(|&(_, ms)| std::cmp::Reverse(ms));
        let longest = timed.first().map_or(1, |&(_, ms)| ms.max(1));
        let bars: Vec<Bar> = timed
            .iter()
            .take(CHART_BARS)
            .zip(0u32..)
            .map(|(&(i, ms), row)| {
                let job = &run.jobs[i];
                Bar {
                    job: i,
                    y: row * Self::ROW,
                    width: bar_width(ms, longest),
                    label: shorten(&job.slug, 44),
                    duration: human_duration(ms),
                    tone: job.tone().as_str(),
                }
            })
            .collect();
        let rows = u32::try_from(bars.len()).unwrap_or(u32::MAX);
        Self {
            width: Self::WIDTH,
            height: rows * Self::ROW + 4,
            label_x: Self::LABEL - 8,
            bar_x: Self::LABEL,
            shown: bars.len(),
            timed: timed.len(),
            bars,
        }
    }
}

/// A bar's length in pixels: proportional, and at least one so every job shows.
fn bar_width(ms: i64, longest: i64) -> u32 {
    let scaled = i64::from(Chart::BAR_MAX) * ms.max(0) / longest.max(1);
    u32::try_from(scaled).unwrap_or(Chart::BAR_MAX).max(1)
}

/// `text`, cut to `max` characters with `…`.
fn shorten(text: &str, max: usize) -> String {
    crate::text::ellipsize(text, max).into_owned()
}

/// What changed against the baseline, with links to the jobs.
#[derive(Serialize)]
struct Baseline<'a> {
    run: i64,
    newly_failing: Vec<Link<'a>>,
    fixed: Vec<Link<'a>>,
    still_failing: usize,
    slower: Vec<Link<'a>>,
    only_before: Vec<Link<'a>>,
    only_here: Vec<Link<'a>>,
    unchanged: bool,
}

/// A job named with a note, linking to its detail where it is in this run.
#[derive(Serialize)]
struct Link<'a> {
    job: Option<usize>,
    slug: &'a str,
    note: String,
}

impl<'a> Baseline<'a> {
    fn new(run: &RunReport, cmp: &'a Comparison) -> Self {
        let index: HashMap<&str, usize> = run.jobs.iter().enumerate().map(|(i, j)| (j.slug.as_str(), i)).collect();
        let link = |slug: &'a str, note: String| Link { job: index.get(slug).copied(), slug, note };
        let flips = |list: &'a [super::compare::Flip]| {
            list.iter().map(|f| link(&f.slug, format!("{} → {}", f.before, f.after))).collect::<Vec<_>>()
        };
        Self {
            run: cmp.a,
            newly_failing: flips(&cmp.newly_failing),
            fixed: flips(&cmp.fixed),
            still_failing: cmp.still_failing.len(),
            slower: cmp
                .slower
                .iter()
                .map(|s| link(&s.slug, format!("{} → {}", human_duration(s.before_ms), human_duration(s.after_ms))))
                .collect(),
            only_before: cmp
                .only_in_a
                .iter()
                .map(|l| Link { job: None, slug: &l.slug, note: l.status.to_string() })
                .collect(),
            only_here: cmp.only_in_b.iter().map(|l| link(&l.slug, l.status.to_string())).collect(),
            unchanged: cmp.is_unchanged(),
        }
    }
}

/// One group of identical diagnostics.
#[derive(Serialize)]
struct DiagnosticView<'a> {
    id: usize,
    severity: crate::outcome::Severity,
    location: String,
    message: String,
    context: String,
    cells: &'a str,
    links: Vec<(usize, &'a str)>,
    more: usize,
}

impl<'a> DiagnosticView<'a> {
    fn new(summary: &'a Summary<'a>, id: usize, group: &'a markup::DiagnosticGroup<'a>) -> Self {
        let d = group.diagnostic;
        Self {
            id,
            severity: d.severity,
            location: d.place(),
            message: plain(&d.message).into_owned(),
            context: plain(format::tail(&d.context.join("\n"), 12, 2048)).into_owned(),
            cells: &group.cells,
            links: group.jobs.iter().take(GROUP_LINKS).map(|&i| (i, summary.job(i).slug.as_str())).collect(),
            more: group.jobs.len().saturating_sub(GROUP_LINKS),
        }
    }
}

/// A job that did not pass, in detail.
#[derive(Serialize)]
struct FailingJob<'a> {
    job: usize,
    slug: &'a str,
    status: crate::outcome::JobStatus,
    label: &'static str,
    tone: &'static str,
    change: Option<Change>,
    outcome: String,
    facts: Vec<(&'static str, String)>,
    steps: Vec<StepView<'a>>,
    diagnostics: Vec<DiagnosticRef>,
    diagnostics_more: usize,
    tests: TestCounts,
    failed_tests: Vec<TestView>,
    failed_tests_more: usize,
    artifacts: Vec<ArtifactView<'a>>,
    artifacts_more: usize,
    log_tail: String,
    log_from: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> FailingJob<'a> {
    fn new(summary: &'a Summary<'a>, i: usize) -> Self {
        let job = summary.job(i);
        let groups = &summary.groups_of_job[i];
        let failed: Vec<_> = job.tests.iter().filter(|t| t.status == TestStatus::Failed).collect();
        Self {
            job: i,
            slug: &job.slug,
            status: job.status,
            label: job.mark(),
            tone: job.tone().as_str(),
            change: summary.comparison.as_ref().and_then(|c| c.change_of(&job.slug)),
            outcome: markup::outcome(job),
            facts: facts(job),
            steps: job.steps.iter().map(StepView::from).collect(),
            diagnostics: groups.iter().take(PER_JOB_ITEMS).map(|&g| DiagnosticRef::new(summary, g)).collect(),
            diagnostics_more: groups.len().saturating_sub(PER_JOB_ITEMS),
            tests: job.test_counts(),
            failed_tests: failed
                .iter()
                .take(PER_JOB_ITEMS)
                .map(|t| TestView {
                    name: format!("{}.{}", t.suite, t.name),
                    message: t.message.as_deref().map(|m| plain(head(m, MESSAGE_BYTES)).into_owned()),
                })
                .collect(),
            failed_tests_more: failed.len().saturating_sub(PER_JOB_ITEMS),
            artifacts: job
                .artifacts
                .iter()
                .take(PER_JOB_ITEMS)
                .map(|a| ArtifactView {
                    path: &a.path,
                    size: bytesize::ByteSize::b(a.size).to_string(),
                    sha256: &a.sha256,
                    removed: a.removed_at.is_some(),
                })
                .collect(),
            artifacts_more: job.artifacts.len().saturating_sub(PER_JOB_ITEMS),
            log_tail: plain(format::tail(&job.log_tail.join("\n"), TAIL_LINES, TAIL_BYTES)).trim_end().to_string(),
            log_from: job
                .steps
                .iter()
                .rev()
                .find(|s| s.status != StepStatus::Passed)
                .or(job.steps.last())
                .map(|s| s.log.to_string_lossy()),
        }
    }
}

/// The start of `text`, no more than `bytes` of it (cut at a character).
fn head(text: &str, bytes: usize) -> &str {
    crate::text::cut(text, bytes)
}

/// The facts of a job worth a line each: compiler, duration, memory, flaky, reuse.
fn facts(job: &JobRecord) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    if !job.compiler.is_empty() {
        facts.push(("compiler", format!("{} {}", job.compiler, job.compiler_version).trim_end().to_string()));
    }
    if let Some(d) = job.duration {
        facts.push(("duration", human_duration(millis(d))));
    }
    if let Some(peak) = mib(job.peak_rss_kb) {
        facts.push(("peak memory", peak));
    }
    if job.flaky {
        facts.push(("flaky", "passed on a retry".into()));
    }
    if let Some(ccache) = &job.ccache {
        facts.push(("ccache", ccache.describe()));
    }
    if let Some(host) = &job.host {
        facts.push(("host", host.clone()));
    }
    if let Some(image) = &job.image {
        facts.push(("image", format!("{image} {}", job.image_digest.as_deref().unwrap_or("")).trim_end().to_string()));
    }
    facts.push(("config hash", job.config_hash.clone()));
    facts
}

/// One step attempt.
#[derive(Serialize)]
struct StepView<'a> {
    name: &'a str,
    attempt: u32,
    status: StepStatus,
    tone: &'static str,
    exit: String,
    duration: String,
    peak: String,
}

impl<'a> From<&'a StepRecord> for StepView<'a> {
    fn from(step: &'a StepRecord) -> Self {
        Self {
            name: &step.name,
            attempt: step.attempt,
            status: step.status,
            tone: match step.status {
                StepStatus::Passed => "ok",
                s if s.is_failure() => "bad",
                _ => "none",
            },
            exit: match (step.signal, step.exit_code) {
                (Some(signal), _) => format!("signal {signal}"),
                (None, Some(code)) => code.to_string(),
                (None, None) => "-".into(),
            },
            duration: human_duration(millis(step.duration)),
            peak: mib(Some(step.peak_rss_kb)).unwrap_or_else(|| "-".into()),
        }
    }
}

/// A job's diagnostic, pointing at its group; the message is said here only when no other
/// cell has it, or when its group is past those the page lists.
#[derive(Serialize)]
struct DiagnosticRef {
    group: Option<usize>,
    severity: crate::outcome::Severity,
    location: String,
    message: Option<String>,
    cells: usize,
}

impl DiagnosticRef {
    fn new(summary: &Summary<'_>, g: usize) -> Self {
        let group = &summary.diagnostics[g];
        let d = group.diagnostic;
        let listed = g < DIAGNOSTIC_GROUPS;
        Self {
            group: listed.then_some(g),
            severity: d.severity,
            location: d.place(),
            message: (group.jobs.len() == 1 || !listed).then(|| plain(&d.message).into_owned()),
            cells: group.jobs.len(),
        }
    }
}

/// A failed test.
#[derive(Serialize)]
struct TestView {
    name: String,
    message: Option<String>,
}

/// A collected artifact.
#[derive(Serialize)]
struct ArtifactView<'a> {
    path: &'a str,
    size: String,
    sha256: &'a str,
    removed: bool,
}

/// A job in one line.
#[derive(Serialize)]
struct JobLine<'a> {
    job: usize,
    slug: &'a str,
    status: crate::outcome::JobStatus,
    label: &'static str,
    tone: &'static str,
    change: Option<Change>,
    text: String,
}

impl<'a> JobLine<'a> {
    fn new(summary: &'a Summary<'a>, i: usize, text: String) -> Self {
        let job = summary.job(i);
        Self {
            job: i,
            slug: &job.slug,
            status: job.status,
            label: job.mark(),
            tone: job.tone().as_str(),
            change: summary.comparison.as_ref().and_then(|c| c.change_of(&job.slug)),
            text,
        }
    }
}

/// `2.0s · peak 10.5 MiB · tests 3 passed, 1 failed · 2 artifacts`.
fn passed_line(job: &JobRecord) -> String {
    let mut parts = Vec::new();
    if let Some(from) = job.reused_from {
        parts.push(format!("reused from run {from}"));
    } else if let Some(d) = job.duration {
        parts.push(human_duration(millis(d)));
    }
    if let Some(peak) = mib(job.peak_rss_kb) {
        parts.push(format!("peak {peak}"));
    }
    let t = job.test_counts();
    if t.passed + t.failed + t.skipped > 0 {
        parts.push(format!("tests {} passed, {} failed, {} skipped", t.passed, t.failed, t.skipped));
    }
    if let Some(line) = job.coverage.as_ref().and_then(crate::outcome::Coverage::line_percent) {
        parts.push(format!("line coverage {line:.1} %"));
    }
    if !job.artifacts.is_empty() {
        parts.push(format!("{} artifacts", job.artifacts.len()));
    }
    if job.flaky {
        parts.push("flaky: passed on a retry".into());
    }
    if let Some(ccache) = &job.ccache {
        parts.push(format!("ccache {}", ccache.describe()));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{error, job, run};

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    fn render(doc: &RunReport, live: bool) -> String {
        String::from_utf8(Html { live, pivot: None }.serialize(doc, None).unwrap()).unwrap()
    }

    #[test]
    fn recorded_text_is_escaped_everywhere() {
        let mut bad = job("<b>x</b>", &[("compiler", "<i>gcc</i>"), ("cxx_standard", "17")], "failed");
        bad.log_tail = vec!["<script>alert(1)</script>".into()];
        bad.diagnostics.push(error("<a.cpp>", 1, "<script>boom</script>"));
        // A failure kind is a word of gridrun's own now: nothing in it to escape.
        bad.failure_kind = Some(crate::outcome::FailureKind::Compile);
        let html = render(&run(1, vec![bad]), false);
        assert!(!html.contains("<script>alert(1)"), "log text is escaped");
        assert!(!html.contains("<script>boom"), "diagnostics are escaped");
        assert!(!html.contains("<b>x</b>") && !html.contains("<i>gcc</i>") && !html.contains("<kind>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        // The page's own script is the only one that runs; beside it, one block of data no
        // browser runs, whose recorded text cannot end it.
        assert_eq!(html.matches("<script>").count(), 1);
        assert_eq!(html.matches("<script type=\"application/json\" id=\"grid-data\">").count(), 1);
        assert_eq!(html.matches("<script").count(), 2);
        let data = html.split("id=\"grid-data\">").nth(1).unwrap().split("</script>").next().unwrap();
        assert!(data.contains("\\u003cb\\u003ex\\u003c/b\\u003e") && !data.contains('<'), "{data}");
    }

    #[test]
    fn only_a_live_running_page_reloads_itself() {
        let mut doc = run(1, vec![job("a", &[("k", "a")], "running")]);
        doc.run.status = RunStatus::Running;
        let refresh = r#"<meta http-equiv="refresh" content="2">"#;
        assert!(render(&doc, true).contains(refresh));
        assert!(!render(&doc, false).contains(refresh), "a snapshot of a running run does not reload");
        assert!(render(&doc, false).contains("id=\"running\""), "but says it is running");
        doc.run.status = RunStatus::Passed;
        assert!(!render(&doc, true).contains(refresh));
        assert!(!render(&doc, true).contains("id=\"running\""));
    }

    #[test]
    fn a_flaky_job_is_shown_in_detail_with_the_attempt_that_failed() {
        let mut flaky = job("gcc-12-17", &[("compiler", "gcc-12")], "passed");
        flaky.flaky = true;
        flaky.log_tail = vec!["segfault once".into()];
        let step = |attempt: u32, status: StepStatus, exit: i32| StepRecord {
            name: "test".into(),
            position: 0,
            status,
            exit_code: Some(exit),
            duration: std::time::Duration::from_secs(1),
            log: format!("/logs/test.{attempt}.log").into(),
            attempt,
            signal: None,
            cpu: std::time::Duration::ZERO,
            peak_rss_kb: 0,
            log_bytes: 0,
            command: "ctest".into(),
        };
        flaky.steps = vec![step(1, StepStatus::Failed, 139), step(2, StepStatus::Passed, 0)];
        let steady = job("gcc-12-20", &[("compiler", "gcc-12")], "passed");
        let html = render(&run(1, vec![flaky, steady]), false);
        assert!(html.contains("<h3>Flaky: passed on a retry (1)</h3>"), "{html}");
        assert!(html.contains("segfault once") && html.contains("&#x2f;logs&#x2f;test.1.log"), "{html}");
        assert_eq!(html.matches(r#"id="j0""#).count(), 1, "one anchor per job");
        assert!(html.contains("<summary>Passed (1)</summary>"), "{html}");
    }

    #[test]
    fn every_job_is_one_cell_on_the_grid() {
        let jobs: Vec<JobRecord> = (0..7).map(|i| job(&format!("j{i}"), &[("k", &i.to_string())], "passed")).collect();
        let html = render(&run(1, jobs), false);
        assert_eq!(html.matches("class=\"cell ").count(), 7);
    }
}
