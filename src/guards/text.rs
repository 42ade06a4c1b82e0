//! A file's bytes seen as lines, without splitting the whole file: the guards read only the
//! lines a search points at, and their neighbours.

use std::borrow::Cow;

/// How many lines that are not blank a rule reads on each side of the line it judges (a
/// function's header above its docstring, the end of its body). The regions around a change
/// are read wider than this, so that the facts of the lines they leave out are the same in
/// both versions.
pub const REACH: usize = 5;

/// A file's bytes, read line by line around the examined lines.
pub struct Text<'a>(pub &'a [u8]);

impl<'a> Text<'a> {
    /// The line from `start` to `end` (a newline or the end), without its `\r`.
    pub fn line(&self, start: usize, end: usize) -> Cow<'a, str> {
        let mut bytes = &self.0[start..end];
        if let [rest @ .., b'\r'] = bytes {
            bytes = rest;
        }
        String::from_utf8_lossy(bytes)
    }

    /// The start and end of the line holding byte `at`.
    pub fn bounds(&self, at: usize) -> (usize, usize) {
        let start = memchr::memrchr(b'\n', &self.0[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &self.0[at..]).map_or(self.0.len(), |i| at + i);
        (start, end)
    }

    /// The lines that are not blank before the one starting at `start`, nearest first, each
    /// with where it starts.
    pub fn lines_before(&self, mut start: usize) -> impl Iterator<Item = (usize, Cow<'a, str>)> {
        let text = Text(self.0);
        std::iter::from_fn(move || {
            while start > 0 {
                let (s, e) = text.bounds(start - 1);
                start = s;
                let l = text.line(s, e);
                if !l.trim().is_empty() {
                    return Some((s, l));
                }
            }
            None
        })
    }

    /// The lines that are not blank after the one ending at `end`, nearest first, each with
    /// where it starts.
    pub fn lines_after(&self, mut end: usize) -> impl Iterator<Item = (usize, Cow<'a, str>)> {
        let text = Text(self.0);
        std::iter::from_fn(move || {
            while end < text.0.len() {
                let (s, e) = text.bounds(end + 1);
                end = e;
                let l = text.line(s, e);
                if !l.trim().is_empty() {
                    return Some((s, l));
                }
            }
            None
        })
    }

    /// The nearest line before the one starting at `start` that is not blank.
    pub fn prev_nonblank(&self, mut start: usize) -> Option<Cow<'a, str>> {
        while start > 0 {
            let (s, e) = self.bounds(start - 1);
            let l = self.line(s, e);
            if !l.trim().is_empty() {
                return Some(l);
            }
            start = s;
        }
        None
    }

    /// The nearest line after the one ending at `end` that is not blank.
    pub fn next_nonblank(&self, mut end: usize) -> Option<Cow<'a, str>> {
        while end < self.0.len() {
            let (s, e) = self.bounds(end + 1);
            let l = self.line(s, e);
            if !l.trim().is_empty() {
                return Some(l);
            }
            end = e;
        }
        None
    }
}

/// Walks forward through a file's lines, from line numbers to byte offsets.
pub struct LineCursor<'a> {
    bytes: &'a [u8],
    /// The 0-based line that starts at `at`.
    line: usize,
    at: usize,
}

impl<'a> LineCursor<'a> {
    /// A cursor at the first line.
    pub fn new(bytes: &'a [u8]) -> LineCursor<'a> {
        LineCursor {
            bytes,
            line: 0,
            at: 0,
        }
    }

    /// The byte offset where 0-based line `line` starts (the end, past the last line); lines
    /// must be asked for in order.
    pub fn offset(&mut self, line: usize) -> usize {
        if line > self.line {
            let skip = line - self.line;
            self.at = memchr::memchr_iter(b'\n', &self.bytes[self.at..])
                .nth(skip - 1)
                .map_or(self.bytes.len(), |i| self.at + i + 1);
            self.line = line;
        }
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_neighbours_and_offsets() {
        let text = Text(b"a\r\n\n  \nb\nc");
        assert_eq!(text.bounds(0), (0, 2));
        assert_eq!(text.line(0, 2), "a");
        assert_eq!(text.prev_nonblank(7).as_deref(), Some("a"));
        assert_eq!(text.next_nonblank(2).as_deref(), Some("b"));
        assert_eq!(text.next_nonblank(8).as_deref(), Some("c"));
        assert_eq!(text.next_nonblank(10), None);
        assert_eq!(text.prev_nonblank(0), None);
        let mut lines = LineCursor::new(text.0);
        assert_eq!(lines.offset(0), 0);
        assert_eq!(lines.offset(3), 7);
        assert_eq!(lines.offset(4), 9);
        assert_eq!(lines.offset(9), 10);
    }
}
