//! The audit's record in the ledger: what it examined, `[fix-ID]` claims, stable IDs and life,
//! per-day counts, and what the ledger learned about a rule (an earlier fix to show).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use git2::{DiffOptions, Oid};

use crate::checks::{CheckOutcome, CheckRun};
use crate::config::Settings;
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{ChangedFile, FileStatus, Repo};
use crate::ledger::{Applied, Entry, Examined, Ledger};
use crate::ledger::{LedgerError, Locked};
use crate::policy::Issue;
use crate::store::Layout;

/// Lines of an earlier fix shown as a worked example.
const EXAMPLE_LINES: usize = 24;

/// The IDs `[fix-ID]` markers in the audited commits' messages claim to fix.
pub fn fix_claims(repo: &Repo, commits: &[Oid]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in commits {
        let Ok(commit) = repo.git.find_commit(*c) else {
            continue;
        };
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let mut rest = message.as_str();
        while let Some(at) = rest.find("[fix-") {
            rest = &rest[at + 5..];
            if let Some(end) = rest.find(']') {
                let id = rest[..end].trim().to_ascii_uppercase();
                if !id.is_empty() && id.len() < 32 && !id.contains(char::is_whitespace) {
                    out.insert(id);
                }
            }
        }
    }
    out
}

/// HIGH issues for claims whose issue is still present in this audit.
pub fn ineffective_claims(
    ledger: &Ledger,
    issues: &[Issue],
    claims: &BTreeSet<String>,
    commit: &str,
) -> Vec<Issue> {
    let present = crate::ledger::present_ids(ledger, issues);
    claims
        .iter()
        .filter(|id| present.contains(*id))
        .map(|id| {
            let title = ledger.get(id).map(|e| e.title.clone()).unwrap_or_default();
            Issue {
                id: String::new(),
                life: None,
                finding: Finding {
                    check: "ledger".into(),
                    rule: "fix-claim".into(),
                    issue_type: IssueType::IneffectiveFix,
                    severity: Severity::High,
                    file: None,
                    line: None,
                    column: None,
                    title: format!("Claimed fix for {id} not effective"),
                    description: format!(
                        "A commit says `[fix-{id}]`, but {id} (\"{title}\") is still present in commit `{}`.",
                        crate::bytes::short(commit)
                    ),
                    remediation: format!(
                        "Open {id}'s feedback file, fix what it describes, and only then claim the fix. Claiming a fix that the audit does not confirm is recorded."
                    ),
                    snippet: None,
                    location: Location::Introduced,
                    commit: Some(commit.to_string()),
                    fingerprint: format!("claim:{id}"),
                    redacted: None,
                },
            }
        })
        .collect()
}

/// What the audit looked at, per check (see `ledger::Examined`). Coverage and test-time
/// issues are only re-decided by an audit that measured them.
pub fn examined(
    secrets_enabled: bool,
    changes: &[ChangedFile],
    planned: &BTreeMap<String, Option<Vec<String>>>,
    runs: &[CheckRun],
    measured_coverage: bool,
    measured_duration: bool,
    compared_counts: bool,
) -> Examined {
    let mut by_check: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    // The built-in scanners look at every file the audited commits changed.
    // A renamed file's old path was looked at too (nothing is left there); and paths as
    // findings carry them: a file named after a token is recorded redacted.
    let changed: BTreeSet<String> = changes
        .iter()
        .flat_map(|c| std::iter::once(&c.path).chain(&c.old_path))
        .flat_map(|p| [p.clone(), crate::secrets::clean(p).into_owned()])
        .collect();
    if secrets_enabled {
        by_check.insert("secrets".into(), Some(changed.clone()));
    }
    by_check.insert("guards".into(), Some(changed));
    for run in runs {
        // Only a run that finished gives a trustworthy absence.
        if !matches!(run.outcome, CheckOutcome::Passed | CheckOutcome::Failed) {
            continue;
        }
        if let Some(files) = planned.get(&run.name) {
            by_check.insert(
                run.name.clone(),
                files.as_ref().map(|f| f.iter().cloned().collect()),
            );
        }
    }
    // Issues the audit itself raises are re-decided by every audit.
    for own in ["ledger", "daemon", "workspace", "supervision"] {
        by_check.insert(own.into(), None);
    }
    if measured_coverage {
        by_check.insert("coverage".into(), None);
    }
    if measured_duration {
        by_check.insert("performance".into(), None);
    }
    if compared_counts {
        by_check.insert(super::metrics::TEST_COUNTS_CHECK.into(), None);
    }
    Examined {
        by_check,
        later: BTreeSet::new(),
        gone: changes
            .iter()
            .filter_map(|c| match c.status {
                FileStatus::Deleted => Some(c.path.clone()),
                FileStatus::Renamed => c.old_path.clone(),
                FileStatus::Added | FileStatus::Modified => None,
            })
            .collect(),
    }
}

