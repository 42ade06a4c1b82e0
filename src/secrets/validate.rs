//! Telling a secret from its look-alikes once a rule's regex matched: placeholders, documented
//! examples, templates, and, for the generic rule, code. Pure.
//!
//! The generic rule matches "a secret-looking name, an assignment, a value". In code most such
//! values are not literals at all: `SecretRef: &corev1.SecretEnvSource{` is a type,
//! `PullSecretBase64: pullSecretBase64,` a variable, `tokenFlag := "--token"` a flag name. A
//! value counts only when it is a literal that looks random and the name is one a credential
//! is kept under (`wgSecretKey`, `client_secret`, `DB_PASSWORD`), not one of its neighbours
//! (`tokenFlag`, `secretName`, `password_length`).

use super::rules::Validate;
use super::scanner::shannon_entropy;

/// Words that mark a value as a placeholder or documentation, not a credential.
const PLACEHOLDERS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
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
    "#{",
    "%s",
    "%(",
];

/// Values that providers and RFCs publish in their documentation, found in every tutorial.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    // jwt.io's default token and RFC 7515's example signatures.
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    // Stripe's documented test key.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    // The Azure storage emulator's published account key.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
];

/// The least entropy (bits per character) of a provider value whose rule sets none.
const PROVIDER_FLOOR: f64 = 2.5;

/// Where a match sits, for the generic rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// A programming language: an unquoted value is an expression, not a literal.
    Code,
    /// Configuration, shell or unknown: an unquoted value is a literal.
    Text,
    /// Documentation (Markdown, reStructuredText, AsciiDoc, man pages): an assignment there
    /// is an example of configuration, not configuration.
    Docs,
}

impl Syntax {
    /// The syntax of a file by its name.
    pub fn of(path: Option<&str>) -> Syntax {
        let Some(path) = path else {
            return Syntax::Text;
        };
        let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
        const CODE: &[&str] = &[
            "go", "py", "pyi", "js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "rs", "java", "kt",
            "kts", "scala", "groovy", "rb", "php", "c", "h", "cc", "cpp", "hpp", "cxx", "cs", "fs",
            "swift", "m", "mm", "dart", "lua", "ex", "exs", "erl", "hs", "ml", "clj", "cljs",
            "vue", "svelte", "zig", "nim", "jl", "r", "pl", "pm",
        ];
        const DOCS: &[&str] = &[
            "md", "markdown", "rst", "adoc", "asciidoc", "txt", "1", "5", "7",
        ];
        let ext = ext.to_ascii_lowercase();
        if CODE.contains(&ext.as_str()) {
            Syntax::Code
        } else if DOCS.contains(&ext.as_str()) {
            Syntax::Docs
        } else {
            Syntax::Text
        }
    }
}

/// What a match holds besides the value.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'a> {
    /// The host of a URL's credentials.
    pub host: Option<&'a str>,
    /// The name assigned to (`DB_PASSWORD`), when the rule captures one.
    pub name: Option<&'a str>,
    /// Whether the value was quoted.
    pub quoted: bool,
    /// The byte right after the value.
    pub next: Option<u8>,
    /// The name is a query-string parameter (`?token=`).
    pub in_query: bool,
    /// The file's syntax.
    pub syntax: Syntax,
}

/// Whether `value`, matched by a rule validated as `how`, is a credential.
pub fn plausible(
    how: Validate,
    min_entropy: Option<f64>,
    value: &str,
    assignment: &Assignment<'_>,
) -> bool {
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || DOCUMENTED_EXAMPLES.iter().any(|e| value.contains(e))
    {
        return false;
    }
    // A provider's format with a body of one repeated character (`whsec_000...`,
    // `sk_test_iiii...`) is a placeholder: every issued token measures far above this.
    let random_enough = shannon_entropy(value) >= min_entropy.unwrap_or(PROVIDER_FLOOR);
    match how {
        Validate::Provider => random_enough,
        Validate::UrlCredentials => {
            url_password(value, &lower) && !assignment.host.is_some_and(is_example_host)
        }
        Validate::Generic => generic(value, &lower, min_entropy.unwrap_or(3.5), assignment),
    }
}

/// What a template's placeholder opens with: `$PASSWORD`, `%s`, `{pw}`.
const TEMPLATE_OPENERS: [char; 3] = ['$', '%', '{'];

