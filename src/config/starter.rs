//! The starter matrix file `gridrun init` writes: the compilers the host has and the build system
//! the folder uses, with the common axes and limits to edit from.

use std::fmt::Write as _;
use std::path::Path;

/// The text of a starter file for project `name` in `dir`: a compiler axis of `compilers` (the
/// versioned names where there are any; gcc and clang where none), and `llvms` in a comment.
pub fn starter(name: &str, compilers: &[&str], llvms: &[&str], dir: &Path) -> String {
    // Versioned names pin a compiler; a bare gcc/clang only stands in where no versioned one is.
    let versioned: Vec<&str> = compilers.iter().copied().filter(|n| n.contains('-')).collect();
    let compilers: Vec<&str> = if versioned.is_empty() { compilers.to_vec() } else { versioned };
    let compilers = if compilers.is_empty() { vec!["gcc", "clang"] } else { compilers };
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
    if !llvms.is_empty() {
        let _ = writeln!(out, "# llvm = [{}]", quoted(llvms));
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
