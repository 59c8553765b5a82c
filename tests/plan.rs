//! `gridrun plan` through the real binary: expansion order, states and reasons from real
//! compilers probed on this host, formats, filters, the probe cache, and the seed matrices.

mod common;

use common::{have, repo, Test};
use serde_json::{json, Value};

fn slugs(plan: &Value) -> Vec<String> {
    plan["jobs"].as_array().unwrap().iter().map(|j| j["slug"].as_str().unwrap().to_string()).collect()
}

fn job<'a>(plan: &'a Value, slug: &str) -> &'a Value {
    plan["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == slug).unwrap_or_else(|| panic!("no job {slug}"))
}

const STEP: &str = "\n[[steps]]\nname = \"build\"\nrun = \"true\"\n";

/// GitHub's documented include example, through the binary: order, keys and values pinned.
#[test]
fn github_docs_include_example_in_order() {
    let toml = r#"
[matrix]
fruit = ["apple", "pear"]
animal = ["cat", "dog"]
[[matrix.include]]
color = "green"
[[matrix.include]]
color = "pink"
animal = "cat"
[[matrix.include]]
fruit = "apple"
shape = "circle"
[[matrix.include]]
fruit = "banana"
[[matrix.include]]
fruit = "banana"
animal = "cat"
"#;
    let plan = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]).json();
    let cells: Vec<&Value> = plan["jobs"].as_array().unwrap().iter().map(|j| &j["cell"]).collect();
    assert_eq!(
        cells,
        [
            &json!({"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"}),
            &json!({"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"}),
            &json!({"fruit": "pear", "animal": "cat", "color": "pink"}),
            &json!({"fruit": "pear", "animal": "dog", "color": "green"}),
            &json!({"fruit": "banana"}),
            &json!({"fruit": "banana", "animal": "cat"}),
        ]
    );
    // Key order inside each cell is the file's order, not alphabetical.
    let first = serde_json::to_string(&plan["jobs"][0]["cell"]).unwrap();
    assert_eq!(first, r#"{"fruit":"apple","animal":"cat","color":"pink","shape":"circle"}"#);
    assert_eq!(
        slugs(&plan),
        ["apple-cat-pink-circle", "apple-dog-green-circle", "pear-cat-pink", "pear-dog-green", "banana", "banana-cat"]
    );
    assert_eq!(plan["schema"], 1);
    assert_eq!(plan["total_cells"], 6);
}

#[test]
fn include_only_matrix() {
    let toml = "[[matrix.include]]\nsite = \"production\"\ndatacenter = \"site-a\"\n[[matrix.include]]\nsite = \"staging\"\ndatacenter = \"site-b\"\n";
    let plan = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]).json();
    assert_eq!(slugs(&plan), ["production-site-a", "staging-site-b"]);
}

/// `cxx_standard = [17]` is excluded by `"17"`, and `true` by `"true"`: values compare by text,
/// while JSON keeps the type the file wrote.
#[test]
fn values_compare_by_canonical_text() {
    let toml = r#"
[matrix]
std = [14, 17]
lto = [true, false]
[[matrix.exclude]]
std = "17"
lto = "true"
"#;
    let plan = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]).json();
    assert_eq!(slugs(&plan), ["14-true", "14-false", "17-false"]);
    assert_eq!(plan["jobs"][0]["cell"], json!({"std": 14, "lto": true}));
}

#[test]
fn duplicate_slugs_get_suffixes() {
    let toml = "[matrix]\na = [\"x-y\", \"x\"]\nb = [\"\", \"y\"]\n";
    let plan = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]).json();
    assert_eq!(slugs(&plan), ["x-y", "x-y-y", "x", "x-y-2"]);
}

