//! One shape per thing a run records — a step attempt, a diagnostic, a test case, an artifact, a
//! job, a run — made by the executor, written to the store and read back from it as the same
//! type, and serialized by serde in DESIGN §4's JSON shapes (fields in the order §4 names them;
//! fields may be added, never renamed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::stats::RunStats;
use super::words::{
    DiagnosticKind, FailureKind, JobKind, JobStatus, RunStatus, Severity, StepStatus, TestStatus, Tone,
};

/// The version of the JSON shapes.
pub const SCHEMA: u32 = 1;

/// A duration in whole milliseconds, as the store and JSON keep it.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds as the store keeps them, as a duration (negative ones as zero).
pub fn from_millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// What ccache did for one job's compiles, read from its own statistics log (never a diff of the
/// shared cache's counters, which concurrent jobs would mix up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CcacheStats {
    /// Compiles answered from the cache (direct and preprocessed hits).
    pub hits: u64,
    /// Compiles the cache could have answered but did not.
    pub misses: u64,
    /// Compiles ccache could cache at all: hits and misses.
    pub cacheable: u64,
}

impl CcacheStats {
    /// Hits over cacheable calls, from 0 to 1; `None` without any cacheable call.
    pub fn hit_rate(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "a rate")]
        (self.cacheable > 0).then(|| self.hits as f64 / self.cacheable as f64)
    }

    /// `12/40 hits (30 %)`, for people.
    pub fn describe(&self) -> String {
        match self.hit_rate() {
            Some(rate) => format!("{}/{} hits ({:.0} %)", self.hits, self.cacheable, rate * 100.0),
            None => "no cacheable compiles".into(),
        }
    }

    /// The sum of many jobs' figures; `None` where none went through ccache.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Self>) -> Option<Self> {
        all.into_iter().fold(None, |acc: Option<Self>, s| {
            let acc = acc.unwrap_or_default();
            Some(Self {
                hits: acc.hits + s.hits,
                misses: acc.misses + s.misses,
                cacheable: acc.cacheable + s.cacheable,
            })
        })
    }
}

/// One attempt of one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// The step's name.
    pub name: String,
    /// Its position in the job, from 0.
    pub position: usize,
    /// Which attempt, from 1 (retries add more).
    pub attempt: u32,
    /// How it ended.
    pub status: StepStatus,
    /// The exit code, where it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, where one did.
    pub signal: Option<i32>,
    /// Wall time.
    pub duration: Duration,
    /// User + system CPU time of the step's processes.
    pub cpu: Duration,
    /// Peak resident memory, KiB (0: below what could be told apart from gridrun's own).
    pub peak_rss_kb: u64,
    /// The log file (stdout and stderr, interleaved as they came).
    pub log: PathBuf,
    /// Bytes written to the log.
    pub log_bytes: u64,
    /// The command that ran.
    pub command: String,
}

impl Serialize for StepRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(12))?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("exit_code", &self.exit_code)?;
        map.serialize_entry("duration_ms", &millis(self.duration))?;
        map.serialize_entry("log", &self.log)?;
        map.serialize_entry("attempt", &self.attempt)?;
        map.serialize_entry("signal", &self.signal)?;
        map.serialize_entry("cpu_ms", &millis(self.cpu))?;
        map.serialize_entry("peak_rss_kb", &self.peak_rss_kb)?;
        map.serialize_entry("log_bytes", &self.log_bytes)?;
        map.serialize_entry("command", &self.command)?;
        map.serialize_entry("position", &self.position)?;
        map.end()
    }
}

/// One diagnostic found in a step's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The step whose log it is in.
    pub step: String,
    /// How bad it is.
    pub severity: Severity,
    /// Which tool reported it.
    pub kind: DiagnosticKind,
    /// The file it points at, as printed (a leading `./` dropped); `None` for a driver's or a
    /// linker's complaint about no file in particular.
    pub file: Option<String>,
    /// The line in `file`.
    pub line: Option<u32>,
    /// The column in `line`.
    pub col: Option<u32>,
    /// The message as printed, without location and severity.
    pub message: String,
    /// The lines that go with it, in log order: the include chain and the function printed
    /// before it, then the notes, `>>>` lines or CMake call stack printed after it.
    pub context: Vec<String>,
}

