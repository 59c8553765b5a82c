//! Notifications: after a run, each `[[notify]]` entry of its matrix file decides whether the run
//! is news (a failure, a fix, a change, any run; past its thresholds) and, if so, sends an email,
//! posts a webhook or runs a command.
//!
//! A notification is a courtesy, never part of the run: one that fails is retried with backoff
//! and then reported as a note on stderr; it changes neither the run's record nor its exit code,
//! and it takes at most its entry's `timeout`, retries included (entries are sent at once, so a
//! run waits for the slowest one, never for their sum). Each attempt runs on a thread of its own
//! that is given up at its share of the time, so a server that never answers cannot hold the
//! run; a command's whole process group is killed at it.
//!
//! What is sent is made from the store, like every report: the run's JSON document (DESIGN §4's
//! `show --json`) with a one-line `text` for Slack and Mattermost, a plain-text mail with the
//! failed cells, and the self-contained HTML report as the mail's attachment. Values of the
//! environment variables that hold secrets (`password_env`, `url_env` and the file's `secrets`)
//! are masked in every line gridrun prints about a notification.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Email, MatrixFile, Notify, Security, Target, Trigger, WebhookUrl};
use crate::outcome::{JobStatus, RunRecord, RunReport, RunStatus, Severity};
use crate::report::format::Export;
use crate::secrets::Masker;
use crate::store::{Store, StoreError};

/// The first pause between attempts; each next one is twice as long.
const BACKOFF: Duration = Duration::from_millis(500);

/// The most failed cells a mail or a Slack line lists; the rest are counted.
const MAX_LISTED: usize = 50;
const MAX_LISTED_TEXT: usize = 10;

/// The largest HTML report attached to a mail; a larger one is left out (and said so), as mail
/// servers refuse messages much over 10 MB.
const MAX_ATTACHMENT: usize = 8 << 20;

/// How much of a failing command's stderr a warning quotes.
const STDERR_TAIL: usize = 400;

/// The hook `gridrun run` calls when a project's run has ended: sends what the matrix file's
/// `[[notify]]` entries ask for, and notes on stderr what was sent and what could not be. Never
/// fails: a notification that cannot be made or sent is a note.
pub fn after_run(store: &Store, matrix: &MatrixFile, run: i64) {
    if matrix.notify.is_empty() {
        return;
    }
    let project = &matrix.project.name;
    let notice = match store.run(&run.to_string()).and_then(|record| Notice::of(store, &record)) {
        Ok(notice) => notice,
        Err(e) => {
            crate::note!("{project}: cannot notify of run {run}: {e}");
            return;
        }
    };
    let due: Vec<&Notify> = matrix.notify.iter().filter(|entry| notice.applies(entry).is_ok()).collect();
    let masker = masker(matrix);
    for (entry, sent) in due.iter().zip(send_all(&due, &notice, matrix)) {
        let line = match sent {
            Ok(what) => format!("{project}: notified: {what}"),
            Err(why) => format!("{project}: warning: [[notify]] at line {}: {why}", entry.line),
        };
        crate::note!("{}", mask(masker.as_ref(), &line));
    }
}

/// What a run's notifications say, made once from the store and sent each way asked.
#[derive(Debug)]
pub struct Notice {
    /// The run, whole.
    pub report: RunReport,
    /// The project's finished run before it, if any.
    pub previous: Option<RunRecord>,
    /// What happened, in a word, where the run finished: `failed`, `fixed`, `passed`.
    pub event: Option<&'static str>,
    /// `heimdall run 12: failed (3 of 50 cells failed)`.
    pub headline: String,
    /// Cells that passed (a reused pass counts).
    pub passed: u64,
    /// Cells that failed, timed out or went over memory.
    pub failed: u64,
    /// Cells in the run.
    pub total: u64,
}

