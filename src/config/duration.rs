//! A duration setting: `"30m"`, `"1h 30m"`, `"90s"`, or a whole number of seconds. The matrix
//! file and the command line (`--timeout`) read it the same way, through [`parse_duration`], so a
//! duration is range-checked once, where it is read: no later addition to an instant can
//! overflow.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The longest time limit or grace gridrun takes: a year. Nothing a build does takes longer, and
/// an instant this far ahead is still one the clock can hold.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A duration written in the matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

/// Reads `"30m"`, `"1h 30m"`, `"90s"`: longer than zero and at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!(r#"invalid duration "{text}"{why}; write it like "30m", "90s" or "1h 30m""#);
    // humantime reads "3 0m" as 30 minutes; a number split by spaces is a typo.
    let digits_split = text.as_bytes().windows(2).enumerate().any(|(i, w)| {
        w[0].is_ascii_digit() && w[1] == b' ' && text[i + 1..].trim_start().starts_with(|c: char| c.is_ascii_digit())
    });
    if digits_split {
        return Err(invalid(" (a number must be followed by its unit)"));
    }
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("a duration must be longer than zero".into()),
        Ok(d) => in_range(d),
        Err(humantime::DurationError::NumberOverflow) => Err(too_long()),
        Err(_) => Err(invalid("")),
    }
}

/// An age such as `14d`, `36h` or `2weeks` (`gc --older-than`): any length, zero included, with
/// the words it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Age {
    /// How long.
    pub duration: Duration,
    /// As written.
    pub text: String,
}

impl std::str::FromStr for Age {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let duration = humantime::parse_duration(text).map_err(|e| format!("{e}; write it like 14d, 36h or 2weeks"))?;
        Ok(Self { duration, text: text.to_string() })
    }
}

fn in_range(d: Duration) -> Result<Duration, String> {
    if d > MAX_DURATION {
        Err(too_long())
    } else {
        Ok(d)
    }
}

fn too_long() -> String {
    "a duration must be at most 365 days".into()
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration such as "30m", "90s" or "1h 30m", or a number of seconds"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
                match u64::try_from(v) {
                    Ok(secs) if secs > 0 => in_range(Duration::from_secs(secs)).map(DurationValue).map_err(E::custom),
                    _ => Err(E::custom(format!("a duration must be a positive number of seconds, not {v}"))),
                }
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_range_checked_where_they_are_read() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("365d"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("366d").unwrap_err(), "a duration must be at most 365 days");
        assert_eq!(parse_duration("18446744073709551615s").unwrap_err(), "a duration must be at most 365 days");
        assert_eq!(parse_duration("10000000000000000000s").unwrap_err(), "a duration must be at most 365 days");
        assert_eq!(parse_duration("0s").unwrap_err(), "a duration must be longer than zero");
        assert!(parse_duration("3 0m").unwrap_err().contains("followed by its unit"));
    }
}
