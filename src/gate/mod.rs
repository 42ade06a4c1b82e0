//! The gate coding agents' hook systems call (`auditor gate`), by Claude Code's contract: a
//! hook gets a JSON object on stdin; exit 2 blocks and shows stderr to the model; exit 0 with
//! stdout on SessionStart and UserPromptSubmit adds that text to the model's context; any
//! other exit is the hook's own error, shown to the user, blocking nothing.
//!
//! - `input`: the hook input, read from stdin when a hook system sends one (which event, and
//!   whether a tool call ran `git commit`).
//! - `decision`: what the gate does with the open blocking issues and that input, pure: a
//!   Stop hook that keeps blocking the same issues lets the stop through after a bound and
//!   tells the operator, instead of looping forever on one (possibly false) finding.

mod decision;
mod input;

pub use decision::{Memory, Verdict, decide};
pub use input::{Answer, HookEvent, HookInput, read_hook_input};
