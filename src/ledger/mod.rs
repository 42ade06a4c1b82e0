//! The issue ledger, `state/supervisor/ledger.json`: every issue's life across audits (found,
//! followed, resolved, reopened, acknowledged, escalated), its stable ID, and per-rule counts.
//!
//! Written atomically under an flock (`ledger.lock`), so the daemon and `auditor inbox ack`
//! never lose each other's updates. Every save also writes a backup copy: a corrupt ledger is
//! moved aside and recovered from it, never replaced by an empty one.

mod lifecycle;

pub use lifecycle::{
    Applied, Examined, Resolution, apply, apply_fast, escalate_blocking, occurrence_keys,
    present_ids, upsert,
};

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

pub use crate::finding::Life;
use crate::finding::Severity;
use crate::store::{AtomicWriteError, Layout, write_atomic};

/// An operator's acceptance of an issue (`auditor inbox ack`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// Why it is accepted.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
    /// Where it was given: the terminal (`/dev/pts/3`), or `non-interactive` where the
    /// settings let anyone acknowledge. Records before this field have none.
    #[serde(default)]
    pub from: Option<String>,
}

/// An open issue the operator accepted: every report, the digest, `INBOX.md` and `status`
/// list it, so an acknowledgement is never out of sight.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The issue's ID.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
    /// The acknowledgement.
    pub ack: Ack,
}

impl Accepted {
    /// On one line: `SEC-001 CRITICAL title (acknowledged AT from WHERE): reason`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} (acknowledged {} from {}): {}",
            self.id,
            self.severity.as_str(),
            self.title,
            self.ack.at,
            self.ack.from.as_deref().unwrap_or("an unrecorded place"),
            self.ack.reason
        )
    }
}

/// One issue's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The stable ID (`SEC-001`).
    pub id: String,
    /// Identity: check, rule, file and content fingerprint.
    pub key: String,
    /// The check that finds it.
    pub check: String,
    /// The rule within the check.
    pub rule: String,
    /// The file, when it is about one.
    pub file: Option<String>,
    /// The issue type (`SECRET_EXPOSURE`).
    pub issue_type: crate::finding::IssueType,
    /// Severity now (escalation raises it).
    pub severity: Severity,
    /// Severity when first found.
    pub original_severity: Severity,
    /// One line saying what is wrong.
    pub title: String,
    /// Where it is in its life.
    pub life: Life,
    /// The first commit it was found in.
    pub first_seen: String,
    /// The last commit it was found in.
    pub last_seen: String,
    /// How many audited commits it was present in.
    pub seen_in: u32,
    /// Audited commits since its feedback was sent (for escalation).
    pub commits_since_feedback: u32,
    /// The commit that resolved it.
    pub resolved_in: Option<String>,
    /// A `[fix-ID]` claim in the resolving commit.
    pub resolved_by_claim: bool,
    /// Its feedback file's name in the inbox, once written.
    pub inbox_file: Option<String>,
    /// Accepted by the operator.
    pub ack: Option<Ack>,
    /// How many times it escalated.
    pub escalations: u32,
    /// The line it was last found at (in `last_seen`), when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Found by the fast lane at this commit and not yet by a full audit: an audit of an
    /// earlier commit, which cannot see it, leaves it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_lane_at: Option<String>,
}

impl Entry {
    /// Whether it already escalated at CRITICAL: escalation happens once per level, and
    /// "CRITICAL -> CRITICAL" every few commits is noise the agent learns to ignore.
    pub fn escalated_at_the_top(&self) -> bool {
        let rank = |s: Severity| match s {
            Severity::Low => 0u32,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        };
        self.severity == Severity::Critical
            && self.escalations > rank(self.severity).saturating_sub(rank(self.original_severity))
    }

    /// Open and not acknowledged: in the inbox and the gate.
    pub fn is_active(&self) -> bool {
        self.life.is_open() && self.ack.is_none()
    }
}

/// What a rule has done across audits (the pattern learner).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    /// Issues it raised (new or reopened).
    pub fired: u32,
    /// Issues of it that were resolved.
    pub resolved: u32,
    /// The commit of the last resolution.
    pub last_resolved_in: Option<String>,
    /// The file of the last resolution.
    pub last_resolved_file: Option<String>,
}

/// One day's activity, for the daily digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayStats {
    /// Audits recorded.
    pub audits: u32,
    /// Audits that passed (no issue at or above `fail_on`).
    pub passed: u32,
    /// Issues raised (new or reopened).
    pub opened: u32,
    /// Issues resolved.
    pub resolved: u32,
    /// Escalations.
    pub escalated: u32,
    /// Coverage of each audit that measured it, in order.
    pub coverage: Vec<f64>,
}

