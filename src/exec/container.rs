//! The executor for a container image, on this host: each step is `podman run` (or `docker
//! run`) of the image, supervised like any local step (its log, its deadline, its cancellation)
//! with the job's folders mounted at the same paths, the source read-only, the build and
//! results folders writable, files owned by the calling user, and the job's CPU slots and memory
//! cap handed to the engine, which enforces them. The image's digest goes into the job's record.

use std::io;
use std::path::{Path, PathBuf};

use super::executor::{BoxFuture, Executor, StepEnd, StepSpec};
use super::supervisor;
use super::workspace::{self, PreparedSource};
use crate::config::Engine;
use crate::outcome::StepStatus;
use crate::plan::RenderedJob;
use crate::remote::engine;
use crate::remote::ssh::quote;

/// Where, inside the container, the step's cgroup says its peak memory (cgroup v2, then v1).
const PEAK: &str =
    "cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null";

/// Runs jobs in one image.
#[derive(Debug)]
pub struct ContainerExecutor {
    /// The engine.
    pub engine: Engine,
    /// The image, as the cell named it.
    pub image: String,
    /// Its digest: what runs (a tag moved meanwhile changes nothing).
    pub digest: String,
    /// More options for the engine's `run`.
    pub options: Vec<String>,
    /// The run's source, here.
    pub source: PreparedSource,
    /// `<state>/runs/<run>`.
    pub logs_dir: PathBuf,
    /// The cache shared by runs (`{{ cache_dir }}`), mounted writable.
    pub cache_dir: PathBuf,
    /// Each job's folders, from its `prepare`: its source (read-only) and its workspace.
    pub mounts: std::sync::Mutex<std::collections::HashMap<String, (PathBuf, PathBuf)>>,
}

impl Executor for ContainerExecutor {
    fn name(&self) -> &str {
        &self.image
    }

    fn image(&self, _job: &RenderedJob) -> Option<(String, String)> {
        Some((self.image.clone(), self.digest.clone()))
    }

    fn prepare<'a>(&'a self, job: &'a RenderedJob) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let log_dir = self.logs_dir.join(&job.job.slug);
            let mut dirs: Vec<&Path> = job.make_dirs.iter().map(PathBuf::as_path).collect();
            dirs.push(&log_dir);
            dirs.push(&job.work_dir);
            workspace::prepare_job(&self.source, &job.source, &dirs).map_err(|e| io::Error::other(e.to_string()))?;
            self.mounts
                .lock()
                .expect("mounts lock")
                .insert(job.job.slug.clone(), (job.source.clone(), job.work_dir.clone()));
            Ok(())
        })
    }

    fn run_step<'a>(&'a self, spec: StepSpec<'a>) -> BoxFuture<'a, io::Result<StepEnd>> {
        Box::pin(self.run_in_image(spec))
    }
}

