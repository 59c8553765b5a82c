//! The build server's jobs without a server: `run --if-changed` builds only what moved (a real
//! git repository the test commits to between runs, and a real remote read with `git
//! ls-remote`), one run per followed branch, and `[branches."GLOB"]` settings for matching runs.

mod common;

use std::path::Path;
use std::process::Command;

use common::Test;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn head(dir: &Path, rev: &str) -> String {
    let out = Command::new("git").current_dir(dir).args(["rev-parse", rev]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn runs(t: &Test) -> Vec<serde_json::Value> {
    t.ok_json(&["status", "--json"])["runs"].as_array().unwrap().clone()
}

const LOCAL: &str = r#"
[project]
name = "local"

[matrix]
n = ["1", "2"]

[[steps]]
name = "count"
run = "cat count.txt"
"#;

/// A folder source: unchanged, it is not run and the store is not touched; a new commit, and
/// then an uncommitted edit, each make it run again.
#[test]
fn if_changed_builds_a_folder_only_when_it_moved() {
    let t = Test::new().matrix(LOCAL).file("count.txt", "1\n");
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml", "count.txt"]);
    git(t.path(), &["commit", "-qm", "one"]);

    let first = t.gridrun(&["run", "--if-changed"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stderr(&first).contains("local@main: not built at"), "{}", stderr(&first));

    let db = t.state_dir().join("gridrun.db");
    let before = std::fs::metadata(&db).unwrap().modified().unwrap();
    let again = t.gridrun(&["run", "--if-changed"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty(), "nothing ran, nothing printed: {}", String::from_utf8_lossy(&again.stdout));
    let said = stderr(&again);
    assert_eq!(said.lines().count(), 1, "one line: {said}");
    assert!(said.contains("unchanged since run 1 at"), "{said}");
    assert_eq!(std::fs::metadata(&db).unwrap().modified().unwrap(), before, "the store was not touched");
    assert_eq!(runs(&t).len(), 1);

    std::fs::write(t.path().join("count.txt"), "2\n").unwrap();
    let edited = t.gridrun(&["run", "--if-changed"]);
    assert_eq!(edited.status.code(), Some(0), "{}", stderr(&edited));
    assert!(stderr(&edited).contains("with local changes; running"), "{}", stderr(&edited));
    let same_edit = t.gridrun(&["run", "--if-changed"]);
    assert!(stderr(&same_edit).contains("unchanged since run 2"), "{}", stderr(&same_edit));

    git(t.path(), &["commit", "-qam", "two"]);
    let committed = t.gridrun(&["run", "--if-changed"]);
    assert!(stderr(&committed).contains("moved from"), "{}", stderr(&committed));
    let all = runs(&t);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["commit"], head(t.path(), "HEAD"));
    assert_eq!(all[0]["branch"], "main");
    // `status` says which commit and branch each run built.
    let status = t.ok(&["status"]);
    assert!(status.lines().next().unwrap().contains(&format!("main {}", &head(t.path(), "HEAD")[..12])), "{status}");

    assert!(t.ok(&["show"]).lines().next().unwrap().contains("branch main"));
    assert!(t.ok(&["report", "--format", "md"]).contains("on `main`"));
    assert!(t.ok(&["report", "--format", "html"]).contains(&format!("main {}", &head(t.path(), "HEAD")[..12])));

    // Another selection is another configuration: it has not been built yet.
    let other = t.gridrun(&["run", "--if-changed", "-f", "n=1"]);
    assert!(stderr(&other).contains("not built at"), "{}", stderr(&other));
}

/// A failing run counts as built: cron does not rebuild a broken commit every minute.
#[test]
fn a_failed_run_is_built_too() {
    let t = Test::new().matrix(&LOCAL.replace("cat count.txt", "false"));
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml"]);
    git(t.path(), &["commit", "-qm", "one"]);
    assert_eq!(t.gridrun(&["run", "--if-changed"]).status.code(), Some(1));
    let again = t.gridrun(&["run", "--if-changed"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("unchanged since run 1"), "{}", stderr(&again));
}

/// A git source: its remote is read with `git ls-remote` (no clone) to decide; `rev = "GLOB"`
/// follows every matching branch, one run each, and only the branches that moved run again.
#[test]
fn if_changed_follows_the_branches_of_a_remote() {
    let t = Test::new();
    let upstream = t.path().join("upstream");
    std::fs::create_dir_all(&upstream).unwrap();
    git(&upstream, &["init", "-q"]);
    std::fs::write(upstream.join("version.txt"), "1\n").unwrap();
    git(&upstream, &["add", "version.txt"]);
    git(&upstream, &["commit", "-qm", "one"]);
    git(&upstream, &["branch", "release/1"]);
    git(&upstream, &["branch", "release/2"]);
    git(&upstream, &["branch", "feature/x"]);
    let t = t.file(
        "gridrun.toml",
        &format!(
            r#"
            [project]
            name = "remote"
            source = {{ git = "file://{}", rev = "release/*" }}

            [matrix]
            n = ["1"]

            [[steps]]
            name = "show"
            run = "cat version.txt; echo $KIND"

            [branches."release/2"]
            env = {{ KIND = "strict" }}
            limits = {{ timeout = "5m" }}

            [branches."release/*"]
            env = {{ KIND = "release" }}
            "#,
            upstream.display()
        ),
    );
    let run = |args: &[&str]| {
        let mut all = vec!["run"];
        all.extend(args);
        t.gridrun(&all)
    };
    let first = run(&["--if-changed", "--report", "out/grid.html"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let out = t.path().join("out");
    assert!(out.join("grid.remote@release-1.html").is_file() && out.join("grid.remote@release-2.html").is_file());
    let all = runs(&t);
    let branches: Vec<&str> = all.iter().map(|r| r["branch"].as_str().unwrap()).collect();
    assert_eq!(branches, ["release/2", "release/1"]);

    // [branches] applies in file order, a later table winning: release/2 is `release` too.
    let log = t.ok(&["log", &format!("{}/1", all[0]["id"])]);
    assert!(log.contains("release"), "{log}");

    let unchanged = run(&["--if-changed"]);
    assert_eq!(unchanged.status.code(), Some(0));
    assert_eq!(stderr(&unchanged).matches("unchanged since").count(), 2, "{}", stderr(&unchanged));
    assert_eq!(runs(&t).len(), 2);

    std::fs::write(upstream.join("version.txt"), "2\n").unwrap();
    git(&upstream, &["checkout", "-q", "release/2"]);
    git(&upstream, &["commit", "-qam", "two"]);
    let moved = run(&["--if-changed"]);
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    let said = stderr(&moved);
    assert!(said.contains("remote@release/1: unchanged"), "{said}");
    assert!(said.contains("remote@release/2: moved from"), "{said}");
    let newest = &runs(&t)[0];
    assert_eq!(newest["branch"], "release/2");
    assert_eq!(newest["commit"], head(&upstream, "release/2"));

    // `--branch` follows other branches than the file's; a glob that matches none ran nothing.
    let feature = run(&["--if-changed", "--branch", "feature/*"]);
    assert_eq!(feature.status.code(), Some(0), "{}", stderr(&feature));
    assert_eq!(runs(&t)[0]["branch"], "feature/x");
    let none = run(&["--if-changed", "--branch", "nope/*"]);
    assert_eq!(none.status.code(), Some(4), "{}", stderr(&none));
    assert!(stderr(&none).contains("no branch of"), "{}", stderr(&none));

    // A remote that cannot be read is said, and fails the command; it never runs blind.
    std::fs::rename(&upstream, t.path().join("gone")).unwrap();
    let gone = run(&["--if-changed"]);
    assert_eq!(gone.status.code(), Some(1), "{}", stderr(&gone));
    assert!(stderr(&gone).contains("cannot list the branches of"), "{}", stderr(&gone));
}

/// `[branches."GLOB"]` tables: the checked-out branch's settings apply, and a bad table is a
/// located error.
#[test]
fn branch_settings_apply_to_a_folder_on_that_branch() {
    let t = Test::new().matrix(
        r#"
        [project]
        name = "b"

        [matrix]
        n = ["1"]

        [limits]
        timeout = "1h"

        [[steps]]
        name = "show"
        run = "echo mode=$MODE"

        [branches."main"]
        env = { MODE = "strict" }
        limits = { timeout = "1s" }

        [branches."dev*"]
        env = { MODE = "lenient" }
        "#,
    );
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml"]);
    git(t.path(), &["commit", "-qm", "one"]);
    let ran = |t: &Test| assert_eq!(t.gridrun(&["run"]).status.code(), Some(0));
    ran(&t);
    assert!(t.ok(&["log", "latest/1"]).contains("mode=strict"));
    git(t.path(), &["checkout", "-qb", "develop"]);
    ran(&t);
    assert!(t.ok(&["log", "latest/1"]).contains("mode=lenient"));
    // A folder on a branch --branch does not follow is skipped, said on one line.
    let skipped = t.gridrun(&["run", "--branch", "main"]);
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert!(stderr(&skipped).contains("which --branch does not follow"), "{}", stderr(&skipped));

    for (bad, message) in [
        ("[branches.\"main\"]\nlimit = { jobs = 1 }\n", "unknown key `limit`"),
        ("[branches.\"main\"]\nlimits = { jobs = 0 }\n", "limits.jobs must be a whole number of at least 1"),
        ("[branches.\"[\"]\nenv = {}\n", "is not a valid glob"),
        ("[branches.\"main\"]\nenv = { X = \"{{ nope\" }\n", "template error"),
    ] {
        let t = Test::new().matrix(&format!("[[steps]]\nname = \"s\"\nrun = \"true\"\n{bad}"));
        let out = t.gridrun(&["plan"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let line = stderr(&out).lines().next().unwrap_or_default().to_string();
        assert!(line.starts_with("error: gridrun.toml:") && line.contains(message), "{bad}: {line}");
    }
}

/// Cron starts gridrun again while the last one still builds the same commit: the second says so
/// and leaves it alone, and once that run has ended (interrupted, so not built) the next one runs.
#[test]
fn a_revision_being_built_is_not_built_twice() {
    let t = Test::new().matrix(&LOCAL.replace("cat count.txt", "sleep 60"));
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "gridrun.toml"]);
    git(t.path(), &["commit", "-qm", "one"]);
    let mut first = t.process();
    let mut first = first.args(["run", "--if-changed"]).stderr(std::process::Stdio::null()).spawn().unwrap();
    common::wait_for("the first run to start its jobs", std::time::Duration::from_secs(20), || {
        t.gridrun(&["status", "--json"]).stdout.windows(7).any(|w| w == b"running")
    });
    let second = t.gridrun(&["run", "--if-changed"]);
    let said = stderr(&second);
    let _ = Command::new("kill").args(["-TERM", &first.id().to_string()]).status();
    let ended = first.wait().unwrap();
    assert_eq!(second.status.code(), Some(0), "{said}");
    assert!(said.contains("run 1 is building") && said.contains("nothing to do"), "{said}");
    assert_eq!(ended.code(), Some(130));
    let third = t.gridrun(&["run", "--if-changed", "--timeout", "1s"]);
    assert!(stderr(&third).contains("not built at"), "{}", stderr(&third));
}
