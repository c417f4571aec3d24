"""Where a run's steps execute, chosen by configuration (README "Scale-out"), separate from where the data lives.

- embedded (default, `ACORN_EXECUTOR` unset or `in_process`): every step in the process that runs the job;
- `celery`: each step is a task on a Celery broker (`ACORN_CELERY_BROKER_URL`, Redis or RabbitMQ), executed by
  whichever worker process takes it (`acorn worker`, on any host). The run's own process only orders the steps
  and records their events; the workers need the same code, the same `ACORN_*` configuration and a Dagster
  instance they all reach (`ACORN_DAGSTER_POSTGRES_URL`), because they read the run from it and write its events.

Broker and result backend URLs may carry passwords: the run config that Dagster stores names only the variables
(`{"env": ...}`), resolved by each process from its own environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

EXECUTOR_VAR = "ACORN_EXECUTOR"
BROKER_VAR = "ACORN_CELERY_BROKER_URL"
BACKEND_VAR = "ACORN_CELERY_BACKEND_URL"
EMBEDDED = "in_process"
CELERY = "celery"
EXECUTORS = (EMBEDDED, CELERY)

# Celery's queue the steps go to; a worker started by `acorn worker` consumes it.
QUEUE = "dagster"
# One step per worker process at a time, fetched only when the worker is free: a step waiting in a busy worker's
# prefetch buffer would wait although another worker is idle, and would be lost with that worker if it dies.
CELERY_SETTINGS: dict[str, Any] = {
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
    # Step results (their Dagster events) are read once by the run that submitted them.
    "result_expires": 24 * 3600,
    # A task's STARTED state names the worker executing it, which the run watches (orchestration/celery_steps.py).
    "task_track_started": True,
}


class ExecutorConfigError(ValueError):
    """The executor configuration is incomplete or names an executor that does not exist."""


def executor_kind(env: Mapping[str, str] | None = None) -> str:
    """`in_process` (embedded) or `celery`, from ACORN_EXECUTOR; ExecutorConfigError naming the fix otherwise."""
    env = os.environ if env is None else env
    kind = (env.get(EXECUTOR_VAR) or EMBEDDED).strip().lower()
    if kind in ("", "embedded"):
        kind = EMBEDDED
    if kind not in EXECUTORS:
        raise ExecutorConfigError(
            f"{EXECUTOR_VAR}={kind!r} is no executor ACORN knows: set it to one of {', '.join(EXECUTORS)} "
            "(or unset it for the embedded mode)"
        )
    if kind == CELERY and not (env.get(BROKER_VAR) or "").strip():
        raise ExecutorConfigError(
            f"{EXECUTOR_VAR}=celery needs {BROKER_VAR}, the Celery broker's URL "
            "(e.g. redis://127.0.0.1:6379/0 or amqp://USER:PASSWORD@HOST:5672//)"
        )
    return kind


def steps_on_celery(env: Mapping[str, str] | None = None) -> bool:
    """Whether ACORN_EXECUTOR puts a run's steps on Celery workers; False for a wrong setting, which
    `executor_kind` refuses, naming the fix, when the run starts."""
    try:
        return executor_kind(env) == CELERY
    except ExecutorConfigError:
        return False


def backend_var(env: Mapping[str, str] | None = None) -> str:
    """The variable holding the result backend's URL: ACORN_CELERY_BACKEND_URL when set, else the broker's (a
    Redis broker serves as its own result backend; RabbitMQ needs a separate backend, e.g. Redis or `rpc://`)."""
    env = os.environ if env is None else env
    return BACKEND_VAR if (env.get(BACKEND_VAR) or "").strip() else BROKER_VAR


def celery_executor_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Celery executor's config: the broker and backend by variable name, and ACORN's Celery settings."""
    return {
        "broker": {"env": BROKER_VAR},
        "backend": {"env": backend_var(env)},
        "config_source": dict(CELERY_SETTINGS),
    }


def execution_run_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The `execution` part of a run's config for the configured executor: in process for the embedded mode;
    none on Celery, whose executor carries its configuration (so a run started in the UI gets the same)."""
    if executor_kind(env) == EMBEDDED:
        return {"execution": {"config": {"in_process": {}}}}
    return {}


def executor_definition(env: Mapping[str, str] | None = None) -> Any:
    """The Definitions' executor: None (Dagster's default, run in process by `acorn`) when embedded, else the
    Celery executor configured from the environment's variable names, each step's worker watched by its run (a
    step lost with its worker is submitted again once, then fails: orchestration/celery_steps.py). Imported only
    when chosen, so the embedded mode never loads Celery."""
    if executor_kind(env) == EMBEDDED:
        return None
    from orchestration.celery_steps import watched_celery_executor

    return watched_celery_executor().configured(celery_executor_config(env), name=CELERY)
