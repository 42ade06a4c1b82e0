//! The secret scanner's settings: defined here, where they are read, so that the scanner
//! depends on nothing of the configuration's.

use std::sync::{Arc, OnceLock};

use globset::GlobSet;
use regex::Regex;

use super::{Baseline, GitleaksIgnore, RuleSet, Scanner, shared_scanner};

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
    /// Rule files (gitleaks' format) beside the built-in rules, as listed.
    pub rule_files: Vec<String>,
    /// Their rules, and the scanner that runs them with the built-in ones.
    pub extra: Arc<ExtraRules>,
    /// Secrets accepted on adoption (`auditor baseline`), when a baseline file exists.
    pub baseline: Arc<Baseline>,
    /// Where the baseline is read from, as configured.
    pub baseline_path: String,
    /// Places a `.gitleaksignore` at the repository's root accepts.
    pub ignore: Arc<GitleaksIgnore>,
}

/// The rules of `[secrets] rules`, with their scanner built on first use.
#[derive(Default)]
pub struct ExtraRules {
    /// One rule set per file.
    pub sets: Vec<RuleSet>,
    scanner: OnceLock<Scanner>,
}

impl std::fmt::Debug for ExtraRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self
            .sets
            .iter()
            .flat_map(|s| s.rules.iter().map(|r| r.id.as_str()))
            .collect();
        f.debug_struct("ExtraRules").field("rules", &ids).finish()
    }
}

impl ExtraRules {
    /// Rules from rule files.
    pub fn new(sets: Vec<RuleSet>) -> ExtraRules {
        ExtraRules {
            sets,
            scanner: OnceLock::new(),
        }
    }
}

impl SecretsSettings {
    /// The scanner for these settings: the shared one, or one with the rule files' rules.
    pub fn scanner(&self) -> &Scanner {
        if self.extra.sets.is_empty() {
            return shared_scanner();
        }
        self.extra
            .scanner
            .get_or_init(|| Scanner::with_rule_sets(&self.extra.sets))
    }

    /// Whether a finding was accepted on adoption (by the baseline or `.gitleaksignore`).
    pub fn accepts(&self, f: &crate::finding::Finding) -> bool {
        self.baseline.covers(f) || self.ignore.covers(f)
    }

    /// How many findings the baseline and `.gitleaksignore` kept out so far.
    pub fn accepted_count(&self) -> usize {
        self.baseline.hits() + self.ignore.hits()
    }
}
