//! The guards' rules: IDs, default severities, what each means and how to fix it; and the
//! rules decided from a file's path and size rather than its content.

use super::ci::ci_definition;
use super::{CommitRef, FileChange, GuardSettings, text};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::FileStatus;

/// A guard's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A skip, ignore or focus marker added to a test.
    TestDisabled,
    /// Tests deleted without replacement.
    TestDeleted,
    /// Assertions dropped, or replaced by a constant truth.
    AssertionRemoved,
    /// The supervision, the CI or the test runner changed.
    SupervisionTampering,
    /// Merge conflict markers.
    ConflictMarker,
    /// Stubs where code should be.
    StubCode,
    /// Credentials files.
    SensitiveFile,
    /// Large or binary blobs.
    LargeFile,
    /// Debug output in library code.
    DebugLeftover,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 9] = [
        Rule::TestDisabled,
        Rule::TestDeleted,
        Rule::AssertionRemoved,
        Rule::SupervisionTampering,
        Rule::ConflictMarker,
        Rule::StubCode,
        Rule::SensitiveFile,
        Rule::LargeFile,
        Rule::DebugLeftover,
    ];

    /// The rule ID (also the issue type).
    pub fn id(self) -> &'static str {
        self.issue_type().as_str()
    }

    /// Parses a rule ID.
    pub fn parse(id: &str) -> Option<Rule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(id))
    }

    /// The issue type its findings have.
    pub fn issue_type(self) -> IssueType {
        match self {
            Rule::TestDisabled => IssueType::TestDisabled,
            Rule::TestDeleted => IssueType::TestDeleted,
            Rule::AssertionRemoved => IssueType::AssertionRemoved,
            Rule::SupervisionTampering => IssueType::SupervisionTampering,
            Rule::ConflictMarker => IssueType::ConflictMarker,
            Rule::StubCode => IssueType::StubCode,
            Rule::SensitiveFile => IssueType::SensitiveFile,
            Rule::LargeFile => IssueType::LargeFile,
            Rule::DebugLeftover => IssueType::DebugLeftover,
        }
    }

    /// Its severity unless `[guards] severity` re-ranks it.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::SupervisionTampering | Rule::ConflictMarker | Rule::SensitiveFile => {
                Severity::Critical
            }
            Rule::TestDisabled | Rule::TestDeleted => Severity::High,
            Rule::AssertionRemoved | Rule::StubCode | Rule::LargeFile => Severity::Medium,
            Rule::DebugLeftover => Severity::Low,
        }
    }

    /// What its issues are, in one line.
    pub fn title(self) -> &'static str {
        match self {
            Rule::TestDisabled => "A test was disabled (skip, ignore or focus marker added)",
            Rule::TestDeleted => "Tests were deleted",
            Rule::AssertionRemoved => "A test's assertions were weakened",
            Rule::SupervisionTampering => "The supervision was tampered with",
            Rule::ConflictMarker => "Merge conflict markers were committed",
            Rule::StubCode => "A stub stands where code should be",
            Rule::SensitiveFile => "A credentials file was added",
            Rule::LargeFile => "A large or binary file was added",
            Rule::DebugLeftover => "Debug output was left in library code",
        }
    }

    /// How to fix its issues.
    pub fn remediation(self) -> &'static str {
        match self {
            Rule::TestDisabled => {
                "Remove the marker and make the test pass by fixing the code it tests. A skipped or focused test stops checking anything; if it truly cannot run here, say why in the commit and ask the operator to acknowledge it (`auditor inbox ack`)."
            }
            Rule::TestDeleted => {
                "Restore the tests, or replace them with tests that check the same behaviour, in the same commit. Deleting a failing test hides the failure; it does not fix it."
            }
            Rule::AssertionRemoved => {
                "Restore the assertions (or assert something at least as strong). A test that asserts a constant truth or fewer things passes without checking the behaviour."
            }
            Rule::SupervisionTampering => {
                "Revert this change. The supervisor's configuration, inbox, state and the CI and test runner are not the agent's to edit; if a change there is really needed, leave it to the operator."
            }
            Rule::ConflictMarker => {
                "Resolve the conflict: keep the right side, delete the `<<<<<<<`, `=======` and `>>>>>>>` lines, build and test, and commit the result."
            }
            Rule::StubCode => {
                "Implement the function (or remove it if nothing needs it). A stub compiles and passes shallow tests but does nothing."
            }
            Rule::SensitiveFile => {
                "Remove the file from the repository, add it to `.gitignore`, and rotate every credential it held: it stays in the history. Load secrets at run time instead."
            }
            Rule::LargeFile => {
                "Keep large and binary artefacts out of the repository (build outputs, datasets, archives): generate them, download them, or use Git LFS for real assets."
            }
            Rule::DebugLeftover => {
                "Remove the debug output, or use the project's logging at an appropriate level."
            }
        }
    }
}

