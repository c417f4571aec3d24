"""The Celery app a worker runs (`acorn worker`, or `celery -A orchestration.celery_app worker -Q dagster`): Dagster's
step task, with the broker and result backend of this process's environment (orchestration/executor.py)."""

from __future__ import annotations

import os
from typing import Any

from celery.signals import task_postrun, task_prerun
from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from orchestration import celery_steps
from orchestration.executor import BROKER_VAR, CELERY, CELERY_SETTINGS, backend_var, executor_kind

# A worker without a broker URL stops here with ExecutorConfigError naming the variable to set.
executor_kind({**os.environ, "ACORN_EXECUTOR": CELERY})

app = make_app(
    {
        "broker": os.environ[BROKER_VAR],
        "backend": os.environ[backend_var()],
        "include": [],
        "config_source": dict_wrapper(dict(DEFAULT_CONFIG, **CELERY_SETTINGS)),
    }
)
execute_plan = create_task(app)


@task_prerun.connect
def _beat_while_executing(sender: Any = None, task_id: str = "", kwargs: Any = None, **_: Any) -> None:
    """This worker's heartbeat names the step's task while it executes (the run watches it: a worker killed
    mid-step stops beating, and its step is submitted again; orchestration/celery_steps.py)."""
    if sender is not None and sender.name == execute_plan.name:
        celery_steps.task_started(task_id, sender.request.hostname, dict(kwargs or {}))


@task_postrun.connect
def _idle(sender: Any = None, **_: Any) -> None:
    if sender is not None and sender.name == execute_plan.name:
        celery_steps.task_ended()
