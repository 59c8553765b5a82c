//! Picking cells: `-f KEY=GLOB[,GLOB…]` keeps cells whose KEY matches a glob, `-f KEY!=GLOB` (or
//! `--exclude KEY=GLOB`) drops them, `--cell SLUG` (repeatable) names cells outright. Globs of one
//! key are OR — within one `-f` and across repeated `-f`s of that key, as nextest and ctest users
//! expect — and different keys are AND.

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::Cell;

/// A filter that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// Not `KEY=GLOB` or `KEY!=GLOB`.
    #[error("filter `{0}` is not KEY=GLOB[,GLOB…] or KEY!=GLOB, e.g. -f compiler='clang-*'")]
    Syntax(String),
    /// The glob does not parse.
    #[error("filter `{filter}`: {source}")]
    Glob {
        /// The filter as given.
        filter: String,
        /// Why the glob is bad.
        source: globset::Error,
    },
    /// The key is in no cell.
    #[error("filter key `{key}` is not a key of the matrix{hint}")]
    UnknownKey {
        /// The key.
        key: String,
        /// "; did you mean …" or a list of the keys.
        hint: String,
    },
    /// `--cell` names no cell.
    #[error("no cell has the slug `{slug}`{hint}")]
    UnknownCell {
        /// The slug.
        slug: String,
        /// "; did you mean …".
        hint: String,
    },
}

/// One key's globs: cells whose value matches one of `keep` (if any are given) and none of `drop`.
#[derive(Debug)]
struct KeyFilter {
    key: String,
    keep: Vec<(String, GlobSet)>,
    drop: Vec<(String, GlobSet)>,
}

/// Filters from the command line, compiled.
#[derive(Debug, Default)]
pub struct CellFilter {
    keys: Vec<KeyFilter>,
    cells: Vec<String>,
}

impl CellFilter {
    /// Compiles `-f` arguments, `--exclude` arguments (`KEY=GLOB`, as `-f KEY!=GLOB`) and
    /// `--cell`s.
    pub fn new(filters: &[String], excludes: &[String], cells: &[String]) -> Result<Self, FilterError> {
        let mut out = Self { keys: Vec::new(), cells: cells.to_vec() };
        let negated = excludes.iter().map(|e| match e.split_once('=') {
            Some((key, globs)) if !key.ends_with('!') => Ok(format!("{key}!={globs}")),
            _ => Err(FilterError::Syntax(e.clone())),
        });
        let all: Vec<String> =
            filters.iter().map(|f| Ok(f.clone())).chain(negated).collect::<Result<_, FilterError>>()?;
        for filter in &all {
            let (key, globs, keep) = match filter.split_once("!=") {
                Some((key, globs)) => (key, globs, false),
                None => {
                    let (key, globs) = filter.split_once('=').ok_or_else(|| FilterError::Syntax(filter.clone()))?;
                    (key, globs, true)
                }
            };
            let key = key.trim();
            if key.is_empty() || globs.is_empty() {
                return Err(FilterError::Syntax(filter.clone()));
            }
            let mut set = GlobSetBuilder::new();
            for glob in globs.split(',') {
                let glob =
                    Glob::new(glob.trim()).map_err(|source| FilterError::Glob { filter: filter.clone(), source })?;
                set.add(glob);
            }
            let set = set.build().map_err(|source| FilterError::Glob { filter: filter.clone(), source })?;
            let index = match out.keys.iter().position(|k| k.key == key) {
                Some(i) => i,
                None => {
                    out.keys.push(KeyFilter { key: key.to_string(), keep: Vec::new(), drop: Vec::new() });
                    out.keys.len() - 1
                }
            };
            let entry = (globs.to_string(), set);
            if keep {
                out.keys[index].keep.push(entry);
            } else {
                out.keys[index].drop.push(entry);
            }
        }
        Ok(out)
    }

