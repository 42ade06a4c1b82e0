//! One issue per lint rule and file: six `indent` errors in a five-line edit are one thing
//! to fix, not six inbox files. The issue lists every place, and keeps its identity while
//! the rule fires anywhere in the file.

use std::collections::BTreeMap;

use crate::finding::{Finding, IssueType, Location};

/// Places listed in a grouped issue; the rest are counted.
const PLACES_SHOWN: usize = 30;

/// Merges the lint findings of one check, rule and file into one finding: the most severe
/// level and the closest location of its members, at its first place on a line the commit
/// added (else its first place), every place listed in its description.
pub fn group_lints(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    let mut groups: BTreeMap<(String, String, String), Vec<Finding>> = BTreeMap::new();
    for f in findings {
        match (&f.file, f.issue_type) {
            (Some(file), IssueType::Lint) => groups
                .entry((f.check.clone(), f.rule.clone(), file.clone()))
                .or_default()
                .push(f),
            _ => out.push(f),
        }
    }
    for ((check, rule, file), mut members) in groups {
        members.sort_by_key(|f| (f.line, f.column));
        let fingerprint = format!(
            "sha256:{}",
            crate::bytes::short_digest([
                check.as_str(),
                rule.as_str(),
                file.as_str(),
                "lint-group"
            ])
        );
        let rank = |l: Location| match l {
            Location::Introduced => 0,
            Location::Touched => 1,
            Location::Preexisting => 2,
        };
        let lead = members
            .iter()
            .min_by_key(|f| (rank(f.location), f.line, f.column))
            .cloned();
        let Some(mut lead) = lead else { continue };
        lead.fingerprint = fingerprint;
        if members.len() > 1 {
            lead.severity = members
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(lead.severity);
            lead.title = format!(
                "{} (and {} more in this file)",
                lead.title,
                members.len() - 1
            );
            let mut text = format!(
                "`{check}` reported `{rule}` at {} places in `{file}`:\n",
                members.len()
            );
            for f in members.iter().take(PLACES_SHOWN) {
                let place = match (f.line, f.column) {
                    (Some(l), Some(c)) => format!("line {l}:{c}"),
                    (Some(l), None) => format!("line {l}"),
                    _ => "the file".to_string(),
                };
                let said: String = f.description.chars().take(300).collect();
                text.push_str(&format!("- {place} ({}): {said}\n", f.location.as_str()));
            }
            if members.len() > PLACES_SHOWN {
                text.push_str(&format!("- and {} more\n", members.len() - PLACES_SHOWN));
            }
            lead.description = text;
        }
        out.push(lead);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn lint(rule: &str, file: &str, line: u32, severity: Severity, location: Location) -> Finding {
        Finding {
            check: "eslint".into(),
            rule: rule.into(),
            issue_type: IssueType::Lint,
            severity,
            file: Some(file.into()),
            line: Some(line),
            column: Some(5),
            title: format!("eslint {rule}: Expected indentation of 2 spaces"),
            description: format!(
                "`eslint` reported error `{rule}` at {file}:{line}: Expected indentation"
            ),
            remediation: String::new(),
            snippet: None,
            location,
            commit: None,
            fingerprint: String::new(),
            redacted: None,
        }
    }

    #[test]
    fn six_indent_errors_in_one_file_are_one_issue_listing_the_lines() {
        let mut findings: Vec<Finding> = (3..9)
            .map(|l| {
                lint(
                    "indent",
                    "src/app.js",
                    l,
                    Severity::High,
                    Location::Introduced,
                )
            })
            .collect();
        findings.insert(
            0,
            lint(
                "indent",
                "src/app.js",
                1,
                Severity::Low,
                Location::Preexisting,
            ),
        );
        findings.push(lint(
            "semi",
            "src/app.js",
            4,
            Severity::High,
            Location::Introduced,
        ));
        findings.push(lint(
            "indent",
            "src/other.js",
            2,
            Severity::High,
            Location::Introduced,
        ));
        let grouped = group_lints(findings);
        assert_eq!(grouped.len(), 3);
        let indent = grouped
            .iter()
            .find(|f| f.rule == "indent" && f.file.as_deref() == Some("src/app.js"))
            .expect("grouped");
        assert_eq!(
            indent.line,
            Some(3),
            "leads with the first introduced place"
        );
        assert_eq!(indent.severity, Severity::High);
        assert_eq!(indent.location, Location::Introduced);
        assert!(indent.title.ends_with("(and 6 more in this file)"));
        assert!(indent.description.contains("at 7 places in `src/app.js`"));
        assert!(indent.description.contains("- line 1:5 (preexisting)"));
        assert!(indent.description.contains("- line 8:5 (introduced)"));
    }

    #[test]
    fn the_identity_is_the_rule_in_the_file_not_its_lines() {
        let one = group_lints(vec![lint(
            "indent",
            "a.js",
            3,
            Severity::High,
            Location::Introduced,
        )]);
        let two = group_lints(vec![
            lint("indent", "a.js", 9, Severity::High, Location::Introduced),
            lint("indent", "a.js", 12, Severity::High, Location::Introduced),
        ]);
        assert_eq!(one[0].fingerprint, two[0].fingerprint);
        assert!(!one[0].fingerprint.is_empty());
    }
}