/// A finding of `rule` in `path`.
pub fn finding(
    rule: Rule,
    severity: Severity,
    path: &str,
    line: Option<u32>,
    detail: String,
    snippet: Option<String>,
    commit: &str,
) -> Finding {
    let mut f = Finding {
        check: "guards".into(),
        rule: rule.id().into(),
        issue_type: rule.issue_type(),
        severity,
        file: Some(path.to_string()),
        line,
        column: None,
        title: rule.title().into(),
        description: format!("{}: {detail}.", rule.title()),
        remediation: rule.remediation().into(),
        snippet,
        location: Location::Introduced,
        commit: Some(commit.to_string()),
        fingerprint: String::new(),
        redacted: None,
    };
    f.fingerprint = crate::policy::fingerprint(&f, Some(&detail));
    f
}

/// A finding of `rule` about a mark in `path`: its identity is the mark's shape (what it is
/// and which test it concerns), not its wording, so a reworded marker is the same issue.
pub fn mark_finding(
    rule: Rule,
    severity: Severity,
    path: &str,
    mark: &super::Mark,
    detail: String,
    commit: &str,
) -> Finding {
    let mut f = finding(rule, severity, path, Some(mark.line), detail, None, commit);
    f.fingerprint = crate::policy::fingerprint(&f, Some(&mark.shape));
    f
}

