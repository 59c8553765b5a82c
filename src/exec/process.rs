//! The process system calls gridrun makes, in one place: starting a step's shell, signals to a
//! process or a whole process group, stopping itself (Ctrl-Z), its own peak memory, and reaping a
//! child with its resource usage. Through rustix; `posix_spawn` and `wait4`, which rustix does not
//! offer, through libc.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

pub use rustix::process::Signal;

/// Starts `/bin/sh -c command` in `cwd`, in a process group of its own (its pid is the group's
/// id), with stdin on `/dev/null`, stdout and stderr on the descriptors given, gridrun's
/// environment with `env` over it (a variable given twice takes its last value), no signal
/// blocked and every signal at its default but those gridrun was started with ignored. Returns
/// its pid.
///
/// std's `Command` makes the same `posix_spawn` call, but at each spawn it copies gridrun's whole
/// environment into a map to add the job's variables, and glibc's child reads and resets the 64
/// signals one by one (two system calls each) while gridrun waits for it to `exec`. Here the
/// environment is copied once per process and the signals are reset in one pass, which shows in
/// a run of many short jobs.
pub fn spawn_shell(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    stdout: BorrowedFd<'_>,
    stderr: BorrowedFd<'_>,
) -> io::Result<i32> {
    let strings = [c_string(b"/bin/sh")?, c_string(b"-c")?, c_string(command.as_bytes())?];
    let argv = [strings[0].as_ptr(), strings[1].as_ptr(), strings[2].as_ptr(), std::ptr::null()];
    let added: Vec<CString> =
        env.iter().map(|(k, v)| c_string(format!("{k}={v}").as_bytes())).collect::<io::Result<_>>()?;
    let mut envp: Vec<*const libc::c_char> = inherited_env()
        .iter()
        .filter(|(key, _)| !env.iter().any(|(k, _)| OsStr::new(k) == key))
        .map(|(_, entry)| entry.as_ptr())
        .collect();
    envp.extend(
        added
            .iter()
            .zip(env)
            .enumerate()
            .filter(|(i, (_, (key, _)))| !env[i + 1..].iter().any(|(later, _)| later == key))
            .map(|(_, (entry, _))| entry.as_ptr()),
    );
    envp.push(std::ptr::null());
    let cwd = c_string(cwd.as_os_str().as_bytes())?;
    let dev_null = c_string(b"/dev/null")?;
    let check = |code: libc::c_int| if code == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(code)) };
    let flags = libc::POSIX_SPAWN_SETPGROUP | libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
    // SAFETY: the action and attribute objects are initialised before use and destroyed on every
    // path after. Every pointer posix_spawn is given (the paths, argv, envp and the entries they
    // point to) points into C strings and vectors that outlive the call, and argv and envp end
    // with a null pointer. posix_spawn does not write to argv or envp, whatever its signature.
    #[allow(unsafe_code)]
    unsafe {
        let mut actions = std::mem::MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
        check(libc::posix_spawn_file_actions_init(actions.as_mut_ptr()))?;
        let mut actions = actions.assume_init();
        let mut attr = std::mem::MaybeUninit::<libc::posix_spawnattr_t>::uninit();
        if let Err(e) = check(libc::posix_spawnattr_init(attr.as_mut_ptr())) {
            libc::posix_spawn_file_actions_destroy(&raw mut actions);
            return Err(e);
        }
        let mut attr = attr.assume_init();
        let mut no_signals = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(no_signals.as_mut_ptr());
        let spawned =
            check(libc::posix_spawn_file_actions_addopen(&raw mut actions, 0, dev_null.as_ptr(), libc::O_RDONLY, 0))
                .and_then(|()| check(libc::posix_spawn_file_actions_adddup2(&raw mut actions, stdout.as_raw_fd(), 1)))
                .and_then(|()| check(libc::posix_spawn_file_actions_adddup2(&raw mut actions, stderr.as_raw_fd(), 2)))
                .and_then(|()| check(libc::posix_spawn_file_actions_addchdir_np(&raw mut actions, cwd.as_ptr())))
                .and_then(|()| {
                    check(libc::posix_spawnattr_setsigdefault(&raw mut attr, &raw const *signals_to_reset()))
                })
                .and_then(|()| check(libc::posix_spawnattr_setsigmask(&raw mut attr, no_signals.as_ptr())))
                .and_then(|()| check(libc::posix_spawnattr_setpgroup(&raw mut attr, 0)))
                .and_then(|()| {
                    check(libc::posix_spawnattr_setflags(&raw mut attr, flags.try_into().expect("the flags fit")))
                })
                .and_then(|()| {
                    let mut pid: libc::pid_t = 0;
                    check(libc::posix_spawn(
                        &raw mut pid,
                        argv[0],
                        &raw const actions,
                        &raw const attr,
                        argv.as_ptr().cast(),
                        envp.as_ptr().cast(),
                    ))
                    .map(|()| pid)
                });
        libc::posix_spawnattr_destroy(&raw mut attr);
        libc::posix_spawn_file_actions_destroy(&raw mut actions);
        spawned
    }
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a command or its environment"))
}

