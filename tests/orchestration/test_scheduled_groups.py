"""The daily schedule on Celery workers (README "Scale-out", the schedule on Celery workers), evaluated as Dagster
evaluates it: one run request per group of accounts (as many groups as workers answer a ping, faked here), each
tagged with its tick, and the sensor that launches the tick's build run once every group run succeeded, read from
a real (SQLite) Dagster instance holding runs in each state. The daemon launching them on workers is proved by
tests/cluster/test_scheduled_group_runs.py (`make test-cluster`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.execution.plan.objects import StepFailureData
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.test_utils import create_run_for_test
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._utils.error import SerializableErrorInfo

import orchestration.account_groups as account_groups_module
from orchestration.account_groups import account_groups, daily_parts, group_run_tags
from orchestration.account_partitions import account_partition_keys, partition_tags
from orchestration.jobs import build_after_group_runs, daily_job, daily_schedule
from orchestration.scheduled_groups import (
    TICK_BUILD_TAG,
    TICK_GROUP_TAG,
    TICK_GROUPS_TAG,
    TICK_TAG,
    WILL_RETRY_TAG,
)

SCHEDULED = datetime(2026, 12, 6, 6, tzinfo=UTC)
TICK = "2026-12-06T06:00:00+00:00"
OTHER_TICK = "2026-12-05T06:00:00+00:00"
Status = dg.DagsterRunStatus
QUEUED_ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(
        InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="orchestration.definitions")),
        "__repository__",
    ),
    "acorn_daily",
)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def on_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORN_EXECUTOR", "celery")
    monkeypatch.setenv("ACORN_CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # never reached: the ping is faked


def _fake_ping(monkeypatch: pytest.MonkeyPatch, workers: int) -> list[int]:
    """Workers answering the schedule's ping; returns the list of pings made (their count)."""
    pings: list[int] = []

    def ping(timeout: float = 3.0) -> list[str]:
        pings.append(1)
        return [f"w{number}@host" for number in range(1, workers + 1)]

    monkeypatch.setattr(account_groups_module, "answering_workers", ping)
    return pings


def _evaluate(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=SCHEDULED)
    data = daily_schedule.evaluate_tick(context)
    assert data.skip_message is None
    return list(data.run_requests or [])


