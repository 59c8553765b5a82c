//! Slugs: a cell's values joined by `-`, readable in paths and on the command line, unique within
//! a matrix, and stable as long as the file's cells are.

use rustc_hash::FxHashMap;

use super::Cell;

/// The slug of every cell, in order. Where two cells would share one, the later ones get `-2`,
/// `-3`… in order, so the first keeps the plain slug.
pub fn assign_slugs(cells: &[Cell]) -> Vec<String> {
    let mut part = String::new();
    let bases: Vec<String> = cells.iter().map(|cell| base_slug(cell, &mut part)).collect();
    let mut taken: FxHashMap<&str, usize> = FxHashMap::default();
    taken.reserve(bases.len());
    for base in &bases {
        *taken.entry(base.as_str()).or_default() += 1;
    }
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
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

/// The values joined by `-`, each reduced to letters, digits, `.`, `_` and `+`. `part` is
/// scratch space, so a grid of 100,000 cells does not allocate a string per value.
fn base_slug(cell: &Cell, part: &mut String) -> String {
    let mut slug = String::with_capacity(48);
    for (_, value) in cell.iter() {
        let value = value.as_str();
        // Most values are slug-safe as they are.
        let part: &str = if is_clean(value) {
            value
        } else {
            part.clear();
            sanitize_into(value, part);
            trimmed(part)
        };
        if part.is_empty() {
            continue;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(part);
    }
    if slug.is_empty() {
        slug.push_str("default");
    }
    slug
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+')
}

/// A value that is its own slug part: allowed characters and single inner dashes only, not
/// starting with a dot.
fn is_clean(value: &str) -> bool {
    !value.starts_with(['.', '-'])
        && !value.ends_with('-')
        && !value.contains("--")
        && value.chars().all(|c| allowed(c) || c == '-')
}

fn sanitize_into(value: &str, out: &mut String) {
    for c in value.chars() {
        if allowed(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
}

/// Leading dots go too: a slug names folders, and `.`, `..` or a hidden name must not be one.
fn trimmed(part: &str) -> &str {
    part.trim_matches('-').trim_start_matches('.').trim_start_matches('-')
}

#[cfg(test)]
fn sanitize(value: &str) -> String {
    let mut out = String::new();
    sanitize_into(value, &mut out);
    trimmed(&out).to_string()
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
    fn the_fast_path_slugs_as_the_slow_one() {
        for value in ["gcc-12", "a--b", "-a", "a-", ".x", "x.y", "c++17", "a b", "", "-", "ü-1", "x-.y"] {
            let cell = cell(&[value]);
            let mut part = String::new();
            let want = match sanitize(value) {
                s if s.is_empty() => "default".to_string(),
                s => s,
            };
            assert_eq!(base_slug(&cell, &mut part), want, "{value:?}");
        }
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
