//! Where the auditor keeps its reports, inbox and state inside the audited repository, and
//! its snapshot workspace outside it.

use std::path::{Path, PathBuf};

/// The resolved paths of the auditor's folders for one repository.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The audited repository's working-tree root.
    pub repo_root: PathBuf,
    /// Reports: `logs/audit/`.
    pub reports_dir: PathBuf,
    /// The inbox the agent reads: `tasks/supervisor_feedback/`.
    pub inbox_dir: PathBuf,
    /// State, including the snapshot workspace: `state/supervisor/`.
    pub state_dir: PathBuf,
}

impl Layout {
    /// Builds the layout from repo-relative folder names (as configured).
    pub fn new(repo_root: &Path, reports: &str, inbox: &str, state: &str) -> Layout {
        Layout {
            repo_root: repo_root.to_path_buf(),
            reports_dir: repo_root.join(reports),
            inbox_dir: repo_root.join(inbox),
            state_dir: repo_root.join(state),
        }
    }

    /// The report file of one audited commit.
    pub fn report_path(&self, commit: &str) -> PathBuf {
        self.reports_dir.join(format!("report_{commit}.json"))
    }

    /// The report of an audit of the range `base..target` (a commit's own report is
    /// `report_path`).
    pub fn range_report_path(&self, base: &str, target: &str) -> PathBuf {
        self.reports_dir
            .join(format!("report_{base}..{target}.json"))
    }

    /// How many reports of audited commits the reports folder holds (each was recorded in
    /// the ledger; the uncommitted report is not).
    pub fn report_count(&self) -> usize {
        self.audit_reports().len()
    }

    /// The reports of audited commits and ranges (not the uncommitted one's).
    pub fn audit_reports(&self) -> Vec<std::fs::DirEntry> {
        std::fs::read_dir(&self.reports_dir).map_or_else(
            |_| Vec::new(),
            |d| {
                d.flatten()
                    .filter(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.starts_with("report_")
                            && name.ends_with(".json")
                            && name != "report_uncommitted.json"
                    })
                    .collect()
            },
        )
    }

    /// The report of the latest audit of uncommitted changes (overwritten by each).
    pub fn uncommitted_report_path(&self) -> PathBuf {
        self.reports_dir.join("report_uncommitted.json")
    }

    /// What the fast lane found in the last commit it scanned (see `report::fast`).
    pub fn fast_lane_path(&self) -> PathBuf {
        self.state_dir.join("fast_lane.json")
    }

    /// Where a daemon started by the watchdog writes its output.
    pub fn daemon_log(&self) -> PathBuf {
        self.repo_root.join("logs").join("auditor.log")
    }

    /// The snapshot workspace in which checks run: in the user's cache folder, outside the
    /// work tree (see `snapshot_dir_in`).
    pub fn snapshot_dir(&self) -> PathBuf {
        let cache_home = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .map(|home| home.join(".cache"))
            });
        snapshot_dir_in(&self.repo_root, cache_home.as_deref())
    }

    /// Where earlier versions kept the snapshot: inside the work tree, where the project's
    /// own `pytest`, `jest` and `go test ./...` found a second copy of the project.
    pub fn former_snapshot_dir(&self) -> PathBuf {
        self.state_dir.join("workspace")
    }

    /// The folders the auditor writes, as anchored `.git/info/exclude` patterns.
    ///
    /// Exact folders, never their parents: an agent's own untracked files in `tasks/` must stay
    /// visible to `git status`.
    pub fn exclude_patterns(&self) -> Vec<String> {
        let mut patterns: Vec<String> = [&self.reports_dir, &self.inbox_dir, &self.state_dir]
            .iter()
            .filter_map(|p| p.strip_prefix(&self.repo_root).ok())
            .map(|rel| format!("/{}/", rel.to_string_lossy().trim_end_matches('/')))
            .collect();
        patterns.push("/logs/auditor.log".into());
        patterns
    }
}

/// The snapshot folder of the repository at `repo_root`, under `cache_home`:
/// `auditor/<name>-<digest of the root's path>/workspace`.
///
/// Outside the work tree, so that the project's tools run by the agent there never collect
/// the snapshot's copy (pytest, jest and `go test ./...` do; an older commit's tests broke the
/// agent's runs), and so that tools run in the snapshot inherit no untracked configuration
/// from the work tree's folders (`.cargo/config.toml`, `node_modules`, `pytest.ini`) as they
/// walk up. Without a cache folder, or with one inside the work tree (HOME is the
/// repository), the snapshot goes into the repository's git folder, where no tool looks.
pub fn snapshot_dir_in(repo_root: &Path, cache_home: Option<&Path>) -> PathBuf {
    let root = repo_root
        .canonicalize()
        .unwrap_or_else(|_| repo_root.to_path_buf());
    let outside = cache_home.filter(|cache| {
        let cache = cache.canonicalize().unwrap_or_else(|_| cache.to_path_buf());
        !cache.starts_with(&root)
    });
    match outside {
        Some(cache) => {
            let name: String = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .take(40)
                .collect();
            let digest = crate::bytes::short_digest([root.to_string_lossy().as_ref()]);
            cache
                .join("auditor")
                .join(format!("{}-{digest}", name.trim_start_matches('.')))
                .join("workspace")
        }
        None => git_dir(&root).join("auditor").join("workspace"),
    }
}

/// The git folder of the work tree at `root`: `.git`, or the folder a linked worktree's
/// `.git` file names.
fn git_dir(root: &Path) -> PathBuf {
    let dot_git = root.join(".git");
    if dot_git.is_file()
        && let Ok(text) = std::fs::read_to_string(&dot_git)
        && let Some(dir) = text.trim_end().strip_prefix("gitdir: ")
    {
        return root.join(dir);
    }
    dot_git
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_lives_in_the_cache_outside_the_work_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("my project");
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        std::fs::create_dir_all(&cache).expect("mkdir");
        let ws = snapshot_dir_in(&repo, Some(&cache));
        let cache = cache.canonicalize().expect("canonical");
        assert!(ws.starts_with(cache.join("auditor")), "{ws:?}");
        let name = ws
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(name.starts_with("my_project-"), "{name}");
        // Another repository of the same name has a folder of its own.
        let other = dir.path().join("elsewhere").join("my project");
        std::fs::create_dir_all(&other).expect("mkdir");
        assert_ne!(snapshot_dir_in(&other, Some(&cache)), ws);
    }

    #[test]
    fn a_cache_inside_the_work_tree_or_none_is_the_git_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        let git = repo.join(".git").join("auditor").join("workspace");
        assert_eq!(snapshot_dir_in(&repo, Some(&repo.join(".cache"))), git);
        assert_eq!(snapshot_dir_in(&repo, None), git);
        // A linked worktree's git folder is the one its `.git` file names.
        let linked = repo.join("wt");
        std::fs::create_dir_all(&linked).expect("mkdir");
        std::fs::write(linked.join(".git"), "gitdir: /r/.git/worktrees/wt\n").expect("write");
        assert_eq!(
            snapshot_dir_in(&linked, None),
            Path::new("/r/.git/worktrees/wt/auditor/workspace")
        );
    }
}
