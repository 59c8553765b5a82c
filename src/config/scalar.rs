//! One axis value: a TOML scalar compared by its canonical text.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A matrix value as the user wrote it: a string, integer, float or boolean.
///
/// Values compare by their canonical text, so `17` and `"17"` are equal, as are `true` and
/// `"true"`; the original type is kept so JSON output shows what the file said.
#[derive(Clone, Debug)]
pub struct Scalar {
    text: Arc<str>,
    kind: ScalarKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScalarKind {
    String,
    Integer,
    Float,
    Boolean,
}

impl Scalar {
    /// A string value.
    pub fn string(text: impl Into<Arc<str>>) -> Self {
        Self { text: text.into(), kind: ScalarKind::String }
    }

    /// The canonical text: what templates, slugs and comparisons see.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value of a boolean (`true`, `false`; not the strings).
    pub fn as_bool(&self) -> Option<bool> {
        match (self.kind, &*self.text) {
            (ScalarKind::Boolean, "true") => Some(true),
            (ScalarKind::Boolean, "false") => Some(false),
            _ => None,
        }
    }

    /// The value as JSON, keeping the type the file gave it.
    pub fn to_json(&self) -> serde_json::Value {
        match self.kind {
            ScalarKind::String => serde_json::Value::String(self.text.to_string()),
            ScalarKind::Integer => {
                self.text.parse::<i64>().map_or_else(|_| serde_json::Value::String(self.text.to_string()), Into::into)
            }
            ScalarKind::Float => self
                .text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| serde_json::Value::String(self.text.to_string()), serde_json::Value::Number),
            ScalarKind::Boolean => serde_json::Value::Bool(&*self.text == "true"),
        }
    }

    /// The value as a minijinja value, keeping its type.
    pub fn to_template_value(&self) -> minijinja::Value {
        match self.kind {
            ScalarKind::String | ScalarKind::Float => minijinja::Value::from(self.text.clone()),
            ScalarKind::Integer => self
                .text
                .parse::<i64>()
                .map_or_else(|_| minijinja::Value::from(self.text.clone()), minijinja::Value::from),
            ScalarKind::Boolean => minijinja::Value::from(&*self.text == "true"),
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Scalar {}

impl std::hash::Hash for Scalar {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Scalar {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.kind {
            ScalarKind::Integer => match self.text.parse::<i64>() {
                Ok(n) => serializer.serialize_i64(n),
                Err(_) => serializer.serialize_str(&self.text),
            },
            ScalarKind::Float => match self.text.parse::<f64>() {
                Ok(n) if n.is_finite() => serializer.serialize_f64(n),
                _ => serializer.serialize_str(&self.text),
            },
            ScalarKind::Boolean => serializer.serialize_bool(&*self.text == "true"),
            ScalarKind::String => serializer.serialize_str(&self.text),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer, float or boolean")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::string(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar { text: v.to_string().into(), kind: ScalarKind::Integer })
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar { text: v.to_string().into(), kind: ScalarKind::Integer })
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar { text: v.to_string().into(), kind: ScalarKind::Float })
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar { text: v.to_string().into(), kind: ScalarKind::Boolean })
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_compare_by_text() {
        let int: Scalar = toml::Value::Integer(17).try_into().unwrap();
        assert_eq!(int, Scalar::string("17"));
        assert_eq!(int.to_json(), serde_json::json!(17));
        let boolean: Scalar = toml::Value::Boolean(true).try_into().unwrap();
        assert_eq!(boolean, Scalar::string("true"));
        assert_ne!(boolean, Scalar::string("True"));
    }
}
