//! JavaScript and TypeScript to the guards: `it`/`test` calls and their names, jest's, mocha's
//! and vitest's skip and focus markers, `expect`/`assert`, a free function that only throws
//! "not implemented", `console.log`.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::{SkipTarget, Spec, Syntax, has_token, holds, kind::*};
use crate::guards::text::{REACH, Text};

pub static SPEC: Spec = Spec {
    extensions: &["js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts"],
    syntax: Syntax {
        lexed: true,
        hash_comments: false,
        triple_quotes: false,
        template_literals: true,
        regex_literals: true,
        single_quote_strings: true,
    },
    context_words: &[("/*", LEX), ("*/", LEX), ("`", LEX)],
    // should.js's style (`res.body.should.equal(1)`) is not counted: projects leave it for
    // supertest's `.expect(...)`, and counting both makes every such rewrite look like lost
    // assertions (express: 61 more ASSERTION_REMOVED, all rewrites).
    test_words: &[("expect", ASSERT), ("assert", ASSERT)],
    code_words: &[
        ("throw new Error(", STUB),
        ("console.log(", DEBUG),
        ("// TODO", STUB),
    ],
    // Tests are named in the calls that skip or focus them (`it.skip('name'`).
    anywhere_words: &[
        ("skip", SKIP | NAME),
        ("only", SKIP | NAME),
        ("it(", SKIP | NAME),
        ("test(", SKIP | NAME),
        // ava's serial and known-failing tests (got's `test.serial('timeout option', ...)`).
        ("test.serial(", NAME),
        ("test.failing(", SKIP | NAME),
        ("describe(", SKIP),
    ],
    inline_tests: false,
    skip_markers: &[
        "it.skip(",
        "test.skip(",
        "describe.skip(",
        "xit(",
        "xdescribe(",
        "xtest(",
        "it.only(",
        "test.only(",
        "describe.only(",
        "fit(",
        "fdescribe(",
        // ava's known failure, its pytest `xfail`: a failing test that no longer breaks the run.
        "test.failing(",
        // ava's modifiers chain (got 633651fb: `test.serial.skip('send timeout (keepalive)'`).
        "test.serial.skip(",
        "test.serial.only(",
        "test.failing.skip(",
        // mocha's skip from inside a test or a hook.
        "this.skip(",
    ],
    skips_anywhere: true,
    skip_target: SkipTarget::NamedOrEnclosing,
    tests_anywhere: false,
    assertions: &["expect(", "assert(", "assert.", "expect."],
    is_test_attribute: |_| false,
    test_name,
    conditional_skip,
    stub,
    debug,
};

/// The calls that declare a test, each followed by its name.
const TEST_CALLS: [&str; 13] = [
    "it(",
    "test(",
    "test.serial(",
    "test.failing(",
    "test.serial.skip(",
    "test.serial.only(",
    "test.failing.skip(",
    "it.skip(",
    "test.skip(",
    "xit(",
    "it.only(",
    "test.only(",
    "fit(",
];

fn test_name(code: &str, raw: &str, _attr_pending: bool) -> Option<String> {
    TEST_CALLS
        .iter()
        .find_map(|call| called_name(code, raw, call))
}

/// The name of the test that `call` (`it(`, or a name the file gave a test function)
/// declares on the line, if it does.
pub fn called_name(code: &str, raw: &str, call: &str) -> Option<String> {
    if !has_token(code, call) {
        return None;
    }
    // The name is in the string the code part blanked: take it from the line.
    let at = raw.find(call)? + call.len();
    let rest = raw[at..].trim_start();
    let quote = rest.chars().next()?;
    if !matches!(quote, '\'' | '"' | '`') {
        return None;
    }
    let name: String = rest[1..].chars().take_while(|c| *c != quote).collect();
    // A pending test (`it('should respect the mount-point');`, no function) checks nothing:
    // deleting it loses nothing.
    let after = rest[1 + name.len()..]
        .trim_start_matches(quote)
        .trim_start();
    (!after.starts_with(')')).then_some(name)
}

/// A name a file gives a test function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAlias {
    /// What the file calls it (`testFn`).
    pub name: String,
    /// Its value may skip, focus or expect to fail what it runs (`cond ? test.skip : test`),
    pub skips: bool,
    /// under a condition (a `?` in the value).
    pub conditional: bool,
}

