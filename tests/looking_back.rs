//! Looking back at recorded runs through the real binary: `status`, `show` and `log` agree with
//! what real processes did (exit codes, retries, logs on disk), name runs, jobs and steps with
//! one-line errors, and find a run whose gridrun was SIGKILLed abandoned, its processes gone.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{wait_for, Test};
use serde_json::{json, Value};

/// Two jobs: `ok` passes on a retry, `bad` fails its last step with exit 3. Every step prints
/// something the tests look for in the logs.
const MATRIX: &str = r#"
[project]
name = "lookback"

[matrix]
kind = ["ok", "bad"]

[[steps]]
name = "greet"
run = "echo hi from {{ kind }} in run {{ run }}"

[[steps]]
name = "flaky"
run = "test -f {{ results_dir }}/tried || { touch {{ results_dir }}/tried; echo first try fails; exit 1; }"
retries = 1

[[steps]]
name = "check"
run = "echo checking {{ kind }}; test {{ kind }} = ok || exit 3"
"#;

/// One job that says hello, then sleeps far longer than any test waits.
const SLEEPY: &str = r#"
[project]
name = "sleepy"

[matrix]
kind = ["nap"]

[[steps]]
name = "greet"
run = "echo awake"

[[steps]]
name = "nap"
run = "sleep 30"
"#;

/// A matrix file with one recorded run (exit 1: `bad` fails).
fn one_run() -> Test {
    let t = Test::new().matrix(MATRIX).env("TZ", "UTC");
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1), "run: {}", String::from_utf8_lossy(&out.stderr));
    t
}

fn job<'a>(doc: &'a Value, slug: &str) -> &'a Value {
    doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == slug).unwrap_or_else(|| panic!("no job {slug}"))
}

fn field<'a>(steps: &'a Value, key: &str) -> Vec<&'a Value> {
    steps.as_array().unwrap().iter().map(|s| &s[key]).collect()
}

#[test]
fn status_lists_runs_newest_first_one_line_each() {
    let t = one_run();
    assert_eq!(t.gridrun(&["run", "-f", "kind=ok"]).status.code(), Some(0));

    let text = t.ok(&["status"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let runs = t.ok_json(&["status", "--json"]);
    assert_eq!(runs["schema"], 1);
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 1]);

    // `#ID  STATUS  PROJECT  started (local time, UTC here)  duration  counts  commit`.
    for (line, run) in lines.iter().zip(runs) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], format!("#{}", run["id"]), "{line}");
        assert_eq!(words[1], run["status"].as_str().unwrap(), "{line}");
        assert_eq!(words[2], "lookback", "{line}");
        let started = run["started_at"].as_str().unwrap();
        assert_eq!(format!("{} {}", words[3], words[4]), format!("{} {}", &started[..10], &started[11..19]), "{line}");
        assert!(words[5].ends_with('s'), "a duration: {line}");
    }
    // The passing job passed on a retry: flaky, in the line and the JSON.
    assert!(lines[0].contains("  1 passed (1 flaky), 0 failed"), "{}", lines[0]);
    assert_eq!(runs[0]["status"], "passed");
    assert_eq!(runs[0]["counts"], json!({"passed": 1}));
    assert_eq!(runs[0]["flaky"], json!(1));
    assert!(lines[1].contains("  1 passed (1 flaky), 1 failed"), "{}", lines[1]);
    assert_eq!(runs[1]["status"], "failed");
    assert_eq!(runs[1]["counts"], json!({"failed": 1, "passed": 1}));
    for run in runs {
        assert!(run["duration_ms"].as_i64().unwrap() >= 0);
        assert!(run["finished_at"].is_string());
        assert_eq!(run["project"], "lookback");
        assert!(run["dirty"].is_boolean() && run["commit"].is_string());
    }

    assert_eq!(t.ok(&["history"]), text, "history is status");
    assert_eq!(t.ok(&["status", "-n", "1"]), format!("{}\n", lines[0]));
}

