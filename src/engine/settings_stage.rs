//! The settings an audit runs with, against those the auditor last ran with
//! (`state/supervisor/supervision.json`): `auditor.toml` is untracked, so switching a scanner
//! off there is no commit and no guard sees it. A change that weakens the supervision is a
//! CRITICAL SUPERVISION_TAMPERING issue in every audit until the settings supervise as much as
//! before, or until the operator acknowledges that issue (from a terminal, see
//! `auditor inbox ack`): then the weaker settings become the baseline. Any other change is
//! reported in the report and the event log, and becomes the new baseline.

use crate::config::supervision::{Change, Snapshot, changes, snapshot};
use crate::config::{AckValue, Settings, embedded_defaults};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::ledger::Ledger;
use crate::store::{AtomicWriteError, Layout, write_atomic_exact};

fn path(layout: &Layout) -> std::path::PathBuf {
    layout.state_dir.join("supervision.json")
}

/// What comparing the settings found.
pub struct SettingsCheck {
    /// Every setting that changed since the baseline.
    pub changes: Vec<Change>,
    /// The CRITICAL issue, when a change weakens the supervision and the operator has not
    /// accepted it.
    pub finding: Option<Finding>,
    /// The ID of the acknowledged issue that accepted this audit's weakening.
    pub accepted: Option<String>,
    /// The settings of this audit, to become the baseline when nothing weakened.
    pub current: Snapshot,
}

/// The baseline: what the auditor last ran with. With none on record but audits on record
/// (the file deleted, or corrupt), the embedded defaults stand in: a missing baseline must not
/// let weakened settings through.
fn baseline(layout: &Layout) -> Option<Snapshot> {
    let recorded = std::fs::read(path(layout))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|v| v["schema_version"] == 1)
        .and_then(|v| serde_json::from_value::<Snapshot>(v["settings"].clone()).ok());
    match recorded {
        Some(s) => Some(s),
        None if layout.report_count() > 0 => Some(snapshot(&embedded_defaults())),
        None => None,
    }
}

/// Compares `settings` with the baseline; `ledger` says whether the operator accepted a
/// weakening. What the scanner's rules recognise in the settings is redacted before anything
/// else (a hook's webhook URL, a token in a check's command): it reaches neither the baseline
/// nor any output. Only the rules, so that the same settings compare equal in every process;
/// the outputs' sinks also hide the secrets the audit found.
pub fn check(layout: &Layout, settings: &Settings, ledger: &Ledger) -> SettingsCheck {
    let mut current = snapshot(settings);
    current.values_mut().for_each(scrub_value);
    let found = baseline(layout).map_or_else(Vec::new, |b| changes(&b, &current));
    let weaker: Vec<&Change> = found.iter().filter(|c| c.weakens).collect();
    let mut finding = (!weaker.is_empty()).then(|| tampering(&weaker, &found, settings));
    let accepted = finding.as_ref().and_then(|f| {
        ledger
            .entries
            .iter()
            .find(|e| {
                e.check == f.check
                    && e.rule == f.rule
                    && e.ack.is_some()
                    && e.key.ends_with(&format!("\u{1f}{}", f.fingerprint))
            })
            .map(|e| e.id.clone())
    });
    if accepted.is_some() {
        finding = None;
    }
    SettingsCheck {
        changes: found,
        finding,
        accepted,
        current,
    }
}

/// Who may acknowledge an issue: `anyone` only when both the settings and the baseline say
/// so, so that an agent cannot open the gate by editing the config and acking at once.
pub fn ack_policy(layout: &Layout, settings: &Settings) -> AckValue {
    let recorded = baseline(layout).map(|b| b.get("policy.ack").cloned());
    let baseline_allows = match recorded {
        None => true, // no baseline and no audit yet: the settings are the first word
        Some(v) => v == Some(serde_json::json!(AckValue::Anyone.as_str())),
    };
    if settings.policy.ack == AckValue::Anyone && baseline_allows {
        AckValue::Anyone
    } else {
        AckValue::Terminal
    }
}

/// Redacts every secret in the strings of `v`.
fn scrub_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = crate::secrets::clean_by_rules(s).into_owned(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_value),
        serde_json::Value::Object(map) => map.values_mut().for_each(scrub_value),
        _ => {}
    }
}

/// Records the settings of an audit as the baseline, unless they weaken it.
pub fn record(layout: &Layout, checked: &SettingsCheck) -> Result<(), AtomicWriteError> {
    if checked.finding.is_some() {
        return Ok(());
    }
    let text = serde_json::json!({ "schema_version": 1, "settings": checked.current });
    let bytes = format!("{text:#}\n");
    if std::fs::read(path(layout)).is_ok_and(|old| old == bytes.as_bytes()) {
        return Ok(());
    }
    // Exact: cleaned already, by the rules alone, so that every process compares alike.
    write_atomic_exact(&path(layout), bytes.as_bytes())
}

fn tampering(weaker: &[&Change], all: &[Change], settings: &Settings) -> Finding {
    let listed: Vec<String> = weaker
        .iter()
        .map(|c| format!("`{}`", c.describe()))
        .collect();
    let described: Vec<String> = weaker.iter().map(|c| c.describe()).collect();
    let digest = crate::bytes::short_digest(described.iter().map(String::as_str));
    let sources: Vec<String> = settings
        .sources
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect();
    let diff: Vec<String> = all
        .iter()
        .map(|c| {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref()
                    .map_or("(not set)".into(), serde_json::Value::to_string)
            };
            format!(
                "{}{} = {} → {}",
                if c.weakens { "! " } else { "  " },
                c.key,
                show(&c.before),
                show(&c.after)
            )
        })
        .collect();
    Finding {
        check: "supervision".into(),
        rule: "settings-weakened".into(),
        issue_type: IssueType::SupervisionTampering,
        severity: Severity::Critical,
        file: None,
        line: None,
        column: None,
        title: format!(
            "The supervision was weakened outside any commit ({} setting{})",
            weaker.len(),
            if weaker.len() == 1 { "" } else { "s" }
        ),
        description: format!(
            "The settings of this audit supervise less than those the auditor last ran with: {}. The configuration is untracked, so no commit records the change. Read from: {}.",
            listed.join(", "),
            if sources.is_empty() {
                "the embedded defaults".to_string()
            } else {
                sources.join(", ")
            }
        ),
        remediation: "Restore the settings: this issue resolves with the first audit whose settings supervise as much as before. If you, the operator, weakened them on purpose, accept it from your terminal with `auditor inbox ack ID --reason \"...\"`.".into(),
        snippet: Some(diff.join("\n")),
        location: Location::Introduced,
        commit: None,
        fingerprint: format!("settings:{digest}"),
        redacted: None,
    }
}
