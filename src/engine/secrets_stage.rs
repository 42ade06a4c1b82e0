//! The secret scan of an audit: every blob each audited commit touched, read through libgit2.

use std::collections::HashSet;

use git2::Oid;

use super::model::ScanStats;
use crate::config::SecretsSettings;
use crate::finding::Finding;
use crate::git::{GitError, Repo, commit_blobs};
use crate::secrets::{Scanner, is_binary, scan_file};

/// Scans the full content of every file each commit touched (oldest commit first).
///
/// A secret seen again in a later commit of the batch (same value, same file) is reported
/// once, at the commit that introduced it; one added and later removed is still reported.
pub fn scan_commits(
    repo: &Repo,
    commits: &[Oid],
    scanner: &Scanner,
    settings: &SecretsSettings,
    stats: &mut ScanStats,
) -> Result<Vec<Finding>, GitError> {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut scanned_blobs: HashSet<(Oid, String)> = HashSet::new();
    let mut out = Vec::new();
    for &commit in commits {
        let commit_hex = commit.to_string();
        for touched in commit_blobs(repo, commit)? {
            if !scanned_blobs.insert((touched.blob, touched.path.clone())) {
                continue;
            }
            let Ok(blob) = repo.git.find_blob(touched.blob) else {
                continue; // missing in a partial clone: nothing to read
            };
            let content = blob.content();
            if content.len() as u64 > settings.max_file_size {
                stats.skipped_large += 1;
                continue;
            }
            if is_binary(content) {
                stats.skipped_binary += 1;
                continue;
            }
            stats.blobs += 1;
            stats.bytes += content.len() as u64;
            for f in scan_file(
                scanner,
                settings,
                &touched.path,
                content,
                Some(&commit_hex),
                Some(&touched.added_lines),
            ) {
                if seen.insert((f.fingerprint.clone(), touched.path.clone())) {
                    out.push(f);
                }
            }
        }
    }
    Ok(out)
}
