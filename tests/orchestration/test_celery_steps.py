"""A step whose Celery worker is lost is noticed by its run (orchestration/celery_steps.py, README "Scale-out"):
the worker's heartbeat row, and the run's watch over a started task, with Celery's result, the instance's key-value
table and the run's clock replaced by fakes. The same with real workers killed by SIGKILL:
tests/cluster/test_cluster_demo.py's kill-worker test (`make test-cluster`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from orchestration import celery_steps
from orchestration.celery_steps import ATTEMPTS, HEARTBEAT_SECONDS, Heartbeat, WatchedStep, beat_key


class Storage:
    """The instance's key-value table."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_cursor_values(self, keys: set[str]) -> dict[str, str]:
        return {key: self.values[key] for key in keys if key in self.values}

    def set_cursor_values(self, pairs: dict[str, str]) -> None:
        self.values.update(pairs)


@dataclass
class Task:
    """A Celery AsyncResult as the run sees it."""

    id: str
    state: str = "PENDING"
    info: Any = None
    revoked: bool = False

    def ready(self) -> bool:
        return self.state in ("SUCCESS", "FAILURE")

    def get(self) -> list[str]:
        return [f"events of {self.id}"]

    def revoke(self) -> None:
        self.revoked = True


@dataclass
class World:
    storage: Storage = field(default_factory=Storage)
    tasks: list[Task] = field(default_factory=list)
    clock: float = 1000.0
    engine_events: list[str] = field(default_factory=list)
    pings: list[dict[str, Any]] = field(default_factory=list)

    def submit(self) -> Task:
        task = Task(f"task-{len(self.tasks) + 1}")
        self.tasks.append(task)
        return task

    def start(self, task: Task, worker: str) -> None:
        task.state, task.info = "STARTED", {"hostname": worker, "pid": 1}

    def beat(self, worker: str, task: Task | None, seq: int) -> None:
        value = {"seq": seq, "task": task.id if task else None, "pid": 1}
        self.storage.values[beat_key(worker)] = json.dumps(value)

    def tick(self, watched: WatchedStep, seconds: float) -> bool:
        self.clock += seconds
        return watched.ready()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    from dagster._core import events

    world = World()
    monkeypatch.setattr(celery_steps, "_now", lambda: world.clock)
    monkeypatch.setattr(celery_steps, "BEATS", celery_steps._Beats())
    monkeypatch.delenv(celery_steps.LOST_SECONDS_VAR, raising=False)

    def engine_event(context: Any, message: str, data: Any = None) -> str:
        world.engine_events.append(message)
        return message

    def step_failure_event(step_context: Any, step_failure_data: Any, message: Any = None) -> Any:
        return step_failure_data.error

    monkeypatch.setattr(events.DagsterEvent, "engine_event", staticmethod(engine_event))
    monkeypatch.setattr(events.DagsterEvent, "step_failure_event", staticmethod(step_failure_event))
    monkeypatch.setattr("dagster._serdes.serialize_value", lambda error: error)
    return world


def _watch(world: World) -> WatchedStep:
    context = SimpleNamespace(instance=SimpleNamespace(run_storage=world.storage), for_step=lambda step: step)
    app = SimpleNamespace(control=SimpleNamespace(ping=lambda timeout: world.pings))
    return WatchedStep(world.submit, context, SimpleNamespace(key="settlement_reports"), app)


def test_a_busy_worker_that_beats_keeps_its_step_however_long_it_takes(world: World) -> None:
    watched = _watch(world)
    [task] = world.tasks
    world.start(task, "w1@host")
    for seq in range(1, 60):  # five minutes, a beat every 5 s
        world.beat("w1@host", task, seq)
        assert not world.tick(watched, HEARTBEAT_SECONDS)
    assert len(world.tasks) == 1 and not task.revoked and world.engine_events == []
    task.state = "SUCCESS"
    assert world.tick(watched, 1) and watched.get() == ["events of task-1"]


