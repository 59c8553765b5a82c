//! Expansion, GitHub Actions semantics: the product of the axes in file order (first axis
//! outermost), then excludes (an entry removes every cell matching all its pairs), then includes
//! (an entry's pairs are merged into every original cell where none of them would overwrite an
//! axis value; values added by earlier includes may be overwritten; an entry that fits no cell
//! becomes a cell of its own).

use std::sync::Arc;

use super::Cell;
use crate::config::{Axis, Entry};

/// Expands axes, excludes and includes into cells, in order.
pub fn expand(axes: &[Axis], exclude: &[Entry], include: &[Entry]) -> Vec<Cell> {
    if axes.is_empty() && include.is_empty() {
        // No matrix at all: the steps run once, like a GitHub Actions job without a strategy.
        return vec![Cell::default()];
    }
    let mut cells = product(axes);
    cells.retain(|cell| !exclude.iter().any(|entry| matches_all(cell, entry)));
    let originals = cells.len();
    let is_axis = |key: &str| axes.iter().any(|a| &*a.name == key);
    for entry in include {
        let mut merged = false;
        for cell in &mut cells[..originals] {
            let fits = entry.pairs.iter().all(|(k, v)| !is_axis(k) || cell.get(k) == Some(v));
            if fits {
                for (k, v) in &entry.pairs {
                    cell.set(k, v);
                }
                merged = true;
            }
        }
        if !merged {
            cells.push(Cell::new(entry.pairs.clone()));
        }
    }
    cells
}

fn product(axes: &[Axis]) -> Vec<Cell> {
    if axes.is_empty() {
        // No axes: no original cells, so every include entry becomes a cell of its own.
        return Vec::new();
    }
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    let mut cells = Vec::with_capacity(total);
    let mut index = vec![0usize; axes.len()];
    loop {
        let values: Vec<(Arc<str>, _)> =
            axes.iter().zip(&index).map(|(axis, &i)| (axis.name.clone(), axis.values[i].clone())).collect();
        cells.push(Cell::new(values));
        // Odometer: the last axis turns fastest.
        let mut position = axes.len();
        loop {
            if position == 0 {
                return cells;
            }
            position -= 1;
            index[position] += 1;
            if index[position] < axes[position].values.len() {
                break;
            }
            index[position] = 0;
        }
    }
}

fn matches_all(cell: &Cell, entry: &Entry) -> bool {
    entry.pairs.iter().all(|(k, v)| cell.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scalar;

    fn axis(name: &str, values: &[&str]) -> Axis {
        Axis { name: name.into(), span: 0..0, values: values.iter().map(|v| Scalar::string(*v)).collect() }
    }

    fn entry(pairs: &[(&str, &str)]) -> Entry {
        Entry {
            pairs: pairs.iter().map(|(k, v)| (Arc::from(*k), Scalar::string(*v))).collect(),
            key_spans: vec![0..0; pairs.len()],
            span: 0..0,
        }
    }

    fn show(cells: &[Cell]) -> Vec<String> {
        cells.iter().map(Cell::describe).collect()
    }

    #[test]
    fn product_order_is_first_axis_outermost() {
        let cells = expand(&[axis("a", &["1", "2"]), axis("b", &["x", "y", "z"])], &[], &[]);
        assert_eq!(show(&cells), ["a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"]);
    }

    /// The example from GitHub's documentation of `jobs.<id>.strategy.matrix.include`.
    #[test]
    fn github_docs_fruit_animal_example() {
        let axes = [axis("fruit", &["apple", "pear"]), axis("animal", &["cat", "dog"])];
        let include = [
            entry(&[("color", "green")]),
            entry(&[("color", "pink"), ("animal", "cat")]),
            entry(&[("fruit", "apple"), ("shape", "circle")]),
            entry(&[("fruit", "banana")]),
            entry(&[("fruit", "banana"), ("animal", "cat")]),
        ];
        let cells = expand(&axes, &[], &include);
        assert_eq!(
            show(&cells),
            [
                "fruit=apple animal=cat color=pink shape=circle",
                "fruit=apple animal=dog color=green shape=circle",
                "fruit=pear animal=cat color=pink",
                "fruit=pear animal=dog color=green",
                "fruit=banana",
                "fruit=banana animal=cat",
            ]
        );
    }

    /// GitHub's documentation example of expanding configurations with `include` and `exclude`.
    #[test]
    fn github_docs_os_version_exclude_example() {
        let axes = [
            axis("os", &["macos-latest", "windows-latest"]),
            axis("version", &["12", "14", "16"]),
            axis("environment", &["staging", "production"]),
        ];
        let exclude = [
            entry(&[("os", "macos-latest"), ("version", "12"), ("environment", "production")]),
            entry(&[("os", "windows-latest"), ("version", "16")]),
        ];
        let cells = expand(&axes, &exclude, &[]);
        assert_eq!(cells.len(), 12 - 1 - 2);
        assert!(!show(&cells).iter().any(|c| c.contains("windows-latest version=16")));
    }

    #[test]
    fn no_matrix_is_one_empty_cell() {
        assert_eq!(show(&expand(&[], &[], &[])), [""]);
    }

    #[test]
    fn include_only_matrix_makes_one_cell_per_entry() {
        let include = [
            entry(&[("site", "production"), ("datacenter", "site-a")]),
            entry(&[("site", "staging"), ("datacenter", "site-b")]),
        ];
        let cells = expand(&[], &[], &include);
        assert_eq!(show(&cells), ["site=production datacenter=site-a", "site=staging datacenter=site-b"]);
    }

    #[test]
    fn partial_exclude_removes_many_and_runs_before_include() {
        let axes = [axis("compiler", &["gcc", "clang"]), axis("std", &["17", "20"])];
        let exclude = [entry(&[("compiler", "gcc")])];
        // This include would fit the gcc cells, but they are gone, so it becomes a cell.
        let include = [entry(&[("compiler", "gcc"), ("std", "23")])];
        let cells = expand(&axes, &exclude, &include);
        assert_eq!(show(&cells), ["compiler=clang std=17", "compiler=clang std=20", "compiler=gcc std=23"]);
    }

    #[test]
    fn include_never_merges_into_cells_made_by_includes() {
        let axes = [axis("a", &["1"])];
        let include = [entry(&[("a", "2")]), entry(&[("a", "2"), ("extra", "x")])];
        assert_eq!(show(&expand(&axes, &[], &include)), ["a=1", "a=2", "a=2 extra=x"]);
    }
}
