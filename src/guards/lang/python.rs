//! Python to the guards: `test_*` functions, pytest's and unittest's skip and xfail markers
//! (with their conditions), `assert` and the context managers that assert, a free function
//! that only raises `NotImplementedError` or does nothing, `breakpoint()`.

use super::{SkipTarget, Spec, Syntax, has_token, holds, indent, kind::*, word_after};
use crate::guards::text::{REACH, Text};

pub static SPEC: Spec = Spec {
    extensions: &["py", "pyi"],
    syntax: Syntax {
        lexed: true,
        hash_comments: true,
        triple_quotes: true,
        template_literals: false,
        regex_literals: false,
        single_quote_strings: true,
    },
    context_words: &[("\"\"\"", LEX), ("'''", LEX)],
    test_words: &[
        ("def ", NAME),
        ("assert", ASSERT),
        ("pytest.raises(", ASSERT),
        // Context managers that fail the test unless what they expect happens.
        ("pytest.warns(", ASSERT),
        ("pytest.deprecated_call(", ASSERT),
        // unittest's explicit failure, and pytest's `recwarn.pop(Category)`, which fails
        // unless such a warning was raised.
        ("self.fail(", ASSERT),
        ("recwarn.pop(", ASSERT),
    ],
    code_words: &[
        ("NotImplementedError", STUB),
        ("pass", STUB),
        ("breakpoint(", DEBUG),
        ("pdb.set_trace(", DEBUG),
        ("// TODO", STUB),
    ],
    anywhere_words: &[("skip", SKIP), ("xfail", SKIP)],
    inline_tests: false,
    skip_markers: &[
        "@pytest.mark.skip",
        "@pytest.mark.skipif",
        "@unittest.skip",
        "pytest.skip(",
        "@pytest.mark.xfail",
    ],
    skips_anywhere: true,
    skip_target: SkipTarget::Decorated,
    tests_anywhere: false,
    assertions: &[
        "assert ",
        "self.assert",
        "pytest.raises(",
        "pytest.warns(",
        "pytest.deprecated_call(",
        "assert_",
        "self.fail(",
        "recwarn.pop(",
    ],
    is_test_attribute: |_| false,
    test_name,
    conditional_skip,
    stub,
    debug,
};

fn test_name(code: &str, _raw: &str, _attr_pending: bool) -> Option<String> {
    word_after(code, "def ").filter(|n| n.starts_with("test"))
}

fn conditional_skip(code: &str, under_if: bool) -> bool {
    // `xfail(WIN, reason=...)` has a condition; `xfail(reason=...)` and `xfail(strict=True)`
    // have none.
    let xfail_if = code.split_once("xfail(").is_some_and(|(_, args)| {
        let first = args.trim_start();
        !first.starts_with(')')
            && !["reason", "raises", "strict", "run"]
                .iter()
                .any(|k| first.starts_with(k))
    });
    ["skipif(", "skipIf(", "skipUnless(", "importorskip("]
        .iter()
        .any(|c| code.contains(c))
        || xfail_if
        || under_if
}

fn stub(text: &Text<'_>, code: &str, raw: &str, start: usize, end: usize) -> bool {
    (holds(code, "raise NotImplementedError")
        && function_is_only_this(text, start, end, raw).is_some())
        || (raw.trim() == "pass" && body_is_only_pass(text, start, end, raw))
}

fn debug(code: &str, _path: &str) -> bool {
    has_token(code, "breakpoint(") || holds(code, "pdb.set_trace(")
}

/// `pass` (the line from `start` to `end`) as the whole body of a free `def` that does not
/// say doing nothing is its job.
fn body_is_only_pass(text: &Text<'_>, start: usize, end: usize, raw: &str) -> bool {
    function_is_only_this(text, start, end, raw)
        .is_some_and(|(def_start, def)| !is_intended_no_op(text, def_start, &def))
}

/// The `def` line (its start and text) of a free function (not a method: a base class's
/// `raise NotImplementedError` or `pass` is the abstract-method idiom, a hook meant to be
/// overridden) whose whole body, after its docstring, is the statement on the line from
/// `start` to `end`. A statement under an `if`, `else` or `except` is no function's body.
/// Looks no further than `REACH` lines that are not blank each way.
fn function_is_only_this(
    text: &Text<'_>,
    start: usize,
    end: usize,
    raw: &str,
) -> Option<(usize, String)> {
    let body = indent(raw);
    // Up to the header, over the docstring and a multi-line signature's last line.
    let mut above = text.lines_before(start).take(REACH);
    let mut in_docstring = false;
    let (header_start, header) = loop {
        let (s, line) = above.next()?;
        let trimmed = line.trim();
        let quotes = trimmed.matches("\"\"\"").count() + trimmed.matches("'''").count();
        if in_docstring || quotes > 0 {
            in_docstring ^= quotes % 2 == 1;
            continue;
        }
        if indent(&line) >= body {
            return None; // another statement comes first
        }
        if !trimmed.starts_with(')') {
            break (s, line);
        }
        // `) -> T:` closes a signature that opens further up.
        let (s, line) = above.find(|(_, l)| indent(l) < body && !l.trim().starts_with(')'))?;
        break (s, line);
    };
    let def = header.trim_start();
    if !(def.starts_with("def ") || def.starts_with("async def ")) || indent(&header) > 0 {
        return None;
    }
    // Nothing after it in the body (a multi-line call's closing `)` is still the statement).
    for (_, next) in text.lines_after(end).take(REACH) {
        let n = indent(&next);
        if n > body || (n == body && next.trim_start().starts_with(')')) {
            continue;
        }
        return (n < body).then(|| (header_start, def.to_string()));
    }
    text.lines_after(end)
        .nth(REACH)
        .is_none()
        .then(|| (header_start, def.to_string()))
}

/// Whether a `def` whose body is `pass` says that doing nothing is its job: it returns
/// `None` by its annotation, it is a hook that often has nothing to do (`close`, `setUp`,
/// `__exit__`...), or it is decorated.
fn is_intended_no_op(text: &Text<'_>, def_start: usize, def: &str) -> bool {
    const HOOKS: [&str; 16] = [
        "close",
        "flush",
        "__enter__",
        "__exit__",
        "__del__",
        "__init__",
        "setup",
        "setUp",
        "teardown",
        "tearDown",
        "setUpClass",
        "tearDownClass",
        "reset",
        "cleanup",
        "dispose",
        "noop",
    ];
    let name = def
        .trim_start_matches("async ")
        .trim_start_matches("def ")
        .split('(')
        .next()
        .unwrap_or("")
        .trim();
    let returns_none = def
        .split(')')
        .next_back()
        .is_some_and(|r| r.contains("-> None"));
    // A decorated function is registered for what it declares (`@click.group()` over `def
    // cli(): pass`, `@abstractmethod`, `@overload`): its body is not where its work is.
    let decorated = text
        .prev_nonblank(def_start)
        .is_some_and(|l| l.trim_start().starts_with('@'));
    returns_none || HOOKS.contains(&name) || name.starts_with("on_") || decorated
}
