//! What gridrun tells GitHub Actions: workflow commands that put the failed cells' diagnostics
//! on a pull request's lines. GitHub places an annotation only by a path relative to the
//! repository, keeps 10 errors and 10 warnings per step, and reads `::` lines anywhere in the
//! log as commands; so paths are made workspace-relative and normalised, the same line reported
//! by several cells (gcc's words and clang's) is one annotation naming them, errors come before
//! warnings and the most widely failing lines first, what does not fit is counted in a notice,
//! and every property and message is escaped.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::format::Export;
use super::grid::Pivot;
use super::markdown::Markdown;
use crate::outcome::{JobRecord, RunReport};

/// How many error and how many warning annotations GitHub shows per step.
pub const PER_STEP: usize = 10;

/// How many cells an annotation names before it counts the rest.
const NAMED_CELLS: usize = 4;

/// Where diagnostics' paths are made relative to.
#[derive(Clone, Debug)]
pub struct Places {
    /// The repository GitHub shows: `GITHUB_WORKSPACE`, else the git work tree gridrun runs in.
    pub workspace: Option<PathBuf>,
    /// A path source's folder, where its steps run (relative paths in a log are relative to
    /// it); `None` for a git source, whose jobs each build a checkout of their own.
    pub source: Option<PathBuf>,
}

impl Places {
    /// The workspace of this process's environment and `source` (a path source's folder).
    pub fn from_env(source: Option<PathBuf>) -> Self {
        let workspace = std::env::var_os("GITHUB_WORKSPACE")
            .filter(|w| !w.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok().and_then(|cwd| crate::vcs::toplevel(&cwd)));
        Self { workspace: workspace.map(|w| normalize(&w)), source: source.map(|s| normalize(&s)) }
    }

