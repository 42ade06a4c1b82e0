#!/usr/bin/env python3
"""Benchmark of the fast lane: from `git commit` of a leaked key to its CRITICAL file in the
inbox, with the daemon idle and during a long test stage.

A clone of a real repository (SOURCE, e.g. a clone of github:pallets/click made with the
search tool's fetch) is watched by `auditor watch`; each round commits one new file holding a
fresh GitHub-shaped token and times until a new `ISSUE_*_CRITICAL_*.md` appears in
`tasks/supervisor_feedback/` (polled every 0.5 ms). The clock starts before `git commit` runs,
so the figure includes git's own time (an upper bound); the time from `git commit` returning
is printed too.

  idle:  the previous round's audit is finished (the daemon is IDLE or waiting for a fix).
  busy:  the test stage of the previous commit is running: two CPU-bound processes for
         SUITE seconds (both cores busy, as a real suite keeps them), niced like every check.

usage: bench/fast_lane.py AUDITOR SOURCE [--rounds N] [--suite SECONDS] [--modes idle,busy]
Target (issue 16): p95 under 50 ms in both modes.
"""
import argparse
import json
import os
import secrets
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time

ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.invalid",
           GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.invalid")


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, env=ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def state(repo):
    try:
        with open(os.path.join(repo, "state/supervisor/status.json")) as f:
            return json.load(f).get("state")
    except (OSError, ValueError):
        return None


def wait_state(repo, wanted, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if state(repo) in wanted:
            return
        time.sleep(0.01)
    raise SystemExit(f"the daemon never reached {wanted} (now {state(repo)})")


def critical_files(inbox):
    try:
        return {n for n in os.listdir(inbox) if n.startswith("ISSUE_") and "_CRITICAL_" in n}
    except FileNotFoundError:
        return set()


def token():
    alphabet = string.ascii_letters + string.digits
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


def config(repo, mode, suite):
    text = '[watch]\nuncommitted = false\n'
    if mode == "busy":
        burn = f"timeout {suite} sh -c 'while :; do :; done'"
        text += ('\n[[check]]\nname = "suite"\nstage = "test"\nformat = "exit-code"\n'
                 f'command = ["sh", "-c", "{burn} & {burn} & wait; true"]\ntimeout = "10m"\n')
    path = os.path.join(repo, ".git", "auditor-bench.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_mode(auditor, source, mode, rounds, suite):
    work = tempfile.mkdtemp(prefix=f"fastlane-{mode}-")
    repo = os.path.join(work, "repo")
    subprocess.run(["git", "clone", "-q", source, repo], check=True)
    cfg = config(repo, mode, suite)
    inbox = os.path.join(repo, "tasks/supervisor_feedback")
    log = open(os.path.join(work, "watch.log"), "w")
    daemon = subprocess.Popen([auditor, "watch", "--config", cfg], cwd=repo, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=ENV)
    from_start, from_return = [], []
    try:
        # A first commit starts the first audit (and, busy, its test stage).
        with open(os.path.join(repo, "bench_start.txt"), "w") as f:
            f.write("start\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "bench: start")
        for i in range(rounds):
            if mode == "busy":
                # A daemon that audited the last key skips that batch's tests (a CRITICAL
                # finding): a clean commit starts a test stage again.
                if state(repo) != "TESTING":
                    time.sleep(1)
                if state(repo) != "TESTING":
                    with open(os.path.join(repo, "bench_start.txt"), "a") as f:
                        f.write(f"round {i}\n")
                    git(repo, "add", "-A")
                    git(repo, "commit", "-q", "-m", f"bench: round {i}")
                wait_state(repo, {"TESTING"}, suite + 120)
            else:
                wait_state(repo, {"IDLE", "WAIT_FOR_FIX"}, 120)
            before = critical_files(inbox)
            with open(os.path.join(repo, f"bench_settings_{i}.py"), "w") as f:
                f.write(f'GITHUB_TOKEN = "{token()}"\n')
            git(repo, "add", "-A")
            start = time.perf_counter()
            git(repo, "commit", "-q", "-m", f"bench: settings {i}")
            returned = time.perf_counter()
            deadline = start + 60
            while not (critical_files(inbox) - before):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"round {i}: no CRITICAL file within 60 s (see {work}/watch.log)")
                time.sleep(0.0005)
            found = time.perf_counter()
            from_start.append((found - start) * 1000)
            from_return.append((found - returned) * 1000)
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
    shutil.rmtree(work, ignore_errors=True)
    return from_start, from_return


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("auditor")
    ap.add_argument("source")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--suite", type=int, default=15)
    ap.add_argument("--modes", default="idle,busy")
    a = ap.parse_args()
    print(f"fast lane: commit of a GitHub token -> CRITICAL file in the inbox ({a.rounds} rounds, source {a.source})")
    print(f"{'mode':<6} {'from':<14} {'median':>8} {'p95':>8} {'max':>8}")
    for mode in a.modes.split(","):
        start, ret = run_mode(os.path.abspath(a.auditor), a.source, mode, a.rounds, a.suite)
        for label, values in (("git commit", start), ("its return", ret)):
            print(f"{mode:<6} {label:<14} {statistics.median(values):>6.1f}ms {p95(values):>6.1f}ms {max(values):>6.1f}ms")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
