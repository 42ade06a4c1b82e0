#!/usr/bin/env python3
"""Scans the corpus' histories with auditor and judges every guard finding at MEDIUM or
above against guard_labels.tsv.
usage: guards.py DIR [--write-unlabelled FILE] [--write-findings FILE]

DIR holds one clone per repository of README.md's table, named after the repository (the
same clones as run.py). Prints, per rule and severity, how many findings are labelled true,
false and not yet labelled, and how many labelled findings now report at LOW (out of the
judged set: a true one there is a miss); exits 1 when a finding at HIGH or CRITICAL is
labelled false. --write-unlabelled lists the findings no label names; --write-findings lists
every finding at LOW or above with its severity, verdict and description, to compare runs.
A label names repository, commit, path, line (empty for a whole-file finding), rule and a
verdict `true:reason` or `false:reason`; a finding no label names is listed as unlabelled.
"""
import collections
import json
import subprocess
import sys
from pathlib import Path

from verdicts import print_table, read_labels

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REPOS = ["dokku", "git", "click", "express", "cobra", "ripgrep", "stripe-node", "got", "flask", "vault-helm"]
JUDGED = ("MEDIUM", "HIGH", "CRITICAL")
LISTED = ("LOW",) + JUDGED


def findings(auditor, repo, name):
    out = subprocess.run([auditor, "scan", "--history", "--json", "--repo", str(repo)],
                         capture_output=True, text=True, check=False)
    for i in json.loads(out.stdout)["issues"]:
        if i["check"] == "guards" and i["severity"] in LISTED:
            line = "" if i.get("line") is None else str(i["line"])
            yield (name, i["commit"], i["file"], line, i["type"]), i["severity"], i["description"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = Path(sys.argv[1])
    options = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    if set(options) - {"--write-unlabelled", "--write-findings"}:
        sys.exit(__doc__)
    unlabelled_out = options.get("--write-unlabelled")
    findings_out = options.get("--write-findings")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    auditor = str(ROOT / "target" / "release" / "auditor")
    labels = read_labels(HERE / "guard_labels.tsv")
    counts = collections.Counter()
    false_high = []
    unlabelled = []
    listed = []
    for name in REPOS:
        repo = base / name
        if not repo.exists():
            print(f"missing clone: {repo}", file=sys.stderr)
            continue
        for key, severity, description in findings(auditor, repo, name):
            verdict = labels.get(key)
            listed.append((key, severity, verdict or "", " ".join(description.split())[:300]))
            if severity not in JUDGED and verdict is None:
                continue
            kind = "unlabelled" if verdict is None else verdict.split(":")[0]
            counts[(key[4], severity, kind)] += 1
            if verdict is None:
                unlabelled.append((key, severity))
            elif kind == "false" and severity in ("HIGH", "CRITICAL"):
                false_high.append((key, severity, verdict))
    print_table("rule", counts)
    for key, severity, verdict in false_high:
        print("false at", severity, "\t".join(key), verdict)
    if unlabelled_out:
        with open(unlabelled_out, "w") as out:
            for key, severity in unlabelled:
                out.write("\t".join(key) + f"\t{severity}\n")
    if findings_out:
        with open(findings_out, "w") as out:
            for key, severity, verdict, description in listed:
                out.write("\t".join(key) + f"\t{severity}\t{verdict}\t{description}\n")
    sys.exit(1 if false_high else 0)


if __name__ == "__main__":
    main()
