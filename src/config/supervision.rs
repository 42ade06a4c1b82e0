//! How much the settings supervise, as keyed values that two runs can compare: what changed,
//! and whether a change weakens the supervision (a scanner, guard or check off, `fail_on`
//! raised, a threshold loosened, an allowlist widened, a skip limit raised...).
//!
//! `auditor.toml` is untracked, so a change to it is no commit and no guard sees it; the engine
//! compares the settings of each audit with those the previous one ran with instead. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::settings::{Scope, Settings, Stage, WorkspaceMode};
use crate::finding::Severity;

/// The settings as keyed values (`secrets.enabled = true`, `check.pytest.command = [...]`).
pub type Snapshot = BTreeMap<String, Value>;

/// One setting that differs between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Its key.
    pub key: String,
    /// Before (none: it was not set, such as a check that did not exist).
    pub before: Option<Value>,
    /// After (none: it is gone).
    pub after: Option<Value>,
    /// Whether the change supervises less.
    pub weakens: bool,
}

impl Change {
    /// `key: before → after`, for feedback; a list that changed shows what it gained and
    /// lost (a baseline holds hundreds of entries).
    pub fn describe(&self) -> String {
        if let (Some(Value::Array(before)), Some(Value::Array(after))) = (&self.before, &self.after)
            && before.len() + after.len() > 8
        {
            let show = |items: Vec<&Value>| {
                let shown: Vec<String> = items.iter().take(5).map(|v| v.to_string()).collect();
                let more = items.len().saturating_sub(5);
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{}{tail}", shown.join(", "))
            };
            let added: Vec<&Value> = after.iter().filter(|v| !before.contains(v)).collect();
            let removed: Vec<&Value> = before.iter().filter(|v| !after.contains(v)).collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("{} added: {}", added.len(), show(added)));
            }
            if !removed.is_empty() {
                parts.push(format!("{} removed: {}", removed.len(), show(removed)));
            }
            return format!("{}: {}", self.key, parts.join("; "));
        }
        let show = |v: &Option<Value>| v.as_ref().map_or("(not set)".to_string(), Value::to_string);
        format!(
            "{}: {} → {}",
            self.key,
            show(&self.before),
            show(&self.after)
        )
    }
}

fn sorted(items: impl IntoIterator<Item = String>) -> Value {
    let set: BTreeSet<String> = items.into_iter().collect();
    json!(set)
}

/// What the secret scanner's settings supervise: a rule file's rules, its allowlists, the
/// adoption baseline and `.gitleaksignore` count with the settings.
fn secrets(m: &mut Snapshot, s: &crate::secrets::SecretsSettings) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("secrets.enabled", json!(s.enabled));
    put("secrets.max_file_size", json!(s.max_file_size));
    put(
        "secrets.allow_paths",
        sorted(s.allow_path_patterns.iter().cloned()),
    );
    put(
        "secrets.allow_regexes",
        sorted(s.allow_regexes.iter().map(|r| r.as_str().to_string())),
    );
    let extra = &s.extra.sets;
    put(
        "secrets.rules",
        sorted(extra.iter().flat_map(|set| {
            set.rules
                .iter()
                .map(|r| format!("{} {} {}", r.id, r.origin, r.regex))
        })),
    );
    put(
        "secrets.rule_allowlists",
        sorted(extra.iter().flat_map(|set| {
            set.allowlists
                .iter()
                .map(|a| format!("* {}", a.describe()))
                .chain(set.rules.iter().flat_map(|r| {
                    r.allowlists
                        .iter()
                        .map(move |a| format!("{} {}", r.id, a.describe()))
                }))
        })),
    );
    put("secrets.baseline", sorted(s.baseline.keys()));
    put("secrets.ignore", sorted(s.ignore.keys()));
}

