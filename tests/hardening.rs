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

#[test]
fn a_store_on_read_only_media_can_still_be_read() {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"echo built\"\n");
    let Some(media) = common::Tmpfs::mount(&t.path().join("media"), "16m") else { return };
    let state = media.path().join("state");
    let state_arg = state.to_str().unwrap();
    assert_eq!(t.gridrun(&["--state-dir", state_arg, "run"]).status.code(), Some(0));
    media.remount_read_only();
    assert!(t.ok(&["--state-dir", state_arg, "status"]).contains("1 passed"));
    assert_eq!(t.ok_json(&["--state-dir", state_arg, "show", "--json"])["jobs"][0]["status"], "passed");
    assert_eq!(t.ok(&["--state-dir", state_arg, "log", "default"]), "built\n");
    assert!(t.ok(&["--state-dir", state_arg, "report", "--format", "md"]).contains("passed"));
}

/// With a byte-order mark the caret of an error on line 1 stood one column right of the key.
#[test]
fn a_byte_order_mark_does_not_shift_the_caret() {
    let t = Test::new().file("gridrun.toml", "\u{feff}nam = 1\n[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    let out = t.gridrun(&["plan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: gridrun.toml:1:1: unknown key `nam`"), "{stderr}");
    assert!(stderr.contains("\n1 | nam = 1\n  | ^^^\n"), "{stderr}");
}

/// A 5 MB line with an error in it gave 10 MB of stderr.
#[test]
fn an_error_on_a_huge_line_is_short() {
    let line = format!("[project]\nname = \"{}\"\n[[steps]]\nname = \"x\"\nrun = \"true\"\n", "n".repeat(5 << 20));
    let t = Test::new().file("gridrun.toml", &line);
    let out = t.gridrun(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.len() < 2048, "{} bytes of stderr", out.stderr.len());
}

#[test]
fn plan_refuses_devices_and_huge_files() {
    let t = Test::new();
    // Read-only use of a device: never written, and refused before a byte is read.
    let line = t.fails(&["plan", "/dev/zero"]);
    assert_eq!(line, "error: /dev/zero: cannot read: is not a regular file");
    let t = t.file("big.toml", &"#".repeat(9 << 20));
    let line = t.fails(&["plan", "big.toml"]);
    assert_eq!(line, "error: big.toml: cannot read: is larger than 8.0 MiB");
}

#[test]
fn junit_must_come_from_the_jobs_own_folders() {
    let t = Test::new().matrix("[[steps]]\nname = \"t\"\nrun = \"true\"\njunit = \"/etc/passwd\"\n");
    let out = t.gridrun(&["plan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.starts_with("error: gridrun.toml:4:9: steps.t.junit: `/etc/passwd` is outside the job's folders"),
        "{stderr}"
    );
    // A link made by the job that leads out is not followed.
    let t = Test::new().matrix(
        "[[steps]]\nname = \"t\"\nrun = \"ln -sf /etc/passwd {{ results_dir }}/out.xml\"\njunit = \"{{ results_dir }}/out.xml\"\n",
    );
    let out = t.gridrun(&["run", "--keep-workspaces"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!(doc["jobs"][0]["test_cases"].as_array().unwrap().len(), 0);
    assert!(doc["jobs"][0]["log_tail"].as_str().unwrap_or("").contains("leads outside the job's folders"), "{doc}");
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// Two runs at one commit copied their artifacts to one folder: run 1's record kept its SHA-256
/// while the file held run 2's bytes.
#[test]
fn every_run_keeps_its_own_artifacts_at_one_commit() {
    let t = Test::new().matrix(
        r#"
[[steps]]
name = "build"
run = "echo built by run {{ run }} > {{ build_dir }}/out.txt"

[artifacts]
patterns = ["{{ build_dir }}/out.txt"]
"#,
    );
    std::fs::write(t.path().join(".gitignore"), ".gridrun/\n").unwrap();
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-qm", "one commit"]);
    for _ in 0..2 {
        assert_eq!(t.gridrun(&["run"]).status.code(), Some(0));
    }
    let mut contents = Vec::new();
    for run in ["1", "2"] {
        let doc = t.ok_json(&["show", run, "--json"]);
        let artifact = &doc["jobs"][0]["artifacts"][0];
        let stored = std::fs::read(artifact["stored_path"].as_str().unwrap()).unwrap();
        let sha = sha256_hex(&stored);
        assert_eq!(artifact["sha256"].as_str().unwrap(), sha, "run {run}'s record describes its file");
        contents.push(String::from_utf8(stored).unwrap());
    }
    assert_eq!(contents, ["built by run 1\n", "built by run 2\n"]);
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// `patterns = ["{{ source }}/**"]` copied `.gridrun/artifacts` into itself until "File name too
/// long", and the job still passed.
#[test]
fn collecting_everything_never_walks_the_state_folder() {
    let t = Test::new()
        .matrix("[[steps]]\nname = \"x\"\nrun = \"true\"\n\n[artifacts]\npatterns = [\"{{ source }}/**\"]\n")
        .file("src/main.cpp", "int main() {}\n");
    for _ in 0..2 {
        let out = t.gridrun(&["run"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let doc = t.ok_json(&["show", "--json"]);
    let mut paths: Vec<&str> =
        doc["jobs"][0]["artifacts"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["gridrun.toml", "src/main.cpp"]);
}

#[test]
fn an_artifact_that_cannot_be_kept_fails_the_job_as_infrastructure() {
    let t = Test::new().matrix(
        "[[steps]]\nname = \"x\"\nrun = \"head -c 3000000 /dev/zero > big.bin\"\n\n[artifacts]\npatterns = [\"big.bin\"]\n",
    );
    let Some(small) = common::Tmpfs::mount(&t.path().join("small"), "1m") else { return };
    let state = small.path().join("state");
    let out = t.gridrun(&["--state-dir", state.to_str().unwrap(), "run"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = t.ok_json(&["--state-dir", state.to_str().unwrap(), "show", "--json"]);
    let job = &doc["jobs"][0];
    assert_eq!((job["status"].as_str(), job["failure_kind"].as_str()), (Some("failed"), Some("infra")), "{job}");
    assert!(job["log_tail"].as_str().unwrap().contains("cannot collect artifacts"), "{job}");
}

/// With the state folder's disk full, jobs that had finished were later recorded abandoned or
/// cancelled and their results lost.
#[test]
fn a_full_disk_loses_no_finished_job() {
    let t = Test::new().matrix(
        r#"
[matrix]
n = [1, 2, 3]

[[steps]]
name = "go"
run = "if [ {{ n }} = 2 ]; then head -c 100000000 /dev/zero > {{ cache_dir }}/filler 2>/dev/null || true; fi"
"#,
    );
    let Some(disk) = common::Tmpfs::mount(&t.path().join("disk"), "12m") else { return };
    let state = disk.path().join("state");
    let state_arg = state.to_str().unwrap();
    let out = t.gridrun(&["--state-dir", state_arg, "run", "-j", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::remove_file(state.join("cache/filler")).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("is full: gridrun gave up its reserve"), "{stderr}");
    let doc = t.ok_json(&["--state-dir", state_arg, "show", "--json"]);
    assert_eq!(doc["status"], "passed", "{doc}");
    let statuses: Vec<&str> = doc["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["passed", "passed", "passed"]);
}

const SECRET: &str = "s3cr3t-t0k3n-4711";

/// Every file gridrun wrote under `dir`, as bytes.
fn every_file(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    walk(dir).into_iter().filter(|p| p.is_file()).map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_secret_never_reaches_a_log_the_store_or_a_report() {
    let t = Test::new().matrix(
        r#"
secrets = ["API_TOKEN"]

[[steps]]
name = "leak"
junit = "{{ results_dir }}/r.xml"
run = """
printf 's3cr3t-'; sleep 0.2; printf 't0k3n-4711 in pieces\n'
echo "whole: $API_TOKEN" >&2
printf '<testsuite name="s"><testcase name="t %s" classname="s"><failure message="%s"/></testcase></testsuite>' "$API_TOKEN" "$API_TOKEN" > {{ results_dir }}/r.xml
echo "main.cpp:1:1: error: $API_TOKEN"
exit 1
"""
"#,
    );
    let out = t.command().args(["run", "--keep-workspaces"]).env("API_TOKEN", SECRET).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let mut seen = vec![("run's stdout".to_string(), out.stdout.clone()), ("run's stderr".into(), out.stderr.clone())];
    // The summary tells the failure by its diagnostic, the secret in it masked.
    assert!(
        holds(&out.stdout, "main.cpp:1:1: error: ***"),
        "the job's error is shown: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for args in [
        &["show", "latest/default"][..],
        &["show", "--json"],
        &["log", "default"],
        &["report", "--format", "html"],
        &["report", "--format", "md"],
        &["report", "--format", "junit"],
        &["report", "--format", "json"],
    ] {
        let out = t.gridrun(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        seen.push((format!("{args:?}"), out.stdout));
    }
    let log = t.ok(&["log", "default"]);
    assert!(log.contains("*** in pieces") && log.contains("whole: ***"), "{log}");
    // The state folder (store, WAL, logs, artifacts) minus the job's own workspace, which holds
    // what the job itself wrote.
    for (path, bytes) in every_file(&t.state_dir()) {
        if !path.starts_with(t.state_dir().join("work")) {
            seen.push((path.display().to_string(), bytes));
        }
    }
    let leaks: Vec<&String> = seen.iter().filter(|(_, bytes)| holds(bytes, SECRET)).map(|(what, _)| what).collect();
    assert!(leaks.is_empty(), "the secret is in: {leaks:?}");
}

#[test]
fn a_secret_set_in_the_file_is_refused() {
    let t = Test::new()
        .matrix("secrets = [\"TOKEN\"]\n\n[env]\nTOKEN = \"abc\"\n\n[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    let out = t.gridrun(&["plan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.starts_with("error: gridrun.toml:1:12: secrets: `TOKEN` is also given a value in this file"),
        "{stderr}"
    );
}
