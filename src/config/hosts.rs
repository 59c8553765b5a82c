//! Build hosts: `[hosts.NAME]` tables in a hosts file (`--hosts FILE`, `GRIDRUN_HOSTS`, else
//! `$XDG_CONFIG_HOME/gridrun/hosts.toml` where it exists) and in a matrix file, which adds hosts
//! or overrides one of the same name.
//!
//! ```toml
//! local = true                    # whether this machine takes cells too (default true)
//!
//! [hosts.mac]
//! ssh = "builder@mac-mini.lan"    # [user@]host
//! port = 22
//! identity = "~/.ssh/id_ed25519"
//! options = ["ProxyJump=bastion"] # more `ssh -o` options
//! platform = "macos"              # what it serves (default: what it says, `uname`)
//! arch = "arm64"
//! cpus = 8                        # CPU slots to share out (default: its CPUs)
//! memory = "16GiB"                # memory to share out (default: no reservation)
//! jobs = 4                        # jobs at once at most
//! work_dir = "/tmp/gridrun"       # where its jobs' sources and folders go
//! ```

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::SourceFile;
use super::load::Validator;
use super::{ConfigError, SizeValue};

/// Where a host's jobs go when its table does not say.
pub const DEFAULT_WORK_DIR: &str = "/tmp/gridrun-work";

/// A build host, validated; as `gridrun hosts --json` lists it (without its SSH identity and
/// options).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostConfig {
    /// Its name: a word, as `[hosts.NAME]` wrote it.
    pub name: String,
    /// `[user@]host`, never starting with `-`.
    #[serde(rename = "ssh")]
    pub target: String,
    /// The SSH port, where not the default.
    pub port: Option<u16>,
    /// The identity file (`-i`), `~` expanded.
    #[serde(skip)]
    pub identity: Option<PathBuf>,
    /// More `-o Key=Value` options.
    #[serde(skip)]
    pub options: Vec<String>,
    /// The platform it serves, where the table says (else probed).
    pub platform: Option<String>,
    /// The architecture it serves, where the table says (else probed).
    pub arch: Option<String>,
    /// CPU slots, where the table says (else probed).
    pub cpus: Option<u32>,
    /// Memory to share out, bytes.
    pub memory: Option<u64>,
    /// Jobs at once at most.
    pub jobs: Option<u32>,
    /// Where its jobs' sources and folders go (an absolute path on the host).
    pub work_dir: String,
    /// The file and line that declared it, for messages.
    pub declared: String,
}

/// The hosts a run may use.
#[derive(Clone, Debug, Default)]
pub struct Hosts {
    /// Whether this machine takes cells itself.
    pub local: bool,
    /// The hosts, in the order they were declared (the matrix file's after the hosts file's).
    pub hosts: Vec<HostConfig>,
}

impl Hosts {
    /// No build hosts: this machine runs every cell.
    pub fn none() -> Self {
        Self { local: true, hosts: Vec::new() }
    }

    /// `more` added, a host of the same name replaced (a matrix file's hosts over the file's).
    #[must_use]
    pub fn merged(mut self, more: &[HostConfig]) -> Self {
        for host in more {
            match self.hosts.iter_mut().find(|h| h.name == host.name) {
                Some(existing) => existing.clone_from(host),
                None => self.hosts.push(host.clone()),
            }
        }
        self
    }
}

/// Where the hosts file is: `--hosts`, `GRIDRUN_HOSTS`, else `$XDG_CONFIG_HOME/gridrun/hosts.toml`
/// (`~/.config/…`) if it exists. A file named outright must exist.
pub fn hosts_file(named: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let named = named
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("GRIDRUN_HOSTS").filter(|v| !v.is_empty()).map(PathBuf::from));
    if let Some(path) = named {
        if !path.is_file() {
            return Err(ConfigError::whole_file(&path, "no such hosts file"));
        }
        return Ok(Some(path));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")));
    Ok(config.map(|c| c.join("gridrun").join("hosts.toml")).filter(|p| p.is_file()))
}

/// Loads a hosts file: `local` and its `[hosts.NAME]` tables.
pub fn load_hosts(path: &Path) -> Result<Hosts, ConfigError> {
    let cannot_read = |e: &dyn std::fmt::Display| ConfigError::whole_file(path, format!("cannot read: {e}"));
    let bytes = crate::boundedread::read(path, 1 << 20).map_err(|e| cannot_read(&e))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot_read(&"stream did not contain valid UTF-8"))?;
    let file = SourceFile { path: path.to_path_buf(), text: text.trim_start_matches('\u{feff}').into() };
    let raw: RawHostsFile = toml::from_str(&file.text).map_err(|e| super::load::toml_error(&file, &e))?;
    let validator = Validator { file: &file };
    let hosts = validator.hosts(raw.hosts)?;
    Ok(Hosts { local: raw.local.unwrap_or(true), hosts })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHostsFile {
    local: Option<bool>,
    hosts: Option<IndexMap<Spanned<String>, Spanned<RawHost>>>,
}

