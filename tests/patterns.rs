//! Which axis values a run's failures follow, said where the failures are read: the run's closing
//! lines, `show`, `show --json`, the Markdown (and so GitHub's step summary) and HTML reports.

mod common;

use common::Test;

fn grid(check: &str) -> Test {
    Test::new().matrix(&format!(
        r#"
        [matrix]
        lib = ["alpha", "beta", "gamma"]
        std = ["11", "14", "17", "20", "23"]
        mode = ["Debug", "Release"]

        [[steps]]
        name = "check"
        run = "{check}"
        "#
    ))
}

#[test]
fn the_values_failures_follow_are_named_everywhere() {
    let t = grid("test {{ lib }} != beta");
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let said = "failures follow lib = beta exactly: all 10 of its cells failed, no other";
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(said), "{stdout}");
    assert!(t.ok(&["show"]).lines().nth(1).unwrap().contains(said));
    assert_eq!(t.ok_json(&["show", "--json"])["failure_pattern"], said);
    assert!(t.ok(&["report", "--format", "md"]).contains("Failures follow lib = beta exactly"));
    assert!(t.ok(&["report", "--format", "html"]).contains("Failures follow lib = beta exactly"));
}

#[test]
fn a_threshold_with_a_second_key() {
    let t = grid("test {{ std }} -lt 20 -o {{ mode }} = Debug");
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(1));
    assert_eq!(
        t.ok_json(&["show", "--json"])["failure_pattern"],
        "failures follow std ≥ 20 and mode = Release exactly: all 6 of its cells failed, no other"
    );
}

#[test]
fn scattered_failures_are_not_explained_away() {
    let t = grid("case {{ lib }}-{{ std }}-{{ mode }} in alpha-11-Debug|beta-17-Release|gamma-23-Debug) exit 1;; esac");
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(1));
    let doc = t.ok_json(&["show", "--json"]);
    assert!(doc.get("failure_pattern").is_none(), "{doc:#}");
}

#[test]
fn stats_names_what_the_usual_failures_follow() {
    let t = grid("test {{ lib }} != beta");
    for _ in 0..2 {
        assert_eq!(t.gridrun(&["run"]).status.code(), Some(1));
    }
    let stats = t.ok_json(&["stats", "--json"]);
    assert_eq!(
        stats["projects"][0]["failure_pattern"],
        "failures follow lib = beta exactly: all 10 of its cells failed, no other",
        "{stats:#}"
    );
    assert!(t.ok(&["stats"]).contains("over these days, failures follow lib = beta exactly"));
}

/// A failure several cells share is said once, its cells in short where they are a product of
/// values, with its place relative to the project.
#[test]
fn one_failure_is_told_once_for_the_cells_it_occurred_in() {
    let t = Test::new().matrix(
        r#"
        [matrix]
        lib = ["alpha", "beta"]
        std = ["11", "14", "17", "20"]

        [[steps]]
        name = "build"
        run = "if [ {{ lib }} = beta ] && [ {{ std }} != 14 ]; then echo \"$PWD/test/fuzz.cpp:3:10: fatal error: fuzzer/FuzzedDataProvider.h: No such file or directory\"; exit 1; fi"
        "#,
    );
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "--- 3 cells failed the same way: beta × 11, 17, 20\n    test/fuzz.cpp:3:10: fatal: fuzzer/FuzzedDataProvider.h: No such file or directory\n"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.matches("FuzzedDataProvider").count(), 1, "said once: {stdout}");
    assert!(stdout.contains("failures mostly follow lib = beta: 3 of its 4 cells failed; passed: beta-14"), "{stdout}");
}
