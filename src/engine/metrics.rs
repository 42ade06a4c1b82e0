//! VERIFYING's metrics against history: coverage under its minimum or dropped since the
//! previous audit, a test stage much slower than its passing runs, and fewer tests run (or
//! more skipped) than before with nothing in the commits to explain it.

use std::collections::BTreeMap;

use crate::config::MetricSettings;
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::guards::TestTally;
use crate::ledger::{Ledger, MetricSample, TestReference, TestTotals};
use crate::parsers::TestCounts;
use crate::policy::Issue;

/// Samples kept in the ledger.
const KEEP: usize = 50;
/// Recent passing test-stage times a regression is measured against, and the fewest that
/// count: a loaded machine makes single runs slow, a median of many does not move.
const WINDOW: usize = 10;
const MIN_SAMPLES: usize = 5;
/// The check name of test-count issues (each test check has its own fingerprint).
pub const TEST_COUNTS_CHECK: &str = "test-counts";

#[expect(
    clippy::too_many_arguments,
    reason = "one constructor for three similar issues"
)]
fn issue(
    check: &str,
    rule: &str,
    issue_type: IssueType,
    severity: Severity,
    title: String,
    description: String,
    remediation: &str,
    commit: &str,
) -> Issue {
    Issue {
        id: String::new(),
        life: None,
        finding: Finding {
            check: check.into(),
            rule: rule.into(),
            issue_type,
            severity,
            file: None,
            line: None,
            column: None,
            title,
            description,
            remediation: remediation.into(),
            snippet: None,
            location: Location::Introduced,
            commit: Some(commit.to_string()),
            // One identity per rule: the same problem persisting is the same issue.
            fingerprint: format!("metrics:{rule}"),
            redacted: None,
        },
    }
}

/// One audit's test stage, as the metrics read it.
#[derive(Debug, Clone, Default)]
pub struct TestStageFacts<'a> {
    /// Test stage wall time, when tests ran.
    pub ms: Option<u64>,
    /// Every test check that ran passed.
    pub passed: bool,
    /// Each test check that finished (passed or failed).
    pub checks: Vec<TestCheckFacts>,
    /// What the audited commits did to their tests; `None` when the guards are off and it
    /// is not known.
    pub tally: Option<TestTally>,
    /// The commit the audit's changes are measured from.
    pub base: Option<&'a str>,
}

impl<'a> TestStageFacts<'a> {
    /// The facts of the test stage's runs (skipped ones left out).
    pub fn of_runs(
        runs: &[&crate::checks::CheckRun],
        ms: Option<u64>,
        tally: Option<TestTally>,
        base: Option<&'a str>,
    ) -> TestStageFacts<'a> {
        use crate::checks::CheckOutcome;
        TestStageFacts {
            ms,
            passed: runs.iter().all(|r| r.outcome == CheckOutcome::Passed),
            checks: runs
                .iter()
                .filter(|r| matches!(r.outcome, CheckOutcome::Passed | CheckOutcome::Failed))
                .map(|r| TestCheckFacts {
                    name: r.name.clone(),
                    passed: r.outcome == CheckOutcome::Passed,
                    counts: r.tests,
                })
                .collect(),
            tally,
            base,
        }
    }
}

/// One test check's run, for its counts.
#[derive(Debug, Clone)]
pub struct TestCheckFacts {
    /// The check's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What its output said it ran, when it said.
    pub counts: Option<TestCounts>,
}

/// What the metrics make of one audit.
#[derive(Debug, Default)]
pub struct Measured {
    /// Issues raised.
    pub issues: Vec<Issue>,
    /// What the next audit's test counts are measured against.
    pub references: BTreeMap<String, TestReference>,
    /// Whether every test check with a reference was compared with it: only then does the
    /// absence of a TESTS_NOT_RUN issue mean one resolved.
    pub counts_compared: bool,
}

/// Issues from this audit's coverage, test time and test counts, measured against the
/// ledger's history.
pub fn measure(
    ledger: &Ledger,
    coverage: Option<f64>,
    tests: &TestStageFacts<'_>,
    settings: &MetricSettings,
    commit: &str,
) -> Measured {
    let mut out = Measured::default();
    out.issues
        .extend(coverage_issues(ledger, coverage, settings, commit));
    out.issues
        .extend(duration_issue(ledger, tests, settings, commit));
    let (issues, references, compared) = test_count_issues(ledger, tests, commit);
    out.issues.extend(issues);
    out.references = references;
    out.counts_compared = compared;
    out
}

