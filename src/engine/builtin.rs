//! The built-in scanners over an audit's commits, in one pass: each commit is diffed once
//! (renames detected) and each changed blob is inflated once, then handed to both the secret
//! scanner and the guards. Inflating blobs is most of the cost (see PERFORMANCE.md), so the two
//! scanners never read a commit twice.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use git2::Oid;

use super::model::AuditOptions;
use super::{EngineError, ledger_stage};
use crate::bytes::is_binary;
use crate::checks::{CheckOutcome, CheckRun};
use crate::config::{SecretsSettings, Settings, Stage};
use crate::finding::Finding;
use crate::git::{
    AuditTarget, CommitChange, FileStatus, GitContext, GitError, Hunk, Repo, added_lines,
    commit_changes, line_diff,
};
use crate::guards::{
    CommitRef, Facts, FileChange, GuardSettings, Known, TestTally, change_facts, check_commit,
    check_commit_tallied, holds_tests, reads_test_texts,
};
use crate::report::ScanStats;
use crate::secrets::{Scanner, Source, Written, scan_file, scan_source};

/// Blobs are read up to this size at least: the guards' facts need the text.
const MIN_READ: u64 = 2 << 20;
/// Blobs are never read above this size: such a file is judged by its size alone.
const MAX_READ: u64 = 64 << 20;

/// What the built-in scanners run with.
pub struct Builtins<'a> {
    /// The secret scanner, or none to skip the secret scan.
    pub scanner: Option<&'a Scanner>,
    /// `[secrets]`.
    pub secrets: &'a SecretsSettings,
    /// `[guards]`.
    pub guards: &'a GuardSettings,
    /// The commits are a snapshot of the working tree, not yet committed.
    pub uncommitted: bool,
    /// Counts what a whole-tree or history scan has read, for a progress line.
    pub counter: Option<&'a ScanCounter>,
}

/// What a scan has read so far (blobs and their bytes), shared with a progress line.
#[derive(Debug, Default)]
pub struct ScanCounter {
    /// Blobs read.
    pub blobs: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
}

impl ScanCounter {
    /// Counts one blob of `len` bytes.
    pub fn add(&self, len: usize) {
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(u64::try_from(len).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// What the built-in scanners found in the commits, and what they cost.
#[derive(Debug, Default)]
pub struct BuiltinFindings {
    /// Secrets, each reported once, at the commit that introduced it.
    pub secrets: Vec<Finding>,
    /// Shortcuts the guards caught, each reported once.
    pub guards: Vec<Finding>,
    /// What the commits did to their tests.
    pub tests: TestTally,
    /// What the secret scanner read.
    pub stats: ScanStats,
    /// Diffing the commits and inflating their blobs (shared by both scanners).
    pub read_time: Duration,
    /// The secret scanner's own time.
    pub secrets_time: Duration,
    /// The guards' own time.
    pub guards_time: Duration,
}

/// One version of a file: its size, and its blob when small enough to read.
struct Version<'r> {
    size: u64,
    blob: Option<git2::Blob<'r>>,
    /// Whether the blob read is binary.
    binary: bool,
}

impl<'r> Version<'r> {
    /// Reads a version. A blob the commit names but the store lacks is an error: a damaged
    /// or partial clone, or an object deleted to hide what it holds, is never scanned clean.
    fn read(
        repo: &'r Repo,
        odb: &git2::Odb<'_>,
        id: Oid,
        limit: u64,
    ) -> Result<Version<'r>, GitError> {
        let missing = |_| GitError::MissingObject { id: id.to_string() };
        // The header gives the size without inflating the blob.
        let size = odb.read_header(id).map_err(missing)?.0 as u64;
        let blob = if size <= limit {
            Some(repo.git.find_blob(id).map_err(missing)?)
        } else {
            None
        };
        let binary = blob.as_ref().is_some_and(|b| is_binary(b.content()));
        Ok(Version { size, blob, binary })
    }

    fn content(&self) -> Option<&[u8]> {
        self.blob.as_ref().map(|b| b.content())
    }

    /// The blob, when it was read and is text.
    fn text(&self) -> Option<&git2::Blob<'r>> {
        self.blob.as_ref().filter(|_| !self.binary)
    }
}

