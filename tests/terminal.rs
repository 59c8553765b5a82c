//! What the terminal shows, pinned exactly (after redacting times, durations, hashes and the
//! test's folder): `plan`'s table, `run`'s closing summary, `status`'s line, `show` of a run and
//! of a job. A change here is a change users see.

mod common;

use common::Test;

/// Two platforms, one this host cannot serve; one case passes, one fails with a diagnostic.
const GRID: &str = r#"
[project]
name = "pinned"

[matrix]
platform = ["linux", "macos"]
case = ["ok", "bad"]

[[steps]]
name = "build"
run = "echo building {{ case }}"

[[steps]]
name = "check"
run = "if [ {{ case }} = bad ]; then echo 'main.cpp:3:5: error: boom' >&2; exit 3; fi"
"#;

#[test]
fn plan_prints_every_cell_with_what_cannot_run_and_why() {
    Test::new()
        .matrix(GRID)
        .args(["plan"])
        .stdout(
            "
            | slug      | platform | case | state       | reason                                                |
            |-----------|----------|------|-------------|-------------------------------------------------------|
            | linux-ok  | linux    | ok   | ready       |                                                       |
            | linux-bad | linux    | bad  | ready       |                                                       |
            | macos-ok  | macos    | ok   | unavailable | platform macos needs a macos host; this host is linux |
            | macos-bad | macos    | bad  | unavailable | platform macos needs a macos host; this host is linux |
            4 jobs: 2 ready, 0 unsupported, 2 unavailable
            ",
        )
        .stderr("")
        .status(0);
}

/// The run's closing summary, then what `status` and `show` say of it.
#[test]
fn a_run_ends_with_its_grid_failures_and_count_and_reads_back_the_same() {
    let t = Test::new().matrix(GRID).args(["run"]).stdout(
        "
        | platform | ok   | bad  |
        |----------|------|------|
        | linux    | pass | FAIL |
        | macos    | n/a  | n/a  |

        --- linux-bad failed in step check: exit 3
            main.cpp:3:5: error: boom
            log: [TMP]/.gridrun/runs/1/linux-bad/check.log

        run 1: 1 passed, 1 failed, 2 unavailable in [DURATION]
        ",
    );
    t.status(1);

    let t = t.again(["status"]).stdout(
        "
        #1  failed  pinned  [WHEN]  [DURATION]  1 passed, 1 failed, 2 unavailable
        ",
    );
    t.status(0);
}

#[test]
fn show_prints_a_run_and_a_job() {
    let t = Test::new().matrix(GRID);
    assert_eq!(t.gridrun(&["run"]).status.code(), Some(1));
    let t = t.again(["show"]).stdout(
            "
            run #1  pinned  failed  started [WHEN]  took [DURATION]

            | platform | ok   | bad  |
            |----------|------|------|
            | linux    | pass | FAIL |
            | macos    | n/a  | n/a  |

            | job       | status      | duration   | peak MiB | failure | reason                                                |
            |-----------|-------------|------------|----------|---------|-------------------------------------------------------|
            | linux-ok  | passed      | [DURATION] | -        |         |                                                       |
            | linux-bad | failed      | [DURATION] | -        | compile | exit 3                                                |
            | macos-ok  | unavailable | -          | -        |         | platform macos needs a macos host; this host is linux |
            | macos-bad | unavailable | -          | -        |         | platform macos needs a macos host; this host is linux |
            ",
    );
    t.status(0);
    t.again(["show", "latest/linux-bad"])
        .stdout(
            "
            job linux-bad of run #1 (pinned): failed
              cell         platform=linux, case=bad
              config hash  [HASH]
              started      [WHEN]
              duration     [DURATION]
              cpu          [DURATION]
              peak RSS     -
              flaky        no
              failure      compile (exit 3)
              work dir     (removed)

            | step  | attempt | status | exit | duration   | log                                       | command                                                                 |
            |-------|---------|--------|------|------------|-------------------------------------------|-------------------------------------------------------------------------|
            | build | 1       | passed | 0    | [DURATION] | [TMP]/.gridrun/runs/1/linux-bad/build.log | echo building bad                                                       |
            | check | 1       | failed | 3    | [DURATION] | [TMP]/.gridrun/runs/1/linux-bad/check.log | if [ bad = bad ]; then echo 'main.cpp:3:5: error: boom' >&2; exit 3; fi |

            diagnostics:
              main.cpp:3:5: error: boom [compile, step check]

            last lines of [TMP]/.gridrun/runs/1/linux-bad/check.log:
                main.cpp:3:5: error: boom
            ",
        )
        .status(0);
}

/// Each line gridrun writes to stderr, progress or note, is one `write(2)`: a CI log that other
/// processes write to as well never gets a line split between them. A datagram socket as stderr
/// keeps every write a message of its own, so the test sees where each write began and ended.
#[test]
fn each_stderr_line_is_one_write() {
    use std::os::unix::net::UnixDatagram;

    let t = Test::new()
        .matrix("[project]\nname = \"lines\"\n[matrix]\nn = [1, 2]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n")
        // Outside a git checkout this reuses nothing and says so in a note, then runs both jobs.
        .args(["run", "--skip-passed"]);
    let (ours, theirs) = UnixDatagram::pair().expect("a socket pair");
    let sentinel = theirs.try_clone().expect("a second handle");
    // The queue holds few datagrams: they are read while gridrun runs, up to the empty one
    // sent once it has exited.
    let reader = std::thread::spawn(move || {
        let mut writes = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = ours.recv(&mut buf).expect("a datagram");
            if n == 0 {
                return writes;
            }
            writes.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    let status = t
        .process()
        .stdout(std::process::Stdio::null())
        .stderr(std::os::fd::OwnedFd::from(theirs))
        .status()
        .expect("gridrun runs");
    assert!(status.success());
    sentinel.send(b"").expect("the end marker");
    let writes = reader.join().expect("the reader");

    assert!(writes.iter().any(|w| w.starts_with("gridrun: --skip-passed")), "a note: {writes:?}");
    assert_eq!(writes.iter().filter(|w| w.contains(" start ") || w.contains(" pass ")).count(), 4, "{writes:?}");
    for write in &writes {
        assert!(write.ends_with('\n') && write.matches('\n').count() == 1, "a write that is not one line: {write:?}");
    }
}
