//! `gridrun run` with real processes: misbehaving jobs get the outcome written down for each,
//! nothing outlives a run (timeouts, memory caps, Ctrl-C, gridrun's own SIGKILL), the store stays
//! whole, and two runs can share one state folder.

mod common;

use gridrun::exec::process::{signal_group, signal_process, Signal};

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{eventually, processes_with, repo, RunDoc, Test};

fn copy_fixture(name: &str, to: &Path) {
    let from = repo().join("tests/fixtures").join(name);
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// What each misbehaving job must come to: (case, status, exit code, flaky).
const EXPECTED: &[(&str, &str, Option<i64>, bool)] = &[
    ("ok", "passed", None, false),
    ("fail", "failed", Some(1), false),
    ("hang", "timed_out", None, false),
    ("stubborn", "timed_out", None, false),
    ("hog", "memory_exceeded", None, false),
    ("flaky", "passed", None, true),
    // Leaves a process that escaped its process group with setsid: the run's end sweeps it.
    ("escape", "passed", None, false),
];

#[test]
fn misbehaving_jobs_get_their_outcomes_and_leave_nothing_behind() {
    let t = Test::new();
    copy_fixture("misbehave", t.path());
    let out = t.command().args(["run", "-j", "6", "--cpus", "6"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failing job makes exit 1\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let run = t.show("latest");
    assert_eq!(run.status, "failed");
    let jobs = &run.jobs;
    let mut wrong = Vec::new();
    for (case, status, exit, flaky) in EXPECTED {
        let job = jobs.iter().find(|j| j.slug == *case).unwrap_or_else(|| panic!("job {case} recorded"));
        if job.status != *status || (exit.is_some() && job.exit_code != *exit) || job.flaky != *flaky {
            wrong.push(format!(
                "{case}: got {} exit {:?} flaky {}, want {status} exit {exit:?} flaky {flaky}",
                job.status, job.exit_code, job.flaky
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The retried step has two attempts, each with its own log.
    let flaky = jobs.iter().find(|j| j.slug == "flaky").unwrap();
    let steps = &flaky.steps;
    assert_eq!(
        steps.iter().map(|s| (s.attempt, s.status.as_str(), s.exit_code)).collect::<Vec<_>>(),
        [(1, "failed", Some(7)), (2, "passed", Some(0))]
    );
    assert!(std::fs::read_to_string(&steps[1].log_path).unwrap().contains("second time lucky"));

    let hog = jobs.iter().find(|j| j.slug == "hog").unwrap();
    assert_eq!(hog.failure_kind.as_deref(), Some("memory"));
    // Near the cap: the kernel's cgroup stops it there, the sampler a little past it.
    assert!(hog.peak_rss_kb.unwrap() > 200 * 1024, "peak memory recorded: {:?}", hog.peak_rss_kb);
    let fail = jobs.iter().find(|j| j.slug == "fail").unwrap();
    assert!(fail.log_tail.as_deref().unwrap().contains("going down"), "stderr is in the log");
    assert!(stdout.contains("going down"), "the failure's last lines are printed:\n{stdout}");
    assert!(stdout.contains("log: "), "{stdout}");

    let mark = t.state_dir().join("cache");
    let left = processes_with("MISBEHAVE_MARK", mark.to_str().unwrap());
    assert!(left.is_empty(), "processes outlived the run: {left:?}");
}

/// A step printing 200 MB: the log holds every byte, and gridrun's own memory stays flat (the
/// output goes straight to the file, never through gridrun).
#[test]
fn output_streams_to_the_log_whole() {
    let t = Test::new()
        .matrix("[[steps]]\nname = \"flood\"\nrun = \"head -c 200000000 /dev/zero | tr '\\\\0' 'x' | fold -w 99\"\n");
    let mut gridrun = spawn_gridrun(&t, &["run"]);
    // VmHWM is gridrun's own peak resident memory so far; its last reading before exit is the peak.
    let mut peak_kb = 0u64;
    let status = loop {
        if let Some(status) = gridrun.try_wait().unwrap() {
            break status;
        }
        if let Some(kb) = std::fs::read_to_string(format!("/proc/{}/status", gridrun.id()))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").to_string()))
            })
            .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    assert!(peak_kb > 0, "gridrun's memory was read");
    assert!(peak_kb < 50 * 1024, "gridrun's own peak memory while logging 200 MB: {peak_kb} KiB");
    let run = t.show("latest");
    let step = &run.jobs[0].steps[0];
    // 200,000,000 bytes folded into lines of 99: a newline after each full line, none after the
    // last, partial one.
    let expected = 200_000_000 + 200_000_000_u64 / 99;
    assert_eq!(step.log_bytes, i64::try_from(expected).unwrap());
    assert_eq!(std::fs::metadata(&step.log_path).unwrap().len(), expected);
}

fn spawn_gridrun(t: &Test, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GRIDRUN_STATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn spawn_gridrun_piped(t: &Test, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GRIDRUN_STATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// With a memory cap, so that where the host allows it each step also has a cgroup to clean up.
const SLEEPERS: &str = r#"
[matrix]
n = [1, 2]
[limits]
memory = "512MiB"
[env]
SLEEPER_MARK = "{{ cache_dir }}"
[[steps]]
name = "sleep"
run = "sh -c 'trap \"\" TERM; sleep 600' & sleep 600"
"#;

#[test]
fn ctrl_c_ends_every_job_and_records_the_run_interrupted() {
    let t = Test::new().matrix(SLEEPERS);
    let mark = t.state_dir().join("cache").display().to_string();
    let mut gridrun = spawn_gridrun(&t, &["run", "-j", "2", "--cpus", "2"]);
    assert!(eventually(Duration::from_secs(20), || processes_with("SLEEPER_MARK", &mark).len() >= 4), "jobs started");
    signal_process(i32::try_from(gridrun.id()).unwrap(), Signal::INT);
    let status = gridrun.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left = processes_with("SLEEPER_MARK", &mark);
    assert!(left.is_empty(), "no process of the run remains: {left:?}");
    let run = t.show("latest");
    assert_eq!(run.status, "interrupted");
    assert!(run.jobs.iter().all(|j| j.status == "cancelled"));
}

#[test]
fn sigkill_to_gridrun_leaves_no_job_and_a_whole_store() {
    let t = Test::new().matrix(SLEEPERS);
    let mark = t.state_dir().join("cache").display().to_string();
    let mut gridrun = spawn_gridrun(&t, &["run", "-j", "2", "--cpus", "2"]);
    assert!(eventually(Duration::from_secs(20), || processes_with("SLEEPER_MARK", &mark).len() >= 4), "jobs started");
    gridrun.kill().unwrap();
    gridrun.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || processes_with("SLEEPER_MARK", &mark).is_empty()),
        "the watchdog ends every job process: {:?}",
        processes_with("SLEEPER_MARK", &mark)
    );
    if let Some(parent) = gridrun::exec::cgroup::parent() {
        // Run tokens start with gridrun's pid, in hex.
        let prefix = format!("gridrun-{:x}-", gridrun.id());
        let cgroups = || -> Vec<_> {
            std::fs::read_dir(&parent.dir)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        };
        assert!(
            eventually(Duration::from_secs(10), || cgroups().is_empty()),
            "the watchdog removes the step cgroups: {:?}",
            cgroups()
        );
    }
    let store = gridrun::store::Store::open_read_only(&t.state_dir()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.run("latest").unwrap().status, gridrun::outcome::RunStatus::Running, "nobody has looked yet");
    drop(store);
    // The first command to look marks the run abandoned.
    assert_eq!(t.show("latest").status, "abandoned");
}

/// A step that allocates 1.5 GiB as fast as memory can be written, under a 200 MiB cap.
const GREEDY: &str = r#"
[limits]
memory = "200MiB"
[[steps]]
name = "grab"
run = "cat /proc/self/cgroup > cgroup.txt; python3 -c 'hog = b\"x\" * (1536 << 20)'"
"#;

/// Where the host lets gridrun make a memory cgroup (as root on this machine), the kernel holds a
/// step to its cap, so even an allocation faster than any sampling never gets past it; the
/// step's cgroup is gone afterwards. Where it does not, sampling still catches the step.
#[test]
fn memory_cap_is_the_kernels_where_a_cgroup_can_be_made() {
    let t = Test::new().matrix(GREEDY).args(["run"]);
    t.status(1);
    let job = t.show("latest").jobs.remove(0);
    assert_eq!((job.status.as_str(), job.failure_kind.as_deref()), ("memory_exceeded", Some("memory")));
    let membership = std::fs::read_to_string(t.path().join("cgroup.txt")).unwrap();
    match gridrun::exec::cgroup::parent() {
        Some(parent) => {
            assert!(membership.contains("/gridrun-"), "the step ran in a cgroup of its own:\n{membership}");
            let peak = job.peak_rss_kb.unwrap();
            // RSS also counts shared file pages (python and its libraries) charged elsewhere.
            assert!(peak <= (200 + 32) * 1024, "the kernel kept the step at its cap: peak {peak} KiB");
            // `N:memory:/path/gridrun-TOKEN-N` (v1) or `0::/path/gridrun-TOKEN-N` (v2).
            let name =
                membership.lines().find_map(|l| l.rsplit('/').next().filter(|n| n.starts_with("gridrun-"))).unwrap();
            assert!(!parent.dir.join(name).exists(), "the step's cgroup {name} is removed");
        }
        None => eprintln!("NOTE: this host gives gridrun no memory cgroup; only the sampling path was tested"),
    }
}

/// With cgroups off (or unavailable), sampling the process tree enforces the cap.
#[test]
fn memory_cap_falls_back_to_sampling() {
    let t = Test::new().matrix(GREEDY).args(["run"]).env("GRIDRUN_CGROUPS", "0");
    t.status(1);
    let job = t.show("latest").jobs.remove(0);
    assert_eq!((job.status.as_str(), job.failure_kind.as_deref()), ("memory_exceeded", Some("memory")));
    let membership = std::fs::read_to_string(t.path().join("cgroup.txt")).unwrap();
    assert!(!membership.contains("/gridrun-"), "no cgroup was made:\n{membership}");
}

#[test]
fn two_runs_share_one_state_folder() {
    let toml = "[matrix]\nn = [1, 2, 3, 4, 5, 6, 7, 8]\n[[steps]]\nname = \"a\"\nrun = \"echo {{ n }}\"\n[[steps]]\nname = \"b\"\nrun = \"true\"\n";
    let t = Test::new().matrix(toml);
    let a = spawn_gridrun_piped(&t, &["run"]);
    let b = spawn_gridrun_piped(&t, &["run"]);
    for (name, child) in [("first", a), ("second", b)] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "the {name} run failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let runs = t.runs();
    assert_eq!(runs.len(), 2);
    for (id, _) in runs {
        let run = t.show(&id.to_string());
        assert_eq!(run.status, "passed");
        let jobs = &run.jobs;
        assert_eq!(jobs.len(), 8);
        for job in jobs {
            assert_eq!(job.status, "passed");
            assert_eq!(job.steps.len(), 2);
        }
    }
}

#[test]
fn fail_fast_cancels_the_rest() {
    let toml = "[matrix]\nn = [1, 2, 3, 4, 5, 6]\n[[steps]]\nname = \"s\"\nrun = \"if [ {{ n }} = 1 ]; then exit 2; fi; sleep 30\"\n";
    let t = Test::new().matrix(toml);
    let started = Instant::now();
    t.command().args(["run", "--fail-fast", "-j", "2", "--cpus", "2"]).assert().code(1);
    assert!(started.elapsed() < Duration::from_secs(25), "running jobs were terminated, not waited for");
    let jobs = t.show("latest").jobs;
    let statuses: Vec<&str> = jobs.iter().map(|j| j.status.as_str()).collect();
    assert_eq!(statuses[0], "failed");
    assert!(statuses[1..].iter().all(|s| *s == "cancelled"), "{statuses:?}");
}

#[test]
fn jobs_get_cpu_settings_compiler_and_env() {
    let toml = r#"
[matrix]
compiler = ["gcc-12"]
[limits]
cpus = 2
[env]
GREETING = "hi {{ compiler }}"
[[steps]]
name = "env"
run = "echo CPUS=$GRIDRUN_CPUS CMAKE=$CMAKE_BUILD_PARALLEL_LEVEL MAKEFLAGS=$MAKEFLAGS CTEST=$CTEST_PARALLEL_LEVEL CC=$CC CXX=$CXX G=$GREETING"
"#;
    let t = Test::new().matrix(toml);
    t.command().args(["run", "--cpus", "4"]).assert().success();
    let run = t.show("latest");
    let job = &run.jobs[0];
    let log = std::fs::read_to_string(&job.steps[0].log_path).unwrap();
    assert_eq!(log.trim(), "CPUS=2 CMAKE=2 MAKEFLAGS=-j2 CTEST=2 CC=gcc-12 CXX=g++-12 G=hi gcc-12");
    assert!(job.work_dir.is_none(), "a passing job's workspace is removed");
}

/// A passing job's workspace goes from disk, and the run's folder with the last of them; a
/// failing job's stays, and the record says where.
#[test]
fn a_passing_jobs_workspace_is_removed_and_a_failing_ones_kept() {
    let toml = r#"
[matrix]
n = [1, 2]
[[steps]]
name = "build"
run = "echo built > {{ build_dir }}/out.txt && test {{ n }} = 1"
"#;
    let t = Test::new().matrix(toml);
    t.command().arg("run").assert().code(1);
    let run = t.show("latest");
    let work = t.state_dir().join("work").join(run.id.to_string());
    let passed = run.jobs.iter().find(|j| j.slug == "1").expect("cell 1 ran");
    assert_eq!(passed.status, "passed");
    assert!(passed.work_dir.is_none());
    assert!(!work.join("1").exists(), "the passing job's workspace is gone");
    let failed = run.jobs.iter().find(|j| j.slug == "2").expect("cell 2 ran");
    assert_eq!(failed.status, "failed");
    let kept = failed.work_dir.as_deref().expect("a failing job's workspace is kept");
    assert_eq!(std::fs::read_to_string(Path::new(kept).join("build/out.txt")).unwrap(), "built\n");

    // All passing: nothing of the run is left under work/.
    let t = Test::new().matrix(&toml.replace("test {{ n }} = 1", "true"));
    t.command().arg("run").assert().success();
    let run = t.show("latest");
    assert!(!t.state_dir().join("work").join(run.id.to_string()).exists(), "the run's folder goes with its last job");

    // Jobs that named no folder had no workspace made; the run's folder goes all the same.
    let t = Test::new().matrix("[matrix]\nn = [1, 2]\n[[steps]]\nname = \"noop\"\nrun = \"true\"\n");
    t.command().arg("run").assert().success();
    let run = t.show("latest");
    assert!(!t.state_dir().join("work").join(run.id.to_string()).exists(), "no empty folder is left under work/");
}

/// A job that asks for more CPUs than the host grants runs alone, told the slots it really has;
/// a value the file sets itself stands.
#[test]
fn jobs_are_told_the_cpu_slots_they_were_granted() {
    let toml = r#"
[limits]
cpus = 8
[env]
CTEST_PARALLEL_LEVEL = "1"
[[steps]]
name = "env"
run = "echo CPUS=$GRIDRUN_CPUS CMAKE=$CMAKE_BUILD_PARALLEL_LEVEL MAKEFLAGS=$MAKEFLAGS CTEST=$CTEST_PARALLEL_LEVEL"
"#;
    let t = Test::new().matrix(toml);
    t.command().args(["run", "--cpus", "3"]).assert().success();
    let run = t.show("latest");
    let job = &run.jobs[0];
    let log = std::fs::read_to_string(&job.steps[0].log_path).unwrap();
    assert_eq!(log.trim(), "CPUS=3 CMAKE=3 MAKEFLAGS=-j3 CTEST=1");
}

/// The example grid built and tested for real by every compiler .ci/run installs: all 50 cells,
/// clang-14 and clang-16 building C++23 as CMake does, by its draft name.
#[test]
fn example_grid_builds_and_tests_for_real() {
    let t = Test::new();
    let state = t.state_dir();
    let matrix = repo().join("examples/gridrun.toml");
    // VERBOSE makes `cmake --build` show the compiler's command lines.
    let out = t
        .command()
        .env("VERBOSE", "1")
        .args(["--state-dir", state.to_str().unwrap(), "run", matrix.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let run = t.show_in(&state, "latest");
    let jobs = &run.jobs;
    assert_eq!(jobs.len(), 50);
    let passed = jobs.iter().filter(|j| j.status == "passed").count();
    let unsupported = jobs.iter().filter(|j| j.status == "unsupported").count();
    assert_eq!((passed, unsupported), (50, 0));
    for slug in ["clang-14-23-Debug", "clang-16-23-Release"] {
        let build = std::fs::read_to_string(&run.job(slug).steps[1].log_path).unwrap();
        assert!(build.contains("-std=c++2b"), "{slug} builds C++23 by its draft name:\n{build}");
    }
    for job in jobs.iter().filter(|j| j.status == "passed") {
        let steps = &job.steps;
        assert_eq!(steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["configure", "build", "test"]);
        let test_log = std::fs::read_to_string(&steps[2].log_path).unwrap();
        assert!(test_log.contains("100% tests passed"), "{}: {test_log}", job.slug);
        assert!(job.cpu_ms.unwrap() > 0);
    }
    assert!(stdout.contains("run 1: 50 passed, 0 failed in"), "{stdout}");

    // `show --json`, read as plain JSON, tells the same story: every job, its status, its steps
    // and logs.
    let out = t.command().args(["--state-dir", state.to_str().unwrap(), "show", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["run"].as_i64(), doc["status"].as_str()), (Some(run.id), Some("passed")));
    let shown = doc["jobs"].as_array().unwrap();
    assert_eq!(shown.len(), jobs.len());
    for (job, doc) in jobs.iter().zip(shown) {
        assert_eq!(doc["slug"].as_str(), Some(job.slug.as_str()));
        assert_eq!(doc["status"].as_str(), Some(job.status.as_str()), "{}", job.slug);
        assert_eq!(doc["cell"]["compiler"].as_str().map(|c| job.slug.starts_with(c)), Some(true), "{}", job.slug);
        let steps = &job.steps;
        let shown_steps = doc["steps"].as_array().unwrap();
        assert_eq!(shown_steps.len(), steps.len(), "{}", job.slug);
        for (step, shown) in steps.iter().zip(shown_steps) {
            assert_eq!(shown["name"].as_str(), Some(step.name.as_str()));
            assert_eq!(shown["exit_code"].as_i64(), step.exit_code);
            assert_eq!(shown["log"].as_str(), Some(step.log_path.as_str()));
        }
    }
}

/// A git source is fetched once into the cache and checked out per job at one commit.
#[test]
fn git_source_is_checked_out_per_job_at_the_run_commit() {
    let t = Test::new();
    let upstream = t.path().join("upstream");
    std::fs::create_dir_all(&upstream).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&upstream)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(upstream.join("version.txt"), "one\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "one"]);
    let commit = git(&["rev-parse", "HEAD"]);
    let toml = format!(
        "[project]\nname = \"remote\"\nsource = {{ git = \"file://{}\", rev = \"main\", depth = 1 }}\n[matrix]\nn = [1, 2]\n[[steps]]\nname = \"read\"\nrun = \"cat version.txt && git rev-parse HEAD && echo {{{{ commit }}}}\"\n",
        upstream.display()
    );
    let t = t.matrix(&toml);
    t.command().args(["run", "--keep-workspaces"]).assert().success();
    let run = t.show("latest");
    assert_eq!(run.commit, commit);
    for job in run.jobs {
        let log = std::fs::read_to_string(&job.steps[0].log_path).unwrap();
        assert_eq!(log, format!("one\n{commit}\n{commit}\n"), "{}", job.slug);
        let work = job.work_dir.expect("--keep-workspaces keeps the workspace");
        assert!(Path::new(&work).join("src/version.txt").is_file());
    }
    assert_eq!(std::fs::read_dir(t.state_dir().join("cache/git")).unwrap().count(), 1, "one clone in the cache");
}

/// The first Ctrl-C gives jobs their grace; a second one kills at once.
#[test]
fn a_second_ctrl_c_kills_at_once() {
    let toml = r#"
[limits]
kill_grace = "120s"
[env]
STUBBORN_MARK = "{{ cache_dir }}"
[[steps]]
name = "stubborn"
run = "trap '' TERM; while :; do sleep 1; done"
"#;
    let t = Test::new().matrix(toml);
    let mark = t.state_dir().join("cache").display().to_string();
    let mut gridrun = Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(["run"])
        .env("NO_COLOR", "1")
        .env_remove("GRIDRUN_STATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = gridrun.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    assert!(eventually(Duration::from_secs(20), || !processes_with("STUBBORN_MARK", &mark).is_empty()), "job started");
    let pid = i32::try_from(gridrun.id()).unwrap();
    signal_process(pid, Signal::INT);
    // gridrun says it is interrupting; the job ignores SIGTERM, so it and gridrun stay…
    let said = lines.iter().find(|l| l.contains("interrupted")).expect("gridrun reports the interrupt");
    assert!(said.contains("again to kill at once"), "{said}");
    assert!(gridrun.try_wait().unwrap().is_none(), "gridrun waits out the grace");
    assert!(!processes_with("STUBBORN_MARK", &mark).is_empty(), "SIGTERM is only a request");
    signal_process(pid, Signal::INT);
    // …and gone, with gridrun, soon after the second: far inside the 120 s grace.
    assert!(eventually(Duration::from_secs(30), || gridrun.try_wait().unwrap().is_some()), "gridrun exits");
    assert_eq!(gridrun.wait().unwrap().code(), Some(130));
    assert!(processes_with("STUBBORN_MARK", &mark).is_empty());
}

#[test]
fn grid_pivots_by_two_keys_and_colour_follows_the_flag() {
    let toml = "[matrix]\nos = [\"linux\"]\nopt = [\"O0\", \"O2\"]\nlto = [\"on\", \"off\"]\n[[steps]]\nname = \"s\"\nrun = \"test {{ opt }}{{ lto }} != O2off\"\n";
    let t = Test::new().matrix(toml);
    let out = t.command().args(["run", "--pivot", "lto,opt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let header = stdout.lines().next().unwrap();
    assert!(header.contains("lto") && header.contains("O0") && header.contains("O2"), "{stdout}");
    let off = stdout.lines().find(|l| l.starts_with("| off")).expect("a row per lto value");
    assert!(off.contains("pass") && off.contains("FAIL"), "{off}");
    assert!(!stdout.contains('\u{1b}'), "NO_COLOR: no escape codes");
    let coloured = t.command().args(["--color", "always", "run", "--pivot", "lto,opt"]).output().unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\u{1b}["), "--color always colours the grid");
    let bad = t.command().args(["run", "--pivot", "lto,nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--pivot: `nope` is not a key"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// A real compile error and a real link error are recorded as diagnostics with the failure kind.
#[test]
fn compiler_diagnostics_are_recorded_with_the_failure_kind() {
    let toml = r#"
[matrix]
compiler = ["gcc-12", "clang-16"]
what = ["type", "link"]
[[steps]]
name = "build"
run = """
cd {{ build_dir }}
if [ {{ what }} = type ]; then printf 'int f() {\n  return "s";\n}\n' > bad.cpp; {{ cxx }} -c bad.cpp
else printf 'int g();\nint main() { return g(); }\n' > main.cpp; {{ cxx }} main.cpp -o main; fi
"""
"#;
    let t = Test::new().matrix(toml);
    t.command().args(["run", "--keep-workspaces"]).assert().code(1);
    let json = t.command().args(["show", "--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for job in doc["jobs"].as_array().unwrap() {
        let slug = job["slug"].as_str().unwrap();
        let first = &job["diagnostics"][0];
        if slug.ends_with("type") {
            assert_eq!(job["failure_kind"], "compile", "{slug}");
            assert_eq!(
                (first["file"].as_str(), first["line"].as_u64(), first["severity"].as_str()),
                (Some("bad.cpp"), Some(2), Some("error")),
                "{slug}: {first}"
            );
        } else {
            assert_eq!(job["failure_kind"], "link", "{slug}");
            assert!(first["message"].as_str().unwrap().contains("g()"), "{slug}: {first}");
        }
    }
}

/// Artifacts are copied with their SHA-256, test results read from the step's JUnit file, and
/// `show RUN/JOB` lists both; a pattern leaving the workspace is refused.
#[test]
fn artifacts_and_test_results_are_recorded_and_shown() {
    let toml = r#"
[[steps]]
name = "build"
run = "mkdir -p {{ build_dir }}/bin && printf 'tool' > {{ build_dir }}/bin/tool && printf 'lib' > {{ build_dir }}/libx.a"
[[steps]]
name = "test"
junit = "{{ results_dir }}/r.xml"
run = """printf '<testsuite name="s"><testcase name="ok" classname="s" time="0.01"/><testcase name="bad" classname="s" time="0.02"><failure message="2 != 3"/></testcase></testsuite>' > {{ results_dir }}/r.xml"""
[artifacts]
patterns = ["{{ build_dir }}/lib*.a", "{{ build_dir }}/bin/*", "/etc/passwd"]
"#;
    let t = Test::new().matrix(toml);
    t.command().args(["run"]).assert().success();
    let run = t.show("latest");
    let job = &run.jobs[0];
    let artifacts = &job.artifacts;
    let paths: Vec<&str> = artifacts.iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["build/libx.a", "build/bin/tool"]);
    assert_eq!(artifacts[1]["size"], 4);
    // sha256 of "tool".
    assert_eq!(artifacts[1]["sha256"], "7c9bbe5ec9b3fb774e8fa0f54247e93c34ddf8e5d16fe3073420de0ae81a262d");
    let stored = artifacts[1]["stored_path"].as_str().unwrap();
    assert_eq!(std::fs::read(stored).unwrap(), b"tool");
    assert!(stored.contains("/artifacts/"), "{stored}");
    let tests = &job.test_cases;
    assert_eq!(
        tests.iter().map(|t| (t["name"].as_str().unwrap(), t["status"].as_str().unwrap())).collect::<Vec<_>>(),
        [("ok", "passed"), ("bad", "failed")]
    );
    assert!(
        job.log_tail.as_deref().unwrap_or("").contains("/etc/passwd leaves the workspace; refused"),
        "{:?}",
        job.log_tail
    );

    let shown = t.command().args(["show", &format!("{}/{}", run.id, job.slug)]).output().unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("tests: 1 passed, 1 failed, 0 skipped"), "{text}");
    assert!(text.contains("FAIL s.bad 2 != 3"), "{text}");
    assert!(text.contains("build/bin/tool 4 bytes sha256:"), "{text}");
}

/// `--max-failures N` lets N jobs fail before it cancels the rest.
#[test]
fn max_failures_stops_after_n() {
    let toml = "[matrix]\nn = [1, 2, 3, 4, 5, 6]\n[[steps]]\nname = \"s\"\nrun = \"exit {{ n }}\"\n";
    let t = Test::new().matrix(toml);
    t.command().args(["run", "--max-failures", "3", "-j", "1"]).assert().code(1);
    let jobs = t.show("latest").jobs;
    let statuses: Vec<&str> = jobs.iter().map(|j| j.status.as_str()).collect();
    assert_eq!(statuses, ["failed", "failed", "failed", "cancelled", "cancelled", "cancelled"]);
}

fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rfind(')').and_then(|i| stat[i + 2..].chars().next())
}

/// Ctrl-Z stops the jobs with gridrun, and the time stopped does not count against the timeout.
#[test]
fn ctrl_z_stops_the_jobs_and_the_clock() {
    let toml = "[limits]\ntimeout = \"3s\"\n[env]\nPAUSE_MARK = \"{{ cache_dir }}\"\n[[steps]]\nname = \"s\"\nrun = \"sleep 2\"\n";
    let t = Test::new().matrix(toml);
    let mark = t.state_dir().join("cache").display().to_string();
    let mut gridrun = spawn_gridrun(&t, &["run"]);
    let started = Instant::now();
    let mut job = Vec::new();
    assert!(eventually(Duration::from_secs(20), || {
        job = processes_with("PAUSE_MARK", &mark);
        !job.is_empty()
    }));
    let pid = i32::try_from(gridrun.id()).unwrap();
    signal_process(pid, Signal::TSTP);
    assert!(
        eventually(Duration::from_secs(10), || process_state(gridrun.id()) == Some('T')
            && job.iter().all(|p| process_state(*p).is_none_or(|s| s == 'T'))),
        "gridrun and its job are stopped: {:?}",
        job.iter().map(|p| process_state(*p)).collect::<Vec<_>>()
    );
    // Stay stopped past the job's timeout: the clock must not run while stopped.
    while started.elapsed() < Duration::from_millis(3500) {
        std::thread::sleep(Duration::from_millis(50));
    }
    signal_process(pid, Signal::CONT);
    assert!(gridrun.wait().unwrap().success(), "the job finished its 2 s of sleep and passed");
    let job = &t.show("latest").jobs[0];
    assert_eq!(job.status, "passed");
    assert!(job.duration_ms.unwrap() > 3000, "wall time includes the stop: {:?}", job.duration_ms);
}

/// `--shard K/N`: the slices of 1..N run every job exactly once between them; a bad slice is a
/// usage error.
#[test]
fn shards_cover_every_job_once() {
    let toml = "[matrix]\nn = [1, 2, 3, 4, 5, 6, 7]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n";
    let t = Test::new().matrix(toml);
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        t.command().args(["run", "--shard", &format!("{k}/3")]).assert().success();
        let jobs = t.show("latest").jobs;
        assert!(!jobs.is_empty() && jobs.len() <= 3, "shard {k}/3 has {} jobs", jobs.len());
        assert!(jobs.iter().all(|j| j.status == "passed"));
        seen.extend(jobs.into_iter().map(|j| j.slug));
    }
    seen.sort();
    assert_eq!(seen, ["1", "2", "3", "4", "5", "6", "7"]);
    for bad in ["0/3", "4/3", "x", "1/0"] {
        let out = t.command().args(["run", "--shard", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--shard"), "--shard {bad}");
    }
}

/// Limits that cannot mean anything are usage errors before anything runs.
#[test]
fn senseless_limits_are_usage_errors() {
    let t = Test::new().matrix("[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    for args in [&["run", "--max-failures", "0"][..], &["run", "--timeout", "0s"]] {
        let out = t.command().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "gridrun {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(args[1]), "gridrun {args:?}: {stderr}");
    }
    assert!(!t.state_dir().join("gridrun.db").exists(), "nothing was recorded");
}

/// After `--fail-fast`, `--rerun-failed` runs the failure again and the cells it cancelled, which
/// never got an answer.
#[test]
fn rerun_failed_includes_what_fail_fast_cancelled() {
    let toml = "[matrix]\nn = [1, 2, 3, 4]\n[[steps]]\nname = \"s\"\nrun = \"if [ {{ n }} = 1 ] && [ ! -f fixed ]; then exit 2; fi\"\n";
    let t = Test::new().matrix(toml);
    t.command().args(["run", "--fail-fast", "-j", "1"]).assert().code(1);
    let statuses = |run: i64| -> Vec<(String, String)> {
        t.show(&run.to_string()).jobs.into_iter().map(|j| (j.slug, j.status)).collect()
    };
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(statuses(1), [s("1", "failed"), s("2", "cancelled"), s("3", "cancelled"), s("4", "cancelled")]);
    std::fs::write(t.path().join("fixed"), "").unwrap();
    t.command().args(["run", "--rerun-failed"]).assert().success();
    assert_eq!(statuses(2), [s("1", "passed"), s("2", "passed"), s("3", "passed"), s("4", "passed")]);
}

/// In a folder of projects, a Ctrl-C while the next project fetches its source (it reaches git as
/// well) stops there: exit 130, that project not recorded, the one before it kept.
#[test]
fn ctrl_c_between_projects_stops_the_next_one() {
    let step = "\n[[steps]]\nname = \"s\"\nrun = \"true\"\n";
    let t = Test::new().file("matrices/alpha.toml", &format!("[project]\nname = \"alpha\"\n{step}")).file(
        "matrices/beta.toml",
        &format!("[project]\nname = \"beta\"\nsource = {{ git = \"file:///nowhere/beta.git\" }}\n{step}"),
    );
    // A git that hangs when asked to clone or fetch, as a slow network would, and says so.
    let bin = t.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = t.path().join("fetching");
    let real_git =
        String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout).unwrap();
    std::fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\ncase \" $* \" in *' clone '*|*' fetch '*) touch {}; exec sleep 60 ;; esac\nexec {} \"$@\"\n",
            marker.display(),
            real_git.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("git"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let gridrun = Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
        .current_dir(t.path())
        .args(["run", "matrices"])
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env_remove("GRIDRUN_STATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, as a shell gives a foreground command: Ctrl-C reaches the group.
        .process_group(0)
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(30), || marker.exists()), "beta's fetch started");
    let started = Instant::now();
    let group = i32::try_from(gridrun.id()).unwrap();
    signal_group(group, Signal::INT);
    let out = gridrun.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "gridrun stopped, not waited for the fetch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted before beta started"), "{stderr}");
    let runs: Vec<RunDoc> = t.runs().iter().map(|(id, _)| t.show(&id.to_string())).collect();
    assert_eq!(runs.iter().map(|r| (r.project.as_str(), r.status.as_str())).collect::<Vec<_>>(), [("alpha", "passed")]);
}
