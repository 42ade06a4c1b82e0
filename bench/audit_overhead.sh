#!/usr/bin/env bash
# Benchmark: the audit's own overhead (built-in scanners only, --no-tests, no linters) on a
# one-file commit in a 10,000-file repository, after a first audit. Target: under 50 ms.
#
# usage: bench/audit_overhead.sh [RUNS] [FILES]      (defaults: 20 runs, 10000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
files=${2:-10000}
work=${BENCH_DIR:-/tmp/auditor-bench}/overhead-$files
cargo build --release --quiet
auditor=$PWD/target/release/auditor

rm -rf "$work" && mkdir -p "$work/repo"
cd "$work/repo"
git init -q -b main .
python3 - "$files" <<'PY'
import os, random, sys
n = int(sys.argv[1])
rng = random.Random(7)
words = "let value result config index buffer parse write read open close error".split()
for i in range(n):
    d = f"src/mod{i % 100:02d}/sub{i % 7}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/file{i}.rs", "w") as f:
        for j in range(40):
            f.write(f"fn {rng.choice(words)}_{j}() -> u32 {{ {rng.randrange(1000)} }} // {rng.choice(words)}\n")
PY
# Built-in scanners only: an empty check list replaces detection.
printf '[secrets]\nenabled = true\n' > auditor.toml
git add -A && git -c user.name=b -c user.email=b@example.invalid commit -qm "initial $files files"
"$auditor" audit --no-tests >/dev/null || true      # the first audit
echo "// one more line" >> src/mod01/sub1/file1.rs
git -c user.name=b -c user.email=b@example.invalid commit -qam "one-file change"
echo "repository: $(git ls-files | wc -l) files; commit touches 1 file"
# With no [[check]] in auditor.toml, detection would find nothing to run here either
# (no Cargo.toml): the audit runs the built-in scanners and writes its report.
python3 "$OLDPWD/bench/timeit.py" "auditor audit --no-tests (one-file commit)" "$runs" "$auditor" audit --no-tests
python3 "$OLDPWD/bench/timeit.py" "git rev-parse HEAD (process start floor)" "$runs" git rev-parse HEAD
