//! Is the gridrun that owns a run still alive? A pid alone can be reused, so a run records its
//! process's start time too (field 22 of /proc/PID/stat).

/// A process as the kernel can tell it apart from a later one with the same pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// The pid.
    pub pid: u32,
    /// Its start time in clock ticks since boot; 0 where unknown.
    pub start: u64,
}

impl ProcessIdentity {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self { pid, start: start_time(pid).unwrap_or(0) }
    }

    /// Whether that process still runs (a zombie has ended, whoever has yet to reap it).
    pub fn is_alive(self) -> bool {
        match stat_fields(self.pid) {
            Some((state, start)) => state != 'Z' && (self.start == 0 || start == self.start),
            None => false,
        }
    }
}

fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid).map(|(_, start)| start)
}

/// The state letter and start time of a process, from /proc/PID/stat.
fn stat_fields(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let state = after.chars().next()?;
    Some((state, after.split_whitespace().nth(19)?.parse().ok()?))
}
