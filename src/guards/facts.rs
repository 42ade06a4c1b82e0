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
    self, Lang, LexState, SkipTarget, advance, code_part, comment_spans, has_token, holds,
    is_test_path, kind, lang_of,
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
    /// Assertions commented out (`//assert.equal(a, b)`, `# assert x == y`).
    pub commented_assertions: Vec<Mark>,
    /// Merge conflict markers.
    pub conflicts: Vec<Mark>,
    /// Stubs standing in for code.
    pub stubs: Vec<Mark>,
    /// Debug output left behind.
    pub debug: Vec<Mark>,
    /// `auditor:allow(RULE)` pragmas, with their rule.
    pub pragmas: Vec<(Mark, String)>,
}

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

/// The assertion a comment on this line holds as code (`//assert.length(x, 1);`,
/// `# assert rv.status_code == 400`), from the lexer's state at the line's start. Prose that
/// mentions an assertion ("# assert that the cache is warm") has no call or comparison.
fn commented_assertion(raw: &str, lang: Lang, lex: LexState) -> Option<String> {
    let spec = lang.spec();
    comment_spans(raw, lang, lex).into_iter().find_map(|span| {
        let text = raw.get(span)?;
        let body = text
            .trim_start_matches(['/', '#', '*', '!'])
            .trim_start()
            .trim_end_matches("*/")
            .trim();
        let code_like = body.contains('(') || body.contains("==") || body.contains("!=");
        let asserts = spec
            .assertions
            .iter()
            .any(|m| body.starts_with(m.trim_end()));
        (code_like && asserts).then(|| body.to_string())
    })
}

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

