//! The daemon's state machine: the design document's states and transitions, made total, as
//! one pure function of (state, event) → decision.

use std::fmt;

/// A state of the daemon, as users read it in `auditor status` and the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
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

impl State {
    /// Every state, in the design document's order.
    pub const ALL: [State; 9] = [
        State::Idle,
        State::DetectedChange,
        State::Auditing,
        State::Testing,
        State::Verifying,
        State::Reporting,
        State::Communicating,
        State::WaitForFix,
        State::Stopped,
    ];

    /// The name users read (the design document's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "IDLE",
            State::DetectedChange => "DETECTED_CHANGE",
            State::Auditing => "AUDITING",
            State::Testing => "TESTING",
            State::Verifying => "VERIFYING",
            State::Reporting => "REPORTING",
            State::Communicating => "COMMUNICATING",
            State::WaitForFix => "WAIT_FOR_FIX",
            State::Stopped => "STOPPED",
        }
    }

    /// Parses a name written by `as_str`.
    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether an audit is under way in this state.
    pub fn is_auditing(self) -> bool {
        matches!(
            self,
            State::Auditing
                | State::Testing
                | State::Verifying
                | State::Reporting
                | State::Communicating
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// HEAD moved to an unaudited commit, or the working tree settled with changes.
    /// `preempt` is the `[watch] preempt` setting in force.
    ChangeDetected {
        /// Kill a running test stage and restart on the new batch.
        preempt: bool,
    },
    /// The debounce elapsed and there is something to audit.
    BatchReady,
    /// The debounce elapsed and nothing needs auditing (already audited, or every commit
    /// skipped). `waiting` says whether a wait for a fix was under way.
    NothingToAudit {
        /// A wait for a fix is still open.
        waiting: bool,
    },
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
    /// The report was written. `to_send`: there are issues for the inbox.
    ReportWritten {
        /// Issues at MEDIUM or above exist.
        to_send: bool,
    },
    /// The inbox was written. `blocking`: an issue at HIGH or above is open.
    FeedbackWritten {
        /// Feedback the agent must act on before going on.
        blocking: bool,
    },
    /// The audit ended in an error; it is logged and the daemon goes on.
    AuditFailed {
        /// A wait for a fix was under way before this audit.
        waiting: bool,
    },
    /// The wait for a fix timed out.
    WaitTimedOut,
    /// `auditor reset`.
    Reset,
    /// SIGTERM, SIGINT or `auditor stop`.
    Shutdown,
}

/// What the daemon must do besides changing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing more.
    None,
    /// Start the audit of the collected batch.
    StartAudit,
    /// Remember that another batch is due once the running audit ends.
    QueueBatch,
    /// Kill the running test stage; the batch is audited again with the new commits.
    Preempt,
    /// Stop everything, persist, exit.
    Stop,
    /// The event does not apply in this state; it is logged and otherwise ignored.
    Ignore,
}

/// The outcome of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The state after the event.
    pub next: State,
    /// What to do.
    pub action: Action,
}

fn go(next: State, action: Action) -> Decision {
    Decision { next, action }
}

