//! The proposal: every ecosystem's checks, one test command, and what each check needs
//! installed.

use std::path::Path;

use super::super::raw::{DurationValue, RawCheck, ScopeValue, StageValue};
use super::tree::Tree;
use super::{go, jvm, node, python, ruby, rust, shell};
use crate::parsers::Format;

/// A check that detection proposes, with why it was proposed.
#[derive(Debug, Clone)]
pub struct DetectedCheck {
    /// Why: what in the repository suggested it.
    pub reason: String,
    /// The check itself.
    pub check: RawCheck,
    /// The programs it needs that are not installed here (it reports CHECK_UNAVAILABLE until
    /// they are).
    pub missing: Vec<String>,
}

impl DetectedCheck {
    pub(super) fn new(reason: impl Into<String>, check: RawCheck) -> Self {
        Self {
            reason: reason.into(),
            check,
            missing: Vec::new(),
        }
    }
}

/// A check of `stage` running `command`, read with `format`.
pub(super) fn check(name: &str, stage: StageValue, command: &[&str], format: Format) -> RawCheck {
    RawCheck {
        name: name.into(),
        stage: Some(stage),
        command: command.iter().map(|s| (*s).to_string()).collect(),
        format: Some(format),
        ..RawCheck::default()
    }
}

/// `items` as owned strings.
pub(super) fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_string()).collect())
}

/// A duration of `n` seconds.
pub(super) fn seconds(n: u64) -> DurationValue {
    DurationValue(std::time::Duration::from_secs(n))
}

/// The files at the root whose presence or content detection reads.
const ROOT_MARKERS: [&str; 26] = [
    "Cargo.toml",
    "pyproject.toml",
    "requirements.txt",
    "setup.py",
    "setup.cfg",
    "mypy.ini",
    ".mypy.ini",
    "pyrightconfig.json",
    "package.json",
    "tsconfig.json",
    "go.mod",
    "go.work",
    ".golangci.yml",
    ".golangci.yaml",
    ".golangci.toml",
    ".golangci.json",
    "Gemfile",
    ".rubocop.yml",
    ".rspec",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradlew",
    "tests/run_tests.sh",
];

/// Endings of paths anywhere in the tree that detection counts.
const SUFFIXES: [&str; 5] = [".sh", ".bash", "/go.mod", "_spec.rb", ".gemspec"];

/// Whether `detect_checks` looks at this path at all: the marker files, the endings above, and
/// extensionless files (which may have a shebang). Callers listing a big tree keep only these.
pub fn matters_for_detection(path: &str) -> bool {
    ROOT_MARKERS.contains(&path)
        || SUFFIXES.iter().any(|s| path.ends_with(s))
        || !Path::new(path)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains('.'))
}

/// Proposes checks from a tree: each ecosystem's linters, and one test command (the project's
/// own script wins over a language's default; the reason names the others passed over).
pub fn detect_checks(tree: &Tree) -> Vec<DetectedCheck> {
    let mut out = Vec::new();
    // Candidates for the one test command, lowest priority first.
    let mut tests: Vec<DetectedCheck> = Vec::new();
    if let Some((lint, test)) = rust::detect(tree) {
        out.push(lint);
        tests.push(test);
    }
    out.extend(shell::detect(tree));
    if let Some((lint, test)) = python::detect(tree) {
        out.extend(lint);
        tests.push(test);
    }
    if let Some((lint, test)) = ruby::detect(tree) {
        out.extend(lint);
        tests.extend(test);
    }
    if let Some((lint, test)) = node::detect(tree) {
        out.extend(lint);
        tests.extend(test);
    }
    if let Some((lint, test)) = go::detect(tree) {
        out.extend(lint);
        tests.push(test);
    }
    tests.extend(jvm::detect(tree));
    if tree.has("tests/run_tests.sh") {
        let mut t = check(
            "run-tests",
            StageValue::Test,
            &["bash", "tests/run_tests.sh"],
            Format::ExitCode,
        );
        t.timeout = Some(seconds(1800));
        tests.push(DetectedCheck::new(
            "tests/run_tests.sh: the project's test script",
            t,
        ));
    }
    if let Some(mut chosen) = tests.pop() {
        if !tests.is_empty() {
            let others: Vec<&str> = tests.iter().map(|t| t.check.name.as_str()).collect();
            chosen.reason = format!(
                "{} (one test command per repository; also possible: {})",
                chosen.reason,
                others.join(", ")
            );
        }
        out.push(chosen);
    }
    for d in &mut out {
        if d.check.scope.is_none() && !d.check.command.iter().any(|a| a == "{files}") {
            d.check.scope = Some(ScopeValue::Changed);
        }
        d.missing = needed_programs(&d.check.command)
            .into_iter()
            .filter(|p| !tree.installed(p))
            .collect();
    }
    out
}

