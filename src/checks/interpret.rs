//! Turning a finished check (outcome, output, JUnit file) into a verdict and findings. Pure.

use std::path::Path;

use crate::config::{CheckSpec, Stage, go_work_uses, module_path};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::parsers::{self, Diagnostic, DiagnosticKind, Format, Parsed, TestCounts};
use crate::runner::{Outcome, ProcessResult};
use crate::secrets::clean_quoted;

/// How a check ended, as the report says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// It ran and found nothing at fault.
    Passed,
    /// It ran and found problems.
    Failed,
    /// It ran past its timeout and was killed.
    TimedOut,
    /// Its program is not installed.
    Unavailable,
    /// It could not give a trustworthy result.
    Error,
    /// It did not run (no matching files, or the stage was skipped).
    Skipped,
}

impl CheckOutcome {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::TimedOut => "timed_out",
            CheckOutcome::Unavailable => "unavailable",
            CheckOutcome::Error => "error",
            CheckOutcome::Skipped => "skipped",
        }
    }
}

/// One check's run, as the report records it.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// The check's name.
    pub name: String,
    /// Its stage.
    pub stage: Stage,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// Its exit code, when it exited by itself.
    pub exit_code: Option<i32>,
    /// Wall-clock time.
    pub duration_ms: u64,
    /// What it found (locations are assigned later by policy).
    pub findings: Vec<Finding>,
    /// Files it ran on.
    pub files: usize,
    /// Why it was skipped, when it was.
    pub note: Option<String>,
    /// Test counts, when the output carried them.
    pub tests: Option<TestCounts>,
    /// Whether its output exceeded the cap.
    pub output_truncated: bool,
    /// Whether processes outlived it and were killed.
    pub leaked_processes: bool,
    /// What was killed after it exited or at its timeout (`pid command line`).
    pub killed_processes: Vec<String>,
    /// What a failed test command's output says the environment lacks.
    pub blocker: Option<super::Blocker>,
}

impl CheckRun {
    /// A check that did not run.
    pub fn skipped(name: &str, stage: Stage, why: &str) -> CheckRun {
        CheckRun {
            name: name.into(),
            stage,
            outcome: CheckOutcome::Skipped,
            exit_code: None,
            duration_ms: 0,
            findings: Vec::new(),
            files: 0,
            note: Some(why.into()),
            tests: None,
            output_truncated: false,
            leaked_processes: false,
            killed_processes: Vec::new(),
            blocker: None,
        }
    }
}

fn finding(spec: &CheckSpec, issue_type: IssueType, severity: Severity, rule: &str) -> Finding {
    Finding {
        check: spec.name.clone(),
        rule: rule.into(),
        issue_type,
        severity,
        file: None,
        line: None,
        column: None,
        title: String::new(),
        description: String::new(),
        remediation: String::new(),
        snippet: None,
        location: Location::Preexisting,
        commit: None,
        fingerprint: String::new(),
        redacted: None,
    }
}

fn command_line(spec: &CheckSpec) -> String {
    spec.command.join(" ")
}

