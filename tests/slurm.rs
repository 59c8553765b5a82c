//! `run --on slurm` and `collect` against a real single-node Slurm (slurmctld, slurmd and munge
//! from Debian's slurm-wlm) the tests start in a folder of their own (`tests/engines/slurm`):
//! real C++ cells submitted as an array, waited for and folded into one run shaped as a local
//! run's; `--detach` then `collect` (twice adding nothing twice); Slurm's own verdicts for a task
//! over its time and one over its memory; Ctrl-C cancelling the array; a task cancelled with
//! `scancel` from outside and a drained node; arrays split at `MaxArraySize`; cells packed.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::engines::slurm;
use common::{have, wait_for, RunDoc, Test};

/// The cluster is one node of two cores, shared by every test here: they take turns, so no
/// test's long tasks starve another's of the cores.
fn need_slurm() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    assert!(have("slurmctld") && have("sbatch") && have("munged"), "Slurm is not installed: run .ci/install-deps");
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// gridrun against the tests' cluster.
fn gridrun(t: &Test) -> Command {
    let mut command = t.process();
    command.env("SLURM_CONF", &slurm().conf);
    command
}

fn run(t: &Test, args: &[&str]) -> (i32, String, String) {
    let out = gridrun(t).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The shape of a run: each job's slug, status, step names and whether its logs exist.
fn shape(run: &RunDoc) -> Vec<(String, String, Vec<String>, bool)> {
    run.jobs
        .iter()
        .map(|j| {
            let logs = j.steps.iter().all(|s| std::path::Path::new(&s.log_path).is_file());
            (j.slug.clone(), j.status.clone(), j.steps.iter().map(|s| s.name.clone()).collect(), logs)
        })
        .collect()
}

const GRID: &str = r#"
[project]
name = "onslurm"
[matrix]
compiler = ["gcc-12", "clang-14"]
cxx_standard = ["17", "20"]
kind = ["ok"]
[[matrix.include]]
compiler = "gcc-12"
cxx_standard = "17"
kind = "broken"
[limits]
memory = "512MiB"
timeout = "5m"
[[steps]]
name = "build"
run = "printf '#include <cstdio>\nint main(){std::puts(\"hi {{ kind }}\");}\n' > {{ build_dir }}/a.cpp && {{ cxx }} -std=c++{{ cxx_standard }} -o {{ build_dir }}/a {{ build_dir }}/a.cpp"
[[steps]]
name = "test"
run = "{{ build_dir }}/a && test {{ kind }} = ok"
"#;

/// A grid of real C++ cells through Slurm (five tasks: two arrays at MaxArraySize 5… of four),
/// waited for and folded into one run that reads as a local run of the same grid reads.
#[test]
fn a_grid_on_slurm_is_one_run_shaped_as_a_local_one() {
    let _turn = need_slurm();
    let t = Test::new().matrix(GRID);
    let (code, plan, stderr) = run(&t, &["plan", "--on", "slurm"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(plan.contains("5 cells in 5 array task(s) on cluster"), "{plan}");
    assert!(plan.contains("--cpus-per-task=1 --mem=576M --time=6"), "{plan}");

    let (code, stdout, stderr) = run(&t, &["run", "--on", "slurm"]);
    assert_eq!(code, 1, "one cell fails its test: {stdout}\n{stderr}");
    let on_slurm = t.show("latest");
    assert_eq!(on_slurm.status, "failed");
    let local = Test::new().matrix(GRID);
    assert_eq!(local.command().arg("run").output().unwrap().status.code(), Some(1));
    assert_eq!(shape(&on_slurm), shape(&local.show("latest")), "the same grid, the same record");
    let broken = on_slurm.job("gcc-12-17-broken");
    assert_eq!((broken.status.as_str(), broken.failure_kind.as_deref()), ("failed", Some("test")));
    assert_eq!(std::fs::read_to_string(&broken.steps[1].log_path).unwrap(), "hi broken\n");
    assert!(stdout.contains("run 1: 4 passed, 1 failed"), "{stdout}");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.state_dir().join("slurm/1/spec.json")).unwrap()).unwrap();
    assert_eq!(spec["arrays"].as_array().unwrap().len(), 1, "five tasks fit one array of MaxArraySize 5");

    // Cells packed two to a task, and more tasks than one array holds: split arrays.
    let t = Test::new()
        .matrix(&GRID.replace("kind = [\"ok\"]", "kind = [\"ok\", \"also\"]").replace("test {{ kind }} = ok", "true"));
    let (code, _, stderr) = run(&t, &["run", "--on", "slurm"]);
    assert_eq!(code, 0, "{stderr}");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.state_dir().join("slurm/1/spec.json")).unwrap()).unwrap();
    assert_eq!(spec["tasks"].as_array().unwrap().len(), 9);
    assert_eq!(spec["arrays"].as_array().unwrap().len(), 2, "nine tasks split at MaxArraySize 5");
    assert_eq!(t.show("latest").jobs.iter().filter(|j| j.status == "passed").count(), 9);
    let (code, _, stderr) = run(&t, &["run", "--on", "slurm", "--pack", "3"]);
    assert_eq!(code, 0, "{stderr}");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.state_dir().join("slurm/2/spec.json")).unwrap()).unwrap();
    assert_eq!(spec["tasks"].as_array().unwrap().len(), 3, "nine cells, three to a task");
    assert_eq!(t.show("latest").jobs.iter().filter(|j| j.status == "passed").count(), 9);
}

