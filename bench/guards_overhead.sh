#!/usr/bin/env bash
# Benchmark: what the guards add to the built-in scanners' time, on the history bench/
# scan_history.sh builds (the Python standard library in thousands of edit commits), with
# [guards] on and off:
# - `auditor scan FIRST..HEAD`: commit by commit through libgit2, as `audit` and `watch` read
#   what they audit (target in the issue: under 10%);
# - `auditor scan --history`: each unique blob once, in parallel (the fast whole-history path).
#
# usage: bench/guards_overhead.sh [RUNS] [EDIT_COMMITS]      (defaults: 5 runs, 3000 edits)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
edits=${2:-3000}
work=${BENCH_DIR:-/tmp/auditor-bench}/history-$edits
cargo build --release --quiet
auditor=$PWD/target/release/auditor
if [ ! -d "$work/repo/.git" ]; then
    src=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    rm -rf "$work" && mkdir -p "$work"
    python3 bench/make_history.py "$src" "$work/repo" "$edits"
fi
repo=$work/repo
first=$(git -C "$repo" rev-list --max-parents=0 HEAD | tail -1)
printf '[guards]\nenabled = false\n' > "$work/guards-off.toml"
printf '[guards]\nenabled = true\n' > "$work/guards-on.toml"
echo "history: $(git -C "$repo" rev-list --count HEAD) commits; scanning $first..HEAD"
# Runs alternate between guards off and on, so that noise on a shared machine falls on both.
# (The scans exit 1 on the planted credentials; compare.py times them whatever they exit with.)
python3 bench/compare.py "$runs" \
    "scan FIRST..HEAD, guards off" "$auditor" scan --repo "$repo" --config "$work/guards-off.toml" "$first..HEAD" --- \
    "scan FIRST..HEAD, guards on" "$auditor" scan --repo "$repo" --config "$work/guards-on.toml" "$first..HEAD"
python3 bench/compare.py "$runs" \
    "scan --history, guards off" "$auditor" scan --history --repo "$repo" --config "$work/guards-off.toml" --- \
    "scan --history, guards on" "$auditor" scan --history --repo "$repo" --config "$work/guards-on.toml"