impl Diagnostic {
    /// Whether it is a warning that `-Werror` made an error (`[-Werror=…]`, `[-Werror]`,
    /// `[-Werror,-W…]`).
    pub fn promoted_by_werror(&self) -> bool {
        let m = &self.message;
        self.severity.is_error() && (m.contains("[-Werror=") || m.contains("[-Werror,") || m.ends_with("[-Werror]"))
    }

    /// `file:line:col`, as much of it as is known; empty without a file.
    pub fn place(&self) -> String {
        match (&self.file, self.line, self.col) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(f), Some(l), None) => format!("{f}:{l}"),
            (Some(f), None, _) => f.clone(),
            _ => String::new(),
        }
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("severity", &self.severity)?;
        map.serialize_entry("file", &self.file)?;
        map.serialize_entry("line", &self.line)?;
        map.serialize_entry("col", &self.col)?;
        map.serialize_entry("message", &self.message)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("step", &self.step)?;
        map.serialize_entry("context", &self.context.join("\n"))?;
        map.end()
    }
}

/// One test case read from a JUnit file a step wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TestCase {
    /// The step whose JUnit file listed it.
    pub step: String,
    /// The suite (`testsuite` name, or the case's `classname`).
    pub suite: String,
    /// The test's name.
    pub name: String,
    /// How it ended.
    pub status: TestStatus,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The failure or skip message, where there is one.
    pub message: Option<String>,
}

/// One file a job's artifact patterns collected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Artifact {
    /// Where it was, relative to the folder it was found under.
    pub path: String,
    /// Where the stored copy is (gone once `removed_at` is set).
    pub stored_path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// When `gc` removed the copy.
    pub removed_at: Option<String>,
}

/// A job's tests, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TestCounts {
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
}

/// One job: what the plan made of its cell, and everything its run recorded. The executor fills
/// in how it went; the store adds what the plan said and gives the whole back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobRecord {
    /// Its id in the store (0 until stored).
    pub id: i64,
    /// The cell's slug, unique within the matrix.
    pub slug: String,
    /// A cell, a setup or a finally step.
    pub kind: JobKind,
    /// The values the matrix file gave its cell, as JSON, in file order.
    pub cell: serde_json::Value,
    /// A hash over everything that decides its result.
    pub config_hash: String,
    /// The compiler its cell names, and that compiler's version.
    pub compiler: String,
    /// The compiler's version.
    pub compiler_version: String,
    /// Why it did not run (unsupported, unavailable, skipped).
    pub reason: Option<String>,
    /// For a reused job, the run whose pass it stands on.
    pub reused_from: Option<i64>,
    /// Where it stands, or how it ended.
    pub status: JobStatus,
    /// Why, in a word, where it did not pass.
    pub failure_kind: Option<FailureKind>,
    /// The exit code of the step that decided the outcome (the last one, for a pass).
    pub exit_code: Option<i32>,
    /// The signal that ended that step, where one did.
    pub signal: Option<i32>,
    /// When it started (RFC 3339, UTC).
    pub started_at: Option<String>,
    /// Wall time; `None` until it ends.
    pub duration: Option<Duration>,
    /// CPU time of every step.
    pub cpu: Option<Duration>,
    /// The largest peak RSS of any step, KiB.
    pub peak_rss_kb: Option<u64>,
    /// Passed only on a retry.
    pub flaky: bool,
    /// `allow_failure = true`: its failure fails neither the run nor the fan-out.
    pub allow_failure: bool,
    /// The build host it ran on; `None` for this host.
    pub host: Option<String>,
    /// The container image its steps ran in, as the cell named it.
    pub image: Option<String>,
    /// That image's digest (its ID), what exactly ran.
    pub image_digest: Option<String>,
    /// Where it worked, where the workspace was kept.
    pub work_dir: Option<PathBuf>,
    /// The last lines of the deciding step's log (for a flaky job, of the attempt that failed).
    pub log_tail: Vec<String>,
    /// Every step attempt, in order.
    pub steps: Vec<StepRecord>,
    /// Diagnostics found in the failed step's log.
    pub diagnostics: Vec<Diagnostic>,
    /// Test results from the JUnit files its steps wrote.
    pub tests: Vec<TestCase>,
    /// The files its artifact patterns collected.
    pub artifacts: Vec<Artifact>,
    /// What built it, as its run found it: its bill of materials' toolchain and environment
    /// (`None` for a job that did not run, or one recorded before these were kept). A run's jobs
    /// mostly share theirs, and read back they share one copy.
    pub build: Option<Arc<BuildFacts>>,
    /// A coverage cell's figures, as gcovr summarised them.
    pub coverage: Option<Coverage>,
    /// What ccache did for its compiles, where `[cache] ccache = true`.
    pub ccache: Option<CcacheStats>,
}

