//! Names as the matrix file writes them: `gcc-12`, `clang-16`, bare `gcc`, C++ standards.

use std::fmt;

/// A compiler family gridrun knows how to drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// GCC: `gcc-N` and `g++-N`.
    Gcc,
    /// Clang: `clang-N` and `clang++-N`.
    Clang,
}

impl Family {
    /// `gcc` or `clang`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gcc => "gcc",
            Self::Clang => "clang",
        }
    }

    fn cxx_driver(self) -> &'static str {
        match self {
            Self::Gcc => "g++",
            Self::Clang => "clang++",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiler as a matrix names it: a family and an optional version suffix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CompilerSpec {
    /// The family.
    pub family: Family,
    /// The version suffix (`12` of `gcc-12`), `None` for the host default.
    pub version: Option<String>,
}

impl CompilerSpec {
    /// Parses `gcc`, `gcc-12`, `clang`, `clang-16`, `clang-16.0`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        let (family, rest) = if let Some(rest) = name.strip_prefix("gcc") {
            (Family::Gcc, rest)
        } else if let Some(rest) = name.strip_prefix("clang") {
            (Family::Clang, rest)
        } else {
            return None;
        };
        if rest.is_empty() {
            return Some(Self { family, version: None });
        }
        let version = rest.strip_prefix('-')?;
        let valid = !version.is_empty()
            && version.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        valid.then(|| Self { family, version: Some(version.to_string()) })
    }

    /// The C compiler's command name: `gcc-12`, `clang-16`, `gcc`.
    pub fn cc(&self) -> String {
        self.with_suffix(self.family.as_str())
    }

    /// The C++ compiler's command name: `g++-12`, `clang++-16`, `g++`.
    pub fn cxx(&self) -> String {
        self.with_suffix(self.family.cxx_driver())
    }

    /// The major version the name promises, if it names one.
    pub fn major(&self) -> Option<u32> {
        self.version.as_deref()?.split('.').next()?.parse().ok()
    }

    fn with_suffix(&self, driver: &str) -> String {
        match &self.version {
            Some(v) => format!("{driver}-{v}"),
            None => driver.to_string(),
        }
    }
}

impl fmt::Display for CompilerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cc())
    }
}

/// A C++ standard as the `-std=` flag spells it (`c++17`, `gnu++20`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Standard(String);

impl Standard {
    /// The standards `gridrun toolchains` probes.
    pub const KNOWN: [&'static str; 8] = ["98", "03", "11", "14", "17", "20", "23", "26"];

    /// `17` → `c++17`; `c++17` and `gnu++17` as they are; `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        let year = value.strip_prefix("c++").or_else(|| value.strip_prefix("gnu++")).unwrap_or(value);
        let valid = year.len() == 2 && year.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return None;
        }
        if value.starts_with("c++") || value.starts_with("gnu++") {
            Some(Self(value.to_string()))
        } else {
            Some(Self(format!("c++{value}")))
        }
    }

    /// The flag's value: `c++17`.
    pub fn flag(&self) -> &str {
        &self.0
    }

    /// The two-character year: `17`, `2b`.
    pub fn year(&self) -> &str {
        self.0.rsplit("++").next().unwrap_or(&self.0)
    }

    /// The name the standard had while it was a draft (`c++2b` for `c++23`), if it had one.
    pub fn draft(&self) -> Option<Self> {
        let draft_year = match self.year() {
            "11" => "0x",
            "14" => "1y",
            "17" => "1z",
            "20" => "2a",
            "23" => "2b",
            "26" => "2c",
            _ => return None,
        };
        let prefix = self.0.strip_suffix(self.year()).unwrap_or("c++");
        Some(Self(format!("{prefix}{draft_year}")))
    }

    /// The first major version of `family` to accept this standard's flag, from the compilers'
    /// release notes; used only for compilers this host does not have.
    pub fn first_accepted_by(&self, family: Family) -> Option<u32> {
        let year = self.year();
        Some(match (family, year) {
            (_, "98" | "03") => 1,
            // -std=c++11 and c++14 are accepted from gcc 4.7 and 4.9; majors before 5 carry a minor.
            (Family::Gcc, "11" | "14" | "17") | (Family::Clang, "17") => 5,
            (Family::Gcc | Family::Clang, "20") => 10,
            (Family::Gcc, "23") => 11,
            (Family::Gcc, "26") => 14,
            (Family::Clang, "11" | "14") => 3,
            (Family::Clang, "23" | "26") => 17,
            _ => return None,
        })
    }
}

impl fmt::Display for Standard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compiler_names() {
        let gcc = CompilerSpec::parse("gcc-12").unwrap();
        assert_eq!((gcc.cc(), gcc.cxx(), gcc.major()), ("gcc-12".into(), "g++-12".into(), Some(12)));
        let clang = CompilerSpec::parse("clang").unwrap();
        assert_eq!((clang.cc(), clang.cxx(), clang.major()), ("clang".into(), "clang++".into(), None));
        assert_eq!(CompilerSpec::parse("msvc-19"), None);
        assert_eq!(CompilerSpec::parse("gcc-"), None);
        assert_eq!(CompilerSpec::parse("clang-cl"), None);
    }

    #[test]
    fn parses_standards() {
        assert_eq!(Standard::parse("17").unwrap().flag(), "c++17");
        assert_eq!(Standard::parse("gnu++20").unwrap().flag(), "gnu++20");
        assert_eq!(Standard::parse("2b").unwrap().year(), "2b");
        assert_eq!(Standard::parse("2017"), None);
    }
}
