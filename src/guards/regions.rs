//! The facts of what a commit changed in a file, read from the regions around its hunks
//! instead of the whole file. Unchanged lines count the same before and after, so comparing
//! the regions' facts is comparing the files' facts, at the cost of the change rather than of
//! the file. Between regions only the reader's context is carried (comments, strings, Rust's
//! unit tests, test attributes), by a search for the few words that change it.

use std::ops::Range;

use super::facts::{Context, Facts, Reader, facts};
use super::text::{LineCursor, Text};
use crate::git::Hunk;

/// Lines that are not blank read on each side of a hunk: the rules that look at a line's
/// neighbours (a `pass` body, a `// TODO` between braces, a function's header over its
/// docstring) then see them in both versions.
const CONTEXT: usize = super::text::REACH + 1;

/// A region of both versions: the same unchanged lines around a change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    /// Bytes of the version before.
    old: Range<usize>,
    /// Bytes of the version after.
    new: Range<usize>,
    /// First and end lines (0-based) of the version before.
    old_lines: Range<usize>,
    /// First and end lines (0-based) of the version after.
    new_lines: Range<usize>,
}

/// The facts of the changed regions of two versions of a file, given the hunks between them
/// (in order, as git gives them). The whole files are read when their rules differ.
pub fn changed_facts(old: &Reader<'_>, new: &Reader<'_>, hunks: &[Hunk]) -> (Facts, Facts) {
    if !old.same_rules(new) {
        return (
            facts(old.path(), old.bytes()),
            facts(new.path(), new.bytes()),
        );
    }
    let (mut before, mut after) = (Facts::default(), Facts::default());
    let mut ctx = Context::default();
    let mut carried_to = 0;
    for r in regions(old.bytes(), new.bytes(), hunks) {
        new.skip(carried_to..r.new.start, &mut ctx);
        let (mut old_ctx, mut new_ctx) = (ctx, ctx);
        old.read(
            r.old.clone(),
            r.old_lines.start + 1,
            &mut old_ctx,
            &mut before,
        );
        new.read(
            r.new.clone(),
            r.new_lines.start + 1,
            &mut new_ctx,
            &mut after,
        );
        if old_ctx != new_ctx {
            // The change reaches past its region (an unclosed comment or string, a new
            // `#[cfg(test)]`, a test attribute far above its function): read on to the end.
            old.read(
                r.old.end..old.bytes().len(),
                r.old_lines.end + 1,
                &mut old_ctx,
                &mut before,
            );
            new.read(
                r.new.end..new.bytes().len(),
                r.new_lines.end + 1,
                &mut new_ctx,
                &mut after,
            );
            break;
        }
        ctx = new_ctx;
        carried_to = r.new.end;
    }
    (before, after)
}

/// The hunks as byte regions of both versions, each widened by `CONTEXT` lines that are not
/// blank within the unchanged text around it, and merged where they meet.
fn regions(old: &[u8], new: &[u8], hunks: &[Hunk]) -> Vec<Region> {
    let (mut old_at, mut new_at) = (LineCursor::new(old), LineCursor::new(new));
    let exact: Vec<Region> = hunks
        .iter()
        .map(|h| Region {
            old: old_at.offset(h.old.start)..old_at.offset(h.old.end),
            new: new_at.offset(h.new.start)..new_at.offset(h.new.end),
            old_lines: h.old.clone(),
            new_lines: h.new.clone(),
        })
        .collect();
    let text = Text(new);
    let mut out: Vec<Region> = Vec::with_capacity(exact.len());
    for (i, r) in exact.iter().enumerate() {
        // The unchanged text around the hunk is the same in both versions: widen both alike.
        let gap_start = if i == 0 { 0 } else { exact[i - 1].new.end };
        let gap_end = exact.get(i + 1).map_or(new.len(), |n| n.new.start);
        let (back_bytes, back_lines) = widen_back(&text, r.new.start, gap_start);
        let (ahead_bytes, ahead_lines) = widen_ahead(&text, r.new.end, gap_end);
        let wide = Region {
            old: r.old.start - back_bytes..(r.old.end + ahead_bytes).min(old.len()),
            new: r.new.start - back_bytes..r.new.end + ahead_bytes,
            old_lines: r.old_lines.start - back_lines..r.old_lines.end + ahead_lines,
            new_lines: r.new_lines.start - back_lines..r.new_lines.end + ahead_lines,
        };
        match out.last_mut() {
            Some(last) if last.new.end >= wide.new.start => {
                last.old.end = wide.old.end;
                last.new.end = wide.new.end;
                last.old_lines.end = wide.old_lines.end;
                last.new_lines.end = wide.new_lines.end;
            }
            _ => out.push(wide),
        }
    }
    out
}

