//! `-f KEY=GLOB[,GLOB…]` and `--cell SLUG`: picking cells. Globs within one filter are OR,
//! filters are AND.

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::Cell;

/// A filter that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// Not `KEY=GLOB`.
    #[error("filter `{0}` is not KEY=GLOB[,GLOB…], e.g. -f compiler='clang-*'")]
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

/// Filters from the command line, compiled.
#[derive(Debug, Default)]
pub struct CellFilter {
    keys: Vec<(String, GlobSet)>,
    cell: Option<String>,
}

impl CellFilter {
    /// Parses `-f` arguments and `--cell`.
    pub fn new(filters: &[String], cell: Option<&str>) -> Result<Self, FilterError> {
        let mut keys = Vec::with_capacity(filters.len());
        for filter in filters {
            let (key, globs) = filter.split_once('=').ok_or_else(|| FilterError::Syntax(filter.clone()))?;
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
            keys.push((key.to_string(), set));
        }
        Ok(Self { keys, cell: cell.map(str::to_string) })
    }

    /// Whether any filter is set.
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty() || self.cell.is_some()
    }

    /// Checks that every filter key is a key of some cell and that `--cell` names a cell.
    pub fn check(&self, cells: &[Cell], slugs: &[String]) -> Result<(), FilterError> {
        let mut known: Vec<&str> = Vec::new();
        for cell in cells {
            for (key, _) in cell.iter() {
                if !known.contains(&key) {
                    known.push(key);
                }
            }
        }
        for (key, _) in &self.keys {
            if !known.contains(&key.as_str()) {
                let hint = match crate::config::did_you_mean(key, known.iter().copied()) {
                    Some(close) => format!("; did you mean `{close}`?"),
                    None => format!("; the keys are: {}", known.join(", ")),
                };
                return Err(FilterError::UnknownKey { key: key.clone(), hint });
            }
        }
        if let Some(slug) = &self.cell {
            if !slugs.contains(slug) {
                let hint = crate::config::did_you_mean(slug, slugs.iter().map(String::as_str))
                    .map(|close| format!("; did you mean `{close}`?"))
                    .unwrap_or_default();
                return Err(FilterError::UnknownCell { slug: slug.clone(), hint });
            }
        }
        Ok(())
    }

    /// Whether the cell with this slug passes every filter.
    pub fn matches(&self, cell: &Cell, slug: &str) -> bool {
        if self.cell.as_deref().is_some_and(|wanted| wanted != slug) {
            return false;
        }
        self.keys.iter().all(|(key, globs)| cell.text(key).is_some_and(|v| globs.is_match(v)))
    }
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
        let f = CellFilter::new(&["compiler=clang-*,gcc-11".into(), "std=2?".into()], None).unwrap();
        assert!(f.matches(&cell(&[("compiler", "clang-16"), ("std", "20")]), "x"));
        assert!(f.matches(&cell(&[("compiler", "gcc-11"), ("std", "23")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "gcc-12"), ("std", "20")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "clang-16"), ("std", "17")]), "x"));
        assert!(!f.matches(&cell(&[("compiler", "clang-16")]), "x"));
    }

    #[test]
    fn unknown_key_suggests_a_close_one() {
        let f = CellFilter::new(&["compilr=gcc".into()], None).unwrap();
        let err = f.check(&[cell(&[("compiler", "gcc")])], &["gcc".into()]).unwrap_err();
        assert_eq!(err.to_string(), "filter key `compilr` is not a key of the matrix; did you mean `compiler`?");
    }

    #[test]
    fn bad_syntax_is_an_error() {
        assert!(matches!(CellFilter::new(&["compiler".into()], None), Err(FilterError::Syntax(_))));
    }
}
