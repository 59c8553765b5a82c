//! `gridrun hosts`: the build hosts the hosts file and a matrix file declare, and with
//! `--probe` whether each answers, what it serves (platform, architecture, compilers, LLVMs) and
//! its capacity.

use std::process::ExitCode;

use super::Context;
use crate::cli::HostsArgs;
use crate::error::Result;
use crate::term::cell;

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
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut machines = args.probe.then(|| {
        let local = crate::toolchain::Host::detect(None);
        crate::plan::Machines::connect(local, &hosts, None, Vec::new())
    });
    // What each host's compilers are, by version: one round of probes per host.
    for reached in machines.iter_mut().flat_map(|m| m.hosts.iter_mut()).filter_map(|h| h.state.as_mut().ok()) {
        let compilers: Vec<String> = reached.host.compilers.iter().map(|c| c.name.clone()).collect();
        let llvms: Vec<String> = reached.host.llvms.iter().map(|l| l.major.clone()).collect();
        reached.host.learn(
            &compilers.iter().map(String::as_str).collect::<Vec<_>>(),
            &[],
            &llvms.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    for (i, config) in hosts.hosts.iter().enumerate() {
        let mut row = serde_json::json!({
            "name": config.name,
            "ssh": config.target,
            "port": config.port,
            "declared": config.declared,
            "platform": config.platform,
            "arch": config.arch,
            "cpus": config.cpus,
            "memory": config.memory,
            "jobs": config.jobs,
            "work_dir": config.work_dir,
        });
        if let Some(machines) = &machines {
            let host = &machines.hosts[i];
            match &host.state {
                Ok(reached) => {
                    let machine = &reached.host;
                    row["answered"] = true.into();
                    row["platform"] = machine.platform.clone().into();
                    row["arch"] = machine.arch.clone().into();
                    row["cpus"] = config.cpus.unwrap_or(reached.cpus).into();
                    row["memory"] = config.memory.unwrap_or(reached.memory).into();
                    row["compilers"] = machine
                        .compilers
                        .iter()
                        .map(|c| serde_json::json!({ "name": c.name, "version": c.version }))
                        .collect();
                    row["llvms"] = machine
                        .llvms
                        .iter()
                        .map(|l| serde_json::json!({ "major": l.major, "version": l.version }))
                        .collect();
                }
                Err(why) => {
                    row["answered"] = false.into();
                    row["error"] = why.clone().into();
                }
            }
        }
        rows.push(row);
    }
    let text = if args.json {
        let mut text =
            serde_json::to_string_pretty(&serde_json::json!({ "schema": 1, "local": hosts.local, "hosts": rows }))
                .expect("JSON of plain values");
        text.push('\n');
        text
    } else {
        table(ctx, &rows, hosts.local, args.probe)
    };
    super::print_out(text, "the hosts")?;
    Ok(ExitCode::SUCCESS)
}

fn table(ctx: &Context, rows: &[serde_json::Value], local: bool, probed: bool) -> String {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut table = ctx.style.table();
    let mut header = vec!["host", "ssh", "platform", "arch", "cpus", "memory", "jobs", "work_dir"];
    if probed {
        header.extend(["answered", "compilers"]);
    }
    table.set_header(header.into_iter().map(cell));
    for row in rows {
        let memory =
            row["memory"].as_u64().map_or_else(|| "-".into(), |m| crate::report::terminal::mib(Some(m / 1024)));
        let mut line = vec![
            cell(text(&row["name"])),
            cell(text(&row["ssh"])),
            cell(text(&row["platform"])),
            cell(text(&row["arch"])),
            cell(text(&row["cpus"])),
            cell(memory),
            cell(text(&row["jobs"])),
            cell(text(&row["work_dir"])),
        ];
        if probed {
            let answered =
                if row["answered"] == true { "yes".to_string() } else { format!("no: {}", text(&row["error"])) };
            let compilers: Vec<String> = row["compilers"]
                .as_array()
                .map(|cs| cs.iter().map(|c| format!("{} {}", text(&c["name"]), text(&c["version"]))).collect())
                .unwrap_or_default();
            line.push(cell(answered));
            line.push(cell(compilers.join(", ")));
        }
        table.add_row(line);
    }
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&format!("{table}\n"));
    }
    out.push_str(if local { "this host takes cells too\n" } else { "this host takes no cells (local = false)\n" });
    out
}
