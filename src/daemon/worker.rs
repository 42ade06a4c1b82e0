//! The audit thread: runs one audit at a time with the engine, on its own repository handle
//! and runtime, and reports progress back to the daemon's loop; the hooks audits made due and
//! the escalations of a timed-out wait run there too, after the audit they follow.
//!
//! One long-lived thread, because a check's parent-death signal fires when the *thread* that
//! spawned it ends: a thread per audit would kill the checks of the next.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use git2::Oid;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Settings;
use crate::engine::{self, AuditOptions, EngineError, Progress, ProgressSink};
use crate::git::{AuditTarget, Repo, WorkChange, commit_worktree, read_snapshot_objects};
use crate::report::AuditReport;
use crate::store::Layout;

/// What to audit.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// A batch of commits.
    Commits(AuditTarget),
    /// The working tree's changes on top of `head`.
    Uncommitted {
        /// HEAD when the changes were seen.
        head: Oid,
        /// The changed paths.
        changes: Vec<WorkChange>,
    },
}

/// One audit for the thread.
pub struct Job {
    /// Matches progress to the job (a cancelled job's late messages are dropped).
    pub id: u64,
    /// What to audit.
    pub kind: JobKind,
    /// The settings in force when it was queued.
    pub settings: Arc<Settings>,
    /// Engine options (tests, cancellation, skipped commits, extra findings).
    pub options: AuditOptions,
}

/// Work for the audit thread, in the order it was sent.
pub enum Work {
    /// An audit.
    Audit(Job),
    /// Hooks an audit made due, once the daemon recorded that audit.
    Hooks(Arc<Settings>, Vec<crate::hooks::DueHook>),
    /// Escalate every open blocking issue (a wait for a fix timed out) and run `on_escalate`.
    Escalate(Arc<Settings>),
}

/// What the thread reports.
#[derive(Debug)]
pub enum WorkerMessage {
    /// The audit made progress.
    Progress(u64, Progress),
    /// The audit ended.
    Done(u64, Result<Box<AuditReport>, JobError>),
    /// Hooks ran.
    HooksRun(Vec<crate::hooks::HookRun>),
    /// Blocking issues escalated after a wait timed out: their IDs and the hooks run.
    Escalated(Result<(Vec<String>, Vec<crate::hooks::HookRun>), String>),
}

/// Why a job produced no report.
#[derive(Debug)]
pub enum JobError {
    /// It was cancelled (preempted or shut down).
    Cancelled,
    /// It failed; the message says why.
    Failed(String),
}

/// The handle the daemon keeps.
pub struct Worker {
    jobs: Sender<Work>,
}

impl Worker {
    /// Starts the thread.
    pub fn spawn(
        root: PathBuf,
        layout: Layout,
        out: UnboundedSender<WorkerMessage>,
    ) -> std::io::Result<Worker> {
        let (jobs, rx) = channel::<Work>();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || work(&root, &layout, &rx, &out))?;
        Ok(Worker { jobs })
    }

    /// Queues work; false when the thread is gone.
    pub fn send(&self, work: Work) -> bool {
        self.jobs.send(work).is_ok()
    }
}

fn work(
    root: &std::path::Path,
    layout: &Layout,
    jobs: &Receiver<Work>,
    out: &UnboundedSender<WorkerMessage>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("audit thread: cannot start a runtime: {e}");
            return;
        }
    };
    while let Ok(work) = jobs.recv() {
        let message = match work {
            Work::Audit(job) => {
                let id = job.id;
                let sink_out = out.clone();
                let progress: ProgressSink =
                    Arc::new(move |p| drop(sink_out.send(WorkerMessage::Progress(id, p))));
                let result = runtime.block_on(run_job(root, layout, job, &progress));
                WorkerMessage::Done(id, result)
            }
            Work::Hooks(settings, due) => WorkerMessage::HooksRun(runtime.block_on(
                crate::hooks::run_hooks(due, root, &settings.hooks, &settings.runner),
            )),
            Work::Escalate(settings) => {
                WorkerMessage::Escalated(runtime.block_on(escalate(root, layout, &settings)))
            }
        };
        if out.send(message).is_err() {
            return;
        }
    }
}

/// Escalates every open blocking issue once, saves the ledger, then runs `on_escalate`.
async fn escalate(
    root: &std::path::Path,
    layout: &Layout,
    settings: &Settings,
) -> Result<(Vec<String>, Vec<crate::hooks::HookRun>), String> {
    let (ids, due) = {
        let mut locked = crate::ledger::lock(layout).map_err(|e| e.to_string())?;
        let ids = crate::ledger::escalate_blocking(&mut locked.ledger);
        let synced =
            crate::inbox::update_escalated(layout, &mut locked.ledger, &ids, &settings.hooks)
                .map_err(|e| e.to_string())?;
        locked.save().map_err(|e| e.to_string())?;
        (ids, synced.due)
    };
    let runs = crate::hooks::run_hooks(due, root, &settings.hooks, &settings.runner).await;
    Ok((ids, runs))
}

async fn run_job(
    root: &std::path::Path,
    layout: &Layout,
    job: Job,
    progress: &ProgressSink,
) -> Result<Box<AuditReport>, JobError> {
    let failed = |e: &dyn std::fmt::Display| JobError::Failed(e.to_string());
    // A fresh handle per job: refs and packs written since the last job are seen.
    let repo = Repo::open(root).map_err(|e| failed(&e))?;
    let target = match job.kind {
        JobKind::Commits(target) => target,
        JobKind::Uncommitted { head, changes } => {
            let snapshot = layout.snapshot_dir();
            let commit =
                commit_worktree(&repo, &snapshot, head, &changes).map_err(|e| failed(&e))?;
            read_snapshot_objects(&repo, &snapshot).map_err(|e| failed(&e))?;
            AuditTarget {
                commits: vec![commit],
                target: commit,
                base: Some(head),
                spec: "uncommitted".into(),
                range: false,
            }
        }
    };
    match engine::audit(
        &repo,
        &job.settings,
        layout,
        &target,
        &job.options,
        progress,
    )
    .await
    {
        Ok(report) => Ok(Box::new(report)),
        Err(EngineError::Cancelled) => Err(JobError::Cancelled),
        Err(e) => Err(failed(&e)),
    }
}
