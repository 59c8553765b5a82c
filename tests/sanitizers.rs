//! Sanitizers as matrix values: real gcc-12 and clang-19 build real C++ with the flags gridrun
//! adds, the runtime options it sets make a finding fail the job, and the report in the log comes
//! back as a diagnostic of kind `sanitizer` at the project's own line; pairs no runtime allows are
//! `unsupported` with the reason.

mod common;

use common::{have, Test};

const MATRIX: &str = r#"
[project]
name = "sanitized"

[matrix]
compiler = ["gcc-12", "clang-19"]
sanitizer = ["address", "undefined"]

[[matrix.include]]
compiler = "clang-19"
sanitizer = "thread,address"

[[matrix.include]]
compiler = "gcc-12"
sanitizer = "memory"

[[steps]]
name = "build"
run = "{{ cxx }} $CXXFLAGS -O1 -o {{ build_dir }}/bug {{ source }}/{{ 'uaf' if sanitizer == 'address' else 'overflow' }}.cpp $LDFLAGS"

[[steps]]
name = "test"
run = "{{ build_dir }}/bug"
"#;

fn project() -> Test {
    let sources = common::repo().join("tests/fixtures/sanitizers");
    Test::new()
        .matrix(MATRIX)
        .file("uaf.cpp", &std::fs::read_to_string(sources.join("uaf.cpp")).unwrap())
        .file("overflow.cpp", &std::fs::read_to_string(sources.join("overflow.cpp")).unwrap())
}

#[test]
fn a_finding_fails_the_job_as_a_sanitizer_diagnostic_at_the_projects_line() {
    assert!(have("g++-12") && have("clang++-19"), "g++-12 and clang++-19 are installed by .ci/install-deps");
    let t = project();
    let out = t.gridrun(&["run", "-j", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let run = t.ok_json(&["show", "--json"]);
    let jobs = run["jobs"].as_array().unwrap();
    let job = |slug: &str| jobs.iter().find(|j| j["slug"] == slug).unwrap_or_else(|| panic!("no job {slug}"));

    for (slug, file, line, headline) in [
        ("gcc-12-address", "uaf.cpp", 7, "heap-use-after-free"),
        ("clang-19-address", "uaf.cpp", 7, "heap-use-after-free"),
        ("gcc-12-undefined", "overflow.cpp", 6, "signed-integer-overflow"),
        ("clang-19-undefined", "overflow.cpp", 6, "signed-integer-overflow"),
    ] {
        let job = job(slug);
        assert_eq!(job["status"], "failed", "{slug}: {job:#}");
        assert_eq!(job["failure_kind"], "sanitizer", "{slug}: {job:#}");
        let found = &job["diagnostics"][0];
        let message = found["message"].as_str().unwrap();
        assert!(message.starts_with(headline), "{slug}: {message}");
        assert!(found["file"].as_str().unwrap().ends_with(file), "{slug}: {found:#}");
        assert_eq!(found["line"], line, "{slug}: {found:#}");
    }
    // The build passed with the flags; only the test step failed.
    let steps = &job("clang-19-address")["steps"];
    assert_eq!((steps[0]["status"].as_str(), steps[1]["status"].as_str()), (Some("passed"), Some("failed")));

    for (slug, reason) in [
        ("clang-19-thread-address", "the address and thread sanitizers cannot be combined"),
        ("gcc-12-memory", "gcc has no memory sanitizer"),
    ] {
        assert_eq!(job(slug)["status"], "unsupported", "{slug}");
        assert!(job(slug)["reason"].as_str().unwrap_or_default().contains(reason), "{slug}: {:#}", job(slug));
    }
    let plan = t.ok(&["plan"]);
    assert!(plan.contains("the address and thread sanitizers cannot be combined"), "{plan}");
    assert!(plan.contains("gcc has no memory sanitizer (MemorySanitizer is Clang's)"), "{plan}");

    // The closing summary names the finding, not only the log's tail.
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("heap-use-after-free"), "{said}");
}

#[test]
fn flags_are_in_the_environment_and_templates_and_bad_names_are_located() {
    let t = Test::new().matrix(
        r#"
        [matrix]
        compiler = ["gcc-12"]
        sanitizer = ["address,undefined"]

        [[steps]]
        name = "show"
        run = "echo flags={{ sanitizer_flags }} cxx=$CXXFLAGS ld=$LDFLAGS asan=$ASAN_OPTIONS ubsan=$UBSAN_OPTIONS"
        "#,
    );
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(0));
    let log = t.ok(&["log", "latest/gcc-12-address-undefined"]);
    let flags = "-fsanitize=address,undefined -fno-omit-frame-pointer -g -fno-sanitize-recover=undefined";
    assert!(log.contains(&format!("flags={flags} cxx={flags} ld={flags}")), "{log}");
    assert!(log.contains("asan=halt_on_error=1:detect_leaks=1"), "{log}");
    assert!(log.contains("ubsan=halt_on_error=1:print_stacktrace=1"), "{log}");

    let bad = Test::new().matrix("[matrix]\nsanitizer = [\"adress\"]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    let out = bad.gridrun(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let line = String::from_utf8_lossy(&out.stderr).lines().next().unwrap().to_string();
    assert_eq!(line, "error: gridrun.toml:2:14: sanitizer: `adress` is not a sanitizer; did you mean `address`?");
}
