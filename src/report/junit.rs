//! The JUnit XML report, for Jenkins, GitLab, GitHub and any CI that reads it: a `<testsuite>`
//! per job (named by its slug, its cell's values as properties), holding a `<testcase>` per step
//! attempt (`classname=SLUG name="step:NAME"`) and one per test result its JUnit files recorded
//! (`classname=SLUG.SUITE`). Jobs that did not run (unsupported, unavailable, skipped, cancelled
//! before they started) are suites with one skipped case that says why, so the report is never
//! silently smaller than the grid.
//!
//! A failing step's case carries the job's first error diagnostic (else the last line of its
//! log) as its message and the excerpt as its text. A step that failed is a `<failure>`; one that
//! was killed (timeout, memory limit, signal) is an `<error>`. A step that failed and then passed
//! on a retry is one passing case holding a `<flakyFailure>` per failed attempt (Maven
//! Surefire's form, which Jenkins shows as flaky and other readers take as a pass), so a flaky job
//! never turns a CI's test view red.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::format::{plain, seconds, Export, ReportError};
use super::markup;
use crate::outcome::{millis, JobRecord, JobStatus, RunReport, StepRecord, StepStatus, TestStatus};

/// How many error diagnostics a failing step's text lists before the end of the log.
const TEXT_DIAGNOSTICS: usize = 20;
/// Attribute messages are one line, cut to this many characters.
const MESSAGE_CHARS: usize = 300;

/// The JUnit XML report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Junit;

