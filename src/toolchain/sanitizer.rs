//! `sanitizer = "address"` (an axis or include key; several as `"address,undefined"`): the flags
//! that build a cell with the sanitizers for its compiler, the runtime options that make a finding
//! fail the test that made it, and the pairs no compiler can build (`unsupported`).

use super::Family;

/// One sanitizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sanitizer {
    /// AddressSanitizer (LeakSanitizer included).
    Address,
    /// UndefinedBehaviorSanitizer.
    Undefined,
    /// ThreadSanitizer.
    Thread,
    /// MemorySanitizer (Clang only).
    Memory,
    /// LeakSanitizer alone.
    Leak,
}

impl Sanitizer {
    /// The names the key takes.
    pub const NAMES: [&'static str; 5] = ["address", "undefined", "thread", "memory", "leak"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "address" | "asan" => Self::Address,
            "undefined" | "ubsan" => Self::Undefined,
            "thread" | "tsan" => Self::Thread,
            "memory" | "msan" => Self::Memory,
            "leak" | "lsan" => Self::Leak,
            _ => return None,
        })
    }

    /// Its `-fsanitize=` name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A cell's `sanitizer` value: one name, or several joined by `,` or `+`. `Err` says what is
/// wrong with it, for a located error at load. `none` (or empty) is no sanitizer.
pub fn parse_list(text: &str) -> Result<Vec<Sanitizer>, String> {
    let mut list = Vec::new();
    for word in text.split([',', '+']).map(str::trim).filter(|w| !w.is_empty() && *w != "none") {
        match Sanitizer::from_name(word) {
            Some(s) if !list.contains(&s) => list.push(s),
            Some(_) => {}
            None => {
                let close = crate::config::did_you_mean(word, Sanitizer::NAMES);
                return Err(match close {
                    Some(close) => format!("`{word}` is not a sanitizer; did you mean `{close}`?"),
                    None => format!("`{word}` is not a sanitizer (address, undefined, thread, memory, leak)"),
                });
            }
        }
    }
    list.sort();
    Ok(list)
}

/// Why `list` cannot be built by a compiler of `family`, where it cannot: the pairs the runtimes
/// refuse, and MemorySanitizer on GCC.
pub fn unsupported(list: &[Sanitizer], family: Option<Family>) -> Option<String> {
    use Sanitizer::{Address, Leak, Memory, Thread};
    let has = |s| list.contains(&s);
    for (a, b) in [(Address, Thread), (Address, Memory), (Thread, Memory), (Thread, Leak), (Memory, Leak)] {
        if has(a) && has(b) {
            return Some(format!("the {} and {} sanitizers cannot be combined", a.name(), b.name()));
        }
    }
    if has(Memory) && family == Some(Family::Gcc) {
        return Some("gcc has no memory sanitizer (MemorySanitizer is Clang's)".into());
    }
    None
}

/// The compile and link flags for `list`: `-fsanitize=…`, frame pointers and line tables kept so
/// the report names the line, and a finding made fatal rather than printed and passed over.
pub fn flags(list: &[Sanitizer]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = list.iter().map(|s| s.name()).collect();
    let mut flags = vec![format!("-fsanitize={}", names.join(",")), "-fno-omit-frame-pointer".into(), "-g".into()];
    if list.contains(&Sanitizer::Undefined) {
        flags.push("-fno-sanitize-recover=undefined".into());
    }
    if list.contains(&Sanitizer::Memory) {
        flags.push("-fsanitize-memory-track-origins".into());
    }
    flags.join(" ")
}

/// The runtime options that make a finding end the program with a failure and print where it
/// happened: `ASAN_OPTIONS`, `UBSAN_OPTIONS`… `symbolizer` (an `llvm-symbolizer`) names source
/// lines in Clang's reports (GCC's runtime reads them itself).
pub fn runtime_env(list: &[Sanitizer], symbolizer: Option<&str>) -> Vec<(String, String)> {
    let with = |options: &str| match symbolizer {
        Some(path) => format!("{options}:external_symbolizer_path={path}"),
        None => options.to_string(),
    };
    let mut env = Vec::new();
    for s in list {
        let (var, options) = match s {
            Sanitizer::Address => ("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1:print_summary=1"),
            Sanitizer::Undefined => ("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:print_summary=1"),
            Sanitizer::Thread => ("TSAN_OPTIONS", "halt_on_error=1:print_summary=1"),
            Sanitizer::Memory => ("MSAN_OPTIONS", "halt_on_error=1:print_summary=1"),
            Sanitizer::Leak => ("LSAN_OPTIONS", "print_summary=1"),
        };
        env.push((var.to_string(), with(options)));
    }
    if let Some(path) = symbolizer {
        env.push(("ASAN_SYMBOLIZER_PATH".into(), path.to_string()));
    }
    env
}

/// An `llvm-symbolizer` on this host: the one of the compiler's LLVM where installed, else the
/// newest (any reads the line tables of any compiler's output).
pub fn symbolizer(family: Option<Family>, version: &str) -> Option<String> {
    let major = version.split('.').next().filter(|m| !m.is_empty() && family == Some(Family::Clang));
    super::llvm_tool("llvm-symbolizer", major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_bad_names_say_what_was_meant() {
        assert_eq!(parse_list("address,undefined"), Ok(vec![Sanitizer::Address, Sanitizer::Undefined]));
        assert_eq!(parse_list("undefined+address"), Ok(vec![Sanitizer::Address, Sanitizer::Undefined]));
        assert_eq!(parse_list("none"), Ok(vec![]));
        assert_eq!(parse_list("adress").unwrap_err(), "`adress` is not a sanitizer; did you mean `address`?");
    }

    #[test]
    fn pairs_the_runtimes_refuse_are_unsupported() {
        let list = parse_list("thread,address").unwrap();
        assert_eq!(
            unsupported(&list, Some(Family::Clang)).unwrap(),
            "the address and thread sanitizers cannot be combined"
        );
        assert!(unsupported(&parse_list("memory").unwrap(), Some(Family::Gcc)).unwrap().contains("gcc has no memory"));
        assert_eq!(unsupported(&parse_list("memory").unwrap(), Some(Family::Clang)), None);
        assert_eq!(unsupported(&parse_list("address,undefined,leak").unwrap(), Some(Family::Gcc)), None);
    }

    #[test]
    fn flags_make_findings_fatal_and_point_at_lines() {
        let list = parse_list("address,undefined").unwrap();
        assert_eq!(
            flags(&list),
            "-fsanitize=address,undefined -fno-omit-frame-pointer -g -fno-sanitize-recover=undefined"
        );
        let env = runtime_env(&list, None);
        assert_eq!(env[0], ("ASAN_OPTIONS".into(), "halt_on_error=1:detect_leaks=1:print_summary=1".into()));
        assert!(env[1].1.contains("print_stacktrace=1"));
    }
}
