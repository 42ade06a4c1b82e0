//! The built-in scanners over a whole history or tree (`scan --history`, `scan --tree`): each
//! unique blob is inflated once, in parallel, and read there by both the secret scanner and the
//! guards' fact reader. The guards then compare each commit's versions by those facts, so no
//! blob is read twice and no commit is diffed line by line.

use std::collections::HashMap;
use std::time::Instant;

use git2::Oid;

use super::builtin::{BuiltinFindings, Builtins};
use crate::bytes::is_binary;
use crate::finding::Finding;
use crate::git::FileStatus;
use crate::git::{BlobRef, GitError, HistoryIndex, RawChange, Repo, read_blob_queue, read_blobs};
use crate::guards::{
    CommitRef, Facts, FileChange, GuardSettings, Known, Rule, check_commit, holds_tests, is_code,
    reads_test_texts, version_facts,
};
use crate::report::ScanStats;
use crate::secrets::{QuietText, Source, Written, scan_file, scan_source};

/// What the guards keep of one blob: the facts of each path it was introduced at (only those
/// with any), and its size and binariness when they could matter.
#[derive(Default)]
struct BlobFacts {
    facts: Vec<(String, Facts)>,
    /// Size and binariness, kept for binary blobs and blobs over the large-file limit.
    notable: Option<(u64, bool)>,
    /// Size, kept for the versions of code (a commit that shrinks code may take its tests
    /// with it).
    code_size: Option<u64>,
}

/// What the workers read of one blob.
struct BlobRead {
    stats: ScanStats,
    secrets: Vec<Finding>,
    guards: BlobFacts,
}

/// What scanning a whole tree judges: what the files are, not how they changed (a tree has no
/// change, and listing every skipped test and stub it ever had would be noise).
const TREE_RULES: [Rule; 3] = [Rule::SensitiveFile, Rule::LargeFile, Rule::ConflictMarker];

/// Scans every unique blob of an index once, in parallel, attributing secrets to every path
/// and commit that introduced the blob; then runs the guards over each commit of the history
/// (or, for a tree, over its files as they are).
pub fn scan_index(
    repo: &Repo,
    index: &HistoryIndex,
    run: &Builtins<'_>,
    tree: Option<Oid>,
) -> Result<BuiltinFindings, GitError> {
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let root = repo.root.as_path();
    // Versions of a file repeat most of its lines: the keyword search reads each once.
    let quiet = &QuietText::new();
    let (results, names) = std::thread::scope(|scope| {
        let names = run.scanner.map(|scanner| {
            scope.spawn(move || names_and_messages(root, index, scanner, run.secrets, tree))
        });
        let results = read_blobs(root, &index.blobs, workers, |blob, content| {
            (read_blob(run, quiet, blob, content), blob.blob.clone())
        });
        (results, names.and_then(|h| h.join().ok()))
    });
    let names = names.transpose()?;
    Ok(finish(repo, index, run, tree, results?, names, started))
}