/// `user:$PASSWORD@host`, `user:{pw}@host`, `user:password@host`, `login:passwd-on-proxy@host`
/// are templates and documentation.
fn url_password(value: &str, lower: &str) -> bool {
    !(value.starts_with(TEMPLATE_OPENERS)
        || ["password", "pass", "passw", "passwd", "secret", "pwd", "token", "pw", "changeme"]
            .contains(&lower)
        // One lower-case word (`hunter`, `mypassword`) is documentation, not a credential.
        || value.bytes().all(|b| b.is_ascii_lowercase())
        || wordy(value)
        || typed_pattern(lower))
}

/// Words joined by separators (`login-on-proxy`, `__malloc--do_xmalloc--main`), not a
/// generator's output: most of the letters sit in segments that read as words.
fn wordy(value: &str) -> bool {
    let segments: Vec<&str> = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() < 2 {
        return false;
    }
    let total: usize = segments.iter().map(|s| s.len()).sum();
    let wordlike: usize = segments
        .iter()
        .filter(|s| s.len() >= 2 && word_segment(s))
        .map(|s| s.len())
        .sum();
    wordlike * 10 >= total * 6
}

/// `malloc`, `GLIBC`, `Template`, `cmd`: letters in one case, or capitalised, no digits.
fn word_segment(s: &str) -> bool {
    let b = s.as_bytes();
    let lower = b.iter().all(u8::is_ascii_lowercase);
    let upper = b.iter().all(u8::is_ascii_uppercase);
    let capital = b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase);
    lower || upper || capital
}

/// Hosts reserved for documentation and tests (RFC 2606, RFC 6761) and loopback.
fn is_example_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    ["example.com", "example.org", "example.net", "localhost"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|tld| host.ends_with(tld))
        || host.starts_with("127.")
        || PLACEHOLDER_HOSTS
            .iter()
            .any(|p| host.split('.').any(|label| label == *p))
}

/// Host names documentation and tests make up (`account.myservice.com`, `yourdomain.com`).
const PLACEHOLDER_HOSTS: &[&str] = &[
    "mydomain",
    "yourdomain",
    "myservice",
    "myserver",
    "yourserver",
    "myhost",
    "yourhost",
    "mycompany",
    "yourcompany",
    "domain",
    "hostname",
];

/// The words of a name: `wgSecretKey` → wg, secret, key; `DB_PASSWORD` → db, password.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Words a credential is kept under, alone or ending a compound (`dbpassword`, `authtoken`).
const SECRET_WORDS: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "credential",
    "credentials",
    "apikey",
    "accesskey",
    "authkey",
    "privatekey",
    "secretkey",
];

/// A bare `key` is a credential's name only after one of these.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "auth",
    "private",
    "secret",
    "client",
    "signing",
    "encryption",
    "master",
    "app",
    "service",
];

/// Words that, after the credential's word, make the name about something else: `tokenFlag`,
/// `SecretRef`, `secret_name`, `password_length`, `token_url`, `api_key_id`.
const NOT_THE_VALUE: &[&str] = &[
    "flag",
    "flags",
    "ref",
    "refs",
    "reference",
    "template",
    "name",
    "names",
    "type",
    "types",
    "kind",
    "length",
    "len",
    "size",
    "count",
    "id",
    "ids",
    "path",
    "file",
    "files",
    "dir",
    "url",
    "uri",
    "urls",
    "endpoint",
    "env",
    "var",
    "variable",
    "field",
    "label",
    "prefix",
    "suffix",
    "header",
    "param",
    "parameter",
    "regex",
    "pattern",
    "policy",
    "provider",
    "manager",
    "store",
    "source",
    "format",
    "mode",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "timeout",
    "max",
    "min",
    "placeholder",
    "hint",
    "prompt",
    "message",
    "msg",
    "error",
    "valid",
    "required",
    "enabled",
    "index",
    "idx",
    "mask",
    "hash",
    "hashed",
    "digest",
    "version",
    "limit",
    "offset",
    "list",
    "map",
    "set",
    "class",
    "table",
    "column",
    "key_id",
    "arn",
    "ttl",
    "location",
    "lifetime",
    "rotation",
    "scope",
    "scopes",
    "usage",
    "validator",
    "validation",
    "policy",
    "selector",
    "reader",
    "writer",
    "loader",
    "getter",
    "setter",
    "callback",
    "handler",
    "fn",
    "func",
    "spec",
    "struct",
    "config",
    "option",
    "options",
    "opts",
    "settings",
    "schema",
    "input",
    "output",
    "view",
    "widget",
    "form",
    "button",
    "dialog",
    "file",
    "filename",
    "mount",
];

