//! The JSON a hook system writes on the gate's stdin: which event fired, and for a Stop hook
//! whether the agent is already continuing because of one (`stop_hook_active`). Claude Code's
//! events and Gemini CLI's (`AfterAgent` for a stop, `BeforeAgent` for a prompt, `AfterTool`
//! of `run_shell_command`) share the fields the gate reads, and Codex's are Claude Code's.
//! Cursor's `stop` says how many times the loop went on (`loop_count`) and continues it with a
//! `followup_message` in JSON rather than an exit code.

use std::io::{IsTerminal, Read};
use std::sync::mpsc;
use std::time::Duration;

/// How long the gate waits for a hook system's input on a stdin that is not a terminal.
/// Claude Code writes it at once and closes the pipe; a script that leaves stdin open and
/// writes nothing must not hang the gate.
const INPUT_WAIT: Duration = Duration::from_millis(300);

/// At most this much of stdin is read (the input is a small JSON object).
const INPUT_CAP: u64 = 1 << 20;

/// The event a hook fired on, as far as the gate treats them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    /// A session starts or a prompt is submitted: the open issues join the context.
    Context,
    /// The agent is about to stop (Stop, SubagentStop).
    Stop,
    /// A tool ran `git commit` (PostToolUse): its verdict is what the agent needs next.
    Committed,
    /// Any other tool call: nothing to say (an `ls` is no moment to repeat the open issues).
    Tool,
    /// Anything else, or no hook system: the plain gate.
    Other,
}

/// How the hook system takes a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Exit 2 with the reason on stderr (Claude Code, Codex, Gemini CLI).
    ExitCode,
    /// Exit 0 with `{"followup_message": reason}` on stdout, sent as the next user message
    /// (Cursor's `stop`).
    Followup,
}

/// What the gate reads of a hook's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookInput {
    /// The event.
    pub event: HookEvent,
    /// The agent continues because a Stop hook blocked it before.
    pub stop_hook_active: bool,
    /// The event's name as the hook system spelt it (what a JSON answer names).
    pub name: String,
    /// How a block is answered.
    pub answer: Answer,
}

impl HookInput {
    /// No hook input: the plain gate.
    pub const NONE: HookInput = HookInput {
        event: HookEvent::Other,
        stop_hook_active: false,
        name: String::new(),
        answer: Answer::ExitCode,
    };

    /// Reads the hook input from its JSON text. What is not a JSON object naming a known
    /// event is the plain gate: a malformed input never blocks, and never opens, the gate.
    pub fn parse(text: &str) -> HookInput {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return HookInput::NONE;
        };
        let command = value
            .pointer("/tool_input/command")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let name = value
            .get("hook_event_name")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let event = match name {
            "SessionStart" | "UserPromptSubmit" | "BeforeAgent" => HookEvent::Context,
            "Stop" | "SubagentStop" | "AfterAgent" | "stop" => HookEvent::Stop,
            "PostToolUse" | "AfterTool" if runs_git_commit(command) => HookEvent::Committed,
            "PreToolUse" | "PostToolUse" | "BeforeTool" | "AfterTool" => HookEvent::Tool,
            _ => HookEvent::Other,
        };
        // Cursor's stop continues a loop it counts instead of flagging it.
        let looping = value
            .get("loop_count")
            .and_then(|v| v.as_u64())
            .is_some_and(|n| n > 0);
        HookInput {
            event,
            name: name.chars().take(64).collect(),
            stop_hook_active: looping
                || value
                    .get("stop_hook_active")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
            answer: if name == "stop" {
                Answer::Followup
            } else {
                Answer::ExitCode
            },
        }
    }
}

