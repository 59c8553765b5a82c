//! Which axis values a run's failures follow: "fails exactly when compiler = clang-19", "fails
//! when cxx_standard ≥ 20 and build_type = Release", with how many cells each covers and the
//! cells that break the rule.
//!
//! The cells that reached a verdict (passed or failed) are the evidence; a condition is one or
//! two predicates on the cell's values (`key = value`, and for numeric values `key ≥ value` or
//! `key ≤ value`). The simplest condition matched by exactly the failed cells wins; failing that,
//! conditions no passing cell matches are chosen greedily until they cover the failures; failing
//! that, the condition that explains most with fewest exceptions is offered as "mostly".

use std::fmt;

use super::{JobKind, JobRecord, JobStatus};

/// One predicate on a cell's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    /// `key = value`.
    Is(String, String),
    /// `key ≥ value` (numeric values).
    AtLeast(String, String),
    /// `key ≤ value` (numeric values).
    AtMost(String, String),
}

impl Predicate {
    /// Ordered predicates say a little less than equalities: they lose ties.
    fn weight(&self) -> u8 {
        match self {
            Self::Is(..) => 0,
            Self::AtLeast(..) | Self::AtMost(..) => 1,
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Is(k, v) => write!(f, "{k} = {v}"),
            Self::AtLeast(k, v) => write!(f, "{k} ≥ {v}"),
            Self::AtMost(k, v) => write!(f, "{k} ≤ {v}"),
        }
    }
}

/// A condition and the cells it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// Every predicate holds (one or two).
    pub when: Vec<Predicate>,
    /// Failed cells it matches.
    pub failed: usize,
    /// Cells (that reached a verdict) it matches.
    pub cells: usize,
    /// Matching cells that passed, by slug.
    pub exceptions: Vec<String>,
}

/// What the failures of a run follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// Exactly the cells matching this condition failed.
    Exactly(Pattern),
    /// These conditions (no passing cell matches any) cover the failures but `outside`.
    Covered {
        /// The conditions, the largest first.
        patterns: Vec<Pattern>,
        /// Failed cells none of them matches.
        outside: Vec<String>,
    },
    /// No clean rule: the condition that explains the most, with its exceptions.
    Mostly(Pattern),
}

/// A cell as the analysis sees it: its values as text.
struct Cell<'a> {
    slug: &'a str,
    values: Vec<(&'a str, String)>,
    failed: bool,
}

impl Cell<'_> {
    fn value(&self, key: &str) -> Option<&str> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// A cell value as text, as the matrix file's canonical text has it.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number(text: Option<&str>) -> Option<f64> {
    text?.trim_start_matches("c++").trim_start_matches("gnu++").parse().ok()
}

/// At most this many cells are analysed: two predicates over every value of every key stay
/// cheap well past any real grid.
const MAX_CELLS: usize = 20_000;

