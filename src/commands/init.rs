//! `gridrun init`: a starter `gridrun.toml` for the project in the current folder, naming the
//! compilers this host has and the build system the folder uses.

use std::fmt::Write as _;
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
    let text = starter(&name, &host, &cwd);
    std::fs::write(&path, text).map_err(Error::io(format!("cannot write {}", path.display())))?;
    super::print_out(
        format!("wrote {}: check it with `gridrun plan`, run it with `gridrun run`\n", path.display()),
        "to stdout",
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The starter file's text.
fn starter(name: &str, host: &Host, dir: &std::path::Path) -> String {
    // Versioned names pin a compiler; a bare gcc/clang only stands in where no versioned one is.
    let versioned: Vec<&str> = host.compilers.iter().map(|c| c.name.as_str()).filter(|n| n.contains('-')).collect();
    let compilers: Vec<&str> =
        if versioned.is_empty() { host.compilers.iter().map(|c| c.name.as_str()).collect() } else { versioned };
    let compilers = if compilers.is_empty() { vec!["gcc", "clang"] } else { compilers };
    let has_llvm = host.compilers.iter().any(|c| c.family == Family::Clang) && !host.llvms.is_empty();
    let quoted = |items: &[&str]| items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", ");
    // A top-level key must come before the first table, so the preset leads the file.
    let preset = ["CMakeLists.txt", "meson.build", "Makefile"]
        .into_iter()
        .zip(["cmake", "meson", "make"])
        .find(|(file, _)| dir.join(file).is_file())
        .map(|(_, preset)| preset);
    let mut out = String::new();
    let _ = writeln!(out, "# gridrun matrix: `gridrun plan` lists the jobs, `gridrun run` runs them.");
    if let Some(preset) = preset {
        let _ = writeln!(out, "preset = {preset:?}\n");
    }
    let _ = writeln!(out, "[project]\nname = {name:?}\nsource = {{ path = \".\" }}\n");
    let _ = writeln!(out, "[matrix]");
    let _ = writeln!(out, "compiler = [{}]", quoted(&compilers));
    let _ = writeln!(out, "cxx_standard = [\"17\", \"20\", \"23\"]");
    let _ = writeln!(out, "build_type = [\"Debug\", \"Release\"]");
    if has_llvm {
        let _ =
            writeln!(out, "# llvm = [{}]", quoted(&host.llvms.iter().map(|l| l.major.as_str()).collect::<Vec<_>>()));
    }
    let _ = writeln!(out, "\n[limits]\ncpus = 1\ntimeout = \"30m\"\n");
    if preset.is_none() {
        let _ = writeln!(
            out,
            "[[steps]]\nname = \"build\"\nrun = \"{{{{ cxx }}}} -std=c++{{{{ cxx_standard }}}} -o {{{{ build_dir }}}}/main main.cpp\""
        );
    }
    out
}