def test_embedded_the_schedule_is_one_run_of_the_whole_job_as_before(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACORN_EXECUTOR", raising=False)
    pings = _fake_ping(monkeypatch, 2)
    [request] = _evaluate(instance)
    assert request.run_key is None and request.run_config == {}
    assert request.asset_selection is None and request.asset_check_keys is None
    assert request.tags == {"dagster/schedule_name": "acorn_daily_schedule"}
    assert pings == []  # no worker is asked anything


@pytest.mark.usefixtures("on_celery")
def test_on_celery_one_request_per_group_of_accounts_as_many_as_workers_answered(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = account_partition_keys()
    assert len(accounts) >= 3, "the bundled config has at least three accounts"
    _fake_ping(monkeypatch, 2)
    requests = _evaluate(instance)
    groups = account_groups(accounts, 2)
    assert len(requests) == 2
    extraction, _ = daily_parts(daily_job)
    for number, (request, group) in enumerate(zip(requests, groups, strict=True), start=1):
        # The shape `acorn run` creates: the group's partition range (or partition) and accounts, the extraction
        # assets alone, no check (they run in the build, over every account).
        assert request.tags == {
            **group_run_tags(group),
            TICK_TAG: TICK,
            TICK_GROUPS_TAG: "2",
            TICK_GROUP_TAG: str(number),
            "dagster/schedule_name": "acorn_daily_schedule",
        }
        assert set(request.asset_selection or []) == extraction.assets
        assert request.asset_check_keys == []
        assert request.run_config == {}
    assert [
        account for request in requests for account in request.tags["acorn/accounts"].split(",")
    ] == accounts
    # Run keys per tick and group: the daemon launches a key once, so a tick evaluated again duplicates nothing.
    assert len({request.run_key for request in requests}) == 2
    assert all(TICK in (request.run_key or "") for request in requests)
    assert [request.run_key for request in _evaluate(instance)] == [request.run_key for request in requests]


@pytest.mark.usefixtures("on_celery")
@pytest.mark.parametrize(("workers", "groups"), [(0, 1), (1, 1), (50, None)])
def test_no_worker_answering_is_one_group_and_never_more_groups_than_accounts(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch, workers: int, groups: int | None
) -> None:
    _fake_ping(monkeypatch, workers)
    requests = _evaluate(instance)
    assert len(requests) == (groups if groups is not None else len(account_partition_keys()))
    assert {request.tags[TICK_GROUPS_TAG] for request in requests} == {str(len(requests))}


@pytest.mark.usefixtures("on_celery")
def test_a_tick_evaluated_again_keeps_the_groups_its_runs_recorded(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_ping(monkeypatch, 2)
    first = _evaluate(instance)
    # The daemon launched the first group's run, then died; when the tick is evaluated again three workers answer.
    create_run_for_test(instance, job_name="acorn_daily", tags=dict(first[0].tags), status=Status.STARTED)
    pings = _fake_ping(monkeypatch, 3)
    again = _evaluate(instance)
    assert [request.run_key for request in again] == [request.run_key for request in first]
    assert [request.tags for request in again] == [request.tags for request in first]
    assert pings == []


# The sensor.


def _group_run(
    instance: dg.DagsterInstance,
    tick: str,
    number: int,
    status: dg.DagsterRunStatus,
    *,
    groups: int = 2,
    extra: Mapping[str, str] | None = None,
) -> str:
    accounts = account_groups(account_partition_keys(), groups)[number - 1]
    tags = {
        **group_run_tags(accounts),
        TICK_TAG: tick,
        TICK_GROUPS_TAG: str(groups),
        TICK_GROUP_TAG: str(number),
        **(extra or {}),
    }
    # A queued run names the code it runs (the queue's daemon launches it from there).
    origin = QUEUED_ORIGIN if status == Status.QUEUED else None
    run = create_run_for_test(
        instance, job_name="acorn_daily", tags=tags, status=status, remote_job_origin=origin
    )
    return str(run.run_id)


def _run_event(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> None:
    instance.handle_run_event(
        run_id, dg.DagsterEvent(event_type_value=kind.value, job_name="acorn_daily", message=kind.value)
    )


def _step_failed(instance: dg.DagsterInstance, run_id: str, step: str, error: str, message: str) -> None:
    """Record a step failure in the run, as a worker does, its deepest cause `error: message`."""
    cause = SerializableErrorInfo(message=f"spapi.errors.{error}: {message}", stack=[], cls_name=error)
    wrapper = SerializableErrorInfo(
        message="AccountsFailed: 1 account(s) failed", stack=[], cls_name="AccountsFailed", cause=cause
    )
    event = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.STEP_FAILURE.value,
        job_name="acorn_daily",
        step_key=step,
        event_specific_data=StepFailureData(error=wrapper, user_failure_data=None),
    )
    instance.report_dagster_event(event, run_id)


@dataclass(frozen=True)
class Sensed:
    run_requests: list[dg.RunRequest]
    skip_reason: str | None
    cursor: str | None


def _sense(instance: dg.DagsterInstance, cursor: str | None = None) -> Sensed:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    data = build_after_group_runs.evaluate_tick(context)
    return Sensed(list(data.run_requests or []), data.skip_message, data.cursor)


def _built_ticks(result: Sensed) -> list[str]:
    return [request.tags[TICK_TAG] for request in result.run_requests or []]


def _launched(instance: dg.DagsterInstance, requests: Sequence[dg.RunRequest]) -> None:
    """Record the build runs as the daemon would launch them (with their tags)."""
    for request in requests:
        create_run_for_test(
            instance, job_name="acorn_daily", tags=dict(request.tags), status=Status.NOT_STARTED
        )


def test_every_group_succeeded_launches_the_build_once(instance: dg.DagsterInstance) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS)
    _group_run(instance, TICK, 2, Status.SUCCESS)
    first = _sense(instance)
    [build] = first.run_requests or []
    _, rest = daily_parts(daily_job)
    # The rest of the daily job: the warehouse and every check, tagged as `acorn run`'s build with the tick.
    assert set(build.asset_selection or []) == rest.assets
    assert set(build.asset_check_keys or []) == rest.checks
    assert build.tags == {
        **partition_tags(None),
        TICK_TAG: TICK,
        TICK_BUILD_TAG: "true",
        "dagster/sensor_name": "acorn_daily_build_after_groups",
    }
    assert build.run_key == f"{TICK}/build"
    assert json.loads(first.cursor or "{}") == {"built": [TICK]}
    # The next evaluation launches nothing for that tick: by its cursor, and (a lost cursor) by the build's run.
    again = _sense(instance, first.cursor)
    assert not again.run_requests and "no schedule tick" in (again.skip_reason or "")
    _launched(instance, first.run_requests or [])
    assert not _sense(instance, None).run_requests


def test_a_failed_group_launches_no_build_and_says_which_and_why(instance: dg.DagsterInstance) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS)
    failed = _group_run(instance, TICK, 2, Status.FAILURE)
    _step_failed(
        instance, failed, "settlement_reports", "LwaError", "invalid_grant: the refresh token was refused"
    )
    result = _sense(instance)
    assert not result.run_requests
    reason = result.skip_reason or ""
    accounts = account_groups(account_partition_keys(), 2)[1]
    assert f"group 2 of 2 ({','.join(accounts)}) failure" in reason, reason
    assert "settlement_reports: LwaError: invalid_grant: the refresh token was refused" in reason, reason
    assert "no build" in reason and failed[:8] in reason
    assert json.loads(result.cursor or "{}") == {"built": []}
    # A failure Dagster's run retries will re-execute is waited for, not reported as final.
    create_run_for_test(
        instance,
        job_name="acorn_daily",
        tags={**instance.get_run_by_id(failed).tags, WILL_RETRY_TAG: "true"},  # type: ignore[union-attr]
        status=Status.FAILURE,
    )
    assert "waiting for group 2 of 2" in (_sense(instance).skip_reason or "")


def test_a_failed_group_re_executed_successfully_allows_the_build(instance: dg.DagsterInstance) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS)
    failed = _group_run(instance, TICK, 2, Status.FAILURE)
    assert not _sense(instance).run_requests
    # Re-executed from the UI: the new run carries its parent's tags (Dagster copies them) and succeeds.
    parent = instance.get_run_by_id(failed)
    assert parent is not None
    create_run_for_test(
        instance,
        job_name="acorn_daily",
        tags={**parent.tags, "dagster/parent_run_id": failed, "dagster/root_run_id": failed},
        status=Status.SUCCESS,
        parent_run_id=failed,
        root_run_id=failed,
    )
    assert _built_ticks(_sense(instance)) == [TICK]