/// What the failures among `jobs` follow, where there is something to say: at least two cells
/// failed, at least one passed, and some condition explains at least two failures.
pub fn explain(jobs: &[JobRecord]) -> Option<Explanation> {
    let cells: Vec<Cell<'_>> = jobs
        .iter()
        .filter(|j| j.kind == JobKind::Cell && !j.allow_failure)
        .filter(|j| matches!(j.status, JobStatus::Passed | JobStatus::Reused) || j.status.is_failure())
        .take(MAX_CELLS)
        .map(|j| Cell {
            slug: &j.slug,
            values: j
                .cell
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.as_str(), text(v))).collect())
                .unwrap_or_default(),
            failed: j.status.is_failure(),
        })
        .collect();
    let failed = cells.iter().filter(|c| c.failed).count();
    if failed < 2 || failed == cells.len() {
        return None;
    }
    // Each predicate as a bit set over the cells: a pair's cells are two sets ANDed, counted
    // without being kept, so even a 10,000-cell run weighs every pair in milliseconds.
    let (predicates, sets) = predicates(&cells);
    let words = cells.len().div_ceil(64);
    let mut failing = vec![0u64; words];
    for (i, _) in cells.iter().enumerate().filter(|(_, c)| c.failed) {
        failing[i / 64] |= 1 << (i % 64);
    }
    let sets = Sets { sets, all: vec![u64::MAX; words] };
    let mut candidates: Vec<Candidate> = Vec::new();
    for i in 0..predicates.len() {
        candidates.push(Candidate::new(vec![i], &sets, &failing));
        for j in i + 1..predicates.len() {
            if key_of(&predicates[i]) != key_of(&predicates[j]) {
                candidates.push(Candidate::new(vec![i, j], &sets, &failing));
            }
        }
    }
    let weight = |c: &Candidate| (c.when.len(), c.when.iter().map(|&i| predicates[i].weight()).sum::<u8>());
    let pattern = |c: &Candidate| {
        let bits = sets.of(&c.when);
        Pattern {
            when: c.when.iter().map(|&i| predicates[i].clone()).collect(),
            failed: c.failed,
            cells: c.cells,
            exceptions: cells
                .iter()
                .enumerate()
                .filter(|(i, cell)| !cell.failed && bits[i / 64] & (1 << (i % 64)) != 0)
                .map(|(_, cell)| cell.slug.to_string())
                .collect(),
        }
    };
    // Simplest first: fewer predicates, equalities before orders, then file order.
    let exact = candidates.iter().filter(|c| c.failed == failed && c.cells == failed).min_by_key(|c| weight(c));
    if let Some(exact) = exact {
        return Some(Explanation::Exactly(pattern(exact)));
    }
    // One condition over every failure, with a few cells that passed all the same (at most a
    // fifth of what it matches, or one of three or more): the rule and its exceptions say more
    // than a patchwork.
    let near = candidates
        .iter()
        .filter(|c| {
            let exceptions = c.cells - c.failed;
            c.failed == failed && (exceptions * 5 <= c.cells || (exceptions == 1 && c.cells >= 3))
        })
        .min_by_key(|c| (c.cells - c.failed, weight(c)));
    if let Some(near) = near {
        return Some(Explanation::Mostly(pattern(near)));
    }
    // Greedy: clean conditions (no passing cell matches), each covering the most failures left.
    let clean: Vec<&Candidate> = candidates.iter().filter(|c| c.cells == c.failed && c.failed >= 2).collect();
    let mut left = failing.clone();
    let mut chosen: Vec<Pattern> = Vec::new();
    loop {
        let best = clean
            .iter()
            .map(|c| (*c, sets.count(&c.when, &left)))
            .filter(|(_, n)| *n >= 2)
            .max_by(|(a, na), (b, nb)| na.cmp(nb).then_with(|| weight(b).cmp(&weight(a))));
        let Some((candidate, _)) = best else { break };
        for (l, b) in left.iter_mut().zip(sets.of(&candidate.when)) {
            *l &= !b;
        }
        chosen.push(pattern(candidate));
    }
    let outside: Vec<String> = cells
        .iter()
        .enumerate()
        .filter(|(i, _)| left[i / 64] & (1 << (i % 64)) != 0)
        .map(|(_, c)| c.slug.to_string())
        .collect();
    if !chosen.is_empty() && outside.len() * 2 <= failed {
        return Some(Explanation::Covered { patterns: chosen, outside });
    }
    // Mostly: most failures explained for fewest exceptions, at least two thirds of what it
    // matches failed.
    candidates
        .iter()
        .filter(|c| c.failed >= 2 && c.failed * 3 >= c.cells * 2 && c.failed * 2 > failed)
        .max_by(|a, b| {
            // failed − 2 × exceptions, kept unsigned: compared as failed + 2·(others') exceptions.
            let exceptions = |c: &Candidate| c.cells - c.failed;
            (a.failed + 2 * exceptions(b)).cmp(&(b.failed + 2 * exceptions(a))).then_with(|| weight(b).cmp(&weight(a)))
        })
        .map(|c| Explanation::Mostly(pattern(c)))
}

/// The predicates' cells as bit sets, and every cell's.
struct Sets {
    sets: Vec<Vec<u64>>,
    all: Vec<u64>,
}

impl Sets {
    /// The cells every predicate of `when` holds for, counted within `mask`.
    fn count(&self, when: &[usize], mask: &[u64]) -> usize {
        match *when {
            [a] => self.sets[a].iter().zip(mask).map(|(x, m)| (x & m).count_ones() as usize).sum(),
            [a, b] => self.sets[a]
                .iter()
                .zip(&self.sets[b])
                .zip(mask)
                .map(|((x, y), m)| (x & y & m).count_ones() as usize)
                .sum(),
            _ => self.of(when).iter().zip(mask).map(|(x, m)| (x & m).count_ones() as usize).sum(),
        }
    }