/// Line, function and branch coverage of a job, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Lines run.
    pub lines_covered: u64,
    /// Lines that could run.
    pub lines_total: u64,
    /// Functions entered.
    pub functions_covered: u64,
    /// Functions.
    pub functions_total: u64,
    /// Branches taken.
    pub branches_covered: u64,
    /// Branches.
    pub branches_total: u64,
}

impl Coverage {
    /// `covered` of `total` in per cent; `None` where there is nothing to cover.
    pub fn percent(covered: u64, total: u64) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "line counts far under 2^52")]
        (total > 0).then(|| covered as f64 * 100.0 / total as f64)
    }

    /// Line coverage in per cent.
    pub fn line_percent(&self) -> Option<f64> {
        Self::percent(self.lines_covered, self.lines_total)
    }

    /// `lines 85.0 % (170/200), functions 90.0 % (9/10), branches 50.0 % (4/8)`.
    pub fn describe(&self) -> String {
        let one = |word: &str, covered: u64, total: u64| match Self::percent(covered, total) {
            Some(p) => format!("{word} {p:.1} % ({covered}/{total})"),
            None => format!("{word} -"),
        };
        [
            one("lines", self.lines_covered, self.lines_total),
            one("functions", self.functions_covered, self.functions_total),
            one("branches", self.branches_covered, self.branches_total),
        ]
        .join(", ")
    }

    /// The figures of a gcovr JSON summary (`--json-summary`).
    pub fn from_gcovr(doc: &serde_json::Value) -> Option<Self> {
        let n = |key: &str| doc.get(key).and_then(serde_json::Value::as_u64);
        Some(Self {
            lines_covered: n("line_covered")?,
            lines_total: n("line_total")?,
            functions_covered: n("function_covered").unwrap_or(0),
            functions_total: n("function_total").unwrap_or(0),
            branches_covered: n("branch_covered").unwrap_or(0),
            branches_total: n("branch_total").unwrap_or(0),
        })
    }
}

impl JobRecord {
    /// A job of this slug, nothing recorded yet.
    pub fn new(slug: impl Into<String>) -> Self {
        Self { slug: slug.into(), ..Self::default() }
    }

    /// Its tests counted by outcome.
    pub fn test_counts(&self) -> TestCounts {
        let count = |status| self.tests.iter().filter(|t| t.status == status).count() as u64;
        TestCounts {
            passed: count(TestStatus::Passed),
            failed: count(TestStatus::Failed),
            skipped: count(TestStatus::Skipped),
        }
    }

    /// The cell's values as `(key, canonical text)` pairs, in file order.
    pub fn values(&self) -> Vec<(String, String)> {
        self.cell
            .as_object()
            .map(|o| {
                o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            })
            .unwrap_or_default()
    }

    /// The canonical text of the cell's `key`, if it has one.
    pub fn value(&self, key: &str) -> Option<String> {
        let v = self.cell.get(key)?;
        Some(v.as_str().map_or_else(|| v.to_string(), str::to_string))
    }

    /// Whether it failed in a way that fails its run: a failure not allowed.
    pub fn fails_run(&self) -> bool {
        self.status.is_failure() && !self.allow_failure
    }

