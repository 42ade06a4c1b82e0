//! The progress line long work shows on a terminal: the stage, the checks running with their
//! elapsed time against an estimate from earlier audits, the blobs a scan has read. Drawn on
//! stderr, redrawn in place four times a second, erased when the work ends; never on a
//! non-terminal, with `TERM=dumb`, or with `--quiet`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::Progress;
use crate::store::Layout;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// The line's width when the terminal does not say (`COLUMNS`): one that fits any terminal,
/// so that `\r` returns to the line's start instead of a wrapped line's last row.
const DEFAULT_WIDTH: usize = 79;

/// How many earlier reports estimate a check's duration.
const ESTIMATE_REPORTS: usize = 20;

/// Whether a progress line may be drawn: stderr is a terminal that can move its cursor and
/// the person did not ask for quiet.
pub fn wanted() -> bool {
    !crate::sink::is_quiet()
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A line redrawn from `render` until `finish` (or drop) erases it.
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl ProgressLine {
    /// Starts redrawing `render`'s text, from `started`.
    pub fn start(render: impl Fn(Duration) -> String + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .map_or(DEFAULT_WIDTH, |c| c.saturating_sub(1).max(20));
        let started = Instant::now();
        let ticker = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let text: String = render(started.elapsed()).chars().take(width).collect();
                crate::sink::eprint(&format!("\r{text}\x1b[K"));
                std::thread::sleep(TICK);
            }
            crate::sink::eprint("\r\x1b[K");
        });
        Self {
            stop,
            ticker: Some(ticker),
        }
    }

    /// Erases the line (before the summary prints).
    pub fn finish(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.end();
    }
}

/// What an audit is doing, as its progress events say.
#[derive(Debug, Default)]
pub struct AuditState {
    stage: &'static str,
    /// Running checks: name, since when, the estimate.
    running: Vec<(String, Instant, Option<Duration>)>,
    done: usize,
    estimates: HashMap<String, Duration>,
}

impl AuditState {
    /// A state whose estimates are the median durations of each check in the latest reports.
    pub fn with_estimates(layout: &Layout) -> Self {
        Self {
            stage: "starting",
            estimates: estimates(layout),
            ..Self::default()
        }
    }

    /// Takes one progress event.
    pub fn update(&mut self, event: &Progress) {
        match event {
            Progress::Auditing => self.stage = "auditing",
            Progress::CheckStarted { name, .. } => {
                let estimate = self.estimates.get(name).copied();
                self.running.push((name.clone(), Instant::now(), estimate));
            }
            Progress::CheckFinished { name, .. } => {
                self.running.retain(|(n, ..)| n != name);
                self.done += 1;
            }
            Progress::StaticDone { tests_next, .. } => {
                self.stage = if *tests_next { "testing" } else { "verifying" };
            }
            Progress::TestsDone => self.stage = "verifying",
            Progress::Verified => self.stage = "reporting",
            Progress::ReportWritten { .. } | Progress::FeedbackWritten { .. } => {
                self.stage = "writing feedback";
            }
        }
    }

    /// The line: `auditor audit 0:42 testing: clippy 31s/~45s, tests 12s · 3 checks done`.
    pub fn line(&self, elapsed: Duration) -> String {
        let mut s = format!("auditor audit {} {}", clock(elapsed), self.stage);
        let running: Vec<String> = self
            .running
            .iter()
            .map(|(name, since, estimate)| {
                let ran = since.elapsed().as_secs();
                match estimate {
                    Some(e) => format!("{name} {ran}s/~{}s", e.as_secs().max(1)),
                    None => format!("{name} {ran}s"),
                }
            })
            .collect();
        if !running.is_empty() {
            s.push_str(": ");
            s.push_str(&running.join(", "));
        }
        if self.done > 0 {
            s.push_str(&format!(
                " · {} check{} done",
                self.done,
                if self.done == 1 { "" } else { "s" }
            ));
        }
        s
    }
}

/// A progress sink that feeds `state` (and logs each event, as before).
pub fn audit_sink(state: &Arc<Mutex<AuditState>>) -> crate::engine::ProgressSink {
    let state = Arc::clone(state);
    Arc::new(move |p| {
        tracing::info!(?p, "audit");
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(&p);
    })
}

/// The median duration of each check over the latest reports.
fn estimates(layout: &Layout) -> HashMap<String, Duration> {
    let mut reports = layout.audit_reports();
    reports.sort_by_key(|e| std::cmp::Reverse(e.metadata().and_then(|m| m.modified()).ok()));
    let mut runs: HashMap<String, Vec<u64>> = HashMap::new();
    for entry in reports.iter().take(ESTIMATE_REPORTS) {
        let Ok(text) = std::fs::read(entry.path()) else {
            continue;
        };
        let Ok(report) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        for check in report["checks"].as_array().into_iter().flatten() {
            // A skipped check took no time: it says nothing of how long a run takes.
            if check["outcome"] == "skipped" {
                continue;
            }
            if let (Some(name), Some(ms)) = (check["name"].as_str(), check["duration_ms"].as_u64())
            {
                runs.entry(name.to_string()).or_default().push(ms);
            }
        }
    }
    runs.into_iter()
        .map(|(name, mut ms)| {
            ms.sort_unstable();
            (name, Duration::from_millis(ms[ms.len() / 2]))
        })
        .collect()
}

/// `m:ss`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stage;

    #[test]
    fn the_line_names_the_stage_and_each_running_check_against_its_estimate() {
        let mut state = AuditState {
            stage: "starting",
            estimates: [("clippy".to_string(), Duration::from_secs(45))].into(),
            ..AuditState::default()
        };
        state.update(&Progress::Auditing);
        for name in ["clippy", "ruff"] {
            state.update(&Progress::CheckStarted {
                name: name.into(),
                stage: Stage::Audit,
            });
        }
        assert_eq!(
            state.line(Duration::from_secs(62)),
            "auditor audit 1:02 auditing: clippy 0s/~45s, ruff 0s"
        );
        state.update(&Progress::CheckFinished {
            name: "ruff".into(),
            stage: Stage::Audit,
            outcome: crate::checks::CheckOutcome::Passed,
            duration_ms: 5,
            findings: 0,
        });
        state.update(&Progress::StaticDone {
            critical: false,
            tests_next: true,
        });
        assert_eq!(
            state.line(Duration::from_secs(3)),
            "auditor audit 0:03 testing: clippy 0s/~45s · 1 check done"
        );
    }
}
