#!/usr/bin/env python3
"""Adds one big synthetic run to a gridrun store, for the report benchmark (bench/report.sh).

    python3 bench/synthetic-run.py --jobs 10000 --path STATE/gridrun.db [--seed 1]

The store must exist already, made by a real `gridrun run` (so the schema is the one gridrun
migrates to). One run is added, its id printed on stdout. Its grid: 10 compilers × 5 standards
× 2 build types × as many variants as --jobs needs, in plan order. The mix is what a bad day
looks like, so the report has work to do: mostly passes, some compile, link and test failures
(several cells sharing the same diagnostics, as a broken header makes them), timeouts, a few over
memory, flaky passes retried, unsupported cells; every job with its steps, failures with a log
tail, diagnostics and failing test results, passes with test results and an artifact.
Deterministic for a given --seed. (bench/synthetic_store.py fills a store with history instead:
many small runs over many days.)
"""

import argparse
import datetime as dt
import hashlib
import json
import random
import sqlite3
import sys

from synthetic_common import iso, pick

COMPILERS = ["gcc-9", "gcc-10", "gcc-11", "gcc-12", "gcc-13", "clang-14", "clang-15", "clang-16", "clang-17", "clang-19"]
STANDARDS = ["11", "14", "17", "20", "23"]
BUILD_TYPES = ["Debug", "Release"]
STEPS = ["configure", "build", "test"]
# A few diagnostics many cells share (a broken header), and room for ones only a cell has.
SHARED = [
    ("include/grid/span.hpp", 41, 12, "no member named 'as_bytes' in namespace 'std'"),
    ("include/grid/format.hpp", 88, 5, "'format' is not a member of 'std'"),
    ("src/matrix.cpp", 210, 31, "call to 'abs' is ambiguous"),
    ("src/io.cpp", 17, 10, "fatal error: 'filesystem' file not found"),
]


