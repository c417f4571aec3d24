"""A step whose Celery worker died is noticed by its run (README "Scale-out", "A worker killed mid-step").

dagster-celery submits each step as a task and waits for its result; Celery acknowledges a task when a worker
takes it, so a worker killed mid-step (kill -9, the OOM killer, a lost host) takes the task with it and the run
would wait for ever. Here:

- **Each worker beats** while it executes steps: a thread of the worker process writes, every
  `HEARTBEAT_SECONDS`, a small record to the Dagster instance every worker and run already share (its key-value
  table, one row per worker: `acorn/celery-worker/<hostname>`, naming the task it executes and a counter). A
  busy worker cannot answer Celery's ping (the solo pool executes the step in the process that would answer), so
  the beat comes from a thread of its own, which runs as long as the process lives.
- **Each run watches its steps' tasks** (`WatchedStep`, the result object the run's Celery loop polls): a task
  that has started (Celery's STARTED state, `task_track_started`, names the worker's hostname) is lost when
  that worker's record has not moved on while naming the task for `lost_seconds()` (60 s by default, measured
  on the run's own clock, so hosts' clocks need not agree).
- **A lost step is submitted again, once**, to whichever worker is free (the landings replace partitions with
  `os.replace` and merge by key, and an account's lock is freed when its holder dies: by PostgreSQL, which ends
  a dead worker's session, or by the kernel for a `flock`; so executing
  a step again converges and counts nothing twice); an engine event in the run's log says which worker and step.
  Lost a second time, or when no worker is left to take it, the step **fails** with a message naming the worker,
  the step and the fix (`StepWorkerLost`), so the run ends FAILED by itself and `acorn` exits 3.

What the dead step held in Dagster is released by the run's end as for any failed step: the step's failure (or
its success on the second worker) is recorded by the run's process, which frees a concurrency slot held for it,
and the run's end frees what the run coordinator counts. Not covered: a worker killed in the instant between
taking a task from the broker and starting it (the task is then neither STARTED nor queued; the run waits, as
before: stop it and run again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

HEARTBEAT_SECONDS = 5.0
LOST_SECONDS = 60.0
LOST_SECONDS_VAR = "ACORN_CELERY_WORKER_LOST_SECONDS"
ATTEMPTS = 2  # a lost step is executed at most twice
KEY_PREFIX = "acorn/celery-worker/"
ERROR_CLASS = "StepWorkerLost"

log = logging.getLogger(__name__)


def _now() -> float:
    """The run's own clock (monotonic): what a worker's heartbeat is timed by."""
    return time.monotonic()


def lost_seconds() -> float:
    """How long a started step's worker may go without a heartbeat before the step counts as lost (at least
    three heartbeats)."""
    try:
        seconds = float(os.environ.get(LOST_SECONDS_VAR) or LOST_SECONDS)
    except ValueError:
        seconds = LOST_SECONDS
    return max(seconds, 3 * HEARTBEAT_SECONDS)


def beat_key(hostname: str) -> str:
    return f"{KEY_PREFIX}{hostname}"


# ---- the worker's side -------------------------------------------------------------------------------------


class Heartbeat:
    """A worker process's heartbeat: a daemon thread writing `{seq, task, pid}` to the instance's key-value table
    every HEARTBEAT_SECONDS, and at once when a task starts or ends."""

    def __init__(self, hostname: str, instance: Any) -> None:
        self.hostname = hostname
        self.instance = instance
        self.task: str | None = None
        self.seq = 0
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="acorn-heartbeat", daemon=True)
        self._failing = False

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def executing(self, task_id: str | None) -> None:
        self.task = task_id
        self._wake.set()

    def beat(self) -> None:
        self.seq += 1
        value = json.dumps({"seq": self.seq, "task": self.task, "pid": os.getpid()})
        try:
            self.instance.run_storage.set_cursor_values({beat_key(self.hostname): value})
            self._failing = False
        except Exception as error:  # the database is away for a moment: the next beat tries again
            if not self._failing:
                log.warning("acorn: worker heartbeat not written (%s); retrying", type(error).__name__)
            self._failing = True

    def _run(self) -> None:
        while True:
            self.beat()
            self._wake.wait(HEARTBEAT_SECONDS)
            self._wake.clear()


_heartbeat: Heartbeat | None = None
_heartbeat_lock = threading.Lock()


def task_started(task_id: str, hostname: str, kwargs: dict[str, Any]) -> None:
    """Celery's task_prerun in a worker: start the process's heartbeat (first task) and name the task."""
    global _heartbeat
    with _heartbeat_lock:
        if _heartbeat is None:
            _heartbeat = Heartbeat(hostname, _instance_of(kwargs)).start()
    _heartbeat.executing(task_id)


def task_ended() -> None:
    if _heartbeat is not None:
        _heartbeat.executing(None)


def _instance_of(kwargs: dict[str, Any]) -> Any:
    """The Dagster instance the step's run is recorded on (its ref travels with the task)."""
    from dagster import DagsterInstance
    from dagster._grpc.types import ExecuteStepArgs
    from dagster._serdes import unpack_value

    args = unpack_value(kwargs["execute_step_args_packed"], as_type=ExecuteStepArgs)
    return DagsterInstance.from_ref(args.instance_ref) if args.instance_ref else DagsterInstance.get()


