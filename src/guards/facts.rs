//! What the guards need to know about one version of one file, read in one pass: its test
//! functions, skip and focus markers, assertions, conflict markers, stubs, debug leftovers
//! and `auditor:allow` pragmas, each with the line it is on. Guards compare the facts of a
//! file before and after a commit; nothing here needs a diff.

use super::lang::{Lang, LexState, code_part, has_token, is_test_path, lang_of};

/// Something found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// 1-based line.
    pub line: u32,
    /// The line's trimmed text (what identifies the mark across versions).
    pub text: String,
}

/// The facts of one file version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Test functions, by name.
    pub tests: Vec<String>,
    /// Skip, ignore and focus markers.
    pub skips: Vec<Mark>,
    /// Assertions.
    pub assertions: u32,
    /// Assertions of a constant truth (`assert True`).
    pub constant_truths: Vec<Mark>,
    /// Merge conflict markers.
    pub conflicts: Vec<Mark>,
    /// Stubs standing in for code.
    pub stubs: Vec<Mark>,
    /// Debug output left behind.
    pub debug: Vec<Mark>,
    /// `auditor:allow(RULE)` pragmas, with their rule.
    pub pragmas: Vec<(Mark, String)>,
}

// The Rust markers are spelled in pieces (`concat!`) throughout the guards and their tests,
// so that a plain-text search of this repository for shortcuts finds only real ones.
const SKIP_MARKERS: &[(Lang, &[&str])] = &[
    (Lang::Rust, &[concat!("#[ig", "nore")]),
    (
        Lang::Python,
        &[
            "@pytest.mark.skip",
            "@pytest.mark.skipif",
            "@unittest.skip",
            "pytest.skip(",
            "@pytest.mark.xfail",
        ],
    ),
    (
        Lang::Js,
        &[
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
        ],
    ),
    (Lang::Go, &["t.Skip(", "t.Skipf(", "t.SkipNow("]),
    (Lang::Java, &["@Disabled", "@Ignore"]),
];

const ASSERTIONS: &[(Lang, &[&str])] = &[
    (
        Lang::Rust,
        &[
            "assert!",
            "assert_eq!",
            "assert_ne!",
            "assert_matches!",
            "debug_assert!",
        ],
    ),
    (
        Lang::Python,
        &["assert ", "self.assert", "pytest.raises(", "assert_"],
    ),
    (Lang::Js, &["expect(", "assert(", "assert.", "expect."]),
    (Lang::Go, &["t.Error", "t.Fatal", "assert.", "require."]),
    (Lang::Java, &["assert", "Assert.", "assertThat("]),
];

const CONSTANT_TRUTHS: &[&str] = &[
    "assert True",
    "assert(True)",
    "assert!(true)",
    "assert_eq!(true, true)",
    "assert_eq!(1, 1)",
    "expect(true).toBe(true)",
    "expect(true).toBeTruthy()",
    "assertTrue(true)",
    "assert.True(t, true)",
    "self.assertTrue(True)",
];

fn markers(
    table: &'static [(Lang, &'static [&'static str])],
    lang: Lang,
) -> &'static [&'static str] {
    table
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or(&[], |(_, m)| m)
}

/// The name of a test the line declares, given whether a test attribute preceded it.
fn test_name(lang: Lang, code: &str, raw: &str, attr_pending: bool) -> Option<String> {
    let word_after = |s: &str, kw: &str| -> Option<String> {
        let at = s.find(kw)? + kw.len();
        let name: String = s[at..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    match lang {
        Lang::Rust if attr_pending => word_after(code, "fn "),
        Lang::Python => word_after(code, "def ").filter(|n| n.starts_with("test")),
        Lang::Go => word_after(code, "func ").filter(|n| n.starts_with("Test")),
        Lang::Java if attr_pending => {
            word_after(code, "void ").or_else(|| word_after(code, "fun "))
        }
        Lang::Js => {
            for call in [
                "it(",
                "test(",
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
                        return Some(name);
                    }
                }
            }
            None
        }
        _ => None,
    }
}

