"""Extraction on several Celery workers: the cluster demo's `acorn run` for N simulated sellers on 1, 2, 3 workers.

    python -m bench.workers

Each worker count is one whole cluster demo (acorn_cli/cluster_demo.py, `make demo-cluster`) on the machine's
PostgreSQL (127.0.0.1:5432), Redis (6379, database 9 for the broker) and moto's S3 server on loopback: W workers,
`acorn run` on Celery (one run per group of accounts, then the build run), then the embedded run of the same
accounts as the yardstick (the demo always runs it, and compares the warehouses). Per worker count it prints the
group runs' span (first group run's start to the last one's end: the extraction and landing), the build run, the
whole Celery command, the embedded run, the steps each worker executed, the CPU seconds of the whole demo (this
process and every process it waited for: workers, simulator, `acorn run`, dbt) and the load average before and
after. Then the extraction span's speedup, span(1) / span(W), and efficiency, speedup / W.

Sizes (environment): ACORN_BENCH_WORKER_ACCOUNTS (default 6), ACORN_BENCH_WORKERS (default "1 2 3"). Prints
numbers; never fails on them. Exits non-zero only when a demo could not run (a service absent: it says which).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass

from bench.processes import REPO_ROOT, env_ints

WORK_DIR = REPO_ROOT / ".bench" / "workers"
REDIS_DB = 9
HOW_TO_START = (
    "start PostgreSQL on 127.0.0.1:5432 (user postgres, database test; e.g. `service postgresql start`) and "
    "Redis on 127.0.0.1:6379 (e.g. `redis-server --daemonize yes`); moto comes with `make install`"
)


@dataclass(frozen=True)
class WorkerRun:
    workers: int
    exit_code: int
    wall_seconds: float
    cpu_seconds: float
    load_before: float
    load_after: float
    span_seconds: float | None
    build_seconds: float | None
    celery_seconds: float
    embedded_seconds: float
    group_runs: int
    steps_by_worker: dict[str, int]


def cpu_seconds() -> float:
    """User + system seconds of this process (moto's server is a thread of it) and of every child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_demo(accounts: int, workers: int) -> WorkerRun:
    from acorn_cli.cluster_demo import run_cluster_demo

    work = WORK_DIR / f"w{workers}"
    shutil.rmtree(work, ignore_errors=True)
    load_before = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    outcome = run_cluster_demo(
        accounts=accounts,
        workers=workers,
        work=work,
        redis_db=REDIS_DB,
        say=lambda line: print(f"  {workers} worker(s): {line}", flush=True),
    )
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    load_after = os.getloadavg()[0]
    cluster = outcome.cluster
    shutil.rmtree(work, ignore_errors=True)  # data dirs and logs: nothing read later
    return WorkerRun(
        workers,
        outcome.exit_code,
        wall,
        cpu,
        load_before,
        load_after,
        cluster.extraction_seconds,
        cluster.build_seconds,
        cluster.seconds,
        outcome.embedded.seconds,
        cluster.group_runs,
        cluster.steps_by_worker,
    )


def seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "n/a"


def print_results(accounts: int, runs: list[WorkerRun]) -> None:
    print(f"\nworkers: {accounts} simulated sellers, Celery `acorn run` on W workers, then the embedded run")
    print(
        f"{'W':>2}{'span s':>8}{'build s':>9}{'celery s':>10}{'embedded s':>12}{'demo s':>8}{'CPU s':>8}"
        f"{'load':>12}{'speedup':>9}{'efficiency':>12}  exit, group runs, steps per worker"
    )
    base = next((run.span_seconds for run in runs if run.workers == 1), None)
    for run in runs:
        speedup = base / run.span_seconds if base and run.span_seconds else None
        efficiency = f"{speedup / run.workers:.2f}" if speedup is not None else "n/a"
        steps = ", ".join(f"{name}: {count}" for name, count in run.steps_by_worker.items()) or "none seen"
        print(
            f"{run.workers:>2}{seconds(run.span_seconds):>8}{seconds(run.build_seconds):>9}"
            f"{run.celery_seconds:>10.1f}{run.embedded_seconds:>12.1f}{run.wall_seconds:>8.1f}"
            f"{run.cpu_seconds:>8.1f}{f'{run.load_before:.1f}->{run.load_after:.1f}':>12}"
            f"{f'{speedup:.2f}x' if speedup is not None else 'n/a':>9}{efficiency:>12}  "
            f"exit {run.exit_code}, {run.group_runs} group runs, {steps}"
        )
    print(
        "span: first group run's start to the last one's end (extraction and landing); speedup = span(1) / "
        "span(W); efficiency = speedup / W; CPU s: the whole demo (workers, simulator, runs, dbt, the embedded "
        "run); load: 1-minute load average before -> after"
    )


def main(argv: list[str] | None = None) -> int:
    del argv  # sizes come from the environment (see the module doc)
    from acorn_cli.cluster_demo import CouldNotStart
    from orchestration.outcomes import ExitCode

    accounts = env_ints("ACORN_BENCH_WORKER_ACCOUNTS", [6])[0]
    counts = env_ints("ACORN_BENCH_WORKERS", [1, 2, 3])
    print(
        f"workers: {accounts} simulated sellers on {', '.join(map(str, counts))} Celery worker(s)", flush=True
    )
    runs: list[WorkerRun] = []
    for workers in counts:
        try:
            run = run_demo(accounts, workers)
        except CouldNotStart as error:
            print(f"workers: could not run: {error}\nfix: {HOW_TO_START}", file=sys.stderr)
            return int(ExitCode.COULD_NOT_RUN)
        runs.append(run)
        print(
            f"  {workers} worker(s): span {seconds(run.span_seconds)} s, build {seconds(run.build_seconds)} s, "
            f"celery {run.celery_seconds:.1f} s, embedded {run.embedded_seconds:.1f} s, demo {run.wall_seconds:.1f}"
            f" s (CPU {run.cpu_seconds:.1f} s), load {run.load_before:.1f} -> {run.load_after:.1f}, exit "
            f"{run.exit_code}",
            flush=True,
        )
    print_results(accounts, runs)
    could_not = [run.workers for run in runs if run.exit_code == ExitCode.COULD_NOT_RUN]
    if could_not:
        print(
            f"workers: the demo could not run with {could_not} worker(s) (see its output above)",
            file=sys.stderr,
        )
        return int(ExitCode.COULD_NOT_RUN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
