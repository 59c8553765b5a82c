//! `gridrun report --history`: one self-contained page per project of where its grid is going —
//! success rate, cells and mean job duration per day as SVG charts the page draws itself (no
//! script, no network), the slowest, flakiest and most failing cells, the failure kinds and what
//! the usual failures follow. Read from the same figures as `stats`.

#![allow(clippy::cast_precision_loss, reason = "chart coordinates from day counts and milliseconds")]

use std::fmt::Write as _;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::format::human_duration;
use crate::store::{DayStats, ProjectStats};

const TEMPLATE: &str = include_str!("templates/history.html");

/// Rows in each table of cells.
const TABLE_ROWS: usize = 25;

/// The page of `project` over the last `days` days.
pub fn page(project: &ProjectStats, days: u32) -> Result<String, minijinja::Error> {
    let today = chrono::Utc::now().date_naive();
    let window = window(&project.per_day, today, days);
    let mut failing: Vec<&crate::store::CellStats> = project.cells.iter().filter(|c| c.failed > 0).collect();
    failing.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.slug.cmp(&b.slug)));
    failing.truncate(TABLE_ROWS);
    let page = Page {
        version: env!("CARGO_PKG_VERSION"),
        project: &project.project,
        days,
        runs: project.runs,
        jobs: project.jobs,
        rate: project
            .success_rate
            .map_or_else(|| "no verdicts".into(), |r| format!("{} passed", super::terminal::percent(r))),
        pattern: project.failure_pattern.as_deref(),
        per_day: !project.per_day.is_empty(),
        rate_chart: rate_chart(&window),
        jobs_chart: jobs_chart(&window),
        duration_chart: duration_chart(&window),
        coverage_chart: window
            .iter()
            .any(|d| d.lines_total > 0)
            .then(|| share_chart(&window, |d| (d.lines_covered, d.lines_total), "line coverage per day", "lines")),
        ccache_chart: window.iter().any(|d| d.ccache_cacheable > 0).then(|| {
            share_chart(
                &window,
                |d| (d.ccache_hits, d.ccache_cacheable),
                "ccache hit rate per day",
                "cacheable compiles hit",
            )
        }),
        failure_kinds: project.failure_kinds.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
        slowest: project
            .slowest
            .iter()
            .map(|c| Cell {
                slug: &c.slug,
                runs: c.runs,
                mean: human_duration(c.mean_ms),
                p90: human_duration(c.p90_ms),
                passed: c.passed,
                failed: c.failed,
            })
            .collect(),
        flakiest: project.flaky.iter().take(TABLE_ROWS).collect(),
        failing: failing
            .iter()
            .map(|c| Cell {
                slug: &c.slug,
                runs: c.runs,
                mean: String::new(),
                p90: String::new(),
                passed: c.passed,
                failed: c.failed,
            })
            .collect(),
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("history.html", TEMPLATE)?;
    env.get_template("history.html")?.render(minijinja::Value::from(minijinja::value::Serde(&page)))
}

#[derive(Serialize)]
struct Page<'a> {
    version: &'static str,
    project: &'a str,
    days: u32,
    runs: i64,
    jobs: i64,
    rate: String,
    pattern: Option<&'a str>,
    per_day: bool,
    rate_chart: String,
    jobs_chart: String,
    duration_chart: String,
    coverage_chart: Option<String>,
    ccache_chart: Option<String>,
    failure_kinds: Vec<(&'a str, i64)>,
    slowest: Vec<Cell<'a>>,
    flakiest: Vec<&'a crate::store::FlakyCell>,
    failing: Vec<Cell<'a>>,
}

#[derive(Serialize)]
struct Cell<'a> {
    slug: &'a str,
    runs: i64,
    mean: String,
    p90: String,
    passed: i64,
    failed: i64,
}

/// Every day of the window, oldest first, with the figures of those that had runs (a day
/// without runs is a gap, not a zero).
fn window(per_day: &[DayStats], today: chrono::NaiveDate, days: u32) -> Vec<DayStats> {
    // A window as long as the figures reach back, and at most `days` (a chart of 3,650 slots
    // would be a smear): the first run's day or the window's start, whichever is later.
    let start = today - chrono::Duration::days(i64::from(days.saturating_sub(1)));
    let first = per_day.first().and_then(|d| chrono::NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok());
    let start = first.map_or(start, |f| f.max(start)).min(today);
    start
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|date| {
            let day = date.format("%Y-%m-%d").to_string();
            per_day.iter().find(|d| d.day == day).cloned().unwrap_or(DayStats {
                day,
                runs: 0,
                jobs: 0,
                passed: 0,
                failed: 0,
                job_ms: 0,
                lines_covered: 0,
                lines_total: 0,
                ccache_hits: 0,
                ccache_cacheable: 0,
            })
        })
        .collect()
}

/// The drawing area: width, height, and the margins for labels.
const W: f64 = 1000.0;
const H: f64 = 220.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

