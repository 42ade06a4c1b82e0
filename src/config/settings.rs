//! Validated settings: what the engine runs on, with every default resolved and no `Option`s left.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use super::error::ConfigError;
use super::raw::{ModeValue, RawCheck, RawConfig, ScopeValue, StageValue};
use super::{CONFIG_FILE_NAME, DEFAULTS_TOML};
use crate::finding::Severity;
use crate::hooks::HookSettings;
use crate::parsers::Format;
use crate::runner::RunnerSettings;

/// The stage a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Static analysis (AUDITING).
    Audit,
    /// The test suite (TESTING).
    Test,
}

impl Stage {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Audit => "audit",
            Stage::Test => "test",
        }
    }
}

/// Which files a check runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The files the audited commits changed (that still exist).
    Changed,
    /// Every file in the tree.
    Tree,
}

/// Where checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceMode {
    /// An isolated, incrementally updated checkout of exactly the audited commit.
    Snapshot,
    /// The live working tree (opt-in).
    Live,
}

/// One resolved check.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// Unique name.
    pub name: String,
    /// Its stage.
    pub stage: Stage,
    /// Program and arguments (`{files}` still unexpanded).
    pub command: Vec<String>,
    /// File globs as written (empty: every file).
    pub file_globs: Vec<String>,
    /// The compiled globs.
    pub files: GlobSet,
    /// Interpreters whose shebang makes an extensionless file match.
    pub shebang: Vec<String>,
    /// The parser.
    pub format: Format,
    /// How long it may run.
    pub timeout: Duration,
    /// The tool's levels mapped to severities.
    pub severity: BTreeMap<String, Severity>,
    /// Changed files or the whole tree.
    pub scope: Scope,
    /// The JUnit file it writes, workspace-relative.
    pub junit: Option<String>,
}

/// `[policy]`, resolved.
#[derive(Debug, Clone)]
pub struct PolicySettings {
    /// At or above this, the audit fails.
    pub fail_on: Severity,
    /// Skip tests after a CRITICAL static finding.
    pub skip_tests_on_critical: bool,
    /// Audited commits an open issue may survive after its feedback before it escalates.
    pub escalate_after_commits: u32,
    /// Stop hooks in a row `auditor gate` blocks on the same issues before it lets go.
    pub gate_stop_blocks: u32,
    /// Who may acknowledge an issue.
    pub ack: super::raw::AckValue,
}

/// `[metrics]`, resolved.
#[derive(Debug, Clone)]
pub struct MetricSettings {
    /// The coverage file (lcov or Cobertura), workspace-relative.
    pub coverage: Option<String>,
    /// Minimum coverage, percent.
    pub coverage_min: Option<f64>,
    /// Largest allowed drop, percentage points.
    pub coverage_drop_max: f64,
    /// Test-stage slowdown that is a regression, as a ratio to the median of passing runs.
    pub perf_regression_ratio: f64,
    /// ...and in absolute time over that median (noise on a loaded machine is seconds).
    pub perf_regression_min: Duration,
}

pub use crate::secrets::SecretsSettings;

/// `[workspace]`, resolved.
#[derive(Debug, Clone)]
pub struct WorkspaceSettings {
    /// Snapshot or live.
    pub mode: WorkspaceMode,
    /// Setup command (empty: none).
    pub setup: Vec<String>,
    /// Files whose change triggers setup.
    pub setup_when_changed: GlobSet,
    /// How long setup may run.
    pub setup_timeout: Duration,
}

/// `[paths]`, resolved (repo-relative).
#[derive(Debug, Clone)]
pub struct PathSettings {
    /// Reports folder.
    pub reports: String,
    /// Inbox folder.
    pub inbox: String,
    /// State folder.
    pub state: String,
}

/// `[watch]`, resolved.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// HEAD poll interval beside the watcher.
    pub poll_interval: Duration,
    /// Quiet time before a batch is audited.
    pub debounce: Duration,
    /// Quiet time before uncommitted changes are audited; `None` when off.
    pub uncommitted_quiet: Option<Duration>,
    /// Kill running tests for a newer batch.
    pub preempt: bool,
    /// `[skip-audit]` commits in a row honoured.
    pub max_consecutive_skips: u32,
    /// WAIT_FOR_FIX timeout.
    pub wait_timeout: Duration,
    /// `status.json` refresh interval.
    pub heartbeat: Duration,
    /// Heartbeat age that means a hung daemon.
    pub stale_after: Duration,
}