fn coverage_issues(
    ledger: &Ledger,
    coverage: Option<f64>,
    settings: &MetricSettings,
    commit: &str,
) -> Vec<Issue> {
    let mut out = Vec::new();
    if let (Some(c), Some(min)) = (coverage, settings.coverage_min)
        && c < min
    {
        out.push(issue(
                "coverage",
                "coverage-min",
                IssueType::Coverage,
                Severity::Medium,
                format!("Test coverage {c:.1}% is under the minimum {min:.1}%"),
                format!("Line coverage measured after the tests is {c:.1}%; `[metrics] coverage_min` is {min:.1}%."),
                "Add tests for the code this change added or touched, until coverage is back above the minimum.",
                commit,
            ));
    }
    let previous = ledger.metrics.iter().rev().find_map(|m| m.coverage);
    if let (Some(c), Some(p)) = (coverage, previous)
        && p - c > settings.coverage_drop_max
    {
        out.push(issue(
                "coverage",
                "coverage-drop",
                IssueType::Coverage,
                Severity::Medium,
                format!("Test coverage dropped from {p:.1}% to {c:.1}%"),
                format!(
                    "Line coverage fell {:.1} points since the previous audited commit ({p:.1}% → {c:.1}%); the allowed drop is {:.1} points.",
                    p - c,
                    settings.coverage_drop_max
                ),
                "Cover the new code with tests, or restore the tests this change removed or disabled.",
                commit,
            ));
    }
    out
}

/// A test stage much slower than the median of recent passing runs, by a ratio and by an
/// absolute margin, and slower than every one of them: errored runs stop early and are no
/// baseline, and machine noise moves a short suite by a large ratio.
fn duration_issue(
    ledger: &Ledger,
    tests: &TestStageFacts<'_>,
    settings: &MetricSettings,
    commit: &str,
) -> Option<Issue> {
    let now = tests.ms.filter(|_| tests.passed)?;
    let mut recent: Vec<u64> = ledger
        .metrics
        .iter()
        .rev()
        .filter(|m| m.tests_passed == Some(true))
        .filter_map(|m| m.test_ms)
        .take(WINDOW)
        .collect();
    if recent.len() < MIN_SAMPLES {
        return None;
    }
    recent.sort_unstable();
    let median = recent[recent.len() / 2].max(1);
    let slowest = recent.last().copied().unwrap_or(median);
    #[expect(
        clippy::cast_precision_loss,
        reason = "durations in ms fit an f64 exactly"
    )]
    let (ratio, now_s, median_s) = (
        now as f64 / median as f64,
        now as f64 / 1000.0,
        median as f64 / 1000.0,
    );
    let margin = u64::try_from(settings.perf_regression_min.as_millis()).unwrap_or(u64::MAX);
    if ratio <= settings.perf_regression_ratio
        || now.saturating_sub(median) <= margin
        || now <= slowest
    {
        return None;
    }
    Some(issue(
        "performance",
        "test-duration",
        IssueType::PerformanceRegression,
        Severity::Medium,
        format!("The test stage is {ratio:.1}x slower than usual"),
        format!(
            "The test stage took {now_s:.1} s; the median of the last {} passing audits is {median_s:.1} s ({ratio:.1}x, {:.1} s more, slower than any of them; the limits are {:.1}x and {:.1} s).",
            recent.len(),
            now_s - median_s,
            settings.perf_regression_ratio,
            settings.perf_regression_min.as_secs_f64(),
        ),
        "Find what this change made slower (a new sleep, a quadratic loop, an unmocked network call) and fix it; if the slowdown is intended, say so in the commit and acknowledge the issue.",
        commit,
    ))
}

