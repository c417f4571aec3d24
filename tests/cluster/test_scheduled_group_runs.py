"""The daily schedule on Celery workers, launched by the daemon nobody watches (README "Scale-out", the schedule on
Celery workers): `dagster-daemon run` over a PostgreSQL instance (its QueuedRunCoordinator, Dagster's default),
2 workers and 3 simulated sellers. The schedule, started with its start time just before the last 06:00 UTC, is
ticked by the daemon for that tick: it pings the workers from the code server (2 answer) and requests 2 group runs
(`sim-na-001,sim-eu-002` and `sim-na-003`) tagged with the tick; the queue launches them, their steps run on the
workers; once both succeeded the sensor launches exactly one build run for the tick, and no second one on its
next evaluations. With one seller's credentials refused, its group run fails and the sensor withholds the build,
saying which group failed and why, until the failed run, re-executed from its failure as the UI does once the
credentials are fixed, succeeds: then exactly one build run.

Marked `cluster` (PostgreSQL on 127.0.0.1:5432 and Redis on 6379, db 12): `make test-cluster`, not `make test`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from acorn_cli.cluster_demo import (
    REDIS_URL,
    Cluster,
    account_steps_by_worker,
    accounts_config,
    base_env,
    empty_redis_database,
    fresh_postgres_database,
)
from acorn_cli.environment import DAGSTER_YAML_POSTGRES
from orchestration.account_groups import daily_parts
from orchestration.jobs import daily_job
from orchestration.paths import REPO_ROOT
from orchestration.scheduled_groups import TICK_BUILD_TAG, TICK_GROUP_TAG, TICK_GROUPS_TAG, TICK_TAG
from spapi.credentials import refresh_token_var

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ACCOUNTS = ["sim-na-001", "sim-eu-002", "sim-na-003"]
BIN = Path(sys.executable).parent
# The group runs, then the build (dbt and every check) on 2 workers of a loaded 2-core machine.
TIMEOUT = 1800
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _last_six_utc() -> datetime:
    now = datetime.now(UTC)
    six = now.replace(hour=6, minute=0, second=0, microsecond=0)
    return six if six <= now else six - timedelta(days=1)


@contextlib.contextmanager
def _daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        # The daemon, its code server and the runs it launched are in its own process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _start_schedule_before(
    env: dict[str, str], instance: dg.DagsterInstance, tick: datetime, log: Path
) -> None:
    """Turn the schedule on (Dagster's CLI), then set its start time a minute before `tick`, so that the daemon's
    first iteration evaluates that tick (as it catches up a tick it missed)."""
    from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData

    with log.open("wb") as output:
        subprocess.run(
            [str(BIN / "dagster"), "schedule", "start", "acorn_daily_schedule", "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
    [state] = [
        state
        for state in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
        if state.name == "acorn_daily_schedule"
    ]
    data = state.instigator_data
    assert isinstance(data, ScheduleInstigatorData)
    instance.update_instigator_state(
        state.with_data(ScheduleInstigatorData(data.cron_schedule, start_timestamp=tick.timestamp() - 60))
    )


# Re-execute a failed run from its failure as the UI's "Re-execute from failure" does (dagster-graphql's
# launch_reexecution_from_parent_run: the parent's tags kept, the run submitted to the queue).
REEXECUTE = """
import sys
from dagster import DagsterInstance
from dagster._core.execution.plan.resume_retry import ReexecutionStrategy
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

with DagsterInstance.get() as instance:
    parent = instance.get_run_by_id(sys.argv[1])
    target = WorkspaceFileTarget(paths=["workspace.yaml"])
    with WorkspaceProcessContext(instance, target) as workspace:
        context = workspace.create_request_context()
        [name] = context.get_code_location_entries()
        location = context.get_code_location(name)
        [repository] = location.get_repositories().values()
        job = repository.get_full_job(parent.job_name)
        run = instance.create_reexecuted_run(
            parent_run=parent,
            request_context=context,
            code_location=location,
            remote_job=job,
            strategy=ReexecutionStrategy.FROM_FAILURE,
            use_parent_run_tags=True,
        )
        instance.submit_run(run.run_id, workspace=context)
"""


def _reexecute_from_failure(env: dict[str, str], run_id: str, log: Path) -> None:
    with log.open("wb") as output:
        subprocess.run(
            [sys.executable, "-c", REEXECUTE, run_id],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )


def _sensor_skip_reasons(postgres_url: str, after: float) -> list[str]:
    """The build sensor's skip reasons of its evaluations after `after` (epoch seconds)."""
    import json

    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select tick_body from job_ticks where type = 'SENSOR' and tick_body like %s "
            "and timestamp > to_timestamp(%s) at time zone 'UTC' order by id",
            ["%acorn_daily_build_after_groups%", after],
        )
        bodies = [json.loads(body) for (body,) in cursor.fetchall()]
    return [str(body.get("skip_reason")) for body in bodies if body.get("skip_reason")]


