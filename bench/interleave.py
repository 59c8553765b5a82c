#!/usr/bin/env python3
"""Times shell commands in interleaved rounds and compares each with its base.

usage: interleave.py ROUNDS NAME=COMMAND ...

Every round runs each command once, in turn, after one warm-up round: a virtual machine's speed
drifts over a minute by more than the differences measured here, and commands run side by side
see the same machine. Prints each command's median, and for each NAME given with a `base-NAME`
(the same work done by an earlier build), the median of the per-round ratios NAME / base-NAME.
"""
import statistics
import subprocess
import sys
import time

rounds = int(sys.argv[1])
commands = dict(arg.split("=", 1) for arg in sys.argv[2:])
times = {name: [] for name in commands}
for round_ in range(rounds + 1):
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, shell=True, check=True)
        if round_:
            times[name].append(time.perf_counter() - start)
for name, taken in times.items():
    print(f"{name}: median {statistics.median(taken) * 1000:.1f} ms over {rounds} rounds")
for name in commands:
    base = times.get(f"base-{name}")
    if base:
        ratios = [a / b for a, b in zip(times[name], base)]
        print(f"{name} / base-{name}, per round: median {statistics.median(ratios):.3f}x "
              f"(from {min(ratios):.3f}x to {max(ratios):.3f}x)")
