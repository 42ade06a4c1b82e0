//! What the gate does, as a pure function of the open blocking issues, the hook input and what
//! the gate remembers of its last block.

use serde::{Deserialize, Serialize};

use super::input::{HookEvent, HookInput};

/// What the gate remembers between calls (`state/supervisor/gate.json`): the issues it last
/// blocked on and how many Stop hooks in a row it blocked on exactly those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// The blocking issues of the last block (ID and severity, sorted).
    pub blocked: Vec<String>,
    /// Blocks in a row on that set.
    pub repeats: u32,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing blocks: exit 0.
    Open,
    /// A session starts or a prompt is submitted: print the open issues on stdout, exit 0.
    Context,
    /// Open blocking issues: exit 2, the list on stderr.
    Block,
    /// A Stop hook blocked `repeats` times in a row on the same issues and the agent is still
    /// stopping: let it stop and tell the operator, rather than loop on one finding forever.
    Release {
        /// How many blocks it took.
        repeats: u32,
    },
}

/// Decides for `blocking` (the open issues at or above the threshold, as `ID:SEVERITY`),
/// given the hook input and the memory of the last block; returns the verdict and the
/// memory to keep. `max_stop_blocks` is how many times in a row a Stop hook may block on the
/// same issues.
pub fn decide(
    blocking: &[String],
    input: &HookInput,
    memory: &Memory,
    max_stop_blocks: u32,
) -> (Verdict, Memory) {
    match input.event {
        HookEvent::Context => return (Verdict::Context, memory.clone()),
        HookEvent::Tool => return (Verdict::Open, memory.clone()),
        HookEvent::Stop | HookEvent::Committed | HookEvent::Other => {}
    }
    if blocking.is_empty() {
        return (Verdict::Open, Memory::default());
    }
    let mut set = blocking.to_vec();
    set.sort();
    // A new stop, or a stop after the issues changed (one fixed, one new, one escalated):
    // a block that says something new.
    let repeated =
        input.event == HookEvent::Stop && input.stop_hook_active && memory.blocked == set;
    if !repeated {
        return (
            Verdict::Block,
            Memory {
                blocked: set,
                repeats: 1,
            },
        );
    }
    let repeats = memory.repeats.saturating_add(1);
    let next = Memory {
        blocked: set,
        repeats,
    };
    if memory.repeats >= max_stop_blocks.max(1) {
        (
            Verdict::Release {
                repeats: memory.repeats,
            },
            next,
        )
    } else {
        (Verdict::Block, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOP: HookInput = HookInput {
        event: HookEvent::Stop,
        stop_hook_active: false,
        name: String::new(),
        answer: crate::gate::Answer::ExitCode,
    };
    const STOP_AGAIN: HookInput = HookInput {
        event: HookEvent::Stop,
        stop_hook_active: true,
        name: String::new(),
        answer: crate::gate::Answer::ExitCode,
    };

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_stop_hook_that_blocks_the_same_issues_lets_go_after_the_bound() {
        let open = ids(&["SEC-001:CRITICAL"]);
        let (v, m) = decide(&open, &STOP, &Memory::default(), 3);
        assert_eq!((v, m.repeats), (Verdict::Block, 1));
        let (v, m) = decide(&open, &STOP_AGAIN, &m, 3);
        assert_eq!((v, m.repeats), (Verdict::Block, 2));
        let (v, m) = decide(&open, &STOP_AGAIN, &m, 3);
        assert_eq!((v, m.repeats), (Verdict::Block, 3));
        let (v, m) = decide(&open, &STOP_AGAIN, &m, 3);
        assert_eq!(v, Verdict::Release { repeats: 3 });
        // A new turn stops afresh: blocked again.
        let (v, m) = decide(&open, &STOP, &m, 3);
        assert_eq!((v, m.repeats), (Verdict::Block, 1));
        // The set changed (an issue escalated): a block that says something new.
        let escalated = ids(&["SEC-001:CRITICAL", "TST-001:HIGH"]);
        let (v, m) = decide(&escalated, &STOP_AGAIN, &m, 1);
        assert_eq!((v, m.repeats), (Verdict::Block, 1));
    }

    #[test]
    fn nothing_open_opens_and_context_events_only_print() {
        let (v, m) = decide(&[], &STOP_AGAIN, &Memory::default(), 3);
        assert_eq!((v, m), (Verdict::Open, Memory::default()));
        let context = HookInput {
            event: HookEvent::Context,
            ..HookInput::NONE
        };
        let kept = Memory {
            blocked: ids(&["A:HIGH"]),
            repeats: 2,
        };
        let (v, m) = decide(&ids(&["A:HIGH"]), &context, &kept, 3);
        assert_eq!((v, m), (Verdict::Context, kept.clone()));
        // Another tool call is no moment to block or repeat them.
        let tool = HookInput {
            event: HookEvent::Tool,
            ..HookInput::NONE
        };
        assert_eq!(decide(&ids(&["A:HIGH"]), &tool, &kept, 3).0, Verdict::Open);
        // Without a hook system, open issues always block.
        for _ in 0..5 {
            let (v, _) = decide(&ids(&["A:HIGH"]), &HookInput::NONE, &kept, 1);
            assert_eq!(v, Verdict::Block);
        }
    }
}
