//! The configuration exactly as written in TOML: every key optional, unknown keys rejected.
//!
//! Values that can be wrong (severities, durations, sizes, enums) are parsed during
//! deserialisation so that the TOML parser reports the line and column of the bad value.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::units::{parse_duration, parse_size};
use crate::finding::Severity;
use crate::parsers::Format;

/// A table of one layer: every key optional, unknown keys rejected, and `overlay` laying a
/// higher layer's keys over it, generated from the one list of its fields.
macro_rules! table {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($(#[$field_meta])* pub $field: $ty,)* }

        impl $name {
            /// Lays `top` over `self`: every key `top` sets wins.
            fn overlay(&mut self, top: &$name) {
                $( if top.$field.is_some() { self.$field = top.$field.clone(); } )*
            }
        }
    };
}

/// One configuration layer (a file, or the embedded defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The checks; when present, they replace the layers below.
    pub check: Option<Vec<RawCheck>>,
    /// Child-process settings.
    pub runner: Option<RawRunner>,
    /// Verdict policy.
    pub policy: Option<RawPolicy>,
    /// The built-in secret scanner.
    pub secrets: Option<RawSecrets>,
    /// Where checks run.
    pub workspace: Option<RawWorkspace>,
    /// Where the auditor writes.
    pub paths: Option<RawPaths>,
    /// The daemon (`auditor watch`).
    pub watch: Option<RawWatch>,
    /// The event log.
    pub events: Option<RawEvents>,
    /// Commands run on CRITICAL issues and escalations.
    pub hooks: Option<RawHooks>,
    /// Coverage and performance metrics.
    pub metrics: Option<RawMetrics>,
    /// The built-in guards against agent shortcuts.
    pub guards: Option<RawGuards>,
}

table! {
    /// The `[guards]` table.
    pub struct RawGuards {
        /// Run the guards.
        pub enabled: Option<bool>,
        /// Rule IDs switched off (`DEBUG_LEFTOVER`).
        pub disabled: Option<Vec<toml::Spanned<String>>>,
        /// Rule IDs re-ranked (`{ STUB_CODE = "HIGH" }`).
        pub severity: Option<BTreeMap<toml::Spanned<String>, SeverityValue>>,
        /// LARGE_FILE above this size.
        pub large_file: Option<SizeValue>,
        /// Folders where large and binary files are expected.
        pub asset_folders: Option<Vec<String>>,
    }
}

table! {
    /// The `[hooks]` table: commands run to reach the agent or a person.
    pub struct RawHooks {
        /// Run for each new CRITICAL issue (program and arguments).
        pub on_critical: Option<Vec<String>>,
        /// Run for each escalation.
        pub on_escalate: Option<Vec<String>>,
        /// How long a hook may run.
        pub timeout: Option<DurationValue>,
    }
}

table! {
    /// The `[metrics]` table.
    pub struct RawMetrics {
        /// An lcov or Cobertura file the test command writes, relative to the workspace.
        pub coverage: Option<String>,
        /// Coverage below this percentage is a MEDIUM issue.
        pub coverage_min: Option<f64>,
        /// A fall of more than this many points since the previous audit is a MEDIUM issue.
        pub coverage_drop_max: Option<f64>,
        /// A test stage slower than this times the recent median is a performance regression.
        pub perf_regression_ratio: Option<f64>,
        /// ...and slower than the median by more than this.
        pub perf_regression_min: Option<DurationValue>,
    }
}

/// A `[[check]]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Unique name, used in reports.
    pub name: String,
    /// `audit` (static) or `test`.
    pub stage: Option<StageValue>,
    /// Program and arguments; `{files}` expands to the matched files.
    pub command: Vec<String>,
    /// Globs of the files it runs on.
    pub files: Option<Vec<String>>,
    /// Extensionless scripts whose shebang names one of these interpreters also match.
    pub shebang: Option<Vec<String>>,
    /// Which parser reads its output.
    pub format: Option<Format>,
    /// How long it may run.
    pub timeout: Option<DurationValue>,
    /// The tool's levels mapped to our severities.
    pub severity: Option<BTreeMap<String, SeverityValue>>,
    /// `changed` (default) or `tree`.
    pub scope: Option<ScopeValue>,
    /// The JUnit XML file the command writes, relative to the workspace (format `junit`).
    pub junit: Option<String>,
    /// Set to false to keep the table but not run it.
    pub enabled: Option<bool>,
}

table! {
    /// The `[runner]` table.
    pub struct RawRunner {
        /// Nice level of every check (0 to 19).
        pub nice: Option<i32>,
        /// Default timeout of a check.
        pub timeout: Option<DurationValue>,
        /// How long a check has between SIGTERM and SIGKILL.
        pub grace: Option<DurationValue>,
        /// How much of a check's output is kept (head and tail).
        pub output_cap: Option<SizeValue>,
        /// How many checks of one stage run at once.
        pub jobs: Option<usize>,
    }
}

table! {
    /// The `[policy]` table.
    pub struct RawPolicy {
        /// The severity at or above which the audit fails (exit 1).
        pub fail_on: Option<SeverityValue>,
        /// Skip the test stage when a static check found something CRITICAL.
        pub skip_tests_on_critical: Option<bool>,
        /// Audited commits an open issue may survive after its feedback before it escalates.
        pub escalate_after_commits: Option<u32>,
        /// How many times in a row `auditor gate` may block a Stop hook on the same issues
        /// before it lets the stop through and tells the operator.
        pub gate_stop_blocks: Option<u32>,
        /// Who may acknowledge an issue: `terminal` (someone at an interactive terminal) or
        /// `anyone` (a script, an agent).
        pub ack: Option<AckValue>,
    }
}

