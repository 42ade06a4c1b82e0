//! Whether a test that left its file under its name still checks what it did, in lines the
//! commit adds to the tests: merged into another test (flask moved an error-handler check
//! into the test of that handler), parametrized (two tests became one with a case each),
//! renamed or run through a helper the guards do not read as a test (`const testFn = ...;
//! testFn('name', ...)`). Names cannot tell these from a deletion; what the old body used can.
//!
//! A body is the words it uses (identifiers, and the words of its strings and numbers), each
//! weighted by how rare it is in the rest of the old file: `app`, `client` or `rv` appear in
//! every test of a file and say little; `register_error_handler`, `999` or `"Use a subclass"`
//! say which behaviour was checked. A test is carried when most of that weight reappears in
//! lines the commit adds to test files. The agent can reach that only by writing the checks
//! again, which is what a replacement is; the finding is still reported, at MEDIUM, asking
//! for a look.

use std::collections::{HashMap, HashSet};

/// Part of a removed test's weight that added lines must hold for it to count as carried.
const CARRIED_SHARE: f64 = 0.6;

/// A body with fewer distinct words than this says too little to be recognised elsewhere.
const MIN_WORDS: usize = 4;

/// At most this many lines are read as one test's body.
const MAX_BODY_LINES: usize = 200;

/// Words every test uses, whatever it checks: keywords and the test frameworks' own words.
const COMMON: &[&str] = &[
    "and",
    "assert",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "def",
    "defer",
    "describe",
    "done",
    "else",
    "err",
    "error",
    "expect",
    "false",
    "fn",
    "for",
    "from",
    "func",
    "function",
    "if",
    "import",
    "in",
    "is",
    "it",
    "lambda",
    "let",
    "mut",
    "new",
    "nil",
    "none",
    "not",
    "null",
    "or",
    "pass",
    "pytest",
    "raise",
    "raises",
    "return",
    "self",
    "should",
    "string",
    "struct",
    "test",
    "testing",
    "the",
    "this",
    "throw",
    "true",
    "try",
    "undefined",
    "unwrap",
    "use",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// The words of a line: runs of letters, digits and `_` of three characters or more (numbers
/// of any length), that are not `COMMON`.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 3 || (!w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())))
        .filter(|w| !COMMON.iter().any(|c| c.eq_ignore_ascii_case(w)))
}

/// The lines of `new` that `old` does not have, as a multiset and with their indentation: what
/// the commit added or re-indented (a test moved into a block is written again; a test wrapped
/// in a block comment is not), without needing its hunks (the history scan has none). Comment
/// lines are left out: the words of a check written in a comment check nothing.
pub fn added_lines<'a>(old: Option<&str>, new: &'a str) -> Vec<&'a str> {
    let mut before: HashMap<&str, usize> = HashMap::new();
    for l in old.into_iter().flat_map(str::lines) {
        *before.entry(l.trim_end()).or_default() += 1;
    }
    new.lines()
        .map(str::trim_end)
        .filter(|l| match before.get_mut(l) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => !l.is_empty(),
        })
        .map(str::trim_start)
        .filter(|l| !is_comment(l))
        .collect()
}

/// The words lines hold.
pub fn vocabulary<'a>(lines: impl IntoIterator<Item = &'a str>) -> HashSet<&'a str> {
    lines.into_iter().flat_map(words).collect()
}

/// Where the definition of test `name` starts in `lines`: a line naming it as a definition
/// (`def name(`, `func name(`, `fn name(`, `name(` after a return type) or as a string
/// (`it('name'`). One the new version lost is preferred (a repeated name, a test moved
/// down the file).
fn definition(lines: &[&str], name: &str, kept: &HashSet<&str>) -> Option<usize> {
    let defines = |l: &str| {
        l.match_indices(name).any(|(at, _)| {
            let before = l[..at].chars().next_back();
            let after = l[at + name.len()..].chars().next();
            let quoted = matches!(before, Some('\'' | '"' | '`'))
                && before.is_some_and(|q| after == Some(q));
            let called = after == Some('(')
                && !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            quoted || called
        })
    };
    let candidates: Vec<usize> = (0..lines.len()).filter(|&i| defines(lines[i])).collect();
    candidates
        .iter()
        .copied()
        .find(|&i| !kept.contains(lines[i].trim()))
        .or_else(|| candidates.first().copied())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines of the body of the test defined at `start`: those after it, indented deeper,
/// through the closing line at its own depth (`});`, `}`); for Python the first line that is
/// not deeper ends it.
fn body<'b, 'a>(lines: &'b [&'a str], start: usize) -> &'b [&'a str] {
    let depth = indent(lines[start]);
    let mut end = start + 1;
    while end < lines.len() && end - start <= MAX_BODY_LINES {
        let l = lines[end];
        if l.trim().is_empty() || indent(l) > depth {
            end += 1;
            continue;
        }
        if l.trim_start().starts_with(['}', ')', ']']) {
            end += 1;
        }
        break;
    }
    &lines[start + 1..end.min(lines.len())]
}

