//! `auditor scan`: the built-in scanners alone, over the tree, the history, a rev or a range.
//!
//! Prints what it finds and writes nothing into the repository (except `--sarif FILE`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::json;

use super::common::{
    line_text, open_repo, print, repository_uri, sarif_to_stdout, write_requested,
};
use crate::cli::ScanArgs;
use crate::engine::{Builtins, ScanCounter, scan_commits, scan_history, scan_index};
use crate::error::{Error, ExitCode};
use crate::git::index_tree;
use crate::policy::{self, Status};
use crate::report::{human::Style, json as report_json, sarif};

/// What a scan reads.
pub enum Scope {
    /// The files at HEAD.
    Tree,
    /// Every commit reachable from any ref.
    History,
    /// A commit or a range.
    Rev(String),
}

/// Runs the built-in scanners over `scope`: its name, how many commits, what was found.
pub fn collect(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
    scope: &Scope,
) -> Result<(String, usize, crate::engine::BuiltinFindings), Error> {
    let counter = Arc::new(ScanCounter::default());
    let line = super::progress::wanted().then(|| {
        let counter = Arc::clone(&counter);
        let what = match scope {
            Scope::Tree => "the tree".to_string(),
            Scope::History => "the history".to_string(),
            Scope::Rev(spec) => crate::config::one_line(spec),
        };
        super::progress::ProgressLine::start(move |elapsed| {
            format!(
                "auditor scan {} {what}: {} blobs read ({:.1} MB)",
                super::progress::clock(elapsed),
                counter.blobs.load(Ordering::Relaxed),
                counter.bytes.load(Ordering::Relaxed) as f64 / 1e6
            )
        })
    });
    let builtins = Builtins {
        scanner: settings.secrets.enabled.then(|| settings.secrets.scanner()),
        secrets: &settings.secrets,
        guards: &settings.guards,
        uncommitted: false,
        counter: Some(&counter),
    };
    let found = scan_scope(repo, settings, scope, &builtins);
    if let Some(line) = line {
        line.finish();
    }
    found
}

fn scan_scope(
    repo: &crate::git::Repo,
    settings: &crate::config::Settings,
    scope: &Scope,
    builtins: &Builtins<'_>,
) -> Result<(String, usize, crate::engine::BuiltinFindings), Error> {
    Ok(match scope {
        Scope::Tree => {
            let head = repo.head()?;
            let index = index_tree(&repo.root, &head.to_string())?;
            let found = scan_index(repo, &index, builtins, Some(head))?;
            ("tree".to_string(), 1, found)
        }
        Scope::History => {
            let (index, found) = scan_history(repo, builtins, settings.guards.enabled)?;
            ("history".to_string(), index.commits, found)
        }
        Scope::Rev(spec) => {
            let target = repo.target(spec)?;
            let found = scan_commits(repo, &target.commits, builtins)?;
            (spec.clone(), target.commits.len(), found)
        }
    })
}

/// The scan's SARIF log: a run of its own kind (`scan-tree`, `scan-history`, `scan`).
fn scan_sarif(repo: &crate::git::Repo, scope: &Scope, issues: &[policy::Issue]) -> String {
    let head = repo.head().ok();
    let (kind, commit) = match scope {
        Scope::Tree => ("scan-tree", head),
        Scope::History => ("scan-history", head),
        Scope::Rev(spec) => ("scan", repo.target(spec).ok().map(|t| t.target)),
    };
    let commit = commit.map(|c| c.to_string());
    let lines = line_text(repo, head);
    let run = sarif::SarifRun {
        kind,
        root: &repo.root,
        commit: commit.as_deref(),
        repository_uri: repository_uri(repo),
        line_text: &lines,
        acknowledged: &std::collections::BTreeMap::new(),
    };
    sarif::render(issues, &run)
}

/// Runs the scan command.
pub fn run(args: ScanArgs) -> Result<ExitCode, Error> {
    if args.json && sarif_to_stdout(args.sarif.as_deref()) {
        return Err(Error::Usage(
            "--json and --sarif - both write to stdout: give --sarif a file".into(),
        ));
    }
    let repo = open_repo(args.repo.repo.as_deref())?;
    // Scans need no checks: never run detection for them.
    let settings = crate::config::load(&repo.root, args.repo.config.as_deref(), Vec::new)?;
    let started = Instant::now();
    let scope = if args.tree {
        Scope::Tree
    } else if args.history {
        Scope::History
    } else {
        Scope::Rev(args.rev.clone().unwrap_or_else(|| "HEAD".into()))
    };
    let (mode, commits, mut found) = collect(&repo, &settings, &scope)?;
    let stats = found.stats;
    let mut findings = std::mem::take(&mut found.secrets);
    findings.append(&mut found.guards);
    findings.iter_mut().for_each(crate::secrets::clean_finding);
    let issues = policy::assign_ids(findings);
    let status = policy::status(&issues, settings.policy.fail_on);
    let elapsed = started.elapsed();
    if let Some(path) = &args.sarif {
        write_requested(path, &scan_sarif(&repo, &scope, &issues))?;
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
            "baselined": settings.secrets.accepted_count(),
            "duration_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "status": status.as_str(),
            "issues": issues.iter().map(report_json::issue).collect::<Vec<_>>(),
        });
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ))?;
    } else {
        let style = Style::detect(sarif_to_stdout(args.sarif.as_deref()));
        let mut out = format!(
            "auditor scan {mode}: {} finding{} in {} blobs ({:.1} MB) of {commits} commit{} in {:.2}s",
            issues.len(),
            if issues.len() == 1 { "" } else { "s" },
            stats.blobs,
            stats.bytes as f64 / 1e6,
            if commits == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        );
        let accepted = settings.secrets.accepted_count();
        if accepted > 0 {
            out.push_str(&format!("; {accepted} accepted by the baseline"));
        }
        if stats.skipped_binary + stats.skipped_large > 0 {
            out.push_str(&format!(
                "; skipped {} binary and {} over-size",
                stats.skipped_binary, stats.skipped_large
            ));
        }
        out.push('\n');
        for i in &issues {
            let f = &i.finding;
            let mut location = f.file.clone().unwrap_or_else(|| "?".into());
            if let Some(line) = f.line {
                location.push_str(&format!(":{line}"));
            }
            // A secret shows its redacted form; a guard finding has none.
            let value = f
                .redacted
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            let commit = f.commit.as_deref().map(crate::bytes::short);
            out.push_str(&format!(
                "  {} {:<8} {} {location}{value} commit {}\n",
                style.severity(f.severity),
                i.id,
                f.rule,
                commit.unwrap_or("?"),
            ));
        }
        if sarif_to_stdout(args.sarif.as_deref()) {
            crate::sink::say_err(&out);
        } else {
            super::common::say(&out)?;
        }
    }
    Ok(match status {
        Status::Fail => ExitCode::Findings,
        _ => ExitCode::Clean,
    })
}
