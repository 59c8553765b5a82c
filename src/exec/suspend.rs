//! Ctrl-Z. Jobs run in process groups of their own, so the terminal's SIGTSTP reaches gridrun
//! alone; gridrun stops every job's group, stops itself, and on `fg` continues them. Time spent
//! suspended does not count against any timeout: supervisors push their deadlines back by it.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::process::{signal_group, stop_self, Signal};
use tokio::sync::watch;

/// The process groups of the running steps, and how long the run has spent suspended.
#[derive(Debug)]
pub struct Suspension {
    groups: Mutex<HashSet<i32>>,
    total: watch::Sender<Duration>,
}

impl Default for Suspension {
    fn default() -> Self {
        Self { groups: Mutex::new(HashSet::new()), total: watch::channel(Duration::ZERO).0 }
    }
}

impl Suspension {
    /// A step's process group started.
    pub fn register(&self, group: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(group);
        }
    }

    /// A step's process group is gone.
    pub fn unregister(&self, group: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.remove(&group);
        }
    }

    /// The time spent suspended so far, and its changes.
    pub fn watch(&self) -> watch::Receiver<Duration> {
        self.total.subscribe()
    }

    /// The time spent suspended so far.
    pub fn total(&self) -> Duration {
        *self.total.borrow()
    }

    /// Stops every step's group, then gridrun itself; once continued, continues the groups and
    /// adds the time stopped to the total.
    pub fn suspend(&self) {
        let groups: Vec<i32> = self.groups.lock().map(|g| g.iter().copied().collect()).unwrap_or_default();
        let stopped_at = Instant::now();
        for group in &groups {
            signal_group(*group, Signal::STOP);
        }
        // Returns when the shell sends SIGCONT (`fg`, `bg`).
        stop_self();
        for group in &groups {
            signal_group(*group, Signal::CONT);
        }
        let paused = stopped_at.elapsed();
        self.total.send_modify(|total| *total += paused);
    }
}
