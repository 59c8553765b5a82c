//! A duration setting: `"30m"`, `"1h 30m"`, `"90s"`, or a whole number of seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration written in the matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration such as "30m", "90s" or "1h 30m", or a number of seconds"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                let invalid = |why: &str| {
                    E::custom(format!(r#"invalid duration "{v}"{why}; write it like "30m", "90s" or "1h 30m""#))
                };
                // humantime reads "3 0m" as 30 minutes; a number split by spaces is a typo.
                let digits_split = v.as_bytes().windows(2).enumerate().any(|(i, w)| {
                    w[0].is_ascii_digit()
                        && w[1] == b' '
                        && v[i + 1..].trim_start().starts_with(|c: char| c.is_ascii_digit())
                });
                if digits_split {
                    return Err(invalid(" (a number must be followed by its unit)"));
                }
                match humantime::parse_duration(v) {
                    Ok(d) if !d.is_zero() => Ok(DurationValue(d)),
                    Ok(_) => Err(E::custom("a duration must be longer than zero")),
                    Err(_) => Err(invalid("")),
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
                match u64::try_from(v) {
                    Ok(secs) if secs > 0 => Ok(DurationValue(Duration::from_secs(secs))),
                    _ => Err(E::custom(format!("a duration must be a positive number of seconds, not {v}"))),
                }
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}