/// How many bytes and lines before line start `from` (not before `limit`) hold `CONTEXT`
/// lines that are not blank.
fn widen_back(text: &Text<'_>, from: usize, limit: usize) -> (usize, usize) {
    let (mut at, mut lines, mut solid) = (from, 0, 0);
    while at > limit && solid < CONTEXT {
        let (start, end) = text.bounds(at - 1);
        solid += usize::from(!text.line(start, end).trim().is_empty());
        at = start.max(limit);
        lines += 1;
    }
    (from - at, lines)
}

/// How many bytes and lines from line start `from` (not past `limit`) hold `CONTEXT` lines
/// that are not blank.
fn widen_ahead(text: &Text<'_>, from: usize, limit: usize) -> (usize, usize) {
    let (mut at, mut lines, mut solid) = (from, 0, 0);
    while at < limit && solid < CONTEXT {
        let (start, end) = text.bounds(at);
        solid += usize::from(!text.line(start, end).trim().is_empty());
        at = (end + 1).min(limit);
        lines += 1;
    }
    (at - from, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines that make facts, open and close comments and strings, or mean nothing.
    const POOL: &[&str] = &[
        "",
        "x = 1",
        "def test_a():",
        "def test_b():",
        "    assert f() == 1",
        "    # assert f() == 2",
        "    assert True",
        "    pass",
        "@pytest.mark.skip(reason='later')",
        "    pytest.skip('x')",
        "\"\"\"",
        "doc \"\"\" tail",
        "s = '@pytest.mark.skip'",
        "# @pytest.mark.skip",
        "raise NotImplementedError",
        "breakpoint()",
        "x = 1  # auditor:allow(DEBUG_LEFTOVER) needed",
        "<<<<<<< HEAD",
        "=======",
        ">>>>>>> topic",
        "def helper():",
        "    return 2",
    ];

    const RUST_POOL: &[&str] = &[
        "",
        "fn lib() {}",
        "#[cfg(test)]",
        "mod tests {",
        "}",
        "    #[test]",
        concat!("    #[ig", "nore]"),
        "    fn case_a() { assert_eq!(f(), 1); }",
        "    fn case_b() { assert!(true); }",
        "    /* open",
        "    close */",
        concat!("    let s = \"", "to", "do!()\";"),
        concat!("    ", "to", "do!()"),
        "    dbg!(x);",
        "    println!(\"x\");",
    ];

    const JS_POOL: &[&str] = &[
        "",
        "describe('x', () => {",
        "});",
        "  it('a', () => { expect(f()).toBe(1) })",
        "  // expect(f()).toBe(2)",
        "  it.skip('b', () => {})",
        "  xit('c', () => {})",
        "  const s = `open",
        "  close ${x}`",
        "  /* open",
        "  close */",
        "  console.log('x')",
        "  expect(true).toBe(true)",
        "  // it.only('d')",
    ];

    const JAVA_POOL: &[&str] = &[
        "",
        "class T {",
        "}",
        "  @Test",
        "  @Disabled",
        "  void parses() { assertEquals(1, f()); }",
        "  void helper() {}",
        "  /* open",
        "  close */",
        "  @Test public void inline() { assertTrue(true); }",
    ];

    /// The facts the rules compare, as they compare them (by text, counting repeats): what
    /// the new version has more of than the old, and less of.
    fn delta(before: &Facts, after: &Facts) -> Vec<String> {
        let count = |f: &Facts| {
            let mut n: std::collections::BTreeMap<String, i64> = Default::default();
            let texts = f
                .tests
                .iter()
                .map(|t| format!("test {t}"))
                .chain(f.skips.iter().map(|m| format!("skip {}", m.text)))
                .chain(
                    f.constant_truths
                        .iter()
                        .map(|m| format!("truth {}", m.text)),
                )
                .chain(
                    f.commented_assertions
                        .iter()
                        .map(|m| format!("commented {}", m.text)),
                )
                .chain(f.conflicts.iter().map(|m| format!("conflict {}", m.text)))
                .chain(f.stubs.iter().map(|m| format!("stub {}", m.text)))
                .chain(f.debug.iter().map(|m| format!("debug {}", m.text)))
                .chain(
                    f.pragmas
                        .iter()
                        .map(|(m, r)| format!("pragma {r} {}", m.text)),
                );
            for t in texts {
                *n.entry(t).or_default() += 1;
            }
            *n.entry("assertions".into()).or_default() += i64::from(f.assertions);
            n
        };
        let (b, a) = (count(before), count(after));
        let mut out: Vec<String> = Vec::new();
        for key in b.keys().chain(a.keys()) {
            let d = a.get(key).unwrap_or(&0) - b.get(key).unwrap_or(&0);
            let line = format!("{key} {d:+}");
            if d != 0 && !out.contains(&line) {
                out.push(line);
            }
        }
        out.sort();
        out
    }

    /// Applies the edits (top-down, kept at least a line apart, as git's hunks are) to a file
    /// made of pool lines, and checks that the regions' facts differ as the whole files' do.
    fn same_as_whole_files(path: &str, pool: &[&str], file: &[usize], edits: &[Edit]) {
        let old_lines: Vec<&str> = file.iter().map(|i| pool[i % pool.len()]).collect();
        let mut sorted: Vec<&Edit> = edits.iter().collect();
        sorted.sort_by_key(|e| e.at);
        let (mut new_lines, mut hunks, mut copied) = (Vec::new(), Vec::new(), 0);
        for e in sorted {
            let at = e.at.min(old_lines.len());
            if (!hunks.is_empty() && at <= copied) || (e.remove == 0 && e.insert.is_empty()) {
                continue;
            }
            let remove = e.remove.min(old_lines.len() - at);
            new_lines.extend_from_slice(&old_lines[copied..at]);
            let start = new_lines.len();
            new_lines.extend(e.insert.iter().map(|i| pool[i % pool.len()]));
            hunks.push(Hunk {
                old: at..at + remove,
                new: start..new_lines.len(),
            });
            copied = at + remove;
        }
        new_lines.extend_from_slice(&old_lines[copied..]);
        let text = |lines: &[&str]| {
            if lines.is_empty() {
                String::new()
            } else {
                lines.join("\n") + "\n"
            }
        };
        let (old, new) = (text(&old_lines), text(&new_lines));
        let (before, after) = changed_facts(
            &Reader::new(path, old.as_bytes()),
            &Reader::new(path, new.as_bytes()),
            &hunks,
        );
        let whole = delta(&facts(path, old.as_bytes()), &facts(path, new.as_bytes()));
        assert_eq!(
            delta(&before, &after),
            whole,
            "old:\n{old}\nnew:\n{new}\nhunks: {hunks:?}"
        );
    }

    #[derive(Debug, Clone)]
    struct Edit {
        at: usize,
        remove: usize,
        insert: Vec<usize>,
    }

    fn edits() -> impl Strategy<Value = Vec<Edit>> {
        prop::collection::vec(
            (
                0usize..60,
                0usize..4,
                prop::collection::vec(0usize..100, 0..4),
            )
                .prop_map(|(at, remove, insert)| Edit { at, remove, insert }),
            1..4,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn regions_read_what_whole_python_files_read(
            file in prop::collection::vec(0usize..100, 0..60),
            edits in edits(),
        ) {
            same_as_whole_files("tests/test_x.py", POOL, &file, &edits);
            same_as_whole_files("app/x.py", POOL, &file, &edits);
        }

        #[test]
        fn regions_read_what_whole_rust_files_read(
            file in prop::collection::vec(0usize..100, 0..60),
            edits in edits(),
        ) {
            same_as_whole_files("src/lib.rs", RUST_POOL, &file, &edits);
        }

        #[test]
        fn regions_read_what_whole_js_and_java_files_read(
            file in prop::collection::vec(0usize..100, 0..60),
            edits in edits(),
        ) {
            same_as_whole_files("web/x.test.js", JS_POOL, &file, &edits);
            same_as_whole_files("web/x.js", JS_POOL, &file, &edits);
            same_as_whole_files("src/test/java/T.java", JAVA_POOL, &file, &edits);
        }
    }

    #[test]
    fn regions_reach_their_context_and_merge_when_they_meet() {
        assert_eq!(CONTEXT, 6, "the lines below are counted for six");
        let lines = |ls: &[&str]| ls.join("\n") + "\n";
        let old: Vec<&str> = vec![
            "z0", "z1", "z2", "a", "b", "c", "", "d", "e", "f", "x", "g", "h", "i", "j", "k", "l",
            "m", "n", "o", "p", "q", "r", "s", "t", "y",
        ];
        let mut new = old.clone();
        new[10] = "X";
        new[25] = "Y";
        let (old_text, new_text) = (lines(&old), lines(&new));
        let hunk = |l: usize| Hunk {
            old: l..l + 1,
            new: l..l + 1,
        };
        // Back from `X` over the blank line to `a`; ahead to `l`. From `Y` back to `o`.
        let r = regions(
            old_text.as_bytes(),
            new_text.as_bytes(),
            &[hunk(10), hunk(25)],
        );
        let new_lines: Vec<_> = r.iter().map(|r| r.new_lines.clone()).collect();
        assert_eq!(new_lines, [3..17, 19..26]);
        assert_eq!(
            &new_text[r[0].new.clone()],
            "a\nb\nc\n\nd\ne\nf\nX\ng\nh\ni\nj\nk\nl\n"
        );
        assert_eq!(
            &old_text[r[0].old.clone()],
            "a\nb\nc\n\nd\ne\nf\nx\ng\nh\ni\nj\nk\nl\n"
        );
        assert_eq!(&new_text[r[1].new.clone()], "o\np\nq\nr\ns\nt\nY\n");
        // Hunks closer than that share one region.
        let same = lines(&old);
        let r = regions(same.as_bytes(), same.as_bytes(), &[hunk(10), hunk(20)]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].new_lines, 3..26);
    }
}