/// An SVG chart's frame: the y axis labelled at 0 and `max` (as `label` says), and the first and
/// last day under the x axis.
fn frame(days: &[DayStats], max_label: &str, zero_label: &str, title: &str) -> String {
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">"#
    );
    let bottom = H - BOTTOM;
    let _ = write!(svg, r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>"#);
    let _ = write!(svg, r#"<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{W}" y2="{bottom}"/>"#);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{max_label}</text>"#, LEFT - 6.0, TOP + 10.0);
    let _ = write!(svg, r#"<text x="{}" y="{bottom}" text-anchor="end">{zero_label}</text>"#, LEFT - 6.0);
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = write!(svg, r#"<text x="{LEFT}" y="{}">{}</text>"#, H - 8.0, escape(&first.day));
        let _ = write!(svg, r#"<text x="{W}" y="{}" text-anchor="end">{}</text>"#, H - 8.0, escape(&last.day));
    }
    svg
}

/// A bar: most of its day's slot, at most 40 units wide.
fn bar_width(days: usize) -> f64 {
    ((W - LEFT) / days.max(1) as f64 * 0.7).clamp(1.0, 40.0)
}

/// Dates are `YYYY-MM-DD` from the store; escaped all the same.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The x of day `i` of `n`, at the middle of its slot.
fn x(i: usize, n: usize) -> f64 {
    let slot = (W - LEFT) / n.max(1) as f64;
    LEFT + slot * (i as f64 + 0.5)
}

fn y(value: f64, max: f64) -> f64 {
    let bottom = H - BOTTOM;
    if max <= 0.0 {
        bottom
    } else {
        bottom - (bottom - TOP) * (value / max).clamp(0.0, 1.0)
    }
}

/// Passed over verdicts per day, 0–100 %, as a line with a dot per day.
fn rate_chart(days: &[DayStats]) -> String {
    let mut svg = frame(days, "100 %", "0 %", "success rate per day");
    let points: Vec<(f64, f64)> = days
        .iter()
        .enumerate()
        .filter(|(_, d)| d.jobs > 0)
        .map(|(i, d)| (x(i, days.len()), y(d.passed as f64 / d.jobs as f64, 1.0)))
        .collect();
    let path: Vec<String> = points.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
    let _ = write!(svg, r#"<polyline class="rate" points="{}"/>"#, path.join(" "));
    for ((px, py), d) in points.iter().zip(days.iter().filter(|d| d.jobs > 0)) {
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{px:.1}" cy="{py:.1}" r="3"><title>{}: {} of {} passed</title></circle>"#,
            escape(&d.day),
            d.passed,
            d.jobs
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Verdicts per day as bars, the failed part on top in red.
fn jobs_chart(days: &[DayStats]) -> String {
    let max = days.iter().map(|d| d.jobs).max().unwrap_or(0) as f64;
    let mut svg = frame(days, &format!("{max}"), "0", "cells per day");
    let width = bar_width(days.len());
    for (i, d) in days.iter().enumerate().filter(|(_, d)| d.jobs > 0) {
        let cx = x(i, days.len());
        let (top, mid) = (y(d.jobs as f64, max), y(d.passed as f64, max));
        let bottom = H - BOTTOM;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{:.1}" y="{mid:.1}" width="{width:.1}" height="{:.1}"><title>{}: {} passed</title></rect>"#,
            cx - width / 2.0,
            bottom - mid,
            escape(&d.day),
            d.passed
        );
        if d.failed > 0 {
            let _ = write!(
                svg,
                r#"<rect class="bad" x="{:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}"><title>{}: {} failed</title></rect>"#,
                cx - width / 2.0,
                mid - top,
                escape(&d.day),
                d.failed
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Mean wall time of a day's verdict jobs, as bars.
fn duration_chart(days: &[DayStats]) -> String {
    let means: Vec<f64> = days.iter().map(|d| if d.jobs > 0 { d.job_ms as f64 / d.jobs as f64 } else { 0.0 }).collect();
    let max = means.iter().copied().fold(0.0, f64::max);
    #[allow(clippy::cast_possible_truncation, reason = "milliseconds of a mean, for a label")]
    let mut svg = frame(days, &human_duration(max.round() as i64), "0", "mean job duration per day");
    let width = bar_width(days.len());
    for (i, (d, mean)) in days.iter().zip(&means).enumerate().filter(|(_, (d, _))| d.jobs > 0) {
        let top = y(*mean, max);
        #[allow(clippy::cast_possible_truncation, reason = "milliseconds of a mean, for a label")]
        let label = human_duration(mean.round() as i64);
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}"><title>{}: {label}</title></rect>"#,
            x(i, days.len()) - width / 2.0,
            H - BOTTOM - top,
            escape(&d.day)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A share per day (covered lines of all lines, cache hits of cacheable compiles), 0–100 %, as
/// a line over the days that have any.
fn share_chart(days: &[DayStats], of: impl Fn(&DayStats) -> (i64, i64), title: &str, what: &str) -> String {
    let mut svg = frame(days, "100 %", "0 %", title);
    let points: Vec<(f64, f64, &DayStats, (i64, i64))> = days
        .iter()
        .enumerate()
        .filter(|(_, d)| of(d).1 > 0)
        .map(|(i, d)| {
            let (part, whole) = of(d);
            (x(i, days.len()), y(part as f64 / whole as f64, 1.0), d, (part, whole))
        })
        .collect();
    let path: Vec<String> = points.iter().map(|(px, py, _, _)| format!("{px:.1},{py:.1}")).collect();
    let _ = write!(svg, r#"<polyline class="rate" points="{}"/>"#, path.join(" "));
    for (px, py, d, (part, whole)) in &points {
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{px:.1}" cy="{py:.1}" r="3"><title>{}: {part} of {whole} {what}</title></circle>"#,
            escape(&d.day)
        );
    }
    svg.push_str("</svg>");
    svg
}
