//! Detects which linters and test command suit a repository, for `init` and for the defaults.

use std::path::Path;

use super::raw::{RawCheck, ScopeValue, StageValue};
use crate::parsers::Format;

/// A check that detection proposes, with why it was proposed.
#[derive(Debug, Clone)]
pub struct DetectedCheck {
    /// Why: what in the repository suggested it.
    pub reason: String,
    /// The check itself.
    pub check: RawCheck,
}

fn check(name: &str, stage: StageValue, command: &[&str], format: Format) -> RawCheck {
    RawCheck {
        name: name.into(),
        stage: Some(stage),
        command: command.iter().map(|s| (*s).to_string()).collect(),
        format: Some(format),
        ..RawCheck::default()
    }
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_string()).collect())
}

/// The interpreters whose shebang makes a file a shell script.
pub const SHELL_INTERPRETERS: [&str; 4] = ["sh", "bash", "dash", "ksh"];

/// Whether a file's first bytes are a shebang naming one of `interpreters`.
pub fn shebang_matches(head: &[u8], interpreters: &[String]) -> bool {
    let Some(rest) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let program = first.rsplit('/').next().unwrap_or(first);
    // `#!/usr/bin/env bash` names the interpreter in its second word.
    let program = if program == "env" {
        words.find(|w| !w.starts_with('-')).unwrap_or_default()
    } else {
        program
    };
    interpreters.iter().any(|i| i == program)
}

/// Whether `detect_checks` looks at this path at all: the marker files, shell scripts, and
/// extensionless files (which may have a shebang). Callers listing a big tree keep only these.
pub fn matters_for_detection(path: &str) -> bool {
    const MARKERS: [&str; 7] = [
        "Cargo.toml",
        "pyproject.toml",
        "requirements.txt",
        "setup.py",
        "package.json",
        "tests/run_tests.sh",
        ".sh",
    ];
    MARKERS
        .iter()
        .any(|m| path == *m || (m.starts_with('.') && path.ends_with(m)))
        || path.ends_with(".bash")
        || !Path::new(path)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains('.'))
}

/// Proposes checks from the files of a tree: one per ecosystem found, and one test command
/// (the project's own script wins over a language's default).
///
/// `read_head` returns the first bytes of a file (for shebangs and manifests).
pub fn detect_checks(
    paths: &[String],
    read_head: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Vec<DetectedCheck> {
    let has = |name: &str| paths.iter().any(|p| p == name);
    let mut out = Vec::new();
    let mut test_command = None;
    if has("Cargo.toml") {
        out.push(clippy());
        test_command = Some(DetectedCheck {
            reason: "Cargo.toml: cargo test".into(),
            check: check(
                "cargo-test",
                StageValue::Test,
                &["cargo", "test", "--quiet"],
                Format::ExitCode,
            ),
        });
    }
    out.extend(shellcheck(paths, read_head));
    if has("pyproject.toml") || has("requirements.txt") || has("setup.py") {
        let (lint, tests) = python();
        out.push(lint);
        test_command = Some(tests);
    }
    if has("package.json") {
        let manifest = read_head("package.json").unwrap_or_default();
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest).unwrap_or(serde_json::Value::Null);
        let (lint, tests) = node(&manifest);
        out.extend(lint);
        test_command = tests.or(test_command);
    }
    // The project's own declared test entry point wins over a language default.
    if has("tests/run_tests.sh") {
        let mut t = check(
            "run-tests",
            StageValue::Test,
            &["bash", "tests/run_tests.sh"],
            Format::ExitCode,
        );
        t.timeout = Some(seconds(1800));
        test_command = Some(DetectedCheck {
            reason: "tests/run_tests.sh: the project's test script".into(),
            check: t,
        });
    }
    out.extend(test_command);
    for d in &mut out {
        if d.check.scope.is_none() && !d.check.command.iter().any(|a| a == "{files}") {
            d.check.scope = Some(ScopeValue::Changed);
        }
    }
    out
}

fn seconds(n: u64) -> super::raw::DurationValue {
    super::raw::DurationValue(std::time::Duration::from_secs(n))
}

/// A Rust crate: clippy, whose errors break the build.
fn clippy() -> DetectedCheck {
    let mut c = check(
        "clippy",
        StageValue::Audit,
        &[
            "cargo",
            "clippy",
            "--all-targets",
            "--message-format=json",
            "--quiet",
        ],
        Format::Cargo,
    );
    c.files = strings(&["*.rs", "Cargo.toml", "Cargo.lock"]);
    c.timeout = Some(seconds(900));
    c.severity = Some(
        [
            ("error", crate::finding::Severity::Critical),
            ("warning", crate::finding::Severity::Medium),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), super::raw::SeverityValue(v)))
        .collect(),
    );
    DetectedCheck {
        reason: "Cargo.toml: a Rust crate".into(),
        check: c,
    }
}

