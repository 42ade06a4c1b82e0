//! Text the keyword search has already read and found no keyword in.
//!
//! A history holds each file many times over, each version mostly the lines of the one
//! before; the keyword search (the scanner's largest cost) need read those lines once. Content
//! is cut into line-aligned chunks whose boundaries depend only on nearby lines, so an edit
//! moves no boundary far from it; a chunk the search read and found no keyword in is
//! remembered by a keyed hash and skipped when it comes again. Since no keyword spans a line
//! break, a chunk with no keyword holds none in any file, and skipping it changes no result:
//! chunks with a keyword are never remembered, and every window a hit opens is read from the
//! whole content.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Slots of the table: 16 MiB. A slot holds one chunk's tag; a newer chunk with the same slot
/// replaces it, which only costs a search later, never a finding.
const SLOTS: usize = 1 << 21;
/// A chunk ends at a boundary line once it holds this many bytes...
const MIN_CHUNK: usize = 256;
/// ...and at the next line end, boundary or not, once it holds this many.
const MAX_CHUNK: usize = 64 * 1024;
/// One line in 2^BOUNDARY_BITS is a boundary.
const BOUNDARY_BITS: u32 = 5;

/// The tags of chunks with no keyword, shared by the threads of one scan.
pub struct QuietText {
    slots: Vec<AtomicU64>,
    /// SipHash with a key drawn for this process: the agent writes the content and must not
    /// be able to make a chunk with a keyword take the tag of one without.
    key: std::collections::hash_map::RandomState,
}

impl std::fmt::Debug for QuietText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuietText").finish_non_exhaustive()
    }
}

impl Default for QuietText {
    fn default() -> Self {
        QuietText::new()
    }
}

impl QuietText {
    /// An empty table, with a fresh key.
    pub fn new() -> QuietText {
        QuietText {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            key: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The chunk's tag (never 0, which marks an empty slot).
    pub fn tag(&self, chunk: &[u8]) -> u64 {
        let mut h = self.key.build_hasher();
        h.write(chunk);
        h.finish().max(1)
    }

    /// Whether a chunk with this tag was searched and held no keyword.
    pub fn is_quiet(&self, tag: u64) -> bool {
        self.slot(tag).load(Ordering::Relaxed) == tag
    }

    /// Remembers that the chunk with this tag holds no keyword.
    pub fn remember(&self, tag: u64) {
        self.slot(tag).store(tag, Ordering::Relaxed);
    }

    fn slot(&self, tag: u64) -> &AtomicU64 {
        // The low bits pick the slot; the whole tag is compared.
        &self.slots[(tag as usize) & (SLOTS - 1)]
    }
}

/// The line-aligned chunks of `content`, as byte ranges that cover it in order.
pub fn chunks(content: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    let mut line_start = 0;
    let mut ends = memchr::memchr_iter(b'\n', content);
    std::iter::from_fn(move || {
        if start >= content.len() {
            return None;
        }
        for newline in ends.by_ref() {
            let line = &content[line_start..newline];
            line_start = newline + 1;
            let len = newline + 1 - start;
            if (len >= MIN_CHUNK && is_boundary(line)) || len >= MAX_CHUNK {
                let chunk = (start, newline + 1);
                start = newline + 1;
                return Some(chunk);
            }
        }
        let chunk = (start, content.len());
        start = content.len();
        Some(chunk)
    })
}

/// Whether a line ends a chunk: decided by the line alone (its length and last bytes), so
/// the same line cuts the same way in every version of a file.
fn is_boundary(line: &[u8]) -> bool {
    let tail = &line[line.len().saturating_sub(7)..];
    let mixed = tail
        .iter()
        .fold(line.len() as u64, |x, &b| (x << 8) | u64::from(b));
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BOUNDARY_BITS) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: usize, seed: usize) -> Vec<u8> {
        (0..lines)
            .map(|i| format!("line {} of the file, seed {}\n", i, seed + i * 7))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn chunks_cover_the_content_in_order_and_end_at_line_ends() {
        for content in [text(2000, 1), b"no newline at all".to_vec(), Vec::new()] {
            let mut at = 0;
            for (s, e) in chunks(&content) {
                assert_eq!(s, at);
                assert!(e > s);
                assert!(e == content.len() || content[e - 1] == b'\n');
                at = e;
            }
            assert_eq!(at, content.len());
        }
    }

    #[test]
    fn an_edit_moves_only_the_chunks_near_it() {
        let before = text(4000, 3);
        let mut after = before.clone();
        // A line inserted near the middle.
        let middle = before.len() / 2;
        let at = middle
            + before[middle..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("the text has lines")
            + 1;
        after.splice(at..at, b"an inserted line\n".iter().copied());
        let set = |c: &[u8]| -> std::collections::HashSet<Vec<u8>> {
            chunks(c).map(|(s, e)| c[s..e].to_vec()).collect()
        };
        let (old, new) = (set(&before), set(&after));
        let changed = new.difference(&old).count();
        assert!(old.len() > 50, "{} chunks", old.len());
        assert!(changed <= 2, "{changed} of {} chunks changed", new.len());
    }

    #[test]
    fn a_remembered_tag_is_quiet_and_another_is_not() {
        let quiet = QuietText::new();
        let (a, b) = (quiet.tag(b"one chunk\n"), quiet.tag(b"another chunk\n"));
        assert_ne!(a, b);
        assert!(!quiet.is_quiet(a));
        quiet.remember(a);
        assert!(quiet.is_quiet(a));
        assert!(!quiet.is_quiet(b));
    }
}
