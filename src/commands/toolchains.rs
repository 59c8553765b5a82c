//! `gridrun toolchains`: what this host can build with.

use std::process::ExitCode;

use super::Context;
use crate::cli::ToolchainsArgs;
use crate::config;
use crate::error::Result;
use crate::toolchain::Host;

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
        let doc = serde_json::json!({
            "schema": 1,
            "platform": host.platform,
            "arch": host.arch,
            "compilers": host.compilers,
            "llvms": host.llvms,
        });
        super::print_json(&doc, "the toolchains")?;
    } else {
        super::print_out(crate::report::terminal::toolchains(ctx.style, &host), "the toolchains")?;
    }
    Ok(ExitCode::SUCCESS)
}
