//! One SSH connection per build host, shared by everything a run asks of it: OpenSSH's own
//! connection sharing (a `ControlMaster` this process starts and owns, with its socket in a
//! private temporary folder), so each probe, upload and step is a new session on one
//! authenticated connection (a few milliseconds) rather than a new login (hundreds).
//!
//! Nothing is passed to the host's shell unquoted: a command is `sh -c SCRIPT NAME ARGS…` with
//! every word single-quoted, and the host's name and options are validated when the hosts file
//! is read (none starts with `-`).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::HostConfig;

/// The kind of error that says the host (or the connection to it) was lost: ssh's own exit 255.
pub const LOST: io::ErrorKind = io::ErrorKind::ConnectionAborted;

/// How long a host has to accept the connection and log in.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may go unanswered before it is taken for lost: keep-alives every
/// `ALIVE_INTERVAL`, `ALIVE_COUNT` of them unanswered.
const ALIVE_INTERVAL: u32 = 2;
const ALIVE_COUNT: u32 = 3;

/// A live connection to a build host.
#[derive(Debug)]
pub struct Connection {
    /// The host as the hosts file declared it.
    pub config: HostConfig,
    /// The master's control socket.
    socket: PathBuf,
    /// The master process, which holds the connection; killed when this is dropped.
    master: Child,
    /// The folder holding the socket.
    _dir: tempfile::TempDir,
}

impl Connection {
    /// Connects to `config`'s host and logs in, or says why it cannot within
    /// [`CONNECT_TIMEOUT`]. `env` goes into the master's environment (the run's token, so the
    /// run's watchdog ends it should gridrun itself die).
    pub fn open(config: &HostConfig, env: &[(&str, &str)]) -> Result<Self, String> {
        // The socket's path must fit in a sockaddr_un (about 100 bytes): a short folder of its own.
        let dir = tempfile::Builder::new().prefix("gridrun-ssh-").tempdir_in("/tmp").map_err(|e| e.to_string())?;
        let socket = dir.path().join("s");
        let mut command = Command::new("ssh");
        command
            .args(base_options(config))
            .args(["-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N", "-S"])
            .arg(&socket)
            .arg("--")
            .arg(&config.target)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command.envs(env.iter().copied());
        let mut master = command.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            if socket.exists() && check(config, &socket) {
                return Ok(Self { config: config.clone(), socket, master, _dir: dir });
            }
            if let Some(status) = master.try_wait().map_err(|e| e.to_string())? {
                let mut said = String::new();
                if let Some(mut err) = master.stderr.take() {
                    let _ = io::Read::read_to_string(&mut err, &mut said);
                }
                let said = crate::text::one_line(said.trim()).into_owned();
                return Err(if said.is_empty() { format!("ssh exited with {status}") } else { said });
            }
            if Instant::now() > deadline {
                let _ = master.kill();
                let _ = master.wait();
                return Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The host's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// `ssh` with this connection's options and socket, ready for a remote command.
    pub fn command(&self) -> Command {
        let mut command = Command::new("ssh");
        command.args(self.args());
        command
    }

    /// The arguments of [`Connection::command`], up to and including the host.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = base_options(&self.config).into_iter().map(OsString::from).collect();
        args.extend(["-o", "ControlMaster=no", "-S"].map(OsString::from));
        args.push(self.socket.clone().into_os_string());
        args.push("--".into());
        args.push(self.config.target.clone().into());
        args
    }

    /// Runs `script` with `sh -c` on the host with these arguments, its stdin `input`, and
    /// returns its stdout; an error where it could not run or exited with a failure.
    pub fn run_script(&self, script: &str, args: &[String], input: Option<&[u8]>) -> io::Result<String> {
        let mut command = self.command();
        command.arg(sh_command(script, args));
        let expression =
            duct::cmd(command.get_program(), command.get_args()).stdout_capture().stderr_capture().unchecked();
        let expression = match input {
            Some(bytes) => expression.stdin_bytes(bytes.to_vec()),
            None => expression.stdin_null(),
        };
        let out = expression.run()?;
        if out.status.code() == Some(255) {
            return Err(io::Error::new(LOST, format!("{}: {}", self.name(), crate::text::said(&out.stderr))));
        }
        if !out.status.success() {
            return Err(io::Error::other(format!("{}: {}", self.name(), crate::text::said(&out.stderr))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether the connection still answers.
    pub fn alive(&mut self) -> bool {
        matches!(self.master.try_wait(), Ok(None)) && check(&self.config, &self.socket)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = Command::new("ssh")
            .args(base_options(&self.config))
            .arg("-S")
            .arg(&self.socket)
            .args(["-O", "exit", "--", &self.config.target])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

/// The options every ssh invocation for `config` takes: no questions asked (a missing key is an
/// error, not a prompt), a bounded login, keep-alives that notice a lost host, and the table's
/// port, identity and options.
fn base_options(config: &HostConfig) -> Vec<String> {
    // ssh takes the first value given for an option: the table's own options come first.
    let mut args: Vec<String> = config.options.iter().flat_map(|o| ["-o".to_string(), o.clone()]).collect();
    args.extend(
        [
            "BatchMode=yes",
            "StrictHostKeyChecking=accept-new",
            "LogLevel=ERROR",
            &format!("ConnectTimeout={}", CONNECT_TIMEOUT.as_secs()),
            &format!("ServerAliveInterval={ALIVE_INTERVAL}"),
            &format!("ServerAliveCountMax={ALIVE_COUNT}"),
        ]
        .iter()
        .flat_map(|o| ["-o".to_string(), (*o).to_string()]),
    );
    if let Some(port) = config.port {
        args.extend(["-p".into(), port.to_string()]);
    }
    if let Some(identity) = &config.identity {
        args.extend(["-i".into(), identity.display().to_string(), "-o".into(), "IdentitiesOnly=yes".into()]);
    }
    args
}

/// Whether the master behind `socket` answers.
fn check(config: &HostConfig, socket: &Path) -> bool {
    Command::new("ssh")
        .args(base_options(config))
        .arg("-S")
        .arg(socket)
        .args(["-O", "check", "--", &config.target])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `sh -c 'SCRIPT' gridrun 'ARG'…`: one remote command line in which every word is quoted for a
/// POSIX shell, so the host's login shell hands the script its arguments as they are.
pub fn sh_command(script: &str, args: &[String]) -> String {
    let mut line = format!("sh -c {} gridrun", quote(script));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

/// `text` in single quotes for a POSIX shell (a `'` written as `'\''`).
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_reach_the_script_as_they_are() {
        let args = vec!["it's".to_string(), "$HOME `x` \"y\"".to_string(), String::new(), "a\nb".to_string()];
        let line = sh_command(r#"for a do printf '[%s]' "$a"; done"#, &args);
        let out = Command::new("sh").arg("-c").arg(&line).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "[it's][$HOME `x` \"y\"][][a\nb]");
    }
}