/// One changed file with its versions read, and how they differ.
struct Read<'r> {
    change: CommitChange,
    old: Option<Version<'r>>,
    new: Option<Version<'r>>,
    /// The line diff, when a scanner needs it.
    hunks: Option<Vec<Hunk>>,
}

impl<'r> Read<'r> {
    /// Reads the versions the scanners need, and diffs them once for both.
    fn new(
        repo: &'r Repo,
        odb: &git2::Odb<'_>,
        change: CommitChange,
        limit: u64,
        secret_scan: bool,
        guards: bool,
    ) -> Result<Read<'r>, GitError> {
        let new = change
            .new_blob
            .map(|id| Version::read(repo, odb, id, limit))
            .transpose()?;
        let new_text = new.as_ref().and_then(Version::text);
        // The old version matters against a new text (its added lines, its facts), and to the
        // guards when the file is deleted (the tests it held).
        let needs_old = (new_text.is_some() && (secret_scan || guards))
            || (guards && change.status == FileStatus::Deleted);
        let old = change
            .old_blob
            .filter(|_| needs_old)
            .map(|id| Version::read(repo, odb, id, limit))
            .transpose()?;
        let old_text = old.as_ref().and_then(Version::text);
        // An old version that is binary or too large to read: every line counts as added.
        let hunks = match new_text {
            Some(n) if secret_scan || (guards && old_text.is_some()) => {
                Some(line_diff(old_text, n)?)
            }
            _ => None,
        };
        Ok(Read {
            change,
            old,
            new,
            hunks,
        })
    }

    /// What the guards see of this file.
    fn file_change(&self) -> FileChange<'_> {
        let c = &self.change;
        FileChange {
            path: c.path.clone(),
            old_path: c.old_path.clone(),
            kind: c.status,
            old: self.old.as_ref().and_then(Version::content),
            new: self.new.as_ref().and_then(Version::content),
            new_size: self.new.as_ref().map_or(0, |v| v.size),
            old_size: self.old.as_ref().map_or(0, |v| v.size),
            hunks: self.hunks.as_deref(),
            known: None,
        }
    }
}

/// One changed file as the guards will judge it: its facts read, its contents dropped unless
/// a rule reads its text. A commit's files are judged together (a test moved between files is
/// not lost), and this keeps only one file's contents in memory at a time.
struct Judged {
    change: CommitChange,
    old_facts: Facts,
    new_facts: Facts,
    new_size: u64,
    old_size: u64,
    new_binary: bool,
    old_text: Option<Vec<u8>>,
    new_text: Option<Vec<u8>>,
}

