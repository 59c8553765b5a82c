//! What gridrun tells GitHub Actions: workflow commands that put error diagnostics on a pull
//! request's lines, escaped so no compiler message can issue a command of its own.

use std::collections::HashMap;

use crate::outcome::RunReport;

/// GitHub workflow commands that annotate the lines error diagnostics point at:
/// `::error file=F,line=L,col=C,title=SLUG::message`, one per distinct diagnostic however many
/// cells have it (the title names the first cell and how many more).
pub fn annotations(run: &RunReport) -> String {
    type Key<'k> = (Option<&'k str>, Option<u32>, Option<u32>, &'k str);
    let mut order: Vec<(Key<'_>, &str, usize)> = Vec::new();
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    for job in &run.jobs {
        let mut seen_here: Vec<usize> = Vec::new();
        for d in job.diagnostics.iter().filter(|d| d.severity.is_error()) {
            let key = (d.file.as_deref(), d.line, d.col, d.message.as_str());
            let g = *index.entry(key).or_insert_with(|| {
                order.push((key, job.slug.as_str(), 0));
                order.len() - 1
            });
            if !seen_here.contains(&g) {
                seen_here.push(g);
                order[g].2 += 1;
            }
        }
    }
    let mut out = String::new();
    for ((file, line, col, message), slug, cells) in order {
        let title = match cells {
            1 => slug.to_string(),
            n => format!("{slug} and {} more cells", n - 1),
        };
        let mut props = Vec::new();
        if let Some(file) = file {
            props.push(format!("file={}", property(file)));
            props.extend(line.map(|l| format!("line={l}")));
            props.extend(col.map(|c| format!("col={c}")));
        }
        props.push(format!("title={}", property(&title)));
        out.push_str(&format!("::error {}::{}\n", props.join(","), data(message)));
    }
    out
}

/// A workflow command's message: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: as [`data`], and `:` and `,` too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Diagnostic, Severity};
    use crate::report::testdata::{error, job, run};

    #[test]
    fn annotations_are_escaped_and_said_once_across_cells() {
        let mut a = job("gcc-12-17", &[("compiler", "gcc-12"), ("cxx_standard", "17")], "failed");
        let mut b = job("gcc-12-20", &[("compiler", "gcc-12"), ("cxx_standard", "20")], "failed");
        let shared = error("src/a,b:c.cpp", 3, "100% wrong\r\nreally");
        a.diagnostics = vec![shared.clone(), shared.clone()];
        b.diagnostics = vec![shared, Diagnostic { severity: Severity::Warning, ..error("w.cpp", 1, "w") }];
        let text = annotations(&run(1, vec![a, b]));
        assert_eq!(
            text,
            "::error file=src/a%2Cb%3Ac.cpp,line=3,col=1,title=gcc-12-17 and 1 more cells::100%25 wrong%0D%0Areally\n"
        );
    }

    #[test]
    fn an_annotation_without_a_place_has_only_a_title() {
        let mut a = job("x", &[("k", "x")], "failed");
        a.diagnostics = vec![Diagnostic { file: None, line: None, col: None, ..error("", 0, "undefined reference") }];
        assert_eq!(annotations(&run(1, vec![a])), "::error title=x::undefined reference\n");
    }
}
