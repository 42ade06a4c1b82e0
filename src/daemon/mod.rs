//! `auditor watch`: the daemon. It sees every commit (notify on the git directory, with a
//! polling loop beside it), batches them, audits each batch with the engine on an audit thread,
//! and drives the state machine of `machine.rs`, logging every transition and keeping
//! `status.json` and its persisted state current, so that a restart resumes where it stopped.

pub mod control;
pub mod machine;
pub mod plan;
pub mod status;
pub mod view;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use git2::Oid;
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::Settings;
use crate::engine::{AuditOptions, AuditReport, CommitInfo, Progress, severity_counts};
use crate::eventlog::{EventLog, Level, Limits};
use crate::finding::{Finding, IssueType, Location, Severity};
use crate::git::{
    AuditTarget, Change, Repo, WorkChange, uncommitted_changes, watch_git, watch_worktree,
};
use crate::store::Layout;
use crate::store::lock::PidLock;
use crate::store::state::{self as persist, DaemonState, Durations};
use machine::{Action, Event, State, transition};
use plan::Plan;
use status::{Current, Status, Verdict};
use view::View;
use worker::{Job, JobError, JobKind, Worker, WorkerMessage};

/// A continuous stream of commits still gets audited this long after the first one.
const MAX_BATCH_DELAY: Duration = Duration::from_secs(10);
/// How long a shutdown waits for running checks before it kills them and exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How often the live view is redrawn.
const RENDER_EVERY: Duration = Duration::from_secs(1);

/// The daemon's lock file.
pub fn lock_path(layout: &Layout) -> std::path::PathBuf {
    layout.state_dir.join("daemon.lock")
}

/// The event log's limits from settings.
pub fn event_limits(settings: &Settings) -> Limits {
    Limits {
        max_bytes: settings.events.max_size,
        retention: settings.events.retention,
    }
}

/// Re-reads the configuration (SIGHUP); the message says what is wrong.
pub type Reload = Box<dyn Fn() -> Result<Settings, String>>;

/// Everything the daemon starts from.
pub struct Setup {
    /// The watched repository.
    pub repo: Repo,
    /// The configuration in force.
    pub settings: Settings,
    /// Where it writes.
    pub layout: Layout,
    /// The one-daemon-per-repository lock, held for the daemon's life.
    pub lock: PidLock,
    /// How the foreground shows progress.
    pub view: view::Mode,
    /// Poll only; no notify watchers.
    pub poll_only: bool,
    /// How to re-read the configuration.
    pub reload: Reload,
}

/// The daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The async runtime or the audit thread could not start.
    #[error("start the daemon: {0}")]
    Start(#[from] std::io::Error),
}

/// How the daemon ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A clean shutdown.
    Stopped,
    /// A second signal: killed at once.
    Killed,
}

/// Runs the daemon until a signal stops it.
pub fn run(setup: Setup) -> Result<Exit, DaemonError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut daemon = Daemon::start(setup)?;
        Ok(daemon.run().await)
    })
}

/// The audit under way.
struct Running {
    id: u64,
    /// The batch (none for an uncommitted audit).
    plan: Option<Plan>,
    cancel: Arc<AtomicBool>,
    started: Instant,
    stage_started: DateTime<Utc>,
    commit: String,
    commits: usize,
    static_ms: Option<u64>,
    test_started: Option<Instant>,
    test_ms: u64,
}

/// A working-tree state, to tell whether it was audited already.
type TreeKey = Vec<(WorkChange, u64, i128)>;

struct Daemon {
    repo: Repo,
    settings: Arc<Settings>,
    layout: Layout,
    _lock: PidLock,
    reload: Reload,
    state: State,
    state_since: DateTime<Utc>,
    started_at: DateTime<Utc>,
    persisted: DaemonState,
    events: EventLog,
    view: View,
    worker: Worker,
    worker_rx: UnboundedReceiver<WorkerMessage>,
    change_rx: UnboundedReceiver<Change>,
    /// Kept so the change channel never closes, even with no watcher (polling only).
    _change_tx: UnboundedSender<Change>,
    _watchers: Vec<notify::RecommendedWatcher>,
    watcher_kind: &'static str,
    tree_watched: bool,
    /// Started with a terminal on stdout.
    on_tty: bool,
    running: Option<Running>,
    next_job: u64,
    batch_due: Option<Instant>,
    batch_started: Option<Instant>,
    queued: bool,
    seen_head: Option<Oid>,
    uncommitted_due: Option<Instant>,
    pending_uncommitted: Option<(Vec<WorkChange>, TreeKey)>,
    last_tree_key: Option<TreeKey>,
    wait_deadline: Option<Instant>,
    last_verdict: Option<Verdict>,
    heartbeat_due: Instant,
    poll_due: Instant,
    render_due: Instant,
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(7)]
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn tree_key(repo: &Repo, changes: &[WorkChange]) -> TreeKey {
    use std::os::unix::fs::MetadataExt;
    changes
        .iter()
        .map(|c| {
            let meta = std::fs::symlink_metadata(repo.root.join(&c.path)).ok();
            let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let mtime = meta.map_or(0, |m| {
                i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
            });
            (c.clone(), size, mtime)
        })
        .collect()
}