/// The names a file gives its test functions, as in got's
/// `const testFn = process.platform === 'darwin' ? test.skip : test;` or
/// `const itIf = cond ? it : it.skip;`: a `const`, `let` or `var` whose value names `test` or
/// `it` (with modifiers) without calling it. Calls of these declare tests too.
pub fn test_aliases(text: &[u8]) -> Vec<TestAlias> {
    // A file names one or two; a bound keeps the file's own search small whatever it holds.
    const MAX_ALIASES: usize = 16;
    // One pass for the six ways a value names them (`= test`, `? it`, `: test`...): every
    // JavaScript blob of a history is searched, and `it` alone is in every other word.
    static VALUES: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::new(["= test", "? test", ": test", "= it", "? it", ": it"])
            .expect("six short words compile")
    });
    let mut aliases: Vec<TestAlias> = Vec::new();
    for hit in VALUES.find_iter(text) {
        let at = hit.start() + 2;
        // `test` or `it` with modifiers (`test.failing`), and no call.
        let mut end = hit.end();
        while text.get(end) == Some(&b'.') && text.get(end + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            end += 1;
            while text.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                end += 1;
            }
        }
        if !text
            .get(end)
            .is_none_or(|c| matches!(c, b';' | b'\n' | b'\r' | b' ' | b')'))
        {
            continue;
        }
        let line_start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |n| n + 1);
        let line_end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
        let Ok(line) = std::str::from_utf8(&text[line_start..line_end]) else {
            continue;
        };
        let Some(declared) = ["const ", "let ", "var "]
            .iter()
            .find_map(|k| line.trim_start().strip_prefix(k))
        else {
            continue;
        };
        let name: String = declared
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        let Some(value) = declared[name.len()..].trim_start().strip_prefix('=') else {
            continue;
        };
        if name.is_empty()
            || name.len() > 64
            || matches!(name.as_str(), "test" | "it")
            || aliases.len() >= MAX_ALIASES
            || aliases.iter().any(|a| a.name == name)
        {
            continue;
        }
        let value = value.split(';').next().unwrap_or_default();
        let skips = [".skip", ".only", ".failing"]
            .iter()
            .any(|m| has_token(value, m));
        aliases.push(TestAlias {
            name,
            skips,
            conditional: value.contains('?'),
        });
    }
    aliases
}

fn conditional_skip(code: &str, under_if: bool) -> bool {
    [".skipIf(", ".runIf("].iter().any(|c| code.contains(c)) || under_if
}

fn stub(text: &Text<'_>, code: &str, raw: &str, start: usize, end: usize) -> bool {
    holds(code, "throw new Error(")
        && raw.to_ascii_lowercase().contains("not implemented")
        && function_is_only_this(text, start, end)
}

fn debug(code: &str, _path: &str) -> bool {
    holds(code, "console.log(")
}

/// A `throw` (the line from `start` to `end`) that is the whole body of a free function
/// (`function f() {`, `const f = (x) => {`). Not of a class's or an object's method, where it
/// is the abstract-method idiom (`throw new Error('makeRequest not implemented.')` in a base
/// class that platforms subclass), nor of an `if` or `else` block.
fn function_is_only_this(text: &Text<'_>, start: usize, end: usize) -> bool {
    if !text
        .next_nonblank(end)
        .is_some_and(|n| n.trim_start().starts_with('}'))
    {
        return false;
    }
    // The signature, over as many lines as its parentheses take (`) {`, `): Promise<T> {`).
    let mut signature = String::new();
    let mut depth = 0i64;
    for (_, line) in text.lines_before(start).take(REACH) {
        if signature.is_empty() && !line.trim_end().ends_with('{') {
            return false;
        }
        let count = |c: char| i64::try_from(line.matches(c).count()).unwrap_or(i64::MAX);
        depth += count(')') - count('(');
        signature = format!("{} {signature}", line.trim());
        if depth <= 0 {
            break;
        }
    }
    if depth > 0 {
        return false;
    }
    let Some((name, _)) = signature.split_once('(') else {
        return false;
    };
    let after_params = signature.rsplit_once(')').map_or("", |(_, rest)| rest);
    name.split_whitespace().any(|w| w == "function" || w == "=") || after_params.contains("=>")
}