/// The words of `removed` (the lines a test or its checks were) and their weights: a word's
/// weight is 1 over 1 plus the number of `rest` (the file's other lines) that use it. None
/// when the lines say too little to be recognised.
fn weighted<'a>(
    removed: impl IntoIterator<Item = &'a str>,
    rest: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<(&'a str, f64)>> {
    let mine = vocabulary(removed.into_iter().filter(|l| !is_comment(l)));
    if mine.len() < MIN_WORDS {
        return None;
    }
    let mut elsewhere: HashMap<&str, usize> = HashMap::new();
    for l in rest {
        for w in words(l).collect::<HashSet<_>>() {
            if mine.contains(w) {
                *elsewhere.entry(w).or_default() += 1;
            }
        }
    }
    Some(
        mine.into_iter()
            .map(|w| {
                let used = elsewhere.get(w).copied().unwrap_or(0);
                (w, 1.0 / (1.0 + used as f64))
            })
            .collect(),
    )
}

/// Whether most of the weight of `words` is in `added`.
fn mostly_in(words: &[(&str, f64)], added: &HashSet<&str>) -> bool {
    let total: f64 = words.iter().map(|(_, w)| w).sum();
    let found: f64 = words
        .iter()
        .filter(|(word, _)| added.contains(word))
        .map(|(_, w)| w)
        .sum();
    total > 0.0 && found / total >= CARRIED_SHARE
}

/// Whether the test `name` of `old` (the file before the commit; `new` after it, when the file
/// is kept) is carried into `added`, the words of the lines the commit adds to test files.
pub fn is_carried(old: &str, new: Option<&str>, name: &str, added: &HashSet<&str>) -> bool {
    let kept: HashSet<&str> = new
        .into_iter()
        .flat_map(str::lines)
        .map(str::trim)
        .collect();
    let lines: Vec<&str> = old.lines().collect();
    let Some(start) = definition(&lines, name, &kept) else {
        return false;
    };
    let end = start + 1 + body(&lines, start).len();
    let rest = lines[..start].iter().chain(&lines[end..]).copied();
    weighted(lines[start + 1..end].iter().copied(), rest).is_some_and(|w| mostly_in(&w, added))
}

/// Markers that make one test a case per row: pytest's, jest's and vitest's, Rust's
/// `test-case` and `rstest`.
const PARAMETRIZE: &[&str] = &[
    "@pytest.mark.parametrize(",
    ".each(",
    ".each`",
    "#[test_case(",
    "#[rstest",
    "#[case(",
];

/// How many lines a parametrize marker's rows may take before the test it marks.
const PARAMETRIZE_REACH: usize = 20;

/// The words of a test's name, lowercase, without "test": `test_jsonify_no_prettyprint`,
/// `testJsonifyNoPrettyprint` and `'jsonify no prettyprint'` all give jsonify, no, prettyprint.
fn name_words(name: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for part in name.split(|c: char| !c.is_alphanumeric()) {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_uppercase() && !word.is_empty() {
                out.insert(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
        }
        if !word.is_empty() {
            out.insert(word);
        }
    }
    out.remove("test");
    out
}

/// The tests of `new` that the commit marks with a parametrize marker (a marker line it adds),
/// each as the words of its name: what a lost test may have been folded into (flask 69f9845e:
/// `test_jsonify_prettyprint` gone, `test_jsonify_no_prettyprint` given
/// `@pytest.mark.parametrize("compact", [True, False])`). Read once per file.
pub fn parametrized_tests(old: &str, new: &str) -> Vec<HashSet<String>> {
    // Most files hold no marker: nothing to compare.
    if !PARAMETRIZE.iter().any(|m| new.contains(m)) {
        return Vec::new();
    }
    let added: HashSet<&str> = added_lines(Some(old), new).into_iter().collect();
    let lines: Vec<&str> = new.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if !added.contains(line) || !PARAMETRIZE.iter().any(|m| line.contains(m)) {
            continue;
        }
        // The test the marker marks: the first line after it (or on it, for `.each(...)('name'`)
        // that defines one, within reach.
        let marked = lines[at..lines.len().min(at + PARAMETRIZE_REACH)]
            .iter()
            .find_map(|l| defined_test(l))
            .map(|n| name_words(&n))
            .filter(|w| !w.is_empty());
        out.extend(marked);
    }
    out
}