/// `ack = "terminal" | "anyone"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AckValue {
    /// Only from an interactive terminal (the operator's).
    Terminal,
    /// From anywhere.
    Anyone,
}

impl AckValue {
    /// The name used in config and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AckValue::Terminal => "terminal",
            AckValue::Anyone => "anyone",
        }
    }
}

table! {
    /// The `[secrets]` table.
    pub struct RawSecrets {
        /// Run the built-in secret scanner.
        pub enabled: Option<bool>,
        /// Files larger than this are not scanned (and are counted in the report).
        pub max_file_size: Option<SizeValue>,
        /// Globs of paths never reported.
        pub allow_paths: Option<Vec<String>>,
        /// Regexes; a match whose value or line matches one is not reported.
        pub allow_regexes: Option<Vec<toml::Spanned<String>>>,
        /// Rule files in gitleaks' format, beside the built-in rules (repository-relative).
        pub rules: Option<Vec<String>>,
        /// The baseline file `auditor baseline` writes (repository-relative); used when present.
        pub baseline: Option<String>,
    }
}

table! {
    /// The `[workspace]` table.
    pub struct RawWorkspace {
        /// `snapshot` (default) or `live`.
        pub mode: Option<ModeValue>,
        /// A setup command run in the snapshot when a `setup_when_changed` file changed.
        pub setup: Option<Vec<String>>,
        /// Globs of files whose change triggers `setup`.
        pub setup_when_changed: Option<Vec<String>>,
        /// How long setup may run.
        pub setup_timeout: Option<DurationValue>,
    }
}

table! {
    /// The `[paths]` table (repo-relative folders).
    pub struct RawPaths {
        /// Reports: `logs/audit`.
        pub reports: Option<String>,
        /// The inbox: `tasks/supervisor_feedback`.
        pub inbox: Option<String>,
        /// State: `state/supervisor`.
        pub state: Option<String>,
    }
}

table! {
    /// The `[watch]` table: how the daemon sees changes and paces itself.
    pub struct RawWatch {
        /// How often HEAD is polled beside the watcher.
        pub poll_interval: Option<DurationValue>,
        /// Quiet time after the last change before an audit starts; changes closer together
        /// are one batch.
        pub debounce: Option<DurationValue>,
        /// Audit uncommitted changes once the working tree is quiet.
        pub uncommitted: Option<bool>,
        /// How long the working tree must be quiet before the uncommitted audit.
        pub uncommitted_quiet: Option<DurationValue>,
        /// Kill a running test stage when new commits arrive, and restart on the batch.
        pub preempt: Option<bool>,
        /// `[skip-audit]` commits in a row honoured before the daemon audits anyway.
        pub max_consecutive_skips: Option<u32>,
        /// How long WAIT_FOR_FIX lasts before returning to IDLE.
        pub wait_timeout: Option<DurationValue>,
        /// How often `status.json` is rewritten, even when idle.
        pub heartbeat: Option<DurationValue>,
        /// A heartbeat older than this means a hung daemon (for `status` and `watchdog`).
        pub stale_after: Option<DurationValue>,
    }
}

table! {
    /// The `[events]` table: the event log's rotation and retention.
    pub struct RawEvents {
        /// Rotate `events.jsonl` at this size.
        pub max_size: Option<SizeValue>,
        /// Delete rotated segments older than this.
        pub retention: Option<DurationValue>,
    }
}

macro_rules! parsed_string_value {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let parse: fn(&str) -> Result<$inner, String> = $parse;
                parse(&text).map($name).map_err(serde::de::Error::custom)
            }
        }
    };
}

parsed_string_value!(
    /// A duration written as `"30s"`.
    DurationValue, Duration, parse_duration);
parsed_string_value!(
    /// A size written as `"4MiB"`.
    SizeValue, u64, parse_size);
parsed_string_value!(
    /// A severity written as `"HIGH"`.
    SeverityValue, Severity, |s| s.parse());

/// `stage = "audit" | "test"`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageValue {
    /// Static checks.
    Audit,
    /// The test suite.
    Test,
}

/// `scope = "changed" | "tree"`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeValue {
    /// The files the audited commits changed.
    Changed,
    /// Every file of the tree.
    Tree,
}

/// `mode = "snapshot" | "live"`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeValue {
    /// An isolated checkout of the audited commit.
    Snapshot,
    /// The live working tree.
    Live,
}

impl RawConfig {
    /// Lays `top` over `self`: every key `top` sets wins; `[[check]]` tables replace the
    /// layers' below.
    pub fn overlay(&mut self, top: &RawConfig) {
        fn lay<T: Default>(base: &mut Option<T>, top: Option<&T>, overlay: fn(&mut T, &T)) {
            if let Some(t) = top {
                overlay(base.get_or_insert_with(T::default), t);
            }
        }
        if top.check.is_some() {
            self.check = top.check.clone();
        }
        lay(&mut self.runner, top.runner.as_ref(), RawRunner::overlay);
        lay(&mut self.policy, top.policy.as_ref(), RawPolicy::overlay);
        lay(&mut self.secrets, top.secrets.as_ref(), RawSecrets::overlay);
        lay(
            &mut self.workspace,
            top.workspace.as_ref(),
            RawWorkspace::overlay,
        );
        lay(&mut self.paths, top.paths.as_ref(), RawPaths::overlay);
        lay(&mut self.watch, top.watch.as_ref(), RawWatch::overlay);
        lay(&mut self.events, top.events.as_ref(), RawEvents::overlay);
        lay(&mut self.hooks, top.hooks.as_ref(), RawHooks::overlay);
        lay(&mut self.metrics, top.metrics.as_ref(), RawMetrics::overlay);
        lay(&mut self.guards, top.guards.as_ref(), RawGuards::overlay);
    }
}