    /// The cells every predicate of `when` holds for.
    fn of(&self, when: &[usize]) -> Vec<u64> {
        let mut bits = self.all.clone();
        for &i in when {
            for (b, s) in bits.iter_mut().zip(&self.sets[i]) {
                *b &= s;
            }
        }
        bits
    }
}

/// A condition being weighed: its predicates (indices), and what it covers, counted.
struct Candidate {
    when: Vec<usize>,
    failed: usize,
    cells: usize,
}

impl Candidate {
    fn new(when: Vec<usize>, sets: &Sets, failing: &[u64]) -> Self {
        let failed = sets.count(&when, failing);
        let cells = sets.count(&when, &sets.all);
        Self { when, failed, cells }
    }
}

fn key_of(p: &Predicate) -> &str {
    match p {
        Predicate::Is(k, _) | Predicate::AtLeast(k, _) | Predicate::AtMost(k, _) => k,
    }
}

/// A key with more values than this is an identifier, not an axis a failure could follow.
const MAX_VALUES: usize = 64;

/// Every `key = value` the cells have, and `≥`/`≤` for keys whose values are all numbers, in
/// the cells' key order; with each predicate's cells as a bit set (one pass over the cells per
/// key, the thresholds' sets ORed from the values').
fn predicates(cells: &[Cell<'_>]) -> (Vec<Predicate>, Vec<Vec<u64>>) {
    let words = cells.len().div_ceil(64);
    let mut keys: Vec<&str> = Vec::new();
    for cell in cells {
        for (k, _) in &cell.values {
            if !keys.contains(k) {
                keys.push(*k);
            }
        }
    }
    let mut out = Vec::new();
    let mut sets = Vec::new();
    for key in keys {
        // Each value of the key and its cells, in order of first appearance.
        let mut values: Vec<(&str, Vec<u64>)> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, cell) in cells.iter().enumerate() {
            let Some(v) = cell.value(key) else { continue };
            let at = *index.entry(v).or_insert_with(|| {
                values.push((v, vec![0u64; words]));
                values.len() - 1
            });
            values[at].1[i / 64] |= 1 << (i % 64);
            if values.len() > MAX_VALUES {
                break;
            }
        }
        if values.len() < 2 || values.len() > MAX_VALUES {
            continue;
        }
        let numeric = values.len() > 2 && values.iter().all(|(v, _)| number(Some(v)).is_some());
        if numeric {
            let mut sorted: Vec<&(&str, Vec<u64>)> = values.iter().collect();
            sorted
                .sort_by(|a, b| number(Some(a.0)).partial_cmp(&number(Some(b.0))).unwrap_or(std::cmp::Ordering::Equal));
            let union = |part: &[&(&str, Vec<u64>)]| {
                let mut bits = vec![0u64; words];
                for (_, set) in part {
                    for (b, s) in bits.iter_mut().zip(set) {
                        *b |= s;
                    }
                }
                bits
            };
            // Thresholds strictly inside the range: the ends are equalities already.
            let mut ordered = Vec::new();
            for at in 1..sorted.len() - 1 {
                let v = sorted[at].0;
                ordered.push((Predicate::AtLeast(key.to_string(), v.to_string()), union(&sorted[at..])));
                ordered.push((Predicate::AtMost(key.to_string(), v.to_string()), union(&sorted[..=at])));
            }
            for (v, set) in values {
                out.push(Predicate::Is(key.to_string(), v.to_string()));
                sets.push(set);
            }
            for (p, set) in ordered {
                out.push(p);
                sets.push(set);
            }
        } else {
            for (v, set) in values {
                out.push(Predicate::Is(key.to_string(), v.to_string()));
                sets.push(set);
            }
        }
    }
    (out, sets)
}

fn condition(p: &Pattern) -> String {
    p.when.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ")
}

/// A few slugs, then how many more.
fn some(slugs: &[String]) -> String {
    if slugs.len() > 4 {
        format!("{} and {} more", slugs[..4].join(", "), slugs.len() - 4)
    } else {
        slugs.join(", ")
    }
}

