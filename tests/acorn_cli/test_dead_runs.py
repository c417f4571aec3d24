"""A run whose `acorn` process was killed does not stay STARTED: the next command marks it failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.interrupted_runs import HOST_TAG, PID_TAG, _process_gone, claim_run, fail_dead_runs
from orchestration.resources import DataDirResource


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


def test_a_ui_run_is_tagged_with_its_run_worker_at_its_first_step_and_fails_the_dead_ones() -> None:
    """A run started from the UI or by the daemon carries no pid until its first step names its run worker;
    that step also marks the runs of gone processes failed (the next run of the day cleans up yesterday's)."""
    host = socket.gethostname()
    dead = _dead_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        killed = instance.add_run(
            DagsterRun(
                job_name="acorn_daily",
                status=dg.DagsterRunStatus.STARTED,
                tags={PID_TAG: str(dead), HOST_TAG: host},
            )
        )
        multiprocess = instance.add_run(
            DagsterRun(job_name="acorn_daily", status=dg.DagsterRunStatus.STARTED)
        )
        in_process = instance.add_run(
            DagsterRun(
                job_name="settlement_import",
                status=dg.DagsterRunStatus.STARTED,
                run_config={"execution": {"config": {"in_process": {}}}},
            )
        )

        failed = claim_run(instance, multiprocess)
        assert [run_id for run_id, _ in failed] == [killed.run_id]
        assert f"the run worker (pid {dead}) is gone" in failed[0][1]
        tagged = instance.get_run_by_id(multiprocess.run_id)
        assert tagged is not None and tagged.tags[PID_TAG] == str(os.getppid())
        assert tagged.tags[HOST_TAG] == host and tagged.status == dg.DagsterRunStatus.STARTED

        assert claim_run(instance, in_process) == []
        tagged = instance.get_run_by_id(in_process.run_id)
        assert tagged is not None and tagged.tags[PID_TAG] == str(os.getpid())
        # Already tagged: its later steps (and an `acorn` command's runs) change nothing.
        assert claim_run(instance, tagged) == []
        assert instance.get_run_by_id(tagged.run_id).tags[PID_TAG] == str(os.getpid())  # type: ignore[union-attr]


@dg.asset
def touches_the_data_dir(data: DataDirResource) -> None:
    data.paths()


def test_the_first_step_of_a_run_started_elsewhere_fails_the_dead_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Through Dagster itself: a run whose first step uses the data dir resource, started without `acorn`."""
    dead = _dead_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        killed = instance.add_run(
            DagsterRun(
                job_name="acorn_daily",
                status=dg.DagsterRunStatus.STARTED,
                tags={PID_TAG: str(dead), HOST_TAG: socket.gethostname()},
            )
        )
        result = dg.materialize(
            [touches_the_data_dir],
            resources={"data": DataDirResource(data_dir=str(tmp_path / "data"))},
            instance=instance,
        )
        assert result.success
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags[HOST_TAG] == socket.gethostname() and PID_TAG in run.tags
