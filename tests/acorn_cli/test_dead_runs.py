"""A run whose `acorn` process was killed does not stay STARTED: the next command marks it failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from acorn_cli.runs import HOST_TAG, PID_TAG, _process_gone, fail_dead_runs


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_process_is_not_gone_and_a_reaped_one_is() -> None:
    assert _process_gone(os.getpid(), time.time()) is None
    dead = _dead_pid()
    assert _process_gone(dead, time.time()) == f"(pid {dead}) is gone"


def test_runs_of_gone_processes_are_marked_failed_and_others_left_alone() -> None:
    host = socket.gethostname()
    dead = _dead_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        runs = {
            "killed": {PID_TAG: str(dead), HOST_TAG: host},
            "alive": {PID_TAG: str(os.getpid()), HOST_TAG: host},
            "other host": {PID_TAG: str(dead), HOST_TAG: host + "-elsewhere"},
            "from the ui": {},
        }
        ids = {}
        for name, tags in runs.items():
            run = instance.add_run(
                DagsterRun(job_name="settlement_import", status=dg.DagsterRunStatus.STARTED, tags=tags)
            )
            ids[name] = run.run_id
        failed = fail_dead_runs(instance)
        assert [run_id for run_id, _ in failed] == [ids["killed"]]
        assert f"(pid {dead}) is gone" in failed[0][1]
        statuses = {name: instance.get_run_by_id(run_id).status for name, run_id in ids.items()}
        assert statuses == {
            "killed": dg.DagsterRunStatus.FAILURE,
            "alive": dg.DagsterRunStatus.STARTED,
            "other host": dg.DagsterRunStatus.STARTED,
            "from the ui": dg.DagsterRunStatus.STARTED,
        }
        messages = [
            entry.dagster_event.message
            for entry in instance.all_logs(ids["killed"])
            if entry.dagster_event is not None and entry.dagster_event.event_type_value == "PIPELINE_FAILURE"
        ]
        assert messages == [failed[0][1]]
        assert fail_dead_runs(instance) == []  # once