/// `[events]`, resolved.
#[derive(Debug, Clone, Copy)]
pub struct EventSettings {
    /// Rotation size.
    pub max_size: u64,
    /// Segment retention.
    pub retention: Duration,
}

/// Everything the engine needs, validated once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Checks in config order.
    pub checks: Vec<CheckSpec>,
    /// Whether the checks came from detection rather than a config file.
    pub checks_detected: bool,
    /// Runner settings.
    pub runner: RunnerSettings,
    /// Policy settings.
    pub policy: PolicySettings,
    /// Secret scanner settings.
    pub secrets: SecretsSettings,
    /// Workspace settings.
    pub workspace: WorkspaceSettings,
    /// Output folders.
    pub paths: PathSettings,
    /// The daemon.
    pub watch: WatchSettings,
    /// The event log.
    pub events: EventSettings,
    /// Hooks.
    pub hooks: HookSettings,
    /// Metrics.
    pub metrics: MetricSettings,
    /// The guards (their supervision paths and test runners are filled in from the rest).
    pub guards: crate::guards::GuardSettings,
    /// The config files that were read, lowest layer first.
    pub sources: Vec<PathBuf>,
}

impl Settings {
    /// Where the auditor keeps its files in the repository at `root`, as these settings say.
    pub fn layout(&self, root: &Path) -> crate::store::Layout {
        crate::store::Layout::new(
            root,
            &self.paths.reports,
            &self.paths.inbox,
            &self.paths.state,
        )
    }
}

/// Check names the auditor's own findings use: a configured check of one of these names
/// would mix its issues with theirs in the ledger.
pub const RESERVED_CHECK_NAMES: [&str; 7] = [
    "secrets",
    "guards",
    "workspace",
    "ledger",
    "daemon",
    "supervision",
    "workspace-setup",
];

/// Parses one layer, turning every error into one that names file, line and column.
fn parse_layer(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ConfigError::at(path.to_path_buf(), text, offset, e.message().to_string())
    })?;
    if let Some(regexes) = raw.secrets.as_ref().and_then(|s| s.allow_regexes.as_ref()) {
        for r in regexes {
            if let Err(e) = Regex::new(r.get_ref()) {
                return Err(ConfigError::at(
                    path.to_path_buf(),
                    text,
                    r.span().start,
                    format!("invalid regex in secrets.allow_regexes: {e}"),
                ));
            }
        }
    }
    if let Some(g) = &raw.guards {
        let keys = g
            .disabled
            .iter()
            .flatten()
            .chain(g.severity.iter().flat_map(|m| m.keys()));
        for id in keys {
            if crate::guards::Rule::parse(id.get_ref()).is_none() {
                let known: Vec<&str> = crate::guards::Rule::ALL.iter().map(|r| r.id()).collect();
                return Err(ConfigError::at(
                    path.to_path_buf(),
                    text,
                    id.span().start,
                    format!(
                        "unknown guard `{}` (known: {})",
                        id.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(raw)
}

fn read_layer(path: &Path) -> Result<RawConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_layer(path, &text)
}

/// Loads the layered configuration for a repository.
///
/// `detect` is called only when no file defines `[[check]]`; it returns the detected checks.
pub fn load(
    repo_root: &Path,
    explicit: Option<&Path>,
    detect: impl FnOnce() -> Vec<RawCheck>,
) -> Result<Settings, ConfigError> {
    let mut merged = parse_layer(Path::new("<embedded defaults>"), DEFAULTS_TOML)?;
    let mut sources = Vec::new();
    let repo_file = repo_root.join(CONFIG_FILE_NAME);
    let mut layers = Vec::new();
    if repo_file.is_file() {
        layers.push(repo_file);
    }
    if let Some(p) = explicit {
        layers.push(p.to_path_buf());
    }
    for path in layers {
        let layer = read_layer(&path)?;
        merged.overlay(&layer);
        sources.push(path);
    }
    let checks_detected = merged.check.is_none();
    if checks_detected {
        merged.check = Some(detect());
    }
    let origin = sources
        .last()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("<embedded defaults>"));
    let mut settings = resolve(merged, checks_detected, sources, &origin)?;
    super::secret_files::attach(&mut settings.secrets, repo_root)?;
    Ok(settings)
}

/// The embedded defaults alone (no file, no detected checks).
pub fn embedded_defaults() -> Settings {
    let raw = parse_layer(Path::new("<embedded defaults>"), DEFAULTS_TOML).unwrap_or_default();
    resolve(raw, true, Vec::new(), Path::new("<embedded defaults>")).unwrap_or_else(|e| {
        // The defaults are compiled in and covered by tests; this cannot fail at run time.
        unreachable!("the embedded defaults are invalid: {e}")
    })
}

fn globs(patterns: &[String], origin: &Path, what: &str) -> Result<GlobSet, ConfigError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| ConfigError::Invalid {
            path: origin.to_path_buf(),
            message: format!("invalid glob `{p}` in {what}: {e}"),
        })?;
        b.add(glob);
        // A pattern without a slash matches the file name at any depth, like .gitignore.
        if !p.contains('/')
            && let Ok(g) = Glob::new(&format!("**/{p}"))
        {
            b.add(g);
        }
    }
    b.build().map_err(|e| ConfigError::Invalid {
        path: origin.to_path_buf(),
        message: format!("invalid globs in {what}: {e}"),
    })
}

