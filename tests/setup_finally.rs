//! `[[setup]]` and `[[finally]]`: a static library built once per compiler with the real
//! compiler, cells linking real C++ programs against it, a failing setup skipping exactly its
//! cells, a finally step reading the run's JSON, and bad tables refused with their place.

mod common;

use common::Test;

const DEP: &str = "int dep_value() { return 42; }\n";
const MAIN: &str = "int dep_value();\nint main() { return dep_value() == 42 ? 0 : 1; }\n";

/// A file whose setup builds `libdep.a` per compiler, with `setup_run` as its `run` (a template)
/// and `finally_run` after the grid.
fn project(setup_run: &str, finally_run: &str) -> Test {
    Test::new().file("dep.cpp", DEP).file("main.cpp", MAIN).matrix(&format!(
        r#"
[project]
name = "pipe"

[matrix]
compiler = ["gcc-12", "clang-14"]
cxx_standard = ["17", "20"]

[[setup]]
name = "deps"
per = ["compiler"]
run = '''{setup_run}'''

[[steps]]
name = "build"
run = "{{{{ cxx }}}} -std=c++{{{{ cxx_standard }}}} {{{{ source }}}}/main.cpp -L{{{{ setup.deps }}}} -ldep -o {{{{ build_dir }}}}/main && {{{{ build_dir }}}}/main"

[[finally]]
name = "check"
run = '''{finally_run}'''
"#
    ))
}

const BUILD_DEP: &str = "{{ cxx }} -c {{ source }}/dep.cpp -o {{ setup_dir }}/dep.o && ar rcs {{ setup_dir }}/libdep.a {{ setup_dir }}/dep.o";

fn statuses(t: &Test) -> Vec<(String, String)> {
    let doc = t.ok_json(&["show", "latest", "--json"]);
    doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["slug"].as_str().unwrap().to_string(), format!("{}/{}", j["kind"], j["status"]).replace('"', "")))
        .collect()
}

