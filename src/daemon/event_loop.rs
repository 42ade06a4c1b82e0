//! The daemon's loop: start-up, the `select!` over watchers, timers, the audit thread and
//! signals, each wakeup turned into one `core::Input`, and the core's actions carried out
//! (the only place that reads git, writes files, talks to the audit thread and the view).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use git2::Oid;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::core::{Action, Core, Head, HeadSource, Input, Knobs, Planned, ShellFacts, TreeKey};
use super::events::{Entry, LogEvent};
use super::fast_lane::{FastDone, FastLane, FastWork};
use super::machine::Now;
use super::open::OpenCache;
use super::plan;
use super::status::Status;
use super::view::{self, View};
use super::worker::{Job as WorkerJob, JobError, Work, Worker, WorkerMessage};
use crate::bytes::short;
use crate::config::Settings;
use crate::eventlog::{EventLog, Level, Limits};
use crate::git::{
    Change, Repo, WorkChange, changes_among, uncommitted_changes, watch_git, watch_worktree,
};
use crate::store::Layout;
use crate::store::lock::PidLock;
use crate::store::state as persist;

/// How long a shutdown waits for running checks before it kills them and exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How long a stopping daemon waits for the fast lane to publish the scan under way.
const FAST_LANE_GRACE: Duration = Duration::from_secs(2);

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

/// Both clocks, now.
pub(super) fn now() -> Now {
    Now {
        at: Instant::now(),
        wall: Utc::now(),
    }
}

/// What the loop holds: the core, and every handle it acts through.
pub(super) struct Daemon {
    pub(super) core: Core,
    pub(super) repo: Repo,
    pub(super) settings: Arc<Settings>,
    pub(super) layout: Layout,
    _lock: PidLock,
    reload: Reload,
    started_at: DateTime<Utc>,
    pub(super) events: EventLog,
    pub(super) view: View,
    worker: Worker,
    worker_rx: UnboundedReceiver<WorkerMessage>,
    fast_lane: FastLane,
    fast_rx: UnboundedReceiver<FastDone>,
    change_rx: UnboundedReceiver<Change>,
    /// Kept so the change channel never closes, even with no watcher (polling only).
    _change_tx: UnboundedSender<Change>,
    watchers: Vec<notify::RecommendedWatcher>,
    watcher_kind: &'static str,
    /// The working-tree watch, when it could be set up.
    tree_watch: Option<crate::git::TreeWatch>,
    /// Where a daemon with no state began (see `plan::plan`).
    pub(super) origin: Option<Oid>,
    /// Started with a terminal on stdout.
    on_tty: bool,
    /// The running job's cancellation flag.
    cancel: Option<(u64, Arc<AtomicBool>)>,
    /// What is open, for the live view.
    open: OpenCache,
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
        let mut events = EventLog::new(&layout.reports_dir, event_limits(&settings));
        let mut view = View::new(view, &repo.root);
        let (persisted, problems) = persist::load(&layout);
        for p in problems {
            view.error(&p);
            Entry::new(
                LogEvent::StateRecovered { message: p },
                Level::Warning,
                None,
            )
            .append_to(&mut events);
        }
        let (worker_tx, worker_rx) = unbounded_channel();
        let worker = Worker::spawn(repo.root.clone(), layout.clone(), worker_tx)?;
        let (change_tx, change_rx) = unbounded_channel();

