//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers, as GitHub reads it:
//! `security-severity` only on security rules (GitHub makes every result of such a rule a
//! security alert) and `problem.severity` on the others; `primaryLocationLineHash`, the
//! fingerprint GitHub tracks alerts by; full regions; `runAutomationDetails.id`, so that
//! `audit` and `scan` uploads of one commit do not replace each other; the `%SRCROOT%` base
//! defined; the commit in `versionControlProvenance` and, for a history scan, on each
//! result; an acknowledged issue as an accepted suppression.
//!
//! GitHub requires every result to have a location; findings about the commit as a whole (a
//! test suite that timed out) become tool notifications, described in the driver's
//! `notifications`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::finding::Severity;
use crate::policy::Issue;

/// What one SARIF run is about, besides its issues.
pub struct SarifRun<'a> {
    /// The kind of analysis (`audit`, `scan-history`, ...): with the tool's name, the run's
    /// category on GitHub.
    pub kind: &'a str,
    /// The repository's working-tree root (`%SRCROOT%`).
    pub root: &'a Path,
    /// The commit analysed, when there is one.
    pub commit: Option<&'a str>,
    /// The repository's remote, for `versionControlProvenance`.
    pub repository_uri: Option<String>,
    /// The text of the line an issue points at, when known (for the fingerprint and region).
    pub line_text: &'a dyn Fn(&Issue) -> Option<String>,
    /// Acknowledged issues' IDs and the operator's reasons.
    pub acknowledged: &'a BTreeMap<String, String>,
}

/// GitHub's `security-severity`: >= 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, < 4 low.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// GitHub's `problem.severity` for a rule that is not about security.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "recommendation",
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn rule_id(i: &Issue) -> String {
    format!("{}/{}", i.finding.check, i.finding.rule)
}

fn rule(id: &str, i: &Issue) -> Value {
    let f = &i.finding;
    let mut properties = json!({ "precision": "high" });
    if f.issue_type.is_security() {
        properties["security-severity"] = json!(security_severity(f.severity));
        properties["tags"] = json!(["security", f.check]);
    } else {
        properties["problem.severity"] = json!(problem_severity(f.severity));
        properties["tags"] = json!([f.check]);
    }
    json!({
        "id": id,
        "name": id.replace(['/', '-', ':'], "_"),
        "shortDescription": { "text": format!("{} ({})", f.issue_type.as_str(), f.rule) },
        "fullDescription": { "text": f.title },
        "help": { "text": f.remediation, "markdown": f.remediation },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": properties,
    })
}