/// Shell scripts, by extension or by a shell's shebang on an extensionless file.
fn shellcheck(
    paths: &[String],
    read_head: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<DetectedCheck> {
    let interpreters: Vec<String> = SHELL_INTERPRETERS.iter().map(|s| s.to_string()).collect();
    let shell = paths.iter().any(|p| {
        p.ends_with(".sh")
            || p.ends_with(".bash")
            || (!Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains('.'))
                && read_head(p).is_some_and(|h| shebang_matches(&h, &interpreters)))
    });
    if !shell {
        return None;
    }
    let mut c = check(
        "shellcheck",
        StageValue::Audit,
        &["shellcheck", "-f", "json1", "{files}"],
        Format::Shellcheck,
    );
    c.files = strings(&["*.sh", "*.bash"]);
    c.shebang = Some(interpreters);
    c.timeout = Some(seconds(60));
    Some(DetectedCheck {
        reason: "shell scripts (*.sh or a sh/bash shebang)".into(),
        check: c,
    })
}

/// A Python project: ruff, and pytest with JUnit output.
fn python() -> (DetectedCheck, DetectedCheck) {
    let mut c = check(
        "ruff",
        StageValue::Audit,
        // --no-fix: a project's `fix = true` would rewrite the audited files.
        &[
            "ruff",
            "check",
            "--no-fix",
            "--output-format",
            "json",
            "{files}",
        ],
        Format::Ruff,
    );
    c.files = strings(&["*.py", "*.pyi"]);
    let mut t = check(
        "pytest",
        StageValue::Test,
        &[
            "python3",
            "-m",
            "pytest",
            "-q",
            "--junitxml=.auditor-junit.xml",
        ],
        Format::Junit,
    );
    t.junit = Some(".auditor-junit.xml".into());
    (
        DetectedCheck {
            reason: "pyproject.toml/requirements.txt: a Python project".into(),
            check: c,
        },
        DetectedCheck {
            reason: "Python project: pytest with JUnit output".into(),
            check: t,
        },
    )
}

/// A Node project: eslint when the manifest lists it, `npm test` when it has a test script.
fn node(manifest: &serde_json::Value) -> (Option<DetectedCheck>, Option<DetectedCheck>) {
    let mentions_eslint = ["dependencies", "devDependencies"]
        .iter()
        .any(|k| manifest.get(k).and_then(|d| d.get("eslint")).is_some());
    let lint = mentions_eslint.then(|| {
        let mut c = check(
            "eslint",
            StageValue::Audit,
            &[
                "npx",
                "--no-install",
                "eslint",
                "--format",
                "json",
                "{files}",
            ],
            Format::Eslint,
        );
        c.files = strings(&["*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx"]);
        DetectedCheck {
            reason: "package.json lists eslint".into(),
            check: c,
        }
    });
    let tests = manifest
        .pointer("/scripts/test")
        .is_some()
        .then(|| DetectedCheck {
            reason: "package.json has a test script".into(),
            check: check(
                "npm-test",
                StageValue::Test,
                &["npm", "test", "--silent"],
                Format::ExitCode,
            ),
        });
    (lint, tests)
}

/// A setup step detection proposes: what the project needs installed before its tests can
/// run in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedSetup {
    /// Why: what in the repository suggested it.
    pub reason: String,
    /// The command.
    pub command: Vec<String>,
    /// The files whose change runs it again.
    pub when_changed: Vec<String>,
}

/// The virtual environment a proposed Python setup makes in the workspace (with the system's
/// packages, so that a pytest installed there is found), and its interpreter.
const VENV: &str = ".auditor-venv";
const VENV_PYTHON: &str = ".auditor-venv/bin/python";

