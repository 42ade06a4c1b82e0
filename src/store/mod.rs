//! The auditor's own files: where they live in the audited repo, how they are written, the
//! daemon's lock and its persisted state.

mod atomic;
mod layout;
pub mod lock;
pub mod state;

pub use atomic::{AtomicWriteError, write_atomic, write_atomic_exact, write_output};
pub use layout::Layout;