/// Whether a shell command line runs `git commit` (`git commit -m x`, `git add -A && git commit`,
/// `git -C dir commit`), not a command that only names it (`echo "git commit"` aside).
fn runs_git_commit(command: &str) -> bool {
    command
        .split(['&', ';', '|', '\n'])
        .map(str::split_whitespace)
        .any(|mut words| {
            words.next() == Some("git") && {
                let rest: Vec<&str> = words.collect();
                // Options before the subcommand (`-C dir`, `-c key=value`) take a value.
                let mut i = 0;
                while i < rest.len() && rest[i].starts_with('-') {
                    i += if matches!(rest[i], "-C" | "-c") { 2 } else { 1 };
                }
                rest.get(i) == Some(&"commit")
            }
        })
}

/// The hook input on stdin, if a hook system sent one: nothing from a terminal, nothing when
/// no input arrives in time.
pub fn read_hook_input() -> HookInput {
    if std::io::stdin().is_terminal() {
        return HookInput::NONE;
    }
    let (send, receive) = mpsc::channel();
    // A thread, so that a stdin nobody writes to or closes cannot hold the gate: it is left
    // blocked in its read when the process exits.
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = std::io::stdin().take(INPUT_CAP).read_to_string(&mut text);
        let _ = send.send(read.map(|_| text));
    });
    match receive.recv_timeout(INPUT_WAIT) {
        Ok(Ok(text)) => HookInput::parse(&text),
        _ => HookInput::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_codes_inputs() {
        let stop = r#"{"session_id":"s","transcript_path":"/t.jsonl","hook_event_name":"Stop","stop_hook_active":true}"#;
        assert_eq!(
            HookInput::parse(stop),
            HookInput {
                event: HookEvent::Stop,
                stop_hook_active: true,
                name: "Stop".into(),
                answer: Answer::ExitCode,
            }
        );
        // Cursor's stop: a loop count, answered with a follow-up message.
        let cursor = |n: u32| {
            format!(
                r#"{{"conversation_id":"c","generation_id":"g","hook_event_name":"stop","status":"completed","loop_count":{n},"workspace_roots":["/r"]}}"#
            )
        };
        let first = HookInput::parse(&cursor(0));
        assert_eq!(
            (first.event, first.stop_hook_active, first.answer),
            (HookEvent::Stop, false, Answer::Followup)
        );
        assert!(HookInput::parse(&cursor(2)).stop_hook_active);
        // Gemini CLI's: a retried turn, a prompt, a shell command that commits.
        let after_agent = r#"{"session_id":"s","hook_event_name":"AfterAgent","timestamp":"2026-12-04T20:00:00Z","prompt":"p","prompt_response":"r","stop_hook_active":true}"#;
        assert_eq!(HookInput::parse(after_agent).event, HookEvent::Stop);
        assert!(HookInput::parse(after_agent).stop_hook_active);
        let before_agent = r#"{"hook_event_name":"BeforeAgent","prompt":"p"}"#;
        assert_eq!(HookInput::parse(before_agent).event, HookEvent::Context);
        let shell = r#"{"hook_event_name":"AfterTool","tool_name":"run_shell_command","tool_input":{"command":"git commit -am x"},"tool_response":{}}"#;
        assert_eq!(HookInput::parse(shell).event, HookEvent::Committed);
        let prompt = r#"{"hook_event_name":"UserPromptSubmit","prompt":"go on"}"#;
        assert_eq!(HookInput::parse(prompt).event, HookEvent::Context);
        let commit = r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"git add -A && git commit -m 'fix'"},"tool_response":{}}"#;
        assert_eq!(HookInput::parse(commit).event, HookEvent::Committed);
        let other = r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"git status"}}"#;
        assert_eq!(HookInput::parse(other).event, HookEvent::Tool);
        assert!(runs_git_commit("git -C sub commit --amend"));
        assert!(!runs_git_commit("echo git commit"));
        let tool = r#"{"hook_event_name":"Notification","message":"waiting"}"#;
        assert_eq!(HookInput::parse(tool).event, HookEvent::Other);
        for junk in ["", "not json", "[1, 2]", r#"{"stop_hook_active": "yes"}"#] {
            assert!(!HookInput::parse(junk).stop_hook_active, "{junk}");
        }
    }
}
