//! The machines a plan may route cells to: this host, the build hosts of the hosts file and the
//! matrix file (each connected and probed once), and container images (each probed inside, once,
//! cached by digest), with the reason a machine cannot be used.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Engine, HostConfig, Hosts};
use crate::remote::{engine, ssh};
use crate::toolchain::{Host, Listing, PROBE_SCRIPT};

/// Where cells may run.
pub struct Machines {
    /// This host.
    pub local: Host,
    /// Whether this host takes cells itself.
    pub local_takes_cells: bool,
    /// The build hosts, in the order they were declared.
    pub hosts: Vec<BuildHost>,
    /// Container images, probed as cells name them.
    images: HashMap<String, Result<Image, String>>,
    /// The engine the images run under, once looked for.
    engine: Option<Result<Engine, String>>,
    /// Where probe answers are cached (`<state>/cache`).
    cache_dir: Option<PathBuf>,
    /// The environment every connection's master gets (the watchdog's token).
    env: Vec<(String, String)>,
}

/// A build host: its table, and either its connection and toolchains or why it cannot be used.
pub struct BuildHost {
    /// The host as declared.
    pub config: HostConfig,
    /// Connected and probed, or why not.
    pub state: Result<Reached, String>,
}

/// A host that answered.
pub struct Reached {
    /// The shared connection.
    pub connection: Arc<ssh::Connection>,
    /// Its toolchains.
    pub host: Host,
    /// Its CPUs and memory as it said.
    pub cpus: u32,
    /// Available memory, bytes (0: unknown).
    pub memory: u64,
}

/// A container image this host has.
pub struct Image {
    /// The name the cell gave.
    pub name: String,
    /// Its digest.
    pub digest: String,
    /// The engine that runs it.
    pub engine: Engine,
    /// The toolchains inside it.
    pub host: Host,
}

impl Machines {
    /// This host only: every cell runs here (or is unavailable).
    pub fn local(local: Host) -> Self {
        Self {
            local,
            local_takes_cells: true,
            hosts: Vec::new(),
            images: HashMap::new(),
            engine: None,
            cache_dir: None,
            env: Vec::new(),
        }
    }

    /// This host and `hosts`, each connected and probed now (in parallel); a host that cannot be
    /// reached is said on stderr and kept with the reason, so its cells go elsewhere. `cache_dir`
    /// keeps probe answers (and where images are probed, theirs); `env` goes to each connection's
    /// master.
    pub fn connect(local: Host, hosts: &Hosts, cache_dir: Option<PathBuf>, env: Vec<(String, String)>) -> Self {
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reached: Vec<Result<Reached, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = hosts
                .hosts
                .iter()
                .map(|config| {
                    let env = &env_refs;
                    let cache = cache_dir.as_ref().map(|d| d.join("hosts").join(format!("{}.json", config.name)));
                    scope.spawn(move || reach(config, env, cache))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("the probe failed".into()))).collect()
        });
        let local_takes_cells = hosts.local;
        let hosts: Vec<BuildHost> = hosts
            .hosts
            .iter()
            .zip(reached)
            .map(|(config, state)| {
                if let Err(why) = &state {
                    crate::note!("host {} cannot be used: {why}; its cells go elsewhere", config.name);
                }
                BuildHost { config: config.clone(), state }
            })
            .collect();
        Self { local, local_takes_cells, hosts, images: HashMap::new(), engine: None, cache_dir, env }
    }

    /// Whether anything but this host may take cells.
    pub fn beyond_local(&self) -> bool {
        !self.hosts.is_empty() || !self.images.is_empty()
    }

    /// The image `name`, probed once (its digest, the toolchains inside it), or why it cannot be
    /// used: no engine, or no such image here.
    pub fn image(&mut self, name: &str, engine: Option<Engine>) -> Result<&Image, &str> {
        if !self.images.contains_key(name) {
            let found = self.engine.get_or_insert_with(|| engine::find(engine)).clone();
            let probed = found.and_then(|engine| {
                let digest = engine::digest(engine, name)?;
                let cache = self
                    .cache_dir
                    .as_ref()
                    .map(|d| d.join("images").join(format!("{}.json", digest.trim_start_matches("sha256:"))));
                let run_image = name.to_string();
                let listing = engine::run_script(engine, name, PROBE_SCRIPT, &["list".into()])
                    .map_err(|e| format!("cannot probe image {name}: {e}"))?;
                let listing =
                    Listing::parse(&listing).ok_or_else(|| format!("image {name} has no POSIX sh to probe"))?;
                let run = Box::new(move |args: &[String]| engine::run_script(engine, &run_image, PROBE_SCRIPT, args));
                Ok(Image { name: name.to_string(), digest, engine, host: Host::from_listing(&listing, cache, run) })
            });
            self.images.insert(name.to_string(), probed);
        }
        match &self.images[name] {
            Ok(image) => Ok(image),
            Err(why) => Err(why),
        }
    }

    /// The image `name`, where it was probed and found.
    pub fn image_found(&self, name: &str) -> Option<&Image> {
        self.images.get(name).and_then(|i| i.as_ref().ok())
    }

    /// The image `name` as probed, mutably (to learn more of its toolchains).
    pub fn image_mut(&mut self, name: &str) -> Option<&mut Image> {
        self.images.get_mut(name).and_then(|i| i.as_mut().ok())
    }

    /// The environment the connections' masters were given.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }
}

