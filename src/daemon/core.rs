//! The daemon's decisions, pure: `Core::step(input, now)` turns one input (a look at HEAD,
//! a timer, the audit thread's message, a working-tree change...) into the actions the loop
//! carries out. Debounce, batching, preemption, retries, the wait for a fix and uncommitted
//! changes are all decided here, on data, so that they are tested with a fake clock.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use git2::Oid;

use super::events::{Entry, LogEvent};
use super::fast_lane::FastDone;
use super::machine::{self, Action as Decision, Batch, Event, Job, Now, State, StateName};
use super::plan::{self, Plan};
use super::status::{Current, Status, Verdict};
use super::worker::{JobError, WorkerMessage};
use crate::bytes::short;
use crate::config::Settings;
use crate::engine::Progress;
use crate::eventlog::Level;
use crate::git::WorkChange;
use crate::hooks::{DueHook, HookRun};
use crate::report::{AuditReport, severity_counts};
use crate::store::state::{DaemonState, Durations, Failure};

/// How often the live view is redrawn.
pub const RENDER_EVERY: Duration = Duration::from_secs(1);
/// How long a due batch waits for a cancelled audit to wind down before it looks again.
const WIND_DOWN_RETRY: Duration = Duration::from_millis(100);

/// A working-tree state, to tell whether it was audited already: each changed path with its
/// size and modification time.
pub type TreeKey = Vec<(WorkChange, u64, i128)>;

/// The settings the decisions read (re-read on SIGHUP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// `[watch] debounce`.
    pub debounce: Duration,
    /// `[watch] preempt`.
    pub preempt: bool,
    /// `[watch] wait_timeout`.
    pub wait_timeout: Duration,
    /// `[watch] uncommitted_quiet`: none when uncommitted changes are not audited.
    pub uncommitted_quiet: Option<Duration>,
    /// `[watch] poll_interval`.
    pub poll_interval: Duration,
    /// `[watch] heartbeat`.
    pub heartbeat: Duration,
    /// A working-tree watcher reports edits (else the tree is polled).
    pub tree_watched: bool,
    /// The foreground view is redrawn live.
    pub live_view: bool,
}

impl Knobs {
    /// The knobs of `settings`.
    pub fn of(settings: &Settings, tree_watched: bool, live_view: bool) -> Knobs {
        let w = &settings.watch;
        Knobs {
            debounce: w.debounce,
            preempt: w.preempt,
            wait_timeout: w.wait_timeout,
            uncommitted_quiet: w.uncommitted_quiet,
            poll_interval: w.poll_interval,
            heartbeat: w.heartbeat,
            tree_watched,
            live_view,
        }
    }
}

/// What looked at HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadSource {
    /// The first look, at start.
    Startup,
    /// The git directory's watcher.
    Inotify,
    /// The polling timer.
    Poll,
    /// An audit ended: what came meanwhile is the next batch.
    Queued,
    /// Failed audits are tried again.
    Retry,
}

impl HeadSource {
    /// As the event log names it.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadSource::Startup => "startup",
            HeadSource::Inotify => "inotify",
            HeadSource::Poll => "poll",
            HeadSource::Queued => "queued",
            HeadSource::Retry => "retry",
        }
    }
}

/// HEAD as read, with its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The commit.
    pub oid: Oid,
    /// Its subject.
    pub summary: String,
}

/// The due batch, as the loop planned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// HEAD needs an audit: the commits to cover.
    Commits(Plan),
    /// HEAD needs an audit, but the batch could not be planned.
    Failed(String),
    /// HEAD needs none (or there is none); the working tree may.
    NoNewCommits(Option<Oid>),
}

/// What the loop tells the core.
#[derive(Debug)]
pub enum Input {
    /// HEAD, as read (none: no commit yet, or HEAD mid-update).
    Head(Option<Head>, HeadSource),
    /// The answer to `Action::PlanBatch`.
    Planned(Planned),
    /// Working-tree paths changed; `watch_error` says when new folders could not be watched.
    TreeChanged {
        /// The paths.
        paths: Vec<String>,
        /// Why new folders went unwatched.
        watch_error: Option<String>,
    },
    /// The answer to `Action::LookAtTree`: the uncommitted changes and their key.
    TreeLooked(Result<(Vec<WorkChange>, TreeKey), String>),
    /// The audit thread said something.
    Worker(WorkerMessage),
    /// The fast lane scanned up to a HEAD.
    FastLane(FastDone),
    /// A deadline passed.
    Tick,
    /// `auditor reset` (SIGUSR1).
    Reset,
    /// SIGTERM, SIGINT or `auditor stop`, once running checks are dealt with.
    Shutdown(String),
}

/// What the loop must do.
#[derive(Debug)]
pub enum Action {
    /// Read HEAD and answer with `Input::Head`.
    ReadHead(HeadSource),
    /// Hand a new HEAD to the fast lane.
    FastLane(Oid),
    /// Drop the issues of uncommitted changes that are committed or reverted.
    SettleUncommitted,
    /// Plan the due batch from the persisted state and answer with `Input::Planned`.
    PlanBatch,
    /// Log a plan's rewrite, skips and forced skip (they name commits' subjects).
    AnnouncePlan(Plan),
    /// Start job `id` on the batch `plan`.
    StartCommits {
        /// The job.
        id: u64,
        /// Its batch.
        plan: Plan,
    },
    /// Start job `id` on the working tree's changes on top of `head`.
    StartUncommitted {
        /// The job.
        id: u64,
        /// HEAD.
        head: Oid,
        /// The changes.
        changes: Vec<WorkChange>,
    },
    /// Tell job `id` to stop, and end its checks' process groups after the grace.
    Cancel(u64),
    /// Look at the working tree (all of it, or only `paths`) and answer with
    /// `Input::TreeLooked`.
    LookAtTree {
        /// `git status` over the whole tree.
        full: bool,
        /// Otherwise these paths.
        paths: BTreeSet<String>,
    },
    /// Escalate every open blocking issue (the wait timed out).
    Escalate,
    /// Run the hooks an audit made due.
    RunHooks(Vec<DueHook>),
    /// Raise AUDIT_FAILED in the inbox for audits that keep failing.
    RaiseAuditFailed {
        /// The failures.
        failure: Failure,
        /// The commit of the last failed job.
        commit: String,
    },
    /// Write `persisted` to `daemon.json`.
    SaveState,
    /// Write `status.json` (and redraw a live view).
    WriteStatus,
    /// Redraw the live view.
    Render,
    /// Append to the event log.
    Log(Entry),
    /// Show a line in the foreground view.
    Show(String),
    /// Show an error in the foreground view.
    ShowError(String),
    /// Hand freed memory back to the kernel.
    ReleaseMemory,
    /// Stop: persist, exit.
    Stop,
}

/// The working tree, as far as uncommitted audits go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// When to look at it.
    pub due: Option<Instant>,
    /// Paths reported changed and not yet found clean again.
    pub dirty: BTreeSet<String>,
    /// The next look lists everything (`git status`), not only `dirty`.
    pub full_scan_due: bool,
    /// What the last full look found (polling waits for two that agree).
    pub last_scan: Option<TreeKey>,
    /// What the last uncommitted audit covered.
    pub last_audited: Option<TreeKey>,
    /// Changes that settled, to audit once no commit needs it.
    pub pending: Option<(Vec<WorkChange>, TreeKey)>,
}

/// The daemon's decision state.
#[derive(Debug, Clone)]
pub struct Core {
    /// The state machine's state.
    pub state: State,
    /// Since when (wall clock).
    pub state_since: DateTime<Utc>,
    /// A job that is no longer the state's audit (its report is written, or it was
    /// preempted) and whose end the audit thread has not reported yet.
    pub finishing: Option<Job>,
    /// What survives restarts.
    pub persisted: DaemonState,
    /// The settings the decisions read.
    pub knobs: Knobs,
    /// The uncommitted changes.
    pub tree: Tree,
    /// The last HEAD seen.
    pub seen_head: Option<Oid>,
    /// When failed audits are tried again.
    pub retry_due: Option<Instant>,
    /// The last verdict.
    pub last_verdict: Option<Verdict>,
    next_job: u64,
    heartbeat_due: Instant,
    poll_due: Instant,
    render_due: Instant,
}