/// The LOW finding that reports a pre-existing pragma silencing `f`.
pub fn suppressed(f: &Finding, pragma_line: u32, commit: &str) -> Finding {
    let mut s = f.clone();
    s.issue_type = IssueType::GuardSuppressed;
    s.severity = Severity::Low;
    s.rule = format!("allow:{}", f.rule);
    s.title = format!("{} (suppressed by a pragma)", f.title);
    s.description = format!(
        "{} An `auditor:allow({})` pragma on line {pragma_line} silences it.",
        f.description, f.rule
    );
    s.remediation =
        "Check that the pragma's reason still holds; remove it when it does not.".into();
    s.commit = Some(commit.to_string());
    s
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Files named like keys that may hold only public material (certificates, CA bundles,
/// Diffie-Hellman parameters): sensitive only when a private key is in them.
const PEM_NAMES: [&str; 3] = [".pem", ".key", ".crt"];

/// Folders of test fixtures: an environment file there is a fixture (a secret in it is still
/// found by the secret scanner).
fn in_fixtures(path: &str) -> bool {
    super::is_test_path(path)
        || path.starts_with("t/")
        || path.split('/').rev().skip(1).any(|d| {
            matches!(
                d.to_ascii_lowercase().as_str(),
                "fixtures" | "fixture" | "testdata" | "examples" | "example"
            )
        })
}

/// Third-party code kept in the repository (`vendor/`, `node_modules/`, `third_party/`).
pub fn is_vendored(path: &str) -> bool {
    path.split('/').rev().skip(1).any(|d| {
        matches!(
            d,
            "vendor" | "node_modules" | "third_party" | "third-party" | "bower_components"
        )
    })
}

/// Documentation, tests and fixtures, where text that looks like a shortcut (a conflict's
/// markers) is usually an example of it.
pub fn is_example_path(path: &str) -> bool {
    // Not `.txt` or `.html`: `requirements.txt`, `CMakeLists.txt` and templates are code, and a
    // conflict there breaks the build.
    const DOC_EXTENSIONS: [&str; 8] = [
        ".md",
        ".markdown",
        ".adoc",
        ".asciidoc",
        ".rst",
        ".texi",
        ".pod",
        ".1",
    ];
    let lower = path.to_ascii_lowercase();
    let in_dir = |names: &[&str]| lower.split('/').rev().skip(1).any(|d| names.contains(&d));
    DOC_EXTENSIONS.iter().any(|e| lower.ends_with(e))
        || in_dir(&["doc", "docs", "documentation", "t"])
        || in_fixtures(path)
}

fn sensitive(path: &str, content: Option<&[u8]>) -> Option<&'static str> {
    let name = name_of(path).to_ascii_lowercase();
    let example = ["example", "sample", "template", "dist"]
        .iter()
        .any(|x| name.contains(x));
    if (name == ".env" || (name.starts_with(".env.") && !example)) && !in_fixtures(path) {
        return Some("an environment file with secrets");
    }
    if matches!(
        name.as_str(),
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519"
    ) {
        return Some("an SSH private key");
    }
    let holds = |needle: &str| {
        content.is_some_and(|c| memchr::memmem::find(c, needle.as_bytes()).is_some())
    };
    if PEM_NAMES.iter().any(|e| name.ends_with(e)) {
        // Unread (too large, or binary DER): judged by its name, as before.
        return (content.is_none() || holds("PRIVATE KEY")).then_some("a private key");
    }
    if [".p12", ".pfx", ".jks", ".keystore"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        return Some("a key store");
    }
    if name == "credentials.json" || name == "service-account.json" {
        return Some("a credentials file");
    }
    if name == "terraform.tfstate" || name.ends_with(".tfstate") {
        return Some("a Terraform state file (it holds secrets in clear)");
    }
    if name == ".npmrc" && (holds("_authToken") || holds("_auth=")) {
        return Some("an `.npmrc` with a registry token");
    }
    if name == ".pypirc" && holds("password") {
        return Some("a `.pypirc` with a password");
    }
    None
}

const CI_PATHS: [&str; 10] = [
    ".ci/",
    ".github/workflows/",
    ".gitlab-ci.yml",
    ".circleci/",
    "Jenkinsfile",
    "azure-pipelines.yml",
    ".azure-pipelines.yml",
    ".travis.yml",
    ".appveyor.yml",
    "appveyor.yml",
];

/// Config files where thresholds and timeouts live, and the keys that hold them.
const THRESHOLD_FILES: [&str; 9] = [
    "pyproject.toml",
    "setup.cfg",
    "pytest.ini",
    "tox.ini",
    ".coveragerc",
    "jest.config.js",
    "jest.config.ts",
    "package.json",
    "codecov.yml",
];
const THRESHOLD_KEYS: [&str; 10] = [
    "fail_under",
    "fail-under",
    "--cov-fail-under",
    "coverageThreshold",
    "branches",
    "lines",
    "functions",
    "statements",
    "timeout",
    "target",
];

/// Keys of a coverage floor in a CI command line.
pub(super) const CI_FLOOR_KEYS: [&str; 4] = [
    "fail-under",
    "fail_under",
    "min-coverage",
    "coverage-threshold",
];

/// A number on a line after one of the threshold keys: (key, value).
fn threshold(line: &str) -> Option<(&'static str, f64)> {
    let key = THRESHOLD_KEYS.iter().find(|k| line.contains(*k))?;
    let after = &line[line.find(key)? + key.len()..];
    let digits: String = after
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok().map(|v| (*key, v))
}

/// The lines one version has and the other lacks, as a small diff.
pub(super) fn changed_lines(old: Option<&str>, new: Option<&str>) -> (Vec<String>, Vec<String>) {
    let o: Vec<&str> = old.map(|t| t.lines().collect()).unwrap_or_default();
    let n: Vec<&str> = new.map(|t| t.lines().collect()).unwrap_or_default();
    let removed = o
        .iter()
        .filter(|l| !n.contains(l))
        .map(|l| l.to_string())
        .collect();
    let added = n
        .iter()
        .filter(|l| !o.contains(l))
        .map(|l| l.to_string())
        .collect();
    (removed, added)
}

pub(super) fn diff_snippet(removed: &[String], added: &[String]) -> Option<String> {
    let mut lines: Vec<String> = removed.iter().take(10).map(|l| format!("-{l}")).collect();
    lines.extend(added.iter().take(10).map(|l| format!("+{l}")));
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn under(path: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| is_under(path, p))
}

/// Whether `path` is `prefix` or inside it.
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix.trim_end_matches('/'))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether a path lies in an asset folder: a folder of that name anywhere in the path
/// (`web/static/logo.png`, `pkg/x/testdata/case.bin`), or under a configured path that has a
/// slash (`docs/img`).
/// Images, icons, fonts and sounds: assets wherever they are (a logo beside the docs, an
/// icon in the GUI's folder), judged by their size only.
fn is_media(path: &str) -> bool {
    const MEDIA: [&str; 17] = [
        "png", "jpg", "jpeg", "gif", "ico", "icns", "webp", "bmp", "tif", "tiff", "woff", "woff2",
        "ttf", "otf", "eot", "wav", "mp3",
    ];
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| MEDIA.contains(&ext.to_ascii_lowercase().as_str()))
}

