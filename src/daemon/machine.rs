//! The daemon's state machine: the design document's states, each holding exactly the data
//! valid in it (the batch collecting, the audit under way, the wait for a fix), and one pure,
//! total transition over (state, event).

use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::plan::Plan;

/// A continuous stream of commits still gets audited this long after the first one.
pub const MAX_BATCH_DELAY: Duration = Duration::from_secs(10);

/// A state's name, as users read it in `auditor status` and the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateName {
    /// Waiting for a commit or a file change.
    Idle,
    /// A change was seen; the batch is collecting (debounce) before the audit starts.
    DetectedChange,
    /// Static checks and built-in scanners.
    Auditing,
    /// The test suite.
    Testing,
    /// Aggregating results and metrics.
    Verifying,
    /// Writing the report.
    Reporting,
    /// Writing feedback into the inbox.
    Communicating,
    /// Feedback with blocking issues was sent; audits go on while the agent fixes them.
    WaitForFix,
    /// The daemon stopped (terminal; shown by `auditor status` after a clean exit).
    Stopped,
}

impl StateName {
    /// Every state, in the design document's order.
    pub const ALL: [StateName; 9] = [
        StateName::Idle,
        StateName::DetectedChange,
        StateName::Auditing,
        StateName::Testing,
        StateName::Verifying,
        StateName::Reporting,
        StateName::Communicating,
        StateName::WaitForFix,
        StateName::Stopped,
    ];

    /// The name users read (the design document's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Idle => "IDLE",
            StateName::DetectedChange => "DETECTED_CHANGE",
            StateName::Auditing => "AUDITING",
            StateName::Testing => "TESTING",
            StateName::Verifying => "VERIFYING",
            StateName::Reporting => "REPORTING",
            StateName::Communicating => "COMMUNICATING",
            StateName::WaitForFix => "WAIT_FOR_FIX",
            StateName::Stopped => "STOPPED",
        }
    }

    /// Parses a name written by `as_str`.
    pub fn parse(name: &str) -> Option<StateName> {
        StateName::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A wait for a fix: since when (persisted, so that a restart resumes it) and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// When it began.
    pub since: DateTime<Utc>,
    /// When it times out and the open blocking issues escalate.
    pub deadline: Instant,
}

/// A batch collecting: when its first change came, and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debounce {
    /// The first change of the batch.
    pub first: Instant,
    /// When the audit starts, unless another change comes first.
    pub due: Instant,
}

impl Debounce {
    /// Another change: the batch waits for `due`, but no longer than `MAX_BATCH_DELAY` after
    /// its first change, so that a continuous stream of commits is still audited.
    pub fn rearm(self, due: Instant) -> Debounce {
        Debounce {
            first: self.first,
            due: due.min(self.first + MAX_BATCH_DELAY),
        }
    }
}

/// What a running audit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// Uncommitted changes: nothing to record.
    Uncommitted,
    /// Commits whose report is not written yet: they are not audited.
    Unrecorded(Plan),
    /// Commits whose report was written: recorded as audited.
    Recorded(Plan),
}

impl Batch {
    /// The commits' plan, recorded or not.
    pub fn plan(&self) -> Option<&Plan> {
        match self {
            Batch::Uncommitted => None,
            Batch::Unrecorded(p) | Batch::Recorded(p) => Some(p),
        }
    }
}

/// One audit on the audit thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Matches the thread's messages to the job (a cancelled job's late ones are dropped).
    pub id: u64,
    /// What it audits, and whether its commits are recorded as audited yet.
    pub batch: Batch,
    /// When it started.
    pub started: Instant,
    /// When its present stage started.
    pub stage_started: DateTime<Utc>,
    /// The commit the report is for.
    pub commit: String,
    /// How many commits it covers.
    pub commits: usize,
    /// How long the static stage took, once it is done.
    pub static_ms: Option<u64>,
    /// When the test stage started.
    pub test_started: Option<Instant>,
    /// How long the test stage took.
    pub test_ms: u64,
    /// It was told to stop (preemption, shutdown).
    pub cancelled: bool,
}