/// The entries only the fast lane has seen, in commits after `target`: an audit of `target`
/// cannot have seen them (the fast lane runs on each commit the moment it appears, while the
/// audit of an earlier batch may still be testing).
fn found_later(repo: &Repo, ledger: &Ledger, target: &str) -> BTreeSet<String> {
    let Ok(target) = Oid::from_str(target) else {
        return BTreeSet::new();
    };
    ledger
        .entries
        .iter()
        .filter(|e| e.life.is_open())
        .filter(|e| {
            e.fast_lane_at
                .as_deref()
                .and_then(|c| Oid::from_str(c).ok())
                .is_some_and(|c| {
                    c != target && repo.git.graph_descendant_of(c, target).unwrap_or(false)
                })
        })
        .map(|e| e.id.clone())
        .collect()
}

/// Everything the ledger needs from one audit.
pub struct AuditFacts<'a> {
    /// The audited commits, oldest first.
    pub commits: &'a [Oid],
    /// The commit the report is for.
    pub target: &'a str,
    /// The files the audit changed.
    pub changes: &'a [ChangedFile],
    /// What each configured check was to look at.
    pub planned: &'a BTreeMap<String, Option<Vec<String>>>,
    /// The checks' runs.
    pub runs: &'a [CheckRun],
    /// Line coverage, when measured.
    pub coverage: Option<f64>,
    /// The test stage's time, outcome and counts, and what the commits did to their tests.
    pub tests: super::metrics::TestStageFacts<'a>,
    /// The audit's day, `YYYY-MM-DD`.
    pub day: String,
}

/// Records the audit in the ledger (locked until the returned guard is saved and dropped):
/// claims and metric issues join the issues, which get their stable IDs and life.
pub fn record(
    repo: &Repo,
    layout: &Layout,
    settings: &Settings,
    issues: &mut Vec<Issue>,
    facts: &AuditFacts<'_>,
) -> Result<(Locked, Applied), LedgerError> {
    let mut locked = crate::ledger::lock(layout)?;
    if let Some(recovery) = &locked.recovered {
        tracing::warn!("{}", recovery.message(layout));
        issues.push(recovery_issue(recovery, layout, facts.target));
    }
    let claims = fix_claims(repo, facts.commits);
    let extra = ineffective_claims(&locked.ledger, issues, &claims, facts.target);
    issues.extend(extra);
    let measured = super::metrics::measure(
        &locked.ledger,
        facts.coverage,
        &facts.tests,
        &settings.metrics,
        facts.target,
    );
    issues.extend(measured.issues);
    let mut examined = examined(
        settings.secrets.enabled,
        facts.changes,
        facts.planned,
        facts.runs,
        facts.coverage.is_some(),
        facts.tests.ms.is_some() && facts.tests.passed,
        measured.counts_compared,
    );
    examined.later = found_later(repo, &locked.ledger, facts.target);
    let applied = crate::ledger::apply(
        &mut locked.ledger,
        issues,
        &examined,
        facts.target,
        u32::try_from(facts.commits.len()).unwrap_or(u32::MAX),
        &claims,
        settings.policy.escalate_after_commits,
    );
    locate_carried_failures(issues, facts.target);
    // Escalation may have raised severities: rank again.
    issues.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.id.cmp(&b.id))
    });
    let failed =
        crate::policy::status(issues, settings.policy.fail_on) == crate::policy::Status::Fail;
    count_day(
        &mut locked.ledger,
        &facts.day,
        failed,
        &applied,
        facts.coverage,
    );
    super::metrics::record(
        &mut locked.ledger,
        facts.target,
        &facts.tests,
        facts.coverage,
        measured.references,
    );
    Ok((locked, applied))
}