/// What `settings` supervise.
pub fn snapshot(s: &Settings) -> Snapshot {
    let mut m = Snapshot::new();
    secrets(&mut m, &s.secrets);
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("guards.enabled", json!(s.guards.enabled));
    put(
        "guards.disabled",
        sorted(s.guards.disabled.iter().map(|r| r.id().to_string())),
    );
    for rule in crate::guards::Rule::ALL {
        put(
            &format!("guards.severity.{}", rule.id()),
            json!(s.guards.severity(rule).as_str()),
        );
    }
    put("guards.large_file", json!(s.guards.large_file));
    put(
        "guards.asset_folders",
        sorted(s.guards.asset_folders.iter().cloned()),
    );
    put("policy.fail_on", json!(s.policy.fail_on.as_str()));
    put(
        "policy.skip_tests_on_critical",
        json!(s.policy.skip_tests_on_critical),
    );
    put(
        "policy.escalate_after_commits",
        json!(s.policy.escalate_after_commits),
    );
    put("policy.gate_stop_blocks", json!(s.policy.gate_stop_blocks));
    put("policy.ack", json!(s.policy.ack.as_str()));
    put(
        "watch.uncommitted",
        json!(s.watch.uncommitted_quiet.is_some()),
    );
    put(
        "watch.max_consecutive_skips",
        json!(s.watch.max_consecutive_skips),
    );
    put("metrics.coverage", json!(s.metrics.coverage));
    put("metrics.coverage_min", json!(s.metrics.coverage_min));
    put(
        "metrics.coverage_drop_max",
        json!(s.metrics.coverage_drop_max),
    );
    put(
        "metrics.perf_regression_ratio",
        json!(s.metrics.perf_regression_ratio),
    );
    put(
        "metrics.perf_regression_min",
        json!(s.metrics.perf_regression_min.as_secs_f64()),
    );
    put("hooks.on_critical", json!(s.hooks.on_critical));
    put("hooks.on_escalate", json!(s.hooks.on_escalate));
    put(
        "workspace.mode",
        json!(match s.workspace.mode {
            WorkspaceMode::Snapshot => "snapshot",
            WorkspaceMode::Live => "live",
        }),
    );
    put("paths.reports", json!(s.paths.reports));
    put("paths.inbox", json!(s.paths.inbox));
    put("paths.state", json!(s.paths.state));
    for c in &s.checks {
        let k = |field: &str| format!("check.{}.{field}", c.name);
        put(&k("command"), json!(c.command));
        put(
            &k("stage"),
            json!(match c.stage {
                Stage::Audit => "audit",
                Stage::Test => "test",
            }),
        );
        put(
            &k("files"),
            sorted(c.file_globs.iter().chain(&c.shebang).cloned()),
        );
        put(&k("format"), json!(format!("{:?}", c.format)));
        put(
            &k("scope"),
            json!(match c.scope {
                Scope::Changed => "changed",
                Scope::Tree => "tree",
            }),
        );
        put(&k("junit"), json!(c.junit));
        put(&k("timeout_s"), json!(c.timeout.as_secs()));
        for (level, sev) in &c.severity {
            put(&k(&format!("severity.{level}")), json!(sev.as_str()));
        }
    }
    m
}

/// The checks of a snapshot, by name, with their commands.
fn checks(s: &Snapshot) -> BTreeMap<&str, &Value> {
    s.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("check.")?.strip_suffix(".command")?;
            Some((name, v))
        })
        .collect()
}