/// Interprets a finished check. `junit` is the XML file's content, when the check has one.
pub fn interpret(
    spec: &CheckSpec,
    result: &ProcessResult,
    junit: Option<&[u8]>,
    workspace: &Path,
) -> CheckRun {
    let is_test = spec.stage == Stage::Test;
    let mut run = CheckRun {
        name: spec.name.clone(),
        stage: spec.stage,
        outcome: CheckOutcome::Passed,
        exit_code: result.exit_code(),
        duration_ms: u64::try_from(result.duration.as_millis()).unwrap_or(u64::MAX),
        findings: Vec::new(),
        files: 0,
        note: None,
        tests: None,
        output_truncated: result.stdout.truncated() || result.stderr.truncated(),
        leaked_processes: result.leaked,
        killed_processes: result.killed.clone(),
        blocker: None,
    };
    if let Some((outcome, f)) = abnormal_end(spec, result) {
        run.outcome = outcome;
        run.findings.push(f);
        return run;
    }
    let code = result.exit_code().unwrap_or(-1);
    match parse_output(spec, result, junit, workspace) {
        Ok(parsed) => {
            run.tests = parsed.tests.or_else(|| summary_counts(is_test, result));
            run.findings = parsed
                .diagnostics
                .into_iter()
                .map(|d| resolve_source(d, workspace))
                .map(|d| diagnostic_finding(spec, d))
                .collect();
            if code != 0
                && run.findings.is_empty()
                && is_test
                && found_no_tests(result, code, run.tests)
            {
                // Nothing failed: the runner found no test. The counts say so, and the test
                // counts compared with the base's make a suite that vanished an issue.
                run.tests = Some(TestCounts::default());
                run.note = Some(format!("the runner found no test (exit {code})"));
            } else if code != 0 && run.findings.is_empty() {
                // A failing tool that says nothing we understand is never a pass.
                run.findings.push(silent_failure(spec, result, code));
            }
            run.outcome = if run.findings.is_empty() {
                CheckOutcome::Passed
            } else {
                CheckOutcome::Failed
            };
        }
        Err(why) => {
            run.findings
                .push(unreadable_output(spec, result, code, &why));
            run.outcome = CheckOutcome::Error;
        }
    }
    // A suite where nothing passed and the output names a missing module or program may
    // never have started: the engine decides whether the commit or the environment is why.
    let nothing_passed = run.tests.is_none_or(|t| t.passed() == 0);
    if is_test && code != 0 && nothing_passed && run.outcome != CheckOutcome::Passed {
        let text = format!("{}\n{}", result.stdout.text(), result.stderr.text());
        run.blocker = super::environment::blocker(&text);
    }
    // A linter whose launcher could not find it (`npx --no-install eslint` without
    // node_modules) never looked at the code: unavailable, not an error of the commit.
    let no_diagnostics = run
        .findings
        .iter()
        .all(|f| f.issue_type == IssueType::CheckError);
    if !is_test && code != 0 && (run.outcome == CheckOutcome::Error || no_diagnostics) {
        let text = format!("{}\n{}", result.stdout.text(), result.stderr.text());
        let lacking = match super::environment::blocker(&text) {
            Some(super::Blocker::NodePackage(package)) => Some((
                package,
                "is not in the workspace's node_modules".to_string(),
            )),
            Some(super::Blocker::GoModule(module)) => Some((
                module,
                "could not be downloaded: go cannot reach its module proxy".to_string(),
            )),
            Some(super::Blocker::Toolchain {
                needs,
                has,
                package,
            }) => Some((
                needs,
                format!("is what `{package}` requires, and this machine has {has}"),
            )),
            _ => python_module_missing(spec, &text),
        };
        if let Some((program, why)) = lacking {
            run.findings = vec![unavailable(spec, &program, &why)];
            run.outcome = CheckOutcome::Unavailable;
        }
    }
    run
}

/// A check run as `python -m MODULE` (mypy in the setup's virtual environment) whose
/// interpreter says it has no such module: the module is not installed there.
fn python_module_missing(spec: &CheckSpec, output: &str) -> Option<(String, String)> {
    let at = spec.command.iter().position(|a| a == "-m")?;
    let interpreter = spec.command[..at].last()?;
    let module = spec.command.get(at + 1)?;
    let is_python = std::path::Path::new(interpreter)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("python"));
    let says = format!(": No module named {module}");
    (is_python && output.lines().any(|l| l.trim_end().ends_with(&says))).then(|| {
        (
            module.clone(),
            format!("is not installed in the interpreter `{interpreter}` runs"),
        )
    })
}

/// A check whose program is not there: not on PATH, or a package its launcher could not find
/// (`npx --no-install eslint` with no node_modules). The machine's, not the code's.
fn unavailable(spec: &CheckSpec, program: &str, why: &str) -> Finding {
    let mut f = finding(
        spec,
        IssueType::CheckUnavailable,
        Severity::Medium,
        "unavailable",
    );
    f.title = format!("Check unavailable: `{program}` is not installed");
    f.description = format!(
        "The check `{}` could not run because its program `{program}` {why}. Nothing it would \
         have found is known.",
        spec.name
    );
    f.remediation = format!(
        "Install `{program}` on the machine running the auditor (for a project dependency, with \
         the workspace's setup), or remove or disable (`enabled = false`) the `{}` check in \
         auditor.toml.",
        spec.name
    );
    f
}