impl Daemon {
    fn start(setup: Setup) -> Result<Daemon, DaemonError> {
        let Setup {
            repo,
            settings,
            layout,
            lock,
            view,
            poll_only,
            reload,
        } = setup;
        let now = Instant::now();
        let mut events = EventLog::new(&layout.reports_dir, event_limits(&settings));
        let mut view = View::new(view, &repo.root);
        let (persisted, problems) = persist::load(&layout);
        for p in &problems {
            events.append(
                "state_recovered",
                Level::Warning,
                None,
                json!({ "message": p }),
            );
            view.error(p);
        }
        let (worker_tx, worker_rx) = unbounded_channel();
        let worker = Worker::spawn(repo.root.clone(), layout.clone(), worker_tx)?;
        let (change_tx, change_rx) = unbounded_channel();

        let mut watchers = Vec::new();
        let mut watcher_kind = "polling";
        let mut tree_watched = false;
        if !poll_only {
            match watch_git(&repo, change_tx.clone()) {
                Ok(w) => {
                    watchers.push(w);
                    watcher_kind = "inotify";
                }
                Err(e) => {
                    let msg = format!(
                        "{e}; polling every {:?} instead",
                        settings.watch.poll_interval
                    );
                    events.append(
                        "watch_unavailable",
                        Level::Warning,
                        None,
                        json!({ "message": msg }),
                    );
                    view.error(&msg);
                }
            }
            if settings.watch.uncommitted_quiet.is_some() {
                let own = vec![
                    layout.reports_dir.clone(),
                    layout.inbox_dir.clone(),
                    layout.state_dir.clone(),
                ];
                match watch_worktree(&repo, own, change_tx.clone()) {
                    Ok(w) => {
                        watchers.push(w);
                        tree_watched = true;
                    }
                    Err(e) => {
                        let msg = format!("{e}; uncommitted changes are polled instead");
                        events.append(
                            "watch_unavailable",
                            Level::Warning,
                            None,
                            json!({ "message": msg }),
                        );
                        view.error(&msg);
                    }
                }
            }
        }

        let waiting_since = persisted
            .waiting_since
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let state = if waiting_since.is_some() {
            State::WaitForFix
        } else {
            State::Idle
        };
        let wait_deadline = waiting_since.map(|since| {
            let waited = (Utc::now() - since).to_std().unwrap_or_default();
            now + settings.watch.wait_timeout.saturating_sub(waited)
        });
        // The verdict survives restarts through the previous status file.
        let last_verdict = Status::read(&layout).ok().and_then(|s| s.last_verdict);
        let mut daemon = Daemon {
            repo,
            settings: Arc::new(settings),
            layout,
            _lock: lock,
            reload,
            state,
            state_since: Utc::now(),
            started_at: Utc::now(),
            persisted,
            events,
            view,
            worker,
            worker_rx,
            change_rx,
            _change_tx: change_tx,
            _watchers: watchers,
            watcher_kind,
            tree_watched,
            on_tty: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            running: None,
            next_job: 1,
            batch_due: None,
            batch_started: None,
            queued: false,
            seen_head: None,
            uncommitted_due: None,
            pending_uncommitted: None,
            last_tree_key: None,
            wait_deadline,
            last_verdict,
            heartbeat_due: now,
            poll_due: now,
            render_due: now,
        };
        daemon.events.append(
            "daemon_started",
            Level::Info,
            daemon.persisted.last_checked.as_deref(),
            json!({
                "pid": std::process::id(),
                "version": env!("CARGO_PKG_VERSION"),
                "watcher": daemon.watcher_kind,
                "state": daemon.state.as_str(),
                "resumed_from": daemon.persisted.last_checked,
            }),
        );
        daemon.view.line(&format!(
            "watching {} ({}), resuming from {}",
            daemon.repo.root.display(),
            daemon.watcher_kind,
            daemon
                .persisted
                .last_checked
                .as_deref()
                .map_or("the current HEAD", short)
        ));
        if daemon.settings.watch.uncommitted_quiet.is_some() {
            // Edits made while the daemon was down are audited once the tree is quiet.
            daemon.uncommitted_due = daemon.settings.watch.uncommitted_quiet.map(|q| now + q);
        }
        daemon.write_status();
        Ok(daemon)
    }

