//! The daemon's loop: its state, start-up, the `select!` over watchers, timers, the audit
//! thread and signals, state-machine bookkeeping, shutdown, and what it persists.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use git2::Oid;
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::machine::{Action, Event, State, transition};
use super::plan::Plan;
use super::status::{Current, Status, Verdict};
use super::view::{self, View};
use super::worker::{Worker, WorkerMessage};
use crate::config::Settings;
use crate::eventlog::{EventLog, Level, Limits};
use crate::git::{Change, Repo, WorkChange, watch_git, watch_worktree};
use crate::store::Layout;
use crate::store::lock::PidLock;
use crate::store::state::{self as persist, DaemonState, Durations};

/// How long a shutdown waits for running checks before it kills them and exits.
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How often the live view is redrawn.
pub(super) const RENDER_EVERY: Duration = Duration::from_secs(1);

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
pub(super) struct Running {
    pub(super) id: u64,
    /// What it audits, and whether its commits are recorded as audited yet.
    pub(super) batch: Batch,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) started: Instant,
    pub(super) stage_started: DateTime<Utc>,
    pub(super) commit: String,
    pub(super) commits: usize,
    pub(super) static_ms: Option<u64>,
    pub(super) test_started: Option<Instant>,
    pub(super) test_ms: u64,
}

/// What a running audit covers.
pub(super) enum Batch {
    /// Uncommitted changes: nothing to record.
    Uncommitted,
    /// Commits whose report is not written yet: they are not audited.
    Unrecorded(Plan),
    /// Commits whose report was written: recorded as audited.
    Recorded(Plan),
}

impl Batch {
    /// The commits' plan, recorded or not.
    pub(super) fn plan(&self) -> Option<&Plan> {
        match self {
            Batch::Uncommitted => None,
            Batch::Unrecorded(p) | Batch::Recorded(p) => Some(p),
        }
    }
}

/// A working-tree state, to tell whether it was audited already.
pub(super) type TreeKey = Vec<(WorkChange, u64, i128)>;

pub(super) struct Daemon {
    pub(super) repo: Repo,
    pub(super) settings: Arc<Settings>,
    pub(super) layout: Layout,
    pub(super) _lock: PidLock,
    pub(super) reload: Reload,
    pub(super) state: State,
    pub(super) state_since: DateTime<Utc>,
    pub(super) started_at: DateTime<Utc>,
    pub(super) persisted: DaemonState,
    pub(super) events: EventLog,
    pub(super) view: View,
    pub(super) worker: Worker,
    pub(super) worker_rx: UnboundedReceiver<WorkerMessage>,
    pub(super) change_rx: UnboundedReceiver<Change>,
    /// Kept so the change channel never closes, even with no watcher (polling only).
    pub(super) _change_tx: UnboundedSender<Change>,
    pub(super) watchers: Vec<notify::RecommendedWatcher>,
    pub(super) watcher_kind: &'static str,
    pub(super) tree_watched: bool,
    /// The working-tree watch, when it could be set up.
    pub(super) tree_watch: Option<crate::git::TreeWatch>,
    /// Where a daemon with no state began (see `plan::plan`).
    pub(super) origin: Option<Oid>,
    /// Started with a terminal on stdout.
    pub(super) on_tty: bool,
    pub(super) running: Option<Running>,
    pub(super) next_job: u64,
    pub(super) batch_due: Option<Instant>,
    pub(super) batch_started: Option<Instant>,
    pub(super) queued: bool,
    pub(super) seen_head: Option<Oid>,
    pub(super) uncommitted_due: Option<Instant>,
    pub(super) pending_uncommitted: Option<(Vec<WorkChange>, TreeKey)>,
    pub(super) last_tree_key: Option<TreeKey>,
    /// Working-tree paths reported changed and not yet found clean again.
    pub(super) dirty: std::collections::BTreeSet<String>,
    /// The next look at the working tree lists everything (`git status`), not only `dirty`.
    pub(super) full_scan_due: bool,
    /// What the last full look found (polling waits for two that agree).
    pub(super) last_scan_key: Option<TreeKey>,
    pub(super) wait_deadline: Option<Instant>,
    /// When failed audits are tried again.
    pub(super) retry_due: Option<Instant>,
    pub(super) last_verdict: Option<Verdict>,
    pub(super) heartbeat_due: Instant,
    pub(super) poll_due: Instant,
    pub(super) render_due: Instant,
}

