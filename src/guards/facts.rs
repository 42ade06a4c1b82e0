//! What the guards need to know about one version of one file: its test functions, skip and
//! focus markers, assertions, conflict markers, stubs, debug leftovers and `auditor:allow`
//! pragmas, each with the line it is on. Only the lines a search for trigger words points at
//! are read, in the whole file or in regions of it (`regions.rs`). Guards compare the facts of
//! a file before and after a commit.

use std::cell::Cell;
use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::lang::{
    Lang, LexState, advance, code_part, comment_spans, has_token, holds, is_test_path, lang_of,
};
use super::text::Text;

/// Something found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// 1-based line.
    pub line: u32,
    /// The line's trimmed text, for feedback.
    pub text: String,
    /// What identifies the mark across versions: its code with string contents and comments
    /// left out, spaces collapsed, and the test it names. Rewording a skip's reason keeps the
    /// same mark (the same issue, never a "fixed" one and a new one).
    pub shape: String,
    /// For a skip: the test it disables, when this version shows it.
    pub test: Option<String>,
    /// For a skip: whether it holds only under a condition (a platform, a missing tool:
    /// `skipif(...)`, `cfg_attr(windows, ignore)`, a skip under an `if`).
    pub conditional: bool,
}

/// A line's code part as a mark's shape: spaces collapsed, and the test it names, if any
/// (JavaScript names its tests in strings, which the code part leaves out).
fn shape_of(code: &str, name: Option<&str>) -> String {
    // A formatter that swaps quotes (black) changes no mark.
    let mut s = code
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\'', "\"");
    if let Some(name) = name {
        s.push_str(" @ ");
        s.push_str(name);
    }
    s
}

/// How many lines that are not blank a rule reads on each side of the line it judges (a
/// function's header above its docstring, the end of its body). The regions around a change
/// are read wider than this, so that the facts of the lines they leave out are the same in
/// both versions.
pub const REACH: usize = 5;

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
            // mocha's skip from inside a test or a hook.
            "this.skip(",
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
        &[
            "assert ",
            "self.assert",
            "pytest.raises(",
            "pytest.warns(",
            "pytest.deprecated_call(",
            "assert_",
        ],
    ),
    (Lang::Js, &["expect(", "assert(", "assert.", "expect."]),
    (Lang::Go, &["t.Error", "t.Fatal", "assert.", "require."]),
    (Lang::Java, &["assert", "Assert.", "assertThat("]),
];

/// Assertions of a constant truth, spaces removed, whole calls: `assertTrue(x)` asserts
/// something, `assertTrue(True)` nothing. Python's `assert True` statement is told apart
/// separately (without spaces it would read as `assertTrue`).
const CONSTANT_TRUTHS: &[&str] = &[
    "assert(True)",
    "assert!(true)",
    "assert_eq!(true,true)",
    "assert_eq!(1,1)",
    "expect(true).toBe(true)",
    "expect(true).toBeTruthy()",
    "assertTrue(true)",
    "assertTrue(True)",
    "assert.True(t,true)",
];

/// Whether the code part of a line asserts a constant truth.
fn asserts_constant_truth(code: &str) -> bool {
    let statement = code.trim();
    let python = statement
        .strip_prefix("assert True")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ',', ';']));
    python || {
        let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        CONSTANT_TRUTHS.iter().any(|t| compact.contains(t))
    }
}

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
        // A test defined by a macro of the project's (ripgrep's `rgtest!(name, |dir, cmd| ..)`).
        Lang::Rust => {
            let head = code.trim_start();
            let (mac, _) = head.split_once("test!(")?;
            let is_ident = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == '_');
            is_ident(mac).then(|| word_after(head, "test!(")).flatten()
        }
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

fn is_library_rust(path: &str) -> bool {
    path.starts_with("src/")
        && !path.ends_with("src/main.rs")
        && !path.contains("/bin/")
        && !path.ends_with("build.rs")
}

/// What a trigger word can lead to on its line: the checks a line runs are those its words
/// call for.
mod kind {
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
type WordList = &'static [(&'static str, u16)];

/// The words that change a reader's context, by language: the lexer's openers and closers,
/// and test attributes with the functions they wait for.
fn context_words(lang: Lang) -> WordList {
    use kind::*;
    match lang {
        Lang::Rust => &[
            ("/*", LEX),
            ("*/", LEX),
            ("#[test]", ATTR),
            ("#[tokio::test", ATTR),
            ("#[rstest", ATTR),
            ("fn ", NAME),
            ("test!(", NAME),
        ],
        Lang::Python => &[("\"\"\"", LEX), ("'''", LEX)],
        Lang::Js => &[("/*", LEX), ("*/", LEX), ("`", LEX)],
        Lang::Go => &[("/*", LEX), ("*/", LEX)],
        Lang::Java => &[
            ("/*", LEX),
            ("*/", LEX),
            ("@Test", ATTR),
            ("void ", NAME),
            ("fun ", NAME),
        ],
        Lang::Other => &[],
    }
}

