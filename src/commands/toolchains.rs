//! `gridrun toolchains`: what this host can build with.

use std::process::ExitCode;

use super::Context;
use crate::cli::ToolchainsArgs;
use crate::config;
use crate::error::Result;
use crate::toolchain::{Host, Standard};

pub(super) fn run(ctx: &Context, args: &ToolchainsArgs) -> Result<ExitCode> {
    let cache = match &ctx.state_dir {
        Some(dir) => Some(std::path::absolute(dir).unwrap_or_else(|_| dir.clone())),
        None => {
            std::env::current_dir().ok().and_then(|cwd| config::discover(&cwd)).and_then(|m| ctx.state_dir(&m).ok())
        }
    }
    .map(|dir| dir.join("cache").join("toolchains.json"));
    let mut host = Host::detect(cache);
    host.learn_all();

    if args.json {
        let json = serde_json::json!({
            "schema": 1,
            "platform": host.platform,
            "arch": host.arch,
            "compilers": host.compilers,
            "llvms": host.llvms,
        });
        let mut text = serde_json::to_string_pretty(&json).expect("serializable");
        text.push('\n');
        super::print_out(text, "the toolchains")?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut text = format!("platform: {} ({})\n", host.platform, host.arch);
    let mut table = ctx.style.table();
    table.set_header(["compiler", "version", "C++ standards accepted", "C", "C++"]);
    for c in &host.compilers {
        let accepted: Vec<&str> = Standard::KNOWN
            .iter()
            .copied()
            .filter(|s| Standard::parse(s).is_some_and(|std| c.standards.get(std.flag()) == Some(&true)))
            .collect();
        table.add_row([
            crate::term::cell(&c.name),
            crate::term::cell(&c.version),
            crate::term::cell(accepted.join(" ")),
            crate::term::cell(c.cc.display()),
            crate::term::cell(c.cxx.display()),
        ]);
    }
    if host.compilers.is_empty() {
        text.push_str("no gcc or clang found on PATH\n");
    } else {
        text.push_str(&format!("{table}\n"));
    }
    if !host.llvms.is_empty() {
        let mut table = ctx.style.table();
        table.set_header(["llvm", "version", "llvm-config", "cmake dir (LLVM_DIR)"]);
        for l in &host.llvms {
            table.add_row([
                crate::term::cell(&l.major),
                crate::term::cell(&l.version),
                crate::term::cell(l.config.display()),
                crate::term::cell(l.cmake_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default()),
            ]);
        }
        text.push_str(&format!("{table}\n"));
    }
    super::print_out(text, "the toolchains")?;
    Ok(ExitCode::SUCCESS)
}
