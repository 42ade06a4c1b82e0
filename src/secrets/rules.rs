//! The rules: what a rule is, the built-in set (`rules.toml`, compiled in), and rule files in
//! gitleaks' format, so that a team keeps the rules it has.
//!
//! One format for both: gitleaks' `[[rules]]` (`id`, `description`, `regex`, `secretGroup`,
//! `entropy`, `keywords`, `path`, `allowlists`) and its global `[[allowlists]]`, plus a few
//! keys of ours (`revoke`, `remediation`, `validate`, `multiline`, and the `positive` and
//! `negative` examples every built-in rule carries for its unit tests). Pure: text in, rules out.

use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde::Deserialize;

/// The built-in rules, as shipped.
const BUILTIN: &str = include_str!("rules.toml");

/// How a rule's values are told from look-alikes, beyond its regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validate {
    /// A provider's own format: the regex is the test (plus placeholders).
    Provider,
    /// A secret-looking name with a value: the value must be a literal that looks random,
    /// not code (see `generic`).
    Generic,
    /// `scheme://user:password@host`: not a template, not an example host.
    UrlCredentials,
}

/// Which capture of a rule's regex is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretGroup {
    /// The group named `secret`, else the first group that matched, else the whole match.
    Auto,
    /// gitleaks' `secretGroup = N`.
    Index(usize),
}

/// What an allowlist's regexes are matched against (gitleaks' `regexTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    /// The secret value (the default).
    Secret,
    /// The whole regex match.
    Match,
    /// The line holding the match.
    Line,
}

/// A gitleaks allowlist: a match it covers is not a finding.
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// What the allowlist is for.
    pub description: String,
    /// Every given criterion must hold (`condition = "AND"`), else any one.
    pub all: bool,
    /// Regexes over `target`.
    pub regexes: Vec<Regex>,
    /// What `regexes` look at.
    pub target: RegexTarget,
    /// Regexes over the file's path.
    pub paths: Vec<Regex>,
    /// Lower-case words; a secret containing one is allowed.
    pub stopwords: Vec<String>,
    /// Commit ids (full or abbreviated).
    pub commits: Vec<String>,
}

/// What a match is tested against an allowlist with.
pub struct Candidate<'a> {
    /// The secret value.
    pub secret: &'a str,
    /// The whole regex match.
    pub whole: &'a str,
    /// The line (or, for a block, its first line).
    pub line: &'a str,
    /// The file's path, when the content is a file.
    pub path: Option<&'a str>,
    /// The commit, when there is one.
    pub commit: Option<&'a str>,
}

impl Allowlist {
    /// What it allows, in one line, for the supervision record (a wider allowlist is a
    /// weakening the operator sees).
    pub fn describe(&self) -> String {
        let list = |v: &[Regex]| v.iter().map(Regex::as_str).collect::<Vec<_>>().join(" | ");
        format!(
            "{} {:?} regexes [{}] paths [{}] stopwords [{}] commits [{}]",
            if self.all { "AND" } else { "OR" },
            self.target,
            list(&self.regexes),
            list(&self.paths),
            self.stopwords.join(" | "),
            self.commits.join(" | ")
        )
    }

