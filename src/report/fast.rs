//! The fast lane's verdict (`state/supervisor/fast_lane.json`): what the built-in scanners
//! found in the last commit it scanned, written the moment they finish, while that commit's
//! full audit may not have started. `auditor gate` reads it after a `git commit`.

use serde::{Deserialize, Serialize};

use crate::finding::Severity;
use crate::store::{AtomicWriteError, Layout, write_atomic};

/// The version of this file's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// One issue the fast lane published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastIssue {
    /// Its ledger ID.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// Its file.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
}

/// The fast lane's verdict on one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastVerdict {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The commit scanned (HEAD when it was seen).
    pub commit: String,
    /// The commits its scan covered, oldest first.
    pub commits: Vec<String>,
    /// When it was written (RFC 3339).
    pub at: String,
    /// Its CRITICAL and HIGH issues, most severe first.
    pub issues: Vec<FastIssue>,
}

impl FastVerdict {
    /// Writes it atomically.
    pub fn write(&self, layout: &Layout) -> Result<(), AtomicWriteError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomic(&layout.fast_lane_path(), format!("{text}\n").as_bytes())
    }

    /// The last one written, when it is there and readable.
    pub fn read(layout: &Layout) -> Option<FastVerdict> {
        let bytes = std::fs::read(layout.fast_lane_path()).ok()?;
        serde_json::from_slice::<FastVerdict>(&bytes)
            .ok()
            .filter(|v| v.schema_version == SCHEMA_VERSION)
    }
}