/// Whether the lost test `name` was folded into one of `parametrized` (`parametrized_tests`):
/// a test whose name holds every word of the lost one's, or whose words the lost one's hold.
/// The name alone cannot tell what the cases check; the finding still asks for a look.
pub fn folded_into(name: &str, parametrized: &[HashSet<String>]) -> bool {
    let lost = name_words(name);
    !lost.is_empty()
        && parametrized.iter().any(|marked| {
            (marked.is_superset(&lost) || marked.is_subset(&lost))
                && marked.intersection(&lost).count() >= 1
        })
}

/// The name a line defines a test by: `def test_x(`, `fn test_x(`, `func TestX(`, or the
/// string after a `.each(...)(` call.
fn defined_test(line: &str) -> Option<String> {
    for keyword in ["async def ", "def ", "fn ", "func "] {
        if let Some(rest) = line.strip_prefix(keyword).or_else(|| {
            line.strip_prefix("pub ")
                .and_then(|l| l.strip_prefix(keyword))
        }) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            return (!name.is_empty()).then_some(name);
        }
    }
    let (_, after) = line.split_once(")(")?;
    let quote = after
        .chars()
        .next()
        .filter(|q| matches!(q, '\'' | '"' | '`'))?;
    let name: String = after[1..].chars().take_while(|c| *c != quote).collect();
    (!name.is_empty()).then_some(name)
}

/// Whether what a test file lost between `old` and `new` (its assertions among it) is written
/// again in `added`: an assertion reworded (`assert(null == err)` became `if (err) return
/// done(err)`), its values moved into a parametrize list, its check into a helper.
pub fn is_rewritten(old: &str, new: &str, added: &HashSet<&str>) -> bool {
    let mut kept: HashMap<&str, usize> = HashMap::new();
    for l in new.lines() {
        *kept.entry(l.trim()).or_default() += 1;
    }
    let (mut removed, mut rest) = (Vec::new(), Vec::new());
    for l in old.lines().map(str::trim) {
        match kept.get_mut(l) {
            Some(n) if *n > 0 => {
                *n -= 1;
                rest.push(l);
            }
            _ => removed.push(l),
        }
    }
    weighted(removed, rest).is_some_and(|w| mostly_in(&w, added))
}

/// A line that is only a comment: what it says checks nothing.
fn is_comment(line: &str) -> bool {
    let l = line.trim_start();
    ["#", "//", "/*", "*", "--"]
        .iter()
        .any(|c| l.starts_with(c))
}

/// The test of flask's tests/test_basic.py that 1e5dd430 folds into another file.
#[cfg(test)]
macro_rules! flask_unknown_code {
    () => {
        concat!(
            "def test_error_handler_unknown_code(app):\n",
            "    with pytest.raises(KeyError) as exc_info:\n",
            "        app.register_error_handler(999, lambda e: (\"999\", 999))\n",
            "\n",
            "    assert \"Use a subclass\" in exc_info.value.args[0]\n",
            "\n\n",
        )
    };
}

/// flask's tests/test_basic.py before 1e5dd430, in part.
#[cfg(test)]
pub(super) const FLASK_BASIC: &str = concat!(
    "def test_error_handling(app, client):\n",
    "    rv = client.get(\"/forbidden\")\n",
    "    assert b\"forbidden\" == rv.data\n",
    "\n\n",
    flask_unknown_code!(),
    "def test_error_handling_processing(app, client):\n",
    "    app.testing = False\n",
);

/// The test of `FLASK_BASIC` that flask 1e5dd430 folds into another file.
#[cfg(test)]
pub(super) const FLASK_UNKNOWN_CODE: &str = flask_unknown_code!();