/// The end of the output, both streams, to quote in a finding. Cleaned whole, then cut: a key
/// block or a long line cut first is no longer what the scanner's rules recognise.
fn tail(result: &ProcessResult) -> String {
    let mut t = result.stdout.tail_lines_cleaned(25);
    let e = result.stderr.tail_lines_cleaned(15);
    if !e.trim().is_empty() {
        t.push_str("\n--- stderr ---\n");
        t.push_str(&e);
    }
    t
}

/// A check that did not run to an exit: not installed, not started, timed out, killed.
fn abnormal_end(spec: &CheckSpec, result: &ProcessResult) -> Option<(CheckOutcome, Finding)> {
    let is_test = spec.stage == Stage::Test;
    let program = &spec.command[0];
    let ended = match &result.outcome {
        Outcome::Exited(_) => return None,
        Outcome::NotFound => (
            CheckOutcome::Unavailable,
            unavailable(spec, program, "was not found on PATH"),
        ),
        Outcome::SpawnFailed(why) => {
            let mut f = finding(
                spec,
                IssueType::CheckError,
                Severity::Medium,
                "spawn-failed",
            );
            f.title = format!("Check `{}` could not start", spec.name);
            f.description = format!("Starting `{}` failed: {why}.", command_line(spec));
            f.remediation =
                "Check that the command is executable and its working directory exists.".into();
            (CheckOutcome::Error, f)
        }
        Outcome::TimedOut => (CheckOutcome::TimedOut, timed_out(spec, result)),
        Outcome::Signaled(sig) => {
            let (t, sev) = if is_test {
                (IssueType::TestFailure, Severity::High)
            } else {
                (IssueType::CheckError, Severity::Medium)
            };
            let mut f = finding(spec, t, sev, "signal");
            f.title = format!("`{}` was killed by signal {sig}", spec.name);
            f.description = format!(
                "`{}` ended on signal {sig} (a crash or an out-of-memory kill). Last output:\n\n{}",
                command_line(spec),
                tail(result)
            );
            f.remediation = "Reproduce the command locally; look for a crash, a stack overflow or memory exhaustion.".into();
            (CheckOutcome::Error, f)
        }
    };
    Some(ended)
}

fn timed_out(spec: &CheckSpec, result: &ProcessResult) -> Finding {
    let is_test = spec.stage == Stage::Test;
    let (t, sev) = if is_test {
        (IssueType::TestTimeout, Severity::High)
    } else {
        (IssueType::CheckTimeout, Severity::Medium)
    };
    let mut f = finding(spec, t, sev, "timeout");
    let secs = spec.timeout.as_secs_f64();
    f.title = if is_test {
        format!("Test suite timed out after {secs:.0}s")
    } else {
        format!("Check `{}` timed out after {secs:.0}s", spec.name)
    };
    f.description = format!(
        "`{}` ran past its timeout of {secs:.1}s. It was sent SIGTERM, then SIGKILL after \
         the grace period, with its whole process group. Last output:\n\n{}",
        command_line(spec),
        tail(result)
    );
    f.remediation = if is_test {
        "Find the test that hangs (a deadlock, an unbounded wait, a prompt for input with \
         stdin closed, a server never stopped) and make it finish; give slow tests an \
         explicit timeout. Raise the check's `timeout` only if the suite is legitimately slow."
            .into()
    } else {
        "Make the check faster (narrow its files) or raise its `timeout` in auditor.toml.".into()
    };
    f
}

/// The check's output read by its format's parser.
fn parse_output(
    spec: &CheckSpec,
    result: &ProcessResult,
    junit: Option<&[u8]>,
    workspace: &Path,
) -> Result<Parsed, String> {
    let source: Option<Vec<u8>> = match spec.format {
        Format::Junit => junit.map(<[u8]>::to_vec),
        Format::ExitCode => None,
        // Compilers and `go vet` print their diagnostics on stderr.
        Format::Lines | Format::GoTest => result.stdout.complete().and_then(|mut out| {
            out.push(b'\n');
            out.extend(result.stderr.complete()?);
            Some(out)
        }),
        _ => result.stdout.complete(),
    };
    match (spec.format, source) {
        (Format::ExitCode, _) => Ok(Parsed::default()),
        (Format::Junit, None) => Err(format!(
            "the JUnit file `{}` was not written",
            spec.junit.as_deref().unwrap_or_default()
        )),
        (_, None) => Err("its output exceeded the output cap and was truncated".into()),
        (format, Some(bytes)) => {
            let root = workspace.to_string_lossy();
            let go_modules = if format == Format::GoTest {
                go_modules(workspace)
            } else {
                Vec::new()
            };
            let context = parsers::ParseContext {
                root: &root,
                go_modules: &go_modules,
            };
            parsers::parse(format, &bytes, context).map_err(|e| e.to_string())
        }
    }
}

