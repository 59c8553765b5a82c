//! `gridrun::diagnose` on what the real tools print: each test writes a small broken project into
//! a temp dir, runs the real compiler, linker, CMake or CTest with stderr joined to stdout (as a
//! step's log holds them), and asserts the exact place, severity and kind of what is found and the
//! failure kind of the step. A tool that is not installed is skipped, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use gridrun::diagnose::{classify, parse};
use gridrun::outcome::{Diagnostic, DiagnosticKind, FailureKind, Severity, StepStatus};

/// Whether `tool` is on PATH. The tests capture real compiler output, so a missing tool is a
/// failure (never a silent skip): `.ci/install-deps` installs every one.
fn have(tool: &str) -> bool {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is not installed: run .ci/install-deps");
    found
}

/// A temp dir holding `files`.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs `script` in `dir` with stderr joined to stdout; returns whether it succeeded and the log.
fn sh(dir: &Path, script: &str) -> (bool, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {script}"))
        .current_dir(dir)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CMAKE_COLOR_DIAGNOSTICS")
        .env_remove("GCC_COLORS")
        .output()
        .expect("sh runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `script`, which must fail, and returns its log.
fn fails(dir: &Path, script: &str) -> String {
    let (ok, log) = sh(dir, script);
    assert!(!ok, "`{script}` should have failed:\n{log}");
    log
}

/// Runs `script`, which must succeed.
fn succeeds(dir: &Path, script: &str) {
    let (ok, log) = sh(dir, script);
    assert!(ok, "`{script}` failed:\n{log}");
}

fn diagnose(log: &str) -> Vec<Diagnostic> {
    parse(log.as_bytes())
}

fn tail(log: &str) -> Vec<String> {
    log.lines().map(str::to_string).collect()
}

/// Severity, kind, file, line and column.
type Place = (Severity, DiagnosticKind, Option<String>, Option<u32>, Option<u32>);

fn place(d: &Diagnostic) -> Place {
    (d.severity, d.kind, d.file.clone(), d.line, d.col)
}

fn at(severity: Severity, kind: DiagnosticKind, file: &str, line: Option<u32>, col: Option<u32>) -> Place {
    (severity, kind, Some(file.to_string()), line, col)
}

const TYPE_ERROR: &str = r#"struct Grid { int size() const { return 0; } };
int main() {
    Grid g;
    int x = "s";
    return g.width() + x;
}
"#;

#[test]
fn type_error_from_gcc_and_clang() {
    use DiagnosticKind::Compile;
    use Severity::Error;
    let dir = project(&[("type.cpp", TYPE_ERROR)]);
    // GCC points at the initializer, Clang at the variable.
    let compilers = [("g++-12", 13), ("g++-11", 13), ("clang++-16", 9), ("clang++-14", 9), ("clang++-19", 9)];
    for (cxx, col) in compilers.into_iter().filter(|(cxx, _)| have(cxx)) {
        let log = fails(dir.path(), &format!("{cxx} -c type.cpp -o type.o"));
        let found = diagnose(&log);
        let places: Vec<_> = found.iter().map(place).collect();
        assert_eq!(
            places,
            [at(Error, Compile, "type.cpp", Some(4), Some(col)), at(Error, Compile, "type.cpp", Some(5), Some(14))],
            "{cxx}:\n{log}"
        );
        let expected = if cxx.starts_with("g++") {
            "‘struct Grid’ has no member named ‘width’"
        } else {
            "no member named 'width' in 'Grid'"
        };
        assert_eq!(found[1].message, expected);
        assert!(found.iter().all(|d| !d.promoted_by_werror()));
        assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Compile);

        let coloured = fails(dir.path(), &format!("{cxx} -fdiagnostics-color=always -c type.cpp -o type.o"));
        assert!(coloured.contains('\x1b'), "{cxx} printed no colour:\n{coloured}");
        assert_eq!(diagnose(&coloured), found, "{cxx} in colour:\n{coloured}");
    }
}

#[test]
fn missing_header_included_from_another_header() {
    let dir = project(&[
        ("hdr.cpp", "#include <cstdio>\n#include \"inc/a.h\"\nint main() { return 0; }\n"),
        ("inc/a.h", "#pragma once\n// a\n#include \"b.h\"\n"),
        ("inc/b.h", "#pragma once\n#include \"nosuch.h\"\n"),
    ]);
    let chains = [
        ("g++-12", "nosuch.h: No such file or directory", ["In file included from inc/a.h:3,", "from hdr.cpp:2:"]),
        (
            "clang++-16",
            "'nosuch.h' file not found",
            ["In file included from hdr.cpp:2:", "In file included from ./inc/a.h:3:"],
        ),
    ];
    for (cxx, message, chain) in chains.into_iter().filter(|(cxx, ..)| have(cxx)) {
        let log = fails(dir.path(), &format!("{cxx} -c hdr.cpp -o hdr.o"));
        let found = diagnose(&log);
        assert_eq!(found.len(), 1, "{cxx}:\n{log}");
        // Clang prints `./inc/b.h`, GCC `inc/b.h`: both come out as `inc/b.h`.
        assert_eq!(place(&found[0]), at(Severity::Fatal, DiagnosticKind::Compile, "inc/b.h", Some(2), Some(10)));
        assert_eq!(found[0].message, message);
        assert_eq!(found[0].context, chain, "{cxx}:\n{log}");
        assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Compile);
    }
}