/// Scans a whole history: the listing of `git log --raw` streams into the blob readers, so
/// that inflating blobs starts at once instead of after the walk. A blob is read as the
/// listing first shows it, at that path; a blob the complete listing shows at more paths is
/// read again for all of them once the listing is done (a rename or a copy; few).
pub fn scan_history(
    repo: &Repo,
    run: &Builtins<'_>,
    with_changes: bool,
) -> Result<(HistoryIndex, BuiltinFindings), GitError> {
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let root = repo.root.as_path();
    // Versions of a file repeat most of its lines: the keyword search reads each once.
    let quiet = &QuietText::new();
    let (sender, queue) = std::sync::mpsc::channel::<BlobRef>();
    let (index, first, messages) = std::thread::scope(|scope| {
        // Messages need no listing: they are read and scanned beside it.
        let messages = run.scanner.map(|scanner| {
            scope.spawn(move || {
                let t = Instant::now();
                scan_messages(root, scanner, run.secrets).map(|found| (found, t.elapsed()))
            })
        });
        let readers = scope.spawn(move || {
            read_blob_queue(root, queue, workers, |blob, content| {
                (read_blob(run, quiet, blob, content), blob.blob.clone())
            })
        });
        let index =
            crate::git::index_history_streaming(root, with_changes, |blob, path, commit| {
                let _ = sender.send(BlobRef {
                    blob: blob.to_string(),
                    introduced: vec![(path.to_string(), commit.to_string())],
                });
            });
        drop(sender);
        let first = readers.join().unwrap_or_else(|_| {
            Err(crate::git::GitError::Command {
                command: "cat-file --batch".into(),
                message: "a reader thread panicked".into(),
            })
        });
        let messages = messages.and_then(|h| h.join().ok()).transpose();
        (index, first, messages)
    });
    let index = index?;
    let mut first = first?;
    let messages = messages?;
    // What the listing added after a blob was read: older commits at the same path (the
    // finding moves to the oldest), and other paths (the blob is read again for all).
    let by_id: HashMap<&str, &BlobRef> = index.blobs.iter().map(|b| (b.blob.as_str(), b)).collect();
    let again: Vec<BlobRef> = index
        .blobs
        .iter()
        .filter(|b| b.introduced.len() > 1)
        .cloned()
        .collect();
    let stats: HashMap<String, ScanStats> = first
        .iter()
        .map(|(read, blob)| (blob.clone(), read.stats))
        .collect();
    first.retain(|(_, blob)| {
        by_id
            .get(blob.as_str())
            .is_some_and(|b| b.introduced.len() == 1)
    });
    for (read, blob) in &mut first {
        let Some((path, commit)) = by_id.get(blob.as_str()).and_then(|b| b.introduced.first())
        else {
            continue;
        };
        for f in &mut read.secrets {
            if f.file.as_deref() == Some(path.as_str()) {
                f.commit = Some(commit.clone());
            }
        }
    }
    let results = read_blobs(root, &again, workers, |blob, content| {
        (read_blob(run, quiet, blob, content), blob.blob.clone())
    });
    let names = messages.map(|(mut found, took)| {
        let t = Instant::now();
        if let Some(scanner) = run.scanner {
            found.extend(scan_paths(&index, scanner, run.secrets));
        }
        (found, took + t.elapsed())
    });
    let mut results = results?;
    // Each blob counts once in the statistics: as the first reading counted it.
    for (read, blob) in &mut results {
        read.stats = stats.get(blob).copied().unwrap_or_default();
    }
    results.append(&mut first);
    let found = finish(repo, &index, run, None, results, names, started);
    Ok((index, found))
}

/// One blob read by both scanners, at every path it was introduced at.
fn read_blob(run: &Builtins<'_>, quiet: &QuietText, blob: &BlobRef, content: &[u8]) -> BlobRead {
    if let Some(counter) = run.counter {
        counter.add(content.len());
    }
    BlobRead {
        guards: if run.guards.enabled {
            blob_facts(blob, content, run.guards)
        } else {
            BlobFacts::default()
        },
        ..scan_blob(run, quiet, blob, content)
    }
}

fn names_and_messages(
    root: &std::path::Path,
    index: &HistoryIndex,
    scanner: &crate::secrets::Scanner,
    settings: &crate::config::SecretsSettings,
    tree: Option<Oid>,
) -> Result<(Vec<Finding>, std::time::Duration), GitError> {
    let t = Instant::now();
    let found = scan_names_and_messages(root, index, scanner, settings, tree)?;
    Ok((found, t.elapsed()))
}

