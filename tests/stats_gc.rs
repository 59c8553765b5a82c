//! `stats` and `gc` through the real binary over real runs: the statistics agree job for job with
//! what the runs recorded (passes, failures, flaky passes, a cell unstable at one config), and
//! `gc` removes exactly what is past retention — logs, workspaces, artifact copies — records it in
//! the store, leaves newer runs and a running run alone, and changes nothing on `--dry-run`.
//! Runs are made old by rewriting their times in the store, not by waiting.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{wait_for, Test};
use serde_json::{json, Value};

/// Four cells, every run: `ok` passes, `bad` fails its test, `flaky` passes on its retry (a
/// marker in the cache tells the retry from the first try), `wobbly` passes until a `wobble`
/// file sits in the cache. (The step makes the cache folder: the run does not.)
const STATS: &str = r#"
[project]
name = "stats"

[matrix]
kind = ["ok", "bad", "flaky", "wobbly"]

[[steps]]
name = "build"
run = "echo {{ kind }} > {{ build_dir }}/out.txt"

[[steps]]
name = "test"
run = "mkdir -p {{ cache_dir }}; case {{ kind }} in bad) exit 3;; flaky) test -f {{ cache_dir }}/flaky-{{ run }} || { touch {{ cache_dir }}/flaky-{{ run }}; exit 1; };; wobbly) test ! -f {{ cache_dir }}/wobble;; esac"
retries = 1
"#;

/// A second project sharing the store.
const OTHER: &str = r#"
[project]
name = "other"

[matrix]
kind = ["one"]

[[steps]]
name = "build"
run = "true"
"#;

/// Two cells, each leaving an artifact that names its run; artifacts kept a week.
const GC: &str = r#"
[project]
name = "gc"

[matrix]
kind = ["old", "new"]

[[steps]]
name = "build"
run = "echo {{ kind }} of run {{ run }} > {{ build_dir }}/out.txt"

[artifacts]
patterns = ["{{ build_dir }}/out.txt"]
retention_days = 7
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
run = "sleep 60"
"#;