/// Records what the fast lane found at `target`: its CRITICAL and HIGH issues (the rest
/// waits for the batch's audit), locked until the returned guard is saved. A ledger that must
/// be recovered is left to the full audit, which says how it was found: the fast lane records
/// nothing then (`None`).
pub fn record_fast(
    layout: &Layout,
    issues: &mut Vec<Issue>,
    target: &str,
) -> Result<Option<(Locked, Applied)>, LedgerError> {
    if !matches!(crate::ledger::read_checked(layout), Ok((_, None))) {
        return Ok(None);
    }
    let mut locked = crate::ledger::lock(layout)?;
    if locked.recovered.is_some() {
        return Ok(None);
    }
    issues.retain(|i| i.finding.severity >= Severity::High);
    let applied = crate::ledger::apply_fast(&mut locked.ledger, issues, target);
    Ok(Some((locked, applied)))
}

/// A failure of the run as a whole (a test failing, the build broken, tests not run) that an
/// earlier audit already had open is no doing of this commit: it reads preexisting, keeps its
/// severity and stays open until it passes. One that is new, or back after it was fixed, or
/// first seen at `target` itself (audited again), stays introduced.
fn locate_carried_failures(issues: &mut [Issue], target: &str) {
    use crate::finding::{IssueType, Life, Location};
    for issue in issues {
        let carried = issue
            .life
            .as_ref()
            .is_some_and(|l| l.status == Life::Open && l.first_seen != target);
        if carried
            && matches!(
                issue.finding.issue_type,
                IssueType::TestFailure | IssueType::BuildBreak | IssueType::TestsNotRun
            )
        {
            issue.finding.location = Location::Preexisting;
        }
    }
}

/// The issue of a ledger that was not simply there: only the auditor writes it, so a corrupt
/// or vanished ledger was written or removed by something else.
fn recovery_issue(recovery: &crate::ledger::Recovery, layout: &Layout, commit: &str) -> Issue {
    use crate::ledger::Recovery;
    let (severity, rule, title) = match recovery {
        Recovery::Lost { .. } => (
            Severity::Critical,
            "ledger-lost",
            "The issue ledger is gone: every open issue it held is forgotten",
        ),
        Recovery::FromBackup { .. } | Recovery::MissingFromBackup => (
            Severity::High,
            "ledger-recovered",
            "The issue ledger was corrupt or missing and was recovered from its backup",
        ),
    };
    Issue {
        id: String::new(),
        life: None,
        finding: Finding {
            check: "ledger".into(),
            rule: rule.into(),
            issue_type: IssueType::SupervisionTampering,
            severity,
            file: None,
            line: None,
            column: None,
            title: title.into(),
            description: format!(
                "{}. Only the auditor writes its state folder; something else changed it.",
                recovery.message(layout)
            ),
            remediation: "Find what wrote or removed the auditor's state (the agent, a cleanup script) and stop it. When the ledger was lost, read the earlier reports in logs/audit/ for the issues that were open: they are audited again as new ones only when their files change.".into(),
            snippet: None,
            location: Location::Introduced,
            commit: Some(commit.to_string()),
            fingerprint: rule.into(),
            redacted: None,
        },
    }
}

