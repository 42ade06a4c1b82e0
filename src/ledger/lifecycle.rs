//! Applying one audit to the ledger: a pure function of the ledger, the audit's issues, what
//! the audit looked at and the commit's `[fix-ID]` claims.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{Entry, Ledger, Life, RuleStats};
use crate::finding::{Finding, Severity};
use crate::policy::{Issue, IssueLife};

/// What an audit looked at, per check: some files, or everything (`None`). An issue of a
/// check in a file the audit did not look at stays open: not looking is not fixing.
#[derive(Debug, Clone, Default)]
pub struct Examined {
    /// Check name → the files it examined (`None`: the whole tree).
    pub by_check: BTreeMap<String, Option<BTreeSet<String>>>,
    /// Entries the fast lane found in commits after the audited one: this audit cannot have
    /// seen them, so their absence says nothing.
    pub later: BTreeSet<String>,
    /// Files the audited commits removed (deleted, or renamed away): whatever any check found
    /// in them is gone with them, whether or not that check ran.
    pub gone: BTreeSet<String>,
}

impl Examined {
    /// Whether `check` looked at `file` (or, for issues about no file, ran at all); a file
    /// the audit removed counts as looked at by every check.
    pub fn looked_at(&self, check: &str, file: Option<&str>) -> bool {
        if file.is_some_and(|f| self.gone.contains(f)) {
            return true;
        }
        match (self.by_check.get(check), file) {
            (None, _) => false,
            (Some(None), _) | (Some(Some(_)), None) => true,
            (Some(Some(files)), Some(f)) => files.contains(f),
        }
    }
}

/// An issue this audit resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// Its ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its type (`SECRET_EXPOSURE`).
    pub issue_type: crate::finding::IssueType,
    /// Its severity when resolved.
    pub severity: Severity,
    /// Its file.
    pub file: Option<String>,
    /// The resolving commit.
    pub resolved_in: String,
    /// The commit claimed the fix with `[fix-ID]`.
    pub claimed: bool,
    /// Its feedback file, to move to `resolved/`.
    pub inbox_file: Option<String>,
}

/// What applying an audit changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Issues resolved by this audit.
    pub resolved: Vec<Resolution>,
    /// IDs that are new or reopened.
    pub raised: Vec<String>,
    /// IDs that escalated (severity raised one level).
    pub escalated: Vec<String>,
    /// `[fix-ID]` claims whose issue is still present.
    pub ineffective_claims: Vec<String>,
}

fn key_of(issue: &Issue) -> String {
    let f = &issue.finding;
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        f.check,
        f.rule,
        f.file.as_deref().unwrap_or(""),
        f.fingerprint
    )
}

fn rule_key(check: &str, rule: &str) -> String {
    format!("{check}/{rule}")
}

/// Adds a new entry for `f` under `key`, with the next ID of its type; returns the ID.
fn new_entry(
    ledger: &mut Ledger,
    f: &crate::finding::Finding,
    key: String,
    commit: &str,
) -> String {
    let prefix = f.issue_type.id_prefix().to_string();
    let counter = ledger.counters.entry(prefix.clone()).or_insert(0);
    *counter += 1;
    let id = format!("{prefix}-{:03}", *counter);
    ledger
        .rules
        .entry(rule_key(&f.check, &f.rule))
        .or_default()
        .fired += 1;
    ledger.entries.push(Entry {
        id: id.clone(),
        key,
        check: f.check.clone(),
        rule: f.rule.clone(),
        file: f.file.clone(),
        issue_type: f.issue_type,
        severity: f.severity,
        original_severity: f.severity,
        title: f.title.clone(),
        life: Life::New,
        first_seen: commit.to_string(),
        last_seen: commit.to_string(),
        seen_in: 1,
        commits_since_feedback: 0,
        resolved_in: None,
        resolved_by_claim: false,
        inbox_file: None,
        ack: None,
        escalations: 0,
        line: f.line,
        fast_lane_at: None,
    });
    id
}

/// Records an issue raised outside an audit (the daemon's: commits that keep failing to be
/// audited), at `commit`: a new entry, the open one of the same identity updated, or a
/// resolved one reopened. Counts no commit and leaves every other entry alone; the next audit
/// that runs re-decides it like any issue of its check. Returns its ID.
pub fn upsert(ledger: &mut Ledger, issue: &mut Issue, commit: &str) -> String {
    let key = key_of(issue);
    let f = &issue.finding;
    let id = match ledger.entries.iter_mut().find(|e| e.key == key) {
        Some(e) => {
            if e.life == Life::Resolved {
                e.life = Life::Reopened;
                e.resolved_in = None;
                e.inbox_file = None;
            }
            e.title = f.title.clone();
            e.severity = e.severity.max(f.severity);
            e.last_seen = commit.to_string();
            e.line = f.line;
            e.id.clone()
        }
        None => new_entry(ledger, f, key, commit),
    };
    issue.id = id.clone();
    id
}

