//! What a person watching a run sees. On a terminal: an overall bar with passed/failed/remaining
//! counts and one line per running job (slug, step, elapsed, last output line). Piped or under
//! CI: a timestamped line per job start and end. Both read the executor's events.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::events::{CancelReason, Event};
use crate::outcome::JobStatus;

/// The live display of one run.
pub enum Progress {
    /// indicatif bars on a terminal.
    Bars(Bars),
    /// Plain lines.
    Lines(Lines),
}

impl Progress {
    /// Bars on a terminal (stderr) unless `CI` is set; lines otherwise.
    pub fn new(total: usize, color: bool) -> Self {
        use std::io::IsTerminal;
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if std::io::stderr().is_terminal() && !ci {
            Self::Bars(Bars::new(total, color))
        } else {
            Self::Lines(Lines { out: std::io::stderr() })
        }
    }

    /// Whether the display wants periodic redraws.
    pub fn wants_ticks(&self) -> bool {
        matches!(self, Self::Bars(_))
    }

    /// Shows an event.
    pub fn event(&mut self, event: &Event) {
        match self {
            Self::Bars(bars) => bars.event(event),
            Self::Lines(lines) => lines.event(event),
        }
    }

    /// Redraws the running jobs' latest lines.
    pub fn tick(&mut self) {
        if let Self::Bars(bars) = self {
            bars.tick();
        }
    }

    /// Clears the bars before the summary prints.
    pub fn finish(&mut self) {
        if let Self::Bars(bars) = self {
            bars.overall.finish_and_clear();
            for (bar, _, _) in bars.jobs.values() {
                bar.finish_and_clear();
            }
            let _ = bars.multi.clear();
        }
    }
}

/// The terminal display.
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// Each running job's bar, current step and log.
    jobs: HashMap<String, (ProgressBar, String, PathBuf)>,
    passed: usize,
    failed: usize,
}

impl Bars {
    fn new(total: usize, color: bool) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let template = if color {
            "{elapsed_precise:.dim} [{bar:30.cyan/blue}] {pos}/{len} {msg}"
        } else {
            "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}"
        };
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
        overall.enable_steady_tick(Duration::from_millis(200));
        Self { multi, overall, jobs: HashMap::new(), passed: 0, failed: 0 }
    }

    fn counts(&self) -> String {
        let remaining = self.overall.length().unwrap_or(0).saturating_sub(self.overall.position());
        format!("{} passed, {} failed, {remaining} to go", self.passed, self.failed)
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::JobStarted { slug, place } => {
                let bar = self.multi.insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix} {elapsed:>4} {msg}").expect("valid template"),
                );
                bar.set_prefix(match place {
                    Some(place) => format!("{slug} @{place}"),
                    None => slug.clone(),
                });
                bar.enable_steady_tick(Duration::from_millis(120));
                self.jobs.insert(slug.clone(), (bar, String::new(), PathBuf::new()));
            }
            Event::StepStarted { slug, step, attempt, log } => {
                if let Some((bar, current, path)) = self.jobs.get_mut(slug) {
                    *current = if *attempt > 1 { format!("{step} (try {attempt})") } else { step.clone() };
                    path.clone_from(log);
                    bar.set_message(current.clone());
                }
            }
            Event::StepFinished { .. } => {}
            Event::JobMoved { slug, from, to } => {
                if let Some((bar, _, _)) = self.jobs.remove(slug) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.println(format!("{slug}: {from} was lost; it runs again on {to}"));
            }
            Event::JobFinished { record } => {
                if let Some((bar, _, _)) = self.jobs.remove(&record.slug) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if record.status.is_failure() {
                    self.failed += 1;
                    let _ = self.multi.println(format!("{} {}", record.mark(), record.slug));
                } else if record.status == JobStatus::Passed {
                    self.passed += 1;
                }
                self.overall.inc(1);
                self.overall.set_message(self.counts());
            }
            Event::Cancelling { reason } => {
                let _ = self.multi.println(cancel_message(*reason));
            }
        }
    }

    fn tick(&mut self) {
        for (bar, step, log) in self.jobs.values() {
            let line = last_log_line(log);
            let shown = crate::text::ellipsize(&crate::text::one_line(&crate::text::plain(&line)), 80).into_owned();
            bar.set_message(if shown.is_empty() { step.clone() } else { format!("{step} · {shown}") });
        }
    }
}

/// The last line a running step has written, read from the end of its log.
fn last_log_line(log: &Path) -> String {
    use std::os::unix::fs::FileExt;
    let Ok(file) = std::fs::File::open(log) else { return String::new() };
    let len = file.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(512);
    let mut buf = [0u8; 512];
    let n = file.read_at(&mut buf[..usize::try_from(len - start).unwrap_or(0)], start).unwrap_or(0);
    last_line(&buf[..n]).map(|l| String::from_utf8_lossy(l).into_owned()).unwrap_or_default()
}

/// The plain display: one line per job start and end.
pub struct Lines {
    out: std::io::Stderr,
}

impl Lines {
    fn event(&mut self, event: &Event) {
        // The clock is read only for a line that is printed: steps print none.
        let now = || chrono::Local::now().format("%H:%M:%S");
        let mut line = match event {
            Event::JobStarted { slug, place: None } => format!("{} start   {slug}", now()),
            Event::JobStarted { slug, place: Some(place) } => format!("{} start   {slug} on {place}", now()),
            Event::JobMoved { slug, from, to } => format!("{} moved   {slug}: {from} was lost, now on {to}", now()),
            Event::JobFinished { record } => {
                let what = record.mark();
                let secs = record.duration.unwrap_or_default().as_secs_f64();
                let mut line = format!("{} {what:<7} {} ({secs:.1}s)", now(), record.slug);
                if record.status.is_failure() {
                    if let Some(step) = record.steps.last() {
                        let how = match (step.exit_code, step.signal) {
                            (Some(code), _) => format!("exit {code}"),
                            (None, Some(sig)) => format!("signal {sig}"),
                            _ => record.status.word().to_string(),
                        };
                        line.push_str(&format!(" in step {}: {how}", step.name));
                    }
                }
                line
            }
            Event::Cancelling { reason } => format!("{} {}", now(), cancel_message(*reason)),
            Event::StepStarted { .. } | Event::StepFinished { .. } => return,
        };
        // One write per line: stderr is unbuffered, and a line written in pieces can be split by
        // another process writing to the same CI log.
        line.push('\n');
        let _ = self.out.lock().write_all(line.as_bytes());
    }
}

fn cancel_message(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::Failures => "stopping: too many failures; running jobs get SIGTERM",
        CancelReason::Interrupt => "interrupted: running jobs get SIGTERM (again to kill at once)",
        CancelReason::Kill => "killing every running job",
    }
}

/// The last non-empty line of a chunk of output.
fn last_line(chunk: &[u8]) -> Option<&[u8]> {
    chunk.split(|&b| b == b'\n' || b == b'\r').rev().map(<[u8]>::trim_ascii).find(|l| !l.is_empty())
}