fn in_asset_folder(path: &str, folders: &[String]) -> bool {
    let dirs: Vec<&str> = path.split('/').collect();
    let dirs = &dirs[..dirs.len().saturating_sub(1)];
    folders.iter().any(|f| {
        let f = f.trim_matches('/');
        if f.contains('/') {
            is_under(path, f)
        } else {
            dirs.contains(&f)
        }
    })
}

/// Whether the path rules read this file's text: the tampering rules show and compare its
/// changed lines, and an `.npmrc` or `.pypirc` is told by what it holds.
pub fn needs_text(settings: &GuardSettings, path: &str) -> bool {
    under(path, &settings.supervision_paths)
        || is_ci(path)
        || settings.test_runners.iter().any(|r| r == path)
        || THRESHOLD_FILES.contains(&name_of(path))
        || [".npmrc", ".pypirc"]
            .iter()
            .any(|n| name_of(path).eq_ignore_ascii_case(n))
        || PEM_NAMES
            .iter()
            .any(|e| name_of(path).to_ascii_lowercase().ends_with(e))
}

/// Whether a path is a CI definition.
pub fn is_ci(path: &str) -> bool {
    CI_PATHS
        .iter()
        .any(|ci| path.starts_with(ci) || path == ci.trim_end_matches('/'))
}

/// The rules decided by a file's path, size and changed lines. Every finding here is about
/// the whole file.
pub fn path_rules(
    c: &FileChange<'_>,
    settings: &GuardSettings,
    at: CommitRef<'_>,
    ci_elsewhere: &std::collections::HashSet<String>,
    out: &mut Vec<Finding>,
) {
    out.extend(sensitive_file(c, settings, at));
    out.extend(large_file(c, settings, at));
    if settings.on(Rule::SupervisionTampering) && !at.root {
        out.extend(tampering(c, settings, at, ci_elsewhere));
    }
}

fn sensitive_file(
    c: &FileChange<'_>,
    settings: &GuardSettings,
    at: CommitRef<'_>,
) -> Option<Finding> {
    let added_file = matches!(c.kind, FileStatus::Added | FileStatus::Renamed);
    if !settings.on(Rule::SensitiveFile) || !added_file {
        return None;
    }
    let what = sensitive(&c.path, c.new)?;
    // Among tests and fixtures a key is most likely a test key (git's test keyring, a TLS
    // test CA): shown, not blocking; the secret scanner still reads it.
    let (severity, note) = if in_fixtures(&c.path) {
        (
            settings.severity(Rule::SensitiveFile).min(Severity::Medium),
            ", among the tests: check that it is a test key that protects nothing",
        )
    } else {
        (settings.severity(Rule::SensitiveFile), "")
    };
    let detail = format!("`{}` is {what}{note}", c.path);
    Some(finding(
        Rule::SensitiveFile,
        severity,
        &c.path,
        None,
        detail,
        None,
        at.id,
    ))
}