/// Records one audit of `commit` (covering `commits` commits) in the ledger and gives each
/// issue its stable ID and life. `escalate_after` commits without a fix since feedback raise
/// an issue's severity one level.
pub fn apply(
    ledger: &mut Ledger,
    issues: &mut [Issue],
    examined: &Examined,
    commit: &str,
    commits: u32,
    claims: &BTreeSet<String>,
    escalate_after: u32,
) -> Applied {
    let mut applied = Applied::default();
    // Auditing the same commit again (a re-run) is not another commit without a fix.
    let commits = if ledger.last_audited.as_deref() == Some(commit) {
        0
    } else {
        commits
    };
    ledger.last_audited = Some(commit.to_string());
    let mut matched: HashSet<usize> = HashSet::new();
    let keys = occurrence_keys(issues);
    for (issue, key) in issues.iter_mut().zip(keys) {
        let index = record_issue(ledger, &issue.finding, key, commit, commits, &mut applied);
        matched.insert(index);
        let e = &mut ledger.entries[index];
        // A full audit saw it: no longer the fast lane's alone.
        e.fast_lane_at = None;
        seen_again(e, issue, commit);
        if claims.contains(&e.id) {
            applied.ineffective_claims.push(e.id.clone());
        }
    }
    resolve_absent(
        ledger,
        &matched,
        examined,
        commit,
        commits,
        claims,
        &mut applied,
    );
    escalate_unfixed(ledger, commits, escalate_after, &mut applied);
    for issue in issues.iter_mut() {
        if let Some(e) = ledger.entries.iter().find(|e| e.id == issue.id) {
            issue.finding.severity = e.severity;
        }
    }
    applied
}

/// Each issue's ledger key, in order: the same content flagged twice in one file is two
/// issues (`#2`), not one.
pub fn occurrence_keys(issues: &[Issue]) -> Vec<String> {
    let mut occurrences: BTreeMap<String, u32> = BTreeMap::new();
    issues
        .iter()
        .map(|issue| {
            let base = key_of(issue);
            let n = occurrences.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { base } else { format!("{base}#{n}") }
        })
        .collect()
}

/// What an entry learns from being found at `commit`, and what the issue learns from it.
fn seen_again(e: &mut Entry, issue: &mut Issue, commit: &str) {
    e.last_seen = commit.to_string();
    e.title = issue.finding.title.clone();
    e.line = issue.finding.line;
    issue.id = e.id.clone();
    issue.finding.severity = e.severity;
    issue.life = Some(IssueLife {
        status: e.life,
        seen_in: e.seen_in,
        first_seen: e.first_seen.clone(),
        acknowledged: e.ack.is_some(),
    });
}

/// Records what the fast lane (the built-in scanners, run on a commit the moment it appears)
/// found at `commit`: new entries and reopened ones are marked as its alone until a full
/// audit sees them; open ones are seen again. It never resolves, escalates or counts a
/// commit: the full audit of the batch, which follows, decides all that.
pub fn apply_fast(ledger: &mut Ledger, issues: &mut [Issue], commit: &str) -> Applied {
    let mut applied = Applied::default();
    let keys = occurrence_keys(issues);
    for (issue, key) in issues.iter_mut().zip(keys) {
        let open = ledger
            .entries
            .iter()
            .position(|e| e.key == key && e.life != Life::Resolved);
        let index = match open {
            // Its life is the audits' to tell: only where it is now is learned here.
            Some(i) => i,
            None => {
                let i = record_issue(ledger, &issue.finding, key, commit, 0, &mut applied);
                ledger.entries[i].fast_lane_at = Some(commit.to_string());
                i
            }
        };
        seen_again(&mut ledger.entries[index], issue, commit);
    }
    applied
}