/// The programs a command needs: its own, and the ones it runs through.
fn needed_programs(command: &[String]) -> Vec<String> {
    let Some(program) = command.first() else {
        return Vec::new();
    };
    let mut needed = vec![program.clone()];
    if program == "cargo" && command.get(1).is_some_and(|a| a == "clippy") {
        needed.push("cargo-clippy".into());
    }
    needed
}

/// Whether `program` is a name on `PATH` or an executable path (from the current directory).
pub fn program_available(program: &str) -> bool {
    crate::runner::program_available(program, Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::super::{detect_setup, render_init_toml, setup::VENV_PYTHON};
    use super::*;

    /// Detection over `paths`, the files' contents from `files`, with only `installed` there.
    fn detect(paths: &[&str], files: &[(&str, &str)], installed: &[&str]) -> Vec<DetectedCheck> {
        let paths: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        let head = |p: &str| {
            files
                .iter()
                .find(|(name, _)| *name == p)
                .map(|(_, text)| text.as_bytes().to_vec())
        };
        let installed = |p: &str| installed.contains(&p);
        detect_checks(&Tree::new(&paths, &head, &installed))
    }

    fn names(detected: &[DetectedCheck]) -> Vec<&str> {
        detected.iter().map(|d| d.check.name.as_str()).collect()
    }

    fn command<'a>(detected: &'a [DetectedCheck], name: &str) -> &'a [String] {
        &detected
            .iter()
            .find(|d| d.check.name == name)
            .unwrap_or_else(|| panic!("{name} detected"))
            .check
            .command
    }

    fn parses_back(detected: &[DetectedCheck]) -> super::super::super::RawConfig {
        let text = render_init_toml(detected, None);
        toml::from_str(&text).unwrap_or_else(|e| panic!("init output parses: {e}\n{text}"))
    }

    #[test]
    fn rendered_init_config_parses_back() {
        let detected = detect(
            &["Cargo.toml", "a.sh", "tests/run_tests.sh", "pyproject.toml"],
            &[],
            &[
                "cargo",
                "cargo-clippy",
                "shellcheck",
                "ruff",
                "bash",
                "python3",
            ],
        );
        assert_eq!(
            names(&detected),
            ["clippy", "shellcheck", "ruff", "run-tests"]
        );
        assert!(detected.iter().all(|d| d.missing.is_empty()));
        let run_tests = detected.last().expect("a test command");
        assert!(
            run_tests
                .reason
                .contains("also possible: cargo-test, pytest"),
            "{}",
            run_tests.reason
        );
        assert_eq!(parses_back(&detected).check.map(|c| c.len()), Some(4));
    }

    #[test]
    fn a_go_workspace_names_each_module_it_uses() {
        let work = "go 1.22\nuse (\n\t./plugins/apps\n\t./plugins/gone\n\t./plugins/common\n)\n";
        let detected = detect(
            &[
                "go.work",
                "plugins/apps/go.mod",
                "plugins/common/go.mod",
                "plugins/apps/main.go",
            ],
            &[("go.work", work)],
            &[],
        );
        assert_eq!(names(&detected), ["go-vet", "go-test"]);
        // A module go.work names but the tree lacks is left out (go would refuse the pattern).
        assert_eq!(
            command(&detected, "go-vet"),
            ["go", "vet", "./plugins/apps/...", "./plugins/common/..."]
        );
        assert_eq!(
            command(&detected, "go-test"),
            [
                "go",
                "test",
                "-json",
                "-vet=off",
                "./plugins/apps/...",
                "./plugins/common/..."
            ]
        );
        assert!(detected.iter().all(|d| d.missing == ["go"]));
        let raw = parses_back(&detected);
        let checks = raw.check.expect("checks");
        assert_eq!(checks[1].format, Some(Format::GoTest));
        // A module at the root, and a golangci-lint config: the linter is proposed, and said
        // missing where it is not installed.
        let detected = detect(&["go.mod", ".golangci.yml", "a.go"], &[], &["go"]);
        assert_eq!(names(&detected), ["go-vet", "golangci-lint", "go-test"]);
        assert_eq!(command(&detected, "go-vet"), ["go", "vet", "./..."]);
        assert_eq!(detected[1].missing, ["golangci-lint"]);
        let text = render_init_toml(&detected, None);
        assert!(
            text.contains("# Not installed here: golangci-lint."),
            "{text}"
        );
    }

    #[test]
    fn a_node_project_lints_with_what_its_scripts_call() {
        let xo = r#"{"scripts": {"test": "xo && tsc --noEmit && ava"},
                     "devDependencies": {"typescript": "^5", "ava": "^6"}}"#;
        let detected = detect(
            &["package.json", "tsconfig.json"],
            &[("package.json", xo)],
            &["npx", "npm"],
        );
        assert_eq!(names(&detected), ["xo", "tsc", "npm-test"]);
        assert_eq!(
            command(&detected, "xo"),
            ["npx", "--no-install", "xo", "--reporter=json", "{files}"]
        );
        assert_eq!(detected[0].check.format, Some(Format::Eslint));
        assert!(detected[2].reason.contains("`xo && tsc --noEmit && ava`"));
        let vitest = r#"{"scripts": {"lint": "standard", "test": "vitest"}}"#;
        let detected = detect(&["package.json"], &[("package.json", vitest)], &[]);
        assert_eq!(names(&detected), ["standard", "vitest"]);
        assert_eq!(
            detected[1].check.junit.as_deref(),
            Some(".auditor-junit.xml")
        );
        // One mocha command takes mocha's xunit reporter; a script of several commands runs whole.
        let mocha =
            r#"{"scripts": {"test": "mocha --require test/support/env --check-leaks test/"}}"#;
        let detected = detect(&["package.json"], &[("package.json", mocha)], &[]);
        assert_eq!(names(&detected), ["mocha"]);
        assert_eq!(
            command(&detected, "mocha")[3..],
            [
                "--",
                "--reporter",
                "xunit",
                "--reporter-option",
                "output=.auditor-junit.xml"
            ]
        );
        // One jest command is asked for jest's JSON report.
        let jest = r#"{"scripts": {"test": "jest --coverage"}}"#;
        let detected = detect(&["package.json"], &[("package.json", jest)], &[]);
        assert_eq!(names(&detected), ["jest"]);
        assert_eq!(
            command(&detected, "jest")[3..],
            ["--", "--json", "--testLocationInResults"]
        );
        assert_eq!(detected[0].check.format, Some(Format::Jest));
        parses_back(&detected);
        let chained = r#"{"scripts": {"test": "mocha test/ && nyc report"}}"#;
        let detected = detect(&["package.json"], &[("package.json", chained)], &[]);
        assert_eq!(names(&detected), ["npm-test"]);
        // A lint script of a tool detection does not know runs as the script.
        let own = r#"{"scripts": {"lint": "node tools/lint.js\n[policy]", "test": "echo \"Error: no test specified\" && exit 1"}}"#;
        let detected = detect(&["package.json"], &[("package.json", own)], &[]);
        assert_eq!(names(&detected), ["npm-lint"]);
        // The script's newline stays inside the comment: a second [policy] table would not parse.
        parses_back(&detected);
        let text = render_init_toml(&detected, None);
        assert!(text.contains("`node tools/lint.js [policy]`"), "{text}");
    }

    #[test]
    fn python_type_checkers_only_when_configured() {
        let detected = detect(&["pyproject.toml"], &[], &[]);
        assert_eq!(names(&detected), ["ruff", "pytest"]);
        let detected = detect(
            &["pyproject.toml", "setup.cfg"],
            &[
                ("pyproject.toml", "[tool.pyright]\nstrict = []\n"),
                ("setup.cfg", "[mypy]\nstrict = True\n"),
            ],
            &[],
        );
        assert_eq!(names(&detected), ["ruff", "mypy", "pyright", "pytest"]);
        assert!(detected[1].reason.starts_with("setup.cfg [mypy]"));
        assert_eq!(detected[2].check.format, Some(Format::Pyright));
    }

    #[test]
    fn ruby_and_jvm_projects() {
        let detected = detect(
            &[
                "Gemfile",
                ".rubocop.yml",
                "spec/calc_spec.rb",
                "lib/calc.rb",
            ],
            &[],
            &["rubocop", "rspec"],
        );
        assert_eq!(names(&detected), ["rubocop", "rspec"]);
        assert_eq!(detected[1].check.format, Some(Format::Rspec));
        let detected = detect(&["Gemfile"], &[("Gemfile", "gem 'rails'\n")], &[]);
        assert!(detected.is_empty(), "{:?}", names(&detected));
        let detected = detect(&["pom.xml"], &[], &["mvn"]);
        assert_eq!(names(&detected), ["maven-test"]);
        assert_eq!(
            detected[0].check.junit.as_deref(),
            Some("**/target/surefire-reports/TEST-*.xml")
        );
        let detected = detect(&["build.gradle.kts", "gradlew"], &[], &[]);
        assert_eq!(command(&detected, "gradle-test")[0], "gradle");
        assert!(
            detected[0]
                .reason
                .contains("gradlew is the repository's own program")
        );
        assert_eq!(detected[0].missing, ["gradle"]);
    }

    #[test]
    fn a_python_project_gets_a_virtual_environment_its_tests_run_in() {
        let paths: Vec<String> = [
            "pyproject.toml",
            "src/pkg/__init__.py",
            "requirements-dev.txt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let head = |_: &str| None;
        let installed = |_: &str| true;
        let tree = Tree::new(&paths, &head, &installed);
        let mut detected = detect_checks(&tree);
        let setup = detect_setup(&tree, &mut detected).expect("a setup");
        assert!(setup.command[2].ends_with("pip install --quiet -e . -r requirements-dev.txt"));
        assert_eq!(command(&detected, "pytest")[0], VENV_PYTHON);
        let text = render_init_toml(&detected, Some(&setup));
        let raw: super::super::super::RawConfig =
            toml::from_str(&text).expect("init output parses");
        let ws = raw.workspace.expect("workspace");
        assert_eq!(ws.setup, Some(setup.command.clone()));
        assert_eq!(ws.setup_when_changed, Some(setup.when_changed));
    }

    #[test]
    fn a_node_project_installs_from_its_lock_file() {
        let manifest = br#"{"scripts": {"test": "mocha"}}"#.to_vec();
        let head = |p: &str| (p == "package.json").then(|| manifest.clone());
        let installed = |_: &str| true;
        let setup_of = |paths: &[&str]| {
            let paths: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
            let tree = Tree::new(&paths, &head, &installed);
            let mut detected = detect_checks(&tree);
            detect_setup(&tree, &mut detected)
        };
        let setup = setup_of(&["package.json", "package-lock.json"]).expect("a setup");
        assert_eq!(setup.command, ["npm", "ci"]);
        assert_eq!(setup.when_changed, ["package.json", "package-lock.json"]);
        let setup = setup_of(&["package.json"]).expect("a setup");
        assert_eq!(setup.command, ["npm", "install"]);
        assert_eq!(setup.when_changed, ["package.json"]);
        // Nothing to install: no setup.
        assert_eq!(setup_of(&["a.sh"]), None);
    }
}
