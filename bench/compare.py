#!/usr/bin/env python3
"""Times two commands alternately, RUNS times each, and prints both medians and their ratio.

usage: compare.py RUNS NAME_A CMD_A... --- NAME_B CMD_B...

Alternating runs share the machine's noisy moments (other tenants, frequency changes)
between both commands, so the ratio holds even when the absolute times drift.
"""
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
rest = sys.argv[2:]
cut = rest.index("---")
(name_a, *cmd_a), (name_b, *cmd_b) = rest[:cut], rest[cut + 1:]
times = {name_a: [], name_b: []}
for _ in range(runs):
    for name, cmd in ((name_a, cmd_a), (name_b, cmd_b)):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times[name].append(time.perf_counter() - start)
for name, t in times.items():
    print(f"{name}: median {statistics.median(t):.3f} s  (min {min(t):.3f}, max {max(t):.3f}, n={runs})")
ratio = statistics.median(times[name_b]) / statistics.median(times[name_a])
print(f"{name_b} / {name_a}: {ratio:.3f} ({(ratio - 1) * 100:+.1f}%)")
