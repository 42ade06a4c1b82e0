//! Small helpers every layer shares, over bytes and names: whether content is binary, the
//! line around an offset, the short digest identities are made of, a commit's short form.

use sha2::{Digest, Sha256};

/// Content with a NUL byte in its first 8 KiB is binary, as git decides.
pub fn is_binary(content: &[u8]) -> bool {
    content[..content.len().min(8000)].contains(&0)
}

/// The start and end (before its newline) of the line holding byte `at`.
pub fn line_bounds(content: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &content[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &content[at..]).map_or(content.len(), |i| at + i);
    (start, end)
}

/// The first 64 bits of the SHA-256 of `parts` (each NUL-terminated), in hex: what
/// fingerprints are made of.
pub fn short_digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..8])
}

/// The first 64 bits of the SHA-256 of `value`, in hex.
pub fn digest_of(value: &[u8]) -> String {
    hex(&Sha256::digest(value)[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A commit's short form (its first seven hex digits), as git shows it.
pub fn short(hash: &str) -> &str {
    hash.get(..7).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(is_binary(b"a\0b"));
        assert!(!is_binary("ünïcode\n".as_bytes()));
        let text = b"one\ntwo\nthree";
        assert_eq!(line_bounds(text, 5), (4, 7));
        assert_eq!(line_bounds(text, 0), (0, 3));
        assert_eq!(line_bounds(text, 10), (8, 13));
        assert_eq!(short("0123456789abcdef"), "0123456");
        assert_eq!(short("abc"), "abc");
        // Not a char boundary at 7: the whole name rather than a panic.
        assert_eq!(short("ééééé"), "ééééé");
        assert_eq!(short_digest(["a", "b"]).len(), 16);
        assert_ne!(short_digest(["ab", ""]), short_digest(["a", "b"]));
        assert_eq!(digest_of(b"x").len(), 16);
    }
}