def _sensor_ticks_after(postgres_url: str, after: float) -> int:
    """How many times the daemon evaluated the build sensor after `after` (epoch seconds)."""
    import psycopg2

    with (
        contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "select count(*) from job_ticks where type = 'SENSOR' and tick_body like %s "
            "and timestamp > to_timestamp(%s) at time zone 'UTC'",
            ["%acorn_daily_build_after_groups%", after],
        )
        [(count,)] = cursor.fetchall()
        return int(count)


@dataclass
class ScheduledCluster:
    instance: dg.DagsterInstance
    instance_url: str
    tick: str  # the `acorn/tick` of the tick the daemon evaluates
    logs: Path
    deadline: float
    env: dict[str, str]
    workers: Cluster

    def runs(self) -> list[dg.DagsterRun]:
        return list(self.instance.get_runs(filters=dg.RunsFilter(tags={TICK_TAG: self.tick})))

    def records(self) -> dict[str, Any]:
        return {
            record.dagster_run.run_id: record
            for record in self.instance.get_run_records(filters=dg.RunsFilter(tags={TICK_TAG: self.tick}))
        }

    def wait_for_sensor_ticks(self, after: float, count: int) -> None:
        while _sensor_ticks_after(self.instance_url, after) < count and time.monotonic() < self.deadline:
            time.sleep(5)
        assert _sensor_ticks_after(self.instance_url, after) >= count, f"the sensor stopped (see {self.logs})"


