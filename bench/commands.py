"""`acorn import FILE` as a user runs it, versus a bare DuckDB `read_csv` -> typed Parquet copy of the same file.

    python -m bench.commands

The whole command is timed, in its own process: start-up, the Dagster run, archive, parse, lake write and the
checks. Alternated with the bare copy (A B A B), so a machine that speeds up or slows down meanwhile affects both
alike; each run imports into a fresh data dir (the Dagster instance is created once beforehand, as a user's is).
Each run starts with the file in the page cache.

Sizes (environment): ACORN_BENCH_LINES, lines per file, several allowed (default "5000000 20000000");
ACORN_BENCH_RUNS, runs of each per size (default 2).
Goals: ACORN <= 1.5x the bare copy's time, peak RSS < 1 GiB, at every size. Prints numbers; never fails on them.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import textwrap

from bench.processes import (
    ACORN,
    MIB,
    REPO_ROOT,
    Measured,
    acorn_env,
    env_ints,
    mib,
    prepare_instance,
    read_through,
    run_measured,
)
from bench.settlement_import import BARE_RUN, generate

WORK_DIR = REPO_ROOT / ".bench" / "commands"
FILES_DIR = REPO_ROOT / ".bench" / "settlement_import"  # the same generated files as the function benchmark
GOAL_RATIO = 1.5
GOAL_RSS = 1 << 30
DEFAULT_LINES = (5_000_000, 20_000_000)
DEFAULT_RUNS = 2


def bench_size(lines: int, runs: int) -> tuple[list[Measured], list[Measured]]:
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    source = FILES_DIR / f"settlement_v2_{lines}.txt"
    if not source.exists():
        print(f"generating {lines:,} lines -> {source}", flush=True)
        generate(source, lines)
    work = WORK_DIR / str(lines)
    shutil.rmtree(work, ignore_errors=True)
    log = work / "commands.log"
    dagster_home = work / "dagster_home"
    work.mkdir(parents=True)
    prepare_instance(acorn_env(work / "data-0", dagster_home), log)
    bare_out = work / "bare.parquet"
    acorns: list[Measured] = []
    bares: list[Measured] = []
    for number in range(1, runs + 1):
        data_dir = work / f"data-{number}"
        shutil.rmtree(data_dir, ignore_errors=True)
        bare_out.unlink(missing_ok=True)
        read_through(source)
        acorns.append(
            run_measured(
                "acorn import",
                [str(ACORN), "import", str(source)],
                env=acorn_env(data_dir, dagster_home),
                log=log,
            )
        )
        shutil.rmtree(data_dir, ignore_errors=True)  # disk: the next run imports afresh
        read_through(source)
        bares.append(
            run_measured(
                "bare DuckDB copy",
                [sys.executable, "-c", textwrap.dedent(BARE_RUN), str(source), str(bare_out)],
                log=log,
            )
        )
        bare_out.unlink(missing_ok=True)
        print(
            f"  {lines:,} lines, run {number}/{runs}: acorn import {acorns[-1].seconds:.1f} s "
            f"(CPU {acorns[-1].cpu_seconds:.1f} s, {mib(acorns[-1].peak_rss)} MiB), bare copy "
            f"{bares[-1].seconds:.1f} s (CPU {bares[-1].cpu_seconds:.1f} s, {mib(bares[-1].peak_rss)} MiB)",
            flush=True,
        )
    shutil.rmtree(work / "data-0", ignore_errors=True)
    return acorns, bares


def report(lines: int, size: int, acorns: list[Measured], bares: list[Measured]) -> None:
    print(f"\n{lines:,} lines ({size / MIB:,.0f} MiB), {len(acorns)} run(s) of each, alternated")
    print(f"{'command (median)':<22}{'seconds':>10}{'CPU s':>9}{'lines/s':>14}{'peak RSS MiB':>15}")
    for runs in (acorns, bares):
        seconds = statistics.median(run.seconds for run in runs)
        cpu = statistics.median(run.cpu_seconds for run in runs)
        peak = max(run.peak_rss for run in runs)
        print(f"{runs[0].name:<22}{seconds:>10.1f}{cpu:>9.1f}{lines / seconds:>14,.0f}{mib(peak):>15}")
    ratios = sorted(a.seconds / b.seconds for a, b in zip(acorns, bares, strict=True))
    ratio = statistics.median(ratios)
    print(
        f"ratio acorn import / bare copy: {ratio:.2f}x (pairs {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"goal <= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    cpu_ratios = sorted(a.cpu_seconds / b.cpu_seconds for a, b in zip(acorns, bares, strict=True))
    print(f"ratio of CPU seconds (user + system): {statistics.median(cpu_ratios):.2f}x")
    peak = max(run.peak_rss for run in acorns)
    print(
        f"acorn import peak RSS: {mib(peak)} MiB (goal < 1024 MiB: {'met' if peak < GOAL_RSS else 'NOT met'})"
    )


def main(argv: list[str] | None = None) -> int:
    del argv  # sizes come from the environment (see the module doc)
    sizes = env_ints("ACORN_BENCH_LINES", DEFAULT_LINES)
    runs = env_ints("ACORN_BENCH_RUNS", [DEFAULT_RUNS])[0]
    print(
        f"acorn import as a whole process vs bare DuckDB copy: {os.cpu_count()} CPUs, sizes {sizes}",
        flush=True,
    )
    results = {lines: bench_size(lines, runs) for lines in sizes}
    for lines, (acorns, bares) in results.items():
        report(lines, (FILES_DIR / f"settlement_v2_{lines}.txt").stat().st_size, acorns, bares)
    return 0


if __name__ == "__main__":
    sys.exit(main())