impl Judged {
    fn new(read: Read<'_>, settings: &GuardSettings) -> Judged {
        let (old_facts, new_facts) = change_facts(&read.file_change());
        let keep = settings.needs_text(&read.change.path)
            || read
                .change
                .old_path
                .as_deref()
                .is_some_and(|p| settings.needs_text(p));
        let text = |v: &Option<Version<'_>>| {
            v.as_ref()
                .and_then(Version::content)
                .filter(|_| keep)
                .map(<[u8]>::to_vec)
        };
        Judged {
            old_text: text(&read.old),
            new_text: text(&read.new),
            new_size: read.new.as_ref().map_or(0, |v| v.size),
            old_size: read.old.as_ref().map_or(0, |v| v.size),
            new_binary: read.new.as_ref().is_some_and(|v| v.binary),
            change: read.change,
            old_facts,
            new_facts,
        }
    }

    /// Reads back the versions `new` dropped: the commit loses tests or assertions, and this file's text
    /// tells whether they were written again (`guards::holds_tests`).
    fn read_texts(&mut self, repo: &Repo, odb: &git2::Odb<'_>, limit: u64) -> Result<(), GitError> {
        let read = |id: Option<Oid>| -> Result<Option<Vec<u8>>, GitError> {
            let Some(id) = id else { return Ok(None) };
            let version = Version::read(repo, odb, id, limit)?;
            Ok(version.text().map(|b| b.content().to_vec()))
        };
        if self.old_text.is_none() {
            self.old_text = read(self.change.old_blob)?;
        }
        if self.new_text.is_none() {
            self.new_text = read(self.change.new_blob)?;
        }
        Ok(())
    }

    /// What the guards see of this file.
    fn file_change(&self) -> FileChange<'_> {
        let c = &self.change;
        FileChange {
            path: c.path.clone(),
            old_path: c.old_path.clone(),
            kind: c.status,
            old: self.old_text.as_deref(),
            new: self.new_text.as_deref(),
            new_size: self.new_size,
            old_size: self.old_size,
            hunks: None,
            known: Some(Known {
                old: &self.old_facts,
                new: &self.new_facts,
                new_binary: self.new_binary,
            }),
        }
    }
}

/// Runs the secret scanner and the guards over every commit, oldest first.
///
/// A secret seen again later in the batch (same value, same file) is reported once, at the
/// commit that introduced it; one added and later removed is still reported. A guard finding
/// repeated by a later commit is likewise reported once.
pub fn scan_commits(
    repo: &Repo,
    commits: &[Oid],
    run: &Builtins<'_>,
) -> Result<BuiltinFindings, GitError> {
    let mut out = BuiltinFindings::default();
    if run.scanner.is_none() && !run.guards.enabled {
        return Ok(out);
    }
    let mut scan = CommitsScan {
        repo,
        odb: repo.git.odb().ctx(|| "open the object database".into())?,
        run,
        limit: run
            .secrets
            .max_file_size
            .max(run.guards.large_file)
            .clamp(MIN_READ, MAX_READ),
        secrets_seen: HashSet::new(),
        scanned_blobs: HashSet::new(),
        guards_seen: HashSet::new(),
    };
    for &oid in commits {
        scan.commit(oid, &mut out)?;
    }
    tracing::debug!(
        commits = commits.len(),
        read_ms = out.read_time.as_millis(),
        secrets_ms = out.secrets_time.as_millis(),
        guards_ms = out.guards_time.as_millis(),
        "built-in scanners"
    );
    Ok(out)
}

/// The batch's commits read one after another, and what was already reported.
struct CommitsScan<'r, 'b> {
    repo: &'r Repo,
    odb: git2::Odb<'r>,
    run: &'b Builtins<'b>,
    /// Blobs are read up to this size.
    limit: u64,
    /// Secrets reported, by fingerprint and file.
    secrets_seen: HashSet<(String, String)>,
    /// Blobs the secret scanner read, by id and path.
    scanned_blobs: HashSet<(Oid, String)>,
    /// Guard findings reported, by rule, file and description.
    guards_seen: HashSet<(String, Option<String>, String)>,
}

