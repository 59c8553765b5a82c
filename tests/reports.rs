//! Reports through the real binary on runs of real processes: every format pinned by a
//! snapshot (durations, times, paths, hashes and compiler versions redacted), JUnit read back
//! by an XML parser, a baseline and `compare` after a cell flips, and the HTML page opened in a
//! real browser (Chromium, headless): its script runs without an error, every job is one grid
//! cell, and a log line that looks like a script stays text.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{have, Test};
use quick_xml::events::Event;
use serde_json::Value;

/// Four cells: `gcc-12-17` fails (its log holds a script tag and a compiler error) because of a
/// marker file, `gcc-12-23` and `clang-14-17` pass and record a JUnit file with a passing and a
/// failing test, `clang-14-26` is unsupported (clang 14 has neither -std=c++26 nor -std=c++2c).
const MATRIX: &str = r#"
[project]
name = "reports"

[matrix]
compiler = ["gcc-12", "clang-14"]
cxx_standard = ["17", "23"]

[[matrix.exclude]]
compiler = "clang-14"
cxx_standard = "23"

[[matrix.include]]
compiler = "clang-14"
cxx_standard = "26"

[[steps]]
name = "build"
run = '''echo building {{ job }}; if [ -f {{ source }}/fail-{{ job }} ]; then echo '<script>alert(1)</script>'; echo 'src/a.cpp:3:5: error: boom'; exit 1; fi'''

[[steps]]
name = "test"
run = '''printf '<testsuite name="unit"><testcase name="ok"/><testcase name="bad"><failure message="expected 1">got 2</failure></testcase></testsuite>\n' > {{ results_dir }}/r.xml'''
junit = "{{ results_dir }}/r.xml"
"#;

const SCRIPT_LINE: &str = "<script>alert(1)</script>";

/// The compilers the matrix names must be real: their cells are probed and run.
fn need_compilers() {
    for compiler in ["g++-12", "clang++-14"] {
        assert!(have(compiler), "{compiler} is not installed: run .ci/install-deps");
    }
}

/// A matrix with one recorded run in which `gcc-12-17` fails.
fn one_run() -> Test {
    need_compilers();
    let t = Test::new().matrix(MATRIX).file("fail-gcc-12-17", "");
    run(&t, 1);
    t
}

/// Runs the matrix once more and checks the exit code it ends with.
fn run(t: &Test, code: i32) {
    let out = gridrun(t, &["run"]);
    assert_eq!(out.status.code(), Some(code), "run: {}", String::from_utf8_lossy(&out.stderr));
}

fn gridrun(t: &Test, args: &[&str]) -> Output {
    t.command().args(args).output().expect("gridrun runs")
}

