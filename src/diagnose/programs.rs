//! Which program a name is: a compiler driver or a linker, bare (`g++`), versioned (`g++-12`,
//! `ld.lld-19`), cross-prefixed (`aarch64-linux-gnu-gcc`) or as a path (`/usr/bin/ld`). A line
//! that starts with such a name is the toolchain's; `ninja: error: …` is not.

use crate::outcome::DiagnosticKind;

/// The last component of a path: `ld` of `/usr/bin/ld`.
pub(super) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `g++-12` → `g++`, `ld.lld-19` → `ld.lld`, `clang++-16` → `clang++`.
fn without_version(name: &str) -> &str {
    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

/// A compiler driver's or linker's name, bare or with a version or a cross prefix.
pub(super) fn looks_like_compiler(name: &str) -> bool {
    let name = without_version(name);
    let exact = ["cc", "c++", "gcc", "g++", "clang", "clang++", "ld", "ld.lld", "lld", "icx", "icpx", "nvcc"];
    let suffixes = ["-cc", "-c++", "-gcc", "-g++", "-clang", "-clang++", "-ld"];
    exact.contains(&name) || suffixes.iter().any(|s| name.ends_with(s))
}

/// `ld.lld`, `rust-lld`, `/usr/bin/ld.lld-19`.
pub(super) fn is_lld(program: &str) -> bool {
    basename(program).contains("lld")
}

/// `/usr/bin/ld`, `ld.bfd`, `ld.gold`, `x86_64-linux-gnu-ld`, `ld.mold`.
pub(super) fn is_gnu_ld(program: &str) -> bool {
    let name = basename(program);
    !is_lld(name) && (name == "ld" || name.starts_with("ld.") || name.ends_with("-ld") || name.contains("-ld."))
}

/// Which kind of diagnostic a program prefix (`clang: error: …`) gives, if it is a toolchain
/// program at all: `ninja: error: …` is not a diagnostic of the code.
pub(super) fn program_kind(program: &str) -> Option<DiagnosticKind> {
    let base = basename(program);
    // Named before the version is stripped: the digits of `collect2` and `lto1` are no version.
    let name = without_version(base);
    if is_lld(name) || is_gnu_ld(name) || matches!(base, "collect2" | "lto-wrapper" | "lto1") {
        Some(DiagnosticKind::Link)
    } else if looks_like_compiler(name) || name.starts_with("cc1") {
        Some(DiagnosticKind::Compile)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_programs_whose_names_end_in_digits_are_linkers() {
        for name in ["collect2", "/usr/lib/gcc/x86_64-linux-gnu/12/collect2", "lto1", "lto-wrapper", "ld.lld-19"] {
            assert_eq!(program_kind(name), Some(DiagnosticKind::Link), "{name}");
        }
        assert_eq!(program_kind("g++-12"), Some(DiagnosticKind::Compile));
        assert_eq!(program_kind("ninja"), None);
    }
}