/// A `[hosts.NAME]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    ssh: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    identity: Option<Spanned<String>>,
    options: Option<Vec<Spanned<String>>>,
    platform: Option<Spanned<String>>,
    arch: Option<Spanned<String>>,
    cpus: Option<Spanned<i64>>,
    memory: Option<SizeValue>,
    jobs: Option<Spanned<i64>>,
    work_dir: Option<Spanned<String>>,
}

/// A matrix file's `local` and `[hosts.NAME]` tables, as written.
pub(super) type RawMatrixHosts = IndexMap<Spanned<String>, Spanned<RawHost>>;

impl Validator<'_> {
    pub(super) fn hosts(&self, raw: Option<RawMatrixHosts>) -> Result<Vec<HostConfig>, ConfigError> {
        let mut hosts = Vec::new();
        for (name, table) in raw.unwrap_or_default() {
            let span = table.span();
            let table = table.into_inner();
            let word = |text: &str| {
                !text.is_empty()
                    && text.len() <= 64
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            };
            if !word(name.get_ref()) || name.get_ref() == "local" {
                return Err(self.file.error(
                    name.span(),
                    format!(
                        "hosts: `{}` cannot name a host: use letters, digits, `-` and `_` (and not `local`)",
                        crate::text::one_line(name.get_ref())
                    ),
                ));
            }
            let host = name.get_ref();
            let Some(ssh) = table.ssh else {
                return Err(self
                    .file
                    .error(span, format!("hosts.{host}: `ssh` is missing: the host to reach, `[user@]host`")));
            };
            let bad_word = |value: &Spanned<String>, key: &str, what: &str| -> Result<String, ConfigError> {
                let text = value.get_ref();
                if text.is_empty() || text.starts_with('-') || text.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(self.file.error(
                        value.span(),
                        format!("hosts.{host}.{key}: `{}` is not {what}", crate::text::one_line(text)),
                    ));
                }
                Ok(text.clone())
            };
            let target = bad_word(&ssh, "ssh", "a host to reach: `[user@]host`, not starting with `-`, no spaces")?;
            let port = match table.port {
                Some(p) => Some(u16::try_from(*p.get_ref()).ok().filter(|p| *p > 0).ok_or_else(|| {
                    self.file.error(p.span(), format!("hosts.{host}.port must be a port number, 1 to 65535"))
                })?),
                None => None,
            };
            let identity = table
                .identity
                .map(|i| bad_word(&i, "identity", "a key file's path").map(|p| expand_home(&p)))
                .transpose()?;
            let options = table
                .options
                .unwrap_or_default()
                .iter()
                .map(|o| {
                    let option = bad_word(o, "options", "an ssh option: `Key=Value`")?;
                    if option.contains('=') {
                        Ok(option)
                    } else {
                        Err(self.file.error(
                            o.span(),
                            format!("hosts.{host}.options: `{option}` is not an ssh option: `Key=Value`"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?;
            let positive = |value: Option<Spanned<i64>>, key: &str| -> Result<Option<u32>, ConfigError> {
                value
                    .map(|v| match u32::try_from(*v.get_ref()) {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(self
                            .file
                            .error(v.span(), format!("hosts.{host}.{key} must be a whole number of at least 1"))),
                    })
                    .transpose()
            };
            let work_dir = match table.work_dir {
                Some(dir) => {
                    let text = dir.get_ref();
                    if !text.starts_with('/')
                        || text.chars().any(char::is_control)
                        || text.split('/').any(|part| part == "..")
                    {
                        return Err(self.file.error(
                            dir.span(),
                            format!("hosts.{host}.work_dir must be an absolute path on the host, without `..`"),
                        ));
                    }
                    text.trim_end_matches('/').to_string()
                }
                None => DEFAULT_WORK_DIR.to_string(),
            };
            let (line, _) = self.file.error(span.clone(), "").line_col().unwrap_or((0, 0));
            hosts.push(HostConfig {
                name: host.clone(),
                target,
                port,
                identity,
                options,
                platform: table.platform.map(|p| bad_word(&p, "platform", "a platform")).transpose()?,
                arch: table.arch.map(|a| bad_word(&a, "arch", "an architecture")).transpose()?,
                cpus: positive(table.cpus, "cpus")?,
                memory: table.memory.map(|m| m.0),
                jobs: positive(table.jobs, "jobs")?,
                work_dir,
                declared: format!("{}:{line}", self.file.path.display()),
            });
        }
        Ok(hosts)
    }
}

/// `~/x` as `$HOME/x`, on this machine.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