/// Proposes the setup the project's tests need (its package installed, its dependencies in
/// `node_modules`), and points the detected test commands at what it installs.
pub fn detect_setup(paths: &[String], detected: &mut [DetectedCheck]) -> Option<DetectedSetup> {
    let has = |name: &str| paths.iter().any(|p| p == name);
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let python_test = detected
        .iter()
        .any(|d| d.check.command.first().is_some_and(|p| p == "python3"));
    if python_test {
        let installs = if has("pyproject.toml") || has("setup.py") {
            "-e ."
        } else if has("requirements.txt") {
            "-r requirements.txt"
        } else {
            return None;
        };
        let dev = [
            "requirements-dev.txt",
            "requirements/dev.txt",
            "dev-requirements.txt",
        ]
        .into_iter()
        .find(|f| has(f))
        .map_or(String::new(), |f| format!(" -r {f}"));
        for d in detected.iter_mut() {
            if d.check.command.first().is_some_and(|p| p == "python3") {
                d.check.command[0] = VENV_PYTHON.to_string();
            }
        }
        return Some(DetectedSetup {
            reason: format!("a Python project: its package and dependencies installed in {VENV}"),
            command: vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "python3 -m venv --system-site-packages {VENV} && {VENV_PYTHON} -m pip install --quiet {installs}{dev}"
                ),
            ],
            when_changed: own(&[
                "pyproject.toml",
                "setup.py",
                "setup.cfg",
                "requirements*.txt",
            ]),
        });
    }
    let npm_test = detected.iter().any(|d| {
        d.check
            .command
            .first()
            .is_some_and(|p| p == "npm" || p == "npx")
    });
    if npm_test && has("package.json") {
        let (command, lock) = if has("package-lock.json") || has("npm-shrinkwrap.json") {
            (own(&["npm", "ci"]), "package-lock.json")
        } else if has("yarn.lock") {
            (own(&["yarn", "install", "--frozen-lockfile"]), "yarn.lock")
        } else if has("pnpm-lock.yaml") {
            (
                own(&["pnpm", "install", "--frozen-lockfile"]),
                "pnpm-lock.yaml",
            )
        } else {
            (own(&["npm", "install"]), "package.json")
        };
        let mut when_changed = own(&["package.json", lock]);
        when_changed.dedup();
        return Some(DetectedSetup {
            reason: "package.json: the dependencies installed in node_modules".into(),
            command,
            when_changed,
        });
    }
    None
}

/// Whether `program` is a name on `PATH` or an executable path (from the current directory).
pub fn program_available(program: &str) -> bool {
    crate::runner::program_available(program, Path::new("."))
}

/// Whether everything a detected check needs is installed (for the embedded defaults).
pub fn check_installed(check: &RawCheck) -> bool {
    let Some(program) = check.command.first() else {
        return false;
    };
    if !program_available(program) {
        return false;
    }
    match (program.as_str(), check.command.get(1).map(String::as_str)) {
        ("cargo", Some("clippy")) => program_available("cargo-clippy"),
        ("npx", _) => true,
        _ => true,
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Shellcheck => "shellcheck",
        Format::Cargo => "cargo",
        Format::Ruff => "ruff",
        Format::Eslint => "eslint",
        Format::Sarif => "sarif",
        Format::Junit => "junit",
        Format::Lines => "lines",
        Format::GoTest => "go-test",
        Format::Rspec => "rspec",
        Format::Pyright => "pyright",
        Format::ExitCode => "exit-code",
    }
}

