//! Machines other than this host's own processes: build hosts over SSH and container images.
//! The connections and engines live here, below the stages that use them: `toolchain` probes
//! through them, `plan` routes cells to them, `exec` runs steps on them.

pub mod engine;
pub mod ssh;
