//! The matching engine: keyword prefilter, rule regexes near hits, then `validate`.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Captures, Match, Regex};

use super::quiet::{QuietText, chunks};
use super::rules::{Allowlist, Candidate, Rule, RuleSet, SecretGroup, builtin};
use super::validate::{Assignment, Syntax, plausible};
use crate::bytes::line_bounds;

/// One secret found in a piece of content. Holds the value: never serialise it.
#[derive(Clone)]
pub struct SecretMatch {
    /// The rule that matched.
    pub rule: Arc<Rule>,
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

/// Where content comes from: its path (the generic rule reads code differently from
/// configuration; rules and allowlists may name paths) and its commit (allowlists may).
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    /// The file's path in the repository.
    pub path: Option<&'a str>,
    /// The commit it was read from.
    pub commit: Option<&'a str>,
    /// Text already searched, to skip (a history scan's versions of the same files).
    pub quiet: Option<&'a QuietText>,
}

/// Compiled rules, built once and shared.
pub struct Scanner {
    rules: Vec<Arc<Rule>>,
    /// Allowlists of the rule files, over every rule.
    allowlists: Vec<Allowlist>,
    keywords: AhoCorasick,
    /// For each keyword pattern, the rules that use it.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules with no keywords: they run over every file.
    everywhere: Vec<usize>,
    /// Compiled on first use: most content wakes only a few rules.
    regexes: Vec<OnceLock<Regex>>,
    /// Whether no keyword spans a line break (a rule file may have one), so that the
    /// search may skip line-aligned text already searched (`QuietText`).
    line_keywords: bool,
}

/// The prefilter only wakes a rule (its regex decides), so a keyword's first bytes do the
/// job of the whole: cut to this length, the few hundred keywords make a DFA small enough to
/// stay in the CPU's cache, which every byte of every blob passes through.
const PREFILTER_KEYWORD_MAX: usize = 8;

fn prefilter_keyword(keyword: &str) -> String {
    let mut end = keyword.len().min(PREFILTER_KEYWORD_MAX);
    while !keyword.is_char_boundary(end) {
        end -= 1;
    }
    keyword[..end].to_string()
}

/// A line longer than this is scanned only in a window around each keyword hit.
const WINDOW: usize = 1024;
/// How far a private key block may extend past its BEGIN line.
const BLOCK_WINDOW: usize = 64 * 1024;
/// The inline pragma that suppresses a finding on its line.
pub const ALLOW_PRAGMA: &[u8] = b"auditor:allow";

impl Scanner {
    /// The built-in rules.
    pub fn new() -> Scanner {
        Scanner::build(builtin().to_vec(), Vec::new())
    }

