//! Java and Kotlin to the guards: `@Test` methods, `@Disabled`/`@Ignore`, JUnit's and
//! AssertJ's assertions, a method that only throws "not implemented".

use super::{SkipTarget, Spec, Syntax, has_token, holds, kind::*, word_after};
use crate::guards::text::Text;

pub static SPEC: Spec = Spec {
    extensions: &["java", "kt", "kts"],
    syntax: Syntax {
        lexed: true,
        hash_comments: false,
        triple_quotes: false,
        template_literals: false,
        regex_literals: false,
        single_quote_strings: true,
    },
    context_words: &[
        ("/*", LEX),
        ("*/", LEX),
        ("@Test", ATTR),
        ("void ", NAME),
        ("fun ", NAME),
    ],
    test_words: &[
        ("@Disabled", SKIP),
        ("@Ignore", SKIP),
        ("assert", ASSERT),
        ("Assert.", ASSERT),
    ],
    code_words: &[("throw new Error(", STUB), ("// TODO", STUB)],
    anywhere_words: &[],
    inline_tests: false,
    skip_markers: &["@Disabled", "@Ignore"],
    skips_anywhere: false,
    skip_target: SkipTarget::Decorated,
    tests_anywhere: true,
    assertions: &["assert", "Assert.", "assertThat("],
    is_test_attribute: |code| has_token(code, "@Test"),
    test_name,
    conditional_skip: |_, _| false,
    stub,
    debug: |_, _| false,
};

fn test_name(code: &str, _raw: &str, attr_pending: bool) -> Option<String> {
    if !attr_pending {
        return None;
    }
    word_after(code, "void ").or_else(|| word_after(code, "fun "))
}

fn stub(_text: &Text<'_>, code: &str, raw: &str, _start: usize, _end: usize) -> bool {
    holds(code, "throw new Error(") && raw.to_ascii_lowercase().contains("not implemented")
}
