//! Bounded capture of a child's output: the head and the tail are kept, the middle is counted.

use std::collections::VecDeque;

/// A stream's captured output, bounded whatever the child prints.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// Bytes the child wrote in all.
    pub total: u64,
    cap_half: usize,
}

impl Captured {
    /// An empty capture keeping at most `cap` bytes (half head, half tail).
    pub fn new(cap: usize) -> Captured {
        Captured {
            cap_half: (cap / 2).max(1),
            ..Captured::default()
        }
    }

    /// Appends a chunk the child wrote.
    pub fn push(&mut self, mut chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if self.head.len() < self.cap_half {
            let take = (self.cap_half - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        if chunk.len() >= self.cap_half {
            self.tail.clear();
            self.tail
                .extend(chunk[chunk.len() - self.cap_half..].iter().copied());
            return;
        }
        let overflow = (self.tail.len() + chunk.len()).saturating_sub(self.cap_half);
        self.tail.drain(..overflow);
        self.tail.extend(chunk.iter().copied());
    }

    /// Whether bytes were dropped from the middle.
    pub fn truncated(&self) -> bool {
        self.total > (self.head.len() + self.tail.len()) as u64
    }

    /// The complete output, or `None` when it was truncated.
    pub fn complete(&self) -> Option<Vec<u8>> {
        if self.truncated() {
            return None;
        }
        let mut v = self.head.clone();
        v.extend(self.tail.iter());
        Some(v)
    }

    /// Head and tail as text, with a marker where bytes were dropped.
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if self.truncated() {
            let omitted = self.total - (self.head.len() + self.tail.len()) as u64;
            s.push_str(&format!("\n[... {omitted} bytes omitted ...]\n"));
        }
        let (a, b) = self.tail.as_slices();
        s.push_str(&String::from_utf8_lossy(&[a, b].concat()));
        s
    }

    /// The last `lines` lines of the output, each cut to a readable length, for findings.
    pub fn tail_lines(&self, lines: usize) -> String {
        self.tail_of(&self.text(), lines)
    }

    /// `tail_lines` of the output cleaned whole first (`secrets::clean_quoted`), so that no
    /// cut hides a secret from the rules that would recognise it.
    pub fn tail_lines_cleaned(&self, lines: usize) -> String {
        self.tail_of(&crate::secrets::clean_quoted(&self.text()), lines)
    }

    fn tail_of(&self, text: &str, lines: usize) -> String {
        let all: Vec<&str> = text.trim_end().lines().collect();
        all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| shorten(l, MAX_LINE))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Longest line quoted from a check's output; minified or binary output has huge lines.
const MAX_LINE: usize = 400;

fn shorten(line: &str, max: usize) -> String {
    let count = line.chars().count();
    if count <= max {
        return line.to_string();
    }
    let head: String = line.chars().take(max / 2).collect();
    let tail: String = line.chars().skip(count - max / 2).collect();
    format!("{head}[... {} characters omitted ...]{tail}", count - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_tail_within_the_cap() {
        let mut c = Captured::new(10);
        for i in 0..100u8 {
            c.push(&[b'a' + (i % 26)]);
        }
        assert_eq!(c.total, 100);
        assert!(c.truncated());
        assert_eq!(c.head.len() + c.tail.len(), 10);
        assert!(c.text().starts_with("abcde"));
        assert!(c.text().contains("90 bytes omitted"));
        assert!(c.complete().is_none());
    }

    #[test]
    fn tail_lines_are_bounded() {
        let mut c = Captured::new(1 << 20);
        c.push("y".repeat(100_000).as_bytes());
        c.push(b"\nlast\n");
        let t = c.tail_lines(5);
        assert!(t.len() < 1000, "{}", t.len());
        assert!(t.ends_with("last"));
    }

    #[test]
    fn small_output_is_complete() {
        let mut c = Captured::new(100);
        c.push(b"hello ");
        c.push(b"world");
        assert_eq!(c.complete().as_deref(), Some(&b"hello world"[..]));
    }

    #[test]
    fn one_huge_chunk_keeps_its_end() {
        let mut c = Captured::new(4);
        c.push(b"0123456789");
        assert_eq!(c.text(), "01\n[... 6 bytes omitted ...]\n89");
    }
}
