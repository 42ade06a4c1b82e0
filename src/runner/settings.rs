//! How checks run, as the configuration's `[runner]` table resolves it.

use std::time::Duration;

/// How checks run: `[runner]`, resolved.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Nice level of every check.
    pub nice: i32,
    /// Default timeout.
    pub timeout: Duration,
    /// TERM → KILL grace period.
    pub grace: Duration,
    /// Bytes of output kept per stream (head and tail).
    pub output_cap: usize,
    /// Checks of one stage run at once.
    pub jobs: usize,
}