/// Substrings one of which is on every line a fact can come from, by language and by whether
/// the file is a test file, each with the checks it calls for: the words of every marker the
/// rules look for there, and the context words. Only lines holding one are examined, and only
/// by the checks their words call for, so a file is read at about the speed of one
/// multi-pattern search. No word is a prefix of another, and the search restarts one byte
/// after each hit, so every word on a line is seen.
fn trigger_words(lang: Lang, test_file: bool) -> Vec<(&'static str, u16)> {
    use kind::*;
    let mut words = vec![
        ("<<<<<<<", CONFLICT),
        (">>>>>>>", CONFLICT),
        ("=======", CONFLICT),
        ("|||||||", CONFLICT),
        ("auditor:allow(", PRAGMA),
    ];
    words.extend_from_slice(context_words(lang));
    // Stubs and debug output count outside tests; assertions and test names inside.
    let (tests, code): (WordList, WordList) = match lang {
        // Rust's unit tests start mid-file (`#[cfg(test)]`): both sets everywhere.
        Lang::Rust => (
            &[(concat!("#[ig", "nore"), SKIP), ("assert", ASSERT)],
            &[
                (concat!("to", "do!("), STUB),
                (concat!("unimple", "mented!("), STUB),
                ("dbg!(", DEBUG),
                ("println!(", DEBUG),
                ("// TODO", STUB),
            ],
        ),
        Lang::Python => (
            &[
                ("def ", NAME),
                ("assert", ASSERT),
                ("pytest.raises(", ASSERT),
                // Context managers that fail the test unless what they expect happens.
                ("pytest.warns(", ASSERT),
                ("pytest.deprecated_call(", ASSERT),
            ],
            &[
                ("NotImplementedError", STUB),
                ("pass", STUB),
                ("breakpoint(", DEBUG),
                ("pdb.set_trace(", DEBUG),
                ("// TODO", STUB),
            ],
        ),
        Lang::Js => (
            &[("expect", ASSERT), ("assert", ASSERT)],
            &[
                ("throw new Error(", STUB),
                ("console.log(", DEBUG),
                ("// TODO", STUB),
            ],
        ),
        Lang::Go => (
            &[
                ("func ", NAME),
                ("t.Error", ASSERT),
                ("t.Fatal", ASSERT),
                ("assert", ASSERT),
                ("require.", ASSERT),
            ],
            &[("// TODO", STUB)],
        ),
        Lang::Java => (
            &[
                ("@Disabled", SKIP),
                ("@Ignore", SKIP),
                ("assert", ASSERT),
                ("Assert.", ASSERT),
            ],
            &[("throw new Error(", STUB), ("// TODO", STUB)],
        ),
        Lang::Other => (&[], &[]),
    };
    // Skip and focus markers count in any Python, JavaScript or Go file; JavaScript names its
    // tests in the same calls (`it.skip('name'`), and Java names them wherever `@Test` is.
    let anywhere: WordList = match lang {
        Lang::Python => &[("skip", SKIP), ("xfail", SKIP)],
        Lang::Js => &[
            ("skip", SKIP | NAME),
            ("only", SKIP | NAME),
            ("it(", SKIP | NAME),
            ("test(", SKIP | NAME),
            ("describe(", SKIP),
        ],
        Lang::Go => &[("Skip", SKIP)],
        _ => &[],
    };
    words.extend_from_slice(anywhere);
    if test_file || lang == Lang::Rust {
        words.extend_from_slice(tests);
    }
    if !test_file || lang == Lang::Rust {
        words.extend_from_slice(code);
    }
    words
}

/// A search for words, each with its kinds.
struct Words {
    search: AhoCorasick,
    kinds: Vec<u16>,
}

impl Words {
    fn new(words: &[(&str, u16)]) -> Words {
        // Leftmost-first lets the search use its SIMD prefilter (Teddy); with the restart
        // after each hit it still sees every word.
        let search = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(words.iter().map(|(w, _)| w))
            .expect("static words compile");
        Words {
            search,
            kinds: words.iter().map(|(_, k)| *k).collect(),
        }
    }

