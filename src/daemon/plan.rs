//! What the next audit covers when HEAD has moved: the commits since the last checked one (or
//! since the merge base after a history rewrite), minus those already audited, with
//! `[skip-audit]` honoured up to its limit.

use git2::{Oid, Sort};

use crate::git::{GitError, Repo};
use crate::store::state::DaemonState;

/// The marker that asks the auditor to skip a commit.
pub const SKIP_MARKER: &str = "[skip-audit]";

/// HEAD no longer descends from the last checked commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The last checked commit.
    pub previous: String,
    /// Where the old and new histories meet, when they do.
    pub merge_base: Option<Oid>,
}

/// The next batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The commit HEAD points at; the report is written for it.
    pub head: Oid,
    /// What changes are measured against.
    pub base: Option<Oid>,
    /// Commits to audit, oldest first.
    pub to_audit: Vec<Oid>,
    /// Commits left out by `[skip-audit]`.
    pub skipped: Vec<Oid>,
    /// A `[skip-audit]` commit audited anyway because too many came in a row.
    pub forced: Option<Oid>,
    /// `[skip-audit]` commits in a row after this batch.
    pub consecutive_skips: u32,
    /// Set when the batch follows a history rewrite.
    pub rewrite: Option<Rewrite>,
}

/// Whether HEAD at `head` needs a new batch (it is neither the last checked commit nor one
/// audited before).
pub fn needs_audit(state: &DaemonState, head: Oid) -> bool {
    let hex = head.to_string();
    state.last_checked.as_deref() != Some(hex.as_str()) && !state.was_audited(&hex)
}

fn walk(repo: &Repo, to: Oid, hide: Option<Oid>) -> Result<Vec<Oid>, GitError> {
    let ctx = |source| GitError::Git {
        context: format!("walk the history of {to}"),
        source,
    };
    let mut w = repo.git.revwalk().map_err(ctx)?;
    w.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(ctx)?;
    w.push(to).map_err(ctx)?;
    if let Some(h) = hide {
        w.hide(h).map_err(ctx)?;
    }
    w.collect::<Result<Vec<Oid>, _>>().map_err(ctx)
}

fn is_skip(repo: &Repo, oid: Oid) -> bool {
    repo.git
        .find_commit(oid)
        .ok()
        .and_then(|c| {
            c.message_bytes()
                .windows(SKIP_MARKER.len())
                .position(|w| w == SKIP_MARKER.as_bytes())
        })
        .is_some()
}

/// Plans the batch that brings the daemon from its state to `head`.
pub fn plan(repo: &Repo, state: &DaemonState, head: Oid, max_skips: u32) -> Result<Plan, GitError> {
    let last = state
        .last_checked
        .as_deref()
        .and_then(|h| Oid::from_str(h).ok())
        // A commit garbage-collected after a rewrite is as good as unknown.
        .filter(|oid| repo.git.find_commit(*oid).is_ok());
    let (candidates, base, rewrite) = match last {
        None => (
            vec![head],
            repo.first_parent(head),
            state.last_checked.clone().map(|p| Rewrite {
                previous: p,
                merge_base: None,
            }),
        ),
        Some(last) if repo.git.graph_descendant_of(head, last).unwrap_or(false) => {
            (walk(repo, head, Some(last))?, Some(last), None)
        }
        Some(last) => {
            let merge_base = repo.git.merge_base(head, last).ok();
            let rewrite = Some(Rewrite {
                previous: last.to_string(),
                merge_base,
            });
            match merge_base {
                Some(mb) => (walk(repo, head, Some(mb))?, Some(mb), rewrite),
                // Unrelated histories (an orphan branch): the new HEAD alone.
                None => (vec![head], repo.first_parent(head), rewrite),
            }
        }
    };
    let mut plan = Plan {
        head,
        base,
        to_audit: Vec::new(),
        skipped: Vec::new(),
        forced: None,
        consecutive_skips: state.consecutive_skips,
        rewrite,
    };
    for oid in candidates {
        if state.was_audited(&oid.to_string()) {
            continue;
        }
        if is_skip(repo, oid) {
            plan.consecutive_skips += 1;
            if plan.consecutive_skips > max_skips {
                plan.forced = Some(oid);
                plan.consecutive_skips = 0;
                plan.to_audit.push(oid);
            } else {
                plan.skipped.push(oid);
            }
        } else {
            plan.consecutive_skips = 0;
            plan.to_audit.push(oid);
        }
    }
    Ok(plan)
}
