//! The guards' rules: IDs, default severities, what each means and how to fix it; and the
//! rules decided from a file's path and size rather than its content.

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

    fn title(self) -> &'static str {
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

    fn remediation(self) -> &'static str {
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
const CI_FLOOR_KEYS: [&str; 4] = [
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
fn changed_lines(old: Option<&str>, new: Option<&str>) -> (Vec<String>, Vec<String>) {
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

fn diff_snippet(removed: &[String], added: &[String]) -> Option<String> {
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

/// What a change to a CI definition does to the checks it runs.
#[derive(Debug, PartialEq, Eq)]
enum CiChange {
    /// Only pinned versions moved (`uses: actions/checkout@v3` to `@v4`, a tool's version):
    /// what dependency bots commit.
    Pins,
    /// A check was dropped, switched off or made unable to fail.
    Weakens(String),
    /// The definition is deleted and every check it ran still runs elsewhere (a change of
    /// CI provider, a workflow merged into another).
    Moved,
    /// Lines added and none removed, none of them narrowing when or where it runs (a job,
    /// a platform, a version, a comment): it checks more, not less.
    Adds,
    /// Anything else: worth a look, not a verdict.
    Edits,
}

/// What added lines say when they make a step unable to fail or keep it from running.
const CI_SOFTENERS: [&str; 10] = [
    "continue-on-error: true",
    "allow_failure: true",
    "|| true",
    "|| exit 0",
    "|| :",
    "set +e",
    "if: false",
    "if: ${{ false }}",
    "when: never",
    "--exit-zero",
];

/// Tools whose name alone says they check the code.
const CI_CHECKERS: [&str; 20] = [
    "pytest",
    "tox",
    "nox",
    "unittest",
    "clippy",
    "vet",
    "ruff",
    "eslint",
    "shellcheck",
    "flake8",
    "mypy",
    "pylint",
    "bats",
    "jest",
    "mocha",
    "vitest",
    "phpunit",
    "rspec",
    "ctest",
    "golangci-lint",
];

/// Words that name a check when a runner comes before them (`make test`, `npm run lint`,
/// `cargo check`, `meson test`), not on their own (`if test -z`, `test/kind/config.yaml`).
const CI_CHECK_WORDS: [&str; 6] = ["test", "tests", "lint", "check", "coverage", "prove"];
const CI_RUNNERS: [&str; 16] = [
    "make",
    "npm",
    "yarn",
    "pnpm",
    "bun",
    "deno",
    "run",
    "go",
    "cargo",
    "mix",
    "dotnet",
    "gradle",
    "./gradlew",
    "mvn",
    "rake",
    "meson",
];

/// What separates the words of a shell command (quotes as escapes keep this file's brace
/// and quote pairs plain for tools that read it).
const CI_SEPARATORS: [char; 7] = [';', '&', '|', '(', ')', '\u{22}', '\u{27}'];

/// A YAML flow mapping opens a line of data (a matrix row), not a command.
const FLOW_MAPPING: &str = "{";

/// The checks a CI line runs, if it is a command: `run:`/`script:`/`command:` lines and the
/// lines of a script block, not the keys that name, describe or configure a step.
fn ci_checks(line: &str) -> Vec<String> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    if t.starts_with('#') || t.starts_with(FLOW_MAPPING) {
        return Vec::new();
    }
    let command = match t.split_once(':') {
        Some((key, value))
            if !key.contains(' ') && !key.is_empty() && !value.starts_with(['/', '\\']) =>
        {
            if matches!(key, "run" | "script" | "command" | "cmd") {
                value
            } else {
                return Vec::new();
            }
        }
        _ => t,
    };
    let tokens: Vec<String> = command
        .split(|c: char| c.is_whitespace() || CI_SEPARATORS.contains(&c))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    // Installing a tool or printing a message about one runs no check.
    let runs_nothing = tokens
        .first()
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "mkdir" | "cd" | "curl" | "wget" | "export" | "chmod" | "cp" | "mv" | "ln" | "which"
            )
        })
        // `echo`, after a redirection (`>&2 echo ...`).
        || tokens
            .iter()
            .take(3)
            .any(|t| matches!(t.as_str(), "echo" | "printf"))
        || tokens.iter().any(|t| t == "install")
        || tokens.windows(2).any(|w| {
            matches!(w[0].as_str(), "npm" | "pnpm" | "yarn" | "bun")
                && matches!(w[1].as_str(), "ci" | "i" | "add")
        });
    if runs_nothing {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, w) in tokens.iter().enumerate() {
        // A checker is a program: a bare name or a path to a bin folder, not a folder named
        // like one (`mkdir -p test-results/bats`).
        let name = match w.rsplit_once('/') {
            Some((dir, name)) if dir.ends_with("bin") => name,
            Some(_) => "",
            None => w.as_str(),
        };
        if CI_CHECKERS.contains(&name) {
            out.push(name.to_string());
        } else if let Some(word) = CI_CHECK_WORDS
            .iter()
            // Re-running what failed can only turn red into green: removing it checks more.
            .filter(|_| !w.contains(['/', '$']) && !w.contains("retry") && !w.contains("rerun"))
            .find(|c| w.split(['-', ':']).any(|part| part == **c))
        {
            let plain = |t: &&String| !t.starts_with('-');
            // A make target is its own step (`make test-image` is not `make test-unit`);
            // every word after `make` up to here is a target or an option.
            let under_make = tokens[..i]
                .iter()
                .rposition(|t| t == "make" || t == "gmake")
                .filter(|&at| {
                    tokens[at + 1..i]
                        .iter()
                        .all(|t| t.starts_with('-') || !t.contains(['/', '$', '=']))
                });
            // Else the runner comes right before its check word, options aside (`npm run
            // lint`, `go test -v`): in `docker run -v x vault-helm-test` no runner runs a test;
            // `npm run test:coverage` is npm's.
            let mut before = tokens[..i].iter().rev().filter(plain);
            let runner = match (before.next(), before.next()) {
                (Some(run), Some(r)) if run == "run" && CI_RUNNERS.contains(&r.as_str()) => Some(r),
                (Some(r), _) if CI_RUNNERS.contains(&r.as_str()) => Some(r),
                _ => None,
            };
            if under_make.is_some() {
                out.push(format!("make {w}"));
            } else if let Some(runner) = runner {
                out.push(format!("{runner} {word}"));
            }
        }
    }
    out
}