/// One audit's test-stage time, test counts and coverage, for regressions and drops.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    /// The audited commit.
    pub commit: String,
    /// Test stage wall time, when tests ran.
    pub test_ms: Option<u64>,
    /// Line coverage in percent, when measured.
    pub coverage: Option<f64>,
    /// Whether every test check passed (only passing runs are a timing baseline). Samples
    /// written before this field have none.
    #[serde(default)]
    pub tests_passed: Option<bool>,
    /// Each test check's counts, when its output gave them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<String, TestTotals>,
    /// What the next audit's counts are measured against, per test check.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reference: BTreeMap<String, TestReference>,
}

/// How many tests one check ran, failed and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestTotals {
    /// Tests run (skipped ones excluded).
    pub ran: u32,
    /// Tests that failed or errored.
    pub failed: u32,
    /// Tests skipped, deselected or ignored.
    pub skipped: u32,
}

/// The last trusted counts of a test check, and what the commits audited since explain: a
/// shortfall is measured against this, so it is not forgotten by committing again, nor by
/// a failing or unmeasured audit in between.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReference {
    /// The commit whose passing run gave the counts.
    pub commit: String,
    /// Tests it ran.
    pub ran: u32,
    /// Tests it skipped.
    pub skipped: u32,
    /// Tests deleted since, no file keeping their names.
    pub removed_since: u32,
    /// Skip and focus markers added since.
    pub skips_since: u32,
    /// Data, fixture or vendored files deleted since.
    pub data_removed_since: u32,
}

/// The whole ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Format version.
    pub schema_version: u32,
    /// Every issue ever seen, in order of discovery.
    pub entries: Vec<Entry>,
    /// The last number used per ID prefix.
    pub counters: BTreeMap<String, u32>,
    /// Per-rule counts, keyed `check/rule`.
    pub rules: BTreeMap<String, RuleStats>,
    /// Per-day counts, keyed `YYYY-MM-DD`.
    #[serde(default)]
    pub days: BTreeMap<String, DayStats>,
    /// Recent audits' metrics, oldest first (at most 50).
    #[serde(default)]
    pub metrics: Vec<MetricSample>,
    /// The commit of the last audit applied (re-auditing it counts no new commit).
    #[serde(default)]
    pub last_audited: Option<String>,
}

impl Ledger {
    /// The entry with this ID.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id.eq_ignore_ascii_case(id))
    }

    /// Active entries, most severe first, then by ID.
    pub fn active(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self.entries.iter().filter(|e| e.is_active()).collect();
        v.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        v
    }

    /// Open issues the operator accepted, most severe first.
    pub fn accepted(&self) -> Vec<Accepted> {
        let mut v: Vec<Accepted> = self
            .entries
            .iter()
            .filter(|e| e.life.is_open())
            .filter_map(|e| {
                Some(Accepted {
                    id: e.id.clone(),
                    severity: e.severity,
                    title: e.title.clone(),
                    ack: e.ack.clone()?,
                })
            })
            .collect();
        v.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        v
    }

    /// The most frequent rules, most fired first.
    pub fn top_rules(&self, n: usize) -> Vec<(&str, &RuleStats)> {
        let mut v: Vec<(&str, &RuleStats)> =
            self.rules.iter().map(|(k, s)| (k.as_str(), s)).collect();
        v.sort_by(|a, b| b.1.fired.cmp(&a.1.fired).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

/// Reading or writing the ledger failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The lock could not be taken.
    #[error("lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// The ledger is corrupt and no backup can stand in for it.
    #[error(
        "{message}; move both files aside to start a new ledger (every issue's history is lost)"
    )]
    Corrupt {
        /// What was found.
        message: String,
    },
    /// The ledger could not be serialised (nothing was written).
    #[error("encode {path}: {message}")]
    Encode {
        /// The ledger file.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
}

/// The ledger file.
pub fn path(layout: &Layout) -> PathBuf {
    layout.state_dir.join("ledger.json")
}

/// The copy of the ledger written with every save: what a corrupt ledger is recovered from.
pub fn backup_path(layout: &Layout) -> PathBuf {
    layout.state_dir.join("ledger.json.bak")
}

/// How a ledger that was not simply there and valid was recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// `ledger.json` was not a ledger; it was moved to `aside`, and the backup was read.
    FromBackup {
        /// Where the corrupt file went (none when only read, not locked).
        aside: Option<PathBuf>,
    },
    /// `ledger.json` was missing; the backup was read.
    MissingFromBackup,
    /// Neither file was there, but earlier audits left reports: the ledger and every open
    /// issue it held are gone; a new one starts.
    Lost {
        /// Reports found.
        reports: usize,
    },
}

impl Recovery {
    /// What happened, in a sentence.
    pub fn message(&self, layout: &Layout) -> String {
        let (ledger, backup) = (path(layout), backup_path(layout));
        match self {
            Recovery::FromBackup { aside } => format!(
                "{} was not a valid ledger{}; recovered every issue from {}",
                ledger.display(),
                aside
                    .as_ref()
                    .map(|a| format!(" (moved to {})", a.display()))
                    .unwrap_or_default(),
                backup.display()
            ),
            Recovery::MissingFromBackup => format!(
                "{} was missing; recovered every issue from {}",
                ledger.display(),
                backup.display()
            ),
            Recovery::Lost { reports } => format!(
                "{} and its backup are gone although {reports} earlier report{} exist: every issue the ledger held is forgotten, and a new ledger starts",
                ledger.display(),
                if *reports == 1 { "" } else { "s" }
            ),
        }
    }
}