def test_a_lost_worker_s_step_is_submitted_again_once_then_fails_naming_the_worker_and_the_step(
    world: World,
) -> None:
    watched = _watch(world)
    first = world.tasks[0]
    world.start(first, "w2@host")
    world.beat("w2@host", first, 1)
    assert not world.tick(watched, HEARTBEAT_SECONDS)
    # w2 is killed: its row stays as it was. Within the limit (60 s) the run waits; past it, the step goes again.
    for _ in range(12):
        assert not world.tick(watched, HEARTBEAT_SECONDS)
    assert len(world.tasks) == 1
    assert not world.tick(watched, HEARTBEAT_SECONDS)
    assert len(world.tasks) == 2 and first.revoked
    [event] = world.engine_events
    assert "w2@host" in event and '"settlement_reports"' in event and f"attempt 2 of {ATTEMPTS}" in event
    # The second task waits in the queue, then starts on w1, which is killed as well.
    second = world.tasks[1]
    assert not world.tick(watched, 30)
    world.start(second, "w1@host")
    world.beat("w1@host", second, 8)
    assert not world.tick(watched, HEARTBEAT_SECONDS)
    for _ in range(13):
        done = world.tick(watched, HEARTBEAT_SECONDS)
    assert done and len(world.tasks) == 2 and second.revoked
    [failure] = watched.get()
    assert failure.cls_name == "StepWorkerLost"
    assert "w1@host" in failure.message and '"settlement_reports"' in failure.message
    assert "fix:" in failure.message and "run again" in failure.message


def test_a_worker_restarted_under_the_same_name_does_not_hold_the_lost_step(world: World) -> None:
    watched = _watch(world)
    first = world.tasks[0]
    world.start(first, "w1@host")
    world.beat("w1@host", first, 1)
    assert not world.tick(watched, HEARTBEAT_SECONDS)
    # Its replacement, w1 again, beats on, idle or executing another task: the step is still lost.
    for seq in range(1, 14):
        world.beat("w1@host", None, 100 + seq)
        world.tick(watched, HEARTBEAT_SECONDS)
    assert len(world.tasks) == 2 and "w1@host" in world.engine_events[0]


def test_a_step_submitted_again_fails_when_no_worker_is_left(world: World) -> None:
    watched = _watch(world)
    first = world.tasks[0]
    world.start(first, "w1@host")
    world.beat("w1@host", first, 1)
    world.tick(watched, HEARTBEAT_SECONDS)
    world.tick(watched, 65)
    assert len(world.tasks) == 2
    # No row moves, no worker answers a ping: past the limit the waiting step fails instead of waiting for ever.
    assert not world.tick(watched, 30)
    assert world.tick(watched, 35)
    [failure] = watched.get()
    assert "no Celery worker has answered" in failure.message and "w1@host" in failure.message


def test_a_pending_step_submitted_again_waits_while_a_worker_answers(world: World) -> None:
    watched = _watch(world)
    first = world.tasks[0]
    world.start(first, "w1@host")
    world.beat("w1@host", first, 1)
    world.tick(watched, HEARTBEAT_SECONDS)
    world.tick(watched, 65)
    world.pings = [{"w3@host": {"ok": "pong"}}]  # an idle worker answers: the step waits its turn
    for _ in range(10):
        assert not world.tick(watched, 30)


def test_the_worker_heartbeat_names_its_task_and_counts(world: World) -> None:
    heartbeat = Heartbeat("w1@host", SimpleNamespace(run_storage=world.storage))
    heartbeat.executing("task-9")
    heartbeat.beat()
    heartbeat.beat()
    row = json.loads(world.storage.values[beat_key("w1@host")])
    assert row["task"] == "task-9" and row["seq"] == 2
    heartbeat.executing(None)
    heartbeat.beat()
    assert json.loads(world.storage.values[beat_key("w1@host")]) == {**row, "task": None, "seq": 3}


def test_the_limit_is_at_least_three_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(celery_steps.LOST_SECONDS_VAR, "1")
    assert celery_steps.lost_seconds() == 3 * HEARTBEAT_SECONDS
    monkeypatch.setenv(celery_steps.LOST_SECONDS_VAR, "120")
    assert celery_steps.lost_seconds() == 120