/// Counts the audit in its day.
pub fn count_day(
    ledger: &mut Ledger,
    day: &str,
    failed: bool,
    applied: &Applied,
    coverage: Option<f64>,
) {
    let d = ledger.days.entry(day.to_string()).or_default();
    d.audits += 1;
    d.passed += u32::from(!failed);
    d.opened += u32::try_from(applied.raised.len()).unwrap_or(u32::MAX);
    d.resolved += u32::try_from(applied.resolved.len()).unwrap_or(u32::MAX);
    d.escalated += u32::try_from(applied.escalated.len()).unwrap_or(u32::MAX);
    d.coverage.extend(coverage);
    // Keep a quarter of days.
    while ledger.days.len() > 92 {
        let Some(first) = ledger.days.keys().next().cloned() else {
            break;
        };
        ledger.days.remove(&first);
    }
}

/// For each new or reopened issue whose rule was fixed before: "seen N times; last resolved in
/// commit X" and that fix's diff, secrets redacted.
pub fn lessons(repo: &Repo, ledger: &Ledger, raised: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for id in raised {
        let Some(e) = ledger.get(id) else { continue };
        let Some(stats) = ledger.rules.get(&format!("{}/{}", e.check, e.rule)) else {
            continue;
        };
        let Some(fixed_in) = &stats.last_resolved_in else {
            continue;
        };
        if stats.resolved == 0 {
            continue;
        }
        let mut s = format!(
            "## Seen before\n\nThis rule (`{}/{}`) has fired {} times; it was last resolved in commit `{}`.",
            e.check,
            e.rule,
            stats.fired,
            crate::bytes::short(fixed_in)
        );
        if let Some(hunk) = fix_example(repo, fixed_in, stats.last_resolved_file.as_deref(), e) {
            s.push_str(" That fix, as a worked example:\n\n```diff\n");
            s.push_str(&crate::secrets::clean_quoted(&hunk));
            s.push_str("\n```\n");
        } else {
            s.push('\n');
        }
        out.insert(id.clone(), s);
    }
    out
}

fn fix_example(repo: &Repo, commit: &str, file: Option<&str>, _e: &Entry) -> Option<String> {
    let oid = Oid::from_str(commit).ok()?;
    let c = repo.git.find_commit(oid).ok()?;
    let new_tree = c.tree().ok()?;
    let old_tree = c.parent(0).ok().and_then(|p| p.tree().ok());
    let mut opts = DiffOptions::new();
    opts.context_lines(1);
    if let Some(f) = file {
        opts.pathspec(f);
    }
    let diff = repo
        .git
        .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut opts))
        .ok()?;
    let mut lines: Vec<String> = Vec::new();
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        if lines.len() < EXAMPLE_LINES {
            let text = String::from_utf8_lossy(line.content())
                .trim_end()
                .to_string();
            let text: String = text.chars().take(160).collect();
            match line.origin() {
                '+' | '-' | ' ' => lines.push(format!("{}{text}", line.origin())),
                'F' | 'H' => lines.push(text),
                _ => {}
            }
        }
        true
    })
    .ok()?;
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Audit attempts that fail in a row before AUDIT_FAILED is raised.
pub const FAILURES_BEFORE_ISSUE: u32 = 3;

