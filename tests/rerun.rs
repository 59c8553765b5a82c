//! `--rerun-failed` and `--skip-passed` on the real example project, with one cell made to fail.

mod common;

use std::path::Path;
use std::process::Command;

use common::{repo, Test};

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).into_iter().flatten() {
        let relative = entry.path().strip_prefix(from).unwrap();
        let target = to.join(relative);
        if relative.starts_with(".gridrun") || relative.starts_with("build") {
            continue;
        }
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

const BREAK: &str = "\n#if __cplusplus == 201703L\n#error broken on purpose for C++17\n#endif\n";

/// Statuses by slug of the latest run.
fn latest(t: &Test) -> Vec<(String, String, Option<i64>)> {
    t.show("latest").jobs.into_iter().map(|j| (j.slug, j.status, j.reused_from)).collect()
}

#[test]
fn rerun_failed_then_skip_passed_on_the_example_grid() {
    let t = Test::new();
    let project = t.path().to_path_buf();
    copy_tree(&repo().join("examples"), &project);
    let source = project.join("src/standard.cpp");
    let original = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, format!("{original}{BREAK}")).unwrap();
    git(&project, &["init", "--quiet"]);
    git(&project, &["add", "."]);
    git(&project, &["commit", "--quiet", "-m", "broken for C++17"]);
    let cells = ["-f", "compiler=gcc-12", "-f", "cxx_standard=17,20", "-f", "build_type=Debug"];

    // 1: one cell fails.
    t.command().arg("run").args(cells).assert().code(1);
    assert_eq!(
        latest(&t),
        [("gcc-12-17-Debug".into(), "failed".into(), None), ("gcc-12-20-Debug".into(), "passed".into(), None)]
    );

    // 2: fixed and committed; --rerun-failed runs only the cell that failed.
    std::fs::write(&source, &original).unwrap();
    git(&project, &["commit", "--quiet", "-am", "fixed"]);
    t.command().arg("run").args(cells).arg("--rerun-failed").assert().success();
    assert_eq!(latest(&t), [("gcc-12-17-Debug".into(), "passed".into(), None)]);

    // 3: --skip-passed reuses the pass at this commit; the other cell passed only at the old
    // commit, so it runs.
    t.command().arg("run").args(cells).arg("--skip-passed").assert().success();
    assert_eq!(
        latest(&t),
        [("gcc-12-17-Debug".into(), "reused".into(), Some(2)), ("gcc-12-20-Debug".into(), "passed".into(), None)]
    );

    // 4: everything passed at this commit: nothing runs.
    let out = t.command().arg("run").args(cells).arg("--skip-passed").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        latest(&t),
        [("gcc-12-17-Debug".into(), "reused".into(), Some(2)), ("gcc-12-20-Debug".into(), "reused".into(), Some(3))]
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 passed, 0 failed, 2 reused"));

    // 5: nothing failed in the latest run: --rerun-failed has nothing to do.
    let out = t.command().arg("run").args(cells).arg("--rerun-failed").output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing failed in run 4"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A local change disables reuse: the tree no longer is the commit that passed.
    std::fs::write(project.join("src/standard.cpp"), format!("{original}\n// local edit\n")).unwrap();
    let out = t.command().arg("run").args(cells).arg("--skip-passed").output().unwrap();
    assert!(out.status.success());
    assert!(latest(&t).iter().all(|(_, status, _)| status == "passed"));
}