/// What the readers found, put together: each secret once per path, at the oldest commit that
/// introduced it; then the guards over the commits (or the tree).
fn finish(
    repo: &Repo,
    index: &HistoryIndex,
    run: &Builtins<'_>,
    tree: Option<Oid>,
    results: Vec<(BlobRead, String)>,
    names: Option<(Vec<Finding>, std::time::Duration)>,
    started: Instant,
) -> BuiltinFindings {
    let mut out = BuiltinFindings {
        read_time: started.elapsed(),
        ..BuiltinFindings::default()
    };
    // A file edited many times holds the same secret in many blobs: report it once per path,
    // at the oldest commit that introduced it.
    let age = |f: &Finding| {
        f.commit
            .as_ref()
            .and_then(|c| index.commit_age.get(c))
            .copied()
            .unwrap_or(0)
    };
    let mut oldest: HashMap<(String, Option<String>), Finding> = HashMap::new();
    let mut facts: HashMap<String, Vec<(String, Facts)>> = HashMap::new();
    let mut notable: HashMap<String, (u64, bool)> = HashMap::new();
    let mut sizes: HashMap<String, u64> = HashMap::new();
    for (read, blob) in results {
        out.stats.add(read.stats);
        for f in read.secrets {
            let key = (f.fingerprint.clone(), f.file.clone());
            match oldest.get(&key) {
                Some(kept) if age(kept) >= age(&f) => {}
                _ => {
                    oldest.insert(key, f);
                }
            }
        }
        if !read.guards.facts.is_empty() {
            facts.insert(blob.clone(), read.guards.facts);
        }
        if let Some(size) = read.guards.code_size {
            sizes.insert(blob.clone(), size);
        }
        if let Some(n) = read.guards.notable {
            notable.insert(blob, n);
        }
    }
    out.secrets = oldest.into_values().collect();
    if let Some((found, took)) = names {
        out.secrets.extend(found);
        out.secrets_time += took;
    }
    if run.guards.enabled {
        let t = Instant::now();
        let versions = Versions {
            facts,
            notable,
            sizes,
        };
        out.guards = match tree {
            Some(head) => guard_tree(repo, index, &versions, run.guards, head),
            None => guard_history(repo, index, &versions, run.guards),
        };
        out.guards_time = t.elapsed();
    }
    tracing::debug!(
        blobs = index.blobs.len(),
        read_ms = out.read_time.as_millis(),
        guards_ms = out.guards_time.as_millis(),
        names_and_messages_ms = out.secrets_time.as_millis(),
        "built-in scanners over the index"
    );
    out
}

/// The secret scan of every path (once, at the oldest commit that introduced it) and, for a
/// history, of every commit's message.
fn scan_names_and_messages(
    root: &std::path::Path,
    index: &HistoryIndex,
    scanner: &crate::secrets::Scanner,
    settings: &crate::config::SecretsSettings,
    tree: Option<Oid>,
) -> Result<Vec<Finding>, GitError> {
    let mut found = scan_paths(index, scanner, settings);
    if tree.is_none() {
        found.extend(scan_messages(root, scanner, settings)?);
    }
    Ok(found)
}

/// The secret scan of every path, once, at the oldest commit that introduced it.
fn scan_paths(
    index: &HistoryIndex,
    scanner: &crate::secrets::Scanner,
    settings: &crate::config::SecretsSettings,
) -> Vec<Finding> {
    let mut paths: HashMap<&str, &str> = HashMap::new();
    for blob in &index.blobs {
        for (path, commit) in &blob.introduced {
            paths.entry(path).or_insert(commit);
        }
    }
    paths
        .into_iter()
        .flat_map(|(path, commit)| {
            scan_source(
                scanner,
                settings,
                Source::Path(path),
                path.as_bytes(),
                commit,
            )
        })
        .collect()
}

/// The secret scan of every commit's message.
fn scan_messages(
    root: &std::path::Path,
    scanner: &crate::secrets::Scanner,
    settings: &crate::config::SecretsSettings,
) -> Result<Vec<Finding>, GitError> {
    Ok(crate::git::commit_messages(root)?
        .into_iter()
        .flat_map(|(commit, message)| {
            scan_source(scanner, settings, Source::Message, &message, &commit)
        })
        .collect())
}

/// The secret scan of one blob, its findings placed at every path that introduced it.
fn scan_blob(run: &Builtins<'_>, quiet: &QuietText, blob: &BlobRef, content: &[u8]) -> BlobRead {
    let mut read = BlobRead {
        stats: ScanStats::default(),
        secrets: Vec::new(),
        guards: BlobFacts::default(),
    };
    let Some(scanner) = run.scanner else {
        return read;
    };
    let settings = run.secrets;
    let size = content.len() as u64;
    if !read
        .stats
        .admit(size, Some(is_binary(content)), settings.max_file_size)
    {
        return read;
    }
    let paths: Vec<&(String, String)> = blob
        .introduced
        .iter()
        .filter(|(p, _)| !settings.allow_paths.is_match(p))
        .collect();
    let Some((first_path, first_commit)) = paths.first() else {
        return read;
    };
    let found = scan_file(
        scanner,
        settings,
        first_path,
        content,
        Written::Committed(first_commit),
        None,
        Some(quiet),
    );
    for (path, commit) in &paths {
        for f in &found {
            let mut f = f.clone();
            f.file = Some(path.clone());
            f.commit = Some(commit.clone());
            read.secrets.push(f);
        }
    }
    read
}