/// An audit under way, and what surrounds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The job.
    pub job: Job,
    /// Commits came during it: another batch follows.
    pub queued: bool,
    /// The wait for a fix it continues (audits go on while the agent fixes).
    pub wait: Option<Wait>,
}

/// A state of the daemon, with the data valid in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for a commit or a file change.
    Idle,
    /// A change was seen; the batch is collecting.
    DetectedChange {
        /// When the audit starts.
        batch: Debounce,
        /// The wait for a fix this batch continues.
        wait: Option<Wait>,
    },
    /// The static stage.
    Auditing(Audit),
    /// The test stage.
    Testing(Audit),
    /// Aggregating.
    Verifying(Audit),
    /// Writing the report.
    Reporting(Audit),
    /// Writing the inbox.
    Communicating(Audit),
    /// Blocking feedback was sent.
    WaitForFix(Wait),
    /// Stopped.
    Stopped,
}

impl State {
    /// Its name.
    pub fn name(&self) -> StateName {
        match self {
            State::Idle => StateName::Idle,
            State::DetectedChange { .. } => StateName::DetectedChange,
            State::Auditing(_) => StateName::Auditing,
            State::Testing(_) => StateName::Testing,
            State::Verifying(_) => StateName::Verifying,
            State::Reporting(_) => StateName::Reporting,
            State::Communicating(_) => StateName::Communicating,
            State::WaitForFix(_) => StateName::WaitForFix,
            State::Stopped => StateName::Stopped,
        }
    }

    /// The audit under way, in the states that have one.
    pub fn audit(&self) -> Option<&Audit> {
        match self {
            State::Auditing(a)
            | State::Testing(a)
            | State::Verifying(a)
            | State::Reporting(a)
            | State::Communicating(a) => Some(a),
            _ => None,
        }
    }

    /// The audit under way, to update.
    pub fn audit_mut(&mut self) -> Option<&mut Audit> {
        match self {
            State::Auditing(a)
            | State::Testing(a)
            | State::Verifying(a)
            | State::Reporting(a)
            | State::Communicating(a) => Some(a),
            _ => None,
        }
    }

    /// The wait for a fix that is open, in this state or continued by it.
    pub fn wait(&self) -> Option<Wait> {
        match self {
            State::WaitForFix(w) => Some(*w),
            State::DetectedChange { wait, .. } => *wait,
            s => s.audit().and_then(|a| a.wait),
        }
    }

    /// When the collecting batch is due.
    pub fn batch_due(&self) -> Option<Instant> {
        match self {
            State::DetectedChange { batch, .. } => Some(batch.due),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().as_str())
    }
}

/// Something that happened, as far as the state machine cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// HEAD moved to an unaudited commit, or the working tree settled with changes.
    ChangeDetected {
        /// The `[watch] preempt` setting: kill a running test stage and restart on the new
        /// batch.
        preempt: bool,
        /// When the batch is due (the debounce, or now after a quiet period).
        due: Instant,
    },
    /// The batch is due and planned: its audit starts.
    BatchReady(Box<Job>),
    /// The batch is due and nothing needs auditing (already audited, or every commit
    /// skipped, or it could not be planned).
    NothingToAudit,
    /// The static stage finished.
    StaticDone {
        /// A CRITICAL issue was found.
        critical: bool,
        /// The test stage runs next.
        tests_next: bool,
    },
    /// The test stage finished.
    TestsDone,
    /// Results and metrics are aggregated.
    Verified,
    /// The report was written.
    ReportWritten {
        /// There are issues for the inbox.
        to_send: bool,
    },
    /// The inbox was written.
    FeedbackWritten {
        /// An issue at HIGH or above is open: the wait for a fix begins, this long.
        blocking: Option<Duration>,
    },
    /// The audit ended in an error; it is logged and the daemon goes on.
    AuditFailed,
    /// The wait for a fix timed out.
    WaitTimedOut,
    /// `auditor reset`.
    Reset,
    /// SIGTERM, SIGINT or `auditor stop`.
    Shutdown,
}

