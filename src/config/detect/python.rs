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
    let setup_cfg = tree.text("setup.cfg");
    let mypy_config = if pyproject.contains("[tool.mypy]") {
        Some((
            "pyproject.toml [tool.mypy]",
            sets_files(&pyproject, "[tool.mypy]"),
        ))
    } else if let Some(ini) = tree.first_of(&["mypy.ini", ".mypy.ini"]) {
        Some((ini, sets_files(&tree.text(ini), "[mypy]")))
    } else if setup_cfg.contains("[mypy]") {
        Some(("setup.cfg [mypy]", sets_files(&setup_cfg, "[mypy]")))
    } else {
        None
    };
    lint.extend(mypy_config.map(|(config, own_files)| mypy(config, own_files)));
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
///
/// A config that names its `files` has chosen what is type-checked: mypy runs on those (named
/// files would override them: click checks src/click strictly, not its tests). Otherwise it
/// runs on the changed files.
fn mypy(config: &str, own_files: bool) -> DetectedCheck {
    let mut command = vec![
        "python3",
        "-m",
        "mypy",
        "--no-error-summary",
        "--show-column-numbers",
        "--show-error-codes",
        "--no-pretty",
        "--no-color-output",
    ];
    if !own_files {
        command.push("{files}");
    }
    let mut c = check("mypy", StageValue::Audit, &command, Format::Lines);
    c.files = strings(&PYTHON_FILES);
    // A note explains the error before it; it is no finding of its own weight.
    c.severity = Some(
        [("error", Severity::Medium), ("note", Severity::Low)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), SeverityValue(v)))
            .collect(),
    );
    let scope = if own_files {
        ", on the files it names"
    } else {
        ""
    };
    DetectedCheck::new(
        format!("{config}: the project type-checks with mypy{scope}"),
        c,
    )
}

/// pyright on the project its config describes (its `include`): files named on the command
/// line would override that and check what the project does not.
fn pyright(config: &str) -> DetectedCheck {
    let mut c = check(
        "pyright",
        StageValue::Audit,
        &["pyright", "--outputjson"],
        Format::Pyright,
    );
    c.files = strings(&PYTHON_FILES);
    DetectedCheck::new(format!("{config}: the project type-checks with pyright"), c)
}

/// Whether the config section `header` (`[mypy]`, `[tool.mypy]`) sets `files`.
fn sets_files(config: &str, header: &str) -> bool {
    config
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .any(|l| {
            l.strip_prefix("files")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
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

#[cfg(test)]
mod tests {
    use super::sets_files;

    #[test]
    fn a_mypy_config_that_names_its_files() {
        let click = "[tool.mypy]\npython_version = \"3.10\"\nfiles = [\"src/click\", \"tests/typing\"]\nstrict = true\n";
        assert!(sets_files(click, "[tool.mypy]"));
        let later = "[tool.mypy]\nstrict = true\n\n[tool.other]\nfiles = [\"x\"]\n";
        assert!(!sets_files(later, "[tool.mypy]"));
        assert!(sets_files("[mypy]\nfiles = src\n", "[mypy]"));
        assert!(!sets_files("[mypy]\nfiles_extra = 1\n", "[mypy]"));
    }
}