    /// Each line in `span` holding words, with the kinds of all its words, in order.
    fn lines(&self, text: &Text<'_>, span: Range<usize>, mut visit: impl FnMut(usize, usize, u16)) {
        let mut line: Option<(usize, usize, u16)> = None;
        let mut at = span.start;
        while at < span.end {
            let input = aho_corasick::Input::new(text.0).span(at..span.end);
            let Some(hit) = self.search.find(input) else {
                break;
            };
            let kinds = self.kinds[hit.pattern().as_usize()];
            match &mut line {
                Some((_, end, mask)) if hit.start() < *end => *mask |= kinds,
                _ => {
                    if let Some((s, e, mask)) = line.take() {
                        visit(s, e, mask);
                    }
                    let (s, e) = text.bounds(hit.start());
                    line = Some((s, e, kinds));
                }
            }
            at = hit.start() + 1;
        }
        if let Some((s, e, mask)) = line {
            visit(s, e, mask);
        }
    }
}

/// The searches of one language.
struct Search {
    /// Every line a fact can come from holds one of these.
    triggers: Words,
    /// Every line that changes the context holds one of these (none: nothing does).
    context: Option<Words>,
}

/// The searches for each language, for test files and for other files, built once.
fn search(lang: Lang, test_file: bool) -> &'static Search {
    const LANGS: [Lang; 6] = [
        Lang::Rust,
        Lang::Python,
        Lang::Js,
        Lang::Go,
        Lang::Java,
        Lang::Other,
    ];
    // Built on first use: an audit usually meets a few languages, and each build costs.
    static SEARCHES: [OnceLock<Search>; 2 * LANGS.len()] = [const { OnceLock::new() }; 12];
    let at = LANGS
        .iter()
        .position(|l| *l == lang)
        .unwrap_or(LANGS.len() - 1);
    SEARCHES[2 * at + usize::from(test_file)].get_or_init(|| Search {
        triggers: Words::new(&trigger_words(lang, test_file)),
        context: (!context_words(lang).is_empty()).then(|| Words::new(context_words(lang))),
    })
}

/// What carries from one line to the next while reading a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    lex: LexState,
    /// A test attribute (`#[test]`, `@Test`) waits for its function.
    attr_pending: bool,
    /// How many skips just read wait for the test they decorate (Python, Rust, Java).
    skips_pending: u8,
}

/// Line numbers, counted only as far as a mark needs them (most examined lines make none).
struct LineNumbers<'a> {
    bytes: &'a [u8],
    /// Newlines are counted up to here,
    counted: Cell<usize>,
    /// where this (1-based) line starts.
    line: Cell<usize>,
}

impl LineNumbers<'_> {
    /// The number of the line starting at `start` (at or after the last one asked for).
    fn at(&self, start: usize) -> u32 {
        let from = self.counted.get();
        let newlines = memchr::memchr_iter(b'\n', &self.bytes[from..start]).count();
        self.line.set(self.line.get() + newlines);
        self.counted.set(start);
        u32::try_from(self.line.get()).unwrap_or(u32::MAX)
    }
}

/// Reads the facts of one version of one file, in whole or region by region.
pub struct Reader<'a> {
    path: &'a str,
    lang: Lang,
    test_file: bool,
    text: Text<'a>,
    /// Where Rust's unit tests are: each item after a `#[cfg(test)]`, to the brace that closes
    /// it (code after a test module is code again). Each version has its own, so the
    /// regions of two versions need carry nothing of them.
    rust_tests: Vec<Range<usize>>,
}

