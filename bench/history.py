"""A daily run whose cost does not grow with history: import + build at H and 2H settlements of history.

    python -m bench.history

Generates consecutive 14-day settlements of ~100k lines (a mid-size seller; H = 78 is three years), then, each
step a whole `acorn` process on a fresh data dir and Dagster instance:

1. full load: `acorn import` of the H files (one command), then `acorn build`;
2. `acorn build` again with nothing new (fixed costs: start-up, dbt, Dagster);
3. the daily run: `acorn import` of the next settlement, then `acorn build`;

then the same with 2H settlements. Prints each step's time and peak RSS, daily / full load, and the daily run at
2H against H. Sizes (environment): ACORN_BENCH_HISTORY (H, default 78), ACORN_BENCH_HISTORY_LINES (lines per
settlement, default 100000). Goals: daily <= 10% of the full load; daily at 2H <= 1.2x daily at H; peak RSS
< 1 GiB in every step; a build with nothing new <= 10 s. Prints numbers; never fails on them.

`acorn build` exits 1 when a check fails (the generated settlements end near today, but a check may still find
them odd): that is a finding, not a failed step, and the exit code is printed.
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.processes import (
    ACORN,
    REPO_ROOT,
    Measured,
    acorn_env,
    env_ints,
    mib,
    prepare_instance,
    run_measured,
)
from bench.settlement_import import generate

WORK_DIR = REPO_ROOT / ".bench" / "history"
PERIOD = timedelta(days=14)
GOAL_DAILY_SHARE = 0.10
GOAL_GROWTH = 1.2
GOAL_RSS = 1 << 30
GOAL_NOOP_BUILD = 10.0


def settlement_files(count: int, lines: int) -> list[Path]:
    """`count` consecutive settlements, the last ending about today (generated once, then reused)."""
    folder = WORK_DIR / f"files-{lines}"
    folder.mkdir(parents=True, exist_ok=True)
    latest_start = datetime.now(UTC).date() - PERIOD
    # Periods are anchored to a fixed weekday grid, so the cached files stay the same files from day to day.
    latest_start -= timedelta(days=(latest_start - date(2024, 1, 1)).days % 14)
    files = []
    for number in range(count):
        start = latest_start - PERIOD * (count - 1 - number)
        path = folder / f"settlement_{start.isoformat()}.txt"
        if not path.exists():
            sid = f"7{start.strftime('%Y%m%d')}"
            generate(
                path, lines, settlement_id=sid, start=start, first_row=(start - date(2020, 1, 1)).days * lines
            )
        files.append(path)
    return files


def bench_history(settlements: int, lines: int) -> dict[str, Measured]:
    files = settlement_files(settlements + 1, lines)
    history, new_day = files[:-1], files[-1]
    work = WORK_DIR / f"h{settlements}"
    shutil.rmtree(work, ignore_errors=True)
    env = acorn_env(work / "data", work / "dagster_home")
    log = work / "commands.log"
    prepare_instance(env, log)
    steps: dict[str, Measured] = {}

    def step(name: str, *argv: str, ok_codes: tuple[int, ...] = (0,)) -> None:
        steps[name] = run_measured(name, [str(ACORN), *argv], env=env, log=log, ok_codes=ok_codes)
        code = steps[name].exit_code
        print(
            f"  H={settlements}: {name:<22}{steps[name].seconds:>8.1f} s (CPU {steps[name].cpu_seconds:.1f} s) "
            f"{mib(steps[name].peak_rss):>7} MiB" + (f"  (exit {code}: a check failed)" if code else ""),
            flush=True,
        )

    step("import history", "import", *map(str, history))
    step("build", "build", ok_codes=(0, 1))
    step("build, nothing new", "build", ok_codes=(0, 1))
    step("import one new day", "import", str(new_day))
    step("build after it", "build", ok_codes=(0, 1))
    shutil.rmtree(work / "data", ignore_errors=True)
    return steps


def main(argv: list[str] | None = None) -> int:
    del argv  # sizes come from the environment (see the module doc)
    settlements = env_ints("ACORN_BENCH_HISTORY", [78])[0]
    lines = env_ints("ACORN_BENCH_HISTORY_LINES", [100_000])[0]
    print(f"history: H={settlements} and 2H={2 * settlements} settlements of {lines:,} lines", flush=True)
    results = {size: bench_history(size, lines) for size in (settlements, 2 * settlements)}
    daily_by_size = {}
    cpu_by_size: dict[int, float] = {}
    for size, steps in results.items():
        full = steps["import history"].seconds + steps["build"].seconds
        daily = steps["import one new day"].seconds + steps["build after it"].seconds
        daily_by_size[size] = daily
        peak = max(step.peak_rss for step in steps.values())
        noop = steps["build, nothing new"].seconds
        print(f"\nH={size} ({size * lines:,} lines of history)")
        print(f"{'step':<24}{'seconds':>9}{'CPU s':>9}{'peak RSS MiB':>15}")
        for name, measured in steps.items():
            print(
                f"{name:<24}{measured.seconds:>9.1f}{measured.cpu_seconds:>9.1f}{mib(measured.peak_rss):>15}"
            )
        share = daily / full
        cpu_full = steps["import history"].cpu_seconds + steps["build"].cpu_seconds
        cpu_daily = steps["import one new day"].cpu_seconds + steps["build after it"].cpu_seconds
        cpu_by_size[size] = cpu_daily
        print(
            f"daily run (import + build) {daily:.1f} s / full load (import + build) {full:.1f} s = {share:.1%} "
            f"(goal <= {GOAL_DAILY_SHARE:.0%}: {'met' if share <= GOAL_DAILY_SHARE else 'NOT met'})"
        )
        print(f"the same in CPU seconds: {cpu_daily:.1f} / {cpu_full:.1f} = {cpu_daily / cpu_full:.1%}")
        print(
            f"build with nothing new: {noop:.1f} s (goal <= {GOAL_NOOP_BUILD:.0f} s: "
            f"{'met' if noop <= GOAL_NOOP_BUILD else 'NOT met'})"
        )
        print(
            f"peak RSS of any step: {mib(peak)} MiB (goal < 1024 MiB: {'met' if peak < GOAL_RSS else 'NOT met'})"
        )
    growth = daily_by_size[2 * settlements] / daily_by_size[settlements]
    print(
        f"\ndaily run at 2H / at H: {growth:.2f}x (goal <= {GOAL_GROWTH}x: "
        f"{'met' if growth <= GOAL_GROWTH else 'NOT met'}; in CPU seconds "
        f"{cpu_by_size[2 * settlements] / cpu_by_size[settlements]:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
