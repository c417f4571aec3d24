"""The daily schedule on Celery workers: one run per group of accounts per tick, then one build run once every
group run of the tick has succeeded (README "Scale-out", the schedule on Celery workers), as `acorn run` does in
its own process (acorn_cli/runs.py `run_job_per_account_group`).

The schedule (`daily_run_requests`) pings the workers from the code server that evaluates it and requests one run
per group of neighbouring accounts, as many groups as workers answered (one when none did: its steps wait on the
broker for a worker), each with its partition range and the extraction assets, the shape `acorn run` creates.
Every request of a tick carries the tick (`acorn/tick`, the scheduled time in ISO UTC), the number of groups
(`acorn/tick_groups`) and its own group's number (`acorn/tick_group`); run keys are per tick and group, and a
tick evaluated again reuses the number of groups its runs recorded, so it never duplicates a group's run.

The daemon cannot wait for the group runs inside the schedule, so a sensor (`build_requests`) reads the instance:
for each tick whose group runs it finds (created in the last `LOOKBACK`), it launches the build run (the rest of
the daily job: the warehouse and every check) once every group has a succeeded run, and records the tick in its
cursor, so each tick's build is launched once (its run key, per tick, stops a second one should the cursor be
lost). While a group run is queued or running it waits; when one failed (or was canceled) it launches nothing
and says which group failed and why in its skip reason. A group's latest run decides: a re-execution from the UI
carries its parent's tags, so once a failed group is re-executed and succeeds, the build starts (within
`LOOKBACK` of the tick's runs). A tick whose runs disagree on the number of groups is never built (said why).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from orchestration.account_groups import ACCOUNTS_TAG
from orchestration.step_failures import step_failure

TICK_TAG = "acorn/tick"
TICK_GROUPS_TAG = "acorn/tick_groups"
TICK_GROUP_TAG = "acorn/tick_group"
# On the build run the sensor launches for a tick (with `acorn/tick`).
TICK_BUILD_TAG = "acorn/tick_build"
# The tag Dagster puts on a failed run that its run retries will re-execute.
WILL_RETRY_TAG = "dagster/will_retry"
# How far back the sensor looks for the group runs of a tick (a failed group re-executed within it still gets
# its build; older ticks are left alone).
LOOKBACK = timedelta(days=3)

IN_PROGRESS = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.MANAGED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    }
)


def tick_of(scheduled: datetime | None) -> str:
    """The tick's tag value: its scheduled time in ISO UTC (now, to the second, when evaluated outside a tick)."""
    when = scheduled if scheduled is not None else datetime.now(UTC).replace(microsecond=0)
    return when.astimezone(UTC).isoformat()


def groups_recorded(instance: dg.DagsterInstance, tick: str) -> int | None:
    """The number of groups the runs of `tick` already recorded (a tick evaluated again), else None."""
    for run in instance.get_runs(filters=dg.RunsFilter(tags={TICK_TAG: tick}), limit=50):
        value = run.tags.get(TICK_GROUPS_TAG)
        if value and value.isdigit():
            return int(value)
    return None


def daily_run_requests(
    context: dg.ScheduleEvaluationContext,
    job: Any,
    *,
    ping: Callable[[], Sequence[str]] | None = None,
) -> dg.RunRequest | list[dg.RunRequest]:
    """The daily schedule's run requests: on Celery workers over several accounts, one per group of accounts (as
    many as workers answer `ping`); otherwise one run of the whole job, as the schedule always made."""
    from orchestration.account_groups import account_groups, answering_workers, daily_parts, group_run_tags
    from orchestration.account_partitions import account_partition_keys
    from orchestration.executor import CELERY, executor_kind

    accounts = account_partition_keys()
    if executor_kind() != CELERY or len(accounts) <= 1:
        return dg.RunRequest(run_key=None, run_config={})
    tick = tick_of(context.scheduled_execution_time)
    count = groups_recorded(context.instance, tick)
    if count is None:
        answered = list((ping or answering_workers)())
        count = len(answered) or 1
        context.log.info(
            f"{len(answered)} Celery worker(s) answered the ping: {count} group run(s) of the "
            f"{len(accounts)} accounts for tick {tick}"
            + ("" if answered else " (none answered: one run, whose steps wait on the broker for a worker)")
        )
    else:
        context.log.info(f"tick {tick} evaluated again: its runs recorded {count} group(s)")
    extraction, _ = daily_parts(job)
    groups = account_groups(accounts, count)
    return [
        dg.RunRequest(
            run_key=f"{tick}/group-{number}-of-{len(groups)}",
            run_config={},
            tags={
                **group_run_tags(group),
                TICK_TAG: tick,
                TICK_GROUPS_TAG: str(len(groups)),
                TICK_GROUP_TAG: str(number),
            },
            asset_selection=sorted(extraction.assets, key=lambda key: key.to_user_string()),
            asset_check_keys=[],  # the checks run in the build run, over every account (as `acorn run` does)
        )
        for number, group in enumerate(groups, start=1)
    ]


@dataclass(frozen=True)
class TickState:
    """What the group runs of one tick say: `ready` (every group's latest run succeeded), else why not
    (`waiting`: some group has no run yet or one in progress; `failed`: some group's latest run failed)."""

    tick: str
    ready: bool
    failed: bool
    reason: str