impl Notice {
    /// The notice of `run`, read from `store`.
    pub fn of(store: &Store, run: &RunRecord) -> Result<Self, StoreError> {
        let report = store.report(run)?;
        let previous = store.previous_finished(run)?;
        let stats = &run.stats;
        let passed = stats.count(JobStatus::Passed) + stats.count(JobStatus::Reused);
        let failed = stats.failures();
        let total = stats.total();
        let previous_failed = previous.as_ref().is_some_and(|p| p.status == RunStatus::Failed);
        let event = match run.status {
            RunStatus::Failed => Some("failed"),
            RunStatus::Passed if previous_failed => Some("fixed"),
            RunStatus::Passed => Some("passed"),
            RunStatus::Running | RunStatus::Interrupted | RunStatus::Abandoned => None,
        };
        let counts = match run.status {
            RunStatus::Failed => format!("{failed} of {total} cells failed"),
            _ => format!("{passed} of {total} cells passed"),
        };
        let name = match &run.branch {
            Some(branch) => format!("{}@{branch}", run.project),
            None => run.project.clone(),
        };
        let headline = format!("{name} run {}: {} ({counts})", run.id, event.unwrap_or_else(|| run.status.as_str()));
        Ok(Self { report, previous, event, headline, passed, failed, total })
    }

    /// The run.
    pub fn run(&self) -> &RunRecord {
        &self.report.run
    }

    /// Whether `entry` sends for this run: `Err` says why not.
    pub fn applies(&self, entry: &Notify) -> Result<(), String> {
        let status = self.run().status;
        if !matches!(status, RunStatus::Passed | RunStatus::Failed) {
            return Err(format!("the run is {status}; only a finished run is news"));
        }
        let previous = self.previous.as_ref().map(|p| p.status);
        let fires = |trigger: &Trigger| match trigger {
            Trigger::Failure => status == RunStatus::Failed,
            Trigger::Fixed => status == RunStatus::Passed && previous == Some(RunStatus::Failed),
            Trigger::Change => previous.is_some_and(|p| p != status),
            Trigger::Always => true,
        };
        if !entry.on.iter().any(fires) {
            let on: Vec<&str> = entry.on.iter().map(|t| t.as_str()).collect();
            let before = match &self.previous {
                Some(p) => format!("run {} before it {}", p.id, p.status),
                None => "no finished run before it".to_string(),
            };
            return Err(format!("on {}: the run {status} and {before}", on.join(", ")));
        }
        if let Some(min) = entry.min_failed {
            if self.failed < min {
                return Err(format!("min_failed = {min}: {} cell(s) failed", self.failed));
            }
        }
        if let Some(below) = entry.success_below {
            let ran = self.passed + self.failed;
            // Precision is no concern for a rate compared with a threshold.
            #[allow(clippy::cast_precision_loss)]
            let rate = (ran > 0).then(|| self.passed as f64 / ran as f64);
            match rate {
                Some(rate) if rate < below => {}
                Some(rate) => return Err(format!("success_below = {below}: the success rate is {rate:.3}")),
                None => return Err(format!("success_below = {below}: no cell ran to a verdict")),
            }
        }
        Ok(())
    }

    /// The variables `command` and `report_url` templates see.
    fn context(&self) -> minijinja::Value {
        let run = self.run();
        minijinja::context! {
            run => run.id,
            project => run.project.clone(),
            branch => run.branch.clone(),
            commit => run.commit.clone(),
            status => run.status.as_str(),
            event => self.event.unwrap_or_else(|| run.status.as_str()),
            failed => self.failed,
            passed => self.passed,
            total => self.total,
            text => self.headline.clone(),
            previous_run => self.previous.as_ref().map(|p| p.id),
        }
    }

