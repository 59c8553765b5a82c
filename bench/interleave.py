#!/usr/bin/env python3
"""Times shell commands in interleaved rounds and compares each with its base.

usage: interleave.py ROUNDS NAME=COMMAND ...

Every round runs each command once, in turn, after one warm-up round: a virtual machine's speed
drifts over a minute by more than the differences measured here, and commands run side by side
see the same machine. Prints each command's median, and for each NAME given with a `base-NAME`
(the same work done by an earlier build), the median of the per-round ratios NAME / base-NAME.

The other scripts in bench/ import `time_rounds` and `spread` from here.
"""
import statistics
import subprocess
import sys
import time


def time_rounds(commands, rounds, check=True, before=None):
    """Each command's seconds in each of `rounds` rounds, after a warm-up round; `before`, if
    given, runs untimed before every command."""
    times = {name: [] for name in commands}
    for round_ in range(rounds + 1):
        for name, command in commands.items():
            if before:
                before()
            start = time.perf_counter()
            subprocess.run(command, shell=True, check=check)
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def spread(ratios):
    """Per-round ratios as `median 1.10x, quartiles 1.05x-1.15x, from 0.98x to 1.30x`."""
    low, _, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return (f"median {statistics.median(ratios):.2f}x, quartiles {low:.2f}x-{high:.2f}x, "
            f"from {min(ratios):.2f}x to {max(ratios):.2f}x")


def main():
    rounds = int(sys.argv[1])
    commands = dict(arg.split("=", 1) for arg in sys.argv[2:])
    times = time_rounds(commands, rounds)
    for name, taken in times.items():
        print(f"{name}: median {statistics.median(taken) * 1000:.1f} ms over {rounds} rounds")
    for name in commands:
        base = times.get(f"base-{name}")
        if base:
            ratios = [a / b for a, b in zip(times[name], base)]
            print(f"{name} / base-{name}, per round: median {statistics.median(ratios):.3f}x "
                  f"(from {min(ratios):.3f}x to {max(ratios):.3f}x)")


if __name__ == "__main__":
    main()