/// What the daemon must do besides changing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing more.
    None,
    /// Start the audit of the collected batch.
    StartAudit,
    /// Another batch is due once the running audit ends.
    QueueBatch,
    /// Kill the running test stage (the job, now cancelled, winds down); the batch is
    /// audited again with the new commits.
    Preempt(Box<Job>),
    /// Stop everything, persist, exit.
    Stop,
    /// The event does not apply in this state; it is logged and otherwise ignored.
    Ignore,
}

/// When an event happens, on both clocks: the monotonic one for deadlines, the wall clock
/// for what is shown and persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// For deadlines.
    pub at: Instant,
    /// For people and files.
    pub wall: DateTime<Utc>,
}

/// The transition function. Total: every (state, event) pair has a decision; an ignored
/// event leaves the state as it was.
pub fn transition(state: State, event: Event, now: Now) -> (State, Action) {
    use Action as A;
    use Event as E;
    use State as S;
    match (state, event) {
        (S::Stopped, _) => (S::Stopped, A::Ignore),
        (_, E::Shutdown) => (S::Stopped, A::Stop),

        // A change: start collecting a batch, or queue it behind the running audit.
        (S::Idle, E::ChangeDetected { due, .. }) => (collecting(now, due, None), A::None),
        (S::WaitForFix(wait), E::ChangeDetected { due, .. }) => {
            (collecting(now, due, Some(wait)), A::None)
        }
        (S::DetectedChange { batch, wait }, E::ChangeDetected { due, .. }) => (
            S::DetectedChange {
                batch: batch.rearm(due),
                wait,
            },
            A::None,
        ),
        (S::Testing(audit), E::ChangeDetected { preempt: true, due }) => {
            let mut job = Box::new(audit.job);
            job.cancelled = true;
            (collecting(now, due, audit.wait), A::Preempt(job))
        }
        (s, E::ChangeDetected { .. }) if s.audit().is_some() => {
            let mut s = s;
            if let Some(a) = s.audit_mut() {
                a.queued = true;
            }
            (s, A::QueueBatch)
        }

        (S::DetectedChange { wait, .. }, E::BatchReady(job)) => (
            S::Auditing(Audit {
                job: *job,
                queued: false,
                wait,
            }),
            A::StartAudit,
        ),
        (S::DetectedChange { wait, .. }, E::NothingToAudit) => (waiting_or_idle(wait), A::None),

        // The audit's own path, as the design document draws it.
        (
            S::Auditing(a),
            E::StaticDone {
                tests_next: true, ..
            },
        ) => (S::Testing(a), A::None),
        (S::Auditing(a), E::StaticDone { critical: true, .. }) => (S::Reporting(a), A::None),
        (S::Auditing(a), E::StaticDone { .. }) => (S::Verifying(a), A::None),
        (S::Testing(a), E::TestsDone) => (S::Verifying(a), A::None),
        (S::Verifying(a), E::Verified) => (S::Reporting(a), A::None),
        // After a CRITICAL static finding the aggregation happens inside REPORTING.
        (S::Reporting(a), E::Verified) => (S::Reporting(a), A::None),
        (S::Reporting(a), E::ReportWritten { to_send: true }) => (S::Communicating(a), A::None),
        (S::Reporting(_), E::ReportWritten { to_send: false }) => (S::Idle, A::None),
        (
            S::Communicating(_),
            E::FeedbackWritten {
                blocking: Some(wait),
            },
        ) => (
            S::WaitForFix(Wait {
                since: now.wall,
                deadline: now.at + wait,
            }),
            A::None,
        ),
        (S::Communicating(_), E::FeedbackWritten { blocking: None }) => (S::Idle, A::None),

        (S::DetectedChange { wait, .. }, E::AuditFailed) => (waiting_or_idle(wait), A::None),
        (s, E::AuditFailed) if s.audit().is_some() => {
            (waiting_or_idle(s.audit().and_then(|a| a.wait)), A::None)
        }

        (S::WaitForFix(_), E::WaitTimedOut | E::Reset) => (S::Idle, A::None),
        // Reset during an audit that follows a wait: the wait ends now, the audit goes on.
        (s, E::Reset) if s.wait().is_some() => {
            let mut s = s;
            match &mut s {
                S::DetectedChange { wait, .. } => *wait = None,
                other => {
                    if let Some(a) = other.audit_mut() {
                        a.wait = None;
                    }
                }
            }
            (s, A::None)
        }

        (s, _) => (s, A::Ignore),
    }
}