/// Substrings one of which is on every line a fact can come from, by language and by whether
/// the file is a test file, each with the checks it calls for: the words of every marker the
/// rules look for there, and the context words. Only lines holding one are examined, and only
/// by the checks their words call for, so a file is read at about the speed of one
/// multi-pattern search. No word is a prefix of another, and the search restarts one byte
/// after each hit, so every word on a line is seen.
fn trigger_words(lang: Lang, test_file: bool) -> Vec<(&'static str, u16)> {
    use kind::*;
    let spec = lang.spec();
    let mut words = vec![
        ("<<<<<<<", CONFLICT),
        (">>>>>>>", CONFLICT),
        ("=======", CONFLICT),
        ("|||||||", CONFLICT),
        ("auditor:allow(", PRAGMA),
    ];
    words.extend_from_slice(spec.context_words);
    words.extend_from_slice(spec.anywhere_words);
    // Stubs and debug output count outside tests; assertions and test names inside; a
    // language whose unit tests live among its code needs both everywhere.
    if test_file || spec.inline_tests {
        words.extend_from_slice(spec.test_words);
    }
    if !test_file || spec.inline_tests {
        words.extend_from_slice(spec.code_words);
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
            .expect("a few short words compile");
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
    const LANGS: [Lang; 6] = Lang::ALL;
    // Built on first use: an audit usually meets a few languages, and each build costs.
    static SEARCHES: [OnceLock<Search>; 2 * LANGS.len()] = [const { OnceLock::new() }; 12];
    let at = LANGS
        .iter()
        .position(|l| *l == lang)
        .unwrap_or(LANGS.len() - 1);
    let context = lang.spec().context_words;
    SEARCHES[2 * at + usize::from(test_file)].get_or_init(|| Search {
        triggers: Words::new(&trigger_words(lang, test_file)),
        context: (!context.is_empty()).then(|| Words::new(context)),
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
    /// The names a JavaScript file gives its test functions (`const testFn = ... : test;`),
    /// and the search for their calls beside the language's trigger words (none: no names).
    aliases: Vec<lang::TestAlias>,
    alias_triggers: Option<Words>,
}

impl<'a> Reader<'a> {
    /// A reader of `content`, a version of the file at `path`.
    pub fn new(path: &'a str, content: &'a [u8]) -> Reader<'a> {
        let lang = lang_of(path);
        let test_file = is_test_path(path);
        let aliases = if lang == Lang::Js {
            lang::test_aliases(content)
        } else {
            Vec::new()
        };
        // Rare: a search of the file's own is built only for a file that names aliases.
        let alias_triggers = (!aliases.is_empty()).then(|| {
            let calls: Vec<String> = aliases.iter().map(|a| format!("{}(", a.name)).collect();
            let mut words = trigger_words(lang, test_file);
            words.extend(calls.iter().map(|c| (c.as_str(), kind::SKIP | kind::NAME)));
            Words::new(&words)
        });
        Reader {
            path,
            lang,
            test_file,
            text: Text(content),
            rust_tests: if lang == Lang::Rust {
                rust_test_items(content)
            } else {
                Vec::new()
            },
            aliases,
            alias_triggers,
        }
    }

    /// The search for the lines a fact can come from in this file.
    fn triggers(&self) -> &Words {
        self.alias_triggers
            .as_ref()
            .unwrap_or_else(|| &search(self.lang, self.test_file).triggers)
    }

    /// The name of the test the line declares, by the language's calls or the file's aliases.
    fn test_name(&self, code: &str, raw: &str, attr_pending: bool) -> Option<String> {
        (self.lang.spec().test_name)(code, raw, attr_pending).or_else(|| {
            self.aliases
                .iter()
                .find_map(|a| lang::called_name(code, raw, &format!("{}(", a.name)))
        })
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
            && self.aliases == other.aliases
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
        self.triggers()
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
                self.carry(&code, &raw, end, kinds, ctx);
            }
        });
    }

    /// Carries the context past one line (its code part already read; `kinds` of its words):
    /// Rust's unit tests starting, a test attribute waiting for its function. Returns the test
    /// the line names.
    fn carry(
        &self,
        code: &str,
        raw: &str,
        end: usize,
        kinds: u16,
        ctx: &mut Context,
    ) -> Option<String> {
        let lang = self.lang;
        if kinds & (kind::ATTR | kind::NAME) == 0 {
            return None;
        }
        let spec = lang.spec();
        let is_attr = kinds & kind::ATTR != 0 && (spec.is_test_attribute)(code);
        let pending = ctx.attr_pending || is_attr;
        let name = (kinds & kind::NAME != 0)
            .then(|| {
                self.test_name(code, raw, pending).or_else(|| {
                    // A call a formatter wrapped (rustfmt's `rgtest!(\n    name,`, prettier's
                    // `it(\n  'name',`): the name is on the next line.
                    if !code.trim_end().ends_with('(') {
                        return None;
                    }
                    let next_raw = self.text.next_nonblank(end)?;
                    let mut lex = ctx.lex;
                    let next_code = code_part(&next_raw, lang, &mut lex);
                    let joined_code = format!("{}{}", code.trim_end(), next_code.trim());
                    let joined_raw = format!("{}{}", raw.trim_end(), next_raw.trim());
                    self.test_name(&joined_code, &joined_raw, pending)
                })
            })
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
        let lex_before = ctx.lex;
        let code = code_part(raw, lang, &mut ctx.lex);
        let name = self.carry(&code, raw, end, kinds, ctx);
        let shape = || shape_of(&code, name.as_deref());
        let spec = lang.spec();
        let testy = self.test_file || self.rust_tests.iter().any(|t| t.contains(&start));
        if (testy || spec.skips_anywhere)
            && has(kind::SKIP)
            && spec.skip_markers.iter().any(|m| has_token(&code, m))
        {
            let previous = self.text.prev_nonblank(start).unwrap_or_default();
            let skip = Mark {
                conditional: (spec.conditional_skip)(&code, lang::opens_if(&previous)),
                ..mark(shape())
            };
            add_skip(f, ctx, spec.skip_target, skip, name.as_ref());
        }
        // A test run through a name whose value skips it (`cond ? test.skip : test`).
        if let Some(alias) = name.as_ref().filter(|_| testy).and_then(|_| {
            self.aliases
                .iter()
                .find(|a| a.skips && has_token(&code, &format!("{}(", a.name)))
        }) {
            let skip = Mark {
                conditional: alias.conditional,
                ..mark(shape())
            };
            add_skip(f, ctx, spec.skip_target, skip, name.as_ref());
        }
        if let Some(name) = name.as_ref().filter(|_| testy || spec.tests_anywhere) {
            add_test(f, ctx, name);
        }
        if testy {
            if has(kind::ASSERT) {
                f.assertions += u32::from(spec.assertions.iter().any(|m| holds(&code, m)));
                if (holds(&code, "true") || holds(&code, "True") || holds(&code, "1,"))
                    && asserts_constant_truth(&code)
                {
                    f.constant_truths.push(mark(shape()));
                }
                // Most assertion lines hold no comment: no second pass of the lexer for them.
                let may_comment = lex_before != LexState::default()
                    || raw.bytes().any(|b| b == b'#' || b == b'/');
                if let Some(text) = may_comment
                    .then(|| commented_assertion(raw, lang, lex_before))
                    .flatten()
                {
                    f.commented_assertions
                        .push(mark(shape_of(&text, name.as_deref())));
                }
            }
        } else {
            let stub = has(kind::STUB)
                && ((spec.stub)(&self.text, &code, raw, start, end)
                    || (trimmed.starts_with("// TODO")
                        && brace_body_is_only_this(&self.text, start, end)));
            if stub {
                f.stubs.push(mark(shape()));
            }
            if has(kind::DEBUG) && (spec.debug)(&code, self.path) {
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
fn add_skip(
    f: &mut Facts,
    ctx: &mut Context,
    target: SkipTarget,
    mut skip: Mark,
    named: Option<&String>,
) {
    match target {
        SkipTarget::NamedOrEnclosing => {
            skip.test = named.cloned().or_else(|| f.tests.last().cloned());
        }
        SkipTarget::Enclosing => skip.test = f.tests.last().cloned(),
        SkipTarget::Decorated => ctx.skips_pending = ctx.skips_pending.saturating_add(1),
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
            let spec = lang.spec();
            for m in spec.skip_markers.iter().filter(|_| skips_count) {
                assert!(called(m, kind::SKIP), "{lang:?} {m}");
            }
            for m in spec
                .assertions
                .iter()
                .filter(|_| test_file || spec.inline_tests)
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

    /// An assertion commented out is kept as a mark (express 6a689504: `//assert.length(...)`
    /// to make a cookie test pass); prose about assertions is not.
    #[test]
    fn commented_out_assertions_are_marked() {
        let js = "it('sets', function () {\n  //assert.length(res.headers['set-cookie'], 1);\n  // assert the header is set\n  /* expect(a).toBe(b) */\n});\n";
        let texts: Vec<String> = facts("test/res.cookie.js", js)
            .commented_assertions
            .iter()
            .map(|m| m.shape.clone())
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        let py = "def test_a():\n    # assert rv.status_code == 400\n    # assert that nothing leaks\n    assert rv.ok\n";
        let f = facts("tests/test_a.py", py);
        assert_eq!(
            f.commented_assertions.len(),
            1,
            "{:?}",
            f.commented_assertions
        );
        assert_eq!(f.assertions, 1);
        // Outside tests it is no assertion at all.
        assert!(facts("src/app.py", py).commented_assertions.is_empty());
    }

    /// What fails a Python test counts as an assertion: flask's move from
    /// `self.assert_(0, ...)` to `self.fail(...)`, and from counting `recwarn.list` to
    /// `recwarn.pop(DeprecationWarning)`, loses none.
    #[test]
    fn failing_calls_are_python_assertions() {
        let py = "def test_a(self):\n    self.fail('expected IOError')\n\ndef test_b(recwarn):\n    recwarn.pop(DeprecationWarning)\n";
        assert_eq!(facts("tests/test_x.py", py).assertions, 2);
    }

    /// got 08a01e51 moved its timeout tests to `test.serial(...)`: the same tests, not 24
    /// deleted ones.
    #[test]
    fn a_pending_test_is_no_test() {
        let t = "describe('redirect', function () {\n  it('should respect the mount-point');\n  it('works', function () { assert(1); });\n});\n";
        assert_eq!(facts("test/res.redirect.js", t).tests, ["works"]);
    }

    #[test]
    fn ava_serial_and_failing_tests_are_tests() {
        let t = "test.serial('timeout option', withServer, async t => {\n  t.is(1, 1);\n});\ntest.failing('flaky', async t => {});\n";
        assert_eq!(
            facts("test/timeout.ts", t).tests,
            ["timeout option", "flaky"]
        );
        // Skipped through a chain of modifiers, it is the same test, skipped.
        let skipped =
            "test.serial.skip('timeout option', withServer, async t => {\n  t.is(1, 1);\n});\n";
        let f = facts("test/timeout.ts", skipped);
        assert_eq!(f.tests, ["timeout option"]);
        assert_eq!(f.skips.len(), 1, "{f:?}");
    }

    #[test]
    fn a_test_run_through_a_name_the_file_gives_it_is_a_test() {
        // got ab338a70: tests moved under a version check run through an alias.
        let t = "if (true) {\n\tconst testFn = nodejsMajorVersion < 14 ? test.failing : test;\n\n\ttestFn('destroys the request', withServer, async t => {\n\t\tt.is(1, 1);\n\t});\n}\nconst itIf = WIN ? it.skip : it;\nitIf('reads a pipe', () => {});\n";
        assert_eq!(
            facts("test/stream.ts", t).tests,
            ["destroys the request", "reads a pipe"]
        );
        // A value that calls the test function, or compares with it, names no alias.
        let not_aliases =
            "const result = test('x', () => {});\nlet t = it(1);\nresult('y', () => {});\n";
        assert_eq!(facts("test/a.js", not_aliases).tests, ["x"]);
        assert!(lang::test_aliases(b"const testing = tests;\n").is_empty());
        // got a11c54f0: an existing test skipped on macOS through an alias is a conditional
        // skip of that test.
        let skipped = "const testFn = process.platform === 'darwin' ? test.skip : test;\ntestFn('https request with expired certificate', withHttpsServer({days: -1}), async (t, _server, got) => {\n\tt.is(1, 1);\n});\n";
        let f = facts("test/https.ts", skipped);
        assert_eq!(f.tests, ["https request with expired certificate"]);
        assert_eq!(f.skips.len(), 1, "{f:?}");
        assert!(f.skips[0].conditional);
        assert_eq!(
            f.skips[0].test.as_deref(),
            Some("https request with expired certificate")
        );
        // The first file's tests run under a condition that expects one to fail (ava's
        // `failing`, pytest's `xfail`) or skips the other.
        let skips = facts("test/a.ts", t).skips;
        assert_eq!(skips.len(), 2, "{skips:?}");
        assert!(skips.iter().all(|s| s.conditional), "{skips:?}");
        assert_eq!(skips[1].test.as_deref(), Some("reads a pipe"));
        // An alias that only runs tests serially skips nothing.
        let serial = "const t = process.env.CI ? test.serial : test;\nt('reads', () => {});\n";
        let f = facts("test/b.ts", serial);
        assert_eq!((f.tests.len(), f.skips.len()), (1, 0), "{f:?}");
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

    /// ripgrep 0bc4f044 "rustfmt everything" wrapped long `rgtest!(` calls, and prettier
    /// wraps long `it(` calls: the name on the next line is still the test's.
    #[test]
    fn a_test_call_a_formatter_wrapped_keeps_its_name() {
        let rs = "rgtest!(\n    after_match1_implicit_count_binary,\n    |dir: Dir, mut cmd: TestCommand| {\n        cmd.arg(\"-c\");\n    }\n);\n";
        assert_eq!(
            facts("tests/binary.rs", rs).tests,
            ["after_match1_implicit_count_binary"]
        );
        let js = "it(\n  'should return the count of a very long described behaviour',\n  async () => {\n    expect(1).toBe(1);\n  },\n);\n";
        assert_eq!(
            facts("test/count.test.js", js).tests,
            ["should return the count of a very long described behaviour"]
        );
        // A call that names nothing on its next line is no test.
        assert!(
            facts("tests/x.rs", "rgtest!(\n    |dir| {}\n);\n")
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