fn default_severity_map() -> BTreeMap<String, Severity> {
    [
        ("error", Severity::High),
        ("warning", Severity::Medium),
        ("info", Severity::Low),
        ("note", Severity::Low),
        ("style", Severity::Low),
        ("help", Severity::Low),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn resolve(
    raw: RawConfig,
    checks_detected: bool,
    sources: Vec<PathBuf>,
    origin: &Path,
) -> Result<Settings, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: origin.to_path_buf(),
        message,
    };
    let runner = runner(raw.runner.unwrap_or_default(), &invalid)?;
    let paths = paths(raw.paths.unwrap_or_default(), &invalid)?;
    let checks = checks(raw.check.unwrap_or_default(), &runner, origin, &invalid)?;
    let guards = guards(raw.guards.unwrap_or_default(), &paths, &checks)?;
    Ok(Settings {
        policy: policy(raw.policy.unwrap_or_default())?,
        secrets: secrets(raw.secrets.unwrap_or_default(), origin, &invalid)?,
        workspace: workspace(raw.workspace.unwrap_or_default(), origin)?,
        watch: watch(raw.watch.unwrap_or_default(), &invalid)?,
        events: events(raw.events.unwrap_or_default())?,
        hooks: hooks(raw.hooks.unwrap_or_default())?,
        metrics: metrics(raw.metrics.unwrap_or_default(), &invalid)?,
        checks,
        checks_detected,
        runner,
        paths,
        guards,
        sources,
    })
}

/// A key the embedded defaults set, so that every layer has it: the defaults are its only
/// source (no second default here to drift from `defaults.toml`). Missing only if
/// `defaults.toml` lost the key, which `embedded_defaults_set_every_key` catches.
fn given<T>(value: Option<T>, key: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| ConfigError::Invalid {
        path: PathBuf::from("<embedded defaults>"),
        message: format!("`{key}` is not set; the embedded defaults.toml must set every key"),
    })
}

fn duration(value: Option<super::raw::DurationValue>, key: &str) -> Result<Duration, ConfigError> {
    given(value, key).map(|d| d.0)
}

type Invalid<'a> = dyn Fn(String) -> ConfigError + 'a;

fn runner(r: super::raw::RawRunner, invalid: &Invalid<'_>) -> Result<RunnerSettings, ConfigError> {
    let nice = given(r.nice, "runner.nice")?;
    if !(0..=19).contains(&nice) {
        return Err(invalid(format!("runner.nice must be 0 to 19, not {nice}")));
    }
    // The one default that is not a constant: the machine's cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(RunnerSettings {
        nice,
        timeout: duration(r.timeout, "runner.timeout")?,
        grace: duration(r.grace, "runner.grace")?,
        output_cap: usize::try_from(given(r.output_cap, "runner.output_cap")?.0)
            .unwrap_or(usize::MAX),
        jobs: r.jobs.unwrap_or(cores).max(1),
    })
}

fn policy(p: super::raw::RawPolicy) -> Result<PolicySettings, ConfigError> {
    Ok(PolicySettings {
        fail_on: given(p.fail_on, "policy.fail_on")?.0,
        skip_tests_on_critical: given(p.skip_tests_on_critical, "policy.skip_tests_on_critical")?,
        escalate_after_commits: given(p.escalate_after_commits, "policy.escalate_after_commits")?
            .max(1),
        gate_stop_blocks: given(p.gate_stop_blocks, "policy.gate_stop_blocks")?.max(1),
        ack: given(p.ack, "policy.ack")?,
    })
}