    /// Its word in a grid: `pass`, `FAIL`, `flaky`…; `allowed` for a failure allowed.
    pub fn mark(&self) -> &'static str {
        if self.allow_failure && self.status.is_failure() {
            "allowed"
        } else {
            self.status.mark(self.flaky)
        }
    }

    /// How it reads at a glance: a failure allowed reads as a warning, not an error.
    pub fn tone(&self) -> Tone {
        if self.allow_failure && self.status.is_failure() {
            Tone::Flaky
        } else {
            self.status.tone(self.flaky)
        }
    }

    /// How the deciding step ended, for people: `exit 3`, `signal 9`; nothing for a pass.
    pub fn how_it_ended(&self) -> Option<String> {
        match (self.status, self.signal, self.exit_code) {
            (JobStatus::Passed, _, _) => None,
            (_, Some(signal), _) => Some(format!("signal {signal}")),
            (_, None, Some(code)) => Some(format!("exit {code}")),
            _ => None,
        }
    }

    /// The job as a JSON document of its own: with `schema` and its `run`.
    pub fn alone(&self, run: i64) -> Alone<'_> {
        Alone { run, job: self }
    }

    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("slug", &self.slug)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("cell", &self.cell)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("failure_kind", &self.failure_kind)?;
        map.serialize_entry("exit_code", &self.exit_code)?;
        map.serialize_entry("signal", &self.signal)?;
        map.serialize_entry("duration_ms", &self.duration.map(millis))?;
        map.serialize_entry("cpu_ms", &self.cpu.map(millis))?;
        map.serialize_entry("peak_rss_kb", &self.peak_rss_kb)?;
        map.serialize_entry("flaky", &self.flaky)?;
        map.serialize_entry("allow_failure", &self.allow_failure)?;
        map.serialize_entry("host", &self.host)?;
        map.serialize_entry("image", &self.image)?;
        map.serialize_entry("image_digest", &self.image_digest)?;
        map.serialize_entry("steps", &self.steps)?;
        map.serialize_entry("diagnostics", &self.diagnostics)?;
        map.serialize_entry("tests", &self.test_counts())?;
        map.serialize_entry("reason", &self.reason)?;
        map.serialize_entry("config_hash", &self.config_hash)?;
        map.serialize_entry("compiler", &self.compiler)?;
        map.serialize_entry("compiler_version", &self.compiler_version)?;
        map.serialize_entry("started_at", &self.started_at)?;
        map.serialize_entry("work_dir", &self.work_dir)?;
        map.serialize_entry("reused_from", &self.reused_from)?;
        map.serialize_entry("test_cases", &self.tests)?;
        map.serialize_entry("artifacts", &self.artifacts)?;
        if let Some(coverage) = &self.coverage {
            map.serialize_entry("coverage", coverage)?;
        }
        let tail = (!self.log_tail.is_empty()).then(|| self.log_tail.join("\n"));
        map.serialize_entry("log_tail", &tail)?;
        // Only where ccache ran: documents without it keep their shape.
        if let Some(ccache) = &self.ccache {
            map.serialize_entry("ccache", ccache)?;
        }
        Ok(())
    }
}

