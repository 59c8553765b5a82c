//! Test results from JUnit XML files (CTest's `--output-junit`, GoogleTest's `--gtest_output=xml`,
//! Catch2's `-r junit`): suite, name, status, duration and message of each test case.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::outcome::{TestCase, TestStatus};

/// At most this many bytes of a failure message are kept.
const MESSAGE_LIMIT: usize = 4096;

/// The largest JUnit file read: far past any real test suite's, short of what a job could make
/// gridrun hold in memory.
pub const MAX_JUNIT_BYTES: u64 = 64 << 20;

/// Reads every test case of a JUnit XML file that `step` wrote, which must be a regular file
/// inside one of `roots` (links followed), of at most [`MAX_JUNIT_BYTES`].
pub fn read_junit(path: &Path, roots: &[&Path], step: &str) -> Result<Vec<TestCase>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let real = std::fs::canonicalize(path).map_err(|e| fail(&e))?;
    let real_roots: Vec<_> = roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect();
    if !real_roots.iter().any(|r| real.starts_with(r)) {
        return Err(fail(&"leads outside the job's folders; not read"));
    }
    let text = crate::boundedread::read_to_string(&real, MAX_JUNIT_BYTES).map_err(|e| fail(&e))?;
    let mut cases = parse_junit(&text).map_err(|e| fail(&e))?;
    for case in &mut cases {
        case.step = step.to_string();
    }
    Ok(cases)
}