/// The example grid with the compilers .ci/run installs: every cell present and ready; clang-14
/// and clang-16 know C++23 only by its draft name, -std=c++2b (probed for real), as CMake does.
#[test]
fn example_grid_states_come_from_real_probes() {
    for compiler in ["g++-11", "g++-12", "clang++-14", "clang++-16", "clang++-19"] {
        assert!(have(compiler), "{compiler} is not installed: run .ci/install-deps");
    }
    let t = Test::new();
    let matrix = repo().join("examples/gridrun.toml");
    let state = t.state_dir();
    let t = t.args(["--state-dir", state.to_str().unwrap(), "plan", matrix.to_str().unwrap(), "--format", "json"]);
    let plan = t.json();
    let jobs = plan["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 50);
    assert!(jobs.iter().all(|j| j["state"] == "ready"), "{plan:#}");
    let drafts: Vec<&str> =
        jobs.iter().filter(|j| j["reason"] == "draft name: -std=c++2b").map(|j| j["slug"].as_str().unwrap()).collect();
    assert_eq!(drafts, ["clang-14-23-Debug", "clang-14-23-Release", "clang-16-23-Debug", "clang-16-23-Release"]);
    assert_eq!(job(&plan, "gcc-11-23-Release")["state"], "ready");
    assert_eq!(job(&plan, "clang-19-23-Release")["state"], "ready");
    assert!(jobs.iter().all(|j| j["config_hash"].as_str().is_some_and(|h| h.len() == 16)));
    assert!(state.join("cache/toolchains.json").is_file(), "probe answers are cached in the state folder");
}

/// A second plan answers from the cache: a cache entry that (falsely) says g++-12 rejects C++17
/// (and its draft name) is believed while the compiler's path, size and mtime are unchanged.
#[test]
fn probe_cache_is_used_and_keyed_by_the_compiler_file() {
    let toml = "[matrix]\ncompiler = [\"gcc-12\"]\ncxx_standard = [\"17\"]\n";
    let t = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]);
    assert_eq!(t.json()["jobs"][0]["state"], "ready");
    let cache_file = t.state_dir().join("cache/toolchains.json");
    let cache = std::fs::read_to_string(&cache_file).unwrap();
    assert!(cache.contains("\"c++17\": true"), "{cache}");
    std::fs::write(&cache_file, cache.replace("\"c++17\": true", "\"c++17\": false")).unwrap();
    let plan = t.json();
    assert_eq!(plan["jobs"][0]["state"], "ready", "the draft name -std=c++1z still builds it");
    assert_eq!(plan["jobs"][0]["reason"], "draft name: -std=c++1z");
    let cache = std::fs::read_to_string(&cache_file).unwrap();
    std::fs::write(&cache_file, cache.replace("\"c++1z\": true", "\"c++1z\": false")).unwrap();
    let plan = t.json();
    assert_eq!(plan["jobs"][0]["state"], "unsupported");
    assert_eq!(plan["jobs"][0]["reason"], "gcc-12 does not accept -std=c++17");
}

#[test]
fn missing_compiler_platform_and_llvm_are_unavailable_with_reasons() {
    let toml = r#"
[matrix]
platform = ["linux", "macos"]
compiler = ["gcc-12", "gcc-7", "clang-99"]
cxx_standard = ["20"]
llvm = ["98"]
"#;
    let plan = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan", "--format", "json"]).json();
    assert_eq!(plan["jobs"].as_array().unwrap().len(), 6, "no cell is silently dropped");
    let reason = |slug: &str| job(&plan, slug)["reason"].as_str().unwrap().to_string();
    assert_eq!(job(&plan, "linux-gcc-7-20-98")["state"], "unsupported");
    assert_eq!(reason("linux-gcc-7-20-98"), "gcc-7 does not accept -std=c++20 (gcc 10 is the first that does)");
    assert_eq!(job(&plan, "linux-clang-99-20-98")["state"], "unavailable");
    assert_eq!(
        reason("linux-clang-99-20-98"),
        "clang-99 is not installed on this host (no clang-99 and clang++-99 on PATH)"
    );
    assert_eq!(
        reason("linux-gcc-12-20-98"),
        "LLVM 98 is not installed on this host (no llvm-config-98 on PATH or in /usr/lib/llvm-98)"
    );
    assert_eq!(reason("macos-gcc-12-20-98"), "platform macos needs a macos host; this host is linux");
}

