//! What a cell needs from the host and whether the host has it: the platform, the compiler, the
//! LLVM, and the compiler's acceptance of the cell's C++ standard.

use std::sync::Arc;

use super::keys;
use super::{CompilerSpec, Host, Standard};
use crate::matrix::Cell;

/// Whether this host can run a cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Everything the cell needs is here.
    Ready,
    /// The cell's compiler cannot compile its standard: no host could run it.
    Unsupported(Arc<str>),
    /// This host lacks the cell's platform, compiler or LLVM.
    Unavailable(Arc<str>),
}

impl Availability {
    fn unsupported(reason: String) -> Self {
        Self::Unsupported(reason.into())
    }

    fn unavailable(reason: String) -> Self {
        Self::Unavailable(reason.into())
    }

    /// `ready`, `unsupported`, `unavailable`.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Unsupported(_) => "unsupported",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// Why the cell cannot run, if it cannot.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Ready => None,
            Self::Unsupported(r) | Self::Unavailable(r) => Some(r),
        }
    }
}

/// The tools a cell builds with: the values of its toolchain template variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedToolchain {
    /// The C compiler command (`gcc-12`), or `cc` where the cell names no compiler.
    pub cc: String,
    /// The C++ compiler command (`g++-12`), or `c++`.
    pub cxx: String,
    /// `gcc`, `clang`, or empty.
    pub compiler_family: String,
    /// The compiler's real version, or empty where unknown.
    pub compiler_version: String,
    /// The `llvm-config` path (or name, where this host lacks it), where the cell has `llvm`.
    pub llvm_config: Option<String>,
    /// `llvm-config --cmakedir`, for `LLVM_DIR`.
    pub llvm_dir: Option<String>,
    /// The LLVM's real version, where known.
    pub llvm_version: Option<String>,
    /// The `-std=` value the compiler takes for the cell's standard: `c++23`, or `c++2b` where
    /// the compiler knows the standard only by its draft name (as CMake passes it).
    pub std_flag: Option<String>,
    /// Whether `std_flag` is a draft name.
    pub std_is_draft: bool,
    /// The flags that build the cell with its sanitizers (`CFLAGS`, `CXXFLAGS`, `LDFLAGS`, and
    /// `{{ sanitizer_flags }}`); empty without.
    pub sanitizer_flags: String,
    /// The sanitizers' runtime options (`ASAN_OPTIONS`…).
    pub sanitizer_env: Vec<(String, String)>,
    /// For a `coverage = true` cell, the gcov command that reads what its compiler wrote.
    pub gcov: Option<String>,
}