    /// Whether this allowlist covers `c`.
    pub fn allows(&self, c: &Candidate<'_>) -> bool {
        let target = match self.target {
            RegexTarget::Secret => c.secret,
            RegexTarget::Match => c.whole,
            RegexTarget::Line => c.line,
        };
        let lower = c.secret.to_ascii_lowercase();
        let mut verdicts: Vec<bool> = Vec::with_capacity(4);
        if !self.regexes.is_empty() {
            verdicts.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.paths.is_empty() {
            verdicts.push(
                c.path
                    .is_some_and(|p| self.paths.iter().any(|r| r.is_match(p))),
            );
        }
        if !self.stopwords.is_empty() {
            verdicts.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        if !self.commits.is_empty() {
            verdicts.push(c.commit.is_some_and(|id| {
                self.commits
                    .iter()
                    .any(|a| !a.is_empty() && (id.starts_with(a.as_str()) || a.starts_with(id)))
            }));
        }
        if self.all {
            !verdicts.is_empty() && verdicts.iter().all(|v| *v)
        } else {
            verdicts.iter().any(|v| *v)
        }
    }
}

/// One detection rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable rule ID (`aws-access-key-id`).
    pub id: String,
    /// What it detects, for humans.
    pub title: String,
    /// Lower-case keywords; the rule runs only near one of them (none: on every file).
    pub keywords: Vec<String>,
    /// The regex, as written.
    pub regex: String,
    /// Which capture is the value.
    pub secret_group: SecretGroup,
    /// Minimum Shannon entropy (bits per character) of the value, when set.
    pub min_entropy: Option<f64>,
    /// How to fix a leak of this kind: where to revoke it, then how to keep it out.
    pub remediation: String,
    /// The same, for a value written in the working tree and not committed yet.
    pub remediation_written: String,
    /// Whether the match spans lines (private key blocks).
    pub multiline: bool,
    /// How values are told from look-alikes.
    pub validate: Validate,
    /// The rule applies only to files whose path matches (gitleaks' `path`).
    pub path: Option<Regex>,
    /// Matches these cover are not findings.
    pub allowlists: Vec<Allowlist>,
    /// Where the rule comes from: `built-in`, or the rule file's path.
    pub origin: String,
}

/// What a rule file holds: its rules and the allowlists that apply to every rule.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    /// The rules, in file order.
    pub rules: Vec<Arc<Rule>>,
    /// Global allowlists (gitleaks' top-level `[allowlist]` / `[[allowlists]]`).
    pub allowlists: Vec<Allowlist>,
    /// Rules the file holds that cannot run here (gitleaks' path-only rules), by ID.
    pub skipped: Vec<String>,
}

/// A rule file that cannot be used, with the byte offset at fault when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RuleFileError {
    /// Byte offset in the file's text.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)]
    title: Option<String>,
    #[serde(rename = "minVersion")]
    #[allow(dead_code)]
    min_version: Option<String>,
    extend: Option<toml::Spanned<RawExtend>>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    rules: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtend {
    #[serde(rename = "useDefault")]
    #[allow(dead_code)]
    use_default: Option<bool>,
    path: Option<String>,
    #[serde(rename = "disabledRules")]
    #[allow(dead_code)]
    disabled_rules: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    description: Option<String>,
    regex: Option<toml::Spanned<String>>,
    #[serde(rename = "secretGroup")]
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<toml::Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    tags: Vec<String>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    // Ours.
    revoke: Option<String>,
    remediation: Option<String>,
    validate: Option<String>,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    positive: Vec<Vec<String>>,
    #[serde(default)]
    negative: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    description: Option<String>,
    condition: Option<String>,
    #[serde(default)]
    regexes: Vec<toml::Spanned<String>>,
    #[serde(rename = "regexTarget")]
    regex_target: Option<String>,
    #[serde(default)]
    paths: Vec<toml::Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
}

const LOAD_AT_RUN_TIME: &str = "Then load it at run time from the environment or a secret \
manager (e.g. `os.environ[\"NAME\"]`, `std::env::var(\"NAME\")`, `$NAME`) and keep the value out \
of the repository";
/// A committed value stays in the history.
const IN_HISTORY: &str =
    ": removing it from the file does not un-leak it, it is in the git history.";
/// A value not committed yet can still be kept out of it.
const BEFORE_COMMIT: &str =
    "Remove the value before you commit: once committed it stays in the history.";

/// The remediation of a rule that names where to revoke, or says it plainly; for a committed
/// value (`committed`), or one written in the working tree.
fn remediation(title: &str, revoke: Option<&str>, own: Option<&str>, committed: bool) -> String {
    let fix = match (own, revoke) {
        (Some(text), _) => text.to_string(),
        (None, Some(place)) => format!("Revoke this {title} now ({place}). {LOAD_AT_RUN_TIME}"),
        (None, None) => {
            format!("Revoke or rotate this {title} now at its issuer. {LOAD_AT_RUN_TIME}")
        }
    };
    match (committed, own.is_some()) {
        (true, true) => fix,
        (true, false) => format!("{fix}{IN_HISTORY}"),
        // Not in the history yet, but it may have been copied elsewhere already.
        (false, true) => format!("{BEFORE_COMMIT} {fix}"),
        (false, false) => {
            format!("{BEFORE_COMMIT} {fix}: it may have been copied elsewhere already.")
        }
    }
}

fn compile(source: &toml::Spanned<String>, what: &str) -> Result<Regex, RuleFileError> {
    Regex::new(source.get_ref()).map_err(|e| RuleFileError {
        offset: Some(source.span().start),
        message: format!("invalid regex in {what}: {e}"),
    })
}