#[cfg(test)]
mod tests {
    use super::*;

    fn carried(old: &str, new: &str, name: &str, other_added: &str) -> bool {
        let mut added = added_lines(Some(old), new);
        added.extend(other_added.lines());
        is_carried(old, Some(new), name, &vocabulary(added))
    }

    #[test]
    fn a_test_folded_into_one_the_commit_parametrizes_is_found() {
        // flask 69f9845e, in part.
        let old = "def test_jsonify_no_prettyprint(app, req_ctx):\n    app.config.update({\"JSONIFY_PRETTYPRINT_REGULAR\": False})\n    assert rv.data == compressed_msg\n\n\ndef test_jsonify_prettyprint(app, req_ctx):\n    app.config.update({\"JSONIFY_PRETTYPRINT_REGULAR\": True})\n    assert rv.data == pretty_response\n\n\ndef test_jsonify_mimetype(app, req_ctx):\n    assert rv.mimetype == \"application/vnd.api+json\"\n";
        let new = "@pytest.mark.parametrize(\"compact\", [True, False])\ndef test_jsonify_no_prettyprint(app, compact):\n    app.json.compact = compact\n    assert (b\" \" not in data) is compact\n\n\ndef test_jsonify_mimetype(app, req_ctx):\n    assert rv.mimetype == \"application/vnd.api+json\"\n";
        let folds =
            |old: &str, new: &str, name: &str| folded_into(name, &parametrized_tests(old, new));
        assert!(folds(old, new, "test_jsonify_prettyprint"));
        // Another test's name, or a marker the file already had, folds nothing.
        assert!(!folds(old, new, "test_jsonify_mimetype"));
        let marked_before = new.replace(
            "def test_jsonify_no_prettyprint(app, req_ctx)",
            "def test_jsonify_no_prettyprint(app, compact)",
        );
        let old_marked = format!(
            "@pytest.mark.parametrize(\"compact\", [True, False])\n{}",
            old
        );
        assert!(!folds(
            &old_marked,
            &marked_before,
            "test_jsonify_prettyprint"
        ));
        // jest's table, and the words of a camel-cased name.
        let js_old = "it('parses a number', () => {\n  expect(parse('1')).toBe(1);\n});\n";
        let js_new = "it.each([['1', 1], ['x', NaN]])('parses a number or not %s', (s, n) => {\n  expect(parse(s)).toBe(n);\n});\n";
        assert!(folds(js_old, js_new, "parses a number"));
        assert_eq!(
            name_words("testJsonifyNoPrettyprint"),
            name_words("test_jsonify_no_prettyprint")
        );
    }

    #[test]
    fn a_check_moved_into_another_test_is_carried() {
        let new = FLASK_BASIC.replace(FLASK_UNKNOWN_CODE, "");
        let other = "    with pytest.raises(ValueError) as exc_info:\n        app.register_error_handler(999, None)\n    assert \"Use a subclass of HTTPException\" in str(exc_info.value)\n";
        assert!(carried(
            FLASK_BASIC,
            &new,
            "test_error_handler_unknown_code",
            other
        ));
    }

    #[test]
    fn a_deletion_is_not_carried_by_unrelated_or_generic_lines() {
        let new = FLASK_BASIC.replace("def test_error_handler_unknown_code", "def _gone");
        let new = new.replace("    with pytest.raises(KeyError) as exc_info:\n        app.register_error_handler(999, lambda e: (\"999\", 999))\n\n    assert \"Use a subclass\" in exc_info.value.args[0]\n", "");
        // What every test of the file uses (app, client, rv) carries nothing.
        let other = "    rv = client.get(\"/other\")\n    assert rv.data == b\"x\"\n    app.testing = True\n";
        assert!(!carried(
            FLASK_BASIC,
            &new,
            "test_error_handler_unknown_code",
            other
        ));
        assert!(!carried(
            FLASK_BASIC,
            &new,
            "test_error_handler_unknown_code",
            ""
        ));
    }

    #[test]
    fn a_test_renamed_and_run_through_a_variable_is_carried() {
        let old = "\
test('destroying got.stream() cancels the request - `request` event', withServer, async (t, server, got) => {
\tserver.get('/', defaultHandler);

\tconst stream = got.stream('');
\tconst request = await pEvent(stream, 'request');
\tstream.destroy();
\tt.truthy(request.aborted);
});

