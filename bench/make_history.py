#!/usr/bin/env python3
"""Builds a large git history from real text (the Python standard library) for benchmarks.

usage: make_history.py SRC_DIR REPO_DIR [EDIT_COMMITS]

The repository gets the sources in batches of 100 files, then EDIT_COMMITS commits that each
edit three files, so that history holds many versions of real source files. A few fake
credentials are planted at known commits (and some removed again later); their values are
assembled here at run time and written to REPO_DIR/../planted.json for the comparison.
"""
import json
import os
import random
import subprocess
import sys


def main() -> None:
    src, repo = sys.argv[1], sys.argv[2]
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    rng = random.Random(42)
    files = {}
    for root, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        for n in sorted(names):
            if n.endswith(".py"):
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    data = f.read()
                if len(data) < 1_000_000:
                    files[os.path.relpath(p, src)] = data
    paths = sorted(files)
    planted = [
        ("aws-access-key-id", "AKIA" + "Q7RZ4LMXPWT2VN6K"),
        ("github-token", "ghp_" + "Zq8Lm2Xv7Pw1Ks9Tn3Rb5Yc4Hd6Jf0Ga2We8"),
        ("stripe-key", "sk_live_" + "9aB8cD7eF6gH5iJ4kL3mN2oP"),
        ("generic-secret", "Vx9" + "Lq2Zm8Tr4Kp7Wn3"),
        ("slack-token", "xoxb-" + "284716593028-3947561820394-QwErTyUiOpAsDfGhJkLzXcVb"),
    ]
    os.makedirs(repo, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    fi = subprocess.Popen(["git", "-C", repo, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = fi.stdin
    mark = [0]
    when = [1_600_000_000]

    def commit(message: str, changes: dict, deletes=()) -> None:
        mark[0] += 1
        when[0] += 60
        msg = message.encode()
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % mark[0])
        out.write(b"committer Bench <bench@example.invalid> %d +0000\n" % when[0])
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        if mark[0] > 1:
            out.write(b"from :%d\n" % (mark[0] - 1))
        for p in deletes:
            out.write(b"D %s\n" % p.encode())
        for p, data in changes.items():
            out.write(b"M 100644 inline %s\ndata %d\n" % (p.encode(), len(data)))
            out.write(data)
            out.write(b"\n")

    for i in range(0, len(paths), 100):
        batch = paths[i:i + 100]
        commit(f"add {batch[0]} and {len(batch) - 1} more", {p: files[p] for p in batch})
    plant_at = {edits * (k + 1) // (len(planted) + 1): k for k in range(len(planted))}
    record = []
    for n in range(edits):
        changes = {}
        for p in rng.sample(paths, 3):
            lines = files[p].split(b"\n")
            at = rng.randrange(len(lines) + 1)
            lines.insert(at, b"# edit %d: %s" % (n, rng.choice(lines[:50] or [b""])[:60]))
            files[p] = b"\n".join(lines)
            changes[p] = files[p]
        deletes = []
        if n in plant_at:
            rule, value = planted[plant_at[n]]
            p = f"config/settings_{plant_at[n]}.py"
            files[p] = f'SERVICE_SECRET = "{value}"\n'.encode()
            changes[p] = files[p]
            record.append({"rule": rule, "value": value, "path": p, "edit": n})
        if n in {k + 200 for k in plant_at}:
            # Remove a planted file again: still in history, gone from the tree.
            p = f"config/settings_{plant_at[n - 200]}.py"
            deletes.append(p)
            del files[p]
        commit(f"edit {n}", changes, deletes)
    out.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", repo, "reset", "-q", "--hard", "main"], check=True)
    subprocess.run(["git", "-C", repo, "repack", "-adq"], check=True)
    with open(os.path.join(os.path.dirname(os.path.abspath(repo)), "planted.json"), "w") as f:
        json.dump(record, f)
    print(f"{len(paths)} files, {mark[0]} commits")


if __name__ == "__main__":
    main()