/// What a CI change does, from its removed and added lines; `runs_checks`: whether the
/// definition runs any check (a softened step of a release workflow softens no check).
fn ci_change(
    removed: &[String],
    added: &[String],
    deleted: bool,
    runs_checks: bool,
    added_elsewhere: &std::collections::HashSet<String>,
) -> CiChange {
    let softened = |l: &str| {
        let l = l.split_once(" #").map_or(l, |(code, _)| code);
        CI_SOFTENERS
            .iter()
            .find(|s| l.contains(*s))
            .copied()
            // A job switched off is always seen; a step that can no longer fail matters
            // where steps check something.
            .filter(|s| {
                s.starts_with("if:")
                    || s.starts_with("when:")
                    || runs_checks
                    || !ci_checks(l).is_empty()
            })
    };
    let was_softened = |s: &str| removed.iter().any(|l| l.contains(s));
    if let Some(s) = added
        .iter()
        .filter_map(|l| softened(l))
        .find(|s| !was_softened(s))
    {
        return CiChange::Weakens(format!("it adds `{s}`"));
    }
    // A check that moved to another CI definition of the commit (a change of CI provider)
    // is kept.
    let mut kept: std::collections::HashSet<String> =
        added.iter().flat_map(|l| ci_checks(l)).collect();
    kept.extend(added_elsewhere.iter().cloned());
    if let Some((line, check)) = removed.iter().find_map(|l| {
        ci_checks(l)
            .into_iter()
            .find(|c| !is_kept(c, &kept))
            .map(|c| (l, c))
    }) {
        return CiChange::Weakens(if deleted {
            format!("the definition is deleted, and with it `{check}`")
        } else {
            format!("it removes `{}`", line.trim())
        });
    }
    if deleted {
        return CiChange::Moved;
    }
    // A coverage floor lowered in a CI command (`--cov-fail-under=80` to `=50`) is the
    // same weakening as in a config file, however small the edit looks.
    let floor = |l: &str| {
        CI_FLOOR_KEYS.iter().find_map(|k| {
            let after = &l[l.find(k)? + k.len()..];
            let digits: String = after
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            digits.parse::<f64>().ok().map(|v| (*k, v))
        })
    };
    let before: Vec<(&str, f64)> = removed.iter().filter_map(|l| floor(l)).collect();
    for (key, value) in added.iter().filter_map(|l| floor(l)) {
        if let Some((_, old)) = before.iter().find(|(k, old)| *k == key && value < *old) {
            return CiChange::Weakens(format!("it lowers `{key}` from {old} to {value}"));
        }
    }
    // Triggers and conditions: an added line there can narrow when the CI runs at all.
    let narrows = |l: &String| {
        let l = l.trim_start().trim_start_matches("- ");
        [
            "branches", "paths", "tags", "if:", "when:", "only:", "except:", "rules:", "on:",
        ]
        .iter()
        .any(|k| l.starts_with(k))
    };
    if removed.iter().all(|r| extended(r, added)) && !added.iter().any(narrows) {
        return CiChange::Adds;
    }
    let shape = |l: &String| pin_shape(l);
    let mut before: Vec<String> = removed.iter().map(shape).collect();
    let mut after: Vec<String> = added.iter().map(shape).collect();
    before.sort();
    after.sort();
    if !before.is_empty() && before == after {
        CiChange::Pins
    } else {
        CiChange::Edits
    }
}