    /// The built-in rules and those of rule files (gitleaks' format). A file's rules rank
    /// after the built-in provider rules and before the generic rule.
    pub fn with_rule_sets<'s>(sets: impl IntoIterator<Item = &'s RuleSet>) -> Scanner {
        let mut rules: Vec<Arc<Rule>> = builtin().to_vec();
        let at = rules
            .iter()
            .position(|r| r.id == "generic-secret")
            .unwrap_or(rules.len());
        let mut extra = Vec::new();
        let mut allowlists = Vec::new();
        for set in sets {
            extra.extend(set.rules.iter().cloned());
            allowlists.extend(set.allowlists.iter().cloned());
        }
        rules.splice(at..at, extra);
        Scanner::build(rules, allowlists)
    }

    fn build(rules: Vec<Arc<Rule>>, allowlists: Vec<Allowlist>) -> Scanner {
        let mut patterns: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut everywhere = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                everywhere.push(i);
            }
            for kw in &rule.keywords {
                let kw = prefilter_keyword(kw);
                if let Some(pos) = patterns.iter().position(|p| *p == kw) {
                    if !keyword_rules[pos].contains(&i) {
                        keyword_rules[pos].push(i);
                    }
                } else {
                    patterns.push(kw);
                    keyword_rules.push(vec![i]);
                }
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // The automatic choice gives a few hundred keywords an NFA, which steps every
            // byte of every blob through a state table lookup chain: a DFA is one lookup.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("keywords are literals and compile");
        let regexes = rules.iter().map(|_| OnceLock::new()).collect();
        let line_keywords = !patterns.iter().any(|p| p.contains('\n'));
        Scanner {
            line_keywords,
            rules,
            allowlists,
            keywords,
            keyword_rules,
            everywhere,
            regexes,
        }
    }

    /// Every rule, in rank order.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// Finds the secrets in `content`, in order of position, without duplicates.
    pub fn scan(&self, content: &[u8]) -> Vec<SecretMatch> {
        self.scan_with(content, Origin::default(), true)
    }

    /// Like `scan`, for a file at `origin`.
    pub fn scan_at(&self, content: &[u8], origin: Origin<'_>) -> Vec<SecretMatch> {
        self.scan_with(content, origin, true)
    }

    /// Like `scan`, for text on its way out of the auditor: an `auditor:allow` pragma on the
    /// line keeps a value out of the findings, never in plain sight.
    pub fn scan_outbound(&self, content: &[u8]) -> Vec<SecretMatch> {
        self.scan_with(content, Origin::default(), false)
    }

    /// The (window start, window end, rule) triples the prefilter wakes, deduplicated.
    fn work(&self, content: &[u8], origin: Origin<'_>) -> BTreeSet<(usize, usize, usize)> {
        let applies = |rule: &Rule| {
            rule.path
                .as_ref()
                .is_none_or(|p| origin.path.is_some_and(|path| p.is_match(path)))
        };
        let mut work = BTreeSet::new();
        for &i in &self.everywhere {
            if applies(&self.rules[i]) {
                work.insert((0, content.len(), i));
            }
        }
        let mut on_hit = |hit: aho_corasick::Match| {
            for &rule_idx in &self.keyword_rules[hit.pattern().as_usize()] {
                let rule = &self.rules[rule_idx];
                if !applies(rule) {
                    continue;
                }
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
        };
        match origin.quiet.filter(|_| self.line_keywords) {
            None => self
                .keywords
                .find_overlapping_iter(content)
                .for_each(on_hit),
            Some(quiet) => {
                for (start, end) in chunks(content) {
                    let tag = quiet.tag(&content[start..end]);
                    if quiet.is_quiet(tag) {
                        continue;
                    }
                    let mut any = false;
                    let chunk = aho_corasick::Input::new(content).range(start..end);
                    for hit in self.keywords.find_overlapping_iter(chunk) {
                        any = true;
                        on_hit(hit);
                    }
                    if !any {
                        quiet.remember(tag);
                    }
                }
            }
        }
        work
    }

    fn scan_with(
        &self,
        content: &[u8],
        origin: Origin<'_>,
        honour_pragmas: bool,
    ) -> Vec<SecretMatch> {
        let syntax = Syntax::of(origin.path);
        let mut found: Vec<SecretMatch> = Vec::new();
        for (start, end, rule_idx) in self.work(content, origin) {
            let rule = &self.rules[rule_idx];
            let window = &content[start..end];
            let regex = self.regexes[rule_idx].get_or_init(|| {
                Regex::new(&rule.regex).expect("rule regexes are checked when the rules load")
            });
            for caps in regex.captures_iter(window) {
                let Some((vs, ve)) = value_range(rule, &caps, window) else {
                    continue;
                };
                let (vs, ve) = (start + vs, start + ve);
                let Ok(value) = std::str::from_utf8(&content[vs..ve]) else {
                    continue;
                };
                if found.iter().any(|f| f.start < ve && vs < f.end) {
                    continue; // a provider rule already claimed this value
                }
                let assignment = Assignment {
                    host: text(caps.name("host")),
                    name: text(caps.name("name")),
                    quoted: caps.name("quote").is_some_and(|q| !q.is_empty()),
                    next: content.get(ve).copied(),
                    in_query: in_query(&caps, window),
                    syntax,
                };
                if !plausible(rule.validate, rule.min_entropy, value, &assignment)
                    || (honour_pragmas && line_has_pragma(content, vs))
                    || self.allowed(rule, content, vs, value, &caps, origin)
                {
                    continue;
                }
                found.push(SecretMatch {
                    rule: Arc::clone(rule),
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
        self.dedup_overlaps(&mut found);
        number_lines(content, &mut found);
        found
    }

    /// Whether a rule file's allowlist (the rule's own or a global one) covers the match.
    fn allowed(
        &self,
        rule: &Rule,
        content: &[u8],
        at: usize,
        value: &str,
        caps: &Captures<'_>,
        origin: Origin<'_>,
    ) -> bool {
        if rule.allowlists.is_empty() && self.allowlists.is_empty() {
            return false;
        }
        let (ls, le) = line_bounds(content, at);
        let line = String::from_utf8_lossy(&content[ls..le]);
        let whole = caps
            .get(0)
            .map(|m| String::from_utf8_lossy(m.as_bytes()))
            .unwrap_or_default();
        let candidate = Candidate {
            secret: value,
            whole: &whole,
            line: &line,
            path: origin.path,
            commit: origin.commit,
        };
        rule.allowlists
            .iter()
            .chain(&self.allowlists)
            .any(|a| a.allows(&candidate))
    }

    fn dedup_overlaps(&self, found: &mut Vec<SecretMatch>) {
        let rank = |m: &SecretMatch| {
            self.rules
                .iter()
                .position(|r| Arc::ptr_eq(r, &m.rule))
                .unwrap_or(usize::MAX)
        };
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
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

fn text<'h>(c: Option<Match<'h>>) -> Option<&'h str> {
    c.and_then(|c| std::str::from_utf8(c.as_bytes()).ok())
}

/// The value's range in `window`: gitleaks' `secretGroup`, else the group named `secret`,
/// else the first group that matched, else the whole match. In a query string
/// (`?token=abc&type=x`) a named value ends at the next parameter.
fn value_range(rule: &Rule, caps: &Captures<'_>, window: &[u8]) -> Option<(usize, usize)> {
    let m = match rule.secret_group {
        SecretGroup::Index(n) => caps.get(n),
        SecretGroup::Auto => caps
            .name("secret")
            .or_else(|| (1..caps.len()).find_map(|i| caps.get(i)))
            .or_else(|| caps.get(0)),
    }
    .filter(|m| !m.is_empty())?;
    if in_query(caps, window)
        && let Some(cut) = m.as_bytes().iter().position(|&b| b == b'&' || b == b'#')
    {
        return (cut >= 12).then_some((m.start(), m.start() + cut));
    }
    Some((m.start(), m.end()))
}

/// Whether the match's name is a query-string parameter (`?token=`, `&api_key=`).
fn in_query(caps: &Captures<'_>, window: &[u8]) -> bool {
    caps.name("name")
        .is_some_and(|n| n.start() > 0 && matches!(window[n.start() - 1], b'?' | b'&'))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=')
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Vec<(String, String, u32)> {
        Scanner::new()
            .scan(text.as_bytes())
            .into_iter()
            .map(|m| (m.rule.id.clone(), m.value, m.line))
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
        assert_eq!(found[0], ("aws-access-key-id".into(), aws, 2));
        assert_eq!(found[1], ("github-token".into(), gh, 3));
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
            ("gitlab-token", k(&["glpat-", "Ab3De5Gh7Jk9Mn1Pq3St"])),
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
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.Qm9uZ2xhcjRyb2Fkd2F5X3NpZ25hdHVyZTdk");
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
    fn every_rule_finds_its_positives_and_no_rule_reports_a_negative() {
        let scanner = Scanner::new();
        let mut failures = Vec::new();
        for (id, positives, negatives) in super::super::rules::builtin_examples() {
            if positives.is_empty() || negatives.is_empty() {
                failures.push(format!("{id}: needs a positive and a negative example"));
            }
            for text in &positives {
                let found = scanner.scan(format!("{text}\n").as_bytes());
                if !found
                    .iter()
                    .any(|m| m.rule.id == id && text.contains(&m.value))
                {
                    failures.push(format!("{id} misses its positive example: {found:?}"));
                }
            }
            for text in &negatives {
                let found = scanner.scan(format!("{text}\n").as_bytes());
                if !found.is_empty() {
                    failures.push(format!("{id}: negative {text:?} is reported: {found:?}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn text_already_searched_is_skipped_without_changing_a_result() {
        let scanner = Scanner::new();
        let quiet = QuietText::new();
        let at = |path| Origin {
            path: Some(path),
            quiet: Some(&quiet),
            ..Origin::default()
        };
        let plain: String = (0..3000)
            .map(|i| format!("fn step_{i}() {{ call({i}); }}\n"))
            .collect();
        let key = format!("AKIA{}", "QYLPMN5HHHFPZAM2");
        let secret = format!("aws_access_key_id = \"{key}\"\n");
        // A version with the key in the middle, after one without: the unchanged chunks are
        // skipped, the key is found.
        assert!(scanner.scan_at(plain.as_bytes(), at("src/a.rs")).is_empty());
        let middle = plain.len() / 2;
        let middle = middle + plain[middle..].find('\n').unwrap_or(0) + 1;
        let with_key = format!("{}{secret}{}", &plain[..middle], &plain[middle..]);
        let alone = scanner.scan(with_key.as_bytes());
        let skipping = scanner.scan_at(with_key.as_bytes(), at("src/a.rs"));
        assert_eq!(alone.len(), 1);
        assert_eq!(
            skipping
                .iter()
                .map(|m| (m.start, m.line))
                .collect::<Vec<_>>(),
            alone.iter().map(|m| (m.start, m.line)).collect::<Vec<_>>()
        );
        // A chunk with a keyword is never taken as searched: the same content again, the key
        // again.
        assert_eq!(
            scanner.scan_at(with_key.as_bytes(), at("src/b.rs")).len(),
            1
        );
    }

    #[test]
    fn the_generic_rule_reads_code() {
        let scanner = Scanner::new();
        let at = |path| Origin {
            path: Some(path),
            ..Origin::default()
        };
        let v = k(&["q8Zr4Lm2", "Xv7Pw1Ks9Tn3"]);
        // An unquoted identifier is a variable in Go, a literal in a .env file.
        let line = format!("DB_PASSWORD = {v}\n");
        assert!(scanner.scan_at(line.as_bytes(), at("main.go")).is_empty());
        assert_eq!(scanner.scan_at(line.as_bytes(), at(".env")).len(), 1);
        let quoted = format!("dbPassword := \"{v}\"\n");
        assert_eq!(scanner.scan_at(quoted.as_bytes(), at("main.go")).len(), 1);
    }

    #[test]
    fn an_assignment_in_documentation_is_an_example_and_a_pasted_url_is_not() {
        let scanner = Scanner::new();
        let at = |path| Origin {
            path: Some(path),
            ..Origin::default()
        };
        let v = k(&["q8Zr4Lm2", "Xv7Pw1Ks9Tn3"]);
        let assignment = format!("    SECRET_KEY = '{v}'\n");
        assert!(
            scanner
                .scan_at(assignment.as_bytes(), at("docs/config.rst"))
                .is_empty()
        );
        assert_eq!(
            scanner
                .scan_at(assignment.as_bytes(), at("app/settings.py"))
                .len(),
            1
        );
        let url = format!("[![Build](https://ci.acme.io/badge.svg?style=svg&circle-token={v})]\n");
        assert_eq!(scanner.scan_at(url.as_bytes(), at("README.md")).len(), 1);
        // Provider rules hold in documentation too.
        let token = k(&["ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"]);
        let doc = format!("export GITHUB_TOKEN={token}\n");
        assert_eq!(scanner.scan_at(doc.as_bytes(), at("README.md")).len(), 1);
    }

    #[test]
    fn a_query_string_value_ends_at_the_next_parameter() {
        let v = k(&["q8Zr4Lm2", "Xv7Pw1Ks9Tn3"]);
        let found = scan(&format!(
            "curl 'https://api.acme.io/v1?token={v}&type=vector'\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, v);
    }

    #[test]
    fn a_hex_key_under_a_secret_name_is_a_secret() {
        let v = k(&[
            "1c912bfe3519fb70",
            "f5dc523ecc698111",
            "cd43d81a1a2b3c4d",
            "5e6f708192a3b4c5",
        ]);
        let found = scan(&format!("$wgSecretKey = \"{v}\";\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "generic-secret");
    }

    #[test]
    fn rule_files_add_rules_and_allowlists() {
        let text = "[[rules]]\nid = \"acme\"\nregex = 'acme_[a-z0-9]{16}'\nkeywords = [\"acme_\"]\n\
                    [[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['fixture']\n";
        let set = super::super::rules::parse_rules(text, "acme.toml").expect("parses");
        let scanner = Scanner::with_rule_sets([&set]);
        let v = k(&["acme_", "q8zr4lm2xv7pw1ks"]);
        let found = scanner.scan(format!("key = {v}\n").as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule.id, "acme");
        assert!(
            scanner
                .scan(format!("key = {v} # fixture\n").as_bytes())
                .is_empty()
        );
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