/// Runs, asserts exit 0 and an empty stderr, returns stdout.
fn ok(t: &Test, args: &[&str]) -> String {
    let out = gridrun(t, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "gridrun {args:?}\nstderr: {stderr}");
    assert!(stderr.is_empty(), "gridrun {args:?} wrote to stderr: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs, asserts exit 2 with no output and a one-line error; returns that line.
fn fails(t: &Test, args: &[&str]) -> String {
    let out = gridrun(t, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "gridrun {args:?}\nstderr: {stderr}");
    assert!(out.stdout.is_empty(), "gridrun {args:?} printed: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr.trim_end().to_string()
}

fn show(t: &Test, run: &str) -> Value {
    serde_json::from_str(&ok(t, &["show", run, "--json"])).expect("show --json is JSON")
}

/// `text` matched literally in an insta filter.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if ".+*?()|[]{}^$\\#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshots `text` with what changes from one run to the next redacted: the temp folder,
/// times, durations, memory, config hashes, compiler versions, and the duration chart (its bar
/// order and lengths are the jobs' timings). Diagnostics come from gridrun's log parser: when it
/// learns more, these snapshots change with it.
fn snapshot(t: &Test, name: &str, text: &str) {
    let doc = show(t, "1");
    let mut settings = insta::Settings::clone_current();
    let tmp = t.path().display().to_string();
    settings.add_filter(&literal(&tmp), "[TMP]");
    // HTML autoescape writes `/` as `&#x2f;`.
    settings.add_filter(&literal(&tmp.replace('/', "&#x2f;")), "[TMP]");
    for job in doc["jobs"].as_array().unwrap() {
        let version = job["compiler_version"].as_str().unwrap_or_default();
        if !version.is_empty() {
            settings.add_filter(&literal(version), "[VERSION]");
        }
    }
    settings.add_filter(r"(?s)<section id=.durations.>.*?</section>", "[DURATION CHART]");
    settings.add_filter(r"(?s)<section id=.timeline.>.*?</section>", "[TIMELINE]");
    settings.add_filter(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?( UTC)?", "[TIME]");
    settings.add_filter(r#""(duration_ms|cpu_ms|peak_rss_kb)": \d+"#, r#""$1": "[N]""#);
    settings.add_filter(r#"time="\d+\.\d{3}""#, r#"time="[S]""#);
    settings.add_filter(r"\b\d+(\.\d)?s\b", "[DURATION]");
    settings.add_filter(r"\b\d+m \d\ds\b", "[DURATION]");
    // Peak memory below what can be measured is not shown: drop it where it is, so that both
    // read alike.
    settings.add_filter(r"<li><span class=.muted.>peak memory</span> \d+\.\d MiB</li>", "");
    settings.add_filter(r" · peak \d+\.\d MiB", "");
    settings.add_filter(r"<td>\d+\.\d MiB</td></tr>", "<td>-</td></tr>");
    settings.add_filter(r"\b[0-9a-f]{16}\b", "[HASH]");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn html_report_snapshot() {
    let t = one_run();
    let html = ok(&t, &["report", "--format", "html"]);
    snapshot(&t, "report_html", &html);
    // What the snapshot hides: a bar per job that ran, longest first.
    let chart =
        html.split("<section id=\"durations\">").nth(1).expect("a duration chart").split("</section>").next().unwrap();
    assert_eq!(chart.matches("<rect ").count(), 3, "{chart}");
}

#[test]
fn markdown_report_snapshot() {
    let t = one_run();
    snapshot(&t, "report_md", &ok(&t, &["report", "--format", "md"]));
}

#[test]
fn junit_report_snapshot() {
    let t = one_run();
    snapshot(&t, "report_junit", &ok(&t, &["report", "--format", "junit"]));
}

#[test]
fn json_report_snapshot_is_the_show_document() {
    let t = one_run();
    let json = ok(&t, &["report", "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), show(&t, "1"));
    snapshot(&t, "report_json", &json);
}

/// A `<testsuite>` or `<testcase>` read back: its attributes, and the elements inside it.
#[derive(Debug, Default)]
struct Element {
    attrs: Vec<(String, String)>,
    children: Vec<String>,
}

impl Element {
    fn attr(&self, key: &str) -> &str {
        self.attrs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }
}

/// The suites and, per suite, its cases, as an XML parser reads them.
fn parse_junit(xml: &str) -> (Element, Vec<(Element, Vec<Element>)>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut root = Element::default();
    let mut suites: Vec<(Element, Vec<Element>)> = Vec::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::Eof => break,
            _ => continue,
        };
        let name = start.name().as_ref().to_string();
        let attrs = start
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned(),
                )
            })
            .collect();
        let element = Element { attrs, children: Vec::new() };
        match name.as_str() {
            "testsuites" => root = element,
            "testsuite" => suites.push((element, Vec::new())),
            "testcase" => suites.last_mut().expect("a case in a suite").1.push(element),
            "failure" | "error" | "skipped" => {
                let case = suites.last_mut().and_then(|s| s.1.last_mut()).expect("inside a case");
                case.children.push(name);
            }
            _ => {}
        }
        let _ = empty;
    }
    (root, suites)
}

#[test]
fn junit_reads_back_as_a_suite_per_cell_with_a_case_per_step_and_test() {
    let t = one_run();
    let xml = ok(&t, &["report", "--format", "junit"]);
    let (root, suites) = parse_junit(&xml);
    let names: Vec<&str> = suites.iter().map(|(s, _)| s.attr("name")).collect();
    assert_eq!(names, ["gcc-12-17", "gcc-12-23", "clang-14-17", "clang-14-26"]);

    let cases = |slug: &str| -> Vec<(String, String, Vec<String>)> {
        let (_, cases) = suites.iter().find(|(s, _)| s.attr("name") == slug).unwrap();
        cases.iter().map(|c| (c.attr("classname").into(), c.attr("name").into(), c.children.clone())).collect()
    };
    let s = |v: &str| v.to_string();
    assert_eq!(cases("gcc-12-17"), [(s("gcc-12-17"), s("step:build"), vec![s("failure")])]);
    assert_eq!(
        cases("gcc-12-23"),
        [
            (s("gcc-12-23"), s("step:build"), vec![]),
            (s("gcc-12-23"), s("step:test"), vec![]),
            (s("gcc-12-23.unit"), s("ok"), vec![]),
            (s("gcc-12-23.unit"), s("bad"), vec![s("failure")]),
        ]
    );
    assert_eq!(cases("clang-14-26"), [(s("clang-14-26"), s("job"), vec![s("skipped")])]);

    // Each suite's counts agree with its cases, and the root's with the suites.
    let mut totals = [0usize; 4];
    for (suite, cases) in &suites {
        let count = |tag: &str| cases.iter().filter(|c| c.children.iter().any(|t| t == tag)).count();
        let counts = [cases.len(), count("failure"), count("error"), count("skipped")];
        for (key, n) in ["tests", "failures", "errors", "skipped"].iter().zip(counts) {
            assert_eq!(suite.attr(key), n.to_string(), "{key} of {}", suite.attr("name"));
        }
        for (total, n) in totals.iter_mut().zip(counts) {
            *total += n;
        }
    }
    assert_eq!(totals, [10, 3, 0, 1]);
    for (key, n) in ["tests", "failures", "errors", "skipped"].iter().zip(totals) {
        assert_eq!(root.attr(key), n.to_string(), "{key} of the run");
    }
    // The failing step says why in its message, and its log text is escaped XML.
    assert!(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{xml}");
    assert!(!xml.contains(SCRIPT_LINE));
}

/// Run 1: `gcc-12-17` fails. Run 2: it is fixed and `clang-14-17` fails instead.
fn two_runs() -> Test {
    let t = one_run();
    std::fs::remove_file(t.path().join("fail-gcc-12-17")).unwrap();
    std::fs::write(t.path().join("fail-clang-14-17"), "").unwrap();
    run(&t, 1);
    t
}

#[test]
fn baseline_marks_a_cell_that_flipped_from_pass_to_fail_as_newly_failing() {
    let t = two_runs();
    let md = ok(&t, &["report", "2", "--format", "md", "--baseline", "1"]);
    assert!(md.contains("## Against run 1\n"), "{md}");
    assert!(md.contains("- **Newly failing (1)**: `clang-14-17` (passed → failed)\n"), "{md}");
    assert!(md.contains("- **Fixed (1)**: `gcc-12-17` (failed → passed)\n"), "{md}");
    assert!(md.contains("| gcc-12 | pass (fixed) | pass |  |\n"), "{md}");
    assert!(md.contains("| clang-14 | **FAIL** (new) |  | unsup |\n"), "{md}");

    let html = ok(&t, &["report", "--format", "html", "--baseline", "1"]);
    let flipped = html
        .split("<a class=\"cell")
        .find(|cell| cell.contains("data-slug=\"clang-14-17\""))
        .expect("clang-14-17 on the grid");
    assert!(flipped.starts_with(" t-bad ch-newly_failing\""), "{flipped}");
    assert!(flipped.contains("FAIL <span class=\"change\">new</span>"), "{flipped}");
    assert!(html.contains("<h3 id=\"newly-failing\">Newly failing (1)</h3>"), "{html}");
    assert!(html.contains("<h3 id=\"fixed\">Fixed (1)</h3>"), "{html}");

    // Without a baseline nothing is marked.
    let plain = ok(&t, &["report", "--format", "html"]);
    assert!(!plain.contains(" ch-newly_failing\"") && !plain.contains("id=\"baseline\""));
}

#[test]
fn compare_says_what_newly_fails_and_what_was_fixed() {
    let t = two_runs();
    let text = ok(&t, &["compare", "1", "2"]);
    assert_eq!(
        text,
        "run 1 (reports, failed) → run 2 (reports, failed)\n\
         \nnewly failing: 1\n  clang-14-17  passed → failed (compile)\n\
         \nfixed: 1\n  gcc-12-17  failed → passed\n\
         \nstill failing: 0\n\
         \nslower (> 1.2× and ≥ 1s): 0\n\
         \nonly in run 1: 0\n\
         \nonly in run 2: 0\n"
    );
    assert_eq!(ok(&t, &["compare", "1"]), text, "B defaults to the latest run");

    let json: Value = serde_json::from_str(&ok(&t, &["compare", "1", "2", "--json"])).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!((json["a"].as_i64(), json["b"].as_i64()), (Some(1), Some(2)));
    assert_eq!(
        json["newly_failing"],
        serde_json::json!([{"slug": "clang-14-17", "before": "passed", "after": "failed", "failure_kind": "compile"}])
    );
    assert_eq!(
        json["fixed"],
        serde_json::json!([{"slug": "gcc-12-17", "before": "failed", "after": "passed", "failure_kind": null}])
    );
    for empty in ["still_failing", "slower", "only_in_a", "only_in_b"] {
        assert_eq!(json[empty], serde_json::json!([]), "{empty}");
    }
}

#[test]
fn report_writes_its_file_whole_and_bad_requests_get_one_line() {
    let t = one_run();
    let out = t.path().join("out/report.md");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    assert_eq!(ok(&t, &["report", "--format", "md", "-o", out.to_str().unwrap()]), "");
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, ok(&t, &["report", "--format", "md"]));
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temp file is left beside it");

    let pivoted = ok(&t, &["report", "--format", "md", "--pivot", "cxx_standard,compiler"]);
    assert!(pivoted.contains("| cxx\\_standard \\\\ compiler | gcc-12 | clang-14 |\n"), "{pivoted}");
    assert!(pivoted.contains("| 17 | **FAIL** | pass |\n"), "{pivoted}");

    assert_eq!(
        fails(&t, &["report", "--pivot", "os,compiler"]),
        "error: --pivot: `os` is not a key of the matrix (keys: compiler, cxx_standard)"
    );
    assert_eq!(fails(&t, &["report", "--baseline", "9"]), "error: no run 9 (the newest is run 1)");
    assert_eq!(fails(&t, &["compare", "9", "1"]), "error: no run 9 (the newest is run 1)");
    // Missing folders are made; a path through a file cannot be.
    let nested = t.path().join("new/folder/r.html");
    ok(&t, &["report", "-o", nested.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&nested).unwrap().contains("</html>"));
    let through_a_file = t.path().join("gridrun.toml/r.html");
    assert!(fails(&t, &["report", "-o", through_a_file.to_str().unwrap()]).starts_with("error: cannot write "));
}

/// Runs Chromium headless on `page` and returns the DOM it ends with and what it logged.
fn chromium_dump(page: &Path) -> (String, String) {
    assert!(have("chromium"), "chromium is not installed: run .ci/install-deps");
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Its output is drained as it comes: a DOM bigger than a pipe's buffer would otherwise stop
    // chromium mid-write, never to exit.
    let drain = |mut from: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut from, &mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    // Chromium exits by itself once the DOM is dumped; a hung browser must not hang the suite.
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (dom, log) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "chromium failed: {log}");
    (dom, log)
}

#[test]
fn html_report_works_in_a_real_browser() {
    let t = one_run();
    let page = t.path().join("report.html");
    ok(&t, &["report", "--format", "html", "-o", page.to_str().unwrap()]);
    let jobs = show(&t, "1")["jobs"].as_array().unwrap().len();
    assert_eq!(jobs, 4);

    let (dom, log) = chromium_dump(&page);
    let body = dom.split("<body").nth(1).expect("a body").split('>').next().unwrap();
    assert!(body.contains("data-ready=\"1\""), "the page's script finished: <body{body}>\n{log}");
    assert!(body.contains(&format!("data-cells=\"{jobs}\"")), "one grid cell per job: <body{body}>");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the log line is shown as text");
    assert!(!dom.contains(SCRIPT_LINE), "the log line is not markup");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "the page logged to the console:\n{}", console.join("\n"));
}

/// `run --report` keeps a live page while the run lasts and a still one after; `--junit` and
/// GitHub Actions' step summary and annotations are written when it ends.
#[test]
fn run_writes_a_live_report_junit_and_the_github_summary() {
    let toml = r#"
[matrix]
case = ["broken", "waiting"]
[[steps]]
name = "build"
run = """
if [ {{ case }} = broken ]; then echo 'src/a.cpp:3:5: error: boom'; exit 1; fi
i=0; while [ ! -f {{ cache_dir }}/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
"""
"#;
    let t = common::Test::new().matrix(toml);
    let report = t.path().join("out/grid.html");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    let summary = t.path().join("summary.md");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(["run", "-j", "2", "--cpus", "2", "--report", "out/grid.html", "--junit", "out/junit.xml"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NO_COLOR", "1")
        .env_remove("GRIDRUN_STATE_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // While one job waits, the page exists, reloads itself, and already shows the failure.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let live = loop {
        let page = std::fs::read_to_string(&report).unwrap_or_default();
        if page.contains("boom") {
            break page;
        }
        assert!(std::time::Instant::now() < until, "the live report never showed the failed job");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(live.contains(r#"http-equiv="refresh""#), "a running run's page reloads itself");
    std::fs::create_dir_all(t.state_dir().join("cache")).unwrap();
    std::fs::write(t.state_dir().join("cache/go"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    let page = std::fs::read_to_string(&report).unwrap();
    assert!(!page.contains(r#"http-equiv="refresh""#), "a finished run's page stays still");
    assert!(page.contains("boom"));
    let junit = std::fs::read_to_string(t.path().join("out/junit.xml")).unwrap();
    assert!(junit.contains("<testsuite") && junit.contains("broken"), "{junit}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::error file=src/a.cpp,line=3,col=5"), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("broken") && md.contains('|'), "{md}");
}

/// A folder of matrices is a run per project, and `--report`/`--junit` give each its own file
/// rather than the last project overwriting the others.
#[test]
fn a_folder_run_writes_reports_per_project() {
    let step = "\n[[steps]]\nname = \"s\"\nrun = \"true\"\n";
    let t = Test::new()
        .file("matrices/alpha.toml", &format!("[project]\nname = \"alpha\"\n[matrix]\nn = [1, 2]\n{step}"))
        .file("matrices/beta.toml", &format!("[project]\nname = \"beta\"\n[matrix]\nm = [\"x\"]\n{step}"));
    let out = gridrun(&t, &["run", "matrices", "--report", "out/grid.html", "--junit", "out/junit.xml"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for (project, slugs) in [("alpha", &["1", "2"][..]), ("beta", &["x"])] {
        let html = std::fs::read_to_string(t.path().join(format!("out/grid.{project}.html"))).unwrap();
        assert!(html.contains(&format!("<title>{project} run")), "{project}: {html:.300}");
        let xml = std::fs::read_to_string(t.path().join(format!("out/junit.{project}.xml"))).unwrap();
        let (_, suites) = parse_junit(&xml);
        assert_eq!(suites.iter().map(|(s, _)| s.attr("name")).collect::<Vec<_>>(), slugs, "{project}");
    }
    assert!(!t.path().join("out/grid.html").exists() && !t.path().join("out/junit.xml").exists());
}

/// `report --history`: a page per project over the window's days, its charts drawn by the page
/// itself (SVG, no script, no network), opened in a real browser without a console message; over
/// synthetic history spread across 30 days (bench/synthetic_store.py).
#[test]
fn history_pages_draw_their_charts_in_a_real_browser() {
    let t = Test::new().matrix("[project]\nname = \"tiny\"\n[[steps]]\nname = \"build\"\nrun = \"true\"\n");
    assert_eq!(gridrun(&t, &["run"]).status.code(), Some(0));
    let filled = Command::new("python3")
        .arg(common::repo().join("bench/synthetic_store.py"))
        .args(["--jobs", "3000", "--path"])
        .arg(t.state_dir().join("gridrun.db"))
        .output()
        .unwrap();
    assert!(filled.status.success(), "{}", String::from_utf8_lossy(&filled.stderr));

    // Several projects: a page each beside the file named; to stdout, one must be named.
    let several = gridrun(&t, &["report", "--history"]);
    assert_eq!(several.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&several.stderr).contains("name one with --project"));
    ok(&t, &["report", "--history", "-o", "history.html"]);
    for project in ["tiny", "heimdall", "bifrost"] {
        assert!(t.path().join(format!("history.{project}.html")).is_file(), "{project}");
    }
    let page = t.path().join("history.heimdall.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 2 << 20);
    assert!(html.contains("<h2>Slowest cells</h2>") && html.contains("<h2>Cells per day</h2>"));

    let (dom, log) = chromium_dump(&page);
    assert_eq!(dom.matches("<svg class=\"chart\"").count(), 3, "three charts");
    assert!(dom.matches("<rect class=\"bar\"").count() >= 20, "a bar for most days of the window");
    assert!(dom.contains("<polyline class=\"rate\""));
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "the page logged to the console:\n{}", console.join("\n"));

    // --project narrows to one page on stdout; --days must be a sane number.
    let one = ok(&t, &["report", "--history", "--project", "bifrost", "--days", "7"]);
    assert!(one.contains("<h1>bifrost</h1>") && one.contains("the last 7 days"));
    assert_eq!(gridrun(&t, &["report", "--history", "--days", "0"]).status.code(), Some(2));
}

/// A grid cell of many jobs is a stacked bar of their outcomes that opens the list of them; the
/// reader picks other keys for rows and columns in the page (here by `?pivot=`, as a shared link
/// would); the timeline draws every job in a lane.
#[test]
fn a_big_grid_is_a_heat_map_the_reader_can_pivot() {
    let t = Test::new().matrix(
        r#"
        [matrix]
        lib = ["alpha", "beta", "gamma"]
        std = ["11", "14", "17", "20", "23"]
        seed = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]

        [[steps]]
        name = "check"
        run = "[ {{ lib }} != beta ] || [ {{ seed }} -gt 9 ]"
        "#,
    );
    assert_eq!(gridrun(&t, &["run", "-j", "2"]).status.code(), Some(1));
    let page = t.path().join("r.html");
    ok(&t, &["report", "-o", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    // 3 × 5 grid cells of 12 jobs each: every one a bar; beta's 9 failed and 3 passed.
    assert_eq!(html.matches("<details class=\"heat\">").count(), 15);
    assert!(html.contains("<span class=\"tag t-ok\">3</span><span class=\"tag t-bad\">9</span>"), "beta's cells");
    assert_eq!(
        html.matches("<rect class=\"t-").count() - html.matches("id=\"durations\"").count() * 50,
        180,
        "a timeline bar per job"
    );

    let (dom, log) = chromium_dump(Path::new(&format!("{}?pivot=seed,lib", page.display())));
    let body = dom.split("<body").nth(1).unwrap().split('>').next().unwrap();
    assert!(body.contains("data-pivot=\"seed,lib\""), "the script pivoted: <body{body}>\n{log}");
    assert!(body.contains("data-cells=\"180\""), "every job still has its mark: <body{body}>");
    assert!(dom.contains("<span id=\"grid-title\">seed × lib</span>"));
    // 12 × 3 grid cells of 5 jobs: no bars, marks.
    assert_eq!(dom.matches("<details class=\"heat\">").count(), 0);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "the page logged to the console:\n{}", console.join("\n"));
}
