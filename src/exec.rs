//! Running jobs. The dispatcher ([`scheduler`]) starts each job when it fits, as a task of its
//! own ([`job`]) on an [`executor::Executor`]: today [`local`], this host's processes, each step
//! supervised by [`supervisor`] within the host's capacity ([`resources`]), memory cgroups
//! ([`cgroup`]) and workspaces ([`workspace`]). The watchdog that cleans up after a dead gridrun
//! ([`reaper`]), Ctrl-Z ([`suspend`]), the system calls ([`process`]) and the events all of them
//! report ([`events`]) sit beside them.

pub mod cgroup;
pub mod container;
pub mod events;
pub mod executor;
pub mod facts;
pub mod job;
pub mod local;
pub mod process;
pub mod reaper;
pub mod resources;
pub mod scheduler;
pub mod ssh;
pub mod supervisor;
pub mod suspend;
pub mod workspace;
