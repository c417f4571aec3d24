"""Runs left unfinished by a process that is gone (killed, or the machine stopped) are marked failed, so the UI
never shows a dead run as running.

Every run names the process that executes it in its tags (`acorn/pid`, `acorn/host`): an `acorn` command tags
the runs it creates (it executes them itself), and a run started from the UI or by the daemon is tagged by its
first step with the pid of its run worker (`claim_run`, called when a step first sets up the data dir
resource). Those marks are then judged by `fail_dead_runs`, which every `acorn` command (`import`, `run`, `build`,
`demo`) and the first step of every run call before doing anything else: a run NOT_STARTED, STARTING or STARTED
whose process is gone is reported failed, naming the process.

Dagster's run monitoring (enabled in the `dagster.yaml` that `acorn` writes) adds what only the daemon can see:
runs that never left STARTING, and cancellations that never finished.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import dagster as dg

PID_TAG = "acorn/pid"  # the process executing the run: the `acorn` command itself, or the UI's run worker
HOST_TAG = "acorn/host"
COMMAND_TAG = "acorn/command"
# A run is created after its process started; a process with that pid that started later is another one (the
# margin absorbs clock steps since boot, which /proc's start times do not follow).
_START_SLACK_SECONDS = 60.0
_UNFINISHED = (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


def process_tags() -> dict[str, str]:
    """The tags naming this process as the one executing a run."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def claim_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[tuple[str, str]]:
    """At a step's start: a run not yet tagged with its process (started from the UI or by the daemon) is tagged
    with its run worker's pid, and the runs of processes that are gone are marked failed. Nothing for a run
    already tagged (an `acorn` command's: it did both before the run started)."""
    if PID_TAG in run.tags:
        return []
    execution = (run.run_config or {}).get("execution")
    executor = execution.get("config") if isinstance(execution, dict) else None
    in_process = isinstance(executor, dict) and "in_process" in executor
    # The multiprocess executor runs each step in a child of the run worker; the in-process one in the worker.
    worker = os.getpid() if in_process else os.getppid()
    instance.add_run_tags(run.run_id, {PID_TAG: str(worker), HOST_TAG: socket.gethostname()})
    return fail_dead_runs(instance)


def dead_runs(instance: dg.DagsterInstance) -> list[tuple[Any, str]]:
    """Runs of this instance left unfinished (NOT_STARTED, STARTING, STARTED) by a process of this host that is
    gone, each with why it is known to be gone. Runs not yet tagged with their process (a UI run before its
    first step) are not judged."""
    found = []
    host = socket.gethostname()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(_UNFINISHED), tags={HOST_TAG: host})):
        try:
            pid = int(run.tags.get(PID_TAG, ""))
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        record = instance.get_run_record_by_id(run.run_id)
        created = record.create_timestamp.timestamp() if record is not None else None
        gone = _process_gone(pid, created)
        if gone is not None:
            found.append((run, gone))
    return found


def fail_dead_runs(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    """Mark every run `dead_runs` finds as FAILURE, with the reason as the run's failure message."""
    failed = []
    for run, gone in dead_runs(instance):
        process = "the acorn process" if COMMAND_TAG in run.tags else "the run worker"
        reason = f"{process} {gone}: the run was interrupted (killed, or the machine stopped)"
        instance.report_run_failed(run, reason)
        failed.append((run.run_id, reason))
    return failed


def _process_gone(pid: int, created: float | None) -> str | None:
    """Why process `pid` (which created a run at `created`, epoch seconds) is known to be gone; None if it
    may still be running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"(pid {pid}) is gone"
    except PermissionError:
        pass  # alive, another user's
    if _process_state(pid) == "Z":
        return f"(pid {pid}) is gone (a zombie, not yet reaped)"
    started = _process_started_at(pid)
    if started is not None and created is not None and started > created + _START_SLACK_SECONDS:
        return f"(pid {pid}) is gone (that pid now belongs to a process started after the run)"
    return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces), from field 3 (state) on;
    None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _process_state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _process_started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc; None where that cannot be read."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError):
        return None
    # Field 22 (starttime, the 20th after the command name) counts clock ticks since boot.
    try:
        return boot + int(fields[19]) / ticks
    except (IndexError, ValueError):
        return None
