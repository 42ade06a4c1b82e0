//! Whole-history and whole-tree blob reading for `scan --history` and `scan --tree`.
//!
//! Diffing every commit (what gitleaks does, through `git log -p`) costs more than reading
//! every unique blob once. So: list which blobs each commit introduced at which path with
//! `git log --raw` (tree diffs only, no content), then inflate each unique blob exactly once
//! through `git cat-file --batch` processes, one per worker, and attribute what is found to
//! the commit that first introduced that blob at that path.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Stdio;

use super::command::git_command;
use super::error::GitError;

/// A blob and where it first appeared.
#[derive(Debug, Clone)]
pub struct BlobRef {
    /// The blob's id (hex).
    pub blob: String,
    /// Each path it was introduced at, with the oldest commit that introduced it there.
    pub introduced: Vec<(String, String)>,
}

/// A file one commit changed, as `git log --raw` lists it: renames are a deletion and an
/// addition, a merge is compared with its first parent (and listed only where it differs from
/// every parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChange {
    /// The path.
    pub path: String,
    /// The version before (hex; none when added, or not a regular file).
    pub old_blob: Option<String>,
    /// The version after (hex; none when deleted).
    pub new_blob: Option<String>,
    /// For a merge, the version in each other parent (none where it had none).
    pub other_parents: Vec<Option<String>>,
}

/// The files one commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommit {
    /// The commit (hex).
    pub commit: String,
    /// Whether it has no parent.
    pub root: bool,
    /// Its changed regular files.
    pub changes: Vec<RawChange>,
}