    /// A template over the run rendered: `command`, `report_url`.
    pub fn render(&self, template: &str) -> Result<String, String> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_fuel(Some(crate::config::TEMPLATE_FUEL));
        env.render_str(template, self.context()).map_err(|e| format!("template error: {e}"))
    }

    /// The mail's subject.
    pub fn subject(&self) -> String {
        format!("[gridrun] {}", self.headline)
    }

    /// The failed cells, one line each: slug, failure kind, first diagnostic (or how it ended).
    fn failed_lines(&self, max: usize) -> Vec<String> {
        let failed: Vec<_> = self.report.jobs.iter().filter(|j| j.status.is_failure()).collect();
        let mut lines: Vec<String> = failed
            .iter()
            .take(max)
            .map(|job| {
                let kind = job.failure_kind.map_or_else(|| job.status.word(), |k| k.as_str());
                let allowed = if job.allow_failure { " (allowed)" } else { "" };
                let first = job
                    .diagnostics
                    .iter()
                    .find(|d| d.severity == Severity::Error)
                    .or_else(|| job.diagnostics.first())
                    .map(|d| {
                        let place = d.place();
                        let message = crate::text::one_line(&d.message);
                        if place.is_empty() {
                            message.into_owned()
                        } else {
                            format!("{place}: {message}")
                        }
                    })
                    .or_else(|| {
                        let step = job.steps.iter().rev().find(|s| s.status.is_failure()).map(|s| s.name.as_str());
                        match (step, job.how_it_ended()) {
                            (Some(step), Some(how)) => Some(format!("step {step}: {how}")),
                            (None, Some(how)) => Some(how),
                            (Some(step), None) => Some(format!("step {step}")),
                            (None, None) => None,
                        }
                    });
                let mut line = format!("{}{allowed}  {kind}", job.slug);
                if let Some(first) = first {
                    line.push_str("  ");
                    line.push_str(&crate::text::plain(&first));
                }
                line
            })
            .collect();
        if failed.len() > max {
            lines.push(format!("… and {} more", failed.len() - max));
        }
        lines
    }

    /// The one-line (or few-line) `text` Slack and Mattermost show.
    pub fn text(&self, report_url: Option<&str>) -> String {
        let mut text = format!("[gridrun] {}", self.headline);
        for line in self.failed_lines(MAX_LISTED_TEXT) {
            text.push_str("\n• ");
            text.push_str(&line);
        }
        if let Some(url) = report_url {
            text.push_str(&format!("\nReport: {url}"));
        }
        text
    }

    /// The run's JSON document with `text` (and `event`, `previous_run`, `report_url`) added:
    /// what a webhook receives and a command reads on its stdin.
    pub fn json(&self, report_url: Option<&str>) -> Vec<u8> {
        let mut doc = serde_json::to_value(&self.report).unwrap_or(serde_json::Value::Null);
        if let Some(map) = doc.as_object_mut() {
            map.insert("text".into(), self.text(report_url).into());
            map.insert("event".into(), self.event.into());
            map.insert("previous_run".into(), self.previous.as_ref().map(|p| p.id).into());
            map.insert("report_url".into(), report_url.into());
        }
        let mut bytes = serde_json::to_vec(&doc).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The mail's plain-text body.
    pub fn body(&self, report_url: Option<&str>, attachment: Option<&str>) -> String {
        let run = self.run();
        let mut body = format!("{}\n\n", self.headline);
        if !run.commit.is_empty() {
            let dirty = if run.dirty { " (with local changes)" } else { "" };
            let _ = writeln!(body, "Commit:   {}{dirty}", run.commit);
        }
        let _ = writeln!(body, "Started:  {}", run.started_at);
        if let Some(took) = run.duration {
            let ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
            let _ = writeln!(body, "Took:     {}", crate::report::format::human_duration(ms));
        }
        let _ = writeln!(body, "Cells:    {}", run.stats.describe());
        if let Some(previous) = &self.previous {
            let _ = writeln!(body, "Before:   run {} {}", previous.id, previous.status);
        }
        let failed = self.failed_lines(MAX_LISTED);
        if !failed.is_empty() {
            body.push_str("\nFailed cells:\n");
            for line in failed {
                let _ = writeln!(body, "  {line}");
            }
        }
        body.push('\n');
        match (report_url, attachment) {
            (Some(url), _) => {
                let _ = writeln!(body, "Report: {url}");
            }
            (None, Some(name)) => {
                let _ = writeln!(body, "The report is attached: {name}");
            }
            (None, None) => {}
        }
        let _ = writeln!(body, "On the machine that ran it: gridrun show {}", run.id);
        body
    }

    /// The HTML report's file name as attached.
    pub fn attachment_name(&self) -> String {
        format!("gridrun-{}-run-{}.html", self.run().project, self.run().id)
    }
}

/// The masker of the values the file's notifications and secrets keep in the environment.
pub fn masker(matrix: &MatrixFile) -> Option<Masker> {
    let mut names = matrix.secrets.clone();
    for entry in &matrix.notify {
        match &entry.target {
            Target::Email(Email { login: Some(login), .. }) => names.push(login.password_env.clone()),
            Target::Webhook(hook) => {
                if let WebhookUrl::Env(name) = &hook.url {
                    names.push(name.clone());
                }
            }
            Target::Email(_) | Target::Command(_) => {}
        }
    }
    let values: Vec<String> = names.iter().filter_map(|n| std::env::var(n).ok()).collect();
    Masker::new(&values)
}

