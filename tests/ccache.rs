//! `[cache] ccache = true` with real compilers and a real CMake project: the first run fills the
//! cache (misses, no hits), a second run in fresh build folders is answered from it, each
//! compiler and version keeps its own cache folder, `show --json` and `show` carry the figures,
//! `stats` sums them, and `gc` trims the caches.

mod common;

use common::Test;

/// Two compilers, four sources: small, so the test stays quick, yet enough calls to count.
const MATRIX: &str = r#"
[project]
name = "cached"

[matrix]
compiler = ["gcc-12", "clang-19"]

[limits]
cpus = 1
jobs = 2

[cache]
ccache = true
max_size = "64MiB"

[[steps]]
name = "configure"
run = "cmake -S {{ source }} -B {{ build_dir }} -DCMAKE_C_COMPILER={{ cc }} -DCMAKE_CXX_COMPILER={{ cxx }}"

[[steps]]
name = "build"
run = "cmake --build {{ build_dir }}"

[artifacts]
retention_days = 30
"#;

const CMAKE: &str =
    "cmake_minimum_required(VERSION 3.17)\nproject(cached CXX)\nadd_executable(app main.cpp a.cpp b.cpp c.cpp)\n";

fn project() -> Test {
    let mut t = Test::new().matrix(MATRIX).file("CMakeLists.txt", CMAKE);
    t = t.file("main.cpp", "int a(); int b(); int c();\nint main() { return a() + b() + c() - 6; }\n");
    for (name, n) in [("a", 1), ("b", 2), ("c", 3)] {
        t = t.file(
            &format!("{name}.cpp"),
            &format!("#include <string>\nint {name}() {{ return std::string(\"{name}\").size() * {n}; }}\n"),
        );
    }
    t
}

/// Runs gridrun, which must pass (its progress lines go to stderr).
fn run(t: &Test, args: &[&str]) {
    let out = t.gridrun(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ccache_of(doc: &serde_json::Value, slug: &str) -> (u64, u64, u64) {
    let job =
        doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == slug).unwrap_or_else(|| panic!("{slug} in {doc}"));
    let c = &job["ccache"];
    (c["hits"].as_u64().unwrap(), c["misses"].as_u64().unwrap(), c["cacheable"].as_u64().unwrap())
}

#[test]
fn a_second_run_in_fresh_build_folders_is_answered_from_each_compilers_own_cache() {
    let t = project();
    run(&t, &["run"]);
    let first = t.ok_json(&["show", "--json"]);
    for slug in ["gcc-12", "clang-19"] {
        // Four sources, and CMake's own check of the compiler: every one a miss.
        let (hits, misses, cacheable) = ccache_of(&first, slug);
        assert_eq!((hits, misses, cacheable), (0, 5, 5), "{slug}, first run: {first}");
    }

    // One folder per compiler and version, each with the max size the file asked for.
    let caches: Vec<String> = std::fs::read_dir(t.state_dir().join("cache/ccache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(caches.len(), 2, "{caches:?}");
    assert!(
        caches.iter().any(|c| c.starts_with("gcc-12")) && caches.iter().any(|c| c.starts_with("clang-19")),
        "{caches:?}"
    );
    for cache in &caches {
        let conf = std::fs::read_to_string(t.state_dir().join("cache/ccache").join(cache).join("ccache.conf")).unwrap();
        assert_eq!(conf, "max_size = 65536Ki\n");
    }

    run(&t, &["run"]);
    let second = t.ok_json(&["show", "--json"]);
    assert_ne!(first["run"], second["run"]);
    for slug in ["gcc-12", "clang-19"] {
        assert_eq!(ccache_of(&second, slug), (5, 0, 5), "{slug}, second run: {second}");
    }

    let shown = t.ok(&["show"]);
    assert!(shown.contains("ccache: 10/10 hits (100 %)"), "{shown}");
    let job = t.ok(&["show", "latest/gcc-12"]);
    assert!(job.contains("5/5 hits (100 %), 0 misses"), "{job}");
    let markdown = t.ok(&["report", "--format", "md"]);
    assert!(markdown.contains("ccache 10/10 hits (100 %)"), "{markdown}");
    let html = t.path().join("report.html");
    t.ok(&["report", "--format", "html", "-o", html.to_str().unwrap()]);
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("<li>ccache 10&#x2f;10 hits (100 %)</li>"), "no ccache line in the HTML report");
    let stats = t.ok(&["stats"]);
    assert!(stats.contains("ccache: 50.0 % hits: 10 of 20 cacheable compiles over 4 jobs"), "{stats}");
    let stats = t.ok_json(&["stats", "--json"]);
    assert_eq!(stats["projects"][0]["ccache"]["hits"], 10, "{stats}");
    // The history page draws the day's hit rate: 10 of 20.
    let page = t.ok(&["report", "--history"]);
    assert!(page.contains("<h2>ccache hit rate per day</h2>") && page.contains("10 of 20 cacheable compiles hit"));
}

#[test]
fn gc_trims_each_cache_and_a_dry_run_only_says_so() {
    let t = project();
    run(&t, &["run", "-f", "compiler=gcc-12"]);
    let dry = t.ok(&["gc", "--dry-run"]);
    assert!(dry.lines().any(|l| l.starts_with("ccache gcc-12") && l.contains("would remove")), "{dry}");
    let cache = std::fs::read_dir(t.state_dir().join("cache/ccache")).unwrap().next().unwrap().unwrap().path();
    let objects = || walkdir_count(&cache);
    let before = objects();
    assert!(before >= 4, "{before} files");
    // Everything in the cache is older than no time at all.
    let out = t.ok(&["gc", "--older-than", "0s"]);
    assert!(out.lines().any(|l| l.starts_with("ccache gcc-12") && l.contains(" -> ")), "{out}");
    assert!(objects() < before, "gc left {} of {before} files", objects());
    // The next run misses again: the cache was emptied, not broken.
    run(&t, &["run", "-f", "compiler=gcc-12"]);
    assert_eq!(ccache_of(&t.ok_json(&["show", "--json"]), "gcc-12"), (0, 5, 5));
}

fn walkdir_count(dir: &std::path::Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.file_name().to_string_lossy().ends_with('R') || e.file_name().to_string_lossy().ends_with('M') {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn the_make_preset_puts_ccache_before_the_compiler() {
    let matrix =
        "preset = \"make\"\n[project]\nname = \"made\"\n[matrix]\ncompiler = [\"gcc-12\"]\n[cache]\nccache = true\n";
    let makefile = "app: main.o util.o\n\t$(CXX) -o $@ main.o util.o\nmain.o: main.cpp\n\t$(CXX) -c main.cpp\nutil.o: util.cpp\n\t$(CXX) -c util.cpp\n";
    let t = Test::new()
        .matrix(matrix)
        .file("Makefile", makefile)
        .file("main.cpp", "int util();\nint main() { return util(); }\n")
        .file("util.cpp", "int util() { return 0; }\n");
    run(&t, &["run"]);
    let doc = t.ok_json(&["show", "--json"]);
    // Two compiles, each a miss; the link is not a cacheable call.
    assert_eq!(ccache_of(&doc, "gcc-12"), (0, 2, 2), "{doc}");
    let build = &doc["jobs"][0]["steps"][0]["command"];
    assert!(build.as_str().unwrap().contains(r#"CXX="ccache g++-12""#), "{build}");
}
