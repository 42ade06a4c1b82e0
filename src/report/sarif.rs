//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! GitHub requires every result to have a location; findings about the commit as a whole
//! (a test suite that timed out) become tool notifications instead of results.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::finding::Severity;
use crate::policy::Issue;

/// GitHub's `security-severity`: >= 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, < 4 low.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
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

/// Renders issues as a SARIF log.
pub fn render(issues: &[Issue]) -> String {
    let mut rules: BTreeMap<String, &Issue> = BTreeMap::new();
    for i in issues.iter().filter(|i| i.finding.file.is_some()) {
        // The most severe instance describes the rule (issues arrive ranked).
        rules.entry(rule_id(i)).or_insert(i);
    }
    let index: BTreeMap<&String, usize> = rules.keys().enumerate().map(|(n, k)| (k, n)).collect();
    let rule_values: Vec<Value> = rules
        .iter()
        .map(|(id, i)| {
            let f = &i.finding;
            json!({
                "id": id,
                "name": id.replace(['/', '-', ':'], "_"),
                "shortDescription": { "text": format!("{} ({})", f.issue_type.as_str(), f.rule) },
                "fullDescription": { "text": f.title },
                "help": { "text": f.remediation, "markdown": f.remediation },
                "defaultConfiguration": { "level": level(f.severity) },
                "properties": {
                    "security-severity": security_severity(f.severity),
                    "tags": if f.issue_type.is_security() { vec!["security", f.check.as_str()] } else { vec![f.check.as_str()] },
                    "precision": "high",
                },
            })
        })
        .collect();
    let results: Vec<Value> = issues
        .iter()
        .filter_map(|i| {
            let f = &i.finding;
            let file = f.file.as_ref()?;
            let id = rule_id(i);
            let mut region = json!({ "startLine": f.line.unwrap_or(1).max(1) });
            if let Some(c) = f.column {
                region["startColumn"] = json!(c.max(1));
            }
            Some(json!({
                "ruleId": id,
                "ruleIndex": index.get(&id).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!("[{}] {}: {}", i.id, f.severity.as_str(), f.description) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                        "region": region,
                    }
                }],
                "partialFingerprints": { "auditorFingerprint/v1": f.fingerprint },
                "properties": { "auditorId": i.id, "severity": f.severity.as_str(), "location": f.location.as_str() },
            }))
        })
        .collect();
    let notifications: Vec<Value> = issues
        .iter()
        .filter(|i| i.finding.file.is_none())
        .map(|i| {
            json!({
                "level": level(i.finding.severity),
                "message": { "text": format!("[{}] {}: {}", i.id, i.finding.severity.as_str(), i.finding.title) },
                "descriptor": { "id": rule_id(i) },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "auditor",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/auditor-dev/auditor",
                "rules": rule_values,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