        let watch = if poll_only {
            Watch {
                kind: "polling",
                ..Watch::default()
            }
        } else {
            Watch::start(
                &repo,
                &settings,
                &layout,
                &change_tx,
                &mut |message: String| {
                    view.error(&message);
                    Entry::new(LogEvent::WatchUnavailable { message }, Level::Warning, None)
                        .append_to(&mut events);
                },
            )
        };
        let on_tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let knobs = Knobs::of(
            &settings,
            watch.tree.is_some(),
            view.mode() == view::Mode::Live,
        );
        let origin = match &persisted.last_checked {
            None => repo.head().ok().and_then(|h| repo.first_parent(h)),
            Some(_) => None,
        };
        let scanned = persisted
            .last_checked
            .as_deref()
            .and_then(|c| Oid::from_str(c).ok())
            .or(origin);
        let (fast_tx, fast_rx) = unbounded_channel();
        let fast_lane = FastLane::spawn(repo.root.clone(), layout.clone(), scanned, fast_tx)?;
        // The verdict survives restarts through the previous status file.
        let last_verdict = Status::read(&layout).ok().and_then(|s| s.last_verdict);
        let core = Core::new(persisted, knobs, last_verdict, now());
        let mut daemon = Daemon {
            core,
            repo,
            settings: Arc::new(settings),
            layout,
            _lock: lock,
            reload,
            started_at: Utc::now(),
            events,
            view,
            worker,
            worker_rx,
            fast_lane,
            fast_rx,
            change_rx,
            _change_tx: change_tx,
            watchers: watch.git,
            watcher_kind: watch.kind,
            tree_watch: watch.tree,
            origin,
            on_tty,
            cancel: None,
            open: OpenCache::default(),
        };
        daemon.announce_start();
        // Commits made while the daemon was down are found by this first look at HEAD, made
        // before the first status: IDLE before the daemon knows whether HEAD is audited would
        // be a false "clean".
        let head = daemon.read_head();
        daemon.step(Input::Head(head, HeadSource::Startup));
        daemon.write_status();
        // Setting up watches over a big tree leaves freed memory behind.
        release_free_memory();
        Ok(daemon)
    }

    /// Logs and shows where the daemon starts from.
    fn announce_start(&mut self) {
        self.log(Entry::new(
            LogEvent::DaemonStarted {
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION"),
                watcher: self.watcher_kind,
                watched_folders: self.tree_watch.as_ref().map(|t| t.folders),
                state: self.core.state.name().as_str(),
                resumed_from: self.core.persisted.last_checked.clone(),
            },
            Level::Info,
            self.core.persisted.last_checked.as_deref(),
        ));
        self.view.line(&format!(
            "watching {} ({}), resuming from {}",
            self.repo.root.display(),
            self.watcher_kind,
            self.core
                .persisted
                .last_checked
                .as_deref()
                .map_or("the current HEAD", short)
        ));
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
        loop {
            let deadline = self.core.next_deadline();
            tokio::select! {
                Some(change) = self.change_rx.recv() => self.on_change(change),
                Some(message) = self.worker_rx.recv() => self.step(Input::Worker(message)),
                Some(done) = self.fast_rx.recv() => self.step(Input::FastLane(done)),
                _ = term.recv() => return self.shutdown("SIGTERM", &mut term, &mut int).await,
                _ = int.recv() => return self.shutdown("SIGINT", &mut term, &mut int).await,
                _ = hup.recv() => {
                    if self.terminal_closed() {
                        return self.shutdown("SIGHUP (its terminal closed)", &mut term, &mut int).await;
                    }
                    self.reload_config();
                }
                _ = usr1.recv() => self.step(Input::Reset),
                () = tokio::time::sleep_until(deadline.into()) => self.step(Input::Tick),
            }
        }
    }

    fn on_change(&mut self, change: Change) {
        match change {
            Change::Git => {
                let head = self.read_head();
                self.step(Input::Head(head, HeadSource::Inotify));
            }
            Change::WorkTree(paths) => {
                let watch_error = self
                    .tree_watch
                    .as_mut()
                    .and_then(|tree| tree.add_new_folders(&self.repo, &paths).err())
                    .map(|e| e.to_string());
                self.step(Input::TreeChanged { paths, watch_error });
            }
        }
    }

    /// Feeds one input to the core and carries out what it decides; an action that reads
    /// (HEAD, the plan, the working tree) answers with the next input, at once.
    pub(super) fn step(&mut self, input: Input) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            let actions = self.core.step(input, now());
            for action in actions {
                if let Some(next) = self.act(action) {
                    inputs.push_back(next);
                }
            }
        }
    }

    fn act(&mut self, action: Action) -> Option<Input> {
        match action {
            Action::ReadHead(source) => return Some(Input::Head(self.read_head(), source)),
            Action::SettleUncommitted => {
                match crate::inbox::uncommitted::settle(&self.layout, &self.repo) {
                    Ok(ids) if !ids.is_empty() => {
                        self.view
                            .line(&format!("uncommitted issues gone: {}", ids.join(", ")));
                        self.log(Entry::new(
                            LogEvent::UncommittedSettled { issues: ids },
                            Level::Info,
                            None,
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => self.log_error("uncommitted_settle", &e.to_string()),
                }
            }
            Action::FastLane(head) => {
                let work = FastWork {
                    head,
                    settings: self.settings.clone(),
                };
                if !self.fast_lane.send(work) {
                    self.log_error("fast_lane", "the fast-lane thread is gone");
                }
            }
            Action::PlanBatch => return Some(Input::Planned(self.plan())),
            Action::LookAtTree { full, paths } => {
                return Some(Input::TreeLooked(self.look_at_tree(full, &paths)));
            }
            Action::AnnouncePlan(plan) => self.announce(&plan),
            Action::StartCommits { id, plan } => return self.start_commits(id, &plan),
            Action::StartUncommitted { id, head, changes } => {
                return self.start_uncommitted(id, head, changes);
            }
            Action::Cancel(id) => {
                if let Some((_, flag)) = self.cancel.as_ref().filter(|(job, _)| *job == id) {
                    flag.store(true, Ordering::SeqCst);
                }
                let grace = self.settings.runner.grace;
                // Off the loop: the grace period must not stall heartbeats and detection.
                std::thread::spawn(move || crate::runner::terminate_all(grace));
            }
            Action::Escalate => {
                if !self.worker.send(Work::Escalate(self.settings.clone())) {
                    self.log_error("escalation", "the audit thread is gone");
                }
            }
            Action::RunHooks(due) => {
                if !self.worker.send(Work::Hooks(self.settings.clone(), due)) {
                    self.log_error("hooks", "the audit thread is gone");
                }
            }
            Action::RaiseAuditFailed { failure, commit } => {
                self.raise_audit_failed(&failure, &commit);
            }
            Action::SaveState => self.save_state(),
            Action::WriteStatus => self.write_status(),
            Action::Render => {
                let status = self.status();
                self.view.render(&status, self.open.get(&self.layout));
            }
            Action::Log(entry) => self.log(entry),
            Action::Show(line) => self.view.line(&line),
            Action::ShowError(line) => self.view.error(&line),
            Action::ReleaseMemory => release_free_memory(),
            // The shutdown that fed `Input::Shutdown` returns once this step is carried out.
            Action::Stop => {}
        }
        None
    }

    fn read_head(&self) -> Option<Head> {
        let oid = self.repo.head().ok()?;
        Some(Head {
            oid,
            summary: self.repo.summary(oid),
        })
    }

    /// The due batch: the commits since the last checked one, or the working tree's turn.
    fn plan(&self) -> Planned {
        let head = self.repo.head().ok();
        match head.filter(|h| plan::needs_audit(&self.core.persisted, *h)) {
            Some(head) => match plan::plan(
                &self.repo,
                &self.core.persisted,
                head,
                self.settings.watch.max_consecutive_skips,
                self.origin,
            ) {
                Ok(plan) => Planned::Commits(plan),
                Err(e) => Planned::Failed(e.to_string()),
            },
            None => Planned::NoNewCommits(head),
        }
    }

    /// The uncommitted changes: from `git status` (`full`), or among `paths` only.
    fn look_at_tree(
        &self,
        full: bool,
        paths: &std::collections::BTreeSet<String>,
    ) -> Result<(Vec<WorkChange>, TreeKey), String> {
        let changes = if full {
            uncommitted_changes(&self.repo).map_err(|e| e.to_string())?
        } else {
            match self.repo.head() {
                Ok(head) => changes_among(&self.repo, head, paths),
                Err(_) => Vec::new(),
            }
        };
        let key = tree_key(&self.repo, &changes);
        Ok((changes, key))
    }

    /// Queues an audit on the thread; a thread that is gone fails the job.
    pub(super) fn send_job(&mut self, job: WorkerJob) -> Option<Input> {
        let id = job.id;
        self.cancel = job.options.cancel.clone().map(|c| (id, c));
        if self.worker.send(Work::Audit(job)) {
            return None;
        }
        Some(Input::Worker(WorkerMessage::Done(
            id,
            Err(JobError::Failed("the audit thread is gone".into())),
        )))
    }

    /// A SIGHUP is a reload request, unless the terminal the daemon runs in went away (its
    /// tmux pane or ssh session closed): then it is the end.
    fn terminal_closed(&self) -> bool {
        self.on_tty && nix::sys::termios::tcgetattr(std::io::stdout()).is_err()
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
                self.core.knobs = Knobs::of(
                    &new,
                    self.core.knobs.tree_watched,
                    self.core.knobs.live_view,
                );
                self.settings = Arc::new(new);
                self.log(Entry::new(LogEvent::ConfigReloaded {}, Level::Info, None));
                self.view.line("configuration reloaded");
            }
            Err(message) => self.log_error(
                "config_reload",
                &format!("{message}; keeping the previous configuration"),
            ),
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
        self.log(Entry::new(
            LogEvent::Shutdown {
                signal: signal_name.to_string(),
            },
            Level::Info,
            None,
        ));
        self.view.line(&format!("{signal_name}: stopping"));
        self.watchers.clear();
        self.tree_watch = None;
        let mut exit = Exit::Stopped;
        if let Some(running) = self.core.running_job().map(|j| j.id) {
            if let Some((_, flag)) = &self.cancel {
                flag.store(true, Ordering::SeqCst);
            }
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
                        Some(WorkerMessage::Done(id, result)) if id == running => {
                            if result.is_ok() {
                                self.step(Input::Worker(WorkerMessage::Done(id, result)));
                            }
                            break;
                        }
                        Some(WorkerMessage::Done(..)) | None => break,
                        Some(_) => {}
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
        self.fast_lane.finish(FAST_LANE_GRACE);
        self.step(Input::Shutdown(signal_name.to_string()));
        exit
    }

    // ---- what it writes ----

    fn save_state(&mut self) {
        if let Err(e) = persist::save(&self.layout, &self.core.persisted) {
            self.log_error("state_write", &e.to_string());
        }
    }

    fn status(&self) -> Status {
        let shell = ShellFacts {
            pid: std::process::id(),
            started_at: self.started_at,
            watcher: self.watcher_kind,
        };
        self.core.status(&shell, Utc::now())
    }

    fn write_status(&mut self) {
        let status = self.status();
        if let Err(e) = status.write(&self.layout) {
            tracing::warn!("{e}");
        }
        if self.view.mode() == view::Mode::Live {
            self.view.render(&status, self.open.get(&self.layout));
        }
    }

    pub(super) fn log(&mut self, entry: Entry) {
        entry.append_to(&mut self.events);
    }

    pub(super) fn log_error(&mut self, what: &'static str, message: &str) {
        self.view.error(&format!("{what}: {message}"));
        self.log(Entry::new(
            LogEvent::Error {
                what,
                message: message.to_string(),
            },
            Level::Error,
            None,
        ));
    }
}

/// The watchers: notify on the git directory, and on the working tree when uncommitted
/// changes are audited. What cannot be watched is polled instead, and said so.
#[derive(Default)]
struct Watch {
    git: Vec<notify::RecommendedWatcher>,
    kind: &'static str,
    tree: Option<crate::git::TreeWatch>,
}

impl Watch {
    fn start(
        repo: &Repo,
        settings: &Settings,
        layout: &Layout,
        changes: &UnboundedSender<Change>,
        unavailable: &mut dyn FnMut(String),
    ) -> Watch {
        let mut watch = Watch {
            kind: "polling",
            ..Watch::default()
        };
        match watch_git(repo, changes.clone()) {
            Ok(w) => {
                watch.git.push(w);
                watch.kind = "inotify";
            }
            Err(e) => unavailable(format!(
                "{e}; polling every {:?} instead",
                settings.watch.poll_interval
            )),
        }
        if settings.watch.uncommitted_quiet.is_some() {
            let own = vec![
                layout.reports_dir.clone(),
                layout.inbox_dir.clone(),
                layout.state_dir.clone(),
            ];
            match watch_worktree(repo, own, changes.clone()) {
                Ok(w) => watch.tree = Some(w),
                Err(e) => unavailable(format!("{e}; uncommitted changes are polled instead")),
            }
        }
        watch
    }
}

/// A working-tree state, to tell whether it was audited already.
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
