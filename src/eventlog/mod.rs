//! The event log, `logs/audit/events.jsonl`: one JSON object a line for every detection,
//! transition, check, report, feedback file, skip, rewrite, restart and error.
//!
//! Lines are appended with one `write(2)` on an `O_APPEND` file, so a kill at any moment
//! leaves whole lines (a rename-based atomic write would rewrite megabytes per event). When the
//! file passes its size limit it is renamed to a segment and gzipped (temp file, fsync,
//! rename); segments older than the retention are deleted.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

/// The live file's name inside the reports folder.
pub const FILE_NAME: &str = "events.jsonl";

/// How severe an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal operation.
    Info,
    /// Something the operator should know (a skip, a rewrite, a recovered corrupt file).
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// Rotation and retention limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Rotate when the live file passes this size.
    pub max_bytes: u64,
    /// Delete segments older than this.
    pub retention: Duration,
}

/// An append-only event log.
#[derive(Debug)]
pub struct EventLog {
    dir: PathBuf,
    limits: Limits,
    run: String,
    seq: u64,
}

impl EventLog {
    /// A log in `dir` (the reports folder). Finishes any rotation a crash interrupted.
    pub fn new(dir: &Path, limits: Limits) -> EventLog {
        let log = EventLog {
            dir: dir.to_path_buf(),
            limits,
            run: format!(
                "{:x}{:x}",
                chrono::Utc::now().timestamp_millis(),
                std::process::id()
            ),
            seq: 0,
        };
        log.compress_leftovers();
        log.prune();
        log
    }

    /// The live file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Appends one event. Failing to log never stops the daemon; the error is traced.
    pub fn append(&mut self, event_type: &str, level: Level, commit: Option<&str>, details: Value) {
        self.seq += 1;
        let line = render_line(
            &format!("{}-{}", self.run, self.seq),
            event_type,
            level,
            commit,
            details,
        );
        if let Err(e) = self.append_line(&line) {
            tracing::warn!("cannot append to {}: {e}", self.path().display());
        }
    }

    fn append_line(&mut self, line: &str) -> std::io::Result<()> {
        // Event details quote commit subjects, paths and messages: the choke point first.
        let line = crate::secrets::clean(line);
        fs::create_dir_all(&self.dir)?;
        let path = self.path();
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        file.write_all(line.as_bytes())?;
        let size = file.metadata()?.len();
        drop(file);
        if size >= self.limits.max_bytes {
            self.rotate()?;
        }
        Ok(())
    }

    /// Moves the live file to a segment and gzips it.
    fn rotate(&self) -> std::io::Result<()> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        // Two rotations in one millisecond must not share a name: the second would replace
        // the first segment and its events.
        let taken =
            |p: &PathBuf| p.exists() || PathBuf::from(format!("{}.gz", p.display())).exists();
        let mut segment = self.dir.join(format!("events-{stamp}.jsonl"));
        let mut n = 1;
        while taken(&segment) {
            segment = self.dir.join(format!("events-{stamp}-{n}.jsonl"));
            n += 1;
        }
        fs::rename(self.path(), &segment)?;
        gzip_segment(&segment)?;
        self.prune();
        Ok(())
    }

    fn segments(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("events-") && n.contains(".jsonl"))
            })
            .collect()
    }

    /// Gzips segments a crash left uncompressed.
    fn compress_leftovers(&self) {
        for seg in self.segments() {
            if seg.extension().is_some_and(|e| e == "jsonl")
                && let Err(e) = gzip_segment(&seg)
            {
                tracing::warn!("cannot compress {}: {e}", seg.display());
            }
        }
    }

    /// Deletes segments older than the retention.
    fn prune(&self) {
        let now = SystemTime::now();
        for seg in self.segments() {
            let age = fs::metadata(&seg)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok());
            if age.is_some_and(|a| a > self.limits.retention) {
                let _ = fs::remove_file(&seg);
            }
        }
    }
}

/// One event as its JSON line (with the newline).
pub fn render_line(
    event_id: &str,
    event_type: &str,
    level: Level,
    commit: Option<&str>,
    details: Value,
) -> String {
    let mut obj = Map::new();
    obj.insert(
        "timestamp".into(),
        json!(
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        ),
    );
    obj.insert("event_id".into(), json!(event_id));
    obj.insert("event_type".into(), json!(event_type));
    obj.insert("severity".into(), json!(level.as_str()));
    obj.insert("commit".into(), json!(commit));
    obj.insert("details".into(), details);
    format!("{}\n", Value::Object(obj))
}

/// Writes `segment.gz` atomically, then removes `segment`.
fn gzip_segment(segment: &Path) -> std::io::Result<()> {
    use flate2::{Compression, write::GzEncoder};
    let gz = PathBuf::from(format!("{}.gz", segment.display()));
    let tmp = PathBuf::from(format!("{}.tmp", gz.display()));
    let mut input = File::open(segment)?;
    let mut encoder = GzEncoder::new(File::create(&tmp)?, Compression::default());
    std::io::copy(&mut input, &mut encoder)?;
    let file = encoder.finish()?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &gz)?;
    fs::remove_file(segment)?;
    if let Some(dir) = segment.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Appends one event from a process that is not the daemon (the watchdog, `reset`).
pub fn append_once(dir: &Path, limits: Limits, event_type: &str, level: Level, details: Value) {
    let mut log = EventLog {
        dir: dir.to_path_buf(),
        limits,
        run: format!("{:x}", std::process::id()),
        seq: 0,
    };
    log.append(event_type, level, None, details);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_audit_log_shape() {
        let line = render_line(
            "e-1",
            "transition",
            Level::Info,
            Some("abc"),
            json!({"to": "IDLE"}),
        );
        let v: Value = serde_json::from_str(line.trim_end()).expect("json");
        assert_eq!(v["event_type"], "transition");
        assert_eq!(v["severity"], "INFO");
        assert_eq!(v["commit"], "abc");
        let ts = v["timestamp"].as_str().expect("timestamp");
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
        assert!(
            ts.ends_with('Z') && ts.len() == 24,
            "milliseconds, UTC: {ts}"
        );
    }

    #[test]
    fn rotates_gzips_and_keeps_every_line() {
        use std::io::Read;
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = Limits {
            max_bytes: 2_000,
            retention: Duration::from_secs(3600),
        };
        let mut log = EventLog::new(dir.path(), limits);
        for i in 0..100 {
            log.append("tick", Level::Info, None, json!({ "i": i }));
        }
        let mut total = 0;
        for seg in log.segments() {
            assert!(
                seg.to_string_lossy().ends_with(".jsonl.gz"),
                "{}",
                seg.display()
            );
            let mut text = String::new();
            flate2::read::GzDecoder::new(File::open(&seg).expect("open"))
                .read_to_string(&mut text)
                .expect("gunzip");
            total += text.lines().count();
        }
        assert!(total > 0, "no segment was written");
        let live = fs::read_to_string(log.path()).unwrap_or_default();
        assert_eq!(total + live.lines().count(), 100);
    }

    #[test]
    fn segments_past_the_retention_are_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = Limits {
            max_bytes: 1_024,
            retention: Duration::ZERO,
        };
        let mut log = EventLog::new(dir.path(), limits);
        for i in 0..40 {
            log.append("tick", Level::Info, None, json!({ "i": i }));
        }
        // Every rotation prunes: with no retention, no segment survives its own rotation.
        std::thread::sleep(Duration::from_millis(20));
        log.prune();
        assert!(log.segments().is_empty(), "{:?}", log.segments());
    }
}