impl CommitsScan<'_, '_> {
    /// One commit: its message and names, each changed blob read once for both scanners,
    /// then the guards over the whole commit.
    fn commit(&mut self, oid: Oid, out: &mut BuiltinFindings) -> Result<(), GitError> {
        let (repo, run) = (self.repo, self.run);
        let commit = oid.to_string();
        let started = Instant::now();
        let crate::git::CommitChanges {
            files: changes,
            against_others,
            root,
        } = commit_changes(repo, oid)?;
        out.read_time += started.elapsed();
        if let Some(scanner) = run.scanner {
            let t = Instant::now();
            let paths = changes
                .iter()
                .filter(|c| c.own && c.new_blob.is_some())
                .map(|c| c.path.as_str());
            for f in scan_sources(repo, oid, scanner, run.secrets, paths) {
                let key = (f.fingerprint.clone(), f.file.clone().unwrap_or_default());
                if self.secrets_seen.insert(key) {
                    out.secrets.push(f);
                }
            }
            out.secrets_time += t.elapsed();
        }
        let guards = run.guards.enabled;
        let mut judged: Vec<Judged> = Vec::new();
        for change in changes {
            let t = Instant::now();
            // The secret scanner reads what the commit itself added or modified, once.
            let secret_scan = run.scanner.is_some()
                && change.own
                && change
                    .new_blob
                    .is_some_and(|id| self.scanned_blobs.insert((id, change.path.clone())));
            let read = Read::new(repo, &self.odb, change, self.limit, secret_scan, guards)?;
            out.read_time += t.elapsed();
            if secret_scan {
                let t = Instant::now();
                scan_secrets(run, &read, &commit, out, &mut self.secrets_seen);
                out.secrets_time += t.elapsed();
            }
            if guards {
                let t = Instant::now();
                judged.push(Judged::new(read, run.guards));
                out.guards_time += t.elapsed();
            }
        }
        if guards {
            self.guards(oid, &commit, root, &mut judged, against_others, out)?;
        }
        Ok(())
    }

    /// The guards over one commit's changes; a merge's findings only where it changed the
    /// file against every parent.
    fn guards(
        &mut self,
        oid: Oid,
        commit: &str,
        root: bool,
        judged: &mut [Judged],
        against_others: Vec<Vec<CommitChange>>,
        out: &mut BuiltinFindings,
    ) -> Result<(), GitError> {
        let t = Instant::now();
        let facts: Vec<(&Facts, &Facts)> = judged
            .iter()
            .map(|j| (&j.old_facts, &j.new_facts))
            .collect();
        if reads_test_texts(&facts) {
            for j in judged
                .iter_mut()
                .filter(|j| holds_tests(&j.change.path, &j.old_facts, &j.new_facts))
            {
                j.read_texts(self.repo, &self.odb, self.limit)?;
            }
        }
        let changes: Vec<FileChange<'_>> = judged.iter().map(Judged::file_change).collect();
        let changed: Vec<&str> = judged.iter().map(|j| j.change.path.as_str()).collect();
        let elsewhere = ci_elsewhere(self.repo, oid, &changed);
        let at = CommitRef {
            id: commit,
            root,
            ci_elsewhere: elsewhere.as_ref(),
        };
        let (mut found, tally) = check_commit_tallied(&changes, self.run.guards, at);
        out.tests = out.tests.plus(tally);
        // A merge is judged by what it did against every parent: what one side brought (its
        // deleted asserts, its skipped test) is that side's commit's, not the merge's.
        for against in against_others {
            if found.is_empty() {
                break;
            }
            let read_started = Instant::now();
            let concerned: HashSet<&str> = found.iter().filter_map(|f| f.file.as_deref()).collect();
            let mut reads = Vec::new();
            for change in against
                .into_iter()
                .filter(|c| concerned.contains(c.path.as_str()))
            {
                reads.push(Read::new(
                    self.repo, &self.odb, change, self.limit, false, true,
                )?);
            }
            out.read_time += read_started.elapsed();
            let judged: Vec<Judged> = reads
                .into_iter()
                .map(|r| Judged::new(r, self.run.guards))
                .collect();
            let changes: Vec<FileChange<'_>> = judged.iter().map(Judged::file_change).collect();
            let again = check_commit(&changes, self.run.guards, at);
            found.retain(|f| again.iter().any(|g| same_finding(f, g)));
        }
        for f in found {
            let key = (f.rule.clone(), f.file.clone(), f.description.clone());
            if self.guards_seen.insert(key) {
                out.guards.push(f);
            }
        }
        out.guards_time += t.elapsed();
        Ok(())
    }
}

