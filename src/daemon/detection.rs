//! Seeing change: HEAD re-read on watcher events and polls, the debounce that makes a batch,
//! and the quiet-period look at uncommitted changes.

use std::time::{Duration, Instant};

use git2::Oid;
use serde_json::json;

use super::machine::{Action, Event, State};
use super::plan::{self};
use super::worker::Work;
use crate::eventlog::Level;
use crate::git::{Change, changes_among, uncommitted_changes};

use super::event_loop::{Daemon, RENDER_EVERY, ms, release_free_memory, short, tree_key};

/// A continuous stream of commits still gets audited this long after the first one.
const MAX_BATCH_DELAY: Duration = Duration::from_secs(10);

impl Daemon {
    pub(super) fn on_change(&mut self, change: Change) {
        match change {
            Change::Git => self.check_head("inotify"),
            Change::WorkTree(paths) => {
                if let Some(tree) = &mut self.tree_watch {
                    if let Err(e) = tree.add_new_folders(&self.repo, &paths) {
                        // Out of watches: new folders go unseen until the next full look.
                        self.full_scan_due = true;
                        let message = e.to_string();
                        self.log_error("watch_worktree", &message);
                    }
                }
                if let Some(quiet) = self.settings.watch.uncommitted_quiet {
                    self.dirty.extend(paths);
                    self.uncommitted_due = Some(Instant::now() + quiet);
                }
            }
        }
    }

    /// Re-reads HEAD; a new, unaudited commit is a detected change.
    pub(super) fn check_head(&mut self, source: &str) {
        let Ok(head) = self.repo.head() else {
            return; // no commit yet, or HEAD mid-update: the next look will see it
        };
        if self.seen_head == Some(head) {
            return;
        }
        self.seen_head = Some(head);
        if !plan::needs_audit(&self.persisted, head) {
            // Back on a commit audited before (a branch switch, a rebase passing over known
            // commits): nothing to audit. `last_checked` stays the last audited batch, so a
            // later commit here is measured against it and a switch is seen as the rewrite
            // it is.
            let hex = head.to_string();
            self.events.append(
                "head_moved",
                Level::Info,
                Some(&hex),
                json!({ "already_audited": true, "source": source }),
            );
            self.view
                .line(&format!("HEAD at {} (already audited)", short(&hex)));
            return;
        }
        self.detected(head, source);
    }

    pub(super) fn detected(&mut self, head: Oid, source: &str) {
        let hex = head.to_string();
        self.events.append(
            "change_detected",
            Level::Info,
            Some(&hex),
            json!({ "source": source, "summary": self.repo.summary(head) }),
        );
        self.view.line(&format!(
            "new commit {} \"{}\" ({source})",
            short(&hex),
            self.repo.summary(head)
        ));
        let preempt = self.settings.watch.preempt;
        match self.fire(Event::ChangeDetected { preempt }, "new commit") {
            Action::QueueBatch => self.queued = true,
            Action::Preempt => {
                self.cancel_running("preempted by new commits");
                self.arm_batch();
            }
            Action::None => self.arm_batch(),
            _ => {}
        }
        self.write_status();
    }

    pub(super) fn arm_batch(&mut self) {
        let now = Instant::now();
        let first = *self.batch_started.get_or_insert(now);
        self.batch_due = Some((now + self.settings.watch.debounce).min(first + MAX_BATCH_DELAY));
    }

    // ---- timers ----

    pub(super) fn on_timers(&mut self) {
        let now = Instant::now();
        if self.poll_due <= now {
            self.poll_due = now + self.settings.watch.poll_interval;
            self.check_head("poll");
            if !self.tree_watched && self.uncommitted_due.is_none() {
                // No watcher tells us about edits: look every quiet period.
                self.uncommitted_due = self.settings.watch.uncommitted_quiet.map(|q| now + q);
            }
        }
        if self.retry_due.is_some_and(|d| d <= now) {
            self.retry_due = None;
            if let Ok(head) = self.repo.head() {
                if plan::needs_audit(&self.persisted, head) {
                    self.detected(head, "retry");
                }
            }
        }
        if self.batch_due.is_some_and(|d| d <= now) {
            self.batch_due = None;
            self.start_batch();
        }
        if self.uncommitted_due.is_some_and(|d| d <= now) {
            self.uncommitted_due = None;
            self.tree_quiet();
        }
        if self.state == State::WaitForFix && self.wait_deadline.is_some_and(|d| d <= now) {
            self.wait_deadline = None;
            self.events.append(
                "wait_timeout",
                Level::Warning,
                None,
                json!({ "waited_ms": ms(self.settings.watch.wait_timeout) }),
            );
            if !self.worker.send(Work::Escalate(self.settings.clone())) {
                self.log_error("escalation", "the audit thread is gone");
            }
            self.fire(Event::WaitTimedOut, "the wait for a fix timed out");
        }
        if self.heartbeat_due <= now {
            self.heartbeat_due = now + self.settings.watch.heartbeat;
            self.write_status();
        }
        if self.view_is_live() && self.render_due <= now {
            self.render_due = now + RENDER_EVERY;
            self.view.render(&self.status());
        }
    }

    /// The working tree has been quiet for the configured time: audit its changes once.
    ///
    /// With a working-tree watcher only the paths it reported are looked at; without one (or
    /// at start), `git status` in a child process lists them, and polling waits until two
    /// looks a quiet period apart agree.
    pub(super) fn tree_quiet(&mut self) {
        let quiet = self.settings.watch.uncommitted_quiet;
        if !matches!(self.state, State::Idle | State::WaitForFix) || self.running.is_some() {
            // Busy: look again after another quiet period.
            self.uncommitted_due = quiet.map(|q| Instant::now() + q);
            return;
        }
        let full_scan = std::mem::take(&mut self.full_scan_due) || !self.tree_watched;
        let changes = if full_scan {
            match uncommitted_changes(&self.repo) {
                Ok(c) => c,
                Err(e) => {
                    self.log_error("uncommitted_status", &e.to_string());
                    return;
                }
            }
        } else {
            match self.repo.head() {
                Ok(head) => changes_among(&self.repo, head, &self.dirty),
                Err(_) => Vec::new(),
            }
        };
        // What is clean again (committed, reverted) needs no more looks.
        self.dirty = changes.iter().map(|c| c.path.clone()).collect();
        release_free_memory();
        if !self.tree_watched {
            let key = tree_key(&self.repo, &changes);
            if self.last_scan_key.as_ref() != Some(&key) {
                // Still changing (or first look): audit once it holds still for a period.
                self.last_scan_key = Some(key);
                if !changes.is_empty() {
                    self.uncommitted_due = quiet.map(|q| Instant::now() + q);
                }
                return;
            }
        }
        let key = tree_key(&self.repo, &changes);
        if changes.is_empty() || self.last_tree_key.as_ref() == Some(&key) {
            return;
        }
        self.events.append(
            "change_detected",
            Level::Info,
            None,
            json!({ "source": "working_tree", "uncommitted_files": changes.len() }),
        );
        self.view
            .line(&format!("{} uncommitted file(s) settled", changes.len()));
        self.pending_uncommitted = Some((changes, key));
        if self.fire(
            Event::ChangeDetected { preempt: false },
            "uncommitted changes settled",
        ) == Action::None
        {
            // The quiet period was the debounce.
            self.batch_due = Some(Instant::now());
        }
    }
}