/// `--detach` submits and exits with the run's id; `collect` folds in what has finished and says
/// what is still to come; once over, a second `collect` adds nothing.
#[test]
fn detach_then_collect_adds_each_task_once() {
    let _turn = need_slurm();
    let t = Test::new().matrix(
        "[project]\nname = \"later\"\n[matrix]\nn = [1, 2, 3]\n[[steps]]\nname = \"s\"\nrun = \"sleep 0.{{ n }}; echo done {{ n }}\"\n",
    );
    let (code, stdout, stderr) = run(&t, &["run", "--on", "slurm", "--detach"]);
    assert_eq!((code, stdout.as_str()), (0, "1\n"), "{stderr}");
    assert!(stderr.contains("run 1 submitted to Slurm as job "), "{stderr}");
    assert_eq!(t.show("latest").status, "running", "the run is Slurm's until collected");
    assert_eq!(t.show("latest").status, "running", "and no later command calls it abandoned");
    let mut collected = String::new();
    wait_for("collect to fold the whole run", Duration::from_secs(60), || {
        let (code, stdout, stderr) = run(&t, &["collect"]);
        assert_eq!(code, 0, "{stderr}");
        collected = stdout;
        collected.contains("run 1: 3 passed, 0 failed")
    });
    let run_doc = t.show("latest");
    assert_eq!(run_doc.status, "passed");
    for job in &run_doc.jobs {
        assert_eq!(job.steps.len(), 1, "{}: each step once", job.slug);
        assert!(std::fs::read_to_string(&job.steps[0].log_path).unwrap().starts_with("done "));
    }
    let (code, _, stderr) = run(&t, &["collect", "1"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("run 1 is over (passed); nothing to collect"), "{stderr}");
    assert_eq!(t.show("latest").jobs.iter().map(|j| j.steps.len()).sum::<usize>(), 3, "nothing added twice");
}

/// Slurm's verdicts stand: a task it ended for time is `timed_out`, one over its memory
/// `memory_exceeded`, one cancelled with `scancel` from outside `cancelled`, each with Slurm's
/// state as the reason; a task waiting on a drained node is still to come.
#[test]
fn slurm_verdicts_are_recorded_as_slurm_gave_them() {
    let _turn = need_slurm();
    let cluster = slurm();
    let t = Test::new().matrix(
        "[project]\nname = \"verdicts\"\n[matrix]\ncase = [\"time\", \"memory\", \"cancel\"]\n\
         [slurm]\noptions = [\"--mem=200M\"]\n[[steps]]\nname = \"s\"\n\
         run = \"echo started; if [ {{ case }} = memory ]; then head -c 600000000 /dev/zero | tr '\\\\\\\\0' x | tail -n 1; exit 1; fi; sleep 600\"\n",
    );
    let (code, _, stderr) = run(&t, &["run", "--on", "slurm", "--detach"]);
    assert_eq!(code, 0, "{stderr}");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.state_dir().join("slurm/1/spec.json")).unwrap()).unwrap();
    let array = spec["arrays"][0]["id"].as_str().unwrap().to_string();
    wait_for("the tasks to run", Duration::from_secs(60), || {
        ["time", "cancel"].iter().all(|case| {
            std::fs::read_to_string(t.state_dir().join(format!("runs/1/{case}/s.log")))
                .is_ok_and(|l| l.starts_with("started"))
        })
    });
    let task = |case: &str| spec["tasks"].as_array().unwrap().iter().position(|s| s[0] == case).unwrap();
    let status = cluster
        .command("scontrol")
        .args(["update", &format!("JobId={array}_{}", task("time")), "TimeLimit=0"])
        .status()
        .unwrap();
    assert!(status.success());
    let status = cluster.command("scancel").arg(format!("{array}_{}", task("cancel"))).status().unwrap();
    assert!(status.success());
    wait_for("Slurm to end every task", Duration::from_secs(90), || {
        let now = cluster.task_states(&array);
        now.len() == 3 && now.iter().all(|(_, s)| !matches!(s.as_str(), "PENDING" | "RUNNING" | "COMPLETING"))
    });
    let (code, _, stderr) = run(&t, &["collect"]);
    assert_eq!(code, 1, "{stderr}");
    let doc = t.show("latest");
    assert_eq!(doc.job("time").status, "timed_out", "{:?}", doc.job("time"));
    assert_eq!(doc.job("memory").status, "memory_exceeded", "{:?}", doc.job("memory"));
    assert_eq!(doc.job("cancel").status, "cancelled", "{:?}", doc.job("cancel"));
    for (case, state) in [("time", "TIMEOUT"), ("memory", "OUT_OF_MEMORY"), ("cancel", "CANCELLED")] {
        let tail = doc.job(case).log_tail.clone().unwrap_or_default();
        assert!(tail.contains(&format!("ended {state}")), "{case}: {tail}");
    }

    // A drained node: the task waits, and collect says it is still to come; back in service, it
    // runs. (The same state folder: what the nodes said of themselves is known, no probe task
    // has to run on the drained node first.)
    let t = t.matrix("[project]\nname = \"drained\"\n[[steps]]\nname = \"s\"\nrun = \"echo ran\"\n");
    cluster.admin("drain");
    let (code, _, stderr) = run(&t, &["run", "--on", "slurm", "--detach"]);
    assert_eq!(code, 0, "{stderr}");
    std::thread::sleep(Duration::from_secs(3));
    let (code, stdout, _) = run(&t, &["collect"]);
    cluster.admin("resume");
    assert_eq!(code, 0);
    assert!(stdout.contains("run 2: 0 task(s) (0 job(s)) folded in now; 1 task(s) queued, 0 running"), "{stdout}");
    assert_eq!(t.show("latest").jobs[0].status, "queued");
    wait_for("the task to run once the node is back", Duration::from_secs(60), || {
        run(&t, &["collect"]).1.contains("run 2: 1 passed, 0 failed")
    });
}