#[test]
fn show_json_agrees_with_what_ran() {
    let t = one_run();
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!(doc, t.ok_json(&["show", "1", "--json"]), "latest is run 1");

    // The fields DESIGN §4 names, in its order (added fields may sit between them).
    let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    let named = ["schema", "run", "project", "status", "commit", "started_at", "jobs"];
    assert_eq!(keys.iter().filter(|k| named.contains(k)).copied().collect::<Vec<_>>(), named);
    assert_eq!((doc["schema"].clone(), doc["run"].clone()), (json!(1), json!(1)));
    assert_eq!((doc["project"].as_str(), doc["status"].as_str()), (Some("lookback"), Some("failed")));
    assert!(doc["commit"].is_string() && doc["started_at"].is_string());
    let slugs: Vec<&Value> = field(&doc["jobs"], "slug");
    assert_eq!(slugs, [&json!("ok"), &json!("bad")]);

    let job_keys = [
        "slug",
        "cell",
        "status",
        "failure_kind",
        "exit_code",
        "signal",
        "duration_ms",
        "cpu_ms",
        "peak_rss_kb",
        "flaky",
        "steps",
        "diagnostics",
        "tests",
    ];
    for j in doc["jobs"].as_array().unwrap() {
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.iter().filter(|k| job_keys.contains(k)).copied().collect::<Vec<_>>(), job_keys);
        assert_eq!(j["diagnostics"], json!([]));
        assert_eq!(j["tests"], json!({"passed": 0, "failed": 0, "skipped": 0}));
        assert_eq!(j["signal"], Value::Null);
        for key in ["duration_ms", "cpu_ms", "peak_rss_kb"] {
            assert!(j[key].as_i64().is_some_and(|v| v >= 0), "{key}: {j}");
        }
        for step in j["steps"].as_array().unwrap() {
            assert!(step["duration_ms"].as_i64().is_some_and(|v| v >= 0), "{step}");
            assert!(Path::new(step["log"].as_str().unwrap()).is_file(), "{step}");
        }
    }

    let good = job(&doc, "ok");
    assert_eq!(good["cell"], json!({"kind": "ok"}));
    assert_eq!((good["status"].as_str(), good["flaky"].as_bool()), (Some("passed"), Some(true)));
    assert_eq!((good["exit_code"].clone(), good["failure_kind"].clone()), (json!(0), Value::Null));
    let steps = &good["steps"];
    assert_eq!(field(steps, "name"), [&json!("greet"), &json!("flaky"), &json!("flaky"), &json!("check")]);
    assert_eq!(field(steps, "attempt"), [&json!(1), &json!(1), &json!(2), &json!(1)]);
    assert_eq!(field(steps, "status"), [&json!("passed"), &json!("failed"), &json!("passed"), &json!("passed")]);
    assert_eq!(field(steps, "exit_code"), [&json!(0), &json!(1), &json!(0), &json!(0)]);
    let log = |i: usize| std::fs::read_to_string(steps[i]["log"].as_str().unwrap()).unwrap();
    assert_eq!(log(0), "hi from ok in run 1\n");
    assert_eq!(log(1), "first try fails\n");
    assert_eq!(log(2), "");
    assert_eq!(log(3), "checking ok\n");
    assert_ne!(steps[1]["log"], steps[2]["log"], "each attempt logs to a file of its own");

    let bad = job(&doc, "bad");
    assert_eq!((bad["status"].as_str(), bad["exit_code"].as_i64()), (Some("failed"), Some(3)));
    assert!(bad["failure_kind"].is_string(), "{bad}");
    assert_eq!(field(&bad["steps"], "exit_code"), [&json!(0), &json!(1), &json!(0), &json!(3)]);
    let last = bad["steps"].as_array().unwrap().last().unwrap();
    assert_eq!((last["name"].as_str(), last["status"].as_str()), (Some("check"), Some("failed")));
    assert_eq!(std::fs::read_to_string(last["log"].as_str().unwrap()).unwrap(), "checking bad\n");

    // One job alone: the same object, with "schema" and its run added.
    let mut alone = t.ok_json(&["show", "1/bad", "--json"]);
    assert_eq!((alone["schema"].clone(), alone["run"].clone()), (json!(1), json!(1)));
    let alone = alone.as_object_mut().unwrap();
    alone.remove("schema");
    alone.remove("run");
    assert_eq!(&Value::Object(alone.clone()), bad);
}

