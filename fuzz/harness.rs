//! What each fuzz target does with its input, shared by the `cargo fuzz` targets in
//! `fuzz_targets/` and by `tests/fuzz_corpus.rs`, which replays every checked-in input on each
//! `cargo test`. Each function must return for any input, never panic, and stay bounded.

use std::path::Path;

use gridrun::matrix::CellFilter;
use gridrun::plan::{Plan, SourceState};
use gridrun::toolchain::Host;

/// A matrix file's text: loaded, validated, planned on a host with no compilers, and every job's
/// templates rendered.
pub(crate) fn matrix(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(matrix) = gridrun::config::load_text(Path::new("fuzz.toml"), text.to_string()) else { return };
    let mut machines = gridrun::plan::Machines::local(Host::detect_in(&[], None));
    let state = Path::new("/nonexistent/gridrun-fuzz");
    let source = SourceState { commit: "0123abcd".into(), ..SourceState::default() };
    let Ok(plan) = Plan::build(matrix, source, &mut machines, &CellFilter::default(), state) else { return };
    for job in plan.jobs.iter().take(64) {
        let _ = plan.render(job, 1, "0123abcd");
    }
}

/// A template in a step's `run`, rendered for a small grid: what the matrix target reaches only
/// through a valid file, reached directly.
pub(crate) fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' => vec!['\\', 'n'],
            c if c.is_control() => format!("\\u{:04x}", u32::from(c)).chars().collect(),
            c => vec![c],
        })
        .collect();
    let file = format!(
        "[matrix]\ncompiler = [\"gcc-12\", \"clang-16\"]\n\"odd key\" = [1, true]\n\n[[steps]]\nname = \"x\"\nrun = \"{escaped}\"\n"
    );
    matrix(file.as_bytes());
}

/// A build log: every diagnostic the parser finds, then the failure's classification.
pub(crate) fn diagnostics(data: &[u8]) {
    let found = gridrun::diagnose::parse(data);
    let tail: Vec<String> = String::from_utf8_lossy(data).lines().rev().take(20).map(str::to_string).collect();
    let _ = gridrun::diagnose::classify(gridrun::outcome::StepStatus::Failed, "build", &found, &tail);
}

/// A JUnit XML file's text.
pub(crate) fn junit(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gridrun::testresults::parse_junit(text);
    }
}
