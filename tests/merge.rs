//! `gridrun merge`: a grid run in shards on three "machines" (three state folders, as three CI
//! runners would upload them) comes back as one run, with its logs and artifacts, in plan order.

mod common;

use gridrun::exec::process::{signal_process, Signal};

use common::Test;
use serde_json::Value;

const GRID: &str = r#"
[project]
name = "shards"

[matrix]
n = [1, 2, 3, 4, 5, 6, 7]

[[steps]]
name = "build"
run = "echo {{ n }} > {{ build_dir }}/out.txt; echo built {{ n }}; [ {{ n }} != 4 ]"

[artifacts]
patterns = ["{{ build_dir }}/out.txt"]
"#;

/// Runs shard `k` of 3 into its own state folder, as machine `k` would.
fn run_shard(t: &Test, machines: &std::path::Path, k: u32) {
    let state = machines.join(format!("machine-{k}"));
    let out = t
        .command()
        .args(["--state-dir", state.to_str().unwrap(), "run", "--shard", &format!("{k}/3")])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "shard {k}: {}", String::from_utf8_lossy(&out.stderr));
}

fn slugs(doc: &Value) -> Vec<&str> {
    doc["jobs"].as_array().unwrap().iter().map(|j| j["slug"].as_str().unwrap()).collect()
}

#[test]
fn shards_from_three_machines_merge_into_one_run() {
    let t = Test::new().matrix(GRID);
    let machines = tempfile::tempdir().unwrap();
    for k in 1..=3 {
        run_shard(&t, machines.path(), k);
    }
    let sources: Vec<String> =
        (1..=3).map(|k| machines.path().join(format!("machine-{k}")).display().to_string()).collect();
    let mut merge = vec!["merge"];
    merge.extend(sources.iter().map(String::as_str));

    let said = t.ok(&merge);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("run 1: shards, 7 jobs, failed (from "), "{said}");

    // One run, the whole grid in plan order, as if one machine had run it.
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!((doc["run"].as_i64(), doc["status"].as_str()), (Some(1), Some("failed")));
    assert_eq!(slugs(&doc), ["1", "2", "3", "4", "5", "6", "7"]);
    for job in doc["jobs"].as_array().unwrap() {
        let want = if job["slug"] == "4" { "failed" } else { "passed" };
        assert_eq!(job["status"], want, "{job}");
        assert_eq!(job["steps"].as_array().unwrap().len(), 1, "{job}");
    }

    // The sources can go: logs and artifacts were copied, not pointed at.
    drop(machines);
    assert_eq!(t.ok(&["log", "1/4"]), "built 4\n");
    assert_eq!(t.ok(&["log", "1/6"]), "built 6\n");
    let shown = t.ok(&["show", "1/6"]);
    let artifact = shown.lines().find_map(|l| l.split(" -> ").nth(1)).unwrap_or_else(|| panic!("{shown}"));
    assert!(artifact.starts_with(t.state_dir().to_str().unwrap()), "{artifact}");
    assert_eq!(std::fs::read_to_string(artifact).unwrap(), "6\n");

    // The reports see one grid.
    let junit = t.ok(&["report", "--format", "junit"]);
    assert_eq!(junit.matches("<testsuite ").count(), 7, "{junit}");
    let status = t.ok(&["status"]);
    assert!(status.contains("6 passed, 1 failed"), "{status}");
}

#[test]
fn a_run_is_merged_once() {
    let t = Test::new().matrix(GRID);
    let machines = tempfile::tempdir().unwrap();
    run_shard(&t, machines.path(), 1);
    let source = machines.path().join("machine-1");
    let source = source.to_str().unwrap();
    assert!(t.ok(&["merge", source]).starts_with("run 1: shards, 3 jobs, failed"));
    let again = t.ok(&["merge", source]);
    assert_eq!(again, format!("{source} run 1: already merged as run 1\n"));
    assert_eq!(t.ok_json(&["status", "--json"])["runs"].as_array().unwrap().len(), 1);
}

/// `--all` brings every run of a source; two runs of the same cells are two runs here too.
#[test]
fn all_brings_every_run_and_reruns_stay_apart() {
    let t = Test::new().matrix(GRID);
    let machines = tempfile::tempdir().unwrap();
    run_shard(&t, machines.path(), 2);
    run_shard(&t, machines.path(), 2);
    let source = machines.path().join("machine-2");
    let said = t.ok(&["merge", "--all", source.to_str().unwrap()]);
    assert_eq!(said.lines().count(), 2, "{said}");
    let runs = t.ok_json(&["status", "--json"]);
    let counts: Vec<&Value> = runs["runs"].as_array().unwrap().iter().map(|r| &r["counts"]).collect();
    assert_eq!(counts, [&serde_json::json!({"passed": 2}), &serde_json::json!({"passed": 2})]);
}

#[test]
fn a_folder_without_a_store_or_the_store_itself_is_refused() {
    let t = Test::new().matrix(GRID);
    let empty = tempfile::tempdir().unwrap();
    let line = t.fails(&["merge", empty.path().to_str().unwrap()]);
    assert!(line.ends_with("no gridrun store there (no gridrun.db, nor .gridrun/gridrun.db)"), "{line}");
    std::fs::write(empty.path().join("gridrun.db"), "not a database").unwrap();
    let line = t.fails(&["merge", empty.path().to_str().unwrap()]);
    assert!(line.ends_with("gridrun.db: file is not a database"), "{line}");
    t.gridrun(&["run", "--shard", "1/3"]);
    let own = t.state_dir();
    let line = t.fails(&["merge", own.to_str().unwrap()]);
    assert!(line.ends_with("that is the state folder being merged into"), "{line}");
}

/// A run still at work on this host is left to finish rather than frozen half-done; once it
/// has ended it merges like any other.
#[test]
fn a_run_still_running_is_left_to_finish() {
    let t = Test::new().matrix("[project]\nname = \"nap\"\n[[steps]]\nname = \"nap\"\nrun = \"echo up; sleep 60\"\n");
    let machine = tempfile::tempdir().unwrap();
    let source = machine.path().join("state");
    let mut running = std::process::Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(["--state-dir", source.to_str().unwrap(), "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = source.join("runs/1/default/nap.log");
    common::wait_for("the job to start", std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l == "up\n")
    });
    let said = t.ok(&["merge", source.to_str().unwrap()]);
    assert_eq!(said, format!("{} run 1: still running; merge it when it has finished\n", source.display()));
    assert!(!t.state_dir().join("gridrun.db").exists() || t.gridrun(&["show"]).status.code() == Some(2));

    let pid = i32::try_from(running.id()).unwrap();
    signal_process(pid, Signal::INT);
    assert_eq!(running.wait().unwrap().code(), Some(130));
    let said = t.ok(&["merge", source.to_str().unwrap()]);
    assert!(said.starts_with("run 1: nap, 1 job, interrupted (from "), "{said}");
}
