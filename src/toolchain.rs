//! The host's toolchains: which gcc-N, clang-N and llvm-config-N are on PATH, their real
//! versions, which `-std=` flags each compiler really accepts (learned by compiling an empty
//! translation unit, cached in the state folder), and what that means for a cell: ready,
//! unsupported (the compiler cannot compile that standard) or unavailable (this host lacks it).

mod cache;
mod capability;
pub mod coverage;
mod detect;
mod probe;
pub mod sanitizer;
mod spec;

pub(crate) use capability::platform_os;
pub use capability::{resolve_cell, Availability, ResolvedToolchain};
pub use detect::{Compiler, Host, Llvm, Remote, RunProbe};
pub use probe::{feed, Listing, SCRIPT as PROBE_SCRIPT};
pub use spec::{CompilerSpec, Family, Standard};

/// A tool of an installed LLVM (`llvm-symbolizer`, `llvm-cov`): `major`'s where that LLVM is
/// installed, else the newest's under `/usr/lib/llvm-N`, else one on `PATH`.
pub(crate) fn llvm_tool(name: &str, major: Option<&str>) -> Option<String> {
    if let Some(own) = major.map(|m| format!("/usr/lib/llvm-{m}/bin/{name}")) {
        if std::path::Path::new(&own).is_file() {
            return Some(own);
        }
    }
    let newest = std::fs::read_dir("/usr/lib")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.strip_prefix("llvm-")?.parse().ok()?;
            let path = e.path().join("bin").join(name);
            path.is_file().then(|| (major, path.display().to_string()))
        })
        .max();
    newest.map(|(_, path)| path).or_else(|| which::which(name).ok().map(|p| p.display().to_string()))
}

/// The cell keys gridrun gives meaning to.
pub mod keys {
    /// The compiler, `gcc-12`, `clang-16`, `gcc`, `clang`.
    pub const COMPILER: &str = "compiler";
    /// The C++ standard, `17` or `c++17` or `gnu++17`.
    pub const CXX_STANDARD: &str = "cxx_standard";
    /// The LLVM major version, `16`.
    pub const LLVM: &str = "llvm";
    /// The platform, `linux`, `macos`, `windows`.
    pub const PLATFORM: &str = "platform";
    /// `allow_failure = true`: the cell's failure fails neither the run nor the fan-out. Not a
    /// value of the cell: it is no part of the slug or the templates.
    pub const ALLOW_FAILURE: &str = "allow_failure";
    /// The container image the cell's steps run in.
    pub const IMAGE: &str = "image";
    /// The sanitizers the cell is built with: `address`, `undefined,address`.
    pub const SANITIZER: &str = "sanitizer";
    /// `coverage = true`: the cell is built for coverage, and its figures read after its steps.
    pub const COVERAGE: &str = "coverage";
}
