//! A memory size setting: `"4GiB"`, `"512MiB"`, `"2G"`, or a number of bytes. The matrix file and
//! the command line (`--memory`) read it the same way, through [`parse_size`], range-checked there.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The largest size gridrun takes: 1 PiB, past the memory of any machine a build runs on and well
/// inside what the kernel's and SQLite's 64-bit counters hold.
pub const MAX_SIZE: u64 = 1 << 50;

/// A size in bytes written in the matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeValue(pub u64);

/// Reads `"4GiB"`, `"512MiB"`, `"2G"` or a number of bytes: more than zero, at most [`MAX_SIZE`].
pub fn parse_size(text: &str) -> Result<u64, String> {
    match text.trim().parse::<bytesize::ByteSize>() {
        Ok(size) => in_range(size.as_u64()),
        Err(_) => Err(format!(r#"invalid size "{text}"; write it like "4GiB", "512MiB" or "2G""#)),
    }
}

fn in_range(bytes: u64) -> Result<u64, String> {
    match bytes {
        0 => Err("a size must be larger than zero".into()),
        // bytesize saturates a product too big for 64 bits at u64::MAX: that is "too big" too.
        n if n > MAX_SIZE => Err("a size must be at most 1PiB".into()),
        n => Ok(n),
    }
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = SizeValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size such as "4GiB" or "512MiB", or a number of bytes"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                parse_size(v).map(SizeValue).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                match u64::try_from(v) {
                    Ok(bytes) if bytes > 0 => in_range(bytes).map(SizeValue).map_err(E::custom),
                    _ => Err(E::custom(format!("a size must be a positive number of bytes, not {v}"))),
                }
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_range_checked_where_they_are_read() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1PiB"), Ok(MAX_SIZE));
        assert_eq!(parse_size("99999999999999999999999GiB").unwrap_err(), "a size must be at most 1PiB");
        assert_eq!(parse_size("9223372036854775807").unwrap_err(), "a size must be at most 1PiB");
        assert_eq!(parse_size("0").unwrap_err(), "a size must be larger than zero");
        assert!(parse_size("-1GiB").is_err());
        assert!(parse_size("lots").is_err());
    }
}
