//! The fast lane: the built-in scanners (secrets, guards) on every new commit the moment HEAD
//! moves, on a thread of their own beside whatever the audit thread is running, so that a
//! leaked key reaches the inbox, `BLOCKING` and the gate in milliseconds rather than after the
//! previous batch's test suite. Linters and tests follow in the batch's full audit, whose
//! report includes everything; the ledger keeps the fast lane's issues apart until then (see
//! `ledger::apply_fast`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use git2::Oid;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Settings;
use crate::engine::{self, AuditOptions, ProgressSink};
use crate::finding::Severity;
use crate::git::{AuditTarget, Repo};
use crate::hooks::HookRun;
use crate::store::Layout;

/// A HEAD to scan up to.
pub struct FastWork {
    /// The commit HEAD points at.
    pub head: Oid,
    /// The settings in force.
    pub settings: Arc<Settings>,
}

/// What the fast lane did with one HEAD.
#[derive(Debug)]
pub struct FastDone {
    /// The HEAD scanned up to.
    pub head: Oid,
    /// The commits scanned.
    pub commits: usize,
    /// The CRITICAL and HIGH issues found, most severe first; or why the scan failed.
    pub result: Result<Vec<Found>, String>,
    /// The hooks those issues made due, as they ran.
    pub hooks: Vec<HookRun>,
    /// Issues of uncommitted changes that the commits took over (or that were reverted).
    pub settled: Vec<String>,
    /// From the work being taken to the issues published.
    pub took_ms: u64,
}

/// One CRITICAL or HIGH issue the fast lane found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its ledger ID.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// Not found by an earlier scan of this daemon's (what the view shows).
    pub first: bool,
}

/// The handle the daemon keeps.
pub struct FastLane {
    work: Option<Sender<FastWork>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FastLane {
    /// Starts the thread. `since` is the last commit already scanned or audited: the first
    /// scan covers what came after it.
    pub fn spawn(
        root: PathBuf,
        layout: Layout,
        since: Option<Oid>,
        out: UnboundedSender<FastDone>,
    ) -> std::io::Result<FastLane> {
        let (work, rx) = channel::<FastWork>();
        let thread = std::thread::Builder::new()
            .name("fast-lane".into())
            .spawn(move || run(&root, &layout, since, &rx, &out))?;
        Ok(FastLane {
            work: Some(work),
            thread: Some(thread),
        })
    }

    /// Queues a HEAD; false when the thread is gone.
    pub fn send(&self, work: FastWork) -> bool {
        self.work.as_ref().is_some_and(|w| w.send(work).is_ok())
    }

    /// Takes no more work and waits, up to `bound`, for the scan under way to be published
    /// (a daemon stopping must not cut a ledger update in half).
    pub fn finish(&mut self, bound: std::time::Duration) {
        self.work = None;
        let started = Instant::now();
        while self.thread.as_ref().is_some_and(|t| !t.is_finished()) && started.elapsed() < bound {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if let Some(thread) = self.thread.take_if(|t| t.is_finished()) {
            let _ = thread.join();
        }
    }
}

fn run(
    root: &std::path::Path,
    layout: &Layout,
    mut since: Option<Oid>,
    rx: &Receiver<FastWork>,
    out: &UnboundedSender<FastDone>,
) {
    let mut shown = std::collections::HashSet::new();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("fast lane: cannot start a runtime");
        return;
    };
    while let Ok(mut work) = rx.recv() {
        // Only the latest HEAD matters: the range from the last scanned one covers the rest.
        while let Ok(later) = rx.try_recv() {
            work = later;
        }
        if since == Some(work.head) {
            continue;
        }
        let started = Instant::now();
        let scanned = runtime.block_on(scan(root, layout, since, &work));
        let (commits, result, hooks, settled) = match scanned {
            Ok(mut s) => {
                since = Some(work.head);
                for found in &mut s.issues {
                    found.first = shown.insert(found.id.clone());
                }
                (s.commits, Ok(s.issues), s.hooks, s.settled)
            }
            Err(message) => (0, Err(message), Vec::new(), Vec::new()),
        };
        let done = FastDone {
            head: work.head,
            commits,
            result,
            hooks,
            settled,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if out.send(done).is_err() {
            return;
        }
    }
}

/// What one scan did.
struct Scanned {
    commits: usize,
    issues: Vec<Found>,
    hooks: Vec<HookRun>,
    settled: Vec<String>,
}

/// Scans the commits after `since` up to the work's HEAD, publishes what is found, runs the
/// hooks it made due.
async fn scan(
    root: &std::path::Path,
    layout: &Layout,
    since: Option<Oid>,
    work: &FastWork,
) -> Result<Scanned, String> {
    // A fresh handle: the objects of the commit just made are seen.
    let repo = Repo::open(root).map_err(|e| e.to_string())?;
    let target = range(&repo, since, work.head).map_err(|e| e.to_string())?;
    // The working tree's issues whose change HEAD now holds are the commits' (published
    // first, so that the ledger has them).
    let settle = || crate::inbox::uncommitted::settle(layout, &repo).map_err(|e| e.to_string());
    if target.commits.is_empty() {
        // HEAD went back to a commit it had passed: nothing new.
        return Ok(Scanned {
            commits: 0,
            issues: Vec::new(),
            hooks: Vec::new(),
            settled: settle()?,
        });
    }
    let options = AuditOptions {
        write: true,
        fast_lane: true,
        ..AuditOptions::default()
    };
    let quiet: ProgressSink = Arc::new(|_| {});
    let report = engine::audit(&repo, &work.settings, layout, &target, &options, &quiet)
        .await
        .map_err(|e| e.to_string())?;
    let settled = settle()?;
    let issues = report
        .issues
        .iter()
        .map(|i| Found {
            id: i.id.clone(),
            severity: i.finding.severity,
            title: i.finding.title.clone(),
            first: false,
        })
        .collect();
    let hooks = crate::hooks::run_hooks(
        report.due_hooks,
        root,
        &work.settings.hooks,
        &work.settings.runner,
    )
    .await;
    Ok(Scanned {
        commits: target.commits.len(),
        issues,
        hooks,
        settled,
    })
}

/// The commits to scan: those after `since` up to `head`; after a rewrite, those since
/// where the histories meet; with nothing scanned yet, `head` alone.
fn range(repo: &Repo, since: Option<Oid>, head: Oid) -> Result<AuditTarget, crate::git::GitError> {
    let base = match since.filter(|s| repo.git.find_commit(*s).is_ok()) {
        Some(s) if repo.git.graph_descendant_of(head, s).unwrap_or(false) => Some(s),
        Some(s) => repo.git.merge_base(head, s).ok(),
        None => None,
    };
    let (commits, base) = match base {
        Some(b) => (super::plan::walk(repo, head, Some(b))?, Some(b)),
        None => (vec![head], repo.first_parent(head)),
    };
    let spec = match base {
        Some(b) => format!("{b}..{head}"),
        None => head.to_string(),
    };
    Ok(AuditTarget {
        commits,
        target: head,
        base,
        spec,
        range: false,
    })
}