/// `text` with every secret value masked.
pub fn mask(masker: Option<&Masker>, text: &str) -> String {
    match masker {
        Some(m) => m.mask(text).into_owned(),
        None => text.to_string(),
    }
}

/// What `entry` would send and to whom, for `gridrun notify --dry-run`: a few lines.
pub fn describe(entry: &Notify, notice: &Notice, matrix: &MatrixFile) -> String {
    let report_url = entry.report_url.as_ref().map(|t| notice.render(&t.value));
    let url = match &report_url {
        Some(Ok(url)) => Some(url.as_str()),
        _ => None,
    };
    let mut out = String::new();
    match &entry.target {
        Target::Email(email) => {
            let _ = writeln!(out, "  to:      {}", email.to.join(", "));
            let _ = writeln!(out, "  from:    {}", email.from);
            let login = match &email.login {
                Some(login) => {
                    let set = if std::env::var_os(&login.password_env).is_some() { "" } else { ", which is not set" };
                    format!(", as {} (password from ${}{set})", login.user, login.password_env)
                }
                None => String::new(),
            };
            let _ = writeln!(out, "  server:  {}:{} ({}){login}", email.server, email.port, email.security.as_str());
            let _ = writeln!(out, "  subject: {}", notice.subject());
            if let Some(url) = url {
                let _ = writeln!(out, "  report:  {url}");
            } else if email.attach_report {
                let _ = writeln!(out, "  attach:  {}", notice.attachment_name());
            }
        }
        Target::Webhook(hook) => {
            let shown = match &hook.url {
                WebhookUrl::Literal(url) => url.clone(),
                WebhookUrl::Env(name) => match std::env::var(name) {
                    Ok(value) => format!("${name} = {}", hide_path(&value)),
                    Err(_) => format!("${name}, which is not set"),
                },
            };
            let _ = writeln!(out, "  POST:    {shown}");
            let _ = writeln!(out, "  text:    {}", notice.text(url).lines().next().unwrap_or_default());
        }
        Target::Command(command) => {
            let rendered = notice.render(&command.value).unwrap_or_else(|e| e);
            let _ = writeln!(out, "  run:     sh -c {}", crate::remote::ssh::quote(&rendered));
            let _ = writeln!(out, "  stdin:   the run's JSON ({} bytes)", notice.json(url).len());
        }
    }
    if let Some(Err(e)) = report_url {
        let _ = writeln!(out, "  report_url: {e}");
    }
    let _ = writeln!(out, "  within:  {} ({} retries)", humantime::format_duration(entry.timeout), entry.retries);
    mask(masker(matrix).as_ref(), &out)
}