#[test]
fn show_run_prints_header_grid_and_job_table() {
    let t = one_run();
    let text = t.ok(&["show"]);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("run #1  lookback  failed  "), "{text}");
    assert!(first.contains("  started ") && first.contains("  took "), "{first}");
    let row = |start: &str| {
        text.lines()
            .find(|l| l.replace(' ', "").starts_with(start))
            .unwrap_or_else(|| panic!("no {start} row:\n{text}"))
    };
    // The grid: one axis, so a status column.
    assert!(row("|kind|status|").contains("status"));
    assert!(row("|ok|flaky|").contains("flaky"));
    assert!(row("|bad|FAIL|").contains("FAIL"));
    // The jobs.
    assert!(row("|job|status|duration|peakMiB|failure|reason|").contains("peak MiB"));
    assert!(row("|ok|passed(flaky)|").contains("passed (flaky)"));
    let bad = row("|bad|failed|");
    assert!(bad.ends_with("| exit 3 |"), "{bad}");

    assert_eq!(t.ok(&["show", "latest"]), text);
    assert_eq!(t.ok(&["show", "#1"]), text, "ids as status prints them");
    let pivoted = t.ok(&["show", "--pivot", "kind,kind"]);
    assert!(pivoted.lines().any(|l| l.replace(' ', "") == "|kind|ok|bad|"), "{pivoted}");
    assert!(t.fails(&["show", "--pivot", "kind,compiler"]).contains("`compiler` is not a key of the matrix"));
    assert!(t.fails(&["show", "--pivot", "kind"]).contains("write ROW,COL"));
}

#[test]
fn show_job_prints_its_facts_step_attempts_and_log_tail() {
    let t = one_run();
    let doc = t.ok_json(&["show", "1/bad", "--json"]);
    let text = t.ok(&["show", "1/bad"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "job bad of run #1 (lookback): failed", "{text}");
    let fact = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label).map(str::trim))
            .unwrap_or_else(|| panic!("no {label}:\n{text}"))
    };
    assert_eq!(fact("cell"), "kind=bad");
    assert_eq!(fact("config hash"), doc["config_hash"].as_str().unwrap());
    assert_eq!(fact("flaky"), if doc["flaky"] == true { "yes" } else { "no" });
    assert!(fact("failure").ends_with("(exit 3)"), "{text}");
    assert!(Path::new(fact("work dir")).is_dir(), "a failed job keeps its workspace: {text}");
    for label in ["started", "duration", "cpu", "peak RSS"] {
        fact(label);
    }
    // Every attempt: name, attempt, status, exit, duration, log, command.
    for step in doc["steps"].as_array().unwrap() {
        let cells = [&step["name"], &step["attempt"], &step["status"], &step["exit_code"]].map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let wanted = format!("|{}|{}|{}|{}|", cells[0], cells[1], cells[2], cells[3]);
        let row = lines
            .iter()
            .find(|l| l.replace(' ', "").starts_with(&wanted))
            .unwrap_or_else(|| panic!("{wanted}:\n{text}"));
        assert!(row.contains(step["log"].as_str().unwrap()), "{row}");
        assert!(row.contains(step["command"].as_str().unwrap()), "{row}");
    }
    let tail = lines.iter().position(|l| l.starts_with("last lines of ")).expect("a log tail");
    assert!(lines[tail].contains("check.log"), "{}", lines[tail]);
    assert_eq!(lines[tail + 1].trim(), "checking bad");

    let good = t.ok(&["show", "1/ok"]);
    assert!(good.starts_with("job ok of run #1 (lookback): passed (flaky)\n"), "{good}");
    assert!(good.contains("work dir     (removed)"), "{good}");
}

#[test]
fn log_prints_every_step_under_a_header_in_order() {
    let t = one_run();
    let expected = "\
==> greet (attempt 1) <==
hi from ok in run 1

==> flaky (attempt 1) <==
first try fails

==> flaky (attempt 2) <==

==> check (attempt 1) <==
checking ok
";
    assert_eq!(t.ok(&["log", "1/ok"]), expected);
    assert_eq!(t.ok(&["log", "latest/ok"]), expected);
}

#[test]
fn log_step_prints_all_attempts_of_that_step_only() {
    let t = one_run();
    assert_eq!(
        t.ok(&["log", "1/ok", "--step", "flaky"]),
        "==> flaky (attempt 1) <==\nfirst try fails\n\n==> flaky (attempt 2) <==\n"
    );
    assert_eq!(t.ok(&["log", "1/ok", "--step", "greet"]), "hi from ok in run 1\n", "one log: no header");
    assert_eq!(t.ok(&["log", "1/bad", "--step", "check"]), "checking bad\n");
}