/// A cheap test before the token search: can this line hold a skip or focus marker at all?
fn might_skip(lang: Lang, code: &str) -> bool {
    match lang {
        Lang::Rust => code.contains(concat!("#[ig", "nore")),
        Lang::Python => code.contains("skip") || code.contains("xfail"),
        Lang::Js => {
            code.contains("skip")
                || code.contains("only")
                || code.contains("it(")
                || code.contains("test(")
                || code.contains("describe(")
        }
        Lang::Go => code.contains("Skip"),
        Lang::Java => code.contains("@Disabled") || code.contains("@Ignore"),
        Lang::Other => false,
    }
}

fn is_library_rust(path: &str) -> bool {
    path.starts_with("src/")
        && !path.ends_with("src/main.rs")
        && !path.contains("/bin/")
        && !path.ends_with("build.rs")
}

/// Reads the facts of `content` at `path`.
pub fn facts(path: &str, content: &str) -> Facts {
    let lang = lang_of(path);
    let test_file = is_test_path(path);
    let mut f = Facts::default();
    let mut state = LexState::default();
    let mut attr_pending = false;
    // Rust unit tests live beside the code, after #[cfg(test)].
    let mut in_rust_tests = false;
    let lines: Vec<&str> = content.lines().collect();
    for (idx, raw) in lines.iter().enumerate() {
        let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        let mark = || Mark {
            line,
            text: trimmed.to_string(),
        };
        if raw.starts_with("<<<<<<< ")
            || raw.starts_with(">>>>>>> ")
            || *raw == "======="
            || raw.starts_with("||||||| ")
        {
            f.conflicts.push(mark());
        }
        if let Some(rule) = pragma(raw) {
            f.pragmas.push((mark(), rule));
        }
        if lang == Lang::Other {
            continue;
        }
        let code = code_part(raw, lang, &mut state);
        if lang == Lang::Rust && code.contains("#[cfg(test)]") {
            in_rust_tests = true;
        }
        let testy = test_file || in_rust_tests;
        let may_skip = testy || matches!(lang, Lang::Js | Lang::Python | Lang::Go);
        if may_skip
            && might_skip(lang, &code)
            && markers(SKIP_MARKERS, lang)
                .iter()
                .any(|m| has_token(&code, m))
        {
            f.skips.push(mark());
        }
        let is_attr = match lang {
            Lang::Rust => {
                code.contains("#[test]")
                    || code.contains("#[tokio::test")
                    || code.contains("#[rstest")
            }
            Lang::Java => has_token(&code, "@Test"),
            _ => false,
        };
        if let Some(name) = test_name(lang, &code, raw, attr_pending || is_attr) {
            if testy || lang == Lang::Rust || lang == Lang::Java {
                f.tests.push(name);
            }
            attr_pending = false;
        } else if is_attr {
            attr_pending = true;
        }
        if testy {
            f.assertions += u32::try_from(
                markers(ASSERTIONS, lang)
                    .iter()
                    .filter(|m| code.contains(*m))
                    .count()
                    .min(1),
            )
            .unwrap_or(0);
            if code.contains("true") || code.contains("True") || code.contains("1, 1") {
                let compact = code.replace(' ', "");
                if CONSTANT_TRUTHS
                    .iter()
                    .any(|t| compact.contains(&t.replace(' ', "")))
                {
                    f.constant_truths.push(mark());
                }
            }
        } else {
            let stub = match lang {
                Lang::Rust => {
                    has_token(&code, concat!("to", "do!("))
                        || has_token(&code, concat!("unimple", "mented!("))
                }
                Lang::Python => code.contains("raise NotImplementedError"),
                Lang::Js | Lang::Java => {
                    code.contains("throw new Error(")
                        && raw.to_ascii_lowercase().contains("not implemented")
                }
                _ => false,
            } || (lang == Lang::Python
                && trimmed == "pass"
                && python_body_is_only_pass(&lines, idx))
                || (trimmed.starts_with("// TODO") && brace_body_is_only_this(&lines, idx));
            if stub {
                f.stubs.push(mark());
            }
            let debug = match lang {
                Lang::Rust => {
                    has_token(&code, "dbg!(")
                        || (is_library_rust(path) && has_token(&code, "println!("))
                }
                Lang::Js => code.contains("console.log("),
                Lang::Python => has_token(&code, "breakpoint(") || code.contains("pdb.set_trace("),
                _ => false,
            };
            if debug {
                f.debug.push(mark());
            }
        }
    }
    f
}

