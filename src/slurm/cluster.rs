//! Slurm's own commands, as a login node has them: `scontrol` for the cluster's limits and the
//! tasks' states, `sbatch` to submit, `scancel` to cancel, `srun` for a probe on a node, and
//! `sacct` where accounting keeps what `scontrol` has forgotten. Nothing else of Slurm is
//! assumed; its configuration comes from the environment (`SLURM_CONF`) as for its own tools.

use std::io;

use crate::text::said;

/// The cluster as `scontrol show config` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// `ClusterName`.
    pub name: String,
    /// `MaxArraySize`: array indices run from 0 to this less one.
    pub max_array_size: u32,
}

impl Cluster {
    /// Asks `scontrol`; `Err` says why there is no cluster to use.
    pub fn detect() -> Result<Self, String> {
        let out = duct::cmd("scontrol", ["show", "config"])
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| format!("cannot run scontrol ({e}): is this a Slurm login node?"))?;
        if !out.status.success() {
            return Err(format!("scontrol show config: {}", said(&out.stderr)));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string()))
        };
        Ok(Self {
            name: value("ClusterName").unwrap_or_else(|| "cluster".into()),
            max_array_size: value("MaxArraySize").and_then(|v| v.parse().ok()).unwrap_or(1001).max(2),
        })
    }
}

/// One array task as Slurm sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskState {
    /// Its index in the array.
    pub task: u32,
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, `OUT_OF_MEMORY`, `CANCELLED`,
    /// `NODE_FAIL`…
    pub state: String,
    /// Slurm's reason (`None`, `Resources`, `NodeFail`…).
    pub reason: String,
    /// How many times Slurm requeued it.
    pub restarts: u32,
    /// `ExitCode=CODE:SIGNAL`.
    pub exit: String,
    /// Where it ran.
    pub node: String,
}

impl TaskState {
    /// Whether Slurm is done with it.
    pub fn is_final(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "CONFIGURING"
                | "COMPLETING"
                | "REQUEUED"
                | "REQUEUE_HOLD"
                | "REQUEUE_FED"
                | "RESIZING"
                | "SUSPENDED"
                | "STAGE_OUT"
                | "SIGNALING"
        )
    }

    /// Whether it is running (or finishing).
    pub fn is_running(&self) -> bool {
        matches!(self.state.as_str(), "RUNNING" | "CONFIGURING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING")
    }
}

/// Submits with `sbatch --parsable ARGS…` and returns the job's id.
pub fn sbatch(args: &[String]) -> Result<String, String> {
    let out = duct::cmd("sbatch", std::iter::once("--parsable".to_string()).chain(args.iter().cloned()))
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    if !out.status.success() {
        return Err(format!("sbatch: {}", said(&out.stderr)));
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("sbatch said no job id: {}", String::from_utf8_lossy(&out.stdout).trim()));
    }
    Ok(id)
}

/// Cancels these jobs (every task of an array); what is already over stays as it ended.
pub fn scancel(ids: &[String]) -> Result<(), String> {
    if ids.is_empty() {
        return Ok(());
    }
    let out = duct::cmd("scancel", ids)
        .stdin_null()
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("scancel: {}", said(&out.stderr)))
    }
}

/// The tasks of array job `id` as the controller knows them (every one, while it remembers the
/// job); `Ok(empty)` where it no longer does.
pub fn task_states(id: &str) -> Result<Vec<TaskState>, String> {
    let out = duct::cmd("scontrol", ["-o", "show", "job", id])
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run scontrol: {e}"))?;
    if !out.status.success() {
        let why = said(&out.stderr);
        if why.contains("Invalid job id") {
            return Ok(accounting_states(id));
        }
        return Err(format!("scontrol show job {id}: {why}"));
    }
    Ok(parse_show_job(&String::from_utf8_lossy(&out.stdout)))
}

/// `scontrol -o show job` lines: one per task that has started, and one per range of tasks
/// still pending (`ArrayTaskId=4-99%2`).
pub fn parse_show_job(text: &str) -> Vec<TaskState> {
    let mut tasks = Vec::new();
    for line in text.lines() {
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
                .unwrap_or_default()
                .to_string()
        };
        let ids = field("ArrayTaskId");
        let ids = ids.split('%').next().unwrap_or_default();
        let state = TaskState {
            task: 0,
            state: field("JobState"),
            reason: field("Reason"),
            restarts: field("Restarts").parse().unwrap_or(0),
            exit: field("ExitCode"),
            node: field("NodeList"),
        };
        for id in indices(ids) {
            tasks.push(TaskState { task: id, ..state.clone() });
        }
    }
    tasks
}

/// `0`, `2-5`, `1,3,7-9` as the indices they name.
fn indices(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b.min(a.saturating_add(1_000_000)));
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

/// What accounting (`sacct`) remembers of array job `id`, where the cluster keeps it; nothing
/// where it does not.
fn accounting_states(id: &str) -> Vec<TaskState> {
    let Ok(out) = duct::cmd("sacct", ["-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode,NodeList"])
        .stdin_null()
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            let (_, task) = fields.first()?.split_once('_')?;
            Some(TaskState {
                task: task.parse().ok()?,
                // `CANCELLED by 0` says who; the state is the first word.
                state: fields.get(1)?.split_whitespace().next()?.to_string(),
                exit: fields.get(2).map(|s| (*s).to_string()).unwrap_or_default(),
                node: fields.get(3).map(|s| (*s).to_string()).unwrap_or_default(),
                ..TaskState::default()
            })
        })
        .collect()
}

/// Runs `sh -s ARGS…` with `script` on its stdin on a node (`srun` with these options), and
/// returns its stdout.
pub fn srun_script(options: &[String], script: &str, args: &[String]) -> io::Result<String> {
    // A probe that cannot start within two minutes (a busy or drained partition) says so.
    let mut all: Vec<String> =
        vec!["--nodes=1".into(), "--ntasks=1".into(), "--quiet".into(), "--immediate=120".into()];
    all.extend(options.iter().cloned());
    all.extend(["sh".into(), "-s".into()]);
    all.extend(args.iter().cloned());
    let out = crate::toolchain::feed("srun", &all, script)?;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(io::Error::other(format!("srun: {}", said(&out.stderr))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_job_lines_become_one_state_per_task() {
        let text = "JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=wrap JobState=TIMEOUT Reason=TimeLimit Restarts=0 ExitCode=0:15 NodeList=gr1\n\
                    JobId=10 ArrayJobId=10 ArrayTaskId=4-6,9%2 JobState=PENDING Reason=JobArrayTaskLimit Restarts=0 ExitCode=0:0 NodeList=(null)\n";
        let tasks = parse_show_job(text);
        assert_eq!(tasks.iter().map(|t| t.task).collect::<Vec<_>>(), [2, 4, 5, 6, 9]);
        assert_eq!(
            (tasks[0].state.as_str(), tasks[0].reason.as_str(), tasks[0].exit.as_str()),
            ("TIMEOUT", "TimeLimit", "0:15")
        );
        assert!(tasks[0].is_final() && !tasks[1].is_final());
    }
}
