//! What the next audit covers when HEAD has moved: the commits since the last checked one (or
//! since the merge base after a history rewrite), minus those already audited, with
//! `[skip-audit]` honoured up to its limit.

use git2::{Oid, Sort};

use crate::git::{GitError, Repo};
use crate::store::state::DaemonState;

/// The marker that asks the auditor to skip a commit's linters and tests. The secret scanner
/// and the guards read every commit, skipped or not: a skip must not hide a leaked key.
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
    /// Commits whose linters and tests `[skip-audit]` skips (the built-in scanners still
    /// read them).
    pub skipped: Vec<Oid>,
    /// Every commit of the batch, audited or skipped, oldest first: what the built-in
    /// scanners read.
    pub commits: Vec<Oid>,
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

/// The commits reachable from `to` and not from `hide`, oldest first.
pub(super) fn walk(repo: &Repo, to: Oid, hide: Option<Oid>) -> Result<Vec<Oid>, GitError> {
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
///
/// `origin` is where a daemon with no state began: the parent of the HEAD it first saw (`None`
/// for a root commit or an empty repository). A first run audits from there, not the whole
/// history; a first audit that was preempted is planned again from there, so it loses nothing.
pub fn plan(
    repo: &Repo,
    state: &DaemonState,
    head: Oid,
    max_skips: u32,
    origin: Option<Oid>,
) -> Result<Plan, GitError> {
    let last = state
        .last_checked
        .as_deref()
        .and_then(|h| Oid::from_str(h).ok())
        // A commit garbage-collected after a rewrite is as good as unknown.
        .filter(|oid| repo.git.find_commit(*oid).is_ok());
    let (candidates, base, rewrite) = match last {
        None if state.last_checked.is_none() => match origin {
            Some(o) if repo.git.graph_descendant_of(head, o).unwrap_or(false) => {
                (walk(repo, head, Some(o))?, Some(o), None)
            }
            Some(_) => (vec![head], repo.first_parent(head), None),
            None => (walk(repo, head, None)?, None, None),
        },
        // The last checked commit is gone (garbage-collected after a rewrite).
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
        commits: Vec::new(),
        forced: None,
        consecutive_skips: state.consecutive_skips,
        rewrite,
    };
    for oid in candidates {
        if state.was_audited(&oid.to_string()) {
            continue;
        }
        plan.commits.push(oid);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with commits made through libgit2 (one file rewritten each time).
    struct Fixture {
        dir: tempfile::TempDir,
        git: git2::Repository,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().expect("tempdir");
            let git = git2::Repository::init(dir.path()).expect("init");
            Fixture { dir, git }
        }

        fn commit(&self, parent: Option<Oid>, message: &str) -> Oid {
            let blob = self.git.blob(message.as_bytes()).expect("blob");
            let mut tb = self.git.treebuilder(None).expect("treebuilder");
            tb.insert("file.txt", blob, 0o100_644).expect("insert");
            let tree = self
                .git
                .find_tree(tb.write().expect("tree"))
                .expect("find tree");
            let sig = git2::Signature::now("t", "t@example.invalid").expect("sig");
            let parents: Vec<git2::Commit<'_>> = parent
                .map(|p| self.git.find_commit(p).expect("parent"))
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            self.git
                .commit(None, &sig, &sig, message, &tree, &refs)
                .expect("commit")
        }

        fn repo(&self) -> Repo {
            Repo::open(self.dir.path()).expect("open")
        }
    }

    fn state(last: Oid, audited: &[Oid]) -> DaemonState {
        let mut s = DaemonState {
            last_checked: Some(last.to_string()),
            ..DaemonState::default()
        };
        let hashes: Vec<String> = audited.iter().map(Oid::to_string).collect();
        s.mark_audited(&hashes);
        s
    }

    #[test]
    fn a_linear_batch_is_every_commit_since_the_last_checked() {
        let f = Fixture::new();
        let a = f.commit(None, "a");
        let b = f.commit(Some(a), "b");
        let c = f.commit(Some(b), "c");
        let p = plan(&f.repo(), &state(a, &[a]), c, 3, None).expect("plan");
        assert_eq!(p.to_audit, vec![b, c]);
        assert_eq!(p.base, Some(a));
        assert!(p.rewrite.is_none());
        assert!(needs_audit(&state(a, &[a]), c));
        assert!(!needs_audit(&state(c, &[a, b, c]), b));
    }

    #[test]
    fn a_rewrite_audits_only_the_new_side_of_the_merge_base() {
        let f = Fixture::new();
        let a = f.commit(None, "a");
        let b = f.commit(Some(a), "b");
        // An amended b: a sibling of b.
        let b2 = f.commit(Some(a), "b amended");
        let p = plan(&f.repo(), &state(b, &[a, b]), b2, 3, None).expect("plan");
        assert_eq!(p.to_audit, vec![b2]);
        assert_eq!(
            p.rewrite,
            Some(Rewrite {
                previous: b.to_string(),
                merge_base: Some(a)
            })
        );
    }

    #[test]
    fn skips_are_honoured_up_to_the_limit() {
        let f = Fixture::new();
        let a = f.commit(None, "a");
        let s1 = f.commit(Some(a), "one [skip-audit]");
        let s2 = f.commit(Some(s1), "two [skip-audit]");
        let s3 = f.commit(Some(s2), "three [skip-audit]");
        let n = f.commit(Some(s3), "normal");
        let p = plan(&f.repo(), &state(a, &[a]), n, 2, None).expect("plan");
        assert_eq!(p.skipped, vec![s1, s2]);
        assert_eq!(p.forced, Some(s3));
        assert_eq!(p.to_audit, vec![s3, n]);
        assert_eq!(p.commits, vec![s1, s2, s3, n]);
        assert_eq!(p.consecutive_skips, 0);
        // A first run starts from where the daemon began, whatever was audited before.
        let fresh = DaemonState::default();
        let p = plan(&f.repo(), &fresh, n, 5, Some(s3)).expect("plan");
        assert_eq!(p.to_audit, vec![n]);
        assert_eq!(p.base, Some(s3));
        let p = plan(&f.repo(), &fresh, s1, 5, None).expect("plan");
        assert_eq!(p.to_audit, vec![a]);
        assert_eq!(p.skipped, vec![s1]);
        // The count carries over between batches.
        let mut st = state(a, &[a]);
        st.consecutive_skips = 2;
        let p = plan(&f.repo(), &st, s1, 2, None).expect("plan");
        assert_eq!(p.forced, Some(s1));
    }
}