def cells(n):
    variants = -(-n // (len(COMPILERS) * len(STANDARDS) * len(BUILD_TYPES)))
    out = [(c, s, b, v) for c in COMPILERS for s in STANDARDS for b in BUILD_TYPES for v in range(variants)]
    return out[:n]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=10000, help="jobs in the run")
    ap.add_argument("--path", required=True, help="the gridrun.db to add the run to")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    db = sqlite3.connect(args.path)
    try:
        db.execute("SELECT id FROM jobs LIMIT 1")
    except sqlite3.OperationalError:
        sys.exit(f"{args.path}: not a gridrun store; make it with a real `gridrun run` first")
    db.execute("PRAGMA synchronous = OFF")
    run_id = db.execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()[0] + 1
    job_id = db.execute("SELECT COALESCE(MAX(id), 0) FROM jobs").fetchone()[0] + 1
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)
    commit = hashlib.sha1(b"synthetic").hexdigest()

    jobs, steps, diags, tests, artifacts = [], [], [], [], []
    t = started
    for position, (compiler, std, build_type, variant) in enumerate(cells(args.jobs)):
        slug = f"{compiler}-{std}-{build_type}-v{variant}"
        cell = json.dumps({"compiler": compiler, "cxx_standard": std, "build_type": build_type, "variant": str(variant)})
        config_hash = hashlib.sha256(f"{slug}@{commit}".encode()).hexdigest()[:16]
        family, version = compiler.split("-")
        flaky, failure_kind, exit_code, signal, reason, tail = 0, None, None, None, None, None
        if family == "gcc" and int(version) < 11 and std == "23":
            status, duration = "unsupported", None
            reason = f"{compiler} does not accept -std=c++23"
        else:
            duration = int(rng.lognormvariate(10.0, 0.7))
            status = pick(rng, [("passed", 0.9), ("failed", 0.075), ("timed_out", 0.015), ("memory_exceeded", 0.01)])
            if status == "failed":
                failure_kind = pick(rng, [("compile", 0.6), ("link", 0.15), ("test", 0.25)])
                exit_code = 1 if failure_kind != "test" else 8
            elif status == "timed_out":
                failure_kind, signal, duration = "timeout", 9, 1_800_000
            elif status == "memory_exceeded":
                failure_kind, signal = "memory", 9
            elif rng.random() < 0.03:
                flaky = 1
            if status != "passed":
                tail = "\n".join(f"[{i}/{40}] Building CXX object src/CMakeFiles/grid.dir/part{i}.cpp.o" for i in range(30, 40))
                tail += "\nninja: build stopped: subcommand failed." if failure_kind != "test" else "\n1 test failed"
        jobs.append((
            job_id, run_id, position, slug, cell, config_hash, status, reason, failure_kind, exit_code, signal,
            iso(t) if duration is not None else None,
            iso(t + dt.timedelta(milliseconds=duration)) if duration is not None else None,
            duration, None if duration is None else int(duration * 2.7),
            None if duration is None else rng.randint(30_000, 1_500_000),
            flaky, compiler, f"{version}.2.0", None, tail, None,
        ))
        if duration is not None:
            last = {"compile": 1, "link": 1, "test": 2, "timeout": 2, "memory": 1}.get(failure_kind, 2)
            left = duration
            for s, name in enumerate(STEPS[: last + 1]):
                part = left if s == last else left // (3 - s)
                left -= part
                attempts = 2 if flaky and s == 2 else 1
                for attempt in range(1, attempts + 1):
                    failed_here = (s == last and status != "passed") or attempt < attempts
                    step_status = status if failed_here and status != "passed" else ("failed" if failed_here else "passed")
                    log = f"/state/runs/{run_id}/{slug}/{name}{'' if attempt == 1 else f'.{attempt}'}.log"
                    steps.append((
                        job_id, s, name, attempt, step_status, exit_code if failed_here and signal is None else (None if failed_here else 0),
                        signal if failed_here else None, part, int(part * 2.7), rng.randint(10_000, 1_500_000),
                        log, rng.randint(200, 200_000), f"cmake --build build/{slug}" if name == "build" else f"{name} {slug}",
                    ))
            if failure_kind in ("compile", "link"):
                shared = SHARED[(STANDARDS.index(std) + COMPILERS.index(compiler)) % len(SHARED)]
                diags.append((job_id, "build", "error", failure_kind, *shared, ""))
                for _ in range(rng.randint(0, 3)):
                    diags.append((job_id, "build", pick(rng, [("error", 0.4), ("warning", 0.6)]), failure_kind,
                                  f"src/part{rng.randint(1, 400)}.cpp", rng.randint(1, 900), rng.randint(1, 80),
                                  f"unused variable 'tmp{rng.randint(1, 50)}' <in> & around", ""))
            if last == 2 and status in ("passed", "failed"):
                for k in range(5):
                    failing = failure_kind == "test" and k == 3
                    tests.append((job_id, "test", "grid_tests", f"case_{k}", "failed" if failing else "passed",
                                  rng.randint(1, 900), "expected 3 == 4\n  at tests/grid.cpp:77" if failing else None))
            if status == "passed":
                artifacts.append((job_id, f"build/{slug}/libgrid.a", f"/state/artifacts/{commit}/{slug}/libgrid.a",
                                  rng.randint(100_000, 9_000_000), hashlib.sha256(slug.encode()).hexdigest(), iso(t), None))
            # Eight jobs at a time.
            t += dt.timedelta(milliseconds=duration // 8)
        job_id += 1

    finished = t + dt.timedelta(seconds=2)
    failed = any(j[6] in ("failed", "timed_out", "memory_exceeded") for j in jobs)
    with db:
        db.execute(
            "INSERT INTO runs (id, project, matrix_path, status, commit_sha, dirty, started_at, finished_at, duration_ms,"
            " host, argv, pid, pid_start, token) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, "bigrid", "gridrun.toml", "failed" if failed else "passed", commit, 0, iso(started), iso(finished),
             int((finished - started).total_seconds() * 1000), "bench-host", "gridrun run", 1, 0, f"bench-{run_id}"))
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
        db.executemany(
            "INSERT INTO tests (job_id, step, suite, name, status, duration_ms, message) VALUES (?,?,?,?,?,?,?)", tests)
        db.executemany(
            "INSERT INTO artifacts (job_id, path, stored_path, size, sha256, created_at, removed_at)"
            " VALUES (?,?,?,?,?,?,?)", artifacts)
    db.close()
    print(run_id)
    print(f"run {run_id}: {len(jobs)} jobs, {len(steps)} steps, {len(diags)} diagnostics, {len(tests)} test results,"
          f" {len(artifacts)} artifacts", file=sys.stderr)


if __name__ == "__main__":
    main()
