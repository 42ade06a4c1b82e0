//! The secret scanner's settings: defined here, where they are read, so that the scanner
//! depends on nothing of the configuration's.

use globset::GlobSet;
use regex::Regex;

/// `[secrets]`, resolved (`config` builds it; the scanner reads it).
#[derive(Debug, Clone)]
pub struct SecretsSettings {
    /// Run the scanner.
    pub enabled: bool,
    /// Larger files are skipped and counted.
    pub max_file_size: u64,
    /// Paths never reported.
    pub allow_paths: GlobSet,
    /// The same globs as written.
    pub allow_path_patterns: Vec<String>,
    /// Values or lines never reported.
    pub allow_regexes: Vec<Regex>,
}
