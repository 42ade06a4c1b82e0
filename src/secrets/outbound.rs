//! The one way out: every text the auditor writes or prints passes `clean` (or, for text
//! quoted from code or from a tool, `clean_quoted`) on its way out. The sinks call it (atomic
//! file writes, the event log, stdout and stderr, the log writer, hook environments), so no
//! finding, report field or message has to remember to; clippy forbids printing around them.
//!
//! Cleaning, in order, on the whole text (never after a cut):
//! 1. every secret value this process has found (`remember`) is replaced by its redacted
//!    form, by exact value, wherever it appears: in a commit subject, a path, a tool's echo;
//! 2. the scanner's rules run over the text, pragmas ignored, and what they find is replaced
//!    (and remembered);
//! 3. for quoted text only, a conservative masker replaces any token that looks like a
//!    credential but matched no rule (long, mixed-case with digits, or long hex): a quoted
//!    line needs to show where, not what.
//!
//! The known values are process-wide on purpose: the sinks are everywhere, and a value found
//! in one audit must stay hidden in every later output of the same daemon.

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::scanner::shannon_entropy;
use super::{RuleSet, Scanner, redact};

/// Shorter values would replace ordinary words.
const MIN_KNOWN: usize = 8;
/// A bound on what one process remembers (a history scan of a leaky repository).
const MAX_KNOWN: usize = 100_000;
/// Tokens shorter than this are never masked.
const MIN_MASKED: usize = 20;

struct Known {
    values: Vec<String>,
    /// Built on first use after a change.
    finder: Option<AhoCorasick>,
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    values: Vec::new(),
    finder: None,
});

/// The built-in rules' scanner, built once per process.
pub fn shared_scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(Scanner::new)
}

/// The rule files' rules, once a configuration named some: outbound text is checked with
/// them too, so that a team's own kind of secret reaches no output either.
static OUTBOUND_RULES: OnceLock<Vec<RuleSet>> = OnceLock::new();

/// Checks every later outbound text with `sets` too (the first configuration's, per process).
pub fn check_outbound_with(sets: &[RuleSet]) {
    if !sets.is_empty() {
        let _ = OUTBOUND_RULES.set(sets.to_vec());
    }
}

fn outbound_scanner() -> &'static Scanner {
    static WITH_RULES: OnceLock<Scanner> = OnceLock::new();
    match OUTBOUND_RULES.get() {
        Some(sets) => WITH_RULES.get_or_init(|| Scanner::with_rule_sets(sets)),
        None => shared_scanner(),
    }
}

/// Remembers a secret value found in the audited content, so that every later output hides
/// it wherever it appears. A multi-line value (a key block) is remembered line by line too:
/// JSON escapes its newlines, and a diff or a tail quotes it a line at a time.
pub fn remember(value: &str) {
    let mut add: Vec<&str> = vec![value.trim()];
    if value.contains('\n') {
        add.extend(value.lines().map(str::trim));
    }
    // A key block's armour lines (`-----BEGIN ... -----`) are ordinary text, and so the block
    // as a whole: its body lines are what must never show.
    add.retain(|v| v.len() >= MIN_KNOWN && !v.starts_with("-----"));
    if add.is_empty() {
        return;
    }
    let mut known = KNOWN
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for v in add {
        if known.values.len() < MAX_KNOWN && !known.values.iter().any(|k| k == v) {
            known.values.push(v.to_string());
            known.finder = None;
        }
    }
}

/// Replaces every known value in `text`.
fn replace_known(text: &str) -> Cow<'_, str> {
    let replace = |finder: &AhoCorasick, values: &[String]| -> Option<String> {
        finder.find(text)?;
        let mut out = String::with_capacity(text.len());
        finder.replace_all_with(text, &mut out, |m, _, dst| {
            dst.push_str(&redact(&values[m.pattern().as_usize()]));
            true
        });
        Some(out)
    };
    {
        let known = KNOWN
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.values.is_empty() {
            return Cow::Borrowed(text);
        }
        if let Some(finder) = &known.finder {
            return replace(finder, &known.values).map_or(Cow::Borrowed(text), Cow::Owned);
        }
    }
    let mut known = KNOWN
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if known.finder.is_none() {
        // Longest first, so that a value containing another is replaced whole.
        known.finder = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&known.values)
            .ok();
    }
    match &known.finder {
        Some(finder) => replace(finder, &known.values).map_or(Cow::Borrowed(text), Cow::Owned),
        None => Cow::Borrowed(text),
    }
}

/// Replaces what the scanner's rules find in `text` (and remembers it).
fn replace_found(text: &str) -> Cow<'_, str> {
    let found = outbound_scanner().scan_outbound(text.as_bytes());
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for m in found {
        if m.start < pos || !text.is_char_boundary(m.start) || !text.is_char_boundary(m.end) {
            continue;
        }
        remember(&m.value);
        out.push_str(&text[pos..m.start]);
        out.push_str(&redact(&m.value));
        pos = m.end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// `text` with what the scanner's rules find redacted, and nothing else: the same text is
/// cleaned the same way in every process, whatever it has seen (for what is compared
/// across runs, like the settings baseline).
pub fn clean_by_rules(text: &str) -> Cow<'_, str> {
    replace_found(text)
}

/// `text` with every secret in it redacted: for prose (titles, messages, paths, subjects).
pub fn clean(text: &str) -> Cow<'_, str> {
    match replace_known(text) {
        Cow::Borrowed(t) => replace_found(t),
        Cow::Owned(t) => Cow::Owned(replace_found(&t).into_owned()),
    }
}

/// `text` cleaned, and every credential-shaped token masked: for lines quoted from the code
/// or from a tool's output (snippets, diffs, output tails).
pub fn clean_quoted(text: &str) -> String {
    mask(&clean(text))
}

