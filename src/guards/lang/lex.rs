//! The code part of a line: string contents and comments blanked, by the syntax of the file's
//! language, so that a marker inside a string or a comment never counts.

use super::Lang;

/// Carries block comments and multi-line strings from one line to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LexState {
    block_comment: bool,
    /// Inside a Python triple-quoted string, with its quote character.
    triple: Option<u8>,
    /// Inside a JS template literal.
    template: bool,
}

/// The code part of `line`: string contents and comments replaced by nothing (quotes kept),
/// so `"it.skip("` in a string or `// xit(` in a comment leave no marker behind.
pub fn code_part<'a>(line: &'a str, lang: Lang, state: &mut LexState) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    if !lang.spec().syntax.lexed {
        return Cow::Borrowed(line);
    }
    // Most lines open no string and no comment: nothing to blank.
    let plain = !state.block_comment
        && state.triple.is_none()
        && !state.template
        && !line
            .bytes()
            .any(|b| matches!(b, b'"' | b'\'' | b'#' | b'/' | b'`'));
    if plain {
        return Cow::Borrowed(line);
    }
    let mut out = Code(Some(String::with_capacity(line.len())), None);
    lex(line, lang, state, &mut out);
    Cow::Owned(out.0.unwrap_or_default())
}

/// Carries `state` past `line` without building its code part: for the lines that only open or
/// close a comment or a string.
pub fn advance(line: &str, lang: Lang, state: &mut LexState) {
    if lang.spec().syntax.lexed {
        lex(line, lang, state, &mut Code(None, None));
    }
}

/// The byte ranges of `line` that are comments, read from `state` (the state at the line's
/// start; it is not carried on). Each range starts at its comment's opener (`//`, `#`, `/*`),
/// or at 0 for a comment open since an earlier line.
pub fn comment_spans(line: &str, lang: Lang, state: LexState) -> Vec<std::ops::Range<usize>> {
    let mut state = state;
    let mut out = Code(None, Some(Vec::new()));
    lex(line, lang, &mut state, &mut out);
    out.1.unwrap_or_default()
}

/// Where the code part goes (nowhere, when only the state matters), and the comment spans
/// (when asked for).
struct Code(Option<String>, Option<Vec<std::ops::Range<usize>>>);

impl Code {
    fn push(&mut self, s: &str) {
        if let Some(out) = &mut self.0 {
            out.push_str(s);
        }
    }

    fn comment(&mut self, span: std::ops::Range<usize>) {
        if let Some(spans) = &mut self.1 {
            spans.push(span);
        }
    }
}

/// Reads `line` from `state`, leaving the state at its end and its code part in `out`.
fn lex(line: &str, lang: Lang, state: &mut LexState, out: &mut Code) {
    let syntax = lang.spec().syntax;
    let b = line.as_bytes();
    let mut i = 0;
    let mut block_from = state.block_comment.then_some(0);
    while i < b.len() {
        if state.block_comment {
            if b[i..].starts_with(b"*/") {
                state.block_comment = false;
                i += 2;
                out.comment(block_from.take().unwrap_or(0)..i);
            } else {
                i += 1;
            }
            continue;
        }
        if let Some(q) = state.triple {
            if b[i..].starts_with(&[q, q, q]) {
                state.triple = None;
                out.push("\"\"\"");
                i += 3;
            } else {
                i += 1;
            }
            continue;
        }
        if state.template {
            if b[i] == b'\\' {
                i += 2;
            } else if b[i] == b'`' {
                state.template = false;
                out.push("`");
                i += 1;
            } else {
                i += 1;
            }
            continue;
        }
        let c = b[i];
        let hash_comment = syntax.hash_comments && c == b'#';
        let slash_comment = !syntax.hash_comments && b[i..].starts_with(b"//");
        if hash_comment || slash_comment {
            out.comment(i..b.len());
            break;
        }
        if !syntax.hash_comments && b[i..].starts_with(b"/*") {
            state.block_comment = true;
            block_from = Some(i);
            i += 2;
            continue;
        }
        if syntax.triple_quotes && (b[i..].starts_with(b"\"\"\"") || b[i..].starts_with(b"'''")) {
            state.triple = Some(c);
            out.push("\"\"\"");
            i += 3;
            continue;
        }
        if syntax.template_literals && c == b'`' {
            state.template = true;
            out.push("`");
            i += 1;
            continue;
        }
        if syntax.regex_literals
            && c == b'/'
            && let Some(end) = regex_end(b, i)
        {
            out.push("//");
            i = end;
            continue;
        }
        // A Rust lifetime or char literal `'a'` is not a string opener worth tracking past
        // the line: single-line strings end at the line's end anyway.
        let quote = c == b'"' || (c == b'\'' && syntax.single_quote_strings);
        if quote {
            // The quotes stay (closed, even when the line leaves the string open).
            let q = if c == b'"' { "\"" } else { "'" };
            out.push(q);
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            out.push(q);
            i += 1;
            continue;
        }
        // Copy the run up to the next byte that may open a string or a comment at once
        // (those bytes are ASCII, so the run ends on a character boundary).
        let run = b[i + 1..]
            .iter()
            .position(|b| matches!(b, b'"' | b'\'' | b'#' | b'/' | b'`'))
            .map_or(b.len(), |p| i + 1 + p);
        out.push(&line[i..run]);
        i = run;
    }
    if let Some(from) = block_from.filter(|_| state.block_comment) {
        out.comment(from..b.len());
    }
}