    async fn run(&mut self) -> Exit {
        let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr1)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
            signal(SignalKind::user_defined1()),
        ) else {
            self.view.error("cannot install signal handlers");
            return Exit::Killed;
        };
        // Commits made while the daemon was down are found by the first look at HEAD.
        self.check_head("startup");
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                Some(change) = self.change_rx.recv() => self.on_change(change),
                Some(message) = self.worker_rx.recv() => self.on_worker(message),
                _ = term.recv() => return self.shutdown("SIGTERM", &mut term, &mut int).await,
                _ = int.recv() => return self.shutdown("SIGINT", &mut term, &mut int).await,
                _ = hup.recv() => {
                    if self.terminal_closed() {
                        return self.shutdown("SIGHUP (its terminal closed)", &mut term, &mut int).await;
                    }
                    self.reload_config();
                }
                _ = usr1.recv() => self.reset(),
                () = tokio::time::sleep_until(deadline.into()) => self.on_timers(),
            }
        }
    }

    fn next_deadline(&self) -> Instant {
        [
            Some(self.heartbeat_due),
            Some(self.poll_due),
            self.batch_due,
            self.uncommitted_due,
            self.wait_deadline
                .filter(|_| self.state == State::WaitForFix),
            (self.view_is_live()).then_some(self.render_due),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(1))
    }

    /// A SIGHUP is a reload request, unless the terminal the daemon runs in went away (its
    /// tmux pane or ssh session closed): then it is the end.
    fn terminal_closed(&self) -> bool {
        self.on_tty && nix::sys::termios::tcgetattr(std::io::stdout()).is_err()
    }

    fn view_is_live(&self) -> bool {
        self.view.mode() == view::Mode::Live
    }

    // ---- state machine ----

    /// Applies an event: logs and shows the transition, updates status and the wait.
    fn fire(&mut self, event: Event, reason: &str) -> Action {
        let decision = transition(self.state, event);
        if decision.action == Action::Ignore {
            tracing::debug!(state = %self.state, ?event, "event ignored");
            return Action::Ignore;
        }
        let from = self.state;
        if decision.next != from {
            self.state = decision.next;
            self.state_since = Utc::now();
            if let Some(r) = &mut self.running {
                r.stage_started = self.state_since;
            }
            let commit = self
                .running
                .as_ref()
                .map(|r| r.commit.clone())
                .or_else(|| self.seen_head.map(|h| h.to_string()));
            self.events.append(
                "transition",
                Level::Info,
                commit.as_deref(),
                json!({ "from": from.as_str(), "to": decision.next.as_str(), "reason": reason }),
            );
            self.view
                .line(&format!("{from} → {} ({reason})", decision.next));
            self.on_enter(decision.next, from);
            self.write_status();
        }
        decision.action
    }

    fn on_enter(&mut self, state: State, from: State) {
        match state {
            State::WaitForFix if from == State::Communicating => {
                let now = Utc::now();
                self.persisted.waiting_since = Some(now.to_rfc3339());
                self.wait_deadline = Some(Instant::now() + self.settings.watch.wait_timeout);
                self.save_state();
            }
            State::Idle => {
                if self.persisted.waiting_since.take().is_some() {
                    self.save_state();
                }
                self.wait_deadline = None;
            }
            _ => {}
        }
    }

    fn waiting(&self) -> bool {
        self.persisted.waiting_since.is_some()
    }

    // ---- detection ----

    fn on_change(&mut self, change: Change) {
        match change {
            Change::Git => self.check_head("inotify"),
            Change::WorkTree => {
                if let Some(quiet) = self.settings.watch.uncommitted_quiet {
                    self.uncommitted_due = Some(Instant::now() + quiet);
                }
            }
        }
    }

    /// Re-reads HEAD; a new, unaudited commit is a detected change.
    fn check_head(&mut self, source: &str) {
        let Ok(head) = self.repo.head() else {
            return; // no commit yet, or HEAD mid-update: the next look will see it
        };
        if self.seen_head == Some(head) {
            return;
        }
        self.seen_head = Some(head);
        if !plan::needs_audit(&self.persisted, head) {
            // Back on a commit audited before (a branch switch, a rebase passing over known
            // commits): nothing to audit. `last_checked` stays the last audited batch, so a
            // later commit here is measured against it and a switch is seen as the rewrite
            // it is.
            let hex = head.to_string();
            self.events.append(
                "head_moved",
                Level::Info,
                Some(&hex),
                json!({ "already_audited": true, "source": source }),
            );
            self.view
                .line(&format!("HEAD at {} (already audited)", short(&hex)));
            return;
        }
        self.detected(head, source);
    }

    fn detected(&mut self, head: Oid, source: &str) {
        let hex = head.to_string();
        self.events.append(
            "change_detected",
            Level::Info,
            Some(&hex),
            json!({ "source": source, "summary": self.repo.summary(head) }),
        );
        self.view.line(&format!(
            "new commit {} \"{}\" ({source})",
            short(&hex),
            self.repo.summary(head)
        ));
        let preempt = self.settings.watch.preempt;
        match self.fire(Event::ChangeDetected { preempt }, "new commit") {
            Action::QueueBatch => self.queued = true,
            Action::Preempt => {
                self.cancel_running("preempted by new commits");
                self.arm_batch();
            }
            Action::None => self.arm_batch(),
            _ => {}
        }
        self.write_status();
    }

    fn arm_batch(&mut self) {
        let now = Instant::now();
        let first = *self.batch_started.get_or_insert(now);
        self.batch_due = Some((now + self.settings.watch.debounce).min(first + MAX_BATCH_DELAY));
    }

    // ---- timers ----

    fn on_timers(&mut self) {
        let now = Instant::now();
        if self.poll_due <= now {
            self.poll_due = now + self.settings.watch.poll_interval;
            self.check_head("poll");
            if !self.tree_watched
                && self.settings.watch.uncommitted_quiet.is_some()
                && self.uncommitted_due.is_none()
            {
                self.poll_tree();
            }
        }
        if self.batch_due.is_some_and(|d| d <= now) {
            self.batch_due = None;
            self.start_batch();
        }
        if self.uncommitted_due.is_some_and(|d| d <= now) {
            self.uncommitted_due = None;
            self.tree_quiet();
        }
        if self.state == State::WaitForFix && self.wait_deadline.is_some_and(|d| d <= now) {
            self.wait_deadline = None;
            self.events.append(
                "wait_timeout",
                Level::Warning,
                None,
                json!({ "waited_ms": ms(self.settings.watch.wait_timeout) }),
            );
            self.fire(Event::WaitTimedOut, "the wait for a fix timed out");
        }
        if self.heartbeat_due <= now {
            self.heartbeat_due = now + self.settings.watch.heartbeat;
            self.write_status();
        }
        if self.view_is_live() && self.render_due <= now {
            self.render_due = now + RENDER_EVERY;
            self.view.render(&self.status());
        }
    }

    /// Without a working-tree watcher, a changed status schedules the quiet-period audit.
    fn poll_tree(&mut self) {
        let Ok(changes) = uncommitted_changes(&self.repo) else {
            return;
        };
        let key = tree_key(&self.repo, &changes);
        if !changes.is_empty() && self.last_tree_key.as_ref() != Some(&key) {
            if let Some(quiet) = self.settings.watch.uncommitted_quiet {
                self.uncommitted_due = Some(Instant::now() + quiet);
            }
        }
    }

    /// The working tree has been quiet for the configured time: audit its changes once.
    fn tree_quiet(&mut self) {
        if !matches!(self.state, State::Idle | State::WaitForFix) || self.running.is_some() {
            // Busy: look again after another quiet period.
            self.uncommitted_due = self
                .settings
                .watch
                .uncommitted_quiet
                .map(|q| Instant::now() + q);
            return;
        }
        let changes = match uncommitted_changes(&self.repo) {
            Ok(c) => c,
            Err(e) => {
                self.log_error("uncommitted_status", &e.to_string());
                return;
            }
        };
        let key = tree_key(&self.repo, &changes);
        if changes.is_empty() || self.last_tree_key.as_ref() == Some(&key) {
            return;
        }
        self.events.append(
            "change_detected",
            Level::Info,
            None,
            json!({ "source": "working_tree", "uncommitted_files": changes.len() }),
        );
        self.view
            .line(&format!("{} uncommitted file(s) settled", changes.len()));
        self.pending_uncommitted = Some((changes, key));
        if self.fire(
            Event::ChangeDetected { preempt: false },
            "uncommitted changes settled",
        ) == Action::None
        {
            // The quiet period was the debounce.
            self.batch_due = Some(Instant::now());
        }
    }

    // ---- audits ----

    fn start_batch(&mut self) {
        if self.state != State::DetectedChange {
            self.batch_started = None;
            return;
        }
        if self.running.is_some() {
            // A cancelled audit is still winding down.
            self.batch_due = Some(Instant::now() + Duration::from_millis(100));
            return;
        }
        self.batch_started = None;
        let head = self.repo.head().ok();
        if let Some(head) = head.filter(|h| plan::needs_audit(&self.persisted, *h)) {
            self.pending_uncommitted = None;
            match plan::plan(
                &self.repo,
                &self.persisted,
                head,
                self.settings.watch.max_consecutive_skips,
            ) {
                Ok(plan) => self.start_commits(plan),
                Err(e) => {
                    self.log_error("plan", &e.to_string());
                    let waiting = self.waiting();
                    self.fire(
                        Event::NothingToAudit { waiting },
                        "the batch could not be planned",
                    );
                }
            }
        } else if let Some((changes, key)) = self.pending_uncommitted.take() {
            match head {
                Some(head) => self.start_uncommitted(head, changes, key),
                None => {
                    let waiting = self.waiting();
                    self.fire(
                        Event::NothingToAudit { waiting },
                        "no commit to compare with",
                    );
                }
            }
        } else {
            let waiting = self.waiting();
            self.fire(Event::NothingToAudit { waiting }, "already audited");
        }
    }

    fn commit_info(&self, oid: Oid) -> CommitInfo {
        CommitInfo {
            hash: oid.to_string(),
            summary: self.repo.summary(oid),
        }
    }

    fn start_commits(&mut self, plan: Plan) {
        let head = plan.head.to_string();
        if let Some(rw) = &plan.rewrite {
            self.events.append(
                "history_rewrite",
                Level::Warning,
                Some(&head),
                json!({
                    "previous": rw.previous,
                    "merge_base": rw.merge_base.map(|m| m.to_string()),
                    "unaudited_commits": plan.to_audit.len(),
                }),
            );
            self.view.line(&format!(
                "history rewritten: {} is no longer an ancestor of HEAD; auditing {} new commit(s) since {}",
                short(&rw.previous),
                plan.to_audit.len(),
                rw.merge_base.map_or("(no common ancestor)".to_string(), |m| short(&m.to_string()).to_string())
            ));
        }
        for s in &plan.skipped {
            let info = self.commit_info(*s);
            self.events.append(
                "skip",
                Level::Warning,
                Some(&info.hash),
                json!({ "summary": info.summary, "consecutive": plan.consecutive_skips }),
            );
            self.view
                .line(&format!("skipped {} ([skip-audit])", short(&info.hash)));
        }
        let mut extra = Vec::new();
        if let Some(forced) = plan.forced {
            let info = self.commit_info(forced);
            let limit = self.settings.watch.max_consecutive_skips;
            self.events.append(
                "skip_limit",
                Level::Warning,
                Some(&info.hash),
                json!({ "limit": limit }),
            );
            extra.push(skip_limit_finding(&info, limit));
        }
        if plan.to_audit.is_empty() {
            // Every new commit asked to be skipped: recorded, listed in the next report.
            let skipped: Vec<String> = plan.skipped.iter().map(Oid::to_string).collect();
            self.persisted.mark_audited(&skipped);
            self.persisted.pending_skips.extend(skipped);
            self.persisted.consecutive_skips = plan.consecutive_skips;
            self.persisted.last_checked = Some(head);
            self.save_state();
            let waiting = self.waiting();
            self.fire(
                Event::NothingToAudit { waiting },
                "every new commit has [skip-audit]",
            );
            return;
        }
        let mut skipped: Vec<CommitInfo> = self
            .persisted
            .pending_skips
            .iter()
            .filter_map(|h| Oid::from_str(h).ok())
            .map(|o| self.commit_info(o))
            .collect();
        skipped.extend(plan.skipped.iter().map(|o| self.commit_info(*o)));
        let spec = match (plan.to_audit.len(), plan.base) {
            (1, _) | (_, None) => head.clone(),
            (_, Some(base)) => format!("{}..{}", base, head),
        };
        let target = AuditTarget {
            commits: plan.to_audit.clone(),
            target: plan.head,
            base: plan.base,
            spec,
        };
        let options = AuditOptions {
            run_tests: true,
            write: true,
            cancel: None,
            skipped,
            extra_findings: extra,
            uncommitted: false,
        };
        let commits = plan.to_audit.len();
        self.launch(JobKind::Commits(target), options, Some(plan), head, commits);
    }

    fn start_uncommitted(&mut self, head: Oid, changes: Vec<WorkChange>, key: TreeKey) {
        self.last_tree_key = Some(key);
        let options = AuditOptions {
            run_tests: false,
            write: true,
            uncommitted: true,
            ..AuditOptions::default()
        };
        let hex = head.to_string();
        self.launch(
            JobKind::Uncommitted { head, changes },
            options,
            None,
            hex,
            0,
        );
    }

    fn launch(
        &mut self,
        kind: JobKind,
        mut options: AuditOptions,
        plan: Option<Plan>,
        commit: String,
        commits: usize,
    ) {
        let cancel = Arc::new(AtomicBool::new(false));
        options.cancel = Some(cancel.clone());
        let id = self.next_job;
        self.next_job += 1;
        self.running = Some(Running {
            id,
            plan,
            cancel,
            started: Instant::now(),
            stage_started: Utc::now(),
            commit: commit.clone(),
            commits,
            static_ms: None,
            test_started: None,
            test_ms: 0,
        });
        let uncommitted = options.uncommitted;
        self.events.append(
            "audit_started",
            Level::Info,
            Some(&commit),
            json!({
                "uncommitted": uncommitted,
                "commits": match &kind {
                    JobKind::Commits(t) => t.commits.iter().map(Oid::to_string).collect::<Vec<_>>(),
                    JobKind::Uncommitted { .. } => Vec::new(),
                },
                "skipped": options.skipped.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(),
            }),
        );
        let reason = if uncommitted {
            "auditing uncommitted changes".to_string()
        } else if commits > 1 {
            format!(
                "auditing a batch of {commits} commits up to {}",
                short(&commit)
            )
        } else {
            format!("auditing {}", short(&commit))
        };
        self.fire(Event::BatchReady, &reason);
        let job = Job {
            id,
            kind,
            settings: self.settings.clone(),
            options,
        };
        if !self.worker.send(job) {
            self.running = None;
            self.log_error("audit_thread", "the audit thread is gone");
            let waiting = self.waiting();
            self.fire(Event::AuditFailed { waiting }, "the audit thread is gone");
        }
    }

    fn cancel_running(&mut self, why: &str) {
        let Some(r) = &self.running else { return };
        r.cancel.store(true, Ordering::SeqCst);
        let commit = r.commit.clone();
        self.events.append(
            "audit_cancelled",
            Level::Warning,
            Some(&commit),
            json!({ "reason": why }),
        );
        self.view
            .line(&format!("audit of {} cancelled: {why}", short(&commit)));
        let grace = self.settings.runner.grace;
        // Off the loop: the grace period must not stall heartbeats and detection.
        std::thread::spawn(move || crate::runner::terminate_all(grace));
    }

    fn on_worker(&mut self, message: WorkerMessage) {
        let current = self.running.as_ref().map(|r| r.id);
        match message {
            WorkerMessage::Progress(id, p) if Some(id) == current => self.on_progress(p),
            WorkerMessage::Progress(..) => {}
            WorkerMessage::Done(id, result) if Some(id) == current => {
                let Some(running) = self.running.take() else {
                    return;
                };
                self.finished(running, result);
            }
            WorkerMessage::Done(..) => {}
        }
    }

    fn on_progress(&mut self, progress: Progress) {
        let commit = self.running.as_ref().map(|r| r.commit.clone());
        let commit = commit.as_deref();
        let cancelled = self
            .running
            .as_ref()
            .is_some_and(|r| r.cancel.load(Ordering::SeqCst));
        match progress {
            Progress::Auditing => {}
            Progress::CheckStarted { name, stage } => {
                self.events.append(
                    "check_started",
                    Level::Info,
                    commit,
                    json!({ "check": name, "stage": stage.as_str() }),
                );
            }
            Progress::CheckFinished {
                name,
                stage,
                outcome,
                duration_ms,
                findings,
            } => {
                self.events.append(
                    "check_finished",
                    Level::Info,
                    commit,
                    json!({
                        "check": name, "stage": stage.as_str(), "outcome": outcome.as_str(),
                        "duration_ms": duration_ms, "findings": findings,
                    }),
                );
                self.view.line(&format!(
                    "  {name}: {} ({findings} finding(s), {duration_ms} ms)",
                    outcome.as_str()
                ));
            }
            _ if cancelled => {}
            Progress::StaticDone {
                critical,
                tests_next,
            } => {
                if let Some(r) = &mut self.running {
                    r.static_ms = Some(ms(r.started.elapsed()));
                    if tests_next {
                        r.test_started = Some(Instant::now());
                    }
                }
                let reason = match (critical, tests_next) {
                    (_, true) => "static checks done; running tests",
                    (true, false) => "a static check found a CRITICAL issue",
                    (false, false) => "static checks done; no tests to run",
                };
                self.fire(
                    Event::StaticDone {
                        critical,
                        tests_next,
                    },
                    reason,
                );
            }
            Progress::TestsDone => {
                if let Some(r) = &mut self.running {
                    r.test_ms = r.test_started.map_or(0, |t| ms(t.elapsed()));
                }
                self.fire(Event::TestsDone, "tests complete");
            }
            Progress::Verified => {
                self.fire(Event::Verified, "results aggregated");
            }
            Progress::ReportWritten { path, to_send } => {
                self.events.append(
                    "report_written",
                    Level::Info,
                    commit,
                    json!({ "path": path.to_string_lossy() }),
                );
                let reason = if to_send {
                    "issues to send"
                } else {
                    "no issues"
                };
                self.fire(Event::ReportWritten { to_send }, reason);
            }
            Progress::FeedbackWritten { files, blocking } => {
                for f in &files {
                    self.events.append(
                        "feedback_written",
                        Level::Info,
                        commit,
                        json!({ "path": f.to_string_lossy() }),
                    );
                }
                let reason = if blocking {
                    "feedback sent; blocking issues open"
                } else {
                    "feedback sent"
                };
                self.fire(Event::FeedbackWritten { blocking }, reason);
            }
        }
    }

    fn finished(&mut self, running: Running, result: Result<Box<AuditReport>, JobError>) {
        match result {
            Ok(report) => self.audited(running, &report),
            Err(JobError::Cancelled) => {
                // The commits stay unaudited; the next batch covers them again.
                self.events.append(
                    "audit_abandoned",
                    Level::Info,
                    Some(&running.commit),
                    json!({ "elapsed_ms": ms(running.started.elapsed()) }),
                );
            }
            Err(JobError::Failed(message)) => {
                self.log_error("audit_failed", &message);
                // Marked as checked so one broken commit cannot loop the daemon; the error
                // event says how to audit it again.
                if let Some(plan) = &running.plan {
                    self.record_batch(plan);
                    self.save_state();
                }
                let waiting = self.waiting();
                self.fire(Event::AuditFailed { waiting }, "the audit failed");
            }
        }
        // Whatever arrived meanwhile is the next batch.
        self.queued = false;
        if let Ok(head) = self.repo.head() {
            self.seen_head = Some(head);
            if plan::needs_audit(&self.persisted, head) {
                self.detected(head, "queued");
            }
        }
        if self.pending_uncommitted.is_some() && self.state != State::DetectedChange {
            self.uncommitted_due = Some(Instant::now());
        }
        self.write_status();
    }

    fn record_batch(&mut self, plan: &Plan) {
        let done: Vec<String> = plan
            .to_audit
            .iter()
            .chain(&plan.skipped)
            .map(Oid::to_string)
            .collect();
        self.persisted.mark_audited(&done);
        self.persisted.consecutive_skips = plan.consecutive_skips;
        self.persisted.pending_skips.clear();
        self.persisted.last_checked = Some(plan.head.to_string());
    }

    fn audited(&mut self, running: Running, report: &AuditReport) {
        let total = ms(running.started.elapsed());
        if let Some(plan) = &running.plan {
            self.record_batch(plan);
            self.persisted.push_durations(Durations {
                audit_ms: running.static_ms.unwrap_or(total),
                test_ms: running.test_ms,
                total_ms: total,
            });
        }
        self.save_state();
        let counts: Vec<(String, usize)> = severity_counts(report)
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect();
        self.events.append(
            "audit_finished",
            Level::Info,
            Some(&running.commit),
            json!({
                "status": report.status.as_str(),
                "counts": counts.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<String, serde_json::Value>>(),
                "duration_ms": total,
                "uncommitted": report.uncommitted,
                "commits": running.commits,
            }),
        );
        self.view.line(&format!(
            "{} {} {} in {} ms",
            report.status.as_str(),
            if report.uncommitted {
                "uncommitted"
            } else {
                short(&running.commit)
            },
            status::short_counts(&counts),
            total
        ));
        self.last_verdict = Some(Verdict {
            commit: running.commit,
            status: report.status.as_str().to_string(),
            counts,
            at: Utc::now(),
            uncommitted: report.uncommitted,
        });
    }

    // ---- control ----

    fn reset(&mut self) {
        self.events.append(
            "reset",
            Level::Info,
            None,
            json!({ "state": self.state.as_str() }),
        );
        if self.fire(Event::Reset, "auditor reset") == Action::Ignore && self.waiting() {
            // Reset during an audit that follows a wait: the wait ends now.
            self.persisted.waiting_since = None;
            self.wait_deadline = None;
            self.save_state();
        }
        self.write_status();
    }

    fn reload_config(&mut self) {
        match (self.reload)() {
            Ok(new) => {
                if new.paths.reports != self.settings.paths.reports
                    || new.paths.inbox != self.settings.paths.inbox
                    || new.paths.state != self.settings.paths.state
                {
                    self.log_error(
                        "config_reload",
                        "[paths] changed; restart the daemon for new folders to take effect",
                    );
                }
                self.settings = Arc::new(new);
                self.events
                    .append("config_reloaded", Level::Info, None, json!({}));
                self.view.line("configuration reloaded");
            }
            Err(message) => {
                self.log_error(
                    "config_reload",
                    &format!("{message}; keeping the previous configuration"),
                );
            }
        }
    }

    /// SIGTERM/SIGINT: stop, end running checks (TERM, grace, KILL), persist, exit. A second
    /// signal kills the checks and exits at once.
    async fn shutdown(
        &mut self,
        signal_name: &str,
        term: &mut tokio::signal::unix::Signal,
        int: &mut tokio::signal::unix::Signal,
    ) -> Exit {
        self.events.append(
            "shutdown",
            Level::Info,
            None,
            json!({ "signal": signal_name }),
        );
        self.view.line(&format!("{signal_name}: stopping"));
        self._watchers.clear();
        let mut exit = Exit::Stopped;
        if let Some(r) = &self.running {
            r.cancel.store(true, Ordering::SeqCst);
            let grace = self.settings.runner.grace.min(SHUTDOWN_GRACE);
            let killer = std::thread::spawn(move || crate::runner::terminate_all(grace));
            let deadline = tokio::time::sleep(grace + Duration::from_millis(500));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    message = self.worker_rx.recv() => {
                        if matches!(message, Some(WorkerMessage::Done(..)) | None) {
                            break;
                        }
                    }
                    () = &mut deadline => break,
                    _ = term.recv() => { exit = Exit::Killed; break; }
                    _ = int.recv() => { exit = Exit::Killed; break; }
                }
            }
            if exit == Exit::Killed || !killer.is_finished() {
                crate::runner::terminate_all(Duration::ZERO);
            }
        }
        self.fire(Event::Shutdown, signal_name);
        self.running = None;
        self.save_state();
        self.write_status();
        exit
    }

    // ---- persistence ----

    fn save_state(&mut self) {
        if let Err(e) = persist::save(&self.layout, &self.persisted) {
            self.log_error("state_write", &e.to_string());
        }
    }

    fn status(&self) -> Status {
        let estimate = {
            let d = &self.persisted.durations;
            let mut totals: Vec<u64> = d.iter().map(|x| x.total_ms).collect();
            totals.sort_unstable();
            totals.get(totals.len() / 2).copied()
        };
        Status {
            pid: std::process::id(),
            state: self.state,
            state_since: self.state_since,
            heartbeat: Utc::now(),
            started_at: self.started_at,
            watcher: self.watcher_kind.to_string(),
            current: self.running.as_ref().map(|r| Current {
                commit: r.commit.clone(),
                commits: r.commits,
                uncommitted: r.plan.is_none(),
                stage_started: r.stage_started,
                estimate_ms: if self.state == State::Testing {
                    stage_estimate(&self.persisted.durations, |d| d.test_ms)
                } else {
                    estimate
                },
            }),
            last_verdict: self.last_verdict.clone(),
            waiting_since: self
                .persisted
                .waiting_since
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            queued: self.queued,
            last_checked: self.persisted.last_checked.clone(),
        }
    }

    fn write_status(&mut self) {
        let status = self.status();
        if let Err(e) = status.write(&self.layout) {
            tracing::warn!("{e}");
        }
        if self.view_is_live() {
            self.view.render(&status);
        }
    }

    fn log_error(&mut self, what: &str, message: &str) {
        self.events.append(
            "error",
            Level::Error,
            None,
            json!({ "what": what, "message": message }),
        );
        self.view.error(&format!("{what}: {message}"));
    }
}

fn stage_estimate(durations: &[Durations], pick: impl Fn(&Durations) -> u64) -> Option<u64> {
    let mut v: Vec<u64> = durations.iter().map(pick).filter(|x| *x > 0).collect();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// The MEDIUM issue raised when `[skip-audit]` is used more often in a row than allowed.
fn skip_limit_finding(commit: &CommitInfo, limit: u32) -> Finding {
    Finding {
        check: "daemon".into(),
        rule: "skip-audit-limit".into(),
        issue_type: IssueType::AuditSkipped,
        severity: Severity::Medium,
        file: None,
        line: None,
        column: None,
        title: format!("More than {limit} commits in a row asked to skip the audit"),
        description: format!(
            "Commit `{}` (\"{}\") carries `[skip-audit]` after {limit} skipped commits in a row, so it was audited anyway. Skipping audits hides problems from the supervisor.",
            short(&commit.hash),
            commit.summary
        ),
        remediation: "Use `[skip-audit]` only for commits that cannot be audited (generated files, vendored code); fix the problems the audit reports instead of skipping it.".into(),
        snippet: None,
        location: Location::Introduced,
        commit: Some(commit.hash.clone()),
        fingerprint: String::new(),
        redacted: None,
    }
}
