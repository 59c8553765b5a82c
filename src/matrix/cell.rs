//! One combination of values.

use std::sync::Arc;

use crate::config::Scalar;

/// One cell of the matrix: its keys and values in order (axes in file order, then the keys
/// includes added, in the order they were added).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    values: Vec<(Arc<str>, Scalar)>,
}

impl Cell {
    /// A cell of these pairs, in this order.
    pub fn new(values: Vec<(Arc<str>, Scalar)>) -> Self {
        Self { values }
    }

    /// The value of `key`, if the cell has it.
    pub fn get(&self, key: &str) -> Option<&Scalar> {
        self.values.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    /// The canonical text of `key`'s value, if the cell has it.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).map(Scalar::as_str)
    }

    /// Sets `key`, keeping its place if present, else appending it.
    pub fn set(&mut self, key: &Arc<str>, value: &Scalar) {
        match self.values.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.clone_from(value),
            None => self.values.push((key.clone(), value.clone())),
        }
    }

    /// Removes `key`, returning its value.
    pub fn take(&mut self, key: &str) -> Option<Scalar> {
        let at = self.values.iter().position(|(k, _)| &**k == key)?;
        Some(self.values.remove(at).1)
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Scalar)> {
        self.values.iter().map(|(k, v)| (&**k, v))
    }

    /// The cell as a JSON object with the types the file gave, in order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect())
    }

    /// `key=value` pairs joined by spaces, for people.
    pub fn describe(&self) -> String {
        self.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    }
}

impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}
