//! The machines a Slurm cluster offers: its nodes, probed by a short task (through `srun`), which
//! also checks that they see the state folder and gridrun's binary where this host does. What a
//! node said of itself is kept a day, so a busy cluster need not run a probe task before every
//! run (and a drained one could not).

use std::path::Path;
use std::time::Duration;

use super::cluster::{self, Cluster};
use crate::config::Slurm;
use crate::error::{Error, Result};
use crate::plan::Machines;
use crate::remote::ssh::quote;
use crate::toolchain::{Host, Listing, PROBE_SCRIPT};

/// How long a node's probe answers are trusted.
const LISTING_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The cluster this is a login node of, as the machine cells go to; `slurm` is the file's
/// `[slurm]` with the command line's flags over it.
pub fn machines(slurm: &Slurm, state_dir: &Path) -> Result<Machines> {
    let cluster = Cluster::detect().map_err(Error::Usage)?;
    let mut options = vec!["--time=5".to_string(), "--mem=256M".to_string()];
    for (flag, value) in [("--partition", &slurm.partition), ("--account", &slurm.account), ("--qos", &slurm.qos)] {
        if let Some(value) = value {
            options.push(format!("{flag}={value}"));
        }
    }
    let state_dir = std::path::absolute(state_dir).map_err(Error::io("cannot resolve the state folder"))?;
    let name = format!("slurm-{}-{}", cluster.name, slurm.partition.as_deref().unwrap_or("default"));
    let cache = state_dir.join("cache");
    let listing_file = cache.join(format!("{name}.listing"));
    let listing = match fresh_listing(&listing_file) {
        Some(listing) => listing,
        None => {
            let text = probe(&cluster, &options, &state_dir)?;
            let _ = std::fs::create_dir_all(&cache);
            let _ = crate::outfile::write_path(&listing_file, text.as_bytes());
            Listing::parse(&text).ok_or_else(|| {
                Error::Usage(format!("{} has no POSIX sh to probe its toolchains with", node_of(&text)))
            })?
        }
    };
    let run = Box::new(move |args: &[String]| cluster::srun_script(&options, PROBE_SCRIPT, args));
    Ok(Machines::local(Host::from_listing(&listing, Some(cache.join(format!("{name}.json"))), run)))
}

/// The listing a node gave less than a day ago.
fn fresh_listing(file: &Path) -> Option<Listing> {
    let age = std::fs::metadata(file).and_then(|m| m.modified()).ok()?.elapsed().ok()?;
    if age >= LISTING_LIFETIME {
        return None;
    }
    Listing::parse(&std::fs::read_to_string(file).ok()?)
}

/// A node's listing of its toolchains, once it has shown that it shares the state folder and
/// has gridrun's binary.
fn probe(cluster: &Cluster, options: &[String], state_dir: &Path) -> Result<String> {
    let probe_dir = state_dir.join("slurm");
    std::fs::create_dir_all(&probe_dir).map_err(Error::io(format!("cannot create {}", probe_dir.display())))?;
    let marker = tempfile::Builder::new()
        .prefix("probe-")
        .tempfile_in(&probe_dir)
        .map_err(Error::io(format!("cannot write into {}", probe_dir.display())))?;
    let binary = super::submit::binary();
    let preamble = format!(
        "[ -e {marker} ] && printf 'shared\\tyes\\n'\n[ -x {binary} ] && printf 'binary\\tyes\\n'\nhostname | sed 's/^/node\\t/'\n",
        marker = quote(&marker.path().display().to_string()),
        binary = quote(&binary.display().to_string())
    );
    let script = format!("{preamble}{PROBE_SCRIPT}");
    let listing = cluster::srun_script(options, &script, &["list".into()])
        .map_err(|e| Error::Usage(format!("cannot probe a node of cluster {}: {e}", cluster.name)))?;
    let node = node_of(&listing);
    if !listing.lines().any(|l| l == "shared\tyes") {
        return Err(Error::Usage(format!(
            "the state folder {} is not on a file system the nodes share ({node} cannot see it); put it on one \
             (--state-dir or GRIDRUN_STATE_DIR)",
            state_dir.display()
        )));
    }
    if !listing.lines().any(|l| l == "binary\tyes") {
        return Err(Error::Usage(format!(
            "{node} cannot run gridrun at {}; install it at the same path on the nodes (or on a shared file system)",
            binary.display()
        )));
    }
    Ok(listing)
}

/// The node a listing came from.
fn node_of(listing: &str) -> &str {
    listing.lines().find_map(|l| l.strip_prefix("node\t")).unwrap_or("a node")
}
