//! A Rust crate: clippy, whose errors break the build, and `cargo test`.

use super::super::raw::{SeverityValue, StageValue};
use super::propose::{DetectedCheck, check, seconds, strings};
use super::tree::Tree;
use crate::finding::Severity;
use crate::parsers::Format;

/// Clippy and cargo test, for a tree with a root Cargo.toml.
pub fn detect(tree: &Tree) -> Option<(DetectedCheck, DetectedCheck)> {
    if !tree.has("Cargo.toml") {
        return None;
    }
    let mut c = check(
        "clippy",
        StageValue::Audit,
        &[
            "cargo",
            "clippy",
            "--all-targets",
            "--message-format=json",
            "--quiet",
        ],
        Format::Cargo,
    );
    c.files = strings(&["*.rs", "Cargo.toml", "Cargo.lock"]);
    c.timeout = Some(seconds(900));
    c.severity = Some(
        [("error", Severity::Critical), ("warning", Severity::Medium)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), SeverityValue(v)))
            .collect(),
    );
    let test = check(
        "cargo-test",
        StageValue::Test,
        &["cargo", "test", "--quiet"],
        Format::ExitCode,
    );
    Some((
        DetectedCheck::new("Cargo.toml: a Rust crate", c),
        DetectedCheck::new("Cargo.toml: cargo test", test),
    ))
}
