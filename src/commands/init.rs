//! `gridrun init`: a starter `gridrun.toml` for the project in the current folder, naming the
//! compilers this host has and the build system the folder uses.

use std::process::ExitCode;

use crate::cli::InitArgs;
use crate::config::DEFAULT_FILE;
use crate::error::{Error, Result};
use crate::toolchain::{Family, Host};

pub(super) fn run(args: &InitArgs) -> Result<ExitCode> {
    let cwd = std::env::current_dir().map_err(Error::io("cannot read the current directory"))?;
    let path = cwd.join(DEFAULT_FILE);
    if path.exists() && !args.force {
        return Err(Error::Usage(format!("{} exists; pass --force to replace it", path.display())));
    }
    let name = cwd.file_name().map_or_else(|| "project".into(), |n| n.to_string_lossy().into_owned());
    let host = Host::detect(None);
    let compilers: Vec<&str> = host.compilers.iter().map(|c| c.name.as_str()).collect();
    let has_clang = host.compilers.iter().any(|c| c.family == Family::Clang);
    let llvms: Vec<&str> = host.llvms.iter().filter(|_| has_clang).map(|l| l.major.as_str()).collect();
    let text = crate::config::starter(&name, &compilers, &llvms, &cwd);
    std::fs::write(&path, text).map_err(Error::io(format!("cannot write {}", path.display())))?;
    super::print_out(
        format!("wrote {}: check it with `gridrun plan`, run it with `gridrun run`\n", path.display()),
        "to stdout",
    )?;
    Ok(ExitCode::SUCCESS)
}