/// Words that, before the credential's word, make the name about something else:
/// `getToken`, `isPassword`, `maxTokens`, `numSecrets`.
const NOT_THE_VALUE_BEFORE: &[&str] = &[
    "get", "set", "is", "has", "on", "new", "max", "min", "num", "count", "use", "show", "hide",
    "reset", "forgot", "confirm", "validate", "check", "parse", "read", "load", "fetch",
    "generate", "create", "update", "delete", "remove", "refresh", "verify", "no", "skip", "allow",
    "deny", "require", "with", "without",
];

/// Names a hash is kept under: a hex value there is a digest, not a key.
const HASH_WORDS: &[&str] = &[
    "hash",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "digest",
    "checksum",
    "commit",
    "etag",
    "fingerprint",
    "md5",
    "revision",
    "rev",
    "oid",
    "integrity",
    "nonce",
    "salt",
    "csrf",
];

/// Whether `name` is one a credential is kept under.
fn credential_name(name: &str) -> (bool, bool) {
    let words = words(name.trim_start_matches(['$', '@', '.']));
    let hashy = words.iter().any(|w| HASH_WORDS.contains(&w.as_str()));
    let at = words.iter().enumerate().rposition(|(i, w)| {
        SECRET_WORDS.iter().any(|s| w == s || w.ends_with(s))
            || (w == "key" && i > 0 && KEY_QUALIFIERS.contains(&words[i - 1].as_str()))
            || (w == "pw" || w == "pass")
    });
    let Some(at) = at else {
        return (false, hashy);
    };
    let after_ok = words[at + 1..]
        .iter()
        .all(|w| !NOT_THE_VALUE.contains(&w.as_str()));
    let before_ok = at == 0 || !NOT_THE_VALUE_BEFORE.contains(&words[at - 1].as_str());
    (after_ok && before_ok, hashy)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `self.token`, `config.api_key`, `certmanagerv1.CertificateSecretTemplate`: a dotted path.
fn is_dotted_identifier(value: &str) -> bool {
    value.contains('.') && value.split('.').all(is_identifier)
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

/// Runs a person types, not a generator: `aaaa`, `1234`, `abcd`, `abc123`.
fn typed_pattern(lower: &str) -> bool {
    let b = lower.as_bytes();
    let same = b.windows(4).any(|w| w.iter().all(|&c| c == w[0]));
    let ascending = b
        .windows(4)
        .any(|w| w.windows(2).all(|p| p[1] == p[0] + 1) && w[0].is_ascii_alphanumeric());
    same || ascending
        || [
            "abc123", "qwerty", "foobar", "lorem", "asdf", "hunter2", "letmein",
        ]
        .iter()
        .any(|p| lower.contains(p))
}

/// A base64 value whose text is words (`bmV3LXNlY3JldA==` is `new-secret`) is an encoded
/// placeholder; the text decides.
fn decoded_text(value: &str) -> Option<String> {
    let digits = value.trim_end_matches('=');
    if !value.len().is_multiple_of(4) || digits.len() < 8 {
        return None;
    }
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in digits.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(((bits >> n) & 0xff) as u8);
        }
    }
    let text = String::from_utf8(out).ok()?;
    text.chars()
        .all(|c| c.is_ascii_graphic() || c == ' ')
        .then_some(text)
}