pub(super) fn short(hash: &str) -> &str {
    &hash[..hash.len().min(7)]
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn tree_key(repo: &Repo, changes: &[WorkChange]) -> TreeKey {
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
    pub(super) fn start(setup: Setup) -> Result<Daemon, DaemonError> {
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
        let mut tree_watch = None;
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
                    Ok(w) => tree_watch = Some(w),
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
        // Audits that failed before a restart are tried again at once.
        let retry_due = persisted.failure.as_ref().map(|_| now);
        let origin = match &persisted.last_checked {
            None => repo.head().ok().and_then(|h| repo.first_parent(h)),
            Some(_) => None,
        };
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
            watchers,
            watcher_kind,
            tree_watched: tree_watch.is_some(),
            tree_watch,
            on_tty: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            origin,
            running: None,
            next_job: 1,
            batch_due: None,
            batch_started: None,
            queued: false,
            seen_head: None,
            uncommitted_due: None,
            pending_uncommitted: None,
            last_tree_key: None,
            dirty: std::collections::BTreeSet::new(),
            // Edits made while the daemon was down are found by one full look.
            full_scan_due: true,
            last_scan_key: None,
            wait_deadline,
            retry_due,
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
                "watched_folders": daemon.tree_watch.as_ref().map(|t| t.folders),
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
        // Commits made while the daemon was down are found by this first look at HEAD, made
        // before the first status: IDLE before the daemon knows whether HEAD is audited would
        // be a false "clean".
        daemon.check_head("startup");
        daemon.write_status();
        // Setting up watches over a big tree leaves freed memory behind.
        release_free_memory();
        Ok(daemon)
    }

    pub(super) async fn run(&mut self) -> Exit {
        let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr1)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
            signal(SignalKind::user_defined1()),
        ) else {
            self.view.error("cannot install signal handlers");
            return Exit::Killed;
        };
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

    pub(super) fn next_deadline(&self) -> Instant {
        [
            Some(self.heartbeat_due),
            Some(self.poll_due),
            self.batch_due,
            self.uncommitted_due,
            self.retry_due,
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
    pub(super) fn terminal_closed(&self) -> bool {
        self.on_tty && nix::sys::termios::tcgetattr(std::io::stdout()).is_err()
    }

    pub(super) fn view_is_live(&self) -> bool {
        self.view.mode() == view::Mode::Live
    }

    // ---- state machine ----

    /// Applies an event: logs and shows the transition, updates status and the wait.
    pub(super) fn fire(&mut self, event: Event, reason: &str) -> Action {
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
            // The status first: whoever reads of the transition in the log finds the status
            // already saying so.
            self.on_enter(decision.next, from);
            self.write_status();
            self.events.append(
                "transition",
                Level::Info,
                commit.as_deref(),
                json!({ "from": from.as_str(), "to": decision.next.as_str(), "reason": reason }),
            );
            self.view
                .line(&format!("{from} → {} ({reason})", decision.next));
        }
        decision.action
    }

    pub(super) fn on_enter(&mut self, state: State, from: State) {
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

    pub(super) fn waiting(&self) -> bool {
        self.persisted.waiting_since.is_some()
    }
}

impl Daemon {
    // ---- control ----

    pub(super) fn reset(&mut self) {
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

    pub(super) fn reload_config(&mut self) {
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
    pub(super) async fn shutdown(
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
        self.watchers.clear();
        self.tree_watch = None;
        let mut exit = Exit::Stopped;
        if let Some(r) = &self.running {
            r.cancel.store(true, Ordering::SeqCst);
            // The checks' groups get TERM now and KILL after the grace, off this loop so that
            // a second signal is still heard.
            let grace = self.settings.runner.grace.min(SHUTDOWN_GRACE);
            let killer = std::thread::spawn(move || crate::runner::terminate_all(grace));
            let deadline = tokio::time::sleep(grace + Duration::from_millis(500));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    message = self.worker_rx.recv() => match message {
                        // Finished before the cancellation reached it: a real audit, recorded.
                        Some(WorkerMessage::Done(id, Ok(report))) if Some(id) == self.running.as_ref().map(|r| r.id) => {
                            if let Some(running) = self.running.take() {
                                self.audited(running, &report);
                            }
                            break;
                        }
                        Some(WorkerMessage::Done(..)) | None => break,
                        Some(WorkerMessage::Progress(..) | WorkerMessage::Escalated(_) | WorkerMessage::HooksRun(_)) => {}
                    },
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

    pub(super) fn save_state(&mut self) {
        if let Err(e) = persist::save(&self.layout, &self.persisted) {
            self.log_error("state_write", &e.to_string());
        }
    }

    pub(super) fn status(&self) -> Status {
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
                uncommitted: matches!(r.batch, Batch::Uncommitted),
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
            audit_failure: self.persisted.failure.clone(),
        }
    }

    pub(super) fn write_status(&mut self) {
        let status = self.status();
        if let Err(e) = status.write(&self.layout) {
            tracing::warn!("{e}");
        }
        if self.view_is_live() {
            self.view.render(&status);
        }
    }

    pub(super) fn log_error(&mut self, what: &str, message: &str) {
        self.events.append(
            "error",
            Level::Error,
            None,
            json!({ "what": what, "message": message }),
        );
        self.view.error(&format!("{what}: {message}"));
    }
}

/// Hands freed heap memory back to the kernel. The daemon idles for hours between bursts of
/// work (an audit, setting up watches over a big tree), and glibc would otherwise keep the
/// freed memory as part of its resident size.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    // SAFETY: malloc_trim has no preconditions; it only returns free pages to the kernel.
    #[expect(unsafe_code, reason = "a plain glibc call")]
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

pub(super) fn stage_estimate(
    durations: &[Durations],
    pick: impl Fn(&Durations) -> u64,
) -> Option<u64> {
    let mut v: Vec<u64> = durations.iter().map(pick).filter(|x| *x > 0).collect();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}