/// Runs, asserts the exit code, returns stdout.
fn exits(t: &Test, args: &[&str], code: i32) -> String {
    let out = t.gridrun(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "gridrun {args:?}\nstderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The test's store, for rewriting times and reading what gc recorded.
fn db(t: &Test) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(t.state_dir().join("gridrun.db")).expect("open the store");
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn
}

/// Makes run `run` look `days` old: started, finished and its artifacts collected back then.
fn age(t: &Test, run: i64, days: u32) {
    let then = format!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-{days} days')");
    let conn = db(t);
    conn.execute(&format!("UPDATE runs SET started_at = {then}, finished_at = {then} WHERE id = ?1"), [run]).unwrap();
    conn.execute(
        &format!("UPDATE artifacts SET created_at = {then} WHERE job_id IN (SELECT id FROM jobs WHERE run_id = ?1)"),
        [run],
    )
    .unwrap();
}

/// A run's `logs_removed_at` and `work_removed_at`, and how many of its artifacts are marked
/// removed out of how many.
fn removal(t: &Test, run: i64) -> (Option<String>, Option<String>, i64, i64) {
    let conn = db(t);
    let (logs, work) = conn
        .query_row("SELECT logs_removed_at, work_removed_at FROM runs WHERE id = ?1", [run], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let (removed, all) = conn
        .query_row(
            "SELECT COUNT(a.removed_at), COUNT(*) FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (logs, work, removed, all)
}

/// Every file under the state folder but the store, with its contents: what gc may change.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if path.is_dir() {
                stack.push(path);
                found.push((format!("{name}/"), String::new()));
            } else if !name.starts_with("gridrun.db") {
                found.push((name, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    found.sort();
    found
}

/// The store's rows gc may change.
fn rows(t: &Test) -> Vec<String> {
    let conn = db(t);
    let mut stmt = conn
        .prepare(
            "SELECT 'run ' || id || ' ' || status || ' ' || IFNULL(logs_removed_at, '-') || ' ' || IFNULL(work_removed_at, '-') FROM runs
             UNION ALL SELECT 'artifact ' || id || ' ' || IFNULL(removed_at, '-') FROM artifacts ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn stats_count_every_verdict_per_project_day_and_cell() {
    let t = Test::new().matrix(STATS).file("other.toml", OTHER);
    exits(&t, &["run"], 1);
    std::fs::write(t.state_dir().join("cache/wobble"), "").unwrap();
    exits(&t, &["run"], 1);
    exits(&t, &["run", "-f", "kind=ok"], 0);
    let shared = t.state_dir();
    exits(&t, &["--state-dir", shared.to_str().unwrap(), "run", "other.toml"], 0);

    let doc = t.ok_json(&["stats", "--json"]);
    assert_eq!((doc["schema"].as_i64(), doc["days"].as_i64()), (Some(1), Some(30)));
    let projects = doc["projects"].as_array().unwrap();
    assert_eq!(projects.iter().map(|p| p["project"].as_str().unwrap()).collect::<Vec<_>>(), ["other", "stats"]);
    let (other, stats) = (&projects[0], &projects[1]);

    // Runs 1 and 2: ok, flaky (on its retry) and wobbly pass, bad fails; then wobbly fails too.
    // Run 3: ok alone.
    assert_eq!((stats["runs"].as_i64(), stats["jobs"].as_i64()), (Some(3), Some(9)));
    assert_eq!(stats["success_rate"].as_f64(), Some(6.0 / 9.0));
    assert_eq!(stats["failure_kinds"], json!({"test": 3}));
    assert_eq!(
        stats["flaky"],
        json!([{"slug": "flaky", "flaky": 2, "unstable": false}, {"slug": "wobbly", "flaky": 0, "unstable": true}])
    );
    let counts: Vec<Value> = stats["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["slug"], c["runs"], c["passed"], c["failed"], c["flaky"]]))
        .collect();
    assert_eq!(
        counts,
        [
            json!(["bad", 2, 0, 2, 0]),
            json!(["flaky", 2, 2, 0, 2]),
            json!(["ok", 3, 3, 0, 0]),
            json!(["wobbly", 2, 1, 1, 0])
        ]
    );

    // Durations, mean and p90, against what each run recorded of each job: with at most three
    // samples the nearest-rank p90 is the longest.
    let mut took: std::collections::BTreeMap<String, Vec<i64>> = std::collections::BTreeMap::new();
    for run in 1..=3 {
        let shown = t.ok_json(&["show", &run.to_string(), "--json"]);
        for job in shown["jobs"].as_array().unwrap() {
            took.entry(job["slug"].as_str().unwrap().to_string())
                .or_default()
                .push(job["duration_ms"].as_i64().unwrap());
        }
    }
    for cell in stats["cells"].as_array().unwrap() {
        let samples = &took[cell["slug"].as_str().unwrap()];
        let sum: i64 = samples.iter().sum();
        let n = i64::try_from(samples.len()).unwrap();
        let mean = (2 * sum + n) / (2 * n); // round half up, as SQLite's ROUND does for these
        assert_eq!(cell["mean_ms"].as_i64(), Some(mean), "{cell}");
        assert_eq!(cell["p90_ms"].as_i64(), samples.iter().max().copied(), "{cell}");
    }
    let slowest = stats["slowest"].as_array().unwrap();
    assert_eq!(slowest.len(), 4);
    assert!(slowest.windows(2).all(|w| w[0]["mean_ms"].as_i64() >= w[1]["mean_ms"].as_i64()), "{slowest:?}");

    // Per UTC day, the days the runs started on.
    let runs = t.ok_json(&["status", "--json"]);
    let mut days: Vec<String> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["project"] == "stats")
        .map(|r| r["started_at"].as_str().unwrap()[..10].to_string())
        .collect();
    days.sort();
    days.dedup();
    let per_day = stats["per_day"].as_array().unwrap();
    assert_eq!(per_day.iter().map(|d| d["day"].as_str().unwrap().to_string()).collect::<Vec<_>>(), days);
    let sum = |key: &str| per_day.iter().map(|d| d[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!([sum("runs"), sum("jobs"), sum("passed"), sum("failed")], [3, 9, 6, 3]);

    assert_eq!((other["runs"].as_i64(), other["jobs"].as_i64()), (Some(1), Some(1)));
    assert_eq!(other["success_rate"].as_f64(), Some(1.0));
    assert_eq!((other["failure_kinds"].clone(), other["flaky"].clone()), (json!({}), json!([])));

    // The text form: a headline per project and its sections.
    let text = t.ok(&["stats"]);
    assert!(text.starts_with("other: 1 runs, 1 jobs in the last 30 days, 100.0 % passed\n"), "{text}");
    assert!(text.contains("\nstats: 3 runs, 9 jobs in the last 30 days, 66.7 % passed\n"), "{text}");
    // Table rows with their padding squeezed out: `|flaky|2|no|`.
    let rows: Vec<String> = text.lines().map(|l| l.split('|').map(str::trim).collect::<Vec<_>>().join("|")).collect();
    for row in ["|failure kind|jobs|", "|test|3|", "|flaky cells|passed on a retry|passed and failed at one config|"] {
        assert!(rows.iter().any(|r| r == row), "{row} in\n{text}");
    }
    for row in ["|flaky|2|no|", "|wobbly|0|yes|"] {
        assert!(rows.iter().any(|r| r == row), "{row} in\n{text}");
    }

    // One project; a window that holds only what is newer; a name that is not there.
    let only = t.ok_json(&["stats", "--json", "--project", "stats"]);
    assert_eq!(only["projects"].as_array().unwrap().len(), 1);
    assert_eq!(only["projects"][0], *stats);
    age(&t, 1, 40);
    let recent = t.ok_json(&["stats", "--json", "--project", "stats"]);
    assert_eq!((recent["projects"][0]["runs"].as_i64(), recent["projects"][0]["jobs"].as_i64()), (Some(2), Some(5)));
    assert_eq!(recent["projects"][0]["cells"][0]["runs"], 1, "bad failed once in the window");
    let wide = t.ok_json(&["stats", "--json", "--project", "stats", "--days", "60"]);
    assert_eq!(wide["projects"][0]["jobs"], 9);
    assert_eq!(wide["projects"][0]["per_day"].as_array().unwrap().len(), per_day.len() + 1);
    assert_eq!(t.ok_json(&["stats", "--json", "--days", "0"])["projects"], json!([]));
    assert_eq!(t.ok(&["stats", "--days", "0"]), "no runs in the last 0 days\n");
    assert_eq!(
        t.fails(&["stats", "--project", "stat"]),
        "error: the store has no runs of project `stat`; did you mean `stats`?"
    );
}

#[test]
fn gc_removes_what_is_past_retention_and_records_it() {
    let t = Test::new().matrix(GC).env("TZ", "UTC");
    let state = t.state_dir();
    exits(&t, &["run", "-f", "kind=old", "--keep-workspaces"], 0);
    exits(&t, &["run", "-f", "kind=new", "--keep-workspaces"], 0);
    // Artifacts are stored by content; each run's record names its own copy.
    let stored = |run: &str| -> std::path::PathBuf {
        t.ok_json(&["show", run, "--json"])["jobs"][0]["artifacts"][0]["stored_path"].as_str().unwrap().into()
    };
    let old_artifact = stored("1");
    let new_artifact = stored("2");
    for path in [state.join("runs/1/old"), state.join("work/1/old"), state.join("runs/2/new"), state.join("work/2/new")]
    {
        assert!(path.is_dir(), "{} after the runs", path.display());
    }
    assert_eq!(std::fs::read_to_string(&old_artifact).unwrap(), "old of run 1\n");

    // Within retention, nothing goes.
    let before = (files(&state), rows(&t));
    assert_eq!(
        t.ok(&["gc"]),
        "retention: 7 days for project gc ([artifacts] retention_days)\nnothing past retention\n"
    );
    assert_eq!((files(&state), rows(&t)), before);

    // Run 1 is ten days old: --dry-run says what would go and changes nothing.
    age(&t, 1, 10);
    let before = (files(&state), rows(&t));
    let dry = t.ok(&["gc", "--dry-run"]);
    assert!(dry.contains("\nrun #1 (gc, "), "{dry}");
    assert!(dry.contains("logs "), "{dry}");
    assert!(dry.contains(", 1 artifact 13 B\nwould remove from 1 run: "), "{dry}");
    assert!(!dry.contains("run #2"), "{dry}");
    assert_eq!((files(&state), rows(&t)), before, "--dry-run removes nothing");

    let done = t.ok(&["gc"]);
    assert_eq!(dry.replace("would remove", "removed"), done, "gc does what --dry-run said");
    assert!(!state.join("runs/1").exists() && !state.join("work/1").exists());
    assert!(!old_artifact.exists());
    assert!(state.join("runs/2/new/build.log").is_file() && state.join("work/2/new").is_dir());
    assert_eq!(std::fs::read_to_string(&new_artifact).unwrap(), "new of run 2\n");
    let (logs, work, removed, all) = removal(&t, 1);
    assert!(logs.is_some() && logs == work, "{logs:?} {work:?}");
    assert_eq!((removed, all), (1, 1));
    assert_eq!(removal(&t, 2), (None, None, 0, 1));

    // History stays: the run still shows and counts; its log says where it went.
    assert_eq!(t.ok_json(&["show", "1", "--json"])["jobs"][0]["status"], "passed");
    assert_eq!(t.ok_json(&["stats", "--json"])["projects"][0]["runs"], 2);
    let when = logs.unwrap();
    let local = format!("{} {}", &when[..10], &when[11..19]);
    assert_eq!(t.fails(&["log", "1/old"]), format!("error: logs of run 1 were removed by gc on {local}"));
    let shown = t.ok(&["show", "1/old"]);
    assert!(shown.contains(&format!("logs and workspace of run 1 were removed by gc on {local}")), "{shown}");
    assert_eq!(t.ok(&["log", "2/new"]), "");

    // Again: nothing left to do.
    let before = (files(&state), rows(&t));
    assert!(t.ok(&["gc"]).ends_with("\nnothing past retention\n"));
    assert_eq!((files(&state), rows(&t)), before);

    // Run 3 builds `new` again at the same commit with other bytes: each run keeps its own copy,
    // retrievable until gc removes its record. gc then removes run 2's logs, workspace and its
    // copy, and run 3's file stays.
    exits(&t, &["run", "-f", "kind=new"], 0);
    let newest = stored("3");
    assert_ne!(newest, new_artifact);
    assert_eq!(removal(&t, 2), (None, None, 0, 1), "run 2's artifact is still its own");
    assert_eq!(std::fs::read_to_string(&new_artifact).unwrap(), "new of run 2\n");
    assert_eq!(removal(&t, 3), (None, None, 0, 1));
    age(&t, 2, 8);
    // Its job printed nothing: what its folder holds is the job's bill of materials, whose size
    // depends on this host's compilers.
    let bom = std::fs::metadata(state.join("runs/2/new/sbom.cdx.json")).map_or(0, |m| m.len());
    let replaced = t.ok(&["gc"]);
    let line = replaced.lines().find(|l| l.starts_with("run #2 (gc, ")).unwrap_or_else(|| panic!("{replaced}"));
    assert!(bom > 0 && !line.contains("logs 0 B"), "{replaced}");
    assert!(line.ends_with(", workspace 13 B, 1 artifact 13 B"), "{replaced}");
    assert!(!new_artifact.exists());
    assert_eq!(std::fs::read_to_string(&newest).unwrap(), "new of run 3\n");
    assert!(!state.join("runs/2").exists() && state.join("runs/3/new").is_dir());
    assert_eq!(removal(&t, 3), (None, None, 0, 1));
    let new_artifact = newest;

    // --older-than overrides the file: everything finished goes.
    let all = t.ok(&["gc", "--older-than", "0s"]);
    assert!(all.contains("run #3 "), "{all}");
    assert!(!new_artifact.exists() && !state.join("runs/3").exists());
    assert_eq!(removal(&t, 3).2, 1);
}

#[test]
fn gc_needs_a_retention_and_a_readable_one() {
    let t = Test::new().matrix(OTHER);
    exits(&t, &["run"], 0);
    let path = t.path().join("gridrun.toml");
    assert_eq!(
        t.fails(&["gc"]),
        format!(
            "error: {} sets no [artifacts] retention_days: nothing says how long to keep runs; pass --older-than (e.g. --older-than 14d)",
            "gridrun.toml"
        )
    );
    assert!(t.fails(&["gc", "--older-than", "soon"]).starts_with("error: --older-than soon: "));
    assert!(t.ok(&["gc", "--older-than", "14d"]).starts_with("retention: older than 14d\n"));
    assert!(path.is_file());

    // A store named by --state-dir with no matrix file about: only --older-than can say.
    let bare = Test::new();
    let state = t.state_dir();
    let state = state.to_str().unwrap();
    assert!(bare.fails(&["--state-dir", state, "gc"]).contains("pass --older-than"));
    assert!(bare.ok(&["--state-dir", state, "gc", "--older-than", "1d"]).ends_with("nothing past retention\n"));
}

#[test]
fn gc_never_touches_a_running_run() {
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
    wait_for("the job to sleep", Duration::from_secs(60), || {
        let out = t.gridrun(&["status", "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).is_ok_and(|v| v["runs"][0]["counts"]["running"] == 1)
            && t.state_dir().join("runs/1/nap/greet.log").is_file()
    });
    // Started a month ago, still running: its gridrun is alive, so it stays.
    age(&t, 1, 30);
    db(&t).execute("UPDATE runs SET finished_at = NULL WHERE id = 1", []).unwrap();
    let state = t.state_dir();
    let before = (files(&state), rows(&t));
    assert!(t.ok(&["gc", "--older-than", "1d"]).ends_with("\nnothing past retention\n"));
    assert_eq!((files(&state), rows(&t)), before);
    assert!(state.join("runs/1/nap/greet.log").is_file() && state.join("work/1").is_dir());

    // Once its gridrun is gone the run is abandoned (ending now), and goes when that is old.
    run.kill().expect("SIGKILL gridrun");
    run.wait().expect("reap gridrun");
    assert!(t.ok(&["gc", "--older-than", "1d"]).ends_with("\nnothing past retention\n"));
    assert_eq!(t.ok_json(&["status", "--json"])["runs"][0]["status"], "abandoned");
    age(&t, 1, 2);
    assert!(t.ok(&["gc", "--older-than", "1d"]).contains("run #1 (sleepy, "));
    assert!(!state.join("runs/1").exists() && !state.join("work/1").exists());
}

/// A later run at the same commit that copies the very same bytes leaves the earlier run's
/// artifact record standing: the file on disk is still exactly what it recorded.
#[test]
fn an_artifact_rebuilt_byte_for_byte_stays_recorded_for_both_runs() {
    let same = GC.replace("{{ kind }} of run {{ run }}", "{{ kind }}");
    let t = Test::new().matrix(&same).env("TZ", "UTC");
    exits(&t, &["run", "-f", "kind=new"], 0);
    exits(&t, &["run", "-f", "kind=new"], 0);
    assert_eq!(removal(&t, 1), (None, None, 0, 1));
    assert_eq!(removal(&t, 2), (None, None, 0, 1));
}