/// A URL with its path and query replaced by `***`: a webhook's token usually stands there.
fn hide_path(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}/***")
        }
        None => "***".into(),
    }
}

/// Sends every entry of `due` at once; each one's result, in order: `Ok` says what was sent,
/// `Err` why it could not be (after its retries).
pub fn send_all(due: &[&Notify], notice: &Notice, matrix: &MatrixFile) -> Vec<Result<String, String>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = due.iter().map(|entry| scope.spawn(|| send(entry, notice, matrix))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("internal error while sending; this is a bug in gridrun".into())))
            .collect()
    })
}

/// Why an attempt failed, and whether another could fare better.
struct Failure {
    message: String,
    /// The other side refused for good (a 4xx, a permanent SMTP reply): no retry.
    permanent: bool,
}

impl Failure {
    fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }

    fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true }
    }
}

/// One attempt: given its time, it sends or fails.
type Attempt = Arc<dyn Fn(Duration) -> Result<(), Failure> + Send + Sync>;

/// Sends one entry with its retries, within its timeout.
fn send(entry: &Notify, notice: &Notice, matrix: &MatrixFile) -> Result<String, String> {
    let report_url = entry.report_url.as_ref().map(|t| notice.render(&t.value)).transpose()?;
    let url = report_url.as_deref();
    let (what, attempt): (String, Attempt) = match &entry.target {
        Target::Email(email) => {
            let password = match &email.login {
                Some(login) => Some(std::env::var(&login.password_env).map_err(|_| {
                    format!("${} is not set, so the mail to {} was not sent", login.password_env, email.to.join(", "))
                })?),
                None => None,
            };
            let message = mail(email, notice, url)?;
            let email = email.clone();
            let what = format!("email to {}", email.to.join(", "));
            (what, Arc::new(move |budget| smtp(&email, password.as_deref(), &message, budget)))
        }
        Target::Webhook(hook) => {
            let target = match &hook.url {
                WebhookUrl::Literal(url) => url.clone(),
                WebhookUrl::Env(name) => {
                    let value =
                        std::env::var(name).map_err(|_| format!("${name} is not set, so nothing was posted"))?;
                    crate::config::check_url(&value).map_err(|why| format!("${name}: {why}"))?;
                    value
                }
            };
            let shown = match &hook.url {
                WebhookUrl::Literal(url) => url.clone(),
                WebhookUrl::Env(name) => format!("${name}"),
            };
            let body = Arc::new(notice.json(url));
            (format!("webhook {shown}"), Arc::new(move |budget| post(&target, &body, budget)))
        }
        Target::Command(command) => {
            let line = notice.render(&command.value)?;
            let stdin = Arc::new(notice.json(url));
            let dir = matrix.dir.clone();
            let run = notice.run();
            let env = vec![
                ("GRIDRUN_RUN".to_string(), run.id.to_string()),
                ("GRIDRUN_PROJECT".to_string(), run.project.clone()),
                ("GRIDRUN_STATUS".to_string(), run.status.as_str().to_string()),
            ];
            let what = format!("command `{}`", crate::text::one_line(&line));
            (what, Arc::new(move |budget| shell(&line, &stdin, &dir, &env, budget)))
        }
    };
    let (attempts, result) = with_retries(entry, &attempt);
    match result {
        Ok(()) if attempts > 1 => Ok(format!("sent {what} (attempt {attempts})")),
        Ok(()) => Ok(format!("sent {what}")),
        Err(why) => {
            let tries = if attempts == 1 { "1 attempt".to_string() } else { format!("{attempts} attempts") };
            Err(format!("{what} not sent ({tries} within {}): {why}; the run's result stands", seconds(entry.timeout)))
        }
    }
}

/// `20s`, `1.5s`.
fn seconds(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))).to_string()
}

/// Runs `attempt` until it succeeds, fails for good, or the entry's retries or time run out.
/// Each attempt gets an equal share of the time left, so a server that never answers still
/// leaves time for the retries; between attempts the pause doubles.
fn with_retries(entry: &Notify, attempt: &Attempt) -> (u32, Result<(), String>) {
    let deadline = Instant::now() + entry.timeout;
    let attempts = entry.retries.saturating_add(1);
    let mut last = String::from("no time was left to try");
    let mut made = 0;
    for i in 0..attempts {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        let budget = remaining / (attempts - i);
        made = i + 1;
        match within(budget, attempt) {
            Ok(()) => return (made, Ok(())),
            Err(failure) => {
                last = failure.message;
                if failure.permanent {
                    break;
                }
            }
        }
        if i + 1 < attempts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let pause = BACKOFF.saturating_mul(1 << i.min(10)).min(remaining / 4);
            std::thread::sleep(pause);
        }
    }
    (made, Err(last))
}

/// Runs one attempt on a thread of its own and waits for it at most `budget` (and a moment for
/// a command being killed): an attempt stuck past it is left behind, never waited for.
fn within(budget: Duration, attempt: &Attempt) -> Result<(), Failure> {
    let (tx, rx) = mpsc::channel();
    let attempt = Arc::clone(attempt);
    let spawned = std::thread::Builder::new().name("notify".into()).spawn(move || {
        let _ = tx.send(attempt(budget));
    });
    if let Err(e) = spawned {
        return Err(Failure::transient(format!("cannot start a thread: {e}")));
    }
    match rx.recv_timeout(budget + Duration::from_millis(250)) {
        Ok(result) => result,
        Err(_) => Err(Failure::transient(format!("no answer within {}", seconds(budget)))),
    }
}

/// The mail: the plain-text body, and the HTML report attached unless a `report_url` links it.
fn mail(email: &Email, notice: &Notice, report_url: Option<&str>) -> Result<lettre::Message, String> {
    use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
    let mailbox = |text: &str| text.parse::<Mailbox>().map_err(|e| format!("`{text}`: {e}"));
    let mut builder = lettre::Message::builder().from(mailbox(&email.from)?).subject(notice.subject());
    for to in &email.to {
        builder = builder.to(mailbox(to)?);
    }
    let mut html = None;
    let mut skipped = None;
    if email.attach_report && report_url.is_none() {
        let page = crate::report::html::Html { live: false, pivot: None }
            .serialize(&notice.report, None)
            .map_err(|e| e.to_string())?;
        if page.len() <= MAX_ATTACHMENT {
            html = Some(page);
        } else {
            skipped = Some(page.len());
        }
    }
    let name = notice.attachment_name();
    let mut body = notice.body(report_url, html.as_ref().map(|_| name.as_str()));
    if let Some(bytes) = skipped {
        body.push_str(&format!(
            "The report ({} MiB) is too large to attach: `gridrun report {}` writes it.\n",
            bytes >> 20,
            notice.run().id
        ));
    }
    let plain = SinglePart::plain(body);
    let message = match html {
        Some(page) => {
            let kind = ContentType::parse("text/html; charset=utf-8").map_err(|e| e.to_string())?;
            builder.multipart(MultiPart::mixed().singlepart(plain).singlepart(Attachment::new(name).body(page, kind)))
        }
        None => builder.singlepart(plain),
    };
    message.map_err(|e| format!("cannot make the mail: {e}"))
}

/// One attempt at sending `message` over SMTP.
fn smtp(email: &Email, password: Option<&str>, message: &lettre::Message, budget: Duration) -> Result<(), Failure> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{SmtpTransport, Transport};
    let builder = match email.security {
        Security::None => SmtpTransport::builder_dangerous(&email.server),
        Security::StartTls => SmtpTransport::starttls_relay(&email.server).map_err(|e| smtp_failure(&e))?,
        Security::Tls => SmtpTransport::relay(&email.server).map_err(|e| smtp_failure(&e))?,
    };
    let mut builder = builder.port(email.port).timeout(Some(budget));
    if let (Some(login), Some(password)) = (&email.login, password) {
        builder = builder.credentials(Credentials::new(login.user.clone(), password.to_string()));
    }
    builder.build().send(message).map(|_| ()).map_err(|e| smtp_failure(&e))
}

fn smtp_failure(e: &lettre::transport::smtp::Error) -> Failure {
    let message = format!("SMTP: {e}");
    if e.is_permanent() {
        Failure::permanent(message)
    } else {
        Failure::transient(message)
    }
}

/// One attempt at posting `body` to `url`.
fn post(url: &str, body: &[u8], budget: Duration) -> Result<(), Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(budget))
        .http_status_as_error(false)
        .user_agent(concat!("gridrun/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    match agent.post(url).header("content-type", "application/json").send(body) {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            let code = response.status().as_u16();
            let message = format!("HTTP {}", response.status());
            // A request the server refuses as it stands is refused again; a busy or broken
            // server may take it later.
            if (400..500).contains(&code) && code != 408 && code != 429 {
                Err(Failure::permanent(message))
            } else {
                Err(Failure::transient(message))
            }
        }
        Err(e) => Err(Failure::transient(e.to_string())),
    }
}

/// One attempt at running `line` with `sh -c` in `dir`, the run's JSON on its stdin, in a
/// process group of its own that is killed whole at `budget`.
fn shell(
    line: &str,
    stdin: &[u8],
    dir: &std::path::Path,
    env: &[(String, String)],
    budget: Duration,
) -> Result<(), Failure> {
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| Failure::permanent(format!("cannot run sh: {e}")))?;
    let group = i32::try_from(child.id()).unwrap_or(0);
    if let Some(mut input) = child.stdin.take() {
        let bytes = stdin.to_vec();
        // A command that does not read its stdin closes it: that is no failure.
        std::thread::spawn(move || {
            let _ = input.write_all(&bytes);
        });
    }
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(mut err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = err.read_to_end(&mut text);
            let _ = err_tx.send(text);
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(budget) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(Failure::transient(format!("cannot wait for the command: {e}"))),
        Err(_) => {
            crate::exec::process::signal_group(group, crate::exec::process::Signal::KILL);
            let _ = rx.recv_timeout(Duration::from_secs(1));
            return Err(Failure::transient(format!("the command did not finish within {}", seconds(budget))));
        }
    };
    if status.success() {
        return Ok(());
    }
    let stderr = err_rx.recv_timeout(Duration::from_millis(200)).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    let tail = crate::text::one_line(crate::text::tail(stderr.trim_end(), 3, STDERR_TAIL)).into_owned();
    let how = match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "failed".into(),
    };
    Err(Failure::transient(if tail.is_empty() {
        format!("the command ended with {how}")
    } else {
        format!("the command ended with {how}: {tail}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Target, Text};
    use crate::outcome::RunStats;

    fn record(id: i64, status: RunStatus) -> RunRecord {
        RunRecord {
            id,
            project: "heimdall".into(),
            matrix_path: "gridrun.toml".into(),
            status,
            commit: String::new(),
            dirty: false,
            started_at: String::new(),
            finished_at: None,
            duration: None,
            branch: None,
            revision: String::new(),
            config_key: String::new(),
            stats: RunStats::default(),
        }
    }

    fn notice(status: RunStatus, previous: Option<RunStatus>, passed: u64, failed: u64) -> Notice {
        let mut run = record(2, status);
        run.stats.add(JobStatus::Passed, passed);
        run.stats.add(JobStatus::Failed, failed);
        Notice {
            report: RunReport { run, jobs: Vec::new() },
            previous: previous.map(|s| record(1, s)),
            event: None,
            headline: String::new(),
            passed,
            failed,
            total: passed + failed,
        }
    }

    fn entry(on: &[Trigger]) -> Notify {
        Notify {
            line: 1,
            on: on.to_vec(),
            min_failed: None,
            success_below: None,
            timeout: Duration::from_secs(1),
            retries: 0,
            report_url: None,
            target: Target::Command(Text { value: "true".into(), span: 0..0 }),
        }
    }

    #[test]
    fn triggers_compare_with_the_previous_finished_run() {
        use RunStatus::{Failed, Interrupted, Passed};
        let sends = |on: &[Trigger], status, previous| notice(status, previous, 1, 1).applies(&entry(on)).is_ok();
        assert!(sends(&[Trigger::Failure], Failed, None));
        assert!(!sends(&[Trigger::Failure], Passed, Some(Failed)));
        assert!(sends(&[Trigger::Fixed], Passed, Some(Failed)));
        assert!(!sends(&[Trigger::Fixed], Passed, Some(Passed)));
        assert!(!sends(&[Trigger::Fixed], Passed, None));
        assert!(sends(&[Trigger::Change], Failed, Some(Passed)));
        assert!(!sends(&[Trigger::Change], Failed, Some(Failed)));
        assert!(!sends(&[Trigger::Change], Failed, None), "a first run is no change");
        assert!(sends(&[Trigger::Always], Passed, None));
        assert!(!sends(&[Trigger::Always], Interrupted, None), "an interrupted run is no news");
    }

    #[test]
    fn thresholds_and_with_the_triggers() {
        let mut e = entry(&[Trigger::Always]);
        e.min_failed = Some(3);
        assert!(notice(RunStatus::Failed, None, 10, 2).applies(&e).unwrap_err().contains("min_failed = 3"));
        assert!(notice(RunStatus::Failed, None, 10, 3).applies(&e).is_ok());
        e.min_failed = None;
        e.success_below = Some(0.9);
        assert!(notice(RunStatus::Failed, None, 9, 1).applies(&e).is_err(), "0.9 is not below 0.9");
        assert!(notice(RunStatus::Failed, None, 8, 2).applies(&e).is_ok());
        assert!(notice(RunStatus::Passed, None, 0, 0).applies(&e).unwrap_err().contains("no cell ran"));
    }

    #[test]
    fn a_webhook_url_shows_its_host_and_hides_its_path() {
        assert_eq!(hide_path("https://user:pw@hooks.slack.com/services/T/B/X?x=1"), "https://hooks.slack.com/***");
        assert_eq!(hide_path("not a url"), "***");
    }
}