impl fmt::Display for Explanation {
    /// One line: `failures follow compiler = clang-19 exactly (6 cells)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(p) => {
                write!(f, "failures follow {} exactly: all {} of its cells failed, no other", condition(p), p.cells)
            }
            Self::Covered { patterns, outside } => {
                let parts: Vec<String> =
                    patterns.iter().map(|p| format!("{} ({} cells)", condition(p), p.failed)).collect();
                write!(f, "failures follow {}", parts.join("; "))?;
                if !outside.is_empty() {
                    write!(f, "; also failed: {}", some(outside))?;
                }
                Ok(())
            }
            Self::Mostly(p) => write!(
                f,
                "failures mostly follow {}: {} of its {} cells failed; passed: {}",
                condition(p),
                p.failed,
                p.cells,
                some(&p.exceptions)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid of every combination of `axes`; a cell fails where `fails` says so.
    fn grid(axes: &[(&str, &[&str])], fails: impl Fn(&[&str]) -> bool) -> Vec<JobRecord> {
        let mut combos: Vec<Vec<&str>> = vec![Vec::new()];
        for (_, values) in axes {
            combos = combos.iter().flat_map(|c| values.iter().map(move |v| [c.clone(), vec![*v]].concat())).collect();
        }
        combos
            .into_iter()
            .map(|values| {
                let cell: serde_json::Map<String, serde_json::Value> = axes
                    .iter()
                    .zip(&values)
                    .map(|((k, _), v)| ((*k).to_string(), serde_json::Value::from(*v)))
                    .collect();
                JobRecord {
                    slug: values.join("-"),
                    cell: cell.into(),
                    status: if fails(&values) { JobStatus::Failed } else { JobStatus::Passed },
                    ..JobRecord::default()
                }
            })
            .collect()
    }

    const AXES: &[(&str, &[&str])] = &[
        ("compiler", &["gcc-12", "clang-16", "clang-19"]),
        ("cxx_standard", &["11", "14", "17", "20", "23"]),
        ("build_type", &["Debug", "Release"]),
    ];

    #[test]
    fn one_compiler_failing_is_said_exactly() {
        let jobs = grid(AXES, |v| v[0] == "clang-19");
        let found = explain(&jobs).unwrap();
        assert_eq!(
            found.to_string(),
            "failures follow compiler = clang-19 exactly: all 10 of its cells failed, no other"
        );
    }

    #[test]
    fn a_standard_threshold_and_a_build_type_together() {
        let jobs = grid(AXES, |v| v[1].parse::<u32>().unwrap() >= 20 && v[2] == "Release");
        assert_eq!(
            explain(&jobs).unwrap().to_string(),
            "failures follow cxx_standard ≥ 20 and build_type = Release exactly: all 6 of its cells failed, no other"
        );
    }

    #[test]
    fn two_causes_are_both_named() {
        // clang-16 fails in C++11; gcc-12 fails in Release: no single condition, two clean ones.
        let jobs = grid(AXES, |v| (v[0] == "clang-16" && v[1] == "11") || (v[0] == "gcc-12" && v[2] == "Release"));
        assert_eq!(
            explain(&jobs).unwrap().to_string(),
            "failures follow compiler = gcc-12 and build_type = Release (5 cells); compiler = clang-16 and cxx_standard = 11 (2 cells)"
        );
    }

    #[test]
    fn a_rule_with_an_exception_is_mostly() {
        let jobs = grid(AXES, |v| v[0] == "clang-19" && !(v[1] == "11" && v[2] == "Debug"));
        assert_eq!(
            explain(&jobs).unwrap().to_string(),
            "failures mostly follow compiler = clang-19: 9 of its 10 cells failed; passed: clang-19-11-Debug"
        );
    }

    #[test]
    fn scattered_failures_and_trivial_runs_say_nothing() {
        let scattered = ["gcc-12-11-Debug", "clang-16-17-Release", "clang-19-23-Debug"];
        let jobs = grid(AXES, |v| scattered.contains(&v.join("-").as_str()));
        assert_eq!(explain(&jobs), None);
        assert_eq!(explain(&grid(AXES, |_| true)), None, "all failed: nothing tells them apart");
        assert_eq!(explain(&grid(AXES, |v| v.join("-") == "gcc-12-11-Debug")), None, "one failure is its own cell");
    }

    #[test]
    fn a_noisy_rule_is_offered_as_mostly_with_its_exceptions() {
        // clang-19 fails except in three scattered cells: no clean cover of most failures.
        let passes = ["clang-19-11-Debug", "clang-19-17-Release", "clang-19-23-Debug"];
        let jobs = grid(AXES, |v| v[0] == "clang-19" && !passes.contains(&v.join("-").as_str()));
        let found = explain(&jobs).unwrap();
        assert!(matches!(found, Explanation::Mostly(_) | Explanation::Covered { .. }), "{found}");
        let text = found.to_string();
        assert!(text.contains("compiler = clang-19"), "{text}");
    }
}
