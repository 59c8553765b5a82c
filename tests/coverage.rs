//! `coverage = true`: real gcc-12 and clang-19 build a real library and its test with
//! `--coverage`, the test runs, and gridrun's figures (read through gcovr, per job, from the
//! job's own folder) are those gcovr itself prints for the same build; `[coverage] min_line`
//! fails a job under it as kind `coverage`; `compare` shows the change.

mod common;

use std::process::Command;

use common::{have, Test};

fn project(min_line: Option<u32>) -> Test {
    let sources = common::repo().join("tests/fixtures/coverage");
    let threshold = min_line.map_or_else(String::new, |m| format!("[coverage]\nmin_line = {m}\n"));
    Test::new()
        .file("lib.cpp", &std::fs::read_to_string(sources.join("lib.cpp")).unwrap())
        .file("test.cpp", &std::fs::read_to_string(sources.join("test.cpp")).unwrap())
        .matrix(&format!(
            r#"
[matrix]
compiler = ["gcc-12", "clang-19"]
coverage = [true]

{threshold}
[[steps]]
name = "build"
run = "mkdir -p {{{{ build_dir }}}} && cd {{{{ build_dir }}}} && {{{{ cxx }}}} $CXXFLAGS -c {{{{ source }}}}/lib.cpp {{{{ source }}}}/test.cpp && {{{{ cxx }}}} $LDFLAGS -o test lib.o test.o"

[[steps]]
name = "test"
run = "{{{{ build_dir }}}}/test"
"#
        ))
}

#[test]
fn figures_are_gcovrs_own_for_each_compiler() {
    assert!(have("g++-12") && have("clang++-19") && have("gcovr"), "run .ci/install-deps");
    let t = project(None);
    let out = t.gridrun(&["run", "--keep-workspaces"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = t.ok_json(&["show", "--json"]);
    for (job, gcov) in doc["jobs"].as_array().unwrap().iter().zip(["gcov-12", "llvm-cov gcov"]) {
        let slug = job["slug"].as_str().unwrap();
        let figures = &job["coverage"];
        assert!(figures.is_object(), "{slug}: {job:#}");
        // gcovr run by the test over the same kept build folder.
        let work = job["work_dir"].as_str().unwrap();
        let gcov = if gcov == "gcov-12" {
            gcov.to_string()
        } else {
            let newest = std::fs::read_dir("/usr/lib")
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin/llvm-cov"))
                .filter(|p| p.is_file())
                .max()
                .unwrap();
            format!("{} gcov", newest.display())
        };
        let theirs = Command::new("gcovr")
            .args(["--root", t.path().to_str().unwrap(), "--gcov-executable", &gcov, "--json-summary", "-", work])
            .output()
            .unwrap();
        assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
        let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout).unwrap();
        for (ours, key) in [
            ("lines_covered", "line_covered"),
            ("lines_total", "line_total"),
            ("functions_covered", "function_covered"),
            ("functions_total", "function_total"),
            ("branches_covered", "branch_covered"),
            ("branches_total", "branch_total"),
        ] {
            assert_eq!(figures[ours], theirs[key], "{slug}: {ours}");
        }
        // Not every line was run: never_called and part of describe.
        let (covered, total) = (figures["lines_covered"].as_u64().unwrap(), figures["lines_total"].as_u64().unwrap());
        assert!(covered > 0 && covered < total, "{slug}: {figures}");
        assert_eq!(figures["functions_covered"], 3, "{slug}: main, clamp, describe");
    }
    let shown = t.ok(&["show", "latest/gcc-12-true"]);
    assert!(shown.contains("coverage     lines "), "{shown}");
    let md = t.ok(&["report", "--format", "md"]);
    assert!(md.contains("Line coverage: `gcc-12-true` "), "{md}");
    let page = t.ok(&["report", "--history"]);
    assert!(page.contains("<h2>Line coverage per day</h2>"), "the history page draws coverage");
}

#[test]
fn under_min_line_the_job_fails_as_coverage_and_compare_shows_the_change() {
    let t = project(Some(95));
    let out = t.gridrun(&["run", "-f", "compiler=gcc-12"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = t.ok_json(&["show", "--json"]);
    let job = &doc["jobs"][0];
    assert_eq!(job["status"], "failed");
    assert_eq!(job["failure_kind"], "coverage");
    assert!(job["log_tail"].as_str().unwrap().contains("is under [coverage] min_line 95 %"), "{job:#}");

    // The test now covers `describe` wholly: coverage goes up, and compare says by how much.
    let more = "int clamp(int, int, int);\nconst char* describe(int);\nint main() { return describe(-1)[0] == 'n' && describe(0)[0] == 'z' && describe(1)[0] == 'p' && clamp(-1, 0, 1) == 0 && clamp(2, 0, 1) == 1 && clamp(0, 0, 1) == 0 ? 0 : 1; }\n";
    std::fs::write(t.path().join("test.cpp"), more).unwrap();
    let _ = t.gridrun(&["run", "-f", "compiler=gcc-12"]);
    let compared = t.ok(&["compare", "1", "2"]);
    assert!(compared.contains("line coverage changed: 1"), "{compared}");
    assert!(compared.contains("gcc-12-true"), "{compared}");
}

#[test]
fn coverage_must_be_true_or_false() {
    let t = Test::new().matrix("[matrix]\ncoverage = [\"yes\"]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    let out = t.gridrun(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let first = String::from_utf8_lossy(&out.stderr).lines().next().unwrap().to_string();
    assert_eq!(first, "error: gridrun.toml:2:13: `coverage` takes true or false, not `yes`");
    let t = Test::new().matrix("[coverage]\nmin_line = 120.0\n[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    let out = t.gridrun(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: gridrun.toml:2:12: coverage.min_line is a per cent")
    );
}