/// Ctrl-C while `run` waits cancels the arrays: the run is interrupted, its jobs cancelled, and
/// nothing of it is left in Slurm's queue.
#[test]
fn ctrl_c_cancels_the_array() {
    let _turn = need_slurm();
    let cluster = slurm();
    let t = Test::new().matrix(
        "[project]\nname = \"stop\"\n[matrix]\nn = [1, 2, 3]\n[[steps]]\nname = \"s\"\nrun = \"echo started; sleep 600\"\n",
    );
    let mut child =
        gridrun(&t).args(["run", "--on", "slurm"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for("a task to start", Duration::from_secs(60), || {
        std::fs::read_to_string(t.state_dir().join("runs/1/1/s.log")).is_ok_and(|l| l.starts_with("started"))
    });
    gridrun::exec::process::signal_process(i32::try_from(child.id()).unwrap(), gridrun::exec::process::Signal::INT);
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let doc = t.show("latest");
    assert_eq!(doc.status, "interrupted");
    assert!(
        doc.jobs.iter().all(|j| j.status == "cancelled"),
        "{:?}",
        doc.jobs.iter().map(|j| &j.status).collect::<Vec<_>>()
    );
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.state_dir().join("slurm/1/spec.json")).unwrap()).unwrap();
    let array = spec["arrays"][0]["id"].as_str().unwrap().to_string();
    wait_for("Slurm to cancel the array", Duration::from_secs(30), || {
        cluster.task_states(&array).iter().all(|(_, s)| s == "CANCELLED")
    });
}