impl JobRecord {
    /// A job as its JSON document (`show RUN/JOB --json`, which a Slurm task leaves for
    /// `collect`) says it ended: what the store records of it, steps and all. `None` where the
    /// document is not one.
    pub fn from_json(doc: &serde_json::Value) -> Option<Self> {
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let int = |v: &serde_json::Value| v.as_i64().and_then(|n| i32::try_from(n).ok());
        let ms = |v: &serde_json::Value| v.as_u64().map(Duration::from_millis);
        let steps = doc["steps"]
            .as_array()?
            .iter()
            .map(|s| {
                Some(StepRecord {
                    name: text(&s["name"])?,
                    position: usize::try_from(s["position"].as_u64()?).ok()?,
                    attempt: u32::try_from(s["attempt"].as_u64()?).ok()?,
                    status: serde_json::from_value(s["status"].clone()).ok()?,
                    exit_code: int(&s["exit_code"]),
                    signal: int(&s["signal"]),
                    duration: ms(&s["duration_ms"]).unwrap_or_default(),
                    cpu: ms(&s["cpu_ms"]).unwrap_or_default(),
                    peak_rss_kb: s["peak_rss_kb"].as_u64().unwrap_or(0),
                    log: PathBuf::from(text(&s["log"])?),
                    log_bytes: s["log_bytes"].as_u64().unwrap_or(0),
                    command: text(&s["command"]).unwrap_or_default(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let diagnostics = doc["diagnostics"]
            .as_array()?
            .iter()
            .map(|d| {
                Some(Diagnostic {
                    step: text(&d["step"]).unwrap_or_default(),
                    severity: serde_json::from_value(d["severity"].clone()).ok()?,
                    kind: serde_json::from_value(d["kind"].clone()).ok()?,
                    file: text(&d["file"]),
                    line: d["line"].as_u64().and_then(|n| u32::try_from(n).ok()),
                    col: d["col"].as_u64().and_then(|n| u32::try_from(n).ok()),
                    message: text(&d["message"]).unwrap_or_default(),
                    context: d["context"]
                        .as_str()
                        .filter(|c| !c.is_empty())
                        .map(|c| c.lines().map(str::to_string).collect())
                        .unwrap_or_default(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            slug: text(&doc["slug"])?,
            kind: serde_json::from_value(doc["kind"].clone()).unwrap_or_default(),
            cell: doc["cell"].clone(),
            config_hash: text(&doc["config_hash"]).unwrap_or_default(),
            compiler: text(&doc["compiler"]).unwrap_or_default(),
            compiler_version: text(&doc["compiler_version"]).unwrap_or_default(),
            reason: text(&doc["reason"]),
            reused_from: doc["reused_from"].as_i64(),
            status: serde_json::from_value(doc["status"].clone()).ok()?,
            failure_kind: serde_json::from_value(doc["failure_kind"].clone()).ok().flatten(),
            exit_code: int(&doc["exit_code"]),
            signal: int(&doc["signal"]),
            started_at: text(&doc["started_at"]),
            duration: ms(&doc["duration_ms"]),
            cpu: ms(&doc["cpu_ms"]),
            peak_rss_kb: doc["peak_rss_kb"].as_u64(),
            flaky: doc["flaky"].as_bool().unwrap_or(false),
            allow_failure: doc["allow_failure"].as_bool().unwrap_or(false),
            host: text(&doc["host"]),
            image: text(&doc["image"]),
            image_digest: text(&doc["image_digest"]),
            work_dir: text(&doc["work_dir"]).map(PathBuf::from),
            log_tail: doc["log_tail"].as_str().map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default(),
            steps,
            diagnostics,
            tests: serde_json::from_value(doc["test_cases"].clone()).ok()?,
            artifacts: serde_json::from_value(doc["artifacts"].clone()).ok()?,
            // Not in the JSON shape: a Slurm task's build facts stay on its node.
            build: None,
            coverage: serde_json::from_value(doc["coverage"].clone()).ok(),
            ccache: serde_json::from_value(doc["ccache"].clone()).ok(),
            id: 0,
        })
    }
}

impl Serialize for JobRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

/// A job serialized as a document of its own (`show RUN/JOB --json`).
#[derive(Debug)]
pub struct Alone<'a> {
    run: i64,
    job: &'a JobRecord,
}

impl Serialize for Alone<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schema", &SCHEMA)?;
        map.serialize_entry("run", &self.run)?;
        self.job.serialize_fields(&mut map)?;
        map.end()
    }
}

/// One run, as a line of `status` sums it up.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Its id.
    pub id: i64,
    /// The project.
    pub project: String,
    /// The matrix file, as it was named.
    pub matrix_path: String,
    /// Where it stands, or how it ended.
    pub status: RunStatus,
    /// The source's commit (empty outside a repository).
    pub commit: String,
    /// Whether the source had local changes.
    pub dirty: bool,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// How long it took; `None` while it runs.
    pub duration: Option<Duration>,
    /// The branch it built, where there was one.
    pub branch: Option<String>,
    /// The source revision it built, as `--if-changed` compares it.
    pub revision: String,
    /// The configuration `--if-changed` compares within.
    pub config_key: String,
    /// Its jobs, counted.
    pub stats: RunStats,
}

/// A run and every job of it: DESIGN's `show RUN --json` document, and what every report is
/// made from.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// The run.
    pub run: RunRecord,
    /// Its jobs, in plan order.
    pub jobs: Vec<JobRecord>,
}

impl Serialize for RunReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let run = &self.run;
        let mut map = serializer.serialize_map(Some(12))?;
        map.serialize_entry("schema", &SCHEMA)?;
        map.serialize_entry("run", &run.id)?;
        map.serialize_entry("project", &run.project)?;
        map.serialize_entry("status", &run.status)?;
        map.serialize_entry("commit", &run.commit)?;
        map.serialize_entry("started_at", &run.started_at)?;
        map.serialize_entry("dirty", &run.dirty)?;
        map.serialize_entry("branch", &run.branch)?;
        map.serialize_entry("finished_at", &run.finished_at)?;
        map.serialize_entry("duration_ms", &run.duration.map(millis))?;
        map.serialize_entry("matrix_path", &run.matrix_path)?;
        if let Some(pattern) = super::patterns::explain(&self.jobs) {
            map.serialize_entry("failure_pattern", &pattern.to_string())?;
        }
        map.serialize_entry("jobs", &self.jobs)?;
        map.end()
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    /// What a Slurm task writes of a job is what `collect` reads back, field for field.
    #[test]
    fn a_job_reads_back_from_its_json_as_it_was() {
        let job = JobRecord {
            slug: "gcc-12-17".into(),
            cell: serde_json::json!({"compiler": "gcc-12", "cxx_standard": 17}),
            config_hash: "0123456789abcdef".into(),
            compiler: "gcc-12".into(),
            compiler_version: "12.2.0".into(),
            status: JobStatus::Failed,
            failure_kind: Some(FailureKind::Compile),
            exit_code: Some(1),
            started_at: Some("2026-12-01T10:00:00Z".into()),
            duration: Some(Duration::from_millis(1500)),
            cpu: Some(Duration::from_millis(900)),
            peak_rss_kb: Some(2048),
            allow_failure: true,
            host: Some("mac".into()),
            log_tail: vec!["a".into(), "b".into()],
            steps: vec![StepRecord {
                name: "build".into(),
                position: 1,
                attempt: 2,
                status: StepStatus::Failed,
                exit_code: Some(1),
                signal: None,
                duration: Duration::from_millis(1200),
                cpu: Duration::from_millis(800),
                peak_rss_kb: 2048,
                log: "/s/runs/3/gcc-12-17/build.2.log".into(),
                log_bytes: 99,
                command: "make".into(),
            }],
            diagnostics: vec![Diagnostic {
                step: "build".into(),
                severity: Severity::Error,
                kind: DiagnosticKind::Compile,
                file: Some("a.cpp".into()),
                line: Some(3),
                col: None,
                message: "boom".into(),
                context: vec!["In function".into(), "note: here".into()],
            }],
            tests: vec![TestCase {
                step: "test".into(),
                suite: "s".into(),
                name: "t".into(),
                status: TestStatus::Passed,
                duration_ms: Some(4),
                message: None,
            }],
            artifacts: vec![Artifact {
                path: "lib.a".into(),
                stored_path: "/s/artifacts/sha256/ab/cd".into(),
                size: 7,
                sha256: "abcd".into(),
                removed_at: None,
            }],
            ..JobRecord::default()
        };
        let doc = serde_json::to_value(&job).unwrap();
        assert_eq!(JobRecord::from_json(&doc), Some(job));
        assert_eq!(JobRecord::from_json(&serde_json::json!({"slug": "x"})), None);
    }
}

/// What a job's run knew of what built it, kept with its record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BuildFacts {
    /// The source's repository: a git source's URL, a folder's `origin` (credentials removed).
    #[serde(default)]
    pub repository: Option<String>,
    /// The tools the job's steps ran, in a fixed order: compilers, LLVM, CMake, Ninja, image.
    #[serde(default)]
    pub tools: Vec<ToolFact>,
    /// The environment every step got, secrets masked.
    #[serde(default)]
    pub env: Vec<(String, String)>,
}

/// One tool as the job found it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ToolFact {
    /// What it is to the job: `cxx`, `cc`, `llvm-config`, `cmake`, `ninja`, `image`.
    pub role: String,
    /// The command (or image) as the job named it.
    pub name: String,
    /// Its version, where known.
    #[serde(default)]
    pub version: Option<String>,
    /// The binary that ran, symlinks resolved; `None` where it ran elsewhere (a build host, an
    /// image) or was not found.
    #[serde(default)]
    pub path: Option<String>,
    /// That binary's SHA-256 (hex).
    #[serde(default)]
    pub sha256: Option<String>,
}
