//! Slugs: a cell's values joined by `-`, readable in paths and on the command line, unique within
//! a matrix, and stable as long as the file's cells are.

use std::collections::HashMap;

use super::Cell;

/// The slug of every cell, in order. Where two cells would share one, the later ones get `-2`,
/// `-3`… in order, so the first keeps the plain slug.
pub fn assign_slugs(cells: &[Cell]) -> Vec<String> {
    let bases: Vec<String> = cells.iter().map(base_slug).collect();
    let mut taken: HashMap<&str, usize> = HashMap::with_capacity(bases.len());
    for base in &bases {
        *taken.entry(base.as_str()).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut slugs = Vec::with_capacity(bases.len());
    for base in &bases {
        if taken[base.as_str()] == 1 {
            slugs.push(base.clone());
            continue;
        }
        let n = seen.entry(base.as_str()).or_insert(0);
        *n += 1;
        let mut candidate = if *n == 1 { base.clone() } else { format!("{base}-{n}") };
        // A suffixed slug could collide with another cell's plain slug: keep counting.
        while *n > 1 && taken.contains_key(candidate.as_str()) {
            *n += 1;
            candidate = format!("{base}-{n}");
        }
        slugs.push(candidate);
    }
    slugs
}

/// The values joined by `-`, each reduced to letters, digits, `.`, `_` and `+`.
fn base_slug(cell: &Cell) -> String {
    let mut slug = String::new();
    for (_, value) in cell.iter() {
        let part = sanitize(value.as_str());
        if part.is_empty() {
            continue;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&part);
    }
    if slug.is_empty() {
        slug.push_str("default");
    }
    slug
}

fn sanitize(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    // Leading dots go too: a slug names folders, and `.`, `..` or a hidden name must not be one.
    out.trim_matches('-').trim_start_matches('.').trim_start_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Scalar;

    fn cell(values: &[&str]) -> Cell {
        Cell::new(values.iter().enumerate().map(|(i, v)| (Arc::from(format!("k{i}")), Scalar::string(*v))).collect())
    }

    #[test]
    fn a_slug_is_never_dots_or_hidden() {
        assert_eq!(assign_slugs(&[cell(&[".."])]), ["default"]);
        assert_eq!(assign_slugs(&[cell(&[".", "gcc"])]), ["gcc"]);
        assert_eq!(assign_slugs(&[cell(&[".hidden", "1.2"])]), ["hidden-1.2"]);
    }

    #[test]
    fn joins_values_and_cleans_them() {
        assert_eq!(assign_slugs(&[cell(&["linux", "gcc-12", "17", "Release"])]), ["linux-gcc-12-17-Release"]);
        assert_eq!(assign_slugs(&[cell(&["clang", "address,undefined", "a b/c"])]), ["clang-address-undefined-a-b-c"]);
    }

    #[test]
    fn duplicates_get_suffixes_in_order() {
        let cells = [cell(&["a", "b"]), cell(&["a-b"]), cell(&["x"]), cell(&["a", "b"])];
        assert_eq!(assign_slugs(&cells), ["a-b", "a-b-2", "x", "a-b-3"]);
    }
}