/// The checks the CI definitions of `commit`'s tree run, but for those at `changed` (which
/// the guards read from the change itself), what the scripts they run run, and what the
/// root Makefile's targets run that they invoke or still run (a check moved into a script
/// or into `make test` is kept); none when the commit changed no CI
/// definition, as nothing then needs them.
pub(crate) fn ci_elsewhere(repo: &Repo, commit: Oid, changed: &[&str]) -> Option<HashSet<String>> {
    if !changed.iter().any(|p| crate::guards::is_ci(p)) {
        return None;
    }
    let tree = repo.git.find_commit(commit).ok()?.tree().ok()?;
    let mut checks = HashSet::new();
    let mut definitions: Vec<String> = Vec::new();
    let mut makefile = crate::guards::Makefile::default();
    // CI definitions live at the root and in a few folders: walking those is enough.
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let path = format!("{dir}{}", entry.name().unwrap_or(""));
        if entry.kind() == Some(git2::ObjectType::Tree) {
            let descend = [".github", ".github/workflows", ".circleci", ".ci"]
                .iter()
                .any(|d| path == *d || path.starts_with(&format!("{d}/")));
            return if descend {
                git2::TreeWalkResult::Ok
            } else {
                git2::TreeWalkResult::Skip
            };
        }
        let is_makefile = matches!(path.as_str(), "Makefile" | "GNUmakefile" | "makefile");
        if crate::guards::is_ci(&path) || is_makefile {
            let blob = repo.git.find_blob(entry.id()).ok();
            if let Some(text) = blob
                .as_ref()
                .and_then(|b| std::str::from_utf8(b.content()).ok())
            {
                if is_makefile {
                    makefile = crate::guards::Makefile::parse(text);
                } else {
                    if !changed.contains(&path.as_str()) {
                        checks.extend(crate::guards::ci_checks_of(text));
                    }
                    definitions.push(text.to_string());
                }
            }
        }
        git2::TreeWalkResult::Ok
    });
    // The scripts a definition runs are part of it (git's `script: ci/run-tests.sh`,
    // dokku's `./.github/commands/ci-run`): one level, read from the same tree.
    let mut scripts = Vec::new();
    for text in &definitions {
        for word in
            text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | '&' | '|'))
        {
            let path = word.trim_start_matches("./");
            if !path.contains('/') && !path.ends_with(".sh") {
                continue;
            }
            let blob = tree
                .get_path(std::path::Path::new(path))
                .ok()
                .and_then(|e| repo.git.find_blob(e.id()).ok());
            if let Some(text) = blob
                .as_ref()
                .and_then(|b| std::str::from_utf8(b.content()).ok())
            {
                checks.extend(crate::guards::ci_checks_of(text));
                scripts.push(text.to_string());
            }
        }
    }
    definitions.extend(scripts);
    let texts: Vec<&str> = definitions.iter().map(String::as_str).collect();
    checks.extend(crate::guards::kept_through_make(&texts, &makefile));
    Some(checks)
}

/// Whether two guard findings of one commit, judged against two parents, are the same
/// shortcut: same rule, file and line (their counts may differ).
fn same_finding(a: &Finding, b: &Finding) -> bool {
    a.rule == b.rule && a.file == b.file && a.line == b.line
}

/// The secret scan of a commit's message and of the names of the files it added or changed.
fn scan_sources<'p>(
    repo: &Repo,
    oid: Oid,
    scanner: &Scanner,
    settings: &SecretsSettings,
    paths: impl Iterator<Item = &'p str>,
) -> Vec<Finding> {
    let commit = oid.to_string();
    let mut found = Vec::new();
    if let Ok(c) = repo.git.find_commit(oid) {
        found.extend(scan_source(
            scanner,
            settings,
            Source::Message,
            c.message_bytes(),
            &commit,
        ));
    }
    for path in paths {
        found.extend(scan_source(
            scanner,
            settings,
            Source::Path(path),
            path.as_bytes(),
            &commit,
        ));
    }
    found
}

