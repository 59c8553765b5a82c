//! Running jobs: the dispatcher ([`scheduler`]), each step's supervision ([`supervisor`]), the
//! host's capacity ([`resources`]), memory cgroups ([`cgroup`]), workspaces ([`workspace`]), the watchdog that cleans up after
//! a dead gridrun ([`reaper`]), and the events all of them report ([`events`]).

pub mod cgroup;
pub mod events;
pub mod process;
pub mod reaper;
pub mod resources;
pub mod scheduler;
pub mod supervisor;
pub mod suspend;
pub mod workspace;