impl Export for Junit {
    fn serialize(&self, run: &RunReport, _baseline: Option<&RunReport>) -> Result<Vec<u8>, ReportError> {
        let suites: Vec<Suite<'_>> = run.jobs.iter().map(Suite::of).collect();
        let count = |f: fn(&Suite<'_>) -> usize| suites.iter().map(f).sum::<usize>().to_string();
        let time =
            run.run.duration.map_or_else(|| run.jobs.iter().filter_map(|j| j.duration.map(millis)).sum(), millis);
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("testsuites")
            .with_attributes([
                ("name", &*plain(&format!("{} run {}", run.run.project, run.run.id))),
                ("tests", &count(|s| s.cases.len())),
                ("failures", &count(|s| s.count(Outcome::is_failure))),
                ("errors", &count(|s| s.count(Outcome::is_error))),
                ("skipped", &count(|s| s.count(Outcome::is_skipped))),
                ("time", &seconds(time)),
            ])
            .write_inner_content(|w| suites.iter().try_for_each(|s| s.write(w)))?;
        let mut bytes = w.into_inner();
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// One job as a test suite.
struct Suite<'a> {
    job: &'a JobRecord,
    cases: Vec<Case>,
}

/// One test case.
struct Case {
    classname: String,
    name: String,
    time_ms: Option<i64>,
    outcome: Outcome,
    /// Earlier attempts that failed before this one passed: a message and how it ended.
    flaky: Vec<(String, String)>,
}

/// How a test case ended.
enum Outcome {
    Passed,
    /// It failed: `type`, a one-line message and the text.
    Failure(String, String, String),
    /// It was killed or broke: `type`, a one-line message and the text.
    Error(String, String, String),
    /// It did not run: why.
    Skipped(String),
}

impl Outcome {
    fn is_failure(&self) -> bool {
        matches!(self, Self::Failure(..))
    }
    fn is_error(&self) -> bool {
        matches!(self, Self::Error(..))
    }
    fn is_skipped(&self) -> bool {
        matches!(self, Self::Skipped(_))
    }
}

impl<'a> Suite<'a> {
    fn of(job: &'a JobRecord) -> Self {
        if job.steps.is_empty() && job.tests.is_empty() {
            // It did not run: one skipped case says why.
            let why = markup::outcome(job);
            let case = Case {
                classname: job.slug.clone(),
                name: "job".into(),
                time_ms: None,
                outcome: Outcome::Skipped(why),
                flaky: Vec::new(),
            };
            return Self { job, cases: vec![case] };
        }
        let deciding = deciding_step(job);
        let mut cases: Vec<Case> = Vec::new();
        let mut failed_before: Vec<(String, String)> = Vec::new();
        for (i, step) in job.steps.iter().enumerate() {
            let retried_later = job.steps[i + 1..].iter().any(|later| later.name == step.name);
            if step.status == StepStatus::Failed && retried_later {
                // Held until the attempt that decides the step: a flaky failure if that one passes.
                failed_before.push((
                    format!("attempt {}: {}", step.attempt, how_it_ended(step)),
                    format!("log: {}", step.log.display()),
                ));
                continue;
            }
            let mut case = step_case(job, step, Some(i) == deciding);
            let earlier = std::mem::take(&mut failed_before);
            if matches!(case.outcome, Outcome::Passed) {
                case.flaky = earlier;
            } else {
                // It never passed: every attempt is a case of its own.
                for (n, _) in earlier.iter().enumerate() {
                    let attempt = &job.steps[i - earlier.len() + n];
                    cases.push(step_case(job, attempt, false));
                }
            }
            cases.push(case);
        }
        cases.extend(job.tests.iter().map(|t| Case {
            flaky: Vec::new(),
            classname: format!("{}.{}", job.slug, t.suite),
            name: t.name.clone(),
            time_ms: t.duration_ms,
            outcome: match t.status {
                TestStatus::Failed => {
                    let text = t.message.as_deref().map(|m| plain(m).into_owned()).unwrap_or_default();
                    Outcome::Failure(TestStatus::Failed.to_string(), first_line(&text), text)
                }
                TestStatus::Skipped => Outcome::Skipped(t.message.as_deref().map(first_line).unwrap_or_default()),
                TestStatus::Passed => Outcome::Passed,
            },
        }));
        Self { job, cases }
    }

    fn count(&self, f: fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let job = self.job;
        let mut attrs = vec![
            ("name", job.slug.clone()),
            ("tests", self.cases.len().to_string()),
            ("failures", self.count(Outcome::is_failure).to_string()),
            ("errors", self.count(Outcome::is_error).to_string()),
            ("skipped", self.count(Outcome::is_skipped).to_string()),
            ("time", seconds(job.duration.map_or(0, millis))),
        ];
        // JUnit's schema wants a time without a zone; the store's are UTC.
        if let Some(started) = job.started_at.as_deref().and_then(|s| s.get(..19)) {
            attrs.push(("timestamp", started.to_string()));
        }
        let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        w.create_element("testsuite").with_attributes(attrs).write_inner_content(|w| {
            self.write_properties(w)?;
            self.cases.iter().try_for_each(|c| c.write(w))
        })?;
        Ok(())
    }

    /// The cell's values, and the compiler, as properties.
    fn write_properties(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let mut props: Vec<(String, String)> = self.job.values();
        if !self.job.compiler_version.is_empty() {
            props.push(("compiler_version".into(), self.job.compiler_version.clone()));
        }
        if let Some(host) = &self.job.host {
            props.push(("host".into(), host.clone()));
        }
        if let (Some(image), Some(digest)) = (&self.job.image, &self.job.image_digest) {
            props.push(("image".into(), image.clone()));
            props.push(("image_digest".into(), digest.clone()));
        }
        props.push(("status".into(), self.job.status.to_string()));
        w.create_element("properties").write_inner_content(|w| {
            for (name, value) in &props {
                w.create_element("property")
                    .with_attributes([("name", &*plain(name)), ("value", &*plain(value))])
                    .write_empty()?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

impl Case {
    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let mut attrs =
            vec![("classname", plain(&self.classname).into_owned()), ("name", plain(&self.name).into_owned())];
        if let Some(ms) = self.time_ms {
            attrs.push(("time", seconds(ms)));
        }
        let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let element = w.create_element("testcase").with_attributes(attrs);
        let (tag, kind, message, text) = match &self.outcome {
            Outcome::Passed if self.flaky.is_empty() => {
                element.write_empty()?;
                return Ok(());
            }
            Outcome::Passed => {
                element.write_inner_content(|w| {
                    self.flaky.iter().try_for_each(|(message, text)| {
                        write_failure(w, "flakyFailure", StepStatus::Failed.as_str(), message, text)
                    })
                })?;
                return Ok(());
            }
            Outcome::Failure(kind, message, text) => ("failure", kind.as_str(), message, text),
            Outcome::Error(kind, message, text) => ("error", kind.as_str(), message, text),
            Outcome::Skipped(message) => {
                element.write_inner_content(|w| {
                    w.create_element("skipped").with_attribute(("message", message.as_str())).write_empty()?;
                    Ok(())
                })?;
                return Ok(());
            }
        };
        element.write_inner_content(|w| write_failure(w, tag, kind, message, text))?;
        Ok(())
    }
}

/// `<TAG message=… type=…>TEXT</TAG>`: a failure, an error or a flaky failure of a case.
fn write_failure(w: &mut Writer<Vec<u8>>, tag: &str, kind: &str, message: &str, text: &str) -> std::io::Result<()> {
    let inner = w.create_element(tag).with_attributes([("message", message), ("type", kind)]);
    if text.is_empty() {
        inner.write_empty()?;
    } else {
        inner.write_text_content(BytesText::new(text))?;
    }
    Ok(())
}

/// The step whose failure decided the job's: its last attempt that did not pass.
fn deciding_step(job: &JobRecord) -> Option<usize> {
    job.steps.iter().rposition(|s| s.status != StepStatus::Passed)
}

/// A case for one step attempt: `step:NAME`, or `step:NAME (attempt N)` for a retry.
fn step_case(job: &JobRecord, step: &StepRecord, deciding: bool) -> Case {
    let name = if step.attempt > 1 {
        format!("step:{} (attempt {})", step.name, step.attempt)
    } else {
        format!("step:{}", step.name)
    };
    let how = how_it_ended(step);
    let (message, text) = if deciding { explain(job, &how) } else { (how.clone(), String::new()) };
    let outcome = match step.status {
        StepStatus::Passed => Outcome::Passed,
        StepStatus::Failed if step.signal.is_none() => Outcome::Failure(step.status.to_string(), message, text),
        StepStatus::Cancelled => Outcome::Skipped(step.status.to_string()),
        other => Outcome::Error(other.to_string(), message, text),
    };
    Case { classname: job.slug.clone(), name, time_ms: Some(millis(step.duration)), outcome, flaky: Vec::new() }
}

/// `exit 7`, `killed by signal 9`, or the step's status.
fn how_it_ended(step: &StepRecord) -> String {
    match (step.signal, step.exit_code) {
        (Some(signal), _) => format!("killed by signal {signal}"),
        (None, Some(code)) => format!("exit {code}"),
        (None, None) => JobStatus::from(step.status).word().to_string(),
    }
}

/// A failing step's message (its first error diagnostic, else its log's last line, else how it
/// ended) and text (its error diagnostics, then the end of its log).
fn explain(job: &JobRecord, how: &str) -> (String, String) {
    let errors: Vec<String> = job
        .diagnostics
        .iter()
        .filter(|d| d.severity.is_error())
        .take(TEXT_DIAGNOSTICS)
        .map(markup::diagnostic_line)
        .collect();
    let tail = plain(&job.log_tail.join("\n")).trim_end().to_string();
    let first =
        errors.first().cloned().or_else(|| tail.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string));
    let message = match first {
        Some(line) => format!("{how}: {}", first_line(&line)),
        None => how.to_string(),
    };
    let text = match (errors.is_empty(), tail.is_empty()) {
        (false, false) => format!("{}\n\n{tail}", errors.join("\n")),
        (false, true) => errors.join("\n"),
        (true, _) => tail,
    };
    (message, text)
}

/// The first line of `text`, cut to [`MESSAGE_CHARS`]: attribute values are one line.
fn first_line(text: &str) -> String {
    let line = plain(text.lines().next().unwrap_or_default()).into_owned();
    crate::text::ellipsize(&line, MESSAGE_CHARS).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{error, job, run};

    fn step(name: &str, attempt: u32, status: &str, exit: Option<i32>) -> StepRecord {
        StepRecord {
            name: name.into(),
            position: 0,
            status: status.parse().unwrap(),
            exit_code: exit,
            duration: std::time::Duration::from_millis(1500),
            log: format!("/logs/{name}.log").into(),
            attempt,
            signal: None,
            cpu: std::time::Duration::ZERO,
            peak_rss_kb: 0,
            log_bytes: 0,
            command: "true".into(),
        }
    }

    fn xml(doc: &RunReport) -> String {
        String::from_utf8(Junit.serialize(doc, None).unwrap()).unwrap()
    }

    #[test]
    fn a_retried_step_is_a_case_per_attempt_and_the_deciding_one_explains() {
        let mut j = job("gcc-12-17", &[("compiler", "gcc-12"), ("cxx_standard", "17")], "failed");
        j.steps = vec![step("build", 1, "failed", Some(1)), step("build", 2, "failed", Some(2))];
        j.diagnostics.push(error("a.cpp", 3, "boom & <bust>"));
        j.log_tail = vec!["\u{1b}[31mred\u{1b}[0m line".into()];
        let text = xml(&run(1, vec![j]));
        assert!(text.contains(r#"<testcase classname="gcc-12-17" name="step:build" time="1.500">"#), "{text}");
        assert!(text.contains(r#"name="step:build (attempt 2)""#), "{text}");
        assert!(text.contains(r#"<failure message="exit 1" type="failed"/>"#), "{text}");
        assert!(text.contains(r#"message="exit 2: a.cpp:3:1: error: boom &amp; &lt;bust&gt;""#), "{text}");
        assert!(text.contains("red line") && !text.contains('\u{1b}'), "{text}");
        assert!(text.contains(r#"tests="2" failures="2" errors="0" skipped="0" time="1.000""#), "{text}");
    }

    #[test]
    fn a_step_that_passed_on_a_retry_is_a_passing_case_with_its_flaky_failure() {
        let mut j = job("gcc-12-17", &[("compiler", "gcc-12")], "passed");
        j.flaky = true;
        j.steps = vec![
            step("build", 1, "failed", Some(7)),
            step("build", 2, "passed", Some(0)),
            step("test", 1, "passed", Some(0)),
        ];
        let text = xml(&run(1, vec![j]));
        assert!(text.contains(r#"tests="2" failures="0" errors="0" skipped="0""#), "{text}");
        assert!(
            text.contains(
                r#"<flakyFailure message="attempt 1: exit 7" type="failed">log: /logs/build.log</flakyFailure>"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"name="step:build (attempt 2)""#), "{text}");
        assert!(!text.contains("<failure"), "{text}");
    }

    #[test]
    fn a_job_that_did_not_run_is_a_skipped_suite_with_its_reason() {
        let mut j = job("clang-14-23", &[("compiler", "clang-14")], "unsupported");
        j.reason = Some("clang 14 cannot compile C++23".into());
        let text = xml(&run(1, vec![j]));
        assert!(text.contains(r#"<skipped message="unsupported: clang 14 cannot compile C++23"/>"#), "{text}");
        assert!(text.contains(r#"skipped="1""#), "{text}");
    }

    #[test]
    fn a_killed_step_is_an_error() {
        let mut j = job("x", &[("k", "x")], "timed_out");
        j.steps = vec![StepRecord { signal: Some(9), ..step("test", 1, "timed_out", None) }];
        let text = xml(&run(1, vec![j]));
        assert!(text.contains(r#"<error message="killed by signal 9" type="timed_out"/>"#), "{text}");
    }
}
