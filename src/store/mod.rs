//! The auditor's own files: where they live in the audited repo and how they are written.

mod atomic;
mod layout;

pub use atomic::{AtomicWriteError, write_atomic};
pub use layout::Layout;
