"""The `acorn` CLI as a person runs it, for the end-to-end tests: its own process, from the repo root, on a
work dir of the test's (`<workdir>/data` as ACORN_DATA_DIR, `<workdir>/dagster_home` as DAGSTER_HOME), quiet
and offline.

The environment is the test run's own minus everything that would make the result depend on the machine: no
SP-API credentials (`SPAPI_*`) and no `ACORN_*` setting (another config, a webhook, a Postgres instance, the
crash test's pause hook) except `ACORN_SIMULATOR_START`, which the date sweep sets on purpose. A test adds
what it means to test with `env=`.

When the date sweep sets no day, every process gets the simulated day this test process started on (the
product's own default, today's 00:00 UTC), not each its own: a test whose runs straddle midnight UTC would
otherwise run its later ones on the next day, which refuse the earlier runs' data dir (one simulated day's data
cannot share it with the next's) or compare another day's marts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import dagster as dg

from acorn_cli.environment import QUIET_OFFLINE
from orchestration.resources import simulated_start
from simulator.clock import START_VARIABLE

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "tests" / "fixtures" / "shared" / "settlement-samples"
DAGSTER_HOME = "dagster_home"
KEPT_ACORN_SETTINGS = frozenset({"ACORN_SIMULATOR_START"})
TIMEOUT_SECONDS = 900
# Taken once, when the tests start: one simulated day for every `acorn` process of the run.
SIMULATED_DAY = simulated_start().date().isoformat()


def acorn_command(*args: str) -> list[str]:
    """The command line of `acorn ARGS` with this test run's interpreter."""
    return [sys.executable, "-m", "acorn_cli.main", *args]


def acorn_env(
    workdir: Path, *, dagster_home: str = DAGSTER_HOME, env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of an `acorn` process working in `workdir` (its data dir and Dagster home there)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SPAPI_") and (not name.startswith("ACORN_") or name in KEPT_ACORN_SETTINGS)
    }
    return {
        START_VARIABLE: SIMULATED_DAY,
        **inherited,
        **QUIET_OFFLINE,
        "ACORN_DATA_DIR": str(Path(workdir) / "data"),
        "DAGSTER_HOME": str(Path(workdir) / dagster_home),
        **(env or {}),
    }


def acorn(
    workdir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    dagster_home: str = DAGSTER_HOME,
    timeout: float = TIMEOUT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """Run `acorn ARGS` in `workdir` to its end: its exit code, stdout and stderr (never raises on an exit)."""
    return subprocess.run(
        acorn_command(*args),
        cwd=REPO_ROOT,
        env=acorn_env(workdir, dagster_home=dagster_home, env=env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_acorn(
    workdir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    dagster_home: str = DAGSTER_HOME,
    stdout: int | IO[str] | None = subprocess.PIPE,
    stderr: int | IO[str] | None = subprocess.PIPE,
    own_process_group: bool = False,
) -> subprocess.Popen[str]:
    """Start `acorn ARGS` in `workdir` without waiting (to run beside another, pause or kill it). With
    `own_process_group`, it and its children (dbt) form a group of their own, to be killed together."""
    return subprocess.Popen(
        acorn_command(*args),
        cwd=REPO_ROOT,
        env=acorn_env(workdir, dagster_home=dagster_home, env=env),
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=own_process_group,
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL a process started with `own_process_group` and its children, and reap it. Nothing to kill when
    the group has already ended (say the process exited before the point a test waited for): the test's own
    failure says why, not a ProcessLookupError."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def dagster_runs(workdir: Path, job_name: str) -> list[dg.DagsterRun]:
    """The runs of `job_name` in the Dagster instance of a data dir made by `acorn_env(workdir)`."""
    with dg.DagsterInstance.from_config(str(workdir / DAGSTER_HOME)) as instance:
        return list(instance.get_runs(dg.RunsFilter(job_name=job_name)))
