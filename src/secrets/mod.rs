//! The built-in secret scanner: provider rules, a generic high-entropy rule, and redaction.
//!
//! Pure: bytes in, matches out. A keyword prefilter (one Aho-Corasick automaton over every
//! rule's keywords) rejects most content before any regex runs; rules run only on the lines
//! around keyword hits. A match's value never leaves this module except redacted or hashed.
//!
//! `outbound` is the redaction choke point every output passes on its way out of the process.

mod findings;
mod outbound;
mod redact;
mod rules;
mod scanner;
mod settings;

pub use findings::{Source, scan_file, scan_source};
pub use outbound::{
    clean, clean_by_rules, clean_bytes, clean_finding, clean_quoted, remember, shared_scanner,
};
pub use redact::{fingerprint, redact};
pub use rules::{RULES, Rule};
pub use scanner::{Scanner, SecretMatch, is_binary};
pub use settings::SecretsSettings;