/// A diagnostic whose file is not in the tree as named (a JVM frame names the class's
/// package directory, `com/example/CalcTest.java`) is placed at the one file of the tree whose
/// path ends with it; with none or several, it stays as the tool said.
fn resolve_source(mut d: Diagnostic, workspace: &Path) -> Diagnostic {
    let Some(file) = d.file.as_deref() else {
        return d;
    };
    if file.is_empty() || workspace.join(file).exists() || !file.contains('/') {
        return d;
    }
    let suffix = format!("/{file}");
    let mut found = Vec::new();
    let mut stack = vec![(workspace.to_path_buf(), 0u8)];
    let mut seen = 0u32;
    while let Some((dir, depth)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            seen += 1;
            if seen > 100_000 || found.len() > 1 {
                return d;
            }
            let path = entry.path();
            let name = entry.file_name();
            match entry.file_type() {
                Ok(t)
                    if t.is_dir()
                        && depth < 16
                        && ![".git", "node_modules", "target", "build"]
                            .iter()
                            .any(|s| name == *s) =>
                {
                    stack.push((path, depth + 1));
                }
                Ok(t) if t.is_file() => {
                    if let Ok(rel) = path.strip_prefix(workspace)
                        && rel.to_string_lossy().ends_with(&suffix)
                    {
                        found.push(rel.to_string_lossy().into_owned());
                    }
                }
                _ => {}
            }
        }
    }
    if let [one] = found.as_slice() {
        d.file = Some(one.clone());
    }
    d
}

/// The Go modules of the workspace, (module path, directory): the root's go.mod, and the
/// directories a go.work `use`s.
fn go_modules(workspace: &Path) -> Vec<(String, String)> {
    let work = std::fs::read_to_string(workspace.join("go.work")).unwrap_or_default();
    let mut dirs = vec![String::new()];
    dirs.extend(go_work_uses(&work).into_iter().filter(|d| !d.is_empty()));
    dirs.into_iter()
        .filter_map(|dir| {
            let text = std::fs::read_to_string(workspace.join(&dir).join("go.mod")).ok()?;
            Some((module_path(&text)?, dir))
        })
        .collect()
}

/// One diagnostic the tool reported, as a finding at its place.
fn diagnostic_finding(spec: &CheckSpec, d: Diagnostic) -> Finding {
    let level = |default: Severity| spec.severity.get(&d.level).copied().unwrap_or(default);
    let (issue_type, severity) = match d.kind {
        DiagnosticKind::BuildError => (IssueType::BuildBreak, Severity::Critical),
        DiagnosticKind::TestFailure => (
            IssueType::TestFailure,
            level(Severity::High).max(Severity::High),
        ),
        DiagnosticKind::Lint => (IssueType::Lint, level(Severity::Medium)),
    };
    let mut f = finding(spec, issue_type, severity, &d.rule);
    let place = match (&d.file, d.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => spec.name.clone(),
    };
    f.title = match issue_type {
        IssueType::BuildBreak => format!("Build break: {}", d.message),
        IssueType::TestFailure => format!("Test failed: {}", d.rule),
        _ => format!("{} {}: {}", spec.name, d.rule, d.message),
    };
    f.description = format!(
        "`{}` reported {} `{}` at {place}: {}",
        spec.name,
        d.level,
        d.rule,
        clean_quoted(&d.message)
    );
    f.remediation = remediation_for(spec, issue_type, &d.rule);
    f.file = d.file;
    f.line = d.line;
    f.column = d.column;
    f
}

