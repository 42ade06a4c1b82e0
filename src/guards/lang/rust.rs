//! Rust to the guards: `#[test]` functions and test macros, inline `#[cfg(test)]` modules,
//! the ignore attribute, `assert!`, the to-do and unimplemented macros, `dbg!` and library
//! `println!`.
//!
//! The Rust markers are spelled in pieces (`concat!`) throughout the guards and their tests,
//! so that a plain-text search of this repository for shortcuts finds only real ones.

use super::{SkipTarget, Spec, Syntax, has_token, holds, kind::*, word_after};
use crate::guards::text::Text;

pub static SPEC: Spec = Spec {
    extensions: &["rs"],
    syntax: Syntax {
        lexed: true,
        hash_comments: false,
        triple_quotes: false,
        template_literals: false,
        regex_literals: false,
        // `'a'` is a character or a lifetime: not a string worth tracking past the line.
        single_quote_strings: false,
    },
    context_words: &[
        ("/*", LEX),
        ("*/", LEX),
        ("#[test]", ATTR),
        ("#[tokio::test", ATTR),
        ("#[rstest", ATTR),
        ("fn ", NAME),
        ("test!(", NAME),
    ],
    test_words: &[(concat!("#[ig", "nore"), SKIP), ("assert", ASSERT)],
    code_words: &[
        (concat!("to", "do!("), STUB),
        (concat!("unimple", "mented!("), STUB),
        ("dbg!(", DEBUG),
        ("println!(", DEBUG),
        ("// TODO", STUB),
    ],
    anywhere_words: &[],
    inline_tests: true,
    skip_markers: &[concat!("#[ig", "nore")],
    skips_anywhere: false,
    skip_target: SkipTarget::Decorated,
    tests_anywhere: true,
    assertions: &[
        "assert!",
        "assert_eq!",
        "assert_ne!",
        "assert_matches!",
        "debug_assert!",
    ],
    is_test_attribute,
    test_name,
    conditional_skip,
    stub,
    debug,
};

fn is_test_attribute(code: &str) -> bool {
    holds(code, "#[test]") || holds(code, "#[tokio::test") || holds(code, "#[rstest")
}

fn test_name(code: &str, _raw: &str, attr_pending: bool) -> Option<String> {
    if attr_pending {
        return word_after(code, "fn ");
    }
    // A test defined by a macro of the project's (ripgrep's `rgtest!(name, |dir, cmd| ..)`).
    let head = code.trim_start();
    let (mac, _) = head.split_once("test!(")?;
    let is_ident = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == '_');
    is_ident(mac).then(|| word_after(head, "test!(")).flatten()
}

fn conditional_skip(code: &str, _under_if: bool) -> bool {
    code.contains("cfg_attr(")
}

fn stub(_text: &Text<'_>, code: &str, _raw: &str, _start: usize, _end: usize) -> bool {
    has_token(code, concat!("to", "do!(")) || has_token(code, concat!("unimple", "mented!("))
}

fn debug(code: &str, path: &str) -> bool {
    has_token(code, "dbg!(") || (is_library(path) && has_token(code, "println!("))
}

/// A library's code, where printing to stdout is a leftover (a binary's `main` prints).
fn is_library(path: &str) -> bool {
    path.starts_with("src/")
        && !path.ends_with("src/main.rs")
        && !path.contains("/bin/")
        && !path.ends_with("build.rs")
}