test('other', withServer, async t => {
\tt.pass();
});
";
        let new = "\
{
\tconst testFn = nodejsMajorVersion < 14 ? test.failing : test;
\ttestFn('destroying got.stream() destroys the request - `request` event', withServer, async (t, server, got) => {
\t\tserver.get('/', defaultHandler);
\t\tconst stream = got.stream('');
\t\tconst request = await pEvent(stream, 'request');
\t\tstream.destroy();
\t\tt.truthy(request.destroyed);
\t});
}

test('other', withServer, async t => {
\tt.pass();
});
";
        assert!(carried(
            old,
            new,
            "destroying got.stream() cancels the request - `request` event",
            ""
        ));
    }

    #[test]
    fn tests_wrapped_in_a_block_comment_are_not_carried() {
        let old = "\
func TestGoldenAddCmd(t *testing.T) {
\tcommand := &Command{CmdName: \"test\", CmdParent: parentName}
\tdefer os.RemoveAll(command.AbsolutePath)
\tassertNoErr(t, command.Create())
\tgenerated := filepath.Join(command.AbsolutePath, \"cmd\", \"test.go\")
\tcompareFiles(generated, expectedGolden)
}
";
        let new = format!("/*\n{old}*/\n");
        assert!(!carried(old, &new, "TestGoldenAddCmd", ""));
    }

    /// express 52e26697: `assert(null == err)` became `if (err) return done(err)`; express
    /// 69fb9bb3 dropped the `/helpers` route and its check from a test that stayed.
    #[test]
    fn an_assertion_reworded_is_rewritten_and_one_dropped_is_not() {
        let old = "\
it('should map a template engine', function(){
  app.render('user.html', function(err, str){
    assert(null == err);
    str.should.equal('<p>tobi</p>');
  })
})
it('should work without leading \".\"', function(){
  app.engine('html', render);
  app.render('user.html', function(err, str){
    assert(null == err);
    str.should.equal('<p>tobi</p>');
  })
})
";
        let new = "\
it('should map a template engine', function(done){
  app.render('user.html', function(err, str){
    if (err) return done(err);
    str.should.equal('<p>tobi</p>');
    done();
  })
})
it('should work without leading \".\"', function(done){
  app.engine('html', render);
  app.render('user.html', function(err, str){
    if (err) return done(err);
    str.should.equal('<p>tobi</p>');
    done();
  })
})
";
        let added = vocabulary(added_lines(Some(old), new));
        assert!(is_rewritten(old, new, &added));
        let old = "\
'test #render()': function(assert){
    app.get('/', function(req, res){ res.render('index.jade'); });
    app.get('/helpers', function(req, res){ res.render('helpers.jade'); });
    assert.response(app, { url: '/' }, { body: '<p>Welcome</p>' });
    assert.response(app, { url: '/helpers' }, { body: '<p>esrever</p>' });
}
";
        let new = "\
'test #render()': function(assert){
    app.get('/', function(req, res){ res.render('index.jade'); });
    assert.response(app, { url: '/' }, { body: '<p>Welcome</p>' });
}
";
        let added = vocabulary(added_lines(Some(old), new));
        assert!(!is_rewritten(old, new, &added));
        // Written again only in a comment, it is still gone.
        let commented = format!(
            "{new}// assert.response(app, {{ url: '/helpers' }}, {{ body: '<p>esrever</p>' }});\n// helpers.jade\n"
        );
        let added = vocabulary(added_lines(Some(old), &commented));
        assert!(!is_rewritten(old, &commented, &added));
    }

    #[test]
    fn the_body_ends_at_its_closing_line_or_its_dedent() {
        let js = [
            "describe('a', () => {",
            "  it('x', () => {",
            "    one();",
            "  });",
            "  it('y', () => {",
        ];
        assert_eq!(body(&js, 1), &["    one();", "  });"]);
        let py = [
            "def test_a():",
            "    one()",
            "",
            "    two()",
            "def test_b():",
        ];
        assert_eq!(body(&py, 0), &["    one()", "", "    two()"]);
    }

    #[test]
    fn added_lines_are_a_multiset_difference() {
        assert_eq!(
            added_lines(Some("a\nb\nb\n"), "b\na\nb\nb\nc\n"),
            ["b", "c"]
        );
        assert_eq!(added_lines(None, "x\n\ny\n"), ["x", "y"]);
    }
}