/// The transition function. Total: every (state, event) pair has a decision.
pub fn transition(state: State, event: Event) -> Decision {
    use Action as A;
    use Event as E;
    use State as S;
    match (state, event) {
        (S::Stopped, _) => go(S::Stopped, A::Ignore),
        (_, E::Shutdown) => go(S::Stopped, A::Stop),

        // A change: start collecting a batch, or queue it behind the running audit.
        (S::Idle | S::WaitForFix, E::ChangeDetected { .. }) => go(S::DetectedChange, A::None),
        (S::DetectedChange, E::ChangeDetected { .. }) => go(S::DetectedChange, A::None),
        (S::Testing, E::ChangeDetected { preempt: true }) => go(S::DetectedChange, A::Preempt),
        (s, E::ChangeDetected { .. }) if s.is_auditing() => go(s, A::QueueBatch),

        (S::DetectedChange, E::BatchReady) => go(S::Auditing, A::StartAudit),
        (S::DetectedChange, E::NothingToAudit { waiting: true }) => go(S::WaitForFix, A::None),
        (S::DetectedChange, E::NothingToAudit { waiting: false }) => go(S::Idle, A::None),

        // The audit's own path, as the design document draws it.
        (
            S::Auditing,
            E::StaticDone {
                tests_next: true, ..
            },
        ) => go(S::Testing, A::None),
        (S::Auditing, E::StaticDone { critical: true, .. }) => go(S::Reporting, A::None),
        (S::Auditing, E::StaticDone { .. }) => go(S::Verifying, A::None),
        (S::Testing, E::TestsDone) => go(S::Verifying, A::None),
        (S::Verifying, E::Verified) => go(S::Reporting, A::None),
        // After a CRITICAL static finding the aggregation happens inside REPORTING.
        (S::Reporting, E::Verified) => go(S::Reporting, A::None),
        (S::Reporting, E::ReportWritten { to_send: true }) => go(S::Communicating, A::None),
        (S::Reporting, E::ReportWritten { to_send: false }) => go(S::Idle, A::None),
        (S::Communicating, E::FeedbackWritten { blocking: true }) => go(S::WaitForFix, A::None),
        (S::Communicating, E::FeedbackWritten { blocking: false }) => go(S::Idle, A::None),

        (s, E::AuditFailed { waiting }) if s.is_auditing() || s == S::DetectedChange => {
            go(if waiting { S::WaitForFix } else { S::Idle }, A::None)
        }

        (S::WaitForFix, E::WaitTimedOut | E::Reset) => go(S::Idle, A::None),

        (s, _) => go(s, A::Ignore),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Event as E;
    use State as S;

    const EVENTS: [Event; 18] = [
        E::ChangeDetected { preempt: false },
        E::ChangeDetected { preempt: true },
        E::BatchReady,
        E::NothingToAudit { waiting: false },
        E::NothingToAudit { waiting: true },
        E::StaticDone {
            critical: false,
            tests_next: false,
        },
        E::StaticDone {
            critical: false,
            tests_next: true,
        },
        E::StaticDone {
            critical: true,
            tests_next: false,
        },
        E::StaticDone {
            critical: true,
            tests_next: true,
        },
        E::TestsDone,
        E::Verified,
        E::ReportWritten { to_send: false },
        E::ReportWritten { to_send: true },
        E::FeedbackWritten { blocking: false },
        E::FeedbackWritten { blocking: true },
        E::AuditFailed { waiting: false },
        E::WaitTimedOut,
        E::Reset,
    ];

    fn check(from: State, event: Event, next: State, action: Action) {
        assert_eq!(
            transition(from, event),
            Decision { next, action },
            "{from} on {event:?}"
        );
    }

    #[test]
    fn the_design_documents_transitions() {
        check(
            S::Idle,
            E::ChangeDetected { preempt: false },
            S::DetectedChange,
            A::None,
        );
        check(S::DetectedChange, E::BatchReady, S::Auditing, A::StartAudit);
        check(
            S::Auditing,
            E::StaticDone {
                critical: false,
                tests_next: true,
            },
            S::Testing,
            A::None,
        );
        check(
            S::Auditing,
            E::StaticDone {
                critical: true,
                tests_next: false,
            },
            S::Reporting,
            A::None,
        );
        check(S::Testing, E::TestsDone, S::Verifying, A::None);
        check(S::Verifying, E::Verified, S::Reporting, A::None);
        check(
            S::Reporting,
            E::ReportWritten { to_send: true },
            S::Communicating,
            A::None,
        );
        check(
            S::Reporting,
            E::ReportWritten { to_send: false },
            S::Idle,
            A::None,
        );
        check(
            S::Communicating,
            E::FeedbackWritten { blocking: true },
            S::WaitForFix,
            A::None,
        );
        check(S::WaitForFix, E::WaitTimedOut, S::Idle, A::None);
        check(S::WaitForFix, E::Reset, S::Idle, A::None);
    }

    #[test]
    fn the_transitions_that_make_it_total() {
        // No tests configured and nothing critical: straight to aggregation.
        check(
            S::Auditing,
            E::StaticDone {
                critical: false,
                tests_next: false,
            },
            S::Verifying,
            A::None,
        );
        // Tests run even after a CRITICAL finding when the policy says so.
        check(
            S::Auditing,
            E::StaticDone {
                critical: true,
                tests_next: true,
            },
            S::Testing,
            A::None,
        );
        check(S::Reporting, E::Verified, S::Reporting, A::None);
        check(
            S::Communicating,
            E::FeedbackWritten { blocking: false },
            S::Idle,
            A::None,
        );
        check(
            S::DetectedChange,
            E::NothingToAudit { waiting: false },
            S::Idle,
            A::None,
        );
        check(
            S::DetectedChange,
            E::NothingToAudit { waiting: true },
            S::WaitForFix,
            A::None,
        );
        // A new commit while waiting is audited.
        check(
            S::WaitForFix,
            E::ChangeDetected { preempt: false },
            S::DetectedChange,
            A::None,
        );
        check(
            S::DetectedChange,
            E::ChangeDetected { preempt: true },
            S::DetectedChange,
            A::None,
        );
        // A new commit during an audit joins the next batch, or preempts the tests.
        for s in [
            S::Auditing,
            S::Testing,
            S::Verifying,
            S::Reporting,
            S::Communicating,
        ] {
            check(s, E::ChangeDetected { preempt: false }, s, A::QueueBatch);
            check(s, E::AuditFailed { waiting: false }, S::Idle, A::None);
            check(s, E::AuditFailed { waiting: true }, S::WaitForFix, A::None);
        }
        check(
            S::Testing,
            E::ChangeDetected { preempt: true },
            S::DetectedChange,
            A::Preempt,
        );
        check(
            S::Auditing,
            E::ChangeDetected { preempt: true },
            S::Auditing,
            A::QueueBatch,
        );
        check(
            S::DetectedChange,
            E::AuditFailed { waiting: false },
            S::Idle,
            A::None,
        );
    }

    #[test]
    fn shutdown_from_every_state_and_nothing_after() {
        for s in State::ALL {
            let d = transition(s, E::Shutdown);
            assert_eq!(d.next, S::Stopped);
            let expected = if s == S::Stopped { A::Ignore } else { A::Stop };
            assert_eq!(d.action, expected, "{s}");
        }
        for e in EVENTS {
            check(S::Stopped, e, S::Stopped, A::Ignore);
        }
    }

    #[test]
    fn the_function_is_total_and_ignored_events_keep_the_state() {
        for s in State::ALL {
            for e in EVENTS {
                let d = transition(s, e);
                if d.action == A::Ignore {
                    assert_eq!(d.next, s, "{s} on {e:?} is ignored but moved");
                }
            }
        }
        // Reset outside a wait, and stage events out of order, change nothing.
        check(S::Idle, E::Reset, S::Idle, A::Ignore);
        check(S::Auditing, E::Reset, S::Auditing, A::Ignore);
        check(S::Idle, E::TestsDone, S::Idle, A::Ignore);
        check(S::Idle, E::BatchReady, S::Idle, A::Ignore);
        check(
            S::Testing,
            E::ReportWritten { to_send: true },
            S::Testing,
            A::Ignore,
        );
        check(S::Idle, E::WaitTimedOut, S::Idle, A::Ignore);
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }
}
