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

fn one_passing_run() -> Test {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(0));
    t
}

fn make_fifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// Reads a FIFO to its end on a thread of its own.
fn drain(path: &std::path::Path) -> std::thread::JoinHandle<Vec<u8>> {
    let path = path.to_path_buf();
    std::thread::spawn(move || std::fs::read(path).unwrap())
}

#[test]
fn a_report_into_a_pipe_is_streamed_not_replaced() {
    let t = one_passing_run();
    let fifo = t.path().join("report.pipe");
    make_fifo(&fifo);
    let reader = drain(&fifo);
    t.ok(&["report", "--format", "json", "-o", fifo.to_str().unwrap()]);
    let got = reader.join().unwrap();
    assert!(String::from_utf8_lossy(&got).contains("\"schema\": 1"));
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind), "the pipe is still a pipe");
}

#[test]
fn a_report_through_a_link_replaces_what_the_link_names_and_keeps_the_link() {
    let t = one_passing_run();
    std::fs::write(t.path().join("real.md"), "old").unwrap();
    std::os::unix::fs::symlink("real.md", t.path().join("link.md")).unwrap();
    t.ok(&["report", "--format", "md", "-o", "link.md"]);
    assert!(std::fs::symlink_metadata(t.path().join("link.md")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(t.path().join("real.md")).unwrap().contains("passed"));
}

#[test]
fn a_report_to_dash_goes_to_stdout_and_a_folder_is_refused() {
    let t = one_passing_run();
    assert!(t.ok(&["report", "--format", "json", "-o", "-"]).contains("\"schema\": 1"));
    std::fs::create_dir(t.path().join("out")).unwrap();
    let line = t.fails(&["report", "-o", "out"]);
    assert!(line.contains("is a folder"), "{line}");
    let out = t.gridrun(&["run", "--junit", "out"]);
    assert_eq!(out.status.code(), Some(2), "refused before anything runs");
    assert_eq!(t.ok_json(&["status", "--json"])["runs"].as_array().unwrap().len(), 1, "no second run");
}

/// As `-o /dev/full` would, without pointing a root process at a device: a full file system of
/// the test's own.
#[test]
fn a_write_error_on_a_report_is_reported() {
    let t = one_passing_run();
    let Some(full) = common::Tmpfs::mount(&t.path().join("full"), "64k") else { return };
    std::fs::write(full.path().join("filler"), vec![0u8; 64 * 1024]).ok();
    let target = full.path().join("report.html");
    let out = t.gridrun(&["report", "-o", target.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write") && stderr.contains("No space left"), "{stderr}");
    assert!(!target.exists(), "no half-written report is left");
}

#[test]
fn junit_into_a_pipe_is_streamed_once() {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    let fifo = t.path().join("junit.pipe");
    make_fifo(&fifo);
    let reader = drain(&fifo);
    assert_eq!(t.gridrun(&["run", "--junit", fifo.to_str().unwrap()]).status.code(), Some(0));
    assert!(String::from_utf8_lossy(&reader.join().unwrap()).contains("<testsuites"));
}

#[test]
fn a_project_name_cannot_lead_a_report_out_of_its_folder() {
    let t = Test::new()
        .file("matrices/a.toml", "[[steps]]\nname = \"x\"\nrun = \"true\"\n")
        .file("matrices/b.toml", "[project]\nname = \"../../../evil\"\n\n[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    let out = t.gridrun(&["run", "matrices", "--report", "out/grid.html", "--junit", "out/junit.xml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: matrices/b.toml:2:8: project.name must not contain `/`"), "{stderr}");
    let written: Vec<_> = walk(t.path()).into_iter().filter(|p| p.to_string_lossy().contains("evil")).collect();
    assert!(written.is_empty(), "{written:?}");
    assert!(!t.path().join("out").exists(), "nothing ran, nothing was written");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(entry.path());
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        }
    }
    out
}

/// `gridrun plan 2>&1 | head -1` closed stderr under an error message with a snippet: printing
/// the snippet panicked, and the panic hook's own message aborted the process.
#[test]
fn an_error_into_a_closed_stderr_is_not_a_crash() {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"   \"\n");
    let mut child = t
        .process()
        .arg("plan")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
}

/// What GitHub's runner would run of `output`: every line (split at CR and LF, as the runner
/// reads them) that starts with `::`, outside `::stop-commands::TOKEN` … `::TOKEN::`.
fn workflow_commands(output: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut stopped: Option<String> = None;
    for line in output.split(['\n', '\r']).map(str::trim) {
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_string());
        } else if line.starts_with("::") {
            commands.push(line.to_string());
        }
    }
    commands
}

const HOSTILE_JOB: &str = r#"
[[steps]]
name = "evil"
run = "printf '::set-output name=x::pwned\n  ::add-mask::pwned\nok\r::warning::pwned\n'; exit 1"
"#;

#[test]
fn a_job_cannot_issue_workflow_commands_through_gridruns_output() {
    let t = Test::new().matrix(HOSTILE_JOB);
    let out =
        t.command().args(["run"]).env("GITHUB_ACTIONS", "true").env_remove("GITHUB_STEP_SUMMARY").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(text);
        let commands = workflow_commands(&text);
        assert!(commands.iter().all(|c| !c.contains("pwned")), "run's {what} issued {commands:?}:\n{text}");
    }
    for args in [&["show", "latest/default"][..], &["log", "default"]] {
        let out = t.command().args(args).env("GITHUB_ACTIONS", "true").output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("set-output"), "{args:?} shows the log:\n{text}");
        let commands = workflow_commands(&text);
        assert!(commands.is_empty(), "{args:?} issued {commands:?}:\n{text}");
    }
}

#[test]
fn control_characters_from_a_job_never_reach_the_terminal() {
    let t = Test::new().matrix(
        r#"
[[steps]]
name = "noisy"
run = '''printf 'a\033]52;c;cHduZWQ=\007b\033[2J\000c\rd\033[31mred\033[0m\n'; exit 1'''
"#,
    );
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("ab"), "{summary}");
    for args in [&["show", "latest/default"][..], &["show"], &["status"]] {
        let out = t.gridrun(args);
        let text = String::from_utf8_lossy(&out.stdout);
        let bad: Vec<char> = text.chars().filter(|c| c.is_control() && *c != '\n').collect();
        assert!(bad.is_empty(), "{args:?} printed {bad:?}:\n{text}");
    }
    let bad: Vec<char> = summary.chars().filter(|c| c.is_control() && *c != '\n').collect();
    assert!(bad.is_empty(), "the run's summary printed {bad:?}");
}

#[test]
fn a_newline_or_escape_in_a_value_cannot_break_a_one_line_output() {
    let t = Test::new().matrix(
        "[matrix]\nflavour = [\"a\\nb\", \"c\\rd\", \"e\\u001b[2Jf\"]\n\n[[steps]]\nname = \"x\"\nrun = \"true\"\n",
    );
    let plan = t.ok(&["plan"]);
    assert!(plan.contains("a\\nb") && plan.contains("c\\rd") && plan.contains("e\\u{1b}[2Jf"), "{plan}");
    assert!(!plan.contains('\r') && !plan.contains('\u{1b}'), "{plan}");
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(0));
    for args in [&["show"][..], &["show", "latest/a-b"], &["plan", "--format", "table"]] {
        let text = t.ok(args);
        assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{args:?}:\n{text}");
        assert!(!text.lines().any(|l| l.trim() == "b" || l.starts_with("b ")), "{args:?} broke a line:\n{text}");
    }
}