impl<'a> Reader<'a> {
    /// A reader of `content`, a version of the file at `path`.
    pub fn new(path: &'a str, content: &'a [u8]) -> Reader<'a> {
        Reader {
            path,
            lang: lang_of(path),
            test_file: is_test_path(path),
            text: Text(content),
            rust_tests: if lang_of(path) == Lang::Rust {
                rust_test_items(content)
            } else {
                Vec::new()
            },
        }
    }

    /// Whether the two readers read their files by the same rules (a rename may change the
    /// language or make a file a test file), so that reading only the regions around the
    /// changes tells what changed. Rust's tests reach to the brace that closes their module:
    /// unless each version's tests run to its end, a change can move that brace and turn
    /// lines far from it into tests or back, so the versions are read whole.
    pub fn same_rules(&self, other: &Reader<'_>) -> bool {
        let tests_run_to_the_end = |r: &Reader<'_>| {
            r.rust_tests
                .iter()
                .all(|t| r.text.0[t.end..].iter().all(u8::is_ascii_whitespace))
        };
        self.lang == other.lang
            && self.test_file == other.test_file
            && self.rust_tests.len() == other.rust_tests.len()
            && tests_run_to_the_end(self)
            && tests_run_to_the_end(other)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.text.0
    }

    /// The file's path.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Adds the facts of the lines in `span` (byte offsets at line starts; the first is line
    /// `first_line`, 1-based) to `f`, carrying `ctx` through them.
    pub fn read(&self, span: Range<usize>, first_line: usize, ctx: &mut Context, f: &mut Facts) {
        let numbers = LineNumbers {
            bytes: self.text.0,
            counted: Cell::new(span.start),
            line: Cell::new(first_line),
        };
        search(self.lang, self.test_file)
            .triggers
            .lines(&self.text, span, |start, end, kinds| {
                self.line(start, end, kinds, &numbers, ctx, f);
            });
    }

    /// Carries `ctx` through the lines in `span` without reading facts: only the lines that
    /// open or close a comment or a string, or start Rust's unit tests, change it.
    pub fn skip(&self, span: Range<usize>, ctx: &mut Context) {
        let Some(words) = &search(self.lang, self.test_file).context else {
            return;
        };
        words.lines(&self.text, span, |start, end, kinds| {
            let raw = self.text.line(start, end);
            if kinds == kind::LEX {
                advance(&raw, self.lang, &mut ctx.lex);
            } else {
                let code = code_part(&raw, self.lang, &mut ctx.lex);
                self.carry(&code, &raw, kinds, ctx);
            }
        });
    }

    /// Carries the context past one line (its code part already read; `kinds` of its words):
    /// Rust's unit tests starting, a test attribute waiting for its function. Returns the test
    /// the line names.
    fn carry(&self, code: &str, raw: &str, kinds: u16, ctx: &mut Context) -> Option<String> {
        let lang = self.lang;
        if kinds & (kind::ATTR | kind::NAME) == 0 {
            return None;
        }
        let is_attr = kinds & kind::ATTR != 0
            && match lang {
                Lang::Rust => {
                    holds(code, "#[test]")
                        || holds(code, "#[tokio::test")
                        || holds(code, "#[rstest")
                }
                Lang::Java => has_token(code, "@Test"),
                _ => false,
            };
        let name = (kinds & kind::NAME != 0)
            .then(|| test_name(lang, code, raw, ctx.attr_pending || is_attr))
            .flatten();
        if name.is_some() {
            ctx.attr_pending = false;
        } else if is_attr {
            ctx.attr_pending = true;
        }
        name
    }

    /// Reads one line (from byte `start` to `end`), by the checks `kinds` (of the words on
    /// it) call for.
    fn line(
        &self,
        start: usize,
        end: usize,
        kinds: u16,
        numbers: &LineNumbers<'_>,
        ctx: &mut Context,
        f: &mut Facts,
    ) {
        let lang = self.lang;
        let raw = self.text.line(start, end);
        let raw = raw.as_ref();
        if kinds == kind::LEX {
            // Only a comment or string opens or closes here: the state is all there is to read.
            advance(raw, lang, &mut ctx.lex);
            return;
        }
        let trimmed = raw.trim();
        let mark = |shape: String| Mark {
            line: numbers.at(start),
            text: trimmed.to_string(),
            shape,
            test: None,
            conditional: false,
        };
        let has = |k: u16| kinds & k != 0;
        if has(kind::CONFLICT)
            && (raw.starts_with("<<<<<<< ")
                || raw.starts_with(">>>>>>> ")
                || raw == "======="
                || raw.starts_with("||||||| "))
        {
            f.conflicts.push(mark(trimmed.to_string()));
        }
        if let Some(rule) = has(kind::PRAGMA)
            .then(|| pragma(raw, lang, ctx.lex))
            .flatten()
        {
            f.pragmas
                .push((mark(format!("auditor:allow({rule})")), rule));
        }
        if lang == Lang::Other {
            return;
        }
        let code = code_part(raw, lang, &mut ctx.lex);
        let name = self.carry(&code, raw, kinds, ctx);
        let shape = || shape_of(&code, name.as_deref());
        let testy = self.test_file || self.rust_tests.iter().any(|t| t.contains(&start));
        let may_skip = testy || matches!(lang, Lang::Js | Lang::Python | Lang::Go);
        if may_skip
            && has(kind::SKIP)
            && markers(SKIP_MARKERS, lang)
                .iter()
                .any(|m| has_token(&code, m))
        {
            let previous = self.text.prev_nonblank(start).unwrap_or_default();
            let skip = Mark {
                conditional: is_conditional_skip(lang, &code, &previous),
                ..mark(shape())
            };
            add_skip(f, ctx, lang, skip, name.as_ref());
        }
        if let Some(name) = name
            .as_ref()
            .filter(|_| testy || lang == Lang::Rust || lang == Lang::Java)
        {
            add_test(f, ctx, name);
        }
        if testy {
            if has(kind::ASSERT) {
                f.assertions +=
                    u32::from(markers(ASSERTIONS, lang).iter().any(|m| holds(&code, m)));
                if (holds(&code, "true") || holds(&code, "True") || holds(&code, "1,"))
                    && asserts_constant_truth(&code)
                {
                    f.constant_truths.push(mark(shape()));
                }
            }
        } else {
            let stub = has(kind::STUB)
                && (match lang {
                    Lang::Rust => {
                        has_token(&code, concat!("to", "do!("))
                            || has_token(&code, concat!("unimple", "mented!("))
                    }
                    Lang::Python => {
                        holds(&code, "raise NotImplementedError")
                            && python_function_is_only_this(&self.text, start, end, raw).is_some()
                    }
                    Lang::Js | Lang::Java => {
                        holds(&code, "throw new Error(")
                            && raw.to_ascii_lowercase().contains("not implemented")
                            && (lang == Lang::Java
                                || js_function_is_only_this(&self.text, start, end))
                    }
                    _ => false,
                } || (lang == Lang::Python
                    && trimmed == "pass"
                    && python_body_is_only_pass(&self.text, start, end, raw))
                    || (trimmed.starts_with("// TODO")
                        && brace_body_is_only_this(&self.text, start, end)));
            if stub {
                f.stubs.push(mark(shape()));
            }
            let debug = has(kind::DEBUG)
                && match lang {
                    Lang::Rust => {
                        has_token(&code, "dbg!(")
                            || (is_library_rust(self.path) && has_token(&code, "println!("))
                    }
                    Lang::Js => holds(&code, "console.log("),
                    Lang::Python => {
                        has_token(&code, "breakpoint(") || holds(&code, "pdb.set_trace(")
                    }
                    _ => false,
                };
            if debug {
                f.debug.push(mark(shape()));
            }
        }
    }
}

