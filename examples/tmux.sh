#!/usr/bin/env bash
# One tmux session for an unattended coding agent and its auditor, side by side: the agent in
# the left pane, `auditor watch` in the right (the design document's "claude-tri-agent" and
# "tri-agent-supervisor", as two panes of one window).
#
# Usage: examples/tmux.sh [REPO] [AGENT COMMAND...]
#   REPO           the repository the agent works in (default: the current directory)
#   AGENT COMMAND  what runs in the agent's pane (default: claude)
# Environment:
#   AUDITOR_TMUX_SESSION   the session's name (default: tri-agent)
#   AUDITOR_TMUX_DETACHED  set to 1 to leave the session running without attaching
set -euo pipefail

repo="$(cd "${1:-.}" && pwd)"
if [ "$#" -gt 0 ]; then shift; fi
if [ "$#" -gt 0 ]; then agent=("$@"); else agent=(claude); fi
session="${AUDITOR_TMUX_SESSION:-tri-agent}"

command -v tmux >/dev/null || { echo "tmux.sh: tmux is not installed" >&2; exit 2; }
command -v auditor >/dev/null || { echo "tmux.sh: auditor is not on PATH (cargo install --path .)" >&2; exit 2; }
if tmux has-session -t "$session" 2>/dev/null; then
    echo "tmux.sh: session $session already exists; attach with: tmux attach -t $session" >&2
    exit 1
fi

# The agent's pane. Its command is passed as separate words, so nothing is re-parsed by a shell.
tmux new-session -d -s "$session" -n work -c "$repo" -- "${agent[@]}"
# The auditor's pane, a third of the width, beside it.
tmux split-window -h -l 33% -t "$session:work" -c "$repo" -- auditor watch --repo "$repo"
tmux select-pane -t "$session:work.0"
# A status bar with the auditor's verdict, refreshed every 5 s.
tmux set-option -t "$session" status-interval 5
tmux set-option -t "$session" status-right "#(auditor status --short --repo '$repo')"

if [ "${AUDITOR_TMUX_DETACHED:-0}" != 1 ]; then
    exec tmux attach -t "$session"
fi
echo "tmux.sh: session $session started; attach with: tmux attach -t $session"