/// Where the regular expression literal opening at `b[at]` (a `/`) ends, past its flags; none
/// when the `/` divides (after a value: an identifier, a number, `)` or `]`) or the line does
/// not close it. stripe-node's `.to.throw(/Use \`await constructEventAsync/)`: its backtick
/// opens no template literal.
fn regex_end(b: &[u8], at: usize) -> Option<usize> {
    let before = b[..at].iter().rev().find(|c| !c.is_ascii_whitespace());
    let after_value = before
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b')' | b']'));
    let after_keyword = [&b"return"[..], b"typeof"].iter().any(|k| {
        let head = b[..at].trim_ascii_end();
        head.ends_with(k)
            && head[..head.len() - k.len()]
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
    });
    if after_value && !after_keyword {
        return None;
    }
    let mut i = at + 1;
    let mut class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                i += 1;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `needle` occurs in `haystack`. The guards ask this of short lines many times: a
/// one-shot search there costs less than building `str::contains`'s searcher.
pub fn holds(haystack: &str, needle: &str) -> bool {
    memchr::memmem::find(haystack.as_bytes(), needle.as_bytes()).is_some()
}

/// Whether `token` occurs in `code` as a whole token (not inside a longer identifier).
pub fn has_token(code: &str, token: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&code.as_bytes()[from..], token.as_bytes()) {
        let start = from + at;
        let before_ok = code[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !ident(c) || token.starts_with(|t: char| !ident(t)));
        let after = code[start + token.len()..].chars().next();
        let after_ok = token.ends_with(|t: char| !ident(t)) || after.is_none_or(|c| !ident(c));
        if before_ok && after_ok {
            return true;
        }
        from = start + token.len().max(1);
        if from >= code.len() {
            break;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(lang: Lang, line: &str) -> String {
        code_part(line, lang, &mut LexState::default()).into_owned()
    }

    #[test]
    fn strings_and_comments_are_blanked() {
        assert_eq!(
            code(Lang::Js, r#"const s = "it.skip("; // xit("#),
            r#"const s = ""; "#
        );
        assert_eq!(
            code(Lang::Python, "x = 'pytest.skip(' # @pytest.mark.skip"),
            "x = '' "
        );
        assert_eq!(
            code(
                Lang::Rust,
                concat!("let s = \"", "#[ig", "nore]\"; /* ", "to", "do!() */ f()")
            ),
            "let s = \"\";  f()"
        );
        let mut st = LexState::default();
        assert_eq!(&*code_part("/* start", Lang::Go, &mut st), "");
        assert_eq!(
            code_part("t.Skip() */ t.Run()", Lang::Go, &mut st),
            " t.Run()"
        );
        let mut st = LexState::default();
        assert_eq!(
            code_part("doc = \"\"\"", Lang::Python, &mut st),
            "doc = \"\"\""
        );
        assert_eq!(&*code_part("pytest.skip(", Lang::Python, &mut st), "");
        assert_eq!(
            code_part("\"\"\"; pytest.skip(1)", Lang::Python, &mut st),
            "\"\"\"; pytest.skip(1)"
        );
    }

    #[test]
    fn regular_expression_literals_open_no_string() {
        assert_eq!(
            code(Lang::Js, "}).to.throw(/Use `await constructEventAsync/);"),
            "}).to.throw(//);"
        );
        assert_eq!(
            code(Lang::Js, "if (/['\"]/i.test(s)) it('a', f);"),
            "if (//.test(s)) it('', f);"
        );
        let mut st = LexState::default();
        code_part("expect(f).toThrow(/`x/);", Lang::Js, &mut st);
        assert_eq!(st, LexState::default());
        // A division is no regular expression, and neither is a comment.
        assert_eq!(
            code(Lang::Js, "const r = a / b / 'c';"),
            "const r = a / b / '';"
        );
        assert_eq!(code(Lang::Js, "x = (n) / 2; // it.skip("), "x = (n) / 2; ");
        assert_eq!(
            code(Lang::Js, "return /a'b/.test(s);"),
            "return //.test(s);"
        );
    }

    #[test]
    fn tokens_are_whole() {
        assert!(has_token("  xit('a', () => {})", "xit("));
        assert!(!has_token("process.exit(1)", "xit("));
        assert!(has_token("fit('x')", "fit("));
        assert!(!has_token("outfit('x')", "fit("));
        assert!(has_token(concat!("#[ig", "nore]"), concat!("#[ig", "nore")));
    }
}
