//! What each language looks like to the guards, one language per file (`rust.rs`,
//! `python.rs`, `js.rs`, `go.rs`, `java.rs`): its extensions and syntax, its test names,
//! attributes, skip and assertion markers, stubs and debug output, and the trigger words
//! that point the fact reader at the lines worth reading. Plus which files are tests, and the
//! lexer that blanks strings and comments (`lex.rs`).

mod go;
mod java;
mod js;
mod lex;
mod python;
mod rust;

pub use js::{TestAlias, called_name, test_aliases};
pub use lex::{LexState, advance, code_part, comment_spans, has_token, holds};

use super::text::Text;

/// The languages the guards know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `.rs`
    Rust,
    /// `.py`
    Python,
    /// `.js`, `.jsx`, `.ts`, `.tsx`, `.mjs`, `.cjs`
    Js,
    /// `.go`
    Go,
    /// `.java`, `.kt`, `.kts`
    Java,
    /// Anything else.
    Other,
}

impl Lang {
    /// Every language, the unknown one last.
    pub const ALL: [Lang; 6] = [
        Lang::Rust,
        Lang::Python,
        Lang::Js,
        Lang::Go,
        Lang::Java,
        Lang::Other,
    ];

    /// What the guards know of it.
    pub fn spec(self) -> &'static Spec {
        match self {
            Lang::Rust => &rust::SPEC,
            Lang::Python => &python::SPEC,
            Lang::Js => &js::SPEC,
            Lang::Go => &go::SPEC,
            Lang::Java => &java::SPEC,
            Lang::Other => &OTHER,
        }
    }
}

/// What a trigger word can lead to on its line: the checks a line runs are those its words
/// call for.
pub mod kind {
    /// A merge conflict marker.
    pub const CONFLICT: u16 = 1;
    /// An `auditor:allow(` pragma.
    pub const PRAGMA: u16 = 1 << 1;
    /// Opens or closes a comment or string (the lexer's context).
    pub const LEX: u16 = 1 << 2;
    /// A test attribute (`#[test]`, `@Test`).
    pub const ATTR: u16 = 1 << 4;
    /// Where a test function is named.
    pub const NAME: u16 = 1 << 5;
    /// A skip or focus marker.
    pub const SKIP: u16 = 1 << 6;
    /// An assertion.
    pub const ASSERT: u16 = 1 << 7;
    /// A stub.
    pub const STUB: u16 = 1 << 8;
    /// Debug output.
    pub const DEBUG: u16 = 1 << 9;
}

/// Words, each with the kinds of checks it calls for.
pub type WordList = &'static [(&'static str, u16)];

/// How a language writes comments and strings, for the lexer.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    /// Comments and strings are known at all (else lines are read as they are).
    pub lexed: bool,
    /// `#` comments (else `//` and `/* */`).
    pub hash_comments: bool,
    /// `"""` and `'''` strings over several lines.
    pub triple_quotes: bool,
    /// `` ` `` template literals over several lines.
    pub template_literals: bool,
    /// `/.../` regular expression literals, whose quotes and backticks open no string.
    pub regex_literals: bool,
    /// `'...'` is a string (in Rust it is a character or a lifetime).
    pub single_quote_strings: bool,
}

/// Which test a skip marker disables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipTarget {
    /// The test the marker decorates, named on a later line (a decorator, an attribute).
    Decorated,
    /// The test the marker is inside (Go's `t.Skip()`).
    Enclosing,
    /// The test the marker's call names (`it.skip('name'`), else the one it is inside
    /// (mocha's `this.skip()`).
    NamedOrEnclosing,
}

