//! A test stage that could not start is the environment's, not the commit's: a src-layout
//! package never installed, a dependency installed at another version than the tests need, a
//! `node_modules` never filled, a program not on PATH. Unless the
//! commit asked for it (changed the dependency manifests, imports the missing module in its
//! own lines, moved the project's Python files away), its failures become one MEDIUM
//! TEST_ENVIRONMENT issue saying what is missing and how the operator provides it. An
//! environment in which the base commit's tests passed did not lack it before: then the
//! commit broke it (or prints the words to look like it), and its failures stand.

use std::collections::HashSet;

use git2::Oid;

use crate::checks::{Blocker, CheckOutcome, CheckRun, imports, is_dependency_manifest};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{ChangedFile, FileStatus, Repo};
use crate::ledger::Ledger;

/// The test checks with an open TEST_ENVIRONMENT issue in `ledger`.
pub fn known_lacking(ledger: &Ledger) -> HashSet<String> {
    ledger
        .entries
        .iter()
        .filter(|e| e.issue_type == IssueType::TestEnvironment && e.life.is_open())
        .map(|e| e.check.clone())
        .collect()
}

/// Rewrites the failures of test runs that could not start for want of something the commit
/// did not ask for; `base_passed`: whether the audit of the base commit ran its tests green;
/// `known_lacking`: the checks whose environment an earlier audit found lacking and that no
/// audit has seen run since (a commit that then bumps a lock file, as most do, did not break
/// what was already broken); `setup_unavailable`: the workspace's setup could not run in this
/// audit (its program is not installed), so nothing a manifest asks for was installed,
/// whatever the commit changed. A setup that ran and failed is not enough: a commit that
/// breaks its own manifest makes the install fail, and that failure is the commit's.
pub fn blame_environment(
    runs: &mut [CheckRun],
    repo: &Repo,
    target: Oid,
    changes: &[ChangedFile],
    base_passed: bool,
    known_lacking: &HashSet<String>,
    setup_unavailable: bool,
) {
    if base_passed {
        return;
    }
    for run in runs.iter_mut() {
        let Some(blocker) = run.blocker.clone() else {
            continue;
        };
        let unprepared = setup_unavailable || known_lacking.contains(&run.name);
        if !unprepared && commit_asked_for(&blocker, repo, target, changes) {
            continue;
        }
        let output = run
            .findings
            .iter()
            .find(|f| f.issue_type == IssueType::TestFailure)
            .map(|f| f.description.clone())
            .unwrap_or_default();
        run.findings
            .retain(|f| f.issue_type != IssueType::TestFailure);
        let src_layout = |name: &str| {
            repo.tree_files(target).unwrap_or_default().iter().any(|p| {
                let p = p.to_string_lossy();
                p.starts_with(&format!("src/{name}/")) || p == format!("src/{name}.py").as_str()
            })
        };
        let own_package = matches!(&blocker, Blocker::PythonModule(m) if src_layout(m));
        run.findings.push(environment_finding(
            &run.name,
            &blocker,
            own_package,
            &output,
        ));
        run.outcome = CheckOutcome::Error;
    }
}

fn is_python(path: &str) -> bool {
    path.ends_with(".py") || path.ends_with(".pyi")
}

