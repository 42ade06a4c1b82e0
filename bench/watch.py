#!/usr/bin/env python3
"""Benchmark of `auditor watch`: detection latency and idle footprint.

Detection latency: the time from `git commit` returning to the daemon's DETECTED_CHANGE
transition in logs/audit/events.jsonl (its timestamp, milliseconds), over N commits, each
made once the previous one's audit has finished. The daemon often sees the commit before the
`git commit` process has exited (negative figures), so the time from the ref update itself
(the ref file's mtime) is reported too. Idle footprint: RSS (VmRSS, VmHWM) and CPU
time (utime+stime from /proc/PID/stat) of the daemon over an idle period.

usage: bench/watch.py AUDITOR REPO MODE COMMITS IDLE_SECONDS
  MODE is "watcher" (notify + polling) or "poll" (--poll, polling only, every 5 s)
"""
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime

auditor, repo, mode, commits, idle = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
events_path = os.path.join(repo, "logs/audit/events.jsonl")
env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.invalid",
           GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.invalid")


def events():
    try:
        with open(events_path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def wait_for(pred, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in events():
            if pred(e):
                return e
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for an event in {events_path}")


def ts(e):
    return datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return cpu, rss, hwm


args = [auditor, "watch", "--repo", repo, "--quiet"] + (["--poll"] if mode == "poll" else [])
daemon = subprocess.Popen(args, stdin=subprocess.DEVNULL)
try:
    wait_for(lambda e: e["event_type"] == "daemon_started" and e["details"]["pid"] == daemon.pid)
    # The first look at HEAD audits it; wait until that is over.
    head = subprocess.check_output(["git", "-C", repo, "rev-parse", "HEAD"], text=True).strip()
    wait_for(lambda e: e["event_type"] == "audit_finished" and e["commit"] == head, 300)

    latencies = []
    from_ref = []
    ref_path = os.path.join(repo, ".git/refs/heads/main")
    for i in range(commits):
        path = os.path.join(repo, "bench_latency.txt")
        with open(path, "a") as f:
            f.write(f"line {i}\n")
        subprocess.check_call(["git", "-C", repo, "add", "bench_latency.txt"], env=env)
        subprocess.check_call(["git", "-C", repo, "commit", "-q", "--no-verify", "-m", f"bench {i}"], env=env)
        returned = time.time()
        head = subprocess.check_output(["git", "-C", repo, "rev-parse", "HEAD"], text=True).strip()
        detected = wait_for(lambda e: e["event_type"] == "transition" and e["commit"] == head
                            and e["details"]["to"] == "DETECTED_CHANGE", 60)
        latencies.append((ts(detected) - returned) * 1000)
        # When git renamed the new ref into place (the moment the commit exists for anyone).
        from_ref.append((ts(detected) - os.stat(ref_path).st_mtime_ns / 1e9) * 1000)
        wait_for(lambda e: e["event_type"] == "audit_finished" and e["commit"] == head, 300)

    def summary(values):
        values = sorted(values)
        p95 = values[max(0, int(round(0.95 * len(values))) - 1)]
        return (f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, "
                f"min {values[0]:.1f} ms, max {values[-1]:.1f} ms")

    print(f"{mode}: detection latency over {commits} commits (event timestamps have 1 ms resolution)")
    print(f"  from `git commit` returning: {summary(latencies)}")
    print(f"  from the ref update (mtime of refs/heads/main): {summary(from_ref)}")

    time.sleep(2)  # let the last audit's allocations settle
    cpu0, _, _ = proc_stats(daemon.pid)
    start = time.time()
    time.sleep(idle)
    cpu1, rss, hwm = proc_stats(daemon.pid)
    wall = time.time() - start
    print(f"{mode}: idle {idle} s: RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB), "
          f"CPU {cpu1 - cpu0:.2f} s = {100 * (cpu1 - cpu0) / wall:.3f}% of one core")
finally:
    daemon.terminate()
    daemon.wait(timeout=10)