/// Reads the facts of `content` at `path`.
pub fn facts(path: &str, content: &[u8]) -> Facts {
    let mut f = Facts::default();
    Reader::new(path, content).read(0..content.len(), 1, &mut Context::default(), &mut f);
    f
}

/// The items after each `#[cfg(test)]` of a Rust file.
fn rust_test_items(text: &[u8]) -> Vec<Range<usize>> {
    const ATTR: &[u8] = b"#[cfg(test)]";
    memchr::memmem::find_iter(text, ATTR)
        .map(|at| at..rust_item_end(text, at + ATTR.len()))
        .collect()
}

/// A skip, with the test it disables when the line shows it: `it.skip('name'` names its test,
/// `this.skip()` and Go's `t.Skip()` are inside the last one, and a decorator waits for the
/// test below it (`add_test`).
fn add_skip(f: &mut Facts, ctx: &mut Context, lang: Lang, mut skip: Mark, named: Option<&String>) {
    match lang {
        Lang::Js => skip.test = named.cloned().or_else(|| f.tests.last().cloned()),
        Lang::Go => skip.test = f.tests.last().cloned(),
        _ => ctx.skips_pending = ctx.skips_pending.saturating_add(1),
    }
    f.skips.push(skip);
}

/// A test, which the skips decorating it name.
fn add_test(f: &mut Facts, ctx: &mut Context, name: &str) {
    f.tests.push(name.to_string());
    let pending = usize::from(std::mem::take(&mut ctx.skips_pending));
    let from = f.skips.len().saturating_sub(pending);
    for skip in &mut f.skips[from..] {
        skip.test = Some(name.to_string());
    }
}

/// Where the Rust item starting at `from` ends: after its `;`, or after the brace that closes
/// its body (strings, character literals and comments skipped), or at the end of the text.
fn rust_item_end(text: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i < text.len() {
        match text[i] {
            b'/' if text.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &text[i..]).map_or(text.len(), |n| i + n);
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&text[i + 2..], b"*/")
                    .map_or(text.len(), |n| i + 2 + n + 1);
            }
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
            }
            // A character literal of a brace: `'{'`, `'}'`.
            b'\''
                if matches!(text.get(i + 1), Some(b'{' | b'}'))
                    && text.get(i + 2) == Some(&b'\'') =>
            {
                i += 2;
            }
            b';' if depth == 0 => return i + 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

/// What ends a line that opens a block in the brace languages.
const OPENS_BLOCK: char = '{';

