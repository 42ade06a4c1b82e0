//! The matching engine: keyword prefilter, rule regexes near hits, false-positive filters.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;

use super::rules::{RULES, Rule};

/// One secret found in a piece of content. Holds the value: never serialise it.
#[derive(Clone)]
pub struct SecretMatch {
    /// The rule that matched.
    pub rule: &'static Rule,
    /// 1-based line of the value's start.
    pub line: u32,
    /// 1-based column (in bytes) of the value's start.
    pub column: u32,
    /// Byte range of the value in the content.
    pub start: usize,
    /// End of the value (exclusive).
    pub end: usize,
    /// The value itself, for redaction and fingerprinting only.
    pub value: String,
}

impl std::fmt::Debug for SecretMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately omits the value: debug output ends up in logs.
        f.debug_struct("SecretMatch")
            .field("rule", &self.rule.id)
            .field("line", &self.line)
            .field("value", &super::redact(&self.value))
            .finish()
    }
}

/// Compiled rules, built once and shared.
pub struct Scanner {
    keywords: AhoCorasick,
    /// For each keyword pattern, the rules that use it.
    keyword_rules: Vec<Vec<usize>>,
    /// Compiled on first use: most content wakes only a few rules.
    regexes: Vec<OnceLock<Regex>>,
}

/// Content with a NUL byte in its first 8 KiB is binary, as git decides.
pub fn is_binary(content: &[u8]) -> bool {
    content[..content.len().min(8000)].contains(&0)
}

/// A line longer than this is scanned only in a window around each keyword hit.
const WINDOW: usize = 1024;
/// How far a private key block may extend past its BEGIN line.
const BLOCK_WINDOW: usize = 16 * 1024;
/// The inline pragma that suppresses a finding on its line.
pub const ALLOW_PRAGMA: &[u8] = b"auditor:allow";

