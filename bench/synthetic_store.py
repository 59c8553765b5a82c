#!/usr/bin/env python3
"""Fills a gridrun store with synthetic history, for benchmarks of the commands that read it.

    python3 bench/synthetic_store.py --jobs 100000 --path STATE/gridrun.db [--days 30] [--seed 1]

The store must exist already, made by a real `gridrun run` (so the schema is the one gridrun
migrates to, whatever version that is); what is there is kept. Runs are added until about
--jobs jobs exist, spread evenly over the last --days days across two projects (a 60-cell grid
and a 40-cell one, each run a random subset of most cells), with a realistic mix: mostly passes,
some failures of each kind, timeouts, a few over memory, flaky passes, cancelled cells after a
fail-fast, unsupported cells. Each job gets its steps (a retried step twice), failed jobs a few
diagnostics. Durations follow a per-cell base with noise. Deterministic for a given --seed.
"""

import argparse
import datetime as dt
import hashlib
import json
import random
import sqlite3
import sys

from synthetic_common import iso, pick

PROJECTS = {
    # project: (compilers, standards, configs)
    "heimdall": (["gcc-11", "gcc-12", "gcc-13", "clang-15", "clang-17"], ["c++14", "c++17", "c++20", "c++23"], ["debug", "release", "asan"]),
    "bifrost": (["gcc-12", "gcc-13", "clang-16", "clang-17"], ["c++17", "c++20"], ["debug", "release", "tsan", "ubsan", "lto"]),
}
STEPS = ["configure", "build", "test"]
KINDS = [("compile", 0.55), ("link", 0.1), ("test", 0.3), ("configure", 0.05)]


