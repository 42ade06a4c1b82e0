//! Preparing where checks run: the locked snapshot of the audited commit (or the live tree),
//! plus the configured setup command when its trigger files changed, when it is new or
//! changed in the settings, or when it last failed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};

use super::EngineError;
use crate::checks::{CheckEnv, CheckRun, run_check};
use crate::config::{CheckSpec, Scope, Settings, Stage, WorkspaceMode};
use crate::git::{AuditTarget, ChangedFile, Repo, Snapshot, TreeDrift};
use crate::parsers::Format;
use crate::store::Layout;

/// A workspace ready for checks; the snapshot stays locked while this lives.
pub struct Workspace {
    /// Where checks run.
    pub path: PathBuf,
    /// The setup command's run, when it ran.
    pub setup_run: Option<CheckRun>,
    /// The verified snapshot (none in live mode, where the checks run in the agent's tree).
    pub snapshot: Option<Snapshot>,
    _lock: Option<Flock<File>>,
}

impl Workspace {
    /// Puts back every tracked file a check changed; what was changed (none in live mode).
    pub fn verify(&mut self) -> Result<Vec<TreeDrift>, EngineError> {
        match &mut self.snapshot {
            Some(s) => s.verify().map_err(EngineError::from),
            None => Ok(Vec::new()),
        }
    }
}

fn ws_err(path: &std::path::Path, message: impl ToString) -> EngineError {
    EngineError::Workspace {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Locks, syncs and (when needed) sets up the workspace.
pub async fn prepare(
    repo: &Repo,
    settings: &Settings,
    layout: &Layout,
    target: &AuditTarget,
    changes: &[ChangedFile],
) -> Result<Workspace, EngineError> {
    if settings.workspace.mode == WorkspaceMode::Live {
        return Ok(Workspace {
            path: repo.root.clone(),
            setup_run: None,
            snapshot: None,
            _lock: None,
        });
    }
    let dir = layout.snapshot_dir();
    std::fs::create_dir_all(&layout.state_dir).map_err(|e| ws_err(&layout.state_dir, e))?;
    let lock_path = layout.state_dir.join("workspace.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| ws_err(&lock_path, e))?;
    // One audit at a time per snapshot: a one-shot audit waits for the daemon's to finish.
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| ws_err(&lock_path, errno))?;
    let mut snapshot = Snapshot::sync(repo, &dir, target.target)?;

    let setup = &settings.workspace.setup;
    // The setup that last succeeded in this snapshot: a setup added or changed in the
    // settings runs on the next audit, a failed one again on every audit until it succeeds.
    let stamp_path = layout.state_dir.join("workspace-setup.stamp");
    let wanted = crate::bytes::short_digest(setup.iter().map(String::as_str));
    let stamped =
        std::fs::read_to_string(&stamp_path).is_ok_and(|s| s.trim() == wanted && !setup.is_empty());
    let triggered = snapshot.previous.is_none()
        || !stamped
        || changes
            .iter()
            .any(|c| settings.workspace.setup_when_changed.is_match(&c.path));
    let setup_run = if !setup.is_empty() && triggered {
        let spec = CheckSpec {
            name: "workspace-setup".into(),
            stage: Stage::Audit,
            command: setup.clone(),
            file_globs: Vec::new(),
            files: globset::GlobSet::empty(),
            shebang: Vec::new(),
            format: Format::ExitCode,
            timeout: settings.workspace.setup_timeout,
            severity: BTreeMap::from([("error".to_string(), crate::finding::Severity::High)]),
            scope: Scope::Changed,
            junit: None,
        };
        let env = CheckEnv {
            workspace: dir.clone(),
            commit: target.target.to_string(),
            changed_files: changes.iter().map(|c| c.exact.clone()).collect(),
            repo_root: repo.root.clone(),
        };
        let mut run = run_check(&spec, &[], &env, &settings.runner).await;
        // Setup builds and installs; it does not get to change the audited files either.
        let drift = snapshot.verify()?;
        if !drift.is_empty() {
            run.findings
                .push(super::stages::modified_tree("workspace-setup", &drift));
        }
        let stamped = if run.outcome == crate::checks::CheckOutcome::Passed {
            crate::store::write_atomic(&stamp_path, format!("{wanted}\n").as_bytes())
                .map_err(|e| ws_err(&stamp_path, e))
        } else {
            std::fs::remove_file(&stamp_path)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
                .map_err(|e| ws_err(&stamp_path, e))
        };
        stamped?;
        Some(run)
    } else {
        None
    };
    Ok(Workspace {
        path: dir,
        setup_run,
        snapshot: Some(snapshot),
        _lock: Some(lock),
    })
}