/// The secret scan of one file version a commit added or modified.
fn scan_secrets(
    run: &Builtins<'_>,
    read: &Read<'_>,
    commit: &str,
    out: &mut BuiltinFindings,
    seen: &mut HashSet<(String, String)>,
) {
    let (Some(scanner), Some(new)) = (run.scanner, &read.new) else {
        return;
    };
    let read_binary = new.blob.as_ref().map(|_| new.binary);
    if !out
        .stats
        .admit(new.size, read_binary, run.secrets.max_file_size)
    {
        return;
    }
    let Some(content) = new.content() else {
        return;
    };
    let added = read.hunks.as_deref().map(added_lines).unwrap_or_default();
    let path = &read.change.path;
    for f in scan_file(
        scanner,
        run.secrets,
        path,
        content,
        if run.uncommitted {
            Written::NotCommitted(commit)
        } else {
            Written::Committed(commit)
        },
        Some(&added),
        None,
    ) {
        if seen.insert((f.fingerprint.clone(), path.clone())) {
            out.secrets.push(f);
        }
    }
}

/// The built-in scanners over every commit of the batch, one by one, each read once; and
/// the open guard issues that still stand in the audited tree. Adds their findings to
/// `findings`; returns their runs and the scan's counts.
#[expect(
    clippy::too_many_arguments,
    reason = "one audit's inputs, passed through once"
)]
pub(super) fn builtin_stage(
    repo: &Repo,
    settings: &Settings,
    target: &AuditTarget,
    options: &AuditOptions,
    changes: &[crate::git::ChangedFile],
    ledger_before: &crate::ledger::Ledger,
    scanner: &Scanner,
    findings: &mut Vec<Finding>,
) -> Result<(Vec<CheckRun>, ScanStats, Option<crate::guards::TestTally>), EngineError> {
    let mut checks: Vec<CheckRun> = Vec::new();
    let builtins = Builtins {
        scanner: settings.secrets.enabled.then_some(scanner),
        secrets: &settings.secrets,
        guards: &settings.guards,
        uncommitted: options.uncommitted,
        counter: None,
    };
    let mut found = scan_commits(repo, &target.commits, &builtins)?;
    let scan = found.stats;
    // The shared reading counts toward the secret scan, or toward the guards alone.
    if settings.secrets.enabled {
        let took = found.read_time + found.secrets_time;
        checks.push(builtin_run("secrets", &found.secrets, took, scan.blobs));
        findings.append(&mut found.secrets);
    }
    if settings.guards.enabled {
        let standing = ledger_stage::standing_guard_findings(
            repo,
            target.target,
            changes,
            ledger_before,
            &found.guards,
            &settings.guards,
        );
        found.guards.extend(standing);
        let mut took = found.guards_time;
        if !settings.secrets.enabled {
            took += found.read_time;
        }
        if options.uncommitted {
            // The operator's own untracked auditor.toml is not tampering; committing one is,
            // and is caught when it is committed.
            let base = target.base;
            found.guards.retain(|f| {
                f.issue_type != crate::finding::IssueType::SupervisionTampering
                    || f.file.as_deref().is_none_or(|file| {
                        base.is_some_and(|b| repo.file_head(b, file, 1).is_some())
                    })
            });
        }
        checks.push(builtin_run("guards", &found.guards, took, changes.len()));
        findings.append(&mut found.guards);
    }
    // Without the guards nothing says what the commits did to their tests.
    let tally = settings.guards.enabled.then_some(found.tests);
    Ok((checks, scan, tally))
}

fn builtin_run(name: &str, found: &[Finding], took: std::time::Duration, files: usize) -> CheckRun {
    let mut run = CheckRun::skipped(name, Stage::Audit, "");
    run.note = None;
    run.outcome = if found.is_empty() {
        CheckOutcome::Passed
    } else {
        CheckOutcome::Failed
    };
    run.exit_code = None;
    run.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
    run.files = files;
    run.findings = found.to_vec();
    run
}
