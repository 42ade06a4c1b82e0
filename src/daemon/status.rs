//! `state/supervisor/status.json`: the daemon's live state, rewritten on every transition and
//! at every heartbeat, read by `auditor status` and `auditor watchdog`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::machine::StateName;
use crate::store::{AtomicWriteError, Layout, write_atomic};

/// The audit under way.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// The commit the report is for (HEAD of the batch).
    pub commit: String,
    /// How many commits the batch covers.
    pub commits: usize,
    /// An audit of uncommitted changes.
    pub uncommitted: bool,
    /// When the present stage started.
    pub stage_started: DateTime<Utc>,
    /// What earlier audits took for the whole audit, when known.
    pub estimate_ms: Option<u64>,
}

/// The last verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The audited commit.
    pub commit: String,
    /// PASS, WARN or FAIL.
    pub status: String,
    /// Issues per severity, most severe first.
    pub counts: Vec<(String, usize)>,
    /// When the audit ended.
    pub at: DateTime<Utc>,
    /// An audit of uncommitted changes.
    pub uncommitted: bool,
}

/// Everything `status.json` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The daemon's pid.
    pub pid: u32,
    /// The state.
    pub state: StateName,
    /// Since when.
    pub state_since: DateTime<Utc>,
    /// The last heartbeat.
    pub heartbeat: DateTime<Utc>,
    /// When the daemon started.
    pub started_at: DateTime<Utc>,
    /// `inotify` or `polling`.
    pub watcher: String,
    /// The audit under way.
    pub current: Option<Current>,
    /// The last verdict.
    pub last_verdict: Option<Verdict>,
    /// When the wait for a fix began.
    pub waiting_since: Option<DateTime<Utc>>,
    /// A batch is queued behind the running audit.
    pub queued: bool,
    /// The last checked commit.
    pub last_checked: Option<String>,
    /// Audits failing in a row: the commits they leave unaudited, and why.
    pub audit_failure: Option<crate::store::state::Failure>,
}

fn rfc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Status {
    /// The file's path.
    pub fn path(layout: &Layout) -> PathBuf {
        layout.state_dir.join("status.json")
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "schema_version": 1,
            "pid": self.pid,
            "version": env!("CARGO_PKG_VERSION"),
            "state": self.state.as_str(),
            "state_since": rfc(&self.state_since),
            "heartbeat": rfc(&self.heartbeat),
            "started_at": rfc(&self.started_at),
            "watcher": self.watcher,
            "current": self.current.as_ref().map(|c| json!({
                "commit": c.commit,
                "commits": c.commits,
                "uncommitted": c.uncommitted,
                "stage_started": rfc(&c.stage_started),
                "estimate_ms": c.estimate_ms,
            })),
            "last_verdict": self.last_verdict.as_ref().map(|v| json!({
                "commit": v.commit,
                "status": v.status,
                "counts": v.counts.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "at": rfc(&v.at),
                "uncommitted": v.uncommitted,
            })),
            "waiting_since": self.waiting_since.as_ref().map(rfc),
            "queued": self.queued,
            "last_checked": self.last_checked,
            "unaudited": self.audit_failure.as_ref().map_or(&[][..], |f| f.commits.as_slice()),
            "audit_failure": self.audit_failure.as_ref().map(crate::store::state::Failure::to_json),
        })
    }

    /// Parses the file's JSON; `None` when it is not a status file.
    pub fn from_json(v: &Value) -> Option<Status> {
        let verdict = v
            .get("last_verdict")
            .filter(|x| !x.is_null())
            .and_then(|l| {
                Some(Verdict {
                    commit: l["commit"].as_str()?.to_string(),
                    status: l["status"].as_str()?.to_string(),
                    counts: crate::finding::Severity::RANKED
                        .iter()
                        .map(|s| {
                            let n = l["counts"][s.as_str()].as_u64().unwrap_or(0);
                            (s.as_str().to_string(), usize::try_from(n).unwrap_or(0))
                        })
                        .collect(),
                    at: parse_time(&l["at"])?,
                    uncommitted: l["uncommitted"].as_bool().unwrap_or(false),
                })
            });
        let current = v.get("current").filter(|x| !x.is_null()).and_then(|c| {
            Some(Current {
                commit: c["commit"].as_str()?.to_string(),
                commits: usize::try_from(c["commits"].as_u64().unwrap_or(1)).unwrap_or(1),
                uncommitted: c["uncommitted"].as_bool().unwrap_or(false),
                stage_started: parse_time(&c["stage_started"])?,
                estimate_ms: c["estimate_ms"].as_u64(),
            })
        });
        Some(Status {
            pid: u32::try_from(v["pid"].as_u64()?).ok()?,
            state: StateName::parse(v["state"].as_str()?)?,
            state_since: parse_time(&v["state_since"])?,
            heartbeat: parse_time(&v["heartbeat"])?,
            started_at: parse_time(&v["started_at"])?,
            watcher: v["watcher"].as_str().unwrap_or("unknown").to_string(),
            current,
            last_verdict: verdict,
            waiting_since: parse_time(&v["waiting_since"]),
            queued: v["queued"].as_bool().unwrap_or(false),
            last_checked: v["last_checked"].as_str().map(str::to_string),
            audit_failure: v
                .get("audit_failure")
                .and_then(crate::store::state::Failure::from_json),
        })
    }

    /// Writes the file atomically.
    pub fn write(&self, layout: &Layout) -> Result<(), AtomicWriteError> {
        write_atomic(
            &Status::path(layout),
            format!("{:#}\n", self.to_json()).as_bytes(),
        )
    }

    /// Reads the file; `Err` says why it could not be used.
    pub fn read(layout: &Layout) -> Result<Status, String> {
        read_from(&Status::path(layout))
    }

    /// How old the heartbeat is.
    pub fn heartbeat_age(&self, now: DateTime<Utc>) -> Duration {
        (now - self.heartbeat).to_std().unwrap_or(Duration::ZERO)
    }
}