    /// Whether any filter is set.
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty() || !self.cells.is_empty()
    }

    /// The slugs `--cell` names: cells picked outright.
    pub fn picked(&self) -> &[String] {
        &self.cells
    }

    /// Checks that every filter key is a key of some cell and every `--cell` names a cell.
    pub fn check(&self, cells: &[Cell], slugs: &[String]) -> Result<(), FilterError> {
        let mut known: Vec<&str> = Vec::new();
        for cell in cells {
            for (key, _) in cell.iter() {
                if !known.contains(&key) {
                    known.push(key);
                }
            }
        }
        for filter in &self.keys {
            if !known.contains(&filter.key.as_str()) {
                let hint = match crate::config::did_you_mean(&filter.key, known.iter().copied()) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => format!("; the keys are: {}", known.join(", ")),
                };
                return Err(FilterError::UnknownKey { key: filter.key.clone(), hint });
            }
        }
        // A file holds the cells it holds: only a file with none of them is not the one meant
        // (in a folder, another file may hold the rest; see `missing_cells`).
        if let Some(slug) = self.cells.first().filter(|_| !self.cells.iter().any(|s| slugs.contains(s))) {
            return Err(unknown_cell(slug, slugs));
        }
        Ok(())
    }

    /// Checks that every `--cell` named a cell of some plan, whose slugs are `found`.
    pub fn missing_cells(&self, found: &[&str]) -> Result<(), FilterError> {
        match self.cells.iter().find(|s| !found.contains(&s.as_str())) {
            Some(slug) => Err(unknown_cell(slug, &found.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())),
            None => Ok(()),
        }
    }

    /// Whether the cell with this slug passes every filter.
    pub fn matches(&self, cell: &Cell, slug: &str) -> bool {
        if !self.cells.is_empty() && !self.cells.iter().any(|wanted| wanted == slug) {
            return false;
        }
        self.keys.iter().all(|f| {
            let Some(value) = cell.text(&f.key) else { return f.keep.is_empty() };
            (f.keep.is_empty() || f.keep.iter().any(|(_, g)| g.is_match(value)))
                && !f.drop.iter().any(|(_, g)| g.is_match(value))
        })
    }

    /// Why no cell passed: for each `-f` whose globs match none of its key's values, the values
    /// there are, the nearest first (`debug` for `Debug`); empty where every glob matches some.
    pub fn why_nothing(&self, cells: &[Cell]) -> Vec<String> {
        let mut said = Vec::new();
        for f in &self.keys {
            let mut values: Vec<&str> = Vec::new();
            for cell in cells {
                if let Some(v) = cell.text(&f.key) {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
            for (globs, set) in &f.keep {
                if values.iter().any(|v| set.is_match(v)) {
                    continue;
                }
                let near = globs
                    .split(',')
                    .find_map(|g| {
                        let lower = g.trim().to_lowercase();
                        values
                            .iter()
                            .find(|v| v.to_lowercase() == lower)
                            .copied()
                            .or_else(|| crate::config::did_you_mean(g.trim(), values.iter().copied()))
                    })
                    .map(|close| format!("did you mean `{close}`? "))
                    .unwrap_or_default();
                said.push(format!(
                    "-f {}={globs} matches no value of `{}` ({near}its values: {})",
                    f.key,
                    f.key,
                    values.join(", ")
                ));
            }
        }
        said
    }
}

fn unknown_cell(slug: &str, slugs: &[String]) -> FilterError {
    let hint = crate::config::did_you_mean(slug, slugs.iter().map(String::as_str))
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    FilterError::UnknownCell { slug: slug.to_string(), hint }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Scalar;

    fn cell(pairs: &[(&str, &str)]) -> Cell {
        Cell::new(pairs.iter().map(|(k, v)| (Arc::from(*k), Scalar::string(*v))).collect())
    }

    #[test]
    fn globs_or_within_a_key_and_keys_and() {
        let f = CellFilter::new(&["compiler=clang-*,gcc-11".into(), "std=2?".into()], &[], &[]).unwrap();
        assert!(f.matches(&cell(&[("compiler", "clang-16"), ("std", "20")]), "x"));
        assert!(f.matches(&cell(&[("compiler", "gcc-11"), ("std", "23")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "gcc-12"), ("std", "20")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "clang-16"), ("std", "17")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "clang-16")]), "x"));
    }

    #[test]
    fn a_repeated_key_ors_and_a_negation_drops() {
        let f =
            CellFilter::new(&["compiler=gcc-*".into(), "compiler=clang-19".into()], &["compiler=gcc-11".into()], &[])
                .unwrap();
        assert!(f.matches(&cell(&[("compiler", "gcc-12")]), "x"));
        assert!(f.matches(&cell(&[("compiler", "clang-19")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "gcc-11")]), "x"), "--exclude drops");
        let g = CellFilter::new(&["compiler!=gcc-11".into()], &[], &[]).unwrap();
        assert!(
            g.matches(&cell(&[("compiler", "clang-19")]), "x") && !g.matches(&cell(&[("compiler", "gcc-11")]), "x")
        );
    }

    #[test]
    fn several_cells_are_picked_by_slug() {
        let f = CellFilter::new(&[], &[], &["a".into(), "b".into()]).unwrap();
        assert!(f.matches(&cell(&[("k", "1")]), "a") && f.matches(&cell(&[("k", "2")]), "b"));
        assert!(!f.matches(&cell(&[("k", "3")]), "c"));
    }

    #[test]
    fn a_filter_matching_nothing_names_the_nearest_value() {
        let cells = [cell(&[("build_type", "Debug")]), cell(&[("build_type", "Release")])];
        let f = CellFilter::new(&["build_type=debug".into()], &[], &[]).unwrap();
        assert_eq!(
            f.why_nothing(&cells),
            ["-f build_type=debug matches no value of `build_type` (did you mean `Debug`? its values: Debug, Release)"]
        );
    }

    #[test]
    fn unknown_key_suggests_a_close_one() {
        let f = CellFilter::new(&["compilr=gcc".into()], &[], &[]).unwrap();
        let err = f.check(&[cell(&[("compiler", "gcc")])], &["gcc".into()]).unwrap_err();
        assert_eq!(err.to_string(), "filter key `compilr` is not a key of the matrix; did you mean `compiler`?");
    }

    #[test]
    fn bad_syntax_is_an_error() {
        assert!(matches!(CellFilter::new(&["compiler".into()], &[], &[]), Err(FilterError::Syntax(_))));
    }
}