fn is_javascript(path: &str) -> bool {
    [".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Whether the commit's own changes explain what is missing.
fn commit_asked_for(blocker: &Blocker, repo: &Repo, target: Oid, changes: &[ChangedFile]) -> bool {
    // A project may require a newer compiler (a raised `rust-version`): the machine's to
    // provide, not a fault of the code.
    // Nor is a module proxy the machine cannot reach.
    if matches!(blocker, Blocker::Toolchain { .. } | Blocker::GoModule(_)) {
        return false;
    }
    changes.iter().any(|c| {
        if is_dependency_manifest(&c.path)
            || c.old_path.as_deref().is_some_and(is_dependency_manifest)
        {
            return true;
        }
        let relevant = match blocker {
            Blocker::PythonModule(_) | Blocker::PythonVersion { .. } => is_python(&c.path),
            Blocker::NodePackage(_) => is_javascript(&c.path),
            Blocker::Program(_) | Blocker::Toolchain { .. } | Blocker::GoModule(_) => false,
        };
        if !relevant {
            return false;
        }
        // The project's own modules moved or went away.
        if c.status == FileStatus::Deleted || c.old_path.is_some() {
            return matches!(blocker, Blocker::PythonModule(_));
        }
        repo.file_head(target, &c.exact, 4 << 20)
            .is_some_and(|content| {
                String::from_utf8_lossy(&content)
                    .lines()
                    .enumerate()
                    .any(|(i, line)| {
                        u32::try_from(i + 1).is_ok_and(|n| c.added_lines.contains(&n))
                            && imports(line, blocker)
                    })
            })
    })
}

fn environment_finding(check: &str, blocker: &Blocker, own_package: bool, output: &str) -> Finding {
    let name = blocker.name();
    let (title, what, remediation) = match blocker {
        Blocker::PythonModule(_) if own_package => (
            format!("Tests could not run: the project's package `{name}` is not installed"),
            format!("`{name}` lives under `src/` (a src layout), which is importable only once the project is installed"),
            "For the operator: install the project where the checks run, with a setup step in auditor.toml, e.g. `[workspace] setup = [\"sh\", \"-c\", \"python3 -m venv --system-site-packages .auditor-venv && .auditor-venv/bin/python -m pip install -e .\"]` and `setup_when_changed = [\"pyproject.toml\", \"setup.py\", \"setup.cfg\"]`, and run the tests with `.auditor-venv/bin/python -m pytest`; `auditor init` proposes this. The next audit runs a new or changed setup.".to_string(),
        ),
        Blocker::PythonModule(_) => (
            format!("Tests could not run: the Python module `{name}` is not installed"),
            format!("`{name}` is a dependency the workspace's Python does not have"),
            "For the operator: install the project's dependencies where the checks run, with a setup step in auditor.toml (`[workspace] setup`, e.g. a virtual environment with `pip install -e .` or `pip install -r requirements.txt`; `auditor init` proposes one). The next audit runs a new or changed setup.".to_string(),
        ),
        Blocker::PythonVersion { name: missing, .. } => (
            format!("Tests could not run: the installed `{name}` is not the version the tests need"),
            format!("the tests import `{missing}` from `{name}`, which the installed version does not have"),
            format!("For the operator: install the versions the project pins for its tests where the checks run, with a setup step in auditor.toml (`[workspace] setup`: a virtual environment without `--system-site-packages`, with `pip install -e .` and the project's test requirements or lock file), so that `{name}` is the version the tests were written for. The next audit runs a new or changed setup."),
        ),
        Blocker::NodePackage(_) => (
            format!("Tests could not run: the package `{name}` is not in node_modules"),
            format!("`{name}` could not be resolved: the workspace's `node_modules` lacks it"),
            "For the operator: install the dependencies where the checks run: `[workspace] setup = [\"npm\", \"ci\"]` and `setup_when_changed = [\"package.json\", \"package-lock.json\"]` in auditor.toml (`auditor init` proposes it). The next audit runs a new or changed setup.".to_string(),
        ),
        Blocker::Toolchain { has, package, .. } => (
            format!("Tests could not run: the project needs {name}; this machine has {has}"),
            format!("`{package}` requires {name}, and the installed compiler is {has}"),
            format!(
                "For the operator: install {name} or newer where the checks run ({how}). The next audit runs with it.",
                how = if name.starts_with("go ") {
                    "https://go.dev/dl, or GOTOOLCHAIN=auto where go may download it"
                } else {
                    "`rustup update`, or a toolchain the project pins in rust-toolchain.toml"
                }
            ),
        ),
        Blocker::GoModule(_) => (
            format!("Tests could not run: the Go module `{name}` could not be downloaded"),
            format!("go could not connect to its module proxy to download `{name}`"),
            "For the operator: let go reach its module proxy where the checks run (a network, or GOPROXY pointing at a reachable mirror), or fill the module cache ahead (`go mod download` with the same GOMODCACHE). The next audit runs with it.".to_string(),
        ),
        Blocker::Program(_) => (
            format!("Tests could not run: the program `{name}` is not installed"),
            format!("the test command ran `{name}`, which is not on PATH (exit 127 from its shell)"),
            format!("For the operator: install `{name}` on the machine running the auditor, or, when it is a project dependency (a test runner in node_modules/.bin), install the dependencies in a setup step (`[workspace] setup = [\"npm\", \"ci\"]`; `auditor init` proposes it). The next audit runs a new or changed setup."),
        ),
    };
    Finding {
        check: check.to_string(),
        rule: "environment".into(),
        issue_type: IssueType::TestEnvironment,
        severity: Severity::Medium,
        file: None,
        line: None,
        column: None,
        title,
        description: format!(
            "The test command `{check}` failed before any test passed, and its output says why: {what}. {whose}; nothing is known of this commit's tests until it is fixed.\n\n{output}",
            whose = if matches!(blocker, Blocker::Toolchain { .. }) {
                "The compiler a project requires is the machine's to provide, so this is the environment, not the code"
            } else if matches!(blocker, Blocker::GoModule(_)) {
                "A module proxy the machine cannot reach is the environment, not the code"
            } else {
                "The commit changed no dependency manifest and does not import it, so this is the environment, not the code"
            }
        ),
        remediation,
        snippet: None,
        location: Location::Preexisting,
        commit: None,
        fingerprint: String::new(),
        redacted: None,
    }
}
