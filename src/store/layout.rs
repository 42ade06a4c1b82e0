//! Where the auditor keeps its reports, inbox and state inside the audited repository.

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

    /// The snapshot workspace in which checks run.
    pub fn snapshot_dir(&self) -> PathBuf {
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
