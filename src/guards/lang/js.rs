//! JavaScript and TypeScript to the guards: `it`/`test` calls and their names, jest's, mocha's
//! and vitest's skip and focus markers, `expect`/`assert`, a free function that only throws
//! "not implemented", `console.log`.

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
        ("test.failing(", NAME),
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

fn test_name(code: &str, raw: &str, _attr_pending: bool) -> Option<String> {
    for call in [
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
    ] {
        if has_token(code, call) {
            // The name is in the string the code part blanked: take it from the line.
            let at = raw.find(call)? + call.len();
            let rest = raw[at..].trim_start();
            let quote = rest.chars().next()?;
            if matches!(quote, '\'' | '"' | '`') {
                let name: String = rest[1..].chars().take_while(|c| *c != quote).collect();
                // A pending test (`it('should respect the mount-point');`, no function)
                // checks nothing: deleting it loses nothing.
                let after = rest[1 + name.len()..]
                    .trim_start_matches(quote)
                    .trim_start();
                if after.starts_with(')') {
                    return None;
                }
                return Some(name);
            }
        }
    }
    None
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