/// The ledger held for a read-modify-write; saved explicitly, unlocked on drop.
pub struct Locked {
    /// The ledger as read.
    pub ledger: Ledger,
    /// How it was recovered, when it was not simply there.
    pub recovered: Option<Recovery>,
    path: PathBuf,
    backup: PathBuf,
    _lock: Flock<File>,
}

impl Locked {
    /// Writes the ledger atomically (still locked), then its backup.
    pub fn save(&self) -> Result<(), LedgerError> {
        // Never write an empty ledger over a good one because serialising failed.
        let text = serde_json::to_string_pretty(&self.ledger).map_err(|e| LedgerError::Encode {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let bytes = format!("{text}\n");
        write_atomic(&self.path, bytes.as_bytes())?;
        // A copy, not a link: a write into one file must not reach the other.
        write_atomic(&self.backup, bytes.as_bytes())?;
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Option<Ledger> {
    serde_json::from_slice::<Ledger>(bytes)
        .ok()
        .filter(|l| l.schema_version == 1)
}

/// What reading the two files found.
enum Found {
    Ledger(Ledger, Option<Recovery>),
    /// `ledger.json` is corrupt (or unreadable) and no backup could stand in.
    Corrupt(String),
}

fn find(layout: &Layout) -> Found {
    let (main, backup) = (path(layout), backup_path(layout));
    let backup_ledger = || std::fs::read(&backup).ok().and_then(|b| parse(&b));
    match std::fs::read(&main) {
        Ok(bytes) => match parse(&bytes) {
            Some(l) => Found::Ledger(l, None),
            None => match backup_ledger() {
                Some(l) => Found::Ledger(l, Some(Recovery::FromBackup { aside: None })),
                None => Found::Corrupt(format!(
                    "{} is not a valid ledger and {} cannot stand in for it",
                    main.display(),
                    backup.display()
                )),
            },
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match backup_ledger() {
            Some(l) => Found::Ledger(l, Some(Recovery::MissingFromBackup)),
            None => {
                let reports = layout.report_count();
                let recovery = (reports > 0).then_some(Recovery::Lost { reports });
                Found::Ledger(
                    Ledger {
                        schema_version: 1,
                        ..Ledger::default()
                    },
                    recovery,
                )
            }
        },
        Err(e) => Found::Corrupt(format!("cannot read {}: {e}", main.display())),
    }
}

/// Locks and reads the ledger: a new one when there is none yet; the backup when the ledger is
/// corrupt (which is moved aside) or missing. A corrupt ledger with no usable backup is an
/// error: it is never replaced by an empty one.
pub fn lock(layout: &Layout) -> Result<Locked, LedgerError> {
    let lock_path = layout.state_dir.join("ledger.lock");
    let lock_err = |source| LedgerError::Lock {
        path: lock_path.clone(),
        source,
    };
    std::fs::create_dir_all(&layout.state_dir).map_err(lock_err)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(lock_err)?;
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| lock_err(std::io::Error::from(errno)))?;
    let path = path(layout);
    let (ledger, recovered) = match find(layout) {
        Found::Ledger(l, Some(Recovery::FromBackup { .. })) => {
            let aside = path.with_extension(format!(
                "corrupt-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            let moved = std::fs::rename(&path, &aside).is_ok();
            (
                l,
                Some(Recovery::FromBackup {
                    aside: moved.then_some(aside),
                }),
            )
        }
        Found::Ledger(l, recovered) => (l, recovered),
        Found::Corrupt(message) => return Err(LedgerError::Corrupt { message }),
    };
    Ok(Locked {
        ledger,
        recovered,
        path,
        backup: backup_path(layout),
        _lock: lock,
    })
}

/// Reads the ledger without locking or changing anything (for the gate and the inbox):
/// missing is empty, the backup stands in for a corrupt or missing ledger, and what cannot be
/// read at all is an error.
pub fn read_checked(layout: &Layout) -> Result<(Ledger, Option<Recovery>), String> {
    match find(layout) {
        Found::Ledger(l, r) => Ok((l, r)),
        Found::Corrupt(message) => Err(message),
    }
}

/// Reads the ledger for display (as `read_checked`; what cannot be read is empty, with a
/// warning on stderr).
pub fn read_only(layout: &Layout) -> Ledger {
    match read_checked(layout) {
        Ok((l, recovered)) => {
            if let Some(r) = recovered {
                crate::sink::warn(&r.message(layout));
            }
            l
        }
        Err(message) => {
            crate::sink::warn(&message);
            Ledger::default()
        }
    }
}