/// A line's hash as GitHub's fingerprints use it: its text without surrounding whitespace,
/// hashed, and which occurrence of that text in the file it is (`hash:n`).
fn line_hash(text: &str, occurrence: u32) -> String {
    let digest = Sha256::digest(text.trim().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{hex}:{occurrence}")
}

/// The region of an issue: its line, from its column (or the line's first non-blank
/// character) to the line's end when the line is known.
fn region(i: &Issue, line_text: Option<&str>) -> Value {
    let f = &i.finding;
    let line = f.line.unwrap_or(1).max(1);
    let indent = line_text.map_or(0, |t| t.len() - t.trim_start().len());
    let start = f
        .column
        .map_or_else(|| u32::try_from(indent).unwrap_or(0) + 1, |c| c.max(1));
    let mut region = json!({ "startLine": line, "startColumn": start, "endLine": line });
    if let Some(t) = line_text {
        let end = u32::try_from(t.trim_end().chars().count()).unwrap_or(u32::MAX) + 1;
        region["endColumn"] = json!(end.max(start + 1));
    }
    region
}

/// A folder's `file://` URI (absolute, with a trailing slash, as `originalUriBaseIds` needs),
/// each byte outside a path's unreserved characters percent-encoded.
pub fn file_uri(root: &Path) -> String {
    let mut s = String::from("file://");
    for &b in root.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Renders issues as a SARIF log of one run.
pub fn render(issues: &[Issue], run: &SarifRun<'_>) -> String {
    let mut rules: BTreeMap<String, &Issue> = BTreeMap::new();
    for i in issues.iter().filter(|i| i.finding.file.is_some()) {
        // The most severe instance describes the rule (issues arrive ranked).
        rules.entry(rule_id(i)).or_insert(i);
    }
    let index: BTreeMap<&String, usize> = rules.keys().enumerate().map(|(n, k)| (k, n)).collect();
    let rule_values: Vec<Value> = rules.iter().map(|(id, i)| rule(id, i)).collect();
    let (descriptors, notifications) = notifications(issues);
    let mut sarif_run = json!({
        "tool": { "driver": {
            "name": "auditor",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/auditor-dev/auditor",
            "rules": rule_values,
            "notifications": descriptors,
        }},
        "automationDetails": { "id": format!("auditor/{}/", run.kind) },
        "originalUriBaseIds": { "%SRCROOT%": { "uri": file_uri(run.root) } },
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }],
        "results": results(issues, run, &index),
    });
    if let Some(commit) = run.commit {
        sarif_run["versionControlProvenance"] = json!([{
            "repositoryUri": run.repository_uri.clone().unwrap_or_else(|| file_uri(run.root)),
            "revisionId": commit,
            "mappedTo": { "uriBaseId": "%SRCROOT%" },
        }]);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [sarif_run],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// A result per issue in a file, located, fingerprinted, suppressed when acknowledged.
fn results(issues: &[Issue], run: &SarifRun<'_>, index: &BTreeMap<&String, usize>) -> Vec<Value> {
    let mut occurrences: HashMap<(String, String), u32> = HashMap::new();
    issues
        .iter()
        .filter_map(|i| {
            let f = &i.finding;
            let file = f.file.as_ref()?;
            let id = rule_id(i);
            let text = (run.line_text)(i);
            let hash_of = text.clone().unwrap_or_else(|| f.fingerprint.clone());
            let n = occurrences
                .entry((file.clone(), hash_of.trim().to_string()))
                .or_insert(0);
            *n += 1;
            let mut result = json!({
                "ruleId": id,
                "ruleIndex": index.get(&id).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!("[{}] {}: {}", i.id, f.severity.as_str(), f.description) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                        "region": region(i, text.as_deref()),
                    }
                }],
                "partialFingerprints": {
                    "primaryLocationLineHash": line_hash(&hash_of, *n),
                    "auditorFingerprint/v1": f.fingerprint,
                },
                "properties": {
                    "auditorId": i.id,
                    "severity": f.severity.as_str(),
                    "location": f.location.as_str(),
                    "commit": f.commit,
                },
            });
            if let Some(reason) = run.acknowledged.get(&i.id) {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": reason,
                }]);
            }
            Some(result)
        })
        .collect()
}

/// The issues about no file, as tool notifications, and the driver's descriptors of them.
fn notifications(issues: &[Issue]) -> (Vec<Value>, Vec<Value>) {
    let whole: Vec<&Issue> = issues.iter().filter(|i| i.finding.file.is_none()).collect();
    let mut descriptors: BTreeMap<String, &Issue> = BTreeMap::new();
    for i in &whole {
        descriptors.entry(rule_id(i)).or_insert(i);
    }
    let index: BTreeMap<&String, usize> = descriptors
        .keys()
        .enumerate()
        .map(|(n, k)| (k, n))
        .collect();
    let notifications = whole
        .iter()
        .map(|i| {
            let id = rule_id(i);
            json!({
                "level": level(i.finding.severity),
                "message": { "text": format!("[{}] {}: {}", i.id, i.finding.severity.as_str(), i.finding.title) },
                "descriptor": { "id": id, "index": index.get(&id).copied().unwrap_or(0) },
            })
        })
        .collect();
    let descriptors = descriptors
        .iter()
        .map(|(id, i)| {
            json!({
                "id": id,
                "shortDescription": { "text": format!("{} ({})", i.finding.issue_type.as_str(), i.finding.rule) },
                "defaultConfiguration": { "level": level(i.finding.severity) },
            })
        })
        .collect();
    (descriptors, notifications)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_hash_ignores_indentation_and_counts_repeats() {
        assert_eq!(line_hash("  x = 1  ", 1), line_hash("x = 1", 1));
        assert_ne!(line_hash("x = 1", 1), line_hash("x = 1", 2));
        assert!(line_hash("x", 1).ends_with(":1"));
    }
}