/// The rule of an `auditor:allow(RULE)` pragma written in a comment on this line (a mention
/// in a string or in prose is not a pragma).
fn pragma(raw: &str) -> Option<String> {
    const PRAGMA: &str = "auditor:allow(";
    let at = raw.find(PRAGMA)?;
    let before = &raw[..at];
    let opener = ["//", "#", "/*", "<!--", "--", ";"]
        .iter()
        .filter_map(|o| before.find(o))
        .min()?;
    // The comment opener must itself be outside a string.
    // Unescaped quotes before the opener: an odd count means the opener is inside a string.
    let head = &before.as_bytes()[..opener];
    let quotes = head
        .iter()
        .enumerate()
        .filter(|(i, b)| matches!(b, b'"' | b'\'') && (*i == 0 || head[i - 1] != b'\\'))
        .count();
    // The pragma opens the comment; quoted in a comment's prose, it is only a mention.
    let lead_in_ok = before[opener..]
        .chars()
        .all(|c| matches!(c, '/' | '*' | '#' | '!' | '-' | '<' | ';' | ' ' | '\t'));
    if quotes % 2 == 1 || !lead_in_ok {
        return None;
    }
    let rule: String = raw[at + PRAGMA.len()..]
        .chars()
        .take_while(|c| *c != ')')
        .collect();
    let rule = rule.trim();
    (!rule.is_empty()
        && rule
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| rule.to_string())
}

