//! Build hosts over SSH, with real OpenSSH `sshd`s the tests start on loopback
//! (`tests/engines/ssh/sshd.sh`): routing by platform and compiler, logs streamed back, JUnit and
//! artifacts brought home, a timeout and Ctrl-C that end the step's whole tree on the host, a
//! host killed mid-job (its job runs again on the other host), a host that never answers, and
//! hosts files with mistakes.
//!
//! The hosts are this machine: a host declared `platform = "macos"` is a mock of a macOS box
//! (named so in each test), the only kind of host that cannot exist here.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::engines::Sshd;
use common::{eventually, have, wait_for, Test};

fn need_sshd() {
    assert!(
        Path::new("/usr/sbin/sshd").is_file() && have("ssh"),
        "sshd and ssh are not installed: run .ci/install-deps"
    );
}

/// A compiler only one host has: `gcc-77`, gcc 12 under another name, on that host's PATH alone.
fn fake_compiler(dir: &Path) -> String {
    let bin = dir.join("fakecc");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, real) in [("gcc-77", "gcc-12"), ("g++-77", "g++-12")] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\nexec {real} \"$@\"\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    format!("PATH={}:/usr/bin:/bin", bin.display())
}

fn run(t: &Test, args: &[&str]) -> (i32, String, String) {
    let out = t.command().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PROJECT: &str = r#"
[project]
name = "remote"

[matrix]
platform = ["linux", "macos"]
compiler = ["gcc-12", "gcc-77"]

[artifacts]
patterns = ["{{ build_dir }}/app"]

[[steps]]
name = "build"
run = "echo building {{ job }} on $(hostname) in $PWD; printf '#include <cstdio>\\nint main() { std::puts(\"ran\"); }\\n' > {{ build_dir }}/app.cpp && {{ cxx }} -o {{ build_dir }}/app {{ build_dir }}/app.cpp"

[[steps]]
name = "test"
run = "{{ build_dir }}/app && printf '<testsuite name=\"t\"><testcase name=\"ok\"/></testsuite>' > {{ results_dir }}/r.xml"
junit = "{{ results_dir }}/r.xml"
"#;

/// Cells go to the hosts that serve them: Linux cells to the Linux host (the only one with
/// gcc-77), macOS cells to the mock macOS host, a cell no host serves is unavailable with each
/// host's reason; logs come back as the steps write them, JUnit and artifacts are recorded as for
/// a local job, and nothing of the run is left on the hosts.
#[test]
fn cells_go_to_the_hosts_that_serve_them() {
    need_sshd();
    let t = Test::new().matrix(PROJECT).file("src/keep.txt", "");
    let mac = Sshd::start(t.path(), 1, None);
    let linux = Sshd::start(&t.path().join("l"), 1, Some(&fake_compiler(t.path())));
    let work = t.path().join("hostwork");
    let hosts = format!(
        "local = false\n{}{}",
        linux.table("linux", "h1", &format!("cpus = 2\nwork_dir = \"{}/linux\"", work.display())),
        mac.table(
            "mac",
            "h1",
            &format!("# a mock of a macOS host\nplatform = \"macos\"\ncpus = 2\nwork_dir = \"{}/mac\"", work.display())
        )
    );
    let t = t.file("hosts.toml", &hosts);

    let (code, plan, stderr) = run(&t, &["--hosts", "hosts.toml", "plan"]);
    assert_eq!(code, 0, "{stderr}");
    let plan = common::tables_unpadded(&plan);
    let row = |slug: &str| {
        plan.lines()
            .find(|l| l.starts_with(&format!("| {slug} ")))
            .unwrap_or_else(|| panic!("{slug} in {plan}"))
            .to_string()
    };
    assert!(row("linux-gcc-12").contains("| ready | linux |"), "{plan}");
    assert!(row("linux-gcc-77").contains("| ready | linux |"), "{plan}");
    assert!(row("macos-gcc-12").contains("| ready | mac |"), "{plan}");
    let none = row("macos-gcc-77");
    assert!(
        none.contains("unavailable")
            && none.contains("this host takes no cells")
            && none.contains("mac: gcc-77 is not installed"),
        "{none}"
    );

    let (code, stdout, stderr) = run(&t, &["--hosts", "hosts.toml", "run", "--allow-empty"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let run_doc = t.show("latest");
    let doc = t.ok_json(&["show", "--json"]);
    for (slug, host) in [("linux-gcc-12", "linux"), ("linux-gcc-77", "linux"), ("macos-gcc-12", "mac")] {
        let job = run_doc.job(slug);
        assert_eq!(job.status, "passed", "{slug}: {job:?}");
        let json = doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == slug).unwrap();
        assert_eq!(json["host"], host, "{slug}");
        let log = std::fs::read_to_string(&job.steps[0].log_path).unwrap();
        assert!(
            log.starts_with(&format!("building {slug} on ")) && log.contains(&format!("{}/{host}/", work.display())),
            "{slug}: {log}"
        );
        assert_eq!(job.test_cases.len(), 1, "{slug}: the JUnit file came back");
        let artifact = &job.artifacts[0];
        assert_eq!(artifact["path"].as_str().map(|p| p.ends_with("/app")), Some(true), "{artifact}");
        let stored = t.state_dir().join(artifact["stored_path"].as_str().unwrap());
        assert!(stored.is_file() || Path::new(artifact["stored_path"].as_str().unwrap()).is_file(), "{artifact}");
        assert!(job.cpu_ms.is_some());
    }
    assert_eq!(run_doc.job("macos-gcc-77").status, "unavailable");
    assert!(t.ok(&["show"]).contains("mac"), "show names the host");
    // The run's folders on the hosts are gone, and nothing it started runs there.
    for host in ["linux", "mac"] {
        let left: Vec<_> =
            std::fs::read_dir(work.join(host)).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.iter().all(|p| p.file_name().is_some_and(|n| n == "cache")), "{host}: {left:?}");
    }
    assert!(eventually(Duration::from_secs(5), || linux.session_processes().is_empty()
        && mac.session_processes().is_empty()));
}

/// A step over its time on a host is ended there with every process it started; Ctrl-C ends a
/// remote run the same way.
#[test]
fn a_timeout_and_ctrl_c_end_the_whole_tree_on_the_host() {
    need_sshd();
    let t = Test::new().matrix(
        "[project]\nname = \"slow\"\n[limits]\ntimeout = \"2s\"\nkill_grace = \"1s\"\n[[steps]]\nname = \"hang\"\n\
         run = \"echo started; (sleep 600 &) ; sleep 600\"\n",
    );
    let host = Sshd::start(t.path(), 1, None);
    let table = host.table("h", "h1", &format!("work_dir = \"{}/w\"", t.path().display()));
    let t = t.file("hosts.toml", &format!("local = false\n{table}"));
    let (code, stdout, stderr) = run(&t, &["--hosts", "hosts.toml", "run"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let job = t.show("latest").jobs[0].clone();
    assert_eq!(job.status, "timed_out", "{job:?}");
    assert_eq!(std::fs::read_to_string(&job.steps[0].log_path).unwrap(), "started\n");
    wait_for("the host's sleeps to end", Duration::from_secs(10), || {
        host.session_processes().iter().all(|(_, cmd)| !cmd.contains("sleep"))
    });

    // Ctrl-C while the step runs there: the run is interrupted, the host's tree ended.
    let mut child = t
        .process()
        .args(["--hosts", "hosts.toml", "run", "--timeout", "10m"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = t.state_dir().join("runs/2/default/hang.log");
    wait_for("the step to start on the host", Duration::from_secs(20), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l == "started\n")
    });
    assert!(host.session_processes().iter().any(|(_, cmd)| cmd.contains("sleep 600")));
    gridrun::exec::process::signal_process(i32::try_from(child.id()).unwrap(), gridrun::exec::process::Signal::INT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(t.show("latest").status, "interrupted");
    wait_for("the host's sleeps to end after Ctrl-C", Duration::from_secs(10), || {
        host.session_processes().iter().all(|(_, cmd)| !cmd.contains("sleep"))
    });
}

/// A host killed while its job runs: the job is recorded lost there and runs again, from its
/// first step, on the other host that serves it; the run passes. A host that never answers is
/// skipped with a warning and its cells go elsewhere.
#[test]
fn a_lost_host_moves_its_job_and_a_silent_host_is_skipped() {
    need_sshd();
    let t = Test::new().matrix(
        "[project]\nname = \"lost\"\n[[steps]]\nname = \"prep\"\nrun = \"echo prep\"\n[[steps]]\nname = \"work\"\n\
         run = \"echo working; [ -n \\\"$GRIDRUN_SECOND\\\" ] || sleep 4; echo done\"\n",
    );
    let hosts = Sshd::start(t.path(), 2, None);
    let silent = hosts.blackhole();
    let w = t.path().display().to_string();
    let file = format!(
        "local = false\n{}{}[hosts.silent]\nssh = \"root@127.0.0.1\"\nport = {silent}\noptions = [\"ConnectTimeout=2\"]\n",
        hosts.table("first", "h1", &format!("work_dir = \"{w}/first\"")),
        hosts.table("second", "h2", &format!("work_dir = \"{w}/second\"")),
    );
    let t = t.file("hosts.toml", &file);
    let child = run_on_hosts(&t);
    let log = t.state_dir().join("runs/1/default/work.log");
    wait_for("the job to start working on the first host", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.starts_with("working"))
    });
    hosts.kill("h1");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("host silent cannot be used: "), "{stderr}");
    assert!(stderr.contains("first was lost"), "{stderr}");
    let job = t.show("latest").jobs[0].clone();
    assert_eq!(job.status, "passed", "{job:?}");
    let doc = t.ok_json(&["show", "--json"]);
    assert_eq!(doc["jobs"][0]["host"], "second");
    let attempts: Vec<(String, i64, String)> =
        job.steps.iter().map(|s| (s.name.clone(), s.attempt, s.status.clone())).collect();
    assert_eq!(
        attempts,
        [
            ("prep".to_string(), 1, "passed".to_string()),
            ("prep".to_string(), 2, "passed".to_string()),
            ("work".to_string(), 1, "failed".to_string()),
            ("work".to_string(), 2, "passed".to_string()),
        ]
    );
    assert!(
        job.log_tail.as_deref().is_some_and(|t| t.contains("first was lost; the job ran again on second")),
        "{job:?}"
    );
}

/// A host lost with jobs still queued that only it serves: the job it was running and the queued
/// ones end `failed` as host-lost, each saying why, and the run ends rather than waiting for a
/// place that will never come back.
#[test]
fn jobs_only_a_lost_host_could_run_end_as_host_lost() {
    need_sshd();
    let t = Test::new().matrix(
        "[project]\nname = \"stranded\"\n[matrix]\nn = [1, 2, 3]\n[[steps]]\nname = \"work\"\n\
         run = \"echo working; sleep 30\"\n",
    );
    let hosts = Sshd::start(t.path(), 1, None);
    let w = t.path().display().to_string();
    let file = format!("local = false\n{}", hosts.table("only", "h1", &format!("work_dir = \"{w}/only\"\njobs = 1")));
    let t = t.file("hosts.toml", &file);
    let mut child = run_on_hosts(&t);
    let runs = t.state_dir().join("runs/1");
    wait_for("a job to start working on the host", Duration::from_secs(30), || {
        ["1", "2", "3"].iter().any(|n| {
            std::fs::read_to_string(runs.join(format!("{n}/work.log"))).is_ok_and(|l| l.starts_with("working"))
        })
    });
    hosts.kill("h1");
    // Bounded: a dispatcher that waits for the lost host would otherwise hang the suite.
    let ended = eventually(Duration::from_secs(60), || child.try_wait().unwrap().is_some());
    if !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(ended, "gridrun still waited a minute after its only host was lost: {stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("only was lost"), "{stderr}");
    let jobs = t.show("latest").jobs;
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    for job in &jobs {
        assert_eq!((job.status.as_str(), job.failure_kind.as_deref()), ("failed", Some("host_lost")), "{job:?}");
    }
    let stranded: Vec<_> = jobs
        .iter()
        .filter(|j| {
            j.log_tail
                .as_deref()
                .is_some_and(|t| t.contains("only was lost, and no other place that could run it is left"))
        })
        .collect();
    assert_eq!(stranded.len(), 2, "the two queued jobs say why: {jobs:?}");
}

/// `gridrun --hosts hosts.toml run`, started in the background with its output captured.
fn run_on_hosts(t: &Test) -> std::process::Child {
    t.process().args(["--hosts", "hosts.toml", "run"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Mistakes in a hosts file are located errors, exit 2, and nothing is recorded.
#[test]
fn bad_hosts_files_are_located_errors() {
    let t = Test::new().matrix("[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    for (file, says) in [
        ("[hosts.a]\nport = 22\n", "hosts.toml:1:1: hosts.a: `ssh` is missing"),
        (
            "[hosts.a]\nssh = \"-oProxyCommand=x\"\n",
            "hosts.toml:2:7: hosts.a.ssh: `-oProxyCommand=x` is not a host to reach",
        ),
        ("[hosts.a]\nssh = \"h\"\nport = 70000\n", "hosts.toml:3:8: hosts.a.port must be a port number"),
        (
            "[hosts.a]\nssh = \"h\"\nwork_dir = \"relative\"\n",
            "hosts.toml:3:12: hosts.a.work_dir must be an absolute path",
        ),
        (
            "[hosts.a]\nssh = \"h\"\noptions = [\"NoEquals\"]\n",
            "hosts.toml:3:12: hosts.a.options: `NoEquals` is not an ssh option",
        ),
        ("[hosts.a]\nssh = \"h\"\ncpu = 2\n", "hosts.toml:3:1: unknown key `cpu` in [hosts.a]; did you mean `cpus`?"),
        ("[hosts.\"a b\"]\nssh = \"h\"\n", "hosts.toml:1:8: hosts: `a b` cannot name a host"),
    ] {
        let t = Test::new().matrix("[[steps]]\nname = \"s\"\nrun = \"true\"\n").file("hosts.toml", file);
        let out = t.command().args(["--hosts", "hosts.toml", "run"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.lines().next().is_some_and(|l| l.starts_with("error: ") && l.contains(says)),
            "{file}: want {says:?}, got {stderr}"
        );
        assert!(!t.state_dir().join("gridrun.db").exists(), "nothing recorded");
    }
    let error = t.fails(&["--hosts", "nowhere.toml", "plan"]);
    assert!(error.contains("nowhere.toml: no such hosts file"), "{error}");
}

/// `gridrun hosts` lists the hosts as declared; `--probe` says whether each answers and what it
/// serves.
#[test]
fn hosts_says_what_each_host_serves_and_whether_it_answers() {
    need_sshd();
    let t = Test::new();
    let fixture = Sshd::start(t.path(), 1, None);
    let silent = fixture.blackhole();
    let t = t.file(
        "hosts.toml",
        &format!(
            "{}[hosts.silent]\nssh = \"root@127.0.0.1\"\nport = {silent}\noptions = [\"ConnectTimeout=2\"]\n",
            fixture.table("builder", "h1", "cpus = 3\nmemory = \"1GiB\"")
        ),
    );
    let listed = t.ok_json(&["--hosts", "hosts.toml", "hosts", "--json"]);
    assert_eq!(listed["hosts"][0]["name"], "builder");
    assert_eq!(listed["hosts"][0]["cpus"], 3);
    assert_eq!(listed["hosts"][0]["declared"].as_str().map(|d| d.ends_with("hosts.toml:1")), Some(true));
    assert!(listed["hosts"][0].get("answered").is_none(), "no connection without --probe");

    let out = t.gridrun(&["--hosts", "hosts.toml", "hosts", "--probe", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let probed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let builder = &probed["hosts"][0];
    assert_eq!((builder["answered"].as_bool(), builder["platform"].as_str()), (Some(true), Some("linux")));
    assert_eq!((builder["cpus"].as_u64(), builder["memory"].as_u64()), (Some(3), Some(1 << 30)));
    let compilers: Vec<&str> =
        builder["compilers"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(compilers.contains(&"gcc-12"), "{compilers:?}");
    assert!(builder["compilers"].as_array().unwrap().iter().all(|c| !c["version"].as_str().unwrap_or("").is_empty()));
    let silent = &probed["hosts"][1];
    assert_eq!(silent["answered"], false);
    assert!(silent["error"].as_str().is_some_and(|e| e.contains("timed out")), "{silent}");
    let table = t.gridrun(&["--hosts", "hosts.toml", "hosts", "--probe"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("builder") && text.contains("yes") && text.contains("no: "), "{text}");
}