/// Whether a skip holds only under a condition: a platform or a missing tool, as in
/// `@pytest.mark.skipif(WIN, ...)`, `#[cfg_attr(windows, ignore)]`, vitest's `it.skipIf(...)`,
/// or a skip call right under an `if` (`if runtime.GOOS == "windows" { t.Skip() }`).
fn is_conditional_skip(lang: Lang, code: &str, previous: &str) -> bool {
    let under_if = {
        let p = previous.trim();
        (p.starts_with("if ") || p.starts_with("if(") || p.starts_with("elif "))
            && p.ends_with([OPENS_BLOCK, ':'])
    };
    match lang {
        Lang::Python => {
            // `xfail(WIN, reason=...)` has a condition; `xfail(reason=...)` and
            // `xfail(strict=True)` have none.
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
        Lang::Rust => code.contains("cfg_attr("),
        Lang::Js => [".skipIf(", ".runIf("].iter().any(|c| code.contains(c)) || under_if,
        Lang::Go => under_if,
        _ => false,
    }
}

/// The rule of an `auditor:allow(RULE)` pragma that opens a comment on this line (`lex` is the
/// state at the line's start). A mention in a string, in a comment's prose, or anywhere else
/// is not a pragma: it silences nothing.
fn pragma(raw: &str, lang: Lang, lex: LexState) -> Option<String> {
    const PRAGMA: &str = "auditor:allow(";
    // Asked of every line examined: a prebuilt search, not one built per call.
    static FINDER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    let at = FINDER
        .get_or_init(|| memchr::memmem::Finder::new(PRAGMA))
        .find(raw.as_bytes())?;
    let opener = if lang == Lang::Other {
        // No lexer for the language: the comment opener nearest the line's start, outside a
        // string (an odd count of unescaped quotes before it means inside one).
        let before = &raw[..at];
        let opener = ["//", "#", "/*", "<!--", "--", ";"]
            .iter()
            .filter_map(|o| before.find(o))
            .min()?;
        let head = &before.as_bytes()[..opener];
        let quotes = head
            .iter()
            .enumerate()
            .filter(|(i, b)| matches!(b, b'"' | b'\'' | b'`') && (*i == 0 || head[i - 1] != b'\\'))
            .count();
        (quotes % 2 == 0).then_some(opener)?
    } else {
        // The language's own lexer says where its comments are.
        comment_spans(raw, lang, lex)
            .into_iter()
            .find(|span| span.contains(&at))?
            .start
    };
    // The pragma opens the comment; quoted in a comment's prose, it is only a mention.
    let lead_in_ok = raw[opener..at]
        .chars()
        .all(|c| matches!(c, '/' | '*' | '#' | '!' | '-' | '<' | ';' | ' ' | '\t'));
    if !lead_in_ok {
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

/// `pass` (the line from `start` to `end`) as the whole body of a free `def` that does not
/// say doing nothing is its job.
fn python_body_is_only_pass(text: &Text<'_>, start: usize, end: usize, raw: &str) -> bool {
    python_function_is_only_this(text, start, end, raw)
        .is_some_and(|(def_start, def)| !is_intended_no_op(text, def_start, &def))
}

/// The `def` line (its start and text) of a free function (not a method: a base class's
/// `raise NotImplementedError` or `pass` is the abstract-method idiom, a hook meant to be
/// overridden) whose whole body, after its docstring, is the statement on the line from
/// `start` to `end`. A statement under an `if`, `else` or `except` is no function's body.
/// Looks no further than `REACH` lines that are not blank each way.
fn python_function_is_only_this(
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

/// A `throw` (the line from `start` to `end`) that is the whole body of a free function
/// (`function f() {`, `const f = (x) => {`). Not of a class's or an object's method, where it
/// is the abstract-method idiom (`throw new Error('makeRequest not implemented.')` in a base
/// class that platforms subclass), nor of an `if` or `else` block.
fn js_function_is_only_this(text: &Text<'_>, start: usize, end: usize) -> bool {
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

/// A `// TODO` comment (the line from `start` to `end`) that is the whole body between a
/// function's braces.
fn brace_body_is_only_this(text: &Text<'_>, start: usize, end: usize) -> bool {
    match (text.prev_nonblank(start), text.next_nonblank(end)) {
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

    /// The facts of a text (shadows the byte-level `facts`).
    fn facts(path: &str, text: &str) -> Facts {
        super::facts(path, text.as_bytes())
    }

    /// A mark's identity is what it is and which test it concerns, never its wording.
    #[test]
    fn a_reworded_marker_keeps_its_shape_and_another_test_does_not() {
        let shape = |path: &str, text: &str| facts(path, text).skips[0].shape.clone();
        assert_eq!(
            shape("tests/test_a.py", "@pytest.mark.skip(reason=\"flaky\")\n"),
            shape(
                "tests/test_a.py",
                "@pytest.mark.skip(reason=\"[fix-GRD-001] fine\")\n"
            ),
        );
        assert_eq!(
            shape("t.test.js", "it.skip('adds', () => {}); // later\n"),
            shape("t.test.js", "it.skip('adds',   () => {});\n"),
        );
        assert_ne!(
            shape("t.test.js", "it.skip('adds', () => {});\n"),
            shape("t.test.js", "it.skip('subtracts', () => {});\n"),
        );
    }

    /// The gating is exact only if every marker a check looks for holds a word of that check's
    /// kind, and no word hides another (the search restarts one byte after each hit).
    #[test]
    fn every_marker_holds_a_trigger_word_of_its_kind() {
        let langs = [Lang::Rust, Lang::Python, Lang::Js, Lang::Go, Lang::Java];
        for (lang, test_file) in langs.iter().flat_map(|l| [(*l, false), (*l, true)]) {
            let words = trigger_words(lang, test_file);
            for (a, _) in &words {
                for (b, _) in &words {
                    assert!(a == b || !b.starts_with(a), "{a:?} is a prefix of {b:?}");
                }
            }
            let called = |marker: &str, k: u16| {
                words
                    .iter()
                    .any(|(w, kinds)| kinds & k != 0 && marker.contains(w))
            };
            let skips_count = test_file || lang != Lang::Java;
            for m in markers(SKIP_MARKERS, lang).iter().filter(|_| skips_count) {
                assert!(called(m, kind::SKIP), "{lang:?} {m}");
            }
            for m in markers(ASSERTIONS, lang)
                .iter()
                .filter(|_| test_file || lang == Lang::Rust)
            {
                assert!(called(m, kind::ASSERT), "{lang:?} {m}");
            }
        }
        for call in [
            "it(",
            "test(",
            "it.skip(",
            "test.skip(",
            "xit(",
            "it.only(",
            "fit(",
        ] {
            assert!(
                trigger_words(Lang::Js, true)
                    .iter()
                    .any(|(w, k)| k & kind::NAME != 0 && call.contains(w)),
                "{call}"
            );
        }
    }

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
        // Asserting something true is not asserting a constant truth.
        let t = "def test_c():\n    self.assertTrue(os.path.exists(p))\n    assert Truthy(x)\n    self.assertTrue(True)\n    assert True, 'always'\n";
        let lines: Vec<u32> = facts("tests/test_y.py", t)
            .constant_truths
            .iter()
            .map(|m| m.line)
            .collect();
        assert_eq!(lines, [4, 5]);
        let lib = "class A:\n    pass\n\ndef todo():\n    pass\n\ndef real():\n    raise NotImplementedError\n\ntry:\n    x()\nexcept E:\n    pass\n";
        let f = facts("app/a.py", lib);
        let lines: Vec<u32> = f.stubs.iter().map(|m| m.line).collect();
        assert_eq!(lines, [5, 8]);
    }

    #[test]
    fn a_test_defined_by_a_macro_is_a_test() {
        let t = "rgtest!(feature_7, |dir: Dir, mut cmd: TestCommand| {\n    eqnice!(\"x\", cmd.stdout());\n});\n";
        assert_eq!(facts("tests/feature.rs", t).tests, ["feature_7"]);
        // Not a call of one.
        assert!(
            facts("tests/feature.rs", "let s = other!(x);\n")
                .tests
                .is_empty()
        );
    }

    #[test]
    fn mocha_skips_from_inside_a_test() {
        let t = "describe('api', function () {\n  it('posts', function () {\n    this.skip();\n  });\n});\n";
        let f = facts("test/api.test.js", t);
        assert_eq!(f.skips.len(), 1, "{:?}", f.skips);
        assert_eq!(f.skips[0].test.as_deref(), Some("posts"));
        assert!(!f.skips[0].conditional);
        let t = "it('posts', function () {\n  if (process.platform === 'win32') {\n    this.skip();\n  }\n});\n";
        assert!(facts("test/api.test.js", t).skips[0].conditional);
    }

    #[test]
    fn a_no_op_that_means_it_is_no_stub() {
        let lib = "def close() -> None:\n    pass\n\ndef __exit__(*a):\n    pass\n\n@click.group()\ndef cli():\n    pass\n\ndef on_event(e):\n    pass\n\ndef total():\n    pass\n";
        let f = facts("app/stream.py", lib);
        let lines: Vec<u32> = f.stubs.iter().map(|m| m.line).collect();
        assert_eq!(lines, [15], "{:?}", f.stubs);
    }

    /// A base class's methods that raise or do nothing are there to be overridden (click's
    /// `Command.get_usage`, stripe-node's `HttpClient.makeRequest`); a free function with no
    /// body but a raise is a stub, docstring or not.
    #[test]
    fn an_abstract_method_is_no_stub_and_a_free_function_stub_is() {
        let py = "class Command:\n    def get_usage(self, ctx):\n        \"\"\"Base commands cannot.\n\n        Subclasses do.\n        \"\"\"\n        raise NotImplementedError('Base commands cannot get usage')\n\n    def check(self):\n        pass\n\n\ndef parse(\n    args,\n) -> list:\n    \"\"\"Parses.\"\"\"\n    raise NotImplementedError(\n        \"later\"\n    )\n\n\ndef main():\n    if argv[1] != 'dump':\n        raise NotImplementedError('only dump')\n    run()\n\n\ndef export():\n    setup()\n    raise NotImplementedError\n";
        let lines: Vec<u32> = facts("app/core.py", py)
            .stubs
            .iter()
            .map(|m| m.line)
            .collect();
        assert_eq!(lines, [17], "{:?}", facts("app/core.py", py).stubs);
        let js = "class HttpClient {\n  makeRequest(host, port) {\n    throw new Error('makeRequest not implemented.');\n  }\n}\nfunction send(x) {\n  throw new Error('send not implemented');\n}\nconst get = (x) => {\n  throw new Error('not implemented');\n};\nfunction load(x) {\n  if (!x) {\n    throw new Error('not implemented for empty input');\n  } else {\n    throw new Error('not implemented');\n  }\n}\n";
        let lines: Vec<u32> = facts("lib/net.js", js)
            .stubs
            .iter()
            .map(|m| m.line)
            .collect();
        assert_eq!(lines, [7, 10], "{:?}", facts("lib/net.js", js).stubs);
        // TypeScript methods: a signature over several lines, an arrow in a parameter's type.
        let ts = "export class HttpClient {\n  makeRequest(\n    host: string,\n    timeout: number\n  ): Promise<Response> {\n    throw new Error('makeRequest not implemented.');\n  }\n\n  toStream(done: () => void): unknown {\n    throw new Error('toStream not implemented.');\n  }\n}\nexport function send(\n  x: string\n): void {\n  throw new Error('send not implemented');\n}\n";
        let lines: Vec<u32> = facts("src/net.ts", ts)
            .stubs
            .iter()
            .map(|m| m.line)
            .collect();
        assert_eq!(lines, [16], "{:?}", facts("src/net.ts", ts).stubs);
    }

    #[test]
    fn rust_tests_end_where_their_module_closes() {
        let todo = concat!("to", "do!()");
        let code = format!(
            "pub fn a() -> u32 {{ 1 }}\n\n#[cfg(test)]\nmod tests {{\n    fn brace() -> char {{ '}}' }}\n    const S: &str = \"}}\";\n    #[test]\n    fn t() {{ {todo}; }}\n}}\n\npub fn later() -> u32 {{\n    {todo}\n}}\n"
        );
        let f = facts("src/lib.rs", &code);
        let lines: Vec<u32> = f.stubs.iter().map(|m| m.line).collect();
        // The stub in the test is a test's business; the one after the module is code.
        assert_eq!(lines, [12], "{:?}", f.stubs);
        // A test module in another file ends at its `;`.
        let code = format!("#[cfg(test)]\nmod tests;\n\npub fn f() {{ {todo} }}\n");
        assert_eq!(facts("src/lib.rs", &code).stubs.len(), 1);
    }

    #[test]
    fn javascript_focus_skip_and_debug() {
        let t = "describe('x', () => {\n  it.only('a', () => { expect(1).toBe(1) })\n  xit('b', () => {})\n  it('c', () => { const s = \"it.skip(\" })\n  process.exit(1)\n})\n";
        let f = facts("web/x.test.js", t);
        assert_eq!(f.tests, ["a", "b", "c"]);
        assert_eq!(f.skips.iter().map(|m| m.line).collect::<Vec<_>>(), [2, 3]);
        let lib = "function f() {\n  console.log('debug', x)\n  // console.log(y)\n}\nfunction g() {\n  throw new Error('not implemented')\n}\n";
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
        // In a template literal (on one line or several), in a triple-quoted string: the lexer
        // knows they are strings.
        let in_strings = [
            (
                "web/a.test.js",
                "const s = `// auditor:allow(TEST_DISABLED)`;\nit.skip('a', () => {})\n",
            ),
            (
                "web/a.js",
                "const s = `\n// auditor:allow(DEBUG_LEFTOVER)\n`;\n",
            ),
            (
                "tests/test_a.py",
                "DOC = \"\"\"\n# auditor:allow(TEST_DISABLED) reason\n\"\"\"\n",
            ),
        ];
        for (path, text) in in_strings {
            assert!(facts(path, text).pragmas.is_empty(), "{path}: {text}");
        }
        // A block comment is a comment.
        assert_eq!(
            facts("src/a.rs", "/* auditor:allow(STUB_CODE) generated */\n").pragmas[0].1,
            "STUB_CODE"
        );
        assert_eq!(
            facts("src/a.py", "x = 1  # auditor:allow(DEBUG_LEFTOVER) ok\n")
                .pragmas
                .len(),
            1
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