/// Every setting that differs, by key. A check that appears or goes away is one change
/// (`check.NAME`, its command before and after), not one per field.
pub fn changes(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let (old_checks, new_checks) = (checks(before), checks(after));
    let whole: BTreeSet<&str> = old_checks
        .keys()
        .filter(|n| !new_checks.contains_key(*n))
        .chain(new_checks.keys().filter(|n| !old_checks.contains_key(*n)))
        .copied()
        .collect();
    let of_whole = |k: &str| {
        whole.iter().any(|n| {
            k.strip_prefix("check.")
                .and_then(|r| r.strip_prefix(n))
                .is_some_and(|r| r.starts_with('.'))
        })
    };
    let mut out: Vec<Change> = whole
        .iter()
        .map(|n| {
            let (b, a) = (
                old_checks.get(n).map(|v| (*v).clone()),
                new_checks.get(n).map(|v| (*v).clone()),
            );
            Change {
                key: format!("check.{n}"),
                weakens: a.is_none(),
                before: b,
                after: a,
            }
        })
        .collect();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    out.extend(
        keys.into_iter()
            .filter(|k| before.get(*k) != after.get(*k) && !of_whole(k))
            .map(|k| {
                let (b, a) = (before.get(k).cloned(), after.get(k).cloned());
                Change {
                    weakens: weakens(k, b.as_ref(), a.as_ref()),
                    key: k.clone(),
                    before: b,
                    after: a,
                }
            }),
    );
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn severity(v: Option<&Value>) -> Option<Severity> {
    v?.as_str()?.parse().ok()
}

fn number(v: Option<&Value>) -> Option<f64> {
    v?.as_f64()
}

fn set(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// Whether changing `key` from `before` to `after` supervises less.
fn weakens(key: &str, before: Option<&Value>, after: Option<&Value>) -> bool {
    let field = key.rsplit('.').next().unwrap_or(key);
    // A setting that appears (a check added) supervises more; one that goes away is judged
    // like its value becoming nothing.
    if before.is_none() {
        return false;
    }
    match key {
        "secrets.enabled" | "guards.enabled" | "watch.uncommitted" => {
            before == Some(&json!(true)) && after != Some(&json!(true))
        }
        "policy.skip_tests_on_critical" => after == Some(&json!(true)),
        "policy.fail_on" => severity(after).is_none_or(|a| severity(before).is_some_and(|b| a > b)),
        "policy.escalate_after_commits"
        | "watch.max_consecutive_skips"
        | "guards.large_file"
        | "metrics.coverage_drop_max"
        | "metrics.perf_regression_ratio"
        | "metrics.perf_regression_min" => {
            number(after).is_none_or(|a| number(before).is_some_and(|b| a > b))
        }
        // Fewer blocks before the gate lets a stop through supervises less.
        "policy.gate_stop_blocks" => {
            number(after).is_none_or(|a| number(before).is_some_and(|b| a < b))
        }
        "secrets.max_file_size" => {
            number(after).is_none_or(|a| number(before).is_some_and(|b| a < b))
        }
        "metrics.coverage_min" => {
            number(before).is_some()
                && number(after).is_none_or(|a| number(before).is_some_and(|b| a < b))
        }
        "secrets.rules" => !set(before).is_subset(&set(after)),
        "secrets.allow_paths"
        | "secrets.allow_regexes"
        | "secrets.rule_allowlists"
        | "secrets.baseline"
        | "secrets.ignore"
        | "guards.disabled"
        | "guards.asset_folders" => !set(after).is_subset(&set(before)),
        "policy.ack" => after != Some(&json!("terminal")),
        "workspace.mode" => after != Some(&json!("snapshot")),
        "metrics.coverage" | "hooks.on_critical" | "hooks.on_escalate" => !is_empty(before),
        _ if key.starts_with("paths.") => true,
        _ if key.starts_with("guards.severity.") => {
            severity(after).is_none_or(|a| severity(before).is_some_and(|b| a < b))
        }
        _ if key.starts_with("check.") => match field {
            "timeout_s" => false,
            // No globs means every file: from none to some, or losing one, checks fewer files.
            "files" => {
                let (b, a) = (set(before), set(after));
                after.is_none() || (!a.is_empty() && (b.is_empty() || !b.is_subset(&a)))
            }
            "scope" => after != Some(&json!("tree")) && before == Some(&json!("tree")),
            _ if key.contains(".severity.") => {
                severity(after).is_none_or(|a| severity(before).is_some_and(|b| a < b))
            }
            // command, stage, format, junit: the check runs differently or not at all.
            _ => true,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("auditor.toml"), toml).expect("write");
        super::super::load(dir.path(), None, Vec::new).expect("load")
    }

    fn weakened(before: &str, after: &str) -> Vec<String> {
        changes(&snapshot(&settings(before)), &snapshot(&settings(after)))
            .into_iter()
            .filter(|c| c.weakens)
            .map(|c| c.key)
            .collect()
    }

    const CHECK: &str = "[[check]]\nname = \"t\"\nstage = \"test\"\ncommand = [\"pytest\"]\n";

    #[test]
    fn a_long_list_that_changed_shows_what_it_gained() {
        let before: Vec<String> = (0..10).map(|i| format!("e{i}")).collect();
        let mut after = before.clone();
        after.push("new".into());
        let c = Change {
            key: "secrets.baseline".into(),
            before: Some(json!(before)),
            after: Some(json!(after)),
            weakens: true,
        };
        assert_eq!(c.describe(), "secrets.baseline: 1 added: \"new\"");
    }

    #[test]
    fn what_supervises_less_is_a_weakening() {
        assert_eq!(
            weakened("", "[secrets]\nenabled = false\n"),
            ["secrets.enabled"]
        );
        assert_eq!(
            weakened("", "[guards]\nenabled = false\n"),
            ["guards.enabled"]
        );
        assert_eq!(
            weakened("", "[guards]\ndisabled = [\"TEST_DISABLED\"]\n"),
            ["guards.disabled"]
        );
        assert_eq!(
            weakened("", "[guards]\nseverity = { TEST_DISABLED = \"LOW\" }\n"),
            ["guards.severity.TEST_DISABLED"]
        );
        assert_eq!(
            weakened("", "[policy]\nfail_on = \"CRITICAL\"\n"),
            ["policy.fail_on"]
        );
        assert_eq!(
            weakened("", "[secrets]\nallow_paths = [\"src/**\"]\n"),
            ["secrets.allow_paths"]
        );
        assert_eq!(
            weakened("", "[watch]\nmax_consecutive_skips = 100\n"),
            ["watch.max_consecutive_skips"]
        );
        // A gate that lets a looping Stop hook through sooner; more blocks is stricter.
        assert_eq!(
            weakened("", "[policy]\ngate_stop_blocks = 1\n"),
            ["policy.gate_stop_blocks"]
        );
        assert!(weakened("", "[policy]\ngate_stop_blocks = 5\n").is_empty());
        assert_eq!(weakened(CHECK, ""), ["check.t"]);
        assert_eq!(
            weakened(
                CHECK,
                "[[check]]\nname = \"t\"\nstage = \"test\"\ncommand = [\"true\"]\n"
            ),
            ["check.t.command"]
        );
        assert_eq!(
            weakened(
                "[metrics]\ncoverage_min = 90.0\n",
                "[metrics]\ncoverage_min = 50.0\n"
            ),
            ["metrics.coverage_min"]
        );
    }

    #[test]
    fn what_supervises_as_much_or_more_is_not() {
        assert!(weakened("", "[policy]\nfail_on = \"MEDIUM\"\n").is_empty());
        assert!(weakened("", CHECK).is_empty());
        assert!(
            weakened(
                "[secrets]\nallow_paths = [\"a\", \"b\"]\n",
                "[secrets]\nallow_paths = [\"a\"]\n"
            )
            .is_empty()
        );
        assert!(
            weakened(
                CHECK,
                &CHECK.replace("[\"pytest\"]", "[\"pytest\"]\ntimeout = \"1h\"")
            )
            .is_empty()
        );
        assert!(weakened("[runner]\nnice = 5\n", "[runner]\nnice = 15\n").is_empty());
        assert!(weakened("", "[hooks]\non_critical = [\"notify\"]\n").is_empty());
        // Changes that weaken nothing are still changes.
        let all = changes(
            &snapshot(&settings("")),
            &snapshot(&settings("[policy]\nfail_on = \"MEDIUM\"\n")),
        );
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].describe(), "policy.fail_on: \"HIGH\" → \"MEDIUM\"");
    }
}