def cells(project):
    compilers, standards, configs = PROJECTS[project]
    return [(c, s, k) for c in compilers for s in standards for k in configs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, required=True, help="jobs to add, about")
    ap.add_argument("--path", required=True, help="the gridrun.db to fill")
    ap.add_argument("--days", type=int, default=30, help="spread the runs over this many days back from now")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    db = sqlite3.connect(args.path)
    try:
        db.execute("SELECT id FROM jobs LIMIT 1")
    except sqlite3.OperationalError:
        sys.exit(f"{args.path}: not a gridrun store; make it with a real `gridrun run` first")
    db.execute("PRAGMA synchronous = OFF")

    grids = {p: cells(p) for p in PROJECTS}
    # Each cell's own speed: some cells (asan, lto, clang on c++23) are slow, most are not.
    base = {(p, c): rng.lognormvariate(10.5, 0.6) for p in grids for c in grids[p]}
    # Three runs in five are heimdall's; each run picks about 85 % of its grid.
    mean_jobs = (0.6 * len(grids["heimdall"]) + 0.4 * len(grids["bifrost"])) * 0.85
    n_runs = max(1, round(args.jobs / mean_jobs))
    now = dt.datetime.now(dt.timezone.utc)
    span = dt.timedelta(days=args.days)
    run_id = (db.execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()[0]) + 1
    job_id = (db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0]) + 1

    runs, jobs, steps, diags = [], [], [], []
    total = 0
    for i in range(n_runs):
        if total >= args.jobs:
            break
        project = "heimdall" if i % 5 < 3 else "bifrost"
        started = now - span + span * (i + rng.random() * 0.5) / n_runs
        commit = f"{(i // 20) * 2654435761 % (1 << 40):010x}{project[:2]}"
        grid = grids[project]
        chosen = [c for c in grid if rng.random() < 0.85][: args.jobs - total]
        fail_fast = rng.random() < 0.03
        cancelled = False
        t = started
        run_failed = False
        for position, cell in enumerate(chosen):
            compiler, std, config = cell
            slug = f"{compiler}-{std}-{config}"
            cell_json = json.dumps({"compiler": compiler, "cxx_standard": std, "config": config})
            config_hash = hashlib.sha256(f"{slug}@{commit}".encode()).hexdigest()[:16]
            duration = int(base[(project, cell)] * rng.uniform(0.8, 1.3))
            flaky = 0
            failure_kind = exit_code = signal = None
            if cancelled:
                status, failure_kind, duration = "cancelled", "cancelled", int(duration * rng.random())
            elif compiler.startswith("gcc-11") and std == "c++23":
                status, duration = "unsupported", None
            else:
                status = pick(rng, [("passed", 0.88), ("failed", 0.08), ("timed_out", 0.025), ("memory_exceeded", 0.015)])
                if status == "failed":
                    failure_kind, exit_code = pick(rng, KINDS), rng.choice([1, 2, 8])
                elif status == "timed_out":
                    failure_kind, signal, duration = "timeout", 9, 1_800_000
                elif status == "memory_exceeded":
                    failure_kind, signal = "memory", 9
                elif rng.random() < 0.04:
                    flaky = 1
                if status != "passed":
                    run_failed = True
                    cancelled = fail_fast
            finished = None if duration is None else t + dt.timedelta(milliseconds=duration)
            jobs.append((
                job_id, run_id, position, slug, cell_json, config_hash, status,
                "gcc-11 does not support c++23" if status == "unsupported" else None,
                failure_kind, exit_code, signal,
                iso(t) if duration is not None else None, iso(finished) if finished else None,
                duration, None if duration is None else int(duration * 3.1), None if duration is None else rng.randint(40_000, 900_000),
                flaky, compiler.split("-")[0], compiler.split("-")[1] + ".2.0",
                None, "error: something broke" if status in ("failed", "timed_out", "memory_exceeded") else None, None,
            ))
            if duration is not None and status != "cancelled":
                last = {"compile": 1, "link": 1, "configure": 0, "test": 2, "timeout": 1, "memory": 1}.get(failure_kind, 2)
                left = duration
                for s, name in enumerate(STEPS[: last + 1]):
                    part = left if s == last else left // (3 - s)
                    left -= part
                    attempts = 2 if flaky and s == 2 else 1
                    for attempt in range(1, attempts + 1):
                        failed_here = (s == last and status != "passed") or attempt < attempts
                        log = f"/state/runs/{run_id}/{slug}/{name}{'' if attempt == 1 else f'.{attempt}'}.log"
                        steps.append((
                            job_id, s, name, attempt, "failed" if failed_here else "passed",
                            (exit_code or 1) if failed_here else 0, signal if failed_here else None,
                            part, part * 3, rng.randint(10_000, 800_000), log, rng.randint(200, 200_000), f"{name} {slug}",
                        ))
                if failure_kind in ("compile", "link", "configure", "test"):
                    for _ in range(rng.randint(1, 3)):
                        diags.append((job_id, "build", "error", failure_kind, f"src/grid{rng.randint(1, 40)}.cpp",
                                      rng.randint(1, 900), rng.randint(1, 80), "expected ';' after expression", ""))
            if duration is not None:
                t += dt.timedelta(milliseconds=duration // 4)
            job_id += 1
            total += 1
        finished = t + dt.timedelta(seconds=5)
        runs.append((
            run_id, project, f"/src/{project}/gridrun.toml", "failed" if run_failed else "passed", commit, 0,
            iso(started), iso(finished), int((finished - started).total_seconds() * 1000),
            "bench-host", "gridrun run", 1, 0, f"bench-{run_id}",
        ))
        run_id += 1

    with db:
        db.executemany(
            "INSERT INTO runs (id, project, matrix_path, status, commit_sha, dirty, started_at, finished_at, duration_ms,"
            " host, argv, pid, pid_start, token) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        db.executemany(
            "INSERT INTO jobs (id, run_id, position, slug, cell, config_hash, status, reason, failure_kind, exit_code,"
            " signal, started_at, finished_at, duration_ms, cpu_ms, peak_rss_kb, flaky, compiler, compiler_version,"
            " work_dir, log_tail, reused_from) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", jobs)
        db.executemany(
            "INSERT INTO steps (job_id, position, name, attempt, status, exit_code, signal, duration_ms, cpu_ms,"
            " peak_rss_kb, log_path, log_bytes, command) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", steps)
        db.executemany(
            "INSERT INTO diagnostics (job_id, step, severity, kind, file, line, col, message, context)"
            " VALUES (?,?,?,?,?,?,?,?,?)", diags)
    # No ANALYZE: gridrun never runs it, so the benchmark plans queries as a real store would.
    db.close()
    print(f"added {len(runs)} runs, {len(jobs)} jobs, {len(steps)} steps, {len(diags)} diagnostics to {args.path}")


if __name__ == "__main__":
    main()
