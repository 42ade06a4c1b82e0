//! The rules: credentials real providers issue, private keys, URL credentials, JWTs, and a
//! generic rule for high-entropy values assigned to secret-looking names.

/// One detection rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable rule ID (`aws-access-key-id`).
    pub id: &'static str,
    /// What it detects, for humans.
    pub title: &'static str,
    /// Lower-case keywords; the rule runs only near one of them.
    pub keywords: &'static [&'static str],
    /// The regex; its `secret` group (or the whole match) is the value.
    pub regex: &'static str,
    /// Minimum Shannon entropy (bits per character) of the value, when set.
    pub min_entropy: Option<f64>,
    /// How to fix a leak of this kind.
    pub remediation: &'static str,
    /// Whether the match spans lines (private key blocks).
    pub multiline: bool,
}

const ROTATE: &str = "Revoke or rotate this credential now at its provider: it is in the git history, \
and removing it from the file does not un-leak it. Then load it at run time from the environment \
or a secret manager (e.g. `os.environ[\"NAME\"]`, `std::env::var(\"NAME\")`, `$NAME`) and keep \
the value out of the repository.";

macro_rules! rule {
    ($id:literal, $title:literal, [$($kw:literal),+], $re:literal) => {
        Rule {
            id: $id,
            title: $title,
            keywords: &[$($kw),+],
            regex: $re,
            min_entropy: None,
            remediation: ROTATE,
            multiline: false,
        }
    };
}

/// Every rule, provider rules first (they win over the generic rule on the same value).
pub static RULES: &[Rule] = &[
    rule!(
        "aws-access-key-id",
        "AWS access key ID",
        ["akia", "asia", "abia", "acca"],
        r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b"
    ),
    rule!(
        "aws-secret-access-key",
        "AWS secret access key",
        ["aws"],
        r#"(?i)aws_?(?:secret)?_?(?:access)?_?key["']?\s*(?:[:=]|=>)\s*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#
    ),
    rule!(
        "github-token",
        "GitHub token",
        ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        ["github_pat_"],
        r"\b(?P<secret>github_pat_[A-Za-z0-9_]{82})\b"
    ),
    rule!(
        "gitlab-pat",
        "GitLab personal access token",
        ["glpat-"],
        r"\b(?P<secret>glpat-[A-Za-z0-9_-]{20,})"
    ),
    rule!(
        "slack-token",
        "Slack token",
        ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"],
        r"\b(?P<secret>xox[bparse]-[0-9A-Za-z-]{10,250})"
    ),
    rule!(
        "slack-webhook",
        "Slack incoming webhook URL",
        ["hooks.slack.com"],
        r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,})"
    ),
    rule!(
        "stripe-key",
        "Stripe secret or restricted key",
        [
            "sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"
        ],
        r"\b(?P<secret>[rs]k_(?:live|test|prod)_[A-Za-z0-9]{16,99})\b"
    ),
    rule!(
        "openai-api-key",
        "OpenAI API key",
        ["t3blbkfj", "sk-proj-", "sk-svcacct-", "sk-admin-"],
        r"\b(?P<secret>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}))"
    ),
    rule!(
        "anthropic-api-key",
        "Anthropic API key",
        ["sk-ant-"],
        r"\b(?P<secret>sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,})"
    ),
    rule!(
        "google-api-key",
        "Google API key",
        ["aiza"],
        r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)"
    ),
    rule!(
        "npm-token",
        "npm access token",
        ["npm_"],
        r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "pypi-token",
        "PyPI upload token",
        ["pypi-ageichlwas5vcmc"],
        r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"
    ),
    rule!(
        "huggingface-token",
        "Hugging Face access token",
        ["hf_"],
        r"\b(?P<secret>hf_[A-Za-z]{34})\b"
    ),
    rule!(
        "sendgrid-api-key",
        "SendGrid API key",
        ["sg."],
        r"\b(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})\b"
    ),
    rule!(
        "telegram-bot-token",
        "Telegram bot token",
        [":aa"],
        r"\b(?P<secret>[0-9]{8,10}:AA[0-9A-Za-z_-]{33})\b"
    ),
    rule!(
        "digitalocean-token",
        "DigitalOcean token",
        ["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(?P<secret>do[opr]_v1_[a-f0-9]{64})\b"
    ),
    rule!(
        "shopify-token",
        "Shopify access token",
        ["shpat_", "shpca_", "shppa_", "shpss_"],
        r"\b(?P<secret>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b"
    ),
    Rule {
        id: "private-key",
        title: "Private key",
        // `gpg --armor --export-secret-keys` writes a "PRIVATE KEY BLOCK".
        keywords: &["private key-----", "private key block-----"],
        regex: r"(?P<secret>-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)",
        min_entropy: None,
        remediation: "Treat the key as compromised: revoke it and issue a new one (remove its public half from \
every authorized_keys, certificate or service that trusts it). Keep private keys out of the repository: \
load them from a secret manager or a file outside the tree, and add the path to .gitignore.",
        multiline: true,
    },
    Rule {
        id: "url-credentials",
        title: "Password in a URL",
        keywords: &["://"],
        regex: r#"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^:/?#\s@'"]{1,64}:(?P<secret>[^@/?#\s'"]{3,128})@(?P<host>[A-Za-z0-9.-]+)"#,
        min_entropy: None,
        remediation: "Rotate the password, then build the URL at run time from an environment variable \
(e.g. `DATABASE_URL`) instead of writing the credentials into it.",
        multiline: false,
    },
    Rule {
        id: "jwt",
        title: "JSON Web Token",
        keywords: &["eyj"],
        regex: r"\b(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})",
        min_entropy: None,
        remediation: "A signed token grants access until it expires: revoke it (or rotate its signing key), \
and obtain tokens at run time instead of committing them. In tests, mint tokens with a test-only key.",
        multiline: false,
    },
    Rule {
        id: "generic-secret",
        title: "High-entropy secret assigned to a secret-looking name",
        keywords: &[
            "secret",
            "token",
            "passw",
            "pwd",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "auth_key",
            "credential",
            "private_key",
        ],
        regex: r#"(?i)(?:^|[^A-Za-z0-9])[A-Za-z0-9_.-]*(?:secret|token|passwd|password|pwd|api_?key|api-key|access_?key|auth_?key|private_?key|credentials?)[A-Za-z0-9_.-]*["']?\s*(?:=|:=|:|=>|\?=)\s*["'`]?(?P<secret>[^\s"'`;,)(\]\[{}<>\\]{12,200})"#,
        min_entropy: Some(3.5),
        remediation: ROTATE,
        multiline: false,
    },
];