/// Raises AUDIT_FAILED (HIGH) in the ledger and the inbox: the daemon could not audit
/// `failure.commits`, attempt after attempt. It resolves with the first audit that succeeds
/// (every audit re-decides the daemon's issues). Returns the feedback file, when one was
/// written now.
pub fn record_failure(
    layout: &Layout,
    failure: &crate::store::state::Failure,
) -> Result<Option<std::path::PathBuf>, super::EngineError> {
    let newest = failure
        .commits
        .last()
        .map_or("", |c| crate::bytes::short(c));
    let shown: Vec<String> = failure
        .commits
        .iter()
        .take(10)
        .map(|c| format!("`{}`", crate::bytes::short(c)))
        .collect();
    let mut issue = Issue {
        id: String::new(),
        life: None,
        finding: Finding {
            check: "daemon".into(),
            rule: "audit-failed".into(),
            issue_type: IssueType::AuditFailed,
            severity: Severity::High,
            file: None,
            line: None,
            column: None,
            title: format!(
                "{} commit{} could not be audited",
                failure.commits.len(),
                if failure.commits.len() == 1 { "" } else { "s" }
            ),
            description: format!(
                "The daemon tried {} times since {} to audit {}{} and failed each time: {}. Until an audit succeeds nothing is known of these commits: no secret scan, no guards, no linters, no tests.",
                failure.attempts,
                failure.since,
                shown.join(", "),
                if failure.commits.len() > 10 { ", ..." } else { "" },
                failure.message
            ),
            remediation: "Fix what the error names (a full disk, a read-only or missing folder, a damaged object store). The daemon keeps retrying by itself; this issue resolves with the first audit that succeeds. `auditor status` lists the commits still unaudited.".into(),
            snippet: None,
            location: Location::Introduced,
            commit: failure.commits.last().cloned(),
            fingerprint: "audit-failed".into(),
            redacted: None,
        },
    };
    let mut locked = crate::ledger::lock(layout)?;
    let id = crate::ledger::upsert(&mut locked.ledger, &mut issue, newest);
    let text = crate::inbox::render_daemon_issue(&issue);
    let written = crate::inbox::raise(layout, &mut locked.ledger, &id, &text)?;
    locked.save()?;
    Ok(written)
}

/// The base fingerprint of a ledger key (`check␟rule␟file␟fingerprint`, `#n` for a repeat).
fn key_fingerprint(key: &str) -> &str {
    let last = key.rsplit('\u{1f}').next().unwrap_or(key);
    last.split_once('#').map_or(last, |(fp, _)| fp)
}

/// Open guard issues in files the audit changed that its guards did not report again, whose
/// condition still stands in the audited tree. The guards report what a commit adds, so
/// without this an edit elsewhere in the file, or a reworded skip reason, would "resolve" the
/// issue (and confirm a `[fix-ID]` claim) while the skip is still there. Found again here,
/// the issue stays open under its ID and severity; only one whose condition is gone resolves.
pub fn standing_guard_findings(
    repo: &Repo,
    target: Oid,
    changes: &[ChangedFile],
    ledger: &Ledger,
    reported: &[Finding],
    guards: &crate::guards::GuardSettings,
) -> Vec<Finding> {
    let changed: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.status != crate::git::FileStatus::Deleted)
        .map(|c| c.path.as_str())
        .collect();
    // How many open issues of each identity wait to be found, less those found already.
    let mut waiting: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for e in &ledger.entries {
        if e.check != "guards" || !e.life.is_open() {
            continue;
        }
        if let Some(file) = e.file.as_deref().filter(|f| changed.contains(f)) {
            let fingerprint = key_fingerprint(&e.key).to_string();
            *waiting
                .entry((e.rule.clone(), file.to_string(), fingerprint))
                .or_default() += 1;
        }
    }
    for f in reported {
        if let Some(file) = f.file.as_deref() {
            let key = (f.rule.clone(), file.to_string(), f.fingerprint.clone());
            if let Some(n) = waiting.get_mut(&key) {
                *n -= 1;
            }
        }
    }
    waiting.retain(|_, n| *n > 0);
    let files: BTreeSet<String> = waiting.keys().map(|(_, file, _)| file.clone()).collect();
    let commit = target.to_string();
    let mut out = Vec::new();
    for file in files {
        let Some(content) = repo.file_head(target, &file, usize::MAX) else {
            continue;
        };
        for f in crate::guards::standing(&file, &content, guards, &commit) {
            let key = (f.rule.clone(), file.clone(), f.fingerprint.clone());
            if let Some(n) = waiting.get_mut(&key).filter(|n| **n > 0) {
                *n -= 1;
                out.push(f);
            }
        }
    }
    out
}