impl Core {
    /// A core starting at `now` from what was persisted: a wait for a fix is resumed (with
    /// what is left of it), failed audits are tried again at once, edits made while the
    /// daemon was down are looked for once the tree is quiet.
    pub fn new(
        persisted: DaemonState,
        knobs: Knobs,
        last_verdict: Option<Verdict>,
        now: Now,
    ) -> Core {
        let waiting_since = persisted
            .waiting_since
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let state = match waiting_since {
            Some(since) => {
                let waited = (now.wall - since).to_std().unwrap_or_default();
                State::WaitForFix(machine::Wait {
                    since,
                    deadline: now.at + knobs.wait_timeout.saturating_sub(waited),
                })
            }
            None => State::Idle,
        };
        Core {
            state,
            state_since: now.wall,
            finishing: None,
            retry_due: persisted.failure.as_ref().map(|_| now.at),
            persisted,
            knobs,
            tree: Tree {
                due: knobs.uncommitted_quiet.map(|q| now.at + q),
                full_scan_due: true,
                ..Tree::default()
            },
            seen_head: None,
            last_verdict,
            next_job: 1,
            heartbeat_due: now.at,
            poll_due: now.at,
            render_due: now.at,
        }
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Instant {
        let wait = match &self.state {
            State::WaitForFix(w) => Some(w.deadline),
            _ => None,
        };
        [
            Some(self.heartbeat_due),
            Some(self.poll_due),
            self.state.batch_due(),
            self.tree.due,
            self.retry_due,
            wait,
            self.knobs.live_view.then_some(self.render_due),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.poll_due)
    }

    /// The job the audit thread is busy with, if any.
    pub fn running_job(&self) -> Option<&Job> {
        self.state
            .audit()
            .map(|a| &a.job)
            .or(self.finishing.as_ref())
    }

    /// Decides what one input means.
    pub fn step(&mut self, input: Input, now: Now) -> Vec<Action> {
        let mut out = Out::default();
        match input {
            Input::Head(head, source) => self.on_head(head, source, now, &mut out),
            Input::Planned(planned) => self.on_planned(planned, now, &mut out),
            Input::TreeChanged { paths, watch_error } => {
                if let Some(message) = watch_error {
                    // Out of watches: new folders go unseen until the next full look.
                    self.tree.full_scan_due = true;
                    out.error("watch_worktree", message);
                }
                if let Some(quiet) = self.knobs.uncommitted_quiet {
                    self.tree.dirty.extend(paths);
                    self.tree.due = Some(now.at + quiet);
                }
            }
            Input::TreeLooked(looked) => self.on_tree_looked(looked, now, &mut out),
            Input::Worker(message) => self.on_worker(message, now, &mut out),
            Input::FastLane(done) => fast_lane_done(&done, &mut out),
            Input::Tick => self.on_tick(now, &mut out),
            Input::Reset => {
                out.log(
                    LogEvent::Reset {
                        state: self.state.name().as_str(),
                    },
                    Level::Info,
                    None,
                );
                self.fire(Event::Reset, "auditor reset", now, &mut out);
                out.push(Action::WriteStatus);
            }
            Input::Shutdown(signal) => {
                self.fire(Event::Shutdown, &signal, now, &mut out);
                self.finishing = None;
                out.push(Action::SaveState);
                out.push(Action::WriteStatus);
                out.push(Action::Stop);
            }
        }
        out.0
    }

    /// Applies an event to the state machine: the wait persisted, the status written, the
    /// transition logged and shown.
    fn fire(&mut self, event: Event, reason: &str, now: Now, out: &mut Out) -> Decision {
        let from = self.state.name();
        let before = std::mem::replace(&mut self.state, State::Stopped);
        let (next, decision) = machine::transition(before, event, now);
        self.state = next;
        if decision == Decision::Ignore {
            return decision;
        }
        self.sync_wait(out);
        let to = self.state.name();
        if to != from {
            self.state_since = now.wall;
            if let Some(a) = self.state.audit_mut() {
                a.job.stage_started = now.wall;
            }
            let commit = self
                .running_job()
                .map(|j| j.commit.clone())
                .or_else(|| self.seen_head.map(|h| h.to_string()));
            // The status first: whoever reads of the transition in the log finds the status
            // already saying so.
            out.push(Action::WriteStatus);
            out.log(
                LogEvent::Transition {
                    from: from.as_str(),
                    to: to.as_str(),
                    reason: reason.to_string(),
                },
                Level::Info,
                commit.as_deref(),
            );
            out.push(Action::Show(format!("{from} → {to} ({reason})")));
        }
        decision
    }

    /// Keeps the persisted wait the state's.
    fn sync_wait(&mut self, out: &mut Out) {
        let since = self.state.wait().map(|w| w.since.to_rfc3339());
        if self.persisted.waiting_since != since {
            self.persisted.waiting_since = since;
            out.push(Action::SaveState);
        }
    }

    // ---- seeing change ----

    fn on_head(&mut self, head: Option<Head>, source: HeadSource, now: Now, out: &mut Out) {
        match source {
            HeadSource::Startup | HeadSource::Inotify | HeadSource::Poll => {
                // No commit yet, or HEAD mid-update: the next look will see it.
                let Some(head) = head else { return };
                if self.seen_head == Some(head.oid) {
                    return;
                }
                self.seen_head = Some(head.oid);
                if plan::needs_audit(&self.persisted, head.oid) {
                    self.detected(&head, source, now, out);
                } else {
                    // Back on a commit audited before (a branch switch, a rebase passing over
                    // known commits): nothing to audit. `last_checked` stays the last audited
                    // batch, so a later commit here is measured against it.
                    let hex = head.oid.to_string();
                    out.log(
                        LogEvent::HeadMoved {
                            already_audited: true,
                            source: source.as_str(),
                        },
                        Level::Info,
                        Some(&hex),
                    );
                    out.push(Action::Show(format!(
                        "HEAD at {} (already audited)",
                        short(&hex)
                    )));
                }
            }
            HeadSource::Queued => {
                if let Some(head) = head {
                    self.seen_head = Some(head.oid);
                    if self.retry_due.is_none() && plan::needs_audit(&self.persisted, head.oid) {
                        self.detected(&head, source, now, out);
                    }
                }
                if self.tree.pending.is_some() && self.state.name() != StateName::DetectedChange {
                    self.tree.due = Some(now.at);
                }
                out.push(Action::WriteStatus);
                out.push(Action::ReleaseMemory);
            }
            HeadSource::Retry => {
                if let Some(head) = head.filter(|h| plan::needs_audit(&self.persisted, h.oid)) {
                    self.detected(&head, source, now, out);
                }
            }
        }
    }

    fn detected(&mut self, head: &Head, source: HeadSource, now: Now, out: &mut Out) {
        // The built-in scanners at once, whatever the audit thread is doing.
        out.push(Action::FastLane(head.oid));
        let hex = head.oid.to_string();
        out.log(
            LogEvent::ChangeDetected {
                source: source.as_str(),
                summary: Some(head.summary.clone()),
                uncommitted_files: None,
            },
            Level::Info,
            Some(&hex),
        );
        out.push(Action::Show(format!(
            "new commit {} \"{}\" ({})",
            short(&hex),
            head.summary,
            source.as_str()
        )));
        let change = Event::ChangeDetected {
            preempt: self.knobs.preempt,
            due: now.at + self.knobs.debounce,
        };
        if let Decision::Preempt(job) = self.fire(change, "new commit", now, out) {
            self.cancel(*job, "preempted by new commits", out);
        }
        out.push(Action::WriteStatus);
    }

    fn cancel(&mut self, job: Job, why: &str, out: &mut Out) {
        out.log(
            LogEvent::AuditCancelled {
                reason: why.to_string(),
            },
            Level::Warning,
            Some(&job.commit),
        );
        out.push(Action::Show(format!(
            "audit of {} cancelled: {why}",
            short(&job.commit)
        )));
        out.push(Action::Cancel(job.id));
        self.finishing = Some(job);
    }

    fn on_tick(&mut self, now: Now, out: &mut Out) {
        let at = now.at;
        if self.poll_due <= at {
            self.poll_due = at + self.knobs.poll_interval;
            out.push(Action::ReadHead(HeadSource::Poll));
            if !self.knobs.tree_watched && self.tree.due.is_none() {
                // No watcher tells us about edits: look every quiet period.
                self.tree.due = self.knobs.uncommitted_quiet.map(|q| at + q);
            }
        }
        if self.retry_due.is_some_and(|d| d <= at) {
            self.retry_due = None;
            out.push(Action::ReadHead(HeadSource::Retry));
        }
        if self.state.batch_due().is_some_and(|d| d <= at) {
            self.batch_due(now, out);
        }
        if self.tree.due.is_some_and(|d| d <= at) {
            self.tree.due = None;
            self.tree_quiet(now, out);
        }
        if let State::WaitForFix(wait) = &self.state
            && wait.deadline <= at
        {
            out.log(
                LogEvent::WaitTimeout {
                    waited_ms: ms(self.knobs.wait_timeout),
                },
                Level::Warning,
                None,
            );
            out.push(Action::Escalate);
            self.fire(
                Event::WaitTimedOut,
                "the wait for a fix timed out",
                now,
                out,
            );
        }
        if self.heartbeat_due <= at {
            self.heartbeat_due = at + self.knobs.heartbeat;
            out.push(Action::WriteStatus);
        }
        if self.knobs.live_view && self.render_due <= at {
            self.render_due = at + RENDER_EVERY;
            out.push(Action::Render);
        }
    }

    /// The batch is due: it is planned, unless a cancelled audit is still winding down.
    fn batch_due(&mut self, now: Now, out: &mut Out) {
        let State::DetectedChange { batch, .. } = &mut self.state else {
            return;
        };
        if self.finishing.is_some() {
            batch.due = now.at + WIND_DOWN_RETRY;
            return;
        }
        // Planned again only if the answer does not come (it comes before the next tick).
        batch.due = now.at + self.knobs.poll_interval.max(Duration::from_secs(1));
        out.push(Action::PlanBatch);
    }

    /// The working tree has been quiet for the configured time: look at its changes once.
    ///
    /// With a working-tree watcher only the paths it reported are looked at; without one (or
    /// at start), the whole tree, and polling waits until two looks a quiet period apart
    /// agree.
    fn tree_quiet(&mut self, now: Now, out: &mut Out) {
        let busy = !matches!(self.state, State::Idle | State::WaitForFix(_));
        if busy || self.finishing.is_some() {
            // Busy: look again after another quiet period.
            self.tree.due = self.knobs.uncommitted_quiet.map(|q| now.at + q);
            return;
        }
        let full = std::mem::take(&mut self.tree.full_scan_due) || !self.knobs.tree_watched;
        out.push(Action::LookAtTree {
            full,
            paths: self.tree.dirty.clone(),
        });
    }

    fn on_tree_looked(
        &mut self,
        looked: Result<(Vec<WorkChange>, TreeKey), String>,
        now: Now,
        out: &mut Out,
    ) {
        let (changes, key) = match looked {
            Ok(found) => found,
            Err(message) => return out.error("uncommitted_status", message),
        };
        // What is clean again (committed, reverted) needs no more looks, and its issues go.
        self.tree.dirty = changes.iter().map(|c| c.path.clone()).collect();
        out.push(Action::ReleaseMemory);
        if changes.is_empty() {
            out.push(Action::SettleUncommitted);
        }
        if !self.knobs.tree_watched && self.tree.last_scan.as_ref() != Some(&key) {
            // Still changing (or first look): audit once it holds still for a period.
            self.tree.last_scan = Some(key);
            if !changes.is_empty() {
                self.tree.due = self.knobs.uncommitted_quiet.map(|q| now.at + q);
            }
            return;
        }
        if changes.is_empty() || self.tree.last_audited.as_ref() == Some(&key) {
            return;
        }
        out.log(
            LogEvent::ChangeDetected {
                source: "working_tree",
                summary: None,
                uncommitted_files: Some(changes.len()),
            },
            Level::Info,
            None,
        );
        out.push(Action::Show(format!(
            "{} uncommitted file(s) settled",
            changes.len()
        )));
        self.tree.pending = Some((changes, key));
        // The quiet period was the debounce.
        let change = Event::ChangeDetected {
            preempt: false,
            due: now.at,
        };
        self.fire(change, "uncommitted changes settled", now, out);
    }

    // ---- starting audits ----

    fn on_planned(&mut self, planned: Planned, now: Now, out: &mut Out) {
        if self.state.name() != StateName::DetectedChange {
            return;
        }
        match planned {
            Planned::Commits(plan) => {
                self.tree.pending = None;
                self.start_commits(plan, now, out);
            }
            Planned::Failed(message) => {
                self.tree.pending = None;
                out.error("plan", message);
                self.fire(
                    Event::NothingToAudit,
                    "the batch could not be planned",
                    now,
                    out,
                );
            }
            Planned::NoNewCommits(head) => match (self.tree.pending.take(), head) {
                (Some((changes, key)), Some(head)) => {
                    self.tree.last_audited = Some(key);
                    let job = self.job(Batch::Uncommitted, head.to_string(), 0, now);
                    let start = Action::StartUncommitted {
                        id: job.id,
                        head,
                        changes,
                    };
                    self.launch(job, start, "auditing uncommitted changes", now, out);
                }
                (Some(_), None) => {
                    self.fire(Event::NothingToAudit, "no commit to compare with", now, out);
                }
                (None, _) => {
                    self.fire(Event::NothingToAudit, "already audited", now, out);
                }
            },
        }
    }

    fn start_commits(&mut self, plan: Plan, now: Now, out: &mut Out) {
        out.push(Action::AnnouncePlan(plan.clone()));
        if plan.commits.is_empty() {
            // Nothing new (every commit was audited before).
            self.persisted.last_checked = Some(plan.head.to_string());
            out.push(Action::SaveState);
            self.fire(Event::NothingToAudit, "already audited", now, out);
            return;
        }
        let head = plan.head.to_string();
        let commits = plan.commits.len();
        let reason = if commits > 1 {
            format!(
                "auditing a batch of {commits} commits up to {}",
                short(&head)
            )
        } else {
            format!("auditing {}", short(&head))
        };
        let job = self.job(Batch::Unrecorded(plan.clone()), head, commits, now);
        let start = Action::StartCommits { id: job.id, plan };
        self.launch(job, start, &reason, now, out);
    }

    fn job(&mut self, batch: Batch, commit: String, commits: usize, now: Now) -> Job {
        let id = self.next_job;
        self.next_job += 1;
        Job {
            id,
            batch,
            started: now.at,
            stage_started: now.wall,
            commit,
            commits,
            static_ms: None,
            test_started: None,
            test_ms: 0,
            cancelled: false,
        }
    }

    /// Starts `job`: `start` (what the loop does to start it) first, so that the audit's
    /// start is logged before its first transition.
    fn launch(&mut self, job: Job, start: Action, reason: &str, now: Now, out: &mut Out) {
        out.push(start);
        self.fire(Event::BatchReady(Box::new(job)), reason, now, out);
    }

    // ---- the audit thread ----

    fn on_worker(&mut self, message: WorkerMessage, now: Now, out: &mut Out) {
        match message {
            WorkerMessage::Progress(id, progress) => {
                let current = self.state.audit().filter(|a| a.job.id == id).is_some();
                let winding = self.finishing.as_ref().is_some_and(|j| j.id == id);
                if current || winding {
                    self.on_progress(progress, current, now, out);
                }
            }
            WorkerMessage::Done(id, result) => {
                let job = match (&self.state, &self.finishing) {
                    (s, _) if s.audit().is_some_and(|a| a.job.id == id) => {
                        s.audit().map(|a| a.job.clone())
                    }
                    (_, Some(f)) if f.id == id => self.finishing.take(),
                    _ => None,
                };
                if let Some(job) = job {
                    self.finished(job, result, now, out);
                }
            }
            WorkerMessage::HooksRun(runs) => log_hooks(&runs, out),
            WorkerMessage::Escalated(Ok((ids, hooks))) => {
                log_escalations(&ids, None, out);
                log_hooks(&hooks, out);
            }
            WorkerMessage::Escalated(Err(message)) => out.error("escalation", message),
        }
    }

    /// A stage of the current audit ended (`current`), or a check of a winding-down one.
    fn on_progress(&mut self, progress: Progress, current: bool, now: Now, out: &mut Out) {
        let commit = self.running_job().map(|j| j.commit.clone());
        let commit = commit.as_deref();
        let progress = match progress {
            Progress::CheckStarted { .. } | Progress::CheckFinished { .. } => {
                return log_check(progress, commit, out);
            }
            _ if !current => return,
            other => other,
        };
        match progress {
            Progress::Auditing | Progress::CheckStarted { .. } | Progress::CheckFinished { .. } => {
            }
            Progress::StaticDone {
                critical,
                tests_next,
            } => {
                if let Some(a) = self.state.audit_mut() {
                    a.job.static_ms = Some(ms(now.at - a.job.started));
                    if tests_next {
                        a.job.test_started = Some(now.at);
                    }
                }
                let reason = match (critical, tests_next) {
                    (_, true) => "static checks done; running tests",
                    (true, false) => "a static check found a CRITICAL issue",
                    (false, false) => "static checks done; no tests to run",
                };
                let event = Event::StaticDone {
                    critical,
                    tests_next,
                };
                self.fire(event, reason, now, out);
            }
            Progress::TestsDone => {
                if let Some(a) = self.state.audit_mut() {
                    a.job.test_ms = a.job.test_started.map_or(0, |t| ms(now.at - t));
                }
                self.fire(Event::TestsDone, "tests complete", now, out);
            }
            Progress::Verified => {
                self.fire(Event::Verified, "results aggregated", now, out);
            }
            Progress::ReportWritten { path, to_send } => {
                self.report_written(out);
                out.log(
                    LogEvent::ReportWritten {
                        path: path.to_string_lossy().into_owned(),
                    },
                    Level::Info,
                    commit,
                );
                let reason = if to_send {
                    "issues to send"
                } else {
                    "no issues"
                };
                self.fire_ending(Event::ReportWritten { to_send }, reason, now, out);
            }
            Progress::FeedbackWritten { files, blocking } => {
                for f in &files {
                    out.log(
                        LogEvent::FeedbackWritten {
                            path: f.to_string_lossy().into_owned(),
                            issue: None,
                        },
                        Level::Info,
                        commit,
                    );
                }
                let reason = if blocking {
                    "feedback sent; blocking issues open"
                } else {
                    "feedback sent"
                };
                let event = Event::FeedbackWritten {
                    blocking: blocking.then_some(self.knobs.wait_timeout),
                };
                self.fire_ending(event, reason, now, out);
            }
        }
    }

    /// An event that may end the audit's states: its job finishes on the thread meanwhile.
    fn fire_ending(&mut self, event: Event, reason: &str, now: Now, out: &mut Out) {
        let job = self.state.audit().map(|a| a.job.clone());
        self.fire(event, reason, now, out);
        if self.state.audit().is_none() {
            self.finishing = job;
        }
    }

    /// A report on disk means the audit is recorded (ledger and inbox first): its commits are
    /// audited now, whatever happens to the rest of this run.
    fn report_written(&mut self, out: &mut Out) {
        let Some(audit) = self.state.audit_mut() else {
            return;
        };
        let Batch::Unrecorded(plan) = &audit.job.batch else {
            return;
        };
        let plan = plan.clone();
        audit.job.batch = Batch::Recorded(plan.clone());
        record_batch(&mut self.persisted, &plan);
        out.push(Action::SaveState);
    }

    fn finished(
        &mut self,
        job: Job,
        result: Result<Box<AuditReport>, JobError>,
        now: Now,
        out: &mut Out,
    ) {
        match result {
            Ok(report) => self.audited(&job, &report, now, out),
            Err(JobError::Cancelled) => {
                // The commits stay unaudited; the next batch covers them again.
                out.log(
                    LogEvent::AuditAbandoned {
                        elapsed_ms: ms(now.at - job.started),
                    },
                    Level::Info,
                    Some(&job.commit),
                );
            }
            Err(JobError::Failed(message)) => {
                self.audit_failed(&job, &message, now, out);
                self.fire(Event::AuditFailed, "the audit failed", now, out);
            }
        }
        if let Some(a) = self.state.audit_mut() {
            a.queued = false;
        }
        // Whatever arrived meanwhile is the next batch (after a failure, the retry is).
        out.push(Action::ReadHead(HeadSource::Queued));
    }

    /// An audit of commits failed: its commits stay unaudited and are retried with a backoff;
    /// after `FAILURES_BEFORE_ISSUE` attempts in a row, AUDIT_FAILED reaches the inbox.
    fn audit_failed(&mut self, job: &Job, message: &str, now: Now, out: &mut Out) {
        out.error("audit_failed", message.to_string());
        let plan = match &job.batch {
            // Its report was written: what failed came after.
            Batch::Recorded(_) => return,
            // The next quiet period looks again.
            Batch::Uncommitted => return,
            Batch::Unrecorded(plan) => plan,
        };
        let commits: Vec<String> = plan
            .skipped
            .iter()
            .chain(&plan.to_audit)
            .map(Oid::to_string)
            .collect();
        let failure = self.persisted.failure.get_or_insert_with(|| Failure {
            attempts: 0,
            message: String::new(),
            commits: Vec::new(),
            since: now.wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        failure.attempts += 1;
        failure.message = message.to_string();
        failure.commits = commits;
        let failure = failure.clone();
        let delay = retry_delay(failure.attempts);
        self.retry_due = Some(now.at + delay);
        out.push(Action::SaveState);
        out.log(
            LogEvent::AuditRetry {
                attempts: failure.attempts,
                retry_in_ms: ms(delay),
                unaudited: failure.commits.clone(),
                message: message.to_string(),
            },
            Level::Warning,
            Some(&job.commit),
        );
        out.push(Action::Show(format!(
            "audit of {} failed (attempt {}); retrying in {}s",
            short(&job.commit),
            failure.attempts,
            delay.as_secs()
        )));
        if failure.attempts >= crate::engine::FAILURES_BEFORE_ISSUE {
            out.push(Action::RaiseAuditFailed {
                failure,
                commit: job.commit.clone(),
            });
        }
    }

    /// An audit ended with its report: recorded, timed, logged issue by issue.
    fn audited(&mut self, job: &Job, report: &AuditReport, now: Now, out: &mut Out) {
        let total = ms(now.at - job.started);
        if let Batch::Unrecorded(plan) = &job.batch {
            record_batch(&mut self.persisted, plan);
        }
        if job.batch.plan().is_some() {
            self.persisted.push_durations(Durations {
                audit_ms: job.static_ms.unwrap_or(total),
                test_ms: job.test_ms,
                total_ms: total,
            });
            if self.persisted.failure.take().is_some() {
                self.retry_due = None;
                out.log(LogEvent::AuditRecovered {}, Level::Info, Some(&job.commit));
            }
        }
        out.push(Action::SaveState);
        // The audit is recorded: the hooks it made due run now (a kill from here on neither
        // audits the commit again nor runs a hook twice).
        if !report.due_hooks.is_empty() {
            out.push(Action::RunHooks(report.due_hooks.clone()));
        }
        let counts: Vec<(String, usize)> = severity_counts(report)
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect();
        out.log(
            LogEvent::AuditFinished {
                status: report.status.as_str(),
                counts: counts
                    .iter()
                    .map(|(s, n)| (s.clone(), serde_json::json!(n)))
                    .collect(),
                duration_ms: total,
                uncommitted: report.uncommitted,
                commits: job.commits,
            },
            Level::Info,
            Some(&job.commit),
        );
        log_report(report, &job.commit, out);
        out.push(Action::Show(format!(
            "{} {} {} in {} ms",
            report.status.as_str(),
            if report.uncommitted {
                "uncommitted"
            } else {
                short(&job.commit)
            },
            super::status::short_counts(&counts),
            total
        )));
        self.last_verdict = Some(Verdict {
            commit: job.commit.clone(),
            status: report.status.as_str().to_string(),
            counts,
            at: now.wall,
            uncommitted: report.uncommitted,
        });
    }

    // ---- what users read ----

    /// `status.json`'s content, given what the loop knows (`shell`).
    pub fn status(&self, shell: &ShellFacts, now: DateTime<Utc>) -> Status {
        let durations = &self.persisted.durations;
        let testing = self.state.name() == StateName::Testing;
        Status {
            pid: shell.pid,
            state: self.state.name(),
            state_since: self.state_since,
            heartbeat: now,
            started_at: shell.started_at,
            watcher: shell.watcher.to_string(),
            current: self.running_job().map(|job| Current {
                commit: job.commit.clone(),
                commits: job.commits,
                uncommitted: matches!(job.batch, Batch::Uncommitted),
                stage_started: job.stage_started,
                estimate_ms: if testing {
                    stage_estimate(durations, |d| d.test_ms)
                } else {
                    stage_estimate(durations, |d| d.total_ms)
                },
            }),
            last_verdict: self.last_verdict.clone(),
            waiting_since: self.state.wait().map(|w| w.since),
            queued: self.state.audit().is_some_and(|a| a.queued),
            last_checked: self.persisted.last_checked.clone(),
            audit_failure: self.persisted.failure.clone(),
        }
    }
}

/// What the status needs from the loop.
#[derive(Debug, Clone)]
pub struct ShellFacts {
    /// The daemon's pid.
    pub pid: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// `inotify` or `polling`.
    pub watcher: &'static str,
}

/// The actions of one step, in order.
#[derive(Debug, Default)]
struct Out(Vec<Action>);

impl Out {
    fn push(&mut self, action: Action) {
        self.0.push(action);
    }

    fn log(&mut self, event: LogEvent, level: Level, commit: Option<&str>) {
        self.0.push(Action::Log(Entry::new(event, level, commit)));
    }

    fn error(&mut self, what: &'static str, message: String) {
        self.0.push(Action::ShowError(format!("{what}: {message}")));
        self.log(LogEvent::Error { what, message }, Level::Error, None);
    }
}

/// A configured check's start or end, for the log and the view.
/// What the fast lane published: logged, shown; its hooks' runs logged.
fn fast_lane_done(done: &FastDone, out: &mut Out) {
    let hex = done.head.to_string();
    match &done.result {
        Ok(_) if done.commits == 0 => {}
        Ok(issues) => {
            out.log(
                LogEvent::FastLane {
                    commits: done.commits,
                    issues: issues.iter().map(|f| f.id.clone()).collect(),
                    duration_ms: done.took_ms,
                },
                if issues.is_empty() {
                    Level::Info
                } else {
                    Level::Warning
                },
                Some(&hex),
            );
            for f in issues.iter().filter(|f| f.first) {
                out.push(Action::Show(format!(
                    "fast lane: [{}] {} {} ({} in {} ms)",
                    f.severity.as_str(),
                    f.id,
                    f.title,
                    short(&hex),
                    done.took_ms
                )));
            }
            log_hooks(&done.hooks, out);
        }
        Err(message) => out.error("fast_lane", message.clone()),
    }
    if !done.settled.is_empty() {
        out.log(
            LogEvent::UncommittedSettled {
                issues: done.settled.clone(),
            },
            Level::Info,
            Some(&hex),
        );
    }
}

fn log_check(progress: Progress, commit: Option<&str>, out: &mut Out) {
    match progress {
        Progress::CheckStarted { name, stage } => out.log(
            LogEvent::CheckStarted {
                check: name,
                stage: stage.as_str(),
            },
            Level::Info,
            commit,
        ),
        Progress::CheckFinished {
            name,
            stage,
            outcome,
            duration_ms,
            findings,
        } => {
            out.push(Action::Show(format!(
                "  {name}: {} ({findings} finding(s), {duration_ms} ms)",
                outcome.as_str()
            )));
            out.log(
                LogEvent::CheckFinished {
                    check: name,
                    stage: stage.as_str(),
                    outcome: outcome.as_str(),
                    duration_ms,
                    findings,
                },
                Level::Info,
                commit,
            );
        }
        _ => {}
    }
}

/// Records a batch's commits as audited.
fn record_batch(persisted: &mut DaemonState, plan: &Plan) {
    let done: Vec<String> = plan
        .to_audit
        .iter()
        .chain(&plan.skipped)
        .map(Oid::to_string)
        .collect();
    persisted.mark_audited(&done);
    persisted.consecutive_skips = plan.consecutive_skips;
    persisted.pending_skips.clear();
    persisted.last_checked = Some(plan.head.to_string());
}

/// What a report changed, issue by issue, for the event log.
fn log_report(report: &AuditReport, commit: &str, out: &mut Out) {
    if !report.settings_changes.is_empty() {
        let weakens = report.settings_changes.iter().any(|c| c.weakens);
        out.log(
            LogEvent::ConfigChanged {
                changes: report
                    .settings_changes
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "key": c.key, "before": c.before, "after": c.after, "weakens": c.weakens,
                        })
                    })
                    .collect(),
            },
            if weakens { Level::Warning } else { Level::Info },
            Some(commit),
        );
    }
    // Every issue the audit raised (LOW ones live only here and in the report).
    for i in &report.issues {
        let Some(life) = &i.life else { continue };
        if life.status == crate::finding::Life::Open {
            continue;
        }
        out.log(
            LogEvent::IssueRaised {
                id: i.id.clone(),
                severity: i.finding.severity.as_str(),
                issue_type: i.finding.issue_type.as_str(),
                title: i.finding.title.clone(),
                file: i.finding.file.clone(),
                line: i.finding.line,
                status: life.status.as_str(),
            },
            Level::Info,
            Some(commit),
        );
    }
    for r in &report.resolved {
        out.log(
            LogEvent::IssueResolved {
                id: r.id.clone(),
                title: r.title.clone(),
                claimed_fix: r.claimed,
            },
            Level::Info,
            Some(commit),
        );
    }
    log_escalations(&report.escalated, Some(commit), out);
    log_hooks(&report.hook_runs, out);
}