#[test]
fn a_setup_per_compiler_feeds_real_cells() {
    let t = project(BUILD_DEP, "grep -c '\"kind\": \"cell\"' {{ run_json }}");
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        statuses(&t),
        [
            ("gcc-12-17", "cell/passed"),
            ("gcc-12-20", "cell/passed"),
            ("clang-14-17", "cell/passed"),
            ("clang-14-20", "cell/passed"),
            ("setup@deps-gcc-12", "setup/passed"),
            ("setup@deps-clang-14", "setup/passed"),
            ("finally@check", "finally/passed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // The setup's log is there like a cell's; the finally step saw the four cells.
    let log = t.ok(&["log", "latest/finally@check"]);
    assert!(log.contains('4'), "{log}");
    // The grid is of cells only.
    let show = t.ok(&["show", "latest"]);
    assert!(show.contains("setup@deps-gcc-12"), "{show}");
    // plan lists the setup instances and the finally step.
    let plan = t.ok_json(&["plan", "--format", "json"]);
    assert_eq!(plan["setup"][0]["slug"], "setup@deps-gcc-12");
    assert_eq!(plan["setup"][0]["per"]["compiler"], "gcc-12");
    assert_eq!(plan["finally"][0]["slug"], "finally@check");
    let table = t.ok(&["plan"]);
    assert!(
        table.contains("before the cells, on this host: setup@deps-gcc-12 (compiler=gcc-12), setup@deps-clang-14 (compiler=clang-14)\nafter the cells, on this host: finally@check\n"),
        "{table}"
    );
    // Counts are of cells; the pipeline's jobs are told apart, in every report.
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(summary.contains("run 1: 4 passed, 0 failed in "), "{summary}");
    assert!(summary.contains("; setup 2 of 2 passed; finally 1 of 1 passed"), "{summary}");
    let md = t.ok(&["report", "--format", "md"]);
    assert!(md.contains("**4 jobs**: 4 passed · setup: `setup@deps-gcc-12` passed, `setup@deps-clang-14` passed · finally: `finally@check` passed"), "{md}");
    let junit = t.ok(&["report", "--format", "junit"]);
    assert!(junit.contains("<testsuite name=\"setup@deps-gcc-12\""), "{junit}");
    let html = t.ok(&["report", "--format", "html"]);
    assert!(html.contains("setup@deps-clang-14") && html.contains("finally@check"));
}

#[test]
fn a_failing_setup_skips_exactly_its_cells_and_finally_still_runs() {
    let failing = format!("test {{{{ compiler }}}} != clang-14 && {BUILD_DEP}");
    let check = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); \
                 s={j[\"slug\"]: j[\"status\"] for j in d[\"jobs\"]}; \
                 assert s[\"gcc-12-17\"]==\"passed\" and s[\"clang-14-17\"]==\"skipped\", s' {{ run_json }}";
    let t = project(&failing, check);
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let got = statuses(&t);
    assert_eq!(
        got,
        [
            ("gcc-12-17", "cell/passed"),
            ("gcc-12-20", "cell/passed"),
            ("clang-14-17", "cell/skipped"),
            ("clang-14-20", "cell/skipped"),
            ("setup@deps-gcc-12", "setup/passed"),
            ("setup@deps-clang-14", "setup/failed"),
            ("finally@check", "finally/passed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let doc = t.ok_json(&["show", "latest", "--json"]);
    let skipped = doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == "clang-14-17").unwrap();
    assert_eq!(skipped["reason"], "setup `deps` (compiler=clang-14) failed");
}

#[test]
fn a_filter_runs_only_the_setups_its_cells_need() {
    let t = project(BUILD_DEP, "true");
    let out = t.gridrun(&["run", "-f", "compiler=gcc-12"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let slugs: Vec<String> = statuses(&t).into_iter().map(|(s, _)| s).collect();
    assert_eq!(slugs, ["gcc-12-17", "gcc-12-20", "setup@deps-gcc-12", "finally@check"]);
}

/// `gridrun plan` on `toml`: exit 2 and the located error.
fn refused(toml: &str, expected: &str) {
    let t = Test::new().matrix(toml);
    let out = t.gridrun(&["plan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("error: gridrun.toml:{expected}"), "{stderr}");
}

const HEAD: &str = "[matrix]\ncompiler = [\"gcc-12\"]\n\n[[steps]]\nname = \"b\"\nrun = \"true\"\n\n";

#[test]
fn bad_setup_tables_are_refused_with_their_place() {
    refused(
        &format!("{HEAD}[[setup]]\nname = \"d\"\nrun = \"true\"\nperr = [\"compiler\"]\n"),
        "11:1: unknown key `perr` in [[setup]]; did you mean `per`?",
    );
    refused(
        &format!("{HEAD}[[setup]]\nname = \"d\"\nper = [\"compilr\"]\nrun = \"true\"\n"),
        "10:8: setup `d`: per names `compilr`, which is no axis or include key of this file; did you mean `compiler`?",
    );
    refused(
        &format!("{HEAD}[[setup]]\nname = \"d\"\nrun = \"true\"\n\n[[finally]]\nname = \"d\"\nrun = \"true\"\n"),
        "13:8: a second [[setup]] or [[finally]] named `d` (also a [[setup]])",
    );
    refused(&format!("{HEAD}[[setup]]\nname = \"d\"\nrun = \"  \"\n"), "10:7: [[setup]] `d` has an empty `run`");
    refused(
        &format!("{HEAD}[[setup]]\nname = \"d\"\nrun = \"make {{{{ setup_dri }}}}\"\n"),
        "10:16: setup.d.run: undefined variable `setup_dri` for setup@d; did you mean `setup_dir`?",
    );
    refused(
        &format!("{HEAD}[[finally]]\nname = \"p\"\nrun = \"cat {{{{ setup_dir }}}}\"\n"),
        "10:15: finally.p.run: undefined variable `setup_dir` for finally@p; finally has no `setup_dir`",
    );
}

#[test]
fn a_cell_naming_an_unknown_setup_is_refused_at_plan() {
    let toml = "[matrix]\ncompiler = [\"gcc-12\"]\n\n[[setup]]\nname = \"deps\"\nrun = \"true\"\n\n[[steps]]\nname = \"b\"\nrun = \"ls {{ setup.dpes }}\"\n";
    let t = Test::new().matrix(toml);
    let out = t.gridrun(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: gridrun.toml:10:"), "{stderr}");
}

#[test]
fn setup_is_a_reserved_name() {
    refused(
        "[matrix]\nsetup = [\"a\"]\n\n[[steps]]\nname = \"b\"\nrun = \"true\"\n",
        "2:1: axis `setup` has the name of a built-in template variable; rename it",
    );
}

/// The file's `[env]` reaches setup and finally jobs where its values render with what they
/// have: a plain value does; one naming a cell's standard is the cells' alone.
#[test]
fn the_files_env_reaches_setup_and_finally_where_it_can() {
    let t = Test::new().matrix(
        r#"
[matrix]
compiler = ["gcc-12"]
cxx_standard = ["17", "20"]

[env]
SHARED = "yes-{{ run }}"
STANDARD = "{{ cxx_standard }}"

[[setup]]
name = "deps"
per = ["compiler"]
run = "echo shared=$SHARED standard=${STANDARD:-none}"

[[steps]]
name = "build"
run = "echo shared=$SHARED standard=$STANDARD"

[[finally]]
name = "sum"
run = "echo shared=$SHARED standard=${STANDARD:-none}"
"#,
    );
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(t.ok(&["log", "latest/setup@deps-gcc-12"]).contains("shared=yes-1 standard=none"));
    assert!(t.ok(&["log", "latest/finally@sum"]).contains("shared=yes-1 standard=none"));
    assert!(t.ok(&["log", "latest/gcc-12-20"]).contains("shared=yes-1 standard=20"));
}
