//! The built-in secret scanner: provider rules, a generic high-entropy rule, and redaction.
//!
//! Pure: bytes in, matches out. A keyword prefilter (one Aho-Corasick automaton over every
//! rule's keywords) rejects most content before any regex runs; rules run only on the lines
//! around keyword hits. A match's value never leaves this module except redacted or hashed.

mod findings;
mod redact;
mod rules;
mod scanner;

pub use findings::scan_file;
pub use redact::{fingerprint, redact};
pub use rules::{RULES, Rule};
pub use scanner::{Scanner, SecretMatch, is_binary};

/// Replaces every secret in `text` with its redacted form, for output we quote (a check's
/// output tail, a diff hunk): a test suite may well print the key it just read.
pub fn scrub(scanner: &Scanner, text: &str) -> String {
    let matches = scanner.scan(text.as_bytes());
    if matches.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for m in matches {
        if m.start < pos {
            continue;
        }
        out.push_str(&text[pos..m.start]);
        out.push_str(&redact(&m.value));
        pos = m.end;
    }
    out.push_str(&text[pos..]);
    out
}