/// Every unique blob of a history, in the order git listed them.
#[derive(Debug, Default)]
pub struct HistoryIndex {
    /// Unique blobs.
    pub blobs: Vec<BlobRef>,
    /// Commits walked.
    pub commits: usize,
    /// Each commit's age rank: higher is older (git log lists newest first).
    pub commit_age: HashMap<String, usize>,
    /// Each commit's changes, newest first, when asked for.
    pub changes: Vec<RawCommit>,
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = git_command(root)
        .args(args)
        .output()
        .map_err(|e| GitError::Command {
            command: args.join(" "),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(GitError::Command {
            command: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

#[derive(Default)]
struct IndexBuilder {
    order: Vec<String>,
    by_blob: HashMap<String, Vec<(String, String)>>,
    commit_age: HashMap<String, usize>,
}

impl IndexBuilder {
    /// Records a sighting; true when the blob is new.
    fn add(&mut self, blob: &str, path: String, commit: &str) -> bool {
        let mut new = false;
        let entry = self.by_blob.entry(blob.to_string()).or_insert_with(|| {
            self.order.push(blob.to_string());
            new = true;
            Vec::new()
        });
        // git log lists newest first: a later sighting at the same path is an older commit.
        match entry.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = commit.to_string(),
            None => entry.push((path, commit.to_string())),
        }
        new
    }

    fn finish(mut self, commits: usize, changes: Vec<RawCommit>) -> HistoryIndex {
        let commit_age = std::mem::take(&mut self.commit_age);
        let blobs = self
            .order
            .into_iter()
            .map(|blob| BlobRef {
                introduced: self.by_blob.remove(&blob).unwrap_or_default(),
                blob,
            })
            .collect();
        HistoryIndex {
            blobs,
            commits,
            commit_age,
            changes,
        }
    }
}

const NULL_OID: &str = "0000000000000000000000000000000000000000";

fn is_content_mode(mode: &str) -> bool {
    mode == "100644" || mode == "100755"
}

/// Reads `git log --raw -z -c --format=%x01%H %P` output token by token (NUL-separated), as it
/// streams; with `with_changes`, keeps each commit's changes too.
struct RawLogParser {
    builder: IndexBuilder,
    history: Vec<RawCommit>,
    with_changes: bool,
    commit: String,
    commits: usize,
    /// A change's status token, waiting for its path (the next token).
    pending: Option<String>,
}

impl RawLogParser {
    fn new(with_changes: bool) -> RawLogParser {
        RawLogParser {
            builder: IndexBuilder::default(),
            history: Vec::new(),
            with_changes,
            commit: String::new(),
            commits: 0,
            pending: None,
        }
    }

    /// Takes one token; a blob seen for the first time goes to `on_new` with its path and
    /// commit.
    fn token(&mut self, token: &[u8], on_new: &mut impl FnMut(&str, &str, &str)) {
        if let Some(status) = self.pending.take() {
            let path = String::from_utf8_lossy(token).into_owned();
            self.change(&status, path, on_new);
            return;
        }
        let token = String::from_utf8_lossy(token);
        let token = token.trim_start_matches('\n');
        if let Some(header) = token.strip_prefix('\u{1}') {
            let mut ids = header.split_whitespace();
            self.commit = ids.next().unwrap_or_default().to_string();
            self.builder
                .commit_age
                .insert(self.commit.clone(), self.commits);
            self.commits += 1;
            if self.with_changes {
                self.history.push(RawCommit {
                    commit: self.commit.clone(),
                    root: ids.next().is_none(),
                    changes: Vec::new(),
                });
            }
        } else if token.starts_with(':') {
            self.pending = Some(token.to_string());
        }
    }

    /// `:old new oldsha newsha S` or, for merges, `::m1 m2 new sha1 sha2 new SS`, at `path`.
    fn change(&mut self, token: &str, path: String, on_new: &mut impl FnMut(&str, &str, &str)) {
        let fields: Vec<&str> = token.trim_start_matches(':').split(' ').collect();
        let parents = token.bytes().take_while(|&b| b == b':').count();
        let (Some(mode), Some(sha)) = (fields.get(parents), fields.get(2 * parents + 1)) else {
            return;
        };
        let new_blob = (is_content_mode(mode) && *sha != NULL_OID).then(|| sha.to_string());
        if let Some(blob) = &new_blob
            && self.builder.add(blob, path.clone(), &self.commit)
        {
            on_new(blob, &path, &self.commit);
        }
        if let Some(last) = self.history.last_mut() {
            // Each parent's mode, then each parent's blob: the first parent's come first.
            let version_in =
                |parent: usize| match (fields.get(parent), fields.get(parents + 1 + parent)) {
                    (Some(m), Some(s)) if is_content_mode(m) && *s != NULL_OID => {
                        Some(s.to_string())
                    }
                    _ => None,
                };
            let old_blob = version_in(0);
            let other_parents = (1..parents).map(version_in).collect();
            let new_mode_is_content = is_content_mode(mode) || *sha == NULL_OID;
            if new_mode_is_content && (old_blob.is_some() || new_blob.is_some()) {
                last.changes.push(RawChange {
                    path,
                    old_blob,
                    new_blob,
                    other_parents,
                });
            }
        }
    }

    fn finish(self) -> HistoryIndex {
        self.builder.finish(self.commits, self.history)
    }
}

/// Parses a whole `git log --raw -z -c --format=%x01%H %P` output.
#[cfg(test)]
fn parse_raw_log(out: &[u8], with_changes: bool) -> HistoryIndex {
    let mut parser = RawLogParser::new(with_changes);
    for token in out.split(|&b| b == 0) {
        parser.token(token, &mut |_, _, _| {});
    }
    parser.finish()
}

const RAW_LOG: [&str; 8] = [
    "log",
    "--all",
    "--raw",
    "-z",
    "-c",
    "--no-renames",
    "--no-abbrev",
    "--format=%x01%H %P",
];

/// Like `index_history`, streaming: each blob goes to `on_new` (with the path and commit it
/// was first seen at, newest first) while `git log` still runs, so that reading blobs can
/// start at once instead of after the whole walk.
pub fn index_history_streaming(
    root: &Path,
    with_changes: bool,
    mut on_new: impl FnMut(&str, &str, &str),
) -> Result<HistoryIndex, GitError> {
    let fail = |message: String| GitError::Command {
        command: RAW_LOG.join(" "),
        message,
    };
    let mut child = git_command(root)
        .args(RAW_LOG)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| fail("no stdout".into()))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| fail("no stderr".into()))?;
    // Drained beside stdout, so that a chatty git can never block on a full pipe.
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut parser = RawLogParser::new(with_changes);
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut token = Vec::new();
    loop {
        token.clear();
        let n = reader
            .read_until(0, &mut token)
            .map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        if token.last() == Some(&0) {
            token.pop();
        }
        parser.token(&token, &mut on_new);
    }
    let status = child.wait().map_err(|e| fail(e.to_string()))?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(fail(errors.trim().to_string()));
    }
    Ok(parser.finish())
}

/// Lists every blob introduced anywhere in the history reachable from any ref; with
/// `with_changes`, each commit's changes too.
pub fn index_history(root: &Path, with_changes: bool) -> Result<HistoryIndex, GitError> {
    index_history_streaming(root, with_changes, |_, _, _| {})
}

/// Every commit's message, with its id, from one `git log` (much faster than reading each
/// commit object). A message holding a NUL byte cannot break the framing into a loss: a record
/// that does not start with a commit id belongs to the commit before it.
pub fn commit_messages(root: &Path) -> Result<Vec<(String, Vec<u8>)>, GitError> {
    let out = git(root, &["log", "--all", "-z", "--format=%H%n%B"])?;
    Ok(parse_messages(&out))
}

/// `git log -z --format=%H%n%B` output as (id, message) pairs.
fn parse_messages(out: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut messages: Vec<(String, Vec<u8>)> = Vec::new();
    for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        // SHA-1 or SHA-256 ids.
        let id_len = [40, 64].into_iter().find(|&n| {
            record.get(n) == Some(&b'\n') && record[..n].iter().all(u8::is_ascii_hexdigit)
        });
        match (id_len, messages.last_mut()) {
            (Some(n), _) => messages.push((
                String::from_utf8_lossy(&record[..n]).into_owned(),
                record[n + 1..].to_vec(),
            )),
            (None, Some((_, message))) => {
                message.push(0);
                message.extend_from_slice(record);
            }
            (None, None) => messages.push((String::new(), record.to_vec())),
        }
    }
    messages
}