const UNDEFINED: &str = "namespace gridlib { int missing(); }\nint main() {\n    return gridlib::missing();\n}\n";

#[test]
fn undefined_reference_with_gnu_ld() {
    let dir = project(&[("main.cpp", UNDEFINED)]);
    for cxx in ["g++-12", "clang++-16"].into_iter().filter(|cxx| have(cxx)) {
        let log = fails(dir.path(), &format!("{cxx} -c main.cpp -o main.o && {cxx} main.o -o app"));
        let found = diagnose(&log);
        assert_eq!(
            found.iter().map(place).collect::<Vec<_>>(),
            [at(Severity::Error, DiagnosticKind::Link, "main.cpp", None, None)],
            "{cxx}:\n{log}"
        );
        assert_eq!(found[0].message, "undefined reference to `gridlib::missing()'");
        assert_eq!(found[0].context.len(), 1);
        assert!(found[0].context[0].ends_with("main.o: in function `main':"), "{:?}", found[0].context);
        assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Link);

        // With debug info, ld names the source line.
        let log = fails(dir.path(), &format!("{cxx} -g main.cpp -o app"));
        let found = diagnose(&log);
        let source = dir.path().join("main.cpp").canonicalize().unwrap();
        let file = PathBuf::from(found[0].file.clone().unwrap()).canonicalize().unwrap();
        assert_eq!((found.len(), file, found[0].line), (1, source, Some(3)), "{cxx}:\n{log}");
    }
}

/// How to make clang++ link with LLD: `-fuse-ld=lld` when `ld.lld` is on PATH, else `--ld-path=`
/// to the `ld.lld` that rustup ships with every Rust toolchain; why not, when neither is there.
fn lld_flag() -> Result<String, String> {
    let on_path = Command::new("sh").arg("-c").arg("command -v ld.lld").output().is_ok_and(|o| o.status.success());
    if on_path {
        return Ok("-fuse-ld=lld".into());
    }
    let rustc = |args: &[&str]| {
        let out = Command::new("rustc").args(args).output().map_err(|e| format!("no ld.lld on PATH, no rustc: {e}"))?;
        Ok::<_, String>(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let sysroot = rustc(&["--print", "sysroot"])?;
    let info = rustc(&["-vV"])?;
    let host = info.lines().find_map(|l| l.strip_prefix("host: ")).ok_or("rustc -vV names no host")?;
    let lld = Path::new(&sysroot).join(format!("lib/rustlib/{host}/bin/gcc-ld/ld.lld"));
    if lld.exists() {
        Ok(format!("--ld-path={}", lld.display()))
    } else {
        Err(format!("no ld.lld on PATH and none at {}", lld.display()))
    }
}

#[test]
fn undefined_symbol_with_lld() {
    if !have("clang++-16") {
        return;
    }
    let flag = match lld_flag() {
        Ok(flag) => flag,
        Err(why) => panic!("no lld to link with: {why}"),
    };
    let dir = project(&[("main.cpp", UNDEFINED)]);
    let log = fails(dir.path(), &format!("clang++-16 {flag} -g main.cpp -o app"));
    let found = diagnose(&log);
    assert_eq!(
        found.iter().map(place).collect::<Vec<_>>(),
        [at(Severity::Error, DiagnosticKind::Link, "main.cpp", Some(3), None)],
        "{log}"
    );
    assert_eq!(found[0].message, "undefined symbol: gridlib::missing()");
    assert!(found[0].context[0].starts_with(">>> referenced by main.cpp:3"), "{:?}", found[0].context);
    assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Link);
}

#[test]
fn werror_promotes_an_unused_variable() {
    let dir = project(&[("unused.cpp", "int main() {\n    int x = 3;\n    return 0;\n}\n")]);
    let messages = [
        ("g++-12", "unused variable ‘x’ [-Werror=unused-variable]"),
        ("clang++-16", "unused variable 'x' [-Werror,-Wunused-variable]"),
    ];
    for (cxx, message) in messages.into_iter().filter(|(cxx, _)| have(cxx)) {
        let log = fails(dir.path(), &format!("{cxx} -Wall -Werror -c unused.cpp -o unused.o"));
        let found = diagnose(&log);
        assert_eq!(
            found.iter().map(place).collect::<Vec<_>>(),
            [at(Severity::Error, DiagnosticKind::Compile, "unused.cpp", Some(2), Some(9))],
            "{log}"
        );
        assert_eq!((found[0].message.as_str(), found[0].promoted_by_werror()), (message, true));
        assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Compile);
    }
}