impl ResolvedToolchain {
    /// The flags gridrun adds to `CFLAGS`, `CXXFLAGS` and `LDFLAGS`: sanitizers', coverage's.
    pub fn added_flags(&self) -> String {
        let coverage = self.gcov.as_ref().map(|_| super::coverage::FLAGS);
        [Some(self.sanitizer_flags.as_str()).filter(|f| !f.is_empty()), coverage]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl ResolvedToolchain {
    /// What a ready cell's plan row says of it: that its standard goes by its draft name.
    pub fn note(&self) -> Option<String> {
        self.std_is_draft.then(|| format!("draft name: -std={}", self.std_flag.as_deref().unwrap_or_default()))
    }
}

/// Resolves a cell's toolchain on `host` and says whether the host can run it. The host must
/// already have learned about the cell's compiler and standard ([`Host::learn`]).
pub fn resolve_cell(cell: &Cell, host: &Host) -> (ResolvedToolchain, Availability) {
    let mut tools = ResolvedToolchain { cc: "cc".into(), cxx: "c++".into(), ..ResolvedToolchain::default() };
    let mut problems: Vec<Availability> = Vec::new();
    if let Some(major) = cell.text(keys::LLVM) {
        tools.llvm_config = Some(format!("llvm-config-{major}"));
    }

    if let Some(platform) = cell.text(keys::PLATFORM) {
        let wanted = platform_os(platform);
        if host.platform != wanted {
            problems.push(Availability::unavailable(format!(
                "platform {platform} needs a {wanted} host; this host is {}",
                host.platform
            )));
            // What this host's compilers accept says nothing about another platform's.
            if let Some(spec) = cell.text(keys::COMPILER).and_then(CompilerSpec::parse) {
                tools.cc = spec.cc();
                tools.cxx = spec.cxx();
                tools.compiler_family = spec.family.as_str().to_string();
            }
            return (tools, problems.remove(0));
        }
    }

    let standard = cell.text(keys::CXX_STANDARD).map(|s| (s, Standard::parse(s)));
    if let Some((text, None)) = &standard {
        problems.push(Availability::unsupported(format!(
            "`{text}` is not a C++ standard gridrun knows (write 17, c++17 or gnu++17)"
        )));
    }
    let standard = standard.and_then(|(_, s)| s);
    tools.std_flag = standard.as_ref().map(|s| s.flag().to_string());

    if let Some(name) = cell.text(keys::COMPILER) {
        match CompilerSpec::parse(name) {
            None => problems.push(Availability::unavailable(format!(
                "compiler {name} is not one gridrun can drive on this host (gcc[-N] or clang[-N])"
            ))),
            Some(spec) => {
                tools.cc = spec.cc();
                tools.cxx = spec.cxx();
                tools.compiler_family = spec.family.as_str().to_string();
                match host.compiler(name) {
                    Some(found) => {
                        tools.compiler_version.clone_from(&found.version);
                        if let Some(std) = &standard {
                            if found.standards.get(std.flag()) == Some(&false) {
                                // A compiler that knows the standard by its draft name builds it, as
                                // CMake and users who write -std=c++2b expect.
                                match std.draft().filter(|d| found.standards.get(d.flag()) == Some(&true)) {
                                    Some(draft) => {
                                        tools.std_flag = Some(draft.flag().to_string());
                                        tools.std_is_draft = true;
                                    }
                                    None => problems.push(Availability::unsupported(format!(
                                        "{name} does not accept -std={}",
                                        std.flag()
                                    ))),
                                }
                            }
                        }
                    }
                    None => {
                        let too_old = standard.as_ref().and_then(|std| {
                            let first = std.first_accepted_by(spec.family)?;
                            (spec.major()? < first).then(|| {
                                format!(
                                    "{name} does not accept -std={} ({} {first} is the first that does)",
                                    std.flag(),
                                    spec.family
                                )
                            })
                        });
                        problems.push(match too_old {
                            Some(reason) => Availability::unsupported(reason),
                            None => Availability::unavailable(format!(
                                "{name} is not installed on this host (no {} and {} on PATH)",
                                spec.cc(),
                                spec.cxx()
                            )),
                        });
                    }
                }
            }
        }
    }

    if let Some(major) = cell.text(keys::LLVM) {
        match host.llvm(major) {
            Some(llvm) => {
                tools.llvm_config = Some(llvm.config.display().to_string());
                tools.llvm_dir = llvm.cmake_dir.as_ref().map(|d| d.display().to_string());
                tools.llvm_version = Some(llvm.version.clone());
            }
            None => {
                problems.push(Availability::unavailable(format!(
                    "LLVM {major} is not installed on this host (no llvm-config-{major} on PATH or in /usr/lib/llvm-{major})"
                )));
            }
        }
    }

    if let Some(value) = cell.text(keys::SANITIZER) {
        match super::sanitizer::parse_list(value) {
            Err(why) => problems.push(Availability::unsupported(why)),
            Ok(list) => {
                let family = cell.text(keys::COMPILER).and_then(CompilerSpec::parse).map(|s| s.family);
                if let Some(why) = super::sanitizer::unsupported(&list, family) {
                    problems.push(Availability::unsupported(why));
                }
                tools.sanitizer_flags = super::sanitizer::flags(&list);
                if !list.is_empty() {
                    let symbolizer = super::sanitizer::symbolizer(family, &tools.compiler_version);
                    tools.sanitizer_env = super::sanitizer::runtime_env(&list, symbolizer.as_deref());
                }
            }
        }
    }

    if cell.get(keys::COVERAGE).and_then(crate::config::Scalar::as_bool) == Some(true) {
        let family = cell.text(keys::COMPILER).and_then(CompilerSpec::parse).map(|s| s.family);
        match super::coverage::gcov(family, &tools.compiler_version) {
            Ok(gcov) => tools.gcov = Some(gcov),
            Err(why) => problems.push(Availability::unavailable(why)),
        }
    }

    // Unsupported wins: no host could run the cell, so where else it might run is moot.
    let availability = problems
        .iter()
        .find(|p| matches!(p, Availability::Unsupported(_)))
        .or_else(|| problems.first())
        .cloned()
        .unwrap_or(Availability::Ready);
    (tools, availability)
}

/// The operating system a platform value means: `ubuntu-22.04` → `linux`, `macos-14` → `macos`.
pub(crate) fn platform_os(platform: &str) -> &str {
    let lower = platform.to_ascii_lowercase();
    for (prefixes, os) in [
        (&["linux", "ubuntu", "debian", "fedora", "centos", "rhel", "rocky", "alma", "alpine", "arch"][..], "linux"),
        (&["macos", "darwin", "osx", "mac"][..], "macos"),
        (&["windows", "win"][..], "windows"),
        (&["freebsd"][..], "freebsd"),
    ] {
        if prefixes.iter().any(|p| lower.starts_with(p)) {
            return os;
        }
    }
    platform
}