/// Lists every blob of a commit's tree.
pub fn index_tree(root: &Path, commit: &str) -> Result<HistoryIndex, GitError> {
    let out = git(root, &["ls-tree", "-r", "-z", "--full-tree", commit])?;
    let mut builder = IndexBuilder::default();
    for entry in out.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if let [mode, "blob", sha] = fields.as_slice()
            && is_content_mode(mode)
        {
            builder.add(sha, path.to_string(), commit);
        }
    }
    Ok(builder.finish(1, Vec::new()))
}

/// Reads each blob once through `workers` `git cat-file --batch` processes and calls
/// `visit(blob, content)` on it; results come back in no particular order.
pub fn read_blobs<R, F>(
    root: &Path,
    blobs: &[BlobRef],
    workers: usize,
    visit: F,
) -> Result<Vec<R>, GitError>
where
    R: Send,
    F: Fn(&BlobRef, &[u8]) -> R + Sync,
{
    let workers = workers.clamp(1, blobs.len().max(1));
    // Contiguous chunks keep git's listing order within a worker, which helps its delta cache.
    let chunk = blobs.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = blobs
            .chunks(chunk)
            .map(|part| scope.spawn(|| read_chunk(root, part, &visit)))
            .collect();
        let mut all = Vec::with_capacity(blobs.len());
        for h in handles {
            let part = h.join().map_err(|_| GitError::Command {
                command: "cat-file --batch".into(),
                message: "a reader thread panicked".into(),
            })??;
            all.extend(part);
        }
        Ok(all)
    })
}

/// Like `read_blobs`, for blobs that arrive on `queue` while they are being listed: each of
/// `workers` threads takes the next batch off the queue for its own `cat-file` process.
pub fn read_blob_queue<R, F>(
    root: &Path,
    queue: std::sync::mpsc::Receiver<BlobRef>,
    workers: usize,
    visit: F,
) -> Result<Vec<R>, GitError>
where
    R: Send,
    F: Fn(&BlobRef, &[u8]) -> R + Sync,
{
    let queue = std::sync::Mutex::new(queue);
    let next_batch = || -> Vec<BlobRef> {
        let Ok(queue) = queue.lock() else {
            return Vec::new();
        };
        // Wait for one, then take what is there, up to a batch: consecutive blobs of the
        // listing share delta bases, which keeps git's delta cache warm.
        let Ok(first) = queue.recv() else {
            return Vec::new();
        };
        let mut batch = vec![first];
        while batch.len() < QUEUE_BATCH {
            match queue.try_recv() {
                Ok(b) => batch.push(b),
                Err(_) => break,
            }
        }
        batch
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut reader = CatFile::start(root)?;
                    let mut out = Vec::new();
                    loop {
                        let batch = next_batch();
                        if batch.is_empty() {
                            break;
                        }
                        reader.request(&batch)?;
                        for blob in &batch {
                            let content = reader.next_blob()?;
                            out.push(visit(blob, content));
                        }
                    }
                    reader.finish();
                    Ok::<_, GitError>(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| cat_file_error("a reader thread panicked".into()))??,
            );
        }
        Ok(all)
    })
}

/// How many blobs a reader asks `cat-file` for at once.
const QUEUE_BATCH: usize = 128;

fn cat_file_error(message: String) -> GitError {
    GitError::Command {
        command: "cat-file --batch".into(),
        message,
    }
}

/// One `git cat-file --batch` process, asked for blobs a batch at a time.
struct CatFile {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    reader: BufReader<std::process::ChildStdout>,
    header: String,
    content: Vec<u8>,
}