/// Parses JUnit XML text.
pub fn parse_junit(text: &str) -> Result<Vec<TestCase>, String> {
    let mut reader = Reader::from_str(text);
    let mut cases = Vec::new();
    let mut suites: Vec<String> = Vec::new();
    let mut current: Option<TestCase> = None;
    // Inside <failure>/<error>/<skipped> of the current case: collect its text as the message.
    let mut in_outcome = false;
    loop {
        match reader.read_event().map_err(|e| format!("invalid JUnit XML at byte {}: {e}", reader.buffer_position()))? {
            Event::Start(tag) => match tag.local_name().as_ref() {
                "testsuite" => suites.push(attr(&tag, "name").unwrap_or_default()),
                "testcase" => current = Some(case(&tag, suites.last())),
                "failure" | "error" | "skipped" => {
                    if let Some(case) = current.as_mut() {
                        outcome(case, &tag);
                        in_outcome = true;
                    }
                }
                _ => {}
            },
            Event::Empty(tag) => match tag.local_name().as_ref() {
                "testcase" => cases.push(case(&tag, suites.last())),
                "failure" | "error" | "skipped" => {
                    if let Some(case) = current.as_mut() {
                        outcome(case, &tag);
                    }
                }
                _ => {}
            },
            Event::Text(text) if in_outcome => {
                if let Some(case) = current.as_mut() {
                    add_text(case, &text.xml10_content(), false);
                }
            }
            Event::GeneralRef(reference) if in_outcome => {
                // `&amp;`, `&#x0A;`: one character of the message, written as a reference.
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => quick_xml::escape::resolve_predefined_entity(&reference.xml10_content()).map(str::to_string),
                };
                if let (Some(case), Some(text)) = (current.as_mut(), resolved) {
                    add_text(case, &text, true);
                }
            }
            Event::CData(data) if in_outcome => {
                if let Some(case) = current.as_mut() {
                    add_text(case, &data.xml10_content(), false);
                }
            }
            Event::End(tag) => match tag.local_name().as_ref() {
                "testsuite" => {
                    suites.pop();
                }
                "testcase" => cases.extend(current.take()),
                "failure" | "error" | "skipped" => in_outcome = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(cases)
}

fn case(tag: &BytesStart<'_>, suite: Option<&String>) -> TestCase {
    let name = attr(tag, "name").unwrap_or_default();
    let suite =
        attr(tag, "classname").filter(|c| !c.is_empty() && *c != name).or_else(|| suite.cloned()).unwrap_or_default();
    let duration_ms = attr(tag, "time")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(|secs| std::time::Duration::from_secs_f64(secs.min(1e9)).as_millis())
        .and_then(|ms| i64::try_from(ms).ok());
    // CTest marks tests it did not run with status="notrun" or "disabled".
    let status = match attr(tag, "status").as_deref() {
        Some("notrun" | "disabled" | "skipped") => TestStatus::Skipped,
        Some("fail" | "failed") => TestStatus::Failed,
        _ => TestStatus::Passed,
    };
    TestCase {
        step: String::new(),
        suite,
        name,
        status,
        duration_ms,
        message: attr(tag, "message").filter(|m| !m.is_empty()),
    }
}

fn outcome(case: &mut TestCase, tag: &BytesStart<'_>) {
    case.status = if tag.local_name().as_ref() == "skipped" { TestStatus::Skipped } else { TestStatus::Failed };
    if let Some(message) = attr(tag, "message").filter(|m| !m.is_empty()) {
        case.message = Some(message);
    }
}

fn attr(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(std::borrow::Cow::into_owned))
}

/// Adds text inside a `<failure>`, `<error>` or `<skipped>` to the case's message: a new line for
/// each block of text, `joined` for a character given as a reference within one.
fn add_text(case: &mut TestCase, text: &str, joined: bool) {
    let text = if joined { text } else { text.trim() };
    if text.is_empty() {
        return;
    }
    let message = case.message.get_or_insert_with(String::new);
    if !message.is_empty() && !joined && !message.ends_with('\n') {
        message.push('\n');
    }
    message.push_str(text);
    truncate(message);
}

fn truncate(message: &mut String) {
    if message.len() > MESSAGE_LIMIT {
        let mut cut = MESSAGE_LIMIT;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CTest 3.25 writes with --output-junit, one passing, one failing, one not run.
    const CTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux-c++" tests="3" failures="1" disabled="1" skipped="0" hostname="" time="0" timestamp="2026-11-23T11:00:00">
    <testcase name="standard" classname="standard" time="0.0023" status="run">
        <system-out>ok</system-out>
    </testcase>
    <testcase name="grid" classname="grid" time="0.51" status="fail">
        <failure message="Failed">grid.cpp:12: check failed: 2 == 3</failure>
        <system-out>grid.cpp:12: check failed</system-out>
    </testcase>
    <testcase name="slow" classname="slow" time="0" status="disabled">
        <skipped message="Disabled"/>
    </testcase>
</testsuite>"#;

    #[test]
    fn reads_ctest_junit() {
        let cases = parse_junit(CTEST).unwrap();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].status, TestStatus::Passed);
        assert_eq!(cases[0].duration_ms, Some(2));
        assert_eq!((cases[1].name.as_str(), cases[1].status), ("grid", TestStatus::Failed));
        assert_eq!(cases[1].message.as_deref(), Some("Failed\ngrid.cpp:12: check failed: 2 == 3"));
        assert_eq!(cases[2].status, TestStatus::Skipped);
    }

    /// GoogleTest's XML: suites nested in <testsuites>, failures with a message attribute.
    #[test]
    fn reads_googletest_xml() {
        let xml = r#"<testsuites tests="2" failures="1"><testsuite name="Math" tests="2">
            <testcase name="Adds" status="run" result="completed" time="0.001" classname="Math"/>
            <testcase name="Divides" status="run" result="completed" time="0.002" classname="Math">
              <failure message="math.cc:7&#x0A;Expected equality" type=""><![CDATA[math.cc:7
Expected equality of these values]]></failure></testcase></testsuite></testsuites>"#;
        let cases = parse_junit(xml).unwrap();
        assert_eq!(
            cases.iter().map(|c| (c.suite.as_str(), c.name.as_str(), c.status)).collect::<Vec<_>>(),
            [("Math", "Adds", TestStatus::Passed), ("Math", "Divides", TestStatus::Failed)]
        );
        assert!(cases[1].message.as_deref().unwrap().contains("Expected equality of these values"));
    }

    #[test]
    fn bad_xml_is_an_error_not_a_panic() {
        assert!(parse_junit("<testsuite><testcase name=\"x\"></testsuite>").is_err());
    }
}