fn allowlist(raw: RawAllowlist, what: &str) -> Result<Allowlist, RuleFileError> {
    let all = match raw
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => {
            return Err(RuleFileError {
                offset: None,
                message: format!("{what}: condition must be \"OR\" or \"AND\", not {other:?}"),
            });
        }
    };
    let target = match raw.regex_target.as_deref() {
        None | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => {
            return Err(RuleFileError {
                offset: None,
                message: format!(
                    "{what}: regexTarget must be \"secret\", \"match\" or \"line\", not {other:?}"
                ),
            });
        }
    };
    Ok(Allowlist {
        description: raw.description.unwrap_or_default(),
        all,
        regexes: raw
            .regexes
            .iter()
            .map(|r| compile(r, what))
            .collect::<Result<_, _>>()?,
        target,
        paths: raw
            .paths
            .iter()
            .map(|r| compile(r, what))
            .collect::<Result<_, _>>()?,
        stopwords: raw
            .stopwords
            .iter()
            .map(|w| w.to_ascii_lowercase())
            .collect(),
        commits: raw.commits,
    })
}

/// Parses a rule file. `origin` names it in the rules it yields.
pub fn parse_rules(text: &str, origin: &str) -> Result<RuleSet, RuleFileError> {
    parse(text, origin, true)
}

/// With `check_regexes`, each rule's regex is compiled once to find errors before any scan.
/// The built-in rules skip it (their test compiles every one): compiling 156 regexes would
/// cost every process a few hundred milliseconds, and the scanner compiles only those a
/// keyword wakes.
fn parse(text: &str, origin: &str, check_regexes: bool) -> Result<RuleSet, RuleFileError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| RuleFileError {
        offset: e.span().map(|s| s.start),
        message: e.message().to_string(),
    })?;
    if let Some(extend) = &raw.extend
        && extend.get_ref().path.is_some()
    {
        return Err(RuleFileError {
            offset: Some(extend.span().start),
            message: "[extend] path is not supported: list every rule file in \
                      [secrets] rules instead (the built-in rules are always on)"
                .into(),
        });
    }
    let mut set = RuleSet::default();
    for (i, a) in raw.allowlist.into_iter().chain(raw.allowlists).enumerate() {
        set.allowlists
            .push(allowlist(a, &format!("global allowlist {}", i + 1))?);
    }
    let mut seen = std::collections::BTreeSet::new();
    for spanned in raw.rules {
        let at = spanned.span().start;
        let r = spanned.into_inner();
        if !seen.insert(r.id.clone()) {
            return Err(RuleFileError {
                offset: Some(at),
                message: format!("rule `{}` is defined twice", r.id),
            });
        }
        let Some(regex) = r.regex else {
            // gitleaks' path-only rules flag a file by its name; the guards' SENSITIVE_FILE
            // does that here.
            set.skipped.push(r.id);
            continue;
        };
        let what = format!("rule `{}`", r.id);
        let groups = if check_regexes {
            compile(&regex, &what)?.captures_len()
        } else {
            usize::MAX
        };
        if let Some(n) = r.secret_group
            && n >= groups
        {
            return Err(RuleFileError {
                offset: Some(regex.span().start),
                message: format!(
                    "{what}: secretGroup = {n}, but the regex has {} groups",
                    groups - 1
                ),
            });
        }
        let validate = match r.validate.as_deref() {
            None | Some("provider") => Validate::Provider,
            Some("generic") => Validate::Generic,
            Some("url-credentials") => Validate::UrlCredentials,
            Some(other) => {
                return Err(RuleFileError {
                    offset: Some(at),
                    message: format!(
                        "{what}: validate must be \"provider\", \"generic\" or \"url-credentials\", not {other:?}"
                    ),
                });
            }
        };
        let title = r.description.unwrap_or_else(|| r.id.clone());
        let mut allowlists = Vec::new();
        for (i, a) in r.allowlist.into_iter().chain(r.allowlists).enumerate() {
            allowlists.push(allowlist(a, &format!("{what} allowlist {}", i + 1))?);
        }
        let _ = (&r.positive, &r.negative); // read by the built-in rules' tests
        set.rules.push(Arc::new(Rule {
            remediation: remediation(&title, r.revoke.as_deref(), r.remediation.as_deref(), true),
            remediation_written: remediation(
                &title,
                r.revoke.as_deref(),
                r.remediation.as_deref(),
                false,
            ),
            id: r.id,
            title,
            keywords: r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            regex: regex.into_inner(),
            secret_group: r.secret_group.map_or(SecretGroup::Auto, SecretGroup::Index),
            min_entropy: r.entropy.filter(|e| *e > 0.0),
            multiline: r.multiline,
            validate,
            path: r.path.as_ref().map(|p| compile(p, &what)).transpose()?,
            allowlists,
            origin: origin.to_string(),
        }));
    }
    Ok(set)
}

