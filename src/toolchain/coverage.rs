//! `coverage = true` (an axis or include key): the cell is built with `--coverage` (GCC's gcov
//! instrumentation, which Clang writes too), and after its steps gridrun has `gcovr` summarise
//! the `.gcda` files of the job's own folder with the gcov its compiler reads: `gcov-N` for
//! gcc-N, `llvm-cov gcov` for clang (its own version's where installed, else the newest).

use super::Family;

/// The compile and link flag.
pub const FLAGS: &str = "--coverage";

/// The gcov command that reads what a compiler of `family` at `version` wrote, or why there is
/// none on this host.
pub fn gcov(family: Option<Family>, version: &str) -> Result<String, String> {
    if which::which("gcovr").is_err() {
        return Err("coverage needs gcovr, which is not installed (pip install gcovr)".into());
    }
    let major = version.split('.').next().filter(|m| !m.is_empty());
    match family {
        Some(Family::Clang) => super::llvm_tool("llvm-cov", major)
            .map(|path| format!("{path} gcov"))
            .ok_or_else(|| "coverage with clang needs llvm-cov, which is not installed (an llvm-N package)".into()),
        _ => {
            let named = major.map(|m| format!("gcov-{m}"));
            match named.filter(|n| which::which(n).is_ok()) {
                Some(named) => Ok(named),
                None if which::which("gcov").is_ok() => Ok("gcov".into()),
                None => Err("coverage with gcc needs gcov, which is not installed".into()),
            }
        }
    }
}