/// Fewer tests run, or more skipped, than the reference the base commit left, beyond what
/// the audited commits' deleted tests and added skips explain. Returns the issues, the
/// references for the next audit and whether every reference was compared.
fn test_count_issues(
    ledger: &Ledger,
    tests: &TestStageFacts<'_>,
    commit: &str,
) -> (Vec<Issue>, BTreeMap<String, TestReference>, bool) {
    let before: BTreeMap<String, TestReference> = tests
        .base
        .and_then(|base| ledger.metrics.iter().rev().find(|m| m.commit == base))
        .map(|m| m.reference.clone())
        .unwrap_or_default();
    let tally = tests.tally;
    let mut issues = Vec::new();
    let mut references = BTreeMap::new();
    let mut compared_all = true;
    // A reference no run measured this time is carried on, with what the commits explain.
    for (name, reference) in &before {
        if !tests.checks.iter().any(|c| &c.name == name) {
            references.insert(name.clone(), carried(reference, tally));
            compared_all = false;
        }
    }
    for check in &tests.checks {
        let reference = before.get(&check.name).map(|r| carried(r, tally));
        let fresh = |counts: TestCounts| TestReference {
            commit: commit.to_string(),
            ran: counts.total,
            skipped: counts.skipped,
            ..TestReference::default()
        };
        match (reference, check.counts.filter(|_| check.passed)) {
            // A failing run may have stopped early: its counts are no evidence either way.
            (Some(reference), None) => {
                compared_all = false;
                references.insert(check.name.clone(), reference);
            }
            (None, None) => {}
            (None, Some(counts)) => {
                references.insert(check.name.clone(), fresh(counts));
                issues.extend(no_test_ran(&check.name, counts, commit));
            }
            (Some(reference), Some(counts)) => {
                let fingerprint = test_counts_fingerprint(&check.name);
                let accepted = ledger.entries.iter().any(|e| {
                    e.check == TEST_COUNTS_CHECK
                        && e.life.is_open()
                        && e.ack.is_some()
                        && e.key.rsplit('\u{1f}').next() == Some(fingerprint.as_str())
                });
                match shortfall(&reference, counts, tally.is_some()).filter(|_| !accepted) {
                    Some(severity) => {
                        issues.push(tests_not_run(
                            &check.name,
                            &reference,
                            counts,
                            severity,
                            commit,
                        ));
                        // Kept until the tests run again or the operator accepts it.
                        references.insert(check.name.clone(), reference);
                    }
                    None => {
                        references.insert(check.name.clone(), fresh(counts));
                        issues.extend(no_test_ran(&check.name, counts, commit));
                    }
                }
            }
        }
    }
    (issues, references, compared_all)
}

/// A reference with what the audited commits explain added.
fn carried(reference: &TestReference, tally: Option<TestTally>) -> TestReference {
    let tally = tally.unwrap_or_default();
    TestReference {
        removed_since: reference.removed_since.saturating_add(tally.removed),
        skips_since: reference.skips_since.saturating_add(tally.skips_added),
        data_removed_since: reference
            .data_removed_since
            .saturating_add(tally.data_removed),
        ..reference.clone()
    }
}

/// Whether `now` falls short of `reference` beyond what it explains, and how badly: HIGH
/// when the commits explain nothing at all, MEDIUM when they explain some (one deleted
/// parametrized test is many cases) or the guards that would say are off.
fn shortfall(reference: &TestReference, now: TestCounts, tally_known: bool) -> Option<Severity> {
    let dropped = reference.ran.saturating_sub(now.total);
    let more_skipped = now.skipped.saturating_sub(reference.skipped);
    let explains_ran = reference
        .removed_since
        .saturating_add(reference.skips_since);
    if dropped <= explains_ran && more_skipped <= reference.skips_since {
        return None;
    }
    let explains_anything = explains_ran > 0 || reference.data_removed_since > 0;
    Some(if tally_known && !explains_anything {
        Severity::High
    } else {
        Severity::Medium
    })
}

/// A passing test command that ran no test at all, with nothing before to compare with
/// (or nothing before either): told, never blocking, so that a PASS is not read as "the
/// tests passed". Its fingerprint is its own: it closes once the command runs a test.
fn no_test_ran(check: &str, counts: TestCounts, commit: &str) -> Option<Issue> {
    if counts.total > 0 || counts.skipped > 0 {
        return None;
    }
    let mut found = issue(
        TEST_COUNTS_CHECK,
        "no-tests",
        IssueType::TestsNotRun,
        Severity::Low,
        format!("`{check}` ran no tests"),
        format!(
            "`{check}` ran and found no test to run: nothing this audit did checks the code's behaviour. A project with tests that `{check}` does not find (a test path, a file pattern, a missing configuration) looks the same."
        ),
        "Add tests the command finds, or point the test command at the ones the project has. If the project has none on purpose, acknowledge this issue.",
        commit,
    );
    found.finding.check = TEST_COUNTS_CHECK.into();
    found.finding.fingerprint = format!("metrics:no-tests:{check}");
    Some(found)
}

