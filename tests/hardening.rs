//! Hostile and careless input, each case named after the defect it pins: nothing a user does makes
//! gridrun panic, hang, escape its folders, run a command the user did not write, echo a job's
//! bytes raw to a terminal or a CI's command stream, or lose a record.

mod common;

use std::time::{Duration, Instant};

use common::{processes_with, Test};

#[test]
fn a_huge_timeout_on_the_command_line_is_a_usage_error_not_a_panic() {
    let t = Test::new().matrix(
        r#"
[[steps]]
name = "x"
run = "true"
"#,
    );
    for flag in ["--timeout=10000000000000000000s", "--timeout=18446744073709551615s", "--timeout=400d"] {
        let out = t.gridrun(&["run", flag]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("a duration must be at most 365 days"), "{flag}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!t.state_dir().join("gridrun.db").exists(), "nothing was recorded");
}

#[test]
fn zero_or_absurd_resources_on_the_command_line_are_usage_errors() {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    for args in [
        &["run", "-j", "0"][..],
        &["run", "--cpus", "0"],
        &["run", "--memory", "0"],
        &["run", "--memory", "99999999999999999999999GiB"],
        &["run", "--memory", "9223372036854775807"],
    ] {
        let out = t.gridrun(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A job's step far past its time limit with a grace of a year still ends at once when killed:
/// no instant overflows, nothing hangs.
#[test]
fn the_longest_grace_still_times_a_step_out() {
    let t = Test::new().matrix(
        r#"
[limits]
kill_grace = "365d"

[[steps]]
name = "wait"
run = "exec sleep 1000"
timeout = "1s"
"#,
    );
    let started = Instant::now();
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // `sleep` dies of the SIGTERM; the grace never has to run out.
    assert!(started.elapsed() < Duration::from_secs(30));
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!(doc["jobs"][0]["status"], "timed_out");
}

/// A bug that panics in one job's task stops the run as Ctrl-C would: the other jobs are ended,
/// the run is recorded, and gridrun exits 101 instead of waiting forever.
#[test]
fn a_panic_in_a_job_stops_the_run_instead_of_hanging() {
    let t = Test::new().matrix(
        r#"
[matrix]
case = ["sleeper", "boom"]

[[steps]]
name = "go"
run = "if [ {{ case }} = sleeper ]; then exec sleep 1000; fi"
"#,
    );
    let started = Instant::now();
    let out = t
        .command()
        .args(["run", "-j", "2", "--cpus", "2"])
        .env("GRIDRUN_DEBUG_PANIC_IN_JOB", "boom")
        .env("GRIDRUN_TEST_MARK", t.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "the run ended promptly");
    assert!(stderr.contains("internal error") && stderr.contains("bug"), "{stderr}");
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!(doc["status"], "interrupted");
    let status =
        |slug: &str| doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == slug).unwrap()["status"].clone();
    assert_eq!(status("boom"), "failed");
    assert_eq!(status("sleeper"), "cancelled");
    let left = processes_with("GRIDRUN_TEST_MARK", &t.path().display().to_string());
    assert!(left.is_empty(), "the sleeper was ended: {left:?}");
}

#[test]
fn a_git_source_that_looks_like_an_option_runs_nothing() {
    for source in [
        r#"{ git = "--upload-pack=touch PWNED", rev = "main" }"#,
        r#"{ git = "ext::sh -c touch% PWNED", rev = "main" }"#,
        r#"{ git = "https://example.invalid/x.git", rev = "--upload-pack=touch PWNED" }"#,
    ] {
        let t =
            Test::new().matrix(&format!("[project]\nsource = {source}\n\n[[steps]]\nname = \"x\"\nrun = \"true\"\n"));
        let out = t.gridrun(&["run"]);
        assert_eq!(out.status.code(), Some(2), "{source}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!t.path().join("PWNED").exists(), "{source} ran a command");
    }
}