/// A finding as it may leave the auditor: its quoted texts (title, description, snippet:
/// they quote code and tools) cleaned and masked, its path cleaned (a file may be named after
/// a token).
pub fn clean_finding(f: &mut crate::finding::Finding) {
    f.title = clean_quoted(&f.title);
    f.description = clean_quoted(&f.description);
    f.snippet = f.snippet.as_deref().map(clean_quoted);
    if let Some(file) = &mut f.file {
        *file = clean(file).into_owned();
    }
}

/// Cleans file contents on their way to disk; bytes that are not text pass unchanged.
pub fn clean_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(text) => match clean(text) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        },
        Err(_) => Cow::Borrowed(bytes),
    }
}

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
}

/// Masks every credential-shaped token of `text`.
fn mask(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && token_byte(bytes[i]) {
            i += 1;
        }
        let token = &text[start..i];
        if credential_like(token) {
            out.push_str(&text[pos..start]);
            out.push_str(&redact(token));
            pos = i;
        }
    }
    out.push_str(&text[pos..]);
    out
}

/// Long and random-looking: mixed case with digits and high entropy (base64 keys, PEM body
/// lines, AWS secrets), or a long run of hex. Words, paths and identifiers are not.
fn credential_like(token: &str) -> bool {
    let token = token.trim_matches(|c| matches!(c, '=' | '-' | '_' | '/' | '+'));
    if token.len() < MIN_MASKED || token.contains("****") {
        return false;
    }
    let segments: Vec<&str> = token.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > 1 {
        // A long random segment is a key whatever surrounds it (a base64 line with `/ul/w`).
        if segments.iter().any(|s| random_looking(s)) {
            return true;
        }
        // A path: most of its segments are plain words (`tmpX7a9/state/supervisor/workspace`).
        let words = segments
            .iter()
            .filter(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
            })
            .count();
        if words * 2 >= segments.len() {
            return false;
        }
    }
    random_looking(token)
}

/// Mixed case with digits and high entropy, or a long run of hex that is no object id.
fn random_looking(token: &str) -> bool {
    if token.len() < MIN_MASKED {
        return false;
    }
    let count = |f: fn(&u8) -> bool| token.as_bytes().iter().filter(|b| f(b)).count();
    let digits = count(u8::is_ascii_digit);
    let upper = count(u8::is_ascii_uppercase);
    let lower = count(u8::is_ascii_lowercase);
    let hex = token.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        // Object ids and SHA-256 digests (a pinned action, a lockfile) are everywhere in
        // quoted code and are not secrets by their shape; a found secret is still replaced.
        let digest = upper == 0 && matches!(token.len(), 40 | 64);
        return token.len() >= 32 && digits > 0 && upper + lower > 0 && !digest;
    }
    digits >= 2 && upper >= 2 && lower >= 2 && shannon_entropy(token) >= 3.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Credential-shaped values, spelled in pieces so this file holds none.
    fn aws_secret() -> String {
        ["wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY", "EXAMPLEKEY2x9"].concat()
    }

    #[test]
    fn a_remembered_value_is_hidden_wherever_it_appears() {
        let v = ["Zq8", "xT2mVw9pLr4sNk"].concat();
        remember(&v);
        let out = clean(&format!("commit subject {v} and path keys/{v}.py")).into_owned();
        assert!(!out.contains(&v), "{out}");
        assert!(out.contains(&redact(&v)));
    }

    #[test]
    fn rules_run_on_the_whole_text_and_ignore_pragmas() {
        let token = ["ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"].concat();
        let out = clean(&format!("T = \"{token}\"  # auditor:allow\n")).into_owned();
        assert!(!out.contains(&token), "{out}");
    }

    #[test]
    fn quoted_text_masks_unrecognised_credentials_but_not_words_or_paths() {
        let s = aws_secret();
        let out = clean_quoted(&format!("assert '{s}' == 'expected'"));
        assert!(!out.contains(&s[4..12]), "{out}");
        // A base64 line whose tail reads like a path is still a key line.
        let line = [
            "-6+dOS0dfKu3W3wVbTLXiuh9ynIurOIfigJXq4",
            "aQb8E9+nVJ5jzJLLAmSTK/ul/w+",
        ]
        .concat();
        assert!(!clean_quoted(&line).contains(&line[1..9]));
        for plain in [
            "tests/integration/integrity.rs",
            "src/engine/settings_stage.rs",
            "/tmp/.tmpYx7Bq9Zr/state/supervisor/workspace",
            "test_more_10_assertions_of_the_thing",
            "123e4567-e89b-12d3-a456-426614174000",
            "CHECK_MODIFIED_TREE_AND_2_MORE_RULES",
            "sha256:0123456789abcdef",
            "actions/checkout@692973e3d937129bcbf40652eb9f2f61becf3332",
        ] {
            assert_eq!(clean_quoted(plain), plain);
        }
    }

    fn leaks(out: &str, value: &str) -> bool {
        let chars: Vec<char> = value.chars().collect();
        chars
            .windows(8)
            .any(|w| out.contains(&w.iter().collect::<String>()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random text with a remembered value planted anywhere never shows 8 characters of
        /// it in a row.
        #[test]
        fn a_planted_value_never_leaks(
            before in "[ -~\n]{0,200}",
            after in "[ -~\n]{0,200}",
            value in "[A-Za-z0-9]{24,48}",
        ) {
            remember(&value);
            let text = format!("{before}{value}{after}{value}");
            let out = clean(&text);
            prop_assert!(!leaks(&out, &value), "{}", out);
            let out = clean_quoted(&text);
            prop_assert!(!leaks(&out, &value), "{}", out);
        }
    }
}
