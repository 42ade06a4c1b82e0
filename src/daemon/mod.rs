//! `auditor watch`: the daemon. It sees every commit (notify on the git directory, with a
//! polling loop beside it), batches them, audits each batch with the engine on an audit thread,
//! and drives the state machine of `machine.rs`, logging every transition and keeping
//! `status.json` and its persisted state current, so that a restart resumes where it stopped.
//!
//! The decisions are data and pure functions: `machine` (the states, each holding its data,
//! and the transition) and `core` (what each input means: debounce, batching, preemption,
//! retries, the wait, uncommitted changes). `event_loop` only turns wakeups into inputs and
//! carries out the core's actions; `jobs` builds the audit thread's jobs; `worker` is that
//! thread; `fast_lane` runs the built-in scanners on each new commit beside it.

pub mod control;
mod core;
mod event_loop;
mod events;
mod fast_lane;
mod jobs;
pub mod machine;
mod open;
pub mod plan;
pub mod status;
pub mod view;
mod worker;

pub use event_loop::{
    DaemonError, Exit, Reload, Setup, event_limits, lock_path, release_free_memory, run,
};
