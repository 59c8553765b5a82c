//! The process system calls gridrun makes, in one place: signals to a process or a whole process
//! group, stopping itself (Ctrl-Z), its own peak memory, and reaping a child with its resource
//! usage. Through rustix; `wait4`, which rustix does not offer, through libc.

use std::io;

pub use rustix::process::Signal;

/// Sends `signal` to process `pid`; a process that is already gone is fine.
pub fn signal_process(pid: i32, signal: Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Sends `signal` to process group `group`; a group that is already gone is fine.
pub fn signal_group(group: i32, signal: Signal) {
    if let Some(group) = rustix::process::Pid::from_raw(group) {
        let _ = rustix::process::kill_process_group(group, signal);
    }
}

/// Stops gridrun itself, as the terminal's Ctrl-Z would had gridrun not caught it; returns when
/// the shell continues it.
pub fn stop_self() {
    let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::STOP);
}

/// gridrun's own peak resident memory, KiB (`VmHWM`).
pub fn own_peak_rss_kb() -> u64 {
    // getrusage is one system call; reading /proc/self/status for VmHWM was several and a parse.
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the buffer it is given, which is large enough.
    #[allow(unsafe_code)]
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return 0;
        }
        usage.assume_init()
    };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

/// How a reaped child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl Exit {
    /// Reads a raw `wait` status.
    pub fn from_raw(status: i32) -> Option<Self> {
        if libc::WIFEXITED(status) {
            Some(Self::Code(libc::WEXITSTATUS(status)))
        } else if libc::WIFSIGNALED(status) {
            Some(Self::Signal(libc::WTERMSIG(status)))
        } else {
            None
        }
    }
}

/// Waits for `pid` and returns its raw status and resource usage (CPU time, peak RSS), which
/// std's `Child::wait` does not give. `None` where `options` has `WNOHANG` and the child has not
/// exited yet.
#[allow(unsafe_code)]
pub fn wait4(pid: i32, options: i32) -> io::Result<Option<(i32, libc::rusage)>> {
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: `status` and `usage` are valid, writable and outlive the call; `pid` is our own
        // child, which nothing else waits for.
        let r = unsafe { libc::wait4(pid, &raw mut status, options, usage.as_mut_ptr()) };
        if r == pid {
            // SAFETY: wait4 succeeded, so it filled `usage` (and it was zeroed before).
            return Ok(Some((status, unsafe { usage.assume_init() })));
        }
        if r == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_peak_memory_is_measured() {
        assert!(own_peak_rss_kb() > 0);
    }
}