fn log_escalations(ids: &[String], commit: Option<&str>, out: &mut Out) {
    for id in ids {
        out.log(
            LogEvent::Escalation {
                id: id.clone(),
                reason: if commit.is_some() {
                    "open after escalate_after_commits commits"
                } else {
                    "the wait for a fix timed out"
                },
            },
            Level::Warning,
            commit,
        );
        out.push(Action::Show(format!("escalated {id}")));
    }
}

fn log_hooks(hooks: &[HookRun], out: &mut Out) {
    for h in hooks {
        let level = if h.outcome == Ok(0) {
            Level::Info
        } else {
            Level::Warning
        };
        out.log(
            LogEvent::HookRun {
                event: h.event,
                issue: h.issue.clone(),
                exit_code: h.outcome.as_ref().ok().copied(),
                error: h.outcome.as_ref().err().cloned(),
            },
            level,
            None,
        );
    }
}

/// How long to wait before the next attempt after `attempts` failed ones: 1 s, doubling, at
/// most five minutes.
fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(9)).min(Duration::from_secs(300))
}

/// The median of a stage's recorded durations (zeros, stages that did not run, left out).
fn stage_estimate(durations: &[Durations], pick: impl Fn(&Durations) -> u64) -> Option<u64> {
    let mut v: Vec<u64> = durations.iter().map(pick).filter(|x| *x > 0).collect();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// A duration in whole milliseconds.
pub fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    //! The daemon's decisions, input by input, on a fake clock: each test takes milliseconds.

    use super::*;
    use crate::config::WorkspaceMode;
    use crate::finding::Severity;
    use crate::report::{ScanStats, TestStage};

    const DEBOUNCE: Duration = Duration::from_secs(2);
    const QUIET: Duration = Duration::from_secs(5);
    const WAIT: Duration = Duration::from_secs(60);

    fn knobs() -> Knobs {
        Knobs {
            debounce: DEBOUNCE,
            preempt: false,
            wait_timeout: WAIT,
            uncommitted_quiet: Some(QUIET),
            poll_interval: Duration::from_secs(3),
            heartbeat: Duration::from_secs(30),
            tree_watched: true,
            live_view: false,
        }
    }

    /// A fake clock: a fixed origin and an offset that tests move.
    #[derive(Clone, Copy)]
    struct Clock {
        origin: Instant,
        wall: DateTime<Utc>,
    }

    impl Clock {
        fn new() -> Clock {
            Clock {
                origin: Instant::now(),
                wall: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default(),
            }
        }

        fn at(self, ms: u64) -> Now {
            let d = Duration::from_millis(ms);
            Now {
                at: self.origin + d,
                wall: self.wall + chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(0)),
            }
        }
    }

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap_or(Oid::ZERO_SHA1)
    }

    fn head(n: u8) -> Option<Head> {
        Some(Head {
            oid: oid(n),
            summary: format!("commit {n}"),
        })
    }

    fn plan(commits: &[u8]) -> Plan {
        let commits: Vec<Oid> = commits.iter().map(|n| oid(*n)).collect();
        Plan {
            head: *commits.last().unwrap_or(&oid(0)),
            base: Some(oid(0)),
            to_audit: commits.clone(),
            skipped: Vec::new(),
            commits,
            forced: None,
            consecutive_skips: 0,
            rewrite: None,
        }
    }

    fn report() -> Box<AuditReport> {
        Box::new(AuditReport {
            timestamp: Utc::now(),
            repo_root: "/r".into(),
            spec: "x".into(),
            target: oid(1).to_string(),
            base: None,
            commits: Vec::new(),
            status: crate::policy::Status::Pass,
            fail_on: Severity::High,
            security_score: 'A',
            issues: Vec::new(),
            checks: Vec::new(),
            test_stage: TestStage::NotConfigured,
            tests: None,
            test_pass_rate: None,
            scan: ScanStats::default(),
            changed_files: 0,
            workspace: None,
            workspace_mode: WorkspaceMode::Snapshot,
            duration_ms: 0,
            config_sources: Vec::new(),
            skipped: Vec::new(),
            uncommitted: false,
            range: false,
            inbox_files: Vec::new(),
            coverage: None,
            resolved: Vec::new(),
            escalated: Vec::new(),
            acknowledged: Vec::new(),
            hook_runs: Vec::new(),
            due_hooks: Vec::new(),
            settings_changes: Vec::new(),
            settings_accepted_by: None,
        })
    }

    fn shell() -> ShellFacts {
        ShellFacts {
            pid: 1,
            started_at: Utc::now(),
            watcher: "inotify",
        }
    }

    fn core(clock: Clock) -> Core {
        Core::new(DaemonState::default(), knobs(), None, clock.at(0))
    }

    fn logged(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Log(e) => Some(e.event_type()),
                _ => None,
            })
            .collect()
    }

    fn transitions(actions: &[Action]) -> Vec<&'static str> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Log(Entry {
                    event: LogEvent::Transition { to, .. },
                    ..
                }) => Some(*to),
                _ => None,
            })
            .collect()
    }

    fn plans(actions: &[Action]) -> bool {
        actions.iter().any(|a| matches!(a, Action::PlanBatch))
    }

    fn started(actions: &[Action]) -> Option<u64> {
        actions.iter().find_map(|a| match a {
            Action::StartCommits { id, .. } | Action::StartUncommitted { id, .. } => Some(*id),
            _ => None,
        })
    }

    fn progress(c: &mut Core, id: u64, p: Progress, now: Now) -> Vec<Action> {
        c.step(Input::Worker(WorkerMessage::Progress(id, p)), now)
    }

    /// No tests, aggregation, and a report with nothing to send, from `at` ms, 100 ms apart.
    fn through_a_clean_report(c: &mut Core, id: u64, clock: Clock, at: u64) {
        let no_tests = Progress::StaticDone {
            critical: false,
            tests_next: false,
        };
        progress(c, id, no_tests, clock.at(at));
        progress(c, id, Progress::Verified, clock.at(at + 100));
        let written = Progress::ReportWritten {
            path: "r.json".into(),
            to_send: false,
        };
        progress(c, id, written, clock.at(at + 200));
    }

    /// A commit seen at 0 ms, and its audit started once the debounce passed.
    fn auditing(c: &mut Core, clock: Clock, commits: &[u8]) -> u64 {
        let last = *commits.last().unwrap_or(&1);
        c.step(Input::Head(head(last), HeadSource::Inotify), clock.at(0));
        let ticked = c.step(Input::Tick, clock.at(2_000));
        assert!(plans(&ticked), "{ticked:?}");
        let actions = c.step(
            Input::Planned(Planned::Commits(plan(commits))),
            clock.at(2_000),
        );
        started(&actions).unwrap_or(0)
    }

    #[test]
    fn a_new_commit_waits_out_the_debounce_then_is_planned_and_started() {
        let clock = Clock::new();
        let mut c = core(clock);
        let seen = c.step(Input::Head(head(1), HeadSource::Inotify), clock.at(0));
        assert_eq!(logged(&seen), ["change_detected", "transition"]);
        assert_eq!(c.state.name(), StateName::DetectedChange);
        // A second commit within the debounce moves the batch's start.
        c.step(Input::Head(head(2), HeadSource::Inotify), clock.at(1_500));
        assert!(!plans(&c.step(Input::Tick, clock.at(2_000))));
        assert_eq!(c.next_deadline(), clock.at(3_500).at);
        assert!(plans(&c.step(Input::Tick, clock.at(3_500))));
        let actions = c.step(
            Input::Planned(Planned::Commits(plan(&[1, 2]))),
            clock.at(3_500),
        );
        // What the loop starts comes before the transition that says so.
        let start = actions
            .iter()
            .position(|a| matches!(a, Action::StartCommits { .. }));
        let moved = actions.iter().position(|a| {
            matches!(
                a,
                Action::Log(Entry {
                    event: LogEvent::Transition { to: "AUDITING", .. },
                    ..
                })
            )
        });
        assert!(start.is_some() && start < moved, "{actions:?}");
        assert_eq!(c.state.name(), StateName::Auditing);
        assert_eq!(c.running_job().map(|j| j.commits), Some(2));
    }

    #[test]
    fn a_stream_of_commits_is_audited_within_the_batch_delay() {
        let clock = Clock::new();
        let mut c = core(clock);
        let mut planned_at = None;
        for t in (0..20_000).step_by(500) {
            c.step(
                Input::Head(
                    head(u8::try_from(t / 500 % 250).unwrap_or(1) + 1),
                    HeadSource::Inotify,
                ),
                clock.at(t),
            );
            if plans(&c.step(Input::Tick, clock.at(t))) {
                planned_at = Some(t);
                break;
            }
        }
        assert_eq!(planned_at, Some(10_000));
    }

    #[test]
    fn a_head_seen_before_or_audited_before_is_no_change() {
        let clock = Clock::new();
        let mut persisted = DaemonState::default();
        persisted.mark_audited(&[oid(7).to_string()]);
        let mut c = Core::new(persisted, knobs(), None, clock.at(0));
        let actions = c.step(Input::Head(head(7), HeadSource::Poll), clock.at(0));
        assert_eq!(logged(&actions), ["head_moved"]);
        assert_eq!(c.state, State::Idle);
        let mut c = core(clock);
        c.step(Input::Head(head(1), HeadSource::Poll), clock.at(0));
        assert!(
            c.step(Input::Head(head(1), HeadSource::Inotify), clock.at(10))
                .is_empty()
        );
        assert!(
            c.step(Input::Head(None, HeadSource::Poll), clock.at(20))
                .is_empty()
        );
    }

    #[test]
    fn an_audit_moves_through_its_stages_and_records_its_commits_with_the_report() {
        let clock = Clock::new();
        let mut c = core(clock);
        let id = auditing(&mut c, clock, &[1]);
        let tests_next = Progress::StaticDone {
            critical: false,
            tests_next: true,
        };
        progress(&mut c, id, tests_next, clock.at(3_000));
        progress(&mut c, id, Progress::TestsDone, clock.at(4_000));
        progress(&mut c, id, Progress::Verified, clock.at(4_100));
        assert_eq!(c.state.name(), StateName::Reporting);
        assert!(!c.persisted.was_audited(&oid(1).to_string()));
        let written = Progress::ReportWritten {
            path: "r.json".into(),
            to_send: false,
        };
        let actions = progress(&mut c, id, written, clock.at(4_200));
        assert!(actions.iter().any(|a| matches!(a, Action::SaveState)));
        assert!(c.persisted.was_audited(&oid(1).to_string()));
        assert_eq!(c.state, State::Idle);
        // The job finishes on the thread: timed, its verdict kept, HEAD read again.
        let done = c.step(
            Input::Worker(WorkerMessage::Done(id, Ok(report()))),
            clock.at(4_300),
        );
        assert!(logged(&done).contains(&"audit_finished".to_string()));
        assert!(
            done.iter()
                .any(|a| matches!(a, Action::ReadHead(HeadSource::Queued)))
        );
        assert_eq!(c.finishing, None);
        let d = c.persisted.durations.last().copied().unwrap_or_default();
        assert_eq!((d.audit_ms, d.test_ms, d.total_ms), (1_000, 1_000, 2_300));
        assert_eq!(
            c.last_verdict.as_ref().map(|v| v.status.as_str()),
            Some("PASS")
        );
    }

    #[test]
    fn commits_during_an_audit_are_the_next_batch() {
        let clock = Clock::new();
        let mut c = core(clock);
        let id = auditing(&mut c, clock, &[1]);
        c.step(Input::Head(head(2), HeadSource::Inotify), clock.at(2_500));
        assert!(c.state.audit().is_some_and(|a| a.queued));
        assert!(c.status(&shell(), clock.at(2_500).wall).queued);
        through_a_clean_report(&mut c, id, clock, 2_600);
        // Idle, with the job finishing on the thread: still the status's current audit.
        assert_eq!(c.state, State::Idle);
        assert!(c.status(&shell(), clock.at(2_800).wall).current.is_some());
        let done = c.step(
            Input::Worker(WorkerMessage::Done(id, Ok(report()))),
            clock.at(3_000),
        );
        assert!(
            done.iter()
                .any(|a| matches!(a, Action::ReadHead(HeadSource::Queued)))
        );
        c.step(Input::Head(head(2), HeadSource::Queued), clock.at(3_000));
        assert_eq!(c.state.name(), StateName::DetectedChange);
    }

    #[test]
    fn a_commit_during_the_tests_preempts_them_and_the_next_batch_waits_for_the_wind_down() {
        let clock = Clock::new();
        let mut c = core(clock);
        c.knobs.preempt = true;
        let id = auditing(&mut c, clock, &[1]);
        let tests_next = Progress::StaticDone {
            critical: false,
            tests_next: true,
        };
        progress(&mut c, id, tests_next, clock.at(2_100));
        let actions = c.step(Input::Head(head(2), HeadSource::Inotify), clock.at(2_500));
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::Cancel(j) if *j == id))
        );
        assert_eq!(c.state.name(), StateName::DetectedChange);
        assert!(c.finishing.as_ref().is_some_and(|j| j.cancelled));
        // Late progress of the cancelled job moves nothing.
        progress(&mut c, id, Progress::TestsDone, clock.at(3_000));
        assert_eq!(c.state.name(), StateName::DetectedChange);
        // Due, but the cancelled audit still runs: look again shortly.
        assert!(!plans(&c.step(Input::Tick, clock.at(4_500))));
        assert_eq!(c.state.batch_due(), Some(clock.at(4_600).at));
        let done = c.step(
            Input::Worker(WorkerMessage::Done(id, Err(JobError::Cancelled))),
            clock.at(4_550),
        );
        assert_eq!(logged(&done), ["audit_abandoned"]);
        assert!(plans(&c.step(Input::Tick, clock.at(4_600))));
    }

    #[test]
    fn blocking_feedback_opens_a_wait_that_times_out_into_escalation() {
        let clock = Clock::new();
        let mut c = core(clock);
        let id = auditing(&mut c, clock, &[1]);
        let critical = Progress::StaticDone {
            critical: true,
            tests_next: false,
        };
        progress(&mut c, id, critical, clock.at(2_100));
        let written = Progress::ReportWritten {
            path: "r.json".into(),
            to_send: true,
        };
        progress(&mut c, id, written, clock.at(2_200));
        let feedback = Progress::FeedbackWritten {
            files: vec!["tasks/x.md".into()],
            blocking: true,
        };
        let actions = progress(&mut c, id, feedback, clock.at(2_300));
        assert!(actions.iter().any(|a| matches!(a, Action::SaveState)));
        assert_eq!(
            c.state,
            State::WaitForFix(machine::Wait {
                since: clock.at(2_300).wall,
                deadline: clock.at(2_300).at + WAIT
            })
        );
        assert!(c.persisted.waiting_since.is_some());
        let at_deadline = clock.at(62_300);
        let actions = c.step(Input::Tick, at_deadline);
        assert!(actions.iter().any(|a| matches!(a, Action::Escalate)));
        assert_eq!(transitions(&actions), ["IDLE"]);
        assert_eq!(c.persisted.waiting_since, None);
    }

    #[test]
    fn audits_during_a_wait_keep_it_and_reset_ends_it() {
        let clock = Clock::new();
        let since = clock.at(0).wall - chrono::Duration::seconds(10);
        let persisted = DaemonState {
            waiting_since: Some(since.to_rfc3339()),
            ..DaemonState::default()
        };
        // A restart resumes the wait with what is left of it.
        let mut c = Core::new(persisted, knobs(), None, clock.at(0));
        assert_eq!(
            c.state,
            State::WaitForFix(machine::Wait {
                since,
                deadline: clock.at(50_000).at
            })
        );
        // A commit that needs nothing audited returns to the same wait.
        c.step(Input::Head(head(1), HeadSource::Inotify), clock.at(1_000));
        assert!(c.persisted.waiting_since.is_some());
        c.step(Input::Tick, clock.at(3_000));
        c.step(
            Input::Planned(Planned::NoNewCommits(Some(oid(1)))),
            clock.at(3_000),
        );
        assert_eq!(
            c.state.wait().map(|w| w.deadline),
            Some(clock.at(50_000).at)
        );
        // Reset during an audit that follows the wait ends the wait, not the audit.
        let id = auditing(&mut c, clock, &[2]);
        assert!(c.state.wait().is_some());
        let actions = c.step(Input::Reset, clock.at(2_500));
        assert!(actions.iter().any(|a| matches!(a, Action::SaveState)));
        assert_eq!(
            (c.state.name(), c.persisted.waiting_since.as_deref()),
            (StateName::Auditing, None)
        );
        let failed = c.step(
            Input::Worker(WorkerMessage::Done(
                id,
                Err(JobError::Failed("boom".into())),
            )),
            clock.at(3_000),
        );
        assert_eq!(transitions(&failed), ["IDLE"]);
    }

    #[test]
    fn failing_audits_are_retried_with_a_backoff_and_raise_an_issue_the_third_time() {
        let clock = Clock::new();
        let mut c = core(clock);
        let mut t = 0;
        for attempt in 1..=3u32 {
            c.step(Input::Head(head(1), HeadSource::Retry), clock.at(t));
            c.step(Input::Tick, clock.at(t + 2_000));
            let actions = c.step(
                Input::Planned(Planned::Commits(plan(&[1]))),
                clock.at(t + 2_000),
            );
            let id = started(&actions).unwrap_or(0);
            let failed = c.step(
                Input::Worker(WorkerMessage::Done(
                    id,
                    Err(JobError::Failed("disk full".into())),
                )),
                clock.at(t + 2_100),
            );
            assert_eq!(
                c.persisted.failure.as_ref().map(|f| f.attempts),
                Some(attempt)
            );
            let raised = failed
                .iter()
                .any(|a| matches!(a, Action::RaiseAuditFailed { .. }));
            assert_eq!(raised, attempt == 3, "attempt {attempt}");
            let delay = 1_000u64 << (attempt - 1);
            assert_eq!(c.retry_due, Some(clock.at(t + 2_100 + delay).at));
            // The queued look does not start the batch again before the retry is due.
            c.step(
                Input::Head(head(1), HeadSource::Queued),
                clock.at(t + 2_100),
            );
            assert_eq!(c.state, State::Idle);
            t += 2_100 + delay;
            let due = c.step(Input::Tick, clock.at(t));
            assert!(
                due.iter()
                    .any(|a| matches!(a, Action::ReadHead(HeadSource::Retry)))
            );
        }
        // A success clears the failure.
        c.step(Input::Head(head(1), HeadSource::Retry), clock.at(t));
        c.step(Input::Tick, clock.at(t + 2_000));
        let actions = c.step(
            Input::Planned(Planned::Commits(plan(&[1]))),
            clock.at(t + 2_000),
        );
        let id = started(&actions).unwrap_or(0);
        let done = c.step(
            Input::Worker(WorkerMessage::Done(id, Ok(report()))),
            clock.at(t + 3_000),
        );
        assert!(logged(&done).contains(&"audit_recovered".to_string()));
        assert_eq!((c.persisted.failure.as_ref(), c.retry_due), (None, None));
    }

    /// A rewrite and a forced skip are the plan's (`plan.rs` decides them); the core has
    /// them announced before the job starts, and records the skip count with the report.
    #[test]
    fn a_rewritten_or_skipping_plan_is_announced_then_audited_and_recorded() {
        let clock = Clock::new();
        let mut c = core(clock);
        c.step(Input::Head(head(5), HeadSource::Inotify), clock.at(0));
        c.step(Input::Tick, clock.at(2_000));
        let mut p = plan(&[4, 5]);
        p.skipped = vec![oid(4)];
        p.to_audit = vec![oid(5)];
        p.forced = Some(oid(5));
        p.consecutive_skips = 0;
        p.rewrite = Some(super::super::plan::Rewrite {
            previous: oid(3).to_string(),
            merge_base: Some(oid(0)),
        });
        let actions = c.step(Input::Planned(Planned::Commits(p.clone())), clock.at(2_000));
        let announced = actions
            .iter()
            .position(|a| matches!(a, Action::AnnouncePlan(q) if q.rewrite.is_some()));
        let started = actions.iter().position(
            |a| matches!(a, Action::StartCommits { plan, .. } if plan.forced == Some(oid(5))),
        );
        assert!(announced.is_some() && announced < started, "{actions:?}");
        let id = c.running_job().map_or(0, |j| j.id);
        c.persisted.consecutive_skips = 7;
        through_a_clean_report(&mut c, id, clock, 2_100);
        // Both the skipped and the audited commit are recorded, the skip count reset.
        assert!(c.persisted.was_audited(&oid(4).to_string()));
        assert!(c.persisted.was_audited(&oid(5).to_string()));
        assert_eq!(c.persisted.consecutive_skips, 0);
        assert_eq!(c.persisted.last_checked, Some(oid(5).to_string()));
    }

    #[test]
    fn a_batch_of_commits_all_audited_before_only_moves_last_checked() {
        let clock = Clock::new();
        let mut c = core(clock);
        c.step(Input::Head(head(3), HeadSource::Inotify), clock.at(0));
        c.step(Input::Tick, clock.at(2_000));
        let mut empty = plan(&[]);
        empty.head = oid(3);
        let actions = c.step(Input::Planned(Planned::Commits(empty)), clock.at(2_000));
        assert!(actions.iter().any(|a| matches!(a, Action::AnnouncePlan(_))));
        assert_eq!(started(&actions), None);
        assert_eq!(c.persisted.last_checked, Some(oid(3).to_string()));
        assert_eq!(c.state, State::Idle);
    }

    #[test]
    fn uncommitted_changes_are_audited_once_the_tree_is_quiet() {
        let clock = Clock::new();
        let mut c = core(clock);
        // The first look at start lists the whole tree.
        let first = c.step(Input::Tick, clock.at(5_000));
        assert!(
            first
                .iter()
                .any(|a| matches!(a, Action::LookAtTree { full: true, .. }))
        );
        c.step(
            Input::TreeLooked(Ok((Vec::new(), Vec::new()))),
            clock.at(5_000),
        );
        // Edits: looked at once quiet, only where they were.
        c.step(
            Input::TreeChanged {
                paths: vec!["a.py".into()],
                watch_error: None,
            },
            clock.at(6_000),
        );
        assert!(
            c.step(Input::Tick, clock.at(10_000))
                .iter()
                .all(|a| !matches!(a, Action::LookAtTree { .. }))
        );
        let look = c.step(Input::Tick, clock.at(11_000));
        let paths: Vec<BTreeSet<String>> = look
            .iter()
            .filter_map(|a| match a {
                Action::LookAtTree { full: false, paths } => Some(paths.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(paths, [BTreeSet::from(["a.py".to_string()])]);
        let change = WorkChange {
            path: "a.py".into(),
            deleted: false,
        };
        let key: TreeKey = vec![(change.clone(), 3, 1)];
        let settled = c.step(
            Input::TreeLooked(Ok((vec![change.clone()], key.clone()))),
            clock.at(11_000),
        );
        assert_eq!(transitions(&settled), ["DETECTED_CHANGE"]);
        // The quiet period was the debounce.
        assert!(plans(&c.step(Input::Tick, clock.at(11_000))));
        let actions = c.step(
            Input::Planned(Planned::NoNewCommits(Some(oid(1)))),
            clock.at(11_000),
        );
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::StartUncommitted { head, .. } if *head == oid(1)))
        );
        assert_eq!(c.running_job().map(|j| &j.batch), Some(&Batch::Uncommitted));
        // The same tree is not audited twice.
        let mut c2 = c.clone();
        c2.state = State::Idle;
        let again = c2.step(Input::TreeLooked(Ok((vec![change], key))), clock.at(20_000));
        assert!(transitions(&again).is_empty());
    }

    #[test]
    fn without_a_tree_watcher_two_looks_must_agree() {
        let clock = Clock::new();
        let mut c = core(clock);
        c.knobs.tree_watched = false;
        let change = WorkChange {
            path: "b.rs".into(),
            deleted: false,
        };
        let key: TreeKey = vec![(change.clone(), 1, 1)];
        let look = Input::TreeLooked(Ok((vec![change.clone()], key.clone())));
        let first = c.step(look, clock.at(5_000));
        assert!(transitions(&first).is_empty());
        assert_eq!(c.tree.due, Some(clock.at(10_000).at));
        let second = c.step(Input::TreeLooked(Ok((vec![change], key))), clock.at(10_000));
        assert_eq!(transitions(&second), ["DETECTED_CHANGE"]);
    }

    #[test]
    fn the_tree_is_looked_at_again_later_while_an_audit_runs() {
        let clock = Clock::new();
        let mut c = core(clock);
        auditing(&mut c, clock, &[1]);
        let busy = c.step(Input::Tick, clock.at(5_000));
        assert!(busy.iter().all(|a| !matches!(a, Action::LookAtTree { .. })));
        assert_eq!(c.tree.due, Some(clock.at(10_000).at));
    }

    #[test]
    fn shutdown_stops_everything_and_nothing_moves_after() {
        let clock = Clock::new();
        let mut c = core(clock);
        auditing(&mut c, clock, &[1]);
        let actions = c.step(Input::Shutdown("SIGTERM".into()), clock.at(3_000));
        assert_eq!(transitions(&actions), ["STOPPED"]);
        assert!(matches!(actions.last(), Some(Action::Stop)));
        assert!(actions.iter().any(|a| matches!(a, Action::SaveState)));
        let after = c.step(Input::Head(head(9), HeadSource::Inotify), clock.at(3_100));
        assert!(transitions(&after).is_empty());
        assert_eq!(c.state, State::Stopped);
    }
}