fn indent(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// `pass` as the whole body of a `def` (not of a class, an `except` or a loop).
fn python_body_is_only_pass(lines: &[&str], idx: usize) -> bool {
    let Some(prev) = lines[..idx].iter().rev().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let def = prev.trim_start();
    if !(def.starts_with("def ") || def.starts_with("async def ")) || !def.trim_end().ends_with(':')
    {
        return false;
    }
    let body = indent(lines[idx]);
    lines[idx + 1..]
        .iter()
        .find(|l| !l.trim().is_empty())
        .is_none_or(|next| indent(next) < body)
}

/// A `// TODO` comment that is the whole body between a function's braces.
fn brace_body_is_only_this(lines: &[&str], idx: usize) -> bool {
    let prev = lines[..idx].iter().rev().find(|l| !l.trim().is_empty());
    let next = lines[idx + 1..].iter().find(|l| !l.trim().is_empty());
    match (prev, next) {
        (Some(p), Some(n)) => {
            let p = p.trim_end();
            p.ends_with('{')
                && (p.contains("fn ") || p.contains("function") || p.contains(") {"))
                && n.trim() == "}"
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_tests_ignores_and_assertions() {
        let src = concat!(
            "fn lib() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    ",
            "#[ig",
            "nore]\n    fn slow() { assert_eq!(1, 2); }\n    #[test]\n    fn quick() { assert!(true); }\n    fn helper() {}\n}\n"
        );
        let f = facts("src/lib.rs", src);
        assert_eq!(f.tests, ["slow", "quick"]);
        assert_eq!(f.skips.len(), 1);
        assert_eq!(f.skips[0].line, 5);
        assert_eq!(f.assertions, 2);
        assert_eq!(f.constant_truths.len(), 1);
    }

    #[test]
    fn python_markers_and_stubs() {
        let t = "import pytest\n\n@pytest.mark.skip(reason='flaky')\ndef test_a():\n    assert f() == 1\n\ndef test_b():\n    s = '@pytest.mark.skip'  # pytest.skip(\n    assert True\n";
        let f = facts("tests/test_x.py", t);
        assert_eq!(f.tests, ["test_a", "test_b"]);
        assert_eq!(f.skips.len(), 1, "{:?}", f.skips);
        assert_eq!(f.constant_truths.len(), 1);
        let lib = "class A:\n    pass\n\ndef todo():\n    pass\n\ndef real():\n    raise NotImplementedError\n\ntry:\n    x()\nexcept E:\n    pass\n";
        let f = facts("app/a.py", lib);
        let lines: Vec<u32> = f.stubs.iter().map(|m| m.line).collect();
        assert_eq!(lines, [5, 8]);
    }

    #[test]
    fn javascript_focus_skip_and_debug() {
        let t = "describe('x', () => {\n  it.only('a', () => { expect(1).toBe(1) })\n  xit('b', () => {})\n  it('c', () => { const s = \"it.skip(\" })\n  process.exit(1)\n})\n";
        let f = facts("web/x.test.js", t);
        assert_eq!(f.tests, ["a", "b", "c"]);
        assert_eq!(f.skips.iter().map(|m| m.line).collect::<Vec<_>>(), [2, 3]);
        let lib = "function f() {\n  console.log('debug', x)\n  // console.log(y)\n  throw new Error('not implemented')\n}\n";
        let f = facts("web/lib.js", lib);
        assert_eq!(f.debug.len(), 1);
        assert_eq!(f.stubs.len(), 1);
    }

    #[test]
    fn go_and_java() {
        let go = "func TestA(t *testing.T) {\n\tt.Skip(\"later\")\n\tif x { t.Errorf(\"bad\") }\n}\nfunc helper() {}\n";
        let f = facts("pkg/a_test.go", go);
        assert_eq!(f.tests, ["TestA"]);
        assert_eq!(f.skips.len(), 1);
        assert_eq!(f.assertions, 1);
        let java = "class FooTest {\n  @Test\n  @Disabled\n  void parses() { assertEquals(1, f()); }\n  @Ignore @Test public void old() {}\n}\n";
        let f = facts("src/test/java/FooTest.java", java);
        assert_eq!(f.tests, ["parses", "old"]);
        assert_eq!(f.skips.len(), 2);
    }

    #[test]
    fn conflicts_and_pragmas_on_any_file() {
        let t = "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> topic\nx = 1  # auditor:allow(DEBUG_LEFTOVER) needed for the CLI\n";
        let f = facts("notes.txt", t);
        assert_eq!(f.conflicts.len(), 3);
        assert_eq!(f.pragmas[0].1, "DEBUG_LEFTOVER");
        // Mentioned in a string (even one with escaped quotes) or in prose: not a pragma.
        assert!(
            facts(
                "tests/x.rs",
                "f(\"a\", \"let s = \\\"// auditor:allow(STUB_CODE)\\\";\");\n"
            )
            .pragmas
            .is_empty()
        );
        assert!(
            facts("src/a.rs", "let s = \"// auditor:allow(STUB_CODE)\";\n")
                .pragmas
                .is_empty()
        );
        assert!(
            facts(
                "README.md",
                "Write `auditor:allow(RULE) reason` in a comment.\n"
            )
            .pragmas
            .is_empty()
        );
        assert!(
            facts("src/a.rs", "/// `auditor:allow(RULE)` pragmas\n")
                .pragmas
                .is_empty()
        );
        assert_eq!(
            facts(
                "ci.yml",
                "run: x  # auditor:allow(SUPERVISION_TAMPERING) ok\n"
            )
            .pragmas
            .len(),
            1
        );
        // Library println! is debug output; a binary's is its interface.
        assert_eq!(
            facts("src/util.rs", "fn f() { println!(\"x\"); }\n")
                .debug
                .len(),
            1
        );
        assert!(
            facts("src/main.rs", "fn main() { println!(\"x\"); }\n")
                .debug
                .is_empty()
        );
        assert!(
            facts("src/bin/tool.rs", "fn main() { println!(\"x\"); }\n")
                .debug
                .is_empty()
        );
    }
}
