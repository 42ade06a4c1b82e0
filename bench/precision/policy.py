#!/usr/bin/env python3
"""Replays real commits through auditor, one audit per commit as the daemon would, tests
and linters included, and judges every finding at MEDIUM or above that is not a guard's or
a secret's (test failures, tests not run, the environment, build breaks, lints, metrics,
escalations) against policy_labels.tsv.
usage: policy.py DIR [--commits N] [--repos a,b] [--write-findings FILE]

DIR holds the clones of README.md's table (the same as guards.py). Each repository is
cloned again into a temporary folder (the replay writes the auditor's state there, never in
DIR), `auditor init` writes its config (with the setup it proposes), and the last N commits
of the first-parent history (default 15) are audited oldest first, so that the ledger, the
test-count references and escalation carry from one audit to the next. Prints per type and
severity the findings labelled true, false and not labelled; exits 1 when one at HIGH or
CRITICAL is labelled false. A label names repository, commit, path, line, type and a verdict
`true:reason` or `false:reason`. Needs what the projects' tests need (python3 with pip, node
with npm, network for their dependencies).
"""
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from verdicts import print_table, read_labels

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# Projects whose suites run here in seconds: two Python (pytest in a venv), two Node (mocha
# with npm; stripe-node's yarn, which this machine lacks, tells how the environment is judged).
REPOS = ["click", "flask", "express", "stripe-node"]
JUDGED = ("MEDIUM", "HIGH", "CRITICAL")


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def replay(auditor, source, name, commits, work):
    clone = work / name
    subprocess.run(["git", "clone", "-q", str(source), str(clone)], check=True)
    subprocess.run([auditor, "init", "--repo", str(clone)], capture_output=True, check=True)
    revs = git(clone, "rev-list", "--first-parent", "--reverse", f"-{commits}", "HEAD").split()
    for rev in revs:
        out = subprocess.run([auditor, "audit", rev, "--json", "--repo", str(clone)],
                             capture_output=True, text=True, check=False)
        try:
            report = json.loads(out.stdout)
        except json.JSONDecodeError:
            print(f"{name} {rev[:8]}: no report (exit {out.returncode}): {out.stderr[-300:]}",
                  file=sys.stderr)
            continue
        for i in report.get("issues", []):
            if i["check"] == "guards" or i["type"] == "SECRET_EXPOSURE":
                continue
            line = "" if i.get("line") is None else str(i["line"])
            # The type and the check that raised it (a commit can leave two checks unavailable).
            key = (name, rev, i.get("file") or "", line, f"{i['type']}/{i['check']}")
            yield key, i["severity"], i.get("location", ""), " ".join(i["description"].split())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = Path(sys.argv[1])
    options = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    if set(options) - {"--commits", "--repos", "--write-findings"}:
        sys.exit(__doc__)
    commits = int(options.get("--commits", "15"))
    repos = options["--repos"].split(",") if "--repos" in options else REPOS
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    auditor = str(ROOT / "target" / "release" / "auditor")
    labels = read_labels(HERE / "policy_labels.tsv")
    counts = collections.Counter()
    false_high, listed = [], []
    with tempfile.TemporaryDirectory(prefix="auditor-policy-") as tmp:
        for name in repos:
            source = base / name
            if not source.exists():
                print(f"missing clone: {source}", file=sys.stderr)
                continue
            for key, severity, location, description in replay(auditor, source, name,
                                                               commits, Path(tmp)):
                verdict = labels.get(key)
                listed.append((key, severity, location, verdict or "", description[:300]))
                if severity not in JUDGED:
                    continue
                kind = "unlabelled" if verdict is None else verdict.split(":")[0]
                counts[(key[4], severity, kind)] += 1
                if kind == "false" and severity in ("HIGH", "CRITICAL"):
                    false_high.append((key, severity, verdict))
    print_table("type", counts)
    for key, severity, verdict in false_high:
        print("false at", severity, "\t".join(key), verdict)
    if "--write-findings" in options:
        with open(options["--write-findings"], "w") as f:
            for key, severity, location, verdict, description in listed:
                f.write("\t".join([*key, severity, location, verdict, description]) + "\n")
    sys.exit(1 if false_high else 0)


if __name__ == "__main__":
    main()