/// Renders the commented `auditor.toml` that `init` writes.
pub fn render_init_toml(detected: &[DetectedCheck], setup: Option<&DetectedSetup>) -> String {
    let mut s = String::new();
    s.push_str(
        "# auditor configuration, written by `auditor init`.\n\
         # Every key is optional; see examples/auditor.toml in the auditor's repository for all of them.\n\
         # Layers, lowest first: embedded defaults < this file < --config FILE < command-line flags.\n\n\
         [policy]\n\
         # The severity at or above which an audit fails (exit code 1).\n\
         fail_on = \"HIGH\"\n\
         # A CRITICAL static finding (a leaked key, a build break) skips the test stage.\n\
         skip_tests_on_critical = true\n\n\
         [runner]\n\
         # Checks run niced, each in its own process group, killed with the group on timeout.\n\
         nice = 10\n\
         timeout = \"5m\"\n\
         grace = \"2s\"\n\
         output_cap = \"4MiB\"\n\n\
         [secrets]\n\
         # Paths (globs) and regexes whose matches are never reported.\n\
         allow_paths = []\n\
         allow_regexes = []\n\
         # Rule files in gitleaks' format, beside the 156 built-in rules.\n\
         # rules = [\"team-rules.toml\"]\n\
         # Secrets accepted on adoption (`auditor baseline` writes it).\n\
         # baseline = \"auditor-baseline.json\"\n\n\
         [workspace]\n\
         # \"snapshot\": checks run in an isolated checkout of the audited commit under state/supervisor/.\n\
         mode = \"snapshot\"\n\
         # A setup command runs in the workspace before the checks: on the first audit, when a\n\
         # setup_when_changed file changed, when the setup changed here, and until it succeeds.\n",
    );
    match setup {
        Some(setup) => {
            s.push_str(&format!("# Detected: {}.\n", setup.reason));
            s.push_str(&format!("setup = {}\n", list(&setup.command)));
            s.push_str(&format!(
                "setup_when_changed = {}\n",
                list(&setup.when_changed)
            ));
        }
        None => s.push_str(
            "# setup = [\"npm\", \"ci\"]\n# setup_when_changed = [\"package-lock.json\"]\n",
        ),
    }
    if detected.is_empty() {
        s.push_str(
            "\n# No linter or test command was detected. Add one per [[check]] table, e.g.:\n\
             # [[check]]\n# name = \"tests\"\n# stage = \"test\"\n# command = [\"make\", \"test\"]\n",
        );
    }
    for d in detected {
        let c = &d.check;
        s.push_str(&format!("\n# Detected: {}.\n[[check]]\n", d.reason));
        s.push_str(&format!("name = {}\n", quote(&c.name)));
        let stage = match c.stage {
            Some(StageValue::Test) => "test",
            _ => "audit",
        };
        s.push_str(&format!("stage = {}\n", quote(stage)));
        s.push_str(&format!("command = {}\n", list(&c.command)));
        if let Some(files) = &c.files {
            s.push_str(&format!("files = {}\n", list(files)));
        }
        if let Some(sh) = &c.shebang {
            s.push_str(&format!("shebang = {}\n", list(sh)));
        }
        if let Some(f) = c.format {
            s.push_str(&format!("format = {}\n", quote(format_name(f))));
        }
        if let Some(j) = &c.junit {
            s.push_str(&format!("junit = {}\n", quote(j)));
        }
        if let Some(t) = c.timeout {
            s.push_str(&format!("timeout = \"{}s\"\n", t.0.as_secs()));
        }
        if let Some(map) = &c.severity {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", quote(v.0.as_str())))
                .collect();
            s.push_str(&format!("severity = {{ {} }}\n", parts.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Vec<String> {
        SHELL_INTERPRETERS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shebangs() {
        assert!(shebang_matches(b"#!/bin/sh\necho", &sh()));
        assert!(shebang_matches(b"#!/usr/bin/env bash\n", &sh()));
        assert!(shebang_matches(b"#!/usr/bin/env -S bash -e\n", &sh()));
        assert!(!shebang_matches(b"#!/usr/bin/env python3\n", &sh()));
        assert!(!shebang_matches(b"echo hi\n", &sh()));
    }

    #[test]
    fn rendered_init_config_parses_back() {
        let paths: Vec<String> = ["Cargo.toml", "a.sh", "tests/run_tests.sh", "pyproject.toml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let detected = detect_checks(&paths, &|_| None);
        let names: Vec<_> = detected.iter().map(|d| d.check.name.as_str()).collect();
        assert_eq!(names, ["clippy", "shellcheck", "ruff", "run-tests"]);
        let text = render_init_toml(&detected, None);
        let raw: super::super::RawConfig = toml::from_str(&text).expect("init output parses");
        assert_eq!(raw.check.map(|c| c.len()), Some(4));
    }

    fn owned(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_python_project_gets_a_virtual_environment_its_tests_run_in() {
        let paths = owned(&[
            "pyproject.toml",
            "src/pkg/__init__.py",
            "requirements-dev.txt",
        ]);
        let mut detected = detect_checks(&paths, &|_| None);
        let setup = detect_setup(&paths, &mut detected).expect("a setup");
        assert!(setup.command[2].ends_with("pip install --quiet -e . -r requirements-dev.txt"));
        let pytest = detected
            .iter()
            .find(|d| d.check.name == "pytest")
            .expect("pytest");
        assert_eq!(pytest.check.command[0], VENV_PYTHON);
        let text = render_init_toml(&detected, Some(&setup));
        let raw: super::super::RawConfig = toml::from_str(&text).expect("init output parses");
        let ws = raw.workspace.expect("workspace");
        assert_eq!(ws.setup, Some(setup.command.clone()));
        assert_eq!(ws.setup_when_changed, Some(setup.when_changed));
    }

    #[test]
    fn a_node_project_installs_from_its_lock_file() {
        let paths = owned(&["package.json", "package-lock.json"]);
        let manifest = br#"{"scripts": {"test": "mocha"}}"#.to_vec();
        let mut detected =
            detect_checks(&paths, &|p| (p == "package.json").then(|| manifest.clone()));
        let setup = detect_setup(&paths, &mut detected).expect("a setup");
        assert_eq!(setup.command, ["npm", "ci"]);
        assert_eq!(setup.when_changed, ["package.json", "package-lock.json"]);
        let bare = owned(&["package.json"]);
        let mut detected =
            detect_checks(&bare, &|p| (p == "package.json").then(|| manifest.clone()));
        let setup = detect_setup(&bare, &mut detected).expect("a setup");
        assert_eq!(setup.command, ["npm", "install"]);
        assert_eq!(setup.when_changed, ["package.json"]);
        // Nothing to install: no setup.
        let mut none = detect_checks(&owned(&["a.sh"]), &|_| None);
        assert_eq!(detect_setup(&owned(&["a.sh"]), &mut none), None);
    }
}