/// Connects to a host and lists its toolchains; the table's platform and arch stand over what
/// the host says of itself.
fn reach(config: &HostConfig, env: &[(&str, &str)], cache: Option<PathBuf>) -> Result<Reached, String> {
    let connection = Arc::new(ssh::Connection::open(config, env)?);
    let listing = connection
        .run_script(PROBE_SCRIPT_RUNNER, &["list".into()], Some(PROBE_SCRIPT.as_bytes()))
        .map_err(|e| format!("cannot list its toolchains: {e}"))?;
    let listing = Listing::parse(&listing).ok_or("it has no POSIX sh to list its toolchains with")?;
    let probe = Arc::clone(&connection);
    let run =
        Box::new(move |args: &[String]| probe.run_script(PROBE_SCRIPT_RUNNER, args, Some(PROBE_SCRIPT.as_bytes())));
    let mut host = Host::from_listing(&listing, cache, run);
    if let Some(platform) = &config.platform {
        host.platform.clone_from(platform);
    }
    if let Some(arch) = &config.arch {
        host.arch.clone_from(arch);
    }
    Ok(Reached { connection, host, cpus: listing.cpus, memory: listing.memory })
}

/// How the probe script reaches a host's `sh`: on its stdin, with the arguments given.
const PROBE_SCRIPT_RUNNER: &str = r#"exec sh -s "$@""#;

/// What `gridrun hosts` says of a build host: its table, with what its probe found (platform,
/// architecture, CPUs and memory where the table left them out) where it was probed.
#[derive(Debug, serde::Serialize)]
pub struct HostListing {
    /// The host as declared, completed by its probe.
    #[serde(flatten)]
    pub host: HostConfig,
    /// What the probe found, where it was probed.
    #[serde(flatten)]
    pub probed: Option<Probed>,
}

/// A probe's answer.
#[derive(Debug, serde::Serialize)]
pub struct Probed {
    /// Whether the host answered.
    pub answered: bool,
    /// Its compilers, where it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compilers: Option<Vec<CompilerListing>>,
    /// Its LLVMs, where it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llvms: Option<Vec<LlvmListing>>,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A compiler and its version.
#[derive(Debug, serde::Serialize)]
pub struct CompilerListing {
    /// `gcc-12`.
    pub name: String,
    /// Its full version.
    pub version: String,
}

/// An LLVM and its version.
#[derive(Debug, serde::Serialize)]
pub struct LlvmListing {
    /// `19`.
    pub major: String,
    /// Its full version.
    pub version: String,
}

/// The build hosts `hosts` declares; with `probe`, each connected and probed (its compilers by
/// version: one round of probes per host).
pub fn list_hosts(hosts: &Hosts, probe: bool) -> Vec<HostListing> {
    let mut machines = probe.then(|| Machines::connect(Host::detect(None), hosts, None, Vec::new()));
    for reached in machines.iter_mut().flat_map(|m| m.hosts.iter_mut()).filter_map(|h| h.state.as_mut().ok()) {
        let compilers: Vec<String> = reached.host.compilers.iter().map(|c| c.name.clone()).collect();
        let llvms: Vec<String> = reached.host.llvms.iter().map(|l| l.major.clone()).collect();
        reached.host.learn(
            &compilers.iter().map(String::as_str).collect::<Vec<_>>(),
            &[],
            &llvms.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    hosts
        .hosts
        .iter()
        .enumerate()
        .map(|(i, config)| {
            let mut row = HostListing { host: config.clone(), probed: None };
            match machines.as_ref().map(|m| &m.hosts[i].state) {
                None => {}
                Some(Ok(reached)) => {
                    let machine = &reached.host;
                    row.host.platform = Some(machine.platform.clone());
                    row.host.arch = Some(machine.arch.clone());
                    row.host.cpus = Some(config.cpus.unwrap_or(reached.cpus));
                    row.host.memory = Some(config.memory.unwrap_or(reached.memory));
                    row.probed = Some(Probed {
                        answered: true,
                        compilers: Some(
                            machine
                                .compilers
                                .iter()
                                .map(|c| CompilerListing { name: c.name.clone(), version: c.version.clone() })
                                .collect(),
                        ),
                        llvms: Some(
                            machine
                                .llvms
                                .iter()
                                .map(|l| LlvmListing { major: l.major.clone(), version: l.version.clone() })
                                .collect(),
                        ),
                        error: None,
                    });
                }
                Some(Err(why)) => {
                    row.probed =
                        Some(Probed { answered: false, compilers: None, llvms: None, error: Some(why.clone()) });
                }
            }
            row
        })
        .collect()
}