/// Whether a removed CI line is still there, grown, among the added ones: re-indented, or a
/// setting that lists more than before (`node-version: [18, 20]` into `[18, 20, 22]`, a new
/// key on a step's line). Blank and comment lines say nothing. A line that runs a check is
/// only ever moved, never grown: `pytest tests` into `pytest tests -k 'not slow'` keeps its
/// words and deselects tests.
fn extended(removed: &str, added: &[String]) -> bool {
    let r = removed.trim();
    if r.is_empty() || r.starts_with('#') {
        return true;
    }
    let bare = |l: &str| l.trim().trim_start_matches("- ").trim_start().to_string();
    if !ci_checks(r).is_empty() {
        return added.iter().any(|a| bare(a) == bare(r));
    }
    let words = |l: &str| -> Vec<String> {
        l.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mine = words(r);
    // A line commented out is gone, whatever words its comment keeps.
    added
        .iter()
        .filter(|a| !a.trim().starts_with('#'))
        .any(|a| {
            let theirs = words(a);
            mine.iter().all(|w| theirs.contains(w))
        })
}

/// Whether a removed check still runs: the same check, or a make target split or renamed
/// by a suffix (`make test-ci` into `make test-ci-<< parameters.index >>`, `make lint` into
/// `make lint-ci`).
fn is_kept(check: &str, kept: &std::collections::HashSet<String>) -> bool {
    if kept.contains(check) {
        return true;
    }
    let Some(target) = check.strip_prefix("make ") else {
        return false;
    };
    let extends = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.starts_with(['-', '_']))
    };
    kept.iter()
        .filter_map(|k| k.strip_prefix("make "))
        .any(|k| extends(k, target) || extends(target, k))
}

/// A CI line with its versions blanked: what is left when only a pin moves (the ref of
/// `uses: owner/action@ref`, a trailing `# v1.2.3`, any number).
fn pin_shape(line: &str) -> String {
    let line = line.trim_end();
    let line = match line.find("uses:") {
        Some(at) => match line[at..].find('@') {
            Some(ref_at) => &line[..at + ref_at],
            None => line,
        },
        None => line.split_once(" #").map_or(line, |(code, _)| code),
    };
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('0') {
                out.push('0');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The checks each CI definition the commit changes runs after it, by path.
pub fn ci_checks_after<'c>(
    changes: &'c [FileChange<'_>],
) -> Vec<(&'c str, std::collections::HashSet<String>)> {
    changes
        .iter()
        .filter(|c| is_ci(&c.path))
        .map(|c| {
            let checks = text(c.new).map(|t| ci_checks_of(&t)).unwrap_or_default();
            (c.path.as_str(), checks)
        })
        .collect()
}

