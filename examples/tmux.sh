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
# The tmux server may run with another PATH (started earlier, from elsewhere): every command it
# runs for us names the binary found here.
auditor="$(command -v auditor)" || { echo "tmux.sh: auditor is not on PATH (cargo install --path .)" >&2; exit 2; }
if tmux has-session -t "$session" 2>/dev/null; then
    echo "tmux.sh: session $session already exists; attach with: tmux attach -t $session" >&2
    exit 1
fi
# One daemon per repository: a second `auditor watch` would exit at once in its pane.
if "$auditor" status --short --repo "$repo" >/dev/null 2>&1; then
    echo "tmux.sh: an auditor already watches $repo ($("$auditor" status --short --repo "$repo")); stop it first with: auditor stop --repo $repo" >&2
    exit 1
fi

# sh quoting for a word inside the status bar's #(...) command.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# A detached session gets tmux's default 80x24 unless told otherwise, which leaves the auditor
# 26 columns: size it like the terminal this runs in (or a wide one), as attaching would.
cols="$(tput cols 2>/dev/null || echo 200)"
lines="$(tput lines 2>/dev/null || echo 50)"
[ "$cols" -ge 120 ] || cols=200
[ "$lines" -ge 30 ] || lines=50
# The auditor's pane: a third of the width, never narrower than its live view's 60 columns.
width=$(( cols / 3 > 60 ? cols / 3 : 60 ))

# The agent's pane. Its command is passed as separate words, so nothing is re-parsed by a shell.
tmux new-session -d -s "$session" -n work -x "$cols" -y "$lines" -c "$repo" -- "${agent[@]}"
# The auditor's pane beside it; it stays open if the daemon exits, so its last words are read.
tmux split-window -h -l "$width" -t "$session:work" -c "$repo" -- "$auditor" watch --repo "$repo"
tmux set-option -p -t "$session:work.1" remain-on-exit on
tmux select-pane -t "$session:work.0"
# A status bar with the auditor's verdict, refreshed every 5 s.
tmux set-option -t "$session" status-interval 5
tmux set-option -t "$session" status-right "#($(shq "$auditor") status --short --repo $(shq "$repo"))"
tmux set-option -t "$session" status-right-length 60

# The daemon takes the repository's lock within a moment; a pane that died says why.
for _ in 1 2 3 4 5 6 7 8 9 10; do
    "$auditor" status --short --repo "$repo" >/dev/null 2>&1 && break
    if [ "$(tmux display-message -p -t "$session:work.1" '#{pane_dead}')" = 1 ]; then
        echo "tmux.sh: auditor watch exited in its pane:" >&2
        tmux capture-pane -p -J -S - -t "$session:work.1" | sed '/^$/d' >&2
        tmux kill-session -t "$session"
        exit 1
    fi
    sleep 0.5
done

if [ "${AUDITOR_TMUX_DETACHED:-0}" != 1 ]; then
    exec tmux attach -t "$session"
fi
echo "tmux.sh: session $session started; attach with: tmux attach -t $session"