/// A file too large, or a binary blob outside the asset folders; a file too large to read is
/// judged by its size alone.
fn large_file(c: &FileChange<'_>, settings: &GuardSettings, at: CommitRef<'_>) -> Option<Finding> {
    if !settings.on(Rule::LargeFile)
        || c.kind == FileStatus::Deleted
        || in_asset_folder(&c.path, &settings.asset_folders)
    {
        return None;
    }
    let binary = match c.new {
        Some(content) => crate::bytes::is_binary(content),
        None => c.known.is_some_and(|k| k.new_binary),
    };
    let detail = if c.new_size > settings.large_file {
        format!(
            "`{}` is {:.1} MB (the limit is {:.1} MB)",
            c.path,
            c.new_size as f64 / 1e6,
            settings.large_file as f64 / 1e6
        )
    } else if binary && c.kind == FileStatus::Added && !in_fixtures(&c.path) && !is_media(&c.path) {
        // A small binary among the tests is test data (ripgrep's `tests/data/*.zst`, git's
        // `t/t1013/objects/`): only its size is judged.
        format!("`{}` is a binary blob outside the asset folders", c.path)
    } else {
        return None;
    };
    let severity = settings.severity(Rule::LargeFile);
    Some(finding(
        Rule::LargeFile,
        severity,
        &c.path,
        None,
        detail,
        None,
        at.id,
    ))
}

/// A SUPERVISION_TAMPERING finding about the file `c` changes as a whole (no line).
pub(super) fn file_tampering(
    c: &FileChange<'_>,
    at: CommitRef<'_>,
    severity: Severity,
    detail: String,
    diff: Option<String>,
) -> Finding {
    finding(
        Rule::SupervisionTampering,
        severity,
        &c.path,
        None,
        detail,
        diff,
        at.id,
    )
}

/// A change to what supervises the agent: the supervisor's own files, the test runner the
/// configuration names, a CI definition, a threshold lowered.
fn tampering(
    c: &FileChange<'_>,
    settings: &GuardSettings,
    at: CommitRef<'_>,
    ci_elsewhere: &std::collections::HashSet<String>,
) -> Option<Finding> {
    let touched: Vec<&str> = [Some(c.path.as_str()), c.old_path.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    // The changed lines, only for the few files these rules concern (quadratic, but small).
    let lines = || changed_lines(text(c.old).as_deref(), text(c.new).as_deref());
    let snippet = || {
        let (removed, added) = lines();
        diff_snippet(&removed, &added)
    };
    let high = settings
        .severity(Rule::SupervisionTampering)
        .min(Severity::High);
    let file_finding = |severity: Severity, detail: String, diff: Option<String>| {
        file_tampering(c, at, severity, detail, diff)
    };
    if touched
        .iter()
        .any(|p| under(p, &settings.supervision_paths))
    {
        let detail = format!(
            "the commit changes `{}`, which belongs to the supervisor",
            c.path
        );
        return Some(file_finding(Severity::Critical, detail, snippet()));
    }
    if touched
        .iter()
        .any(|p| settings.test_runners.iter().any(|r| r == p))
    {
        let detail = format!(
            "the commit changes the test runner the configuration names, `{}`",
            c.path
        );
        return Some(file_finding(high, detail, snippet()));
    }
    if touched.iter().any(|p| is_ci(p)) {
        return Some(ci_definition(c, settings, at, ci_elsewhere));
    }
    if THRESHOLD_FILES.contains(&name_of(&c.path)) && c.kind == FileStatus::Modified {
        let (removed, added) = lines();
        let before: Vec<(&str, f64)> = removed.iter().filter_map(|l| threshold(l)).collect();
        for (key, value) in added.iter().filter_map(|l| threshold(l)) {
            let lowered = before.iter().find(|(k, old)| *k == key && value < *old);
            if let Some((_, old)) = lowered {
                let detail = format!(
                    "the commit lowers `{key}` from {old} to {value} in `{}`",
                    c.path
                );
                return Some(file_finding(high, detail, snippet()));
            }
        }
    }
    None
}
