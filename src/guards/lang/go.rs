//! Go to the guards: `Test*` functions, `t.Skip` (inside the test it skips), `t.Error` and
//! `t.Fatal` and testify's `assert`/`require`.

use super::{SkipTarget, Spec, Syntax, kind::*, word_after};
use crate::guards::text::Text;

pub static SPEC: Spec = Spec {
    extensions: &["go"],
    syntax: Syntax {
        lexed: true,
        hash_comments: false,
        triple_quotes: false,
        template_literals: false,
        regex_literals: false,
        single_quote_strings: true,
    },
    context_words: &[("/*", LEX), ("*/", LEX)],
    test_words: &[
        ("func ", NAME),
        ("t.Error", ASSERT),
        ("t.Fatal", ASSERT),
        ("assert", ASSERT),
        ("require.", ASSERT),
    ],
    code_words: &[("// TODO", STUB)],
    anywhere_words: &[("Skip", SKIP)],
    inline_tests: false,
    skip_markers: &["t.Skip(", "t.Skipf(", "t.SkipNow("],
    skips_anywhere: true,
    skip_target: SkipTarget::Enclosing,
    tests_anywhere: false,
    assertions: &["t.Error", "t.Fatal", "assert.", "require."],
    is_test_attribute: |_| false,
    test_name,
    conditional_skip: |_, under_if| under_if,
    stub: |_: &Text<'_>, _, _, _, _| false,
    debug: |_, _| false,
};

fn test_name(code: &str, _raw: &str, _attr_pending: bool) -> Option<String> {
    word_after(code, "func ").filter(|n| n.starts_with("Test"))
}
