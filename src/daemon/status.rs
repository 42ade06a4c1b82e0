//! `state/supervisor/status.json`: the daemon's live state, rewritten on every transition and
//! at every heartbeat, read by `auditor status` and `auditor watchdog`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// Times as RFC 3339 with milliseconds, the status file's spelling.
mod millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same, for a time that may be absent.
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::rfc(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            // An unreadable time is no time: the file stays usable.
            Ok(Option::<String>::deserialize(d)?
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)))
        }
    }
}

/// `current` as written.
#[derive(Serialize, Deserialize)]
struct CurrentFile {
    commit: String,
    #[serde(default = "one")]
    commits: usize,
    #[serde(default)]
    uncommitted: bool,
    #[serde(with = "millis")]
    stage_started: DateTime<Utc>,
    #[serde(default)]
    estimate_ms: Option<u64>,
}

fn one() -> usize {
    1
}

/// `last_verdict` as written.
#[derive(Serialize, Deserialize)]
struct VerdictFile {
    commit: String,
    status: String,
    #[serde(default)]
    counts: serde_json::Map<String, Value>,
    #[serde(with = "millis")]
    at: DateTime<Utc>,
    #[serde(default)]
    uncommitted: bool,
}

/// `status.json` as written.
#[derive(Serialize, Deserialize)]
struct StatusFile {
    schema_version: u32,
    pid: u32,
    #[serde(default)]
    version: String,
    state: String,
    #[serde(with = "millis")]
    state_since: DateTime<Utc>,
    #[serde(with = "millis")]
    heartbeat: DateTime<Utc>,
    #[serde(with = "millis")]
    started_at: DateTime<Utc>,
    #[serde(default = "unknown")]
    watcher: String,
    #[serde(default, deserialize_with = "lenient")]
    current: Option<CurrentFile>,
    #[serde(default, deserialize_with = "lenient")]
    last_verdict: Option<VerdictFile>,
    #[serde(default, with = "millis::option")]
    waiting_since: Option<DateTime<Utc>>,
    #[serde(default)]
    queued: bool,
    #[serde(default)]
    last_checked: Option<String>,
    /// The failing commits again, at the top level for scripts.
    #[serde(default)]
    unaudited: Vec<String>,
    #[serde(default, deserialize_with = "lenient")]
    audit_failure: Option<crate::store::state::Failure>,
}

fn unknown() -> String {
    "unknown".into()
}

/// A part of the file that does not read is absent, not a reason to distrust the rest.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

impl Status {
    /// The file's path.
    pub fn path(layout: &Layout) -> PathBuf {
        layout.state_dir.join("status.json")
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        let file = StatusFile {
            schema_version: 1,
            pid: self.pid,
            version: env!("CARGO_PKG_VERSION").into(),
            state: self.state.as_str().into(),
            state_since: self.state_since,
            heartbeat: self.heartbeat,
            started_at: self.started_at,
            watcher: self.watcher.clone(),
            current: self.current.as_ref().map(|c| CurrentFile {
                commit: c.commit.clone(),
                commits: c.commits,
                uncommitted: c.uncommitted,
                stage_started: c.stage_started,
                estimate_ms: c.estimate_ms,
            }),
            // The counts in their order, most severe first.
            last_verdict: self.last_verdict.as_ref().map(|v| VerdictFile {
                commit: v.commit.clone(),
                status: v.status.clone(),
                counts: v
                    .counts
                    .iter()
                    .map(|(s, n)| (s.clone(), Value::from(*n)))
                    .collect(),
                at: v.at,
                uncommitted: v.uncommitted,
            }),
            waiting_since: self.waiting_since,
            queued: self.queued,
            last_checked: self.last_checked.clone(),
            unaudited: self
                .audit_failure
                .as_ref()
                .map(|f| f.commits.clone())
                .unwrap_or_default(),
            audit_failure: self.audit_failure.clone(),
        };
        serde_json::to_value(file).unwrap_or_default()
    }

    /// Parses the file's JSON; `None` when it is not a status file.
    pub fn from_json(v: &Value) -> Option<Status> {
        let file = StatusFile::deserialize(v).ok()?;
        let verdict = file.last_verdict.map(|l| Verdict {
            commit: l.commit,
            status: l.status,
            // Most severe first, every severity present.
            counts: crate::finding::Severity::RANKED
                .iter()
                .map(|s| {
                    let n = l
                        .counts
                        .get(s.as_str())
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    (s.as_str().to_string(), usize::try_from(n).unwrap_or(0))
                })
                .collect(),
            at: l.at,
            uncommitted: l.uncommitted,
        });
        Some(Status {
            pid: file.pid,
            state: StateName::parse(&file.state)?,
            state_since: file.state_since,
            heartbeat: file.heartbeat,
            started_at: file.started_at,
            watcher: file.watcher,
            current: file.current.map(|c| Current {
                commit: c.commit,
                commits: c.commits,
                uncommitted: c.uncommitted,
                stage_started: c.stage_started,
                estimate_ms: c.estimate_ms,
            }),
            last_verdict: verdict,
            waiting_since: file.waiting_since,
            queued: file.queued,
            last_checked: file.last_checked,
            audit_failure: file.audit_failure,
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
                crate::bytes::short(&c.commit)
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
        assert_eq!(Status::from_json(&s.to_json()), Some(s.clone()));
        // Times are written with milliseconds; a part that does not read (an edited
        // verdict) is dropped, the rest of the file is still the status.
        let mut v = s.to_json();
        assert_eq!(v["heartbeat"], "2026-11-25T10:00:00.123Z");
        v["last_verdict"] = serde_json::json!({"commit": 7});
        v["waiting_since"] = serde_json::json!("yesterday");
        let back = Status::from_json(&v).expect("still a status");
        assert_eq!((back.last_verdict, back.waiting_since), (None, None));
        assert_eq!(back.current, s.current);
        // Without what makes it a status, it is none.
        v["state"] = serde_json::json!("DANCING");
        assert_eq!(Status::from_json(&v), None);
    }
}