/// gridrun's environment as `KEY=VALUE` C strings, with their keys: taken at the first spawn
/// (gridrun never changes its own environment).
fn inherited_env() -> &'static [(OsString, CString)] {
    static ENV: OnceLock<Vec<(OsString, CString)>> = OnceLock::new();
    ENV.get_or_init(|| {
        std::env::vars_os()
            .filter_map(|(key, value)| {
                let entry = [key.as_bytes(), b"=", value.as_bytes()].concat();
                Some((key, CString::new(entry).ok()?))
            })
            .collect()
    })
}

/// The signals a step starts with at their default: every one but those gridrun found ignored
/// when it first spawned, which stay ignored through `exec` as POSIX has it (`nohup gridrun`, a
/// script's `gridrun &`); and SIGPIPE always, which Rust ignores for gridrun itself. A signal
/// gridrun handles is in the set; one it handled only later is reset by glibc all the same.
#[allow(unsafe_code)]
fn signals_to_reset() -> &'static libc::sigset_t {
    static SET: OnceLock<libc::sigset_t> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set; sigaction with no new action only writes the
        // present one into `present`, and fails harmlessly for the signals glibc keeps to itself
        // (sigaddset refuses those too).
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            let mut set = set.assume_init();
            for signal in 1..=libc::SIGRTMAX() {
                let mut present = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
                let ignored = libc::sigaction(signal, std::ptr::null(), present.as_mut_ptr()) == 0
                    && present.assume_init().sa_sigaction == libc::SIG_IGN;
                if !ignored || signal == libc::SIGPIPE {
                    libc::sigaddset(&raw mut set, signal);
                }
            }
            set
        }
    })
}

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
    use std::os::fd::AsFd;

    /// What a step's shell starts with: its folder, stdin on /dev/null, its own process group,
    /// gridrun's environment with the job's over it (the last of a variable given twice), no
    /// signal blocked, and SIGPIPE, which the test process ignores, at its default.
    #[test]
    fn a_shell_starts_where_and_with_what_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let out = std::fs::File::create(dir.path().join("out")).unwrap();
        let script = r#"pwd; readlink /proc/self/fd/0; echo "A=$A $(tr '\0' '\n' < /proc/$$/environ | grep -c '^A=')"
            tr '\0' '\n' < /proc/$$/environ | grep -c '^PATH='; echo "PATH=$PATH"
            [ -n "$HOME" ] && echo home; cut -d' ' -f5 /proc/$$/stat; echo $$
            grep -E '^Sig(Blk|Ign)' /proc/$$/status"#;
        let env =
            [("A".to_string(), "1".to_string()), ("PATH".into(), "/usr/bin:/bin".into()), ("A".into(), "2".into())];
        let pid = spawn_shell(script, dir.path(), &env, out.as_fd(), out.as_fd()).unwrap();
        let (status, _) = wait4(pid, 0).unwrap().unwrap();
        assert_eq!(Exit::from_raw(status), Some(Exit::Code(0)));
        let text = std::fs::read_to_string(dir.path().join("out")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let pid = pid.to_string();
        let ignored = u64::from_str_radix(lines[9].trim_start_matches("SigIgn:").trim(), 16).unwrap();
        assert_eq!(
            (&lines[..9], lines[8].trim_start_matches("SigBlk:").trim(), ignored & (1 << (libc::SIGPIPE - 1))),
            (
                &[
                    dir.path().canonicalize().unwrap().to_str().unwrap(),
                    "/dev/null",
                    "A=2 1",
                    "1",
                    "PATH=/usr/bin:/bin",
                    "home",
                    pid.as_str(),
                    pid.as_str(),
                    lines[8],
                ][..],
                "0000000000000000",
                0
            ),
            "{text}"
        );
    }

    #[test]
    fn own_peak_memory_is_measured() {
        assert!(own_peak_rss_kb() > 0);
    }
}