impl ContainerExecutor {
    async fn run_in_image(&self, spec: StepSpec<'_>) -> io::Result<StepEnd> {
        // The step's own folder, where the engine runs (conmon leaves an `oom` file where the
        // kernel killed the container at its cap) and the container leaves its peak memory.
        let work = spec.cwd.to_path_buf();
        let (source, work_dir) = self
            .mounts
            .lock()
            .expect("mounts lock")
            .get(spec.job)
            .cloned()
            .ok_or_else(|| io::Error::other("the job was not prepared"))?;
        let step_dir = std::env::temp_dir()
            .join(format!("gridrun-{}-{}-{}-{}", spec.token, spec.job, spec.position, spec.attempt));
        let _ = std::fs::remove_dir_all(&step_dir);
        std::fs::create_dir_all(&step_dir)?;
        let name = container_name(spec.token, spec.job, spec.position, spec.attempt);
        let mut words: Vec<String> = vec![
            self.engine.program().into(),
            "run".into(),
            "--rm".into(),
            // A PID 1 that forwards SIGTERM (a shell without handlers ignores it as PID 1).
            "--init".into(),
            "--name".into(),
            name.clone(),
            "--label".into(),
            format!("gridrun.token={}", spec.token),
            "--user".into(),
            format!("{}:{}", rustix::process::getuid().as_raw(), rustix::process::getgid().as_raw()),
            "--cpus".into(),
            cpus_of(spec.env).to_string(),
            "-v".into(),
            format!("{}:{}:rw", step_dir.display(), step_dir.display()),
            "-v".into(),
            format!("{}:{}:ro", source.display(), source.display()),
            "-v".into(),
            format!("{}:{}:rw", work_dir.display(), work_dir.display()),
            "-v".into(),
            format!("{}:{}:rw", self.cache_dir.display(), self.cache_dir.display()),
            "-w".into(),
            work.display().to_string(),
        ];
        if let Some(limit) = spec.memory_limit {
            words.extend(["--memory".into(), limit.to_string(), "--memory-swap".into(), limit.to_string()]);
        }
        for (key, _) in spec.env {
            // The value comes from the engine's own environment: never on a command line.
            words.extend(["-e".into(), key.clone()]);
        }
        words.extend(self.options.iter().cloned());
        let inner = format!(
            "sh -c {cmd}; code=$?; ({PEAK}) > {peak} 2>/dev/null; exit $code",
            cmd = quote(spec.command),
            peak = quote(&step_dir.join("peak").display().to_string())
        );
        words.extend(["--".into(), self.digest.clone(), "sh".into(), "-c".into(), inner]);
        let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        let memory_limit = spec.memory_limit;
        let original = spec.command.to_string();
        let step = StepSpec { command: &line, cwd: &step_dir, memory_limit: None, ..spec };
        let mut end = supervisor::run_step(step).await?;
        end.record.command = original;
        let peak_kb = std::fs::read_to_string(step_dir.join("peak"))
            .ok()
            .and_then(|p| p.trim().parse::<u64>().ok())
            .map_or(0, |bytes| bytes / 1024);
        end.record.peak_rss_kb = end.record.peak_rss_kb.max(peak_kb);
        // The kernel held the container to its cap by killing one of its processes: what is left
        // of the step is not what was asked for, whatever it exited with (as on this host).
        let oom = step_dir.join("oom").exists()
            || (end.record.exit_code == Some(137) && memory_limit.is_some_and(|l| peak_kb * 1024 >= l / 10 * 9));
        if oom && matches!(end.record.status, StepStatus::Passed | StepStatus::Failed) {
            end.record.status = StepStatus::MemoryExceeded;
        }
        let engine_failed = end.record.exit_code == Some(125) && end.record.status == StepStatus::Failed;
        if !matches!(end.record.status, StepStatus::Passed | StepStatus::Failed) || engine_failed {
            // The engine's client was ended (a timeout, a cancel): its container goes too.
            let engine = self.engine;
            let _ = tokio::task::spawn_blocking(move || {
                duct::cmd(engine.program(), ["rm", "-f", "--ignore", "-t", "0", &name])
                    .stdout_null()
                    .stderr_null()
                    .unchecked()
                    .run()
            })
            .await;
        }
        let _ = std::fs::remove_dir_all(&step_dir);
        if engine_failed {
            let said = end.tail.last().cloned().unwrap_or_default();
            return Err(io::Error::other(format!(
                "{} could not run the container: {}",
                self.engine.program(),
                engine::hint(&said)
            )));
        }
        Ok(end)
    }
}

/// The container's name: the run's token and the step attempt, so each is unique and a sweep can
/// find them.
fn container_name(token: &str, job: &str, position: usize, attempt: u32) -> String {
    let safe: String = job
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    format!("gridrun-{token}-{safe}-{position}-{attempt}")
}

/// The CPU slots the job was granted (`GRIDRUN_CPUS`), for `--cpus`.
fn cpus_of(env: &[(String, String)]) -> u32 {
    env.iter().find(|(k, _)| k == "GRIDRUN_CPUS").and_then(|(_, v)| v.parse().ok()).unwrap_or(1).max(1)
}