fn collecting(now: Now, due: Instant, wait: Option<Wait>) -> State {
    State::DetectedChange {
        batch: Debounce {
            first: now.at,
            due: due.min(now.at + MAX_BATCH_DELAY),
        },
        wait,
    }
}

fn waiting_or_idle(wait: Option<Wait>) -> State {
    wait.map_or(State::Idle, State::WaitForFix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Event as E;
    use StateName as N;

    fn now() -> Now {
        Now {
            at: Instant::now(),
            wall: Utc::now(),
        }
    }

    fn job(id: u64) -> Job {
        Job {
            id,
            batch: Batch::Uncommitted,
            started: Instant::now(),
            stage_started: Utc::now(),
            commit: "c".into(),
            commits: 1,
            static_ms: None,
            test_started: None,
            test_ms: 0,
            cancelled: false,
        }
    }

    fn wait(n: Now) -> Wait {
        Wait {
            since: n.wall,
            deadline: n.at + Duration::from_secs(60),
        }
    }

    fn audit(wait: Option<Wait>) -> Audit {
        Audit {
            job: job(1),
            queued: false,
            wait,
        }
    }

    /// One state of each name, with or without a wait open.
    fn states(n: Now, open: bool) -> Vec<State> {
        let w = open.then(|| wait(n));
        let batch = Debounce {
            first: n.at,
            due: n.at,
        };
        let mut all = vec![
            State::DetectedChange { batch, wait: w },
            State::Auditing(audit(w)),
            State::Testing(audit(w)),
            State::Verifying(audit(w)),
            State::Reporting(audit(w)),
            State::Communicating(audit(w)),
            State::Stopped,
        ];
        all.push(if open {
            State::WaitForFix(wait(n))
        } else {
            State::Idle
        });
        all
    }

    fn events(n: Now) -> Vec<Event> {
        let mut all = vec![
            E::ChangeDetected {
                preempt: false,
                due: n.at,
            },
            E::ChangeDetected {
                preempt: true,
                due: n.at,
            },
            E::BatchReady(Box::new(job(2))),
            E::NothingToAudit,
            E::TestsDone,
            E::Verified,
            E::ReportWritten { to_send: false },
            E::ReportWritten { to_send: true },
            E::FeedbackWritten { blocking: None },
            E::FeedbackWritten {
                blocking: Some(Duration::from_secs(5)),
            },
            E::AuditFailed,
            E::WaitTimedOut,
            E::Reset,
        ];
        for critical in [false, true] {
            for tests_next in [false, true] {
                all.push(E::StaticDone {
                    critical,
                    tests_next,
                });
            }
        }
        all
    }

    fn check(from: &State, event: Event, next: StateName, action: &Action, n: Now) {
        let (to, did) = transition(from.clone(), event.clone(), n);
        assert_eq!(
            (to.name(), &did),
            (next, action),
            "{from} on {event:?}: {to:?}"
        );
    }

    #[test]
    fn the_design_documents_transitions() {
        let n = now();
        let change = E::ChangeDetected {
            preempt: false,
            due: n.at,
        };
        check(&State::Idle, change, N::DetectedChange, &A::None, n);
        let collecting = collecting(n, n.at, None);
        check(
            &collecting,
            E::BatchReady(Box::new(job(1))),
            N::Auditing,
            &A::StartAudit,
            n,
        );
        let tests_next = E::StaticDone {
            critical: false,
            tests_next: true,
        };
        let a = audit(None);
        check(
            &State::Auditing(a.clone()),
            tests_next,
            N::Testing,
            &A::None,
            n,
        );
        let critical = E::StaticDone {
            critical: true,
            tests_next: false,
        };
        check(
            &State::Auditing(a.clone()),
            critical,
            N::Reporting,
            &A::None,
            n,
        );
        check(
            &State::Testing(a.clone()),
            E::TestsDone,
            N::Verifying,
            &A::None,
            n,
        );
        check(
            &State::Verifying(a.clone()),
            E::Verified,
            N::Reporting,
            &A::None,
            n,
        );
        let reporting = State::Reporting(a.clone());
        check(
            &reporting,
            E::ReportWritten { to_send: true },
            N::Communicating,
            &A::None,
            n,
        );
        check(
            &reporting,
            E::ReportWritten { to_send: false },
            N::Idle,
            &A::None,
            n,
        );
        let blocking = E::FeedbackWritten {
            blocking: Some(Duration::from_secs(30)),
        };
        let (to, _) = transition(State::Communicating(a), blocking, n);
        assert_eq!(
            to,
            State::WaitForFix(Wait {
                since: n.wall,
                deadline: n.at + Duration::from_secs(30)
            })
        );
        check(&to, E::WaitTimedOut, N::Idle, &A::None, n);
        check(&to, E::Reset, N::Idle, &A::None, n);
    }

    #[test]
    fn a_wait_is_carried_through_the_audits_that_follow_it() {
        let n = now();
        let w = wait(n);
        let change = E::ChangeDetected {
            preempt: false,
            due: n.at,
        };
        let (s, _) = transition(State::WaitForFix(w), change, n);
        assert_eq!(s.wait(), Some(w));
        // Nothing to audit, or the audit failed: back to the same wait, deadline and all.
        assert_eq!(
            transition(s.clone(), E::NothingToAudit, n).0,
            State::WaitForFix(w)
        );
        let (s, _) = transition(s, E::BatchReady(Box::new(job(3))), n);
        assert_eq!(s.wait(), Some(w));
        let (s, _) = transition(s, E::AuditFailed, n);
        assert_eq!(s, State::WaitForFix(w));
        // An audit that reports no issue ends the wait.
        let (s, _) = transition(State::Reporting(audit(Some(w))), E::Verified, n);
        assert_eq!(
            transition(s, E::ReportWritten { to_send: false }, n).0,
            State::Idle
        );
        // Reset during an audit ends the wait, not the audit.
        let (s, action) = transition(State::Testing(audit(Some(w))), E::Reset, n);
        assert_eq!((s.name(), s.wait(), action), (N::Testing, None, A::None));
        let (s, _) = transition(s, E::AuditFailed, n);
        assert_eq!(s, State::Idle);
    }

    #[test]
    fn changes_during_an_audit_queue_or_preempt() {
        let n = now();
        let change = |preempt| E::ChangeDetected {
            preempt,
            due: n.at + Duration::from_secs(2),
        };
        for s in states(n, false).into_iter().filter(|s| s.audit().is_some()) {
            let (to, action) = transition(s.clone(), change(false), n);
            assert_eq!((to.name(), &action), (s.name(), &A::QueueBatch));
            assert!(to.audit().is_some_and(|a| a.queued));
        }
        // Preemption stops only the tests; the job is handed back cancelled.
        let testing = audit(None);
        let (to, action) = transition(State::Testing(testing.clone()), change(true), n);
        let mut cancelled = Box::new(testing.job);
        cancelled.cancelled = true;
        assert_eq!(action, A::Preempt(cancelled));
        assert_eq!(to.batch_due(), Some(n.at + Duration::from_secs(2)));
        check(
            &State::Auditing(audit(None)),
            change(true),
            N::Auditing,
            &A::QueueBatch,
            n,
        );
    }

    #[test]
    fn a_stream_of_changes_is_due_no_later_than_the_batch_delay() {
        let n = now();
        let (mut s, _) = transition(
            State::Idle,
            E::ChangeDetected {
                preempt: false,
                due: n.at + Duration::from_secs(2),
            },
            n,
        );
        for k in 1..20u64 {
            let later = Now {
                at: n.at + Duration::from_secs(k),
                wall: n.wall,
            };
            let change = E::ChangeDetected {
                preempt: false,
                due: later.at + Duration::from_secs(2),
            };
            s = transition(s, change, later).0;
        }
        assert_eq!(s.batch_due(), Some(n.at + MAX_BATCH_DELAY));
    }

    #[test]
    fn the_transitions_that_make_it_total() {
        let n = now();
        let a = audit(None);
        let no_tests = E::StaticDone {
            critical: false,
            tests_next: false,
        };
        check(
            &State::Auditing(a.clone()),
            no_tests,
            N::Verifying,
            &A::None,
            n,
        );
        let critical_tests = E::StaticDone {
            critical: true,
            tests_next: true,
        };
        check(
            &State::Auditing(a.clone()),
            critical_tests,
            N::Testing,
            &A::None,
            n,
        );
        check(
            &State::Reporting(a.clone()),
            E::Verified,
            N::Reporting,
            &A::None,
            n,
        );
        check(
            &State::Communicating(a),
            E::FeedbackWritten { blocking: None },
            N::Idle,
            &A::None,
            n,
        );
        let collecting = collecting(n, n.at, None);
        check(&collecting, E::NothingToAudit, N::Idle, &A::None, n);
        check(&collecting, E::AuditFailed, N::Idle, &A::None, n);
    }

    #[test]
    fn shutdown_from_every_state_and_nothing_after() {
        let n = now();
        for open in [false, true] {
            for s in states(n, open) {
                let (to, action) = transition(s.clone(), E::Shutdown, n);
                assert_eq!(to, State::Stopped);
                let expected = if s == State::Stopped {
                    A::Ignore
                } else {
                    A::Stop
                };
                assert_eq!(action, expected, "{s}");
            }
        }
        for e in events(n) {
            check(&State::Stopped, e, N::Stopped, &A::Ignore, n);
        }
    }

    #[test]
    fn the_function_is_total_and_ignored_events_keep_the_state() {
        let n = now();
        for open in [false, true] {
            for s in states(n, open) {
                for e in events(n) {
                    let (to, action) = transition(s.clone(), e.clone(), n);
                    if action == A::Ignore {
                        assert_eq!(to, s, "{s} on {e:?} is ignored but changed");
                    }
                }
            }
        }
        check(&State::Idle, E::Reset, N::Idle, &A::Ignore, n);
        check(&State::Idle, E::TestsDone, N::Idle, &A::Ignore, n);
        check(
            &State::Idle,
            E::BatchReady(Box::new(job(1))),
            N::Idle,
            &A::Ignore,
            n,
        );
        check(
            &State::Testing(audit(None)),
            E::ReportWritten { to_send: true },
            N::Testing,
            &A::Ignore,
            n,
        );
        check(&State::Idle, E::WaitTimedOut, N::Idle, &A::Ignore, n);
        check(
            &State::Auditing(audit(None)),
            E::Reset,
            N::Auditing,
            &A::Ignore,
            n,
        );
    }

    #[test]
    fn names_round_trip() {
        for s in StateName::ALL {
            assert_eq!(StateName::parse(s.as_str()), Some(s));
        }
    }
}
