#!/usr/bin/env python3
"""Runs a command RUNS times and prints its median wall time: timeit.py NAME RUNS CMD..."""
import statistics
import subprocess
import sys
import time

name, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times.append(time.perf_counter() - start)
times.sort()
unit, scale = ("ms", 1000) if times[-1] < 1 else ("s", 1)
print(
    f"{name}: median {statistics.median(times) * scale:.{1 if unit == 'ms' else 3}f} {unit}"
    f"  (min {times[0] * scale:.3f}, max {times[-1] * scale:.3f}, n={runs})"
)
