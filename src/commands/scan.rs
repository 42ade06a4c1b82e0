//! `auditor scan`: the built-in scanners alone, over the tree, the history, a rev or a range.
//!
//! Prints what it finds and writes nothing into the repository (except `--sarif FILE`).

use std::io::IsTerminal;
use std::time::Instant;

use serde_json::json;

use super::common::{open_repo, print, user_path};
use crate::cli::ScanArgs;
use crate::config::SecretsSettings;
use crate::engine::{Builtins, ScanStats, scan_commits};
use crate::error::{Error, ExitCode};
use crate::finding::Finding;
use crate::git::{HistoryIndex, Repo, index_history, index_tree, read_blobs};
use crate::policy::{self, Status};
use crate::report::{human::Style, json as report_json, sarif};
use crate::secrets::{Scanner, is_binary, scan_file};
use crate::store::write_atomic;

/// Runs the scan command.
pub fn run(args: ScanArgs) -> Result<ExitCode, Error> {
    let repo = open_repo(args.repo.repo.as_deref())?;
    let head = repo.head()?;
    // Scans need no checks: never run detection for them.
    let settings = crate::config::load(&repo.root, args.repo.config.as_deref(), Vec::new)?;
    let scanner = Scanner::new();
    let started = Instant::now();
    let mut stats = ScanStats::default();
    let (mode, commits, findings) = if args.tree {
        let index = index_tree(&repo.root, &head.to_string())?;
        let f = scan_index(&repo, &index, &scanner, &settings.secrets, &mut stats)?;
        ("tree".to_string(), 1, f)
    } else if args.history {
        let index = index_history(&repo.root)?;
        let n = index.commits;
        let f = scan_index(&repo, &index, &scanner, &settings.secrets, &mut stats)?;
        ("history".to_string(), n, f)
    } else {
        let spec = args.rev.clone().unwrap_or_else(|| "HEAD".into());
        let target = repo.target(&spec)?;
        let builtins = Builtins {
            scanner: Some(&scanner),
            secrets: &settings.secrets,
            guards: &settings.guards,
        };
        let mut found = scan_commits(&repo, &target.commits, &builtins)?;
        stats = found.stats;
        found.secrets.append(&mut found.guards);
        (spec, target.commits.len(), found.secrets)
    };
    let issues = policy::assign_ids(findings);
    let status = policy::status(&issues, settings.policy.fail_on);
    let elapsed = started.elapsed();
    if let Some(path) = &args.sarif {
        write_atomic(&user_path(path), sarif::render(&issues).as_bytes())?;
    }
    if args.json {
        let v = json!({
            "schema_version": report_json::SCHEMA_VERSION,
            "scanned": mode,
            "commits": commits,
            "blobs": stats.blobs,
            "bytes": stats.bytes,
            "skipped_binary": stats.skipped_binary,
            "skipped_large": stats.skipped_large,
            "duration_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "status": status.as_str(),
            "issues": issues.iter().map(report_json::issue).collect::<Vec<_>>(),
        });
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ))?;
    } else {
        let style = Style::detect(std::io::stdout().is_terminal());
        let mut out = format!(
            "auditor scan {mode}: {} finding{} in {} blobs ({:.1} MB) of {commits} commit{} in {:.2}s",
            issues.len(),
            if issues.len() == 1 { "" } else { "s" },
            stats.blobs,
            stats.bytes as f64 / 1e6,
            if commits == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        );
        if stats.skipped_binary + stats.skipped_large > 0 {
            out.push_str(&format!(
                "; skipped {} binary and {} over-size",
                stats.skipped_binary, stats.skipped_large
            ));
        }
        out.push('\n');
        for i in &issues {
            let f = &i.finding;
            out.push_str(&format!(
                "  {} {:<8} {} {}:{} {} commit {}\n",
                style.severity(f.severity),
                i.id,
                f.rule,
                f.file.as_deref().unwrap_or("?"),
                f.line.unwrap_or(0),
                f.redacted.as_deref().unwrap_or(""),
                f.commit
                    .as_deref()
                    .map(|c| &c[..c.len().min(7)])
                    .unwrap_or("")
            ));
        }
        print(&out)?;
    }
    Ok(match status {
        Status::Fail => ExitCode::Findings,
        _ => ExitCode::Clean,
    })
}

/// Scans every unique blob of an index once, in parallel, and attributes findings to every
/// path and commit that introduced the blob.
fn scan_index(
    repo: &Repo,
    index: &HistoryIndex,
    scanner: &Scanner,
    settings: &SecretsSettings,
    stats: &mut ScanStats,
) -> Result<Vec<Finding>, Error> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = settings.max_file_size;
    let results = read_blobs(&repo.root, &index.blobs, workers, |blob, content| {
        let mut s = ScanStats::default();
        if content.len() as u64 > max {
            s.skipped_large = 1;
            return (s, Vec::new());
        }
        if is_binary(content) {
            s.skipped_binary = 1;
            return (s, Vec::new());
        }
        s.blobs = 1;
        s.bytes = content.len() as u64;
        let paths: Vec<&(String, String)> = blob
            .introduced
            .iter()
            .filter(|(p, _)| !settings.allow_paths.is_match(p))
            .collect();
        let Some((first_path, first_commit)) = paths.first() else {
            return (s, Vec::new());
        };
        let found = scan_file(
            scanner,
            settings,
            first_path,
            content,
            Some(first_commit),
            None,
        );
        let mut out = Vec::with_capacity(found.len() * paths.len());
        for (path, commit) in &paths {
            for f in &found {
                let mut f = f.clone();
                f.file = Some(path.clone());
                f.commit = Some(commit.clone());
                out.push(f);
            }
        }
        (s, out)
    })?;
    // A file edited many times holds the same secret in many blobs: report it once per path,
    // at the oldest commit that introduced it.
    let age = |f: &Finding| {
        f.commit
            .as_ref()
            .and_then(|c| index.commit_age.get(c))
            .copied()
            .unwrap_or(0)
    };
    let mut oldest: std::collections::HashMap<(String, Option<String>), Finding> =
        std::collections::HashMap::new();
    for (s, found) in results {
        stats.blobs += s.blobs;
        stats.bytes += s.bytes;
        stats.skipped_binary += s.skipped_binary;
        stats.skipped_large += s.skipped_large;
        for f in found {
            let key = (f.fingerprint.clone(), f.file.clone());
            match oldest.get(&key) {
                Some(kept) if age(kept) >= age(&f) => {}
                _ => {
                    oldest.insert(key, f);
                }
            }
        }
    }
    Ok(oldest.into_values().collect())
}