@pytest.mark.parametrize("status", [Status.QUEUED, Status.STARTING, Status.STARTED, Status.CANCELING])
def test_no_build_while_a_group_run_is_in_progress(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus
) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS)
    _group_run(instance, TICK, 2, status)
    result = _sense(instance)
    assert not result.run_requests
    assert "waiting for group 2 of 2" in (result.skip_reason or ""), result.skip_reason


def test_a_group_without_a_run_yet_is_waited_for(instance: dg.DagsterInstance) -> None:
    # The daemon has launched the first of the tick's three group runs only; the first one already succeeded.
    _group_run(instance, TICK, 1, Status.SUCCESS, groups=3)
    result = _sense(instance)
    assert not result.run_requests
    reason = result.skip_reason or ""
    assert "group 2 of 3 (no run yet)" in reason and "group 3 of 3 (no run yet)" in reason, reason


def test_a_canceled_group_launches_no_build(instance: dg.DagsterInstance) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS)
    canceled = _group_run(instance, TICK, 2, Status.CANCELED)
    result = _sense(instance)
    assert not result.run_requests
    reason = result.skip_reason or ""
    assert "group 2 of 2" in reason and "canceled" in reason and "no step failed" in reason, reason
    assert canceled[:8] in reason


def test_runs_disagreeing_on_the_number_of_groups_are_never_built(instance: dg.DagsterInstance) -> None:
    _group_run(instance, TICK, 1, Status.SUCCESS, groups=2)
    _group_run(instance, TICK, 2, Status.SUCCESS, groups=3)
    _group_run(instance, TICK, 3, Status.SUCCESS, groups=3)
    result = _sense(instance)
    assert not result.run_requests and "disagree" in (result.skip_reason or "")


def test_two_ticks_interleaved_each_get_their_build_when_their_own_groups_succeeded(
    instance: dg.DagsterInstance,
) -> None:
    _group_run(instance, OTHER_TICK, 1, Status.SUCCESS)
    slow = _group_run(instance, OTHER_TICK, 2, Status.STARTED)
    _group_run(instance, TICK, 1, Status.SUCCESS)
    _group_run(instance, TICK, 2, Status.SUCCESS)
    first = _sense(instance)
    assert _built_ticks(first) == [TICK]
    assert OTHER_TICK not in (first.cursor or "")
    _launched(instance, first.run_requests or [])
    # The older tick's slow group ends; the next evaluation builds that tick only.
    _run_event(instance, slow, dg.DagsterEventType.RUN_SUCCESS)
    second = _sense(instance, first.cursor)
    assert _built_ticks(second) == [OTHER_TICK]
    assert json.loads(second.cursor or "{}") == {"built": sorted([OTHER_TICK, TICK])}
    _launched(instance, second.run_requests or [])
    third = _sense(instance, second.cursor)
    assert not third.run_requests


def test_runs_of_no_schedule_tick_are_left_alone(instance: dg.DagsterInstance) -> None:
    # `acorn run`'s group runs and a run over every account carry no tick: the sensor builds nothing for them.
    create_run_for_test(
        instance,
        job_name="acorn_daily",
        tags=group_run_tags(account_partition_keys()[:1]),
        status=Status.SUCCESS,
    )
    create_run_for_test(instance, job_name="acorn_daily", tags=partition_tags(None), status=Status.FAILURE)
    result = _sense(instance)
    assert not result.run_requests and result.skip_reason
