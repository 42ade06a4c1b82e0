//! The setup a project's checks need in the workspace before they run (its package installed,
//! its dependencies in `node_modules`), and the test commands pointed at what it installs.

use super::propose::DetectedCheck;
use super::tree::Tree;

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
pub(super) const VENV_PYTHON: &str = ".auditor-venv/bin/python";

/// Proposes the setup the project's tests need (its package installed, its dependencies in
/// `node_modules`), and points the detected test commands at what it installs.
pub fn detect_setup(tree: &Tree, detected: &mut [DetectedCheck]) -> Option<DetectedSetup> {
    let has = |name: &str| tree.has(name);
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