fn test_counts_fingerprint(check: &str) -> String {
    format!("metrics:tests-not-run:{check}")
}

fn tests_not_run(
    check: &str,
    reference: &TestReference,
    now: TestCounts,
    severity: Severity,
    commit: &str,
) -> Issue {
    let short = |c: &str| crate::bytes::short(c).to_string();
    let plural = |n: u32, one: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let title = if now.total < reference.ran {
        format!(
            "`{check}` ran {}, {} before",
            plural(now.total, "test"),
            reference.ran
        )
    } else {
        format!(
            "`{check}` skipped {}, {} before",
            plural(now.skipped, "test"),
            reference.skipped
        )
    };
    let explained = if reference.removed_since
        + reference.skips_since
        + reference.data_removed_since
        == 0
    {
        "The commits since then delete no test, add no skip and remove no test data that would explain it".to_string()
    } else {
        format!(
            "The commits since then delete {}, add {} and remove {}: fewer than the difference",
            plural(reference.removed_since, "test"),
            plural(reference.skips_since, "skip marker"),
            plural(reference.data_removed_since, "data or fixture file"),
        )
    };
    let mut found = issue(
        TEST_COUNTS_CHECK,
        "tests-not-run",
        IssueType::TestsNotRun,
        severity,
        title,
        format!(
            "`{check}` passed, but it ran {} and skipped {}; at commit `{}` it ran {} and skipped {}. {explained}: something keeps tests from running (a focus marker such as `.only` or `fit`, a changed test path, pattern or marker filter, a test file renamed out of the runner's pattern, a skip in a fixture or a conftest).",
            plural(now.total, "test"),
            now.skipped,
            short(&reference.commit),
            reference.ran,
            reference.skipped,
        ),
        "Make the whole suite run again: remove the focus marker or the filter, restore the test paths and names the runner finds. If fewer tests are meant to run, say why in the commit message and ask the operator to acknowledge this issue.",
        commit,
    );
    found.finding.check = TEST_COUNTS_CHECK.into();
    found.finding.fingerprint = test_counts_fingerprint(check);
    found
}

/// Whether the ledger's audit of `commit` ran its tests green.
pub fn tests_passed_at(ledger: &Ledger, commit: Option<git2::Oid>) -> bool {
    commit.is_some_and(|c| {
        let c = c.to_string();
        ledger
            .metrics
            .iter()
            .any(|m| m.commit == c && m.tests_passed == Some(true))
    })
}