/// The guards' facts of one blob at each path it was introduced at.
fn blob_facts(blob: &BlobRef, content: &[u8], settings: &GuardSettings) -> BlobFacts {
    let size = content.len() as u64;
    let binary = is_binary(content);
    BlobFacts {
        facts: blob
            .introduced
            .iter()
            .map(|(path, _)| (path.clone(), version_facts(path, content)))
            .filter(|(_, f)| *f != Facts::default())
            .collect(),
        notable: (binary || size > settings.large_file).then_some((size, binary)),
        code_size: blob
            .introduced
            .iter()
            .any(|(path, _)| is_code(path))
            .then_some(size),
    }
}

/// What the workers learnt of every blob.
struct Versions {
    /// By blob: the facts at each path it was introduced at (only those with any).
    facts: HashMap<String, Vec<(String, Facts)>>,
    notable: HashMap<String, (u64, bool)>,
    /// By blob: the size of versions of code.
    sizes: HashMap<String, u64>,
}

impl Versions {
    fn facts(&self, blob: Option<&String>, path: &str) -> Option<&Facts> {
        let at = self.facts.get(blob?.as_str())?;
        at.iter().find(|(p, _)| p == path).map(|(_, f)| f)
    }
}

/// The contents of the few files whose text the rules read (see `GuardSettings::needs_text`),
/// by blob id; and those of its test files when it loses tests or assertions, which tell whether
/// what was lost was written again elsewhere (as `audit` reads them).
fn texts(
    repo: &Repo,
    changes: &[RawChange],
    versions: &Versions,
    settings: &GuardSettings,
) -> HashMap<String, Vec<u8>> {
    let none = Facts::default();
    let facts_of = |c: &RawChange| {
        let of = |blob: Option<&String>| versions.facts(blob, &c.path).unwrap_or(&none);
        (of(c.old_blob.as_ref()), of(c.new_blob.as_ref()))
    };
    let facts: Vec<(&Facts, &Facts)> = changes.iter().map(facts_of).collect();
    let reads_tests = reads_test_texts(&facts);
    let holds_tests = |c: &RawChange| {
        let (old, new) = facts_of(c);
        holds_tests(&c.path, old, new)
    };
    let mut out = HashMap::new();
    for c in changes
        .iter()
        .filter(|c| settings.needs_text(&c.path) || (reads_tests && holds_tests(c)))
    {
        for id in [&c.old_blob, &c.new_blob].into_iter().flatten() {
            let blob = Oid::from_str(id)
                .ok()
                .and_then(|o| repo.git.find_blob(o).ok());
            if let Some(blob) = blob {
                out.insert(id.clone(), blob.content().to_vec());
            }
        }
    }
    out
}

/// The guards' view of one change, from what the workers read.
fn file_change<'a>(
    c: &'a RawChange,
    kind: FileStatus,
    versions: &'a Versions,
    texts: &'a HashMap<String, Vec<u8>>,
    none: &'a Facts,
) -> FileChange<'a> {
    let (notable_size, new_binary) = c
        .new_blob
        .as_ref()
        .and_then(|b| versions.notable.get(b))
        .copied()
        .unwrap_or((0, false));
    // Both sides' sizes from the same record: a new version measured as 0 would make every
    // modified code file look shrunk, and every deleted test look explained by removed code.
    let new_size = c
        .new_blob
        .as_ref()
        .and_then(|b| versions.sizes.get(b))
        .copied()
        .unwrap_or(notable_size);
    let text = |blob: &Option<String>| blob.as_ref().and_then(|b| texts.get(b)).map(Vec::as_slice);
    let old_size = c
        .old_blob
        .as_ref()
        .and_then(|b| versions.sizes.get(b))
        .copied()
        .unwrap_or(0);
    FileChange {
        path: c.path.clone(),
        old_path: None,
        kind,
        old: text(&c.old_blob),
        new: text(&c.new_blob),
        new_size,
        old_size,
        hunks: None,
        known: Some(Known {
            old: versions.facts(c.old_blob.as_ref(), &c.path).unwrap_or(none),
            new: versions.facts(c.new_blob.as_ref(), &c.path).unwrap_or(none),
            new_binary,
        }),
    }
}

