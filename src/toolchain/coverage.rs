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
    if which("gcovr").is_none() {
        return Err("coverage needs gcovr, which is not installed (pip install gcovr)".into());
    }
    let major = version.split('.').next().unwrap_or_default();
    match family {
        Some(Family::Clang) => {
            let own = format!("/usr/lib/llvm-{major}/bin/llvm-cov");
            if !major.is_empty() && std::path::Path::new(&own).is_file() {
                return Ok(format!("{own} gcov"));
            }
            newest_llvm_cov()
                .map(|path| format!("{path} gcov"))
                .ok_or_else(|| "coverage with clang needs llvm-cov, which is not installed (an llvm-N package)".into())
        }
        _ => {
            let named = format!("gcov-{major}");
            if !major.is_empty() && which(&named).is_some() {
                Ok(named)
            } else if which("gcov").is_some() {
                Ok("gcov".into())
            } else {
                Err("coverage with gcc needs gcov, which is not installed".into())
            }
        }
    }
}

fn newest_llvm_cov() -> Option<String> {
    let mut found: Vec<(u32, String)> = std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let major: u32 = name.strip_prefix("llvm-")?.parse().ok()?;
            let path = e.path().join("bin/llvm-cov");
            path.is_file().then(|| (major, path.display().to_string()))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, path)| path)
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|p| p.is_file())
}
