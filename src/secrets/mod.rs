//! The built-in secret scanner: provider rules, a generic rule that reads code, and redaction.
//!
//! Pure: bytes in, matches out. A keyword prefilter (one Aho-Corasick automaton over every
//! rule's keywords) rejects most content before any regex runs; rules run only on the lines
//! around keyword hits; `validate` tells secrets from their look-alikes. A match's value never
//! leaves this module except redacted or hashed.
//!
//! `rules` holds the built-in rule set (`rules.toml`) and reads rule files in gitleaks'
//! format; `baseline` the fingerprints of accepted findings. `outbound` is the redaction choke
//! point every output passes on its way out of the process.

mod baseline;
mod findings;
mod outbound;
mod quiet;
mod redact;
mod rules;
mod scanner;
mod settings;
mod validate;

pub use baseline::{BASELINE_FILE, Baseline, BaselineEntry, BaselineError, GitleaksIgnore};
pub use findings::{Source, Written, scan_file, scan_source};
pub use outbound::{
    check_outbound_with, clean, clean_by_rules, clean_bytes, clean_finding, clean_quoted, remember,
    shared_scanner,
};
pub use quiet::QuietText;
pub use redact::{fingerprint, redact};
pub use rules::{Rule, RuleFileError, RuleSet, builtin, parse_rules};
pub use scanner::{Origin, Scanner, SecretMatch};
pub use settings::{ExtraRules, SecretsSettings};
pub use validate::Syntax;