fn read_from(path: &Path) -> Result<Status, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON ({e})", path.display()))?;
    Status::from_json(&v).ok_or_else(|| format!("{} is not a status file", path.display()))
}

/// `m:ss` (or `h:mm:ss`) for a status line.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `1C 2H` for the non-zero counts (`clean` when none).
pub fn short_counts(counts: &[(String, usize)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n}{}", s.chars().next().unwrap_or('?')))
        .collect();
    if parts.is_empty() {
        "clean".into()
    } else {
        parts.join(" ")
    }
}

/// The one-line form (`auditor status --short`, the live view's header). `open` are the
/// ledger's open issues by severity, when known; else the last verdict's counts are shown.
pub fn short_line(s: &Status, now: DateTime<Utc>, open: Option<&[(String, usize)]>) -> String {
    let mut line = format!("auditor: {}", s.state);
    if let Some(c) = &s.current {
        let elapsed = (now - c.stage_started).to_std().unwrap_or(Duration::ZERO);
        line.push_str(&format!(
            " {} {}",
            if c.uncommitted {
                "uncommitted"
            } else {
                &c.commit[..c.commit.len().min(7)]
            },
            clock(elapsed)
        ));
        if let Some(est) = c.estimate_ms {
            line.push_str(&format!("/~{}", clock(Duration::from_millis(est))));
        }
    }
    match (open, &s.last_verdict) {
        (Some(counts), _) => line.push_str(&format!(" | {}", short_counts(counts))),
        (None, Some(v)) => line.push_str(&format!(" | {}", short_counts(&v.counts))),
        (None, None) => {}
    }
    if let Some(f) = &s.audit_failure {
        // Never "clean" while commits wait unaudited.
        line.push_str(&format!(" | {} UNAUDITED", f.commits.len()));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123Z")
            .expect("time")
            .with_timezone(&Utc);
        let s = Status {
            pid: 42,
            state: StateName::Testing,
            state_since: now,
            heartbeat: now,
            started_at: now,
            watcher: "inotify".into(),
            current: Some(Current {
                commit: "a".repeat(40),
                commits: 3,
                uncommitted: false,
                stage_started: now,
                estimate_ms: Some(90_000),
            }),
            last_verdict: Some(Verdict {
                commit: "b".repeat(40),
                status: "FAIL".into(),
                counts: vec![
                    ("CRITICAL".into(), 1),
                    ("HIGH".into(), 2),
                    ("MEDIUM".into(), 0),
                    ("LOW".into(), 0),
                ],
                at: now,
                uncommitted: false,
            }),
            waiting_since: None,
            queued: true,
            last_checked: Some("c".repeat(40)),
            audit_failure: None,
        };
        assert_eq!(Status::from_json(&s.to_json()), Some(s));
    }
}