/// One issue of the audit in the ledger: its entry seen again (reopened if it was resolved)
/// or a new one. Returns the entry's index.
fn record_issue(
    ledger: &mut Ledger,
    f: &Finding,
    key: String,
    commit: &str,
    commits: u32,
    applied: &mut Applied,
) -> usize {
    let Some(i) = ledger.entries.iter().position(|e| e.key == key) else {
        applied.raised.push(new_entry(ledger, f, key, commit));
        return ledger.entries.len() - 1;
    };
    let e = &mut ledger.entries[i];
    // Whether this sighting counts as one more commit it was present in.
    let counted = if e.life == Life::Resolved {
        e.life = Life::Reopened;
        e.resolved_in = None;
        e.resolved_by_claim = false;
        e.commits_since_feedback = 0;
        e.inbox_file = None;
        applied.raised.push(e.id.clone());
        ledger
            .rules
            .entry(rule_key(&e.check, &e.rule))
            .or_default()
            .fired += 1;
        true
    } else {
        // Only the fast lane has seen it: this is its first audit, which keeps it new (or
        // reopened); a new entry already counts the commit it was found in.
        let first_audit = e.fast_lane_at.is_some() && matches!(e.life, Life::New | Life::Reopened);
        if !first_audit {
            e.life = Life::Open;
        }
        e.commits_since_feedback += commits;
        !(first_audit && e.life == Life::New)
    };
    e.severity = e.severity.max(f.severity);
    if commits > 0 && counted {
        e.seen_in += 1;
    }
    i
}

/// Open entries this audit did not see: resolved where it looked (the same check over the
/// same file), one more commit without a fix elsewhere.
fn resolve_absent(
    ledger: &mut Ledger,
    matched: &HashSet<usize>,
    examined: &Examined,
    commit: &str,
    commits: u32,
    claims: &BTreeSet<String>,
    applied: &mut Applied,
) {
    for (i, e) in ledger.entries.iter_mut().enumerate() {
        if matched.contains(&i) || !e.life.is_open() || examined.later.contains(&e.id) {
            continue;
        }
        if !examined.looked_at(&e.check, e.file.as_deref()) {
            // Not looked at: still open, and one more commit without a fix.
            e.commits_since_feedback += commits;
            continue;
        }
        e.life = Life::Resolved;
        e.resolved_in = Some(commit.to_string());
        e.resolved_by_claim = claims.contains(&e.id);
        let stats: &mut RuleStats = ledger.rules.entry(rule_key(&e.check, &e.rule)).or_default();
        stats.resolved += 1;
        stats.last_resolved_in = Some(commit.to_string());
        stats.last_resolved_file = e.file.clone();
        applied.resolved.push(Resolution {
            id: e.id.clone(),
            title: e.title.clone(),
            issue_type: e.issue_type,
            severity: e.severity,
            file: e.file.clone(),
            resolved_in: commit.to_string(),
            claimed: e.resolved_by_claim,
            inbox_file: e.inbox_file.clone(),
        });
    }
}

/// Issues fed back `escalate_after` commits ago and still unfixed rise one level (once per
/// level: the count restarts, and the top level is not raised again). The machine's
/// (TEST_ENVIRONMENT, CHECK_UNAVAILABLE: a dependency or a program missing) is the
/// operator's to fix, not the agent's: more commits do not make it more urgent for the
/// agent, and a gate must not close on it.
fn escalate_unfixed(ledger: &mut Ledger, commits: u32, escalate_after: u32, applied: &mut Applied) {
    use crate::finding::IssueType;
    for e in ledger.entries.iter_mut() {
        let fed_back = e.severity >= Severity::Medium
            && !matches!(
                e.issue_type,
                IssueType::TestEnvironment | IssueType::CheckUnavailable
            );
        if commits > 0
            && e.is_active()
            && fed_back
            && !e.escalated_at_the_top()
            && e.commits_since_feedback >= escalate_after.max(1)
        {
            e.severity = e.severity.raised();
            e.escalations += 1;
            e.commits_since_feedback = 0;
            applied.escalated.push(e.id.clone());
        }
    }
}

/// The IDs of ledger entries that `issues` would match (their first occurrence), to tell
/// whether a claimed fix is real before the audit is applied.
pub fn present_ids(ledger: &Ledger, issues: &[Issue]) -> BTreeSet<String> {
    let keys: HashSet<String> = issues.iter().map(key_of).collect();
    ledger
        .entries
        .iter()
        .filter(|e| e.life.is_open() && keys.contains(&e.key))
        .map(|e| e.id.clone())
        .collect()
}

