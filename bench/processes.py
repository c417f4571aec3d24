"""Timing the commands users run as whole processes: wall time and peak RSS of one process and its children.

`os.wait4` returns the finished process's resource usage including the children it waited for (dbt, which
`acorn build` starts), so a step's peak RSS is the largest resident set of any process in it, and its CPU seconds
(user + system) are those of the process and its children. On a machine shared with other work the wall time
grows with the load while the CPU seconds barely move: both are printed, so a reader can tell a slower program
from a busier machine. Each command gets
its own ACORN_DATA_DIR and DAGSTER_HOME, and its output goes to a log file beside them (never the terminal).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ACORN = Path(sys.executable).parent / "acorn"
MIB = 2**20


@dataclass(frozen=True)
class Measured:
    name: str
    seconds: float
    peak_rss: int  # bytes
    exit_code: int
    cpu_seconds: float = 0.0  # user + system, the process and the children it waited for


def run_measured(
    name: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Measured:
    """Run `argv` to its end; its wall time and peak RSS. Raises when it exits with a code not in `ok_codes`."""
    environment = {**os.environ, **(env or {})}
    output = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), cwd=REPO_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code not in ok_codes:
        where = f" (output in {log})" if log is not None else ""
        raise RuntimeError(f"{name} exited with code {code}{where}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(name, seconds, usage.ru_maxrss * 1024, code, cpu)  # ru_maxrss is in KiB on Linux


def acorn_env(data_dir: Path, dagster_home: Path) -> dict[str, str]:
    """The environment of an `acorn` command on its own data dir and Dagster instance (created if missing)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    dagster_home.mkdir(parents=True, exist_ok=True)
    return {"ACORN_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(dagster_home)}


def prepare_instance(env: dict[str, str], log: Path) -> None:
    """Create the Dagster instance's storage and the checkout's dbt manifest before anything is timed: a user's
    instance and checkout already have them after the first command (a fresh checkout's first `acorn` command
    parses the dbt project for Dagster's definitions, about 6 CPU s once, which the first timed run paid)."""
    script = (
        "import dagster as dg\nimport orchestration.warehouse.project\n"
        "with dg.DagsterInstance.get() as instance:\n    instance.get_runs(limit=1)\n"
    )
    run_measured("dagster instance", [sys.executable, "-c", script], env=env, log=log)


def read_through(path: Path) -> None:
    """Read a file once so the next run starts with it in the page cache, as the previous one left it."""
    with open(path, "rb") as stream:
        while stream.read(1 << 24):
            pass


def env_ints(name: str, default: Sequence[int]) -> list[int]:
    """Integers from an environment variable (spaces or commas between them), else `default`."""
    raw = os.environ.get(name, "").replace(",", " ").split()
    return [int(value.replace("_", "")) for value in raw] if raw else list(default)


def mib(size: int) -> str:
    return f"{size / MIB:,.0f}"