/// What the guards know of one language.
pub struct Spec {
    /// The file extensions it is recognised by.
    pub extensions: &'static [&'static str],
    /// How it writes comments and strings.
    pub syntax: Syntax,
    /// Words that change a reader's context: the lexer's openers and closers, and test
    /// attributes with the functions they wait for.
    pub context_words: WordList,
    /// Trigger words of test code (assertions, test names).
    pub test_words: WordList,
    /// Trigger words of other code (stubs, debug output).
    pub code_words: WordList,
    /// Trigger words of any file (skip and focus markers where they count anywhere).
    pub anywhere_words: WordList,
    /// Its unit tests live among its code (`#[cfg(test)]`): both sets of words everywhere.
    pub inline_tests: bool,
    /// Skip, ignore and focus markers, as tokens of the code part.
    pub skip_markers: &'static [&'static str],
    /// Skips count in any file (a conftest, a helper), not only in test code.
    pub skips_anywhere: bool,
    /// Which test a skip disables.
    pub skip_target: SkipTarget,
    /// Tests are named outside test files too (Rust's inline tests, Java's `@Test`).
    pub tests_anywhere: bool,
    /// Assertion markers, as substrings of the code part.
    pub assertions: &'static [&'static str],
    /// Whether the code part is a test attribute that waits for its function.
    pub is_test_attribute: fn(code: &str) -> bool,
    /// The name of the test the line declares (`raw` is the line as written, for names in
    /// strings), given whether a test attribute waits for it.
    pub test_name: fn(code: &str, raw: &str, attr_pending: bool) -> Option<String>,
    /// Whether a skip holds only under a condition: a platform or a missing tool, as in
    /// `@pytest.mark.skipif(WIN, ...)`, `#[cfg_attr(windows, ignore)]`, vitest's
    /// `it.skipIf(...)`, or a skip call right under an `if` (`under_if`: the line above opens
    /// one, as in `if runtime.GOOS == "windows" { t.Skip() }`).
    pub conditional_skip: fn(code: &str, under_if: bool) -> bool,
    /// Whether the line from `start` to `end` is one of the language's own stubs (the
    /// `// TODO` body every brace language shares is the reader's).
    pub stub: fn(text: &Text<'_>, code: &str, raw: &str, start: usize, end: usize) -> bool,
    /// Whether the code part leaves debug output behind in the file at `path`.
    pub debug: fn(code: &str, path: &str) -> bool,
}

fn never(_: &str) -> bool {
    false
}

fn no_name(_: &str, _: &str, _: bool) -> Option<String> {
    None
}

fn no_condition(_: &str, _: bool) -> bool {
    false
}

fn no_stub(_: &Text<'_>, _: &str, _: &str, _: usize, _: usize) -> bool {
    false
}

fn no_debug(_: &str, _: &str) -> bool {
    false
}

/// A language the guards do not know: only conflicts and pragmas count.
static OTHER: Spec = Spec {
    extensions: &[],
    syntax: Syntax {
        lexed: false,
        hash_comments: false,
        triple_quotes: false,
        template_literals: false,
        regex_literals: false,
        single_quote_strings: false,
    },
    context_words: &[],
    test_words: &[],
    code_words: &[],
    anywhere_words: &[],
    inline_tests: false,
    skip_markers: &[],
    skips_anywhere: false,
    skip_target: SkipTarget::Decorated,
    tests_anywhere: false,
    assertions: &[],
    is_test_attribute: never,
    test_name: no_name,
    conditional_skip: no_condition,
    stub: no_stub,
    debug: no_debug,
};

/// The identifier after `kw` in `s`, if any.
fn word_after(s: &str, kw: &str) -> Option<String> {
    let at = s.find(kw)? + kw.len();
    let name: String = s[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether the line above a skip opens an `if` block (Python, JavaScript, Go).
pub fn opens_if(previous: &str) -> bool {
    let p = previous.trim();
    (p.starts_with("if ") || p.starts_with("if(") || p.starts_with("elif "))
        && p.ends_with(['{', ':'])
}

/// A line's indentation, in bytes.
fn indent(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// The language of a path, from its extension.
pub fn lang_of(path: &str) -> Lang {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    Lang::ALL
        .into_iter()
        .find(|l| l.spec().extensions.contains(&ext))
        .unwrap_or(Lang::Other)
}

/// Whether a path is test code by the usual conventions of its language.
pub fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let in_test_dir = lower.split('/').rev().skip(1).any(|d| {
        matches!(
            d,
            "test" | "tests" | "__tests__" | "spec" | "specs" | "testing" | "testsuite"
        )
    });
    in_test_dir
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name.ends_with("_test.go")
        || name.ends_with("_tests.rs")
        || name.contains(".test.")
        || name.contains(".spec.")
        || (name.ends_with("test.java")
            || name.ends_with("tests.java")
            || name.ends_with("test.kt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_language_has_its_extensions() {
        for (path, lang) in [
            ("a.rs", Lang::Rust),
            ("a.pyi", Lang::Python),
            ("a.tsx", Lang::Js),
            ("a.cts", Lang::Js),
            ("a.go", Lang::Go),
            ("a.kts", Lang::Java),
            ("a.c", Lang::Other),
            ("Makefile", Lang::Other),
        ] {
            assert_eq!(lang_of(path), lang, "{path}");
        }
    }

    #[test]
    fn test_paths() {
        for p in [
            "tests/api.rs",
            "src/foo_test.go",
            "pkg/test_util.py",
            "web/a.test.ts",
            "src/test/java/FooTest.java",
            "app/__tests__/x.js",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in [
            "src/lib.rs",
            "src/contest.py",
            "latest/x.go",
            "src/attestation.ts",
        ] {
            assert!(!is_test_path(p), "{p}");
        }
    }
}