/// The guards over every commit of the history, oldest first; a finding a later commit
/// repeats with the same change of its file (a cherry-pick, a branch merged as the same
/// blobs) is reported once, at the first. A later, different change of the file is its own
/// finding, even where the rule describes both alike ("changes the CI definition").
fn guard_history(
    repo: &Repo,
    index: &HistoryIndex,
    versions: &Versions,
    settings: &GuardSettings,
) -> Vec<Finding> {
    let none = Facts::default();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for commit in index.changes.iter().rev() {
        let changed: Vec<&str> = commit.changes.iter().map(|c| c.path.as_str()).collect();
        let elsewhere = Oid::from_str(&commit.commit)
            .ok()
            .and_then(|oid| super::builtin::ci_elsewhere(repo, oid, &changed));
        let at = CommitRef {
            id: &commit.commit,
            root: commit.root,
            ci_elsewhere: elsewhere.as_ref(),
        };
        let judge = |changes: &[RawChange]| {
            let texts = texts(repo, changes, versions, settings);
            let changes: Vec<FileChange<'_>> = changes
                .iter()
                .map(|c| {
                    let kind = match (&c.old_blob, &c.new_blob) {
                        (None, _) => FileStatus::Added,
                        (_, None) => FileStatus::Deleted,
                        _ => FileStatus::Modified,
                    };
                    file_change(c, kind, versions, &texts, &none)
                })
                .collect();
            check_commit(&changes, settings, at)
        };
        let mut found = judge(&commit.changes);
        // A merge is judged by what it did against every parent (the listing holds only the
        // files that differ from all of them): what one side brought is that side's.
        let parents = commit
            .changes
            .iter()
            .map(|c| c.other_parents.len())
            .max()
            .unwrap_or(0);
        for parent in 0..parents {
            if found.is_empty() {
                break;
            }
            let against: Vec<RawChange> = commit
                .changes
                .iter()
                .map(|c| RawChange {
                    old_blob: c.other_parents.get(parent).cloned().flatten(),
                    ..c.clone()
                })
                .collect();
            let again = judge(&against);
            found.retain(|f| {
                again
                    .iter()
                    .any(|g| g.rule == f.rule && g.file == f.file && g.line == f.line)
            });
        }
        for f in found {
            let change = commit
                .changes
                .iter()
                .find(|c| f.file.as_deref() == Some(c.path.as_str()))
                .map(|c| (c.old_blob.clone(), c.new_blob.clone()));
            if seen.insert((
                f.rule.clone(),
                f.file.clone(),
                f.description.clone(),
                change,
            )) {
                out.push(f);
            }
        }
    }
    out
}

/// The guards over a tree's files as they are (`TREE_RULES` only).
fn guard_tree(
    repo: &Repo,
    index: &HistoryIndex,
    versions: &Versions,
    settings: &GuardSettings,
    head: Oid,
) -> Vec<Finding> {
    let mut tree_settings = settings.clone();
    tree_settings
        .disabled
        .extend(Rule::ALL.iter().filter(|r| !TREE_RULES.contains(r)));
    let files: Vec<RawChange> = index
        .blobs
        .iter()
        .flat_map(|b| {
            b.introduced.iter().map(|(path, _)| RawChange {
                path: path.clone(),
                old_blob: None,
                new_blob: Some(b.blob.clone()),
                other_parents: Vec::new(),
            })
        })
        .collect();
    let none = Facts::default();
    let texts = texts(repo, &files, versions, &tree_settings);
    let changes: Vec<FileChange<'_>> = files
        .iter()
        .map(|c| file_change(c, FileStatus::Added, versions, &texts, &none))
        .collect();
    // The tree's rules judge no change, so whether the commit is a root does not matter.
    let id = head.to_string();
    check_commit(
        &changes,
        &tree_settings,
        CommitRef {
            id: &id,
            root: false,
            ci_elsewhere: None,
        },
    )
}