/// Escalates every active blocking issue (HIGH and above) once per level: a wait for a fix
/// timed out.
pub fn escalate_blocking(ledger: &mut Ledger) -> Vec<String> {
    let mut out = Vec::new();
    for e in ledger.entries.iter_mut() {
        if e.is_active() && e.severity >= Severity::High && !e.escalated_at_the_top() {
            e.severity = e.severity.raised();
            e.escalations += 1;
            e.commits_since_feedback = 0;
            out.push(e.id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, IssueType, Location};

    fn issue(rule: &str, file: &str, fp: &str, severity: Severity) -> Issue {
        Issue {
            id: "X-001".into(),
            finding: Finding {
                check: "secrets".into(),
                rule: rule.into(),
                issue_type: IssueType::SecretExposure,
                severity,
                file: Some(file.into()),
                line: Some(3),
                column: None,
                title: format!("{rule} in {file}"),
                description: String::new(),
                remediation: String::new(),
                snippet: None,
                location: Location::Introduced,
                commit: None,
                fingerprint: fp.into(),
                redacted: None,
            },
            life: None,
        }
    }

    fn looked(files: &[&str]) -> Examined {
        Examined {
            by_check: [(
                "secrets".to_string(),
                Some(files.iter().map(|f| f.to_string()).collect()),
            )]
            .into_iter()
            .collect(),
            later: BTreeSet::new(),
            gone: BTreeSet::new(),
        }
    }

    fn run(l: &mut Ledger, issues: &mut [Issue], files: &[&str], commit: &str) -> Applied {
        apply(l, issues, &looked(files), commit, 1, &BTreeSet::new(), 3)
    }

    #[test]
    fn the_fast_lane_raises_and_only_a_full_audit_that_reaches_its_commit_decides() {
        let mut l = Ledger::default();
        let mut found = [issue("aws", "a.py", "fp1", Severity::Critical)];
        let applied = apply_fast(&mut l, &mut found, "c2");
        assert_eq!(
            (found[0].id.as_str(), applied.raised.as_slice()),
            ("SEC-001", &["SEC-001".to_string()][..])
        );
        assert_eq!(l.entries[0].fast_lane_at.as_deref(), Some("c2"));
        assert_eq!(l.entries[0].line, Some(3));
        // Seen again by the fast lane: not raised twice, nothing counted.
        let applied = apply_fast(
            &mut l,
            &mut [issue("aws", "a.py", "fp1", Severity::Critical)],
            "c2",
        );
        assert!(applied.raised.is_empty());
        assert_eq!((l.entries[0].life, l.entries[0].seen_in), (Life::New, 1));

        // The audit of the commit before (c1) looked at a.py and did not see it: it cannot
        // have, so it is left alone, and not counted as a commit without a fix.
        let mut examined = looked(&["a.py"]);
        examined.later.insert("SEC-001".into());
        let applied = apply(&mut l, &mut [], &examined, "c1", 1, &BTreeSet::new(), 3);
        assert!(applied.resolved.is_empty());
        assert_eq!(
            (l.entries[0].life, l.entries[0].commits_since_feedback),
            (Life::New, 0)
        );

        // The audit of c2 finds it: its first audit, still new, seen in one commit.
        let mut again = [issue("aws", "a.py", "fp1", Severity::Critical)];
        let applied = run(&mut l, &mut again, &["a.py"], "c2");
        assert!(applied.raised.is_empty());
        assert_eq!(again[0].id, "SEC-001");
        let e = &l.entries[0];
        assert_eq!(
            (e.life, e.seen_in, e.fast_lane_at.as_deref()),
            (Life::New, 1, None)
        );
        assert_eq!(l.rules["secrets/aws"].fired, 1);

        // From then on it is the audits': absent where they look, resolved.
        let applied = run(&mut l, &mut [], &["a.py"], "c3");
        assert_eq!(applied.resolved.len(), 1);
    }

    #[test]
    fn new_open_resolved_reopened_with_one_stable_id() {
        let mut l = Ledger::default();
        let mut a = [issue("aws", "a.py", "fp1", Severity::Critical)];
        let applied = run(&mut l, &mut a, &["a.py"], "c1");
        assert_eq!(a[0].id, "SEC-001");
        assert_eq!(a[0].life.as_ref().map(|x| x.status), Some(Life::New));
        assert_eq!(applied.raised, ["SEC-001"]);

        // Present again (its line moved: the fingerprint does not hold line numbers).
        let mut again = [issue("aws", "a.py", "fp1", Severity::Critical)];
        again[0].finding.line = Some(23);
        run(&mut l, &mut again, &["a.py"], "c2");
        assert_eq!(again[0].id, "SEC-001");
        assert_eq!(
            again[0].life.as_ref().map(|x| (x.status, x.seen_in)),
            Some((Life::Open, 2))
        );

        // Absent from an audit that looked at a.py with the same check: resolved.
        let applied = run(&mut l, &mut [], &["a.py"], "c3");
        assert_eq!(applied.resolved.len(), 1);
        assert_eq!(applied.resolved[0].resolved_in, "c3");
        assert_eq!(l.entries[0].life, Life::Resolved);

        // Back: reopened, same ID; a different secret gets the next ID.
        let mut back = [
            issue("aws", "a.py", "fp1", Severity::Critical),
            issue("aws", "a.py", "fp2", Severity::Critical),
        ];
        let applied = run(&mut l, &mut back, &["a.py"], "c4");
        assert_eq!(back[0].id, "SEC-001");
        assert_eq!(
            back[0].life.as_ref().map(|x| x.status),
            Some(Life::Reopened)
        );
        assert_eq!(back[1].id, "SEC-002");
        assert_eq!(applied.raised, ["SEC-001", "SEC-002"]);
        assert_eq!(l.rules["secrets/aws"].fired, 3);
        assert_eq!(l.rules["secrets/aws"].resolved, 1);
    }

    #[test]
    fn not_looking_is_not_fixing() {
        let mut l = Ledger::default();
        run(
            &mut l,
            &mut [issue("aws", "a.py", "fp1", Severity::High)],
            &["a.py"],
            "c1",
        );
        let applied = run(&mut l, &mut [], &["b.py"], "c2");
        assert!(applied.resolved.is_empty());
        assert!(l.entries[0].life.is_open());
    }

    #[test]
    fn open_issues_escalate_after_commits_without_a_fix() {
        let mut l = Ledger::default();
        run(
            &mut l,
            &mut [issue("aws", "a.py", "fp1", Severity::High)],
            &["a.py"],
            "c1",
        );
        let mut escalated = Vec::new();
        for c in ["c2", "c3", "c4"] {
            escalated = run(&mut l, &mut [], &["other.py"], c).escalated;
        }
        assert_eq!(escalated, ["SEC-001"]);
        assert_eq!(l.entries[0].severity, Severity::Critical);
        assert_eq!(l.entries[0].original_severity, Severity::High);
        // Acknowledged issues never escalate.
        l.entries[0].ack = Some(super::super::Ack {
            reason: "accepted".into(),
            at: "now".into(),
            from: None,
        });
        for c in ["c5", "c6", "c7"] {
            assert!(run(&mut l, &mut [], &["other.py"], c).escalated.is_empty());
        }
    }

    #[test]
    fn an_issue_escalates_once_per_level_and_never_past_critical() {
        let mut l = Ledger::default();
        run(
            &mut l,
            &mut [issue("aws", "a.py", "fp1", Severity::Medium)],
            &["a.py"],
            "c1",
        );
        let events: usize = (2..40)
            .map(|c| {
                run(&mut l, &mut [], &["other.py"], &format!("c{c}"))
                    .escalated
                    .len()
            })
            .sum();
        // MEDIUM -> HIGH -> CRITICAL, once more at CRITICAL (still unfixed), then quiet:
        // 38 commits without a fix, three events, not one every third commit.
        assert_eq!(events, 3);
        assert_eq!(l.entries[0].severity, Severity::Critical);
        assert_eq!(l.entries[0].escalations, 3);
        assert!(escalate_blocking(&mut l).is_empty());
    }

    #[test]
    fn the_machines_issues_do_not_escalate() {
        for kind in [IssueType::TestEnvironment, IssueType::CheckUnavailable] {
            let mut l = Ledger::default();
            let mut environment = issue("environment", "", "fp-env", Severity::Medium);
            environment.finding.issue_type = kind;
            environment.finding.file = None;
            run(&mut l, &mut [environment.clone()], &[], "c1");
            for c in 2..12 {
                let applied = run(&mut l, &mut [environment.clone()], &[], &format!("c{c}"));
                assert!(applied.escalated.is_empty(), "{kind:?} c{c}");
            }
            assert_eq!(l.entries[0].severity, Severity::Medium);
        }
    }

    #[test]
    fn fix_claims_are_checked() {
        let mut l = Ledger::default();
        run(
            &mut l,
            &mut [issue("aws", "a.py", "fp1", Severity::High)],
            &["a.py"],
            "c1",
        );
        let claims: BTreeSet<String> = ["SEC-001".to_string()].into();
        let mut still = [issue("aws", "a.py", "fp1", Severity::High)];
        let a = apply(&mut l, &mut still, &looked(&["a.py"]), "c2", 1, &claims, 3);
        assert_eq!(a.ineffective_claims, ["SEC-001"]);
        let a = apply(&mut l, &mut [], &looked(&["a.py"]), "c3", 1, &claims, 3);
        assert!(a.resolved[0].claimed);
    }
}