@contextlib.contextmanager
def _scheduled_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra_env: dict[str, str] | None = None
) -> Iterator[ScheduledCluster]:
    """2 workers and the daemon over a fresh PostgreSQL instance, the schedule on and due for its last 06:00 tick."""
    config = tmp_path / "accounts.toml"
    config.write_text(accounts_config(len(ACCOUNTS)), encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    broker = f"{REDIS_URL}/12"
    empty_redis_database(broker)
    day = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    tick = _last_six_utc()
    with fresh_postgres_database(prefix="acorn_schedule") as instance_url:
        home = tmp_path / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(DAGSTER_YAML_POSTGRES, encoding="utf-8")
        env = {
            **base_env(tmp_path, config, day),
            "DAGSTER_HOME": str(home),
            "ACORN_DATA_DIR": str(tmp_path / "data"),
            "ACORN_EXECUTOR": "celery",
            "ACORN_CELERY_BROKER_URL": broker,
            "ACORN_DAGSTER_POSTGRES_URL": instance_url,
            **(extra_env or {}),
        }
        monkeypatch.setenv("ACORN_DAGSTER_POSTGRES_URL", instance_url)
        cluster = Cluster(env, logs)
        scheduled: ScheduledCluster | None = None
        with dg.DagsterInstance.from_config(str(home)) as instance:
            try:
                cluster.start(2)
                _start_schedule_before(env, instance, tick, logs / "schedule-start.log")
                with _daemon(env, logs / "daemon.log"):
                    scheduled = ScheduledCluster(
                        instance,
                        instance_url,
                        tick.isoformat(),
                        logs,
                        time.monotonic() + TIMEOUT,
                        env,
                        cluster,
                    )
                    yield scheduled
            finally:
                cluster.stop()
                if scheduled is not None and scheduled.workers is not cluster:
                    scheduled.workers.stop()  # the workers the test started instead
                empty_redis_database(broker)


def test_the_daemon_launches_one_run_per_group_then_one_build_when_they_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _scheduled_cluster(tmp_path, monkeypatch) as cluster:
        logs = cluster.logs
        build: dg.DagsterRun | None = None
        while time.monotonic() < cluster.deadline:
            runs = cluster.runs()
            groups = [run for run in runs if TICK_GROUP_TAG in run.tags]
            failed = [run for run in groups if run.status == dg.DagsterRunStatus.FAILURE]
            assert not failed, f"group run(s) failed: {[run.run_id for run in failed]} (see {logs})"
            builds = [run for run in runs if run.tags.get(TICK_BUILD_TAG)]
            if builds and builds[0].status in FINISHED:
                build = builds[0]
                break
            time.sleep(5)
        assert build is not None, f"no build run ended within {TIMEOUT} s (see {logs})"
        # Exactly once: two more evaluations of the sensor after the build was launched add none.
        cluster.wait_for_sensor_ticks(cluster.records()[build.run_id].create_timestamp.timestamp(), 2)
        runs = cluster.runs()
        records = cluster.records()
        groups = sorted(
            (run for run in runs if TICK_GROUP_TAG in run.tags), key=lambda run: run.tags[TICK_GROUP_TAG]
        )
        builds = [run for run in runs if run.tags.get(TICK_BUILD_TAG)]
        placed = account_steps_by_worker(cluster.instance_url, [run.run_id for run in groups])

    # Two workers answered the code server's ping: two group runs of neighbours, tagged with the tick.
    assert [run.tags["acorn/accounts"] for run in groups] == ["sim-na-001,sim-eu-002", "sim-na-003"]
    assert all(run.tags[TICK_GROUPS_TAG] == "2" for run in groups)
    assert all(run.tags.get("dagster/schedule_name") == "acorn_daily_schedule" for run in groups)
    assert [run.status for run in groups] == [dg.DagsterRunStatus.SUCCESS] * 2
    extraction, rest = daily_parts(daily_job)
    assert all(run.asset_selection == extraction.assets for run in groups)
    # Their steps ran on the Celery workers.
    assert sorted(placed) == sorted(ACCOUNTS), placed
    assert {worker for workers in placed.values() for worker in workers} <= {"cluster-w1", "cluster-w2"}
    # Exactly one build run, launched by the sensor after both group runs ended, of the rest of the daily job.
    [build] = builds
    assert build.tags.get("dagster/sensor_name") == "acorn_daily_build_after_groups"
    assert build.asset_selection == rest.assets
    group_ends = [records[run.run_id].end_time for run in groups]
    assert all(end is not None for end in group_ends)
    assert records[build.run_id].create_timestamp.timestamp() >= max(end for end in group_ends if end)
    assert build.status == dg.DagsterRunStatus.SUCCESS, f"the build run ended {build.status} (see {logs})"


def test_a_failed_group_run_withholds_the_build_until_its_re_execution_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator's token endpoint refuses a refresh token starting with "invalid": the second group's account.
    refused = {refresh_token_var(ACCOUNTS[2]): "invalid-for-this-test"}
    with _scheduled_cluster(tmp_path, monkeypatch, refused) as cluster:
        groups: list[dg.DagsterRun] = []
        while time.monotonic() < cluster.deadline:
            groups = [run for run in cluster.runs() if TICK_GROUP_TAG in run.tags]
            if len(groups) == 2 and all(run.status in FINISHED for run in groups):
                break
            time.sleep(5)
        records = cluster.records()
        ended = max(records[run.run_id].end_time or 0 for run in groups)
        # Two evaluations of the sensor after both ended: neither launches a build, both say why.
        cluster.wait_for_sensor_ticks(ended, 2)
        reasons = _sensor_skip_reasons(cluster.instance_url, ended)
        failed_runs = cluster.runs()
        # The credentials fixed (workers restarted without the refused token), the failed run is re-executed from
        # its failure, as from the UI: once it succeeds the sensor launches the tick's build.
        cluster.workers.stop()
        fixed = {key: value for key, value in cluster.env.items() if key not in refused}
        cluster.workers = Cluster(fixed, cluster.logs)
        cluster.workers.start(2)
        [failed] = [run for run in groups if run.status == dg.DagsterRunStatus.FAILURE]
        _reexecute_from_failure(fixed, failed.run_id, cluster.logs / "reexecute.log")
        build: dg.DagsterRun | None = None
        while time.monotonic() < cluster.deadline:
            builds = [run for run in cluster.runs() if run.tags.get(TICK_BUILD_TAG)]
            if builds and builds[0].status in FINISHED:
                build = builds[0]
                break
            time.sleep(5)
        assert build is not None, f"no build run ended within {TIMEOUT} s (see {cluster.logs})"
        cluster.wait_for_sensor_ticks(cluster.records()[build.run_id].create_timestamp.timestamp(), 2)
        runs = cluster.runs()
        records = cluster.records()
    groups = sorted(groups, key=lambda run: run.tags[TICK_GROUP_TAG])
    assert [run.tags["acorn/accounts"] for run in groups] == ["sim-na-001,sim-eu-002", "sim-na-003"]
    assert [run.status for run in groups] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
    assert not [run for run in failed_runs if run.tags.get(TICK_BUILD_TAG)]
    assert reasons, "the sensor gave no skip reason"
    for reason in reasons:
        assert "no build, the lake is not complete: group 2 of 2 (sim-na-003) failure" in reason, reason
        assert groups[1].run_id[:8] in reason, reason
    # The re-execution kept the group's tags and succeeded; then exactly one build, launched after it ended.
    [again] = [run for run in runs if run.parent_run_id == groups[1].run_id]
    assert again.tags[TICK_GROUP_TAG] == "2" and again.parent_run_id == groups[1].run_id
    assert again.status == dg.DagsterRunStatus.SUCCESS
    [build] = [run for run in runs if run.tags.get(TICK_BUILD_TAG)]
    assert records[build.run_id].create_timestamp.timestamp() >= (
        records[again.run_id].end_time or float("inf")
    )
    assert build.status == dg.DagsterRunStatus.SUCCESS, f"the build run ended {build.status}"
