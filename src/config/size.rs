//! A memory size setting: `"4GiB"`, `"512MiB"`, `"2G"`, or a number of bytes.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A size in bytes written in the matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeValue(pub u64);

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = SizeValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size such as "4GiB" or "512MiB", or a number of bytes"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                match v.trim().parse::<bytesize::ByteSize>() {
                    Ok(size) if size.as_u64() > 0 => Ok(SizeValue(size.as_u64())),
                    Ok(_) => Err(E::custom("a size must be larger than zero")),
                    Err(_) => Err(E::custom(format!(r#"invalid size "{v}"; write it like "4GiB", "512MiB" or "2G""#))),
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                match u64::try_from(v) {
                    Ok(bytes) if bytes > 0 => Ok(SizeValue(bytes)),
                    _ => Err(E::custom(format!("a size must be a positive number of bytes, not {v}"))),
                }
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}
