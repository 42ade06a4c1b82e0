//! A Python project: ruff; mypy and pyright when the project configures them; pytest with
//! JUnit output, so test failures have files and lines.

use super::super::raw::{SeverityValue, StageValue};
use super::propose::{DetectedCheck, check, strings};
use super::tree::Tree;
use crate::finding::Severity;
use crate::parsers::Format;

const PYTHON_FILES: [&str; 2] = ["*.py", "*.pyi"];

/// The linters and pytest, for a tree with a Python manifest at the root.
pub fn detect(tree: &Tree) -> Option<(Vec<DetectedCheck>, DetectedCheck)> {
    let manifest = tree.first_of(&["pyproject.toml", "setup.py", "requirements.txt"])?;
    let mut lint = vec![ruff(manifest)];
    let pyproject = tree.text("pyproject.toml");
    let mypy_config = if pyproject.contains("[tool.mypy]") {
        Some("pyproject.toml [tool.mypy]")
    } else if let Some(ini) = tree.first_of(&["mypy.ini", ".mypy.ini"]) {
        Some(ini)
    } else if tree.text("setup.cfg").contains("[mypy]") {
        Some("setup.cfg [mypy]")
    } else {
        None
    };
    lint.extend(mypy_config.map(mypy));
    let pyright_config = if tree.has("pyrightconfig.json") {
        Some("pyrightconfig.json")
    } else if pyproject.contains("[tool.pyright]") {
        Some("pyproject.toml [tool.pyright]")
    } else {
        None
    };
    lint.extend(pyright_config.map(pyright));
    Some((lint, pytest()))
}

fn ruff(manifest: &str) -> DetectedCheck {
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
    c.files = strings(&PYTHON_FILES);
    DetectedCheck::new(format!("{manifest}: a Python project"), c)
}

/// mypy as a module of the interpreter the setup prepares, so that it sees the project's
/// dependencies; one line per error, with its column and `[code]`.
fn mypy(config: &str) -> DetectedCheck {
    let mut c = check(
        "mypy",
        StageValue::Audit,
        &[
            "python3",
            "-m",
            "mypy",
            "--no-error-summary",
            "--show-column-numbers",
            "--show-error-codes",
            "--no-pretty",
            "--no-color-output",
            "{files}",
        ],
        Format::Lines,
    );
    c.files = strings(&PYTHON_FILES);
    // A note explains the error before it; it is no finding of its own weight.
    c.severity = Some(
        [("error", Severity::Medium), ("note", Severity::Low)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), SeverityValue(v)))
            .collect(),
    );
    DetectedCheck::new(format!("{config}: the project type-checks with mypy"), c)
}

fn pyright(config: &str) -> DetectedCheck {
    let mut c = check(
        "pyright",
        StageValue::Audit,
        &["pyright", "--outputjson", "{files}"],
        Format::Pyright,
    );
    c.files = strings(&PYTHON_FILES);
    DetectedCheck::new(format!("{config}: the project type-checks with pyright"), c)
}

fn pytest() -> DetectedCheck {
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
    DetectedCheck::new("Python project: pytest with JUnit output", t)
}