/// The checks a CI definition runs.
pub fn ci_checks_of(text: &str) -> std::collections::HashSet<String> {
    text.lines().flat_map(ci_checks).collect()
}

/// The targets a CI definition runs `make` with (`None`: the default target).
pub fn make_targets_of(text: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let words: Vec<&str> = l
            .split(|c: char| c.is_whitespace() || CI_SEPARATORS.contains(&c))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, w) in words.iter().enumerate() {
            if *w != "make" && *w != "gmake" {
                continue;
            }
            // Options (and `-C dir`, another Makefile) are skipped; variables set too.
            let targets: Vec<String> = words[i + 1..]
                .iter()
                .take_while(|t| !t.starts_with("-C"))
                .filter(|t| !t.starts_with('-') && !t.contains('='))
                .map(|t| t.to_string())
                .collect();
            if targets.is_empty() {
                out.push(None);
            } else {
                out.extend(targets.into_iter().map(Some));
            }
        }
    }
    out
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
        finding(
            Rule::SupervisionTampering,
            severity,
            &c.path,
            None,
            detail,
            diff,
            at.id,
        )
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

/// A change to a CI definition, by what it does to the checks CI runs.
fn ci_definition(
    c: &FileChange<'_>,
    settings: &GuardSettings,
    at: CommitRef<'_>,
    ci_elsewhere: &std::collections::HashSet<String>,
) -> Finding {
    let sev = settings.severity(Rule::SupervisionTampering);
    let (removed, added) = changed_lines(text(c.old).as_deref(), text(c.new).as_deref());
    let deleted = c.kind == FileStatus::Deleted;
    let runs_checks = [text(c.old), text(c.new)]
        .into_iter()
        .flatten()
        .any(|t| t.lines().any(|l| !ci_checks(l).is_empty()));
    let (severity, detail, remediation) = match ci_change(
        &removed,
        &added,
        deleted,
        runs_checks,
        ci_elsewhere,
    ) {
        CiChange::Weakens(how) => (
            sev.min(Severity::High),
            format!("the commit weakens the CI definition `{}`: {how}", c.path),
            Rule::SupervisionTampering.remediation(),
        ),
        // A new definition that softens nothing supervises more, not less.
        CiChange::Edits if c.kind == FileStatus::Added => (
            Severity::Low,
            format!("the commit adds the CI definition `{}`", c.path),
            "Nothing to undo: a new CI definition adds checks. Look at what it runs if you rely on it.",
        ),
        CiChange::Adds => (
            Severity::Low,
            format!("the commit adds to the CI definition `{}`", c.path),
            "Nothing to undo: lines were added and none removed, and none narrows when the CI runs.",
        ),
        CiChange::Moved if runs_checks => (
            Severity::Low,
            format!(
                "the commit deletes the CI definition `{}`; every check it ran still runs in the commit's other CI definitions",
                c.path
            ),
            "Nothing to undo if the move is intended: no check was lost.",
        ),
        // A definition that runs no check (a labeler, a stale-issue bot, a release or docs
        // job) supervises nothing the agent could weaken.
        CiChange::Edits | CiChange::Moved if !runs_checks => (
            Severity::Low,
            format!(
                "the commit {} the CI definition `{}`, which runs no check",
                if deleted { "deletes" } else { "changes" },
                c.path
            ),
            "Nothing to undo if the change is intended: the definition runs no test or linter.",
        ),
        CiChange::Edits | CiChange::Moved => (
            Severity::Medium.min(sev),
            format!(
                "the commit {} the CI definition `{}`",
                if deleted { "deletes" } else { "changes" },
                c.path
            ),
            "Check that the CI still runs every check it ran before, on every platform it ran on; if the change drops or softens one, restore it.",
        ),
        CiChange::Pins => (
            Severity::Low,
            format!(
                "the commit changes only pinned versions in the CI definition `{}`",
                c.path
            ),
            "Nothing to undo if the new versions are intended (a dependency bump); check that they come from the same publisher.",
        ),
    };
    let diff = diff_snippet(&removed, &added);
    let mut f = finding(
        Rule::SupervisionTampering,
        severity,
        &c.path,
        None,
        detail,
        diff,
        at.id,
    );
    f.remediation = remediation.into();
    f
}