/// The built-in rules, provider rules first (they win over the generic rule on one value).
pub fn builtin() -> &'static [Arc<Rule>] {
    static RULES: OnceLock<Vec<Arc<Rule>>> = OnceLock::new();
    RULES.get_or_init(|| {
        parse(BUILTIN, "built-in", false)
            .map(|set| set.rules)
            .unwrap_or_else(|e| panic!("the built-in rules parse: {e}"))
    })
}

/// The built-in rules' examples, for their tests: (rule id, positives, negatives). A positive
/// is written in pieces so that no file of ours holds a whole token.
#[cfg(test)]
pub fn builtin_examples() -> Vec<(String, Vec<String>, Vec<String>)> {
    let raw: RawFile = toml::from_str(BUILTIN).expect("built-in rules parse");
    raw.rules
        .into_iter()
        .map(|r| {
            let r = r.into_inner();
            (
                r.id,
                r.positive.iter().map(|p| p.concat()).collect(),
                r.negative,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_parse_and_compile() {
        let rules = builtin();
        assert!(rules.len() >= 100, "{} rules", rules.len());
        for rule in rules {
            assert!(Regex::new(&rule.regex).is_ok(), "{}", rule.id);
            assert!(
                !rule.keywords.is_empty(),
                "{}: a built-in rule needs keywords",
                rule.id
            );
            for k in &rule.keywords {
                assert!(k.len() >= 3, "{}: keyword {k:?} is too short", rule.id);
            }
        }
    }

    #[test]
    fn a_gitleaks_rule_file_loads() {
        let text = r#"
title = "team rules"
[extend]
useDefault = true

[[rules]]
id = "acme-key"
description = "ACME internal key"
regex = '''(?i)acme[_-]?key\s*=\s*['"]?(acme_[a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME"]
tags = ["internal"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''fixture''']
stopwords = ["dummy"]

[[rules]]
id = "pkcs12-file"
path = '''\.p12$'''

[allowlist]
paths = ['''^vendor/''']
"#;
        let set = parse_rules(text, "team.toml").expect("parses");
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.skipped, ["pkcs12-file"]);
        let rule = &set.rules[0];
        assert_eq!(rule.keywords, ["acme"]);
        assert_eq!(rule.secret_group, SecretGroup::Index(1));
        assert_eq!(rule.allowlists[0].target, RegexTarget::Line);
        assert_eq!(set.allowlists.len(), 1);
        assert!(rule.remediation.contains("ACME internal key"));
    }

    #[test]
    fn rule_file_errors_say_where() {
        let bad_regex = "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n";
        let e = parse_rules(bad_regex, "f").expect_err("bad regex");
        assert_eq!(e.offset, Some(bad_regex.find("'''").expect("quote")));
        assert!(e.message.contains("rule `x`"), "{}", e.message);
        let unknown = "[[rules]]\nid = \"x\"\nregexx = 'a'\n";
        let e = parse_rules(unknown, "f").expect_err("unknown key");
        assert!(e.message.contains("regexx"), "{}", e.message);
        assert!(e.offset.is_some());
        let group = "[[rules]]\nid = \"x\"\nregex = 'a(b)'\nsecretGroup = 2\n";
        assert!(parse_rules(group, "f").is_err());
    }

    #[test]
    fn allowlist_conditions() {
        let list = |all| Allowlist {
            description: String::new(),
            all,
            regexes: vec![Regex::new("^abc").expect("re")],
            target: RegexTarget::Secret,
            paths: vec![Regex::new("test").expect("re")],
            stopwords: Vec::new(),
            commits: Vec::new(),
        };
        let c = Candidate {
            secret: "abcdef",
            whole: "k=abcdef",
            line: "k=abcdef",
            path: Some("src/main.rs"),
            commit: None,
        };
        assert!(list(false).allows(&c));
        assert!(!list(true).allows(&c));
    }
}