fn secrets(
    s: super::raw::RawSecrets,
    origin: &Path,
    invalid: &Invalid<'_>,
) -> Result<SecretsSettings, ConfigError> {
    let allow_regexes = given(s.allow_regexes, "secrets.allow_regexes")?
        .iter()
        .map(|r| Regex::new(r.get_ref()).map_err(|e| invalid(format!("invalid regex: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let allow_path_patterns = given(s.allow_paths, "secrets.allow_paths")?;
    Ok(SecretsSettings {
        enabled: given(s.enabled, "secrets.enabled")?,
        max_file_size: given(s.max_file_size, "secrets.max_file_size")?.0,
        allow_paths: globs(&allow_path_patterns, origin, "secrets.allow_paths")?,
        allow_path_patterns,
        allow_regexes,
        rule_files: given(s.rules, "secrets.rules")?,
        extra: Default::default(),
        baseline: Default::default(),
        baseline_path: given(s.baseline, "secrets.baseline")?,
        ignore: Default::default(),
    })
}

fn workspace(w: super::raw::RawWorkspace, origin: &Path) -> Result<WorkspaceSettings, ConfigError> {
    Ok(WorkspaceSettings {
        mode: match given(w.mode, "workspace.mode")? {
            ModeValue::Live => WorkspaceMode::Live,
            ModeValue::Snapshot => WorkspaceMode::Snapshot,
        },
        setup: given(w.setup, "workspace.setup")?,
        setup_when_changed: globs(
            &given(w.setup_when_changed, "workspace.setup_when_changed")?,
            origin,
            "workspace.setup_when_changed",
        )?,
        setup_timeout: duration(w.setup_timeout, "workspace.setup_timeout")?,
    })
}

fn paths(p: super::raw::RawPaths, invalid: &Invalid<'_>) -> Result<PathSettings, ConfigError> {
    let paths = PathSettings {
        reports: given(p.reports, "paths.reports")?,
        inbox: given(p.inbox, "paths.inbox")?,
        state: given(p.state, "paths.state")?,
    };
    for (key, value) in [
        ("reports", &paths.reports),
        ("inbox", &paths.inbox),
        ("state", &paths.state),
    ] {
        let p = Path::new(value);
        if value.is_empty()
            || p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(invalid(format!(
                "paths.{key} must be a relative folder inside the repository, not `{value}`"
            )));
        }
    }
    Ok(paths)
}

fn checks(
    raw: Vec<RawCheck>,
    runner: &RunnerSettings,
    origin: &Path,
    invalid: &Invalid<'_>,
) -> Result<Vec<CheckSpec>, ConfigError> {
    let mut checks = Vec::new();
    let mut names = HashSet::new();
    for c in raw {
        if c.enabled == Some(false) {
            continue;
        }
        if c.name.trim().is_empty() {
            return Err(invalid("a [[check]] has an empty name".into()));
        }
        if RESERVED_CHECK_NAMES.contains(&c.name.as_str()) {
            return Err(invalid(format!(
                "check name `{}` is reserved for the auditor's own findings (reserved: {})",
                c.name,
                RESERVED_CHECK_NAMES.join(", ")
            )));
        }
        if !names.insert(c.name.clone()) {
            return Err(invalid(format!("two checks are named `{}`", c.name)));
        }
        if c.command.is_empty() || c.command[0].is_empty() {
            return Err(invalid(format!("check `{}` has an empty command", c.name)));
        }
        let format = c.format.unwrap_or(Format::ExitCode);
        if format == Format::Junit && c.junit.is_none() {
            return Err(invalid(format!(
                "check `{}` has format \"junit\" but no `junit = \"path\"` of the XML file it writes",
                c.name
            )));
        }
        let mut severity = default_severity_map();
        for (k, v) in c.severity.unwrap_or_default() {
            severity.insert(k.to_ascii_lowercase(), v.0);
        }
        let file_globs = c.files.unwrap_or_default();
        checks.push(CheckSpec {
            files: globs(&file_globs, origin, &format!("check `{}` files", c.name))?,
            file_globs,
            shebang: c.shebang.unwrap_or_default(),
            stage: match c.stage {
                Some(StageValue::Test) => Stage::Test,
                _ => Stage::Audit,
            },
            command: c.command,
            format,
            timeout: c.timeout.map_or(runner.timeout, |d| d.0),
            severity,
            scope: match c.scope {
                Some(ScopeValue::Tree) => Scope::Tree,
                _ => Scope::Changed,
            },
            junit: c.junit,
            name: c.name,
        });
    }
    Ok(checks)
}

fn watch(w: super::raw::RawWatch, invalid: &Invalid<'_>) -> Result<WatchSettings, ConfigError> {
    let quiet = duration(w.uncommitted_quiet, "watch.uncommitted_quiet")?;
    let watch = WatchSettings {
        poll_interval: duration(w.poll_interval, "watch.poll_interval")?,
        debounce: duration(w.debounce, "watch.debounce")?,
        uncommitted_quiet: given(w.uncommitted, "watch.uncommitted")?.then_some(quiet),
        preempt: given(w.preempt, "watch.preempt")?,
        max_consecutive_skips: given(w.max_consecutive_skips, "watch.max_consecutive_skips")?,
        wait_timeout: duration(w.wait_timeout, "watch.wait_timeout")?,
        heartbeat: duration(w.heartbeat, "watch.heartbeat")?,
        stale_after: duration(w.stale_after, "watch.stale_after")?,
    };
    if watch.poll_interval.is_zero() || watch.heartbeat.is_zero() {
        return Err(invalid(
            "watch.poll_interval and watch.heartbeat must be above zero".into(),
        ));
    }
    if watch.heartbeat > Duration::from_secs(10) {
        return Err(invalid(
            "watch.heartbeat must be at most 10s (status and the watchdog rely on it)".into(),
        ));
    }
    if watch.stale_after <= watch.heartbeat * 2 {
        return Err(invalid(
            "watch.stale_after must be more than twice watch.heartbeat".into(),
        ));
    }
    Ok(watch)
}

fn events(e: super::raw::RawEvents) -> Result<EventSettings, ConfigError> {
    Ok(EventSettings {
        max_size: given(e.max_size, "events.max_size")?.0.max(1024),
        retention: duration(e.retention, "events.retention")?,
    })
}

fn hooks(h: super::raw::RawHooks) -> Result<HookSettings, ConfigError> {
    Ok(HookSettings {
        on_critical: given(h.on_critical, "hooks.on_critical")?,
        on_escalate: given(h.on_escalate, "hooks.on_escalate")?,
        timeout: duration(h.timeout, "hooks.timeout")?,
    })
}

fn metrics(
    m: super::raw::RawMetrics,
    invalid: &Invalid<'_>,
) -> Result<MetricSettings, ConfigError> {
    let metrics = MetricSettings {
        // Off unless a project names its coverage file and floor: no default.
        coverage: m.coverage,
        coverage_min: m.coverage_min,
        coverage_drop_max: given(m.coverage_drop_max, "metrics.coverage_drop_max")?,
        perf_regression_ratio: given(m.perf_regression_ratio, "metrics.perf_regression_ratio")?,
        perf_regression_min: duration(m.perf_regression_min, "metrics.perf_regression_min")?,
    };
    if metrics.perf_regression_ratio <= 1.0 {
        return Err(invalid(
            "metrics.perf_regression_ratio must be above 1.0".into(),
        ));
    }
    Ok(metrics)
}

fn guards(
    g: super::raw::RawGuards,
    paths: &PathSettings,
    checks: &[CheckSpec],
) -> Result<crate::guards::GuardSettings, ConfigError> {
    let mut supervision_paths = vec![
        CONFIG_FILE_NAME.to_string(),
        paths.reports.clone(),
        paths.inbox.clone(),
        paths.state.clone(),
    ];
    supervision_paths.dedup();
    Ok(crate::guards::GuardSettings {
        enabled: given(g.enabled, "guards.enabled")?,
        disabled: given(g.disabled, "guards.disabled")?
            .iter()
            .filter_map(|id| crate::guards::Rule::parse(id.get_ref()))
            .collect(),
        severity: given(g.severity, "guards.severity")?
            .iter()
            .filter_map(|(id, sev)| crate::guards::Rule::parse(id.get_ref()).map(|r| (r, sev.0)))
            .collect(),
        large_file: given(g.large_file, "guards.large_file")?.0,
        asset_folders: given(g.asset_folders, "guards.asset_folders")?,
        supervision_paths,
        test_runners: checks
            .iter()
            .filter(|c| c.stage == Stage::Test)
            .filter_map(|c| runner_script(&c.command))
            .collect(),
    })
}

/// The script in the repository a test command runs, if it runs one: the program itself
/// (`tests/run.sh`), or the script an interpreter is given (`bash ci/test.sh`). The files a
/// test tool is given as arguments (`pytest tests/test_api.py`) are tests, not the runner:
/// editing them is the agent's work.
fn runner_script(command: &[String]) -> Option<String> {
    const INTERPRETERS: [&str; 9] = [
        "sh", "bash", "zsh", "dash", "python", "python3", "node", "ruby", "perl",
    ];
    let in_repo = |a: &String| {
        (a.contains('/') || a.ends_with(".sh"))
            && !a.starts_with('-')
            && !a.starts_with('/')
            && !a.contains('{')
    };
    let program = command.first()?;
    let script = if INTERPRETERS.contains(&program.rsplit('/').next().unwrap_or(program)) {
        command.get(1).filter(|a| in_repo(a))
    } else {
        Some(program).filter(|a| in_repo(a))
    }?;
    Some(script.trim_start_matches("./").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runner_is_the_script_a_test_command_runs_not_its_arguments() {
        let runner =
            |args: &[&str]| runner_script(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert_eq!(
            runner(&["tests/run_tests.sh"]).as_deref(),
            Some("tests/run_tests.sh")
        );
        assert_eq!(runner(&["./run.sh", "--fast"]).as_deref(), Some("run.sh"));
        assert_eq!(
            runner(&["bash", "ci/test.sh"]).as_deref(),
            Some("ci/test.sh")
        );
        assert_eq!(runner(&["pytest", "tests/test_api.py"]), None);
        assert_eq!(runner(&["python", "-m", "pytest", "tests/unit"]), None);
        assert_eq!(runner(&["go", "test", "./..."]), None);
        assert_eq!(runner(&["/usr/bin/make", "test"]), None);
    }

    /// Every key has its default in `defaults.toml` only: resolving needs each of them.
    #[test]
    fn embedded_defaults_set_every_key() {
        let defaults = parse_layer(Path::new("<embedded defaults>"), DEFAULTS_TOML)
            .expect("the defaults parse");
        resolve(defaults.clone(), true, Vec::new(), Path::new("d")).expect("complete");
        // Without one of them resolving fails, naming the key.
        let mut missing = defaults;
        if let Some(w) = missing.watch.as_mut() {
            w.debounce = None;
        }
        let err = resolve(missing, true, Vec::new(), Path::new("d")).expect_err("incomplete");
        assert!(err.to_string().contains("watch.debounce"), "{err}");
    }

    #[test]
    fn embedded_defaults_parse_and_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = load(dir.path(), None, Vec::new).expect("defaults load");
        assert_eq!(s.runner.nice, 10);
        assert_eq!(s.policy.fail_on, Severity::High);
        assert_eq!(s.paths.inbox, "tasks/supervisor_feedback");
        assert!(s.checks_detected);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("auditor.toml");
        std::fs::write(&path, "[runner]\nnice = 5\nbogus = 1\n").expect("write");
        let err = load(dir.path(), None, Vec::new).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("auditor.toml:3:1:"), "{text}");
        assert!(text.contains("bogus"), "{text}");
    }

    #[test]
    fn bad_severity_value_is_located() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("auditor.toml");
        std::fs::write(&path, "[policy]\nfail_on = \"HIHG\"\n").expect("write");
        let text = load(dir.path(), None, Vec::new)
            .expect_err("must fail")
            .to_string();
        assert!(text.contains("auditor.toml:2:11:"), "{text}");
        assert!(text.contains("unknown severity"), "{text}");
    }

    #[test]
    fn later_layer_checks_replace_detected_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("auditor.toml"),
            "[[check]]\nname = \"x\"\ncommand = [\"true\"]\ntimeout = \"7s\"\n",
        )
        .expect("write");
        let s = load(dir.path(), None, || panic!("detection must not run")).expect("load");
        assert_eq!(s.checks.len(), 1);
        assert_eq!(s.checks[0].timeout, Duration::from_secs(7));
        assert!(!s.checks_detected);
    }
}