/// The generic rule's test: a literal that looks random, under a credential's name.
fn generic(value: &str, lower: &str, min_entropy: f64, a: &Assignment<'_>) -> bool {
    let (named, hashy) = a.name.map_or((true, false), credential_name);
    // In documentation an assignment is an example (`SECRET_KEY = '192b...'` in a tutorial);
    // a URL someone pasted with its token in the query is not.
    if !named || (a.syntax == Syntax::Docs && !a.in_query) {
        return false;
    }
    let bare = value.trim_start_matches(['&', '*', '@', '!']);
    // Code: an unquoted value is an expression; a call, an index, a struct literal follow one.
    let expression = (a.syntax == Syntax::Code && !a.quoted && is_identifier(value))
        || value.len() != bare.len()
        || matches!(a.next, Some(b'(' | b'{' | b'['))
        || is_dotted_identifier(bare);
    let env_lookup = [
        "env",
        "getenv",
        "environ",
        "process.",
        "secrets.",
        "vault",
        "config.",
        "settings.",
        "os.",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        || value.starts_with(['$', '%']);
    let flag = value.starts_with('-');
    // The value names a credential instead of being one (`pullSecretBase64`, `--token`).
    let names_one = [
        "secret",
        "token",
        "passw",
        "apikey",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let lowercase_words = value
        .split(['.', ':', '/', '-', '_'])
        .all(|part| part.bytes().all(|b| b.is_ascii_lowercase()) || part.is_empty());
    let hex = is_hex(value);
    let digest =
        hex && (hashy || a.name.is_none()) && matches!(value.len(), 32 | 40 | 56 | 64 | 96 | 128);
    let path_or_url = ["/", "./", "../", "~/"]
        .iter()
        .any(|p| value.starts_with(p))
        || value.contains("://");
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = value.bytes().any(|b| b.is_ascii_alphabetic());
    // Base64 of words is an encoded placeholder; of `user:password`, the password decides.
    let encoded_words = decoded_text(value).is_some_and(|text| match text.split_once(':') {
        Some((_, password)) => {
            !url_password(password, &password.to_ascii_lowercase())
                || !generic(
                    password,
                    &password.to_ascii_lowercase(),
                    3.0,
                    &Assignment {
                        name: None,
                        quoted: true,
                        ..*a
                    },
                )
        }
        None => {
            let l = text.to_ascii_lowercase();
            names_one_in(&l)
                || PLACEHOLDERS.iter().any(|p| l.contains(p))
                || shannon_entropy(&text) < 3.0
        }
    });
    // Hex carries at most 4 bits a character: a random 32-hex key measures about 3.7.
    let needed = if hex {
        min_entropy.min(3.0)
    } else {
        min_entropy
    };
    !(expression
        || env_lookup
        || flag
        || names_one
        || lowercase_words
        || digest
        || path_or_url
        || is_uuid(value)
        || typed_pattern(lower)
        || wordy(value)
        || encoded_words
        || !has_digit
        || !has_alpha)
        && shannon_entropy(value) >= needed
}

fn names_one_in(lower: &str) -> bool {
    ["secret", "token", "passw", "key", "credential"]
        .iter()
        .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_in_every_case_style() {
        assert_eq!(words("wgSecretKey"), ["wg", "secret", "key"]);
        assert_eq!(words("DB_PASSWORD"), ["db", "password"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("PullSecretBase64"), ["pull", "secret", "base64"]);
    }

    #[test]
    fn credential_names_and_their_neighbours() {
        for name in [
            "wgSecretKey",
            "client_secret",
            "DB_PASSWORD",
            "authToken",
            "SECRET_KEY",
            "api_key",
            "apikey",
            "dbpassword",
            "aws.secret_access_key",
        ] {
            assert!(credential_name(name).0, "{name}");
        }
        for name in [
            "tokenFlag",
            "SecretRef",
            "SecretTemplate",
            "secret_name",
            "password_length",
            "TOKEN_URL",
            "api_key_id",
            "getToken",
            "maxTokens",
            "tokenizer",
            "keyboard",
        ] {
            assert!(!credential_name(name).0, "{name}");
        }
    }

    #[test]
    fn base64_of_words_is_text() {
        assert_eq!(
            decoded_text("bmV3LXNlY3JldA==").as_deref(),
            Some("new-secret")
        );
        assert_eq!(decoded_text("c2VjcmV0"), Some("secret".into()));
        assert!(decoded_text("q8Zr4Lm2Xv7Pw1Ks9Tn3").is_none());
    }

    #[test]
    fn words_joined_are_not_random() {
        assert!(wordy(
            "__interceptor_malloc--do_xmalloc--cmd_main--main@GLIBC_2.2.5--_start"
        ));
        assert!(wordy("login-on-proxy"));
        assert!(wordy("app-db-credentials-v2"));
        assert!(!wordy("q8Zr4Lm2-Xv7Pw1Ks9Tn3"));
        assert!(!wordy("q8Zr4Lm2Xv7Pw1Ks9Tn3"));
    }

    #[test]
    fn typed_patterns() {
        assert!(typed_pattern("abc1234defgh"));
        assert!(typed_pattern("passaaaa1"));
        assert!(!typed_pattern("q8zr4lm2xv7pw1ks9tn3"));
    }

    #[test]
    fn syntax_by_extension() {
        assert_eq!(Syntax::of(Some("plugins/x/template.go")), Syntax::Code);
        assert_eq!(Syntax::of(Some(".env")), Syntax::Text);
        assert_eq!(Syntax::of(Some("config.yaml")), Syntax::Text);
        assert_eq!(Syntax::of(None), Syntax::Text);
        assert_eq!(Syntax::of(Some("docs/config.rst")), Syntax::Docs);
    }
}
