//! `gridrun hosts`: the build hosts the hosts file and a matrix file declare, and with
//! `--probe` whether each answers, what it serves (platform, architecture, compilers, LLVMs) and
//! its capacity.

use std::process::ExitCode;

use super::Context;
use crate::cli::HostsArgs;
use crate::error::Result;

pub(super) fn run(ctx: &Context, args: &HostsArgs) -> Result<ExitCode> {
    let files = match &args.matrix {
        Some(matrix) => ctx.load(Some(matrix))?.1,
        None => Vec::new(),
    };
    let hosts = ctx.hosts(&files)?;
    if hosts.hosts.is_empty() {
        crate::note!(
            "no build hosts: name them in {} (or --hosts FILE, GRIDRUN_HOSTS) or a matrix file's [hosts.NAME]",
            crate::config::hosts_file(None)
                .ok()
                .flatten()
                .map_or_else(|| "$XDG_CONFIG_HOME/gridrun/hosts.toml".into(), |p| p.display().to_string())
        );
    }
    let rows = crate::plan::list_hosts(&hosts, args.probe);
    if args.json {
        super::print_json(&serde_json::json!({ "schema": 1, "local": hosts.local, "hosts": rows }), "the hosts")?;
    } else {
        super::print_out(crate::report::terminal::hosts(ctx.style, &rows, hosts.local, args.probe), "the hosts")?;
    }
    Ok(ExitCode::SUCCESS)
}
