//! What `auditor watch` shows in its pane: a live view refreshed in place on a TTY, plain
//! timestamped log lines otherwise, nothing but errors with `--quiet`.

use std::collections::VecDeque;

use chrono::Utc;

use super::open::OpenSummary;
use super::status::{Status, clock, short_counts, short_line};

/// How output is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A redrawn screen (stdout is a terminal).
    Live,
    /// One line per event.
    Lines,
    /// Errors only.
    Quiet,
}

/// The foreground display.
pub struct View {
    mode: Mode,
    recent: VecDeque<String>,
    header: String,
}

const RECENT: usize = 12;

impl View {
    /// A view for the repository at `repo`.
    pub fn new(mode: Mode, repo: &std::path::Path) -> View {
        View {
            mode,
            recent: VecDeque::new(),
            header: format!(
                "auditor watch · {} · pid {}",
                repo.display(),
                std::process::id()
            ),
        }
    }

    /// How output is shown.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Reports something that happened.
    pub fn line(&mut self, text: &str) {
        let stamped = format!("{} {text}", Utc::now().format("%H:%M:%S"));
        match self.mode {
            Mode::Lines => {
                let _ = crate::sink::print(&format!("{stamped}\n"));
            }
            Mode::Live => {
                self.recent.push_back(stamped);
                if self.recent.len() > RECENT {
                    self.recent.pop_front();
                }
            }
            Mode::Quiet => {}
        }
    }

    /// Reports an error (shown in every mode, on stderr).
    pub fn error(&mut self, text: &str) {
        crate::sink::eprint(&format!("auditor: {text}\n"));
        if self.mode == Mode::Live {
            self.line(&format!("error: {text}"));
        }
    }

    /// Redraws the live screen: the state, what is open (from the ledger, not the last
    /// verdict: a clean audit of one commit leaves earlier issues open), recent events.
    pub fn render(&self, status: &Status, open: &OpenSummary) {
        if self.mode != Mode::Live {
            return;
        }
        let now = Utc::now();
        let mut s = String::from("\x1b[H\x1b[2J");
        s.push_str(&format!("{} · watcher {}\n\n", self.header, status.watcher));
        s.push_str(&format!(
            "  {}\n",
            short_line(status, now, Some(&open.counts))
        ));
        let since = (now - status.state_since).to_std().unwrap_or_default();
        s.push_str(&format!("  in {} for {}\n", status.state, clock(since)));
        if let Some(v) = &status.last_verdict {
            s.push_str(&format!(
                "  last verdict: {} {} {} at {}\n",
                v.status,
                if v.uncommitted {
                    "uncommitted"
                } else {
                    crate::bytes::short(&v.commit)
                },
                short_counts(&v.counts),
                v.at.format("%H:%M:%S")
            ));
        }
        if let Some(w) = &status.waiting_since {
            s.push_str(&format!(
                "  waiting for a fix since {}\n",
                w.format("%H:%M:%S")
            ));
        }
        if open.total == 0 {
            s.push_str("\n  no open issues\n");
        } else {
            s.push_str(&format!("\n  open ({}):\n", open.total));
            for line in &open.top {
                s.push_str(&format!("    {line}\n"));
            }
            if open.total > open.top.len() {
                s.push_str(&format!(
                    "    ... and {} more (auditor inbox)\n",
                    open.total - open.top.len()
                ));
            }
        }
        s.push_str("\n  recent:\n");
        for r in &self.recent {
            s.push_str(&format!("    {r}\n"));
        }
        let _ = crate::sink::print(&s);
    }
}
