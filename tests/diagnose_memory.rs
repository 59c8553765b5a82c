//! `diagnose::parse_file` streams: a 50 MB log with its diagnostics at the end costs this process
//! a few megabytes at most. Alone in its own test binary, so that no other test's allocations
//! move the peak it measures.

#![cfg(target_os = "linux")]

use std::io::Write;

use gridrun::diagnose::parse_file;
use gridrun::outcome::DiagnosticKind;

/// This process's peak resident set size so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn a_50_mb_log_parses_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build.log");
    let mut log = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let noise = "[12/345] Building CXX object CMakeFiles/grid.dir/src/cell.cpp.o\n";
    for _ in 0..50_000_000 / noise.len() {
        log.write_all(noise.as_bytes()).unwrap();
    }
    // One line longer than the whole budget, which must be cut, not held.
    let chunk = vec![b'x'; 64 << 10];
    for _ in 0..(32 << 20) / chunk.len() {
        log.write_all(&chunk).unwrap();
    }
    log.write_all(b"\n/usr/bin/ld: main.o: in function `main':\n").unwrap();
    log.write_all(b"main.cpp:(.text+0x5): undefined reference to `gridlib::missing()'\n").unwrap();
    log.write_all(b"collect2: error: ld returned 1 exit status\n").unwrap();
    drop(log.into_inner().unwrap());
    assert!(std::fs::metadata(&path).unwrap().len() > 80_000_000);

    let before = peak_rss();
    let found = parse_file(&path).unwrap();
    let grown = peak_rss().saturating_sub(before);

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, DiagnosticKind::Link);
    assert_eq!(found[0].message, "undefined reference to `gridlib::missing()'");
    assert!(grown < 8 << 20, "parsing raised the peak RSS by {grown} bytes");
}