impl CatFile {
    fn start(root: &Path) -> Result<CatFile, GitError> {
        let mut child = git_command(root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| cat_file_error(e.to_string()))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| cat_file_error("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| cat_file_error("no stdout".into()))?;
        Ok(CatFile {
            child,
            stdin,
            reader: BufReader::with_capacity(1 << 20, stdout),
            header: String::new(),
            content: Vec::new(),
        })
    }

    /// Asks for a batch. A batch's ids fit in the pipe's buffer, and every answer is read
    /// before the next batch is asked for, so neither pipe can fill up and deadlock.
    fn request(&mut self, batch: &[BlobRef]) -> Result<(), GitError> {
        let mut text = String::with_capacity(batch.len() * 41);
        for b in batch {
            text.push_str(&b.blob);
            text.push('\n');
        }
        self.stdin
            .write_all(text.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| cat_file_error(e.to_string()))
    }

    /// The next answer's content.
    fn next_blob(&mut self) -> Result<&[u8], GitError> {
        let size = read_header(&mut self.reader, &mut self.header)?;
        self.content.resize(size + 1, 0);
        self.reader
            .read_exact(&mut self.content)
            .map_err(|e| cat_file_error(e.to_string()))?;
        Ok(&self.content[..size])
    }

    fn finish(mut self) {
        drop(self.stdin);
        let _ = self.child.wait();
    }
}

/// Reads one `cat-file --batch` header and returns the blob's size. A blob the history names
/// but the store lacks (a damaged or partial clone, or an object deleted to hide it) is never
/// scanned clean.
fn read_header(reader: &mut impl BufRead, header: &mut String) -> Result<usize, GitError> {
    header.clear();
    reader
        .read_line(header)
        .map_err(|e| cat_file_error(e.to_string()))?;
    let fields: Vec<&str> = header.split_whitespace().collect();
    match fields.as_slice() {
        [_, "blob", size] => size
            .parse()
            .map_err(|_| cat_file_error(format!("bad header `{header}`"))),
        [id, "missing"] => Err(GitError::MissingObject { id: id.to_string() }),
        _ => Err(cat_file_error(format!(
            "unexpected header `{}`",
            header.trim()
        ))),
    }
}

fn read_chunk<R, F>(root: &Path, part: &[BlobRef], visit: &F) -> Result<Vec<R>, GitError>
where
    F: Fn(&BlobRef, &[u8]) -> R,
{
    let mut reader = CatFile::start(root)?;
    let mut results = Vec::with_capacity(part.len());
    for batch in part.chunks(QUEUE_BATCH) {
        reader.request(batch)?;
        for blob in batch {
            results.push(visit(blob, reader.next_blob()?));
        }
    }
    reader.finish();
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_in_a_message_keeps_its_text_with_its_commit() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let out = format!("{a}\nfirst\0{b}\nsecond half\0hidden tail\0");
        let m = parse_messages(out.as_bytes());
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], (a, b"first".to_vec()));
        assert_eq!(m[1].0, b);
        assert_eq!(m[1].1, b"second half\0hidden tail".to_vec());
    }

    #[test]
    fn parses_raw_log_with_merges_and_deletions() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let c = "c".repeat(40);
        let out = format!(
            "\u{1}c2 m1\0\n:100644 100644 {a} {b} M\0src/x.rs\0:100644 000000 {a} {NULL_OID} D\0gone.txt\0\
             \u{1}m1 c1 x1\0\n::100644 100644 100644 {a} {b} {c} MM\0merged.txt\0\
             \u{1}c1 \0\n:000000 100644 {NULL_OID} {a} A\0src/x.rs\0:000000 160000 {NULL_OID} {c} A\0sub\0"
        );
        let idx = parse_raw_log(out.as_bytes(), true);
        assert_eq!(idx.commits, 3);
        let ids: Vec<&str> = idx.blobs.iter().map(|b| b.blob.as_str()).collect();
        assert_eq!(ids, [b.as_str(), c.as_str(), a.as_str()]);
        assert_eq!(
            idx.blobs[1].introduced,
            [("merged.txt".into(), "m1".into())]
        );
        assert_eq!(idx.blobs[2].introduced, [("src/x.rs".into(), "c1".into())]);
        let change = |path: &str, old: Option<&str>, new: Option<&str>| RawChange {
            path: path.into(),
            old_blob: old.map(String::from),
            new_blob: new.map(String::from),
            other_parents: Vec::new(),
        };
        let commits: Vec<(&str, bool)> = idx
            .changes
            .iter()
            .map(|c| (c.commit.as_str(), c.root))
            .collect();
        assert_eq!(commits, [("c2", false), ("m1", false), ("c1", true)]);
        assert_eq!(
            idx.changes[0].changes,
            [
                change("src/x.rs", Some(&a), Some(&b)),
                change("gone.txt", Some(&a), None)
            ]
        );
        // A merge against its first parent, with the other parent's version; a submodule is
        // no file.
        assert_eq!(
            idx.changes[1].changes,
            [RawChange {
                other_parents: vec![Some(b.clone())],
                ..change("merged.txt", Some(&a), Some(&c))
            }]
        );
        assert_eq!(idx.changes[2].changes, [change("src/x.rs", None, Some(&a))]);
        assert!(parse_raw_log(out.as_bytes(), false).changes.is_empty());
    }
}
