//! `auditor watch`: the daemon. It sees every commit (notify on the git directory, with a
//! polling loop beside it), batches them, audits each batch with the engine on an audit thread,
//! and drives the state machine of `machine.rs`, logging every transition and keeping
//! `status.json` and its persisted state current, so that a restart resumes where it stopped.

mod audits;
pub mod control;
mod detection;
mod event_loop;
pub mod machine;
pub mod plan;
pub mod status;
pub mod view;
mod worker;

pub use event_loop::{
    DaemonError, Exit, Reload, Setup, event_limits, lock_path, release_free_memory, run,
};
