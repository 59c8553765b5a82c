//! Notifications (`[[notify]]`, `gridrun notify`) against real servers on loopback: an SMTP
//! server (aiosmtpd, `tests/tools/smtp_sink.py`) that keeps each mail it accepts, an HTTP server
//! (`tests/tools/http_sink.py`) that keeps each POST, a listener that accepts and never answers,
//! and a port nothing listens on. Every server is stopped by a guard, also when a test fails.
//!
//! The grids are shell steps (`test ! -e FILE`), so a test breaks or fixes a cell by creating or
//! removing a file.

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, repo, Test};

/// A server script from `tests/tools/`, stopped (killed and reaped) when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `python3 tests/tools/SCRIPT ARGS` and reads the port it prints.
    fn start(script: &str, args: &[&str]) -> Self {
        let child = Command::new("python3")
            .arg(repo().join("tests/tools").join(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (run .ci/install-deps)");
        let mut server = Self { child, port: 0 };
        let mut line = String::new();
        let stdout = server.child.stdout.take().expect("piped stdout");
        std::io::BufReader::new(stdout).read_line(&mut line).expect("the server's port");
        server.port = line.trim().parse().unwrap_or_else(|_| panic!("{script} printed no port: {line:?}"));
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMTP server keeping each mail as a JSON file in `dir`.
fn smtp_sink(dir: &Path) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    Server::start("smtp_sink.py", &[dir.to_str().unwrap()])
}

/// An HTTP server appending each POST to `file` as a JSON line, answering 500 to the first
/// `fail_first`.
fn http_sink(file: &Path, fail_first: u32) -> Server {
    Server::start("http_sink.py", &[file.to_str().unwrap(), &fail_first.to_string()])
}

/// The mails `dir` holds, in the order they came.
fn mails(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

/// The POSTs `file` holds.
fn posts(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A grid of three cells, `part` = `one`, `two` and `three`; a cell fails while `broken-<part>` exists
/// in the test's folder. `notify` is appended.
fn project(t: &Test, notify: &str) -> String {
    format!(
        r#"
[project]
name = "heimdall"

[matrix]
part = ["one", "two", "three"]

[[steps]]
name = "build"
run = "test ! -e {dir}/broken-{{{{ part }}}}"

{notify}
"#,
        dir = t.path().display()
    )
}

fn break_cell(t: &Test, cell: &str) {
    std::fs::write(t.path().join(format!("broken-{cell}")), "").unwrap();
}

fn fix_cell(t: &Test, cell: &str) {
    std::fs::remove_file(t.path().join(format!("broken-{cell}"))).unwrap();
}

/// gridrun ARGS in the test's folder with `env`, no proxy in the way: exit code, stdout,
/// stderr.
fn gridrun(t: &Test, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = t.process();
    for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        command.env_remove(var);
    }
    let out = command.args(args).envs(env.iter().copied()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "gridrun panicked:\n{stderr}");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A failing run is mailed: to every recipient, with the headline as subject, the failed cell
/// with its failure in the plain-text body, and the self-contained HTML report attached.
#[test]
fn a_failing_run_is_mailed_with_its_report_attached() {
    let t = Test::new();
    let inbox = t.path().join("inbox");
    let smtp = smtp_sink(&inbox);
    let notify = format!(
        r#"[[notify]]
email = {{ to = ["dev@example.com", "Ops <ops@example.com>"], from = "gridrun@example.com", server = "127.0.0.1", port = {}, security = "none" }}"#,
        smtp.port
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    break_cell(&t, "two");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("heimdall: notified: sent email to dev@example.com, Ops <ops@example.com>"), "{stderr}");
    assert!(eventually(Duration::from_secs(10), || !mails(&inbox).is_empty()), "no mail came: {stderr}");
    let mails = mails(&inbox);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail["from"], "gridrun@example.com");
    assert_eq!(mail["to"], serde_json::json!(["dev@example.com", "ops@example.com"]));
    assert_eq!(mail["subject"], "[gridrun] heimdall run 1: failed (1 of 3 cells failed)");
    let parts = mail["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{parts:#?}");
    // Mail travels with CRLF line ends.
    let body = parts[0]["text"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert!(body.starts_with("heimdall run 1: failed (1 of 3 cells failed)\n"), "{body}");
    assert!(body.contains("Cells:    2 passed, 1 failed"), "{body}");
    assert!(body.contains("Failed cells:\n  two  compile  step build: exit 1\n"), "{body}");
    assert!(body.contains("The report is attached: gridrun-heimdall-run-1.html"), "{body}");
    assert_eq!(parts[1]["content_type"], "text/html");
    assert_eq!(parts[1]["filename"], "gridrun-heimdall-run-1.html");
    let html = parts[1]["text"].as_str().unwrap();
    assert!(html.contains("<html") && html.contains("heimdall") && html.contains("two"), "{html}");
}

/// A webhook receives the run's JSON with a Slack `text`; its URL, read from the environment,
/// carries a token that no line gridrun prints shows; a server error is retried.
#[test]
fn a_webhook_gets_the_text_and_the_run_summary() {
    let t = Test::new();
    let received = t.path().join("posts.jsonl");
    let http = http_sink(&received, 1);
    let notify = r#"[[notify]]
on = ["always"]
webhook = { url_env = "HOOK_URL" }"#;
    let text = project(&t, notify);
    let t = t.matrix(&text);
    break_cell(&t, "three");
    let url = format!("http://127.0.0.1:{}/services/T0KEN-SECRET-42", http.port);
    let (code, _, stderr) = gridrun(&t, &["run"], &[("HOOK_URL", &url)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("heimdall: notified: sent webhook $HOOK_URL (attempt 2)"), "{stderr}");
    assert!(!stderr.contains("T0KEN-SECRET-42"), "the token shows: {stderr}");
    let posts = posts(&received);
    assert_eq!(posts.len(), 2, "one refused with a 500, one taken: {posts:#?}");
    for post in &posts {
        assert_eq!(post["path"], "/services/T0KEN-SECRET-42");
        assert_eq!(post["content_type"], "application/json");
    }
    let doc: serde_json::Value = serde_json::from_str(posts[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        doc["text"],
        "[gridrun] heimdall run 1: failed (1 of 3 cells failed)\n• three  compile  step build: exit 1"
    );
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["run"], 1);
    assert_eq!(doc["project"], "heimdall");
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["event"], "failed");
    let jobs = doc["jobs"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> =
        jobs.iter().map(|j| (j["slug"].as_str().unwrap(), j["status"].as_str().unwrap())).collect();
    assert_eq!(statuses, [("one", "passed"), ("two", "passed"), ("three", "failed")]);
}

/// A command is a template over the run, run with `sh -c`; the run's JSON is on its stdin.
#[test]
fn a_command_reads_the_run_on_its_stdin() {
    let t = Test::new();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let notify = format!(
        r#"[[notify]]
on = ["always"]
command = "cat > {out}/run-{{{{ run }}}}.json && echo {{{{ project }}}} {{{{ status }}}} $GRIDRUN_STATUS > {out}/said"
"#,
        out = out.display()
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("heimdall: notified: sent command `cat > "), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run-1.json")).unwrap()).unwrap();
    assert_eq!(doc["run"], 1);
    assert_eq!(doc["status"], "passed");
    assert_eq!(doc["text"], "[gridrun] heimdall run 1: passed (3 of 3 cells passed)");
    assert_eq!(doc["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(std::fs::read_to_string(out.join("said")).unwrap(), "heimdall passed passed\n");
}

/// A server that accepts and never answers, a port nobody listens on and a password that is not
/// set: each notification is tried again, then warned about; the run's exit code stands, and the
/// run ends within the notifications' timeout (they go at once) and a margin.
#[test]
fn a_server_that_hangs_or_refuses_costs_the_run_only_its_timeout() {
    let t = Test::new();
    // Connections are accepted by the kernel into the backlog and never read.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let notify = format!(
        r#"[[notify]]
on = ["always"]
timeout = "3s"
webhook = {{ url = "http://127.0.0.1:{hang}/hook" }}

[[notify]]
on = ["always"]
timeout = "3s"
email = {{ to = ["dev@example.com"], from = "gridrun@example.com", server = "127.0.0.1", port = {refused}, security = "none" }}

[[notify]]
on = ["always"]
email = {{ to = ["dev@example.com"], from = "gridrun@example.com", server = "127.0.0.1", port = {refused}, security = "none", user = "gridrun", password_env = "GRIDRUN_TEST_UNSET_PASSWORD" }}
"#,
        hang = hanging.local_addr().unwrap().port()
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    let started = Instant::now();
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    let took = started.elapsed();
    assert_eq!(code, 0, "a notification changes no exit code: {stderr}");
    assert!(took < Duration::from_secs(20), "the run took {took:?}: {stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    let webhook = format!("gridrun: heimdall: warning: [[notify]] at line 12: webhook http://127.0.0.1:{}/hook not sent (3 attempts within 3s): ", hanging.local_addr().unwrap().port());
    assert!(warnings[0].starts_with(&webhook), "{stderr}");
    assert!(warnings[0].ends_with("; the run's result stands"), "{stderr}");
    assert!(
        warnings[1].starts_with("gridrun: heimdall: warning: [[notify]] at line 17: email to dev@example.com not sent (3 attempts within 3s): SMTP: "),
        "{stderr}"
    );
    assert_eq!(
        warnings[2],
        "gridrun: heimdall: warning: [[notify]] at line 22: $GRIDRUN_TEST_UNSET_PASSWORD is not set, so the mail to dev@example.com was not sent"
    );
}

/// `on = ["fixed"]`: a failing run sends nothing, the passing run after it sends, and the
/// passing run after that sends nothing again.
#[test]
fn fixed_is_sent_once_when_a_failure_is_fixed() {
    let t = Test::new();
    let said = t.path().join("said");
    let notify = format!(
        r#"[[notify]]
on = ["fixed"]
command = "echo {{{{ run }}}} {{{{ event }}}} {{{{ previous_run }}}} >> {}""#,
        said.display()
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    break_cell(&t, "one");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!said.exists(), "a failure is not a fix: {stderr}");
    fix_cell(&t, "one");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&said).unwrap(), "2 fixed 1\n", "{stderr}");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&said).unwrap(), "2 fixed 1\n", "a pass after a pass fixes nothing");
}

/// `gridrun notify RUN --dry-run` says what each entry would send and to whom (a URL's token
/// masked) and sends nothing; `gridrun notify RUN` then sends it.
#[test]
fn notify_dry_run_shows_and_sends_nothing_then_sends() {
    let t = Test::new();
    let inbox = t.path().join("inbox");
    let received = t.path().join("posts.jsonl");
    let smtp = smtp_sink(&inbox);
    let http = http_sink(&received, 0);
    let text = project(&t, "");
    let t = t.matrix(&text);
    break_cell(&t, "two");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 1, "{stderr}");
    // The entries come after the run: `notify` reads the file the run was made from.
    let notify = format!(
        r#"[[notify]]
email = {{ to = ["dev@example.com"], from = "gridrun@example.com", server = "127.0.0.1", port = {smtp}, security = "none" }}

[[notify]]
min_failed = 1
webhook = {{ url_env = "HOOK_URL" }}

[[notify]]
on = ["fixed"]
command = "echo fixed"
"#,
        smtp = smtp.port
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    let url = format!("http://127.0.0.1:{}/services/T0KEN-SECRET-42", http.port);
    let env = [("HOOK_URL", url.as_str())];
    let (code, stdout, stderr) = gridrun(&t, &["notify", "1", "--dry-run"], &env);
    assert_eq!(code, 0, "{stderr}");
    let expected = format!(
        "heimdall run 1: failed (1 of 3 cells failed) (gridrun.toml)
email (line 12): would send
  to:      dev@example.com
  from:    gridrun@example.com
  server:  127.0.0.1:{smtp} (none)
  subject: [gridrun] heimdall run 1: failed (1 of 3 cells failed)
  attach:  gridrun-heimdall-run-1.html
  within:  30s (2 retries)
webhook (line 15): would send
  POST:    $HOOK_URL = http://127.0.0.1:{http}/***
  text:    [gridrun] heimdall run 1: failed (1 of 3 cells failed)
  within:  30s (2 retries)
command (line 19): nothing to send: on fixed: the run failed and no finished run before it
",
        smtp = smtp.port,
        http = http.port
    );
    assert_eq!(stdout, expected, "{stderr}");
    assert!(!stdout.contains("T0KEN"), "{stdout}");
    assert!(mails(&inbox).is_empty() && posts(&received).is_empty(), "a dry run sent something");

    let (code, stdout, stderr) = gridrun(&t, &["notify"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("email (line 12): sent email to dev@example.com\n"), "{stdout}");
    assert!(stdout.contains("webhook (line 15): sent webhook $HOOK_URL\n"), "{stdout}");
    assert!(!stdout.contains("T0KEN") && !stderr.contains("T0KEN"), "{stdout}{stderr}");
    assert!(eventually(Duration::from_secs(10), || mails(&inbox).len() == 1), "no mail came");
    assert_eq!(posts(&received).len(), 1);
}

/// `[branches."GLOB"]` rules: runs of `main` tell the strict hook in place of the file's own,
/// runs of other branches tell the file's; "fixed" compares with the same branch's last run.
#[test]
fn a_branch_hears_through_its_own_rules() {
    let t = Test::new();
    let strict = t.path().join("strict.jsonl");
    let lenient = t.path().join("lenient.jsonl");
    let strict_hook = http_sink(&strict, 0);
    let lenient_hook = http_sink(&lenient, 0);
    let notify = format!(
        r#"[[notify]]
on = ["always"]
webhook = {{ url = "http://127.0.0.1:{lenient}/lenient" }}

[[branches."main".notify]]
on = ["failure", "fixed"]
webhook = {{ url = "http://127.0.0.1:{strict}/strict" }}"#,
        lenient = lenient_hook.port,
        strict = strict_hook.port
    );
    let text = project(&t, &notify);
    let t = t.matrix(&text);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(t.path())
            .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "init.defaultBranch=main"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "gridrun.toml"]);
    git(&["commit", "-qm", "one"]);

    break_cell(&t, "two");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(lenient.metadata().is_err(), "main's runs do not use the file's rules");
    let told = posts(&strict);
    assert_eq!(told.len(), 1, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(told[0]["body"].as_str().unwrap()).unwrap();
    assert!(doc["text"].as_str().unwrap().starts_with("[gridrun] heimdall@main run 1: failed"), "{doc:#}");

    // Another branch: the file's own rule; its first passing run is not "fixed" (main failed,
    // not it), and main's hook hears nothing.
    git(&["checkout", "-qb", "dev"]);
    fix_cell(&t, "two");
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(posts(&strict).len(), 1);
    let told = posts(&lenient);
    assert_eq!(told.len(), 1, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(told[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(doc["event"], "passed", "{doc:#}");

    // Back on main, the fix is "fixed" against main's own last run.
    git(&["checkout", "-q", "main"]);
    let (code, _, stderr) = gridrun(&t, &["run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let told = posts(&strict);
    assert_eq!(told.len(), 2, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(told[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(doc["event"], "fixed", "{doc:#}");
    // `gridrun notify` reads the run's branch and its rules too.
    let (code, stdout, stderr) = gridrun(&t, &["notify", "3", "--dry-run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("/strict") && !stdout.contains("lenient"), "{stdout}");
}