#[test]
fn cmake_unknown_command() {
    if !have("cmake") || !have("ninja") {
        return;
    }
    let lists = "cmake_minimum_required(VERSION 3.16)\nproject(demo CXX)\n\nadd_executable(demo main.cpp)\nadd_libary(grid grid.cpp)\n";
    let dir = project(&[("CMakeLists.txt", lists), ("main.cpp", "int main() {}\n")]);
    let log = fails(dir.path(), "cmake -S . -B build -G Ninja");
    let found = diagnose(&log);
    assert_eq!(
        found.iter().map(place).collect::<Vec<_>>(),
        [at(Severity::Error, DiagnosticKind::Configure, "CMakeLists.txt", Some(5), None)],
        "{log}"
    );
    assert_eq!(found[0].message, "Unknown CMake command \"add_libary\".");
    assert_eq!(classify(StepStatus::Failed, "configure", &found, &tail(&log)), FailureKind::Configure);
}

#[test]
fn compile_error_inside_a_cmake_ninja_build() {
    if !have("cmake") || !have("ninja") || !have("g++-12") {
        return;
    }
    let lists = "cmake_minimum_required(VERSION 3.16)\nproject(demo CXX)\nadd_executable(demo main.cpp)\n";
    let dir = project(&[("CMakeLists.txt", lists), ("main.cpp", "int main() { int x = \"s\"; return x; }\n")]);
    succeeds(dir.path(), "cmake -S . -B build -G Ninja -DCMAKE_CXX_COMPILER=g++-12");
    let log = fails(dir.path(), "cmake --build build");
    let found = diagnose(&log);
    assert_eq!(found.len(), 1, "{log}");
    let file = PathBuf::from(found[0].file.clone().unwrap()).canonicalize().unwrap();
    assert_eq!(file, dir.path().join("main.cpp").canonicalize().unwrap());
    assert_eq!((found[0].severity, found[0].line, found[0].col), (Severity::Error, Some(1), Some(22)));
    assert_eq!(found[0].context.len(), 1, "the `In function` line: {:?}", found[0].context);
    assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Compile);
}

#[test]
fn ctest_with_one_failing_test() {
    if !have("cmake") || !have("ninja") || !have("ctest") {
        return;
    }
    let lists = "cmake_minimum_required(VERSION 3.16)\nproject(demo CXX)\nenable_testing()\n\
                 add_executable(ok ok.cpp)\nadd_executable(bad bad.cpp)\n\
                 add_test(NAME grid_ok COMMAND ok)\nadd_test(NAME grid COMMAND bad)\n";
    let dir = project(&[
        ("CMakeLists.txt", lists),
        ("ok.cpp", "int main() { return 0; }\n"),
        ("bad.cpp", "#include <cstdio>\nint main() { std::puts(\"grid: expected 3, got 4\"); return 1; }\n"),
    ]);
    succeeds(dir.path(), "cmake -S . -B build -G Ninja && cmake --build build");
    let log = fails(dir.path(), "cd build && ctest --output-on-failure");
    let found = diagnose(&log);
    let tests: Vec<_> = found.iter().map(|d| (d.severity, d.kind, d.file.clone(), d.message.as_str())).collect();
    assert_eq!(tests, [(Severity::Error, DiagnosticKind::Test, None, "test grid failed (Failed)")], "{log}");
    assert_eq!(classify(StepStatus::Failed, "test", &found, &tail(&log)), FailureKind::Test);
}

#[test]
fn cmake_with_a_compiler_that_does_not_exist() {
    if !have("cmake") || !have("ninja") {
        return;
    }
    let dir = project(&[("CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(demo CXX)\n")]);
    let log = fails(dir.path(), "cmake -S . -B build -G Ninja -DCMAKE_CXX_COMPILER=g++-99");
    let found = diagnose(&log);
    assert_eq!(
        found.iter().map(place).collect::<Vec<_>>(),
        [at(Severity::Error, DiagnosticKind::Configure, "CMakeLists.txt", Some(2), None)],
        "{log}"
    );
    assert!(found[0].message.contains("g++-99"), "{}", found[0].message);
    assert_eq!(classify(StepStatus::Failed, "configure", &found, &tail(&log)), FailureKind::Toolchain);

    // The same compiler named by CXX fails inside CMake's own module, with a call stack.
    let log = fails(dir.path(), "rm -rf build && CXX=g++-99 cmake -S . -B build -G Ninja");
    let found = diagnose(&log);
    assert!(found.iter().all(|d| d.kind == DiagnosticKind::Configure), "{log}");
    assert_eq!(classify(StepStatus::Failed, "configure", &found, &tail(&log)), FailureKind::Toolchain);
}

#[test]
fn ninja_running_a_compiler_that_does_not_exist() {
    if !have("ninja") {
        return;
    }
    let ninja = "rule cxx\n  command = g++-99 -c $in -o $out\nbuild main.o: cxx main.cpp\n";
    let dir = project(&[("build.ninja", ninja), ("main.cpp", "int main() {}\n")]);
    let log = fails(dir.path(), "ninja");
    let found = diagnose(&log);
    assert_eq!(found, [], "{log}");
    assert_eq!(classify(StepStatus::Failed, "build", &found, &tail(&log)), FailureKind::Toolchain);
}
