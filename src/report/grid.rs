//! The grid: a run's jobs pivoted by two keys of the matrix (compiler × C++ standard by default),
//! a mark per cell, for the terminal.

use std::collections::HashMap;

use comfy_table::Color;
use indexmap::IndexSet;

use crate::outcome::{JobRecord, JobStatus, Tone};
use crate::term::Style;

/// One job as the grid needs it.
#[derive(Clone, Debug)]
pub struct GridJob {
    /// The cell's keys and values (canonical text), in order.
    pub values: Vec<(String, String)>,
    /// The job's status.
    pub status: JobStatus,
    /// Its word in the grid.
    pub mark: &'static str,
    /// How that word reads.
    pub tone: Tone,
}

impl GridJob {
    /// A recorded job.
    pub fn of(job: &JobRecord) -> Self {
        Self { values: job.values(), status: job.status, mark: job.mark(), tone: job.tone() }
    }

    /// A planned cell (its keys and values only), to check a pivot before anything runs.
    pub fn planned(cell: &crate::matrix::Cell) -> Self {
        let values = cell.iter().map(|(k, v)| (k.to_string(), v.as_str().to_string())).collect();
        Self { values, status: JobStatus::Queued, mark: JobStatus::Queued.mark(false), tone: Tone::Live }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The grid's two keys, `--pivot ROW,COL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pivot {
    /// The key whose values are the rows.
    pub row: String,
    /// The key whose values are the columns.
    pub col: String,
}

impl std::str::FromStr for Pivot {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once(',') {
            Some((row, col)) if !row.trim().is_empty() && !col.trim().is_empty() => {
                Ok(Self { row: row.trim().to_string(), col: col.trim().to_string() })
            }
            _ => Err("write ROW,COL, e.g. compiler,cxx_standard".into()),
        }
    }
}

/// The keys to pivot by: `requested` where both exist, else compiler × cxx_standard, else the
/// first two keys of the matrix.
pub fn pivot_keys(jobs: &[GridJob], requested: Option<(&str, &str)>) -> Result<(String, Option<String>), String> {
    let mut keys: Vec<&str> = Vec::new();
    for job in jobs {
        for (k, _) in &job.values {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    if let Some((row, col)) = requested {
        for key in [row, col] {
            if !keys.contains(&key) {
                return Err(format!("--pivot: `{key}` is not a key of the matrix (keys: {})", keys.join(", ")));
            }
        }
        return Ok((row.to_string(), Some(col.to_string())));
    }
    if keys.contains(&"compiler") && keys.contains(&"cxx_standard") {
        return Ok(("compiler".into(), Some("cxx_standard".into())));
    }
    match keys.as_slice() {
        [] => Ok((String::new(), None)),
        [only] => Ok(((*only).to_string(), None)),
        [first, second, ..] => Ok(((*first).to_string(), Some((*second).to_string()))),
    }
}

/// The colour a tone shows in on a terminal: green for a pass, yellow for a flaky one, red for a
/// failure, grey for the rest.
pub fn color(tone: Tone) -> Color {
    match tone {
        Tone::Flaky => Color::Yellow,
        Tone::Ok => Color::Green,
        Tone::Bad => Color::Red,
        Tone::Live | Tone::None => Color::DarkGrey,
    }
}

/// The grid as a table. Where several jobs share a row and column (other axes differ), the cell
/// counts them by mark: `pass×3 FAIL×1`.
pub fn table(style: Style, jobs: &[GridJob], row_key: &str, col_key: Option<&str>) -> comfy_table::Table {
    // One pass groups the jobs by row and column, in order of first appearance.
    let mut rows: IndexSet<&str> = IndexSet::new();
    let mut cols: IndexSet<&str> = IndexSet::new();
    let mut cells: HashMap<(&str, &str), Vec<&GridJob>> = HashMap::new();
    for job in jobs {
        let r = if row_key.is_empty() { "default" } else { job.get(row_key).unwrap_or("-") };
        let c = col_key.map_or("", |k| job.get(k).unwrap_or("-"));
        rows.insert(r);
        cols.insert(c);
        cells.entry((r, c)).or_default().push(job);
    }
    let mut table = style.table();
    // A matrix without keys has one job; call it what its slug does.
    let mut header = vec![crate::term::cell(if row_key.is_empty() { "job" } else { row_key })];
    header.extend(cols.iter().map(|c| crate::term::cell(if col_key.is_some() { *c } else { "status" })));
    table.set_header(header);
    for r in &rows {
        let mut line = vec![crate::term::cell(r)];
        for c in &cols {
            line.push(match cells.get(&(*r, *c)).map(Vec::as_slice).unwrap_or_default() {
                [] => crate::term::cell(""),
                [one] => crate::term::cell(one.mark).fg(color(one.tone)),
                many => {
                    let mut counts: Vec<(&str, usize, Color)> = Vec::new();
                    for j in many {
                        let m = j.mark;
                        match counts.iter_mut().find(|(k, _, _)| *k == m) {
                            Some(entry) => entry.1 += 1,
                            None => counts.push((m, 1, color(j.tone))),
                        }
                    }
                    let worst = counts.iter().map(|c| c.2).find(|c| *c == Color::Red).unwrap_or(counts[0].2);
                    let text = counts.iter().map(|(m, n, _)| format!("{m}×{n}")).collect::<Vec<_>>().join(" ");
                    crate::term::cell(text).fg(worst)
                }
            });
        }
        table.add_row(line);
    }
    table
}
