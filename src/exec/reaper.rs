//! Making sure nothing a run started outlives it. Every job process carries `GRIDRUN_TOKEN` in its
//! environment; a small watchdog process (`gridrun __reap TOKEN`) waits for gridrun to go away —
//! however it goes, SIGKILL included — and then ends every process still carrying the token. The
//! next command sweeps the same way for runs it finds abandoned.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{signal_process, Signal};

/// The environment variable that marks a run's processes.
pub const TOKEN_VAR: &str = "GRIDRUN_TOKEN";

/// A token no other run shares: this process, the time, and what it marks.
pub fn new_token(what: &str) -> String {
    format!(
        "{:x}-{:x}-{what}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    )
}

/// The watchdog of one run. Dropping it (or gridrun dying) sets it off.
pub struct Reaper {
    child: Option<Child>,
}

impl Reaper {
    /// Starts the watchdog for `token`. A watchdog that cannot start leaves the run without one;
    /// the next command's sweep still finds what is left.
    pub fn spawn(token: &str, grace: Duration) -> Self {
        let child = std::env::current_exe().ok().and_then(|exe| {
            Command::new(exe)
                .args(["__reap", token, "--grace-ms", &grace.as_millis().to_string()])
                .env_remove(TOKEN_VAR)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own group: a Ctrl-C at the terminal must not take the watchdog too.
                .process_group(0)
                .spawn()
                .ok()
        });
        Self { child }
    }

    /// The run is over and cleaned up: the watchdog exits without sweeping.
    pub fn dismiss(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"done\n");
            }
            // Reap it in the background so it does not linger as a zombie.
            std::thread::spawn(move || child.wait());
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // Closing its stdin without "done" makes it sweep.
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            std::thread::spawn(move || child.wait());
        }
    }
}

/// The watchdog's side: waits for its stdin to close, then sweeps unless told "done".
pub fn watch(token: &str, grace: Duration) {
    let mut said = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut said);
    if said.starts_with(b"done") {
        return;
    }
    sweep(token, grace);
}

/// Ends every process carrying `token`: SIGTERM, then SIGKILL for whatever is left after `grace`.
/// Returns how many processes it found.
pub fn sweep(token: &str, grace: Duration) -> usize {
    // Processes still in the run's cgroups go first, however they left the process groups.
    super::cgroup::sweep(token);
    let found = marked(token);
    if found.is_empty() {
        return 0;
    }
    for pid in &found {
        signal_process(*pid, Signal::TERM);
    }
    let until = Instant::now().checked_add(grace).unwrap_or_else(Instant::now);
    while Instant::now() < until && !marked(token).is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Processes may have forked meanwhile; keep killing until none is left.
    for _ in 0..10 {
        let left = marked(token);
        if left.is_empty() {
            break;
        }
        for pid in left {
            signal_process(pid, Signal::KILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    found.len()
}

/// The processes whose environment holds `GRIDRUN_TOKEN=<token>`.
pub fn marked(token: &str) -> Vec<i32> {
    let needle = format!("{TOKEN_VAR}={token}");
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == needle.as_bytes()))
        })
        .filter(|pid| !is_zombie(*pid))
        .filter_map(|pid| i32::try_from(pid).ok())
        .collect()
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').and_then(|i| s[i + 2..].chars().next()))
        .is_some_and(|state| state == 'Z')
}