impl Scanner {
    /// Compiles every rule.
    pub fn new() -> Scanner {
        let mut patterns = Vec::new();
        let mut keyword_rules = Vec::new();
        for (i, rule) in RULES.iter().enumerate() {
            for kw in rule.keywords {
                if let Some(pos) = patterns.iter().position(|p| p == kw) {
                    let rules: &mut Vec<usize> = &mut keyword_rules[pos];
                    rules.push(i);
                } else {
                    patterns.push(*kw);
                    keyword_rules.push(vec![i]);
                }
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("static keywords compile");
        let regexes = RULES.iter().map(|_| OnceLock::new()).collect();
        Scanner {
            keywords,
            keyword_rules,
            regexes,
        }
    }

    /// Finds the secrets in `content`, in order of position, without duplicates.
    pub fn scan(&self, content: &[u8]) -> Vec<SecretMatch> {
        self.scan_with(content, true)
    }

    /// Like `scan`, for text on its way out of the auditor: an `auditor:allow` pragma on the
    /// line keeps a value out of the findings, never in plain sight.
    pub fn scan_outbound(&self, content: &[u8]) -> Vec<SecretMatch> {
        self.scan_with(content, false)
    }

    fn scan_with(&self, content: &[u8], honour_pragmas: bool) -> Vec<SecretMatch> {
        // (window start, window end, rule) triples to run, deduplicated.
        let mut work: BTreeSet<(usize, usize, usize)> = BTreeSet::new();
        for hit in self.keywords.find_overlapping_iter(content) {
            for &rule_idx in &self.keyword_rules[hit.pattern().as_usize()] {
                let rule = &RULES[rule_idx];
                let (start, end) = line_bounds(content, hit.start());
                let (start, end) = if rule.multiline {
                    (start, (start + BLOCK_WINDOW).min(content.len()))
                } else if end - start > WINDOW * 2 {
                    // The window never ends inside a token: a long one (a JWT of a few KB)
                    // is read whole.
                    let mut stop = (hit.end() + WINDOW).min(end);
                    while stop < end && is_token_byte(content[stop]) {
                        stop += 1;
                    }
                    (hit.start().saturating_sub(WINDOW).max(start), stop)
                } else {
                    (start, end)
                };
                work.insert((start, end, rule_idx));
            }
        }
        let mut found: Vec<SecretMatch> = Vec::new();
        for (start, end, rule_idx) in work {
            let rule = &RULES[rule_idx];
            let window = &content[start..end];
            let regex = self.regexes[rule_idx]
                .get_or_init(|| Regex::new(rule.regex).expect("static rule regex compiles"));
            for caps in regex.captures_iter(window) {
                let Some(m) = caps.name("secret").or_else(|| caps.get(0)) else {
                    continue;
                };
                let (vs, ve) = (start + m.start(), start + m.end());
                let Ok(value) = std::str::from_utf8(&content[vs..ve]) else {
                    continue;
                };
                if found.iter().any(|f| f.start < ve && vs < f.end) {
                    continue; // a provider rule already claimed this value
                }
                if !plausible(rule, value) || (honour_pragmas && line_has_pragma(content, vs)) {
                    continue;
                }
                // `password = get_password(...)`: the value is a call, not a literal.
                if rule.min_entropy.is_some() && content.get(ve) == Some(&b'(') {
                    continue;
                }
                if caps
                    .name("host")
                    .is_some_and(|h| is_example_host(&h.as_bytes().to_ascii_lowercase()))
                {
                    continue;
                }
                found.push(SecretMatch {
                    rule,
                    line: 0,
                    column: 0,
                    start: vs,
                    end: ve,
                    value: value.to_string(),
                });
            }
        }
        // Rules are visited in window order, not rule order: give provider rules priority.
        found.sort_by_key(|m| m.start);
        dedup_overlaps(&mut found);
        number_lines(content, &mut found);
        found
    }
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

fn dedup_overlaps(found: &mut Vec<SecretMatch>) {
    let rank = |m: &SecretMatch| RULES.iter().position(|r| r.id == m.rule.id).unwrap_or(0);
    let mut keep: Vec<SecretMatch> = Vec::with_capacity(found.len());
    for m in found.drain(..) {
        match keep.last_mut() {
            Some(last) if last.start < m.end && m.start < last.end => {
                if rank(&m) < rank(last) {
                    *last = m;
                }
            }
            _ => keep.push(m),
        }
    }
    *found = keep;
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=')
}

fn line_bounds(content: &[u8], at: usize) -> (usize, usize) {
    let start = content[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = content[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(content.len(), |i| at + i);
    (start, end)
}

fn line_has_pragma(content: &[u8], at: usize) -> bool {
    let (s, e) = line_bounds(content, at);
    content[s..e]
        .windows(ALLOW_PRAGMA.len())
        .any(|w| w == ALLOW_PRAGMA)
}

fn number_lines(content: &[u8], found: &mut [SecretMatch]) {
    let mut line = 1u32;
    let mut pos = 0usize;
    let mut line_start = 0usize;
    for m in found.iter_mut() {
        for (i, &b) in content[pos..m.start].iter().enumerate() {
            if b == b'\n' {
                line += 1;
                line_start = pos + i + 1;
            }
        }
        pos = m.start;
        m.line = line;
        m.column = u32::try_from(m.start - line_start + 1).unwrap_or(u32::MAX);
    }
}

/// Words that mark a value as a placeholder or documentation, not a credential.
const PLACEHOLDERS: [&str; 16] = [
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "your_",
    "your-",
    "yourkey",
    "xxxx",
    "****",
    "dummy",
    "redacted",
    "sample",
    "<",
    "${",
    "{{",
    "%s",
];

/// Hosts reserved for documentation and tests (RFC 2606, RFC 6761) and loopback.
fn is_example_host(host: &[u8]) -> bool {
    let host = String::from_utf8_lossy(host);
    ["example.com", "example.org", "example.net", "localhost"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|tld| host.ends_with(tld))
        || host.starts_with("127.")
}

/// `self.token`, `config.api_key`, `os.environ`: a dotted path of identifiers is a reference.
fn is_dotted_identifier(value: &str) -> bool {
    value.contains('.')
        && value.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Bits of Shannon entropy per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| is_hex(p))
}

/// Rejects placeholders, environment lookups, hashes, UUIDs and other look-alikes.
fn plausible(rule: &Rule, value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    if rule.id == "url-credentials" {
        // `user:$PASSWORD@host`, `user:{pw}@host`, `user:password@host` are templates.
        return !(value.starts_with(['$', '%', '{'])
            || ["password", "pass", "passwd", "secret", "pwd", "token"].contains(&lower.as_str()));
    }
    let Some(min_entropy) = rule.min_entropy else {
        return true;
    };
    // The generic rule: only values that look random.
    let env_lookup = [
        "env", "getenv", "environ", "process.", "secrets.", "vault", "config.",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        || value.starts_with('$')
        || value.starts_with('%');
    let reference = value
        .split(['.', ':', '/', '-', '_'])
        .all(|part| part.bytes().all(|b| b.is_ascii_lowercase()) || part.is_empty());
    let hash = is_hex(value) && matches!(value.len(), 32 | 40 | 56 | 64 | 96 | 128);
    // `pwd=/tmp/x1/y`, `token_url = https://...`: paths and plain URLs, not credentials.
    let path_or_url = ["/", "./", "../", "~/"]
        .iter()
        .any(|p| value.starts_with(p))
        || value.contains("://");
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = value.bytes().any(|b| b.is_ascii_alphabetic());
    !(env_lookup
        || path_or_url
        || reference
        || hash
        || is_uuid(value)
        || is_dotted_identifier(value)
        || !has_digit
        || !has_alpha)
        && shannon_entropy(value) >= min_entropy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<(&'static str, String, u32)> {
        Scanner::new()
            .scan(text.as_bytes())
            .into_iter()
            .map(|m| (m.rule.id, m.value, m.line))
            .collect()
    }

    // Secrets are assembled at run time so that this file holds none in full.
    fn k(parts: &[&str]) -> String {
        parts.concat()
    }

    #[test]
    fn provider_keys_are_found_with_their_lines() {
        let aws = k(&["AKIA", "Z7Q3LMNOPQRSTUV2"]);
        let gh = k(&["ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"]);
        let text = format!("a\nkey = \"{aws}\"\ntoken: {gh}\n");
        let found = scan(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], ("aws-access-key-id", aws, 2));
        assert_eq!(found[1], ("github-token", gh, 3));
    }

    #[test]
    fn more_providers() {
        let cases = [
            (
                "slack-token",
                k(&[
                    "xoxb-",
                    "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
                ]),
            ),
            ("stripe-key", k(&["sk_live_", "4eC39HqLyjWDarjtT1zdp7dc"])),
            (
                "anthropic-api-key",
                k(&[
                    "sk-ant-api03-",
                    "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm_-AbCdEf",
                ]),
            ),
            (
                "google-api-key",
                k(&["AIza", "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"]),
            ),
            (
                "npm-token",
                k(&["npm_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"]),
            ),
            ("gitlab-pat", k(&["glpat-", "Ab3De5Gh7Jk9Mn1Pq3St"])),
        ];
        for (rule, value) in cases {
            let found = scan(&format!("x = \"{value}\"\n"));
            assert_eq!(found.len(), 1, "{rule}: {found:?}");
            assert_eq!(found[0].0, rule);
            assert_eq!(found[0].1, value);
        }
    }

    #[test]
    fn private_key_block_spans_lines() {
        let body =
            "MIIEpAIBAAKCAQEA7v1sJ0m4Yz3q8Rk2WcXbN5tLpQ9aHfGdE6uVjK0iOyTrSwMnBx1Zc4\n".repeat(3);
        let text = format!(
            "-----BEGIN RSA {}-----\n{body}-----END RSA {}-----\n",
            "PRIVATE KEY", "PRIVATE KEY"
        );
        let found = scan(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "private-key");
        assert_eq!(found[0].2, 1);
    }

    #[test]
    fn an_armored_pgp_private_key_is_a_private_key() {
        let body = "lQOYBGVnZ2kBCADJ3q8Rk2WcXbN5tLpQ9aHfGdE6uVjK0iOyTrSwMnBx1Zc4a7v1s\n".repeat(8);
        let text = format!(
            "-----BEGIN PGP {} BLOCK-----\n\n{body}=Xk9a\n-----END PGP {} BLOCK-----\n",
            "PRIVATE KEY", "PRIVATE KEY"
        );
        let found = scan(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "private-key");
    }

    #[test]
    fn a_jwt_of_several_kilobytes_is_found_whole() {
        let payload = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0x".repeat(80);
        let jwt =
            format!("eyJhbGciOiJIUzI1NiJ9.{payload}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
        let found = scan(&format!("const T = \"{jwt}\";\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, jwt);
    }

    #[test]
    fn public_keys_and_certificates_are_not_secrets() {
        let text = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n\
                    -----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----\n";
        assert!(scan(text).is_empty());
    }

    #[test]
    fn documented_examples_placeholders_and_env_lookups_are_not_secrets() {
        let text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                    aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
                    api_key = \"your_api_key_here\"\n\
                    password = os.environ[\"DB_PASSWORD\"]\n\
                    token = process.env.GITHUB_TOKEN\n\
                    secret = ${SECRET_VALUE}\n\
                    password = get_password()\n\
                    url = \"postgres://user:${DB_PASS}@db:5432/app\"\n\
                    url2 = \"postgres://user:password@localhost/app\"\n";
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn calls_references_and_example_hosts_are_not_secrets() {
        let text = "password = self._decode_base64(arg)\n\
                    token = config.github_token2\n\
                    secret = base64.b64decode(data)\n\
                    url = \"http://evil:thing@example.com\"\n\
                    url = \"http://user:s3cr3tpw@db.test/x\"\n\
                    pwd=/tmp/.tmpG1WjVz/state/supervisor/workspace\n\
                    token_url = \"https://auth.example.org/oauth2/v1/token\"\n";
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn escapes_and_format_placeholders_do_not_hide_look_alikes() {
        // As written inside a string literal in source code.
        let text = r#"x = "commit_token = 3f786850e387550fdab836ed7e6dc881de23001b\n\"
y = format!("postgres://admin:{pw}@db.internal:5432/app")
"#;
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn hashes_and_uuids_are_not_generic_secrets() {
        let text = "commit_token = 3f786850e387550fdab836ed7e6dc881de23001b\n\
                    session_secret = 123e4567-e89b-12d3-a456-426614174000\n";
        assert!(scan(text).is_empty(), "{:?}", scan(text));
    }

    #[test]
    fn generic_high_entropy_assignment_is_found() {
        let v = k(&["q8Zr4Lm2", "Xv7Pw1Ks9Tn3"]);
        let found = scan(&format!("DB_PASSWORD = \"{v}\"\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "generic-secret");
        assert_eq!(found[0].1, v);
    }

    #[test]
    fn url_credentials_are_found() {
        let pw = k(&["Tr0ub4dor", "&3x"]);
        let found = scan(&format!(
            "db = \"postgres://admin:{pw}@db.internal:5432/app\"\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, pw);
    }

    #[test]
    fn inline_pragma_suppresses() {
        let aws = k(&["AKIA", "Z7Q3LMNOPQRSTUV2"]);
        assert!(scan(&format!("k = \"{aws}\" # auditor:allow test fixture\n")).is_empty());
    }

    #[test]
    fn every_rule_regex_compiles() {
        for rule in RULES {
            assert!(Regex::new(rule.regex).is_ok(), "{}", rule.id);
        }
    }

    #[test]
    fn entropy() {
        assert!(shannon_entropy("aaaaaaaa") < 0.01);
        assert!(shannon_entropy("q8Zr4Lm2Xv7Pw1Ks") > 3.5);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = Scanner::new().scan(&bytes);
        }
    }
}