# ---- the run's side ----------------------------------------------------------------------------------------


class _Beats:
    """What this process has seen of the workers' heartbeats: each worker's last counter and when it moved
    (the run's monotonic clock). Shared by the runs executing in this process's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, float]] = {}

    def read(self, instance: Any, hostname: str) -> dict[str, Any] | None:
        raw = instance.run_storage.get_cursor_values({beat_key(hostname)}).get(beat_key(hostname))
        if raw is None:
            return None
        record = json.loads(raw)
        with self._lock:
            seq = int(record.get("seq") or 0)
            before = self._seen.get(hostname)
            if before is None or before[0] != seq:
                self._seen[hostname] = (seq, _now())
        return record

    def any_alive(self, instance: Any, within: float) -> bool:
        """Whether any worker this process has seen beat has beaten within the last `within` seconds."""
        with self._lock:
            hosts = list(self._seen)
        for host in hosts:
            self.read(instance, host)
        now = _now()
        with self._lock:
            return any(now - moved <= within for _, moved in self._seen.values())


BEATS = _Beats()


class WatchedStep:
    """The result of one step's Celery task, as dagster-celery's loop polls it (`ready`, `get`, `revoke`), watching
    the worker that executes it: submitted again once when that worker is lost, then failed."""

    def __init__(self, submit: Callable[[], Any], job_context: Any, step: Any, app: Any) -> None:
        self._submit = submit
        self._job_context = job_context
        self._step = step
        self._app = app
        self._result = submit()
        self.attempt = 1
        self._failure: list[str] | None = None
        self._reset(_now())

    def _reset(self, now: float) -> None:
        self._next_check = now + HEARTBEAT_SECONDS
        self._worker: str | None = None
        self._seq: int | None = None
        self._last_ok = now
        self._pending_since = now

    @property
    def id(self) -> str:
        return str(self._result.id)

    def ready(self) -> bool:
        if self._failure is not None or self._result.ready():
            return True
        now = _now()
        if now >= self._next_check:
            self._next_check = now + HEARTBEAT_SECONDS
            try:
                self._check(now)
            except Exception as error:  # a broker's or database's hiccup is no lost worker: look again later
                log.warning("acorn: could not check step %s's worker: %s", self._step.key, error)
        return self._failure is not None

    def get(self) -> Any:
        if self._failure is not None:
            return self._failure
        return self._result.get()

    def revoke(self) -> None:
        self._result.revoke()

    def _check(self, now: float) -> None:
        instance = self._job_context.instance
        limit = lost_seconds()
        state = self._result.state
        if state == "STARTED":
            info = self._result.info if isinstance(self._result.info, dict) else {}
            host = str(info.get("hostname") or "")
            if host != self._worker:
                self._worker, self._seq, self._last_ok = host, None, now
            record = BEATS.read(instance, host) if host else None
            if record is not None and record.get("task") == self.id and record.get("seq") != self._seq:
                self._seq, self._last_ok = record.get("seq"), now
            elif now - self._last_ok > limit:
                self._lost(host, limit, now)
        elif state == "PENDING" and self.attempt > 1 and now - self._pending_since > limit:
            # Submitted again after a lost worker and still waiting: fail it if no worker is left to take it.
            if self._workers_answer(instance, limit):
                self._pending_since = now
            else:
                self._fail(
                    f'step "{self._step.key}" cannot be executed: its worker {self._lost_worker} was lost while '
                    f"executing it, and no Celery worker has answered or beaten for {limit:.0f} s since it was "
                    "submitted again. fix: start workers (`acorn worker`, README Scale-out), then run again: "
                    "what the step landed is replaced, never duplicated."
                )

    _lost_worker = "?"

    def _workers_answer(self, instance: Any, limit: float) -> bool:
        if BEATS.any_alive(instance, limit):
            return True
        try:
            return bool(self._app.control.ping(timeout=1.0))
        except Exception:
            return False

    def _lost(self, host: str, limit: float, now: float) -> None:
        from dagster._core.events import DagsterEvent, EngineEventData

        self._lost_worker = host
        # Should the worker come back, it does not start the step again (a broker away: lost with it anyway).
        with contextlib.suppress(Exception):
            self._result.revoke()
        if self.attempt < ATTEMPTS:
            DagsterEvent.engine_event(
                self._job_context.for_step(self._step),
                f'Celery worker {host} was lost while executing step "{self._step.key}" (no heartbeat for '
                f"{limit:.0f} s: killed, or cut off from the instance); the step is submitted again to another "
                f"worker (attempt {self.attempt + 1} of {ATTEMPTS}): its landings replace what it had written.",
                EngineEventData({"lost worker": host, "lost task": self.id}),
            )
            self._result = self._submit()
            self.attempt += 1
            self._reset(now)
            return
        self._fail(
            f'step "{self._step.key}" was lost with Celery worker {host}: the worker stopped beating (no '
            f"heartbeat for {limit:.0f} s: killed, out of memory, or its host cut off) while executing it, "
            f"attempt {self.attempt} of {ATTEMPTS}. fix: look at that worker's log and host, keep workers "
            "running (`acorn worker`), then run again: what the step landed is replaced, never duplicated."
        )

    def _fail(self, message: str) -> None:
        from dagster._core.events import DagsterEvent, StepFailureData
        from dagster._serdes import serialize_value
        from dagster._utils.error import SerializableErrorInfo

        event = DagsterEvent.step_failure_event(
            step_context=self._job_context.for_step(self._step),
            step_failure_data=StepFailureData(
                error=SerializableErrorInfo(message=message, stack=[], cls_name=ERROR_CLASS),
                user_failure_data=None,
            ),
        )
        self._failure = [serialize_value(event)]


def submit_watched(
    app: Any, job_context: Any, step: Any, queue: str, priority: int, known_state: Any
) -> WatchedStep:
    """dagster-celery's task submission, its result watched for a lost worker."""
    from dagster_celery.executor import _submit_task

    return WatchedStep(
        lambda: _submit_task(app, job_context, step, queue, priority, known_state), job_context, step, app
    )


def watched_celery_executor() -> Any:
    """dagster-celery's executor (same name and config) whose run watches its steps' workers."""
    from dagster import executor, multiple_process_executor_requirements
    from dagster._core.execution.retries import RetryMode
    from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor

    class WatchedCeleryExecutor(CeleryExecutor):
        def execute(self, plan_context: Any, execution_plan: Any) -> Any:
            from dagster_celery.core_execution_loop import core_celery_execution_loop

            return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=submit_watched)

    @executor(
        name="celery", config_schema=CELERY_CONFIG, requirements=multiple_process_executor_requirements()
    )
    def celery_executor(init_context: Any) -> Any:
        """dagster-celery's Celery executor, each step's worker watched (orchestration/celery_steps.py)."""
        config = init_context.executor_config
        return WatchedCeleryExecutor(
            broker=config.get("broker"),
            backend=config.get("backend"),
            config_source=config.get("config_source"),
            include=config.get("include"),
            retries=RetryMode.from_config(config["retries"]),
        )

    return celery_executor