#[test]
fn log_of_a_job_alone_reads_the_latest_run() {
    let t = one_run();
    assert_eq!(t.gridrun(&["run", "-f", "kind=ok"]).status.code(), Some(0));
    assert_eq!(t.ok(&["log", "ok", "--step", "greet"]), "hi from ok in run 2\n");
    assert_eq!(t.ok(&["log", "1/ok", "--step", "greet"]), "hi from ok in run 1\n");
    // Run 2 ran `ok` alone.
    assert_eq!(t.fails(&["log", "bad"]), "error: run 2 has no job `bad`; `gridrun show 2` lists its jobs");
}

#[test]
fn unknown_runs_jobs_and_steps_are_one_line_errors_with_suggestions() {
    let t = one_run();
    assert_eq!(t.fails(&["show", "9"]), "error: no run 9 (the newest is run 1)");
    assert_eq!(t.fails(&["log", "9/ok"]), "error: no run 9 (the newest is run 1)");
    assert!(t.fails(&["show", "first"]).contains("`first` is not a run id"));
    assert_eq!(t.fails(&["show", "1/okk"]), "error: run 1 has no job `okk`; did you mean `ok`?");
    assert_eq!(t.fails(&["log", "1/badd"]), "error: run 1 has no job `badd`; did you mean `bad`?");
    assert_eq!(t.fails(&["log", "zzzz"]), "error: run 1 has no job `zzzz`; `gridrun show 1` lists its jobs");
    assert_eq!(
        t.fails(&["log", "1/ok", "--step", "chek"]),
        "error: job `ok` of run 1 has no step `chek`; did you mean `check`?"
    );
    assert_eq!(
        t.fails(&["log", "1/ok", "--step", "zzzz"]),
        "error: job `ok` of run 1 has no step `zzzz` (its steps: greet, flaky, check)"
    );
    assert!(t.fails(&["log", "1/"]).contains("name a job too"));
    assert!(t.fails(&["show", "/ok"]).contains("write RUN/JOB"));
}

#[test]
fn a_job_that_never_ran_shows_why_and_has_no_log() {
    let t = Test::new().matrix(
        "[project]\nname = \"na\"\n[matrix]\ncompiler = [\"gcc-99\"]\n[[steps]]\nname = \"build\"\nrun = \"true\"\n",
    );
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(4), "a run that could run nothing says so");
    assert_eq!(t.gridrun(&["run", "--allow-empty"]).status.code(), Some(0));
    let doc = t.ok_json(&["show", "--json"]);
    let j = job(&doc, "gcc-99");
    assert_eq!((j["status"].as_str(), j["steps"].clone()), (Some("unavailable"), json!([])));
    assert!(j["reason"].as_str().is_some_and(|r| r.contains("gcc-99")), "{j}");
    assert!(t.fails(&["log", "gcc-99"]).starts_with("error: job `gcc-99` of run 2 did not run: unavailable: "));
}

#[test]
fn without_a_store_there_is_nothing_to_show() {
    let t = Test::new().matrix(MATRIX);
    let dir = t.state_dir();
    let expected = format!("no runs recorded yet in {}", dir.display());
    for args in [&["show"][..], &["show", "1/ok"], &["log", "ok"]] {
        assert_eq!(t.fails(args), format!("error: {expected}"), "{args:?}");
    }
    // No history is an answer for `status`: exit 0, nothing listed, where it looked on stderr.
    for (args, listed) in [(&["status"][..], ""), (&["status", "--json"], "[]\n")] {
        let out = t.gridrun(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), listed, "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("gridrun: {expected}\n"), "{args:?}");
    }
    assert!(!dir.exists(), "looking does not create a store");
    let nowhere = Test::new();
    let out = nowhere.gridrun(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runs recorded: no .gridrun/ in"));
    assert!(nowhere.fails(&["show"]).contains("no runs recorded: no .gridrun/ in"));
}

#[test]
fn state_dir_matrix_argument_and_environment_find_the_store() {
    let t = Test::new().matrix(MATRIX);
    let elsewhere = t.path().join("elsewhere");
    let dir = elsewhere.to_str().unwrap();
    assert_eq!(t.gridrun(&["--state-dir", dir, "run", "-f", "kind=ok"]).status.code(), Some(0));
    assert!(t.fails(&["show"]).contains("no runs recorded yet"), "not beside the matrix");
    assert!(t.ok(&["status", "--state-dir", dir]).starts_with("#1  passed  lookback  "));
    let from_env = t.command().env("GRIDRUN_STATE_DIR", dir).args(["log", "ok", "--step", "greet"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&from_env.stdout), "hi from ok in run 1\n");

    // A matrix named on the command line: its state folder, wherever the command runs.
    let other = Test::new().matrix(MATRIX);
    assert_eq!(other.gridrun(&["run", "-f", "kind=ok"]).status.code(), Some(0));
    let matrix = other.path().join("gridrun.toml");
    let out = t.command().current_dir("/").args(["status", matrix.to_str().unwrap(), "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(runs["runs"][0]["counts"], json!({"passed": 1}));
    let shown =
        t.command().current_dir("/").args(["show", "1/ok", "--matrix", matrix.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).starts_with("job ok of run #1 (lookback): passed"));
}

/// The processes carrying the token of the run whose gridrun has pid `pid`.
fn run_processes(pid: u32) -> Vec<(u32, String)> {
    let needle = format!("GRIDRUN_TOKEN={pid:x}-");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var.starts_with(needle.as_bytes())))
        })
        .filter(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| !s.contains(") Z ")))
        .map(|p| (p, std::fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default().replace('\0', " ")))
        .collect()
}