#[test]
fn filters_and_cell_pick_jobs() {
    let t = Test::new().matrix(&format!(
        "[matrix]\ncompiler = [\"gcc-11\", \"gcc-12\", \"clang-19\"]\ncxx_standard = [\"17\", \"20\"]\n{STEP}"
    ));
    let plan = t
        .command()
        .args(["plan", "--format", "json", "-f", "compiler=gcc-*", "-f", "cxx_standard=20"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(slugs(&plan), ["gcc-11-20", "gcc-12-20"]);
    assert_eq!(plan["total_cells"], 6);

    let plan = t.command().args(["plan", "--format", "json", "-f", "compiler=clang-*,gcc-11"]).output().unwrap();
    assert_eq!(
        slugs(&serde_json::from_slice(&plan.stdout).unwrap()),
        ["gcc-11-17", "gcc-11-20", "clang-19-17", "clang-19-20"]
    );

    let plan = t.command().args(["plan", "--format", "json", "--cell", "gcc-12-17"]).output().unwrap();
    assert_eq!(slugs(&serde_json::from_slice(&plan.stdout).unwrap()), ["gcc-12-17"]);

    let bad = t.command().args(["plan", "--cell", "gcc-12-71"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr).trim(),
        "error: no cell has the slug `gcc-12-71`; did you mean `gcc-12-17`?"
    );

    let bad = t.command().args(["plan", "-f", "compilr=gcc"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr).trim(),
        "error: filter key `compilr` is not a key of the matrix; did you mean `compiler`?"
    );
}

#[test]
fn table_shows_every_cell_with_state_and_reason() {
    let toml = "[matrix]\nplatform = [\"linux\", \"windows\"]\ncompiler = [\"gcc-12\"]\n";
    let out = Test::new().matrix(&format!("{toml}{STEP}")).args(["plan"]).status(0);
    let row = out.lines().find(|l| l.contains("windows-gcc-12")).unwrap();
    assert!(row.contains("unavailable") && row.contains("platform windows needs a windows host"), "{out}");
    assert!(out.lines().any(|l| l.contains("linux-gcc-12") && l.contains("ready")), "{out}");
    assert!(out.trim_end().ends_with("2 jobs: 1 ready, 0 unsupported, 1 unavailable"), "{out}");
}

/// Every seed project plans; macOS and Windows cells plan as unavailable with the reason.
#[test]
fn seed_matrices_all_plan() {
    let t = Test::new();
    let state = t.state_dir();
    let matrices = repo().join("matrices");
    let plan =
        t.args(["--state-dir", state.to_str().unwrap(), "plan", matrices.to_str().unwrap(), "--format", "json"]).json();
    let projects = plan["projects"].as_array().unwrap();
    let names: Vec<&str> = projects.iter().map(|p| p["project"].as_str().unwrap()).collect();
    for expected in ["heimdall", "torch-mlir", "llvm-mlir", "linux", "cjson"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let heimdall = projects.iter().find(|p| p["project"] == "heimdall").unwrap();
    let macos: Vec<&Value> =
        heimdall["jobs"].as_array().unwrap().iter().filter(|j| j["cell"]["platform"] == "macos").collect();
    assert!(!macos.is_empty());
    for job in macos {
        assert_eq!(job["state"], "unavailable");
        assert_eq!(job["reason"], "platform macos needs a macos host; this host is linux");
    }
    for project in projects {
        assert!(!project["jobs"].as_array().unwrap().is_empty(), "{} has jobs", project["project"]);
    }
}

/// With no MATRIX argument, gridrun.toml is looked up in the current folder and its parents.
#[test]
fn default_lookup_walks_up_to_gridrun_toml() {
    let t = Test::new().matrix(&format!("[matrix]\ncompiler = [\"gcc-12\"]\n{STEP}")).file("sub/dir/.keep", "");
    let out = t.command().current_dir(t.path().join("sub/dir")).args(["plan", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(slugs(&plan), ["gcc-12"]);
    assert!(t.path().join(".gridrun/cache/toolchains.json").is_file(), "the state folder sits beside the matrix file");

    let empty = Test::new().args(["plan"]);
    let out = empty.output();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no gridrun.toml here or in a parent folder"));
}

#[test]
fn toolchains_lists_compilers_and_their_standards() {
    let t = Test::new().args(["toolchains", "--json"]);
    let value = t.json();
    let compilers = value["compilers"].as_array().unwrap();
    let gcc12 = compilers.iter().find(|c| c["name"] == "gcc-12").expect("gcc-12 found on PATH");
    assert!(gcc12["version"].as_str().unwrap().starts_with("12."));
    assert_eq!(gcc12["standards"]["c++17"], true);
    let clang14 = compilers.iter().find(|c| c["name"] == "clang-14").expect("clang-14 found");
    assert_eq!(clang14["standards"]["c++23"], false);
    assert_eq!(clang14["standards"]["c++20"], true);
    let table = Test::new().args(["toolchains"]).status(0);
    assert!(table.lines().any(|l| l.contains("clang-19") && l.contains("23")), "{table}");
}

/// `init` writes a starter file from the host's compilers that plans and runs for real (the
/// cmake preset builds and tests the example project), and never overwrites without --force.
#[test]
fn init_writes_a_starter_that_plans_and_runs() {
    let t = Test::new();
    for entry in walkdir::WalkDir::new(repo().join("examples")).into_iter().flatten() {
        let relative = entry.path().strip_prefix(repo().join("examples")).unwrap();
        if relative.starts_with(".gridrun") || relative == std::path::Path::new("gridrun.toml") {
            continue;
        }
        let target = t.path().join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let said = t.ok(&["init"]);
    assert!(said.starts_with("wrote "), "{said}");
    let text = std::fs::read_to_string(t.path().join("gridrun.toml")).unwrap();
    assert!(
        text.contains("preset = \"cmake\"") && text.contains("\"gcc-12\"") && text.contains("\"clang-19\""),
        "{text}"
    );
    let plan = t.ok_json(&["plan", "--format", "json"]);
    assert!(plan["jobs"].as_array().unwrap().iter().any(|j| j["state"] == "ready"));
    let out = t.gridrun(&["run", "-f", "compiler=gcc-12", "-f", "cxx_standard=20", "-f", "build_type=Release"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed, 0 failed"));
    assert_eq!(
        t.fails(&["init"]),
        format!("error: {} exists; pass --force to replace it", t.path().join("gridrun.toml").display())
    );
    t.ok(&["init", "--force"]);
}

/// Output cut short by its reader (`gridrun toolchains | head -1`) ends the command quietly: no
/// panic, exit 0. The reader here is gone before gridrun writes, so every write fails.
#[test]
fn a_reader_that_went_away_is_not_an_error() {
    let t = Test::new().matrix(&format!("[matrix]\nn = [1, 2]\n{STEP}"));
    for args in
        [&["toolchains"][..], &["toolchains", "--json"], &["completions", "bash"], &["plan"], &["init", "--help"]]
    {
        let (read, write) = std::io::pipe().unwrap();
        drop(read);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("gridrun"))
            .current_dir(t.path())
            .env("NO_COLOR", "1")
            .args(args)
            .stdout(std::process::Stdio::from(write))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "gridrun {args:?} panicked: {stderr}");
        assert_eq!(out.status.code(), Some(0), "gridrun {args:?}: {stderr}");
    }
}

/// In a folder of matrix files, `-f` picks the projects that have the key and leaves the others
/// out; a key no project has is still an error.
#[test]
fn filters_over_a_folder_leave_out_projects_without_the_key() {
    let matrices = repo().join("matrices");
    let t = Test::new();
    let plan = t.ok_json(&["plan", matrices.to_str().unwrap(), "--format", "json", "-f", "cxx_standard=20"]);
    let projects = plan["projects"].as_array().unwrap();
    let names: Vec<&str> = projects.iter().map(|p| p["project"].as_str().unwrap()).collect();
    assert!(names.contains(&"heimdall"), "{names:?}");
    assert!(!names.contains(&"linux") && !names.contains(&"cjson"), "{names:?}");
    for project in projects {
        for job in project["jobs"].as_array().unwrap() {
            assert_eq!(
                job["cell"]["cxx_standard"].as_str().or(job["cell"]["cxx_standard"].as_i64().map(|_| "20")),
                Some("20"),
                "{job}"
            );
        }
    }
    let out = t.gridrun(&["plan", matrices.to_str().unwrap(), "-f", "no_such_key=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_key"), "{}", String::from_utf8_lossy(&out.stderr));
}