def _group_label(run: dg.DagsterRun) -> str:
    groups = run.tags.get(TICK_GROUPS_TAG, "?")
    accounts = run.tags.get(ACCOUNTS_TAG, "")
    return f"group {run.tags.get(TICK_GROUP_TAG, '?')} of {groups}" + (f" ({accounts})" if accounts else "")


def failure_headline(instance: dg.DagsterInstance, run_id: str, lines: int = 2) -> str:
    """The first failed step of a run and its deepest cause (`step: Class: message`, as `acorn run` reports it,
    `orchestration.step_failures`; the deepest cause only, not the line of which accounts failed), or the run's
    status when no step failed (canceled, or failed before any step)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.step_failure_data if event is not None else None
        if event is None or data is None or data.error is None:
            continue
        return step_failure(event).headline(lines, accounts=False)
    run = instance.get_run_by_id(run_id)
    return f"run {run.status.value if run is not None else 'gone'}, no step failed"


def tick_state(instance: dg.DagsterInstance, tick: str, runs: Sequence[dg.DagsterRun]) -> TickState:
    """The state of `tick` from its group runs (a re-execution of a group run carries its tags: each group's
    latest run decides)."""
    counts = {run.tags.get(TICK_GROUPS_TAG, "") for run in runs}
    value = next(iter(counts), "")
    if len(counts) != 1 or not value.isdigit():
        return TickState(
            tick,
            ready=False,
            failed=True,
            reason=f"tick {tick}: its runs disagree on the number of groups ({sorted(map(str, counts))}): "
            "no build; run `acorn build` once the accounts are landed",
        )
    expected = int(value)
    latest: dict[str, dg.DagsterRun] = {}
    for run in runs:  # newest first (the instance's order)
        latest.setdefault(run.tags.get(TICK_GROUP_TAG, ""), run)
    missing = [str(number) for number in range(1, expected + 1) if str(number) not in latest]
    failed = [
        run
        for run in latest.values()
        if run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
        and run.tags.get(WILL_RETRY_TAG) != "true"
    ]
    if failed:
        said = "; ".join(
            f"{_group_label(run)} {run.status.value.lower()} (run {run.run_id[:8]}): "
            f"{failure_headline(instance, run.run_id)}"
            for run in sorted(failed, key=lambda run: int(run.tags.get(TICK_GROUP_TAG, "0") or 0))
        )
        return TickState(
            tick,
            ready=False,
            failed=True,
            reason=f"tick {tick}: no build, the lake is not complete: {said} "
            "(re-execute the failed run: when it succeeds the build starts)",
        )
    running = [run for run in latest.values() if run.status != dg.DagsterRunStatus.SUCCESS]
    if missing or running:
        waiting = [f"group {number} of {expected} (no run yet)" for number in missing] + [
            f"{_group_label(run)} {run.status.value.lower()}" for run in running
        ]
        return TickState(
            tick, ready=False, failed=False, reason=f"tick {tick}: waiting for {', '.join(waiting)}"
        )
    return TickState(
        tick, ready=True, failed=False, reason=f"tick {tick}: all {expected} group runs succeeded"
    )


def _cursor_ticks(cursor: str | None) -> set[str]:
    if not cursor:
        return set()
    try:
        value = json.loads(cursor)
    except ValueError:
        return set()
    return {str(tick) for tick in value.get("built", [])} if isinstance(value, dict) else set()


def build_requests(
    context: dg.SensorEvaluationContext, job: Any, *, now: datetime | None = None
) -> dg.SensorResult:
    """One build run per tick whose group runs all succeeded, once; a skip reason naming each tick's state when
    there is none to launch."""
    from orchestration.account_groups import daily_parts
    from orchestration.account_partitions import partition_tags

    instance = context.instance
    since = (now or datetime.now(UTC)) - LOOKBACK
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job.name, created_after=since))
    by_tick: dict[str, list[dg.DagsterRun]] = {}
    built = _cursor_ticks(context.cursor)
    for run in runs:  # newest first
        tick = run.tags.get(TICK_TAG)
        if tick is None:
            continue
        if run.tags.get(TICK_BUILD_TAG):
            built.add(tick)  # a build already launched (a lost cursor does not launch it again)
        elif TICK_GROUP_TAG in run.tags:
            by_tick.setdefault(tick, []).append(run)
    requests: list[dg.RunRequest] = []
    reasons: list[str] = []
    rest = None
    for tick in sorted(by_tick):
        if tick in built:
            continue
        state = tick_state(instance, tick, by_tick[tick])
        if not state.ready:
            reasons.append(state.reason)
            (context.log.warning if state.failed else context.log.info)(state.reason)
            continue
        if rest is None:
            _, rest = daily_parts(job)
        context.log.info(f"{state.reason}: launching its build run")
        requests.append(
            dg.RunRequest(
                run_key=f"{tick}/build",
                run_config={},
                tags={**partition_tags(None), TICK_TAG: tick, TICK_BUILD_TAG: "true"},
                asset_selection=sorted(rest.assets, key=lambda key: key.to_user_string()),
                asset_check_keys=sorted(rest.checks, key=lambda key: key.to_user_string()),
            )
        )
        built.add(tick)
    # Only the ticks still within the look-back: the cursor stays small.
    cursor = json.dumps({"built": sorted(built & by_tick.keys())})
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    return dg.SensorResult(
        skip_reason="; ".join(reasons)
        or f"no schedule tick's group runs without their build in the last {LOOKBACK.days} days",
        cursor=cursor,
    )