#[test]
fn a_run_whose_gridrun_was_killed_is_abandoned_and_its_processes_reaped() {
    let t = Test::new().matrix(SLEEPY);
    let mut run = Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .arg("run")
        .env_remove("GRIDRUN_STATE_DIR")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gridrun run starts");
    let pid = run.id();

    // The job is recorded running and its sleep has started.
    wait_for("the job to run its sleep", Duration::from_secs(60), || {
        let out = t.gridrun(&["status", "--json"]);
        let running = serde_json::from_slice::<Value>(&out.stdout)
            .is_ok_and(|v| v["runs"][0]["status"] == "running" && v["runs"][0]["counts"]["running"] == 1);
        running && run_processes(pid).iter().any(|(_, cmd)| cmd.contains("sleep"))
    });
    let live = t.ok_json(&["show", "--json"]);
    assert_eq!((live["status"].as_str(), live["jobs"][0]["status"].as_str()), (Some("running"), Some("running")));
    assert_eq!(field(&live["jobs"][0]["steps"], "name"), [&json!("greet")]);
    assert!(t.ok(&["status"]).starts_with("#1  running  sleepy  "));
    let log = t.ok(&["log", "nap"]);
    assert!(log.starts_with("==> greet (attempt 1) <==\nawake\n\n==> nap (attempt 1, still running) <==\n"), "{log}");

    run.kill().expect("SIGKILL gridrun");
    run.wait().expect("reap gridrun");

    let runs = t.ok_json(&["status", "--json"]);
    assert_eq!(runs["runs"][0]["status"], "abandoned", "{runs}");
    assert_eq!(runs["runs"][0]["counts"], json!({"cancelled": 1}));
    assert!(runs["runs"][0]["duration_ms"].as_i64().is_some_and(|ms| ms >= 0));
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!((doc["status"].as_str(), doc["jobs"][0]["status"].as_str()), (Some("abandoned"), Some("cancelled")));
    wait_for("the run's processes to be gone", Duration::from_secs(20), || run_processes(pid).is_empty());
}

/// A state folder on a shared file system can hold another host's live run: its pid means
/// nothing here, so it is left `running`; a dead run of this host is `abandoned`.
#[test]
fn only_this_hosts_dead_runs_are_abandoned() {
    let t = one_run();
    let db = t.state_dir().join("gridrun.db");
    let set = |host: &str| {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        // A pid no process has (above the kernel's pid_max).
        conn.execute("UPDATE runs SET status = 'running', finished_at = NULL, pid = 99999999, host = ?1", [host])
            .unwrap();
    };
    set("some-other-build-host");
    let runs = t.ok_json(&["status", "--json"]);
    assert_eq!(runs["runs"][0]["status"], "running", "{runs}");
    let here = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    set(&here);
    let runs = t.ok_json(&["status", "--json"]);
    assert_eq!(runs["runs"][0]["status"], "abandoned", "{runs}");
}

/// A flaky job keeps the end of the attempt that failed, which the reports show.
#[test]
fn a_flaky_job_keeps_the_output_of_its_failed_attempt() {
    let t = one_run();
    let run = t.show("latest");
    let ok = run.job("ok");
    assert!(ok.flaky);
    assert_eq!(ok.log_tail.as_deref(), Some("first try fails"));
    let page = t.ok(&["report", "--format", "html"]);
    assert!(page.contains("<h3>Flaky: passed on a retry (1)</h3>") && page.contains("first try fails"));
}