/// A non-zero exit with nothing parsed: the exit itself is the finding.
fn silent_failure(spec: &CheckSpec, result: &ProcessResult, code: i32) -> Finding {
    let is_test = spec.stage == Stage::Test;
    let exit_code_only = spec.format == Format::ExitCode;
    let (t, sev, rule) = if is_test {
        (IssueType::TestFailure, Severity::High, "exit-code")
    } else if exit_code_only {
        let sev = spec
            .severity
            .get("error")
            .copied()
            .unwrap_or(Severity::High);
        (IssueType::Lint, sev, "exit-code")
    } else {
        (IssueType::CheckError, Severity::Medium, "unparsed-failure")
    };
    let mut f = finding(spec, t, sev, rule);
    f.title = if is_test {
        format!("Test command `{}` failed (exit {code})", spec.name)
    } else if exit_code_only {
        format!("Check `{}` failed (exit {code})", spec.name)
    } else {
        format!(
            "Check `{}` failed without parseable output (exit {code})",
            spec.name
        )
    };
    f.description = format!(
        "`{}` exited with code {code}. Last output:\n\n{}",
        command_line(spec),
        tail(result)
    );
    f.remediation = if is_test {
        "Run the test command locally, fix the failing tests (or the code they test), and commit the fix. Do not skip or delete the tests.".into()
    } else {
        format!(
            "Run `{}` locally and fix what it reports.",
            command_line(spec)
        )
    };
    f
}

/// Output the format's parser could not read: never a pass.
fn unreadable_output(spec: &CheckSpec, result: &ProcessResult, code: i32, why: &str) -> Finding {
    let (t, sev) = if spec.stage == Stage::Test && code != 0 {
        (IssueType::TestFailure, Severity::High)
    } else {
        (IssueType::CheckError, Severity::Medium)
    };
    let mut f = finding(spec, t, sev, "unparsed-output");
    f.title = if code != 0 {
        format!(
            "`{}` failed without parseable output (exit {code})",
            spec.name
        )
    } else {
        format!("`{}` output could not be read", spec.name)
    };
    f.description = format!(
        "`{}` exited with code {code} and its output could not be read as {:?}: {why}. Last output:\n\n{}",
        command_line(spec),
        spec.format,
        tail(result)
    );
    f.remediation =
        "Run the command locally; check that its output format matches `format` in auditor.toml."
            .into();
    f
}

/// Whether a test command that exited non-zero did so because its runner found no test:
/// it says so and counted none (a run that counted tests, or failures, is no empty run).
fn found_no_tests(result: &ProcessResult, code: i32, counted: Option<TestCounts>) -> bool {
    let none_counted = counted.is_none_or(|c| c.total == 0 && c.failed == 0 && c.skipped == 0);
    none_counted
        && parsers::found_no_tests(
            &format!("{}\n{}", result.stdout.text(), result.stderr.text()),
            code,
        )
}

/// A test command's counts from its runner's summary lines, on either stream (jest prints
/// its summary on stderr).
fn summary_counts(is_test: bool, result: &ProcessResult) -> Option<TestCounts> {
    if !is_test {
        return None;
    }
    let complete = !result.stdout.truncated() && !result.stderr.truncated();
    let text = format!("{}\n{}", result.stdout.text(), result.stderr.text());
    parsers::test_summary(&text, complete)
}

fn remediation_for(spec: &CheckSpec, t: IssueType, rule: &str) -> String {
    match t {
        IssueType::BuildBreak => "The commit does not compile. Fix the error at the reported line before anything else: every later check and test depends on a working build.".into(),
        IssueType::TestFailure => format!("Fix the code (or the test, if its expectation is wrong) so that `{rule}` passes again, then commit. Do not skip, delete or weaken the test."),
        _ => match spec.format {
            Format::Shellcheck => format!("See https://www.shellcheck.net/wiki/{rule} for the fix; apply it at the reported line."),
            Format::Ruff => format!("See `ruff rule {rule}` for the fix; `ruff check --fix` applies the safe ones."),
            Format::Cargo => format!("Apply the compiler's suggestion for `{rule}` (`cargo clippy --fix` applies many)."),
            Format::Eslint => format!("See the ESLint documentation of `{rule}` and fix the reported line."),
            _ => format!("Fix what `{}` reports at the given line.", spec.name),
        },
    }
}