    /// The path GitHub can place, relative to the workspace; `None` for a file outside it (a
    /// system header), or with nowhere to put it relative to.
    pub fn relative(&self, job: &JobRecord, file: &str) -> Option<String> {
        // A git source's job builds a checkout of its own: its files are placed relative to it.
        let base = match &self.source {
            Some(source) => source.clone(),
            None => normalize(&job.work_dir.as_ref()?.join("src")),
        };
        let path = normalize(&base.join(file));
        // Outside a git work tree and GitHub's workspace, the source's folder is the best root.
        let root = match (&self.source, &self.workspace) {
            (Some(_), Some(workspace)) => workspace,
            (Some(_), None) | (None, _) => &base,
        };
        let relative = path.strip_prefix(root).ok()?;
        (!relative.as_os_str().is_empty()).then(|| relative.to_string_lossy().into_owned())
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (the file may be gone, or be a
/// symbolic link whose target GitHub does not know).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// What makes two diagnostics one annotation: error or warning, the file and line (or, for a
/// diagnostic GitHub cannot place, its message).
type NoteKey<'r> = (bool, Option<String>, Option<u32>, Option<&'r str>);

/// One line of the code, and what the cells said of it.
struct Note<'r> {
    error: bool,
    file: Option<String>,
    line: Option<u32>,
    col: Option<u32>,
    /// Each distinct message, and the cells that printed it, in order.
    messages: Vec<(String, Vec<&'r str>)>,
    /// Every cell that reported this line.
    cells: Vec<&'r str>,
}

/// The annotations of a run's failed cells: `::error file=F,line=L,col=C,title=T::message`, at
/// most [`PER_STEP`] errors and as many warnings, then a `::notice` counting the rest. The
/// failures of a cell allowed to fail are warnings.
pub fn annotations(run: &RunReport, places: &Places) -> String {
    let mut notes: Vec<Note<'_>> = Vec::new();
    let mut index: HashMap<NoteKey<'_>, usize> = HashMap::new();
    for job in &run.jobs {
        for d in &job.diagnostics {
            let error = d.severity.is_error() && !job.allow_failure;
            let file = d.file.as_deref().and_then(|f| places.relative(job, f));
            // A line is one note whatever each compiler called it; a complaint about no file in
            // particular is one note per message.
            let no_place = file.is_none().then_some(d.message.as_str());
            let key = (error, file.clone(), d.line.filter(|_| file.is_some()), no_place);
            let at = *index.entry(key).or_insert_with(|| {
                notes.push(Note { error, file, line: d.line, col: d.col, messages: Vec::new(), cells: Vec::new() });
                notes.len() - 1
            });
            let note = &mut notes[at];
            if note.file.is_none() {
                note.line = None;
                note.col = None;
            }
            let message = if note.file.is_none() && d.file.is_some() {
                // Outside the workspace GitHub cannot place it: the place goes into the text.
                format!("{}: {}", d.place(), d.message)
            } else {
                d.message.clone()
            };
            match note.messages.iter_mut().find(|(m, _)| *m == message) {
                Some((_, cells)) if !cells.contains(&job.slug.as_str()) => cells.push(&job.slug),
                Some(_) => {}
                None => note.messages.push((message, vec![&job.slug])),
            }
            if !note.cells.contains(&job.slug.as_str()) {
                note.cells.push(&job.slug);
            }
        }
    }
    // Errors first, then the lines most cells failed on; ties keep the order of the log.
    let mut order: Vec<usize> = (0..notes.len()).collect();
    order.sort_by_key(|&i| (!notes[i].error, std::cmp::Reverse(notes[i].cells.len())));
    let mut out = String::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    let (mut more_errors, mut more_warnings) = (0usize, 0usize);
    for i in order {
        let note = &notes[i];
        let (shown, more) =
            if note.error { (&mut errors, &mut more_errors) } else { (&mut warnings, &mut more_warnings) };
        if *shown == PER_STEP {
            *more += 1;
            continue;
        }
        *shown += 1;
        out.push_str(&command(note));
    }
    if more_errors + more_warnings > 0 {
        let mut parts = Vec::new();
        if more_errors > 0 {
            parts.push(format!("{more_errors} more {}", if more_errors == 1 { "error" } else { "errors" }));
        }
        if more_warnings > 0 {
            parts.push(format!("{more_warnings} more {}", if more_warnings == 1 { "warning" } else { "warnings" }));
        }
        out.push_str(&format!(
            "::notice title=gridrun::{} than GitHub shows per step: see the step summary or `gridrun show {}`\n",
            data(&parts.join(" and ")),
            run.run.id
        ));
    }
    out
}

fn command(note: &Note<'_>) -> String {
    let mut props = Vec::new();
    if let Some(file) = &note.file {
        props.push(format!("file={}", property(file)));
        props.extend(note.line.map(|l| format!("line={l}")));
        props.extend(note.col.map(|c| format!("col={c}")));
    }
    props.push(format!("title={}", property(&cells_named(&note.cells))));
    let message = match note.messages.as_slice() {
        [(only, _)] => only.clone(),
        many => many.iter().map(|(m, cells)| format!("{}: {m}", cells_named(cells))).collect::<Vec<_>>().join("\n"),
    };
    let kind = if note.error { "error" } else { "warning" };
    format!("::{kind} {}::{}\n", props.join(","), data(&message))
}

/// `gcc-12-17`, `gcc-12-17, clang-14-17`, `4 cells: a, b, c, d`, `9 cells: a, b, c, d +5`.
fn cells_named(cells: &[&str]) -> String {
    match cells {
        [one] => (*one).to_string(),
        [a, b] => format!("{a}, {b}"),
        many => {
            let named = many.iter().take(NAMED_CELLS).copied().collect::<Vec<_>>().join(", ");
            let rest = many.len().saturating_sub(NAMED_CELLS);
            let more = if rest > 0 { format!(" +{rest}") } else { String::new() };
            format!("{} cells: {named}{more}", many.len())
        }
    }
}

/// A workflow command's message: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: as [`data`], and `:` and `,` too.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub's limit on a step's summary, less a margin for what other steps' lines may add.
const STEP_SUMMARY_LIMIT: u64 = 1024 * 1024 - 16 * 1024;

/// Appends the Markdown report to the step summary at `path`, cut to what GitHub shows (it
/// refuses a summary over 1 MiB, and then shows none of it).
pub fn append_step_summary(path: &Path, report: &RunReport, pivot: Option<&Pivot>) -> crate::error::Result<()> {
    use crate::error::Error;
    let markdown = Markdown { pivot: pivot.cloned() }
        .serialize(report, None)
        .map_err(|e| Error::Usage(format!("cannot write the report: {e}")))?;
    let used = std::fs::metadata(path).map_or(0, |m| m.len());
    let budget = usize::try_from(STEP_SUMMARY_LIMIT.saturating_sub(used)).unwrap_or(0);
    let markdown = super::markdown::within(&markdown, budget);
    let mut file = crate::outfile::append(path).map_err(Error::io("cannot open $GITHUB_STEP_SUMMARY"))?;
    std::io::Write::write_all(&mut file, markdown.as_bytes()).map_err(Error::io("cannot write $GITHUB_STEP_SUMMARY"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Diagnostic, Severity};
    use crate::report::testdata::{error, job, run};

    fn places() -> Places {
        Places { workspace: Some("/w".into()), source: Some("/w/proj".into()) }
    }

    #[test]
    fn paths_are_made_workspace_relative_and_normal() {
        let j = job("x", &[], "failed");
        let p = places();
        assert_eq!(p.relative(&j, "/w/proj/./src/../src/a.cpp").as_deref(), Some("proj/src/a.cpp"));
        assert_eq!(p.relative(&j, "src/a.cpp").as_deref(), Some("proj/src/a.cpp"));
        assert_eq!(p.relative(&j, "../proj/b.h").as_deref(), Some("proj/b.h"));
        assert_eq!(p.relative(&j, "/usr/include/c++/12/vector"), None);
        let git = Places { workspace: Some("/w".into()), source: None };
        let mut j = job("x", &[], "failed");
        j.work_dir = Some("/w/.gridrun/work/3/x".into());
        assert_eq!(git.relative(&j, "/w/.gridrun/work/3/x/src/./lib/a.cpp").as_deref(), Some("lib/a.cpp"));
    }

    #[test]
    fn one_line_reported_by_several_cells_is_one_annotation_naming_them() {
        let mut a = job("gcc-12-17", &[], "failed");
        let mut b = job("gcc-12-20", &[], "failed");
        let mut c = job("clang-14-17", &[], "failed");
        a.diagnostics =
            vec![error("src/a,b:c.cpp", 3, "100% wrong\r\nreally"), error("src/a,b:c.cpp", 3, "100% wrong\r\nreally")];
        b.diagnostics = vec![error("src/a,b:c.cpp", 3, "100% wrong\r\nreally")];
        c.diagnostics = vec![error("src/a,b:c.cpp", 3, "use of undeclared identifier")];
        let text = annotations(&run(1, vec![a, b, c]), &places());
        assert_eq!(
            text,
            "::error file=proj/src/a%2Cb%3Ac.cpp,line=3,col=1,title=3 cells%3A gcc-12-17%2C gcc-12-20%2C clang-14-17::\
             gcc-12-17, gcc-12-20: 100%25 wrong%0D%0Areally%0Aclang-14-17: use of undeclared identifier\n"
        );
    }

    #[test]
    fn errors_come_first_most_cells_first_within_the_caps() {
        let mut jobs = Vec::new();
        for n in 0..3 {
            let mut j = job(&format!("c{n}"), &[], "failed");
            // Line 1 in every cell, line 2 in two, lines 10.. in one; a warning in each.
            j.diagnostics = (0..15).map(|l| error("a.cpp", 10 + l + 100 * n, "e")).collect();
            j.diagnostics.push(error("a.cpp", 1, "shared"));
            if n < 2 {
                j.diagnostics.push(error("a.cpp", 2, "two"));
            }
            j.diagnostics.push(Diagnostic { severity: Severity::Warning, ..error("a.cpp", 5, "w") });
            jobs.push(j);
        }
        let text = annotations(&run(7, jobs), &places());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.iter().filter(|l| l.starts_with("::error ")).count(), PER_STEP);
        assert!(lines[0].starts_with("::error file=proj/a.cpp,line=1,"), "{text}");
        assert!(lines[1].starts_with("::error file=proj/a.cpp,line=2,"), "{text}");
        assert!(lines[PER_STEP].starts_with("::warning file=proj/a.cpp,line=5,col=1,title=3 cells"), "{text}");
        assert_eq!(
            lines[PER_STEP + 1],
            "::notice title=gridrun::37 more errors than GitHub shows per step: see the step summary or `gridrun show 7`"
        );
        assert_eq!(lines.len(), PER_STEP + 2);
    }

    #[test]
    fn a_failure_allowed_is_a_warning_and_no_place_no_file() {
        let mut a = job("x", &[], "failed");
        a.allow_failure = true;
        a.diagnostics = vec![Diagnostic { file: None, line: None, col: None, ..error("", 0, "undefined reference") }];
        let mut b = job("y", &[], "failed");
        b.diagnostics = vec![error("/usr/include/stdio.h", 4, "boom")];
        assert_eq!(
            annotations(&run(1, vec![a, b]), &places()),
            "::error title=y::/usr/include/stdio.h:4:1: boom\n::warning title=x::undefined reference\n"
        );
    }
}