/// Records this audit's metrics: its test time, counts and coverage, and the references the
/// next audit's counts are measured against.
pub fn record(
    ledger: &mut Ledger,
    commit: &str,
    tests: &TestStageFacts<'_>,
    coverage: Option<f64>,
    references: BTreeMap<String, TestReference>,
) {
    if tests.ms.is_none() && coverage.is_none() && references.is_empty() {
        return;
    }
    let counts = tests
        .checks
        .iter()
        .filter_map(|c| {
            c.counts.map(|t| {
                (
                    c.name.clone(),
                    TestTotals {
                        ran: t.total,
                        failed: t.failed,
                        skipped: t.skipped,
                    },
                )
            })
        })
        .collect();
    // Auditing a commit again replaces its sample.
    ledger.metrics.retain(|m| m.commit != commit);
    ledger.metrics.push(MetricSample {
        commit: commit.to_string(),
        test_ms: tests.ms,
        coverage,
        tests_passed: tests.ms.map(|_| tests.passed),
        tests: counts,
        reference: references,
    });
    let excess = ledger.metrics.len().saturating_sub(KEEP);
    ledger.metrics.drain(..excess);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings() -> MetricSettings {
        MetricSettings {
            coverage: None,
            coverage_min: None,
            coverage_drop_max: 2.0,
            perf_regression_ratio: 1.5,
            perf_regression_min: Duration::from_secs(5),
        }
    }

    fn counts(total: u32, skipped: u32) -> TestCounts {
        TestCounts {
            total,
            failed: 0,
            skipped,
        }
    }

    /// Audits `commit` on top of `base`, records it, and returns its issues.
    fn audit(
        ledger: &mut Ledger,
        commit: &str,
        base: Option<&str>,
        run: Option<(bool, TestCounts)>,
        tally: TestTally,
    ) -> Vec<Issue> {
        let facts = TestStageFacts {
            ms: run.map(|_| 1000),
            passed: run.is_none_or(|(passed, _)| passed),
            checks: run
                .map(|(passed, c)| TestCheckFacts {
                    name: "pytest".into(),
                    passed,
                    counts: Some(c),
                })
                .into_iter()
                .collect(),
            tally: Some(tally),
            base,
        };
        let measured = measure(ledger, None, &facts, &settings(), commit);
        record(ledger, commit, &facts, None, measured.references);
        measured.issues
    }

    fn severities(issues: &[Issue]) -> Vec<(IssueType, Severity)> {
        issues
            .iter()
            .map(|i| (i.finding.issue_type, i.finding.severity))
            .collect()
    }

    const NOTHING: TestTally = TestTally {
        removed: 0,
        skips_added: 0,
        data_removed: 0,
    };

    #[test]
    fn a_suite_that_runs_one_test_of_forty_with_nothing_deleted_is_high() {
        let mut l = Ledger::default();
        assert!(audit(&mut l, "a1", None, Some((true, counts(40, 0))), NOTHING).is_empty());
        let issues = audit(
            &mut l,
            "b2",
            Some("a1"),
            Some((true, counts(1, 0))),
            NOTHING,
        );
        assert_eq!(
            severities(&issues),
            [(IssueType::TestsNotRun, Severity::High)]
        );
        let text = &issues[0].finding;
        assert_eq!(text.title, "`pytest` ran 1 test, 40 before");
        assert!(text.description.contains("ran 1 test and skipped 0"));
        assert!(text.description.contains("at commit `a1` it ran 40"));
    }

    #[test]
    fn a_suite_that_never_ran_a_test_is_told_low_and_one_that_lost_them_high() {
        let mut l = Ledger::default();
        let none = audit(&mut l, "a1", None, Some((true, counts(0, 0))), NOTHING);
        assert_eq!(severities(&none), [(IssueType::TestsNotRun, Severity::Low)]);
        assert_eq!(none[0].finding.title, "`pytest` ran no tests");
        // Still none: still told; tests appear: nothing to say.
        let again = audit(
            &mut l,
            "b2",
            Some("a1"),
            Some((true, counts(0, 0))),
            NOTHING,
        );
        assert_eq!(again[0].finding.fingerprint, none[0].finding.fingerprint);
        assert!(
            audit(
                &mut l,
                "c3",
                Some("b2"),
                Some((true, counts(3, 0))),
                NOTHING
            )
            .is_empty()
        );
        // Then none are found again and no commit deleted any: the shortfall, HIGH, alone.
        let lost = audit(
            &mut l,
            "d4",
            Some("c3"),
            Some((true, counts(0, 0))),
            NOTHING,
        );
        assert_eq!(
            severities(&lost),
            [(IssueType::TestsNotRun, Severity::High)]
        );
        assert_eq!(lost[0].finding.title, "`pytest` ran 0 tests, 3 before");
    }

    #[test]
    fn more_tests_skipped_with_no_skip_added_is_high() {
        let mut l = Ledger::default();
        audit(&mut l, "a1", None, Some((true, counts(40, 2))), NOTHING);
        let issues = audit(
            &mut l,
            "b2",
            Some("a1"),
            Some((true, counts(30, 12))),
            NOTHING,
        );
        assert_eq!(
            severities(&issues),
            [(IssueType::TestsNotRun, Severity::High)]
        );
    }

    #[test]
    fn deleted_tests_and_added_skips_explain_the_difference() {
        let mut l = Ledger::default();
        audit(&mut l, "a1", None, Some((true, counts(40, 0))), NOTHING);
        let deleted = TestTally {
            removed: 3,
            skips_added: 1,
            data_removed: 0,
        };
        assert!(
            audit(
                &mut l,
                "b2",
                Some("a1"),
                Some((true, counts(36, 1))),
                deleted
            )
            .is_empty()
        );
        // One deleted parametrized test is many cases: told, not blocked.
        let one = TestTally {
            removed: 1,
            ..NOTHING
        };
        let issues = audit(&mut l, "c3", Some("b2"), Some((true, counts(26, 1))), one);
        assert_eq!(
            severities(&issues),
            [(IssueType::TestsNotRun, Severity::Medium)]
        );
        assert!(issues[0].finding.description.contains("delete 1 test,"));
    }

    #[test]
    fn a_shortfall_is_not_forgotten_by_committing_again_or_by_a_failing_run() {
        let mut l = Ledger::default();
        audit(&mut l, "a1", None, Some((true, counts(40, 0))), NOTHING);
        assert_eq!(
            audit(
                &mut l,
                "b2",
                Some("a1"),
                Some((true, counts(1, 0))),
                NOTHING
            )
            .len(),
            1
        );
        // Failing, then unmeasured (--no-tests): the reference is carried, not replaced.
        assert!(
            audit(
                &mut l,
                "c3",
                Some("b2"),
                Some((false, counts(1, 0))),
                NOTHING
            )
            .is_empty()
        );
        assert!(audit(&mut l, "d4", Some("c3"), None, NOTHING).is_empty());
        let issues = audit(
            &mut l,
            "e5",
            Some("d4"),
            Some((true, counts(1, 0))),
            NOTHING,
        );
        assert_eq!(issues.len(), 1);
        assert!(issues[0].finding.description.contains("at commit `a1`"));
        // The suite runs whole again: nothing, and the new counts are the reference.
        assert!(
            audit(
                &mut l,
                "f6",
                Some("e5"),
                Some((true, counts(41, 0))),
                NOTHING
            )
            .is_empty()
        );
        assert_eq!(
            l.metrics.last().map(|m| m.reference["pytest"].ran),
            Some(41)
        );
    }

    #[test]
    fn a_shortfall_the_operator_accepted_becomes_the_reference() {
        let mut l = Ledger::default();
        audit(&mut l, "a1", None, Some((true, counts(40, 0))), NOTHING);
        let mut issues = audit(
            &mut l,
            "b2",
            Some("a1"),
            Some((true, counts(1, 0))),
            NOTHING,
        );
        let examined = crate::ledger::Examined::default();
        crate::ledger::apply(
            &mut l,
            &mut issues,
            &examined,
            "b2",
            1,
            &Default::default(),
            3,
        );
        for e in &mut l.entries {
            e.ack = Some(crate::ledger::Ack {
                reason: "the slow suite moved to nightly".into(),
                at: "2026-12-03T07:00:00Z".into(),
                from: None,
            });
        }
        assert!(
            audit(
                &mut l,
                "c3",
                Some("b2"),
                Some((true, counts(1, 0))),
                NOTHING
            )
            .is_empty()
        );
        assert_eq!(l.metrics.last().map(|m| m.reference["pytest"].ran), Some(1));
    }

    fn timed(l: &mut Ledger, commit: &str, ms: u64, passed: bool) -> Vec<Issue> {
        let facts = TestStageFacts {
            ms: Some(ms),
            passed,
            ..TestStageFacts::default()
        };
        let measured = measure(l, None, &facts, &settings(), commit);
        record(l, commit, &facts, None, measured.references);
        measured.issues
    }

    #[test]
    fn machine_noise_on_a_short_suite_is_no_regression() {
        let mut l = Ledger::default();
        for (i, ms) in [400, 380, 420, 410, 390].iter().enumerate() {
            assert!(timed(&mut l, &format!("c{i}"), *ms, true).is_empty());
        }
        // 6x the median, but 2 s: a loaded machine, not the code.
        assert!(timed(&mut l, "slow", 2400, true).is_empty());
    }

    #[test]
    fn errored_runs_are_no_baseline_and_few_samples_decide_nothing() {
        let mut l = Ledger::default();
        for i in 0..8 {
            // Runs that stopped at a collection error take a fraction of a second.
            timed(&mut l, &format!("e{i}"), 300, false);
        }
        assert!(timed(&mut l, "fixed", 30_000, true).is_empty());
        for i in 0..3 {
            timed(&mut l, &format!("p{i}"), 30_000, true);
        }
        assert!(timed(&mut l, "few", 90_000, true).is_empty());
    }

    #[test]
    fn a_much_slower_passing_suite_is_a_medium_regression() {
        let mut l = Ledger::default();
        for (i, ms) in [10_000, 11_000, 10_500, 9_800, 10_200].iter().enumerate() {
            timed(&mut l, &format!("c{i}"), *ms, true);
        }
        let issues = timed(&mut l, "sleepy", 31_000, true);
        assert_eq!(
            severities(&issues),
            [(IssueType::PerformanceRegression, Severity::Medium)]
        );
        // A failing run's time is not judged.
        assert!(timed(&mut l, "broken", 60_000, false).is_empty());
    }
}
